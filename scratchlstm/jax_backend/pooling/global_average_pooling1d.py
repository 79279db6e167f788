"""Global 1-D average pooling, mask-aware, as a pure JAX function."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ._pooling1d import check_3d


def global_average_pooling1d_forward(x: Any, mask: Any = None, data_format: str = "channels_last",
                                     keepdims: bool = False) -> Any:
    """Mean over time leaving masked steps out (NaN for an all-masked row, as Keras).

    Args:
        x: ``(B, T, C)`` (``(B, C, T)`` with ``data_format="channels_first"``).
        mask: ``None`` or ``(B, T)`` booleans.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        keepdims: keep the time axis with length 1.

    Returns:
        ``(B, C)``, or with ``keepdims`` ``(B, 1, C)`` / ``(B, C, 1)``.
    """
    x = check_3d(x, "global_average_pooling1d_forward")
    steps_axis = 1 if data_format == "channels_last" else 2
    if mask is None:
        return jnp.mean(x, axis=steps_axis, keepdims=keepdims)
    on = jnp.expand_dims(jnp.asarray(mask).astype(bool), 2 if data_format == "channels_last" else 1)
    total = jnp.sum(jnp.where(on, x, 0), axis=steps_axis, keepdims=keepdims)
    return total / jnp.sum(on.astype(x.dtype), axis=steps_axis, keepdims=keepdims)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`global_average_pooling1d_forward` for a ``GlobalAveragePooling1D`` layer: ``(y, state)``."""
    return global_average_pooling1d_forward(inputs, mask, layer.data_format, layer.keepdims), state
