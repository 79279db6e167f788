"""The Keras-style ``Permute`` layer: reorder the non-batch axes."""

from __future__ import annotations

from typing import Any

from .._base import Layer, check_single_input
from .._registry import register
from ._shapes import is_int


def check_dims(dims: Any) -> tuple[Any, ...]:
    """Keras' rule: a permutation of ``1..n`` (axis 0, the batch, stays in place)."""
    try:
        values = tuple(dims)
    except TypeError:
        raise ValueError(f"`dims` must be a tuple of integers, received dims={dims!r}") from None
    if not all(is_int(d) for d in values) or sorted(values) != list(range(1, len(values) + 1)):
        raise ValueError(
            "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
            f"consecutive and start from 1. Received dims={dims!r}"
        )
    return tuple(int(d) for d in values)


@register(numpy="scratchlstm._numpy.reshaping.permute", jax="scratchlstm.jax_backend.reshaping.permute")
class Permute(Layer):
    """Permutes the non-batch axes: output axis ``k`` is input axis ``dims[k - 1]``.

        y = transpose(x, (0, *dims))        e.g. dims=(2, 1): (B, T, F) -> (B, F, T)

    Masks are not passed on (as Keras).

    Args:
        dims: a permutation of ``1..n`` for inputs with ``n`` non-batch axes (indexing from 1).
        **kwargs: ``name``, ``dtype``, ``trainable``, ``input_shape``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Permute((2, 1))(np.zeros((32, 10, 64))).shape
        (32, 64, 10)
    """

    def __init__(self, dims: tuple[int, ...], **kwargs: Any) -> None:
        self.dims = check_dims(dims)
        super().__init__(**kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_single_input(self, input_shape, ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims}
