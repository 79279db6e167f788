"""The attention layers in JAX: pure forwards (gradients by autodiff) and the protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.attention``; each has ``layer_forward``
(DESIGN §7).
"""

from ._common import apply_scores, causal_mask, masked_softmax
from .additive_attention import additive_attention_forward
from .attention import attention_forward
from .multi_head_attention import combined_mask, multi_head_attention_forward

__all__ = [
    "additive_attention_forward",
    "apply_scores",
    "attention_forward",
    "causal_mask",
    "combined_mask",
    "masked_softmax",
    "multi_head_attention_forward",
]
