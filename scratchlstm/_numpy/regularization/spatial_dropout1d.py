"""SpatialDropout1D as dropout with the noise shape ``(B, 1, C)``: whole channels are dropped.

    keep ~ Bernoulli(1 - rate) of shape (B, 1, C), broadcast over the T steps
    y    = keep * x / (1 - rate) ;   d x = keep * d y / (1 - rate)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .dropout import DropoutCache, dropout_backward, dropout_forward, keep_mask_for


def spatial_dropout1d_forward(
    x: ArrayLike, rate: float, keep: ArrayLike | None = None,
) -> tuple[NDArray[Any], DropoutCache]:
    """``y = keep * x / (1 - rate)`` with a ``(B, 1, C)`` mask (`dropout_forward`).

    Args:
        x: ``(B, T, C)``.
        rate: the fraction of channels dropped.
        keep: ``None`` (identity) or a bool mask ``(B, 1, C)``.

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(B, T, C)``.
    """
    return dropout_forward(x, rate, keep)


def spatial_dropout1d_backward(cache: DropoutCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `spatial_dropout1d_forward`: ``d x = keep * d y / (1 - rate)``.

    Args:
        cache: the cache of the forward call.
        d_y: ``(B, T, C)``.

    Returns:
        ``d_x`` of shape ``(B, T, C)``.
    """
    return dropout_backward(cache, d_y)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], DropoutCache]:
    """`spatial_dropout1d_forward` with a mask drawn in training: ``(y, state, cache)``."""
    noise_shape = layer.spatial_noise_shape(np.shape(inputs))  # (B, 1, C)
    keep = keep_mask_for(layer, inputs, noise_shape, training=training, rng=rng)
    y, cache = spatial_dropout1d_forward(inputs, layer.rate, keep)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: DropoutCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`spatial_dropout1d_backward`: ``({}, d_x)``."""
    return {}, spatial_dropout1d_backward(cache, d_outputs) if input_gradient else None
