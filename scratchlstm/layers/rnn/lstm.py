"""The Keras-style ``LSTM`` layer: configuration and weights; the math is in ``_numpy/rnn/lstm.py``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..._numpy.activations import activation_name
from .._registry import register
from ._recurrent import Recurrent


@register(numpy="scratchlstm._numpy.rnn.lstm", jax="scratchlstm.jax_backend.rnn.lstm")
class LSTM(Recurrent):
    """Long short-term memory layer with Keras' arguments, defaults and weight layout.

    Args:
        units: ``H``, the size of the hidden and cell state.
        activation: for the candidate ``g`` and for ``h = o * activation(c)``; default
            ``"tanh"``; any name of `scratchlstm.activations`.
        recurrent_activation: for the gates ``i``, ``f``, ``o``; default ``"sigmoid"``.
        use_bias: whether the layer has a ``bias (4H,)``.
        kernel_initializer: for ``kernel (I, 4H)``; default ``"glorot_uniform"``.
        recurrent_initializer: for ``recurrent_kernel (H, 4H)``; default ``"orthogonal"``.
        bias_initializer: default ``"zeros"``.
        unit_forget_bias: set the forget-gate block of the bias to 1 at initialisation (Keras'
            rule: set, whatever ``bias_initializer`` gives the other blocks), so the cell starts
            out remembering (``f ≈ sigmoid(1) ≈ 0.73``) and gradients flow through ``c`` over
            many steps.
        dropout, recurrent_dropout: fractions of the inputs and of the recurrent state dropped
            in training, one mask per sequence (see ``layers/rnn/_recurrent.py``).
        return_sequences: return all hidden states ``(B, T, H)`` instead of the last ``(B, H)``.
        return_state: also return the final ``h`` and ``c``: ``[output, h, c]``.
        go_backwards: process the sequence from its last step to its first.
        stateful: carry the final ``h``, ``c`` of a batch into the next (fixed batch size).
        unroll, implementation, use_cudnn: Keras' speed switches, accepted; they do not change
            the math here.
        seed: int or ``numpy.random.Generator`` for the initial weights and dropout masks.
        dtype: ``"float32"`` (default) or ``"float64"``.
        input_shape: ``(T, I)`` to build the layer at construction (Keras 2 style);
            ``batch_input_shape=(B, T, I)`` with a fixed batch size.
        zero_output_for_mask: with a mask, output zeros at masked steps instead of the carried
            previous output (Keras' ``RNN`` argument, which ``Bidirectional`` sets to
            ``return_sequences``). Without ``return_sequences`` the output is the last step's,
            so a row whose last step is masked then outputs zeros (as Keras).

    Masks (``Embedding(mask_zero=True)``, ``Masking``): as Keras' ``RNN``, a masked step
    ``mask[b, t] = False`` leaves row ``b``'s ``h`` and ``c`` unchanged and outputs the carried
    ``h`` (``h0`` before the first unmasked step); the gradients skip it exactly. The output
    mask is the input mask with ``return_sequences``, else ``None`` (and ``None`` for the
    states with ``return_state``).

    Regularizers (`scratchlstm.regularizers`): ``kernel_regularizer``, ``recurrent_regularizer``,
    ``bias_regularizer`` penalize the three weights, ``activity_regularizer`` the outputs
    (divided by the batch size; with ``return_state`` the states too, as Keras); the penalties
    are added to the training loss. Constraints (`scratchlstm.constraints`):
    ``kernel_constraint``, ``recurrent_constraint``, ``bias_constraint`` project the weights
    after each update. GRU and SimpleRNN take the same arguments.

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
    cell_state_names = ("h", "c")

    def __init__(self, units: int, activation: str | Callable[..., Any] | None = "tanh",
                 recurrent_activation: str | Callable[..., Any] | None = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, use_cudnn: str | bool = "auto", implementation: int = 2,
                 dtype: Any = None, name: str | None = None, trainable: bool = True,
                 input_shape: tuple[Any, ...] | None = None,
                 batch_input_shape: tuple[Any, ...] | None = None, zero_output_for_mask: bool = False) -> None:
        self.set_cell_weights(
            use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
        )
        self.activation = activation_name(activation)
        self.recurrent_activation = activation_name(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.use_cudnn = use_cudnn
        self.implementation = implementation
        super().__init__(
            units, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, dropout=dropout, recurrent_dropout=recurrent_dropout,
            zero_output_for_mask=zero_output_for_mask, seed=seed, dtype=dtype, name=name, trainable=trainable,
            input_shape=input_shape, batch_input_shape=batch_input_shape,
        )

    def initialize_cell(self, features: int, rng: np.random.Generator) -> dict[str, Any]:
        params = self.initial_cell_weights(features, rng, gates=4)
        if self.use_bias and self.unit_forget_bias:  # Keras sets the forget block, whatever the initializer
            params["bias"][self.units : 2 * self.units] = 1.0
        return params

    def cell_options(self) -> dict[str, Any]:
        return {"activation": self.activation, "recurrent_activation": self.recurrent_activation}

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            **self.cell_weights_config(),
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "unit_forget_bias": self.unit_forget_bias,
        }
