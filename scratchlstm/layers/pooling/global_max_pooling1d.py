"""The Keras-style ``GlobalMaxPooling1D`` layer."""

from __future__ import annotations

from .._registry import register
from ._pooling import GlobalPooling1D


@register(numpy="scratchlstm._numpy.pooling.global_max_pooling1d",
          jax="scratchlstm.jax_backend.pooling.global_max_pooling1d")
class GlobalMaxPooling1D(GlobalPooling1D):
    """Max over time: ``(B, T, C) -> (B, C)``.

    Keras' layer does not support masks: masked steps take part in the maximum (Keras warns
    that the mask is dropped) and no mask comes out. Tied maxima share the gradient equally
    (``jax.grad`` of ``jnp.max``).

    Args:
        data_format, keepdims, **kwargs: as for `GlobalPooling1D`.

    Examples:
        >>> import numpy as np
        >>> GlobalMaxPooling1D()(np.array([[1.0, -1.0], [3.0, -2.0]]).reshape(1, 2, 2)).tolist()
        [[3.0, -1.0]]
    """
