"""The NumPy reference: pure forward/backward functions, the losses and the gradient check."""

from .activations import get_activation
from .core.dense import DenseCache, dense_backward, dense_forward
from .gradient_check import gradcheck, numerical_gradient, relative_error
from .losses import Loss, get_loss
from .rnn.lstm import LSTMCache, lstm_backward, lstm_forward

__all__ = [
    "DenseCache",
    "LSTMCache",
    "Loss",
    "dense_backward",
    "dense_forward",
    "get_activation",
    "get_loss",
    "gradcheck",
    "lstm_backward",
    "lstm_forward",
    "numerical_gradient",
    "relative_error",
]
