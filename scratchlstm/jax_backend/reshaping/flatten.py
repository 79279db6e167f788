"""Flatten in JAX: ``(B, d1, ..., dk) -> (B, d1 * ... * dk)`` (channel axis moved last if channels-first)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp


def flatten_forward(x: Any, data_format: str = "channels_last") -> Any:
    """The JAX twin of the NumPy ``flatten_forward``.

    Args:
        x: ``(B, ...)``; ``(B,)`` becomes ``(B, 1)``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``y`` of shape ``(B, prod(x.shape[1:]))``.
    """
    x = jnp.asarray(x)
    if data_format == "channels_first" and x.ndim > 2:
        x = jnp.moveaxis(x, 1, -1)  # (B, ..., C)
    return x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(x.shape[0], 1)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`flatten_forward` for a ``Flatten`` layer (DESIGN §7): ``(y, state)``."""
    return flatten_forward(inputs, layer.data_format), state
