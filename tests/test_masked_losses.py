"""Losses and metrics leave an output's masked steps out, as Keras does (``apply_mask``)."""

import os

import numpy as np
import pytest

import scratchlstm as ours


def _ids():
    return np.array([[1, 2, 0, 0], [3, 4, 5, 0], [2, 2, 2, 1]])  # 0 is padding


def _model(module, seed=0):
    ids = module.Input((4,), dtype="int32")
    embedded = module.layers.Embedding(6, 3, mask_zero=True)(ids)
    hidden = module.layers.LSTM(5, return_sequences=True)(embedded)
    return module.Model(ids, module.layers.TimeDistributed(module.layers.Dense(2))(hidden))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_evaluate_and_one_sgd_step_match_keras_with_masked_outputs(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    x, y = _ids(), rng.normal(size=(3, 4, 2)).astype("float32")
    weights = [w.astype("float32") for w in _model(ours).get_weights()]
    theirs = _model(keras)
    theirs.set_weights(weights)
    theirs.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae"])
    mine = _model(ours)
    mine.set_weights(weights)
    mine.compile(ours.optimizers.SGD(0.1), "mse", metrics=["mae"], backend=backend)
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    got = mine.evaluate(x, y, return_dict=True)
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["mae"], expected["mae"], rtol=1e-5)
    unmasked = np.mean((mine.predict(x) - y) ** 2, axis=-1)[x != 0].mean()
    np.testing.assert_allclose(got["loss"], unmasked, rtol=1e-5)  # the mean over real steps only
    theirs.train_on_batch(x, y)
    mine.train_on_batch(x, y)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-6)


def test_a_fully_masked_batch_contributes_zero_loss():
    model = _model(ours)
    model.compile("sgd", "mse")
    x = np.zeros((2, 4), dtype=int)
    assert model.evaluate(x, np.ones((2, 4, 2))) == 0.0
