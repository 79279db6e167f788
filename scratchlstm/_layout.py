"""The one module for the axis order and memory layout of arrays (weights from other frameworks: `scratchlstm.interop`).

The library's layout is Keras': ``kernel (I, 4H)``, ``recurrent_kernel (H, 4H)``, ``bias (4H,)``,
gate blocks ``[i, f, c, o]``, data batch-first ``(B, T, F)``. The NumPy recurrence runs
time-major internally, with each step's ``(B, ·)`` slab stored column-major: see
`column_major_steps` and `feature_major`.
PyTorch's recurrent weights (transposed matrices, two biases, GRU gates ``[r, z, n]``) are
converted in `scratchlstm.interop`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray


def to_time_major(x: NDArray[Any]) -> NDArray[Any]:
    """``(B, T, ...) -> (T, B, ...)`` as a view (no copy)."""
    return np.swapaxes(x, 0, 1)


def to_batch_major(x: NDArray[Any]) -> NDArray[Any]:
    """``(T, B, ...) -> (B, T, ...)`` as a view (no copy)."""
    return np.swapaxes(x, 0, 1)


def column_major_steps(steps: int, batch: int, width: int, dtype: DTypeLike) -> NDArray[Any]:
    """An empty ``(T, B, W)`` array whose every step ``[t]`` is a column-major ``(B, W)`` slab.

    The memory is ``(T, W, B)``. Indexing reads as the math, ``gates[t][:, :H]`` is the input
    gate ``(B, H)``, but each gate block is one contiguous run of ``B*H`` values. Measured on
    the 2-core CI machine (OpenBLAS 0.3.31, interleaved medians), OpenBLAS's small per-step
    GEMMs are faster with column-major operands and result (B = 64, H = 128: forward 128-132
    vs 166-167 us; B = 16, H = 64: backward 39-40 vs 53-55 us; equal at B = H = 256), and an
    elementwise pass over a contiguous gate block is 4x faster than over a strided one.
    """
    slabs: NDArray[Any] = np.empty((steps, width, batch), dtype=dtype).transpose(0, 2, 1)
    return slabs


def feature_major(steps: int, batch: int, width: int, dtype: DTypeLike) -> NDArray[Any]:
    """An empty ``(T, B, W)`` array stored as ``(W, T, B)``: one row of ``T*B`` values per feature.

    For the arrays that the weight-gradient GEMMs contract over all ``T*B`` rows at once (the
    inputs, the hidden states, ``dz``): `as_rows` views them as ``(W, T*B)`` without a copy.
    A step ``[t]`` is still a ``(B, W)`` slab that BLAS reads directly (column-major with a
    leading dimension of ``T*B``).
    """
    per_feature: NDArray[Any] = np.empty((width, steps, batch), dtype=dtype).transpose(1, 2, 0)
    return per_feature


def as_rows(array: NDArray[Any]) -> NDArray[Any]:
    """``(T, B, W)`` from `feature_major` (or a slice of its steps) -> ``(W, T*B)`` view, no copy."""
    steps, batch, width = array.shape
    rows: NDArray[Any] = array.transpose(2, 0, 1).view()
    rows.shape = (width, steps * batch)  # raises instead of copying if the memory does not fit
    return rows
