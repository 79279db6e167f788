"""The Average merge as two pure functions.

    y = (x_1 + ... + x_n) / n          x_i: (B, ...) broadcasting as Keras allows
    d x_i = unbroadcast(d y) / n
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._merge import align, as_arrays, unbroadcast


@dataclass(frozen=True)
class AverageCache:
    """The input shapes."""

    shapes: list[tuple[int, ...]]


def average_forward(inputs: Sequence[ArrayLike]) -> tuple[NDArray[Any], AverageCache]:
    """``y = (x_1 + ... + x_n) / n``: the sum first, then one division, as Keras does.

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.

    Returns:
        ``(y, cache)`` with ``y`` of the broadcast shape.

    Examples:
        >>> import numpy as np
        >>> y, _ = average_forward([np.array([[1.0]]), np.array([[2.0]])])
        >>> y.tolist()
        [[1.5]]
    """
    arrays = as_arrays(inputs, "average_forward", at_least=2)
    aligned, shape = align(arrays, "average_forward")
    y = np.zeros(shape, dtype=arrays[0].dtype)
    for x in aligned:
        y += x
    return y / len(arrays), AverageCache([a.shape for a in arrays])


def average_backward(cache: AverageCache, d_y: ArrayLike) -> list[NDArray[Any]]:
    """Gradients of `average_forward`: ``d x_i = unbroadcast(d y) / n``."""
    d_mean = np.asarray(d_y) / len(cache.shapes)
    return [unbroadcast(d_mean, shape) for shape in cache.shapes]


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], AverageCache]:
    """`average_forward` for an ``Average`` layer (masks do not change the values)."""
    y, cache = average_forward(inputs)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: AverageCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`average_backward` for an ``Average`` layer: ``({}, [d_x_1, ..., d_x_n])``."""
    return {}, average_backward(cache, d_outputs) if input_gradient else None
