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

import itertools
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .data import StandardScaler, calendar_features, chronological_split, make_windows, scaler_from_state

METADATA_KIND = "scratchlstm.forecast"
CALENDAR_CYCLES = ("day_of_year", "day_of_week", "hour_of_day")


# --- metrics and baselines -----------------------------------------------------------------------
def rmse(y_true, y_pred, axis=None):
    """Root mean squared error; ``axis=0`` gives one value per horizon step."""
    error = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    value = np.sqrt(np.mean(error**2, axis=axis))
    return float(value) if axis is None else value


def mae(y_true, y_pred, axis=None):
    """Mean absolute error; ``axis=0`` gives one value per horizon step."""
    error = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    value = np.mean(np.abs(error), axis=axis)
    return float(value) if axis is None else value


def persistence_forecast(last_values, horizon):
    """The naive forecast: the last observed value ``(n,)``, repeated for ``horizon`` steps."""
    last_values = np.asarray(last_values, dtype=np.float64).reshape(-1, 1)
    return np.repeat(last_values, horizon, axis=1)


def climatology_forecast(train_mean, n, horizon):
    """The training mean of the target for every window and step, ``(n, horizon)``."""
    return np.full((n, horizon), float(train_mean))


def score(y_true, forecasts: dict) -> dict:
    """``{name: {"rmse", "mae", "rmse_per_step"}}`` for each ``(n, horizon)`` forecast."""
    return {
        name: {
            "rmse": rmse(y_true, forecast),
            "mae": mae(y_true, forecast),
            "rmse_per_step": rmse(y_true, forecast, axis=0).tolist(),
        }
        for name, forecast in forecasts.items()
    }


def format_scores(scores: dict, unit: str = "", notes: dict | None = None) -> str:
    """A small table of RMSE and MAE per forecast, and the model's RMSE relative to persistence."""
    notes = notes or {}
    suffix = f" ({unit})" if unit else ""
    width = max(len(name) for name in scores) + 2
    lines = [f"{'':{width}}{'RMSE' + suffix:>12}{'MAE' + suffix:>12}"]
    for name, values in scores.items():
        note = f"  {notes[name]}" if name in notes else ""
        lines.append(f"{name:{width}}{values['rmse']:12.3f}{values['mae']:12.3f}{note}")
    if "model" in scores and "persistence" in scores:
        ratio = scores["model"]["rmse"] / scores["persistence"]["rmse"]
        verdict = "beats" if ratio < 1 else "does not beat"
        lines.append(f"model RMSE / persistence RMSE = {ratio:.3f} (the model {verdict} persistence)")
    return "\n".join(lines)


def result_line(scores: dict) -> str:
    """One machine-readable line, e.g. ``RESULT model_rmse=2.6 persistence_rmse=2.9 ...``."""
    return "RESULT " + " ".join(f"{name}_rmse={values['rmse']:.4f}" for name, values in scores.items())


