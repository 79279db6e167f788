"""What the elementwise merges share: Keras' rank alignment and broadcasting, summing gradients
back to each input's shape, masks, and the pairwise fold behind `Maximum` and `Minimum`.

Keras aligns inputs of different rank by inserting axes just after the batch axis, then lets
the elementwise op broadcast:

    x_1 (B, T, F), x_2 (B, F)  ->  x_2 acts as (B, 1, F)  ->  y (B, T, F)

The gradient of a broadcast input is the upstream gradient summed over the axes it was stretched
along, reshaped back to the input's own shape (`unbroadcast`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import compute_dtype


def as_arrays(inputs: Any, what: str, *, at_least: int = 1, exactly: int | None = None) -> list[NDArray[Any]]:
    """``inputs`` as float arrays of one dtype (float64 if any is, else float32).

    Args:
        inputs: a list (or tuple) of arrays, batch axis first.
        what: the function's name, for messages.
        at_least: the fewest inputs accepted.
        exactly: the only accepted count, or ``None``.

    Returns:
        the arrays, cast to their common float dtype.
    """
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"{what} expects a list of arrays, got {type(inputs).__name__}")
    wanted = f"exactly {exactly}" if exactly is not None else f"at least {at_least}"
    if (exactly is not None and len(inputs) != exactly) or len(inputs) < at_least:
        raise ValueError(f"{what} expects a list of {wanted} arrays, got {len(inputs)}")
    arrays = [np.asarray(x) for x in inputs]
    for position, array in enumerate(arrays):
        if array.dtype.kind not in "fiub" or array.ndim < 1:
            raise ValueError(
                f"{what} expects numeric arrays with a batch axis; input {position} has shape "
                f"{array.shape} and dtype {array.dtype}"
            )
    dtype = compute_dtype(*arrays)
    return [a.astype(dtype, copy=False) for a in arrays]


def aligned_shape(shape: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    """``shape`` with axes of size 1 inserted after the batch axis up to ``ndim`` axes (Keras)."""
    return (*shape[:1], *(1,) * (ndim - len(shape)), *shape[1:])


def align(arrays: list[NDArray[Any]], what: str) -> tuple[list[NDArray[Any]], tuple[int, ...]]:
    """The arrays at their common rank (views) and the broadcast output shape.

    Args:
        arrays: the inputs, batch axis first.
        what: the function's name, for messages.

    Returns:
        ``(aligned, shape)``: each array reshaped by `aligned_shape`, and the shape they broadcast
        to. The batch axis does not broadcast (Keras requires equal batch sizes).
    """
    shapes = [a.shape for a in arrays]
    if len({s[0] for s in shapes}) > 1:
        raise ValueError(f"{what} expects inputs with the same batch size, got shapes {shapes}")
    ndim = max(len(s) for s in shapes)
    aligned = [a.reshape(aligned_shape(a.shape, ndim)) for a in arrays]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in aligned))
    except ValueError:
        raise ValueError(
            f"{what} got inputs of incompatible shapes {shapes}: expected equal sizes (or 1) on each "
            "non-batch axis, aligned on the right"
        ) from None
    return aligned, shape


def unbroadcast(d: NDArray[Any], shape: tuple[int, ...]) -> NDArray[Any]:
    """Sum a gradient of the broadcast output shape back to an input's ``shape``.

    ``d`` is summed (keeping dimensions) over every axis where the aligned input has size 1 and
    ``d`` does not, then reshaped to ``shape``: the adjoint of align-then-broadcast.
    """
    target = aligned_shape(tuple(shape), d.ndim)
    axes = tuple(i for i, (t, s) in enumerate(zip(target, d.shape)) if t == 1 and s != 1)
    if axes:
        d = d.sum(axis=axes, keepdims=True)
    return d.reshape(shape)


def per_input_masks(mask: Any, count: int, what: str) -> list[Any]:
    """The protocol's ``mask`` (``None``, or one entry per input) as a list of ``count`` entries."""
    if mask is None:
        return [None] * count
    if not isinstance(mask, (list, tuple)) or len(mask) != count:
        got = f"{len(mask)} masks" if isinstance(mask, (list, tuple)) else type(mask).__name__
        raise ValueError(f"{what} expects None or a list of {count} masks (one per input, or None), got {got}")
    return list(mask)


def full_mask(mask: ArrayLike | None, input_shape: tuple[int, ...], shape: tuple[int, ...]) -> NDArray[np.bool_] | None:
    """A ``(B, T)`` mask of an input ``(B, T, ...)`` stretched to the output ``shape`` (bool).

    Keras stretches a mask over the input's trailing axes (``mask[..., None]``); here it is then
    aligned and broadcast like the input itself.
    """
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim > len(input_shape) or mask.shape != tuple(input_shape[: mask.ndim]):
        raise ValueError(f"a mask of shape {mask.shape} does not fit an input of shape {tuple(input_shape)}")
    mask = mask.reshape(mask.shape + (1,) * (len(input_shape) - mask.ndim))
    return np.broadcast_to(mask.reshape(aligned_shape(mask.shape, len(shape))), shape)


