"""Keras' convolution layers (channels last): `Conv1D`.

The class holds configuration only: the math is in ``scratchlstm._numpy.convolutional`` and
``scratchlstm.jax_backend.convolutional``.
"""

from __future__ import annotations

from .conv1d import Conv1D

__all__ = ["Conv1D"]
