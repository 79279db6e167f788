"""The Multiply merge in JAX: the elementwise product with Keras' masking."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from ._merge import align, as_arrays, full_mask, per_input_masks


def multiply_forward(inputs: Sequence[Any], mask: Any = None) -> Any:
    """``y = where(m, f_1 * ... * f_n, 0)`` with ``f_i = where(mask_i, x_i, 1)``.

    ``m``, the OR of the masks, applies only when every input has a mask (Keras).

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.
        mask: ``None``, or one ``(B, T)`` bool mask (or ``None``) per input.

    Returns:
        ``y`` of the broadcast shape (gradients by ``jax.grad``).
    """
    arrays = as_arrays(inputs, "multiply_forward", at_least=2)
    masks = per_input_masks(mask, len(arrays), "multiply_forward")
    aligned, shape = align(arrays, "multiply_forward")
    ms = [full_mask(m, a.shape, shape) for m, a in zip(masks, arrays)]
    y = jnp.ones(shape, arrays[0].dtype)
    for x, m in zip(aligned, ms):
        y = y * (x if m is None else jnp.where(m, x, 1))
    if all(m is not None for m in ms):
        y = jnp.where(functools.reduce(jnp.logical_or, ms), y, 0)
    return y


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`multiply_forward` for a ``Multiply`` layer (DESIGN §7): ``(y, state)``."""
    return multiply_forward(inputs, mask), state
