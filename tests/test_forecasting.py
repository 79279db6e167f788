"""scratchlstm.forecasting: metrics, baselines, and the leak-free window preparation."""

import json

import numpy as np
import pytest

from scratchlstm.data import calendar_features
from scratchlstm.forecasting import (
    WindowSpec,
    climatology_forecast,
    default_calendar,
    format_scores,
    mae,
    persistence_forecast,
    prepare_windows,
    result_line,
    rmse,
    score,
)


def make_table(n=120, seed=0):
    """A dict is a table too: ``table[name]`` returns the column."""
    rng = np.random.default_rng(seed)
    dates = np.datetime64("2020-01-01") + np.arange(n).astype("timedelta64[D]")
    level = 10 + 5 * np.sin(np.arange(n) / 10) + rng.normal(0, 0.5, n)
    return {"date": dates, "level": level, "rain": rng.gamma(1.0, 2.0, n)}


def test_metrics_by_hand():
    y_true = np.array([[1.0, 2.0], [3.0, 4.0]])
    y_pred = np.array([[2.0, 2.0], [3.0, 1.0]])  # errors 1, 0, 0, -3
    assert rmse(y_true, y_pred) == pytest.approx(np.sqrt(10 / 4))
    assert mae(y_true, y_pred) == pytest.approx(1.0)
    np.testing.assert_allclose(rmse(y_true, y_pred, axis=0), [np.sqrt(0.5), np.sqrt(4.5)])
    np.testing.assert_allclose(mae(y_true, y_pred, axis=0), [0.5, 1.5])


def test_baselines_repeat_the_last_value_and_the_training_mean():
    np.testing.assert_array_equal(persistence_forecast([3.0, -1.0], 2), [[3.0, 3.0], [-1.0, -1.0]])
    np.testing.assert_array_equal(climatology_forecast(2.5, 3, 2), np.full((3, 2), 2.5))


def test_target_is_always_an_input_and_features_are_named():
    spec = WindowSpec("level", ["rain"], date_column="date", calendar=["day_of_year"])
    assert spec.columns == ["level", "rain"]
    assert spec.target_index == 0
    assert spec.feature_names == ["level", "rain", "day_of_year_sin", "day_of_year_cos"]


@pytest.mark.parametrize(
    "kwargs, message",
    [({"calendar": ["day_of_month"], "date_column": "date"}, "unknown calendar"),
     ({"calendar": ["day_of_year"]}, "need a date_column"),
     # parsed to timestamps, the date column would be read as nanoseconds since 1970
     ({"date_column": "level"}, "date column 'level' cannot also be the target or an input"),
     ({"date_column": "rain", "columns": ["rain"]}, "date column 'rain' cannot also be the target or an input")],
)
def test_bad_window_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WindowSpec("level", kwargs.pop("columns", ["level"]), **kwargs)


def test_rmse_of_errors_whose_squares_overflow_is_finite():
    # A hostile scaler (a variance near 1e308) makes errors near 1e190; their squares overflow.
    assert rmse([0.0, 0.0], [1e300, -1e300]) == 1e300
    np.testing.assert_array_equal(rmse(np.zeros((2, 2)), [[3e200, 0.0], [4e200, 0.0]], axis=0), [np.sqrt(12.5) * 1e200, 0.0])
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(50, 3)) * 1e3, rng.normal(size=(50, 3))
    # ordinary errors: the plain formula's bits (the scaling is by powers of two)
    assert rmse(y_true, y_pred) == np.sqrt(np.mean((y_pred - y_true) ** 2))
    np.testing.assert_array_equal(rmse(y_true, y_pred, axis=0), np.sqrt(np.mean((y_pred - y_true) ** 2, axis=0)))


def test_matrix_appends_calendar_columns_from_the_dates():
    table = make_table(30)
    spec = WindowSpec("level", ["level", "rain"], date_column="date", calendar=["day_of_year"])
    matrix = spec.matrix(table)
    np.testing.assert_array_equal(matrix[:, 0], table["level"])
    np.testing.assert_array_equal(matrix[:, 2:], calendar_features(table["date"]).values)


