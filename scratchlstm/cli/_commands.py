"""What each subcommand does: ``fit``, ``predict``, ``evaluate`` and ``demo``.

Each ``run_*`` takes the parsed arguments, prints its results and returns the exit status;
problems with the user's input raise `CLIError`.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np

from ..forecasting import WindowSpec, default_calendar, format_scores, prepare_windows, score
from ._csv import (check_numeric, choose_features, find_date_column, load_table, one_line, parse_dates,
                   read_csv, require_pandas)
from ._errors import CLIError

BASELINE_NOTES = {"persistence": "(last observed value, repeated)", "climatology": "(training mean)"}


def _note(message: str) -> None:
    print(message, file=sys.stderr)


# --- shared steps --------------------------------------------------------------------------------
def _prepare(table, spec, val_fraction, test_fraction, source):
    try:
        return prepare_windows(table, spec, val_fraction, test_fraction)
    except ValueError as error:
        raise CLIError(f"{source}: {one_line(error)}") from None


def train(prepared, *, units, epochs, batch_size, patience, learning_rate, backend, seed, verbose):
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
    validation, callbacks = None, []
    if prepared.val is not None:
        validation = (prepared.val.x, prepared.val.y)
        callbacks.append(EarlyStopping(patience=patience, restore_best_weights=True, verbose=int(verbose > 0)))
    history = model.fit(
        prepared.train.x, prepared.train.y, epochs=epochs, batch_size=batch_size,
        validation_data=validation, callbacks=callbacks, verbose=verbose,
    )
    return model, history


def model_scores(spec, model, x, y) -> dict:
    """RMSE and MAE, in the target's units, of the model and both baselines on windows ``(x, y)``."""
    truth = spec.to_units(y)
    return score(truth, {
        "model": spec.to_units(model.predict(x)),
        "persistence": spec.persistence(x),
        "climatology": spec.climatology(len(x)),
    })


def _print_scores(scores, horizon, unit=""):
    print(format_scores(scores, unit=unit, notes=BASELINE_NOTES))
    if horizon > 1:
        for name, values in scores.items():
            steps = " ".join(f"{v:.3f}" for v in values["rmse_per_step"])
            print(f"{name} RMSE for steps 1..{horizon}: {steps}")


def _describe(prepared, source):
    spec = prepared.spec
    sizes = ", ".join(f"{name} {len(part.x)}" for name, part in zip(("train", "validation", "test"), prepared[1:])
                      if part is not None)
    print(f"{source}: forecast {spec.target} {spec.horizon} step(s) ahead from the past {spec.lookback} rows")
    print(f"inputs: {', '.join(spec.feature_names)}")
    print(f"windows (chronological split): {sizes}")


def _check_folder(path) -> None:
    """An output file's folder must exist; checked before training, not after."""
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CLIError(f"{path}: the folder {folder} does not exist")


def load_forecaster(path):
    """The model saved by ``fit`` and its `WindowSpec`, or a one-line CLIError."""
    from .. import load_model

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise CLIError(f"{path}: not a model file (a .npz archive saved by `scratchlstm fit`)")
    try:
        model = load_model(path, compile=False)  # predictions run on NumPy: jax is not needed here
        spec = WindowSpec.from_metadata(model.metadata)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise CLIError(f"{path}: not a forecasting model saved by `scratchlstm fit`: {one_line(error)}") from None
    if model.input_shape[-1] != len(spec.feature_names):
        raise CLIError(f"{path}: the model takes {model.input_shape[-1]} features but its metadata lists "
                       f"{len(spec.feature_names)}")
    return model, spec


