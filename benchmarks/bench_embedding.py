"""How to sum an Embedding's gradient rows: ``d_embeddings[ids[n]] += d_outputs[n]`` for n < N.

The backward of ``outputs = embeddings[ids]`` scatters N upstream rows of width D into a
``(V, D)`` table, with repeated ids adding up. Six ways, none with a Python loop over tokens:

- ``add.at``: ``np.add.at(d_emb, ids, d_out)`` (unbuffered, one row at a time);
- ``bincount/col``: one ``np.bincount(ids, weights=d_out[:, j], minlength=V)`` per column j;
- ``bincount/flat``: one ``np.bincount`` over the flattened ``(N*D,)`` bins ``ids * D + j``;
- ``sort+reduceat``: an argsort of the ids, ``np.add.reduceat`` over the sorted rows at
  each run start, the sums written to their unique ids;
- ``sort+split``: the same, but ids seen once are copied and only repeated ids go through
  ``reduceat`` (whose cost is per run as well as per row);
- ``one-hot GEMM``: ``one_hot(ids).T @ d_out`` on the unique ids only (``(U, N) @ (N, D)``),
  since a full ``(V, N)`` one-hot would not fit (50k x 12.8k floats = 2.5 GB).

``library`` is what the layer runs (``scratchlstm._numpy.core.embedding.scatter_rows``): the
winner for each dtype, ``bincount/flat`` for float64 and ``sort+split`` for float32.

Every method writes a fresh zero ``(V, D)`` gradient (the dense gradient the optimizers take),
so that shared cost is in every row; ``zeros`` times that alone. Prints median milliseconds.

    python benchmarks/bench_embedding.py
    python benchmarks/bench_embedding.py --vocab 10000 50000 --dims 64 128 --tokens 64x200 --dtype float32
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, when not installed
from scratchlstm._numpy.core.embedding import scatter_rows  # noqa: E402


def add_at(ids, d_out, vocab):
    d_emb = np.zeros((vocab, d_out.shape[1]), d_out.dtype)
    np.add.at(d_emb, ids, d_out)
    return d_emb


def bincount_columns(ids, d_out, vocab):
    d_emb = np.empty((vocab, d_out.shape[1]), d_out.dtype)
    for j in range(d_out.shape[1]):  # a loop over D columns, not over tokens
        d_emb[:, j] = np.bincount(ids, weights=d_out[:, j], minlength=vocab)
    return d_emb


def bincount_flat(ids, d_out, vocab):
    dim = d_out.shape[1]
    bins = (ids[:, None] * dim + np.arange(dim)).ravel()
    return np.bincount(bins, weights=d_out.ravel(), minlength=vocab * dim).reshape(vocab, dim).astype(
        d_out.dtype, copy=False)


def sort_reduceat(ids, d_out, vocab):
    order = np.argsort(ids)
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    d_emb = np.zeros((vocab, d_out.shape[1]), d_out.dtype)
    d_emb[sorted_ids[starts]] = np.add.reduceat(d_out[order], starts, axis=0)
    return d_emb


def sort_split(ids, d_out, vocab):
    order = np.argsort(ids)
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    lengths = np.diff(np.r_[starts, ids.size])
    single = lengths == 1
    d_emb = np.zeros((vocab, d_out.shape[1]), d_out.dtype)
    d_emb[sorted_ids[starts[single]]] = d_out[order[starts[single]]]
    repeated = ~single
    if repeated.any():
        rows = order[np.repeat(repeated, lengths)]
        run_starts = np.r_[0, np.cumsum(lengths[repeated])[:-1]]
        d_emb[sorted_ids[starts[repeated]]] = np.add.reduceat(d_out[rows], run_starts, axis=0)
    return d_emb


def library(ids, d_out, vocab):
    """What the layer runs: `scratchlstm._numpy.core.embedding.scatter_rows` (per dtype)."""
    return scatter_rows(ids, d_out, vocab)


def one_hot_gemm(ids, d_out, vocab):
    unique, inverse = np.unique(ids, return_inverse=True)
    one_hot = (np.arange(len(unique))[:, None] == inverse[None, :]).astype(d_out.dtype)  # (U, N)
    d_emb = np.zeros((vocab, d_out.shape[1]), d_out.dtype)
    d_emb[unique] = one_hot @ d_out
    return d_emb


def zeros_only(ids, d_out, vocab):
    return np.zeros((vocab, d_out.shape[1]), d_out.dtype)


METHODS = {
    "zeros": zeros_only,
    "add.at": add_at,
    "bincount/col": bincount_columns,
    "bincount/flat": bincount_flat,
    "sort+reduceat": sort_reduceat,
    "sort+split": sort_split,
    "library": library,
    "one-hot GEMM": one_hot_gemm,
}


def median_ms(function, args, repeats):
    function(*args)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--tokens", default="64x200", help="B x T token ids per batch")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--ids", default="zipf", choices=["zipf", "uniform"],
                        help="token id distribution: Zipf-like as in text (default), or uniform")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = parser.parse_args(argv)
    batch, steps = (int(v) for v in args.tokens.lower().split("x"))
    rng = np.random.default_rng(0)
    print(f"# {platform.processor() or platform.machine()}, NumPy {np.__version__}, {args.dtype}, "
          f"{batch}x{steps} = {batch * steps} {args.ids} token ids, median of {args.repeats} (ms)")
    header = f"| {'V':>6} | {'D':>4} | " + " | ".join(f"{m:>13}" for m in args.methods) + " |"
    print(header)
    print("|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|")
    for vocab in args.vocab:
        if args.ids == "zipf":  # as in text: a few very frequent tokens and a long tail
            ids = np.minimum(rng.zipf(1.2, size=batch * steps) - 1, vocab - 1).astype(np.int64)
        else:
            ids = rng.integers(vocab, size=batch * steps)
        for dim in args.dims:
            d_out = rng.normal(size=(batch * steps, dim)).astype(args.dtype)
            reference = add_at(ids, d_out, vocab)
            cells = []
            for name in args.methods:
                result = METHODS[name](ids, d_out, vocab)
                if name != "zeros":
                    np.testing.assert_allclose(result, reference, rtol=1e-4, atol=1e-4)
                cells.append(f"{median_ms(METHODS[name], (ids, d_out, vocab), args.repeats):13.2f}")
            print(f"| {vocab:>6} | {dim:>4} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
