"""What the attention layers share in NumPy: masks, the masked softmax, and the second half of
Luong/Bahdanau attention (scores -> weights -> weighted sum of values), each with its backward.

The masked softmax over the last axis (the keys), in Keras' two flavours::

    subtract (Attention, AdditiveAttention):   z = s - 1e9 where the key is masked, else s
    replace  (MultiHeadAttention):             z = -1e9 where masked, else s
    p = exp(z - max z) / sum exp(z - max z)
    zero_masked (MultiHeadAttention's Softmax layer): p = 0 where masked

Its backward, with ``d p`` the upstream gradient (``p`` after the optional zeroing)::

    d z = p * (d p - sum_j p_j d p_j)
    d s = d z                     (subtract: z moves with s everywhere)
    d s = d z where unmasked, 0   (replace: a masked z is a constant)

The second half of `Attention`, shapes ``scores (B, Tq, Tv)``, ``value (B, Tv, Dv)``::

    p = masked softmax (subtract)              w = keep * p / (1 - rate)   (dropout, training)
    y = w @ value                              y = 0 where query_mask is False      (B, Tq, Dv)
    backward:  d y <- d y * query_mask ;  d w = d y @ value^T (+ d weights returned) ;
               d value = w^T @ d y ;  d p = keep * d w / (1 - rate) ;  d scores = softmax backward
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import compute_dtype
from ..regularization.dropout import draw_dropout_mask
from ...layers.attention._common import check_padding_mask, kind, split_masks

LARGE = 1e9  # Keras' masking constant for float32/float64 scores


def causal_mask(query_steps: int, key_steps: int) -> NDArray[np.bool_]:
    """``(Tq, Tv)`` bool: query step ``i`` may attend to key step ``j`` iff ``i >= j`` (Keras)."""
    return np.tril(np.ones((query_steps, key_steps), dtype=bool))


@overload
def as_bool_mask(mask: None) -> None: ...
@overload
def as_bool_mask(mask: ArrayLike) -> NDArray[np.bool_]: ...
@overload
def as_bool_mask(mask: ArrayLike | None) -> NDArray[np.bool_] | None: ...
def as_bool_mask(mask: ArrayLike | None) -> NDArray[np.bool_] | None:
    """``None``, or the mask as bool (a number counts as ``True`` when it is not 0, as Keras casts)."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    return mask if mask.dtype == bool else mask != 0


def masked_softmax_forward(
    scores: NDArray[Any], mask: NDArray[np.bool_] | None = None, *, fill: str = "subtract", zero_masked: bool = False,
) -> NDArray[Any]:
    """Softmax over the last axis with masked entries pushed to ``-1e9`` first.

    Args:
        scores: ``(..., Tv)``.
        mask: ``None`` or a bool array broadcasting to ``scores`` (``True`` = may attend).
        fill: ``"subtract"`` (``s - 1e9``, Keras' ``Attention``) or ``"replace"`` (``-1e9``,
            Keras' ``MultiHeadAttention``).
        zero_masked: set masked weights to exactly 0 after the softmax (so a row with every key
            masked sums to 0 instead of being uniform).

    Returns:
        ``p`` shaped like ``scores``.
    """
    z = scores
    if mask is not None:
        z = np.where(mask, scores, scores - LARGE if fill == "subtract" else -LARGE)
    p: NDArray[Any] = z - z.max(axis=-1, keepdims=True)  # one new array, then in place: exp, normalise
    np.exp(p, out=p)
    p *= 1.0 / p.sum(axis=-1, keepdims=True)
    if zero_masked and mask is not None:
        p = np.where(mask, p, 0)
    return p.astype(scores.dtype, copy=False)


def masked_softmax_backward(
    weights: NDArray[Any], d_weights: NDArray[Any], mask: NDArray[np.bool_] | None = None, *, fill: str = "subtract",
) -> NDArray[Any]:
    """Gradient of `masked_softmax_forward` with respect to ``scores``.

    Args:
        weights: ``p``, its output.
        d_weights: ``(..., Tv)`` gradient with respect to ``p``.
        mask: the mask of the forward call.
        fill: its ``fill``.

    Returns:
        ``d scores = p * (d p - sum_j p_j d p_j)`` (zero where masked for ``"replace"``).
    """
    d_scores: NDArray[Any] = weights * d_weights
    d_scores -= weights * d_scores.sum(axis=-1, keepdims=True)
    if mask is not None and fill == "replace":
        d_scores = np.where(mask, d_scores, 0)
    return d_scores


def luong_score_mask(
    value_mask: ArrayLike | None, use_causal_mask: bool, query_steps: int, key_steps: int,
) -> NDArray[np.bool_] | None:
    """Keras ``Attention``'s score mask: ``None``, or ``(B or 1, Tq or 1, Tv)`` bool.

    Args:
        value_mask: ``None`` or ``(B, Tv)``.
        use_causal_mask: AND with `causal_mask`.
        query_steps, key_steps: ``Tq`` and ``Tv``.

    Returns:
        the value mask as ``(B, 1, Tv)``, ANDed with the causal ``(1, Tq, Tv)``, or ``None``.
    """
    mask = None if value_mask is None else as_bool_mask(value_mask)[:, None, :]
    if use_causal_mask:
        causal = causal_mask(query_steps, key_steps)[None]
        mask = causal if mask is None else mask & causal
    return mask


