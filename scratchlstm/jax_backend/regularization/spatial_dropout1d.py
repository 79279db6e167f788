"""SpatialDropout1D in JAX: dropout with a ``(B, 1, C)`` keep-mask shared by all time steps."""

from __future__ import annotations

import jax.numpy as jnp

from .dropout import dropout_forward, keep_mask_for


def spatial_dropout1d_forward(x, rate: float, keep=None):
    """``y = keep * x / (1 - rate)`` with ``keep`` of shape ``(B, 1, C)`` (or ``None``: identity).

    Args:
        x: ``(B, T, C)``.
        rate: the fraction of channels dropped.
        keep: ``None`` or a bool mask ``(B, 1, C)``.

    Returns:
        ``y`` of shape ``(B, T, C)``.
    """
    return dropout_forward(x, rate, keep)


def layer_forward(layer, params, state, inputs, *, training=False, key=None, mask=None):
    """`spatial_dropout1d_forward` with a mask drawn in training (DESIGN §7): ``(y, state)``."""
    noise_shape = layer.spatial_noise_shape(jnp.shape(inputs))
    keep = keep_mask_for(layer, inputs, noise_shape, training=training, key=key)
    return spatial_dropout1d_forward(inputs, layer.rate, keep), state
