"""1-D max pooling as two pure functions.

    y[b, o, c] = max_{j < k} x_pad[b, o*s + j, c]          x: (B, T, C)   y: (B, T_out, C)

("same" pads with -inf; see ``_pooling1d`` for ``T_out`` and the padding.) The gradient goes to
the FIRST maximum of each window, the convention of ``jax.grad`` through
``lax.reduce_window(max)`` (XLA's select-and-scatter with ``>=``), which Keras' JAX backend
uses; a step that is the maximum of several overlapping windows receives each one's gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._pooling1d import channels_last, check_pool_input, padded_windows, scatter_windows


@dataclass(frozen=True)
class MaxPooling1DCache:
    """The first maximum's offset in each window ``(B, T_out, C)`` and the geometry."""

    argmax: NDArray[np.int32]
    pool_size: int
    strides: int
    before: int
    padded_shape: tuple[int, ...]
    steps: int
    data_format: str


def max_pooling1d_forward(
    x: ArrayLike, pool_size: int = 2, strides: int | None = None, padding: str = "valid",
    data_format: str = "channels_last",
) -> tuple[NDArray[Any], MaxPooling1DCache]:
    """Max over windows of ``pool_size`` steps, every ``strides`` steps.

    Args:
        x: ``(B, T, C)`` (``(B, C, T)`` with ``data_format="channels_first"``).
        pool_size: ``k``.
        strides: ``s``; ``None`` means ``k``.
        padding: ``"valid"`` or ``"same"`` (pads with -inf).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(B, T_out, C)`` (``(B, C, T_out)``).

    Examples:
        >>> x = np.array([1.0, 3.0, 2.0, 5.0, 4.0]).reshape(1, 5, 1)
        >>> max_pooling1d_forward(x)[0].ravel().tolist()
        [3.0, 5.0]
        >>> max_pooling1d_forward(x, padding="same")[0].ravel().tolist()
        [3.0, 5.0, 4.0]
    """
    strides = pool_size if strides is None else strides
    x = check_pool_input(x, pool_size, strides, padding, data_format, "max_pooling1d_forward")
    windows, before, padded_length = padded_windows(x, pool_size, strides, padding, -np.inf)
    # One elementwise pass per window offset (the window axis is strided: np.argmax along it
    # measured ~20x slower than these contiguous (B, T_out, C) passes).
    y = windows[..., 0].copy()  # (B, T_out, C)
    for j in range(1, pool_size):
        np.maximum(y, windows[..., j], out=y)
    argmax = np.full(y.shape, pool_size - 1, np.int32)  # the FIRST offset holding the maximum
    for j in range(pool_size - 2, -1, -1):
        argmax[windows[..., j] == y] = j
    cache = MaxPooling1DCache(argmax, pool_size, strides, before, (x.shape[0], padded_length, x.shape[2]),
                              x.shape[1], data_format)
    return channels_last(y, data_format), cache


def max_pooling1d_backward(cache: MaxPooling1DCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `max_pooling1d_forward` with respect to ``x``.

    Args:
        cache: what the forward returned.
        d_y: ``(B, T_out, C)`` (channels-first: ``(B, C, T_out)``).

    Returns:
        ``d_x`` shaped like ``x``: ``d_x[b, o*s + argmax - pad_before, c] += d_y[b, o, c]``.
    """
    given = np.asarray(d_y)
    expected = channels_last(cache.argmax, cache.data_format).shape  # the outputs' shape
    if given.shape != expected:
        raise ValueError(f"d_y must have the outputs' shape {expected}, got {given.shape}")
    d_y = channels_last(given, cache.data_format)
    d_x = scatter_windows(lambda j: np.where(cache.argmax == j, d_y, 0), cache.pool_size, cache.strides,
                          d_y.shape[1], cache.padded_shape, cache.before, cache.steps, d_y.dtype)
    return channels_last(d_x, cache.data_format)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], MaxPooling1DCache]:
    """`max_pooling1d_forward` for a ``MaxPooling1D`` layer (a mask is not read, as Keras)."""
    y, cache = max_pooling1d_forward(inputs, layer.pool_size[0], layer.strides[0], layer.padding, layer.data_format)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: MaxPooling1DCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`max_pooling1d_backward` for a ``MaxPooling1D`` layer: ``({}, d_x)``."""
    return {}, (max_pooling1d_backward(cache, d_outputs) if input_gradient else None)
