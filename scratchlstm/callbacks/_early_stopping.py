"""``EarlyStopping`` with Keras 3 semantics."""

from __future__ import annotations

import sys
import warnings
from numbers import Real
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import NDArray

from ._base import Callback

_MAXIMISED_SUFFIXES = ("acc", "accuracy", "auc")


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"Argument `{name}` must be an integer >= 0. Received: {name}={value!r}")
    return int(value)


@overload
def _check_real(name: str, value: object, allow_none: Literal[False] = False) -> float: ...
@overload
def _check_real(name: str, value: object, allow_none: bool = False) -> float | None: ...
def _check_real(name: str, value: object, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(float(value)):
        raise ValueError(f"Argument `{name}` must be a finite number. Received: {name}={value!r}")
    return float(value)


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras 3 semantics).

    Args:
        monitor: key of the epoch logs to watch. Default ``"val_loss"``.
        min_delta: an improvement must beat the best value by more than ``|min_delta|``.
        patience: epochs without improvement after which training stops. Default 0.
        verbose: 1 prints a line when training stops and when weights are restored.
        mode: ``"min"``, ``"max"`` or ``"auto"``. ``"auto"`` maximises monitors ending in
            ``acc``, ``accuracy`` or ``auc`` and minimises everything else (losses and error
            metrics such as ``mae``). Keras 3 raises instead for a name it cannot place; an
            unknown ``mode`` warns and falls back to ``"auto"`` as in Keras.
        baseline: if set, only epochs that also beat the baseline reset ``wait``; so once
            ``patience`` epochs have gone by without beating it, the first epoch that does not
            improve on the best stops training.
        restore_best_weights: keep a copy of the weights of the best epoch and put them back
            into the model at the end of training.
        start_from_epoch: epochs to ignore at the start (warm-up): nothing is tracked before it.

    Each epoch (from ``start_from_epoch`` on), with ``current = logs[monitor]``:

        wait += 1
        improved = current - min_delta < best        (mode min; "> best" with +min_delta for max)
        if improved: best, best_epoch = current, epoch; save weights if restoring;
                     wait = 0 if baseline is None or current also improves on baseline
        elif wait >= patience and epoch > 0: stopped_epoch = epoch; model.stop_training = True

    What happens to the weights, as in Keras 3 (>= 3.4): with ``restore_best_weights=True`` the
    best epoch's weights are restored in ``on_train_end`` whether training stopped early or ran
    out of epochs. If no epoch ever improved (e.g. the monitored value was NaN), the weights of
    the first monitored epoch count as the best.

    When ``monitor`` is missing from the logs, a warning names the available keys and the epoch
    is skipped.

    Attributes: ``wait``, ``stopped_epoch`` (0 if training was not stopped), ``best``,
    ``best_epoch``, ``best_weights`` (a copied list of arrays or ``None``). All are reset in
    ``on_train_begin``, so one instance can be reused across ``fit`` calls.

    Examples:
        >>> from types import SimpleNamespace
        >>> stop = EarlyStopping(monitor="loss", patience=1, mode="min")
        >>> stop.set_model(SimpleNamespace(stop_training=False))   # fit passes the model
        >>> stop.on_train_begin()
        >>> for epoch, loss in enumerate([1.0, 0.5, 0.6]):   # epoch 2 does not improve on 0.5
        ...     stop.on_epoch_end(epoch, {"loss": loss})
        >>> stop.best, stop.best_epoch, stop.stopped_epoch, stop.model.stop_training
        (0.5, 1, 2, True)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0) -> None:
        super().__init__()
        if not isinstance(monitor, str):
            raise ValueError(f"Argument `monitor` must be a string. Received: monitor={monitor!r}")
        self.monitor = monitor
        self.patience = _check_count("patience", patience)
        self.verbose = verbose
        self.baseline = _check_real("baseline", baseline, allow_none=True)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = _check_count("start_from_epoch", start_from_epoch)
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"EarlyStopping mode {mode!r} is unknown, falling back to 'auto'. "
                "Expected one of 'auto', 'min', 'max'.",
                stacklevel=2,
            )
            mode = "auto"
        if mode == "auto":
            name = monitor[len("val_"):] if monitor.startswith("val_") else monitor
            mode = "max" if name.endswith(_MAXIMISED_SUFFIXES) else "min"
        self.mode = mode
        # Signed so that "current - min_delta" must still beat the best value.
        delta = abs(_check_real("min_delta", min_delta))
        self.min_delta = delta if mode == "max" else -delta
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = -float("inf") if self.mode == "max" else float("inf")
        self.best_epoch = 0
        self.best_weights: list[NDArray[Any]] | None = None

    def _is_improvement(self, value: float, reference: float) -> bool:
        shifted = value - self.min_delta
        return shifted > reference if self.mode == "max" else shifted < reference

    def _copy_weights(self) -> list[NDArray[Any]]:
        return [np.array(w, copy=True) for w in self.model.get_weights()]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Nothing saved yet: the current weights are the best known so far.
            self.best_weights = self._copy_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._copy_weights()
            # Reset the patience only when the baseline is beaten too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            self._print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                best = self.best_epoch + 1
                self._print(f"Restoring model weights from the end of the best epoch: {best}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: dict[str, Any] | None) -> float | None:
        """``float(logs[monitor])``, or ``None`` after warning when the key is missing."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs.keys())}",
                stacklevel=2,
            )
            return None
        return float(value)

    @staticmethod
    def _print(message: str) -> None:
        stream = sys.stdout
        stream.write(message + "\n")
        stream.flush()
