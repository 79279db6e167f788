"""The ``scratchlstm`` command line: fit, predict and evaluate a forecaster on a CSV file, or
run the demo on the bundled Seattle weather data.

    scratchlstm demo
    scratchlstm fit data.csv --target temp_max --out model.npz
    scratchlstm predict model.npz data.csv --out forecasts.csv
    scratchlstm evaluate model.npz data.csv

``main(argv)`` returns the exit status: 0 on success, 2 for a problem with the input (one line
on stderr, no traceback; usage errors too), 130 when interrupted, 141 when the output pipe closes.
Every check of the options, the files and the model's settings runs before any training or
writing starts.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Sequence
from typing import NoReturn

from ._errors import CLIError

DESCRIPTION = """\
Train an LSTM forecaster on a CSV time series (rows in time order), save it, and use it.

The model sees the past LOOKBACK rows of the input columns (plus sin/cos day-of-year
features when the file has a date column) and forecasts the next HORIZON values of the
target. The scaler is fitted on the earliest rows only (chronological split), and the
model file keeps it with the window settings, so predict and evaluate need no flags."""

EPILOG = """\
examples:
  scratchlstm demo --plot forecast.png
  scratchlstm fit weather.csv --target temp_max --lookback 14 --horizon 7 --out model.npz
  scratchlstm fit weather.csv --target temp_max --features temp_min,wind --plot test.png
  scratchlstm predict model.npz weather.csv --last 1
  scratchlstm evaluate model.npz weather_2016.csv --plot evaluation.png

'scratchlstm COMMAND --help' describes each command."""


SEED_MAX = 2**32 - 1  # what both backends' random generators take


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``PROG: error: MESSAGE (see 'PROG --help')``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):  # inf, nan and 1e400 (which parses as inf)
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {value}")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number in [0, {SEED_MAX}], got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"expected a whole number in [0, {SEED_MAX}], got {value}")
    return value


def column_list(text: str) -> list[str]:
    """``--features wind,rain``: one comma-separated value, so it never swallows the file name."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected one or more column names separated by commas, got {text!r}")
    return names


def _add_plot_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--plot", metavar="PNG", help=f"save a figure of {what} (needs the plot extra: matplotlib)")


