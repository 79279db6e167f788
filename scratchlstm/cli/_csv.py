"""Reading and checking the user's CSV file; every problem becomes a one-line `CLIError`."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ._errors import CLIError
from ._files import open_input

PANDAS_HINT = 'reading CSV files needs pandas; install it with: pip install "scratchlstm[data]"'
# Non-numeric columns with these names are taken as the date column without trying to parse them.
DATE_NAMES = ("date", "datetime", "time", "timestamp", "ds")
# pandas' name for a column whose header cell is empty, e.g. the index `DataFrame.to_csv()` writes.
UNNAMED = re.compile(r"Unnamed: (\d+)")
# The model computes in float32; larger magnitudes would become inf.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def require_pandas() -> Any:  # pandas is untyped here (not analysed)
    try:
        import pandas
    except ImportError:
        raise CLIError(PANDAS_HINT) from None
    return pandas


def one_line(error: BaseException) -> str:
    """An exception's message squeezed onto one line (pandas' parser errors span several)."""
    return " ".join(str(error).split()) or type(error).__name__


def read_csv(path: str | os.PathLike[str]) -> Any:
    """The CSV at ``path`` as a DataFrame with at least one data row.

    ``path`` must be a regular file (checked with ``os.stat`` before it is opened, so a FIFO
    is refused instead of waited on).
    """
    pd = require_pandas()
    path = Path(path)
    try:
        with open_input(path, "a CSV file") as file:
            frame = pd.read_csv(file)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path}: the file is empty, expected a header line and data rows") from None
    except (ValueError, OSError) as error:  # pandas' ParserError and UnicodeDecodeError among them
        raise CLIError(f"{path}: cannot read it as CSV: {one_line(error)}") from None
    if len(frame) == 0:
        raise CLIError(f"{path}: the file has a header but no data rows")
    frame.columns = [str(name) for name in frame.columns]
    return frame


def is_numeric(series: Any) -> bool:
    return getattr(series.dtype, "kind", "O") in "biuf"


def mostly_numbers(series: Any) -> bool:
    """Whether at least half of a text column's values parse as numbers (typos, not text)."""
    present = series.dropna()
    if len(present) == 0:
        return False
    parsed = require_pandas().to_numeric(present, errors="coerce")
    return bool(parsed.notna().mean() >= 0.5)


def _as_dates(series: Any) -> Any:
    pd = require_pandas()
    with warnings.catch_warnings():  # "could not infer format" is noise here
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(series, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            pass
        try:  # mixed UTC offsets, as local time across a daylight-saving change: compare in UTC
            return pd.to_datetime(series, errors="coerce", utc=True)
        except (ValueError, TypeError, OverflowError):
            return pd.Series(pd.NaT, index=series.index)  # not dates


def find_date_column(frame: Any, requested: str | None, path: str | os.PathLike[str]) -> str | None:
    """The date column: ``requested``, or the first non-numeric column named like a date or
    whose values all parse as dates; ``None`` when there is none."""
    if requested is not None:
        require_columns(frame, [requested], path)
        return requested
    name: str  # read_csv made every column name a str
    for name in frame.columns:
        column = frame[name]
        if is_numeric(column):
            continue
        if name.lower() in DATE_NAMES or _as_dates(column).notna().all():
            return name
    return None


def utc_instants(dates: Any) -> NDArray[Any]:
    """A pandas datetime Series as ``datetime64[ns]`` instants (time-zone-aware ones in UTC)."""
    if dates.dt.tz is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    instants: NDArray[Any] = dates.to_numpy().astype("datetime64[ns]")
    return instants


def parse_dates(frame: Any, column: str, path: str | os.PathLike[str]) -> Any:
    """A copy of ``frame`` with ``column`` parsed to datetimes, which must strictly increase."""
    dates = _as_dates(frame[column])
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise CLIError(
            f"{path}: column {column!r} should hold dates, but data row {bad[0] + 1} has "
            f"{frame[column].iloc[bad[0]]!r}"
        )
    steps = np.diff(utc_instants(dates).astype(np.int64))
    if (steps <= 0).any():
        row = int(np.argmax(steps <= 0)) + 2  # 1-based data row of the later date
        raise CLIError(
            f"{path}: dates in column {column!r} must increase; data row {row} "
            f"({frame[column].iloc[row - 1]}) does not come after row {row - 1} ({frame[column].iloc[row - 2]})"
        )
    frame = frame.copy()
    frame[column] = dates
    return frame


def require_columns(frame: Any, names: Iterable[str], path: str | os.PathLike[str]) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise CLIError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))}; the file has {', '.join(frame.columns)}"
        )


