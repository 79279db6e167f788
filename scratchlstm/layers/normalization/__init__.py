"""Keras' normalization layers: `LayerNormalization` (per sample) and `BatchNormalization` (per
channel, with moving statistics as non-trainable state).

The classes hold configuration only: the math is in ``scratchlstm._numpy.normalization`` and
``scratchlstm.jax_backend.normalization``.
"""

from __future__ import annotations

from .batch_normalization import BatchNormalization
from .layer_normalization import LayerNormalization

__all__ = ["BatchNormalization", "LayerNormalization"]
