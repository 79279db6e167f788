"""The documented leak-free recipe end to end on the bundled weather data."""

import numpy as np
import pytest

from scratchlstm.data import MinMaxScaler, calendar_features, chronological_split, make_windows
from scratchlstm.datasets import load_seattle_weather


@pytest.mark.parametrize("as_frame", [True, False])
def test_split_scale_window_and_back_to_units(as_frame):
    data = load_seattle_weather(as_frame=as_frame)
    if as_frame:
        frame = data.set_index("date").drop(columns="weather")
        cal = calendar_features(frame.index)
        frame[cal.names] = cal.values
        features, target = list(frame.columns), "temp_max"
    else:
        cal = calendar_features(data.dates)
        frame = np.concatenate([data.values, cal.values], axis=1)
        features, target = list(range(frame.shape[1])), data.columns.index("temp_max")
    raw = np.asarray(frame, dtype=np.float64)
    train, val, test = chronological_split(frame, val_fraction=0.15, test_fraction=0.15)
    assert len(train) + len(val) + len(test) == 1461

    scaler = MinMaxScaler().fit(train)  # statistics of the training rows only
    np.testing.assert_array_equal(scaler.data_max_, raw[:len(train)].max(axis=0))
    lookback, horizon = 14, 3
    X_train, y_train = make_windows(scaler.transform(train), lookback, horizon, features=features, targets=target)
    X_test, y_test = make_windows(scaler.transform(test), lookback, horizon, features=features, targets=target)
    assert X_train.shape == (len(train) - lookback - horizon + 1, lookback, len(features))
    assert y_test.shape == (len(test) - lookback - horizon + 1, horizon, 1)
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0  # train is exactly in range

    # Forecasts come back in degrees C with the target column alone.
    target_col = features.index(target)
    back = scaler.inverse_transform(y_test, columns=[target])
    test_start = len(train) + len(val)
    expected_first = raw[test_start + lookback:test_start + lookback + horizon, target_col]
    np.testing.assert_allclose(back[0, :, 0], expected_first, atol=1e-12)
