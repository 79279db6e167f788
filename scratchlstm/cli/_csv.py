"""Reading and checking the user's CSV file; every problem becomes a one-line `CLIError`."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._errors import CLIError

PANDAS_HINT = 'reading CSV files needs pandas; install it with: pip install "scratchlstm[data]"'
# Non-numeric columns with these names are taken as the date column without trying to parse them.
DATE_NAMES = ("date", "datetime", "time", "timestamp", "ds")


def require_pandas():
    try:
        import pandas
    except ImportError:
        raise CLIError(PANDAS_HINT) from None
    return pandas


def one_line(error: BaseException) -> str:
    """An exception's message squeezed onto one line (pandas' parser errors span several)."""
    return " ".join(str(error).split()) or type(error).__name__


def read_csv(path):
    """The CSV at ``path`` as a DataFrame with at least one data row."""
    pd = require_pandas()
    path = Path(path)
    if not path.exists():
        raise CLIError(f"{path}: no such file")
    if path.is_dir():
        raise CLIError(f"{path}: is a directory, expected a CSV file")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path}: the file is empty, expected a header line and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        raise CLIError(f"{path}: cannot read it as CSV: {one_line(error)}") from None
    if len(frame) == 0:
        raise CLIError(f"{path}: the file has a header but no data rows")
    frame.columns = [str(name) for name in frame.columns]
    return frame


def is_numeric(series) -> bool:
    return getattr(series.dtype, "kind", "O") in "biuf"


def _as_dates(series):
    pd = require_pandas()
    with warnings.catch_warnings():  # "could not infer format" is noise here
        warnings.simplefilter("ignore")
        return pd.to_datetime(series, errors="coerce")


def find_date_column(frame, requested, path):
    """The date column: ``requested``, or the first non-numeric column named like a date or
    whose values all parse as dates; ``None`` when there is none."""
    if requested is not None:
        require_columns(frame, [requested], path)
        return requested
    for name in frame.columns:
        column = frame[name]
        if is_numeric(column):
            continue
        if name.lower() in DATE_NAMES or _as_dates(column).notna().all():
            return name
    return None


def parse_dates(frame, column, path):
    """A copy of ``frame`` with ``column`` parsed to datetimes, which must strictly increase."""
    dates = _as_dates(frame[column])
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise CLIError(
            f"{path}: column {column!r} should hold dates, but data row {bad[0] + 1} has "
            f"{frame[column].iloc[bad[0]]!r}"
        )
    steps = np.diff(dates.to_numpy().astype("datetime64[ns]").astype(np.int64))
    if (steps <= 0).any():
        row = int(np.argmax(steps <= 0)) + 2  # 1-based data row of the later date
        raise CLIError(
            f"{path}: dates in column {column!r} must increase; data row {row} "
            f"({frame[column].iloc[row - 1]}) does not come after row {row - 1} ({frame[column].iloc[row - 2]})"
        )
    frame = frame.copy()
    frame[column] = dates
    return frame


def require_columns(frame, names, path):
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise CLIError(
            f"{path}: missing column(s) {', '.join(map(repr, missing))}; the file has {', '.join(frame.columns)}"
        )


def choose_features(frame, target, features, date_column, path):
    """The input columns (the target included) and a note naming skipped columns, or ``None``.

    Without ``features``, every numeric column is an input; dates and text are skipped.
    """
    require_columns(frame, [target], path)
    if features:
        require_columns(frame, features, path)
        return list(dict.fromkeys(features)), None
    def is_input(name):
        return name == target or (name != date_column and is_numeric(frame[name]))

    columns = [name for name in frame.columns if is_input(name)]
    skipped = [name for name in frame.columns if not is_input(name)]
    note = None
    if skipped:
        described = [f"{name} ({'dates' if name == date_column else 'text'})" for name in skipped]
        note = f"note: skipped non-numeric column(s): {', '.join(described)}"
    return columns, note


def check_numeric(frame, columns, path):
    """Each of ``columns`` must hold finite numbers in every row."""
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


def load_table(path, target, columns, date_column):
    """Read ``path`` and check what a saved model needs: the columns, numeric, and the dates."""
    frame = read_csv(path)
    require_columns(frame, [*columns, *([date_column] if date_column else [])], path)
    check_numeric(frame, columns, path)
    if date_column is not None:
        frame = parse_dates(frame, date_column, path)
    return frame
