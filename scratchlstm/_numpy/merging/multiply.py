"""The Multiply merge as two pure functions, with Keras' masking.

    f_i = where(mask_i, x_i, 1)                     a masked step of an input counts as 1
    y   = where(m, f_1 * f_2 * ... * f_n, 0)        m = OR of the masks, if every input has one
    d f_i = where(m, d y, 0) * prod_{j != i} f_j    (prefix and suffix products: no division,
    d x_i = unbroadcast(where(mask_i, d f_i, 0))     so zeros in the inputs are fine)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._merge import align, as_arrays, full_mask, per_input_masks, unbroadcast


@dataclass(frozen=True)
class MultiplyCache:
    """The factors ``f_i`` and masks (``None`` where absent), in the output shape, and the input shapes."""

    shapes: list[tuple[int, ...]]
    factors: list[NDArray[Any]]
    masks: list[NDArray[np.bool_] | None]
    out_mask: NDArray[np.bool_] | None


def multiply_forward(
    inputs: Sequence[ArrayLike], mask: Sequence[ArrayLike | None] | None = None,
) -> tuple[NDArray[Any], MultiplyCache]:
    """The elementwise product of the inputs, broadcast and masked as Keras does.

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.
        mask: ``None``, or one ``(B, T)`` bool mask (or ``None``) per input. A masked step of an
            input counts as 1; if every input has a mask, a step masked in all of them gives 0.

    Returns:
        ``(y, cache)`` with ``y`` of the broadcast shape.

    Examples:
        >>> import numpy as np
        >>> y, _ = multiply_forward([np.full((1, 2), 2.0), np.full((1, 2), 3.0), np.ones((1, 2))])
        >>> y.tolist()
        [[6.0, 6.0]]
    """
    arrays = as_arrays(inputs, "multiply_forward", at_least=2)
    masks = per_input_masks(mask, len(arrays), "multiply_forward")
    aligned, shape = align(arrays, "multiply_forward")
    ms = [full_mask(m, a.shape, shape) for m, a in zip(masks, arrays)]
    factors = [np.broadcast_to(x if m is None else np.where(m, x, 1), shape) for x, m in zip(aligned, ms)]
    y = np.ones(shape, dtype=arrays[0].dtype)
    for f in factors:
        y = y * f
    out_mask = None
    if all(m is not None for m in ms):
        out_mask = np.logical_or.reduce(cast("list[NDArray[np.bool_]]", ms))  # no None left, as checked
        y = np.where(out_mask, y, 0)
    return y, MultiplyCache([a.shape for a in arrays], factors, ms, out_mask)


def multiply_backward(cache: MultiplyCache, d_y: ArrayLike) -> list[NDArray[Any]]:
    """Gradients of `multiply_forward`, each shaped like its input.

    ``prod_{j != i} f_j`` is ``prefix_i * suffix_i`` with ``prefix_i = f_1 ... f_{i-1}`` and
    ``suffix_i = f_{i+1} ... f_n``, so a zero factor needs no special case.
    """
    g = np.asarray(d_y, dtype=cache.factors[0].dtype)
    if cache.out_mask is not None:
        g = np.where(cache.out_mask, g, 0)
    n = len(cache.factors)
    prefix = [np.ones_like(g)]
    for f in cache.factors[:-1]:
        prefix.append(prefix[-1] * f)
    grads: list[NDArray[Any] | None] = [None] * n
    suffix = np.ones_like(g)
    for i in range(n - 1, -1, -1):
        d_f = g * prefix[i] * suffix
        mask_i = cache.masks[i]
        if mask_i is not None:
            d_f = np.where(mask_i, d_f, 0)
        grads[i] = unbroadcast(d_f, cache.shapes[i])
        suffix = suffix * cache.factors[i]
    return cast("list[NDArray[Any]]", grads)  # the loop set every slot


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], MultiplyCache]:
    """`multiply_forward` for a ``Multiply`` layer: ``(y, state, cache)``."""
    y, cache = multiply_forward(inputs, mask)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: MultiplyCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`multiply_backward` for a ``Multiply`` layer: ``({}, [d_x_1, ..., d_x_n])``."""
    return {}, multiply_backward(cache, d_outputs) if input_gradient else None
