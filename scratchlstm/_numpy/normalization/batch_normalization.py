"""The BatchNormalization layer as two pure functions, in training and in inference mode.

Per channel ``c`` on ``axis``, with the moments over every other axis (``(B, T, C)``: over ``B``
and ``T``) and ``gamma``/``beta``/statistics broadcast along them:

    training:   mean = sum w x / S ;  var = sum w (x - mean)^2 / S
                (no mask: w = 1, S = N; a (B, T) mask: w = mask, S = sum w + 1e-7, as Keras)
                moving_mean     <- moving_mean * momentum + mean * (1 - momentum)
                moving_variance <- moving_variance * momentum + var * (1 - momentum)
    inference:  mean = moving_mean ;  var = moving_variance
    both:       inv = 1 / sqrt(var + epsilon) ;  x_hat = (x - mean) * inv ;  y = x_hat * gamma + beta

The variance is the biased one (divided by ``N``), in the output and in the moving average alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ..._checks import as_float_array, compute_dtype

# Keras adds its backend epsilon to the count of unmasked positions of the masked moments.
MASK_COUNT_EPSILON = 1e-7


@dataclass(frozen=True)
class BatchNormalizationCache:
    """``x_hat`` and ``inv`` (broadcastable), the channel ``axis``, and for training mode the
    weights ``w`` (``None`` without a mask) and their sum ``count``."""

    x_hat: NDArray[Any]
    inv: NDArray[Any]
    axis: int
    training: bool
    weights: NDArray[Any] | None = None
    count: NDArray[Any] | float | None = None


def _per_channel(value: ArrayLike, ndim: int, axis: int, dtype: DTypeLike) -> NDArray[Any]:
    """A ``(C,)`` vector reshaped to broadcast along every axis but ``axis``."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.asarray(value, dtype=dtype).reshape(shape)


def batch_moments(
    x: NDArray[Any], axis: int, mask: ArrayLike | None = None,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None, NDArray[Any] | float]:
    """``(mean, var, w, count)``: the biased moments of ``x`` over every axis but ``axis``.

    Args:
        x: ``(B, ..., C, ...)``.
        axis: the channel axis (non-negative).
        mask: ``None`` or a bool array shaped ``x.shape[:-1]``; masked positions are left out.

    Returns:
        ``mean`` and ``var`` keep the reduced axes (size 1); ``w`` is ``None`` or the mask as
        ``x``'s dtype broadcast to ``x.shape``, ``count`` the sum of weights (``N`` without a
        mask, ``sum w + 1e-7`` with one, as Keras).
    """
    reduce = tuple(a for a in range(x.ndim) if a != axis)
    if mask is None:
        mean = x.mean(axis=reduce, keepdims=True)
        centered = x - mean
        return mean, np.mean(centered * centered, axis=reduce, keepdims=True), None, x.size / x.shape[axis]
    mask = np.asarray(mask)
    if mask.shape != x.shape[:-1]:
        raise ValueError(f"mask must have shape {x.shape[:-1]} (the input's without its last axis), got {mask.shape}")
    w = np.broadcast_to(mask[..., None], x.shape).astype(x.dtype)
    count = w.sum(axis=reduce, keepdims=True) + MASK_COUNT_EPSILON
    mean = np.sum(w * x, axis=reduce, keepdims=True) / count
    centered = x - mean
    return mean, np.sum(w * centered * centered, axis=reduce, keepdims=True) / count, w, count


def batch_normalization_forward(
    params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], x: ArrayLike, *, axis: int = -1,
    momentum: float = 0.99, epsilon: float = 1e-3, training: bool = False, mask: ArrayLike | None = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], BatchNormalizationCache]:
    """Normalize ``x`` per channel on ``axis`` with batch (training) or moving (inference) statistics.

    Args:
        params: ``{"gamma": (C,), "beta": (C,)}``; either may be absent.
        state: ``{"moving_mean": (C,), "moving_variance": (C,)}``.
        x: ``(B, ...)`` with ``C`` channels on ``axis``.
        axis: the channel axis.
        momentum: of the moving averages.
        epsilon: added to the variance.
        training: batch statistics and a moving-average update (``True``) or the moving
            statistics (``False``).
        mask: ``None`` or a bool ``x.shape[:-1]`` array; in training the moments leave the
            masked positions out (every position is still normalized).

    Returns:
        ``(y, new_state, cache)``: ``y`` shaped as ``x``; ``new_state`` is ``state`` in inference.

    Examples:
        >>> import numpy as np
        >>> state = {"moving_mean": np.zeros(1), "moving_variance": np.ones(1)}
        >>> y, new, _ = batch_normalization_forward({}, state, np.array([[1.0], [3.0]]), momentum=0.0,
        ...                                         epsilon=0.0, training=True)
        >>> y.ravel().tolist(), new["moving_mean"].tolist(), new["moving_variance"].tolist()
        ([-1.0, 1.0], [2.0], [1.0])
    """
    x = as_float_array(x, "x")
    axis = axis % x.ndim
    channels = x.shape[axis]
    for tree, key in ((params, "gamma"), (params, "beta"), (state, "moving_mean"), (state, "moving_variance")):
        if tree.get(key) is not None and np.shape(tree[key]) != (channels,):
            raise ValueError(
                f"{key} must have shape {(channels,)} for x of shape {x.shape} (axis {axis}), got {np.shape(tree[key])}"
            )
    dtype = compute_dtype(x, params.get("gamma"), params.get("beta"))
    x = x.astype(dtype, copy=False)
    weights = count = None
    if training:
        mean, var, weights, count = batch_moments(x, axis, mask)
        keep = 1.0 - momentum
        new_state = {  # in the state's own dtype
            key: (np.asarray(state[key]) * momentum + stat.reshape(-1) * keep).astype(np.asarray(state[key]).dtype)
            for key, stat in (("moving_mean", mean), ("moving_variance", var))
        }
    else:
        mean = _per_channel(state["moving_mean"], x.ndim, axis, dtype)
        var = _per_channel(state["moving_variance"], x.ndim, axis, dtype)
        new_state = state
    inv = 1.0 / np.sqrt(var + epsilon)
    x_hat = (x - mean) * inv
    y = x_hat
    if params.get("gamma") is not None:
        y = y * _per_channel(params["gamma"], x.ndim, axis, dtype)
    if params.get("beta") is not None:
        y = y + _per_channel(params["beta"], x.ndim, axis, dtype)
    return y, new_state, BatchNormalizationCache(x_hat, inv, axis, bool(training), weights, count)