def test_prepare_fits_on_training_rows_and_windows_each_part_alone():
    table = make_table(120)
    spec = WindowSpec("level", ["rain", "level"], lookback=5, horizon=3)
    prepared = prepare_windows(table, spec, val_fraction=0.2, test_fraction=0.2)
    n_train = 120 - 24 - 24
    assert spec.scaler.mean_[spec.target_index] == pytest.approx(table["level"][:n_train].mean())
    assert spec.target_mean == pytest.approx(table["level"][:n_train].mean())
    for part, first_row in zip(prepared[1:], (0, n_train, n_train + 24)):
        rows_in_part = {0: n_train, n_train: 24, n_train + 24: 24}[first_row]
        assert part.x.shape == (rows_in_part - 5 - 3 + 1, 5, 2)
        assert part.y.shape == (len(part.x), 3)
        assert part.target_rows[0] == first_row + 5
        # back in units, each window's targets are the table rows right after it...
        expected = np.stack([table["level"][r:r + 3] for r in part.target_rows])
        np.testing.assert_allclose(spec.to_units(part.y), expected, rtol=1e-5)
        # ...and persistence repeats the row just before them
        np.testing.assert_allclose(spec.persistence(part.x)[:, 2], table["level"][part.target_rows - 1], rtol=1e-5)
    assert prepared.train.target_rows[-1] + 3 <= n_train  # no training target from a later part


def test_zero_fractions_leave_parts_empty():
    prepared = prepare_windows(make_table(40), WindowSpec("level", ["level"], lookback=4), 0.0, 0.0)
    assert prepared.val is None and prepared.test is None
    assert len(prepared.train.x) == 40 - 4


def test_too_few_rows_names_the_minimum():
    spec = WindowSpec("level", ["level"], lookback=14, horizon=1)
    with pytest.raises(ValueError, match=r"too few rows.*at least (\d+) rows; got 50") as info:
        prepare_windows(make_table(50), spec)
    minimum = int(info.value.args[0].split("at least ")[1].split(" ")[0])
    prepare_windows(make_table(minimum), spec)  # exactly enough works
    with pytest.raises(ValueError, match="too few rows"):
        prepare_windows(make_table(minimum - 1), spec)


def test_input_windows_include_the_last_rows():
    spec = WindowSpec("level", ["level"], lookback=4)
    spec.fit(spec.matrix(make_table(20)))
    scaled = spec.scale(spec.matrix(make_table(20)))
    windows = spec.input_windows(scaled)
    assert windows.shape == (17, 4, 1)
    np.testing.assert_array_equal(windows[-1], scaled[-4:])
    with pytest.raises(ValueError, match="at least 4 rows"):
        spec.input_windows(scaled[:3])


def test_metadata_round_trips_through_json():
    table = make_table(100)
    spec = WindowSpec("level", ["rain", "level"], lookback=6, horizon=2, date_column="date", calendar=["day_of_year"])
    prepare_windows(table, spec)
    restored = WindowSpec.from_metadata(json.loads(json.dumps(spec.to_metadata())))
    assert restored.feature_names == spec.feature_names
    assert (restored.lookback, restored.horizon, restored.target) == (6, 2, "level")
    assert restored.target_mean == spec.target_mean
    np.testing.assert_array_equal(restored.scale(restored.matrix(table)), spec.scale(spec.matrix(table)))


def test_metadata_from_elsewhere_is_rejected():
    with pytest.raises(ValueError, match="no window settings"):
        WindowSpec.from_metadata({"note": "saved by hand"})
    with pytest.raises(ValueError, match="fit the WindowSpec"):
        WindowSpec("level", ["level"]).to_metadata()


def test_default_calendar_adds_hour_of_day_for_sub_daily_rows():
    days = np.datetime64("2020-01-01") + np.arange(5).astype("timedelta64[D]")
    hours = np.datetime64("2020-01-01T00:00") + np.arange(5).astype("timedelta64[h]")
    assert default_calendar(days) == ["day_of_year"]
    assert default_calendar(hours) == ["day_of_year", "hour_of_day"]


def test_score_table_and_result_line():
    truth = np.array([[1.0], [2.0], [3.0]])
    scores = score(truth, {"model": truth + 0.5, "persistence": truth + 1.0})
    assert scores["model"]["rmse"] == pytest.approx(0.5)
    assert scores["persistence"]["rmse_per_step"] == pytest.approx([1.0])
    text = format_scores(scores, unit="°C", notes={"persistence": "(naive)"})
    assert "RMSE (°C)" in text and "(naive)" in text
    assert "= 0.500 (the model beats persistence)" in text
    assert result_line(scores) == "RESULT model_rmse=0.5000 persistence_rmse=1.0000"


def test_an_unfitted_spec_says_to_fit_first():
    spec = WindowSpec("level", ["level"], lookback=4, horizon=1)
    for call in (lambda: spec.to_units(np.zeros(3)), lambda: spec.climatology(3)):
        with pytest.raises(ValueError, match=r"call fit\(train_matrix\) first"):
            call()
    spec.fit(np.arange(12.0).reshape(-1, 1))
    assert spec.climatology(2).shape[0] == 2 and np.isfinite(spec.to_units(np.zeros(3))).all()
