"""What each subcommand does: ``fit``, ``predict``, ``evaluate`` and ``demo``.

Each ``run_*`` takes the parsed arguments, prints its results and returns the exit status;
problems with the user's input raise `CLIError`. Every command checks first (the files, the
outputs, the window settings against the model, the row count, the memory the run needs) and
only then trains, predicts or writes.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import warnings
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from ..forecasting import (Part, Prepared, WindowSpec, check_rows, default_calendar, format_scores, prepare_windows,
                           score)
from ._csv import (check_numeric, choose_features, find_date_column, load_table, one_line, parse_dates,
                   read_csv, require_pandas, utc_instants)
from ._errors import CLIError
from ._files import check_input, check_output

if TYPE_CHECKING:
    from ..callbacks import Callback, History
    from ..models import Model

BASELINE_NOTES = {"persistence": "(last observed value, repeated)", "climatology": "(training mean)"}
FLOAT32_BYTES = 4
# Copies of every parameter while training: the weights, their gradients, Adam's two moments,
# the best epoch's weights kept by early stopping, and slack for temporaries.
TRAINING_COPIES = 8
# float32 numbers kept per window step and LSTM unit for backpropagation through time:
# four gates, the cell and hidden states and tanh of the cell, and their gradients.
ACTIVATIONS_PER_UNIT = 16


def _note(message: str) -> None:
    print(message, file=sys.stderr)


@contextlib.contextmanager
def _input_errors(source: object) -> Iterator[None]:
    """Turn a ValueError about the user's data or settings into a one-line CLIError."""
    try:
        yield
    except ValueError as error:
        raise CLIError(f"{source}: {one_line(error)}") from None


# --- memory, estimated before anything large is allocated ----------------------------------------
def available_memory() -> int | None:
    """Bytes of memory available to this process now, or None when the platform does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _gib(n_bytes: float) -> str:
    """``n_bytes`` in the largest binary unit that keeps the number at 1 or more."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.3g} {unit}" if n_bytes < 1000 * size else f"{n_bytes / size:,.0f} {unit}"
    return f"{n_bytes:.0f} bytes"


def check_memory(parts: dict[str, int], advice: str) -> None:
    """Refuse a run whose largest arrays (``{what: bytes}``) exceed the memory available now."""
    total = sum(parts.values())
    available = available_memory()
    if available is None or total <= available:
        return
    detail = ", ".join(f"{what} {_gib(size)}" for what, size in parts.items() if size)
    raise CLIError(f"this run needs about {_gib(total)} of memory ({detail}); {_gib(available)} is available. "
                   f"{advice}")


def _windows_bytes(n_windows: int, spec: WindowSpec) -> int:
    """The float32 windows ``x (n, lookback, F)`` and targets ``y (n, horizon)``, plus the float64
    feature matrix and its scaled copy, which are about as large as one window per row."""
    return (n_windows * (spec.lookback * len(spec.feature_names) + spec.horizon) * FLOAT32_BYTES
            + 2 * n_windows * len(spec.feature_names) * 8)


def check_fit_memory(spec: WindowSpec, n_rows: int, val_fraction: float, test_fraction: float, units: int,
                     batch_size: int) -> None:
    """Estimate what ``fit`` will hold: the windows of every part, the parameters with their
    training copies, and one batch's activations; refuse before training when it cannot fit."""
    n_val, n_test = round(n_rows * val_fraction), round(n_rows * test_fraction)
    sizes = [n_rows - n_val - n_test, n_val, n_test]
    windows = [max(0, size - spec.lookback - spec.horizon + 1) for size in sizes]
    features = len(spec.feature_names)
    parameters = 4 * units * (features + units + 1) + spec.horizon * (units + 1)  # LSTM, then Dense
    batch = max(1, min(batch_size, windows[0]))
    check_memory(
        {"windows": _windows_bytes(sum(windows), spec),
         f"--units {units}: weights and optimizer state": parameters * TRAINING_COPIES * FLOAT32_BYTES,
         "one batch's activations": batch * spec.lookback * units * ACTIVATIONS_PER_UNIT * FLOAT32_BYTES},
        "Use fewer --units, a shorter --lookback or a smaller --batch-size.",
    )


# --- shared steps --------------------------------------------------------------------------------
def _prepare(table: Any, spec: WindowSpec, val_fraction: float, test_fraction: float, source: str) -> Prepared:
    with _input_errors(source):
        return prepare_windows(table, spec, val_fraction, test_fraction)