def batch_normalization_backward(
    params: dict[str, NDArray[Any]], cache: BatchNormalizationCache, d_y: ArrayLike, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """Gradients of `batch_normalization_forward`, through the batch statistics in training.

    Args:
        params: the parameter dict of the forward call.
        cache: the `BatchNormalizationCache` it returned.
        d_y: gradient with respect to its output, shaped as ``x``.
        input_gradient: ``False`` skips ``d_x`` (returned as ``None``).

    Returns:
        ``(grads, d_x)``: ``grads`` has the keys of ``params``.

    With ``g = d_y * gamma``, sums over every axis but the channel axis, ``xc = x - mean``:

        d_gamma = sum d_y * x_hat ;  d_beta = sum d_y
        inference:  d_x = g * inv
        training:   d_var  = -inv^2 / 2 * sum g * x_hat
                    d_mean = -inv * sum g - 2 * d_var * sum(w * xc) / S
                    d_x    = g * inv + (2 * d_var * xc + d_mean) * w / S

    (without a mask ``w = 1`` and ``S = N``, and this is the familiar
    ``inv * (g - mean(g) - x_hat * mean(g * x_hat))``).
    """
    x_hat, axis = cache.x_hat, cache.axis
    d_y = np.asarray(d_y, dtype=x_hat.dtype)
    reduce = tuple(a for a in range(x_hat.ndim) if a != axis)
    grads = {}
    if params.get("gamma") is not None:
        grads["gamma"] = np.sum(d_y * x_hat, axis=reduce)
    if params.get("beta") is not None:
        grads["beta"] = np.sum(d_y, axis=reduce)
    if not input_gradient:
        return grads, None
    g = d_y
    if params.get("gamma") is not None:
        g = d_y * _per_channel(params["gamma"], x_hat.ndim, axis, x_hat.dtype)
    if not cache.training:
        return grads, g * cache.inv
    inv, w, count = cache.inv, cache.weights, cache.count
    centered = x_hat / inv  # (x - mean)
    d_var = -0.5 * inv * inv * np.sum(g * x_hat, axis=reduce, keepdims=True)
    weighted = centered if w is None else w * centered
    d_mean = -inv * np.sum(g, axis=reduce, keepdims=True)
    d_mean -= 2.0 * d_var * np.sum(weighted, axis=reduce, keepdims=True) / count
    spread = (2.0 * d_var * centered + d_mean) / count
    return grads, g * inv + (spread if w is None else w * spread)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def _check_state(layer: Any, state: dict[str, NDArray[Any]]) -> None:
    missing = [k for k in layer.state_names if k not in state]
    if missing:
        raise ValueError(
            f"BatchNormalization {layer.name!r} needs its state {list(layer.state_names)} (the moving "
            f"statistics, e.g. layer.state); got a state without {missing}"
        )


def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], BatchNormalizationCache]:
    """`batch_normalization_forward` for a ``BatchNormalization`` layer: ``(y, new_state, cache)``.

    A frozen layer (``trainable=False``) runs in inference mode even in training, as in Keras.
    """
    _check_state(layer, state)
    axis = layer.axis_for(np.ndim(inputs))
    y, new_state, cache = batch_normalization_forward(
        params, state, inputs, axis=axis, momentum=layer.momentum, epsilon=layer.epsilon,
        training=bool(training) and layer.trainable, mask=mask,
    )
    return y, new_state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: BatchNormalizationCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`batch_normalization_backward` for a ``BatchNormalization`` layer: ``(grads, d_x)``."""
    return batch_normalization_backward(params, cache, d_outputs, input_gradient=input_gradient)
