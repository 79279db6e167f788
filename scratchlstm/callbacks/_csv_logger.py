"""``CSVLogger`` with Keras 3 semantics (the same file, byte for byte, for the same logs)."""

from __future__ import annotations

import collections.abc
import csv
import os
from typing import IO, Any

import numpy as np

from ._base import Callback
from ._monitor import check_bool, check_path


def _python_value(value: Any) -> Any:
    """Keras' ``pythonify_logs``: ``float(value)`` where that works (0-d arrays, NumPy scalars)."""
    if isinstance(value, (str, bytes)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _cell(value: Any) -> Any:
    """Keras' ``handle_value``: a list-like becomes ``"[a, b]"``, anything else as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Write one CSV row per epoch (Keras 3's ``CSVLogger``).

    Args:
        filename: the CSV file.
        separator: the one-character field separator (default ``","``).
        append: add to an existing file instead of overwriting it; the header is written only
            if the file is missing or empty.

    Columns, as in Keras: ``epoch`` (counted from 0), then the keys of the first epoch's logs
    in sorted order; if none of them starts with ``val_``, a ``val_<key>`` column is added for
    each key (filled with ``NA``, as is any key missing from a later epoch). Rows end in
    ``\\r\\n`` (the ``csv`` module's Excel dialect), values are written as Python floats.
    The file is flushed after each row and closed at ``on_train_end``.

    Examples:
        >>> import numpy as np, os, tempfile
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)], seed=0)
        >>> model.compile("sgd", "mse", metrics=["mae"])
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> x = np.linspace(-1, 1, 16).reshape(-1, 1)
        >>> _ = model.fit(x, 2 * x, epochs=2, verbose=0, callbacks=[keras.callbacks.CSVLogger(path)])
        >>> with open(path, newline="") as f:
        ...     print(f.readline().strip())
        epoch,loss,mae,val_loss,val_mae
    """

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"Argument `separator` must be a one-character string. Received: separator={separator!r}")
        self.sep = separator
        self.filename = check_path("filename", filename)
        self.append = check_bool("append", append)
        self.writer: csv.DictWriter[str] | None = None
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file: IO[str] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as existing:
                    self.append_header = not bool(len(existing.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode)
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = {key: _python_value(value) for key, value in (logs or {}).items()}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys.extend([f"val_{key}" for key in self.keys])
        if not self.writer:

            class Dialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + (self.keys or []), dialect=Dialect)  # type: ignore[arg-type]  # opened by on_train_begin, which fit calls first
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()  # type: ignore[union-attr]  # opened by on_train_begin, which fit calls first

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
