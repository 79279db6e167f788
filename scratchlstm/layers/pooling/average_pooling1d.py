"""The Keras-style ``AveragePooling1D`` layer."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._pooling import Pooling1D


@register(numpy="scratchlstm._numpy.pooling.average_pooling1d",
          jax="scratchlstm.jax_backend.pooling.average_pooling1d")
class AveragePooling1D(Pooling1D):
    """Mean over windows of ``pool_size`` steps: ``(B, T, C) -> (B, T_out, C)``.

        y[b, o, c] = sum_j x[b, o * strides + j - pad_before, c] / n_o

    ``n_o`` counts the real steps of window ``o``: ``pool_size`` with ``padding="valid"``;
    with ``"same"`` the padding is not counted (as Keras). Masks are dropped, as Keras.

    Args:
        pool_size: required, as in Keras 3.
        strides, padding, data_format, name, **kwargs: as for `Pooling1D`.

    Examples:
        >>> import numpy as np
        >>> x = np.array([1.0, 3.0, 2.0, 6.0, 4.0]).reshape(1, 5, 1)
        >>> AveragePooling1D(2, padding="same")(x).ravel().tolist()
        [2.0, 4.0, 4.0]
    """

    def __init__(self, pool_size: int, strides: int | None = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)
