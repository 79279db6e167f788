"""Keras' 1-D pooling layers: `MaxPooling1D`, `AveragePooling1D`, `GlobalAveragePooling1D`,
`GlobalMaxPooling1D`. They hold configuration only: the math is in ``scratchlstm._numpy.pooling``
and ``scratchlstm.jax_backend.pooling``.
"""

from __future__ import annotations

from .average_pooling1d import AveragePooling1D
from .global_average_pooling1d import GlobalAveragePooling1D
from .global_max_pooling1d import GlobalMaxPooling1D
from .max_pooling1d import MaxPooling1D

# Keras' aliases
AvgPool1D = AveragePooling1D
MaxPool1D = MaxPooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D

__all__ = [
    "AvgPool1D",
    "AveragePooling1D",
    "GlobalAvgPool1D",
    "GlobalAveragePooling1D",
    "GlobalMaxPool1D",
    "GlobalMaxPooling1D",
    "MaxPool1D",
    "MaxPooling1D",
]
