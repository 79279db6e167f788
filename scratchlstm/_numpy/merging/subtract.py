"""The Subtract merge as two pure functions.

    y = x_1 - x_2                      x_i: (B, ...) broadcasting as Keras allows
    d x_1 = unbroadcast(d y),  d x_2 = -unbroadcast(d y)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._merge import align, as_arrays, unbroadcast


@dataclass(frozen=True)
class SubtractCache:
    """The two input shapes."""

    shapes: list[tuple[int, ...]]


def subtract_forward(inputs: Sequence[ArrayLike]) -> tuple[NDArray[Any], SubtractCache]:
    """``y = x_1 - x_2``, broadcast as Keras does.

    Args:
        inputs: a list of exactly two arrays ``(B, ...)``.

    Returns:
        ``(y, cache)`` with ``y`` of the broadcast shape.

    Examples:
        >>> import numpy as np
        >>> y, _ = subtract_forward([np.array([[3.0]]), np.array([[1.0]])])
        >>> y.tolist()
        [[2.0]]
    """
    arrays = as_arrays(inputs, "subtract_forward", exactly=2)
    (x_1, x_2), _ = align(arrays, "subtract_forward")
    return x_1 - x_2, SubtractCache([a.shape for a in arrays])


def subtract_backward(cache: SubtractCache, d_y: ArrayLike) -> list[NDArray[Any]]:
    """Gradients of `subtract_forward`: ``[unbroadcast(d y), -unbroadcast(d y)]``."""
    d_y = np.asarray(d_y)
    return [unbroadcast(d_y, cache.shapes[0]), -unbroadcast(d_y, cache.shapes[1])]


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], SubtractCache]:
    """`subtract_forward` for a ``Subtract`` layer (masks do not change the values)."""
    y, cache = subtract_forward(inputs)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: SubtractCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`subtract_backward` for a ``Subtract`` layer: ``({}, [d_x_1, d_x_2])``."""
    return {}, subtract_backward(cache, d_outputs) if input_gradient else None
