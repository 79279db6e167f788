"""Bundled datasets: both loaders with and without pandas, and NumPy-only imports."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scratchlstm
from scratchlstm.datasets import Table, dataset_path, load_seattle_temps, load_seattle_weather

WEATHER_NUMERIC = ["precipitation", "temp_max", "temp_min", "wind"]


def test_weather_frame():
    frame = load_seattle_weather(as_frame=True)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1461
    assert list(frame.columns) == ["date", *WEATHER_NUMERIC, "weather"]
    assert np.issubdtype(frame["date"].dtype, np.datetime64)
    assert frame["date"].iloc[0] == pd.Timestamp("2012-01-01")
    assert frame["date"].iloc[-1] == pd.Timestamp("2015-12-31")
    assert (frame["date"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert set(frame["weather"]) == {"drizzle", "rain", "sun", "snow", "fog"}
    assert frame.loc[0, "precipitation"] == 0.0 and frame.loc[1, "precipitation"] == 10.9


def test_temps_frame():
    frame = load_seattle_temps(as_frame=True)
    assert len(frame) == 8759 and list(frame.columns) == ["date", "temp"]
    assert np.issubdtype(frame["date"].dtype, np.datetime64)
    assert frame["date"].iloc[1] == pd.Timestamp("2010-01-01 01:00")
    assert frame["temp"].iloc[0] == 39.4


@pytest.mark.parametrize("loader, n_rows", [(load_seattle_weather, 1461), (load_seattle_temps, 8759)])
def test_table_matches_frame(loader, n_rows):
    table, frame = loader(as_frame=False), loader(as_frame=True)
    assert isinstance(table, Table) and len(table) == n_rows
    assert table.values.shape == (n_rows, len(table.columns)) and table.values.dtype == np.float64
    np.testing.assert_array_equal(table.values, frame[table.columns].to_numpy())
    assert table.dates.dtype.kind == "M"
    np.testing.assert_array_equal(table.dates.astype("datetime64[m]"), frame["date"].to_numpy().astype("datetime64[m]"))
    for name, labels in table.labels.items():
        assert labels.tolist() == frame[name].tolist()


def test_weather_table_layout():
    table = load_seattle_weather(as_frame=False)
    assert table.columns == WEATHER_NUMERIC and list(table.labels) == ["weather"]
    assert table.dates.dtype == np.dtype("datetime64[D]")
    np.testing.assert_array_equal(table["temp_max"][:2], [12.8, 10.6])
    assert table["weather"][1] == "rain" and table["date"][1] == np.datetime64("2012-01-02")
    with pytest.raises(KeyError, match="no column 'snowfall'"):
        table["snowfall"]


@pytest.mark.parametrize("loader", [load_seattle_weather, load_seattle_temps])
def test_the_default_is_a_table_whatever_is_installed(loader, monkeypatch):
    with_pandas = loader()
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` raise ImportError
    without_pandas = loader()
    assert type(with_pandas) is type(without_pandas) is Table
    assert with_pandas.columns == without_pandas.columns
    np.testing.assert_array_equal(with_pandas.values, without_pandas.values)
    np.testing.assert_array_equal(with_pandas.dates, without_pandas.dates)


def test_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` raise ImportError
    table = load_seattle_temps()
    assert isinstance(table, Table) and table.dates.dtype == np.dtype("datetime64[m]")
    with pytest.raises(ImportError, match=r'pip install "scratchlstm\[data\]"'):
        load_seattle_weather(as_frame=True)


@pytest.mark.parametrize("as_frame", ["yes", None, 1])
def test_bad_as_frame(as_frame):
    with pytest.raises(ValueError, match=f"as_frame must be True or False, got {as_frame!r}"):
        load_seattle_weather(as_frame=as_frame)


def test_dataset_path():
    path = dataset_path("seattle-weather")
    assert path.name == "seattle-weather.csv" and path.is_file()
    assert dataset_path("seattle-temps.csv").read_text().startswith("date,temp\n")
    assert (Path(str(path)).parent / "README.md").is_file()  # the source note ships beside the data
    with pytest.raises(ValueError, match=r"unknown dataset 'iris'.*seattle-temps"):
        dataset_path("iris")


def test_imports_do_not_load_pandas():
    repo_root = str(Path(scratchlstm.__file__).resolve().parent.parent)
    code = ("import sys, scratchlstm, scratchlstm.data, scratchlstm.datasets; "
            "heavy = sorted(m for m in ('pandas', 'jax', 'matplotlib') if m in sys.modules); "
            "print(heavy); sys.exit(1 if heavy else 0)")
    env = {**os.environ, "PYTHONPATH": repo_root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, f"importing pulled in {result.stdout.strip()} {result.stderr}"
