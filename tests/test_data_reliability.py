"""Hostile input for `scratchlstm.data`: every case is a ValueError that names what arrived, and a
failed call leaves the scaler as it was (issue 14, "Data tools")."""

import copy

import numpy as np
import pytest

from scratchlstm.data import MinMaxScaler, StandardScaler, make_windows, scaler_from_state

pd = pytest.importorskip("pandas")

SCALERS = [MinMaxScaler, StandardScaler]


def snapshot(scaler):
    return copy.deepcopy(vars(scaler))


def assert_same_state(before, scaler):
    after = vars(scaler)
    assert before.keys() == after.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(np.asarray(after[key], dtype=object), np.asarray(value, dtype=object))


# --- make_windows ----------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [np.empty((10, 0)), pd.DataFrame(index=range(10))], ids=["array", "frame"])
def test_make_windows_on_zero_columns_names_the_shape(data):
    with pytest.raises(ValueError, match=r"at least one column, got shape \(10, 0\)"):
        make_windows(data, lookback=2)


# --- statistics that overflow float64 are refused, not stored as inf -------------------------------
OVERFLOWING = [  # (scaler, data, what the message says)
    (StandardScaler, [1e308, -1e308, 5.0], "variance of column 0 .*overflows float64"),
    (StandardScaler, [1e200, -1e200, 0.0], "variance of column 0 .*overflows float64"),  # squares overflow
    (MinMaxScaler, [1e308, -1e308, 5.0], "range of column 0 .*overflows float64"),
    (MinMaxScaler, [1.7e308, -1.7e308], "range of column 0 .*overflows float64"),
    (StandardScaler, [0.0, 1e-300], "variance of column 0 .*underflows float64"),  # would pass as constant
    (MinMaxScaler, [0.0, 5e-324], "column 0 .*scale_ = inf, which float64 cannot represent"),  # 1 / range
]


@pytest.mark.parametrize("cls, values, message", OVERFLOWING)
def test_unrepresentable_statistics_are_refused_and_keep_the_old_state(cls, values, message):
    scaler = cls().fit(np.array([[1.0], [3.0]]))
    before = snapshot(scaler)
    with pytest.raises(ValueError, match=message):
        scaler.fit(np.array(values))
    assert_same_state(before, scaler)
    assert scaler.transform(np.array([3.0]))[0] == 1.0  # still the old statistics


def test_variance_whose_squares_overflow_is_computed_exactly():
    # One value of 2e154 among zeros: its squared deviation (4e308) overflows, the variance
    # (about 1e306) does not. The power-of-two rescaling keeps it (and everything else) exact.
    values = np.zeros(400)
    values[0] = 2e154
    scaler = StandardScaler().fit(values)
    mean = 2e154 / 400
    assert scaler.mean_[0] == pytest.approx(mean, rel=1e-14)
    assert scaler.var_[0] == pytest.approx(2e154 * mean - mean**2, rel=1e-12)  # E[x^2] - mean^2
    assert np.isfinite(scaler.transform(values)).all()


def test_statistics_are_bit_identical_to_the_plain_formula_on_ordinary_data():
    rng = np.random.default_rng(0)
    data = rng.normal([0.0, 50.0, -3.0], [1.0, 10.0, 0.1], size=(40, 3))
    scaler = StandardScaler().fit(data)
    np.testing.assert_array_equal(scaler.mean_, data.mean(axis=0))
    np.testing.assert_array_equal(scaler.var_, data.var(axis=0))


