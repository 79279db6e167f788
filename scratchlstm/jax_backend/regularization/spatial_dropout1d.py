"""SpatialDropout1D in JAX: dropout with a ``(B, 1, C)`` keep-mask shared by all time steps."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .dropout import dropout_forward, keep_mask_for


def spatial_dropout1d_forward(x: Any, rate: float, keep: Any = None) -> Any:
    """``y = keep * x / (1 - rate)`` with ``keep`` of shape ``(B, 1, C)`` (or ``None``: identity).

    Args:
        x: ``(B, T, C)``.
        rate: the fraction of channels dropped.
        keep: ``None`` or a bool mask ``(B, 1, C)``.

    Returns:
        ``y`` of shape ``(B, T, C)``.
    """
    return dropout_forward(x, rate, keep)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`spatial_dropout1d_forward` with a mask drawn in training (DESIGN §7): ``(y, state)``."""
    noise_shape = layer.spatial_noise_shape(jnp.shape(inputs))
    keep = keep_mask_for(layer, inputs, noise_shape, training=training, key=key)
    return spatial_dropout1d_forward(inputs, layer.rate, keep), state
