"""The Embedding layer as two pure functions: a row lookup and its scatter-add backward.

    outputs[..., :] = embeddings[ids[...], :]          ids: (...)   embeddings: (V, D)

The gradient of the table sums the upstream rows of every occurrence of an id:

    d_embeddings[v] = sum over positions p with ids[p] = v of d_outputs[p]      (V, D)

and the ids, being integers, get none (their gradient is zero wherever it is defined, as
``jax.grad`` through ``astype(int32)`` says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def check_indices(ids: ArrayLike, input_dim: int, what: str = "Embedding inputs") -> NDArray[np.intp]:
    """``ids`` as an integer array after checking they are token ids below ``input_dim``.

    Args:
        ids: integers, or floats holding whole numbers (a model casts its data to float).
        input_dim: the vocabulary size ``V``.
        what: the name of the value, for messages.

    Returns:
        an ``np.intp`` array of the same shape.

    Raises:
        ValueError: naming the range ``[0, V)`` and what arrived (a fraction, NaN, a value out
            of range, a non-numeric dtype).

    Examples:
        >>> check_indices(np.array([[1.0, 0.0]]), 3)
        array([[1, 0]])
    """
    array = np.asarray(ids)
    expected = f"{what} must be whole numbers in [0, {input_dim}) (token ids below input_dim={input_dim})"
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{expected}, got an array of dtype {array.dtype}")
    if array.size == 0:
        return array.astype(np.intp)
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError(f"{expected}, got NaN or inf values")
        fractional = array != np.round(array)
        if fractional.any():
            position = tuple(int(i) for i in np.argwhere(fractional)[0])
            raise ValueError(f"{expected}, got {array[position].item()!r} at index {position}")
    low, high = array.min(), array.max()
    if low < 0 or high >= input_dim:
        raise ValueError(f"{expected}, got values from {low.item()!r} to {high.item()!r}")
    return array.astype(np.intp)


def scatter_rows(ids: ArrayLike, rows: ArrayLike, vocab: int) -> NDArray[Any]:
    """``out[v] = sum of rows[n] where ids[n] == v``, an exact scatter-add without a token loop.

    Args:
        ids: ``(N,)`` integers in ``[0, vocab)``.
        rows: ``(N, D)`` values to add.
        vocab: ``V``, the number of output rows.

    Returns:
        ``(V, D)`` in the dtype of ``rows``; rows of ids that never occur are zero.

    Two ways, each the fastest for its dtype in ``benchmarks/bench_embedding.py`` (against
    ``np.add.at``, a ``np.bincount`` per column, plain sort + ``reduceat`` and a one-hot GEMM,
    for V = 10k/50k, D = 64/128, 64 x 200 Zipf or uniform ids):

    - float64: one ``np.bincount`` over the flattened bins ``ids * D + j`` (bincount sums in
      float64, so nothing is converted);
    - otherwise (float32): sort the ids once, copy the rows of ids seen once, and sum the runs
      of repeated ids with ``np.add.reduceat``.
    """
    ids = np.asarray(ids).reshape(-1)
    rows = np.asarray(rows)
    dim = rows.shape[-1]
    if ids.size == 0:
        return np.zeros((vocab, dim), rows.dtype)
    if rows.dtype == np.float64:
        bins = (ids[:, None] * dim + np.arange(dim)).reshape(-1)  # (N*D,) flat index of each entry
        return np.bincount(bins, weights=rows.reshape(-1), minlength=vocab * dim).reshape(vocab, dim)
    return _sort_and_reduce(ids, rows, vocab)


def _sort_and_reduce(ids: NDArray[Any], rows: NDArray[Any], vocab: int) -> NDArray[Any]:
    """`scatter_rows` by sorting: singletons copied, runs of repeated ids summed by ``reduceat``."""
    out = np.zeros((vocab, rows.shape[-1]), rows.dtype)
    order = np.argsort(ids)
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # first row of each run
    lengths = np.diff(np.r_[starts, ids.size])
    single = lengths == 1
    out[sorted_ids[starts[single]]] = rows[order[starts[single]]]
    repeated = ~single
    if repeated.any():
        in_repeated_run = np.repeat(repeated, lengths)  # (N,) in sorted order
        run_starts = np.r_[0, np.cumsum(lengths[repeated])[:-1]]
        out[sorted_ids[starts[repeated]]] = np.add.reduceat(rows[order[in_repeated_run]], run_starts, axis=0)
    return out


@dataclass(frozen=True)
class EmbeddingCache:
    """``ids`` flattened ``(N,)``, the inputs' shape and dtype, and the vocabulary size ``V``."""

    ids: NDArray[np.intp]
    input_shape: tuple[int, ...]
    input_dtype: np.dtype[Any]
    vocab: int


