"""What the elementwise merges share in JAX: Keras' rank alignment, masks, and the pairwise fold
behind `Maximum` and `Minimum`. Gradients come from autodiff (the NumPy twin,
``scratchlstm._numpy.merging._merge``, writes them out).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from ..._numpy.merging._merge import aligned_shape


def as_arrays(inputs: Any, what: str, *, at_least: int = 1, exactly: int | None = None) -> list[Any]:
    """``inputs`` as JAX arrays of their promoted float dtype (float32 for integer inputs).

    Args:
        inputs: a list (or tuple) of arrays, batch axis first.
        what: the function's name, for messages.
        at_least: the fewest inputs accepted.
        exactly: the only accepted count, or ``None``.

    Returns:
        the arrays, cast to one dtype.
    """
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"{what} expects a list of arrays, got {type(inputs).__name__}")
    wanted = f"exactly {exactly}" if exactly is not None else f"at least {at_least}"
    if (exactly is not None and len(inputs) != exactly) or len(inputs) < at_least:
        raise ValueError(f"{what} expects a list of {wanted} arrays, got {len(inputs)}")
    arrays = [jnp.asarray(x) for x in inputs]
    dtype = jnp.result_type(*arrays)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float32
    return [a.astype(dtype) for a in arrays]


def align(arrays: list[Any], what: str) -> tuple[list[Any], tuple[int, ...]]:
    """The arrays at their common rank (axes inserted after the batch axis) and the broadcast shape."""
    shapes = [tuple(a.shape) for a in arrays]
    if len({s[0] for s in shapes}) > 1:
        raise ValueError(f"{what} expects inputs with the same batch size, got shapes {shapes}")
    ndim = max(len(s) for s in shapes)
    aligned = [a.reshape(aligned_shape(a.shape, ndim)) for a in arrays]
    try:
        shape = jnp.broadcast_shapes(*(a.shape for a in aligned))
    except ValueError:
        raise ValueError(
            f"{what} got inputs of incompatible shapes {shapes}: expected equal sizes (or 1) on each "
            "non-batch axis, aligned on the right"
        ) from None
    return aligned, tuple(shape)


def per_input_masks(mask: Any, count: int, what: str) -> list[Any]:
    """The protocol's ``mask`` (``None``, or one entry per input) as a list of ``count`` entries."""
    if mask is None:
        return [None] * count
    if not isinstance(mask, (list, tuple)) or len(mask) != count:
        got = f"{len(mask)} masks" if isinstance(mask, (list, tuple)) else type(mask).__name__
        raise ValueError(f"{what} expects None or a list of {count} masks (one per input, or None), got {got}")
    return list(mask)


def full_mask(mask: Any, input_shape: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """A ``(B, T)`` mask of an input ``(B, T, ...)`` stretched to the output ``shape`` (bool)."""
    if mask is None:
        return None
    mask = jnp.asarray(mask, dtype=bool)
    if mask.ndim > len(input_shape) or tuple(mask.shape) != tuple(input_shape[: mask.ndim]):
        raise ValueError(f"a mask of shape {tuple(mask.shape)} does not fit an input of shape {tuple(input_shape)}")
    mask = mask.reshape(tuple(mask.shape) + (1,) * (len(input_shape) - mask.ndim))
    return jnp.broadcast_to(mask.reshape(aligned_shape(tuple(mask.shape), len(shape))), shape)


def select_forward(inputs: Any, mask: Any, op: Callable[[Any, Any], Any], what: str) -> Any:
    """Keras' masked left fold ``op(... op(op(x_1, x_2), x_3) ..., x_n)`` (``jnp.maximum``/``jnp.minimum``).

    A masked step of an input is replaced by the running result, and a masked step of the running
    result by the input, so a masked step never competes. Autodiff splits a tie evenly.

    Args:
        inputs: a list of at least two arrays ``(B, ...)`` that broadcast as Keras allows.
        mask: ``None`` or one ``(B, T)`` bool mask (or ``None``) per input.
        op: ``jnp.maximum`` or ``jnp.minimum``.
        what: the caller's name, for messages.

    Returns:
        ``y`` of the broadcast shape.
    """
    arrays = as_arrays(inputs, what, at_least=2)
    masks = per_input_masks(mask, len(arrays), what)
    aligned, shape = align(arrays, what)
    xs = [jnp.broadcast_to(a, shape) for a in aligned]
    ms = [full_mask(m, a.shape, shape) for m, a in zip(masks, arrays)]
    out, out_mask = xs[0], ms[0]
    for x, m in zip(xs[1:], ms[1:]):
        right = x if m is None else jnp.where(m, x, out)
        left = out if out_mask is None else jnp.where(out_mask, out, right)
        out_mask = None if m is None or out_mask is None else out_mask | m
        out = op(left, right)
    return out
