"""``MonitorCallback``: the "is this epoch better?" logic Keras 3 shares between `ModelCheckpoint`
and `ReduceLROnPlateau` (``keras/src/callbacks/monitor_callback.py``), and argument checks the
callbacks share.

Keras 3's rules, kept exactly:

- ``mode="min"`` compares with ``<``, ``"max"`` with ``>``; an unknown mode warns and falls back
  to ``"auto"``.
- ``mode="auto"`` decides on the first ``on_epoch_end`` (here already at ``on_train_begin``,
  when the model's metrics are known): ``"loss"`` and ``"val_loss"`` are minimised; a metric
  the model was compiled with follows the metric's direction (accuracy, AUC, precision, recall
  ... up; errors and losses down); for any other name it raises ValueError, even when the
  callback would not need the comparison. One deliberate difference: a per-output name of a
  multi-output model (``"out_loss"``, ``"val_out_mae"``) is resolved here, where Keras 3.15
  cannot find it and raises.
- ``min_delta`` is taken as ``abs(min_delta)`` and, once the direction is known to be "min",
  negated: an improvement is ``monitor_op(current - min_delta, best)``.
- ``best`` starts at the baseline (``None`` unless given); anything improves on ``None``.
"""

from __future__ import annotations

import operator
import os
import sys
import warnings
from numbers import Real
from typing import Any, Callable, Literal, overload

import numpy as np

from ._base import Callback

MODES = ("auto", "min", "max")

# Keras' metric directions (a metric's ``_direction``), by our canonical metric names.
_UP_NAMES = {
    "auc", "precision", "recall", "r2_score", "f1_score", "fbeta_score", "cosine_similarity",
    "true_positives", "true_negatives", "precision_at_recall", "recall_at_precision",
    "sensitivity_at_specificity", "specificity_at_sensitivity", "iou", "mean_iou",
    "binary_iou", "one_hot_iou", "one_hot_mean_iou",
}
_DOWN_NAMES = {
    "mean_absolute_error", "mean_squared_error", "root_mean_squared_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "false_positives",
    "false_negatives", "hinge", "squared_hinge", "categorical_hinge", "huber", "log_cosh",
    "logcosh", "kl_divergence", "poisson",
}


def metric_direction(canonical: str) -> str | None:
    """``"max"``, ``"min"`` or ``None`` (unknown) for a canonical metric name."""
    base = str(canonical).partition("@")[0]
    if base.endswith("accuracy") or base in _UP_NAMES:
        return "max"
    if base in _DOWN_NAMES or base.endswith(("crossentropy", "_error", "_loss")):
        return "min"
    return None


def monitor_direction(model: Any, monitor: str) -> str | None:
    """The direction ``mode="auto"`` picks for ``monitor``, or ``None`` where Keras cannot tell."""
    name = monitor[len("val_"):] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "min"
    compiled = getattr(model, "compiled", None)
    if compiled is None:
        return None
    for entry in compiled.metrics:
        if entry.log_name == name:
            return metric_direction(entry.canonical)
    if name in {log_name for _, log_name in compiled.loss_log_names()}:
        return "min"
    return None


def check_string(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(
            f"Argument `{name}` must be a string. Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"Argument `{name}` must be an integer >= 0. Received: {name}={value!r}")
    return int(value)


@overload
def check_number(name: str, value: object, low: float | None = None, allow_none: Literal[False] = False) -> float: ...
@overload
def check_number(name: str, value: object, low: float | None = None, allow_none: bool = False) -> float | None: ...
def check_number(name: str, value: object, low: float | None = None, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(float(value)):
        raise ValueError(f"Argument `{name}` must be a finite number. Received: {name}={value!r}")
    if low is not None and value < low:
        raise ValueError(f"Argument `{name}` must be >= {low}. Received: {name}={value!r}")
    return float(value)


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Argument `{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_path(name: str, value: object) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"Argument `{name}` must be a non-empty string or path. Received: {name}={value!r}")
    return value


def check_save_freq(owner: str, save_freq: object) -> str:
    """``"epoch"``, or NotImplementedError for a batch count (see the module docstrings)."""
    if save_freq == "epoch" and isinstance(save_freq, str):
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer)):
        raise ValueError(
            f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or integer values"
        )
    raise NotImplementedError(
        f"{owner}(save_freq={save_freq}) (saving every {save_freq} batches) is not implemented: during "
        "an epoch the weights live in the training backend and reach the model only at the end of the "
        "epoch, so a save between batches would write stale weights. Use save_freq='epoch'."
    )


def print_message(message: str) -> None:
    """Keras' ``io_utils.print_msg``: to stdout, looked up at write time."""
    stream = sys.stdout
    stream.write(message + "\n")
    stream.flush()


class MonitorCallback(Callback):
    """Base of the callbacks that watch a logged quantity (Keras 3's ``MonitorCallback``).

    Args:
        monitor: key of the epoch logs to watch.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see the module docstring).
        baseline: the initial ``best`` (``None``: the first value is an improvement).
        min_delta: how much better than ``best`` a value must be to count as an improvement.

    Attributes: ``monitor``, ``mode``, ``best``, ``min_delta`` (signed once the direction is
    known), ``monitor_op`` (``operator.lt`` or ``operator.gt``; ``None`` until set).

    Examples:
        >>> class KeepBest(MonitorCallback):   # subclasses use _set_monitor_op and _is_improvement, as Keras'
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         self._set_monitor_op()
        ...         if self._is_improvement(logs[self.monitor], self.best):
        ...             self.best = logs[self.monitor]
        ...             print(f"epoch {epoch}: best {self.monitor} {self.best}")
        >>> keep = KeepBest(monitor="loss", mode="min", min_delta=0.1)
        >>> for epoch, loss in enumerate([1.0, 0.95, 0.5]):   # 0.95 is not better by more than 0.1
        ...     keep.on_epoch_end(epoch, {"loss": loss})
        epoch 0: best loss 1.0
        epoch 2: best loss 0.5
    """

    _baseline_name = "baseline"  # the argument's name in the subclass, for error messages

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0) -> None:
        super().__init__()
        self.monitor = check_string("monitor", monitor)
        if mode not in MODES:
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.", stacklevel=3)
            mode = "auto"
        self.mode = mode
        self.best = check_number(self._baseline_name, baseline, allow_none=True)
        self.min_delta = abs(check_number("min_delta", min_delta))
        self.monitor_op: Callable[[Any, Any], Any] | None = None

    def _set_monitor_op(self) -> None:
        direction = self.mode if self.mode != "auto" else monitor_direction(self.model, self.monitor)
        if direction is None:
            compiled = getattr(self.model, "compiled", None)
            metrics = [entry.log_name for entry in compiled.metrics] if compiled is not None else []
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but it is not able to "
                "automatically determine whether that metric should be maximized or minimized (the "
                f"model logs `loss` and its compiled metrics {metrics}). Pass `mode='max'` in order to "
                "monitor based on the highest metric value, or pass `mode='min'` in order to use the "
                "lowest value."
            )
        self.monitor_op = operator.lt if direction == "min" else operator.gt
        if direction == "min":
            self.min_delta = -abs(self.min_delta)

    def _is_improvement(self, monitor_value: Any, reference_value: Any) -> bool:
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))  # type: ignore[misc]  # set by _set_monitor_op first, as in Keras
