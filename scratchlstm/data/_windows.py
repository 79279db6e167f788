"""Sliding windows over a time series: the `(X, y)` pairs a sequence model trains on."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from ._arrays import as_table, check_size, float_dtype, resolve_columns


def make_windows(data: Any, lookback: int, horizon: int = 1, *, features: Any = None, targets: Any = None,
                 stride: int = 1) -> tuple[NDArray[Any], NDArray[Any]]:
    """Cut a series into input windows `X` and the values `y` that follow each window.

    Window `k` starts at row `s = k * stride`:

    ```
    X[k] = data[s : s + lookback, features]                      (lookback, F)
    y[k] = data[s + lookback : s + lookback + horizon, targets]  (horizon, T)
    ```

    so `y[k]` holds the `horizon` rows right after the window and never overlaps it.
    The number of windows is `(N - lookback - horizon) // stride + 1`; trailing rows
    that do not fill a whole window plus horizon are dropped.

    Split the series *before* windowing (see `chronological_split`) so that no window
    straddles train and validation data.

    Arguments:
        data: the series, rows in time order: a NumPy array `(N,)` or `(N, C)`, a pandas
            Series `(N,)` or a DataFrame `(N, C)`. Values must be numeric.
        lookback: number of past steps in each input window, an integer >= 1.
        horizon: number of future steps to predict, an integer >= 1.
        features: the input columns; default all columns. For a DataFrame (or a named
            Series) column labels, for arrays integer column indices; a single label or
            index means one column.
        targets: the predicted columns, chosen from all columns of `data` in the same
            way (not only from `features`); default the feature columns.
        stride: rows between the starts of consecutive windows, an integer >= 1.

    Returns:
        `(X, y)`, C-contiguous arrays:

        - `X`: `(samples, lookback, F)`;
        - `y`: `(samples, T)` when `horizon == 1`, else `(samples, horizon, T)`.

        float32 and float64 input keeps its dtype; any other dtype (integers, booleans,
        float16) becomes float32. NaN values are copied as they are.

    Raises:
        ValueError: sizes that are not integers >= 1, fewer than `lookback + horizon`
            rows, data that is not 1-D or 2-D, not numeric or without columns, or a column
            that does not exist.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.data import make_windows
        >>> X, y = make_windows(np.arange(10), lookback=3, horizon=2, stride=2)
        >>> X.shape, y.shape
        ((3, 3, 1), (3, 2, 1))
        >>> X[1, :, 0], y[1, :, 0]
        (array([2., 3., 4.], dtype=float32), array([5., 6.], dtype=float32))
    """
    lookback = check_size("lookback", lookback)
    horizon = check_size("horizon", horizon)
    stride = check_size("stride", stride)
    values, labels, _ = as_table(data)
    n_rows, n_columns = values.shape
    if n_rows < lookback + horizon:
        raise ValueError(
            f"lookback={lookback} and horizon={horizon} need at least "
            f"{lookback + horizon} rows, got {n_rows}"
        )
    feature_cols = (list(range(n_columns)) if features is None
                    else resolve_columns(features, labels, n_columns, "features"))
    target_cols = (feature_cols if targets is None
                   else resolve_columns(targets, labels, n_columns, "targets"))

    values = values.astype(float_dtype(values.dtype), copy=False)
    n_samples = (n_rows - lookback - horizon) // stride + 1
    # sliding_window_view only builds strided views; the single copy happens in
    # np.array(order="C"), after the stride and the sample count have been applied.
    # (Not ascontiguousarray: with lookback or horizon 1 the view can already count as
    # contiguous, and the result would alias `data`.)
    # Its windows come out as (windows, columns, window_length), hence the swapaxes.
    x_windows = sliding_window_view(_take_columns(values, feature_cols), lookback, axis=0)
    y_windows = sliding_window_view(_take_columns(values, target_cols)[lookback:], horizon, axis=0)
    X = np.array(x_windows[::stride][:n_samples].swapaxes(1, 2), order="C")
    y = np.array(y_windows[::stride][:n_samples].swapaxes(1, 2), order="C")
    if horizon == 1:
        y = y[:, 0, :]  # still contiguous: a view of the whole buffer
    return X, y


def _take_columns(values: NDArray[Any], columns: list[int]) -> NDArray[Any]:
    """`values[:, columns]`, as a view (no copy) when the columns are one contiguous run."""
    start = columns[0]
    if columns == list(range(start, start + len(columns))):
        return values[:, start:start + len(columns)]
    return values[:, columns]
