"""The Dot merge as pure functions: Keras' ``batch_dot``, optionally of L2-normalized inputs.

Batch dot along ``x``'s axis ``a`` and ``y``'s axis ``c`` (both of size ``K``)::

    xm = moveaxis(x, a, -1) -> (B, P, K)     P = product of x's other non-batch sizes
    ym = moveaxis(y, c, 1)  -> (B, K, Q)     Q = product of y's other non-batch sizes
    z  = xm @ ym            -> (B, P, Q)     reshaped to (B, x's other axes..., y's other axes...)
    d xm = d z @ ym^T ;  d ym = xm^T @ d z   reshaped and moved back

An output with only the batch axis left is ``(B, 1)``, as in Keras.

L2 normalization along an axis, with Keras' epsilon ``e = 1e-7``::

    s = sum x^2 (keepdims) ;  r = 1 / sqrt(max(s, e^2)) ;  x_hat = x * r
    d x = r * d x_hat - x * r^3 * sum(x * d x_hat) * [s > e^2]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._merge import as_arrays

EPSILON = 1e-7  # keras.config.epsilon()'s default, which Keras' normalize uses


def resolve_axes(axes: int | Sequence[int], ndims: Sequence[int]) -> tuple[int, int]:
    """Keras' ``Dot`` axes as a non-negative pair, checked against the inputs' ranks.

    Args:
        axes: an integer (the same axis of both inputs) or a pair; negative counts from the end
            of each input.
        ndims: the two inputs' ranks, batch axis included.

    Returns:
        ``(axis_of_x, axis_of_y)``, each in ``[1, ndim)``.
    """
    pair = (axes, axes) if isinstance(axes, (int, np.integer)) else tuple(axes)
    if len(pair) != 2:
        raise ValueError(f"Dot axes must be an integer or a pair of integers, got {axes!r}")
    resolved = []
    for axis, ndim in zip(pair, ndims):
        if ndim < 2:
            raise ValueError(f"Dot expects inputs of rank >= 2 (batch, ...), got ranks {tuple(ndims)}")
        if not -ndim <= axis < ndim:
            raise ValueError(f"Dot axes={axes!r} are out of range for inputs of ranks {tuple(ndims)}")
        resolved.append(int(axis) % ndim)
    if 0 in resolved:
        raise ValueError(f"Dot axes={axes!r} resolve to {tuple(resolved)}, which includes the batch axis 0")
    return resolved[0], resolved[1]


# --- L2 normalization ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NormalizeCache:
    """``x``, ``r = 1 / sqrt(max(s, e^2))`` (keepdims), whether ``s > e^2``, and the axis."""

    x: NDArray[Any]
    inv_norm: NDArray[Any]
    unclamped: NDArray[np.bool_]
    axis: int


def l2_normalize_forward(x: ArrayLike, axis: int, epsilon: float = EPSILON) -> tuple[NDArray[Any], NormalizeCache]:
    """``x / ||x||`` along ``axis``, with the norm clamped below at ``epsilon`` (Keras).

    Args:
        x: any array.
        axis: the axis to normalize along.
        epsilon: the smallest norm divided by; a shorter vector is scaled by ``1 / epsilon``.

    Returns:
        ``(x_hat, cache)``, ``x_hat`` shaped like ``x``.
    """
    x = np.asarray(x)
    square_sum = np.sum(x * x, axis=axis, keepdims=True)  # (..., 1, ...)
    clamp = np.asarray(epsilon * epsilon, dtype=x.dtype)
    inv_norm = 1 / np.sqrt(np.maximum(square_sum, clamp))
    return x * inv_norm, NormalizeCache(x, inv_norm, square_sum > clamp, axis)


def l2_normalize_backward(cache: NormalizeCache, d_x_hat: NDArray[Any]) -> NDArray[Any]:
    """Gradient of `l2_normalize_forward`.

    With ``r = s^(-1/2)``, ``dr/ds = -r^3 / 2`` and ``ds/dx = 2 x``, so

        d x = r * d x_hat - x * r^3 * sum(x * d x_hat)

    where the norm is clamped, ``r`` is the constant ``1 / epsilon`` and only the first term stays.
    """
    x, r = cache.x, cache.inv_norm
    projection = np.sum(x * d_x_hat, axis=cache.axis, keepdims=True)  # (..., 1, ...)
    d_x: NDArray[Any] = r * d_x_hat - np.where(cache.unclamped, x * r**3 * projection, 0)
    return d_x


# --- batch dot ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchDotCache:
    """The operands as ``(B, P, K)`` and ``(B, K, Q)``, their moved shapes and the two axes."""

    x3: NDArray[Any]
    y3: NDArray[Any]
    x_moved_shape: tuple[int, ...]
    y_moved_shape: tuple[int, ...]
    axes: tuple[int, int]


def batch_dot_forward(x: NDArray[Any], y: NDArray[Any], axes: tuple[int, int]) -> tuple[NDArray[Any], BatchDotCache]:
    """Per-sample contraction of ``x``'s axis ``axes[0]`` with ``y``'s axis ``axes[1]`` (Keras' ``batch_dot``).

    Args:
        x: ``(B, ...)`` of rank >= 2.
        y: ``(B, ...)`` of rank >= 2.
        axes: the pair of non-negative, non-batch axes (see `resolve_axes`).

    Returns:
        ``(z, cache)``: ``z`` is ``(B, x's other axes..., y's other axes...)``, or ``(B, 1)``.
    """
    a, c = axes
    xm = np.moveaxis(x, a, -1)  # (B, X..., K)
    ym = np.moveaxis(y, c, 1)  # (B, K, Y...)
    batch, k = xm.shape[0], xm.shape[-1]
    x3 = xm.reshape(batch, math.prod(xm.shape[1:-1]), k)  # (B, P, K)
    y3 = ym.reshape(batch, k, math.prod(ym.shape[2:]))  # (B, K, Q)
    out_shape = (batch, *xm.shape[1:-1], *ym.shape[2:])
    z = (x3 @ y3).reshape(out_shape if len(out_shape) > 1 else (batch, 1))
    return z, BatchDotCache(x3, y3, xm.shape, ym.shape, (a, c))


def batch_dot_backward(cache: BatchDotCache, d_z: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    """Gradients of `batch_dot_forward`: ``(d_x, d_y)``.

        d x3 = d z3 @ y3^T    (B, P, K);     d y3 = x3^T @ d z3    (B, K, Q)
    """
    batch, p, _ = cache.x3.shape
    d_z3 = np.asarray(d_z).reshape(batch, p, cache.y3.shape[2])  # (B, P, Q)
    d_x3 = d_z3 @ cache.y3.transpose(0, 2, 1)
    d_y3 = cache.x3.transpose(0, 2, 1) @ d_z3
    a, c = cache.axes
    d_x = np.moveaxis(d_x3.reshape(cache.x_moved_shape), -1, a)
    d_y = np.moveaxis(d_y3.reshape(cache.y_moved_shape), 1, c)
    return np.ascontiguousarray(d_x), np.ascontiguousarray(d_y)


# --- the Dot merge ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DotCache:
    """The batch-dot cache and, with ``normalize``, the two normalization caches."""

    batch_dot: BatchDotCache
    normalized: tuple[NormalizeCache, NormalizeCache] | None


def dot_forward(
    inputs: Sequence[ArrayLike], axes: int | Sequence[int], normalize: bool = False,
) -> tuple[NDArray[Any], DotCache]:
    """Keras' ``Dot``: the batch dot of two inputs, of their L2-normalized versions if ``normalize``.

    Args:
        inputs: a list of two arrays ``(B, ...)`` of rank >= 2, equal in size on the dot axes.
        axes: an integer or a pair, as for the ``Dot`` layer (negative counts from the end).
        normalize: L2-normalize each input along its dot axis first (cosine similarity).

    Returns:
        ``(z, cache)``.

    Examples:
        >>> import numpy as np
        >>> z, _ = dot_forward([np.array([[3.0, 4.0]]), np.array([[3.0, 4.0]])], axes=1, normalize=True)
        >>> z.round(12).tolist()
        [[1.0]]
    """
    x, y = as_arrays(inputs, "dot_forward", exactly=2)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"dot_forward expects inputs with the same batch size, got shapes {x.shape} and {y.shape}")
    a, c = resolve_axes(axes, (x.ndim, y.ndim))
    if x.shape[a] != y.shape[c]:
        raise ValueError(
            f"dot_forward expects equal sizes on the dot axes, got {x.shape[a]} (axis {a} of {x.shape}) "
            f"and {y.shape[c]} (axis {c} of {y.shape})"
        )
    normalized = None
    if normalize:
        (x, x_cache), (y, y_cache) = l2_normalize_forward(x, a), l2_normalize_forward(y, c)
        normalized = (x_cache, y_cache)
    z, cache = batch_dot_forward(x, y, (a, c))
    return z, DotCache(cache, normalized)


def dot_backward(cache: DotCache, d_z: ArrayLike) -> list[NDArray[Any]]:
    """Gradients of `dot_forward`: ``[d_x, d_y]``, through the normalizations if any."""
    d_x, d_y = batch_dot_backward(cache.batch_dot, d_z)
    if cache.normalized is not None:
        d_x = l2_normalize_backward(cache.normalized[0], d_x)
        d_y = l2_normalize_backward(cache.normalized[1], d_y)
    return [d_x, d_y]


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], DotCache]:
    """`dot_forward` for a ``Dot`` layer (masks are ignored, as in Keras): ``(z, state, cache)``."""
    z, cache = dot_forward(inputs, layer.axes, layer.normalize)
    return z, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: DotCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`dot_backward` for a ``Dot`` layer: ``({}, [d_x, d_y])``."""
    return {}, dot_backward(cache, d_outputs) if input_gradient else None
