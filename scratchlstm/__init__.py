"""scratchlstm: an LSTM from scratch in NumPy, with a jax.jit path that trains the same model fast.

Importing this package loads NumPy only. ``scratchlstm.jax_backend`` (needs the ``jax`` extra)
is imported on first use.
"""

from . import callbacks, data, datasets, initializers, losses, metrics, optimizers
from ._numpy import gradcheck, lstm_backward, lstm_forward
from .layers import LSTM, Dense
from .models import Sequential, load_model

__version__ = "0.1.0"

__all__ = [
    "Dense",
    "LSTM",
    "Sequential",
    "callbacks",
    "data",
    "datasets",
    "gradcheck",
    "initializers",
    "jax_backend",
    "load_model",
    "losses",
    "lstm_backward",
    "lstm_forward",
    "metrics",
    "optimizers",
]


def __getattr__(name):
    # Lazy: importing JAX costs seconds, and it is an optional extra.
    if name == "jax_backend":
        import importlib

        return importlib.import_module(".jax_backend", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
