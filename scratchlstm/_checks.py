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


def check_representable(array: NDArray[Any], dtype: DTypeLike, name: str) -> NDArray[Any]:
    """``array`` cast to ``dtype``, checked finite after the cast: float64 values beyond float32's
    range (1e39) would otherwise become inf in the cast, after a check on the float64 array passed."""
    target = np.dtype(dtype)
    if target.kind in "iu":  # integer ids: whole numbers the integer type can hold
        check_finite(array, name)
        info = np.iinfo(target)
        if array.size and (array.min() < info.min or array.max() > info.max):
            raise ValueError(f"{name} must hold values in {target.name}'s range [{info.min}, {info.max}], "
                             f"got values from {array.min():.6g} to {array.max():.6g}")
        if not np.array_equal(array, np.round(array)):
            raise ValueError(f"{name} (declared {target.name}) must hold whole numbers, got {array.dtype} values with fractions")
        return array.astype(target, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):  # checked just below, in the dtype the math sees
        cast: NDArray[Any] = array.astype(target, copy=False)
    if not np.isfinite(cast).all():
        check_finite(array, name)  # NaN or inf already: that message; else the cast overflowed
        raise ValueError(f"{name} must hold values {target.name} can represent, got values beyond {target.name}'s range "
                         f"(largest magnitude {np.max(np.abs(array)):.3g}); the model computes in {target.name}")
    return cast


def check_dimensions(shape: Any, what: str) -> None:
    """Each dimension of ``shape`` None or a non-negative int (not a bool, a float or a string);
    zero is left to each layer (an empty batch is valid, zero features are not). A list is
    several inputs' shapes."""
    if isinstance(shape, list):
        for each in shape:
            check_dimensions(each, what)
        return
    if not isinstance(shape, tuple):
        raise ValueError(f"{what} must be a tuple of dimensions, got {type(shape).__name__} {shape!r}")
    for dim in shape:
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 0):
            raise ValueError(f"{what} must have dimensions that are non-negative integers or None, got {tuple(shape)}")


def compute_dtype(*arrays: ArrayLike | None) -> np.dtype[Any]:
    """float64 if any floating input is float64, else float32."""
    for a in arrays:
        if a is not None and np.asarray(a).dtype == np.float64:
            return np.dtype(np.float64)
    return np.dtype(np.float32)
