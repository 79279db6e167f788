"""Hostile ``.npz`` model and weights files (issue #14): every one is a ``ValueError`` that names
the file and what is wrong with it, raised before anything is built, allocated or changed.

``load_model`` builds the model from the file's config with placeholder weights (no initializer
runs; zero-stride arrays allocate nothing), checks each stored array's header (name, shape,
dtype; the shape against the bytes the archive really holds) before reading any data, then its
values (finite), and replaces every placeholder. ``load_weights`` into an existing model checks
all of that before it sets anything. Metadata nests at most ``MAX_METADATA_DEPTH`` levels, on
save and on load.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile

import numpy as np
import pytest

from scratchlstm import LSTM, Bidirectional, Dense, Input, Model, Sequential, initializers, load_model
from scratchlstm.models._file_checks import MAX_DOCUMENT_DEPTH, MAX_METADATA_DEPTH, json_depth, nesting_depth

X = np.random.default_rng(0).normal(size=(4, 5, 2)).astype(np.float32)
Y = np.random.default_rng(1).normal(size=(4, 1)).astype(np.float32)


def _model():
    model = Sequential(
        [Input((5, 2)), LSTM(3, return_sequences=True, name="lstm"), LSTM(3, name="lstm_1"), Dense(1, name="dense")],
        seed=0,
    )
    model.compile("adam", "mse")
    model.fit(X, Y, epochs=1, batch_size=2, shuffle=False, verbose=0)  # so the optimizer state is stored
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(model file, weights file, the model that wrote them)."""
    folder = tmp_path_factory.mktemp("files")
    model = _model()
    model.save(folder / "good.npz", metadata={"lookback": 5})
    model.save_weights(folder / "good.weights.npz")
    return folder / "good.npz", folder / "good.weights.npz", model


def _arrays(path) -> dict:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _rewrite(arrays: dict, header: str, change) -> dict:
    """``arrays`` with the JSON document in ``header`` changed by ``change(document)``."""
    document = json.loads(str(arrays[header]))
    result = change(document)
    arrays = dict(arrays)
    arrays[header] = np.array(json.dumps(document if result is None else result))
    return arrays


def _layer(index: int, **options):
    def change(document):
        document["model"]["config"]["layers"][index]["config"].update(options)

    return change


