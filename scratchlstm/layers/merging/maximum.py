"""The Keras-style ``Maximum`` merge layer and its functional form `maximum`."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._merge import Merge


@register(numpy="scratchlstm._numpy.merging.maximum", jax="scratchlstm.jax_backend.merging.maximum")
class Maximum(Merge):
    """Elementwise maximum of the inputs.

        y = max(... max(max(x_1, x_2), x_3) ..., x_n)

    Takes a list of at least two tensors ``(B, ...)`` whose non-batch shapes broadcast as in
    Keras (aligned on the right, size 1 stretches), and returns one tensor of the broadcast shape.
    With masks (Keras): a masked step of an input does not compete (the running result passes
    through). The output mask is the OR of the input masks. At a tie the gradient is split
    evenly between the two operands of each pairwise max, as JAX's ``jnp.maximum`` does, so both
    backends agree.

    Args:
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Maximum()([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).tolist()
        [[3.0, 4.0]]
    """


def maximum(inputs: Any, **kwargs: Any) -> Any:
    """Functional form of `Maximum`: ``Maximum(**kwargs)(inputs)``.

    Args:
        inputs: a list of at least two tensors (arrays, or symbolic tensors of a model).
        **kwargs: the arguments of `Maximum`.

    Returns:
        The maximum of the inputs: an array, or a symbolic tensor if ``inputs`` are symbolic.
    """
    return Maximum(**kwargs)(inputs)
