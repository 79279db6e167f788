"""MinMaxScaler / StandardScaler: round trips, exact ranges, errors without state change, state dicts."""

import copy
import io

import numpy as np
import pandas as pd
import pytest

from scratchlstm.data import MinMaxScaler, NotFittedError, StandardScaler, scaler_from_state

SCALERS = [MinMaxScaler, StandardScaler]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(loc=[0.0, 50.0, -3.0], scale=[1.0, 10.0, 0.1], size=(40, 3))


def snapshot(scaler):
    return copy.deepcopy(vars(scaler))


def assert_same_state(before, scaler):
    after = vars(scaler)
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(np.asarray(after[key], dtype=object), np.asarray(value, dtype=object))


@pytest.mark.parametrize("cls", SCALERS)
def test_round_trip_2d_and_3d(cls, data):
    scaler = cls().fit(data)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(data)), data, rtol=1e-12, atol=1e-12)
    windows = data.reshape(8, 5, 3)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(windows)), windows, rtol=1e-12, atol=1e-12)
    # Fit on 3-D reduces over both leading axes: the same statistics as on 2-D.
    fitted_3d = cls().fit(windows)
    np.testing.assert_array_equal(fitted_3d.scale_, scaler.scale_)
    np.testing.assert_array_equal(fitted_3d.transform(windows), scaler.transform(windows))


@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 1), (-3, 5)])
def test_minmax_hits_feature_range_exactly(feature_range, data):
    scaled = MinMaxScaler(feature_range).fit_transform(data)
    np.testing.assert_array_equal(scaled.min(axis=0), np.full(3, feature_range[0], dtype=float))
    np.testing.assert_array_equal(scaled.max(axis=0), np.full(3, feature_range[1], dtype=float))


def test_minmax_values_by_hand():
    scaler = MinMaxScaler().fit(np.array([[0.0, 10.0], [4.0, 30.0]]))
    np.testing.assert_array_equal(scaler.data_min_, [0, 10])
    np.testing.assert_array_equal(scaler.data_range_, [4, 20])
    np.testing.assert_allclose(scaler.transform(np.array([[1.0, 25.0]])), [[0.25, 0.75]])
    # scikit-learn's form x * scale_ + min_ agrees
    x = np.array([[1.0, 25.0]])
    np.testing.assert_allclose(x * scaler.scale_ + scaler.min_, [[0.25, 0.75]])


def test_standard_values_by_hand():
    scaler = StandardScaler().fit(np.array([[1.0], [3.0], [5.0], [7.0]]))
    assert scaler.mean_[0] == 4.0 and scaler.var_[0] == 5.0
    np.testing.assert_allclose(scaler.transform(np.array([[4.0 + np.sqrt(5.0)]])), [[1.0]])
    scaled = StandardScaler().fit_transform(np.random.default_rng(1).normal(3, 2, size=(500, 2)))
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1, rtol=1e-12)


@pytest.mark.parametrize("cls", SCALERS)
def test_constant_column_does_not_divide_by_zero(cls):
    x = np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 3.0]])
    scaler = cls().fit(x)
    with np.errstate(all="raise"):
        scaled = scaler.transform(x)
        back = scaler.inverse_transform(scaled)
    np.testing.assert_array_equal(scaled[:, 0], 0.0)  # lo of (0, 1), or zero mean
    assert scaler.scale_[0] == 1.0 or cls is MinMaxScaler
    np.testing.assert_allclose(back, x, rtol=1e-15)


def test_one_d_is_one_column_and_dtype():
    x = np.arange(5, dtype=np.float32)
    scaler = MinMaxScaler().fit(x)
    out = scaler.transform(x)
    assert out.shape == (5,) and out.dtype == np.float32
    np.testing.assert_allclose(out, [0, 0.25, 0.5, 0.75, 1])
    assert MinMaxScaler().fit_transform(np.arange(3)).dtype == np.float32  # ints -> float32
    assert scaler.data_min_.dtype == np.float64  # statistics stay float64


@pytest.mark.parametrize("cls", SCALERS)
@pytest.mark.parametrize("method", ["transform", "inverse_transform", "subset"])
def test_not_fitted(cls, method):
    with pytest.raises(NotFittedError, match=f"not fitted yet; call fit.*before {method}"):
        getattr(cls(), method)(np.zeros((2, 2)) if method != "subset" else [0])
    assert issubclass(NotFittedError, ValueError)


@pytest.mark.parametrize("cls", SCALERS)
def test_feature_mismatch_names_counts_and_keeps_state(cls, data):
    scaler = cls().fit(data)
    before = snapshot(scaler)
    with pytest.raises(ValueError, match=r"expected 3 feature column\(s\) on the last axis, got 2"):
        scaler.transform(data[:, :2])
    with pytest.raises(ValueError, match=r"expected 1 feature column\(s\) on the last axis, got 3"):
        scaler.inverse_transform(data, columns=[1])
    assert_same_state(before, scaler)


@pytest.mark.parametrize("cls", SCALERS)
@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_non_finite_fit_raises_and_keeps_state(cls, data, bad_value):
    scaler = cls().fit(data)
    before = snapshot(scaler)
    bad = data[:5].copy()
    bad[2, 1] = bad_value
    with pytest.raises(ValueError, match=r"1 NaN/inf value\(s\), in column\(s\) \[1\]"):
        scaler.fit(bad)
    assert_same_state(before, scaler)
    with pytest.raises(ValueError, match="at least one row"):
        scaler.fit(np.zeros((0, 3)))
    assert_same_state(before, scaler)


