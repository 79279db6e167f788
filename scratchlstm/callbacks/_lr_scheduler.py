"""``LearningRateScheduler`` with Keras 3 semantics."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._base import Callback
from ._monitor import print_message
from ._reduce_lr import current_learning_rate


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from ``schedule`` (Keras 3).

    Args:
        schedule: ``schedule(epoch, lr) -> new_lr`` with ``epoch`` counted from 0 and ``lr`` the
            current rate (a float). As in Keras, a ``schedule(epoch)`` that raises TypeError
            when given two arguments is called with the epoch alone. It must return a float
            (a Python or NumPy float; an int raises ValueError, as in Keras).
        verbose: 1 prints the rate set at each epoch.

    The rate is set in ``on_epoch_begin``, so the whole epoch trains with it (on both
    backends), and ``on_epoch_end`` logs it as ``"learning_rate"``, as Keras does. An optimizer
    built with a schedule cannot be given a float rate (TypeError, as Keras).

    Examples:
        >>> import numpy as np
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)], seed=0)
        >>> model.compile(keras.optimizers.SGD(0.1), "mse")
        >>> halve = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
        >>> x = np.linspace(-1, 1, 16).reshape(-1, 1)
        >>> model.fit(x, 2 * x, epochs=3, verbose=0, callbacks=[halve]).history["learning_rate"]
        [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                "Argument `schedule` must be a function schedule(epoch, lr) -> lr. "
                f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer: Any, epoch: int) -> float:
        learning_rate = current_learning_rate(optimizer)
        try:  # the two-argument form
            learning_rate = self.schedule(epoch, learning_rate)
        except TypeError:  # the one-argument form, as Keras keeps supporting
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate!r} "
                f"of type {type(learning_rate).__name__}"
            )
        optimizer.learning_rate = float(learning_rate)
        return learning_rate

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        learning_rate = self._update_optimizer_lr(self.model.optimizer, epoch)
        if self.verbose > 0:
            print_message(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)
