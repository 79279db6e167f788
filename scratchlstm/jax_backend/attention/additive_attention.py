"""Keras' ``AdditiveAttention`` (Bahdanau) as a pure JAX function; the equations are those of
``scratchlstm._numpy.attention.additive_attention``, gradients come from ``jax.grad``."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ._common import apply_scores, keep_mask, luong_inputs, luong_score_mask


def additive_scores(params: dict[str, Any], query: Any, key: Any) -> Any:
    """``s[b, i, j] = sum_d scale_d tanh(query[b, i, d] + key[b, j, d])`` (``scale`` all ones if absent)."""
    t = jnp.tanh(query[:, :, None, :] + key[:, None, :, :])  # (B, Tq, Tv, D)
    scale = params.get("scale")
    return t.sum(axis=-1) if scale is None else t @ scale


def additive_attention_forward(params: dict[str, Any], query: Any, value: Any, key: Any = None, *,
                               query_mask: Any = None, value_mask: Any = None, use_causal_mask: bool = False,
                               keep: Any = None, rate: float = 0.0) -> tuple[Any, Any]:
    """Bahdanau attention: ``(output (B, Tq, Dv), weights (B, Tq, Tv))``, arguments as the NumPy twin's.

    Args:
        params: ``{"scale": (D,)}`` or empty.
        query: ``(B, Tq, D)``.
        value: ``(B, Tv, Dv)``.
        key: ``(B, Tv, D)`` or ``None`` (then ``value``).
        query_mask: ``None`` or ``(B, Tq)``.
        value_mask: ``None`` or ``(B, Tv)``.
        use_causal_mask: query step ``i`` attends only to ``j <= i``.
        keep: ``None`` or a ``(B, Tq, Tv)`` bool dropout keep-mask.
        rate: the dropout rate.

    Returns:
        ``(output, weights)``; ``weights`` after dropout.
    """
    scores = additive_scores(params, query, value if key is None else key)
    tq, tv = scores.shape[-2:]
    return apply_scores(scores, value, score_mask=luong_score_mask(value_mask, use_causal_mask, tq, tv),
                        query_mask=query_mask, keep=keep, rate=rate)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None, return_attention_scores: bool = False,
                  use_causal_mask: bool = False) -> tuple[Any, dict[str, Any]]:
    """`additive_attention_forward` for an ``AdditiveAttention`` layer (DESIGN §7): ``(output(s), state)``."""
    query, value, key_input, query_mask, value_mask = luong_inputs(layer, params, inputs, mask)
    keep = keep_mask(layer, (query.shape[0], query.shape[1], value.shape[1]), training=training, key=key)
    y, weights = additive_attention_forward(params, query, value, key_input, query_mask=query_mask,
                                            value_mask=value_mask, use_causal_mask=use_causal_mask, keep=keep,
                                            rate=layer.dropout)
    return ([y, weights] if return_attention_scores else y), state
