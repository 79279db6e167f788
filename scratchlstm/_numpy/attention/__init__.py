"""The attention layers in NumPy: pure forward/backward pairs and the layer protocol's adapters.

One module per layer, named as in ``scratchlstm.layers.attention``; each has ``layer_forward``
and ``layer_backward`` (DESIGN §7) next to the pure functions they call. ``_common`` holds the
masked softmax and the weighted sum shared by `Attention` and `AdditiveAttention`.
"""

from ._common import (
    apply_scores_backward,
    apply_scores_forward,
    causal_mask,
    masked_softmax_backward,
    masked_softmax_forward,
)
from .additive_attention import additive_attention_backward, additive_attention_forward
from .attention import attention_backward, attention_forward
from .multi_head_attention import combined_mask, multi_head_attention_backward, multi_head_attention_forward

__all__ = [
    "additive_attention_backward",
    "additive_attention_forward",
    "apply_scores_backward",
    "apply_scores_forward",
    "attention_backward",
    "attention_forward",
    "causal_mask",
    "combined_mask",
    "masked_softmax_backward",
    "masked_softmax_forward",
    "multi_head_attention_backward",
    "multi_head_attention_forward",
]
