"""Keras' regularization layers: `Dropout`, `SpatialDropout1D`, `GaussianNoise`.

They act only when called with ``training=True`` (``fit`` does) and are the identity otherwise;
masks pass through. They hold configuration only: the math is in
``scratchlstm._numpy.regularization`` and ``scratchlstm.jax_backend.regularization``.
"""

from __future__ import annotations

from .dropout import Dropout
from .gaussian_noise import GaussianNoise
from .spatial_dropout1d import SpatialDropout1D

__all__ = ["Dropout", "GaussianNoise", "SpatialDropout1D"]
