"""Split a time series by position into train, validation and test parts."""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from ._arrays import is_dataframe, is_series


class Split(NamedTuple):
    """The three consecutive parts of a series, oldest first; unpacks as a tuple."""

    train: Any
    val: Any
    test: Any


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def chronological_split(data: Any, val_fraction: float = 0.15, test_fraction: float = 0.15) -> Split:
    """Split a series by position into train, validation and test parts, in time order.

    The last `test_fraction` of the rows are the test part, the `val_fraction` before them
    the validation part and everything earlier the training part. Nothing is shuffled,
    so the model never trains on rows that lie after the rows it is checked on.

    Leak-free recipe (split first; fit the scaler on train only; window each part alone,
    so no window crosses a boundary):

    ```
    train, val, test = chronological_split(df, val_fraction=0.15, test_fraction=0.15)
    scaler = MinMaxScaler().fit(train)              # statistics of the past only
    X_train, y_train = make_windows(scaler.transform(train), lookback, horizon)
    X_val, y_val = make_windows(scaler.transform(val), lookback, horizon)
    X_test, y_test = make_windows(scaler.transform(test), lookback, horizon)
    ```

    Each part must hold at least `lookback + horizon` rows for `make_windows`. (Taking
    the last `lookback` training rows as context for the first validation window would
    also be leak-free, since they lie in the past; this recipe keeps it simpler.)

    Arguments:
        data: rows in time order: a NumPy array `(N, ...)`, a pandas Series `(N,)` or a
            DataFrame `(N, C)`, or anything `np.asarray` accepts.
        val_fraction: share of rows for validation, in `[0, 1)`.
        test_fraction: share of rows for testing, in `[0, 1)`.

    Returns:
        `Split(train, val, test)`, a named tuple. Part sizes are
        `n_val = round(N * val_fraction)`, `n_test = round(N * test_fraction)` and
        `n_train = N - n_val - n_test`. Arrays come back as views of `data`; pandas
        objects as `.iloc` slices that keep their index. A fraction of 0 gives an empty part.

    Raises:
        ValueError: a fraction outside `[0, 1)`, fractions that sum to 1 or more, a
            non-zero fraction that rounds to zero rows, or no rows left for training.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.data import chronological_split
        >>> train, val, test = chronological_split(np.arange(10), 0.2, 0.1)
        >>> train, val, test
        (array([0, 1, 2, 3, 4, 5, 6]), array([7, 8]), array([9]))
    """
    val_fraction = _check_fraction("val_fraction", val_fraction)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 to leave training rows, got "
            f"{val_fraction} + {test_fraction} = {val_fraction + test_fraction}"
        )
    pandas_like = is_dataframe(data) or is_series(data)
    if not pandas_like:
        data = np.asarray(data)
        if data.ndim == 0:
            raise ValueError(f"data must have at least one dimension (rows), got a scalar {data!r}")
    n_rows = len(data)
    n_val = round(n_rows * val_fraction)
    n_test = round(n_rows * test_fraction)
    for name, fraction, size in (("val_fraction", val_fraction, n_val),
                                 ("test_fraction", test_fraction, n_test)):
        if fraction > 0 and size == 0:
            raise ValueError(f"{name}={fraction} of {n_rows} rows gives 0 rows; use more data or a larger fraction")
    n_train = n_rows - n_val - n_test
    if n_train < 1:
        raise ValueError(f"no rows left for training: {n_rows} rows, {n_val} for validation, {n_test} for test")
    rows = data.iloc if pandas_like else data
    return Split(rows[:n_train], rows[n_train:n_train + n_val], rows[n_train + n_val:])
