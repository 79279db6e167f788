"""Truncated BPTT (``fit(tbptt_steps=k)``) on both backends: equal to a stateful model trained
with ``train_on_batch`` on the windows of each batch in order, states reset before each batch
(Keras' stateful semantics); ``k >= T`` equal to a plain fit; refusals; layers put back."""

import numpy as np
import pytest

import scratchlstm as keras
from scratchlstm.layers import GRU, LSTM, Bidirectional, Dense

B, T, I, H = 2, 12, 3, 4


def _data(samples=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, T, I)).astype("float32"), rng.normal(size=(samples, T, 1)).astype("float32")


def _model(backend, recurrent=LSTM, steps=T, batch=None, stateful=False, **options):
    shape = {"batch_shape": (batch, steps, I)} if batch else {"shape": (steps, I)}
    model = keras.Sequential([
        keras.Input(**shape),
        recurrent(H, return_sequences=True, stateful=stateful, seed=0, **options),
        Dense(1, seed=1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"], backend=backend)
    return model


def _backends():
    backends = ["numpy"]
    try:
        import jax  # noqa: F401

        backends.append("jax")
    except ImportError:
        pass
    return backends


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("window", [3, 4])
def test_tbptt_equals_stateful_training_on_windows_with_resets_between_batches(backend, window):
    x, y = _data()
    model = _model(backend)
    reference = _model(backend, stateful=True, batch=B, steps=window)
    reference.set_weights(model.get_weights())
    history = model.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0, tbptt_steps=window)

    epoch_losses, epoch_mae = [], []
    for _ in range(2):
        batch_losses = []
        for start in range(0, len(x), B):
            reference.reset_states()
            rows = slice(start, start + B)
            window_losses = []
            for begin in range(0, T, window):
                steps = slice(begin, begin + window)
                logs = reference.train_on_batch(x[rows, steps], y[rows, steps], return_dict=True)
                window_losses.append((logs["loss"], len(range(T)[steps])))
            batch_losses.append(sum(loss * n for loss, n in window_losses) / T)
        epoch_losses.append(np.mean(batch_losses))
        epoch_mae.append(logs["mae"])
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(history.history["loss"], epoch_losses, rtol=1e-4)
    assert np.all(np.isfinite(history.history["mae"]))
    layer = model.layers[0]
    assert not layer.stateful and layer.state == {} and layer._state_batch is None  # put back


@pytest.mark.parametrize("backend", _backends())
def test_tbptt_with_windows_of_t_steps_is_plain_fit(backend):
    x, y = _data()
    plain, truncated = _model(backend, recurrent=GRU), _model(backend, recurrent=GRU)
    first = plain.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0).history["loss"]
    second = truncated.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0, tbptt_steps=T).history["loss"]
    np.testing.assert_allclose(second, first, rtol=1e-5)
    for ours, theirs in zip(truncated.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    # shorter windows cut the gradient: a different trajectory
    cut = _model(backend, recurrent=GRU)
    cut.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0, tbptt_steps=3)
    assert not np.allclose(cut.get_weights()[0], plain.get_weights()[0], atol=1e-4)


@pytest.mark.parametrize("backend", _backends())
def test_tbptt_partial_last_batch_validation_and_shuffle(backend):
    x, y = _data(samples=5, seed=1)
    model = _model(backend)
    history = model.fit(x, y, batch_size=2, epochs=2, verbose=0, tbptt_steps=5, validation_data=(x, y))
    assert np.all(np.isfinite(history.history["loss"])) and np.all(np.isfinite(history.history["val_loss"]))
    # validation ran on whole sequences from zero states, the layer as built
    np.testing.assert_allclose(history.history["val_loss"][-1], model.evaluate(x, y, verbose=0)[0], rtol=1e-5)
    assert not model.layers[0].stateful


def test_tbptt_refuses_what_it_cannot_split():
    x, y = _data()
    many_to_one = keras.Sequential([keras.Input(shape=(T, I)), LSTM(H, seed=0), Dense(1, seed=1)])
    many_to_one.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="needs per-step targets.*remat"):
        many_to_one.fit(x, y[:, -1], batch_size=B, verbose=0, tbptt_steps=4)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="tbptt_steps must be None or a positive int"):
            _model("numpy").fit(x, y, verbose=0, tbptt_steps=bad)
    with pytest.raises(ValueError, match="go_backwards"):
        _model("numpy", go_backwards=True).fit(x, y, verbose=0, tbptt_steps=4)
    both = keras.Sequential([keras.Input(shape=(T, I)), Bidirectional(LSTM(H, return_sequences=True)), Dense(1)])
    both.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="Bidirectional"):
        both.fit(x, y, verbose=0, tbptt_steps=4)
    dense_only = keras.Sequential([keras.Input(shape=(T, I)), Dense(1)])
    dense_only.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="needs a model with recurrent layers"):
        dense_only.fit(x, y, verbose=0, tbptt_steps=4)
    model = _model("numpy")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError):
        model.fit(x, y[:, :5], verbose=0, tbptt_steps=4)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # nothing changed
    assert not model.layers[0].stateful
