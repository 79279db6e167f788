"""The Keras-style ``GRU`` layer: configuration and weights; the math is in ``_numpy/rnn/gru.py``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..._numpy.activations import activation_name
from .._registry import register
from ._recurrent import Recurrent


@register(numpy="scratchlstm._numpy.rnn.gru", jax="scratchlstm.jax_backend.rnn.gru")
class GRU(Recurrent):
    """Gated recurrent unit layer with Keras 3's arguments, defaults and weight layout.

    Args:
        units: ``H``, the size of the hidden state.
        activation: for the candidate state; default ``"tanh"``.
        recurrent_activation: for the update and reset gates ``z``, ``r``; default ``"sigmoid"``.
        use_bias: whether the layer has a bias.
        kernel_initializer: for ``kernel (I, 3H)``, column blocks ``[z, r, h]``.
        recurrent_initializer: for ``recurrent_kernel (H, 3H)``; default ``"orthogonal"``.
        bias_initializer: for ``bias``: ``(2, 3H)`` with ``reset_after`` (row 0 the input
            bias, row 1 the recurrent bias), else ``(3H,)``; default ``"zeros"``.
        dropout, recurrent_dropout: fractions dropped in training, one mask per sequence.
        seed: int or ``numpy.random.Generator`` for the initial weights and dropout masks.
        return_sequences, return_state, go_backwards, stateful, unroll: as for ``LSTM``
            (``return_state`` gives ``[output, h]``).
        reset_after: Keras' default ``True`` applies the reset gate after the recurrent matmul,
            ``hh = act(x W_h + b_h + r * (h U_h + b'_h))`` (cuDNN's and PyTorch's convention);
            ``False`` before it, ``hh = act(x W_h + b_h + (r * h) U_h)``.
        use_cudnn: accepted (a speed switch); the math is the same.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: as for ``LSTM``.
        activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint: as for
            ``LSTM``.
        dtype, name, trainable, input_shape, batch_input_shape, zero_output_for_mask: as for
            ``LSTM``.

    The step, with ``z`` and ``r`` from ``recurrent_activation``:

        h_t = z * h_{t-1} + (1 - z) * hh

    The equations and the BPTT are in `scratchlstm._numpy.rnn.gru`.

    Examples:
        >>> import numpy as np
        >>> layer = GRU(4, return_sequences=True, seed=0)
        >>> layer(np.zeros((2, 5, 3), dtype=np.float32)).shape, [w.shape for w in layer.get_weights()]
        ((2, 5, 4), [(3, 12), (4, 12), (2, 12)])
    """

    weight_names = ("kernel", "recurrent_kernel", "bias")
    cell_state_names = ("h",)

    def __init__(self, units: int, activation: str | Callable[..., Any] | None = "tanh",
                 recurrent_activation: str | Callable[..., Any] | None = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, use_cudnn: str | bool = "auto", dtype: Any = None, name: str | None = None,
                 trainable: bool = True, input_shape: tuple[Any, ...] | None = None,
                 batch_input_shape: tuple[Any, ...] | None = None,
                 zero_output_for_mask: bool = False) -> None:
        self.set_cell_weights(
            use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
        )
        self.activation = activation_name(activation)
        self.recurrent_activation = activation_name(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.use_cudnn = use_cudnn
        super().__init__(
            units, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, dropout=dropout, recurrent_dropout=recurrent_dropout,
            zero_output_for_mask=zero_output_for_mask, seed=seed, dtype=dtype, name=name, trainable=trainable,
            input_shape=input_shape, batch_input_shape=batch_input_shape,
        )

    def initialize_cell(self, features: int, rng: np.random.Generator) -> dict[str, Any]:
        bias_shape = (2, 3 * self.units) if self.reset_after else None  # input and recurrent rows
        return self.initial_cell_weights(features, rng, gates=3, bias_shape=bias_shape)

    def cell_options(self) -> dict[str, Any]:
        return {
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "reset_after": self.reset_after,
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            **self.cell_weights_config(),
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "reset_after": self.reset_after,
        }
