"""Reshape as two pure functions: the same values in row-major order, a new per-sample shape.

    y   = reshape(x, (B, *target_shape))        one -1 takes the size left over
    d x = reshape(d y, x.shape)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class ReshapeCache:
    """The input shape (all the backward needs)."""

    input_shape: tuple[int, ...]


def reshape_forward(x: ArrayLike, target_shape: Sequence[int]) -> tuple[NDArray[Any], ReshapeCache]:
    """``(B, ...) -> (B, *target_shape)``.

    Args:
        x: ``(B, ...)``.
        target_shape: the per-sample shape, at most one ``-1``.

    Returns:
        ``(y, cache)`` (``y`` read-only: a view of ``x``).

    Raises:
        ValueError: if the per-sample sizes differ.

    Examples:
        >>> import numpy as np
        >>> y, _ = reshape_forward(np.zeros((2, 12)), (-1, 4))
        >>> y.shape
        (2, 3, 4)
    """
    x = np.asarray(x)
    if x.ndim < 1:
        raise ValueError(f"x must have a batch axis, got a scalar of shape {x.shape}")
    try:
        y = x.reshape((x.shape[0], *target_shape))
    except ValueError:
        raise ValueError(
            f"cannot reshape input of shape {x.shape} ({int(np.prod(x.shape[1:]))} values per sample) "
            f"to target_shape={tuple(target_shape)} per sample"
        ) from None
    y.flags.writeable = False
    return y, ReshapeCache(tuple(x.shape))


def reshape_backward(cache: ReshapeCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `reshape_forward`: ``d x = reshape(d y, x.shape)``.

    Args:
        cache: the `ReshapeCache` of the forward call.
        d_y: ``(B, *target_shape)``.

    Returns:
        ``d_x`` shaped like ``x``.
    """
    return np.asarray(d_y).reshape(cache.input_shape)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], ReshapeCache]:
    """`reshape_forward` for a ``Reshape`` layer: ``(y, state, cache)``."""
    y, cache = reshape_forward(inputs, layer.target_shape)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: ReshapeCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`reshape_backward` for a ``Reshape`` layer: ``({}, d_x)``."""
    return {}, reshape_backward(cache, d_outputs) if input_gradient else None
