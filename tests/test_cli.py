"""The ``scratchlstm`` command line: fit -> predict -> evaluate, the demo, help, and bad input."""

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchlstm import load_model
from scratchlstm.cli import main
from scratchlstm.data import calendar_features

pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "2", "--units", "8", "--lookback", "7", "--verbose", "0"]


def write_series(path, n=160, seed=0):
    """Daily rows: a seasonal, autocorrelated ``temp``, noise ``wind``, and a text column."""
    rng = np.random.default_rng(seed)
    temp = np.empty(n)
    temp[0] = 10.0
    for t in range(1, n):
        temp[t] = 10 + 0.8 * (temp[t - 1] - 10) + 3 * np.sin(2 * np.pi * t / 365) + rng.normal(0, 1)
    frame = pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "temp": temp.round(2),
        "wind": rng.gamma(2.0, 1.5, n).round(2),
        "sky": rng.choice(["sun", "rain"], n),
    })
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture
def series(tmp_path):
    path = tmp_path / "series.csv"
    return path, write_series(path)


@pytest.fixture
def fitted(series, tmp_path, capsys):
    """The series, a model fitted on it for 2 steps ahead, and what ``fit`` printed."""
    path, frame = series
    model_path = tmp_path / "model.npz"
    assert main(["fit", str(path), "--target", "temp", "--horizon", "2", "--out", str(model_path), *FAST]) == 0
    return path, frame, model_path, capsys.readouterr()


def subprocess_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"  # small GEMMs; xdist runs 2 workers
    return env


def numbers_after(name, text):
    """The RMSE and MAE printed on the score-table row of ``name``."""
    match = re.search(rf"^{name}\s+([\d.]+)\s+([\d.]+)", text, re.MULTILINE)
    assert match, f"no score row for {name} in:\n{text}"
    return float(match.group(1)), float(match.group(2))


# --- fit -> predict -> evaluate ------------------------------------------------------------------
def test_fit_saves_scaler_and_window_settings_fitted_on_training_rows(fitted, capsys):
    path, frame, model_path, (out, err) = fitted
    assert err.strip() == "note: skipped non-numeric column(s): date (dates), sky (text)"
    assert "inputs: temp, wind, day_of_year_sin, day_of_year_cos" in out
    assert "held-out test windows" in out and f"saved {model_path}" in out
    meta = load_model(model_path).metadata
    assert (meta["lookback"], meta["horizon"], meta["target"], meta["date_column"]) == (7, 2, "temp", "date")
    assert meta["features"] == ["temp", "wind", "day_of_year_sin", "day_of_year_cos"]
    n_train = len(frame) - 2 * round(len(frame) * 0.15)
    np.testing.assert_allclose(meta["scaler"]["mean_"][:2], frame[["temp", "wind"]][:n_train].mean(), rtol=1e-12)
    assert meta["target_mean"] == pytest.approx(frame["temp"][:n_train].mean())


def test_predict_matches_the_model_on_hand_scaled_inputs(fitted, capsys):
    path, frame, model_path, _ = fitted
    capsys.readouterr()
    assert main(["predict", str(model_path), str(path)]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(printed.columns) == ["origin", "date", "step", "temp"]  # tidy: one row per window and step
    assert len(printed) == 2 * (len(frame) - 7 + 1)  # every window, the one ending on the last row too
    assert printed["origin"].iloc[-1] == frame["date"].iloc[-1]
    assert list(printed["step"].iloc[-2:]) == [1, 2]

    model = load_model(model_path)
    meta = model.metadata
    raw = np.column_stack([frame[["temp", "wind"]].to_numpy(), calendar_features(frame["date"]).values])
    mean, std = np.array(meta["scaler"]["mean_"]), np.sqrt(meta["scaler"]["var_"])
    scaled = (raw - mean) / std
    last = model.predict(scaled[None, -7:].astype(np.float32))[0]
    expected = last * std[0] + mean[0]
    np.testing.assert_allclose(printed["temp"].iloc[-2:], expected, rtol=1e-4)


def test_predict_writes_the_last_forecasts_to_a_file(fitted, tmp_path, capsys):
    path, frame, model_path, _ = fitted
    out_path = tmp_path / "forecasts.csv"
    assert main(["predict", str(model_path), str(path), "--last", "3", "--out", str(out_path)]) == 0
    written = pd.read_csv(out_path)
    assert list(written["origin"].iloc[::2]) == list(frame["date"].iloc[-3:])  # 2 steps per window
    assert "wrote 3 forecast(s) of temp" in capsys.readouterr().err


def test_evaluate_prints_model_beside_persistence_on_the_same_windows(fitted, capsys):
    path, frame, model_path, _ = fitted
    capsys.readouterr()
    assert main(["evaluate", str(model_path), str(path)]) == 0
    out = capsys.readouterr().out
    temp = frame["temp"].to_numpy()
    n = len(temp) - 7 - 2 + 1
    truth = np.stack([temp[7 + k:9 + k] for k in range(n)])
    persistence = np.repeat(temp[6:6 + n, None], 2, axis=1)
    rmse = np.sqrt(np.mean((truth - persistence) ** 2))
    assert numbers_after("persistence", out) == pytest.approx((rmse, np.mean(np.abs(truth - persistence))), abs=1e-3)
    assert numbers_after("model", out)[0] > 0
    assert "climatology" in out and f"{n} windows" in out
    assert re.search(r"model RMSE for steps 1\.\.2: [\d.]+ [\d.]+", out)


def test_a_closed_output_pipe_ends_quietly(fitted, monkeypatch, capsys):
    path, _, model_path, _ = fitted

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())  # as in `scratchlstm predict ... | head -1`
    assert main(["predict", str(model_path), str(path)]) == 141
    assert capsys.readouterr().err == ""


