"""Keras' ``Attention`` (Luong) as a pure JAX function; the equations are those of
``scratchlstm._numpy.attention.attention``, gradients come from ``jax.grad``."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ._common import apply_scores, keep_mask, luong_inputs, luong_score_mask


def attention_scores(params: dict[str, Any], query: Any, key: Any, score_mode: str = "dot") -> Any:
    """``(B, Tq, Tv)`` scores: ``scale * query @ key^T`` (``"dot"``) or
    ``c * sum_d tanh(a * (query_i + key_j))`` (``"concat"``; ``a = scale`` or 1, ``c = concat_score_weight``)."""
    scale = params.get("scale")
    if score_mode == "dot":
        scores = query @ jnp.swapaxes(key, -1, -2)
        return scores if scale is None else scores * scale
    u = query[:, :, None, :] + key[:, None, :, :]  # (B, Tq, Tv, D)
    t = jnp.tanh(u if scale is None else scale * u)
    return params["concat_score_weight"] * t.sum(axis=-1)


def attention_forward(params: dict[str, Any], query: Any, value: Any, key: Any = None, *, score_mode: str = "dot",
                      query_mask: Any = None, value_mask: Any = None, use_causal_mask: bool = False, keep: Any = None,
                      rate: float = 0.0) -> tuple[Any, Any]:
    """Luong attention: ``(output (B, Tq, Dv), weights (B, Tq, Tv))``, arguments as the NumPy twin's.

    Args:
        params: ``{"scale": ()}`` and/or ``{"concat_score_weight": ()}``, or empty.
        query: ``(B, Tq, D)``.
        value: ``(B, Tv, Dv)``.
        key: ``(B, Tv, D)`` or ``None`` (then ``value``).
        score_mode: ``"dot"`` or ``"concat"``.
        query_mask: ``None`` or ``(B, Tq)``.
        value_mask: ``None`` or ``(B, Tv)``.
        use_causal_mask: query step ``i`` attends only to ``j <= i``.
        keep: ``None`` or a ``(B, Tq, Tv)`` bool dropout keep-mask.
        rate: the dropout rate.

    Returns:
        ``(output, weights)``; ``weights`` after dropout, as Keras returns them.
    """
    scores = attention_scores(params, query, value if key is None else key, score_mode)
    tq, tv = scores.shape[-2:]
    return apply_scores(scores, value, score_mask=luong_score_mask(value_mask, use_causal_mask, tq, tv),
                        query_mask=query_mask, keep=keep, rate=rate)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None, return_attention_scores: bool = False,
                  use_causal_mask: bool = False) -> tuple[Any, dict[str, Any]]:
    """`attention_forward` for an ``Attention`` layer (DESIGN §7): ``(output or [output, weights], state)``."""
    query, value, key_input, query_mask, value_mask = luong_inputs(layer, params, inputs, mask)
    keep = keep_mask(layer, (query.shape[0], query.shape[1], value.shape[1]), training=training, key=key)
    y, weights = attention_forward(params, query, value, key_input, score_mode=layer.score_mode,
                                   query_mask=query_mask, value_mask=value_mask, use_causal_mask=use_causal_mask,
                                   keep=keep, rate=layer.dropout)
    return ([y, weights] if return_attention_scores else y), state
