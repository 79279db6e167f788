"""Activations as JAX functions, with the names of the NumPy reference; softmax acts on the last axis."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def linear(x):
    """``y = x``."""
    return x


def relu(x):
    """``y = max(x, 0)``."""
    return jnp.maximum(x, 0)


def tanh(x):
    """``y = tanh(x)``."""
    return jnp.tanh(x)


def sigmoid(x):
    """``y = 1 / (1 + exp(-x))``."""
    return jax.nn.sigmoid(x)


def softmax(x):
    """``y = exp(x - max x) / sum exp(x - max x)`` over the last axis."""
    return jax.nn.softmax(x, axis=-1)


ACTIVATIONS = {"linear": linear, "relu": relu, "tanh": tanh, "sigmoid": sigmoid, "softmax": softmax}


def get_activation(name):
    """The activation function for a name (``None`` means linear); same names as the reference."""
    key = "linear" if name is None else name
    if not isinstance(key, str) or key.lower() not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} or None, got {name!r}")
    return ACTIVATIONS[key.lower()]