# --- subcommands ---------------------------------------------------------------------------------
def run_fit(args) -> int:
    source = args.data
    frame = read_csv(source)
    date_column = find_date_column(frame, args.date_column, source)
    features = [name for item in args.features or [] for name in item.split(",") if name]
    columns, note = choose_features(frame, args.target, features, date_column, source)
    check_numeric(frame, columns, source)
    calendar = []
    if date_column is not None:
        frame = parse_dates(frame, date_column, source)
        calendar = [] if args.no_calendar else default_calendar(frame[date_column])
    _check_folder(args.out)
    spec = WindowSpec(args.target, columns, args.lookback, args.horizon, date_column, calendar)
    prepared = _prepare(frame, spec, args.val_fraction, args.test_fraction, source)
    if note:  # after the checks, so that a bad file gives exactly one line
        _note(note)
    _describe(prepared, source)
    model, history = train(
        prepared, units=args.units, epochs=args.epochs, batch_size=args.batch_size, patience=args.patience,
        learning_rate=args.learning_rate, backend=args.backend, seed=args.seed, verbose=args.verbose,
    )
    metadata = spec.to_metadata()
    metadata["training"] = {"data": Path(source).name, "epochs_run": len(history.history.get("loss", []))}
    if prepared.test is not None:
        scores = model_scores(spec, model, prepared.test.x, prepared.test.y)
        metadata["training"]["test_scores"] = {name: values["rmse"] for name, values in scores.items()}
        print(f"held-out test windows ({len(prepared.test.x)}, the last {args.test_fraction:.0%} of the rows):")
        _print_scores(scores, spec.horizon)
    try:
        model.save(args.out, metadata=metadata)
    except OSError as error:
        raise CLIError(f"{args.out}: cannot write the model: {one_line(error)}") from None
    print(f"saved {args.out}")
    return 0


def run_predict(args) -> int:
    model, spec = load_forecaster(args.model)
    frame = load_table(args.data, spec.target, spec.columns, spec.date_column)
    if len(frame) < spec.lookback:
        raise CLIError(f"{args.data}: too few rows: the model looks back {spec.lookback} rows, the file has {len(frame)}")
    x = spec.input_windows(spec.scale(spec.matrix(frame)))
    if args.last is not None:
        x = x[-args.last:]
    forecasts = spec.to_units(model.predict(x))
    # The origin is the last observed row of each window: its date, or its 1-based data row.
    last_rows = np.arange(len(frame) - len(x), len(frame))
    origins = frame[spec.date_column].iloc[last_rows].to_numpy() if spec.date_column else last_rows + 1
    pd = require_pandas()
    table = pd.DataFrame({"origin": origins})
    for step in range(spec.horizon):
        table[f"{spec.target}+{step + 1}"] = forecasts[:, step]
    if args.out is None:
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
        return 0
    try:
        table.to_csv(args.out, index=False, float_format="%.6g")
    except OSError as error:
        raise CLIError(f"{args.out}: cannot write the forecasts: {one_line(error)}") from None
    _note(f"wrote {len(table)} forecast(s) of {spec.target} to {args.out}")
    return 0


def run_evaluate(args) -> int:
    model, spec = load_forecaster(args.model)
    frame = load_table(args.data, spec.target, spec.columns, spec.date_column)
    need = spec.lookback + spec.horizon
    if len(frame) < need:
        raise CLIError(f"{args.data}: too few rows: lookback {spec.lookback} plus horizon {spec.horizon} "
                       f"needs {need}, the file has {len(frame)}")
    x, y = spec.windows(spec.scale(spec.matrix(frame)))
    print(f"{args.data}: {len(x)} windows, {spec.target} {spec.horizon} step(s) ahead from the past {spec.lookback} rows")
    _print_scores(model_scores(spec, model, x, y), spec.horizon)
    return 0


def run_demo(args) -> int:
    from ..datasets import load_seattle_weather
    from ._plot import plot_forecast, require_matplotlib

    if args.plot:
        require_matplotlib()
        _check_folder(args.plot)
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
    test = prepared.test
    scores = model_scores(spec, model, test.x, test.y)
    first, last = table.dates[test.target_rows[0]], table.dates[test.target_rows[-1]]
    print(f"test period {first} .. {last} ({len(test.x)} days), never seen in training:")
    _print_scores(scores, spec.horizon, unit="°C")
    if args.plot:
        plot_forecast(
            args.plot, table.dates[test.target_rows], spec.to_units(test.y)[:, 0],
            {f"LSTM (RMSE {scores['model']['rmse']:.2f})": spec.to_units(model.predict(test.x))[:, 0],
             f"persistence (RMSE {scores['persistence']['rmse']:.2f})": spec.persistence(test.x)[:, 0]},
            title="Seattle next-day maximum temperature (test period)", unit="°C",
        )
        print(f"saved the plot to {args.plot}")
    return 0
