"""``RNN(cell)``: a recurrent layer around a user's own cell, and the public cell interface."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._registry import register
from ._recurrent import Recurrent

CELL_CLASSES: dict[str, type] = {}


class RNNCell:
    """Base class of a user's recurrent cell: one step's math and its exact backward.

    Subclass it and define:

    - ``state_size``: the size of each state, e.g. ``(H,)`` or ``(H, H)`` (``h`` first: the
      first state is the one a masked step outputs, as Keras assumes).
    - ``initialize(features, rng, dtype) -> params``: the trainable weights for ``features``
      inputs, a dict of arrays in the order `get_weights` should list them.
    - ``step(params, x_t, states) -> (output_t, new_states, step_cache)``: one step, NumPy.
      ``x_t (B, I)``, ``states`` a tuple of ``(B, S_k)``, ``output_t (B, O)``.
    - ``step_backward(params, step_cache, d_output_t, d_new_states) -> (d_params, d_x_t,
      d_states)``: the exact gradients of that step: ``d_params`` has the keys of ``params``,
      ``d_x_t`` is ``(B, I)`` and ``d_states`` a tuple shaped like ``states``.
    - optionally ``jax_step(params, x_t, states) -> (output_t, new_states)``, the same step in
      ``jax.numpy``, for the JAX backend (run under ``lax.scan``; autodiff gives its gradients).
    - ``get_config()`` (default: ``{}``) with the ``__init__`` arguments, so that models
      holding the cell can be saved and loaded (the subclass is found by its class name).

    The `RNN` layer gives the cell everything a recurrent layer has: the time loop and its
    BPTT, masks, ``go_backwards``, ``return_sequences``/``return_state``, ``initial_state``,
    ``stateful``, input ``dropout``, `Bidirectional`, both backends, and a float64 gradient
    check (``scratchlstm._numpy.gradient_check``). ``recurrent_dropout`` is the cell's business
    (it knows where its recurrent matmul is) and is refused by ``RNN``.

    Examples:
        >>> import numpy as np
        >>> class Elman(RNNCell):
        ...     def __init__(self, units):
        ...         self.units, self.state_size = units, (units,)
        ...     def initialize(self, features, rng, dtype):
        ...         return {"kernel": rng.normal(size=(features, self.units)).astype(dtype),
        ...                 "recurrent_kernel": np.eye(self.units, dtype=dtype)}
        ...     def step(self, params, x, states):
        ...         h = np.tanh(x @ params["kernel"] + states[0] @ params["recurrent_kernel"])
        ...         return h, (h,), (x, states[0], h)
        ...     def step_backward(self, params, cache, d_output, d_states):
        ...         x, h_previous, h = cache
        ...         dz = (d_output + d_states[0]) * (1 - h * h)
        ...         grads = {"kernel": x.T @ dz, "recurrent_kernel": h_previous.T @ dz}
        ...         return grads, dz @ params["kernel"].T, (dz @ params["recurrent_kernel"].T,)
        ...     def get_config(self):
        ...         return {"units": self.units}
        >>> RNN(Elman(4), return_sequences=True, seed=0)(np.ones((2, 3, 5))).shape
        (2, 3, 4)
    """

    state_size: int | tuple[int, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        CELL_CLASSES[cls.__name__] = cls

    def initialize(self, features: int, rng: np.random.Generator, dtype: Any) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__}.initialize(features, rng, dtype) -> params")

    def step(self, params: dict[str, Any], x_t: Any, states: Any) -> tuple[Any, ...]:
        raise NotImplementedError(f"{type(self).__name__}.step(params, x_t, states) -> (output, states, cache)")

    def step_backward(self, params: dict[str, Any], step_cache: Any, d_output: Any, d_states: Any) -> None:
        raise NotImplementedError(
            f"{type(self).__name__}.step_backward(params, cache, d_output, d_states) -> (d_params, d_x, d_states)"
        )

    def get_config(self) -> dict[str, Any]:
        return {}


def _state_sizes(cell: RNNCell) -> tuple[int, ...]:
    size = cell.state_size
    sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"{type(cell).__name__}.state_size must be a positive int or a tuple of them, got {size!r}")
    return tuple(int(s) for s in sizes)


@register(numpy="scratchlstm._numpy.rnn.rnn", jax="scratchlstm.jax_backend.rnn.rnn")
class RNN(Recurrent):
    """A recurrent layer whose step is ``cell`` (an `RNNCell`), as Keras' ``keras.layers.RNN``.

    Args:
        cell: an `RNNCell` instance.
        return_sequences, return_state, go_backwards, stateful, unroll, dropout: as for ``LSTM``.
        zero_output_for_mask, seed, dtype, name, trainable, input_shape, batch_input_shape: as
            for ``LSTM``. The layer's ``units`` is the first state's size; the output size is
            the cell's ``output_size`` (default: the same).
        recurrent_dropout: refused (the cell applies it to its own recurrent matmul).

    ``get_weights()`` lists the cell's params in the order ``initialize`` returned them.
    """

    output_is_first_state = False

    def __init__(self, cell: RNNCell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, zero_output_for_mask: bool = False, seed: int | None = None,
                 dtype: Any = None, name: str | None = None, trainable: bool = True,
                 input_shape: tuple[Any, ...] | None = None,
                 batch_input_shape: tuple[Any, ...] | None = None) -> None:
        if not isinstance(cell, RNNCell):
            raise ValueError(f"RNN needs an RNNCell instance (see scratchlstm.layers.RNNCell), got {type(cell).__name__}")
        if recurrent_dropout:
            raise ValueError("RNN(cell) does not apply recurrent_dropout; a cell applies it to its own recurrent matmul")
        self.cell = cell
        self.state_sizes = _state_sizes(cell)
        self.cell_state_names = tuple(f"state_{k}" for k in range(len(self.state_sizes))) if len(
            self.state_sizes) > 1 else ("h",)
        super().__init__(
            self.state_sizes[0], return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, unroll=unroll, dropout=dropout,
            zero_output_for_mask=zero_output_for_mask, seed=seed, dtype=dtype, name=name, trainable=trainable,
            input_shape=input_shape, batch_input_shape=batch_input_shape,
        )

    @property
    def weight_names(self) -> tuple[str, ...]:  # type: ignore[override]  # read-only: the cell's weights, known once built
        return tuple(self.params) if self.params else ()

    @property
    def input_features(self) -> int:
        return self._features

    def initialize_cell(self, features: int, rng: np.random.Generator) -> dict[str, Any]:
        self._features = int(features)
        params = self.cell.initialize(int(features), rng, self.dtype)
        if not isinstance(params, dict):
            raise ValueError(f"{type(self.cell).__name__}.initialize must return a dict of arrays, got {type(params).__name__}")
        return {key: np.asarray(value, dtype=self.dtype) for key, value in params.items()}

    def zero_states(self, batch: int) -> dict[str, Any]:
        return {name: np.zeros((batch, size), dtype=self.dtype) for name, size in zip(self.cell_state_names, self.state_sizes)}

    def validate_input_shape(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            for shape, size, name in zip(input_shape[1:], self.state_sizes, self.cell_state_names):
                if tuple(shape[1:]) != (size,):
                    raise ValueError(f"RNN {self.name!r}: initial state {name} must have shape (batch, {size}), got {tuple(shape)}")
            if len(input_shape) != 1 + len(self.state_sizes):
                raise ValueError(f"RNN {self.name!r} takes [x, *{len(self.state_sizes)} states], got {len(input_shape)} inputs")
            input_shape = input_shape[0]
        super().validate_input_shape(input_shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        x_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        batch, steps = x_shape[0], x_shape[1]
        size = getattr(self.cell, "output_size", self.state_sizes[0])
        output = (batch, steps, size) if self.return_sequences else (batch, size)
        if self.return_state:
            return [output, *[(batch, s) for s in self.state_sizes]]
        return output

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("units", "recurrent_dropout"):
            config.pop(key)
        return {**config, "cell": {"class_name": type(self.cell).__name__, "config": self.cell.get_config()}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RNN:
        config = dict(config)
        config.pop("class_name", None)
        cell = config["cell"]
        if isinstance(cell, dict):
            if cell.get("class_name") not in CELL_CLASSES:
                raise ValueError(
                    f"unknown RNN cell class {cell.get('class_name')!r}; define (import) that RNNCell subclass first "
                    f"(known: {sorted(CELL_CLASSES)})"
                )
            cell_class = CELL_CLASSES[cell["class_name"]]
            try:
                config["cell"] = cell_class(**cell.get("config", {}))
            except TypeError as error:
                raise ValueError(
                    f"cannot rebuild {cell_class.__name__} from its get_config() {cell.get('config', {})!r} ({error}); "
                    "return its __init__ arguments from get_config()"
                ) from None
        return cls(**config)
