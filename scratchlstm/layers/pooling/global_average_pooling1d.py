"""The Keras-style ``GlobalAveragePooling1D`` layer."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._pooling import GlobalPooling1D


@register(numpy="scratchlstm._numpy.pooling.global_average_pooling1d",
          jax="scratchlstm.jax_backend.pooling.global_average_pooling1d")
class GlobalAveragePooling1D(GlobalPooling1D):
    """Mean over time: ``(B, T, C) -> (B, C)``, leaving masked steps out.

        y[b, c] = sum_t m[b, t] x[b, t, c] / sum_t m[b, t]

    With a mask (e.g. from ``Embedding(mask_zero=True)``) only the unmasked steps are averaged
    (a row with none gives NaN, as Keras); no mask comes out.

    Args:
        data_format, keepdims, **kwargs: as for `GlobalPooling1D`.

    Examples:
        >>> import numpy as np
        >>> GlobalAveragePooling1D()(np.array([1.0, 2.0, 6.0]).reshape(1, 3, 1)).tolist()
        [[3.0]]
    """

    supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The time axis is gone: no mask (Keras)."""
        return None
