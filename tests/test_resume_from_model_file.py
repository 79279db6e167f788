"""``model.save`` keeps the optimizer state and ``load_model`` restores it, so that training
resumes exactly: 2 epochs, save, load, 2 more epochs give the weights of 4 epochs (bitwise on
NumPy; on JAX bitwise on the CPU and to 1e-6 elsewhere). All runs use ``shuffle=False``: as in
Keras, the file does not hold the shuffling generator's state.

Also: what the file holds (``optimizer/...`` arrays, the iteration count), files without a
state (saved before training, ``include_optimizer=False``, written by format version 2),
``compile`` after loading starting a new optimizer, and broken optimizer arrays refused.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, Input, Model, Sequential, callbacks, load_model, optimizers
from scratchlstm.models._serialization import FORMAT, model_config
from scratchlstm.optimizers import schedules

OPTIMIZERS = {
    "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "adam": lambda: optimizers.Adam(0.01),
    "rmsprop": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.01),
    "adam_schedule": lambda: optimizers.Adam(schedules.ExponentialDecay(0.02, decay_steps=3, decay_rate=0.5)),
}
FIT = {"batch_size": 8, "shuffle": False, "verbose": 0}  # 3 steps per epoch


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 5, 2)).astype(np.float32)
    return x, np.tanh(x[:, -1, :1]) + 0.1 * x[:, 0, 1:]


def _model(optimizer, backend="numpy"):
    if backend == "jax":
        pytest.importorskip("jax")
    model = Sequential([LSTM(4, name="lstm"), Dense(1, name="dense")], seed=1)
    model.compile(optimizer, "mse", backend=backend)
    return model


def _arrays(path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _document(path) -> dict:
    return json.loads(str(_arrays(path)["config.json"]))


def _assert_weights_equal(a, b, exact=True):
    for left, right in zip(a.get_weights(), b.get_weights(), strict=True):
        if exact:
            np.testing.assert_array_equal(left, right)
        else:
            np.testing.assert_allclose(left, right, rtol=1e-6, atol=1e-7)


def _jax_is_exact() -> bool:
    import jax

    return jax.default_backend() == "cpu"


# ---------------------------------------------------------------------------------------------
# 2 + 2 epochs with a save/load in between = 4 epochs
# ---------------------------------------------------------------------------------------------


# every optimizer on NumPy; on JAX the state travels through the same optax containers for all,
# so three cover it (slots of two shapes, a schedule)
RESUME_CASES = [("numpy", name) for name in OPTIMIZERS] + [("jax", name) for name in ("adam", "rmsprop", "adam_schedule")]


@pytest.mark.parametrize("backend, name", RESUME_CASES)
def test_two_epochs_saved_loaded_and_two_more_equal_four_epochs(name, backend, tmp_path):
    x, y = _data()
    four = _model(OPTIMIZERS[name](), backend)
    four.fit(x, y, epochs=4, **FIT)
    first = _model(OPTIMIZERS[name](), backend)
    first.fit(x, y, epochs=2, **FIT)
    first.save(tmp_path / "model.npz")

    resumed = load_model(tmp_path / "model.npz")
    assert resumed.backend_name == backend and resumed.optimizer.iterations == 6
    resumed.fit(x, y, epochs=2, **FIT)
    assert resumed.optimizer.iterations == four.optimizer.iterations == 12
    _assert_weights_equal(resumed, four, exact=backend == "numpy" or _jax_is_exact())
    assert resumed.optimizer.learning_rate == pytest.approx(four.optimizer.learning_rate, rel=1e-12)

    # Without the state the optimizer restarts (moments at zero, the schedule at step 0): another run.
    restarted = load_model(tmp_path / "model.npz")
    restarted.compile(OPTIMIZERS[name](), "mse", backend=backend)
    restarted.fit(x, y, epochs=2, **FIT)
    assert not np.allclose(restarted.get_weights()[0], four.get_weights()[0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_ema_and_gradient_accumulation_resume_as_one_process_does(backend, tmp_path):
    # With use_ema, fit ends on the averaged weights (as Keras), so 2 + 2 epochs differ from 4
    # even without saving; a save/load between the two fits changes nothing.
    x, y = _data()
    make = lambda: optimizers.Nadam(0.01, use_ema=True, ema_momentum=0.9, gradient_accumulation_steps=4)  # noqa: E731
    continued = _model(make(), backend)
    continued.fit(x, y, epochs=2, **FIT)
    continued.save(tmp_path / "model.npz")
    continued.fit(x, y, epochs=2, **FIT)
    arrays = _arrays(tmp_path / "model.npz")
    weight_paths = ["lstm/kernel", "lstm/recurrent_kernel", "lstm/bias", "dense/kernel", "dense/bias"]
    for path in weight_paths:  # the average and the accumulated gradients, one per weight
        assert f"optimizer/average/{path}" in arrays and f"optimizer/accumulated/{path}" in arrays
    assert np.abs(arrays[f"optimizer/accumulated/{weight_paths[0]}"]).max() > 0  # 6 steps of 4: mid-accumulation

    resumed = load_model(tmp_path / "model.npz")
    resumed.fit(x, y, epochs=2, **FIT)
    _assert_weights_equal(resumed, continued, exact=backend == "numpy" or _jax_is_exact())


def test_a_checkpoint_written_during_fit_resumes_the_run(tmp_path):
    x, y = _data()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.npz", monitor="loss")
    four = _model(optimizers.Adam(0.01))
    four.fit(x, y, epochs=4, callbacks=[checkpoint], **FIT)
    resumed = load_model(tmp_path / "ckpt-02.npz")
    resumed.fit(x, y, epochs=4, initial_epoch=2, **FIT)
    _assert_weights_equal(resumed, four)
    np.testing.assert_array_equal(load_model(tmp_path / "ckpt-04.npz").get_weights()[0], four.get_weights()[0])


def test_train_on_batch_after_load_continues_the_optimizer(tmp_path):
    x, y = _data()
    original = _model(optimizers.RMSprop(0.01, momentum=0.9))
    original.fit(x, y, epochs=1, **FIT)
    original.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    assert loaded.train_on_batch(x[:8], y[:8]) == original.train_on_batch(x[:8], y[:8])
    assert loaded.optimizer.iterations == original.optimizer.iterations == 4
    _assert_weights_equal(loaded, original)


# ---------------------------------------------------------------------------------------------
# What the file holds
# ---------------------------------------------------------------------------------------------


def test_the_file_names_every_leaf_of_the_state_and_the_iterations(tmp_path):
    x, y = _data()
    model = _model(optimizers.SGD(0.1, momentum=0.9))
    model.fit(x, y, epochs=2, **FIT)
    model.save(tmp_path / "model.npz")
    arrays, document = _arrays(tmp_path / "model.npz"), _document(tmp_path / "model.npz")
    assert document["version"] == 3
    assert document["optimizer_state"] == {"backend": "numpy", "iterations": 6}
    assert document["compile"]["optimizer"] == model.optimizer.get_config()
    weights = {path for path in arrays if path != "config.json" and not path.startswith("optimizer/")}
    assert sorted(path for path in arrays if path.startswith("optimizer/")) == [
        "optimizer/iterations", "optimizer/learning_rate",
        *sorted(f"optimizer/slots/momentums/{path}" for path in weights),
    ]
    assert arrays["optimizer/iterations"] == 6 and arrays["optimizer/learning_rate"] == 0.1
    momentums = model._optimizer_memory[2].slots.momentums
    for path in weights:
        np.testing.assert_array_equal(arrays[f"optimizer/slots/momentums/{path}"], momentums[path])
        assert np.abs(momentums[path]).max() > 0


def test_a_model_saved_before_training_loads_and_trains_as_a_fresh_one(tmp_path):
    x, y = _data()
    model = _model(optimizers.Adam(0.01))
    model.build((None, 5, 2))
    model.save(tmp_path / "model.npz")
    assert not any(name.startswith("optimizer/") for name in _arrays(tmp_path / "model.npz"))
    assert "optimizer_state" not in _document(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    assert loaded.optimizer.iterations == 0
    loaded.fit(x, y, epochs=2, **FIT)
    model.fit(x, y, epochs=2, **FIT)
    _assert_weights_equal(loaded, model)


def _version_2_file(model, path):
    """What ``model.save`` wrote before the optimizer state (format version 2, the writer of
    git HEAD~2): the document and the weights, nothing under ``optimizer/``."""
    document = {"format": FORMAT, "version": 2, "model": model_config(model),
                "compile": model.get_compile_config(), "metadata": {"note": "old"}}
    weights = {name: np.asarray(value) for name, value in _flat_weights(model).items()}
    np.savez(path, **{"config.json": np.array(json.dumps(document)), **weights})


def _flat_weights(model) -> dict:
    from scratchlstm._tree import flatten_paths

    return {**flatten_paths(model.params), **flatten_paths(model.state)}


def test_a_version_2_file_without_optimizer_state_still_loads_and_trains(tmp_path):
    x, y = _data()
    trained = _model(optimizers.Adam(0.01))
    trained.fit(x, y, epochs=2, **FIT)
    _version_2_file(trained, tmp_path / "old.npz")
    loaded = load_model(tmp_path / "old.npz")
    assert loaded.metadata == {"note": "old"} and loaded.optimizer.iterations == 0
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), trained.predict(x, verbose=0))
    loaded.fit(x, y, epochs=1, **FIT)
    fresh = _model(optimizers.Adam(0.01))  # the same weights and a new optimizer: the same run
    fresh.build((None, 5, 2))
    fresh.set_weights(trained.get_weights())
    fresh.fit(x, y, epochs=1, **FIT)
    _assert_weights_equal(loaded, fresh)


def test_include_optimizer_false_leaves_the_state_out(tmp_path):
    x, y = _data()
    model = _model(optimizers.Adam(0.01))
    model.fit(x, y, epochs=2, **FIT)
    model.save(tmp_path / "model.npz", include_optimizer=False)
    assert not any(name.startswith("optimizer/") for name in _arrays(tmp_path / "model.npz"))
    loaded = load_model(tmp_path / "model.npz")
    assert loaded.compiled is not None and loaded.optimizer == model.optimizer
    assert loaded.optimizer.iterations == 0 and loaded._optimizer_memory is None
    with pytest.raises(ValueError, match="include_optimizer must be True or False"):
        model.save(tmp_path / "other.npz", include_optimizer="no")
    assert not (tmp_path / "other.npz").exists()


def test_compile_after_load_starts_a_new_optimizer_as_keras_does(tmp_path):
    x, y = _data()
    model = _model(optimizers.Adam(0.01))
    model.fit(x, y, epochs=2, **FIT)
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    loaded.compile(optimizers.SGD(0.05, momentum=0.9), "mse")  # another optimizer, another state tree
    assert loaded.optimizer.iterations == 0 and loaded._optimizer_memory is None
    loaded.fit(x, y, epochs=1, **FIT)
    fresh = _model(optimizers.SGD(0.05, momentum=0.9))
    fresh.build((None, 5, 2))
    fresh.set_weights(model.get_weights())
    fresh.fit(x, y, epochs=1, **FIT)
    _assert_weights_equal(loaded, fresh)


def test_load_model_without_compile_ignores_the_optimizer_arrays(tmp_path):
    x, y = _data()
    model = _model(optimizers.Adam(0.01))
    model.fit(x, y, epochs=1, **FIT)
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz", compile=False)
    assert loaded.compiled is None and loaded.optimizer is None
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_layer_named_optimizer_is_not_taken_for_the_state(tmp_path):
    x, y = _data()
    inputs = Input((5, 2))
    outputs = Dense(1, name="optimizer")(LSTM(3, name="slots")(inputs))
    model = Model(inputs, outputs, seed=0)
    model.compile(optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=1, **FIT)
    model.save(tmp_path / "model.npz")
    model.save_weights(tmp_path / "model.weights.npz")
    loaded = load_model(tmp_path / "model.npz")
    _assert_weights_equal(loaded, model)
    loaded.load_weights(tmp_path / "model.weights.npz")
    model.fit(x, y, epochs=1, **FIT)
    loaded.fit(x, y, epochs=1, **FIT)
    _assert_weights_equal(loaded, model)


def test_a_jax_state_loaded_without_jax_warns_and_restarts_the_optimizer(tmp_path, monkeypatch):
    import importlib.util

    x, y = _data()
    model = _model(optimizers.Adam(0.01))
    model.fit(x, y, epochs=1, **FIT)
    model.save(tmp_path / "model.npz")
    arrays = _arrays(tmp_path / "model.npz")  # rewritten as if trained with JAX
    arrays["config.json"] = np.array(str(arrays["config.json"]).replace('"backend": "numpy"', '"backend": "jax"'))
    np.savez(tmp_path / "jax.npz", **arrays)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real_find_spec(name, *a))
    with pytest.warns(RuntimeWarning) as record:
        loaded = load_model(tmp_path / "jax.npz")
    assert any("optimizer starts afresh" in str(w.message) for w in record)
    assert loaded.backend_name == "numpy" and loaded.optimizer.iterations == 0
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


# ---------------------------------------------------------------------------------------------
# Broken optimizer arrays
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    x, y = _data()
    model = _model(optimizers.Adam(0.01))
    model.fit(x, y, epochs=1, **FIT)
    model.save(tmp_path / "model.npz")
    return tmp_path / "model.npz"


def _rewrite_document(arrays, change):
    document = json.loads(str(arrays["config.json"]))
    change(document)
    arrays["config.json"] = np.array(json.dumps(document))


KERNEL_M = "optimizer/slots/momentums/dense/kernel"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update({KERNEL_M: np.zeros((5, 1), np.float32)}), r"'optimizer/slots/momentums/dense/kernel' must have shape \(4, 1\).*\(5, 1\)"),
        (lambda a: a.pop(KERNEL_M), r"no array 'optimizer/slots/momentums/dense/kernel'"),
        (lambda a: a.update({"optimizer/slots/momentums/stray": np.zeros(3)}), r"optimizer arrays \['optimizer/slots/momentums/stray'\]"),
        (lambda a: a.update({"optimizer/average/dense/kernel": np.zeros((4, 1))}), r"optimizer arrays \['optimizer/average/dense/kernel'\]"),
        (lambda a: a.update({KERNEL_M: np.full((4, 1), np.inf, np.float32)}), "NaN or inf"),
        (lambda a: a.update({KERNEL_M: np.full((4, 1), "x")}), "real numbers"),
        (lambda a: a.update({"optimizer/iterations": np.array(2.5)}), "'optimizer/iterations' must hold integers"),
        (lambda a: a.update({"optimizer/iterations": np.array(-1)}), "counts >= 0"),
        (lambda a: a.update({"optimizer/iterations": np.array(4)}), "ran 3 iterations but its state holds 4"),
        (lambda a: _rewrite_document(a, lambda d: d.update({"optimizer_state": [1]})), "optimizer_state must be a JSON object"),
        (lambda a: _rewrite_document(a, lambda d: d.pop("optimizer_state")), r"arrays \[.*'optimizer/iterations'"),
    ],
)
def test_a_broken_optimizer_array_is_refused(saved, tmp_path, change, message):
    arrays = _arrays(saved)
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load_model(tmp_path / "bad.npz")


def test_a_broken_optimizer_array_in_a_weights_file_changes_nothing(tmp_path):
    x, y = _data()
    model = _model(optimizers.Adam(0.01))
    model.fit(x, y, epochs=1, **FIT)
    model.save_weights(tmp_path / "w.weights.npz")
    arrays = _arrays(tmp_path / "w.weights.npz")
    arrays["optimizer/2"] = np.zeros((7, 7), arrays["optimizer/2"].dtype)
    for name in arrays:  # new weights in the file, so that a half-done load would show
        if not name.startswith("optimizer/") and name != "weights.json":
            arrays[name] = arrays[name] + 1
    np.savez(tmp_path / "bad.weights.npz", **arrays)
    before, memory = model.get_weights(), model._optimizer_memory
    with pytest.raises(ValueError, match=r"optimizer array .* must have shape"):
        model.load_weights(tmp_path / "bad.weights.npz")
    for after, kept in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(after, kept)
    assert model._optimizer_memory is memory


def test_files_are_recognised_by_content_not_by_name(tmp_path):
    import scratchlstm as keras

    """Our npz files load under any name (older versions wrote them as `.keras` too); a damaged
    Keras file and non-regular paths are refused with a ValueError that says what they are (and
    a FIFO never blocks)."""
    import os

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, seed=0)])
    model.save(tmp_path / "ours.npz")
    os.replace(tmp_path / "ours.npz", tmp_path / "ours.keras")  # what older versions wrote
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(keras.load_model(tmp_path / "ours.keras").predict(x, verbose=0), model.predict(x, verbose=0))
    (tmp_path / "theirs.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with pytest.raises(ValueError, match="HDF5"):
        keras.load_model(tmp_path / "theirs.h5")
    import zipfile

    with zipfile.ZipFile(tmp_path / "theirs.keras", "w") as archive:
        for name in ("config.json", "metadata.json", "model.weights.h5"):
            archive.writestr(name, "{}")
    with pytest.raises(ValueError, match="config.json must hold a model"):
        keras.load_model(tmp_path / "theirs.keras")
    with pytest.raises(ValueError, match="not a regular file"):
        keras.load_model(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(ValueError, match="not a regular file"):
            keras.load_model(tmp_path / "pipe")
