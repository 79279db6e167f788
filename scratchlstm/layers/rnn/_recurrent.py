"""What every recurrent layer shares (Keras' ``RNN``): the arguments, shapes, masks and states.

A recurrent layer kind (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN(cell)``) subclasses `Recurrent`
and supplies only its cell: ``cell_state_names`` (``("h", "c")`` or ``("h",)``), its weights
(`Recurrent.initialize_cell`) and the keyword options of its kernel (`Recurrent.cell_options`).
The time loop itself lives in the kernels (``_numpy/rnn/<kind>.py``, ``jax_backend/rnn/<kind>.py``)
and the per-call plumbing (``go_backwards``, dropout masks, ``stateful``, ``return_sequences``,
``return_state``, ``initial_state``) in the two runners, ``_numpy/rnn/_runner.py`` and
``jax_backend/rnn/_runner.py``.

Keras semantics kept here:

- ``go_backwards=True`` reads the sequence from its last step to its first; with
  ``return_sequences`` the outputs come in that (reversed) processing order, as Keras returns them.
- ``dropout`` / ``recurrent_dropout``: in training, one inverted-dropout mask per sequence for the
  inputs ``(B, I)`` and one for the recurrent state ``(B, H)``, reused at every step (Keras'
  ``DropoutRNNCell``). The recurrent mask multiplies ``h_{t-1}`` where it enters the recurrent
  matmul, never the carried state. Keras 3 draws one input mask shared by all gates, and, when
  ``recurrent_dropout > 0``, switches to one mask per gate; here one mask serves every gate in
  both cases (the same regularizer in distribution, and the input projection stays one GEMM).
- ``stateful=True``: the final states of a batch start the next batch. The states are the
  layer's non-trainable ``state`` (``{"h": (B, H)[, "c": (B, H)]}``), which needs a fixed batch
  size: ``keras.Input(batch_shape=(B, T, I))``, ``Input(shape=(T, I), batch_size=B)`` or
  ``batch_input_shape=(B, T, I)`` on the first layer. As in Keras, they are not in
  `get_weights`; ``model.save`` keeps them (a loaded model resumes). `reset_states` sets them
  to zeros (or to given values) and `states` reads them.
- ``remat=k`` (not a Keras argument; the JAX path only): training rematerialises the recurrence
  in chunks of ``k`` steps (``jax.checkpoint``), memory ``O(T / k + k)`` steps instead of
  ``O(T)`` for about one more forward pass; same numbers. The NumPy BPTT keeps every step.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ... import initializers
from ..._checks import as_float_array, check_finite, check_shape
from .._base import Layer, check_units
from .._registry import numpy_ops

_UNSET = object()


def _check_remat(remat: Any) -> int | None:
    if remat is None:
        return None
    if isinstance(remat, bool) or not isinstance(remat, (int, np.integer)) or remat < 1:
        raise ValueError(f"remat must be None or a positive int (steps per checkpointed chunk), got {remat!r}")
    return int(remat)


class Recurrent(Layer):
    """Base class of the recurrent layers; see the module docstring for the shared semantics.

    Args:
        units: ``H``, the size of the hidden state.
        return_sequences: return every step's output ``(B, T, H)`` instead of the last ``(B, H)``.
        return_state: also return the final states: ``[output, h]`` or ``[output, h, c]``.
        go_backwards: process the sequence backwards (outputs in processing order).
        stateful: carry the final states of a batch into the next (fixed batch size).
        unroll: accepted for Keras compatibility; a speed switch that does not change the math
            (the NumPy loop is always a Python loop, the JAX one a ``lax.scan``).
        dropout: fraction of the inputs dropped in training (one mask per sequence).
        recurrent_dropout: fraction of the recurrent state dropped in training.
        zero_output_for_mask: outputs zeros at masked steps instead of the carried output
            (Keras' ``RNN`` argument; `Bidirectional` sets it to ``return_sequences``).
        seed: int or ``numpy.random.Generator`` for the initial weights and the dropout masks.
        batch_input_shape: ``(B, T, I)``: build at construction with a fixed batch size
            (Keras 2's argument; what a stateful first layer of a ``Sequential`` needs).
        remat: ``None`` or ``k``: on the JAX path, rematerialise the recurrence in chunks of
            ``k`` steps in training (see the module docstring); every subclass takes it.
        name, dtype, trainable, input_shape: as for `Layer`.
    """

    cell_state_names: tuple[str, ...] = ("h",)
    output_is_first_state = True  # a step's output is its new h (not so for every user cell)
    supports_masking = True
    remat: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass's ``__init__`` takes ``remat=`` without listing it (set after it runs)."""
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        init = cls.__init__

        def __init__(self: Recurrent, *args: Any, remat: Any = _UNSET, **kwargs: Any) -> None:
            checked = _check_remat(None if remat is _UNSET else remat)  # bad input fails before any state
            init(self, *args, **kwargs)
            if remat is not _UNSET:
                self.remat = checked

        __init__.__doc__, __init__.__wrapped__ = init.__doc__, init  # type: ignore[attr-defined]  # inspect.signature reads it
        cls.__init__ = __init__  # type: ignore[method-assign]  # deliberate: every subclass's __init__ takes remat=

    def __init__(
        self,
        units: int,
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zero_output_for_mask: bool = False,
        seed: int | None = None,
        dtype: Any = None,
        name: str | None = None,
        trainable: bool = True,
        input_shape: tuple[Any, ...] | None = None,
        batch_input_shape: tuple[Any, ...] | None = None,
        remat: int | None = None,
    ) -> None:
        check_units(units)
        self.remat = _check_remat(remat)
        for what, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating, np.integer)) or not 0 <= rate < 1:
                raise ValueError(f"{type(self).__name__} {what} must be a number in [0, 1), got {rate!r}")
        self.units = int(units)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self._state_batch: int | None = None  # the fixed batch size of a stateful layer, once built
        if batch_input_shape is not None:
            if input_shape is not None:
                raise ValueError(f"{type(self).__name__}: pass input_shape or batch_input_shape, not both")
            batch_input_shape = tuple(batch_input_shape)
        self.batch_input_shape = batch_input_shape
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=input_shape)
        if batch_input_shape is not None:
            self.build(batch_input_shape)

    # --- what a cell supplies -----------------------------------------------------------------
    def initialize_cell(self, features: int, rng: np.random.Generator) -> dict[str, Any]:
        """The trainable weights for ``features`` inputs, in Keras' layout and order."""
        raise NotImplementedError

    def cell_options(self) -> dict[str, Any]:
        """Keyword arguments of the kernels beyond the shared ones (activations, ``reset_after``)."""
        return {}

    def set_cell_weights(self, use_bias: bool, kernel_initializer: Any, recurrent_initializer: Any,
                         bias_initializer: Any, *, kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                         bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                         recurrent_constraint: Any = None, bias_constraint: Any = None) -> None:
        """Keep the weights' Keras arguments of a ``kernel``/``recurrent_kernel``/``bias`` cell.

        ``kernel_*`` apply to ``kernel``, ``recurrent_*`` to ``recurrent_kernel``, ``bias_*`` to
        ``bias``, ``activity_regularizer`` to the layer's outputs (see `Layer.set_regularization`).

        Raises:
            ValueError: for an unknown initializer, regularizer or constraint (at construction,
                not at build time).
        """
        for argument in (kernel_initializer, recurrent_initializer, bias_initializer):
            initializers.get(argument)
        self.set_regularization(
            {
                "kernel_regularizer": (kernel_regularizer, ("kernel",)),
                "recurrent_regularizer": (recurrent_regularizer, ("recurrent_kernel",)),
                "bias_regularizer": (bias_regularizer, ("bias",)),
                "kernel_constraint": (kernel_constraint, ("kernel",)),
                "recurrent_constraint": (recurrent_constraint, ("recurrent_kernel",)),
                "bias_constraint": (bias_constraint, ("bias",)),
            },
            activity_regularizer,
        )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer

    def initial_cell_weights(self, features: int, rng: np.random.Generator, gates: int,
                             bias_shape: tuple[Any, ...] | None = None) -> dict[str, Any]:
        """``kernel (I, gates*H)``, ``recurrent_kernel (H, gates*H)`` and, with ``use_bias``, a bias
        of ``bias_shape`` (default ``(gates*H,)``), drawn from the layer's initializers."""
        width = gates * self.units
        params = {
            "kernel": initializers.get(self.kernel_initializer)((features, width), rng, self.dtype),
            "recurrent_kernel": initializers.get(self.recurrent_initializer)((self.units, width), rng, self.dtype),
        }
        if self.use_bias:
            params["bias"] = initializers.get(self.bias_initializer)(bias_shape or (width,), rng, self.dtype)
        return params

    def cell_weights_config(self) -> dict[str, Any]:
        return {
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }

    # --- building -------------------------------------------------------------------------------
    def _kind(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def validate_input_shape(self, input_shape: Any) -> None:
        """``(B, T, I)``, or ``[(B, T, I), *state shapes (B, H)]`` when called with an initial state."""
        names = self.cell_state_names
        if isinstance(input_shape, list):
            if len(input_shape) != 1 + len(names):
                raise ValueError(
                    f"{self._kind()} takes [x, {', '.join(f'{n}0' for n in names)}] when given a list, "
                    f"got {len(input_shape)} inputs"
                )
            for shape, name in zip(input_shape[1:], names):
                if tuple(shape[1:]) != (self.units,):
                    raise ValueError(
                        f"{self._kind()}: initial state {name}0 must have shape (batch, {self.units}), got {tuple(shape)}"
                    )
            input_shape = input_shape[0]
        if len(input_shape) != 3:
            raise ValueError(
                f"{self._kind()} expects 3-D input (batch, time_steps, features), got shape "
                f"{tuple(input_shape)} ({len(input_shape)}-D); reshape a single series with "
                "x.reshape(samples, time_steps, 1)"
            )
        if input_shape[-1] is None or input_shape[-1] < 1 or input_shape[1] == 0:
            raise ValueError(
                f"{self._kind()} needs at least one time step and a known, positive feature count, "
                f"got shape {tuple(input_shape)}"
            )
        if self.built and input_shape[-1] != self.input_features:
            raise ValueError(
                f"{self._kind()} was built for {self.input_features} features, got input of "
                f"shape {tuple(input_shape)} with {input_shape[-1]} features"
            )
        batch = input_shape[0]
        if self.stateful:
            if batch is None and self._state_batch is None:
                raise ValueError(
                    f"{self._kind()} is stateful, so it needs a fixed batch size, got input shape "
                    f"{tuple(input_shape)}; start the model with keras.Input(batch_shape=(batch, time_steps, "
                    "features)) or pass batch_input_shape=(batch, time_steps, features) to the first layer"
                )
            if batch is not None and self._state_batch is not None and batch != self._state_batch:
                raise ValueError(
                    f"{self._kind()} is stateful with batch size {self._state_batch}; got a batch of {batch}. "
                    "Feed batches of that size (the sample count must be a multiple of it)"
                )

    @property
    def input_features(self) -> int:
        return int(self.built_params["kernel"].shape[0])

    def initialize(self, input_shape: Any, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        x_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        params = self.initialize_cell(int(x_shape[-1]), rng)
        state: dict[str, Any] = {}
        if self.stateful:
            self._state_batch = int(x_shape[0])
            state = self.zero_states(self._state_batch)
        return params, state

    def zero_states(self, batch: int) -> dict[str, Any]:
        return {name: np.zeros((batch, self.units), dtype=self.dtype) for name in self.cell_state_names}

    def compute_output_shape(self, input_shape: Any) -> Any:
        """``(B, H)`` or ``(B, T, H)``; with ``return_state`` also each state, ``(B, H)``."""
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output, *[(batch, self.units) for _ in self.cell_state_names]]
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras' ``RNN.compute_mask``: the mask of ``x`` with ``return_sequences``, else ``None``.

        For a call on ``[x, *initial_state]`` the mask is the first of the list; with
        ``return_state``, ``[output_mask, None, ...]`` (one ``None`` per state).
        """
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        return [output_mask, *[None for _ in self.cell_state_names]] if self.return_state else output_mask

    # --- stateful -------------------------------------------------------------------------------
    @property
    def states(self) -> list[Any]:
        """The carried states of a stateful layer, ``[h]`` or ``[h, c]`` (copies); ``[None, ...]`` otherwise."""
        if not self.stateful or not self.state:
            return [None for _ in self.cell_state_names]
        return [self.state[name].copy() for name in self.cell_state_names]

    def reset_states(self, states: Any = None) -> None:
        """Set the carried states to zeros, or to ``states`` (``[h]`` / ``[h, c]``, each ``(B, H)``).

        Raises:
            ValueError: on a layer that is not stateful (nothing to reset), before it is built,
                or for states of the wrong number or shape (then nothing is changed).
        """
        if not self.stateful:
            raise ValueError(
                f"{self._kind()} is not stateful: reset_states() applies to layers built with stateful=True"
            )
        self._require_built("reset_states")
        if states is None:
            self.state = self.zero_states(cast(int, self._state_batch))  # set when a stateful layer is built
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != len(self.cell_state_names):
            raise ValueError(f"{self._kind()} has {len(self.cell_state_names)} states, got {len(states)}")
        checked = {
            name: self.checked_weight(f"state {name}", (self._state_batch, self.units), value)
            for name, value in zip(self.cell_state_names, states)
        }
        self.state = checked

    reset_state = reset_states  # Keras 3's name

    # --- streaming -------------------------------------------------------------------------
    def step(self, x_t: Any, states: Any = None) -> tuple[NDArray[Any], list[NDArray[Any]]]:
        """Advance one time step with NumPy, for streaming inference: ``(y_t, new_states)``.

        Args:
            x_t: ``(B, I)``, one step of every sequence in the batch.
            states: ``[h]`` or ``[h, c]`` (each ``(B, H)``) from the previous call, or ``None``
                for zeros.

        Returns:
            ``y_t (B, H)`` and the new states, a list to pass to the next call. Calling it for
            t = 1..T equals the full-sequence forward (without dropout, masks or
            ``go_backwards``, which need the whole sequence). A stateful layer's carried
            states are neither read nor changed.

        Examples:
            >>> import numpy as np
            >>> from scratchlstm.layers import GRU
            >>> layer = GRU(4, return_sequences=True, seed=0)
            >>> x = np.random.default_rng(0).normal(size=(1, 3, 2)).astype("float32")
            >>> full, states = layer(x), None
            >>> for t in range(3):
            ...     y, states = layer.step(x[:, t], states)
            ...     assert np.allclose(y, full[:, t], atol=1e-6)
        """
        self._require_built("step")
        x_t = as_float_array(x_t, f"x_t of {self._kind()}").astype(self.dtype, copy=False)
        if x_t.ndim != 2 or x_t.shape[1] != self.input_features:
            raise ValueError(f"{self._kind()}.step expects x_t of shape (batch, {self.input_features}), got {x_t.shape}")
        check_finite(x_t, "x_t")
        if states is None:
            states = list(self.zero_states(x_t.shape[0]).values())
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != len(self.cell_state_names):
            raise ValueError(f"{self._kind()}.step takes {len(self.cell_state_names)} states, got {len(states)}")
        checked = []
        for name, value in zip(self.cell_state_names, states):
            value = as_float_array(value, f"state {name}").astype(self.dtype, copy=False)
            check_shape(value, (x_t.shape[0], self.zero_states(1)[name].shape[1]), f"state {name}")
            checked.append(value)
        output, new_states = numpy_ops(self).layer_step(self, self.params, x_t, tuple(checked))
        return output, list(new_states)

    # --- calling ----------------------------------------------------------------------------
    def gather_inputs(self, inputs: Any, initial_state: Any = None) -> tuple[Any, dict[str, Any]]:
        """``layer(x, initial_state=[h0, ...])`` runs on the list ``[x, h0, ...]``."""
        if initial_state is None:
            return inputs, {}
        if isinstance(inputs, (list, tuple)):
            raise ValueError(f"{self._kind()}: pass the initial state either in the input list or as initial_state, not both")
        count = len(self.cell_state_names)
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state] if count == 1 else initial_state
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != count:
            raise ValueError(
                f"{self._kind()}: initial_state must be a list of {count} (batch, {self.units}) arrays "
                f"[{', '.join(f'{n}0' for n in self.cell_state_names)}], got {type(initial_state).__name__}"
                + (f" of length {len(initial_state)}" if hasattr(initial_state, "__len__") else "")
            )
        return [inputs, *initial_state], {}

    def get_config(self) -> dict[str, Any]:
        config = {
            **super().get_config(),
            "units": self.units,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "zero_output_for_mask": self.zero_output_for_mask,
            **self.regularization_config(),
        }
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        if self.remat is not None:  # only when set, so configs stay Keras' otherwise
            config["remat"] = self.remat
        return config