def default_calendar(dates) -> list:
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

    x: np.ndarray
    y: np.ndarray
    target_rows: np.ndarray


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
    columns: list
    lookback: int = 14
    horizon: int = 1
    date_column: str | None = None
    calendar: list = field(default_factory=list)
    scaler: StandardScaler | None = None
    target_mean: float | None = None

    def __post_init__(self):
        self.columns = list(self.columns)
        self.calendar = list(self.calendar)
        if self.target not in self.columns:
            self.columns.insert(0, self.target)  # the target's history is the strongest input
        unknown = [c for c in self.calendar if c not in CALENDAR_CYCLES]
        if unknown:
            raise ValueError(f"unknown calendar cycle(s) {unknown}; expected some of {list(CALENDAR_CYCLES)}")
        if self.calendar and self.date_column is None:
            raise ValueError("calendar features need a date_column")

    @property
    def feature_names(self) -> list:
        """The model's input features: the columns, then two (sin, cos) per calendar cycle."""
        return self.columns + [f"{cycle}_{part}" for cycle in self.calendar for part in ("sin", "cos")]

    @property
    def target_index(self) -> int:
        return self.columns.index(self.target)

    def matrix(self, table) -> np.ndarray:
        """The unscaled inputs ``(N, F)`` of every row of ``table``, in ``feature_names`` order."""
        blocks = [np.column_stack([np.asarray(table[c], dtype=np.float64) for c in self.columns])]
        if self.calendar:
            flags = {cycle: cycle in self.calendar for cycle in CALENDAR_CYCLES}
            blocks.append(calendar_features(table[self.date_column], **flags).values)
        return np.concatenate(blocks, axis=1)

    def fit(self, train_matrix) -> WindowSpec:
        """Fit the scaler and the climatology on the training rows (never on later rows)."""
        self.scaler = StandardScaler().fit(train_matrix)
        self.target_mean = float(np.mean(train_matrix[:, self.target_index]))
        return self

    def scale(self, matrix) -> np.ndarray:
        if self.scaler is None:
            raise ValueError("this WindowSpec has no fitted scaler; call fit(train_matrix) first")
        return self.scaler.transform(np.asarray(matrix, dtype=np.float64)).astype(np.float32)

    def windows(self, scaled) -> tuple:
        """Training pairs: ``x (n, lookback, F)`` and the next ``horizon`` targets ``y (n, horizon)``."""
        x, y = make_windows(scaled, self.lookback, self.horizon, targets=self.target_index)
        return x, y.reshape(len(y), self.horizon)

    def input_windows(self, scaled) -> np.ndarray:
        """Every window of ``lookback`` rows, the last one included: ``(N - lookback + 1, lookback, F)``."""
        if len(scaled) < self.lookback:
            raise ValueError(f"lookback={self.lookback} needs at least {self.lookback} rows, got {len(scaled)}")
        return np.array(sliding_window_view(scaled, self.lookback, axis=0).swapaxes(1, 2), order="C")

    def to_units(self, y_scaled) -> np.ndarray:
        """Scaled target values (any shape) back in the target's units, float64."""
        y_scaled = np.asarray(y_scaled, dtype=np.float64)
        flat = self.scaler.inverse_transform(y_scaled.reshape(-1, 1), columns=[self.target_index])
        return flat.reshape(y_scaled.shape)

    def persistence(self, x_scaled) -> np.ndarray:
        """The persistence forecast for each window, in units: its last target value repeated."""
        return persistence_forecast(self.to_units(x_scaled[:, -1, self.target_index]), self.horizon)

    def climatology(self, n) -> np.ndarray:
        return climatology_forecast(self.target_mean, n, self.horizon)

    # --- JSON for model.save(path, metadata=...) ---------------------------------------------
    def to_metadata(self) -> dict:
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
    def from_metadata(cls, metadata: dict) -> WindowSpec:
        if not isinstance(metadata, dict) or metadata.get("kind") != METADATA_KIND:
            raise ValueError("the model's metadata holds no window settings (was it saved by `scratchlstm fit`?)")
        return cls(
            target=metadata["target"],
            columns=metadata["columns"],
            lookback=int(metadata["lookback"]),
            horizon=int(metadata["horizon"]),
            date_column=metadata["date_column"],
            calendar=metadata["calendar"],
            scaler=scaler_from_state(metadata["scaler"]),
            target_mean=metadata["target_mean"],
        )


# --- the leak-free recipe ------------------------------------------------------------------------
class Prepared(NamedTuple):
    """The fitted spec and the windows of the three chronological parts (``val``/``test`` may
    be ``None`` when their fraction is 0)."""

    spec: WindowSpec
    train: Part
    val: Part | None
    test: Part | None


def prepare_windows(table, spec: WindowSpec, val_fraction=0.15, test_fraction=0.15) -> Prepared:
    """Split the rows by time, fit ``spec`` (scaler, climatology) on the training rows only,
    and window each part on its own, so no window crosses a boundary.

    Raises:
        ValueError: a part with fewer than ``lookback + horizon`` rows, naming it.
    """
    matrix = spec.matrix(table)
    need = spec.lookback + spec.horizon
    # (Fractions that leave no training rows fail in chronological_split with their own message.)
    if val_fraction + test_fraction < 1 and not _parts_fit(len(matrix), need, val_fraction, test_fraction):
        minimum = next(n for n in itertools.count(need) if _parts_fit(n, need, val_fraction, test_fraction))
        raise ValueError(
            f"too few rows: lookback={spec.lookback} plus horizon={spec.horizon} needs {need} rows in each "
            f"part (training, validation {val_fraction:.0%}, test {test_fraction:.0%}), so at least "
            f"{minimum} rows; got {len(matrix)}"
        )
    parts = chronological_split(matrix, val_fraction, test_fraction)
    spec.fit(parts.train)
    windowed, start = [], 0
    for rows in parts:
        if len(rows) == 0:
            windowed.append(None)
            continue
        x, y = spec.windows(spec.scale(rows))
        windowed.append(Part(x, y, start + spec.lookback + np.arange(len(x))))
        start += len(rows)
    return Prepared(spec, *windowed)


def _parts_fit(n_rows, need, val_fraction, test_fraction) -> bool:
    """Whether every non-empty part of a chronological split of ``n_rows`` has ``need`` rows."""
    n_val, n_test = round(n_rows * val_fraction), round(n_rows * test_fraction)
    return (n_rows - n_val - n_test >= need and (not val_fraction or n_val >= need)
            and (not test_fraction or n_test >= need))
