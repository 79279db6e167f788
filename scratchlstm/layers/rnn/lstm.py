"""The Keras-style ``LSTM`` layer: configuration and weights; the math is in ``_numpy/rnn/lstm.py``."""

from __future__ import annotations

from ... import initializers
from .._base import Layer, check_units, reject_unsupported
from .._registry import register


@register(numpy="scratchlstm._numpy.rnn.lstm", jax="scratchlstm.jax_backend.rnn.lstm")
class LSTM(Layer):
    """Long short-term memory layer with Keras' arguments, defaults and weight layout.

    Args:
        units: ``H``, the size of the hidden and cell state.
        activation: only ``"tanh"`` is implemented (Keras' default).
        recurrent_activation: only ``"sigmoid"`` is implemented (Keras' default).
        use_bias: whether the layer has a ``bias (4H,)``.
        kernel_initializer: for ``kernel (I, 4H)``; default ``"glorot_uniform"``.
        recurrent_initializer: for ``recurrent_kernel (H, 4H)``; default ``"orthogonal"``.
        bias_initializer: default ``"zeros"``.
        unit_forget_bias: set the forget-gate block of the bias to 1 at initialisation (Keras'
            rule: set, whatever ``bias_initializer`` gives the other blocks), so the cell starts
            out remembering (``f ≈ sigmoid(1) ≈ 0.73``) and gradients flow through ``c`` over
            many steps.
        return_sequences: return all hidden states ``(B, T, H)`` instead of the last ``(B, H)``.
        return_state: when called directly, also return the final ``h`` and ``c``:
            ``[output, h, c]``.
        seed: int or ``numpy.random.Generator`` for the initial weights.
        dtype: ``"float32"`` (default) or ``"float64"``.
        input_shape: ``(T, I)`` to build the layer at construction (Keras 2 style).
        zero_output_for_mask: with a mask, output zeros at masked steps instead of the carried
            previous output (Keras' ``RNN`` argument, which ``Bidirectional`` sets to
            ``return_sequences``). Without ``return_sequences`` the output is the last step's,
            so a row whose last step is masked then outputs zeros (as Keras).

    Masks (``Embedding(mask_zero=True)``, ``Masking``): as Keras' ``RNN``, a masked step
    ``mask[b, t] = False`` leaves row ``b``'s ``h`` and ``c`` unchanged and outputs the carried
    ``h`` (``h0`` before the first unmasked step); the gradients skip it exactly. The output
    mask is the input mask with ``return_sequences``, else ``None`` (and ``None`` for the
    states with ``return_state``).

    Keras arguments that are not implemented yet (``dropout``, ``recurrent_dropout``,
    ``go_backwards``, ``stateful``, ``unroll``, the regularizers and constraints) are accepted
    by name so that Keras code fails loudly: any value other than the default raises
    ``NotImplementedError``.

    Calling the layer on ``x (B, T, I)`` builds it from ``x.shape`` and runs
    `scratchlstm.lstm_forward`; ``layer(x, initial_state=[h0, c0])`` starts from a given
    state (each ``(B, H)``).

    Examples:
        >>> import numpy as np
        >>> x = np.zeros((32, 25, 1), dtype=np.float32)
        >>> LSTM(20, seed=0)(x).shape, LSTM(20, return_sequences=True, seed=0)(x).shape
        ((32, 20), (32, 25, 20))
    """

    weight_names = ("kernel", "recurrent_kernel", "bias")
    supports_masking = True

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        dtype=None,
        name=None,
        trainable=True,
        input_shape=None,
        zero_output_for_mask=False,
    ):
        check_units(units)
        if activation != "tanh" or recurrent_activation != "sigmoid":
            raise NotImplementedError(
                "LSTM implements activation='tanh' with recurrent_activation='sigmoid' (Keras' "
                f"defaults); got activation={activation!r}, recurrent_activation={recurrent_activation!r}"
            )
        reject_unsupported(
            "LSTM",
            kernel_regularizer=(kernel_regularizer, None),
            recurrent_regularizer=(recurrent_regularizer, None),
            bias_regularizer=(bias_regularizer, None),
            activity_regularizer=(activity_regularizer, None),
            kernel_constraint=(kernel_constraint, None),
            recurrent_constraint=(recurrent_constraint, None),
            bias_constraint=(bias_constraint, None),
            dropout=(dropout, 0.0),
            recurrent_dropout=(recurrent_dropout, 0.0),
            go_backwards=(go_backwards, False),
            stateful=(stateful, False),
            unroll=(unroll, False),
        )
        for arg in (kernel_initializer, recurrent_initializer, bias_initializer):
            initializers.get(arg)  # fail now, not at build time
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.unit_forget_bias = bool(unit_forget_bias)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=input_shape)

    # --- building -------------------------------------------------------------------------------
    def validate_input_shape(self, input_shape) -> None:
        """``(B, T, I)``, or ``[(B, T, I), (B, H), (B, H)]`` when called with an initial state."""
        if isinstance(input_shape, list):
            if len(input_shape) != 3:
                raise ValueError(
                    f"LSTM {self.name!r} takes [x, h0, c0] when given a list, got {len(input_shape)} inputs"
                )
            for shape, what in zip(input_shape[1:], ("h0", "c0")):
                if tuple(shape[1:]) != (self.units,):
                    raise ValueError(
                        f"LSTM {self.name!r}: initial state {what} must have shape (batch, {self.units}), got {shape}"
                    )
            input_shape = input_shape[0]
        if len(input_shape) != 3:
            raise ValueError(
                f"LSTM {self.name!r} expects 3-D input (batch, time_steps, features), got shape "
                f"{tuple(input_shape)} ({len(input_shape)}-D); reshape a single series with "
                "x.reshape(samples, time_steps, 1)"
            )
        if self.built and input_shape[-1] != self.params["kernel"].shape[0]:
            raise ValueError(
                f"LSTM {self.name!r} was built for {self.params['kernel'].shape[0]} features, got input of "
                f"shape {tuple(input_shape)} with {input_shape[-1]} features"
            )
        if input_shape[-1] is None or input_shape[-1] < 1 or input_shape[1] == 0:
            raise ValueError(
                f"LSTM {self.name!r} needs at least one time step and a known, positive feature count, "
                f"got shape {tuple(input_shape)}"
            )

    def initialize(self, input_shape, rng):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        features, h = input_shape[-1], self.units
        params = {
            "kernel": initializers.get(self.kernel_initializer)((features, 4 * h), rng, self.dtype),
            "recurrent_kernel": initializers.get(self.recurrent_initializer)((h, 4 * h), rng, self.dtype),
        }
        if self.use_bias:
            bias = initializers.get(self.bias_initializer)((4 * h,), rng, self.dtype)
            if self.unit_forget_bias:
                bias[h : 2 * h] = 1.0
            params["bias"] = bias
        return params, {}

    def compute_output_shape(self, input_shape):
        """``(B, H)`` or ``(B, T, H)``; with ``return_state`` also ``h`` and ``c``, ``(B, H)`` each."""
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        return [output, (batch, self.units), (batch, self.units)] if self.return_state else output

    def compute_mask(self, inputs, mask=None):
        """Keras' ``RNN.compute_mask``: the mask of ``x`` with ``return_sequences``, else ``None``.

        For a call on ``[x, h0, c0]`` the mask is the first of the list; with ``return_state``,
        ``[output_mask, None, None]``.
        """
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    # --- calling ----------------------------------------------------------------------------
    def gather_inputs(self, inputs, initial_state=None):
        """``layer(x, initial_state=[h0, c0])`` runs on the list ``[x, h0, c0]``."""
        if initial_state is None:
            return inputs, {}
        if isinstance(inputs, (list, tuple)):
            raise ValueError(f"LSTM {self.name!r}: pass the initial state either in the input list or as initial_state, not both")
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
            raise ValueError(
                f"LSTM {self.name!r}: initial_state must be a list [h0, c0] of two (batch, {self.units}) "
                f"arrays, got {type(initial_state).__name__}"
            )
        return [inputs, *initial_state], {}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
