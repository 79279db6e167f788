"""The pooling layers in NumPy: pure forward/backward pairs and the layer protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.pooling``; each has ``layer_forward`` and
``layer_backward`` (DESIGN §7) next to the pure functions they call.
"""

from .average_pooling1d import average_pooling1d_backward, average_pooling1d_forward
from .global_average_pooling1d import global_average_pooling1d_backward, global_average_pooling1d_forward
from .global_max_pooling1d import global_max_pooling1d_backward, global_max_pooling1d_forward
from .max_pooling1d import max_pooling1d_backward, max_pooling1d_forward

__all__ = [
    "average_pooling1d_backward",
    "average_pooling1d_forward",
    "global_average_pooling1d_backward",
    "global_average_pooling1d_forward",
    "global_max_pooling1d_backward",
    "global_max_pooling1d_forward",
    "max_pooling1d_backward",
    "max_pooling1d_forward",
]
