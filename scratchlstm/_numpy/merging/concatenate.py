"""The Concatenate merge as two pure functions, and Keras' mask rule for it.

    y = [x_1 | x_2 | ... | x_n] along ``axis``       x_i: (B, ..., F_i, ...) -> y: (B, ..., sum F_i, ...)
    d x_i = the slice of d y that x_i filled
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._merge import as_arrays


@dataclass(frozen=True)
class ConcatenateCache:
    """The axis (non-negative) and each input's size along it."""

    axis: int
    sizes: list[int]


def _check(arrays: list[NDArray[Any]], axis: int, what: str) -> int:
    """``axis`` made non-negative, after checking the arrays can be joined along it."""
    shapes = [a.shape for a in arrays]
    ndim = arrays[0].ndim
    if any(a.ndim != ndim for a in arrays):
        raise ValueError(f"{what} expects inputs of equal rank, got shapes {shapes}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what} got axis={axis}, expected an axis in [{-ndim}, {ndim}) for shapes {shapes}")
    axis %= ndim
    rest = {s[:axis] + s[axis + 1:] for s in shapes}
    if len(rest) > 1:
        raise ValueError(
            f"{what} expects inputs with matching shapes except on axis {axis}, got shapes {shapes}"
        )
    return axis


def concatenate_forward(inputs: Sequence[ArrayLike], axis: int = -1) -> tuple[NDArray[Any], ConcatenateCache]:
    """Join the inputs along ``axis``.

    Args:
        inputs: a list of at least two arrays of equal rank, equal sizes except on ``axis``.
        axis: the axis to join along; negative counts from the end.

    Returns:
        ``(y, cache)``.

    Examples:
        >>> import numpy as np
        >>> y, _ = concatenate_forward([np.zeros((2, 3, 4)), np.zeros((2, 3, 1))])
        >>> y.shape
        (2, 3, 5)
    """
    arrays = as_arrays(inputs, "concatenate_forward", at_least=2)
    axis = _check(arrays, axis, "concatenate_forward")
    y = np.concatenate(arrays, axis=axis)
    return y, ConcatenateCache(axis, [a.shape[axis] for a in arrays])


def concatenate_backward(cache: ConcatenateCache, d_y: ArrayLike) -> list[NDArray[Any]]:
    """Gradients of `concatenate_forward`: ``d y`` cut back into the inputs' slices along the axis."""
    cuts = np.cumsum(cache.sizes)[:-1]
    return [np.array(part) for part in np.split(np.asarray(d_y), cuts, axis=cache.axis)]


def concatenate_mask(
    inputs: Sequence[ArrayLike], masks: Sequence[ArrayLike | None], axis: int = -1,
) -> NDArray[np.bool_] | None:
    """Keras' output mask of a concatenation.

    Each input's mask is stretched over the input's trailing axes (``(B, T) -> (B, T, F)``), a
    missing one is all ``True``; they are joined along ``axis``, and a step of the output is kept
    if any entry on its last axis is: ``axis=-1`` gives the OR of the masks, ``axis=1`` joins them
    in time.

    Args:
        inputs: the list of inputs (only their shapes are used).
        masks: one ``(B, T)`` bool mask (or ``None``) per input.
        axis: the concatenation axis.

    Returns:
        the output mask, ``y.shape[:-1]``, or ``None`` if no input has a mask.
    """
    if all(m is None for m in masks):
        return None
    full: list[NDArray[np.bool_]] = []
    for x, m in zip(inputs, masks):
        shape = tuple(np.shape(x))
        if m is None:
            full.append(np.ones(shape, dtype=bool))
            continue
        m = np.asarray(m, dtype=bool)
        m = m.reshape(m.shape + (1,) * (len(shape) - m.ndim))
        full.append(np.broadcast_to(m, shape))
    # with an axis, .any returns an array (the stubs also allow a scalar)
    return cast("NDArray[np.bool_]", np.concatenate(full, axis=axis).any(axis=-1))


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], ConcatenateCache]:
    """`concatenate_forward` for a ``Concatenate`` layer (masks do not change the values)."""
    y, cache = concatenate_forward(inputs, layer.axis)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: ConcatenateCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`concatenate_backward` for a ``Concatenate`` layer: ``({}, [d_x_1, ..., d_x_n])``."""
    return {}, concatenate_backward(cache, d_outputs) if input_gradient else None
