"""Gradient clipping with Keras' semantics (NumPy versions of what the JAX backend builds from optax)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._tree import tree_leaves, tree_map


def clip_by_value(grads: Any, clipvalue: float) -> Any:
    """Clip every element to ``[-clipvalue, clipvalue]``.  Same as ``optax.clip(clipvalue)``."""
    return tree_map(lambda g: np.clip(g, -clipvalue, clipvalue), grads)


def clip_by_norm(grads: Any, clipnorm: float) -> Any:
    """Clip each gradient tensor by its own L2 norm (Keras ``clipnorm``):

        g <- g * clipnorm / max(||g||_2, clipnorm)

    optax has no built-in for this; the JAX backend writes the same formula per leaf as a small
    stateless ``GradientTransformation``. A zero gradient stays zero.
    """

    def clip_one(g: NDArray[Any]) -> NDArray[Any]:
        norm = np.sqrt(np.sum(g * g))
        clipped: NDArray[Any] = (g * clipnorm) / np.maximum(norm, clipnorm)
        return clipped

    return tree_map(clip_one, grads)


def global_norm(grads: Any) -> Any:
    """``sqrt(sum over all tensors of sum(g ** 2))``, like ``optax.global_norm``."""
    return np.sqrt(sum(np.sum(g * g) for g in tree_leaves(grads)))


def clip_by_global_norm(grads: Any, global_clipnorm: float) -> Any:
    """Rescale all tensors together when their global norm exceeds ``global_clipnorm``:

        n = sqrt(sum_k ||g_k||^2);   g_k <- g_k                      if n < global_clipnorm
                                     g_k <- (g_k / n) * global_clipnorm   otherwise

    Same as ``optax.clip_by_global_norm(global_clipnorm)``; Keras writes it as
    ``g_k * global_clipnorm * min(1 / n, 1 / global_clipnorm)``, equal up to rounding.
    """
    norm = global_norm(grads)
    if norm < global_clipnorm:
        return grads
    return tree_map(lambda g: (g / norm.astype(g.dtype)) * global_clipnorm, grads)
