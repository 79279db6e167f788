"""Sequential: compile/fit/predict/evaluate/summary, reproducibility, callbacks and NaN handling."""

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, Sequential, callbacks, lstm_forward, optimizers
from scratchlstm._numpy import dense_forward


def sine_task(n=96, steps=12, seed=0):
    """Predict the next value of noisy sine waves with random phase."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(steps + 1)[None, :] * 0.5
    series = np.sin(t + phase) + 0.05 * rng.normal(size=(n, steps + 1))
    return series[:, :steps, None].astype(np.float32), series[:, steps:].astype(np.float32)


def small_model(seed=0, **compile_kwargs):
    model = Sequential([LSTM(8), Dense(1)], seed=seed)
    model.compile(**{"optimizer": optimizers.Adam(learning_rate=0.02), "loss": "mse", "metrics": ["mae"], **compile_kwargs})
    return model


def test_predict_is_the_composition_of_the_pure_functions():
    x, _ = sine_task(n=10)
    model = small_model()
    y = model.predict(x, batch_size=4)
    lstm, dense = model.layers
    h = lstm_forward(lstm.params, x)[1][0]
    np.testing.assert_allclose(y, dense_forward(dense.params, h)[0], rtol=1e-6)


def test_fit_learns_the_sine_task_and_history_is_keras_shaped():
    x, y = sine_task()
    model = small_model()
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0, validation_split=0.25)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    losses = history.history["loss"]
    assert len(losses) == 15
    assert losses[-1] < 0.2 * losses[0]
    assert history.history["val_loss"][-1] < 0.1
    # evaluate agrees with the model's own predictions.
    loss, mae = model.evaluate(x, y)
    prediction = model.predict(x)
    np.testing.assert_allclose(loss, np.mean((prediction - y) ** 2), rtol=1e-4)
    np.testing.assert_allclose(mae, np.mean(np.abs(prediction - y)), rtol=1e-4)


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = sine_task(n=20)
    seen = []

    class Recorder(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(float(logs["loss"]))

    model = small_model()
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[Recorder()])
    # Batch logs are running means; the last one is the epoch's value.
    assert len(seen) == 3
    assert history.history["loss"][0] == pytest.approx(seen[-1])


def test_training_is_reproducible_with_a_seed():
    x, y = sine_task(n=40)
    first = small_model(seed=7).fit(x, y, epochs=3, batch_size=8, verbose=0).history
    second = small_model(seed=7).fit(x, y, epochs=3, batch_size=8, verbose=0).history
    other = small_model(seed=8).fit(x, y, epochs=3, batch_size=8, verbose=0).history
    assert first == second
    assert first != other


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = sine_task(n=40)
    model = small_model()
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0, validation_split=0.2)
    # The reported val_loss is exactly the evaluation on the last 8 samples with the final weights.
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[-8:], y[-8:])[0], rel=1e-5)
    twin = small_model()
    twin_history = twin.fit(x, y, epochs=1, batch_size=8, verbose=0, validation_data=(x[-8:], y[-8:]))
    assert "val_loss" in twin_history.history


def test_summary_has_keras_parameter_counts(capsys):
    model = Sequential([LSTM(20, input_shape=(25, 1)), Dense(1)])
    model.summary()
    text = capsys.readouterr().out
    assert "1,760" in text and "21" in text and "Total params: 1,781" in text
    assert "(None, 20)" in text
    assert model.count_params() == 4 * (20 * (1 + 20) + 20) + 21


def test_early_stopping_restores_the_best_weights():
    x, y = sine_task(n=48)
    model = small_model(optimizer=optimizers.SGD(learning_rate=0.5))  # unstable: val loss wobbles
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    snapshots = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    history = model.fit(x, y, epochs=30, batch_size=8, verbose=0, validation_split=0.25, callbacks=[Snapshot(), stopper])
    val = history.history["val_loss"]
    assert len(val) < 30, "early stopping never triggered"
    best = int(np.argmin(val))
    for restored, kept in zip(model.get_weights(), snapshots[best]):
        np.testing.assert_array_equal(restored, kept)


def test_non_finite_loss_stops_training_and_keeps_the_last_good_weights():
    x, y = sine_task(n=32)
    model = small_model(optimizer=optimizers.SGD(learning_rate=1e4))
    model.build(x.shape)
    history = callbacks.History()
    with pytest.warns(RuntimeWarning, match="Training stopped"):
        model.fit(x, y * 1e3, epochs=50, batch_size=8, verbose=0, callbacks=[history])
    assert len(history.history.get("loss", [])) < 50
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert np.isfinite(model.predict(x)).all()


@pytest.mark.parametrize("verbose, expected", [(1, "Epoch 2/2"), (2, "Epoch 2/2")])
def test_progress_output(capsys, verbose, expected):
    x, y = sine_task(n=16)
    small_model().fit(x, y, epochs=2, batch_size=8, verbose=verbose)
    out = capsys.readouterr().out
    assert expected in out and "loss" in out
    small_model().fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""


def test_classification_with_softmax_and_accuracy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6, 2)).astype(np.float32)
    labels = (x[:, :, 0].mean(axis=1) > 0).astype(int) + (x[:, :, 1].mean(axis=1) > 0.3).astype(int)
    model = Sequential([LSTM(8), Dense(3, activation="softmax")], seed=0)
    model.compile(optimizers.Adam(0.03), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=25, batch_size=20, verbose=0)
    assert history.history["accuracy"][-1] > 0.8
    one_hot = np.eye(3)[labels]
    model.compile(optimizers.Adam(0.03), "categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, one_hot)
    assert accuracy == pytest.approx(np.mean(model.predict(x).argmax(-1) == labels))


def test_many_to_many_with_return_sequences():
    x, _ = sine_task(n=32)
    y = np.roll(x, -1, axis=1)
    model = Sequential([LSTM(6, return_sequences=True), Dense(1)], seed=0)
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert model.predict(x).shape == (32, 12, 1)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_stacked_lstms():
    x, y = sine_task(n=24)
    model = Sequential([LSTM(6, return_sequences=True), LSTM(4), Dense(1)], seed=0)
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert [w.shape for w in model.get_weights()][:3] == [(1, 24), (6, 24), (24,)]


def test_non_finite_gradient_with_a_finite_loss_also_stops_training(monkeypatch):
    from scratchlstm.models import _numpy_backend

    x, y = sine_task(n=32)
    model = small_model()
    model.build(x.shape)
    before = model.get_weights()
    calls = []
    real_backward = _numpy_backend.NumpyBackend.backward

    def backward_that_overflows_on_the_third_batch(self, params, caches, d_y, *optimizer_state):
        calls.append(1)
        grads = real_backward(self, params, caches, d_y, *optimizer_state)
        if len(calls) == 3:
            first = model.layers[0].name
            grads[first]["kernel"] = grads[first]["kernel"] * np.inf
        return grads

    monkeypatch.setattr(_numpy_backend.NumpyBackend, "backward", backward_that_overflows_on_the_third_batch)
    with pytest.warns(RuntimeWarning, match=r"non-finite loss or gradient \(loss nan\) at epoch 1, batch 3"):
        history = model.fit(x, y, epochs=5, batch_size=8, verbose=0, shuffle=False)
    assert len(calls) == 3 and history.history == {}
    # Two updates were applied, the third was skipped and training stopped.
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    assert all(np.isfinite(w).all() for w in model.get_weights())
