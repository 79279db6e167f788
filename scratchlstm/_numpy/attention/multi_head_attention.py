"""Keras' ``MultiHeadAttention`` as pure functions: forward and exact backward.

Shapes: ``query (B, T, Dq)``, ``value (B, S, Dv)``, ``key (B, S, Dk)``; ``N`` heads of size ``K``
(query/key) and ``V`` (value); ``O`` the output features (``prod(output_shape)``, default ``Dq``).
Every projection is one GEMM over all ``B * T`` (or ``B * S``) rows::

    Q  = query @ Wq + bq     -> (B, N, T, K)       Wq: (Dq, N, K) used as (Dq, N*K)
    Kp = key   @ Wk + bk     -> (B, N, S, K)
    Vp = value @ Wv + bv     -> (B, N, S, V)
    Qs = Q / sqrt(K)
    s  = Qs @ Kp^T           (B, N, T, S)
    p  = softmax_u(where(M, s, -1e9))  [then p = 0 where not M, see zero_masked_rows]
    w  = keep * p / (1 - rate)         (dropout, training only)
    C  = w @ Vp              (B, N, T, V) -> (B, T, N*V)
    y  = C @ Wo + bo         (B, T, O)          Wo: (N, V, O) used as (N*V, O)

Backward, from ``d y`` (and ``d p`` when the scores are returned)::

    d Wo = C^T @ d y ;  d bo = sum d y ;  d C = d y @ Wo^T
    d w  = d C @ Vp^T ;  d Vp = w^T @ d C
    d p  = keep * d w / (1 - rate) (+ d p returned)
    d s  = M * p * (d p - sum_u p d p)              (a masked score is the constant -1e9)
    d Qs = d s @ Kp ;  d Q = d Qs / sqrt(K) ;  d Kp = d s^T @ Qs
    d W  = x^T @ d P ;  d b = sum d P ;  d x = d P @ W^T     for each projection (x, W, P)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import compute_dtype
from ..regularization.dropout import draw_dropout_mask
from ...layers.attention._common import check_padding_mask, kind, split_masks
from ._common import as_bool_mask, causal_mask, masked_softmax_backward, masked_softmax_forward


# --- projections ------------------------------------------------------------------------------------
def project_forward(x: NDArray[Any], kernel: NDArray[Any], bias: NDArray[Any] | None = None) -> NDArray[Any]:
    """``x @ kernel + bias`` split into heads.

    Args:
        x: ``(B, T, D)``.
        kernel: ``(D, N, H)``.
        bias: ``(N, H)`` or ``None``.

    Returns:
        ``(B, N, T, H)``.
    """
    batch, steps, features = x.shape
    _, heads, size = kernel.shape
    projected: NDArray[Any] = x.reshape(-1, features) @ kernel.reshape(features, heads * size)  # (B*T, N*H)
    if bias is not None:
        projected += bias.reshape(-1)
    split: NDArray[Any] = projected.reshape(batch, steps, heads, size).transpose(0, 2, 1, 3)  # (B, N, T, H)
    return split


def project_backward(
    x: NDArray[Any], kernel: NDArray[Any], d_projected: NDArray[Any], *, with_bias: bool = True,
    input_gradient: bool = True,
) -> tuple[NDArray[Any], NDArray[Any] | None, NDArray[Any] | None]:
    """Gradients of `project_forward`.

    Args:
        x: ``(B, T, D)``, its input.
        kernel: ``(D, N, H)``.
        d_projected: ``(B, N, T, H)``.
        with_bias: whether there was a bias.
        input_gradient: whether to compute ``d_x``.

    Returns:
        ``(d_kernel (D, N, H), d_bias (N, H) or None, d_x (B, T, D) or None)``.
    """
    features, heads, size = kernel.shape
    d_flat = d_projected.transpose(0, 2, 1, 3).reshape(-1, heads * size)  # (B*T, N*H)
    d_kernel = (x.reshape(-1, features).T @ d_flat).reshape(kernel.shape)
    d_bias = d_flat.sum(axis=0).reshape(heads, size) if with_bias else None
    d_x = (d_flat @ kernel.reshape(features, -1).T).reshape(x.shape) if input_gradient else None
    return d_kernel, d_bias, d_x


# --- masks ------------------------------------------------------------------------------------------
def combined_mask(
    query_steps: int, key_steps: int, *, attention_mask: ArrayLike | None = None, query_mask: ArrayLike | None = None,
    value_mask: ArrayLike | None = None, key_mask: ArrayLike | None = None, use_causal_mask: bool = False,
) -> NDArray[np.bool_] | None:
    """Keras' attention mask: the AND of every mask given, or ``None``.

    Args:
        query_steps, key_steps: ``T`` and ``S``.
        attention_mask: ``(B, T, S)`` or ``(B, 1 or N, T, S)``; nonzero = may attend.
        query_mask: ``(B, T)`` (rows).
        value_mask, key_mask: ``(B, S)`` (columns).
        use_causal_mask: AND ``t >= u``.

    Returns:
        ``None`` or a bool array broadcasting to ``(B, N, T, S)``.
    """
    mask = None

    def both(a: NDArray[np.bool_] | None, b: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return b if a is None else a & b

    if query_mask is not None:
        mask = both(mask, as_bool_mask(query_mask)[:, None, :, None])
    for columns in (value_mask, key_mask):
        if columns is not None:
            mask = both(mask, as_bool_mask(columns)[:, None, None, :])
    if use_causal_mask:
        mask = both(mask, causal_mask(query_steps, key_steps)[None, None])
    if attention_mask is not None:
        attention = as_bool_mask(attention_mask)
        mask = both(mask, attention[:, None] if attention.ndim == 3 else attention)
    return mask


# --- the whole layer ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MultiHeadAttentionCache:
    """Inputs, projections, softmax output ``p``, dropped-out ``w``, context ``C`` and masks."""

    query: NDArray[Any]
    value: NDArray[Any]
    key: NDArray[Any]
    has_key: bool
    scaled_query: NDArray[Any]
    projected_key: NDArray[Any]
    projected_value: NDArray[Any]
    probabilities: NDArray[Any]
    weights: NDArray[Any]
    keep: NDArray[np.bool_] | None
    rate: float
    mask: NDArray[np.bool_] | None
    context: NDArray[Any]


def multi_head_attention_forward(
    params: dict[str, NDArray[Any]], query: ArrayLike, value: ArrayLike, key: ArrayLike | None = None, *,
    mask: NDArray[np.bool_] | None = None, zero_masked_rows: bool = False, keep: NDArray[np.bool_] | None = None,
    rate: float = 0.0,
) -> tuple[NDArray[Any], NDArray[Any], MultiHeadAttentionCache]:
    """Multi-head scaled dot-product attention with Keras' weights.

    Args:
        params: ``query_kernel (Dq, N, K)``, ``key_kernel (Dk, N, K)``, ``value_kernel (Dv, N, V)``,
            ``attention_output_kernel (N, V, *out)`` and, with biases, ``query_bias (N, K)``,
            ``key_bias (N, K)``, ``value_bias (N, V)``, ``attention_output_bias (*out,)``.
        query: ``(B, T, Dq)``.
        value: ``(B, S, Dv)``.
        key: ``(B, S, Dk)`` or ``None`` (then ``value`` is the key).
        mask: ``None`` or bool broadcasting to ``(B, N, T, S)`` (see `combined_mask`).
        zero_masked_rows: zero the weights of masked entries after the softmax (Keras' explicit
            path), so a row with every key masked attends to nothing; otherwise such a row is
            uniform (Keras' fused path).
        keep: ``None`` or a ``(B, N, T, S)`` bool dropout keep-mask for the weights.
        rate: the dropout rate.

    Returns:
        ``(output (B, T, *out), scores (B, N, T, S), cache)``; ``scores`` are ``p``, before
        dropout, as Keras returns them.
    """
    dtype = compute_dtype(query, value, key, *params.values())
    query, value = np.asarray(query, dtype), np.asarray(value, dtype)
    has_key = key is not None
    key = np.asarray(key, dtype) if has_key else value
    key_dim = params["query_kernel"].shape[-1]
    q = project_forward(query, params["query_kernel"], params.get("query_bias"))  # (B, N, T, K)
    scaled_query = q * dtype.type(1.0 / math.sqrt(float(key_dim)))
    k = project_forward(key, params["key_kernel"], params.get("key_bias"))  # (B, N, S, K)
    v = project_forward(value, params["value_kernel"], params.get("value_bias"))  # (B, N, S, V)
    scores = scaled_query @ np.swapaxes(k, -1, -2)  # (B, N, T, S)
    p = masked_softmax_forward(scores, mask, fill="replace", zero_masked=zero_masked_rows)
    w = p if keep is None else (np.zeros_like(p) if rate >= 1 else np.where(keep, p / (1.0 - rate), 0).astype(dtype))
    context = w @ v  # (B, N, T, V)
    batch, heads, steps, size = context.shape
    flat_context = context.transpose(0, 2, 1, 3).reshape(batch * steps, heads * size)  # (B*T, N*V)
    kernel = params["attention_output_kernel"]
    out_shape = kernel.shape[2:]
    y = flat_context @ kernel.reshape(heads * size, -1)  # (B*T, O)
    if params.get("attention_output_bias") is not None:
        y += params["attention_output_bias"].reshape(-1)
    y = y.reshape(batch, steps, *out_shape)
    cache = MultiHeadAttentionCache(query, value, key, has_key, scaled_query, k, v, p, w, keep, float(rate), mask,
                                    flat_context)
    return y, p, cache


def multi_head_attention_backward(
    params: dict[str, NDArray[Any]], cache: MultiHeadAttentionCache, d_output: ArrayLike,
    d_scores: NDArray[Any] | None = None, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None, NDArray[Any] | None, NDArray[Any] | None]:
    """Gradients of `multi_head_attention_forward`.

    Args:
        params: the parameters of the forward call.
        cache: its cache.
        d_output: ``(B, T, *out)``.
        d_scores: ``None`` or ``(B, N, T, S)``, the gradient reaching the returned scores.
        input_gradient: whether to compute the input gradients.

    Returns:
        ``(grads, d_query, d_value, d_key)``; the input gradients are ``None`` without
        ``input_gradient``, and ``d_key`` is ``None`` when no key was given (its gradient is in
        ``d_value``).
    """
    dtype = cache.probabilities.dtype
    kernel = params["attention_output_kernel"]
    heads, size = kernel.shape[:2]
    batch, _, steps, _ = cache.probabilities.shape
    d_flat = np.asarray(d_output, dtype).reshape(batch * steps, -1)  # (B*T, O)
    grads = {"attention_output_kernel": (cache.context.T @ d_flat).reshape(kernel.shape)}
    with_bias = params.get("attention_output_bias") is not None
    if with_bias:
        grads["attention_output_bias"] = d_flat.sum(axis=0).reshape(kernel.shape[2:])
    d_context = (d_flat @ kernel.reshape(heads * size, -1).T).reshape(batch, steps, heads, size).transpose(0, 2, 1, 3)
    d_w = d_context @ np.swapaxes(cache.projected_value, -1, -2)  # (B, N, T, S)
    d_v = np.swapaxes(cache.weights, -1, -2) @ d_context  # (B, N, S, V)
    d_p = d_w
    if cache.keep is not None:
        d_p = np.zeros_like(d_w) if cache.rate >= 1 else np.where(cache.keep, d_w / (1.0 - cache.rate), 0).astype(dtype)
    if d_scores is not None:
        d_p = d_p + d_scores
    d_s = masked_softmax_backward(cache.probabilities, d_p, cache.mask, fill="replace")  # (B, N, T, S)
    key_dim = params["query_kernel"].shape[-1]
    d_q = (d_s @ cache.projected_key) * dtype.type(1.0 / math.sqrt(float(key_dim)))  # (B, N, T, K)
    d_k = np.swapaxes(d_s, -1, -2) @ cache.scaled_query  # (B, N, S, K)
    d_inputs: dict[str, Any] = {}  # arrays, or None without input_gradient
    for name, x, d_projected in (("query", cache.query, d_q), ("key", cache.key, d_k), ("value", cache.value, d_v)):
        d_kernel, d_bias, d_inputs[name] = project_backward(
            x, params[f"{name}_kernel"], d_projected, with_bias=params.get(f"{name}_bias") is not None,
            input_gradient=input_gradient,
        )
        grads[f"{name}_kernel"] = d_kernel
        if d_bias is not None:
            grads[f"{name}_bias"] = d_bias
    if not input_gradient:
        return grads, None, None, None
    if not cache.has_key:
        return grads, d_inputs["query"], d_inputs["value"] + d_inputs["key"], None
    return grads, d_inputs["query"], d_inputs["value"], d_inputs["key"]


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_masks(layer: Any, inputs: Any, mask: Any, use_causal_mask: bool) -> NDArray[np.bool_] | None:
    """The combined mask of a call on ``[query, value(, key(, attention_mask))]`` with ``mask``
    (one padding mask per input, ``[query_mask, value_mask, key_mask]``), checked against the shapes."""
    query_mask, value_mask, key_mask, _ = split_masks(layer, mask, 4)  # an attention mask's own mask is unused
    shapes = [tuple(np.shape(x)) for x in inputs]
    check_padding_mask(layer, query_mask, shapes[0], "query")
    check_padding_mask(layer, value_mask, shapes[1], "value")
    check_padding_mask(layer, key_mask, shapes[2] if len(shapes) > 2 else shapes[1], "key")
    return combined_mask(
        shapes[0][1], shapes[1][1], attention_mask=inputs[3] if len(inputs) > 3 else None, query_mask=query_mask,
        value_mask=value_mask, key_mask=key_mask, use_causal_mask=use_causal_mask,
    )


def check_inputs(layer: Any, inputs: Any) -> None:
    """``inputs`` must be the list ``[query, value(, key(, attention_mask))]`` of a valid shape."""
    if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 4:
        got = f"{len(inputs)} inputs" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
        raise ValueError(f"{kind(layer)} takes [query, value(, key(, attention_mask))]; got {got}")
    layer.validate_input_shape([tuple(np.shape(x)) for x in inputs])


def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: Any = None, return_attention_scores: bool = False,
    use_causal_mask: bool = False,
) -> tuple[NDArray[Any] | list[NDArray[Any]], dict[str, NDArray[Any]], Any]:
    """`multi_head_attention_forward` for a ``MultiHeadAttention`` layer: ``(output(s), state, cache)``."""
    check_inputs(layer, inputs)
    combined = layer_masks(layer, inputs, mask, use_causal_mask)
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) > 2 else None
    keep = None
    if training and layer.dropout > 0:
        shape = (np.shape(query)[0], layer.num_heads, np.shape(query)[1], np.shape(value)[1])
        keep = draw_dropout_mask(rng if rng is not None else layer._rng, layer.dropout, shape)
    cache: Any  # the forward's cache, then wrapped with the call's options
    y, scores, cache = multi_head_attention_forward(
        params, query, value, key, mask=combined, zero_masked_rows=layer.dropout > 0 or return_attention_scores,
        keep=keep, rate=layer.dropout,
    )
    mask_input = (np.shape(inputs[3]), np.asarray(inputs[3]).dtype) if len(inputs) > 3 else None
    cache = (cache, return_attention_scores, mask_input)
    return ([y, scores] if return_attention_scores else y), state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: Any, d_outputs: Any, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any] | None] | None]:
    """`multi_head_attention_backward` for a ``MultiHeadAttention`` layer: ``(grads, d_inputs)``.

    ``d_inputs`` has one entry per input; the attention mask's is zeros.
    """
    cache, returned_scores, mask_input = cache
    d_output, d_scores = d_outputs if returned_scores else (d_outputs, None)
    grads, d_query, d_value, d_key = multi_head_attention_backward(params, cache, d_output, d_scores,
                                                                   input_gradient=input_gradient)
    if not input_gradient:
        return grads, None
    d_inputs = [d_query, d_value] + ([] if d_key is None else [d_key])
    if mask_input is not None:
        d_inputs.append(np.zeros(*mask_input))
    return grads, d_inputs
