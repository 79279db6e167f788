"""Cyclic calendar features (sin/cos of day of year, weekday, hour) for time-stamped rows."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

_SECONDS_PER_DAY = 86_400.0
_DAYS_PER_YEAR = 365.25


class CalendarFeatures(NamedTuple):
    """`values` `(N, k)` float64 and the `k` column `names`; unpacks as a tuple."""

    values: NDArray[Any]
    names: list[str]


def _as_datetime64(dates: Any) -> NDArray[Any]:
    """`dates` as a 1-D `datetime64[s]` array in local wall-clock time."""
    # pandas: a tz-aware DatetimeIndex has .tz, a tz-aware Series has .dt.tz; dropping the
    # zone keeps the wall-clock time, which is what the calendar cycles follow.
    accessor = getattr(dates, "dt", dates)
    if getattr(accessor, "tz", None) is not None:
        dates = accessor.tz_localize(None)
    if hasattr(dates, "to_numpy"):
        dates = dates.to_numpy()
    array = np.asarray(dates)
    if array.ndim != 1:
        raise ValueError(f"dates must be 1-D (N,), got shape {array.shape}")
    if array.dtype.kind != "M":
        if array.dtype.kind == "U":  # allow the YYYY/MM/DD spelling of the bundled CSVs
            array = np.char.replace(array, "/", "-")
        try:
            array = np.asarray(array, dtype="datetime64")
        except (TypeError, ValueError) as err:
            raise ValueError(
                "dates must be datetime64 values, a pandas DatetimeIndex/Series, or ISO 8601 "
                f"strings like '2012-01-31' or '2012-01-31 13:00'; got dtype {array.dtype}: {err}"
            ) from None
    array = array.astype("datetime64[s]")
    missing = np.isnat(array)
    if missing.any():
        raise ValueError(f"dates contain {int(missing.sum())} NaT value(s), first at position {int(np.argmax(missing))}")
    return array


def calendar_features(dates: Any, *, day_of_year: bool = True, day_of_week: bool = False,
                      hour_of_day: bool = False) -> CalendarFeatures:
    """Encode timestamps as points on circles, so that Dec 31 sits next to Jan 1.

    Each enabled cycle adds two columns, `sin(2 pi p)` and `cos(2 pi p)`, where the phase
    `p` in `[0, 1)` is:

    - day of year: days since Jan 1 00:00 of the same year (fractional), / 365.25;
    - day of week: days since Monday 00:00 (fractional), / 7;
    - hour of day: hours since midnight (fractional), / 24.

    So Jan 1 00:00, Monday 00:00 and midnight all give `(sin, cos) = (0, 1)`; every pair
    has unit norm. Time zones are dropped, keeping local wall-clock time.

    Arguments:
        dates: `(N,)` timestamps: a `datetime64` array, a pandas DatetimeIndex or
            datetime Series, or ISO 8601 strings (`'2012-01-31'`, `'2012-01-31 13:00'`;
            `'2012/01/31'` is accepted too). No NaT.
        day_of_year, day_of_week, hour_of_day: which cycles to include (at least one).

    Returns:
        `CalendarFeatures(values, names)`: `values` is a float64 array `(N, k)` with
        `k = 2 * (number of cycles)`, columns in the order of the flags; `names` are
        e.g. `["day_of_year_sin", "day_of_year_cos"]`. To add them to a DataFrame:
        `cal = calendar_features(df["date"]); df[cal.names] = cal.values`.

    Examples:
        >>> from scratchlstm.data import calendar_features
        >>> # Both dates are Sundays; 2012-04-01 12:00 is 91.5 days into a leap year.
        >>> values, names = calendar_features(["2012-01-01", "2012-04-01T12:00"], day_of_week=True)
        >>> names
        ['day_of_year_sin', 'day_of_year_cos', 'day_of_week_sin', 'day_of_week_cos']
        >>> values.round(3)
        array([[ 0.   ,  1.   , -0.782,  0.623],
               [ 1.   , -0.003, -0.434,  0.901]])
    """
    cycles = [name for name, wanted in (("day_of_year", day_of_year), ("day_of_week", day_of_week),
                                        ("hour_of_day", hour_of_day)) if wanted]
    if not cycles:
        raise ValueError("calendar_features needs at least one of day_of_year, day_of_week, hour_of_day")
    stamps = _as_datetime64(dates)
    days = stamps.astype("datetime64[D]")
    day_fraction = (stamps - days).astype(np.int64) / _SECONDS_PER_DAY
    day_number = days.astype(np.int64)  # days since 1970-01-01, a Thursday
    year_start = stamps.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    phases = {
        "day_of_year": (day_number - year_start + day_fraction) / _DAYS_PER_YEAR,
        "day_of_week": ((day_number + 3) % 7 + day_fraction) / 7.0,  # +3: Monday -> 0
        "hour_of_day": day_fraction,
    }
    columns, names = [], []
    for cycle in cycles:
        angle = 2.0 * np.pi * phases[cycle]
        columns += [np.sin(angle), np.cos(angle)]
        names += [f"{cycle}_sin", f"{cycle}_cos"]
    return CalendarFeatures(np.stack(columns, axis=1) if len(stamps) else np.zeros((0, len(names))), names)
