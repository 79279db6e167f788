"""What the attention layers share in JAX: masks, the masked softmax and the weighted sum of values.

The same equations as ``scratchlstm._numpy.attention._common`` (see there), as jax.numpy
functions; gradients come from ``jax.grad``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...layers.attention._common import check_padding_mask, kind, split_masks
from ..rnn.lstm import compute_dtype

LARGE = 1e9  # Keras' masking constant for float32/float64 scores


def causal_mask(query_steps: int, key_steps: int) -> jax.Array:
    """``(Tq, Tv)`` bool: query step ``i`` may attend to key step ``j`` iff ``i >= j``."""
    return jnp.tril(jnp.ones((query_steps, key_steps), dtype=bool))


def as_bool_mask(mask: Any) -> Any:
    """``None``, or the mask as bool (nonzero = ``True``)."""
    if mask is None:
        return None
    mask = jnp.asarray(mask)
    return mask if mask.dtype == jnp.bool_ else mask != 0


def masked_softmax(scores: Any, mask: Any = None, *, fill: str = "subtract", zero_masked: bool = False) -> jax.Array:
    """Softmax over the last axis, masked entries set to ``s - 1e9`` (``"subtract"``) or ``-1e9``
    (``"replace"``) first; with ``zero_masked`` masked weights are then set to 0.

    Args:
        scores: ``(..., Tv)``.
        mask: ``None`` or bool broadcasting to ``scores`` (``True`` = may attend).
        fill: ``"subtract"`` (Keras' ``Attention``) or ``"replace"`` (``MultiHeadAttention``).
        zero_masked: zero masked weights after the softmax.

    Returns:
        the weights, shaped like ``scores``.
    """
    z = scores
    if mask is not None:
        z = jnp.where(mask, scores, scores - LARGE if fill == "subtract" else -LARGE)
    p = jax.nn.softmax(z, axis=-1)
    if zero_masked and mask is not None:
        p = jnp.where(mask, p, 0.0)
    return p


def luong_score_mask(value_mask: Any, use_causal_mask: bool, query_steps: int, key_steps: int) -> Any:
    """``None`` or ``(B or 1, Tq or 1, Tv)``: the value mask ANDed with the causal mask."""
    mask = None if value_mask is None else as_bool_mask(value_mask)[:, None, :]
    if use_causal_mask:
        causal = causal_mask(query_steps, key_steps)[None]
        mask = causal if mask is None else mask & causal
    return mask


def drop(values: Any, keep: Any, rate: float) -> Any:
    """``keep * values / (1 - rate)``; ``keep=None`` is the identity."""
    if keep is None:
        return values
    if rate >= 1.0:
        return jnp.zeros_like(values)
    return jnp.where(keep, values / (1.0 - rate), 0.0)


def apply_scores(scores: Any, value: Any, *, score_mask: Any = None, query_mask: Any = None, keep: Any = None,
                 rate: float = 0.0) -> tuple[jax.Array, jax.Array]:
    """``(y, w)``: ``w = dropout(softmax(scores masked))``, ``y = w @ value`` zeroed on masked queries."""
    w = drop(masked_softmax(scores, score_mask, fill="subtract"), keep, rate)
    y = w @ value
    if query_mask is not None:
        y = jnp.where(as_bool_mask(query_mask)[:, :, None], y, 0.0)
    return y, w


def keep_mask(layer: Any, shape: tuple[int, ...], *, training: bool, key: jax.Array | None) -> jax.Array | None:
    """The dropout keep-mask of the attention weights: ``None`` outside training or at rate 0."""
    if not training or layer.dropout == 0:
        return None
    if key is None:
        raise ValueError(f"{kind(layer)} needs a jax.random key in training (key=...) to drop attention weights")
    return jax.random.bernoulli(key, p=1.0 - layer.dropout, shape=tuple(shape))


def luong_inputs(layer: Any, params: dict[str, Any], inputs: Any, mask: Any) -> tuple[Any, Any, Any, Any, Any]:
    """``(query, value, key or None, query_mask, value_mask)`` as arrays of the compute dtype."""
    if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
        got = f"{len(inputs)} inputs" if isinstance(inputs, (list, tuple)) else type(inputs).__name__
        raise ValueError(f"{kind(layer)} takes the list [query, value] or [query, value, key]; got {got}")
    layer.validate_input_shape([tuple(np.shape(x)) for x in inputs])
    if mask is not None and isinstance(mask, (list, tuple)) and len(mask) < 2:
        raise ValueError(f"{kind(layer)} expects mask=[query_mask, value_mask]; got a list of {len(mask)}")
    query_mask, value_mask, _ = split_masks(layer, mask, 3)
    check_padding_mask(layer, query_mask, np.shape(inputs[0]), "query")
    check_padding_mask(layer, value_mask, np.shape(inputs[1]), "value")
    dtype = compute_dtype(*inputs, *params.values())
    arrays = [jnp.asarray(x, dtype) for x in inputs]
    return arrays[0], arrays[1], (arrays[2] if len(arrays) == 3 else None), query_mask, value_mask
