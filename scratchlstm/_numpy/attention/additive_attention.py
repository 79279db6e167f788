"""Keras' ``AdditiveAttention`` (Bahdanau) as pure functions: forward and exact backward.

Shapes: ``query (B, Tq, D)``, ``key (B, Tv, D)`` (``value`` when not given), ``value (B, Tv, Dv)``,
``scale (D,)`` (all ones without ``use_scale``)::

    t[b, i, j, :] = tanh(query[b, i] + key[b, j])          (B, Tq, Tv, D)
    s = t @ scale                                          (B, Tq, Tv)
    d scale = sum_{b,i,j} d s[b, i, j] t[b, i, j, :]
    d u = d s[..., None] * scale * (1 - t^2)               (u = query_i + key_j)
    d query = sum_j d u ;  d key = sum_i d u

Then `apply_scores_forward` (masked softmax, dropout, ``@ value``, query mask), as in
``Attention``; with no ``key`` given, ``d value`` also receives ``d key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._common import (
    ApplyScoresCache,
    apply_scores_backward,
    apply_scores_forward,
    attention_keep_mask,
    luong_inputs,
    luong_score_mask,
)


def additive_scores_forward(
    params: dict[str, NDArray[Any]], query: NDArray[Any], key: NDArray[Any],
) -> tuple[NDArray[Any], NDArray[Any]]:
    """``s[b, i, j] = sum_d scale_d tanh(query[b, i, d] + key[b, j, d])``.

    Args:
        params: ``{"scale": (D,)}``, or empty (every ``scale_d`` is 1).
        query: ``(B, Tq, D)``.
        key: ``(B, Tv, D)``.

    Returns:
        ``(s (B, Tq, Tv), cache)``.
    """
    t = np.tanh(query[:, :, None, :] + key[:, None, :, :])  # (B, Tq, Tv, D)
    scale = params.get("scale")
    scores = t.sum(axis=-1) if scale is None else t @ scale
    return scores, t


def additive_scores_backward(
    params: dict[str, NDArray[Any]], t: NDArray[Any], d_scores: NDArray[Any],
) -> tuple[dict[str, NDArray[Any]], NDArray[Any], NDArray[Any]]:
    """Gradients of `additive_scores_forward`: ``(grads, d_query, d_key)``."""
    scale = params.get("scale")
    grads: dict[str, NDArray[Any]] = {}
    if scale is None:
        d_t = np.broadcast_to(d_scores[..., None], t.shape)
    else:
        features = t.shape[-1]
        grads["scale"] = t.reshape(-1, features).T @ d_scores.reshape(-1)  # (D,)
        d_t = d_scores[..., None] * scale
    d_u = d_t * (1.0 - t * t)  # (B, Tq, Tv, D)
    return grads, d_u.sum(axis=2), d_u.sum(axis=1)


@dataclass(frozen=True)
class AdditiveAttentionCache:
    """``t = tanh(query_i + key_j)``, the `ApplyScoresCache`, and whether a key was given."""

    t: NDArray[Any]
    apply: ApplyScoresCache
    has_key: bool


def additive_attention_forward(
    params: dict[str, NDArray[Any]], query: NDArray[Any], value: NDArray[Any], key: NDArray[Any] | None = None, *,
    query_mask: ArrayLike | None = None, value_mask: ArrayLike | None = None, use_causal_mask: bool = False,
    keep: NDArray[np.bool_] | None = None, rate: float = 0.0,
) -> tuple[NDArray[Any], NDArray[Any], AdditiveAttentionCache]:
    """Bahdanau attention: additive scores, masked softmax, dropout, weighted sum of values.

    Args:
        params: ``{"scale": (D,)}`` or empty.
        query: ``(B, Tq, D)``.
        value: ``(B, Tv, Dv)``.
        key: ``(B, Tv, D)`` or ``None`` (then ``value`` is the key).
        query_mask: ``None`` or ``(B, Tq)``: the output is 0 on masked query steps.
        value_mask: ``None`` or ``(B, Tv)``: masked value steps get ``-1e9`` added to their scores.
        use_causal_mask: query step ``i`` attends only to steps ``j <= i``.
        keep: ``None`` or a ``(B, Tq, Tv)`` bool dropout keep-mask for the weights.
        rate: the dropout rate.

    Returns:
        ``(output (B, Tq, Dv), weights (B, Tq, Tv), cache)``; ``weights`` after dropout.
    """
    scores, t = additive_scores_forward(params, query, value if key is None else key)
    tq, tv = scores.shape[-2:]
    score_mask = luong_score_mask(value_mask, use_causal_mask, tq, tv)
    y, weights, apply_cache = apply_scores_forward(scores, value, score_mask=score_mask, query_mask=query_mask,
                                                   keep=keep, rate=rate)
    return y, weights, AdditiveAttentionCache(t, apply_cache, key is not None)


def additive_attention_backward(
    params: dict[str, NDArray[Any]], cache: AdditiveAttentionCache, d_output: NDArray[Any],
    d_weights: NDArray[Any] | None = None,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    """Gradients of `additive_attention_forward`.

    Args:
        params: the parameters of the forward call.
        cache: its cache.
        d_output: ``(B, Tq, Dv)``.
        d_weights: ``None`` or ``(B, Tq, Tv)``, the gradient reaching the returned weights.

    Returns:
        ``(grads, d_query, d_value, d_key)``; ``d_key`` is ``None`` when no key was given.
    """
    d_scores, d_value = apply_scores_backward(cache.apply, d_output, d_weights)
    grads, d_query, d_key = additive_scores_backward(params, cache.t, d_scores)
    if not cache.has_key:
        return grads, d_query, d_value + d_key, None
    return grads, d_query, d_value, d_key


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: Any = None, return_attention_scores: bool = False,
    use_causal_mask: bool = False,
) -> tuple[NDArray[Any] | list[NDArray[Any]], dict[str, NDArray[Any]], tuple[AdditiveAttentionCache, bool]]:
    """`additive_attention_forward` for an ``AdditiveAttention`` layer: ``(output(s), state, cache)``."""
    query, value, key, query_mask, value_mask, _ = luong_inputs(layer, params, inputs, mask)
    keep = attention_keep_mask(layer, (query.shape[0], query.shape[1], value.shape[1]), training=training, rng=rng)
    y, weights, cache = additive_attention_forward(
        params, query, value, key, query_mask=query_mask, value_mask=value_mask, use_causal_mask=use_causal_mask,
        keep=keep, rate=layer.dropout,
    )
    return ([y, weights] if return_attention_scores else y), state, (cache, return_attention_scores)


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: Any, d_outputs: Any, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`additive_attention_backward` for an ``AdditiveAttention`` layer: ``(grads, d_inputs)``."""
    cache, returned_scores = cache
    d_output, d_weights = d_outputs if returned_scores else (d_outputs, None)
    grads, d_query, d_value, d_key = additive_attention_backward(params, cache, d_output, d_weights)
    if not input_gradient:
        return grads, None
    return grads, [d_query, d_value] + ([] if d_key is None else [d_key])
