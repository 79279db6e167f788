"""``ReduceLROnPlateau`` with Keras 3 semantics."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._monitor import MonitorCallback, check_count, check_number, print_message


def current_learning_rate(optimizer: Any) -> float:
    """``float(optimizer.learning_rate)`` (a schedule's value at the current step)."""
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute: compile the model first.')
    return float(optimizer.learning_rate)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras 3).

    Args:
        monitor: the log key to watch (default ``"val_loss"``).
        factor: ``new_lr = max(lr * factor, min_lr)``; must be below 1 (ValueError otherwise,
            as Keras) and at least 0.
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints a line at each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"``; see `MonitorCallback`.
        min_delta: an improvement must beat the best value by more than this (default 1e-4).
        cooldown: epochs to wait after a reduction before counting epochs without improvement.
        min_lr: the lowest learning rate.

    At each ``on_epoch_end`` (Keras 3.15, in this order):

        logs["learning_rate"] = lr          # the rate this epoch trained with; History keeps it
        if monitor not in logs: warn, stop here
        if cooldown_counter > 0: cooldown_counter -= 1; wait = 0
        if current improves on best (anything improves on None): best = current; wait = 0
        elif cooldown_counter == 0:
            wait += 1
            if wait >= patience and float32(lr) > float32(min_lr):
                lr = max(lr * factor, min_lr); cooldown_counter = cooldown; wait = 0

    The new rate applies from the next training step, on both backends. Keras keeps the rate
    in a float32 variable, so its ``lr`` is the float32 rounding of ours and the ``min_lr``
    test is made in float32 here too; our rate itself stays a Python float. ``best``,
    ``wait`` and ``cooldown_counter`` are reset at ``on_train_begin``. An optimizer built with
    a schedule cannot be reduced (TypeError, as Keras).

    Examples:
        >>> import numpy as np
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)], seed=0)
        >>> model.compile(keras.optimizers.SGD(0.1), "mse")
        >>> reduce = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
        ...                                           min_delta=10.0)  # only the first epoch "improves"
        >>> x = np.linspace(-1, 1, 16).reshape(-1, 1)
        >>> history = model.fit(x, 2 * x, epochs=3, verbose=0, callbacks=[reduce])
        >>> history.history["learning_rate"], model.optimizer.learning_rate
        ([0.1, 0.1, 0.05], 0.025)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        factor = check_number("factor", factor)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor = check_number("factor", factor, low=0.0)
        self.min_lr = check_number("min_lr", min_lr, low=0.0)
        if self.factor == 0.0 and self.min_lr == 0.0:
            raise ValueError(
                "ReduceLROnPlateau with factor=0 and min_lr=0 would set the learning rate to 0, and a "
                "learning rate must be > 0 here. Received factor=0.0, min_lr=0.0"
            )
        self.patience = check_count("patience", patience)
        self.verbose = verbose
        self.cooldown = check_count("cooldown", cooldown)
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()
        if self.monitor_op is None:  # fail before the first epoch rather than after it
            self._set_monitor_op()

    def _reduce_optimizer_lr(self, optimizer: Any, epoch: int) -> bool:
        old_lr = current_learning_rate(optimizer)
        if np.float32(old_lr) > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                print_message(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
            return True
        return False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = {} if logs is None else logs
        logs["learning_rate"] = current_learning_rate(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs.keys())}.",
                stacklevel=2,
            )
            return
        current = float(current)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_optimizer_lr(self.model.optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0
