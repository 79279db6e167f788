"""Saving without pickle, identical predictions after loading, atomic writes."""

import os

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, Sequential, load_model, optimizers


@pytest.fixture
def trained(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 7, 3)).astype(np.float32)
    y = rng.normal(size=(20, 7, 2)).astype(np.float32)
    model = Sequential([LSTM(5, return_sequences=True), LSTM(4, return_sequences=True), Dense(2, activation="tanh")], seed=0)
    model.compile(optimizers.RMSprop(learning_rate=0.01, clipnorm=1.0), "mae", metrics=["mse"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model, x, y


def test_round_trip_gives_identical_predictions_and_settings(trained, tmp_path):
    model, x, y = trained
    path = tmp_path / "model.npz"
    model.save(path, metadata={"lookback": 7, "scaler": {"min": [0.0, 1.0]}})
    with np.load(path, allow_pickle=False) as archive:  # must not need pickle
        assert "config.json" in archive.files
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [l.get_config() for l in loaded.layers] == [l.get_config() for l in model.layers]
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.loss == model.loss and loaded.metric_names == model.metric_names
    assert loaded.metadata == {"lookback": 7, "scaler": {"min": [0.0, 1.0]}}
    assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y))
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)  # a loaded model trains on


def test_float64_model_round_trip(tmp_path):
    model = Sequential([LSTM(3, dtype="float64", input_shape=(4, 2)), Dense(1, dtype="float64")], seed=1)
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    x = np.random.default_rng(0).normal(size=(3, 4, 2))
    assert loaded.predict(x).dtype == np.float64
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.loss is None  # it was never compiled


def test_failed_save_leaves_the_old_file_intact(trained, tmp_path):
    model, x, _ = trained
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="JSON"):
        model.save(path, metadata={"bad": object()})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    np.testing.assert_array_equal(load_model(path).predict(x), model.predict(x))


def test_save_of_an_unbuilt_model_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="built"):
        Sequential([LSTM(2)]).save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_loading_a_foreign_file_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a scratchlstm model"):
        load_model(tmp_path / "other.npz")


def test_a_jax_compiled_model_loads_without_jax(tmp_path, monkeypatch):
    import importlib.util

    model = Sequential([LSTM(3, input_shape=(4, 2)), Dense(1)], seed=0)
    model.compile("adam", "mse")
    model.save(tmp_path / "m.npz")
    # Rewrite the saved backend as if the model had been trained with JAX.
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["config.json"] = np.array(str(arrays["config.json"]).replace('"backend": "numpy"', '"backend": "jax"'))
    np.savez(tmp_path / "jax.npz", **arrays)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name, *a))
    with pytest.warns(RuntimeWarning, match="backend='jax'.*NumPy"):
        loaded = load_model(tmp_path / "jax.npz")
    assert loaded.backend_name == "numpy"
    x = np.ones((2, 4, 2), np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
