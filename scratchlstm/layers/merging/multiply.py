"""The Keras-style ``Multiply`` merge layer and its functional form `multiply`."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._merge import Merge


@register(numpy="scratchlstm._numpy.merging.multiply", jax="scratchlstm.jax_backend.merging.multiply")
class Multiply(Merge):
    """Elementwise product of the inputs.

        y = x_1 * x_2 * ... * x_n

    Takes a list of at least two tensors ``(B, ...)`` whose non-batch shapes broadcast as in
    Keras (aligned on the right, size 1 stretches), and returns one tensor of the broadcast shape.
    With masks (Keras): a masked step of an input counts as 1; if every input has a mask, steps
    masked in all inputs output 0. The output mask is the OR of the input masks.

    Args:
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Multiply()([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).tolist()
        [[3.0, 8.0]]
    """


def multiply(inputs: Any, **kwargs: Any) -> Any:
    """Functional form of `Multiply`: ``Multiply(**kwargs)(inputs)``.

    Args:
        inputs: a list of at least two tensors (arrays, or symbolic tensors of a model).
        **kwargs: the arguments of `Multiply`.

    Returns:
        The product of the inputs: an array, or a symbolic tensor if ``inputs`` are symbolic.
    """
    return Multiply(**kwargs)(inputs)
