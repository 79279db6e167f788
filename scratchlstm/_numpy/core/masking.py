"""The Masking layer as two pure functions, and its mask.

    mask = any(x != mask_value, axis=-1)          x: (B, T, F) -> mask: (B, T) bool
    y    = where(mask[..., None], x, 0)           (B, T, F)
    d x  = where(mask[..., None], d y, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import as_float_array


@dataclass(frozen=True)
class MaskingCache:
    """``keep (..., 1)``: the broadcastable bool mask of the kept steps."""

    keep: NDArray[np.bool_]


def masking_mask(x: ArrayLike, mask_value: float = 0.0) -> NDArray[np.bool_]:
    """The kept steps: ``any(x != mask_value, axis=-1)``.

    Args:
        x: ``(B, T, F)`` (any rank of at least 1).
        mask_value: the padding value; a Python float compares in ``x``'s dtype.

    Returns:
        a bool array of shape ``x.shape[:-1]``, ``True`` where the step is kept.

    Examples:
        >>> import numpy as np
        >>> masking_mask(np.array([[[0.0, 1.0], [0.0, 0.0]]])).tolist()
        [[True, False]]
    """
    kept: NDArray[np.bool_] = np.any(np.asarray(x) != mask_value, axis=-1)
    return kept


def masking_forward(x: ArrayLike, mask_value: float = 0.0) -> tuple[NDArray[Any], NDArray[np.bool_], MaskingCache]:
    """Zero the steps whose features all equal ``mask_value``.

    Args:
        x: ``(B, T, F)`` (any rank of at least 1).
        mask_value: the padding value.

    Returns:
        ``(y, mask, cache)``: ``y = where(mask[..., None], x, 0)`` of ``x``'s shape, and the
        ``(B, T)`` bool mask of `masking_mask`.
    """
    x = as_float_array(x, "x")
    if x.ndim < 1:
        raise ValueError(f"x must have a features axis, got shape {x.shape}")
    keep = np.any(x != mask_value, axis=-1, keepdims=True)  # (B, T, 1)
    y = np.where(keep, x, np.zeros((), x.dtype))  # (B, T, F)
    return y, keep[..., 0], MaskingCache(keep)


def masking_backward(cache: MaskingCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `masking_forward` with respect to ``x``.

    The mask is piecewise constant in ``x``, so the gradient passes unchanged at the kept steps
    and is zero at the masked ones (as autodiff of Keras' ``where``):

        d_x = where(mask[..., None], d_y, 0)

    Args:
        cache: the `MaskingCache` of the forward call.
        d_y: ``(B, T, F)`` gradient with respect to its output.

    Returns:
        ``d_x`` of the same shape.
    """
    d_y = np.asarray(d_y)
    return np.where(cache.keep, d_y, np.zeros((), d_y.dtype))


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], MaskingCache]:
    """`masking_forward` for a ``Masking`` layer: ``(y, state, cache)`` (the incoming mask is ignored)."""
    y, _, cache = masking_forward(inputs, layer.mask_value)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: MaskingCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`masking_backward` for a ``Masking`` layer: ``({}, d_x)``."""
    return {}, (masking_backward(cache, d_outputs) if input_gradient else None)
