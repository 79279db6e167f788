"""The normalization layers in NumPy: pure forward/backward pairs and the layer protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.normalization``; each has
``layer_forward`` and ``layer_backward`` (DESIGN §7) next to the pure functions they call.
"""

from .batch_normalization import batch_moments, batch_normalization_backward, batch_normalization_forward
from .layer_normalization import layer_normalization_backward, layer_normalization_forward

__all__ = [
    "batch_moments",
    "batch_normalization_backward",
    "batch_normalization_forward",
    "layer_normalization_backward",
    "layer_normalization_forward",
]
