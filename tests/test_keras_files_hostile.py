"""Hostile and wrong Keras files: each is a ValueError that says what is wrong, and nothing is
built, changed or written. These tests need h5py only (no Keras)."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import scratchlstm as keras  # noqa: E402
from scratchlstm.models import load_model  # noqa: E402


def _model():
    return keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3, seed=0), keras.layers.Dense(1, seed=1)])


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / "good.keras"
    _model().save(path)
    with zipfile.ZipFile(path) as source:
        return {name: source.read(name) for name in source.namelist()}


def _write(path, members: dict):
    with zipfile.ZipFile(path, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    return path


def _edit_config(members, change):
    document = json.loads(members["config.json"])
    change(document)
    return {**members, "config.json": json.dumps(document)}


def _edit_weights(members, change):
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as store:
        change(store)
    return {**members, "model.weights.h5": buffer.getvalue()}


def test_a_good_archive_loads(archive, tmp_path):
    model = load_model(_write(tmp_path / "again.keras", archive))
    np.testing.assert_array_equal(model.get_weights()[0], _model().get_weights()[0])


def _set_class(document, name):
    document["config"]["layers"][1]["class_name"] = name


@pytest.mark.parametrize("change, message", [
    (lambda d: _set_class(d, "Conv3DTranspose"), "Conv3DTranspose' has no scratchlstm counterpart"),
    (lambda d: _set_class(d, "Lambda"), "Lambda.*Python code"),
    (lambda d: d["config"]["layers"][2]["config"].update(
        activation={"class_name": "__lambda__", "config": {"code": "x"}}), "__lambda__.*Python code"),
    (lambda d: d["config"]["layers"][2]["config"].update(quantization_config={"mode": "int8"}),
     "quantization_config=.*does not implement"),
    (lambda d: d["config"]["layers"][2]["config"].update(units=2), "shape|declares"),
    (lambda d: d["config"]["layers"][1]["config"].update(units=10 ** 9), "weight values|too big|does not build"),
    (lambda d: d["config"].update(dtype={"class_name": "DTypePolicy", "config": {"name": "float16"}}),
     "the dtype 'float16' is not supported"),
    (lambda d: d["config"].update(dtype={"class_name": "QuantizedDTypePolicy", "config": {"name": "int8_from_float32"}}),
     "QuantizedDTypePolicy"),
])
def test_hostile_configs_are_refused(archive, tmp_path, change, message):
    path = _write(tmp_path / "bad.keras", _edit_config(archive, change))
    with pytest.raises(ValueError, match=message):
        load_model(path)


def _resize(store, name, shape):
    del store[name]
    store.create_dataset(name, data=np.zeros(shape, np.float32))


@pytest.mark.parametrize("change, message", [
    (lambda s: _resize(s, "layers/dense/vars/0", (4, 1)), r"shape \(4, 1\).*needs \(3, 1\)"),
    (lambda s: s["layers/dense/vars/1"].__setitem__((), np.array([np.nan], np.float32)), "NaN"),
    (lambda s: s.create_dataset("layers/dense/vars/2", data=np.zeros(1)), "no place for"),
    (lambda s: s.__delitem__("layers/lstm/cell/vars/2"), "no dataset 'layers/lstm/cell/vars/2'|declares 64"),
    (lambda s: s["layers/dense/vars"].__setitem__("3", h5py.ExternalLink("/etc/passwd", "/x")), "ExternalLink"),
    (lambda s: s.create_dataset("layers/dense/vars/big", shape=(10 ** 6, 10 ** 6), dtype="f8",
                                compression="gzip", chunks=(1, 1000)), "decompression bomb|no place"),
])
def test_hostile_weights_are_refused(archive, tmp_path, change, message):
    path = _write(tmp_path / "bad.keras", _edit_weights(archive, change))
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_member_names_that_escape_truncated_files_and_non_zips(archive, tmp_path):
    escaping = _write(tmp_path / "escape.keras", {**archive, "../../evil.txt": b"x"})
    with pytest.raises(ValueError, match="outside the archive"):
        load_model(escaping)
    assert not (tmp_path.parent / "evil.txt").exists()
    data = (tmp_path / "escape.keras").read_bytes()
    good = _write(tmp_path / "good.keras", archive).read_bytes()
    (tmp_path / "truncated.keras").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError):
        load_model(tmp_path / "truncated.keras")
    (tmp_path / "text.keras").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a scratchlstm model file|not a zip"):
        load_model(tmp_path / "text.keras")
    assert data  # the escaping archive itself was readable


def test_a_weights_file_is_checked_before_anything_is_set(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "a") as store:
        store["layers/dense/vars/1"][()] = np.array([np.inf], np.float32)
    other = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3, seed=5), keras.layers.Dense(1, seed=6)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="NaN or inf"):
        other.load_weights(tmp_path / "m.weights.h5")
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))


def test_weights_round_trip_and_unknown_extensions(tmp_path):
    model, other = _model(), keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    model.save_weights(tmp_path / "m.weights.h5")
    other.load_weights(tmp_path / "m.weights.h5")
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))
    for name, call in (("m.pt", model.save), ("m.h5", model.save), ("m.weights.pt", model.save_weights),
                       ("m.keras", model.save_weights)):
        with pytest.raises(ValueError, match=r"supported extensions are .*\.npz"):
            call(tmp_path / name)
        assert not os.path.exists(tmp_path / name)
    with pytest.raises(ValueError, match="weights file.*load_weights"):
        load_model(tmp_path / "m.weights.h5")


def test_model_checkpoint_writes_keras_files(tmp_path):
    x, y = np.ones((8, 4, 2), np.float32), np.ones((8, 1), np.float32)
    model = _model()
    model.compile("adam", "mse")
    callbacks = [keras.callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.keras")),
                 keras.callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch}.weights.h5"), save_weights_only=True)]
    model.fit(x, y, epochs=2, verbose=0, callbacks=callbacks)
    restored = load_model(tmp_path / "m-2.keras")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    fresh = _model()
    fresh.load_weights(tmp_path / "w-2.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_layer_keras_lacks_is_named_and_nothing_is_written(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activity_regularizer="l2")])
    with pytest.raises(ValueError, match="activity_regularizer"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_without_h5py_keras_files_name_the_extra(tmp_path, monkeypatch):
    model = _model()
    model.save(tmp_path / "m.keras")
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)  # import h5py now fails
    for call in (lambda: model.save(tmp_path / "n.keras"), lambda: model.save_weights(tmp_path / "n.weights.h5"),
                 lambda: load_model(tmp_path / "m.keras")):
        with pytest.raises(ImportError, match=r'pip install "scratchlstm\[keras-files\]"'):
            call()
    assert not (tmp_path / "n.keras").exists()


def test_importing_scratchlstm_loads_no_h5py():
    import subprocess
    import sys

    code = "import sys, scratchlstm, scratchlstm.keras_files; print('h5py' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_a_config_asking_for_a_huge_layer_is_refused_without_allocating_it(archive, tmp_path):
    """The shape probe builds with zero-stride placeholders: a GRU of 3000 units in a 5 KB file
    allocated 300 MiB (zeros cast to float32) before the count check refused it."""
    import tracemalloc

    wide = _edit_config(archive, lambda d: d["config"]["layers"][1]["config"].update(units=3000))
    path = _write(tmp_path / "big.keras", wide)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="weight values"):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def test_metadata_nested_too_deep_is_refused_on_save_and_on_load(archive, tmp_path):
    deep: list = []
    for _ in range(150):
        deep = [deep]
    path = tmp_path / "m.keras"
    model = _model()
    model.save(path)
    before = path.read_bytes()
    loop: dict = {}
    loop["self"] = loop
    # each was a RecursionError, a bare "Circular reference" or "truth value ... is ambiguous"
    for metadata, message in [(deep, "nests more than 100"), (loop, "holds itself"), (np.zeros(2), "JSON-serialisable")]:
        with pytest.raises(ValueError, match=message):
            model.save(path, metadata=metadata)
        assert path.read_bytes() == before
    info = json.loads(archive["metadata.json"])
    info["scratchlstm_metadata"] = "DEEP"
    text = json.dumps(info).replace('"DEEP"', "[" * 150 + "]" * 150)
    with pytest.raises(ValueError, match="metadata.json nests more than 100"):
        load_model(_write(tmp_path / "deep.keras", {**archive, "metadata.json": text}))
