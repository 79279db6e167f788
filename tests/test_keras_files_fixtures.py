"""Files written by Keras 3.15.1 (``tests/data/keras/make_files.py``) load and predict as Keras
did, without Keras installed: this test never imports keras."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

pytest.importorskip("h5py")

import scratchlstm  # noqa: E402
from scratchlstm.models import load_model  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "data", "keras")
NAMES = ["lstm_dense", "two_inputs", "recurrent_family", "embedding_attention"]


def _expected(name):
    with np.load(os.path.join(HERE, "expected.npz")) as stored:
        inputs = [stored[k] for k in sorted(k for k in stored.files if k.startswith(f"{name}/x"))]
        return (inputs if len(inputs) > 1 else inputs[0]), stored[f"{name}/y0"]


@pytest.mark.parametrize("name", NAMES)
def test_keras_written_archives_predict_as_keras_did(name):
    x, y = _expected(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # never trained: no optimizer warning
        model = load_model(os.path.join(HERE, f"{name}.keras"))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-6, rtol=1e-6)


def test_compile_settings_of_a_keras_file():
    model = load_model(os.path.join(HERE, "lstm_dense.keras"))
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    assert load_model(os.path.join(HERE, "lstm_dense.keras"), compile=False).compiled is None


def test_keras_written_weights_file():
    x, y = _expected("lstm_dense")
    model = scratchlstm.Sequential([scratchlstm.Input((5, 2)), scratchlstm.layers.LSTM(4), scratchlstm.layers.Dense(1)])
    model.load_weights(os.path.join(HERE, "lstm_dense.weights.h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-6, rtol=1e-6)
