"""Keras' ``MultiHeadAttention`` as a pure JAX function; the equations are those of
``scratchlstm._numpy.attention.multi_head_attention``, gradients come from ``jax.grad``."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from ...layers.attention._common import check_padding_mask, kind, split_masks
from ..rnn.lstm import compute_dtype
from ._common import as_bool_mask, causal_mask, drop, keep_mask, masked_softmax


def project(x: Any, kernel: Any, bias: Any = None) -> Any:
    """``x (B, T, D) @ kernel (D, N, H) + bias (N, H)`` split into heads: ``(B, N, T, H)``."""
    y = jnp.einsum("btd,dnh->bnth", x, kernel)
    return y if bias is None else y + bias[None, :, None, :]


def combined_mask(query_steps: int, key_steps: int, *, attention_mask: Any = None, query_mask: Any = None,
                  value_mask: Any = None, key_mask: Any = None, use_causal_mask: bool = False) -> Any:
    """Keras' attention mask (the AND of every mask given) broadcasting to ``(B, N, T, S)``, or ``None``.

    Args:
        query_steps, key_steps: ``T`` and ``S``.
        attention_mask: ``(B, T, S)`` or ``(B, 1 or N, T, S)``; nonzero = may attend.
        query_mask: ``(B, T)``.
        value_mask, key_mask: ``(B, S)``.
        use_causal_mask: AND ``t >= u``.

    Returns:
        a bool array or ``None``.
    """
    parts = []
    if query_mask is not None:
        parts.append(as_bool_mask(query_mask)[:, None, :, None])
    parts += [as_bool_mask(m)[:, None, None, :] for m in (value_mask, key_mask) if m is not None]
    if use_causal_mask:
        parts.append(causal_mask(query_steps, key_steps)[None, None])
    if attention_mask is not None:
        attention = as_bool_mask(attention_mask)
        parts.append(attention[:, None] if attention.ndim == 3 else attention)
    mask = None
    for part in parts:
        mask = part if mask is None else mask & part
    return mask


def multi_head_attention_forward(params: dict[str, Any], query: Any, value: Any, key: Any = None, *, mask: Any = None,
                                 zero_masked_rows: bool = False, keep: Any = None,
                                 rate: float = 0.0) -> tuple[Any, Any]:
    """Multi-head scaled dot-product attention: ``(output (B, T, *out), scores (B, N, T, S))``.

    Args:
        params: Keras' eight weights (four without biases), as the NumPy twin's.
        query: ``(B, T, Dq)``.
        value: ``(B, S, Dv)``.
        key: ``(B, S, Dk)`` or ``None`` (then ``value``).
        mask: ``None`` or bool broadcasting to ``(B, N, T, S)`` (see `combined_mask`).
        zero_masked_rows: zero masked weights after the softmax (Keras' explicit path).
        keep: ``None`` or a ``(B, N, T, S)`` bool dropout keep-mask.
        rate: the dropout rate.

    Returns:
        ``(output, scores)``; ``scores`` before dropout, as Keras returns them.
    """
    dtype = compute_dtype(query, value, key, *params.values())
    query, value = jnp.asarray(query, dtype), jnp.asarray(value, dtype)
    key = value if key is None else jnp.asarray(key, dtype)
    key_dim = params["query_kernel"].shape[-1]
    q = project(query, params["query_kernel"], params.get("query_bias")) * (1.0 / math.sqrt(float(key_dim)))
    k = project(key, params["key_kernel"], params.get("key_bias"))
    v = project(value, params["value_kernel"], params.get("value_bias"))
    scores = q @ jnp.swapaxes(k, -1, -2)  # (B, N, T, S)
    p = masked_softmax(scores, mask, fill="replace", zero_masked=zero_masked_rows)
    context = drop(p, keep, rate) @ v  # (B, N, T, V)
    kernel = params["attention_output_kernel"]
    heads, size = kernel.shape[:2]
    flat = jnp.transpose(context, (0, 2, 1, 3)).reshape(context.shape[0], context.shape[2], heads * size)
    y = (flat @ kernel.reshape(heads * size, -1)).reshape(*flat.shape[:2], *kernel.shape[2:])
    bias = params.get("attention_output_bias")
    return (y if bias is None else y + bias), p


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None, return_attention_scores: bool = False,
                  use_causal_mask: bool = False) -> tuple[Any, dict[str, Any]]:
    """`multi_head_attention_forward` for a ``MultiHeadAttention`` layer (DESIGN §7): ``(output(s), state)``."""
    if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 4:
        got = f"{len(inputs)} inputs" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
        raise ValueError(f"{kind(layer)} takes [query, value(, key(, attention_mask))]; got {got}")
    shapes = [tuple(np.shape(x)) for x in inputs]
    layer.validate_input_shape(shapes)
    query_mask, value_mask, key_mask, _ = split_masks(layer, mask, 4)
    check_padding_mask(layer, query_mask, shapes[0], "query")
    check_padding_mask(layer, value_mask, shapes[1], "value")
    check_padding_mask(layer, key_mask, shapes[2] if len(shapes) > 2 else shapes[1], "key")
    combined = combined_mask(shapes[0][1], shapes[1][1], attention_mask=inputs[3] if len(inputs) > 3 else None,
                             query_mask=query_mask, value_mask=value_mask, key_mask=key_mask,
                             use_causal_mask=use_causal_mask)
    keep = keep_mask(layer, (shapes[0][0], layer.num_heads, shapes[0][1], shapes[1][1]), training=training, key=key)
    y, scores = multi_head_attention_forward(
        params, inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None, mask=combined,
        zero_masked_rows=layer.dropout > 0 or return_attention_scores, keep=keep, rate=layer.dropout,
    )
    return ([y, scores] if return_attention_scores else y), state
