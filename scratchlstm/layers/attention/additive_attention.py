"""Keras' ``AdditiveAttention`` layer (Bahdanau-style attention): configuration and weights.

The math is in ``scratchlstm._numpy.attention.additive_attention`` (forward and hand-written
backward) and ``scratchlstm.jax_backend.attention.additive_attention``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import initializers
from .._registry import register
from .attention import Attention


@register(
    numpy="scratchlstm._numpy.attention.additive_attention",
    jax="scratchlstm.jax_backend.attention.additive_attention",
)
class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention of a query sequence over a value sequence, as Keras 3.

    Called like `Attention` on ``[query, value]`` or ``[query, value, key]``, with
    ``query (B, Tq, D)``, ``value (B, Tv, Dv)``, ``key (B, Tv, D)``:

        scores[b, i, j] = sum_d scale_d * tanh(query[b, i, d] + key[b, j, d])    (B, Tq, Tv)
        weights = softmax(scores - 1e9 where the key is masked) over Tv           (then dropout)
        output  = weights @ value                     (B, Tq, Dv), zero where query_mask is False

    Args:
        use_scale: learn ``scale (D,)`` (Glorot-uniform initialised); without it every
            ``scale_d`` is 1.
        dropout: fraction of the attention weights dropped in training.
        seed, dtype, name, trainable: as for `Attention`.

    Call arguments: as for `Attention` (``mask=[query_mask, value_mask]``, ``training``,
    ``return_attention_scores``, ``use_causal_mask``).

    Weights (Keras' order): ``scale (D,)`` with ``use_scale``.

    Examples:
        >>> import numpy as np
        >>> layer = AdditiveAttention(seed=0)
        >>> layer([np.ones((2, 3, 4)), np.ones((2, 5, 6)), np.ones((2, 5, 4))]).shape
        (2, 3, 6)
        >>> [w.shape for w in layer.get_weights()]
        [(4,)]
    """

    weight_names = ("scale",)

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None, dtype: Any = None,
                 name: str | None = None, trainable: bool = True) -> None:
        super().__init__(use_scale=use_scale, score_mode="dot", dropout=dropout, seed=seed, dtype=dtype, name=name,
                         trainable=trainable)
        self.score_mode = "additive"  # for messages; not an argument of this layer

    def validate_input_shape(self, input_shape: Any) -> None:
        """As `Attention`'s, and a built layer's ``scale`` must match the query's features."""
        super().validate_input_shape(input_shape)
        if self.built and self.use_scale and input_shape[0][-1] != self.built_params["scale"].shape[0]:
            raise ValueError(
                f"AdditiveAttention {self.name!r} was built for {self.built_params['scale'].shape[0]} query features, "
                f"got query of shape {input_shape[0]} with {input_shape[0][-1]} features"
            )

    def initialize(self, input_shape: Any, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        if not self.use_scale:
            return {}, {}
        dim = input_shape[0][-1]
        return {"scale": initializers.get("glorot_uniform")((dim,), rng, self.dtype)}, {}

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["score_mode"]
        return config
