"""The normalization layers in JAX: pure forwards (gradients by autodiff) and the protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.normalization``; each has
``layer_forward`` (DESIGN §7).
"""

from .batch_normalization import batch_normalization_forward
from .layer_normalization import layer_normalization_forward

__all__ = ["batch_normalization_forward", "layer_normalization_forward"]
