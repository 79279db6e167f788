"""Activations, each forward rule next to its backward rule.

A backward rule takes the forward input ``x``, the forward output ``y`` and the upstream
gradient ``d_y`` (all the same shape ``(..., F)``) and returns ``d_x``. Softmax acts on the last
axis.
"""

from __future__ import annotations

import numpy as np


def linear(x):
    """``y = x``."""
    return x


def linear_backward(x, y, d_y):
    return d_y


def relu(x):
    """``y = max(x, 0)``."""
    return np.maximum(x, 0)


def relu_backward(x, y, d_y):
    return d_y * (x > 0)


def tanh(x):
    """``y = tanh(x)``."""
    return np.tanh(x)


def tanh_backward(x, y, d_y):
    return d_y * (1 - y * y)


def sigmoid(x):
    """``y = 1 / (1 + exp(-x)) = 0.5 * (1 + tanh(x / 2))``; the tanh form never overflows."""
    return 0.5 * (1 + np.tanh(0.5 * x))


def sigmoid_backward(x, y, d_y):
    return d_y * y * (1 - y)


def softmax(x):
    """``y = exp(x - max x) / sum exp(x - max x)`` over the last axis."""
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def softmax_backward(x, y, d_y):
    # Jacobian-vector product: d_x = y * (d_y - sum(d_y * y)).
    return y * (d_y - np.sum(d_y * y, axis=-1, keepdims=True))


ACTIVATIONS = {
    "linear": (linear, linear_backward),
    "relu": (relu, relu_backward),
    "tanh": (tanh, tanh_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "softmax": (softmax, softmax_backward),
}


def get_activation(name):
    """Return the ``(forward, backward)`` pair for an activation name (``None`` means linear)."""
    key = "linear" if name is None else name
    if not isinstance(key, str) or key.lower() not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} or None, got {name!r}")
    return ACTIVATIONS[key.lower()]
