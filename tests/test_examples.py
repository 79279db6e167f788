"""Run each script in examples/ as a user would (a subprocess), with fewer epochs and a fixed
seed, and check the numbers it prints: the forecasters must beat persistence on the
chronological test split."""

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CI_EPOCHS = ["--epochs", "30", "--seed", "0", "--verbose", "0"]


def run_example(name, *args, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    # Tiny GEMMs: a second BLAS thread only adds overhead, and xdist already runs 2 workers.
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, env=env, timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def results(stdout, prefix="RESULT "):
    """``{name: value}`` from the machine-readable ``RESULT a=1 b=2`` line(s)."""
    lines = [line for line in stdout.splitlines() if line.startswith(prefix)]
    assert lines, stdout
    return {k: float(v) if re.fullmatch(r"[-\d.e]+", v) else v
            for line in lines for k, v in (item.split("=") for item in line[len(prefix):].split())}


def seattle_temp_max():
    """The bundled series read with NumPy alone, independent of the library's loaders."""
    path = ROOT / "scratchlstm" / "datasets" / "seattle-weather.csv"
    return np.genfromtxt(path, delimiter=",", skip_header=1, usecols=2)


def persistence_rmse_on_test(lookback, horizon):
    temp = seattle_temp_max()
    test = temp[len(temp) - round(len(temp) * 0.15):]
    n = len(test) - lookback - horizon + 1
    truth = np.stack([test[lookback + k:lookback + k + horizon] for k in range(n)])
    return float(np.sqrt(np.mean((truth - test[lookback - 1:lookback - 1 + n, None]) ** 2)))


def test_input_shapes_walkthrough_checks_pass():
    out = run_example("input_shapes.py")
    for claim in ("LSTM(20)(x)", "return_sequences=True)(x)", "many-to-many", "return_state=True)(x)"):
        assert claim in out
    assert "-> (32, 25, 20)" in out and "-> [(32, 20), (32, 20), (32, 20)]" in out
    assert out.count(": True") == 4 and "False" not in out
    assert "Total params: 1,781" in out


def _zero(node):
    return isinstance(node, ast.Constant) and node.value in (0, False)


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_shows_training_progress_by_default(script):
    # No silent training: each model fit passes verbose= (never 0), a --verbose flag defaults
    # to progress, and so does every function parameter named verbose (read, not run: fast).
    tree = ast.parse(script.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            keywords = {k.arg: k.value for k in node.keywords}
            if node.func.attr == "fit" and "epochs" in keywords:
                assert "verbose" in keywords and not _zero(keywords["verbose"]), f"{script.name}:{node.lineno}"
            if node.func.attr == "add_argument" and node.args and getattr(node.args[0], "value", None) == "--verbose":
                assert "default" in keywords and not _zero(keywords["default"]), f"{script.name}:{node.lineno}"
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            positional = node.args.posonlyargs + node.args.args
            pairs = list(zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults))
            pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
            for arg, default in pairs:
                assert not (arg.arg == "verbose" and _zero(default)), f"{script.name}:{node.lineno}"


def test_many_to_one_beats_persistence_and_shows_progress_by_default():
    out = run_example("many_to_one.py", "--epochs", "30", "--seed", "0")  # the default --verbose
    epochs_trained = int(re.search(r"^trained (\d+) epochs", out, re.MULTILINE).group(1))
    progress = re.findall(r"^Epoch (\d+)/30 - .* - loss: [\d.]+ .* - val_loss: [\d.]+", out, re.MULTILINE)
    assert [int(epoch) for epoch in progress] == list(range(1, epochs_trained + 1)), out
    scores = results(out)
    assert scores["persistence_rmse"] == pytest.approx(persistence_rmse_on_test(14, 1), abs=1e-3)
    assert scores["model_rmse"] < scores["persistence_rmse"] < scores["climatology_rmse"]
    assert "RMSE (°C)" in out


def test_many_to_many_beats_persistence_over_seven_days():
    out = run_example("many_to_many.py", *CI_EPOCHS)
    scores = results(out)
    assert scores["persistence_rmse"] == pytest.approx(persistence_rmse_on_test(28, 7), abs=1e-3)
    assert scores["model_rmse"] < scores["persistence_rmse"] < scores["climatology_rmse"]
    per_step = re.search(r"^persistence((?:\s+[\d.]+){7})$", out, re.MULTILINE)
    assert per_step, out
    steps = [float(v) for v in per_step.group(1).split()]
    assert steps[0] < steps[-1]  # persistence degrades with the horizon


@pytest.mark.slow
def test_jax_backend_trains_the_same_model_on_both_backends(xla_optimized):
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    out = run_example("jax_backend.py", *CI_EPOCHS)
    lines = [line for line in out.splitlines() if line.startswith("RESULT")]
    assert len(lines) == 2, out
    numpy_scores, jax_scores = (results(line) for line in lines)
    assert (numpy_scores["backend"], jax_scores["backend"]) == ("numpy", "jax")
    for scores in (numpy_scores, jax_scores):
        assert scores["model_rmse"] < scores["persistence_rmse"]
    # Same weights, same shuffling: float32 rounding is the only difference between the runs.
    assert jax_scores["model_rmse"] == pytest.approx(numpy_scores["model_rmse"], rel=0.05)
    assert re.search(r"seconds per epoch after compilation: numpy [\d.]+, jax [\d.]+", out)


def test_jax_backend_example_skips_jax_with_a_message_when_missing(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("example_jax_backend", EXAMPLES / "jax_backend.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax now raises ImportError
    results_by_backend = example.main(["--epochs", "1"])
    out = capsys.readouterr().out
    assert list(results_by_backend) == ["numpy"]
    assert 'skipping the JAX run' in out and 'pip install "scratchlstm[jax]"' in out


def test_classification_beats_the_majority_class():
    out = run_example("classification.py", *CI_EPOCHS)
    scores = results(out)
    labels = np.genfromtxt(ROOT / "scratchlstm" / "datasets" / "seattle-weather.csv", delimiter=",",
                           skip_header=1, usecols=5, dtype=str)
    test_days = labels[len(labels) - round(len(labels) * 0.15) + 14:]
    assert scores["majority_accuracy"] == pytest.approx(np.mean(test_days == "sun"), abs=1e-4)
    assert scores["model_accuracy"] > scores["majority_accuracy"]
    assert "accuracy" in out and "(always 'sun'" in out
