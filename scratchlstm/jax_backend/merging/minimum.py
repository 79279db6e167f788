"""The Minimum merge in JAX: a left fold of ``jnp.minimum`` with Keras' masking."""

from __future__ import annotations

import jax.numpy as jnp

from ._merge import select_forward


def minimum_forward(inputs, mask=None):
    """The elementwise minimum of the inputs; a tie splits the gradient evenly (autodiff).

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.
        mask: ``None``, or one ``(B, T)`` bool mask (or ``None``) per input.

    Returns:
        ``y`` of the broadcast shape.
    """
    return select_forward(inputs, mask, jnp.minimum, "minimum_forward")


def layer_forward(layer, params, state, inputs, *, training=False, key=None, mask=None):
    """`minimum_forward` for a ``Minimum`` layer (DESIGN §7): ``(y, state)``."""
    return minimum_forward(inputs, mask), state