def _replace_member(path, name: str, payload: bytes) -> bytes:
    """The archive at ``path`` with member ``name`` replaced by raw ``payload``."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, payload if info.filename == name else source.read(info))
    return out.getvalue()


def _npy_header(shape, descr="<f4") -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    return header.getvalue()


def _forge_sizes(data: bytes, name: str, size: int) -> bytes:
    """Set the central-directory sizes of member ``name`` (stored) to ``size``."""
    entry = 0
    while True:
        entry = data.index(b"PK\x01\x02", entry)
        length = struct.unpack("<H", data[entry + 28 : entry + 30])[0]
        if data[entry + 46 : entry + 46 + length].decode() == name:
            return data[: entry + 20] + struct.pack("<II", size, size) + data[entry + 28 :]
        entry += 4


# --- hostile model files: (class of input, what was tried, how to make it, the message) -------------
# A maker gets (model file, its arrays) and returns arrays to np.savez, or raw bytes.
MODEL_CASES = [
    ("not an archive", "empty file", lambda p, a: b"", "is empty"),
    ("not an archive", "plain .npy", lambda p, a: b"\x93NUMPY" + p.read_bytes()[6:40], "single .npy array"),
    ("not an archive", "text", lambda p, a: b"hello, world", "not a scratchlstm model file"),
    ("not an archive", "truncated to 500 bytes", lambda p, a: p.read_bytes()[:500], "not a scratchlstm model file"),
    ("not an archive", "last 100 bytes cut", lambda p, a: p.read_bytes()[:-100], "not a scratchlstm model file"),
    ("not an archive", "Keras .h5 (HDF5)", lambda p, a: b"\x89HDF\r\n\x1a\n" + bytes(64), "HDF5"),
    ("archive", "foreign npz", lambda p, a: {"a": np.zeros(3)}, r"no config\.json entry"),
    ("archive", "member that is not .npy", lambda p, a: _add_member(p, "notes.txt", b"hi"), "'notes.txt' is not a .npy array"),
    ("archive", "array stored twice", lambda p, a: _add_member(p, "dense/bias.npy", p.read_bytes()[:0]), "twice"),
    ("archive", "stored size beyond the file", lambda p, a: _forge_sizes(p.read_bytes(), "dense/bias.npy", 2**31),
     "claims 2147483648 bytes, more than the file holds"),
    ("archive", "a damaged byte in a weight", lambda p, a: _damage(p, "lstm/kernel.npy"), r"damaged|CRC"),
    ("npy header", "(10^6, 10^6) shape on 16 bytes",
     lambda p, a: _replace_member(p, "lstm/kernel.npy", _npy_header((10**6, 10**6)) + bytes(16)),
     r"declares shape \(1000000, 1000000\) of float32 \(4000000000000 bytes\) but holds 16 bytes"),
    ("npy header", "garbage header", lambda p, a: _replace_member(p, "lstm/kernel.npy", b"\x93NUMPY\x01\x00\x10\x00{junk"),
     "header of 'lstm/kernel.npy' is unreadable"),
    ("npy header", "object dtype", lambda p, a: _replace_member(p, "lstm/kernel.npy", _npy_header((2, 12), "|O") + bytes(192)),
     "has dtype object"),
    ("config.json", "a list", lambda p, a: {**a, "config.json": np.array("[1]")}, "must hold a JSON object, got list"),
    ("config.json", "null", lambda p, a: {**a, "config.json": np.array("null")}, "got NoneType"),
    ("config.json", "a string", lambda p, a: {**a, "config.json": np.array('"x"')}, "got str"),
    ("config.json", "a number", lambda p, a: {**a, "config.json": np.array("3")}, "got int"),
    ("config.json", "not JSON", lambda p, a: {**a, "config.json": np.array("{")}, "not valid JSON"),
    ("config.json", "not a string array", lambda p, a: {**a, "config.json": np.arange(3)}, "must be a single string"),
    ("config.json", "nested 100,000 deep", lambda p, a: {**a, "config.json": np.array("[" * 100000 + "]" * 100000)},
     "nests 100000 levels deep; at most 200"),
    ("config.json", '"version": "1"', lambda p, a: _rewrite(a, "config.json", lambda d: d.update(version="1")), "version '1'"),
    ("config.json", '"version": true', lambda p, a: _rewrite(a, "config.json", lambda d: d.update(version=True)), "version True"),
    ("config.json", "version 4", lambda p, a: _rewrite(a, "config.json", lambda d: d.update(version=4)), "version 4"),
    ("config.json", "metadata 150 deep", lambda p, a: _rewrite(a, "config.json", lambda d: d.update(metadata=_nested(150))),
     "metadata nests more than 100"),
    ("model config", "model is a list", lambda p, a: _rewrite(a, "config.json", lambda d: d.update(model=[1])), "a model config must be"),
    ("model config", "layers is a number", lambda p, a: _rewrite(a, "config.json", lambda d: d["model"]["config"].update(layers=3)),
     "model config is"),
    ("model config", "unknown layer class", lambda p, a: _rewrite(
        a, "config.json", lambda d: d["model"]["config"]["layers"][0].update(class_name="Nope")), "model config is"),
    ("model config", "units '3'", lambda p, a: _rewrite(a, "config.json", _layer(1, units="3")), "units must be a positive integer"),
    ("model config", "units true", lambda p, a: _rewrite(a, "config.json", _layer(1, units=True)), "units must be a positive integer"),
    ("model config", "units -1", lambda p, a: _rewrite(a, "config.json", _layer(1, units=-1)), "units must be a positive integer"),
    ("model config", "dropout 5", lambda p, a: _rewrite(a, "config.json", _layer(1, dropout=5)), "dropout"),
    ("model config", "units 10^12", lambda p, a: _rewrite(a, "config.json", _layer(2, units=10**12)),
     r"'dense/kernel' must have shape \(3, 1000000000000\) for the model, got \(3, 1\)"),
    ("model config", "units 3000 (5 KB file)", lambda p, a: _rewrite(a, "config.json", _layer(1, units=3000)),
     r"'lstm_1/kernel' must have shape \(3, 12000\)"),
    ("model config", "units 5, arrays of 3", lambda p, a: _rewrite(a, "config.json", _layer(1, units=5)),
     r"'lstm_1/kernel' must have shape \(3, 20\) for the model, got \(3, 12\)"),
    ("model config", "use_bias false, bias stored", lambda p, a: _rewrite(a, "config.json", _layer(1, use_bias=False)),
     r"holds arrays \['lstm_1/bias'\] that the model has no weight for"),
    ("model config", "first return_sequences flipped", lambda p, a: _rewrite(a, "config.json", _layer(0, return_sequences=False)),
     "model config is invalid: LSTM 'lstm_1' expects 3-D input"),
    ("model config", "last return_sequences flipped (same weight shapes)",
     lambda p, a: _rewrite(a, "config.json", _layer(1, return_sequences=True)),
     r"builds outputs of shape \[\[None, 5, 1\]\], but the file was saved from a model whose outputs were \[\[None, 1\]\]"),
    ("model config", "output shapes not a list", lambda p, a: _rewrite(a, "config.json", lambda d: d.update(output_shapes=7)),
     "the config and the weights do not belong together"),
    ("model config", "compile settings a list", lambda p, a: _rewrite(a, "config.json", lambda d: d.update(compile=[1])),
     "compile settings are malformed"),
    ("weights", "a wider kernel", lambda p, a: {**a, "lstm/kernel": np.zeros((3, 12), np.float32)},
     r"'lstm/kernel' must have shape \(2, 12\) for the model, got \(3, 12\)"),
    ("weights", "a missing array", lambda p, a: {k: v for k, v in a.items() if k != "dense/bias"}, "no array 'dense/bias'"),
    ("weights", "an extra array", lambda p, a: {**a, "dense/extra": np.zeros(1)}, r"\['dense/extra'\]"),
    ("weights", "NaN", lambda p, a: {**a, "lstm/kernel": np.full((2, 12), np.nan)}, "NaN or inf"),
    ("weights", "inf", lambda p, a: {**a, "lstm/kernel": np.full((2, 12), -np.inf)}, "NaN or inf"),
    ("weights", "float64 beyond float32", lambda p, a: {**a, "lstm/kernel": np.full((2, 12), 1e300)}, "NaN or inf"),
    ("weights", "strings", lambda p, a: {**a, "lstm/kernel": np.full((2, 12), "x")}, "must be real numbers, got dtype <U1"),
    ("weights", "complex", lambda p, a: {**a, "lstm/kernel": np.zeros((2, 12), complex)}, "got dtype complex128"),
    ("weights", "bool", lambda p, a: {**a, "lstm/kernel": np.zeros((2, 12), bool)}, "got dtype bool"),
    ("weights", "datetime", lambda p, a: {**a, "lstm/kernel": np.zeros((2, 12), "M8[s]")}, r"got dtype datetime64\[s\]"),
    ("weights", "bytes", lambda p, a: {**a, "lstm/kernel": np.zeros((2, 12), "S2")}, "got dtype |S2"),
    ("weights", "structured", lambda p, a: {**a, "lstm/kernel": np.zeros((2, 12), [("a", "f4")])}, "only plain numbers"),
]


def _nested(depth: int):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _add_member(path, name: str, payload: bytes) -> bytes:
    out = io.BytesIO(path.read_bytes())
    with zipfile.ZipFile(out, "a") as archive, pytest.warns(UserWarning) if name.endswith(".npy") else _nothing():
        archive.writestr(name, payload or _npy_header((1,)) + bytes(4))
    return out.getvalue()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _damage(path, member: str) -> bytes:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data[info.header_offset + 30 + len(member) + info.extra.__len__() + 200] ^= 0xFF  # a byte of the data
    return bytes(data)


def _write_case(folder, name: str, made) -> str:
    path = folder / f"{name}.npz"
    if isinstance(made, bytes):
        path.write_bytes(made)
    else:
        np.savez(path, **made)
    return path


def _case_id(case):
    return f"{case[0]}: {case[1]}"


@pytest.mark.parametrize("case", MODEL_CASES, ids=_case_id)
def test_a_hostile_model_file_is_a_clear_value_error(saved, tmp_path, case, no_initializer):
    _, tried, make, message = case
    path = _write_case(tmp_path, "bad", make(saved[0], _arrays(saved[0])))
    with pytest.raises(ValueError, match=message) as caught:
        load_model(path)
    assert str(path) in str(caught.value)  # the message names the file
    assert no_initializer == []  # nothing was drawn, whatever the config asked for


@pytest.fixture
def no_initializer(monkeypatch):
    """Records every initializer that draws values (none may, while loading)."""
    calls = []
    classes, pending = [], [initializers.Initializer]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    for cls in classes:
        if "_sample" in vars(cls):
            original = vars(cls)["_sample"]

            def recording(self, shape, rng, _original=original):
                calls.append((type(self).__name__, shape))
                return _original(self, shape, rng)

            monkeypatch.setattr(cls, "_sample", recording)
    return calls


def test_a_good_file_loads_without_running_an_initializer_and_keeps_no_placeholder(saved, no_initializer):
    path, _, model = saved
    loaded = load_model(path)
    assert no_initializer == []
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    for layer in loaded.layers:
        for tree in (layer.params, layer.state):
            for name, value in tree.items():
                assert not initializers.is_placeholder(value), (layer.name, name)
                assert value.flags.writeable and value.flags.owndata and 0 not in value.strides
    loaded.fit(X, Y, epochs=1, batch_size=2, verbose=0)  # in-place updates work on what was loaded
    assert initializers.get("glorot_uniform")((2, 2), np.random.default_rng(0)).strides == (8, 4)
    assert no_initializer != []  # the recorder works: outside loading, initializers draw


def test_nested_models_bidirectional_and_stateful_layers_keep_no_placeholder(tmp_path, no_initializer):
    inner = Sequential([Input((4, 2)), Bidirectional(LSTM(3, return_sequences=True)), Dense(2)], seed=1)
    x = Input(batch_shape=(2, 4, 2))
    out = LSTM(2, stateful=True)(inner(x))
    model = Model(x, Dense(1)(out))
    data = np.random.default_rng(2).normal(size=(2, 4, 2)).astype(np.float32)
    model.predict(data, verbose=0)  # the stateful layer's state moves on: the file keeps it
    model.save(tmp_path / "nested.npz")
    expected = model.predict(data, verbose=0)
    before = len(no_initializer)
    loaded = load_model(tmp_path / "nested.npz")
    assert len(no_initializer) == before
    weights = loaded.get_weights()
    assert len(weights) == len(model.get_weights())
    assert not any(initializers.is_placeholder(w) for w in weights)
    from scratchlstm.models._serialization import _weight_arrays

    assert not any(initializers.is_placeholder(v) for v in _weight_arrays(loaded).values())
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), expected)


def test_a_file_that_asks_for_a_huge_model_is_refused_fast(saved, tmp_path):
    """The issue's case: a 5 KB file with units=3000 took 23 s and 1.4 GB (the initializers ran)."""
    arrays = _rewrite(_arrays(saved[0]), "config.json", _layer(1, units=3000))
    np.savez(tmp_path / "big.npz", **arrays)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"must have shape \(3, 12000\)"):
        load_model(tmp_path / "big.npz")
    assert time.perf_counter() - start < 5  # ~0.01 s; the bound is generous against a loaded machine


