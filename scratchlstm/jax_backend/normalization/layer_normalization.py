"""The LayerNormalization layer as a pure JAX function (gradients by autodiff)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from ..rnn.lstm import compute_dtype


def _broadcast(weight: Any, ndim: int, axes: Sequence[int]) -> Any:
    shape = [1] * ndim
    for a, size in zip(axes, jnp.shape(weight)):
        shape[a] = size
    return jnp.reshape(weight, shape)


def layer_normalization_forward(params: dict[str, Any], x: Any, *, axes: Sequence[int] = (-1,),
                                epsilon: float = 1e-3) -> Any:
    """``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``, the biased moments over ``axes``.

    Args:
        params: ``{"gamma": shape, "beta": shape}`` (the sizes of ``x`` on the sorted ``axes``);
            either may be absent or ``None``.
        x: ``(B, ...)``.
        axes: the normalized axes.
        epsilon: added to the variance.

    Returns:
        ``y`` shaped as ``x`` (no cache: use ``jax.grad``).
    """
    ndim = len(jnp.shape(x))
    axes = tuple(sorted(a % ndim for a in axes))
    gamma, beta = params.get("gamma"), params.get("beta")
    expected = tuple(jnp.shape(x)[a] for a in axes)
    for key, weight in (("gamma", gamma), ("beta", beta)):
        if weight is not None and tuple(jnp.shape(weight)) != expected:
            raise ValueError(
                f"params[{key!r}] must have shape {expected} for x of shape {jnp.shape(x)}, got {jnp.shape(weight)}"
            )
    dtype = compute_dtype(x, gamma, beta)
    x = jnp.asarray(x, dtype)
    mean = jnp.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    y = centered / jnp.sqrt(jnp.mean(centered * centered, axis=axes, keepdims=True) + epsilon)
    if gamma is not None:
        y = y * _broadcast(jnp.asarray(gamma, dtype), ndim, axes)
    if beta is not None:
        y = y + _broadcast(jnp.asarray(beta, dtype), ndim, axes)
    return y


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`layer_normalization_forward` for a ``LayerNormalization`` layer (DESIGN §7): ``(y, state)``."""
    axes = layer.axes_for(len(jnp.shape(inputs)))
    return layer_normalization_forward(params, inputs, axes=axes, epsilon=layer.epsilon), state
