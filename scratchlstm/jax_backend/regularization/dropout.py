"""Dropout in JAX: a keep-mask from ``jax.random.bernoulli``, ``y = keep * x / (1 - rate)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp

from ..._numpy.regularization.dropout import concrete_noise_shape


def draw_dropout_mask(key: jax.Array, rate: float, shape: Sequence[int]) -> jax.Array:
    """A boolean keep-mask, ``True`` with probability ``1 - rate`` (``jax.random.bernoulli``).

    Args:
        key: a ``jax.random`` key.
        rate: the fraction to drop, in ``[0, 1]``.
        shape: the mask shape (the noise shape).

    Returns:
        a bool array of ``shape``.
    """
    return jax.random.bernoulli(key, p=1.0 - rate, shape=tuple(shape))


def dropout_forward(x: Any, rate: float, keep: Any = None) -> jax.Array:
    """``y = keep * x / (1 - rate)`` as Keras computes it, or ``y = x`` without a mask.

    Args:
        x: ``(B, ...)`` any rank.
        rate: the fraction dropped, in ``[0, 1]``.
        keep: ``None`` (identity) or a bool mask that broadcasts to ``x``.

    Returns:
        ``y`` shaped like ``x`` (gradients by ``jax.grad``).
    """
    x = jnp.asarray(x)
    if keep is None:
        return x
    keep = jnp.broadcast_to(jnp.asarray(keep, bool), x.shape)
    if rate >= 1.0:
        return jnp.zeros_like(x)
    return jnp.where(keep, x / (1.0 - rate), jnp.zeros_like(x))


def keep_mask_for(layer: Any, x: Any, noise_shape: Sequence[int | None] | None, *, training: bool,
                  key: jax.Array | None) -> jax.Array | None:
    """The keep-mask of a dropout layer on ``x``: ``None`` outside training or with rate 0.

    Args:
        layer: the layer (its ``rate`` and name).
        x: the input.
        noise_shape: the layer's noise shape (``None`` entries take the input's sizes).
        training: whether to drop.
        key: the ``jax.random`` key of this call (the train step's, folded per node).

    Returns:
        a bool mask in the concrete noise shape, or ``None``.

    Raises:
        ValueError: in training without a key.
    """
    if not training or layer.rate == 0:
        return None
    if key is None:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} needs a jax.random key in training (key=...); got None"
        )
    # a JAX array's shape is concrete, so the resolved noise shape holds no None
    return draw_dropout_mask(key, layer.rate, cast("tuple[int, ...]", concrete_noise_shape(noise_shape, jnp.shape(x))))


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`dropout_forward` for a ``Dropout`` layer (DESIGN §7): ``(y, state)``."""
    keep = keep_mask_for(layer, inputs, layer.noise_shape, training=training, key=key)
    return dropout_forward(inputs, layer.rate, keep), state