# --- Maximum and Minimum: a left fold of a pairwise select --------------------------------------
@dataclass(frozen=True)
class SelectCache:
    """The operands of every pairwise step (output shape) and each input's shape.

    Step ``k`` computed ``out_k = op(left_k, right_k)`` with ``right_k = where(mask_k, x_k,
    out_{k-1})`` and ``left_k = where(out_mask_{k-1}, out_{k-1}, right_k)``; ``masks`` and
    ``out_masks`` hold ``None`` where a step had no mask.
    """

    shapes: list[tuple[int, ...]]
    lefts: list[NDArray[Any]]
    rights: list[NDArray[Any]]
    masks: list[NDArray[np.bool_] | None]
    out_masks: list[NDArray[np.bool_] | None]


def select_forward(
    inputs: Any, mask: Any, op: Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]], what: str,
) -> tuple[NDArray[Any], SelectCache]:
    """Keras' masked left fold ``op(... op(op(x_1, x_2), x_3) ..., x_n)`` (``np.maximum``/``np.minimum``).

    Where an input is masked its value is replaced by the running result, and where the running
    result is masked it is replaced by the input, so a masked step never competes. The running
    mask is the OR of the masks so far, and is dropped once an input has no mask.

    Args:
        inputs: a list of at least two arrays ``(B, ...)`` that broadcast as Keras allows.
        mask: ``None`` or one ``(B, T)`` bool mask (or ``None``) per input.
        op: ``np.maximum`` or ``np.minimum``.
        what: the caller's name, for messages.

    Returns:
        ``(y, cache)`` with ``y`` of the broadcast shape.
    """
    arrays = as_arrays(inputs, what, at_least=2)
    masks = per_input_masks(mask, len(arrays), what)
    aligned, shape = align(arrays, what)
    xs = [np.broadcast_to(a, shape) for a in aligned]
    ms = [full_mask(m, a.shape, shape) for m, a in zip(masks, arrays)]
    out, out_mask = xs[0], ms[0]
    lefts: list[NDArray[Any]] = []
    rights: list[NDArray[Any]] = []
    step_masks: list[NDArray[np.bool_] | None] = []
    out_masks: list[NDArray[np.bool_] | None] = []
    for x, m in zip(xs[1:], ms[1:]):
        right = x if m is None else np.where(m, x, out)
        left = out if out_mask is None else np.where(out_mask, out, right)
        lefts.append(left)
        rights.append(right)
        step_masks.append(m)
        out_masks.append(out_mask)
        out_mask = None if m is None or out_mask is None else out_mask | m
        out = op(left, right)
    return np.array(out), SelectCache([a.shape for a in arrays], lefts, rights, step_masks, out_masks)


def select_backward(
    cache: SelectCache, d_y: ArrayLike, left_wins: Callable[[NDArray[Any], NDArray[Any]], NDArray[np.bool_]],
) -> list[NDArray[Any]]:
    """Gradients of `select_forward`, one per input, each of its input's shape.

    Walking the fold backwards, step ``k`` sends the gradient ``g`` of ``out_k`` to its operands
    with weights ``w`` and ``1 - w``:

        w = 1 where left_wins(left, right);  1/2 where left == right;  0 elsewhere

    (the tie split is what JAX's autodiff of ``jnp.maximum`` does, so the backends agree), then
    through the ``where``s: each selects, so the gradient follows the selected operand.

    Args:
        cache: the `SelectCache` of the forward call.
        d_y: the gradient of the output (its broadcast shape).
        left_wins: ``np.greater`` for the maximum, ``np.less`` for the minimum.

    Returns:
        the list of input gradients.
    """
    g = np.asarray(d_y, dtype=cache.lefts[0].dtype)
    grads: list[NDArray[Any] | None] = [None] * len(cache.shapes)
    for k in range(len(cache.lefts) - 1, -1, -1):
        left, right, m, out_mask = cache.lefts[k], cache.rights[k], cache.masks[k], cache.out_masks[k]
        w = np.where(left == right, 0.5, left_wins(left, right)).astype(g.dtype)
        g_left, g_right = g * w, g * (1 - w)
        g_out = g_left
        if out_mask is not None:  # left = where(out_mask, out, right)
            g_out = np.where(out_mask, g_left, 0)
            g_right = g_right + np.where(out_mask, 0, g_left)
        g_x = g_right
        if m is not None:  # right = where(mask, x, out)
            g_x = np.where(m, g_right, 0)
            g_out = g_out + np.where(m, 0, g_right)
        grads[k + 1] = g_x
        g = g_out
    grads[0] = g
    filled = cast("list[NDArray[Any]]", grads)  # the loop and grads[0] set every slot
    return [unbroadcast(d, shape) for d, shape in zip(filled, cache.shapes)]
