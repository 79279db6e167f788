"""Input validation shared by the reference functions and the Keras-style facade.

Every check raises ``ValueError`` naming what was expected and what arrived.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray


def as_float_array(value: ArrayLike, name: str, dtype: DTypeLike | None = None) -> NDArray[Any]:
    """Return ``value`` as a floating NumPy array (``dtype`` if given, else float32 for non-floats)."""
    array = np.asarray(value)
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "iub":
        return array.astype(np.float32)
    raise ValueError(f"{name} must be numeric, got an array of dtype {array.dtype}")


def check_ndim(array: NDArray[Any], ndim: int, name: str, meaning: str) -> None:
    if array.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D {meaning}, got shape {tuple(array.shape)} ({array.ndim}-D)"
        )


def check_shape(array: NDArray[Any], expected: tuple[int, ...], name: str) -> None:
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}, got {tuple(array.shape)}")


def check_finite(array: NDArray[Any], name: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite, got {bad} NaN or inf value(s) in shape {array.shape}")


def compute_dtype(*arrays: ArrayLike | None) -> np.dtype[Any]:
    """float64 if any floating input is float64, else float32."""
    for a in arrays:
        if a is not None and np.asarray(a).dtype == np.float64:
            return np.dtype(np.float64)
    return np.dtype(np.float32)