def test_a_compressed_file_loads_and_a_member_claiming_too_much_is_refused(saved, tmp_path):
    path, _, model = saved
    np.savez_compressed(tmp_path / "small.npz", **_arrays(path))
    np.testing.assert_array_equal(load_model(tmp_path / "small.npz").predict(X, verbose=0), model.predict(X, verbose=0))
    data = bytearray((tmp_path / "small.npz").read_bytes())
    entry = data.index(b"PK\x01\x02")  # the first member's central-directory entry: claim 1 GB
    data[entry + 24 : entry + 28] = struct.pack("<I", 2**30)
    (tmp_path / "bomb.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="more than compression can"):
        load_model(tmp_path / "bomb.npz")


# --- metadata depth ---------------------------------------------------------------------------------
def test_metadata_nested_too_deep_is_refused_on_save_before_writing(saved, tmp_path):
    model = saved[2]
    target = tmp_path / "m.npz"
    model.save(target)
    before = target.read_bytes()
    for metadata in (_nested(MAX_METADATA_DEPTH + 1), _nested(5000)):
        with pytest.raises(ValueError, match="metadata nests more than 100 levels"):
            model.save(target, metadata=metadata)
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match="holds itself"):
        model.save(target, metadata=loop)
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
    model.save(target, metadata={"deep": _nested(MAX_METADATA_DEPTH - 1)})  # the limit itself is fine
    assert nesting_depth(load_model(target).metadata) == MAX_METADATA_DEPTH


