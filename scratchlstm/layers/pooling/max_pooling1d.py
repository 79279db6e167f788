"""The Keras-style ``MaxPooling1D`` layer."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._pooling import Pooling1D


@register(numpy="scratchlstm._numpy.pooling.max_pooling1d", jax="scratchlstm.jax_backend.pooling.max_pooling1d")
class MaxPooling1D(Pooling1D):
    """Max over windows of ``pool_size`` steps: ``(B, T, C) -> (B, T_out, C)``.

        y[b, o, c] = max_{j < pool_size} x[b, o * strides + j - pad_before, c]

    With ``padding="same"`` padded steps never win (they are -inf). The gradient of each window
    goes to its first maximum (``jax.grad`` of Keras' JAX op does the same). Masks are dropped,
    as Keras (which warns).

    Args:
        pool_size: default 2.
        strides, padding, data_format, name, **kwargs: as for `Pooling1D`.

    Examples:
        >>> import numpy as np
        >>> MaxPooling1D()(np.array([1.0, 3.0, 2.0, 5.0, 4.0]).reshape(1, 5, 1)).ravel().tolist()
        [3.0, 5.0]
    """

    def __init__(self, pool_size: int = 2, strides: int | None = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)
