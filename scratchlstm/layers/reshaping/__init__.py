"""Keras' reshaping layers: `Flatten`, `Reshape`, `Permute`, `RepeatVector`.

They move values around without weights; none of them passes a mask on (as in Keras). They hold
configuration only: the math is in ``scratchlstm._numpy.reshaping`` and
``scratchlstm.jax_backend.reshaping``.
"""

from __future__ import annotations

from .flatten import Flatten
from .permute import Permute
from .repeat_vector import RepeatVector
from .reshape import Reshape

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]
