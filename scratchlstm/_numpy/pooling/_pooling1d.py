"""What the 1-D window poolings share: Keras' output length and "same" padding, strided window
views, and the scatter of window gradients back onto the time axis.

With window ``k`` and stride ``s`` over ``T`` steps (XLA's rule, which Keras' JAX backend uses):

    "valid":  T_out = floor((T - k) / s) + 1          no padding
    "same":   T_out = ceil(T / s)                     pad = max((T_out - 1) * s + k - T, 0)
              pad_before = pad // 2, pad_after = pad - pad_before

Window ``o`` covers the padded steps ``o*s .. o*s + k - 1``; every "same" window holds at least
one real step. The math works channels-last, ``(B, T, C)``; channels-first data is viewed so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

DATA_FORMATS = ("channels_last", "channels_first")


def output_length(length: int, pool_size: int, strides: int, padding: str) -> int:
    """``T_out`` for ``T = length`` steps (module docstring)."""
    if padding == "same":
        return -(-length // strides)
    return (length - pool_size) // strides + 1


def same_padding(length: int, pool_size: int, strides: int) -> tuple[int, int]:
    """``(pad_before, pad_after)`` of "same" padding."""
    total = max((output_length(length, pool_size, strides, "same") - 1) * strides + pool_size - length, 0)
    return total // 2, total - total // 2


def channels_last(x: NDArray[Any], data_format: str) -> NDArray[Any]:
    """``(B, T, C)`` view of ``x`` (``(B, C, T)`` when ``data_format="channels_first"``)."""
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2)


def check_pool_input(
    x: ArrayLike, pool_size: int, strides: int, padding: str, data_format: str, what: str,
) -> NDArray[Any]:
    """``x`` as a 3-D float array, channels-last, long enough for one "valid" window."""
    array = np.asarray(x)
    if array.ndim != 3 or array.dtype.kind != "f":
        layout = "(batch, steps, channels)" if data_format == "channels_last" else "(batch, channels, steps)"
        raise ValueError(f"{what} expects a 3-D float array {layout}, got shape {array.shape} and dtype {array.dtype}")
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be one of {DATA_FORMATS}, got {data_format!r}")
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    x = channels_last(array, data_format)
    if padding == "valid" and x.shape[1] < pool_size:
        raise ValueError(
            f"{what} with padding='valid' needs at least pool_size={pool_size} steps, got input shape {array.shape}"
        )
    return x


def padded_windows(
    x: NDArray[Any], pool_size: int, strides: int, padding: str, fill: float,
) -> tuple[NDArray[Any], int, int]:
    """The pooling windows of ``x (B, T, C)`` as a read-only view.

    Args:
        x: channels-last input.
        pool_size, strides, padding: the pooling's.
        fill: the value of padded steps (``-inf`` for max, ``0`` for sums).

    Returns:
        ``(windows (B, T_out, C, k), pad_before, padded_length)``.
    """
    steps = x.shape[1]
    before, after = same_padding(steps, pool_size, strides) if padding == "same" else (0, 0)
    if before or after:
        x = np.pad(x, ((0, 0), (before, after), (0, 0)), constant_values=fill)
    length = output_length(steps, pool_size, strides, padding)
    windows = np.lib.stride_tricks.sliding_window_view(x, pool_size, axis=1)[:, ::strides][:, :length]
    return windows, before, x.shape[1]


def scatter_windows(offset_gradient: Callable[[int], NDArray[Any]], pool_size: int, strides: int, out_length: int,
                    padded_shape: tuple[int, ...], before: int, steps: int, dtype: DTypeLike) -> NDArray[Any]:
    """Add window gradients back onto the steps they cover; crop the padding.

    Args:
        offset_gradient: ``j -> (B, T_out, C)``, the gradient reaching the ``j``-th step of
            every window (``j < k``).
        pool_size, strides: the pooling's ``k`` and ``s``.
        out_length: ``T_out``.
        padded_shape: ``(B, T_padded, C)``.
        before: the padding before the first step.
        steps: ``T``, the unpadded length.
        dtype: of the result.

    Returns:
        ``d_x (B, T, C)``. One strided add per window offset ``j`` (a loop over ``k``, not over
        time): the windows' ``j``-th steps ``j, j + s, ...`` are distinct, so nothing collides.
    """
    d_padded = np.zeros(padded_shape, dtype)
    span = strides * (out_length - 1) + 1
    for j in range(pool_size):
        d_padded[:, j:j + span:strides] += offset_gradient(j)
    return d_padded[:, before:before + steps]

