"""The command line under hostile input (issue 14): one line on stderr and exit status 2, never a
traceback, never a hang, nothing trained or written before the checks pass; and what a newcomer
meets first (``--features`` before the file name, pandas index columns, the tidy forecast CSV,
``--plot`` on every command)."""

import contextlib
import copy
import io
import math
import os
import signal
import stat
from pathlib import Path

import numpy as np
import pytest

from scratchlstm import load_model
from scratchlstm.cli import main

pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "1", "--units", "4", "--verbose", "0", "--lookback", "5"]
LOOKBACK, HORIZON = 5, 2


@contextlib.contextmanager
def deadline(seconds=20):
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""
    def expire(signum, frame):
        raise TimeoutError(f"the command line hung for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(argv, capsys, seconds=20):
    """``main(argv)`` under a deadline: (exit status, stdout, stderr)."""
    capsys.readouterr()
    with deadline(seconds):
        code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, command, *fragments):
    assert code == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith(f"scratchlstm {command}: error: "), err
    for fragment in fragments:
        assert fragment in err, err


def write_frame(path, n=80, seed=0, index=False, **overrides):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "temp": (10 + 3 * np.sin(np.arange(n) / 9) + rng.normal(0, 1, n)).round(2),
        "wind": rng.gamma(2.0, 1.5, n).round(2),
    })
    for name, values in overrides.items():
        frame[name] = values
    frame.to_csv(path, index=index)
    return frame


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def good(workdir):
    path = workdir / "good.csv"
    return path, write_frame(path)


@pytest.fixture(scope="module")
def model_path(good, workdir):
    """A model fitted on ``good`` (lookback 5, horizon 2), once for the module."""
    path = workdir / "model.npz"
    assert main(["fit", str(good[0]), "--target", "temp", "--horizon", str(HORIZON), "--out", str(path), *FAST]) == 0
    return path


def hostile_model(model_path, target, change):
    """A copy of the fitted model whose window settings ``change(metadata)`` has spoiled."""
    model = load_model(model_path, compile=False)
    metadata = copy.deepcopy(model.metadata)
    replaced = change(metadata)
    model.save(target, metadata=metadata if replaced is None else replaced)
    return target


def setter(key, value):
    return lambda meta: meta.__setitem__(key, value)


def scaler_setter(key, value):
    return lambda meta: meta["scaler"].__setitem__(key, value)


def minmax_flipped(meta):
    meta["scaler"] = {"class": "MinMaxScaler", "feature_range": [0, 1], "data_min_": [5.0] * 4,
                      "data_max_": [1.0] * 4, "n_samples_seen_": 10}


HOSTILE_METADATA = {  # case: (how the metadata is spoiled, what the message says)
    "lookback 0": (setter("lookback", 0), "lookback must be an integer >= 1, got 0"),
    "lookback -3": (setter("lookback", -3), "lookback must be an integer >= 1, got -3"),
    "lookback 2.5": (setter("lookback", 2.5), "lookback must be an integer >= 1, got 2.5"),
    "lookback text": (setter("lookback", "x"), "lookback must be an integer >= 1, got 'x'"),
    "lookback true": (setter("lookback", True), "lookback must be an integer >= 1, got True"),
    "lookback other than the model's": (setter("lookback", 4), "windows of 5 time steps but its metadata says "
                                                               "lookback 4"),
    "horizon 0": (setter("horizon", 0), "horizon must be an integer >= 1, got 0"),
    "horizon 3 on a 2-output model": (setter("horizon", 3), "2 value(s) per window but its metadata says horizon 3"),
    "horizon 1 on a 2-output model": (setter("horizon", 1), "2 value(s) per window but its metadata says horizon 1"),
    "mean of the wrong length": (scaler_setter("mean_", [1.0, 2.0]), "disagree on the column count"),
    "scaler for fewer features": (lambda m: m["scaler"].update(mean_=[1.0], var_=[1.0]),
                                  "the scaler covers 1 feature(s) but there are 4 inputs"),
    "negative variance": (scaler_setter("var_", [-4.0] * 4), "var_ must be >= 0, got -4.0"),
    "NaN variance": (scaler_setter("var_", [math.nan] * 4), "var_ must be finite"),
    "infinite variance": (scaler_setter("var_", [math.inf] * 4), "var_ must be finite"),
    "text statistics": (scaler_setter("mean_", ["a"] * 4), "mean_ must be numbers"),
    "scaler null": (setter("scaler", None), "scaler state must be a dict"),
    "scaler list": (setter("scaler", [1, 2]), "scaler state must be a dict"),
    "min above max": (minmax_flipped, "data_min_ must be <= data_max_"),
    "target_mean text": (setter("target_mean", "x"), "target_mean must be a finite number, got 'x'"),
    "target_mean NaN": (setter("target_mean", math.nan), "target_mean must be a finite number, got nan"),
    "target_mean null": (setter("target_mean", None), "target_mean must be a finite number, got None"),
    "target a number": (setter("target", 3), "target must be a column name (a string), got 3"),
    "target not among the features": (setter("target", "rain"), "the scaler covers 4 feature(s) but there are 5"),
    "columns null": (setter("columns", None), "columns must be a list of column names, got None"),
    "columns a string": (setter("columns", "temp"), "columns must be a list of column names, got 'temp'"),
    "date_column a number": (setter("date_column", 5), "date_column must be a column name or null, got 5"),
    "calendar unknown": (setter("calendar", ["lunar"]), "unknown calendar cycle(s) ['lunar']"),
    "calendar without dates": (setter("date_column", None), "calendar features need a date_column"),
    "features listed differently": (setter("features", ["a", "b", "c", "d"]), "its features are listed as"),
    "no lookback": (lambda m: m.__delitem__("lookback"), "no 'lookback' key(s) among the window settings"),
    "metadata a list": (lambda m: ["scratchlstm.forecast", 5], "holds no window settings"),
}


