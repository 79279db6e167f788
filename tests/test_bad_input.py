"""Each bad input raises ValueError naming what was expected and what arrived; nothing changes."""

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, Sequential, callbacks


def compiled_model():
    model = Sequential([LSTM(4), Dense(1)], seed=0)
    model.compile("adam", "mse", metrics=["mae"])
    model.build((None, 5, 2))
    return model


def snapshot(model):
    return [w.copy() for w in model.get_weights()], model.optimizer, model.loss, list(model.metric_names)


def assert_unchanged(model, before):
    weights, optimizer, loss, metric_names = before
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    assert model.optimizer is optimizer and model.loss == loss and model.metric_names == metric_names


X = np.zeros((6, 5, 2), np.float32)
Y = np.zeros((6, 1), np.float32)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.fit(np.zeros((6, 5)), Y, verbose=0), r"3-D.*\(6, 5\)"),
        (lambda m: m.predict(np.zeros((6, 5, 2, 1))), r"3-D.*\(6, 5, 2, 1\)"),
        (lambda m: m.fit(np.zeros((6, 5, 3)), Y, verbose=0), r"built for 2 features.*\(None, 5, 3\)|2 features.*3"),
        (lambda m: m.predict(np.zeros((6, 5, 3))), r"2 features.*3"),
        (lambda m: m.fit(np.where(np.arange(60).reshape(6, 5, 2) == 7, np.nan, X), Y, verbose=0), "NaN or inf"),
        (lambda m: m.fit(X, np.full((6, 1), np.inf), verbose=0), "NaN or inf"),
        (lambda m: m.fit(X, np.zeros((5, 1)), verbose=0), "same number of samples, got 6 and 5"),
        (lambda m: m.fit(X, np.zeros((6, 3)), verbose=0), r"shape \(6, 1\).*\(6, 3\)"),
        (lambda m: m.evaluate(X, np.zeros((7, 1))), "6 and 7"),
        (lambda m: m.compile("adam", "dice"), "loss must be one of.*'dice'"),
        (lambda m: m.compile("adabelief", "mse"), "adabelief"),
        (lambda m: m.compile("adam", "mse", metrics=["f1"]), "metric must be one of.*'f1'"),
        (lambda m: m.compile("adam", "mse", backend="torch"), "backend must be one of.*'torch'"),
        (lambda m: m.fit(X, Y, epochs=0, verbose=0), "epochs must be a positive integer, got 0"),
        (lambda m: m.fit(X, Y, batch_size=-1, verbose=0), "batch_size"),
        (lambda m: m.fit(X, Y, validation_split=1.5, verbose=0), r"validation_split must be in \[0, 1\), got 1.5"),
        (lambda m: m.set_weights([np.zeros(3)]), "5 weight arrays, got 1"),
    ],
)
def test_bad_input_raises_and_changes_nothing(call, message):
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        call(model)
    assert_unchanged(model, before)


def test_unknown_activation_name():
    with pytest.raises(ValueError, match="activation must be one of.*'gelu2'"):
        Dense(3, activation="gelu2")


@pytest.mark.parametrize("method", ["get_weights", "summary", "count_params"])
def test_unbuilt_model_methods_raise(method):
    model = Sequential([LSTM(3), Dense(1)])
    with pytest.raises(ValueError, match="built"):
        getattr(model, method)()
    assert not model.built


def test_failed_fit_on_unbuilt_model_builds_nothing():
    model = Sequential([LSTM(3), Dense(1)], seed=0)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="samples"):
        model.fit(np.zeros((4, 5, 2)), np.zeros((3, 1)), verbose=0)
    assert not model.built


def test_fit_before_compile():
    with pytest.raises(ValueError, match="compile"):
        Sequential([LSTM(3), Dense(1)]).fit(X, Y)


def test_set_weights_with_a_wrong_shape_changes_nothing():
    model = compiled_model()
    before = snapshot(model)
    weights = model.get_weights()
    weights[-1] = np.zeros(3)  # Dense bias should be (1,)
    with pytest.raises(ValueError, match=r"\(1,\).*\(3,\)"):
        model.set_weights(weights)
    assert_unchanged(model, before)


def test_an_out_of_range_sparse_label_in_a_later_batch_fails_before_any_update():
    model = Sequential([LSTM(3), Dense(2, activation="softmax")], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build((None, 5, 2))
    before = snapshot(model)
    labels = np.zeros(6)
    labels[-1] = 2  # valid classes are 0 and 1; only the last batch holds the bad label
    batches_run = []

    class CountBatches(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches_run.append(batch)

    with pytest.raises(ValueError, match=r"integers in \[0, 1\], got values in \[0.0, 2.0\]"):
        model.fit(X, labels, batch_size=2, shuffle=False, verbose=0, callbacks=[CountBatches()])
    assert batches_run == []  # rejected before training, not in the third batch
    assert_unchanged(model, before)


def test_inputs_beyond_float32_are_refused_not_turned_into_inf():
    """x in float64 with values float32 cannot hold would become inf in the cast (issue 14)."""
    import scratchlstm as keras

    model = keras.Sequential([keras.Input((3, 2)), keras.layers.LSTM(2, seed=0), keras.layers.Dense(1, seed=1)])
    model.compile(optimizer="sgd", loss="mse")
    weights = model.get_weights()
    x = np.full((4, 3, 2), 1e39)
    with pytest.raises(ValueError, match="beyond float32's range"):
        model.predict(x, verbose=0)
    with pytest.raises(ValueError, match="beyond float32's range"):
        model.fit(x, np.ones((4, 1)), verbose=0)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
