"""The reshaping layers in JAX: pure forwards (gradients by autodiff) and the protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.reshaping``; each has ``layer_forward``
(DESIGN §7).
"""

from .flatten import flatten_forward
from .permute import permute_forward
from .repeat_vector import repeat_vector_forward
from .reshape import reshape_forward

__all__ = ["flatten_forward", "permute_forward", "repeat_vector_forward", "reshape_forward"]
