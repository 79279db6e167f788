"""Global 1-D max pooling as a pure JAX function (``jnp.max``: ties share the gradient)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ._pooling1d import check_3d


def global_max_pooling1d_forward(x: Any, data_format: str = "channels_last", keepdims: bool = False) -> Any:
    """Max over time; masks are not read (as Keras).

    Returns:
        ``(B, C)``, or with ``keepdims`` ``(B, 1, C)`` / ``(B, C, 1)``.
    """
    x = check_3d(x, "global_max_pooling1d_forward")
    return jnp.max(x, axis=1 if data_format == "channels_last" else 2, keepdims=keepdims)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`global_max_pooling1d_forward` for a ``GlobalMaxPooling1D`` layer: ``(y, state)``."""
    return global_max_pooling1d_forward(inputs, layer.data_format, layer.keepdims), state
