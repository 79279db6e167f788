"""The Keras-style ``Flatten`` layer: every non-batch axis into one."""

from __future__ import annotations

import math
from typing import Any

from .._base import Layer, check_single_input
from .._registry import register


def check_data_format(data_format: Any) -> str:
    """``"channels_last"`` (the default, for ``None``) or ``"channels_first"``, as Keras standardizes it."""
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}"
        )
    return value


@register(numpy="scratchlstm._numpy.reshaping.flatten", jax="scratchlstm.jax_backend.reshaping.flatten")
class Flatten(Layer):
    """Flattens the input; the batch axis is kept: ``(B, d1, ..., dk) -> (B, d1 * ... * dk)``.

    A ``(B,)`` input becomes ``(B, 1)``. With ``data_format="channels_first"`` the channel axis
    (axis 1) is moved last first, so the result equals a ``"channels_last"`` flatten of the same
    data stored the other way. Masks are not passed on (Keras' ``Flatten`` does not support them).

    Args:
        data_format: ``"channels_last"`` (default, for ``None``) or ``"channels_first"``.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``input_shape``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Flatten()(np.zeros((32, 10, 64))).shape
        (32, 640)
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        self.data_format = check_data_format(data_format)
        super().__init__(**kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_single_input(self, input_shape, min_ndim=1)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        dims = tuple(input_shape[1:])
        if not dims:
            return (input_shape[0], 1)
        return (input_shape[0], None if None in dims else math.prod(dims))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}
