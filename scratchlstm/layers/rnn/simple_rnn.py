"""The Keras-style ``SimpleRNN`` layer: configuration and weights; the math is in ``_numpy/rnn/simple_rnn.py``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..._numpy.activations import activation_name
from .._registry import register
from ._recurrent import Recurrent


@register(numpy="scratchlstm._numpy.rnn.simple_rnn", jax="scratchlstm.jax_backend.rnn.simple_rnn")
class SimpleRNN(Recurrent):
    """The fully connected (Elman) recurrent layer, ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Args:
        units: ``H``, the size of the hidden state.
        activation: default ``"tanh"``; any name of `scratchlstm.activations` (``"relu"``,
            ``"sigmoid"``, ``"linear"``, ...).
        use_bias: whether the layer has a ``bias (H,)``.
        kernel_initializer: for ``kernel (I, H)``; default ``"glorot_uniform"``.
        recurrent_initializer: for ``recurrent_kernel (H, H)``; default ``"orthogonal"``.
        bias_initializer: default ``"zeros"``.
        dropout, recurrent_dropout: fractions dropped in training, one mask per sequence.
        return_sequences, return_state, go_backwards, stateful, unroll: as for ``LSTM``
            (``return_state`` gives ``[output, h]``).
        seed: int or ``numpy.random.Generator`` for the initial weights and dropout masks.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: as for ``LSTM``.
        activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint: as for
            ``LSTM``.
        dtype, name, trainable, input_shape, batch_input_shape, zero_output_for_mask: as for
            ``LSTM``.

    The equations and the BPTT are in `scratchlstm._numpy.rnn.simple_rnn`.

    Examples:
        >>> import numpy as np
        >>> layer = SimpleRNN(4, activation="relu", seed=0)
        >>> layer(np.zeros((2, 5, 3), dtype=np.float32)).shape, [w.shape for w in layer.get_weights()]
        ((2, 4), [(3, 4), (4, 4), (4,)])
    """

    weight_names = ("kernel", "recurrent_kernel", "bias")
    cell_state_names = ("h",)

    def __init__(self, units: int, activation: str | Callable[..., Any] | None = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, seed: int | None = None,
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
        super().__init__(
            units, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
            stateful=stateful, unroll=unroll, dropout=dropout, recurrent_dropout=recurrent_dropout,
            zero_output_for_mask=zero_output_for_mask, seed=seed, dtype=dtype, name=name, trainable=trainable,
            input_shape=input_shape, batch_input_shape=batch_input_shape,
        )

    def initialize_cell(self, features: int, rng: np.random.Generator) -> dict[str, Any]:
        return self.initial_cell_weights(features, rng, gates=1)

    def cell_options(self) -> dict[str, Any]:
        return {"activation": self.activation}

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            **self.cell_weights_config(),
            "activation": self.activation,
        }
