"""The package is typed: a user's code that calls the public API passes ``mypy --strict``.

A small script (``USER_CODE``) uses the entry points a user calls: Sequential, Model, Input,
layers, compile/fit/predict/evaluate/save, the datasets, the data tools, optimizers, losses,
metrics and callbacks. mypy checks it with ``--strict`` and the ``[tool.mypy]`` settings of
pyproject.toml, which read the package from this checkout and report errors in the user's
code only (as for an installed package with ``py.typed``). The same script also runs, so it
stays real API. Skipped when mypy (in the ``test`` extra) is not installed.

The package itself passes ``mypy --strict -p scratchlstm`` (every body, not only the public
signatures).

Also here: the packaging facts that typing relies on (``py.typed`` ships) and the single
source of the version.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import scratchlstm

ROOT = Path(__file__).resolve().parents[1]

USER_CODE = '''\
from __future__ import annotations

import numpy as np

import scratchlstm as keras
from scratchlstm.data import MinMaxScaler, StandardScaler, Vocabulary, calendar_features
from scratchlstm.data import chronological_split, make_windows
from scratchlstm.datasets import Table, load_names, load_seattle_temps, load_seattle_weather

table: Table = load_seattle_weather()
train, val, test = chronological_split(table.values, val_fraction=0.15, test_fraction=0.15)
scaler = StandardScaler().fit(train)
x_train, y_train = make_windows(scaler.transform(train), lookback=14, targets=1)

model = keras.Sequential([keras.Input(shape=(14, 4)), keras.layers.LSTM(8), keras.layers.Dense(1)], seed=0)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse", metrics=["mae"])
history = model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0,
                    callbacks=[keras.callbacks.EarlyStopping(patience=2)])
losses: list[float] = history.history["loss"]
predictions: np.ndarray = model.predict(x_train, verbose=0)
score = model.evaluate(x_train, y_train, verbose=0)
model.save("model.npz")
again = keras.models.load_model("model.npz")
again.summary(print_fn=lambda line: None)

inputs = keras.Input(shape=(14, 4))
features = keras.layers.LSTM(8, return_sequences=True)(inputs)
outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(features))
functional = keras.Model(inputs, outputs)
functional.compile(optimizer="adam", loss=keras.losses.MeanSquaredError(),
                   metrics=[keras.metrics.MeanAbsoluteError()])
parameters: int = functional.count_params()

stack = keras.Sequential([
    keras.layers.Input(shape=(None, 4)),
    keras.layers.Masking(mask_value=0.0),
    keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True)),
    keras.layers.SimpleRNN(4, return_sequences=True),
    keras.layers.Conv1D(4, 3, padding="same"),
    keras.layers.LayerNormalization(),
    keras.layers.Dropout(0.1),
    keras.layers.TimeDistributed(keras.layers.Dense(2)),
    keras.layers.GlobalMaxPooling1D(),
])
stack.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
              loss=keras.losses.Huber(), metrics=[keras.metrics.RootMeanSquaredError()])
callbacks: list[keras.callbacks.Callback] = [keras.callbacks.ReduceLROnPlateau(patience=1)]
optimizers = [keras.optimizers.RMSprop(), keras.optimizers.AdamW(weight_decay=1e-4)]
temps = load_seattle_temps()
names = load_names()
vocabulary = Vocabulary("char").fit(names.names[:100])
calendar = calendar_features(temps.dates)
scaled = MinMaxScaler().fit_transform(temps.values)
embedding = keras.layers.Embedding(10, 4, mask_zero=True)

tokens = keras.Input(shape=(None,), dtype="int32")
embedded = keras.layers.Embedding(100, 8, mask_zero=True)(tokens)
left = keras.layers.GRU(8, return_sequences=True, dropout=0.1)(embedded)
right = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))(embedded)
merged = keras.layers.concatenate([left, right])
head = keras.layers.Dense(3, activation="softmax")(keras.layers.Dropout(0.2)(keras.layers.GlobalAveragePooling1D()(merged)))
classifier = keras.Model(tokens, head)
classifier.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                   loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                   metrics=[keras.metrics.SparseCategoricalAccuracy()])
checkpoint = keras.callbacks.ModelCheckpoint("m.npz", save_best_only=True)
mse: np.ndarray = keras.losses.mean_squared_error(np.zeros((2, 1)), np.ones((2, 1)))
padded: np.ndarray = keras.utils.pad_sequences([[1, 2], [3]], maxlen=4)
'''


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for both mypy runs: the second reuses the analysis of numpy and the package."""
    return tmp_path_factory.mktemp("mypy_cache")


def run_mypy(tmp_path: Path, code: str, cache: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "user_code.py").write_text(code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(cache), "user_code.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_user_code_passes_mypy_strict(tmp_path, mypy_cache):
    pytest.importorskip("mypy")
    result = run_mypy(tmp_path, USER_CODE, mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout


def test_mypy_sees_the_annotations(tmp_path, mypy_cache):
    # Wrong argument types must be reported: the signatures are not just Any.
    pytest.importorskip("mypy")
    wrong = USER_CODE + (
        'model.fit(x_train, y_train, epochs="3")\n'
        "keras.Sequential([keras.layers.Dense(1)], seed=0.5)\n"
        "load_seattle_weather(as_frame=1)\n"
    )
    result = run_mypy(tmp_path, wrong, mypy_cache)
    assert result.returncode == 1, result.stdout
    for message in ('Argument "epochs" to "fit"', 'Argument "seed" to "Sequential"',
                    'No overload variant of "load_seattle_weather" matches argument type "int"'):
        assert message in result.stdout, result.stdout
    assert "Found 3 errors" in result.stdout, result.stdout


def test_package_passes_mypy_strict(mypy_cache):
    # Not only the signatures: every body in the package type-checks under --strict.
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(mypy_cache), "-p", "scratchlstm"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr
    assert "Success: no issues found" in result.stdout, result.stdout


def test_user_code_runs(tmp_path):
    (tmp_path / "user_code.py").write_text(USER_CODE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "user_code.py"], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr


def test_py_typed_ships_with_the_package():
    assert (Path(scratchlstm.__file__).parent / "py.typed").is_file()
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["scratchlstm"]
    assert "Typing :: Typed" in config["project"]["classifiers"]


def test_the_version_has_one_source():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in config["project"], "pyproject.toml reads the version from the package"
    assert "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "scratchlstm.__version__"}
    major, minor, patch = scratchlstm.__version__.split(".")
    assert all(part.isdigit() for part in (major, minor, patch))


def test_the_package_imports_with_docstrings_stripped():
    # python -OO sets every __doc__ to None: code that builds a docstring from another must cope
    code = "import scratchlstm, scratchlstm.metrics, scratchlstm.layers, scratchlstm.losses, scratchlstm.callbacks"
    result = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
