"""Global 1-D average pooling, mask-aware, as two pure functions.

    y[b, c] = sum_t m[b, t] * x[b, t, c] / sum_t m[b, t]          x: (B, T, C)   m: (B, T)

Without a mask ``m`` is all ones (the plain mean over time). Masked steps are left out of the
sum and of the count, as Keras; a row with every step masked divides 0 by 0 and gives NaN, as
Keras does. The backward spreads ``d_y[b, c] / sum_t m[b, t]`` over the unmasked steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._pooling1d import DATA_FORMATS, channels_last


@dataclass(frozen=True)
class GlobalAveragePooling1DCache:
    """``weights (B, T, 1)``: ``m / sum_t m`` (or ``1 / T``), the channels-last input shape
    ``(B, T, C)`` and the layout."""

    weights: NDArray[Any]
    shape: tuple[int, ...]
    data_format: str
    keepdims: bool


def check_global_input(x: ArrayLike, data_format: str, what: str) -> NDArray[Any]:
    """``x`` as a 3-D float array viewed channels-last ``(B, T, C)``."""
    array = np.asarray(x)
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be one of {DATA_FORMATS}, got {data_format!r}")
    if array.ndim != 3 or array.dtype.kind != "f":
        layout = "(batch, steps, features)" if data_format == "channels_last" else "(batch, features, steps)"
        raise ValueError(f"{what} expects a 3-D float array {layout}, got shape {array.shape} and dtype {array.dtype}")
    return channels_last(array, data_format)


def squeeze_time(y: NDArray[Any], data_format: str, keepdims: bool) -> NDArray[Any]:
    """``y (B, 1, C)`` as the layer returns it: ``(B, C)``, or ``(B, 1, C)`` / ``(B, C, 1)``."""
    if not keepdims:
        return y[:, 0]
    return channels_last(y, data_format)


def unsqueeze_time(d_y: ArrayLike, data_format: str, keepdims: bool, batch: int, channels: int) -> NDArray[Any]:
    """The inverse of `squeeze_time` for an upstream gradient: ``(B, 1, C)``."""
    d_y = np.asarray(d_y)
    expected = (batch, channels) if not keepdims else (
        (batch, 1, channels) if data_format == "channels_last" else (batch, channels, 1))
    if d_y.shape != expected:
        raise ValueError(f"d_y must have the outputs' shape {expected}, got {d_y.shape}")
    return d_y[:, None] if not keepdims else channels_last(d_y, data_format)


def global_average_pooling1d_forward(
    x: ArrayLike, mask: ArrayLike | None = None, data_format: str = "channels_last", keepdims: bool = False,
) -> tuple[NDArray[Any], GlobalAveragePooling1DCache]:
    """Mean over the time axis, leaving masked steps out.

    Args:
        x: ``(B, T, C)`` (``(B, C, T)`` with ``data_format="channels_first"``).
        mask: ``None`` or ``(B, T)`` booleans, ``True`` for the steps to average.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        keepdims: keep the time axis with length 1.

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(B, C)`` (with ``keepdims``: ``(B, 1, C)``, or
        ``(B, C, 1)`` channels-first).

    Examples:
        >>> x = np.array([1.0, 2.0, 6.0]).reshape(1, 3, 1)
        >>> global_average_pooling1d_forward(x)[0].tolist()
        [[3.0]]
        >>> global_average_pooling1d_forward(x, mask=np.array([[True, True, False]]))[0].tolist()
        [[1.5]]
    """
    x = check_global_input(x, data_format, "global_average_pooling1d_forward")
    if mask is None:
        weights = np.full((1, x.shape[1], 1), 1.0 / x.shape[1], x.dtype)
        y = x.mean(axis=1, keepdims=True)  # (B, 1, C)
    else:
        mask = np.asarray(mask)
        if mask.shape != x.shape[:2]:
            raise ValueError(f"mask must have shape (batch, steps) = {x.shape[:2]}, got {mask.shape}")
        on = mask.astype(bool)[:, :, None]  # (B, T, 1)
        with np.errstate(invalid="ignore", divide="ignore"):  # an all-masked row: 0 / 0 = NaN, as Keras
            count = on.sum(axis=1, keepdims=True).astype(x.dtype)  # (B, 1, 1)
            y = np.where(on, x, 0).sum(axis=1, keepdims=True) / count
            weights = np.where(on, 1 / count, 0).astype(x.dtype)  # (B, T, 1)
    cache = GlobalAveragePooling1DCache(weights, x.shape, data_format, keepdims)
    return squeeze_time(y, data_format, keepdims), cache


def global_average_pooling1d_backward(cache: GlobalAveragePooling1DCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `global_average_pooling1d_forward` with respect to ``x``.

    Args:
        cache: what the forward returned.
        d_y: shaped like its output.

    Returns:
        ``d_x[b, t, c] = d_y[b, c] * m[b, t] / sum_t m[b, t]``, shaped like ``x``.
    """
    batch, steps, channels = cache.shape
    d_y = unsqueeze_time(d_y, cache.data_format, cache.keepdims, batch, channels)  # (B, 1, C)
    d_x = np.broadcast_to(d_y * cache.weights, (batch, steps, channels))
    return channels_last(np.ascontiguousarray(d_x), cache.data_format)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], GlobalAveragePooling1DCache]:
    """`global_average_pooling1d_forward` for a ``GlobalAveragePooling1D`` layer (mask-aware)."""
    y, cache = global_average_pooling1d_forward(inputs, mask, layer.data_format, layer.keepdims)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: GlobalAveragePooling1DCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`global_average_pooling1d_backward` for a ``GlobalAveragePooling1D`` layer: ``({}, d_x)``."""
    return {}, (global_average_pooling1d_backward(cache, d_outputs) if input_gradient else None)
