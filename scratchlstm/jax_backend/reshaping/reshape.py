"""Reshape in JAX: ``(B, ...) -> (B, *target_shape)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp


def reshape_forward(x: Any, target_shape: Sequence[int]) -> Any:
    """The JAX twin of the NumPy ``reshape_forward``.

    Args:
        x: ``(B, ...)``.
        target_shape: the per-sample shape, at most one ``-1``.

    Returns:
        ``y`` of shape ``(B, *target_shape)``.
    """
    x = jnp.asarray(x)
    return x.reshape((x.shape[0], *target_shape))


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`reshape_forward` for a ``Reshape`` layer (DESIGN §7): ``(y, state)``."""
    return reshape_forward(inputs, layer.target_shape), state
