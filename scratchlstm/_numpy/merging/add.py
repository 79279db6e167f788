"""The Add merge as two pure functions.

    y = x_1 + x_2 + ... + x_n          x_i: (B, ...) broadcasting as Keras allows
    d x_i = unbroadcast(d y)           summed over the axes x_i was stretched along
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._merge import align, as_arrays, unbroadcast


@dataclass(frozen=True)
class AddCache:
    """The input shapes (all the backward needs)."""

    shapes: list[tuple[int, ...]]


def add_forward(inputs: Sequence[ArrayLike]) -> tuple[NDArray[Any], AddCache]:
    """``y = x_1 + ... + x_n``, broadcast as Keras does.

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.

    Returns:
        ``(y, cache)`` with ``y`` of the broadcast shape.

    Examples:
        >>> import numpy as np
        >>> y, _ = add_forward([np.ones((2, 3, 4)), np.ones((2, 4))])
        >>> y.shape
        (2, 3, 4)
    """
    arrays = as_arrays(inputs, "add_forward", at_least=2)
    aligned, shape = align(arrays, "add_forward")
    y = np.zeros(shape, dtype=arrays[0].dtype)
    for x in aligned:
        y += x
    return y, AddCache([a.shape for a in arrays])


def add_backward(cache: AddCache, d_y: ArrayLike) -> list[NDArray[Any]]:
    """Gradients of `add_forward`: ``d x_i = unbroadcast(d y)``, each shaped like ``x_i``."""
    d_y = np.asarray(d_y)
    return [unbroadcast(d_y, shape) for shape in cache.shapes]


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], AddCache]:
    """`add_forward` for an ``Add`` layer (masks do not change the values): ``(y, state, cache)``."""
    y, cache = add_forward(inputs)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: AddCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`add_backward` for an ``Add`` layer: ``({}, [d_x_1, ..., d_x_n])``."""
    return {}, add_backward(cache, d_outputs) if input_gradient else None
