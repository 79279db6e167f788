"""The Subtract merge in JAX: ``y = x_1 - x_2``, broadcast as Keras does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._merge import align, as_arrays


def subtract_forward(inputs: Sequence[Any]) -> Any:
    """``y = x_1 - x_2``.

    Args:
        inputs: a list of exactly two arrays ``(B, ...)``.

    Returns:
        ``y`` of the broadcast shape (gradients by ``jax.grad``).
    """
    (x_1, x_2), _ = align(as_arrays(inputs, "subtract_forward", exactly=2), "subtract_forward")
    return x_1 - x_2


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`subtract_forward` for a ``Subtract`` layer (DESIGN §7): ``(y, state)``."""
    return subtract_forward(inputs), state