@pytest.mark.parametrize("cls", SCALERS)
def test_transform_refuses_results_beyond_the_output_dtype(cls):
    scaler = cls().fit(np.array([0.0, 1e-10]))
    assert scaler.transform(np.array([1e-10], dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"column 0 .*outside the float32 range"):
        scaler.transform(np.array([0.0, 1e30], dtype=np.float32))  # 1e40 after scaling
    assert np.isfinite(scaler.transform(np.array([1e30]))).all()  # float64 in, float64 out: fine
    wide = cls().fit(np.array([0.0, 1e38]))
    with pytest.raises(ValueError, match=r"column 0 .*outside the float32 range"):
        wide.inverse_transform(np.array([10.0], dtype=np.float32))  # about 1e39


@pytest.mark.parametrize("cls", SCALERS)
def test_transform_does_not_overflow_silently_in_float64(cls):
    scaler = cls().fit(np.array([-1e-100, 1e-100, 0.0]))
    with pytest.raises(ValueError, match=r"column 0 .*outside the float64 range"):
        scaler.transform(np.array([1e300]))
    # NaN that arrives is passed through (make_windows copies NaN too); only new inf is refused.
    assert np.isnan(scaler.transform(np.array([np.nan]))).all()


# --- scaler_from_state validates what it restores ---------------------------------------------------
def standard_state(**changes):
    state = StandardScaler().fit(np.array([[1.0, 10.0], [3.0, 30.0]])).get_state()
    state.update(changes)
    return state


def minmax_state(**changes):
    state = MinMaxScaler().fit(np.array([[1.0, 10.0], [3.0, 30.0]])).get_state()
    state.update(changes)
    return state


BAD_STATES = {  # case: (state, what the message says)
    "negative variance": (standard_state(var_=np.array([-4.0, 1.0])), r"var_ .*>= 0.*-4"),
    "NaN variance": (standard_state(var_=np.array([np.nan, 1.0])), r"var_ .*finite"),
    "infinite variance": (standard_state(var_=np.array([np.inf, 1.0])), r"var_ .*finite"),
    "infinite mean": (standard_state(mean_=np.array([1.0, -np.inf])), r"mean_ .*finite.*column 1"),
    "min above max": (minmax_state(data_min_=np.array([5.0, 10.0]), data_max_=np.array([1.0, 30.0])),
                      r"data_min_ .*<= data_max_.*column 0"),
    "overflowing range": (minmax_state(data_min_=np.array([-1.7e308, 10.0]), data_max_=np.array([1.7e308, 30.0])),
                          "range of column 0 .*overflows"),
    "lengths disagree": (standard_state(var_=np.array([1.0])), "disagree on the column count"),
    "no columns": (standard_state(mean_=np.array([]), var_=np.array([])), "at least one column"),
    "names too many": (standard_state(feature_names_=["a", "b", "c"]), "disagree on the column count"),
    "text statistics": (standard_state(mean_=["a", "b"]), r"mean_ must be numbers"),
    "nested statistics": (standard_state(mean_=[[1.0, [2.0]]]), r"mean_ must be numbers"),
    "2-D statistics": (standard_state(mean_=np.ones((2, 2)), var_=np.ones((2, 2))), r"mean_ must be 1-D"),
    # a cast to float64 would drop the imaginary part, or read booleans as 0 and 1
    "complex statistics": (standard_state(mean_=np.array([1 + 1j, 2.0])), r"mean_ must be numbers"),
    "boolean statistics": (standard_state(var_=np.array([True, True])), r"var_ must be numbers"),
    # the statistics of another class: not an unfitted scaler, but a damaged state
    "another class's statistics": (standard_state(**{"class": "MinMaxScaler"}),
                                   r"MinMaxScaler state is missing \['data_min_', 'data_max_'\]"),
    "zero samples": (standard_state(n_samples_seen_=0), r"n_samples_seen_ must be an integer >= 1"),
    "fractional samples": (standard_state(n_samples_seen_=2.5), r"n_samples_seen_ must be an integer >= 1"),
    "text samples": (standard_state(n_samples_seen_="many"), r"n_samples_seen_ must be an integer >= 1"),
    "bad range config": (minmax_state(feature_range=5.0), "feature_range must be a pair"),
    "flipped range config": (minmax_state(feature_range=[1.0, 0.0]), "lo < hi"),
    "not a dict": ([("class", "StandardScaler")], "scaler state must be a dict"),
    "None": (None, "scaler state must be a dict"),
}


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_scaler_from_state_refuses_inconsistent_statistics(case):
    state, message = BAD_STATES[case]
    with pytest.raises(ValueError, match=message):
        scaler_from_state(state)


def test_good_states_still_round_trip():
    for state in (standard_state(), minmax_state()):
        restored = scaler_from_state(state)
        x = np.array([[2.0, 20.0]])
        np.testing.assert_array_equal(restored.transform(x), scaler_from_state(restored.get_state()).transform(x))
