"""Shape checks shared by the reshaping layers (each raises ``ValueError`` naming expected vs received)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np



def is_int(value: Any) -> bool:
    """An integer that is not a ``bool``."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def resolve_target_shape(input_dims: tuple[Any, ...], target_shape: tuple[Any, ...]) -> tuple[Any, ...]:
    """The output shape of a reshape of ``input_dims`` (no batch axis) to ``target_shape`` (Keras' rule).

    A ``-1`` in ``target_shape`` takes what is left of the input size, or ``None`` when an input
    size is unknown.

    Args:
        input_dims: the input's shape without the batch axis (``None`` where unknown).
        target_shape: ints, at most one of them ``-1``.

    Returns:
        the output shape without the batch axis.

    Raises:
        ValueError: if the sizes cannot match.
    """
    if None in input_dims:
        return tuple(None if d == -1 else d for d in target_shape)
    size = math.prod(input_dims)
    if -1 not in target_shape:
        if size != math.prod(target_shape):
            raise ValueError(
                "The total size of the tensor must be unchanged. Received: input_shape="
                f"{tuple(input_dims)} ({size} values per sample), target_shape={tuple(target_shape)} "
                f"({math.prod(target_shape)} values)"
            )
        return tuple(target_shape)
    known = math.prod(d for d in target_shape if d != -1)
    if known == 0 or size % known != 0:
        raise ValueError(
            f"The total size of the tensor must be unchanged, however the input size cannot be divided by the "
            f"specified dimensions. Received: input_shape={tuple(input_dims)} ({size} values per sample), "
            f"target_shape={tuple(target_shape)} (a multiple of {known} expected)"
        )
    return tuple(size // known if d == -1 else d for d in target_shape)
