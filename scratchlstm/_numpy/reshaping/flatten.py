"""Flatten as two pure functions: a reshape (after moving the channel axis last if channels-first).

    y   = reshape(x, (B, -1))                       channels_last
    y   = reshape(moveaxis(x, 1, -1), (B, -1))      channels_first
    d x = the inverse of the same moves applied to d y
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class FlattenCache:
    """The input shape and whether the channel axis was moved last."""

    input_shape: tuple[int, ...]
    channels_first: bool


def flatten_forward(x: ArrayLike, data_format: str = "channels_last") -> tuple[NDArray[Any], FlattenCache]:
    """``(B, d1, ..., dk) -> (B, d1 * ... * dk)``; ``(B,) -> (B, 1)``.

    Args:
        x: ``(B, ...)``.
        data_format: ``"channels_last"`` or ``"channels_first"`` (axis 1 is moved last before
            flattening, as Keras does).

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(B, prod(x.shape[1:]))`` (read-only: often a view of ``x``).

    Examples:
        >>> import numpy as np
        >>> y, _ = flatten_forward(np.arange(6.0).reshape(1, 2, 3), "channels_first")
        >>> y.tolist()
        [[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]]
    """
    x = np.asarray(x)
    if x.ndim < 1:
        raise ValueError(f"x must have a batch axis, got a scalar of shape {x.shape}")
    channels_first = data_format == "channels_first" and x.ndim > 2
    moved = np.moveaxis(x, 1, -1) if channels_first else x  # (B, ..., C)
    y = moved.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(x.shape[0], 1)
    y.flags.writeable = False
    return y, FlattenCache(tuple(x.shape), channels_first)


def flatten_backward(cache: FlattenCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `flatten_forward`: ``d_y`` reshaped (and its axis moved back) to the input shape.

    Args:
        cache: the `FlattenCache` of the forward call.
        d_y: ``(B, prod(x.shape[1:]))``.

    Returns:
        ``d_x`` shaped like ``x``.
    """
    d_y = np.asarray(d_y)
    shape = cache.input_shape
    if not cache.channels_first:
        return d_y.reshape(shape)
    moved_shape = (shape[0], *shape[2:], shape[1])  # (B, ..., C)
    return np.moveaxis(d_y.reshape(moved_shape), -1, 1)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], FlattenCache]:
    """`flatten_forward` for a ``Flatten`` layer: ``(y, state, cache)``."""
    y, cache = flatten_forward(inputs, layer.data_format)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: FlattenCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`flatten_backward` for a ``Flatten`` layer: ``({}, d_x)``."""
    return {}, flatten_backward(cache, d_outputs) if input_gradient else None