def train(prepared: Prepared, *, units: int, epochs: int, batch_size: int, patience: int, learning_rate: float,
          backend: str, seed: int, verbose: int) -> tuple[Model, History]:
    """Fit ``LSTM(units) -> Dense(horizon)`` with Adam on the training windows, stopping early
    on the validation loss and keeping the best epoch's weights."""
    from .. import LSTM, Dense, Sequential
    from ..callbacks import EarlyStopping
    from ..optimizers import Adam

    spec = prepared.spec
    model = Sequential([LSTM(units), Dense(spec.horizon)], seed=seed)
    try:
        model.compile(optimizer=Adam(learning_rate), loss="mse", metrics=["mae"], backend=backend)
    except ImportError as error:  # the jax extra is missing; the message says what to install
        raise CLIError(one_line(error)) from None
    validation: tuple[NDArray[Any], NDArray[Any]] | None
    callbacks: list[Callback]
    validation, callbacks = None, []
    if prepared.val is not None:
        validation = (prepared.val.x, prepared.val.y)
        callbacks.append(EarlyStopping(patience=patience, restore_best_weights=True, verbose=int(verbose > 0)))
    history = model.fit(
        # A batch larger than the data is one batch of all windows (the JAX backend would pad it).
        prepared.train.x, prepared.train.y, epochs=epochs, batch_size=min(batch_size, len(prepared.train.x)),
        validation_data=validation, callbacks=callbacks, verbose=verbose,
    )
    return model, history


def model_scores(spec: WindowSpec, model: Model, x: NDArray[Any], y: NDArray[Any]) -> dict[str, dict[str, Any]]:
    """RMSE and MAE, in the target's units, of the model and both baselines on windows ``(x, y)``."""
    truth = spec.to_units(y)
    return score(truth, {
        "model": spec.to_units(model.predict(x)),
        "persistence": spec.persistence(x),
        "climatology": spec.climatology(len(x)),
    })


def _print_scores(scores: dict[str, dict[str, Any]], horizon: int, unit: str = "") -> None:
    print(format_scores(scores, unit=unit, notes=BASELINE_NOTES))
    if horizon > 1:
        for name, values in scores.items():
            steps = " ".join(f"{v:.3f}" for v in values["rmse_per_step"])
            print(f"{name} RMSE for steps 1..{horizon}: {steps}")


def _describe(prepared: Prepared, source: str) -> None:
    spec = prepared.spec
    sizes = ", ".join(f"{name} {len(part.x)}" for name, part in zip(("train", "validation", "test"), prepared[1:])
                      if part is not None)
    print(f"{source}: forecast {spec.target} {spec.horizon} step(s) ahead from the past {spec.lookback} rows")
    print(f"inputs: {', '.join(spec.feature_names)}")
    print(f"windows (chronological split): {sizes}")


def _check_outputs(args: argparse.Namespace, inputs: list[str], out: str | None = None,
                   what: str = "the output") -> None:
    """Check ``out`` and ``--plot`` (and that matplotlib is there) before any work is done."""
    if out is not None:
        check_output(out, what, inputs)
    plot = getattr(args, "plot", None)
    if plot is not None:
        from ._plot import require_matplotlib

        require_matplotlib()
        check_output(plot, "the plot", [*inputs, *([out] if out else [])])
        if out is not None and os.path.abspath(plot) == os.path.abspath(out):
            raise CLIError(f"{plot}: --plot and --out name the same file")


def load_forecaster(path: str | os.PathLike[str]) -> tuple[Model, WindowSpec]:
    """The model saved by ``fit`` and its `WindowSpec`, checked against each other, or a one-line
    CLIError: settings that do not fit the model's shapes would predict nonsense or fail later."""
    from .. import load_model

    path = check_input(path, "a model file (.npz) saved by `scratchlstm fit`", missing="no such model file")
    if not zipfile.is_zipfile(path):
        raise CLIError(f"{path}: not a model file (a .npz archive saved by `scratchlstm fit`)")
    try:
        model = load_model(path, compile=False)  # predictions run on NumPy: jax is not needed here
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, RecursionError, MemoryError,
            zipfile.BadZipFile) as error:  # a damaged or hostile file
        raise CLIError(f"{path}: not a model file saved by `scratchlstm fit`: {one_line(error)}") from None
    metadata: Any = getattr(model, "metadata", None)  # checked by from_metadata
    try:
        spec = WindowSpec.from_metadata(metadata)
    except ValueError as error:
        if not isinstance(metadata, dict) or "kind" not in metadata:
            raise CLIError(f"{path}: not a forecasting model saved by `scratchlstm fit`: {one_line(error)}") from None
        raise CLIError(f"{path}: the window settings in its metadata are invalid: {one_line(error)}") from None
    _check_model_shapes(path, model, spec)
    return model, spec


