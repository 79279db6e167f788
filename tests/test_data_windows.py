"""make_windows and chronological_split: exact contents, counts, properties, errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlstm.data import chronological_split, make_windows


def table(n_rows, n_cols=3):
    # Value = 10 * row + column, so every entry says where it came from.
    return (10 * np.arange(n_rows)[:, None] + np.arange(n_cols)[None, :]).astype(np.float64)


# -- make_windows: contents -------------------------------------------------------------

def test_1d_windows_match_hand_made():
    X, y = make_windows(np.arange(6), lookback=3)
    expected_X = np.array([[0, 1, 2], [1, 2, 3], [2, 3, 4]], dtype=np.float32)[..., None]
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, np.array([[3], [4], [5]], dtype=np.float32))
    assert X.dtype == np.float32 and y.dtype == np.float32  # integers become float32


def test_stride_and_horizon():
    X, y = make_windows(np.arange(12), lookback=4, horizon=3, stride=3)
    # (12 - 4 - 3) // 3 + 1 = 2 windows, starting at rows 0 and 3
    assert X.shape == (2, 4, 1) and y.shape == (2, 3, 1)
    np.testing.assert_array_equal(X[:, :, 0], [[0, 1, 2, 3], [3, 4, 5, 6]])
    np.testing.assert_array_equal(y[:, :, 0], [[4, 5, 6], [7, 8, 9]])


def test_2d_features_and_targets_by_index():
    data = table(8)
    X, y = make_windows(data, lookback=2, horizon=2, features=[2, 0], targets=1)
    assert X.shape == (5, 2, 2) and y.shape == (5, 2, 1)
    np.testing.assert_array_equal(X[3], [[32, 30], [42, 40]])
    np.testing.assert_array_equal(y[3, :, 0], [51, 61])
    assert X.dtype == np.float64  # float64 is preserved


def test_default_targets_are_the_features():
    X, y = make_windows(table(5), lookback=2, features=[1, 2])
    np.testing.assert_array_equal(y, table(5)[2:, 1:])
    assert X.flags.c_contiguous and y.flags.c_contiguous


def test_float32_is_preserved_and_negative_index():
    data = table(5).astype(np.float32)
    X, y = make_windows(data, lookback=3, targets=-1)
    assert X.dtype == y.dtype == np.float32
    np.testing.assert_array_equal(y[:, 0], [32, 42])


@pytest.mark.parametrize("lookback, horizon", [(2, 1), (1, 1), (1, 3)])
def test_outputs_do_not_alias_input(lookback, horizon):
    # Size-1 windows make contiguous views; the outputs must still be copies.
    data = table(6)
    X, y = make_windows(data, lookback=lookback, horizon=horizon)
    data[:] = -1
    assert X.min() >= 0 and y.min() >= 0
    assert not np.shares_memory(X, data)
    assert not np.shares_memory(y, data)


def test_dataframe_with_column_names():
    frame = pd.DataFrame(table(7), columns=["a", "b", "c"])
    X, y = make_windows(frame, lookback=3, horizon=2, features=["c", "a"], targets="b")
    assert X.shape == (3, 3, 2) and y.shape == (3, 2, 1)
    np.testing.assert_array_equal(X[2], [[22, 20], [32, 30], [42, 40]])
    np.testing.assert_array_equal(y[2, :, 0], [51, 61])


def test_dataframe_non_numeric_column_is_named():
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=5), "v": np.arange(5.0)})
    with pytest.raises(ValueError, match="'date'"):
        make_windows(frame, lookback=2)
    X, _ = make_windows(frame.set_index("date"), lookback=2)
    np.testing.assert_array_equal(X[:, :, 0], [[0, 1], [1, 2], [2, 3]])


def test_series_input():
    series = pd.Series(np.arange(5.0), name="temp")
    X, y = make_windows(series, lookback=2, targets="temp")
    np.testing.assert_array_equal(X[:, :, 0], [[0, 1], [1, 2], [2, 3]])
    np.testing.assert_array_equal(y, [[2], [3], [4]])
    X, _ = make_windows(pd.Series(np.arange(5.0)), lookback=2, features=0)
    assert X.shape == (3, 2, 1)


# -- make_windows: errors -------------------------------------------------------------------

def test_too_few_rows_message():
    with pytest.raises(ValueError, match=r"lookback=30 and horizon=7 need at least 37 rows, got 20"):
        make_windows(np.zeros(20), lookback=30, horizon=7)


@pytest.mark.parametrize("empty", [np.array([]), np.zeros((0, 3))])
def test_empty_data(empty):
    with pytest.raises(ValueError, match="lookback=1 and horizon=1 need at least 2 rows, got 0"):
        make_windows(empty, lookback=1)


def test_exactly_enough_rows_gives_one_window():
    X, y = make_windows(np.arange(5), lookback=3, horizon=2, stride=10)
    assert X.shape == (1, 3, 1) and y.shape == (1, 2, 1)


@pytest.mark.parametrize("name", ["lookback", "horizon", "stride"])
@pytest.mark.parametrize("bad", [0, -1, 2.0, "3", True, None])
def test_bad_sizes(name, bad):
    kwargs = {"lookback": 2, "horizon": 1, "stride": 1, name: bad}
    with pytest.raises(ValueError, match=rf"{name} must be an integer >= 1, got"):
        make_windows(np.arange(10), **kwargs)


def test_numpy_integer_sizes_are_fine():
    X, _ = make_windows(np.arange(10), lookback=np.int64(3), horizon=np.int32(1))
    assert X.shape == (7, 3, 1)


@pytest.mark.parametrize("targets, match", [(3, "column index 3 is out of range for 3"),
                                            ("a", "integer indices, got 'a'"),
                                            ([], "at least one column")])
def test_bad_array_columns(targets, match):
    with pytest.raises(ValueError, match=match):
        make_windows(table(6), lookback=2, targets=targets)


def test_missing_dataframe_column_is_named():
    frame = pd.DataFrame(table(6), columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"targets: no column 'temp'; the columns are \['a', 'b', 'c'\]"):
        make_windows(frame, lookback=2, targets="temp")


def test_bad_dimensions_and_dtype():
    with pytest.raises(ValueError, match=r"1-D \(N,\) or 2-D \(N, C\), got shape \(4, 3, 2\)"):
        make_windows(np.zeros((4, 3, 2)), lookback=1)
    with pytest.raises(ValueError, match="numeric"):
        make_windows(np.array(["a", "b", "c"]), lookback=1)


# -- make_windows: property ---------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(n_rows=st.integers(1, 40), n_cols=st.integers(1, 3), lookback=st.integers(1, 12),
       horizon=st.integers(1, 5), stride=st.integers(1, 6), data=st.data())
def test_windows_property(n_rows, n_cols, lookback, horizon, stride, data):
    values = table(n_rows, n_cols)
    targets = data.draw(st.lists(st.integers(0, n_cols - 1), min_size=1, max_size=n_cols))
    if n_rows < lookback + horizon:
        with pytest.raises(ValueError, match="need at least"):
            make_windows(values, lookback, horizon, stride=stride, targets=targets)
        return
    X, y = make_windows(values, lookback, horizon, stride=stride, targets=targets)
    n_samples = (n_rows - lookback - horizon) // stride + 1
    assert X.shape == (n_samples, lookback, n_cols)
    assert y.shape == ((n_samples, len(targets)) if horizon == 1 else (n_samples, horizon, len(targets)))
    y3 = y.reshape(n_samples, horizon, len(targets))
    for k in range(n_samples):
        start = k * stride
        np.testing.assert_array_equal(X[k], values[start:start + lookback])
        np.testing.assert_array_equal(y3[k], values[start + lookback:start + lookback + horizon][:, targets])
    # The next window would not fit: the count is the largest possible.
    assert n_samples * stride + lookback + horizon > n_rows


# -- chronological_split ------------------------------------------------------------------

def test_split_sizes_order_and_no_overlap():
    data = np.arange(100)
    train, val, test = chronological_split(data, val_fraction=0.2, test_fraction=0.1)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    np.testing.assert_array_equal(np.concatenate([train, val, test]), data)
    assert train.max() < val.min() and val.max() < test.min()


def test_split_dataframe_keeps_index_and_type():
    frame = pd.DataFrame({"v": np.arange(20.0)}, index=pd.date_range("2020-01-01", periods=20))
    parts = chronological_split(frame, 0.25, 0.25)
    assert all(isinstance(part, pd.DataFrame) for part in parts)
    assert [len(part) for part in parts] == [10, 5, 5]
    assert parts.val.index[0] == pd.Timestamp("2020-01-11")
    pd.testing.assert_frame_equal(pd.concat(parts), frame)


def test_split_series_and_zero_fraction():
    train, val, test = chronological_split(pd.Series(np.arange(10)), val_fraction=0.3, test_fraction=0)
    assert (len(train), len(val), len(test)) == (7, 3, 0)
    assert list(val) == [7, 8, 9]


def test_windows_from_train_never_reach_validation_rows():
    data = table(60, 2)
    train, val, _ = chronological_split(data, 0.2, 0.2)
    X, y = make_windows(train, lookback=5, horizon=3)
    first_val_value = val[0, 0]
    assert X[..., 0].max() < first_val_value and y[..., 0].max() < first_val_value
    # The last training target is the last training row, nothing later.
    assert y[-1, -1, 0] == train[-1, 0]


@pytest.mark.parametrize("val_fraction, test_fraction, match", [
    (-0.1, 0.1, r"val_fraction must be in \[0, 1\), got -0.1"),
    (0.1, 1.0, r"test_fraction must be in \[0, 1\), got 1.0"),
    (0.6, 0.4, "must be < 1"),
    ("0.1", 0.1, "val_fraction must be a number"),
    (float("nan"), 0.1, "val_fraction must be a number"),
    (0.01, 0.1, "val_fraction=0.01 of 20 rows gives 0 rows"),
])
def test_split_bad_fractions(val_fraction, test_fraction, match):
    with pytest.raises(ValueError, match=match):
        chronological_split(np.arange(20), val_fraction, test_fraction)


def test_split_needs_training_rows():
    with pytest.raises(ValueError, match="no rows left for training"):
        chronological_split(np.arange(2), 0.5, 0.4)
