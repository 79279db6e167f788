"""The merge layers in JAX: pure forwards (gradients by autodiff) and the protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.merging``; each has ``layer_forward``
(DESIGN §7).
"""

from .add import add_forward
from .average import average_forward
from .concatenate import concatenate_forward, concatenate_mask
from .dot import batch_dot, dot_forward, l2_normalize
from .maximum import maximum_forward
from .minimum import minimum_forward
from .multiply import multiply_forward
from .subtract import subtract_forward

__all__ = [
    "add_forward",
    "average_forward",
    "batch_dot",
    "concatenate_forward",
    "concatenate_mask",
    "dot_forward",
    "l2_normalize",
    "maximum_forward",
    "minimum_forward",
    "multiply_forward",
    "subtract_forward",
]