def test_json_depth_ignores_brackets_in_strings_and_never_recurses():
    assert json_depth(json.dumps({"a": "[[[{{{", "b": ['\\"]]', {"c": []}]})) == 4  # { [ { [
    assert json_depth("[" * 10**6) == 10**6  # no RecursionError, whatever the depth
    assert MAX_DOCUMENT_DEPTH > MAX_METADATA_DEPTH + 1


# --- hostile weights files, loaded into an existing model -------------------------------------------
def _weights_json(change):
    return lambda p, a: _rewrite(a, "weights.json", change)


WEIGHTS_CASES = [
    ("not an archive", "empty file", lambda p, a: b"", "is empty"),
    ("not an archive", "truncated", lambda p, a: p.read_bytes()[:300], "not a scratchlstm weights file"),
    ("archive", "a model file", lambda p, a: {"config.json": np.array("{}")}, r"no weights\.json entry"),
    ("npy header", "(10^6, 10^6) shape", lambda p, a: _replace_member(p, "lstm/kernel.npy", _npy_header((10**6, 10**6)) + bytes(16)),
     "declares shape"),
    ("weights.json", "a list", _weights_json(lambda d: [1]), "must hold a JSON object, got list"),
    ("weights.json", "nested 100,000 deep", lambda p, a: {**a, "weights.json": np.array("[" * 100000 + "]" * 100000)}, "nests"),
    ("weights.json", "another format", _weights_json(lambda d: d.update(format="x")), "format 'x'"),
    ("weights.json", '"version": "1"', _weights_json(lambda d: d.update(version="1")), "version '1'"),
    ("weights.json", "order of numbers", _weights_json(lambda d: d.update(order=[1, 2])), "'order' must be a list of distinct"),
    ("weights.json", "order with a duplicate", _weights_json(lambda d: d.update(order=[d["order"][0]] * len(d["order"]))), "distinct"),
    ("weights.json", "optimizer count 10^12", _weights_json(lambda d: d["optimizer"].update(count=10**12)), "count"),
    ("weights.json", "optimizer count -1", _weights_json(lambda d: d["optimizer"].update(count=-1)), "count"),
    ("weights.json", "optimizer count '3'", _weights_json(lambda d: d["optimizer"].update(count="3")), "count"),
    ("weights.json", "optimizer a list", _weights_json(lambda d: d.update(optimizer=[1])), "'optimizer' must be"),
    ("weights", "a wider kernel", lambda p, a: {**a, "lstm/kernel": np.zeros((3, 12), np.float32)}, r"must have shape \(2, 12\)"),
    ("weights", "NaN in the last array", lambda p, a: {**a, "dense/bias": np.full(1, np.nan, np.float32)}, "NaN or inf"),
    ("weights", "strings", lambda p, a: {**a, "dense/bias": np.array(["x"])}, "real numbers"),
    ("weights", "an optimizer array of another shape", lambda p, a: {**a, "optimizer/2": np.zeros((7, 7), np.float32)},
     "must have shape"),
]