def test_explicit_features_and_no_calendar(series, tmp_path, capsys):
    path, _ = series
    model_path = tmp_path / "m.npz"
    args = ["fit", str(path), "--target", "temp", "--features", "wind", "--no-calendar", "--out", str(model_path)]
    assert main([*args, *FAST, "--test-fraction", "0"]) == 0
    out, err = capsys.readouterr()
    assert "note:" not in err and "held-out" not in out
    assert load_model(model_path).metadata["features"] == ["temp", "wind"]  # the target's history is kept


@pytest.mark.slow
def test_fit_on_the_jax_backend_then_predict_without_it(tmp_path, series, capsys):
    pytest.importorskip("jax")
    path, frame = series
    model_path = tmp_path / "jax.npz"
    assert main(["fit", str(path), "--target", "temp", "--backend", "jax", "--out", str(model_path), *FAST]) == 0
    capsys.readouterr()
    assert main(["predict", str(model_path), str(path), "--last", "1"]) == 0
    assert np.isfinite(pd.read_csv(io.StringIO(capsys.readouterr().out))["temp"]).all()


# --- the demo ------------------------------------------------------------------------------------
def test_demo_prints_the_baselines_and_draws_the_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "forecast.png"
    assert main(["demo", "--epochs", "1", "--verbose", "0", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    # Tomorrow = today over the 205 test days, computed from the bundled file on its own.
    frame = pd.read_csv(ROOT / "scratchlstm" / "datasets" / "seattle-weather.csv")
    temp = frame["temp_max"].to_numpy()
    test = temp[len(temp) - 219:]  # the last 15% (219 rows); windows start after 14 of them
    persistence_rmse = np.sqrt(np.mean((test[14:] - test[13:-1]) ** 2))
    assert numbers_after("persistence", out)[0] == pytest.approx(persistence_rmse, abs=1e-3)
    assert numbers_after("climatology", out)[0] > numbers_after("persistence", out)[0]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_demo_defaults_beat_persistence_via_the_entry_point():
    """The console script when installed, else ``python -m scratchlstm.cli``; default settings."""
    script = shutil.which("scratchlstm")
    command = [script] if script else [sys.executable, "-m", "scratchlstm.cli"]
    result = subprocess.run([*command, "demo", "--verbose", "0"], capture_output=True, text=True,
                            env=subprocess_env(), timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    model, persistence = numbers_after("model", result.stdout)[0], numbers_after("persistence", result.stdout)[0]
    assert model < persistence, result.stdout


# --- help ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["fit"], ["predict"], ["evaluate"], ["demo"]])
def test_help_exits_zero_and_explains(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: scratchlstm {' '.join(command)}".rstrip())
    assert {"": "COMMAND", "fit": "--target", "predict": "origin", "evaluate": "persistence",
            "demo": "--plot"}[" ".join(command)] in out


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "required: COMMAND" in capsys.readouterr().err


# --- bad input: one line on stderr, exit status 2, no traceback -----------------------------------
BAD_CSVS = {  # case: (file text, or None for no file; what the message says)
    "missing file": (None, "no such file"),
    "empty file": ("", "the file is empty"),
    "header only": ("date,temp,wind\n", "no data rows"),
    "missing column": ("temperature", "missing column(s) 'temp'"),
    "non-numeric value": (",five,", "column 'temp' must be numeric, but data row 5 has 'five'"),
    "missing value": (",,", "column 'temp' has 1 missing or infinite value(s), the first (missing) in data row 5"),
    "too few rows": ("date,temp,wind\n2020-01-01,1,1\n2020-01-02,2,1\n", "too few rows"),
    "dates out of order": ("2020-01-01,5,", "dates in column 'date' must increase"),
    "unparsable CSV": ('date,temp,wind\n2020-01-01,1,1\n"2020-01-02,2,1\n', "cannot read it as CSV"),
}


def write_bad_csv(path, case):
    """Rows 1..28 of a good file, spoiled as ``case`` says (data row 5 holds temp 5)."""
    text = BAD_CSVS[case][0]
    if text is None:
        return
    good = "date,temp,wind\n" + "".join(f"2020-01-{d:02d},{d},1\n" for d in range(1, 29))
    spoil = {"missing column": ("temp", text), "non-numeric value": (",5,", text),
             "missing value": (",5,", text), "dates out of order": ("2020-01-05,5,", text)}
    path.write_text(good.replace(*spoil[case]) if case in spoil else text)


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_for_fit(case, tmp_path, capsys):
    path = tmp_path / "data.csv"
    write_bad_csv(path, case)
    assert main(["fit", str(path), "--target", "temp", "--out", str(tmp_path / "m.npz"), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("scratchlstm fit: error: "), err
    assert BAD_CSVS[case][1] in err and "Traceback" not in err
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("case", ["missing file", "empty file", "missing column", "non-numeric value", "too few rows"])
def test_bad_csv_for_a_saved_model(command, case, fitted, tmp_path, capsys):
    _, _, model_path, _ = fitted
    path = tmp_path / "new.csv"
    write_bad_csv(path, case)
    capsys.readouterr()
    assert main([command, str(model_path), str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"scratchlstm {command}: error: "), err
    assert "Traceback" not in err
    if case != "too few rows":  # (the message differs: predict needs lookback rows, evaluate more)
        assert BAD_CSVS[case][1] in err


@pytest.mark.parametrize("content, message", [(None, "no such model file"), (b"date,temp\n", "not a model file")])
def test_bad_model_file(content, message, series, tmp_path, capsys):
    path, _ = series
    model_path = tmp_path / "model.npz"
    if content is not None:
        model_path.write_bytes(content)
    assert main(["predict", str(model_path), str(path)]) == 2
    assert message in capsys.readouterr().err


def test_model_saved_without_window_settings(series, tmp_path, capsys):
    from scratchlstm import LSTM, Dense, Sequential

    path, _ = series
    model = Sequential([LSTM(2), Dense(1)], seed=0)
    model.build((None, 7, 2))
    model.save(tmp_path / "plain.npz")
    assert main(["evaluate", str(tmp_path / "plain.npz"), str(path)]) == 2
    assert "holds no window settings" in capsys.readouterr().err


def test_bad_option_values_are_usage_errors(series, capsys):
    path, _ = series
    assert main(["fit", str(path), "--target", "temp", "--lookback", "0"]) == 2
    assert "--lookback: expected a whole number >= 1, got 0" in capsys.readouterr().err
    assert main(["fit", str(path), "--target", "temp", "--val-fraction", "1.5"]) == 2


def test_missing_output_folder_fails_before_training(series, tmp_path, capsys):
    path, _ = series
    assert main(["fit", str(path), "--target", "temp", "--out", str(tmp_path / "no" / "m.npz"), *FAST]) == 2
    captured = capsys.readouterr()
    assert "does not exist" in captured.err and "Epoch" not in captured.out


def test_missing_extras_give_the_install_hint(series, tmp_path, monkeypatch, capsys):
    path, _ = series
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    assert main(["fit", str(path), "--target", "temp"]) == 2
    assert 'pip install "scratchlstm[data]"' in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["demo", "--plot", str(tmp_path / "p.png")]) == 2
    assert 'pip install "scratchlstm[plot]"' in capsys.readouterr().err


def test_importing_the_cli_loads_no_optional_dependency():
    code = "import sys, scratchlstm.cli, scratchlstm.forecasting; print(sorted({'pandas', 'matplotlib', 'jax'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stderr
