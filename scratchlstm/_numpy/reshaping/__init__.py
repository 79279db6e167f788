"""The reshaping layers in NumPy: pure forward/backward pairs and the layer protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.reshaping``; each has ``layer_forward``
and ``layer_backward`` (DESIGN §7). Their forwards return read-only views where NumPy can (a
reshape, a transpose), so no value is copied and none can be changed behind a later layer's back.
"""

from .flatten import FlattenCache, flatten_backward, flatten_forward
from .permute import PermuteCache, permute_backward, permute_forward
from .repeat_vector import repeat_vector_backward, repeat_vector_forward
from .reshape import ReshapeCache, reshape_backward, reshape_forward

__all__ = [
    "FlattenCache",
    "PermuteCache",
    "ReshapeCache",
    "flatten_backward",
    "flatten_forward",
    "permute_backward",
    "permute_forward",
    "repeat_vector_backward",
    "repeat_vector_forward",
    "reshape_backward",
    "reshape_forward",
]
