"""scratchlstm: an LSTM from scratch in NumPy, with a jax.jit path that trains the same model fast.

Importing this package loads NumPy only. ``scratchlstm.jax_backend`` (needs the ``jax`` extra),
``scratchlstm.data`` and ``scratchlstm.datasets`` are imported on first use.
"""

from __future__ import annotations

from types import ModuleType

from . import activations, callbacks, constraints, initializers, losses, metrics, mixed_precision, optimizers, regularizers, utils
from ._numpy import (
    gradcheck,
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    simple_rnn_backward,
    simple_rnn_forward,
)
from . import layers, models
from .layers import GRU, LSTM, Bidirectional, Dense, Input, SimpleRNN
from .models import Model, Sequential, load_model

__version__ = "0.1.0"  # the one source: pyproject.toml reads it (dynamic version)

__all__ = [
    "activations",
    "Bidirectional",
    "Dense",
    "GRU",
    "Input",
    "LSTM",
    "Model",
    "Sequential",
    "SimpleRNN",
    "callbacks",
    "constraints",
    "data",
    "datasets",
    "gradcheck",
    "gru_backward",
    "gru_forward",
    "initializers",
    "interop",
    "jax_backend",
    "layers",
    "load_model",
    "losses",
    "lstm_backward",
    "lstm_forward",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "simple_rnn_backward",
    "simple_rnn_forward",
    "utils",
]


_LAZY_SUBMODULES = ("data", "datasets", "interop", "jax_backend")


def __getattr__(name: str) -> ModuleType:
    # Lazy: importing JAX costs seconds and is an optional extra; the data tools are not needed
    # to build or train a model, and skipping them keeps `import scratchlstm` fast.
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