def _add_training_options(parser: argparse.ArgumentParser, epochs: int) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=positive_int, default=epochs, metavar="E",
                       help="most passes over the training windows; early stopping usually ends sooner "
                            "(default: %(default)s)")
    group.add_argument("--patience", type=positive_int, default=10, metavar="P",
                       help="epochs without a better validation loss before stopping; the best "
                            "epoch's weights are kept (default: %(default)s)")
    group.add_argument("--backend", choices=("numpy", "jax"), default="numpy",
                       help="numpy (the reference) or jax (jit-compiled; needs the jax extra) "
                            "(default: %(default)s)")
    group.add_argument("--seed", type=seed_int, default=0, metavar="S",
                       help="seed for weights and shuffling, 0 .. 2**32-1 (default: %(default)s)")
    group.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2,
                       help="0 silent, 1 a progress bar per epoch, 2 one line per epoch (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scratchlstm", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"scratchlstm {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = commands.add_parser(
        "fit", help="train a forecaster on a CSV file and save it",
        description="Train LSTM(units) -> Dense(horizon) on DATA and save it with its scaler and window "
                    "settings. The rows are split in time order into train, validation (early stopping) "
                    "and test parts; the test scores are printed next to the persistence and "
                    "climatology baselines.",
    )
    fit.add_argument("data", help="CSV file with a header line, rows in time order")
    fit.add_argument("--target", required=True, help="the column to forecast")
    fit.add_argument("--features", type=column_list, action="append", metavar="A,B",
                     help="input columns, comma separated (or the option repeated); default: every numeric "
                          "column with a name. The target's history is always an input")
    fit.add_argument("--date-column", metavar="COLUMN",
                     help="column with the timestamps; default: a non-numeric column named date/time/"
                          "timestamp, or whose values all parse as dates")
    fit.add_argument("--no-calendar", action="store_true",
                     help="do not add the sin/cos day-of-year (and hour-of-day) features")
    fit.add_argument("--lookback", type=positive_int, default=14, metavar="N", help="past rows per window (default: %(default)s)")
    fit.add_argument("--horizon", type=positive_int, default=1, metavar="K", help="future steps to forecast (default: %(default)s)")
    fit.add_argument("--units", type=positive_int, default=32, metavar="U", help="LSTM units (default: %(default)s)")
    fit.add_argument("--batch-size", type=positive_int, default=32, metavar="B",
                     help="windows per gradient step (default: %(default)s)")
    fit.add_argument("--learning-rate", type=positive_float, default=1e-3, metavar="LR",
                     help="Adam's learning rate (default: %(default)s)")
    fit.add_argument("--val-fraction", type=fraction, default=0.15, metavar="F",
                     help="share of rows for validation; 0 trains all epochs without early stopping "
                          "(default: %(default)s)")
    fit.add_argument("--test-fraction", type=fraction, default=0.15, metavar="F",
                     help="share of the latest rows held out and scored after training (default: %(default)s)")
    fit.add_argument("--out", default="model.npz", metavar="PATH", help="where to save the model (default: %(default)s)")
    _add_plot_option(fit, "the step-1 forecasts against the actual values over the held-out test rows")
    _add_training_options(fit, epochs=100)
    fit.set_defaults(run="run_fit")

    predict = commands.add_parser(
        "predict", help="forecast with a saved model",
        description="Forecast from every window of LOOKBACK rows in DATA, the last one included (the "
                    "forecast past the end of the file). Output: a tidy CSV, one row per window and step: "
                    "'origin' (the date, or the 1-based data row, of the window's last observed row), "
                    "'date' (the date forecast for; 'row' without dates), 'step' (1 .. HORIZON) and the "
                    "forecast in the target's units, all numbers with the same number of decimals. "
                    "Everything else comes from the model file.",
    )
    predict.add_argument("model", help="a .npz file saved by 'scratchlstm fit'")
    predict.add_argument("data", help="CSV file with the columns the model was trained on")
    predict.add_argument("--out", metavar="PATH", help="write the forecasts to this CSV file (default: print them)")
    predict.add_argument("--last", type=positive_int, metavar="N", help="only the forecasts of the last N windows")
    _add_plot_option(predict, "the target's history, the step-1 forecasts and the last window's forecast")
    predict.set_defaults(run="run_predict")

    evaluate = commands.add_parser(
        "evaluate", help="score a saved model against the persistence baseline",
        description="Print RMSE and MAE of the model on every window of DATA, beside the persistence "
                    "forecast (the last observed target value, repeated) and climatology (the training "
                    "mean) on the same windows. Evaluate on rows the model was not trained on.",
    )
    evaluate.add_argument("model", help="a .npz file saved by 'scratchlstm fit'")
    evaluate.add_argument("data", help="CSV file with the columns the model was trained on")
    _add_plot_option(evaluate, "the step-1 forecasts and persistence against the actual values")
    evaluate.set_defaults(run="run_evaluate")

    demo = commands.add_parser(
        "demo", help="train on the bundled Seattle weather data and compare with the baselines",
        description="Forecast tomorrow's maximum temperature in Seattle from the past 14 days of "
                    "weather and the day of year; print the test RMSE beside persistence and "
                    "climatology. Runs in seconds with the defaults.",
    )
    _add_plot_option(demo, "forecast vs actual over the test period")
    _add_training_options(demo, epochs=60)
    demo.set_defaults(run="run_demo")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:  # reported by the subcommand's parser, so the message names the command
            hint = (" (--features takes one comma-separated list, e.g. --features wind,rain)"
                    if args.command == "fit" and "--features" in argv else "")
            _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extras)}{hint}")
    except SystemExit as exit_:  # --help, --version, or a usage error argparse has printed
        code = exit_.code
        return 0 if code is None else code if isinstance(code, int) else 2
    from . import _commands
    from ._files import GuardedStdout, silence_stdout

    try:
        with contextlib.redirect_stdout(GuardedStdout(sys.stdout)):
            status: int = getattr(_commands, args.run)(args)
            sys.stdout.flush()  # a full disk shows here, as one line, not in Python's exit-time flush
        return status
    except CLIError as error:
        print(f"scratchlstm {args.command}: error: {printable(str(error))}", file=sys.stderr)
        return 2
    except MemoryError as error:  # a last line of defence; the sizes are estimated before training
        detail = f" ({one_line(error)})" if str(error) else ""
        print(f"scratchlstm {args.command}: error: out of memory{detail}; try fewer --units, a shorter "
              "--lookback or a smaller --batch-size", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"scratchlstm {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `scratchlstm predict ... | head`: the reader has gone
        silence_stdout()
        return 141


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of ``command`` (for its one-line error)."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    subparser: argparse.ArgumentParser = action.choices[command]
    return subparser


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def printable(text: str) -> str:
    """``text`` with line breaks and other control characters escaped (``\\n``): messages quote
    paths and column names as the user wrote them, and a name with a newline must neither break
    the one-line error nor move the terminal's cursor."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)
