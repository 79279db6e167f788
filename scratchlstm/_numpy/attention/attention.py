"""Keras' ``Attention`` (Luong) as pure functions: forward and exact backward.

Shapes: ``query (B, Tq, D)``, ``key (B, Tv, D)`` (``value`` when not given), ``value (B, Tv, Dv)``.

Scores, ``score_mode="dot"`` (``scale`` a learned scalar with ``use_scale``, else absent)::

    r = query @ key^T                      (B, Tq, Tv)
    s = scale * r
    d r = scale * d s ;  d scale = sum(d s * r) ;  d query = d r @ key ;  d key = d r^T @ query

Scores, ``score_mode="concat"`` (``a = scale`` or 1, ``c = concat_score_weight``)::

    u[b, i, j, :] = query[b, i] + key[b, j]          (B, Tq, Tv, D)
    t = tanh(a * u) ;  s = c * sum_d t
    d t = c * d s (broadcast over d) ;  d g = d t * (1 - t^2)      (g = a * u)
    d c = sum(d s * sum_d t) ;  d a = sum(d g * u)
    d query = a * sum_j d g ;  d key = a * sum_i d g

Then `apply_scores_forward` (masked softmax, dropout, ``@ value``, query mask); with no
``key`` given, ``d value`` also receives ``d key``.
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


# --- scores ---------------------------------------------------------------------------------------
def dot_scores_forward(
    params: dict[str, NDArray[Any]], query: NDArray[Any], key: NDArray[Any],
) -> tuple[NDArray[Any], tuple[NDArray[Any], ...]]:
    """``s = scale * query @ key^T`` (no ``scale`` in ``params``: ``s = query @ key^T``).

    Args:
        params: may hold ``"scale"`` (a scalar).
        query: ``(B, Tq, D)``.
        key: ``(B, Tv, D)``.

    Returns:
        ``(s (B, Tq, Tv), cache)``.
    """
    raw = query @ np.swapaxes(key, -1, -2)  # (B, Tq, Tv)
    scale = params.get("scale")
    scores = raw if scale is None else raw * scale
    return scores, (query, key, raw)


def dot_scores_backward(
    params: dict[str, NDArray[Any]], cache: tuple[NDArray[Any], ...], d_scores: NDArray[Any],
) -> tuple[dict[str, NDArray[Any]], NDArray[Any], NDArray[Any]]:
    """Gradients of `dot_scores_forward`: ``(grads, d_query, d_key)``; ``grads`` may hold ``scale``."""
    query, key, raw = cache
    scale = params.get("scale")
    grads: dict[str, NDArray[Any]] = {}
    d_raw = d_scores
    if scale is not None:
        grads["scale"] = np.asarray(np.sum(d_scores * raw), dtype=raw.dtype)
        d_raw = d_scores * scale
    return grads, d_raw @ key, np.swapaxes(d_raw, -1, -2) @ query


def concat_scores_forward(
    params: dict[str, NDArray[Any]], query: NDArray[Any], key: NDArray[Any],
) -> tuple[NDArray[Any], tuple[NDArray[Any], ...]]:
    """``s = c * sum_d tanh(a * (query_i + key_j))`` with ``c = concat_score_weight``, ``a = scale`` or 1.

    Args:
        params: ``"concat_score_weight"`` (a scalar) and optionally ``"scale"`` (a scalar).
        query: ``(B, Tq, D)``.
        key: ``(B, Tv, D)``.

    Returns:
        ``(s (B, Tq, Tv), cache)``.
    """
    u = query[:, :, None, :] + key[:, None, :, :]  # (B, Tq, Tv, D)
    scale = params.get("scale")
    t = np.tanh(u if scale is None else scale * u)
    summed = t.sum(axis=-1)  # (B, Tq, Tv)
    return params["concat_score_weight"] * summed, (u, t, summed)


def concat_scores_backward(
    params: dict[str, NDArray[Any]], cache: tuple[NDArray[Any], ...], d_scores: NDArray[Any],
) -> tuple[dict[str, NDArray[Any]], NDArray[Any], NDArray[Any]]:
    """Gradients of `concat_scores_forward`: ``(grads, d_query, d_key)``."""
    u, t, summed = cache
    weight, scale = params["concat_score_weight"], params.get("scale")
    grads = {"concat_score_weight": np.asarray(np.sum(d_scores * summed), dtype=t.dtype)}
    d_g = (weight * d_scores)[..., None] * (1.0 - t * t)  # (B, Tq, Tv, D)
    if scale is not None:
        grads["scale"] = np.asarray(np.sum(d_g * u), dtype=t.dtype)
        d_g = scale * d_g
    return grads, d_g.sum(axis=2), d_g.sum(axis=1)


SCORES = {"dot": (dot_scores_forward, dot_scores_backward), "concat": (concat_scores_forward, concat_scores_backward)}


# --- the whole layer ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttentionCache:
    """The score mode and cache, the `ApplyScoresCache`, and whether a key was given."""

    score_mode: str
    scores: tuple[NDArray[Any], ...]
    apply: ApplyScoresCache
    has_key: bool


def attention_forward(
    params: dict[str, NDArray[Any]], query: NDArray[Any], value: NDArray[Any], key: NDArray[Any] | None = None, *,
    score_mode: str = "dot", query_mask: ArrayLike | None = None, value_mask: ArrayLike | None = None,
    use_causal_mask: bool = False, keep: NDArray[np.bool_] | None = None, rate: float = 0.0,
) -> tuple[NDArray[Any], NDArray[Any], AttentionCache]:
    """Luong attention: scores, masked softmax, dropout, weighted sum of values.

    Args:
        params: ``{"scale": ()}`` with ``use_scale``; ``{"concat_score_weight": ()}`` for
            ``score_mode="concat"``; may be empty.
        query: ``(B, Tq, D)``.
        value: ``(B, Tv, Dv)``.
        key: ``(B, Tv, D)`` or ``None`` (then ``value`` is the key).
        score_mode: ``"dot"`` or ``"concat"``.
        query_mask: ``None`` or ``(B, Tq)``: the output is 0 on masked query steps.
        value_mask: ``None`` or ``(B, Tv)``: masked value steps get ``-1e9`` added to their scores.
        use_causal_mask: query step ``i`` attends only to steps ``j <= i``.
        keep: ``None`` or a ``(B, Tq, Tv)`` bool dropout keep-mask for the weights.
        rate: the dropout rate.

    Returns:
        ``(output (B, Tq, Dv), weights (B, Tq, Tv), cache)``; ``weights`` after dropout.

    Examples:
        >>> import numpy as np
        >>> q = np.array([[[1.0, 0.0]]]); v = np.array([[[1.0, 0.0], [0.0, 1.0]]])
        >>> y, w, _ = attention_forward({}, q, v)
        >>> np.round(w, 3).tolist()
        [[[0.731, 0.269]]]
    """
    score_forward, _ = SCORES[score_mode]
    scores, score_cache = score_forward(params, query, value if key is None else key)
    tq, tv = scores.shape[-2:]
    score_mask = luong_score_mask(value_mask, use_causal_mask, tq, tv)
    y, weights, apply_cache = apply_scores_forward(scores, value, score_mask=score_mask, query_mask=query_mask,
                                                   keep=keep, rate=rate)
    return y, weights, AttentionCache(score_mode, score_cache, apply_cache, key is not None)


def attention_backward(
    params: dict[str, NDArray[Any]], cache: AttentionCache, d_output: NDArray[Any],
    d_weights: NDArray[Any] | None = None,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any], NDArray[Any], NDArray[Any] | None]:
    """Gradients of `attention_forward`.

    Args:
        params: the parameters of the forward call.
        cache: its cache.
        d_output: ``(B, Tq, Dv)``.
        d_weights: ``None`` or ``(B, Tq, Tv)``, the gradient reaching the returned weights.

    Returns:
        ``(grads, d_query, d_value, d_key)``: ``grads`` has the keys of ``params``; ``d_key`` is
        ``None`` when no key was given (its gradient is in ``d_value``).
    """
    d_scores, d_value = apply_scores_backward(cache.apply, d_output, d_weights)
    _, score_backward = SCORES[cache.score_mode]
    grads, d_query, d_key = score_backward(params, cache.scores, d_scores)
    if not cache.has_key:
        return grads, d_query, d_value + d_key, None
    return grads, d_query, d_value, d_key


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: Any = None, return_attention_scores: bool = False,
    use_causal_mask: bool = False,
) -> tuple[NDArray[Any] | list[NDArray[Any]], dict[str, NDArray[Any]], tuple[AttentionCache, bool]]:
    """`attention_forward` for an ``Attention`` layer: ``(output or [output, weights], state, cache)``."""
    query, value, key, query_mask, value_mask, _ = luong_inputs(layer, params, inputs, mask)
    shape = (query.shape[0], query.shape[1], value.shape[1])
    keep = attention_keep_mask(layer, shape, training=training, rng=rng)
    y, weights, cache = attention_forward(
        params, query, value, key, score_mode=layer.score_mode, query_mask=query_mask, value_mask=value_mask,
        use_causal_mask=use_causal_mask, keep=keep, rate=layer.dropout,
    )
    return ([y, weights] if return_attention_scores else y), state, (cache, return_attention_scores)


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: Any, d_outputs: Any, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`attention_backward` for an ``Attention`` layer: ``(grads, [d_query, d_value(, d_key)])``."""
    cache, returned_scores = cache
    d_output, d_weights = d_outputs if returned_scores else (d_outputs, None)
    grads, d_query, d_value, d_key = attention_backward(params, cache, d_output, d_weights)
    if not input_gradient:
        return grads, None
    return grads, [d_query, d_value] + ([] if d_key is None else [d_key])
