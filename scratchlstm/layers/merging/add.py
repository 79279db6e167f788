"""The Keras-style ``Add`` merge layer and its functional form `add`."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._merge import Merge


@register(numpy="scratchlstm._numpy.merging.add", jax="scratchlstm.jax_backend.merging.add")
class Add(Merge):
    """Elementwise sum of the inputs.

        y = x_1 + x_2 + ... + x_n

    Takes a list of at least two tensors ``(B, ...)`` whose non-batch shapes broadcast as in
    Keras (aligned on the right, size 1 stretches), and returns one tensor of the broadcast shape.
    Masks do not change the values (Keras); the output mask is the OR of the input masks.

    Args:
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Add()([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).tolist()
        [[4.0, 6.0]]
    """


def add(inputs: Any, **kwargs: Any) -> Any:
    """Functional form of `Add`: ``Add(**kwargs)(inputs)``.

    Args:
        inputs: a list of at least two tensors (arrays, or symbolic tensors of a model).
        **kwargs: the arguments of `Add`.

    Returns:
        The sum of the inputs: an array, or a symbolic tensor if ``inputs`` are symbolic.
    """
    return Add(**kwargs)(inputs)
