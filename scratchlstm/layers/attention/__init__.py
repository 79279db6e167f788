"""Keras' attention layers: `Attention` (Luong, dot-product), `AdditiveAttention` (Bahdanau) and
`MultiHeadAttention` (Vaswani et al.).

Each can return its attention weights (``return_attention_scores=True``) for plotting. The
classes hold configuration and weights only: the math (with a hand-written backward) is in
``scratchlstm._numpy.attention``, and its JAX twin in ``scratchlstm.jax_backend.attention``.
"""

from __future__ import annotations

from .additive_attention import AdditiveAttention
from .attention import Attention
from .multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "MultiHeadAttention"]