def choose_features(frame: Any, target: str, features: Sequence[str] | None, date_column: str | None,
                    path: str | os.PathLike[str]) -> tuple[list[str], str | None]:
    """The input columns (the target included) and a note naming skipped columns, or ``None``.

    Without ``features``, every numeric column is an input; dates and text are skipped.
    """
    require_columns(frame, [target], path)
    if features:
        require_columns(frame, features, path)
        return list(dict.fromkeys(features)), None
    unnamed = [name for name in frame.columns if UNNAMED.fullmatch(name) and name != target]

    def is_input(name: str) -> bool:
        # A column of numbers with a few typos is an input, so check_numeric names the bad row
        # instead of the column being dropped as text.
        return name == target or (name != date_column and name not in unnamed
                                  and (is_numeric(frame[name]) or mostly_numbers(frame[name])))

    columns = [name for name in frame.columns if is_input(name)]
    skipped = [name for name in frame.columns if not is_input(name) and name not in unnamed]
    notes: list[str] = []
    if unnamed:  # most often the index that DataFrame.to_csv() writes by default
        # every name in `unnamed` matched UNNAMED above
        positions = ", ".join(str(int(cast(re.Match[str], UNNAMED.fullmatch(name)).group(1)) + 1) for name in unnamed)
        notes.append(f"note: skipped column(s) {positions}: no name in the header (an index written by pandas' "
                     "to_csv? write the file with index=False, or name the column in --features)")
    if skipped:
        described = [f"{name} ({'dates' if name == date_column else 'text'})" for name in skipped]
        notes.append(f"note: skipped non-numeric column(s): {', '.join(described)}")
    return columns, "\n".join(notes) or None


def check_numeric(frame: Any, columns: Iterable[str], path: str | os.PathLike[str]) -> None:
    """Each of ``columns`` must hold finite numbers within float32's range in every row."""
    pd = require_pandas()
    for name in columns:
        column = frame[name]
        if not is_numeric(column):
            parsed = pd.to_numeric(column, errors="coerce")
            bad = np.flatnonzero((parsed.isna() & column.notna()).to_numpy())
            where = f"data row {bad[0] + 1} has {column.iloc[bad[0]]!r}" if len(bad) else f"its type is {column.dtype}"
            raise CLIError(f"{path}: column {name!r} must be numeric, but {where}")
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            kind = "missing" if np.isnan(values[bad[0]]) else "infinite"
            raise CLIError(
                f"{path}: column {name!r} has {len(bad)} missing or infinite value(s), the first "
                f"({kind}) in data row {bad[0] + 1}"
            )
        huge = np.flatnonzero(np.abs(values) > FLOAT32_MAX)
        if len(huge):
            raise CLIError(
                f"{path}: column {name!r} has {len(huge)} value(s) beyond the float32 range (+-{FLOAT32_MAX:.4g}) "
                f"the model computes in, the first in data row {huge[0] + 1}: {values[huge[0]]:.6g}"
            )


def load_table(path: str | os.PathLike[str], target: str, columns: Sequence[str], date_column: str | None) -> Any:
    """Read ``path`` and check what a saved model needs: the columns, numeric, and the dates."""
    frame = read_csv(path)
    require_columns(frame, [*columns, *([date_column] if date_column else [])], path)
    check_numeric(frame, columns, path)
    if date_column is not None:
        frame = parse_dates(frame, date_column, path)
    return frame