@pytest.fixture(scope="module")
def hostile_paths(model_path, workdir):
    return {case: hostile_model(model_path, workdir / f"hostile-{i}.npz", change)
            for i, (case, (change, _)) in enumerate(HOSTILE_METADATA.items())}


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("case", list(HOSTILE_METADATA))
def test_hostile_window_settings_give_one_line(command, case, hostile_paths, good, capsys):
    path = hostile_paths[case]
    code, out, err = run([command, path, good[0]], capsys)
    assert_one_line_error(code, err, command, str(path), HOSTILE_METADATA[case][1])
    assert out == ""


def test_scaler_too_small_for_float32_is_refused_when_scaling(model_path, good, workdir, capsys):
    # A positive variance of 1e-300 is valid, but scaled inputs then overflow float32.
    path = hostile_model(model_path, workdir / "tiny.npz", scaler_setter("var_", [1e-300] * 4))
    code, out, err = run(["predict", path, good[0]], capsys)
    assert_one_line_error(code, err, "predict", "outside the float32 range")


def test_a_huge_finite_training_mean_scores_without_overflow_warnings(model_path, good, workdir, capsys):
    # Valid but absurd settings: the climatology errors (1e300) square beyond float64.
    path = hostile_model(model_path, workdir / "huge-mean.npz", setter("target_mean", 1e300))
    code, out, err = run(["evaluate", path, good[0]], capsys)
    assert code == 0 and err == "", err  # no RuntimeWarning from rmse
    assert "climatology" in out and "1e+300" in out and "inf" not in out


# --- the CSV's values ------------------------------------------------------------------------------
def test_a_constant_target_is_scored_without_dividing_by_zero(workdir, capsys):
    path = workdir / "constant.csv"
    write_frame(path, temp=np.full(80, 5.0))
    code, out, err = run(["fit", path, "--target", "temp", "--out", workdir / "constant.npz", *FAST], capsys)
    assert code == 0, err
    assert "Traceback" not in err
    assert "persistence is exact on these windows" in out


@pytest.mark.parametrize("value", ["1e39", "-3.5e38", "1e300"])
def test_values_beyond_float32_are_refused_before_training(value, workdir, capsys):
    path = workdir / "huge.csv"
    frame = write_frame(path)
    frame["wind"] = frame["wind"].astype(object)
    frame.loc[3, "wind"] = value
    frame.to_csv(path, index=False)
    code, out, err = run(["fit", path, "--target", "temp", "--out", workdir / "huge.npz", *FAST], capsys)
    assert_one_line_error(code, err, "fit", "column 'wind'", "data row 4", "float32")
    assert not (workdir / "huge.npz").exists() and "windows" not in out


def test_a_typo_in_a_numeric_column_is_named_not_dropped_as_text(workdir, capsys):
    path = workdir / "typo.csv"
    frame = write_frame(path)
    frame["wind"] = frame["wind"].astype(object)
    frame.loc[6, "wind"] = "1,5"  # a decimal comma: the column is text to pandas
    frame.to_csv(path, index=False)
    code, out, err = run(["fit", path, "--target", "temp", "--out", workdir / "typo.npz", *FAST], capsys)
    assert_one_line_error(code, err, "fit", "column 'wind' must be numeric, but data row 7 has '1,5'")


