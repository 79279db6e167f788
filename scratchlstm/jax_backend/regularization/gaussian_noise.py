"""GaussianNoise in JAX: ``y = x + stddev * N(0, 1)`` in training, ``y = x`` otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp


def draw_gaussian_noise(key: jax.Array, stddev: float, shape: Sequence[int], dtype: Any) -> jax.Array:
    """``stddev * N(0, 1)`` of ``shape`` and ``dtype`` (``jax.random.normal``, as Keras).

    Args:
        key: a ``jax.random`` key.
        stddev: the standard deviation.
        shape: the input's shape.
        dtype: the input's dtype.

    Returns:
        the noise array.
    """
    return jax.random.normal(key, tuple(shape), dtype) * stddev


def gaussian_noise_forward(x: Any, noise: Any = None) -> jax.Array:
    """``y = x + noise`` (or ``y = x`` without noise).

    Args:
        x: ``(B, ...)`` any rank.
        noise: ``None`` or an array shaped like ``x``.

    Returns:
        ``y`` shaped like ``x``.
    """
    x = jnp.asarray(x)
    return x if noise is None else x + jnp.asarray(noise, x.dtype)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`gaussian_noise_forward`, with noise drawn from ``key`` in training (DESIGN §7): ``(y, state)``."""
    noise = None
    if training and layer.stddev > 0:
        if key is None:
            raise ValueError(f"GaussianNoise {layer.name!r} needs a jax.random key in training (key=...); got None")
        x = jnp.asarray(inputs)
        noise = draw_gaussian_noise(key, layer.stddev, x.shape, x.dtype)
    return gaussian_noise_forward(inputs, noise), state
