"""Keras' ``MultiHeadAttention`` layer: configuration, weights, and the call's arguments.

The math is in ``scratchlstm._numpy.attention.multi_head_attention`` (forward and hand-written
backward) and ``scratchlstm.jax_backend.attention.multi_head_attention``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ... import initializers
from ..._graph import is_symbolic
from .._base import Layer, reject_unsupported
from .._registry import register
from ._common import call_options, check_rank3, check_rate, check_same, kind


def _check_positive_int(name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        expected = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected {expected}. Received: {name}={value!r}"
        )


def _normalize_output_shape(output_shape: Any) -> tuple[int, ...] | None:
    """Keras' ``output_shape``: ``None``/empty, an int, or a tuple of positive ints."""
    if not output_shape:
        return None
    if isinstance(output_shape, (int, np.integer)) and not isinstance(output_shape, bool):
        output_shape = (output_shape,)
    try:
        shape = tuple(output_shape)
    except TypeError:
        raise ValueError(
            f"Invalid `output_shape`: {output_shape!r}. When specified, the `output_shape` should be of type "
            "tuple, list, or int."
        ) from None
    for size in shape:
        _check_positive_int("output_shape", size)
    return tuple(int(s) for s in shape)


# attention_axes values that mean the default for 3-D inputs: attend over the time axis.
_DEFAULT_AXES = (None, 1, (1,), [1])


