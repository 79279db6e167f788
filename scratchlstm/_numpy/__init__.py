"""The NumPy reference: pure forward/backward functions, the losses and the gradient check."""

from .activations import get_activation
from .core.dense import DenseCache, dense_backward, dense_forward
from .gradient_check import gradcheck, numerical_gradient, relative_error
from .losses import Loss, get_loss
from .rnn.gru import GRUCache, gru_backward, gru_forward, gru_step
from .rnn.lstm import LSTMCache, lstm_backward, lstm_forward, lstm_step
from .rnn.simple_rnn import SimpleRNNCache, simple_rnn_backward, simple_rnn_forward, simple_rnn_step

__all__ = [
    "DenseCache",
    "GRUCache",
    "LSTMCache",
    "Loss",
    "SimpleRNNCache",
    "dense_backward",
    "dense_forward",
    "get_activation",
    "get_loss",
    "gradcheck",
    "gru_backward",
    "gru_forward",
    "gru_step",
    "lstm_backward",
    "lstm_forward",
    "lstm_step",
    "numerical_gradient",
    "relative_error",
    "simple_rnn_backward",
    "simple_rnn_forward",
    "simple_rnn_step",
]
