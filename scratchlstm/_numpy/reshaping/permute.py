"""Permute as two pure functions: a transpose of the non-batch axes and its inverse.

    y   = transpose(x, (0, *dims))
    d x = transpose(d y, argsort((0, *dims)))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class PermuteCache:
    """The full axis order ``(0, *dims)`` of the forward call."""

    axes: tuple[int, ...]


def permute_forward(x: ArrayLike, dims: Sequence[int]) -> tuple[NDArray[Any], PermuteCache]:
    """``y = transpose(x, (0, *dims))``: output axis ``k`` is input axis ``dims[k - 1]``.

    Args:
        x: ``(B, d1, ..., dn)``.
        dims: a permutation of ``1..n``.

    Returns:
        ``(y, cache)`` (``y`` read-only: a view of ``x``).

    Raises:
        ValueError: if ``x`` does not have ``len(dims) + 1`` axes.

    Examples:
        >>> import numpy as np
        >>> y, _ = permute_forward(np.zeros((2, 3, 4)), (2, 1))
        >>> y.shape
        (2, 4, 3)
    """
    x = np.asarray(x)
    axes = (0, *dims)
    if x.ndim != len(axes):
        raise ValueError(f"x must have {len(axes)} axes for dims={tuple(dims)}, got shape {x.shape}")
    y = np.transpose(x, axes)
    y.flags.writeable = False
    return y, PermuteCache(axes)


def permute_backward(cache: PermuteCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `permute_forward`: the inverse transpose ``argsort((0, *dims))`` of ``d_y``.

    Args:
        cache: the `PermuteCache` of the forward call.
        d_y: shaped like the forward's output.

    Returns:
        ``d_x`` shaped like ``x``.
    """
    return np.transpose(np.asarray(d_y), np.argsort(cache.axes))


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], PermuteCache]:
    """`permute_forward` for a ``Permute`` layer: ``(y, state, cache)``."""
    y, cache = permute_forward(inputs, layer.dims)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: PermuteCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`permute_backward` for a ``Permute`` layer: ``({}, d_x)``."""
    return {}, permute_backward(cache, d_outputs) if input_gradient else None
