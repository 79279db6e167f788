"""``History``: the record of a training run that ``fit`` returns."""

from __future__ import annotations

from typing import Any

from ._base import Callback


def to_python_number(value: Any) -> Any:
    """``float(value)`` for numbers and 0-d arrays; anything else is kept as it is."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


class History(Callback):
    """Records the epoch logs of a training run.

    Attributes:
        history: dict of lists, one entry per epoch for each key of the epoch logs, e.g.
            ``{"loss": [...], "mae": [...], "val_loss": [...]}``; values are Python floats.
        epoch: the epoch indices (from 0) that were recorded.

    Both are reset at ``on_train_begin`` (Keras resets only ``epoch``; resetting both keeps them
    the same length when one ``History`` is used for several ``fit`` calls). As in Keras, the
    model's ``history`` attribute is set to this object after each epoch.

    Examples:
        >>> import numpy as np
        >>> history = History()
        >>> history.on_train_begin()
        >>> for epoch, loss in enumerate([0.5, 0.25]):
        ...     history.on_epoch_end(epoch, {"loss": np.float32(loss)})
        >>> history.history, history.epoch   # Python floats
        ({'loss': [0.5, 0.25]}, [0, 1])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(int(epoch))
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(to_python_number(value))
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:  # a model object that refuses new attributes
                pass
