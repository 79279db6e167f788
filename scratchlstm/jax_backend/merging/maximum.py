"""The Maximum merge in JAX: a left fold of ``jnp.maximum`` with Keras' masking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from ._merge import select_forward


def maximum_forward(inputs: Sequence[Any], mask: Any = None) -> Any:
    """The elementwise maximum of the inputs; a tie splits the gradient evenly (autodiff).

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.
        mask: ``None``, or one ``(B, T)`` bool mask (or ``None``) per input.

    Returns:
        ``y`` of the broadcast shape.
    """
    return select_forward(inputs, mask, jnp.maximum, "maximum_forward")


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`maximum_forward` for a ``Maximum`` layer (DESIGN §7): ``(y, state)``."""
    return maximum_forward(inputs, mask), state