def _check_model_shapes(path: str | os.PathLike[str], model: Model, spec: WindowSpec) -> None:
    """The model must read ``(lookback, features)`` windows and forecast ``horizon`` values."""
    try:
        input_shape, output_shape = tuple(model.input_shape), tuple(model.output_shape)
    except (AttributeError, TypeError, ValueError) as error:
        raise CLIError(f"{path}: the model has no single input and output shape: {one_line(error)}") from None
    if len(input_shape) != 3 or len(output_shape) != 2:
        raise CLIError(f"{path}: the model maps {input_shape} to {output_shape}; a forecaster maps "
                       "(batch, lookback, features) windows to (batch, horizon) forecasts")
    _, steps, features = input_shape
    if features != len(spec.feature_names):
        raise CLIError(f"{path}: the model takes {features} features but its metadata lists "
                       f"{len(spec.feature_names)}")
    if steps is not None and steps != spec.lookback:
        raise CLIError(f"{path}: the model reads windows of {steps} time steps but its metadata says "
                       f"lookback {spec.lookback}")
    if output_shape[-1] != spec.horizon:
        raise CLIError(f"{path}: the model forecasts {output_shape[-1]} value(s) per window but its metadata "
                       f"says horizon {spec.horizon}")


def _read_for_model(args: argparse.Namespace, spec: WindowSpec, need: int) -> Any:
    """The rows of ``args.data`` a saved model needs, at least ``need`` of them, and the memory
    for their windows checked."""
    frame = load_table(args.data, spec.target, spec.columns, spec.date_column)
    if len(frame) < need:
        what = (f"the model looks back {spec.lookback} rows" if need == spec.lookback else
                f"lookback {spec.lookback} plus horizon {spec.horizon} needs {need}")
        raise CLIError(f"{args.data}: too few rows: {what}, the file has {len(frame)}")
    check_memory({"windows": _windows_bytes(len(frame) - need + 1, spec)},
                 "Use a shorter file; the lookback is fixed by the model.")
    return frame


# --- the axis of time: dates, or 1-based data rows -------------------------------------------------
def _time_axis(frame: Any, spec: WindowSpec) -> tuple[NDArray[Any], str]:
    """``(values, label)``: the rows' dates (datetime64) or their 1-based numbers."""
    if spec.date_column is not None:
        return frame[spec.date_column].to_numpy(), "date"
    return np.arange(1, len(frame) + 1), "data row"


def _date_step(dates: Any) -> Any:
    """The step between the rows of the datetime Series ``dates`` (a pandas offset: 'D', 'MS',
    'h', ...), or the median gap with a note when the dates are not evenly spaced."""
    pd = require_pandas()
    frequency = None
    if len(dates) >= 3:
        with contextlib.suppress(TypeError, ValueError), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 announces that infer_freq will return an offset
            frequency = pd.infer_freq(pd.DatetimeIndex(dates))
    if frequency is not None:
        return pd.tseries.frequencies.to_offset(frequency)
    if len(dates) < 2:
        raise CLIError("forecast dates need at least two dated rows to know the time step")
    gaps = np.diff(utc_instants(dates))
    median = pd.Timedelta(np.median(gaps.astype(np.int64)), unit="ns")
    _note(f"note: the dates are not evenly spaced; forecast dates assume the median step of {median}")
    return median


# Decimals enough for six significant digits of float64's smallest subnormal (4.9e-324): a cap
# any lower prints a target of magnitude 1e-20 as 0.000000000000.
MAX_DECIMALS = 330


def _decimals(values: NDArray[Any]) -> int:
    """Decimals that show about six significant digits of the target's largest magnitude."""
    magnitude = float(np.max(np.abs(values))) if len(values) else 0.0
    if not magnitude or not math.isfinite(magnitude):
        return 4
    return int(min(MAX_DECIMALS, max(0, 5 - math.floor(math.log10(magnitude)))))