def test_bad_feature_range():
    for bad in [(1, 0), (0, 0), (0, np.inf), 5, (0, 1, 2)]:
        with pytest.raises(ValueError, match="feature_range"):
            MinMaxScaler(bad)


@pytest.mark.parametrize("cls", SCALERS)
def test_target_only_inverse(cls, data):
    scaler = cls().fit(data)
    scaled = scaler.transform(data)
    y_scaled = scaled[:, [2]]  # forecasts of column 2 only, (samples, 1)
    np.testing.assert_allclose(scaler.inverse_transform(y_scaled, columns=[2]), data[:, [2]], rtol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(y_scaled, columns=-1), data[:, [2]], rtol=1e-12)
    y_multi = scaled[:, [2]].reshape(8, 5, 1)  # (samples, horizon, 1)
    np.testing.assert_allclose(scaler.subset([2]).inverse_transform(y_multi), data[:, [2]].reshape(8, 5, 1), rtol=1e-12)
    with pytest.raises(ValueError, match="not an index in range"):
        scaler.inverse_transform(y_scaled, columns=[3])
    with pytest.raises(ValueError, match="fit without column names"):
        scaler.inverse_transform(y_scaled, columns=["temp"])


def test_dataframe_names_and_types(data):
    frame = pd.DataFrame(data, columns=["a", "b", "temp"], index=pd.date_range("2020-01-01", periods=40))
    scaler = MinMaxScaler().fit(frame)
    assert scaler.feature_names_ == ["a", "b", "temp"]
    scaled = scaler.transform(frame)
    assert isinstance(scaled, pd.DataFrame) and scaled.index.equals(frame.index)
    np.testing.assert_allclose(scaled.to_numpy(), MinMaxScaler().fit_transform(data))
    # By name: explicit columns, a subset, and a DataFrame matched by its own column names.
    np.testing.assert_allclose(scaler.inverse_transform(scaled[["temp"]].to_numpy(), columns="temp"), data[:, [2]])
    np.testing.assert_allclose(scaler.subset(["temp"]).inverse_transform(scaled["temp"].to_numpy()), data[:, 2])
    reordered = scaler.inverse_transform(scaled[["temp", "a"]])
    np.testing.assert_allclose(reordered.to_numpy(), data[:, [2, 0]])
    assert scaler.subset(["temp", "a"]).feature_names_ == ["temp", "a"]
    series_back = scaler.inverse_transform(scaled["temp"])
    assert isinstance(series_back, pd.Series) and series_back.name == "temp"
    np.testing.assert_allclose(series_back.to_numpy(), data[:, 2])
    with pytest.raises(ValueError, match=r"no fitted column 'wind'"):
        scaler.transform(frame.rename(columns={"b": "wind"}))


def test_dataframe_non_numeric_column():
    frame = pd.DataFrame({"v": [1.0, 2.0], "weather": ["rain", "sun"]})
    with pytest.raises(ValueError, match="'weather'"):
        StandardScaler().fit(frame)


@pytest.mark.parametrize("cls", SCALERS)
def test_state_round_trip_through_npz_without_pickle(cls, data):
    frame = pd.DataFrame(data, columns=["a", "b", "c"])
    scaler = (MinMaxScaler((-1, 1)) if cls is MinMaxScaler else cls()).fit(frame)
    state = scaler.get_state()
    assert state["class"] == cls.__name__
    buffer = io.BytesIO()
    np.savez(buffer, **{f"scaler.{key}": value for key, value in state.items()})
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as stored:
        loaded = {key.removeprefix("scaler."): stored[key] for key in stored.files}
    for restored in (cls.from_state(loaded), scaler_from_state(loaded), scaler_from_state(state)):
        assert type(restored) is cls and restored.feature_names_ == ["a", "b", "c"]
        np.testing.assert_array_equal(restored.transform(data), scaler.transform(data))
        np.testing.assert_array_equal(restored.scale_, scaler.scale_)
        assert restored.n_samples_seen_ == 40
    if cls is MinMaxScaler:
        assert cls.from_state(loaded).feature_range == (-1.0, 1.0)


def test_state_of_unfitted_scaler_and_bad_states(data):
    restored = scaler_from_state(MinMaxScaler((2, 3)).get_state())
    assert restored.feature_range == (2.0, 3.0)
    with pytest.raises(NotFittedError):
        restored.transform(data)
    state = StandardScaler().fit(data).get_state()
    with pytest.raises(ValueError, match="state is for StandardScaler, not MinMaxScaler"):
        MinMaxScaler.from_state(state)
    with pytest.raises(ValueError, match="unknown scaler class 'Robust'"):
        scaler_from_state({**state, "class": "Robust"})
    with pytest.raises(ValueError, match="no 'class' key"):
        scaler_from_state({"mean_": state["mean_"]})
    with pytest.raises(ValueError, match=r"missing \['var_'\]"):
        scaler_from_state({k: v for k, v in state.items() if k != "var_"})
    with pytest.raises(ValueError, match="disagree on the column count"):
        scaler_from_state({**state, "var_": state["var_"][:2]})


def test_repr():
    assert repr(MinMaxScaler((-1, 1))) == "MinMaxScaler(feature_range=(-1.0, 1.0))"
    assert repr(StandardScaler()) == "StandardScaler()"
