"""Global 1-D max pooling as two pure functions.

    y[b, c] = max_t x[b, t, c]          x: (B, T, C)   y: (B, C)

Keras' ``GlobalMaxPooling1D`` does not support masks: masked steps take part in the maximum
(Keras warns that the mask is dropped) and no mask comes out. Ties share the gradient equally,
``d_x[b, t, c] = d_y[b, c] * [x[b, t, c] = y[b, c]] / #ties``, which is what ``jax.grad`` of
``jnp.max`` (Keras' JAX op) gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._pooling1d import channels_last
from .global_average_pooling1d import check_global_input, squeeze_time, unsqueeze_time


@dataclass(frozen=True)
class GlobalMaxPooling1DCache:
    """The channels-last inputs ``(B, T, C)``, their maxima ``(B, 1, C)`` and the layout."""

    inputs: NDArray[Any]
    maxima: NDArray[Any]
    data_format: str
    keepdims: bool


def global_max_pooling1d_forward(
    x: ArrayLike, data_format: str = "channels_last", keepdims: bool = False,
) -> tuple[NDArray[Any], GlobalMaxPooling1DCache]:
    """Max over the time axis.

    Args:
        x: ``(B, T, C)`` (``(B, C, T)`` with ``data_format="channels_first"``).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        keepdims: keep the time axis with length 1.

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(B, C)`` (with ``keepdims``: ``(B, 1, C)``, or
        ``(B, C, 1)`` channels-first).

    Examples:
        >>> x = np.array([[1.0, -1.0], [3.0, -2.0]]).reshape(1, 2, 2)
        >>> global_max_pooling1d_forward(x)[0].tolist()
        [[3.0, -1.0]]
    """
    x = check_global_input(x, data_format, "global_max_pooling1d_forward")
    y = x.max(axis=1, keepdims=True)  # (B, 1, C)
    return squeeze_time(y, data_format, keepdims), GlobalMaxPooling1DCache(x, y, data_format, keepdims)


def global_max_pooling1d_backward(cache: GlobalMaxPooling1DCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `global_max_pooling1d_forward` with respect to ``x``.

    Args:
        cache: what the forward returned.
        d_y: shaped like its output.

    Returns:
        ``d_x`` shaped like ``x``: ``d_y`` at each maximum, split equally between ties.
    """
    batch, _, channels = cache.inputs.shape
    d_y = unsqueeze_time(d_y, cache.data_format, cache.keepdims, batch, channels)  # (B, 1, C)
    at_max = cache.inputs == cache.maxima  # (B, T, C)
    ties = at_max.sum(axis=1, keepdims=True)  # (B, 1, C), at least 1
    return channels_last(np.where(at_max, d_y / ties, 0).astype(cache.inputs.dtype, copy=False), cache.data_format)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], GlobalMaxPooling1DCache]:
    """`global_max_pooling1d_forward` for a ``GlobalMaxPooling1D`` layer (a mask is not read, as Keras)."""
    y, cache = global_max_pooling1d_forward(inputs, layer.data_format, layer.keepdims)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: GlobalMaxPooling1DCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`global_max_pooling1d_backward` for a ``GlobalMaxPooling1D`` layer: ``({}, d_x)``."""
    return {}, (global_max_pooling1d_backward(cache, d_outputs) if input_gradient else None)