@dataclass(frozen=True)
class ApplyScoresCache:
    """The second half of `Attention`: ``p``, the dropped-out ``w``, the masks, ``value``."""

    probabilities: NDArray[Any]
    weights: NDArray[Any]
    keep: NDArray[np.bool_] | None
    rate: float
    score_mask: NDArray[np.bool_] | None
    query_mask: NDArray[np.bool_] | None
    value: NDArray[Any]


def apply_scores_forward(
    scores: NDArray[Any], value: NDArray[Any], *, score_mask: NDArray[np.bool_] | None = None,
    query_mask: ArrayLike | None = None, keep: NDArray[np.bool_] | None = None, rate: float = 0.0,
) -> tuple[NDArray[Any], NDArray[Any], ApplyScoresCache]:
    """``y = dropout(softmax(scores masked)) @ value``, zero on masked query steps (Keras).

    Args:
        scores: ``(B, Tq, Tv)``.
        value: ``(B, Tv, Dv)``.
        score_mask: ``None`` or bool broadcasting to ``(B, Tq, Tv)`` (see `luong_score_mask`).
        query_mask: ``None`` or ``(B, Tq)``.
        keep: ``None`` (no dropout) or a ``(B, Tq, Tv)`` bool keep-mask.
        rate: the dropout rate that ``keep`` was drawn for.

    Returns:
        ``(y (B, Tq, Dv), w (B, Tq, Tv), cache)``; ``w`` are the weights after dropout, which
        Keras returns as the attention scores.
    """
    p = masked_softmax_forward(scores, score_mask, fill="subtract")
    w = p if keep is None else _drop(p, keep, rate)
    y = w @ value  # (B, Tq, Dv)
    query_mask = as_bool_mask(query_mask)
    if query_mask is not None:
        y = np.where(query_mask[:, :, None], y, 0).astype(y.dtype, copy=False)
    return y, w, ApplyScoresCache(p, w, keep, rate, score_mask, query_mask, value)


def apply_scores_backward(
    cache: ApplyScoresCache, d_y: NDArray[Any], d_weights: NDArray[Any] | None = None,
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Gradients of `apply_scores_forward`: ``(d_scores (B, Tq, Tv), d_value (B, Tv, Dv))``.

    Args:
        cache: its cache.
        d_y: ``(B, Tq, Dv)``.
        d_weights: ``None`` or ``(B, Tq, Tv)``, the gradient reaching the returned weights.
    """
    if cache.query_mask is not None:
        d_y = np.where(cache.query_mask[:, :, None], d_y, 0)
    d_w = d_y @ np.swapaxes(cache.value, -1, -2)  # (B, Tq, Tv)
    if d_weights is not None:
        d_w = d_w + d_weights
    d_value = np.swapaxes(cache.weights, -1, -2) @ d_y  # (B, Tv, Dv)
    d_p = d_w if cache.keep is None else _drop(d_w, cache.keep, cache.rate)
    return masked_softmax_backward(cache.probabilities, d_p, cache.score_mask, fill="subtract"), d_value


def _drop(values: NDArray[Any], keep: NDArray[np.bool_], rate: float) -> NDArray[Any]:
    """``keep * values / (1 - rate)`` (zeros when ``rate = 1``)."""
    if rate >= 1.0:
        return np.zeros_like(values)
    return np.where(keep, values / (1.0 - rate), 0).astype(values.dtype, copy=False)


# --- the layer protocol, shared by Attention and AdditiveAttention --------------------------------
def luong_inputs(
    layer: Any, params: dict[str, NDArray[Any]], inputs: Any, mask: Any,
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None, Any, Any, np.dtype[Any]]:
    """``(query, value, key or None, query_mask, value_mask, dtype)`` from a call's inputs and mask.

    Raises:
        ValueError: for an inputs list that is not ``[query, value(, key)]`` or masks that do not
            match the inputs' ``(batch, time_steps)``.
    """
    if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
        got = f"{len(inputs)} inputs" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
        raise ValueError(f"{kind(layer)} takes the list [query, value] or [query, value, key]; got {got}")
    layer.validate_input_shape([tuple(np.shape(x)) for x in inputs])
    if mask is not None and isinstance(mask, (list, tuple)) and len(mask) < 2:
        raise ValueError(f"{kind(layer)} expects mask=[query_mask, value_mask]; got a list of {len(mask)}")
    query_mask, value_mask, _ = split_masks(layer, mask, 3)  # a key mask is ignored, as in Keras
    check_padding_mask(layer, query_mask, np.shape(inputs[0]), "query")
    check_padding_mask(layer, value_mask, np.shape(inputs[1]), "value")
    dtype = compute_dtype(*inputs, *params.values())
    arrays = [np.asarray(x, dtype=dtype) for x in inputs]
    key = arrays[2] if len(arrays) == 3 else None
    return arrays[0], arrays[1], key, query_mask, value_mask, dtype


def attention_keep_mask(
    layer: Any, shape: tuple[int, ...], *, training: bool, rng: np.random.Generator | None,
) -> NDArray[np.bool_] | None:
    """The dropout keep-mask for the attention weights (``None`` outside training or at rate 0)."""
    if not training or layer.dropout == 0:
        return None
    return draw_dropout_mask(rng if rng is not None else layer._rng, layer.dropout, shape)
