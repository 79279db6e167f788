"""The Minimum merge in JAX: a left fold of ``jnp.minimum`` with Keras' masking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from ._merge import select_forward


def minimum_forward(inputs: Sequence[Any], mask: Any = None) -> Any:
    """The elementwise minimum of the inputs; a tie splits the gradient evenly (autodiff).

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.
        mask: ``None``, or one ``(B, T)`` bool mask (or ``None``) per input.

    Returns:
        ``y`` of the broadcast shape.
    """
    return select_forward(inputs, mask, jnp.minimum, "minimum_forward")


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`minimum_forward` for a ``Minimum`` layer (DESIGN §7): ``(y, state)``."""
    return minimum_forward(inputs, mask), state
