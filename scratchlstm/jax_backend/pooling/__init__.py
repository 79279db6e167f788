"""The pooling layers as pure JAX functions, one module per layer (``layer_forward`` in each)."""

from .average_pooling1d import average_pooling1d_forward
from .global_average_pooling1d import global_average_pooling1d_forward
from .global_max_pooling1d import global_max_pooling1d_forward
from .max_pooling1d import max_pooling1d_forward

__all__ = [
    "average_pooling1d_forward",
    "global_average_pooling1d_forward",
    "global_max_pooling1d_forward",
    "max_pooling1d_forward",
]