def test_dates_with_changing_utc_offsets_are_compared_in_utc(tmp_path, capsys):
    # Local time across a daylight-saving change: +01:00 in March, +02:00 from the 28th.
    path = tmp_path / "dst.csv"
    stamps = pd.date_range("2021-03-01", periods=60, freq="D", tz="Europe/Berlin")
    write_frame(path, n=60, date=stamps.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True))
    model = tmp_path / "dst.npz"
    code, out, err = run(["fit", path, "--target", "temp", "--out", model, *FAST], capsys)
    assert code == 0 and "Traceback" not in err, err
    code, out, err = run(["predict", model, path, "--last", "1"], capsys)
    assert code == 0, err
    assert pd.read_csv(io.StringIO(out))["origin"].iloc[0] == "2021-04-28 22:00:00+0000"  # 2021-04-29 00:00+02:00


def test_a_date_column_that_is_also_the_target_is_refused(workdir, capsys):
    # Numbers that increase pass as dates; parsed, the target would be read as nanoseconds.
    path = workdir / "numeric-dates.csv"
    write_frame(path, temp=np.arange(80) * 1e9 + 1.6e18)
    code, out, err = run(["fit", path, "--target", "temp", "--date-column", "temp", "--out", workdir / "nd.npz",
                          *FAST], capsys)
    assert_one_line_error(code, err, "fit", "the date column 'temp' cannot also be the target or an input column")
    assert not (workdir / "nd.npz").exists() and "windows" not in out


@pytest.mark.parametrize("where", ["file name", "column name"])
def test_a_newline_in_a_quoted_name_keeps_the_error_on_one_line(where, tmp_path, capsys):
    path = tmp_path / ("new\nline.csv" if where == "file name" else "header.csv")
    if where == "column name":
        path.write_text('"te\nmp",wind\n1,2\n')  # a quoted header field may hold a line break
    code, _, err = run(["fit", path, "--target", "temp", "--out", tmp_path / "m.npz", *FAST], capsys)
    assert_one_line_error(code, err, "fit", "new\\nline.csv: no such file" if where == "file name"
                          else "the file has te\\nmp, wind")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_full_standard_output_is_one_line_not_a_traceback(command, model_path, good, monkeypatch, capsys):
    class FullDisk(io.StringIO):  # as in `scratchlstm predict ... > /dev/full`
        def write(self, text):
            raise OSError(28, "No space left on device")

    capsys.readouterr()
    monkeypatch.setattr("sys.stdout", FullDisk())
    code = main([command, str(model_path), str(good[0])])
    monkeypatch.undo()
    assert_one_line_error(code, capsys.readouterr().err, command,
                          "cannot write the results to standard output: No space left on device")


