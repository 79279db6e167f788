"""Permute in JAX: ``y = transpose(x, (0, *dims))``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp


def permute_forward(x: Any, dims: Sequence[int]) -> Any:
    """The JAX twin of the NumPy ``permute_forward``.

    Args:
        x: ``(B, d1, ..., dn)``.
        dims: a permutation of ``1..n``.

    Returns:
        ``y`` with axis ``k`` the input's axis ``dims[k - 1]``.
    """
    return jnp.transpose(jnp.asarray(x), (0, *dims))


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`permute_forward` for a ``Permute`` layer (DESIGN §7): ``(y, state)``."""
    return permute_forward(inputs, layer.dims), state
