"""Keras' merge layers: several tensors in, one out (`Add`, `Concatenate`, `Dot`, ...).

Each class has a functional twin that builds the layer and calls it (``add([a, b])`` is
``Add()([a, b])``). They hold configuration only: the math is in ``scratchlstm._numpy.merging``
and ``scratchlstm.jax_backend.merging``.
"""

from __future__ import annotations

from ._merge import Merge
from .add import Add, add
from .average import Average, average
from .concatenate import Concatenate, concatenate
from .dot import Dot, dot
from .maximum import Maximum, maximum
from .minimum import Minimum, minimum
from .multiply import Multiply, multiply
from .subtract import Subtract, subtract

__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Merge",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]
