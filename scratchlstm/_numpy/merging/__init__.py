"""The merge layers in NumPy: pure forward/backward pairs and the layer protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.merging``; each has ``layer_forward`` and
``layer_backward`` (DESIGN §7) next to the pure functions they call.
"""

from .add import add_backward, add_forward
from .average import average_backward, average_forward
from .concatenate import concatenate_backward, concatenate_forward, concatenate_mask
from .dot import (
    batch_dot_backward,
    batch_dot_forward,
    dot_backward,
    dot_forward,
    l2_normalize_backward,
    l2_normalize_forward,
    resolve_axes,
)
from .maximum import maximum_backward, maximum_forward
from .minimum import minimum_backward, minimum_forward
from .multiply import multiply_backward, multiply_forward
from .subtract import subtract_backward, subtract_forward

__all__ = [
    "add_backward",
    "add_forward",
    "average_backward",
    "average_forward",
    "batch_dot_backward",
    "batch_dot_forward",
    "concatenate_backward",
    "concatenate_forward",
    "concatenate_mask",
    "dot_backward",
    "dot_forward",
    "l2_normalize_backward",
    "l2_normalize_forward",
    "maximum_backward",
    "maximum_forward",
    "minimum_backward",
    "minimum_forward",
    "multiply_backward",
    "multiply_forward",
    "resolve_axes",
    "subtract_backward",
    "subtract_forward",
]
