"""The Add merge in JAX: ``y = x_1 + ... + x_n``, broadcast as Keras does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

from ._merge import align, as_arrays


def add_forward(inputs: Sequence[Any]) -> Any:
    """``y = x_1 + ... + x_n``.

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.

    Returns:
        ``y`` of the broadcast shape (gradients by ``jax.grad``).
    """
    aligned, shape = align(as_arrays(inputs, "add_forward", at_least=2), "add_forward")
    y = jnp.zeros(shape, aligned[0].dtype)
    for x in aligned:
        y = y + x
    return y


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`add_forward` for an ``Add`` layer (DESIGN §7): ``(y, state)``."""
    return add_forward(inputs), state