def forecast_table(spec: WindowSpec, frame: Any, forecasts: NDArray[Any]) -> Any:
    """The tidy forecasts: one row per window and step.

    Columns: ``origin`` (the date, or 1-based data row, of the window's last observed row),
    ``date`` (the date forecast for; ``row`` without dates), ``step`` (1 .. horizon) and the
    forecast under the target's name.
    """
    pd = require_pandas()
    n_windows, horizon = forecasts.shape
    last_rows = np.arange(len(frame) - n_windows, len(frame))  # (n,) 0-based
    steps = np.tile(np.arange(1, horizon + 1), n_windows)  # (n * horizon,)
    value_name = spec.target if spec.target not in ("origin", "date", "row", "step") else "forecast"
    if spec.date_column is None:
        origins = np.repeat(last_rows + 1, horizon)
        table = pd.DataFrame({"origin": origins, "row": origins + steps, "step": steps})
    else:
        column = frame[spec.date_column].reset_index(drop=True)
        origins = column.iloc[last_rows].reset_index(drop=True)  # (n,)
        offset = _date_step(column)
        with warnings.catch_warnings():  # pandas warns that some calendar offsets loop in Python
            warnings.simplefilter("ignore")
            ahead = pd.concat([origins + step * offset for step in range(1, horizon + 1)], axis=1)  # (n, horizon)
        dates = origins.repeat(horizon).reset_index(drop=True)  # (n * horizon,), window-major like steps
        targets = pd.Series(list(ahead.to_numpy().reshape(-1)), dtype=origins.dtype)
        every = pd.concat([dates, targets])
        midnight = (every.dt.hour == 0).all() and (every.dt.minute == 0).all() and (every.dt.second == 0).all()
        style = ("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S") + ("%z" if origins.dt.tz is not None else "")
        table = pd.DataFrame({"origin": dates.dt.strftime(style), "date": targets.dt.strftime(style), "step": steps})
    table[value_name] = forecasts.reshape(-1)
    return table


def _write_table(table: Any, out: str | None, decimals: int) -> None:
    form = f"%.{decimals}f"
    if out is None:
        table.to_csv(sys.stdout, index=False, float_format=form)
        return
    try:
        table.to_csv(out, index=False, float_format=form)
    except OSError as error:
        raise CLIError(f"{out}: cannot write the forecasts: {one_line(error)}") from None


def _plot_windows(path: str, spec: WindowSpec, model: Model, frame: Any, windows: tuple[NDArray[Any], NDArray[Any]],
                  first_rows: NDArray[Any], title: str) -> None:
    """The step-1 forecasts of the model and of persistence beside the actual values, at the
    rows they forecast; ``windows`` is ``(x, y)`` and ``first_rows`` each window's first target row."""
    from ._plot import plot_forecast

    x, y = windows
    x_axis, label = _time_axis(frame, spec)
    forecasts = {"LSTM": spec.to_units(model.predict(x))[:, 0], "persistence": spec.persistence(x)[:, 0]}
    plot_forecast(path, x_axis[first_rows], spec.to_units(y)[:, 0], forecasts, title=title, unit=spec.target,
                  xlabel=label)
    print(f"saved the plot to {path}")


