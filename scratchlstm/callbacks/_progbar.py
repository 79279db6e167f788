"""``ProgbarLogger``: the progress output of ``fit``.

Rendering rules, chosen so that logging costs nothing measurable per step:

- Batch logs are only *referenced* per step. Their values may be 0-d arrays on an accelerator,
  and ``float()`` on one waits for the device, so values are converted only when a line is
  actually rendered.
- In-place updates (``'\\r'``) are used when the stream is a terminal or we run inside a
  Jupyter/IPython kernel, at most once every ``0.1`` s, plus the first and last step.
- Anywhere else (a CI log, a pipe, a file) only the final line of each epoch is printed, so the
  log stays clean and batch values are never converted.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from ._base import Callback

BAR_WIDTH = 30
RENDER_INTERVAL_S = 0.1


def _now() -> float:
    return time.monotonic()


def _is_interactive(stream: object) -> bool:
    """True for a terminal or a Jupyter/IPython kernel, where '\\r' rewrites the line."""
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):  # e.g. a closed stream
        return False


def format_duration(seconds: float) -> str:
    """``0.8s``, ``12.3s``, ``2m05s``, ``1h02m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        minutes, rest = divmod(int(round(seconds)), 60)
        return f"{minutes}m{rest:02d}s"
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours}h{rest // 60:02d}m"


def format_time_per_step(seconds: float) -> str:
    """``1.2s/step``, ``20ms/step``, ``350us/step``."""
    if seconds >= 1:
        return f"{seconds:.1f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_value(value: Any) -> str:
    """Keras' number format: 4 decimals, or scientific notation for tiny magnitudes."""
    try:
        number = float(value)  # the only place a logged value is converted
    except (TypeError, ValueError):
        return str(value)
    if math.isfinite(number) and 0 < abs(number) <= 1e-3:
        return f"{number:.4e}"
    return f"{number:.4f}"


def format_logs(logs: dict[str, Any] | None) -> str:
    return "".join(f" - {key}: {format_value(value)}" for key, value in (logs or {}).items())


def format_bar(current: int, target: int | None) -> str:
    """``12/40 [=======>......................]``; ``12/Unknown`` when the target is unknown."""
    if not target:
        return f"{current}/Unknown"
    width = len(str(target))
    filled = int(BAR_WIDTH * min(current, target) / target)
    if current >= target:
        bar = "=" * BAR_WIDTH
    else:
        bar = "=" * max(filled - 1, 0) + ">" + "." * (BAR_WIDTH - max(filled, 1))
    return f"{current:>{width}}/{target} [{bar}]"


class ProgbarLogger(Callback):
    """Prints training progress; ``fit`` adds one when ``verbose > 0``.

    ``verbose=1``: an ``Epoch 3/10`` line, then a progress bar for the epoch, e.g.:

        Epoch 3/10
        40/40 [==============================] - 0.8s 20ms/step - loss: 0.1234 - mae: 0.2345

    updated in place (with ETA) on a terminal or in Jupyter; elsewhere only that final line is
    printed per epoch. ``verbose=2``: one line per epoch:

        Epoch 3/10 - 1.2s - loss: 0.1234 - mae: 0.2345 - val_loss: 0.1300

    The values shown are those in the logs (``fit`` passes running means in batch logs and the
    epoch results, validation included, at the end of the epoch).

    Args:
        verbose: 0, 1, 2 or ``"auto"`` (= 1); ``None`` (default) takes ``params["verbose"]``.
        stream: where to write; ``None`` (default) means ``sys.stdout`` looked up at each write,
            so redirections (e.g. pytest's capsys) are honoured.

    Examples:
        >>> import io
        >>> stream = io.StringIO()
        >>> progbar = ProgbarLogger(verbose=2, stream=stream)
        >>> progbar.set_params({"epochs": 2, "steps": 1, "verbose": 2})   # fit passes these
        >>> progbar.on_train_begin(); progbar.on_epoch_begin(0)
        >>> progbar.on_epoch_end(0, {"loss": 0.5, "mae": 0.25})
        >>> print(stream.getvalue().strip())  # doctest: +ELLIPSIS
        Epoch 1/2 - ...s - loss: 0.5000 - mae: 0.2500
    """

    def __init__(self, verbose: int | str | None = None, stream: TextIO | None = None) -> None:
        super().__init__()
        self._verbose_arg = verbose
        self._stream = stream
        self.verbose = 1 if verbose in (None, "auto") else int(verbose)
        self.epochs = 1
        self.target: int | None = None
        self._epoch_label = "Epoch 1/1"
        self._reset_epoch()

    def set_params(self, params: dict[str, Any] | None) -> None:
        super().set_params(params)
        verbose = self._verbose_arg
        if verbose is None:
            verbose = self.params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = self.params.get("epochs", 1) or 1
        self.target = self.params.get("steps")

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def _reset_epoch(self) -> None:
        self._seen = 0
        self._epoch_start = _now()
        self._last_render = -math.inf
        self._last_batch_logs: dict[str, Any] | None = None
        self._line_length = 0
        self._interactive = False

    def _write(self, text: str) -> None:
        stream = self.stream
        stream.write(text)
        stream.flush()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._reset_epoch()
        self._epoch_label = f"Epoch {epoch + 1}/{self.epochs}"
        if self.verbose == 1:
            self._interactive = _is_interactive(self.stream)
            self._write(self._epoch_label + "\n")

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._seen = batch + 1
        self._last_batch_logs = logs  # a reference only: no conversion here
        if self.verbose != 1 or not self._interactive:
            return
        now = _now()
        is_last = self.target is not None and self._seen >= self.target
        if is_last or now - self._last_render >= RENDER_INTERVAL_S:
            self._last_render = now
            self._render_in_place(self._progress_line(now), end="")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.verbose not in (1, 2):
            return
        elapsed = _now() - self._epoch_start
        logs = logs if logs else self._last_batch_logs
        if self.verbose == 2:
            self._write(f"{self._epoch_label} - {format_duration(elapsed)}{format_logs(logs)}\n")
            return
        steps = self._seen or (self.target or 0)
        per_step = format_time_per_step(elapsed / steps) if steps else ""
        line = f"{format_bar(steps, steps)} - {format_duration(elapsed)} {per_step}".rstrip()
        line += format_logs(logs)
        if self._interactive:
            self._render_in_place(line, end="\n")
        else:
            self._write(line + "\n")

    def _progress_line(self, now: float) -> str:
        elapsed = now - self._epoch_start
        if self.target:
            eta = elapsed / self._seen * max(self.target - self._seen, 0)
            timing = f"ETA: {format_duration(eta)}"
        else:
            timing = format_duration(elapsed)
        bar = format_bar(self._seen, self.target)
        return f"{bar} - {timing}{format_logs(self._last_batch_logs)}"

    def _render_in_place(self, line: str, end: str) -> None:
        # Pad with spaces so a shorter line fully covers the previous one.
        padding = " " * max(self._line_length - len(line), 0)
        self._line_length = len(line)
        self._write("\r" + line + padding + end)