@pytest.mark.parametrize("case", WEIGHTS_CASES, ids=_case_id)
def test_a_hostile_weights_file_is_refused_and_changes_nothing(saved, tmp_path, case):
    _, weights_path, _ = saved
    model = _model()
    arrays = {name: value + 1 if value.dtype.kind == "f" and not name.startswith("optimizer/") else value
              for name, value in _arrays(weights_path).items()}  # other values, so a half-done load shows
    made = case[2](weights_path, arrays)
    path = _write_case(tmp_path, "bad.weights", made)
    before, memory, iterations = model.get_weights(), model._optimizer_memory, model.optimizer.iterations
    with pytest.raises(ValueError, match=case[3]) as caught:
        model.load_weights(path)
    assert str(path) in str(caught.value)
    for after, kept in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(after, kept)
    assert model._optimizer_memory is memory and model.optimizer.iterations == iterations


def test_thousands_of_forged_members_are_refused_by_name_without_parsing_their_headers(saved, tmp_path, monkeypatch):
    """Each .npy header costs ~0.3 ms to parse: 100,000 tiny members (a 6 MB file) took half a
    minute before the loader looked at their names. Headers are read when an array is needed."""
    out = io.BytesIO()
    with zipfile.ZipFile(saved[0]) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        for k in range(2000):
            target.writestr(f"x{k}.npy", _npy_header((1,)) + bytes(4))
    path = _write_case(tmp_path, "many", out.getvalue())
    parsed = []
    original = np.lib.format.read_array_header_1_0

    def counting(handle, *args, **kwargs):
        parsed.append(1)
        return original(handle, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", counting)
    with pytest.raises(ValueError, match=r"holds arrays \['x0', .*\] and 1990 more that the model has no weight for"):
        load_model(path)
    assert len(parsed) <= 1  # config.json's at most