@register(
    numpy="scratchlstm._numpy.attention.multi_head_attention",
    jax="scratchlstm.jax_backend.attention.multi_head_attention",
)
class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017), as Keras 3.

    With ``query (B, T, Dq)``, ``value (B, S, Dv)``, ``key (B, S, Dk)`` (default ``value``),
    ``N = num_heads``, ``K = key_dim``, ``V = value_dim``:

        Q = query @ Wq + bq            (B, T, N, K)      Wq: (Dq, N, K)   bq: (N, K)
        Kp = key @ Wk + bk             (B, S, N, K)      Wk: (Dk, N, K)
        Vp = value @ Wv + bv           (B, S, N, V)      Wv: (Dv, N, V)
        s[b, n, t, u] = (Q[b, t, n] / sqrt(K)) . Kp[b, u, n]          (B, N, T, S)
        p = softmax over u of s, masked (see below)                  the attention scores
        C[b, t, n] = sum_u dropout(p)[b, n, t, u] Vp[b, u, n]        (B, T, N, V)
        output = C @ Wo + bo           (B, T, *output_shape)  Wo: (N, V, *output_shape)

    ``output_shape`` defaults to ``(Dq,)``. The mask ``M (B, 1, T, S)`` is the AND of
    ``attention_mask``, the query's padding mask (rows), the value's and key's padding masks
    (columns) and, with ``use_causal_mask``, ``t >= u``. Masked scores are replaced by ``-1e9``
    before the softmax. A row with every key masked (e.g. a padded query step) follows Keras'
    JAX backend, which has two code paths: with ``return_attention_scores=True`` or
    ``dropout > 0`` its weights are zeros (Keras' ``Softmax`` layer zeroes masked entries), so
    the output there is ``bo``; otherwise (Keras' fused ``dot_product_attention``) they are
    uniform over all ``S`` keys.

    Args:
        num_heads: ``N``, a positive int.
        key_dim: ``K``, the size of each head for query and key.
        value_dim: ``V``, the size of each head for value (default ``key_dim``).
        dropout: fraction of the attention scores dropped in training.
        use_bias: whether the four projections have biases.
        output_shape: the output's shape after the batch and time axes (an int or a tuple);
            default the query's feature size.
        attention_axes: only the default (``None``: attend over the time axis) is implemented.
        kernel_initializer: for the four kernels; a variance-scaling initializer counts the
            contracted axes as fan-in and the produced axes as fan-out, as Keras' ``EinsumDense``.
        bias_initializer: for the biases; default ``"zeros"``.
        seed: int or ``numpy.random.Generator`` for the weights and the dropout masks.
        dtype, name, trainable: as for `Layer`.

    ``kernel_regularizer``/``bias_regularizer`` penalize each of the four kernels/biases (Keras
    gives each projection its own copy), ``kernel_constraint``/``bias_constraint`` project each of
    them after every update.

    Keras arguments that are not implemented (``sliding_window``, ``flash_attention=True``,
    ``use_gate``, ``activity_regularizer``, which Keras applies to the four inner projections'
    outputs) are accepted at their defaults; other values raise ``NotImplementedError``.

    Call arguments (Keras' order): ``query``, ``value``, ``key=None``, ``query_mask``,
    ``value_mask``, ``key_mask`` (``(B, T)`` bool, for eager calls; in a model the masks come
    with the tensors), ``attention_mask`` (``(B, T, S)``, 1 = may attend; or
    ``(B, 1 or N, T, S)``), ``return_attention_scores`` (also return ``p (B, N, T, S)``, before
    dropout, as Keras), ``training``, ``use_causal_mask``. The saved form of a call is the list
    ``mha([query, value, key(, attention_mask)], **options)``.

    Weights (Keras' order): ``query_kernel (Dq, N, K)``, ``query_bias (N, K)``,
    ``key_kernel (Dk, N, K)``, ``key_bias (N, K)``, ``value_kernel (Dv, N, V)``,
    ``value_bias (N, V)``, ``attention_output_kernel (N, V, *output_shape)``,
    ``attention_output_bias (*output_shape,)`` (no biases with ``use_bias=False``).

    Examples:
        >>> import numpy as np
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=3, seed=0)
        >>> out, scores = mha(np.ones((4, 5, 8)), np.ones((4, 7, 6)), return_attention_scores=True)
        >>> out.shape, scores.shape
        ((4, 5, 8), (4, 2, 5, 7))
    """

    weight_names = (
        "query_kernel",
        "query_bias",
        "key_kernel",
        "key_bias",
        "value_kernel",
        "value_bias",
        "attention_output_kernel",
        "attention_output_bias",
    )
    supports_masking = True

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: int | tuple[int, ...] | None = None,
                 attention_axes: int | tuple[int, ...] | None = None, sliding_window: int | None = None,
                 flash_attention: bool | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                 use_gate: bool = False, seed: int | None = None, dtype: Any = None, name: str | None = None,
                 trainable: bool = True) -> None:
        _check_positive_int("num_heads", num_heads)
        _check_positive_int("key_dim", key_dim)
        _check_positive_int("value_dim", value_dim, allow_none=True)
        if attention_axes not in _DEFAULT_AXES and not (
            isinstance(attention_axes, (list, tuple)) and list(attention_axes) == [1]
        ):
            raise NotImplementedError(
                f"MultiHeadAttention(attention_axes={attention_axes!r}) is not implemented yet; only "
                "attention_axes=None (attention over the time axis of 3-D inputs) is supported"
            )
        reject_unsupported(
            "MultiHeadAttention",
            sliding_window=(sliding_window, None),
            use_gate=(use_gate, False),
            activity_regularizer=(activity_regularizer, None),
        )
        kernels = ("query_kernel", "key_kernel", "value_kernel", "attention_output_kernel")
        biases = ("query_bias", "key_bias", "value_bias", "attention_output_bias")
        self.set_regularization(
            {
                "kernel_regularizer": (kernel_regularizer, kernels),
                "bias_regularizer": (bias_regularizer, biases),
                "kernel_constraint": (kernel_constraint, kernels),
                "bias_constraint": (bias_constraint, biases),
            },
        )
        if flash_attention:
            raise NotImplementedError(
                f"MultiHeadAttention(flash_attention={flash_attention!r}) is not implemented; only "
                "flash_attention=None or False is supported"
            )
        for arg in (kernel_initializer, bias_initializer):
            initializers.get(arg)  # fail now, not at build time
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.dropout = check_rate("MultiHeadAttention", dropout)
        self.use_bias = bool(use_bias)
        self.output_shape = _normalize_output_shape(output_shape)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable)

    @property
    def inverse_sqrt_key_dim(self) -> float:
        """``1 / sqrt(key_dim)``, the factor on the projected query."""
        return 1.0 / math.sqrt(float(self.key_dim))

    # --- calling ----------------------------------------------------------------------------
    def __call__(  # type: ignore[override]  # Keras' MultiHeadAttention call signature, not Layer's
            self, query: Any, value: Any = None, key: Any = None, query_mask: Any = None, value_mask: Any = None,
            key_mask: Any = None, attention_mask: Any = None, return_attention_scores: bool = False,
            training: bool | None = None, use_causal_mask: bool = False, mask: Any = None) -> Any:
        """Keras' call signature. Explicit ``query_mask``/``value_mask``/``key_mask`` (eager calls)
        become the ``mask`` list ``[query_mask, value_mask, key_mask]``."""
        explicit = [query_mask, value_mask, key_mask]
        if any(m is not None for m in explicit):
            if mask is not None:
                raise ValueError(f"{kind(self)}: pass the masks either as mask=[...] or as query_mask/value_mask/"
                                 "key_mask, not both")
            if is_symbolic([query, value, key]):
                raise ValueError(
                    f"{kind(self)}: in a model, masks come with the tensors (e.g. from Embedding(mask_zero="
                    "True)); query_mask/value_mask/key_mask are for calls on arrays"
                )
            mask = explicit
        return super().__call__(query, value, key=key, attention_mask=attention_mask,
                                return_attention_scores=return_attention_scores,
                                use_causal_mask=use_causal_mask, training=training, mask=mask)

    def gather_inputs(self, query: Any, value: Any = None, key: Any = None, attention_mask: Any = None,
                      return_attention_scores: bool = False, use_causal_mask: bool = False
                      ) -> tuple[list[Any], dict[str, Any]]:
        """The inputs list ``[query, value]``, ``[query, value, key]`` or
        ``[query, value, key, attention_mask]`` (``key`` is ``value`` when only the mask is given),
        and the options; ``mha(that_list, **options)`` is the same call."""
        options = call_options(return_attention_scores, use_causal_mask)
        if value is None:
            if not isinstance(query, (list, tuple)) or not 2 <= len(query) <= 4 or key is not None \
                    or attention_mask is not None:
                raise ValueError(
                    f"{kind(self)} must be called as mha(query, value, key=None, attention_mask=None, ...) "
                    "or on the list [query, value(, key(, attention_mask))]; "
                    f"received query of type {type(query).__name__} and no value"
                )
            return list(query), options
        inputs = [query, value]
        if key is not None or attention_mask is not None:
            inputs.append(value if key is None else key)
        if attention_mask is not None:
            inputs.append(attention_mask)  # a bool array becomes 0/1 on the way in (prepare_input)
        return inputs, options

    # --- shapes -------------------------------------------------------------------------------
    def _shapes(self, input_shape: Any) -> tuple[Any, Any, Any, Any]:
        """``(query, value, key, attention_mask)`` shapes; ``key`` is ``value``'s when absent."""
        if not isinstance(input_shape, list) or not all(isinstance(s, tuple) for s in input_shape) \
                or not 2 <= len(input_shape) <= 4:
            raise ValueError(
                f"{kind(self)} takes query and value (and optionally key and attention_mask); received input "
                f"shape {input_shape}"
            )
        query, value = input_shape[0], input_shape[1]
        key = input_shape[2] if len(input_shape) > 2 else value
        return query, value, key, (input_shape[3] if len(input_shape) > 3 else None)

    def validate_input_shape(self, input_shape: Any) -> None:
        """Three 3-D inputs agreeing on batch (and value/key on time); a built layer's features
        must match its kernels; the attention mask must be ``(B, T, S)`` or ``(B, 1|N, T, S)``."""
        query, value, key, attention = self._shapes(input_shape)
        for shape, what in ((query, "query"), (value, "value"), (key, "key")):
            check_rank3(self, shape, what)
        check_same(self, "batch", query, value, "query", "value")
        check_same(self, "batch", value, key, "value", "key")
        if value[1] is not None and key[1] is not None and value[1] != key[1]:
            raise ValueError(
                f"{kind(self)}: all dimensions of `value` and `key`, except the last one, must be equal. "
                f"Received: value_shape={value} and key_shape={key}"
            )
        if self.built:
            for shape, what, weight in ((query, "query", "query_kernel"), (key, "key", "key_kernel"),
                                        (value, "value", "value_kernel")):
                features = self.built_params[weight].shape[0]
                if shape[-1] != features:
                    raise ValueError(
                        f"{kind(self)} was built for {what} with {features} features, got {what} of shape {shape} "
                        f"with {shape[-1]} features"
                    )
        if attention is not None:
            self._check_attention_mask_shape(query, value, attention)

    def _check_attention_mask_shape(self, query: Any, value: Any, attention: Any) -> None:
        expected = f"(batch, {query[1]}, {value[1]}) or (batch, 1 or {self.num_heads}, {query[1]}, {value[1]})"
        ok = len(attention) in (3, 4)
        if ok:
            ok = all(a is None or b is None or a == b for a, b in zip(attention[-2:], (query[1], value[1])))
            ok = ok and (attention[0] is None or query[0] is None or attention[0] == query[0])
            ok = ok and (len(attention) == 3 or attention[1] in (1, self.num_heads))
        if not ok:
            raise ValueError(
                f"{kind(self)}: attention_mask must have shape {expected} for query {query} and value {value}; "
                f"got shape {attention}"
            )

    def _kernel(self, shape: tuple[int, ...], input_axes: list[int], output_axes: list[int],
                rng: np.random.Generator) -> NDArray[Any]:
        """Keras' EinsumDense rule: variance scaling counts the contracted axes as fan-in."""
        init = initializers.get(self.kernel_initializer)
        if isinstance(init, initializers.VarianceScaling) and (init.input_axes is None or init.output_axes is None):
            init = type(init).from_config({**init.get_config(), "input_axes": input_axes, "output_axes": output_axes})
        return init(shape, rng, self.dtype)

    def initialize(self, input_shape: Any, rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        query, value, key, _ = self._shapes(input_shape)
        heads, out = self.num_heads, self.output_shape or (query[-1],)
        bias = initializers.get(self.bias_initializer)
        params = {}
        for name, features, size in (("query", query[-1], self.key_dim), ("key", key[-1], self.key_dim),
                                     ("value", value[-1], self.value_dim)):
            params[f"{name}_kernel"] = self._kernel((features, heads, size), [0], [1, 2], rng)
            if self.use_bias:
                params[f"{name}_bias"] = bias((heads, size), rng, self.dtype)
        contracted = list(range(2))
        produced = list(range(2, 2 + len(out)))
        params["attention_output_kernel"] = self._kernel((heads, self.value_dim, *out), contracted, produced, rng)
        if self.use_bias:
            params["attention_output_bias"] = bias(tuple(out), rng, self.dtype)
        return params, {}

    def compute_output_shape(self, input_shape: Any, return_attention_scores: bool = False,
                             use_causal_mask: bool = False) -> Any:
        """``(B, T, *output_shape)``; with ``return_attention_scores`` also ``(B, N, T, S)``."""
        query, value, _, _ = self._shapes(input_shape)
        output = (*query[:-1], *(self.output_shape or (query[-1],)))
        if return_attention_scores:
            return [output, (query[0], self.num_heads, query[1], value[1])]
        return output

    def compute_mask(self, inputs: Any, mask: Any = None, return_attention_scores: bool = False,
                     use_causal_mask: bool = False) -> Any:
        """Keras' rule: the output carries the query's mask (``None`` without one)."""
        if mask is None or not isinstance(mask, (list, tuple)) or len(mask) == 0 or mask[0] is None:
            return None
        return [mask[0], None] if return_attention_scores else mask[0]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_shape,
            "attention_axes": None,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self.regularization_config(),
        }

