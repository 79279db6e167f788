"""The Concatenate merge in JAX, and Keras' mask rule for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from ._merge import as_arrays


def concatenate_forward(inputs: Sequence[Any], axis: int = -1) -> Any:
    """Join the inputs along ``axis``.

    Args:
        inputs: a list of at least two arrays of equal rank, equal sizes except on ``axis``.
        axis: the axis to join along; negative counts from the end.

    Returns:
        ``y`` (gradients by ``jax.grad``).
    """
    arrays = as_arrays(inputs, "concatenate_forward", at_least=2)
    shapes = [tuple(a.shape) for a in arrays]
    ndim = len(shapes[0])
    if any(len(s) != ndim for s in shapes) or not -ndim <= axis < ndim:
        raise ValueError(
            f"concatenate_forward expects inputs of equal rank with axis={axis} in range, got shapes {shapes}"
        )
    cut = axis % ndim
    if len({s[:cut] + s[cut + 1:] for s in shapes}) > 1:
        raise ValueError(f"concatenate_forward expects matching shapes except on axis {cut}, got shapes {shapes}")
    return jnp.concatenate(arrays, axis=axis)


def concatenate_mask(inputs: Sequence[Any], masks: Sequence[Any], axis: int = -1) -> Any:
    """Keras' output mask of a concatenation (see the NumPy twin, ``concatenate_mask``).

    Args:
        inputs: the list of inputs (only their shapes are used).
        masks: one ``(B, T)`` bool mask (or ``None``) per input.
        axis: the concatenation axis.

    Returns:
        the output mask, ``y.shape[:-1]``, or ``None`` if no input has a mask.
    """
    if all(m is None for m in masks):
        return None
    full = []
    for x, m in zip(inputs, masks):
        shape = tuple(jnp.shape(x))
        if m is None:
            full.append(jnp.ones(shape, dtype=bool))
            continue
        m = jnp.asarray(m, dtype=bool)
        full.append(jnp.broadcast_to(m.reshape(tuple(m.shape) + (1,) * (len(shape) - m.ndim)), shape))
    return jnp.concatenate(full, axis=axis).any(axis=-1)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`concatenate_forward` for a ``Concatenate`` layer (DESIGN §7): ``(y, state)``."""
    return concatenate_forward(inputs, layer.axis), state
