"""Forecasting helpers shared by the ``scratchlstm`` command line and the examples.

- error metrics: `rmse`, `mae`, and `score` for several forecasts at once;
- baselines: `persistence_forecast` (the last observed value, repeated over the horizon)
  and `climatology_forecast` (the training mean);
- `WindowSpec`: everything that turns rows of a table into model inputs, and model
  outputs back into the target's units (input columns, calendar features, lookback, horizon,
  the scaler fitted on the training rows), kept as JSON in a saved model's ``metadata``;
- `prepare_windows`: the leak-free recipe: split by time, fit the scaler on the training
  rows only, then window each part on its own.

A *table* is anything that returns a column for ``table[name]``: a pandas DataFrame (with the
date column parsed) or a `scratchlstm.datasets.Table`. This module imports NumPy only.

Examples:
    >>> import numpy as np
    >>> from scratchlstm.forecasting import persistence_forecast, rmse
    >>> persistence_forecast(np.array([1.0, 2.0]), horizon=3)
    array([[1., 1., 1.],
           [2., 2., 2.]])
    >>> rmse(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    1.0
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from numpy.lib.stride_tricks import sliding_window_view

from .data import MinMaxScaler, StandardScaler, calendar_features, chronological_split, make_windows, scaler_from_state

METADATA_KIND = "scratchlstm.forecast"
CALENDAR_CYCLES = ("day_of_year", "day_of_week", "hour_of_day")


# --- metrics and baselines -----------------------------------------------------------------------
@overload
def rmse(y_true: ArrayLike, y_pred: ArrayLike, axis: None = None) -> float: ...
@overload
def rmse(y_true: ArrayLike, y_pred: ArrayLike, axis: int | tuple[int, ...]) -> NDArray[Any] | np.floating[Any]: ...
def rmse(y_true: ArrayLike, y_pred: ArrayLike, axis: int | tuple[int, ...] | None = None) -> float | NDArray[Any] | np.floating[Any]:
    """Root mean squared error; ``axis=0`` gives one value per horizon step.

    Errors are divided by a power of two near the largest one before squaring (exact in binary
    floating point, so ordinary errors give the plain formula's bits), so errors beyond 1e154,
    whose squares overflow, still give a finite RMSE.
    """
    error = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # NaN or inf errors give NaN or inf, as the plain formula does
        largest = np.max(np.abs(error), axis=axis, keepdims=True, initial=0.0)
        _, exponent = np.frexp(np.where(np.isfinite(largest), largest, 1.0))
        unit = np.ldexp(1.0, exponent)  # powers of two; 1 where the errors are all 0
        value = np.sqrt(np.mean((error / unit) ** 2, axis=axis)) * np.squeeze(unit, axis=axis)
    return float(value) if axis is None else value


@overload
def mae(y_true: ArrayLike, y_pred: ArrayLike, axis: None = None) -> float: ...
@overload
def mae(y_true: ArrayLike, y_pred: ArrayLike, axis: int | tuple[int, ...]) -> NDArray[Any] | np.floating[Any]: ...
def mae(y_true: ArrayLike, y_pred: ArrayLike, axis: int | tuple[int, ...] | None = None) -> float | NDArray[Any] | np.floating[Any]:
    """Mean absolute error; ``axis=0`` gives one value per horizon step."""
    error = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    value = np.mean(np.abs(error), axis=axis)
    return float(value) if axis is None else value


def persistence_forecast(last_values: ArrayLike, horizon: int) -> NDArray[Any]:
    """The naive forecast: the last observed value ``(n,)``, repeated for ``horizon`` steps."""
    last_values = np.asarray(last_values, dtype=np.float64).reshape(-1, 1)
    return np.repeat(last_values, horizon, axis=1)


def climatology_forecast(train_mean: float, n: int, horizon: int) -> NDArray[Any]:
    """The training mean of the target for every window and step, ``(n, horizon)``."""
    return np.full((n, horizon), float(train_mean))


def score(y_true: ArrayLike, forecasts: dict[str, ArrayLike]) -> dict[str, dict[str, Any]]:
    """``{name: {"rmse", "mae", "rmse_per_step"}}`` for each ``(n, horizon)`` forecast."""
    return {
        name: {
            "rmse": rmse(y_true, forecast),
            "mae": mae(y_true, forecast),
            "rmse_per_step": rmse(y_true, forecast, axis=0).tolist(),
        }
        for name, forecast in forecasts.items()
    }


def _number(value: float) -> str:
    """A score for the table: three decimals, or four significant digits when it is huge."""
    return f"{value:12.3f}" if abs(value) < 1e7 else f"{value:12.4g}"


def format_scores(scores: dict[str, dict[str, Any]], unit: str = "", notes: dict[str, str] | None = None) -> str:
    """A small table of RMSE and MAE per forecast, and the model's RMSE relative to persistence.

    The ratio is left out, with the reason, when persistence is exact (RMSE 0, e.g. a constant
    target) or a score is not finite.
    """
    notes = notes or {}
    suffix = f" ({unit})" if unit else ""
    width = max(len(name) for name in scores) + 2
    lines = [f"{'':{width}}{'RMSE' + suffix:>12}{'MAE' + suffix:>12}"]
    for name, values in scores.items():
        note = f"  {notes[name]}" if name in notes else ""
        lines.append(f"{name:{width}}{_number(values['rmse'])}{_number(values['mae'])}{note}")
    if "model" in scores and "persistence" in scores:
        model, persistence = scores["model"]["rmse"], scores["persistence"]["rmse"]
        if not (math.isfinite(model) and math.isfinite(persistence)):
            lines.append("model RMSE / persistence RMSE: undefined (a score is not finite)")
        elif persistence == 0:
            lines.append("model RMSE / persistence RMSE: undefined (persistence is exact on these windows: "
                         "the target does not change)")
        else:
            ratio = model / persistence
            verdict = "beats" if ratio < 1 else "does not beat"
            lines.append(f"model RMSE / persistence RMSE = {ratio:.3f} (the model {verdict} persistence)")
    return "\n".join(lines)


def result_line(scores: dict[str, dict[str, Any]]) -> str:
    """One machine-readable line, e.g. ``RESULT model_rmse=2.6 persistence_rmse=2.9 ...``."""
    return "RESULT " + " ".join(f"{name}_rmse={values['rmse']:.4f}" for name, values in scores.items())


def default_calendar(dates: ArrayLike) -> list[str]:
    """Day of year always; hour of day too when rows are less than a day apart."""
    stamps = np.asarray(dates, dtype="datetime64[s]")
    cycles = ["day_of_year"]
    if len(stamps) > 1 and np.median(np.diff(stamps).astype(np.int64)) < 86_400:
        cycles.append("hour_of_day")
    return cycles


# --- the window settings -------------------------------------------------------------------------
class Part(NamedTuple):
    """The windows of one part of the series: ``x (n, lookback, F)``, ``y (n, horizon)`` scaled,
    and ``target_rows (n,)``, the table row of each window's first target value."""

    x: NDArray[Any]
    y: NDArray[Any]
    target_rows: NDArray[Any]


@dataclass
class WindowSpec:
    """How rows of a table become model inputs, and model outputs become the target's units.

    Args:
        target: the column to forecast. Its own history is always an input.
        columns: the table columns used as inputs, in order (``target`` among them).
        lookback: past rows in each input window.
        horizon: future steps forecast from each window.
        date_column: the column with timestamps, or ``None``; needed for ``calendar``.
        calendar: cycles from `scratchlstm.data.calendar_features` appended as sin/cos
            inputs, e.g. ``["day_of_year"]``.
        scaler: the scaler of all input columns, fitted on the training rows (see `fit`).
        target_mean: the training mean of the target, the climatology forecast.
    """

    target: str
    columns: list[str]
    lookback: int = 14
    horizon: int = 1
    date_column: str | None = None
    calendar: list[str] = field(default_factory=list)
    scaler: StandardScaler | MinMaxScaler | None = None
    target_mean: float | None = None

    def __post_init__(self) -> None:
        # The one check of the settings, whether they come from code or from a model file's JSON.
        if not isinstance(self.target, str):
            raise ValueError(f"target must be a column name (a string), got {self.target!r}")
        self.columns = _names("columns", self.columns)
        self.calendar = _names("calendar", self.calendar)
        self.lookback = _count("lookback", self.lookback)
        self.horizon = _count("horizon", self.horizon)
        if self.date_column is not None and not isinstance(self.date_column, str):
            raise ValueError(f"date_column must be a column name or null, got {self.date_column!r}")
        if self.target not in self.columns:
            self.columns.insert(0, self.target)  # the target's history is the strongest input
        if self.date_column is not None and self.date_column in self.columns:
            # Parsed to timestamps, the column would be read as nanoseconds since 1970: nonsense inputs.
            raise ValueError(f"the date column {self.date_column!r} cannot also be the target or an input column")
        unknown = [c for c in self.calendar if c not in CALENDAR_CYCLES]
        if unknown:
            raise ValueError(f"unknown calendar cycle(s) {unknown}; expected some of {list(CALENDAR_CYCLES)}")
        if self.calendar and self.date_column is None:
            raise ValueError("calendar features need a date_column")
        if self.target_mean is not None:
            if isinstance(self.target_mean, bool) or not isinstance(self.target_mean, numbers.Real) \
                    or not math.isfinite(self.target_mean):
                raise ValueError(f"target_mean must be a finite number, got {self.target_mean!r}")
            self.target_mean = float(self.target_mean)
        if self.scaler is not None:
            if not isinstance(self.scaler, (StandardScaler, MinMaxScaler)):
                raise ValueError(f"scaler must be a fitted StandardScaler or MinMaxScaler, got {self.scaler!r}")
            n_inputs = len(self.feature_names)
            if self.scaler.n_features_in_ != n_inputs:
                raise ValueError(
                    f"the scaler covers {self.scaler.n_features_in_} feature(s) but there are {n_inputs} "
                    f"inputs ({', '.join(self.feature_names)})"
                )

    @property
    def feature_names(self) -> list[str]:
        """The model's input features: the columns, then two (sin, cos) per calendar cycle."""
        return self.columns + [f"{cycle}_{part}" for cycle in self.calendar for part in ("sin", "cos")]

    @property
    def target_index(self) -> int:
        return self.columns.index(self.target)

    def matrix(self, table: Any) -> NDArray[Any]:
        """The unscaled inputs ``(N, F)`` of every row of ``table``, in ``feature_names`` order."""
        blocks: list[NDArray[Any]] = [np.column_stack([np.asarray(table[c], dtype=np.float64) for c in self.columns])]
        if self.calendar:
            flags = {cycle: cycle in self.calendar for cycle in CALENDAR_CYCLES}
            blocks.append(calendar_features(table[self.date_column], **flags).values)
        return np.concatenate(blocks, axis=1)

    def fit(self, train_matrix: NDArray[Any]) -> WindowSpec:
        """Fit the scaler and the climatology on the training rows (never on later rows)."""
        self.scaler = StandardScaler().fit(train_matrix)
        self.target_mean = float(np.mean(train_matrix[:, self.target_index]))
        return self

    def scale(self, matrix: ArrayLike) -> NDArray[Any]:
        """The scaled inputs as the model takes them, float32 ``(N, F)``.

        Raises:
            ValueError: a finite input that scales beyond float32 (the scaler's statistics
                are far from these rows), naming the feature.
        """
        if self.scaler is None:
            raise ValueError("this WindowSpec has no fitted scaler; call fit(train_matrix) first")
        matrix = np.asarray(matrix, dtype=np.float64)
        scaled = self.scaler.transform(matrix)  # (N, F) float64
        with np.errstate(over="ignore"):
            result: NDArray[Any] = scaled.astype(np.float32)
        beyond = ~np.isfinite(result) & np.isfinite(scaled)
        if beyond.any():
            row, column = np.argwhere(beyond)[0]
            raise ValueError(
                f"{int(beyond.sum())} scaled input(s) of {self.feature_names[column]!r} fall outside the float32 "
                f"range (the first, row {row + 1}: {matrix[row, column]!r} scales to {scaled[row, column]:.4g}); "
                "the scaler's statistics do not suit these rows"
            )
        return result

    def windows(self, scaled: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
        """Training pairs: ``x (n, lookback, F)`` and the next ``horizon`` targets ``y (n, horizon)``."""
        x, y = make_windows(scaled, self.lookback, self.horizon, targets=self.target_index)
        return x, y.reshape(len(y), self.horizon)

    def input_windows(self, scaled: NDArray[Any]) -> NDArray[Any]:
        """Every window of ``lookback`` rows, the last one included: ``(N - lookback + 1, lookback, F)``."""
        if len(scaled) < self.lookback:
            raise ValueError(f"lookback={self.lookback} needs at least {self.lookback} rows, got {len(scaled)}")
        return np.array(sliding_window_view(scaled, self.lookback, axis=0).swapaxes(1, 2), order="C")

    def to_units(self, y_scaled: ArrayLike) -> NDArray[Any]:
        """Scaled target values (any shape) back in the target's units, float64."""
        if self.scaler is None:  # else an AttributeError on None
            raise ValueError("this WindowSpec has no fitted scaler; call fit(train_matrix) first")
        y_scaled = np.asarray(y_scaled, dtype=np.float64)
        flat: NDArray[Any] = self.scaler.inverse_transform(y_scaled.reshape(-1, 1), columns=[self.target_index])
        return flat.reshape(y_scaled.shape)

    def persistence(self, x_scaled: NDArray[Any]) -> NDArray[Any]:
        """The persistence forecast for each window, in units: its last target value repeated."""
        return persistence_forecast(self.to_units(x_scaled[:, -1, self.target_index]), self.horizon)

    def climatology(self, n: int) -> NDArray[Any]:
        if self.target_mean is None:  # else a TypeError from float(None)
            raise ValueError("this WindowSpec has no fitted target_mean; call fit(train_matrix) first")
        return climatology_forecast(self.target_mean, n, self.horizon)

    # --- JSON for model.save(path, metadata=...) ---------------------------------------------
    def to_metadata(self) -> dict[str, Any]:
        if self.scaler is None:
            raise ValueError("fit the WindowSpec before saving it")
        state = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in self.scaler.get_state().items()}
        return {
            "kind": METADATA_KIND,
            "target": self.target,
            "columns": self.columns,
            "lookback": self.lookback,
            "horizon": self.horizon,
            "date_column": self.date_column,
            "calendar": self.calendar,
            "features": self.feature_names,
            "scaler": state,
            "target_mean": self.target_mean,
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> WindowSpec:
        """The fitted settings stored by `to_metadata`, validated as a whole.

        Raises:
            ValueError: metadata that holds no window settings, misses a key, or holds a value
                of the wrong type or range (a lookback of 0, a scaler of the wrong length,
                negative variances, a feature list that disagrees with the columns); the
                message names the key.
        """
        if not isinstance(metadata, dict) or metadata.get("kind") != METADATA_KIND:
            raise ValueError("the model's metadata holds no window settings (was it saved by `scratchlstm fit`?)")
        missing = [key for key in _METADATA_KEYS if key not in metadata]
        if missing:
            raise ValueError(f"no {', '.join(map(repr, missing))} key(s) among the window settings")
        target_mean = metadata["target_mean"]
        if target_mean is None:  # a fitted spec always has one
            raise ValueError("target_mean must be a finite number, got None")
        spec = cls(
            target=metadata["target"],
            columns=metadata["columns"],
            lookback=metadata["lookback"],
            horizon=metadata["horizon"],
            date_column=metadata["date_column"],
            calendar=metadata["calendar"],
            scaler=scaler_from_state(metadata["scaler"]),
            target_mean=target_mean,
        )
        listed = metadata.get("features")
        if listed is not None and listed != spec.feature_names:
            raise ValueError(
                f"its features are listed as {listed!r:.200} but its columns and calendar give {spec.feature_names}"
            )
        return spec


_METADATA_KEYS = ("target", "columns", "lookback", "horizon", "date_column", "calendar", "scaler", "target_mean")


def _count(name: str, value: object) -> int:
    """A window size from code or JSON: an integer >= 1 (not a bool, a float or a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _names(name: str, value: object) -> list[str]:
    """A list of column or cycle names (strings) from a list, a tuple, a pandas Index or a NumPy
    array; a single string is refused, not split into letters."""
    items = None if isinstance(value, (str, bytes, dict)) or not np.iterable(value) else list(value)
    if items is None or not all(isinstance(item, str) for item in items):
        kind = "column names" if name == "columns" else "names"
        raise ValueError(f"{name} must be a list of {kind}, got {value!r:.200}")
    return [str(item) for item in items]


# --- the leak-free recipe ------------------------------------------------------------------------
class Prepared(NamedTuple):
    """The fitted spec and the windows of the three chronological parts (``val``/``test`` may
    be ``None`` when their fraction is 0)."""

    spec: WindowSpec
    train: Part
    val: Part | None
    test: Part | None


def prepare_windows(table: Any, spec: WindowSpec, val_fraction: float = 0.15, test_fraction: float = 0.15) -> Prepared:
    """Split the rows by time, fit ``spec`` (scaler, climatology) on the training rows only,
    and window each part on its own, so no window crosses a boundary.

    Raises:
        ValueError: a part with fewer than ``lookback + horizon`` rows, naming it.
    """
    matrix = spec.matrix(table)
    check_rows(len(matrix), spec, val_fraction, test_fraction)
    parts = chronological_split(matrix, val_fraction, test_fraction)
    spec.fit(parts.train)
    windowed: list[Part | None] = []
    start = 0
    for rows in parts:
        if len(rows) == 0:
            windowed.append(None)
            continue
        x, y = spec.windows(spec.scale(rows))
        windowed.append(Part(x, y, start + spec.lookback + np.arange(len(x))))
        start += len(rows)
    return Prepared(spec, *windowed)  # type: ignore[arg-type]  # train is never None: chronological_split refuses an empty one


def check_rows(n_rows: int, spec: WindowSpec, val_fraction: float = 0.15, test_fraction: float = 0.15) -> None:
    """Raise ValueError unless ``n_rows`` rows split into parts that each hold a window.

    The message names the least row count that would do (`minimum_rows`), computed in closed
    form, so that a lookback of 10**9 is answered at once.

    Args:
        n_rows: the table's number of rows.
        spec: the window settings (``lookback + horizon`` rows per part).
        val_fraction: share of the rows for validation, as in `chronological_split`.
        test_fraction: share of the rows for testing.

    Raises:
        ValueError: too few rows, with the least row count that would do.
    """
    need = spec.lookback + spec.horizon
    # (Fractions that leave no training rows fail in chronological_split with their own message.)
    if val_fraction + test_fraction < 1 and not _parts_fit(n_rows, need, val_fraction, test_fraction):
        raise ValueError(
            f"too few rows: lookback={spec.lookback} plus horizon={spec.horizon} needs {need} rows in each "
            f"part (training, validation {val_fraction:.0%}, test {test_fraction:.0%}), so at least "
            f"{minimum_rows(need, val_fraction, test_fraction)} rows; got {n_rows}"
        )


def minimum_rows(need: int, val_fraction: float, test_fraction: float) -> int:
    """The least row count whose chronological split gives every non-empty part ``need`` rows.

    Part sizes are ``round(N * fraction)`` (as in `chronological_split`), and each
    ``round(N * fraction)`` grows with ``N``, so the least ``N`` for a fraction follows from
    ``N * fraction >= need - 1/2``; `_least_rounding` pins it down among the few candidates that
    floating-point rounding leaves. The training part has ``N * (1 - v - t)`` rows within one,
    which bounds its answer to a window of ``2 / (1 - v - t)`` candidates. No search over ``N``
    from ``need`` upwards, so the answer is immediate for any lookback.

    Args:
        need: rows each non-empty part must hold (``lookback + horizon``).
        val_fraction: share of the rows for validation, in ``[0, 1)``.
        test_fraction: share of the rows for testing; the two sum to less than 1.

    Returns:
        The least ``N`` (when the fractions leave under 0.02% of the rows for training, a
        row count that suffices).

    Examples:
        >>> from scratchlstm.forecasting import minimum_rows
        >>> minimum_rows(15, 0.15, 0.15)  # lookback 14, horizon 1: 15 rows in each part
        97
        >>> minimum_rows(10**9 + 1, 0.15, 0.15)
        6666666671
    """
    if not val_fraction + test_fraction < 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction}")
    least = need
    for fraction in (val_fraction, test_fraction):
        if fraction > 0:
            least = max(least, _least_rounding(need, fraction))
    share = 1.0 - val_fraction - test_fraction  # of the rows, for training
    # n_train >= N * share - 1, so every N >= (need + 1) / share fits; none below (need - 1) / share.
    low = max(least, math.floor((need - 1) / share) - 2)
    high = max(least, math.ceil((need + 1) / share) + 2)
    if high - low > 10_000:  # the fractions leave under 0.02% of the rows for training:
        low = high  # then the answer is a row count that suffices, not necessarily the least
    for n_rows in range(low, high + 1):
        if _parts_fit(n_rows, need, val_fraction, test_fraction):
            return n_rows
    n_rows = high
    while not _parts_fit(n_rows, need, val_fraction, test_fraction):  # float rounding at huge N
        n_rows += max(1, n_rows >> 40)
    return n_rows


def _least_rounding(need: int, fraction: float) -> int:
    """The least ``N`` with ``round(N * fraction) >= need``: the closed form, then bisection
    over the handful of values that rounding in floating point leaves uncertain."""
    estimate = math.ceil((need - 0.5) / fraction)
    low, high = max(0, estimate - 2 - estimate // 2**40), estimate + 2 + estimate // 2**40
    while round(high * fraction) < need:  # never more than once or twice
        high += high - low
    while round(low * fraction) >= need and low > 0:
        low = max(0, low - max(1, estimate // 2**40))
    while high - low > 1:  # invariant: round(low * f) < need <= round(high * f)
        middle = (low + high) // 2
        if round(middle * fraction) >= need:
            high = middle
        else:
            low = middle
    return high


def _parts_fit(n_rows: int, need: int, val_fraction: float, test_fraction: float) -> bool:
    """Whether every non-empty part of a chronological split of ``n_rows`` has ``need`` rows."""
    n_val, n_test = round(n_rows * val_fraction), round(n_rows * test_fraction)
    return (n_rows - n_val - n_test >= need and (not val_fraction or n_val >= need)
            and (not test_fraction or n_test >= need))
