"""RepeatVector in JAX: ``(B, F) -> (B, n, F)``."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp


def repeat_vector_forward(x: Any, n: int) -> Any:
    """The JAX twin of the NumPy ``repeat_vector_forward``.

    Args:
        x: ``(B, F)``.
        n: the number of repetitions.

    Returns:
        ``y`` of shape ``(B, n, F)``.
    """
    x = jnp.asarray(x)
    return jnp.repeat(x[:, None, :], n, axis=1)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`repeat_vector_forward` for a ``RepeatVector`` layer (DESIGN §7): ``(y, state)``."""
    return repeat_vector_forward(inputs, layer.n), state
