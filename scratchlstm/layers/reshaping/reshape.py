"""The Keras-style ``Reshape`` layer: a new shape for every sample, the batch axis kept."""

from __future__ import annotations

from typing import Any

from .._base import Layer, check_single_input
from .._registry import register
from ._shapes import is_int, resolve_target_shape


def check_target_shape(target_shape: Any) -> tuple[Any, ...]:
    """Keras' rule: a tuple of non-negative ints with at most one ``-1``."""
    try:
        dims = tuple(target_shape)
    except TypeError:
        raise ValueError(
            f"`target_shape` must be a tuple of integers (without the batch axis), received {target_shape!r}"
        ) from None
    for dim in dims:
        if not is_int(dim):
            raise ValueError(
                f"Each dimension in `target_shape` must be an integer, received target_shape={target_shape!r} "
                f"with {dim!r} ({type(dim).__name__})"
            )
        if dim < -1:
            raise ValueError(
                "Each dimension in `target_shape` must be a non-negative integer, or `-1` for a single unknown "
                f"dimension. Received: target_shape={dims}."
            )
    if dims.count(-1) > 1:
        raise ValueError(f"There must be at most one unknown dimension (-1) in `target_shape`. Received: {dims}.")
    return tuple(int(d) for d in dims)


@register(numpy="scratchlstm._numpy.reshaping.reshape", jax="scratchlstm.jax_backend.reshaping.reshape")
class Reshape(Layer):
    """Reshapes each sample to ``target_shape``: ``(B, ...) -> (B, *target_shape)``.

    One entry of ``target_shape`` may be ``-1``: it takes the size left over. The values keep
    their row-major (C) order. Masks are not passed on (as Keras).

    Args:
        target_shape: tuple of ints without the batch axis; at most one ``-1``.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``input_shape``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Reshape((3, 4))(np.zeros((2, 12))).shape
        (2, 3, 4)
        >>> Reshape((-1, 2, 2))(np.zeros((2, 12))).shape
        (2, 3, 2, 2)
    """

    def __init__(self, target_shape: tuple[int, ...], **kwargs: Any) -> None:
        self.target_shape = check_target_shape(target_shape)
        super().__init__(**kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_single_input(self, input_shape, min_ndim=1)
        resolve_target_shape(tuple(input_shape[1:]), self.target_shape)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return (input_shape[0], *resolve_target_shape(tuple(input_shape[1:]), self.target_shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}
