"""The LayerNormalization layer as two pure functions, normalizing each sample over ``axes``.

With ``N`` the number of values in one normalization group (the product of the sizes on
``axes``) and ``gamma``/``beta`` broadcast along the other axes:

    mean = sum x / N ;  var = sum (x - mean)^2 / N            (over axes, per sample)
    inv  = 1 / sqrt(var + epsilon) ;  x_hat = (x - mean) * inv
    y    = x_hat * gamma + beta
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import as_float_array, compute_dtype


@dataclass(frozen=True)
class LayerNormalizationCache:
    """``x_hat`` and ``inv`` (broadcastable, ``1`` on ``axes``) and the normalized ``axes``."""

    x_hat: NDArray[Any]
    inv: NDArray[Any]
    axes: tuple[int, ...]


def _broadcast(weight: NDArray[Any], ndim: int, axes: tuple[int, ...]) -> NDArray[Any]:
    """``weight`` (shaped as the input on ``axes``) reshaped to broadcast against the input."""
    shape = [1] * ndim
    for a, size in zip(axes, np.shape(weight)):
        shape[a] = size
    return np.reshape(weight, shape)


def layer_normalization_forward(
    params: dict[str, NDArray[Any]], x: ArrayLike, *, axes: Sequence[int] = (-1,), epsilon: float = 1e-3,
) -> tuple[NDArray[Any], LayerNormalizationCache]:
    """``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``, the moments over ``axes``.

    Args:
        params: ``{"gamma": shape, "beta": shape}`` with ``shape`` the sizes of ``x`` on ``axes``
            (sorted); either may be absent.
        x: ``(B, ...)``.
        axes: the normalized axes (ints, not the batch axis 0).
        epsilon: added to the (biased) variance.

    Returns:
        ``(y, cache)`` with ``y`` shaped as ``x``.

    Examples:
        >>> import numpy as np
        >>> y, _ = layer_normalization_forward({}, np.array([[1.0, 3.0]]), epsilon=0.0)
        >>> y.tolist()
        [[-1.0, 1.0]]
    """
    x = as_float_array(x, "x")
    axes = tuple(sorted(a % x.ndim for a in axes))
    expected = tuple(x.shape[a] for a in axes)
    for key in ("gamma", "beta"):
        if params.get(key) is not None and np.shape(params[key]) != expected:
            raise ValueError(
                f"params[{key!r}] must have shape {expected} for x of shape {x.shape}, got {np.shape(params[key])}"
            )
    dtype = compute_dtype(x, params.get("gamma"), params.get("beta"))
    x = x.astype(dtype, copy=False)
    mean = x.mean(axis=axes, keepdims=True)  # (B, ..., 1 on axes)
    centered = x - mean
    inv = 1.0 / np.sqrt(np.mean(centered * centered, axis=axes, keepdims=True) + epsilon)
    x_hat = centered * inv
    y = x_hat
    if params.get("gamma") is not None:
        y = y * _broadcast(np.asarray(params["gamma"], dtype), x.ndim, axes)
    if params.get("beta") is not None:
        y = y + _broadcast(np.asarray(params["beta"], dtype), x.ndim, axes)
    return y, LayerNormalizationCache(x_hat, inv, axes)


def layer_normalization_backward(
    params: dict[str, NDArray[Any]], cache: LayerNormalizationCache, d_y: ArrayLike, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """Gradients of `layer_normalization_forward`.

    Args:
        params: the parameter dict of the forward call.
        cache: the `LayerNormalizationCache` it returned.
        d_y: gradient with respect to its output, shaped as ``x``.
        input_gradient: ``False`` skips ``d_x`` (returned as ``None``).

    Returns:
        ``(grads, d_x)``: ``grads`` has the keys of ``params``.

    With ``g = d_y * gamma`` and ``mean_a`` the mean over ``axes``:

        d_gamma = sum over the other axes of d_y * x_hat ;  d_beta = sum over the other axes of d_y
        d_x = inv * (g - mean_a(g) - x_hat * mean_a(g * x_hat))
    """
    x_hat, axes = cache.x_hat, cache.axes
    d_y = np.asarray(d_y, dtype=x_hat.dtype)
    others = tuple(a for a in range(x_hat.ndim) if a not in axes)
    grads = {}
    if params.get("gamma") is not None:
        grads["gamma"] = np.sum(d_y * x_hat, axis=others)
    if params.get("beta") is not None:
        grads["beta"] = np.sum(d_y, axis=others)
    if not input_gradient:
        return grads, None
    g = d_y
    if params.get("gamma") is not None:
        g = d_y * _broadcast(np.asarray(params["gamma"], x_hat.dtype), x_hat.ndim, axes)
    d_x = cache.inv * (
        g - g.mean(axis=axes, keepdims=True) - x_hat * np.mean(g * x_hat, axis=axes, keepdims=True)
    )
    return grads, d_x


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], LayerNormalizationCache]:
    """`layer_normalization_forward` for a ``LayerNormalization`` layer: ``(y, state, cache)``."""
    axes = layer.axes_for(np.ndim(inputs))
    y, cache = layer_normalization_forward(params, inputs, axes=axes, epsilon=layer.epsilon)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: LayerNormalizationCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`layer_normalization_backward` for a ``LayerNormalization`` layer: ``(grads, d_x)``."""
    return layer_normalization_backward(params, cache, d_outputs, input_gradient=input_gradient)
