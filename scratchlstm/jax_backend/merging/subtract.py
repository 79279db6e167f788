"""The Subtract merge in JAX: ``y = x_1 - x_2``, broadcast as Keras does."""

from __future__ import annotations

from ._merge import align, as_arrays


def subtract_forward(inputs):
    """``y = x_1 - x_2``.

    Args:
        inputs: a list of exactly two arrays ``(B, ...)``.

    Returns:
        ``y`` of the broadcast shape (gradients by ``jax.grad``).
    """
    (x_1, x_2), _ = align(as_arrays(inputs, "subtract_forward", exactly=2), "subtract_forward")
    return x_1 - x_2


def layer_forward(layer, params, state, inputs, *, training=False, key=None, mask=None):
    """`subtract_forward` for a ``Subtract`` layer (DESIGN §7): ``(y, state)``."""
    return subtract_forward(inputs), state
