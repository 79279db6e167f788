"""Each bad input raises ValueError naming what was expected and what arrived; nothing changes."""

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, Input, Model, Sequential, callbacks, layers
from scratchlstm._tree import tree_leaves


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
        # issue 14: messages that name what was expected and what arrived
        (lambda m: m.fit(X, Y, validation_split="0.5", verbose=0), r"validation_split must be in \[0, 1\), got '0.5'"),
        (lambda m: m.fit(X, Y, validation_split=None, verbose=0), r"validation_split must be in \[0, 1\), got None"),
        (lambda m: m.fit(X, np.float32(1), verbose=0), "y must be an array with one target per sample, got a scalar"),
        (lambda m: m.fit(X, Y, callbacks=callbacks.Callback(), verbose=0), "callbacks must be a list of callbacks, got Callback"),
        (lambda m: Sequential([Dense(1)], seed=-1), "seed must be a non-negative int or None, got -1"),
        (lambda m: Model(Input((2,)), Dense(1)(Input((2,))), seed=-1), "seed must be a non-negative int or None, got -1"),
        (lambda m: Sequential([LSTM(2)]).build((None, -5, 2)), r"non-negative integers or None, got \(None, -5, 2\)"),
        (lambda m: LSTM(2).build((None, 5, -2)), r"non-negative integers or None, got \(None, 5, -2\)"),
        (lambda m: Dense(2).build((None, 2.5)), r"non-negative integers or None, got \(None, 2.5\)"),
        (lambda m: m.predict(X, batch_size=-1), "batch_size must be a positive integer, got -1"),
        (lambda m: m.predict(X, batch_size=0), "batch_size must be a positive integer, got 0"),
        (lambda m: m.predict(X, batch_size=2.5), "batch_size must be a positive integer, got 2.5"),
        (lambda m: m.evaluate(X, Y, batch_size="8"), "batch_size must be a positive integer, got '8'"),
        (lambda m: m.evaluate(X, Y, batch_size=True), "batch_size must be a positive integer, got True"),
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


def full_state(model):
    """What a refused call must leave as it was: weights, built-ness, optimizer state, shuffle generator."""
    memory = model._optimizer_memory
    return {
        "built": model.built,
        "weights": [w.copy() for w in model.get_weights()] if model.built else None,
        "optimizer": None if memory is None else [np.array(v) for v in tree_leaves(memory[2])],
        "rng": model._shuffle_rng.bit_generator.state,
    }


def assert_same_state(model, before):
    after = full_state(model)
    assert after["built"] == before["built"] and after["rng"] == before["rng"]
    for key in ("weights", "optimizer"):
        assert (after[key] is None) == (before[key] is None)
        for a, b in zip(after[key] or [], before[key] or []):
            np.testing.assert_array_equal(a, b)


def trained_model(backend="numpy"):
    """A Sequential with optimizer state and a used shuffle generator."""
    model = compiled_model()
    model.compile("adam", "mse", backend=backend)
    model.fit(X, Y, batch_size=2, verbose=0)
    return model


def functional_model():
    inputs = Input((5, 2))
    model = Model(inputs, Dense(1, seed=1)(layers.GRU(3, seed=0)(inputs)), seed=0)
    model.compile("adam", "mse")
    model.fit(X, Y, batch_size=2, verbose=0)
    return model


@pytest.mark.parametrize("make", [trained_model, functional_model], ids=["sequential", "functional"])
@pytest.mark.parametrize("bad, message", [
    (lambda w: np.full(w.shape, "a"), "real number array, got dtype <U1"),
    (lambda w: np.empty(w.shape, object), "real number array, got dtype object"),
    (lambda w: w.astype(complex), "real number array, got dtype complex128"),  # even with no imaginary part
    (lambda w: np.ones(w.shape, bool), "real number array, got dtype bool"),
    (lambda w: np.full(w.shape, 1e39), "beyond float32's range"),  # finite in float64, inf in float32
], ids=["str", "object", "complex", "bool", "1e39"])
def test_set_weights_is_all_or_nothing(make, bad, message):
    """A bad array in the last position: the earlier (valid, new) arrays are not set either (issue 14)."""
    model = make()
    before = full_state(model)
    weights = [w + 1 for w in model.get_weights()]
    weights[-1] = bad(weights[-1])
    with pytest.raises(ValueError, match=message):
        model.set_weights(weights)
    assert_same_state(model, before)


def test_set_weights_rolls_back_when_setting_fails_part_way():
    """Everything checked, then a setter fails (as an interrupt would): the layers set before it are restored."""
    model = compiled_model()
    before = full_state(model)
    last = model.layers[-1]

    class FailsOnce(Dense):
        @property
        def params(self):
            return self.__dict__["params"]

        @params.setter
        def params(self, value):
            if not self.__dict__.pop("fail", False):
                self.__dict__["params"] = value
                return
            raise KeyboardInterrupt

    last.__class__, last.__dict__["fail"] = FailsOnce, True
    with pytest.raises(KeyboardInterrupt):
        model.set_weights([w + 1 for w in model.get_weights()])
    last.__class__ = Dense
    assert_same_state(model, before)