# --- subcommands ---------------------------------------------------------------------------------
def run_fit(args: argparse.Namespace) -> int:
    source = args.data
    _check_outputs(args, [source])  # matplotlib, before reading anything
    frame = read_csv(source)
    date_column = find_date_column(frame, args.date_column, source)
    features = [name for names in args.features or [] for name in names]
    columns, note = choose_features(frame, args.target, features, date_column, source)
    check_numeric(frame, columns, source)
    calendar: list[str] = []
    if date_column is not None:
        frame = parse_dates(frame, date_column, source)
        calendar = [] if args.no_calendar else default_calendar(frame[date_column])
    _check_outputs(args, [source], out=args.out, what="the model")
    with _input_errors(source):
        spec = WindowSpec(args.target, columns, args.lookback, args.horizon, date_column, calendar)
        check_rows(len(frame), spec, args.val_fraction, args.test_fraction)
    check_fit_memory(spec, len(frame), args.val_fraction, args.test_fraction, args.units, args.batch_size)
    prepared = _prepare(frame, spec, args.val_fraction, args.test_fraction, source)
    if note:  # after the checks, so that a bad file gives exactly one line
        _note(note)
    _describe(prepared, source)
    model, history = train(
        prepared, units=args.units, epochs=args.epochs, batch_size=args.batch_size, patience=args.patience,
        learning_rate=args.learning_rate, backend=args.backend, seed=args.seed, verbose=args.verbose,
    )
    metadata = spec.to_metadata()
    metadata["training"] = {"data": os.path.basename(source), "epochs_run": len(history.history.get("loss", []))}
    if prepared.test is not None:
        with _input_errors(source):
            scores = model_scores(spec, model, prepared.test.x, prepared.test.y)
        metadata["training"]["test_scores"] = {name: values["rmse"] for name, values in scores.items()}
        print(f"held-out test windows ({len(prepared.test.x)}, the last {args.test_fraction:.0%} of the rows):")
        _print_scores(scores, spec.horizon)
    try:
        model.save(args.out, metadata=metadata)
    except OSError as error:
        raise CLIError(f"{args.out}: cannot write the model: {one_line(error)}") from None
    print(f"saved {args.out}")
    if args.plot is not None:
        name, part = next((name, part) for name, part in zip(("held-out test", "validation", "training"),
                                                             (prepared.test, prepared.val, prepared.train))
                          if part is not None)
        with _input_errors(source):
            _plot_windows(args.plot, spec, model, frame, (part.x, part.y), part.target_rows,
                          title=f"{spec.target}, 1 step ahead, {name} windows")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    model, spec = load_forecaster(args.model)
    _check_outputs(args, [args.model, args.data], out=args.out, what="the forecasts")
    frame = _read_for_model(args, spec, spec.lookback)
    with _input_errors(args.data):
        x = spec.input_windows(spec.scale(spec.matrix(frame)))
        if args.last is not None:
            x = x[-args.last:]
        forecasts = spec.to_units(model.predict(x))  # (n, horizon)
    table = forecast_table(spec, frame, forecasts)
    target_values = frame[spec.target].to_numpy(dtype=np.float64)
    _write_table(table, args.out, _decimals(target_values))
    if args.out is not None:
        _note(f"wrote {len(x)} forecast(s) of {spec.target} ({len(table)} rows: window x step) to {args.out}")
    if args.plot is not None:
        from ._plot import plot_lines

        value = table.columns[-1]
        first = table[table["step"] == 1]
        last = table.iloc[-spec.horizon:]
        x_axis, _ = _time_axis(frame, spec)
        if spec.date_column is not None:
            pd = require_pandas()
            at = (pd.to_datetime(first["date"]), pd.to_datetime(last["date"]))
        else:
            at = (first["row"], last["row"])
        plot_lines(args.plot, [
            ("actual", x_axis, target_values, {"color": "black", "linewidth": 1.5}),
            ("forecast, 1 step ahead", at[0], first[value], {"linewidth": 1.2}),
            (f"last window's forecast, steps 1..{spec.horizon}", at[1], last[value], {"marker": "o", "linewidth": 1.2}),
        ], title=f"{spec.target}: forecasts from {args.model}", unit=spec.target,
            xlabel="date" if spec.date_column else "data row")
        _note(f"saved the plot to {args.plot}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    model, spec = load_forecaster(args.model)
    _check_outputs(args, [args.model, args.data])
    frame = _read_for_model(args, spec, spec.lookback + spec.horizon)
    with _input_errors(args.data):
        x, y = spec.windows(spec.scale(spec.matrix(frame)))
        scores = model_scores(spec, model, x, y)
    print(f"{args.data}: {len(x)} windows, {spec.target} {spec.horizon} step(s) ahead "
          f"from the past {spec.lookback} rows")
    _print_scores(scores, spec.horizon)
    if args.plot is not None:
        with _input_errors(args.data):
            _plot_windows(args.plot, spec, model, frame, (x, y), spec.lookback + np.arange(len(x)),
                          title=f"{spec.target}, 1 step ahead: {args.model} on {args.data}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from ..datasets import load_seattle_weather
    from ._plot import plot_forecast

    _check_outputs(args, [])
    table = load_seattle_weather(as_frame=False)  # NumPy only: the demo runs without pandas
    spec = WindowSpec("temp_max", table.columns, lookback=14, horizon=1, date_column="date",
                      calendar=["day_of_year"])
    prepared = _prepare(table, spec, 0.15, 0.15, "seattle-weather")
    print("Seattle daily weather 2012-2015 (bundled): next-day maximum temperature, degrees C")
    _describe(prepared, "seattle-weather")
    model, _ = train(
        prepared, units=32, epochs=args.epochs, batch_size=32, patience=args.patience, learning_rate=1e-3,
        backend=args.backend, seed=args.seed, verbose=args.verbose,
    )
    test = cast(Part, prepared.test)  # 15% of the 1,461 bundled rows: always a test part
    scores = model_scores(spec, model, test.x, test.y)
    first, last = table.dates[test.target_rows[0]], table.dates[test.target_rows[-1]]
    print(f"test period {first} .. {last} ({len(test.x)} days), never seen in training:")
    _print_scores(scores, spec.horizon, unit="°C")
    if args.plot is not None:
        plot_forecast(
            args.plot, table.dates[test.target_rows], spec.to_units(test.y)[:, 0],
            {f"LSTM (RMSE {scores['model']['rmse']:.2f})": spec.to_units(model.predict(test.x))[:, 0],
             f"persistence (RMSE {scores['persistence']['rmse']:.2f})": spec.persistence(test.x)[:, 0]},
            title="Seattle next-day maximum temperature (test period)", unit="°C",
        )
        print(f"saved the plot to {args.plot}")
    return 0
