"""1-D average pooling as two pure functions.

    y[b, o, c] = (1 / n_o) * sum_{j < k} x_pad[b, o*s + j, c]      x: (B, T, C)   y: (B, T_out, C)

``n_o`` is the number of REAL steps in window ``o``: ``k`` with ``"valid"`` padding; with
``"same"`` the zero padding is not counted (Keras divides by the count of real elements).
The backward spreads ``d_y[b, o, c] / n_o`` over the real steps of window ``o``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._pooling1d import channels_last, check_pool_input, padded_windows, scatter_windows


@dataclass(frozen=True)
class AveragePooling1DCache:
    """The real-step count of each window ``(T_out,)`` and the geometry."""

    counts: NDArray[Any]
    pool_size: int
    strides: int
    before: int
    padded_shape: tuple[int, ...]
    steps: int
    data_format: str


def window_counts(steps: int, pool_size: int, strides: int, before: int, out_length: int) -> NDArray[Any]:
    """``n_o``: how many of window ``o``'s padded steps ``o*s .. o*s + k - 1`` are real."""
    starts = np.arange(out_length) * strides
    return np.minimum(starts + pool_size, before + steps) - np.maximum(starts, before)


def average_pooling1d_forward(
    x: ArrayLike, pool_size: int, strides: int | None = None, padding: str = "valid",
    data_format: str = "channels_last",
) -> tuple[NDArray[Any], AveragePooling1DCache]:
    """Mean over windows of ``pool_size`` steps, every ``strides`` steps.

    Args:
        x: ``(B, T, C)`` (``(B, C, T)`` with ``data_format="channels_first"``).
        pool_size: ``k``.
        strides: ``s``; ``None`` means ``k``.
        padding: ``"valid"`` or ``"same"`` (padded steps are not counted).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(B, T_out, C)`` (``(B, C, T_out)``).

    Examples:
        >>> x = np.array([1.0, 3.0, 2.0, 6.0, 4.0]).reshape(1, 5, 1)
        >>> average_pooling1d_forward(x, 2)[0].ravel().tolist()
        [2.0, 4.0]
        >>> average_pooling1d_forward(x, 2, padding="same")[0].ravel().tolist()
        [2.0, 4.0, 4.0]
    """
    strides = pool_size if strides is None else strides
    x = check_pool_input(x, pool_size, strides, padding, data_format, "average_pooling1d_forward")
    windows, before, padded_length = padded_windows(x, pool_size, strides, padding, 0.0)
    counts = window_counts(x.shape[1], pool_size, strides, before, windows.shape[1]).astype(x.dtype)
    y = windows.sum(axis=-1) / counts[:, None]  # (B, T_out, C)
    cache = AveragePooling1DCache(counts, pool_size, strides, before, (x.shape[0], padded_length, x.shape[2]),
                                  x.shape[1], data_format)
    return channels_last(y, data_format), cache


def average_pooling1d_backward(cache: AveragePooling1DCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `average_pooling1d_forward` with respect to ``x``.

    Args:
        cache: what the forward returned.
        d_y: ``(B, T_out, C)`` (channels-first: ``(B, C, T_out)``).

    Returns:
        ``d_x`` shaped like ``x``: ``d_x[b, o*s + j - pad_before, c] += d_y[b, o, c] / n_o``.
    """
    d_y = channels_last(np.asarray(d_y), cache.data_format)
    if d_y.ndim != 3 or d_y.shape[1] != cache.counts.shape[0] or d_y.shape[0] != cache.padded_shape[0]:
        raise ValueError(f"d_y must have {cache.counts.shape[0]} pooled steps for a batch of "
                         f"{cache.padded_shape[0]}, got shape {d_y.shape}")
    share = d_y / cache.counts[:, None]  # (B, T_out, C)
    d_x = scatter_windows(lambda j: share, cache.pool_size, cache.strides, d_y.shape[1], cache.padded_shape,
                          cache.before, cache.steps, d_y.dtype)
    return channels_last(d_x, cache.data_format)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], AveragePooling1DCache]:
    """`average_pooling1d_forward` for an ``AveragePooling1D`` layer (a mask is not read, as Keras)."""
    y, cache = average_pooling1d_forward(inputs, layer.pool_size[0], layer.strides[0], layer.padding,
                                         layer.data_format)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: AveragePooling1DCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`average_pooling1d_backward` for an ``AveragePooling1D`` layer: ``({}, d_x)``."""
    return {}, (average_pooling1d_backward(cache, d_outputs) if input_gradient else None)