@pytest.mark.parametrize("call", [
    lambda m: m.fit(X, np.full((6, 1), 1e39), verbose=0),
    lambda m: m.evaluate(X, np.full((6, 1), -1e39), verbose=0),
    lambda m: m.train_on_batch(X, np.full((6, 1), 1e39)),
    lambda m: m.fit(X, Y, validation_data=(X, np.full((6, 1), 1e39)), verbose=0),
    lambda m: m.fit(X, Y, sample_weight=np.full(6, 1e39), verbose=0),
], ids=["fit", "evaluate", "train_on_batch", "validation_data", "sample_weight"])
def test_targets_and_sample_weights_beyond_float32_are_refused_before_training(call):
    """Checked after the cast to float32, where 1e39 is inf (issue 14): no step, no shuffle."""
    model = trained_model()
    before = full_state(model)
    with pytest.raises(ValueError, match="beyond float32's range"):
        call(model)
    assert_same_state(model, before)


def test_token_ids_beyond_the_declared_integer_type_are_refused_before_training():
    """1e39 as int32 wraps to -2**31 (JAX's gather then clamps it silently)."""
    inputs = Input((4,), dtype="int32")
    model = Model(inputs, Dense(1, seed=1)(LSTM(2, seed=0)(layers.Embedding(5, 2, seed=0)(inputs))), seed=0)
    model.compile("adam", "mse")
    ids = np.ones((6, 4), np.int32)
    model.fit(ids, Y, batch_size=2, verbose=0)
    before = full_state(model)
    with pytest.raises(ValueError, match=r"x must hold values in int32's range.*1e\+39"):
        model.fit(np.where(ids == 1, 1e39, 0.0), Y, verbose=0)
    assert_same_state(model, before)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("sequential", [True, False], ids=["sequential", "functional"])
def test_token_ids_beyond_the_vocabulary_are_refused_before_the_first_batch(backend, sequential):
    """JAX's gather clamped id 5 of a 5-row table silently; NumPy refused it only in its batch,
    after the shuffle generator and earlier batches had moved the model."""
    if backend == "jax":
        pytest.importorskip("optax")
    if sequential:
        model = Sequential([Input((4,), dtype="int32"), layers.Embedding(5, 2, seed=0), LSTM(2, seed=0), Dense(1, seed=1)],
                           seed=0)
    else:
        inputs = Input((4,), dtype="int32")
        model = Model(inputs, Dense(1, seed=1)(LSTM(2, seed=0)(layers.Embedding(5, 2, seed=0)(inputs))), seed=0)
    model.compile("adam", "mse", backend=backend)
    ids = np.ones((6, 4), np.int32)
    model.fit(ids, Y, batch_size=2, verbose=0)
    before = full_state(model)
    bad = ids.copy()
    bad[-1, -1] = 5  # the last batch, the last step
    for call in (lambda: model.fit(bad, Y, batch_size=2, shuffle=False, verbose=0),
                 lambda: model.predict(bad, verbose=0), lambda: model.evaluate(bad, Y, verbose=0)):
        with pytest.raises(ValueError, match=r"x \(token ids read by Embedding .*\) must be whole numbers in \[0, 5\).*1 to 5"):
            call()
        assert_same_state(model, before)


@pytest.mark.parametrize("cut", [lambda x: x[:, :0], lambda x: x[..., :0]], ids=["zero time steps", "zero features"])
@pytest.mark.parametrize("method", ["fit", "predict", "evaluate", "train_on_batch"])
def test_empty_time_or_feature_axis_is_refused_before_the_model_is_built(cut, method):
    model = Sequential([LSTM(3), Dense(1)], seed=0)
    model.compile("adam", "mse")
    before = full_state(model)
    bad = cut(X)
    args = (bad,) if method == "predict" else (bad, Y)
    with pytest.raises(ValueError, match=r"at least one time step and a known, positive feature count"):
        getattr(model, method)(*args)
    assert_same_state(model, before)
    assert not model.built


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_batch_size_beyond_the_sample_count_takes_one_batch(backend):
    """The JAX backend pads each batch to batch_size: capped at the samples (issue 14, was MemoryError)."""
    if backend == "jax":
        pytest.importorskip("jax")
    model = Sequential([Input((2,)), Dense(1, seed=0)], seed=0)
    model.compile("sgd", "mse", backend=backend)
    x, y = np.ones((3, 2), np.float32), np.ones((3, 1), np.float32)
    assert model.predict(x, batch_size=10**12, verbose=0).shape == (3, 1)
    assert np.isfinite(model.evaluate(x, y, batch_size=10**12, verbose=0))
    assert len(model.fit(x, y, batch_size=10**12, verbose=0).history["loss"]) == 1