def embedding_forward(
    params: dict[str, NDArray[Any]], ids: ArrayLike, *, what: str = "Embedding inputs",
) -> tuple[NDArray[Any], EmbeddingCache]:
    """``outputs = embeddings[ids]``: one row of the table per id.

    Args:
        params: ``{"embeddings": (V, D)}``.
        ids: integer ids of any shape ``(...)``, e.g. ``(B, T)``, or floats holding them.
        what: the name of the ids in error messages.

    Returns:
        ``(outputs, cache)`` with ``outputs`` of shape ``(..., D)`` in the table's dtype.

    Raises:
        ValueError: if the ids are not whole numbers in ``[0, V)``.

    Examples:
        >>> table = np.arange(6.0).reshape(3, 2)
        >>> embedding_forward({"embeddings": table}, np.array([[2, 0]]))[0].tolist()
        [[[4.0, 5.0], [0.0, 1.0]]]
    """
    table = np.asarray(params["embeddings"])
    if table.ndim != 2:
        raise ValueError(f"params['embeddings'] must be 2-D of shape (input_dim, output_dim), got {table.shape}")
    raw = np.asarray(ids)
    index = check_indices(raw, table.shape[0], what)
    outputs = table[index]  # (..., D), a fresh array
    return outputs, EmbeddingCache(index.reshape(-1), raw.shape, raw.dtype, table.shape[0])


def embedding_backward(
    params: dict[str, NDArray[Any]], cache: EmbeddingCache, d_outputs: ArrayLike, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """Gradients of `embedding_forward`.

    Args:
        params: the parameter dict of the forward call.
        cache: the `EmbeddingCache` it returned.
        d_outputs: ``(..., D)`` gradient with respect to its outputs.
        input_gradient: ``False`` returns ``None`` for the ids.

    Returns:
        ``(grads, d_ids)``: ``grads["embeddings"]`` is ``(V, D)`` (`scatter_rows` of the
        upstream rows); ``d_ids`` is zeros shaped like the ids (a float array: ids are
        piecewise constant, so their gradient is zero, as ``jax.grad`` gives), or ``None``.
    """
    table = np.asarray(params["embeddings"])
    d_outputs = np.asarray(d_outputs, dtype=table.dtype)
    dim = table.shape[1]
    if d_outputs.shape != (*cache.input_shape, dim):
        raise ValueError(f"d_outputs must have shape {(*cache.input_shape, dim)}, got {d_outputs.shape}")
    grads = {"embeddings": scatter_rows(cache.ids, d_outputs.reshape(-1, dim), cache.vocab)}
    if not input_gradient:
        return grads, None
    d_dtype = cache.input_dtype if cache.input_dtype.kind == "f" else table.dtype
    return grads, np.zeros(cache.input_shape, d_dtype)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], EmbeddingCache]:
    """`embedding_forward` for an ``Embedding`` layer: ``(outputs, state, cache)``.

    An incoming mask is not read (Keras' Embedding ignores it); the layer's own mask (ids != 0
    with ``mask_zero``) comes from ``layer.compute_mask``.
    """
    if np.asarray(params["embeddings"]).shape[0] != layer.input_dim:
        raise ValueError(f"params['embeddings'] must have {layer.input_dim} rows (input_dim)")
    outputs, cache = embedding_forward(params, inputs, what=f"inputs to Embedding {layer.name!r}")
    return outputs, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: EmbeddingCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`embedding_backward` for an ``Embedding`` layer: ``(grads, d_ids)``."""
    return embedding_backward(params, cache, d_outputs, input_gradient=input_gradient)
