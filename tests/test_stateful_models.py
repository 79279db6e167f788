"""Stateful recurrent models: predict, evaluate, fit and train_on_batch carry the states from batch
to batch on both backends; reset_states (also from a callback) starts over; bad batches change
nothing; model files keep the states, get_weights does not."""

import numpy as np
import pytest

import scratchlstm as keras

BACKENDS = ["numpy", pytest.param("jax", marks=pytest.mark.skipif(
    __import__("importlib").util.find_spec("jax") is None, reason="needs jax"))]


def _model(kind="GRU", batch=2, backend="numpy"):
    inputs = keras.Input(batch_shape=(batch, 3, 2))
    layer = getattr(keras.layers, kind)(4, stateful=True, return_sequences=True, seed=0)
    model = keras.Model(inputs, keras.layers.Dense(1, seed=1)(layer(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", backend=backend)
    return model, layer


def _series(batches=3, batch=2):
    x = np.random.default_rng(0).normal(size=(batch, 3 * batches, 2)).astype("float32")
    return [x[:, 3 * k : 3 * (k + 1)] for k in range(batches)], x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_predict_carries_the_states_like_one_long_sequence(backend, kind):
    model, layer = _model(kind, backend=backend)
    chunks, whole = _series()
    reference = keras.Sequential([keras.Input((9, 2)), getattr(keras.layers, kind)(4, return_sequences=True),
                                  keras.layers.Dense(1)])
    reference.set_weights(model.get_weights())
    expected = reference.predict(whole, verbose=0)
    got = [model.predict(chunk, batch_size=2, verbose=0) for chunk in chunks]
    np.testing.assert_allclose(np.concatenate(got, axis=1), expected, rtol=1e-5, atol=1e-5)
    model.reset_states()
    np.testing.assert_allclose(model.predict(chunks[0], batch_size=2, verbose=0), expected[:, :3], rtol=1e-5, atol=1e-5)
    assert np.abs(layer.states[0]).sum() > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_predict_over_several_batches_carries_between_them(backend):
    model, layer = _model(backend=backend)
    chunks, _ = _series()
    stacked = np.concatenate(chunks[:2], axis=0)  # rows 0-1: batch 1, rows 2-3: batch 2
    out = model.predict(stacked, batch_size=2, verbose=0)
    model.reset_states()
    first = model.predict(chunks[0], batch_size=2, verbose=0)
    second = model.predict(chunks[1], batch_size=2, verbose=0)
    np.testing.assert_allclose(out, np.concatenate([first, second]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_carries_states_and_a_callback_can_reset_them(backend):
    chunks, _ = _series()
    y = np.zeros((2, 3, 1), np.float32)
    model, layer = _model(backend=backend)
    resets = []
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: (model.reset_states(), resets.append(epoch)))
    model.fit(np.concatenate(chunks, axis=0), np.concatenate([y] * 3), batch_size=2, epochs=2, shuffle=False,
              verbose=0, callbacks=[callback])
    assert resets == [0, 1]
    np.testing.assert_array_equal(layer.states[0], 0)  # reset at the last epoch's end
    model.fit(chunks[0], y, batch_size=2, epochs=1, verbose=0)
    assert np.abs(layer.states[0]).sum() > 0  # fit left the final states behind


@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_with_states_equals_train_on_batch_in_turn(backend):
    chunks, _ = _series()
    y = np.ones((2, 3, 1), np.float32)
    fitted, _ = _model(backend=backend)
    stepped, _ = _model(backend=backend)
    stepped.set_weights(fitted.get_weights())
    fitted.fit(np.concatenate(chunks, axis=0), np.concatenate([y] * 3), batch_size=2, epochs=1, shuffle=False, verbose=0)
    for chunk in chunks:
        stepped.train_on_batch(chunk, y)
    for a, b in zip(fitted.get_weights(), stepped.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_default_batch_size_takes_one_batch_of_the_fixed_size(backend):
    """Keras' char-RNN sampling: predict(x) with batch_size left at 32 on 2 samples is one batch of 2."""
    model, layer = _model(backend=backend)
    chunks, _ = _series()
    first = model.predict(chunks[0], verbose=0)
    assert np.abs(layer.states[0]).sum() > 0
    model.reset_states()
    np.testing.assert_allclose(model.predict(chunks[0], batch_size=2, verbose=0), first, rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_batches_are_refused_before_anything_changes(backend):
    model, layer = _model(backend=backend)
    chunks, _ = _series()
    model.predict(chunks[0], batch_size=2, verbose=0)
    before = [s.copy() for s in layer.states]
    weights = model.get_weights()
    x = np.concatenate(chunks, axis=0)  # 6 samples
    with pytest.raises(ValueError, match="batch_size=2"):
        model.predict(x, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="multiple of 2"):
        model.fit(x[:5], np.zeros((5, 3, 1)), batch_size=2, verbose=0)
    with pytest.raises(ValueError, match="batch"):
        model.train_on_batch(x[:3], np.zeros((3, 3, 1)))
    for a, b in zip(before, layer.states):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_evaluate_carries_states_and_a_saved_model_resumes_them(tmp_path):
    model, layer = _model()
    chunks, _ = _series()
    model.evaluate(chunks[0], np.zeros((2, 3, 1)), batch_size=2, verbose=0)
    carried = layer.states[0].copy()
    assert np.abs(carried).sum() > 0
    assert len(model.get_weights()) == 5  # the states are not weights, as in Keras
    model.save(tmp_path / "m.npz")
    loaded = keras.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.layers[1].states[0], carried)  # but the model file resumes them
    np.testing.assert_allclose(loaded.predict(chunks[1], batch_size=2, verbose=0),
                               model.predict(chunks[1], batch_size=2, verbose=0), rtol=1e-6)


def test_sequential_with_batch_input_shape_and_bidirectional():
    model = keras.Sequential([
        keras.layers.Bidirectional(keras.layers.LSTM(3, stateful=True, return_sequences=True, seed=0,
                                                     batch_input_shape=(2, 3, 2))),
        keras.layers.Dense(1),
    ])
    chunks, _ = _series()
    first = model.predict(chunks[0], batch_size=2, verbose=0)
    assert len(model.layers[0].states) == 4 and np.abs(model.layers[0].states[0]).sum() > 0
    model.reset_states()
    np.testing.assert_allclose(model.predict(chunks[0], batch_size=2, verbose=0), first, rtol=1e-6)

