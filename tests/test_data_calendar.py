"""calendar_features: known values, unit-norm pairs, input kinds, errors."""

import numpy as np
import pandas as pd
import pytest

from scratchlstm.data import calendar_features


def angle(fraction):
    return 2 * np.pi * fraction


def test_jan_1_midnight_is_angle_zero_for_every_cycle():
    values, names = calendar_features(np.array(["2024-01-01"], dtype="datetime64[D]"),
                                      day_of_week=True, hour_of_day=True)
    assert names == ["day_of_year_sin", "day_of_year_cos", "day_of_week_sin", "day_of_week_cos",
                     "hour_of_day_sin", "hour_of_day_cos"]
    # 2024-01-01 was a Monday, so every cycle starts at (sin, cos) = (0, 1).
    np.testing.assert_allclose(values, [[0, 1, 0, 1, 0, 1]], atol=1e-15)


def test_known_phases():
    stamps = np.array(["2023-07-02T18:00", "2010-03-14T06:30"], dtype="datetime64[m]")
    values, _ = calendar_features(stamps, day_of_week=True, hour_of_day=True)
    # 2023-07-02 18:00: 182.75 days into the year, a Sunday (weekday 6) at 0.75 day, 18 h.
    # 2010-03-14 06:30: 72 + 6.5/24 days into the year, a Sunday, 6.5 h.
    expected_phase = [[182.75 / 365.25, (6 + 0.75) / 7, 18 / 24],
                      [(72 + 6.5 / 24) / 365.25, (6 + 6.5 / 24) / 7, 6.5 / 24]]
    a = angle(np.array(expected_phase))
    expected = np.stack([np.sin(a[:, 0]), np.cos(a[:, 0]), np.sin(a[:, 1]), np.cos(a[:, 1]),
                         np.sin(a[:, 2]), np.cos(a[:, 2])], axis=1)
    np.testing.assert_allclose(values, expected, atol=1e-12)


def test_pairs_have_unit_norm_and_year_wraps_smoothly():
    stamps = np.arange("2011-12-25", "2012-01-08", dtype="datetime64[h]")
    values, _ = calendar_features(stamps, day_of_week=True, hour_of_day=True)
    pairs = values.reshape(len(stamps), 3, 2)
    np.testing.assert_allclose(np.linalg.norm(pairs, axis=2), 1.0, rtol=1e-12)
    # Consecutive hours stay close on every circle, across the new year too.
    assert np.abs(np.diff(values, axis=0)).max() < 2 * np.pi / 24 + 1e-9
    assert values.dtype == np.float64 and values.shape == (len(stamps), 6)


def test_pandas_and_string_inputs_agree():
    strings = ["2012/01/01", "2012/06/15", "2015/12/31"]
    expected, names = calendar_features(np.array(strings, dtype="U").tolist())
    index = pd.to_datetime(pd.Series(strings), format="%Y/%m/%d")
    for dates in (index, pd.DatetimeIndex(index), np.array(["2012-01-01", "2012-06-15", "2015-12-31"])):
        np.testing.assert_allclose(calendar_features(dates).values, expected, atol=1e-15)
    assert names == ["day_of_year_sin", "day_of_year_cos"]


def test_timezone_keeps_wall_clock_time():
    aware = pd.DatetimeIndex(["2020-05-01 13:00"]).tz_localize("America/Los_Angeles")
    naive = np.array(["2020-05-01T13:00"], dtype="datetime64[m]")
    np.testing.assert_allclose(calendar_features(aware, hour_of_day=True).values,
                               calendar_features(naive, hour_of_day=True).values)
    np.testing.assert_allclose(calendar_features(pd.Series(aware), hour_of_day=True).values,
                               calendar_features(naive, hour_of_day=True).values)


def test_add_to_dataframe():
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=3), "v": [1.0, 2.0, 3.0]})
    cal = calendar_features(frame["date"])
    frame[cal.names] = cal.values
    assert list(frame.columns) == ["date", "v", "day_of_year_sin", "day_of_year_cos"]
    assert frame.loc[0, "day_of_year_cos"] == 1.0


@pytest.mark.parametrize("dates, match", [
    (["2020-13-01"], "ISO 8601"),
    (["2020-01-01", "NaT"], "1 NaT value"),
    (np.zeros((2, 2), dtype="datetime64[D]"), r"1-D \(N,\), got shape \(2, 2\)"),
])
def test_bad_dates(dates, match):
    with pytest.raises(ValueError, match=match):
        calendar_features(dates)


def test_needs_a_cycle():
    with pytest.raises(ValueError, match="at least one of"):
        calendar_features(["2020-01-01"], day_of_year=False)
