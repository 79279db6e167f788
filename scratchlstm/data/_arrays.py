"""Shared input handling for `scratchlstm.data`: duck-typed pandas, dtypes, size checks.

Nothing here imports pandas at module level; pandas objects are recognised by their
attributes, and pandas itself is imported only by `require_pandas` when a function
must build a pandas object.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

PANDAS_HINT = 'pandas is required for this; install it with: pip install "scratchlstm[data]"'


def require_pandas() -> Any:  # pandas is untyped here (not analysed)
    """Import and return pandas, or raise ImportError carrying the install hint."""
    try:
        import pandas
    except ImportError as err:
        raise ImportError(PANDAS_HINT) from err
    return pandas


def is_dataframe(obj: Any) -> bool:
    """True for pandas DataFrames (anything with `.columns` and `.iloc`)."""
    return hasattr(obj, "columns") and hasattr(obj, "iloc")


def is_series(obj: Any) -> bool:
    """True for pandas Series (`.iloc` and `.to_numpy` but no `.columns`)."""
    return hasattr(obj, "iloc") and hasattr(obj, "to_numpy") and not hasattr(obj, "columns")


def float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """The float dtype used for `dtype`: float32 and float64 are kept, anything else
    (integers, booleans, float16) becomes float32, the dtype the models train in."""
    dtype = np.dtype(dtype)
    if dtype in (np.float32, np.float64):
        return dtype
    return np.dtype(np.float32)


def check_size(name: str, value: Any, minimum: int = 1) -> int:
    """Return `value` as int if it is an integer >= minimum, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def pandas_numeric_values(obj: Any) -> NDArray[Any]:
    """The values of an all-numeric pandas Series `(N,)` or DataFrame `(N, C)` as a NumPy
    array; names the columns that are not numeric."""
    dtypes = obj.dtypes.items() if hasattr(obj, "columns") else [(obj.name, obj.dtype)]
    # `.kind` exists on NumPy dtypes and on pandas extension dtypes (Int64, Float64,
    # boolean, string, category) alike, so no pandas import is needed to check it.
    bad = [f"{label!r} ({dtype})" for label, dtype in dtypes if getattr(dtype, "kind", "O") not in "biuf"]
    if bad:
        raise ValueError(
            "expected numeric columns, but these are not: " + ", ".join(bad)
            + "; pick numeric columns (e.g. features=[...]) or move dates into the index"
        )
    values: NDArray[Any] = obj.to_numpy()
    if values.dtype == object:  # nullable extension dtypes; their missing values become NaN
        values = obj.to_numpy(dtype=np.float64, na_value=np.nan)
    return values


def as_table(data: Any, what: str = "data") -> tuple[NDArray[Any], list[Any] | None, int]:
    """Turn `data` into a 2-D array of rows x columns.

    Arguments:
        data: a NumPy array `(N,)` or `(N, C)`, anything `np.asarray` accepts, a pandas
            Series `(N,)` or a DataFrame `(N, C)`.
        what: the argument's name, for error messages.

    Returns:
        `(values, labels, ndim)`: `values` is `(N, C)` (not yet cast to float),
        `labels` the column labels (a list) for a DataFrame or named Series, else None
        (columns are then addressed by position), and `ndim` the
        input's number of dimensions (1 or 2).
    """
    labels: list[Any] | None
    if is_dataframe(data):
        values, labels, ndim = pandas_numeric_values(data), list(data.columns), 2
    elif is_series(data):
        # An unnamed Series is addressed by position 0, a named one by its name.
        values, labels, ndim = pandas_numeric_values(data), None if data.name is None else [data.name], 1
    else:
        values, labels = np.asarray(data), None
        ndim = values.ndim
        if ndim not in (1, 2):
            raise ValueError(f"{what} must be 1-D (N,) or 2-D (N, C), got shape {values.shape}")
        if values.dtype.kind not in "biuf":  # booleans, integers, floats; not complex
            raise ValueError(f"{what} must be numeric, got dtype {values.dtype}")
    if ndim == 1:
        values = values.reshape(-1, 1)
    if values.shape[1] == 0:
        raise ValueError(f"{what} must have at least one column, got shape {values.shape}")
    return values, labels, ndim


def resolve_columns(keys: Any, labels: Sequence[Any] | None, n_columns: int, what: str) -> list[int]:
    """Positions of the columns named by `keys`.

    With pandas `labels` the keys are column labels; without, they are integer
    positions in `range(-n_columns, n_columns)`. A single key means one column.
    """
    if isinstance(keys, (str, bytes)) or not np.iterable(keys):
        keys = [keys]
    keys = list(keys)
    if not keys:
        raise ValueError(f"{what} must name at least one column, got an empty list")
    positions: list[int] = []
    for key in keys:
        if labels is not None:
            matches = [i for i, label in enumerate(labels) if label == key]
            if not matches:
                raise ValueError(f"{what}: no column {key!r}; the columns are {labels}")
            positions.append(matches[0])
            continue
        if isinstance(key, bool) or not isinstance(key, numbers.Integral):
            raise ValueError(
                f"{what}: with array data columns are integer indices, got {key!r}"
            )
        if not -n_columns <= int(key) < n_columns:
            raise ValueError(f"{what}: column index {key} is out of range for {n_columns} column(s)")
        positions.append(int(key) % n_columns)
    return positions
