"""The Dot merge in JAX: Keras' ``batch_dot``, optionally of L2-normalized inputs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
from jax import lax

from ..._numpy.merging.dot import EPSILON, resolve_axes
from ._merge import as_arrays


def l2_normalize(x: Any, axis: int, epsilon: float = EPSILON) -> Any:
    """``x * rsqrt(max(sum x^2, epsilon^2))`` along ``axis`` (Keras' ``normalize``).

    Clamping the squared norm (not the inverse) keeps the gradient of a zero vector finite.
    """
    square_sum = jnp.sum(x * x, axis=axis, keepdims=True)
    return x * lax.rsqrt(jnp.maximum(square_sum, jnp.asarray(epsilon * epsilon, x.dtype)))


def batch_dot(x: Any, y: Any, axes: tuple[int, int]) -> Any:
    """Per-sample contraction of ``x``'s axis ``axes[0]`` with ``y``'s axis ``axes[1]``.

    Returns:
        ``(B, x's other axes..., y's other axes...)``, or ``(B, 1)`` if only the batch axis is left.
    """
    a, c = axes
    xm = jnp.moveaxis(x, a, -1)  # (B, X..., K)
    ym = jnp.moveaxis(y, c, 1)  # (B, K, Y...)
    batch, k = xm.shape[0], xm.shape[-1]
    x3 = xm.reshape(batch, math.prod(xm.shape[1:-1]), k)  # (B, P, K)
    y3 = ym.reshape(batch, k, math.prod(ym.shape[2:]))  # (B, K, Q)
    out_shape = (batch, *xm.shape[1:-1], *ym.shape[2:])
    return jnp.matmul(x3, y3).reshape(out_shape if len(out_shape) > 1 else (batch, 1))


def dot_forward(inputs: Sequence[Any], axes: int | Sequence[int], normalize: bool = False) -> Any:
    """Keras' ``Dot``: the batch dot of two inputs, of their L2-normalized versions if ``normalize``.

    Args:
        inputs: a list of two arrays ``(B, ...)`` of rank >= 2, equal in size on the dot axes.
        axes: an integer or a pair, as for the ``Dot`` layer (negative counts from the end).
        normalize: L2-normalize each input along its dot axis first.

    Returns:
        ``z`` (gradients by ``jax.grad``).
    """
    x, y = as_arrays(inputs, "dot_forward", exactly=2)
    a, c = resolve_axes(axes, (x.ndim, y.ndim))
    if x.shape[0] != y.shape[0] or x.shape[a] != y.shape[c]:
        raise ValueError(
            f"dot_forward expects equal batch sizes and equal sizes on the dot axes ({a}, {c}), got shapes "
            f"{tuple(x.shape)} and {tuple(y.shape)}"
        )
    if normalize:
        x, y = l2_normalize(x, a), l2_normalize(y, c)
    return batch_dot(x, y, (a, c))


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`dot_forward` for a ``Dot`` layer (DESIGN §7; masks are ignored): ``(z, state)``."""
    return dot_forward(inputs, layer.axes, layer.normalize), state
