"""Keras' ``Attention`` layer (Luong-style dot-product attention): configuration and weights.

The math is in ``scratchlstm._numpy.attention.attention`` (forward and hand-written backward)
and ``scratchlstm.jax_backend.attention.attention``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import initializers
from .._base import Layer
from .._registry import register
from ._common import call_options, check_rank3, check_rate, check_same, kind

SCORE_MODES = ("dot", "concat")


@register(numpy="scratchlstm._numpy.attention.attention", jax="scratchlstm.jax_backend.attention.attention")
class Attention(Layer):
    """Dot-product (Luong) attention of a query sequence over a value sequence, as Keras 3.

    Called on ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to ``value``),
    with ``query (B, Tq, D)``, ``value (B, Tv, Dv)``, ``key (B, Tv, D)``:

        scores  = query @ key^T                            (B, Tq, Tv)    score_mode="dot"
        scores  = scale * scores                           with use_scale
        scores  = c * sum_d tanh(a * (q_i + k_j))          score_mode="concat" (a = scale or 1,
                                                           c = concat_score_weight)
        scores  = scores - 1e9 where the key is masked     (value mask and/or causal mask)
        weights = softmax(scores) over Tv                  (then dropout, in training)
        output  = weights @ value                          (B, Tq, Dv), zero where query_mask is False

    Args:
        use_scale: learn a scalar ``scale`` (initialised to 1) that multiplies the scores
            (``"dot"``) or the sums inside the ``tanh`` (``"concat"``).
        score_mode: ``"dot"`` or ``"concat"``; ``"concat"`` adds the scalar weight
            ``concat_score_weight`` (initialised to 1).
        dropout: fraction of the attention weights dropped in training (inverted dropout).
        seed: int or ``numpy.random.Generator`` for the dropout masks (eager calls).
        dtype, name, trainable: as for `Layer`.

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``.
        mask: ``[query_mask, value_mask]`` (each ``(B, T)`` bool or ``None``); a masked value step
            gets ``-1e9`` added to its score; a masked query step's output is zero.
        training: drop attention weights (only with ``dropout > 0``).
        return_attention_scores: also return the attention weights ``(B, Tq, Tv)`` (after the
            dropout, as Keras returns them): ``[output, weights]``.
        use_causal_mask: query step ``i`` may not attend to key steps ``j > i``.

    Weights (Keras' order): ``scale ()`` with ``use_scale``, ``concat_score_weight ()`` with
    ``score_mode="concat"``.

    A value row that is masked everywhere (every key masked for a query) is not special-cased:
    ``scores - 1e9`` everywhere, so (as in Keras) the softmax is that of the unmasked scores in
    float64, and nearly uniform in float32, where ``1e9`` swamps the scores.

    Examples:
        >>> import numpy as np
        >>> q, v = np.ones((2, 3, 4)), np.ones((2, 5, 4))
        >>> out, weights = Attention()([q, v], return_attention_scores=True)
        >>> out.shape, weights.shape, float(weights[0, 0].sum())
        ((2, 3, 4), (2, 3, 5), 1.0)
    """

    weight_names: tuple[str, ...] = ("scale", "concat_score_weight")
    supports_masking = True

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed: int | None = None,
                 dtype: Any = None, name: str | None = None, trainable: bool = True) -> None:
        if score_mode not in SCORE_MODES:
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode!r}"
            )
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = check_rate(type(self).__name__, dropout)
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable)

    # --- calling ----------------------------------------------------------------------------
    def gather_inputs(self, inputs: Any, return_attention_scores: bool = False, use_causal_mask: bool = False
                      ) -> tuple[Any, dict[str, Any]]:
        """``layer([query, value, key], return_attention_scores=..., use_causal_mask=...)``: the
        list is the inputs; the two flags are the node's options (only those set are stored)."""
        return inputs, call_options(return_attention_scores, use_causal_mask)

    # --- shapes -------------------------------------------------------------------------------
    def _shapes(self, input_shape: Any) -> tuple[Any, Any, Any]:
        """``(query, value, key)`` shapes (``key`` is ``value``'s when not given)."""
        if not isinstance(input_shape, list) or not all(isinstance(s, tuple) for s in input_shape):
            raise ValueError(
                f"{kind(self)} must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]; received input shape {input_shape}"
            )
        if not 2 <= len(input_shape) <= 3:
            raise ValueError(
                f"{kind(self)} accepts an inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]; received {len(input_shape)} inputs of shapes {input_shape}"
            )
        query, value = input_shape[0], input_shape[1]
        key = input_shape[2] if len(input_shape) == 3 else value
        return query, value, key

    def validate_input_shape(self, input_shape: Any) -> None:
        """``[(B, Tq, D), (B, Tv, Dv)]`` or with ``key (B, Tv, D)``: query and key share ``D``."""
        query, value, key = self._shapes(input_shape)
        for shape, what in ((query, "query"), (value, "value"), (key, "key")):
            check_rank3(self, shape, what)
        check_same(self, "batch", query, value, "query", "value")
        check_same(self, "batch", value, key, "value", "key")
        check_same(self, "time", value, key, "value", "key")
        key_name = "key" if len(input_shape) == 3 else "value (the key when none is given)"
        if query[-1] != key[-1]:
            raise ValueError(
                f"{kind(self)}: query and {key_name} must have the same feature size (score_mode="
                f"{self.score_mode!r} combines query and key feature by feature); got query shape {query} "
                f"with {query[-1]} features and {key_name} shape {key} with {key[-1]} features"
            )

    def initialize(self, input_shape: Any, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        params = {}
        if self.use_scale:
            params["scale"] = initializers.get("ones")((), rng, self.dtype)
        if self.score_mode == "concat":
            params["concat_score_weight"] = initializers.get("ones")((), rng, self.dtype)
        return params, {}

    def compute_output_shape(self, input_shape: Any, return_attention_scores: bool = False,
                             use_causal_mask: bool = False) -> Any:
        """``(B, Tq, Dv)``; with ``return_attention_scores`` also ``(B, Tq, Tv)``."""
        query, value, key = self._shapes(input_shape)
        output = (*query[:-1], value[-1])
        return [output, (*query[:-1], key[1])] if return_attention_scores else output

    def compute_mask(self, inputs: Any, mask: Any = None, return_attention_scores: bool = False,
                     use_causal_mask: bool = False) -> Any:
        """Keras' rule: the output carries the query's mask (``None`` without one)."""
        if mask is None or not isinstance(mask, (list, tuple)) or len(mask) == 0 or mask[0] is None:
            return None
        return [mask[0], None] if return_attention_scores else mask[0]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
        }
