"""The Keras-style ``Subtract`` merge layer and its functional form `subtract`."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._merge import Merge


@register(numpy="scratchlstm._numpy.merging.subtract", jax="scratchlstm.jax_backend.merging.subtract")
class Subtract(Merge):
    """Elementwise difference of exactly two inputs.

        y = x_1 - x_2

    Takes a list of exactly two tensors ``(B, ...)`` whose non-batch shapes broadcast as in
    Keras (aligned on the right, size 1 stretches), and returns one tensor of the broadcast shape.
    Masks do not change the values (Keras); the output mask is the OR of the input masks.

    Args:
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Subtract()([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).tolist()
        [[-2.0, -2.0]]
    """

    exactly = 2


def subtract(inputs: Any, **kwargs: Any) -> Any:
    """Functional form of `Subtract`: ``Subtract(**kwargs)(inputs)``.

    Args:
        inputs: a list of exactly two tensors (arrays, or symbolic tensors of a model).
        **kwargs: the arguments of `Subtract`.

    Returns:
        ``inputs[0] - inputs[1]``: an array, or a symbolic tensor if ``inputs`` are symbolic.
    """
    return Subtract(**kwargs)(inputs)