# --- option values ---------------------------------------------------------------------------------
BAD_OPTIONS = {  # case: (options, what the message says)
    "learning rate inf": (["--learning-rate", "inf"], "--learning-rate: expected a finite number > 0, got inf"),
    "learning rate nan": (["--learning-rate", "nan"], "--learning-rate: expected a finite number > 0, got nan"),
    "learning rate 1e400": (["--learning-rate", "1e400"], "--learning-rate: expected a finite number > 0, got inf"),
    "seed -1": (["--seed", "-1"], "--seed: expected a whole number in [0, 4294967295], got -1"),
    "seed 2**64": (["--seed", str(2**64)], "--seed: expected a whole number in [0, 4294967295]"),
    "units 100000": (["--units", "100000"], "--units 100000"),
    "units 10**12": (["--units", str(10**12)], "--units 1000000000000"),
    "lookback 10**9": (["--lookback", str(10**9)], "so at least 6666666671 rows; got 80"),
    "lookback 10**30": (["--lookback", str(10**30)], "too few rows"),
    "horizon 10**18": (["--horizon", str(10**18)], "too few rows"),
    "epochs 2.5": (["--epochs", "2.5"], "--epochs: expected a whole number >= 1, got '2.5'"),
    "features none": (["--features", ","], "--features: expected one or more column names"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_option_values_are_one_line_and_train_nothing(case, good, workdir, capsys):
    options, message = BAD_OPTIONS[case]
    out_path = workdir / f"{case}.npz"
    code, out, err = run(["fit", good[0], "--target", "temp", "--out", out_path, *FAST, *options], capsys, seconds=30)
    assert_one_line_error(code, err, "fit", message)
    assert not out_path.exists() and "Epoch" not in out


def test_usage_errors_are_one_line_too(capsys):
    code, _, err = run(["fit", "--bogus"], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith("scratchlstm fit: error: "), err
    assert "scratchlstm fit --help" in err


@pytest.mark.parametrize("rows, lookback, horizon, val, test", [
    (80, 10**9, 1, 0.15, 0.15), (80, 10**9, 7, 0.0, 0.15), (80, 999, 3, 0.2, 0.0), (80, 3, 2, 0.33, 0.33),
    (80, 10**15, 10**15, 0.05, 0.4),
])
def test_minimum_rows_is_closed_form_and_least(rows, lookback, horizon, val, test):
    from scratchlstm.forecasting import _parts_fit, minimum_rows

    need = lookback + horizon
    with deadline(5):
        least = minimum_rows(need, val, test)
    assert _parts_fit(least, need, val, test)
    assert not any(_parts_fit(n, need, val, test) for n in range(max(need, least - 2000), least))


@pytest.mark.parametrize("case", ["fifo", "lookback 10**9"])
def test_the_installed_entry_point_neither_hangs_nor_prints_a_traceback(case, good, tmp_path):
    """``python -m scratchlstm.cli`` in a fresh process, under a timeout, for the two former hangs."""
    import subprocess
    import sys

    data, options = good[0], []
    if case == "fifo":
        data = tmp_path / "pipe.csv"
        os.mkfifo(data)
    else:
        options = ["--lookback", str(10**9)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "scratchlstm.cli", "fit", str(data), "--target", "temp",
                             "--out", str(tmp_path / "m.npz"), *FAST[:6], *options],
                            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert_one_line_error(result.returncode, result.stderr, "fit",
                          "not a regular file (a FIFO)" if case == "fifo" else "so at least 6666666671 rows")
    assert result.stdout == "" and not (tmp_path / "m.npz").exists()


# --- paths that are not regular files --------------------------------------------------------------
@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", ["fit", "predict", "evaluate"])
def test_a_fifo_as_the_data_file_is_refused_without_opening_it(command, fifo, model_path, tmp_path, capsys):
    argv = (["fit", fifo, "--target", "temp", "--out", tmp_path / "m.npz", *FAST] if command == "fit"
            else [command, model_path, fifo])
    code, _, err = run(argv, capsys)
    assert_one_line_error(code, err, command, str(fifo), "not a regular file")


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_fifo_or_a_folder_as_the_model_file_is_refused(command, fifo, good, tmp_path, capsys):
    for path in (fifo, tmp_path):
        code, _, err = run([command, path, good[0]], capsys)
        assert_one_line_error(code, err, command, str(path), "not a regular file")


def device_node(tmp_path):
    """A character device (a copy of /dev/null's numbers) in ``tmp_path``, or skip."""
    path = tmp_path / "device"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError):
        pytest.skip("creating a device node needs privileges")
    return path


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_fit_refuses_an_output_that_is_not_a_regular_file_before_training(kind, good, tmp_path, capsys):
    if kind == "folder":
        target = tmp_path / "folder"
        target.mkdir()
    elif kind == "fifo":
        target = tmp_path / "pipe.npz"
        os.mkfifo(target)
    else:
        target = device_node(tmp_path)
    mode = os.stat(target).st_mode
    code, out, err = run(["fit", good[0], "--target", "temp", "--out", target, *FAST], capsys)
    assert_one_line_error(code, err, "fit", str(target), "not a regular file")
    assert "Epoch" not in out and "windows" not in out  # refused before training
    assert os.stat(target).st_mode == mode  # the folder, FIFO or device is still there, untouched


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_predict_refuses_an_output_that_is_not_a_regular_file(kind, model_path, good, tmp_path, capsys):
    target = tmp_path / "out"
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    code, out, err = run(["predict", model_path, good[0], "--out", target], capsys)
    assert_one_line_error(code, err, "predict", str(target), "not a regular file")


def test_plot_path_is_checked_before_training(good, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, out, err = run(["fit", good[0], "--target", "temp", "--out", tmp_path / "m.npz", "--plot", tmp_path,
                          *FAST], capsys)
    assert_one_line_error(code, err, "fit", "not a regular file")
    assert not (tmp_path / "m.npz").exists()


def test_windows_too_big_for_memory_are_refused_up_front(good, tmp_path, monkeypatch, capsys):
    from scratchlstm.cli import _commands

    monkeypatch.setattr(_commands, "available_memory", lambda: 10_000)  # bytes
    code, out, err = run(["fit", good[0], "--target", "temp", "--out", tmp_path / "m.npz", *FAST], capsys)
    assert_one_line_error(code, err, "fit", "needs about", "memory")
    assert not (tmp_path / "m.npz").exists()


# --- the first hour of a newcomer ------------------------------------------------------------------
def test_features_before_the_file_name_do_not_swallow_it(good, tmp_path, capsys):
    out_path = tmp_path / "m.npz"
    code, out, err = run(["fit", "--target", "temp", "--features", "wind", good[0], "--out", out_path,
                          "--no-calendar", *FAST], capsys)
    assert code == 0, err
    assert load_model(out_path).metadata["features"] == ["temp", "wind"]
    # Several columns: comma separated, or the option repeated; in the order given.
    for features in (["--features", "wind,temp"], ["--features", "wind", "--features", "temp"]):
        code, _, err = run(["fit", *features, good[0], "--target", "temp", "--out", out_path, "--no-calendar",
                            *FAST], capsys)
        assert code == 0, err
        assert load_model(out_path).metadata["features"] == ["wind", "temp"]
    # Space-separated names after the file are refused with a hint, not taken as the file.
    code, _, err = run(["fit", good[0], "--target", "temp", "--features", "wind", "temp", *FAST], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "unrecognized arguments: temp (--features takes one comma-separated list" in err


def test_a_pandas_index_column_is_skipped_with_a_note(tmp_path, capsys):
    path = tmp_path / "indexed.csv"
    write_frame(path, index=True)  # df.to_csv() writes the index as a first, unnamed column
    out_path = tmp_path / "m.npz"
    code, out, err = run(["fit", path, "--target", "temp", "--out", out_path, *FAST], capsys)
    assert code == 0, err
    assert "skipped column(s) 1: no name in the header (an index" in err
    assert load_model(out_path).metadata["features"] == ["temp", "wind", "day_of_year_sin", "day_of_year_cos"]


def test_predict_writes_a_tidy_csv_with_forecast_dates(model_path, good, tmp_path, capsys):
    path, frame = good
    out_path = tmp_path / "forecasts.csv"
    code, _, err = run(["predict", model_path, path, "--last", "3", "--out", out_path], capsys)
    assert code == 0, err
    text = out_path.read_text()
    table = pd.read_csv(io.StringIO(text))
    assert list(table.columns) == ["origin", "date", "step", "temp"]
    assert len(table) == 3 * HORIZON
    assert list(table["step"]) == [1, 2] * 3
    origins = pd.to_datetime(table["origin"])
    assert list(table["origin"].iloc[::HORIZON]) == list(frame["date"].iloc[-3:])
    assert (pd.to_datetime(table["date"]) - origins == pd.to_timedelta(table["step"], unit="D")).all()
    decimals = {len(line.split(",")[-1].split(".")[-1]) for line in text.splitlines()[1:]}
    assert len(decimals) == 1, text  # one fixed precision for every number


@pytest.mark.parametrize("scale", [1e-20, 1e-35])
def test_predict_shows_a_tiny_target_to_six_digits_not_as_zeros(scale, tmp_path, capsys):
    path = tmp_path / "tiny.csv"
    frame = write_frame(path)
    frame["temp"] *= scale  # about 1e-19: twelve decimals printed every forecast as 0.000000000000
    frame.to_csv(path, index=False)
    model = tmp_path / "tiny.npz"
    assert run(["fit", path, "--target", "temp", "--out", model, *FAST], capsys)[0] == 0
    code, out, err = run(["predict", model, path, "--last", "2"], capsys)
    assert code == 0, err
    values = pd.read_csv(io.StringIO(out))["temp"]
    assert ((values.abs() > scale) & (values.abs() < 100 * scale)).all(), out
    assert len(out.splitlines()[1].split(".")[-1].rstrip("0")) > 0


def test_predict_without_dates_numbers_the_rows(tmp_path, capsys):
    path = tmp_path / "plain.csv"
    write_frame(path).drop(columns="date").to_csv(path, index=False)
    model = tmp_path / "plain.npz"
    assert run(["fit", path, "--target", "temp", "--out", model, *FAST], capsys)[0] == 0
    code, out, err = run(["predict", model, path, "--last", "1"], capsys)
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == ["origin", "row", "step", "temp"]
    assert list(table["origin"]) == [80] and list(table["row"]) == [81]


@pytest.mark.parametrize("command", ["fit", "predict", "evaluate"])
def test_plot_on_fit_predict_and_evaluate(command, model_path, good, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "plot.png"
    argv = (["fit", good[0], "--target", "temp", "--out", tmp_path / "m.npz", *FAST] if command == "fit"
            else [command, model_path, good[0]])
    code, out, err = run([*argv, "--plot", plot], capsys, seconds=60)
    assert code == 0, err
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"saved the plot to {plot}" in out + err
