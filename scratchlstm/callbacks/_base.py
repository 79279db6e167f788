"""``Callback``, the hooks ``fit`` calls, and ``CallbackList``, which fans them out in order."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional


class Callback:
    """Base class of the callbacks: every hook is a no-op, override the ones you need.

    ``fit`` calls ``set_model(model)`` and ``set_params({"epochs", "steps", "verbose"})`` first,
    then ``on_train_begin``, for each epoch ``on_epoch_begin``, for each batch
    ``on_train_batch_begin`` / ``on_train_batch_end``, then ``on_epoch_end`` with the epoch's
    logs (``{"loss": ..., "val_loss": ..., metrics...}``), and finally ``on_train_end``.

    The model has a ``stop_training`` attribute (set it to True to stop after the current
    epoch), ``get_weights()`` and ``set_weights(list_of_arrays)``.

    Batch logs may hold 0-d arrays living on an accelerator; converting one to a Python float
    waits for the device, so a callback should do that only when it really needs the number.

    As in Keras, ``on_batch_begin`` / ``on_batch_end`` are aliases: the default
    ``on_train_batch_begin`` / ``on_train_batch_end`` call them, so overriding either works.

    Examples:
        >>> import numpy as np
        >>> import scratchlstm as keras
        >>> class StopAfterFirst(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         self.model.stop_training = True
        >>> model = keras.Sequential([keras.layers.Dense(1)], seed=0)
        >>> model.compile("sgd", "mse")
        >>> x = np.linspace(-1, 1, 8).reshape(-1, 1)
        >>> model.fit(x, 2 * x, epochs=5, verbose=0, callbacks=[StopAfterFirst()]).epoch
        [0]
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: Optional[dict[str, Any]]) -> None:
        self.params = dict(params or {})

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called once after the last epoch (also after an early stop)."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called at the start of epoch ``epoch`` (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Called at the end of epoch ``epoch`` with training and validation results."""

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Alias of ``on_train_batch_begin`` kept for Keras compatibility."""

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Alias of ``on_train_batch_end`` kept for Keras compatibility."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before training on batch ``batch`` (counted from 0 in each epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after training on batch ``batch``; ``logs`` holds the running loss/metrics."""
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called before evaluation (``evaluate`` or the validation pass of ``fit``)."""

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called after evaluation."""

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before an evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after an evaluation batch."""

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Called before ``predict``."""

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        """Called after ``predict``."""

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called before a prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Called after a prediction batch."""


class CallbackList:
    """Calls each hook on every callback, in the order given.

    Args:
        callbacks: iterable of `Callback` (or ``None``).
        model: passed to each callback's ``set_model`` when not ``None``.
        params: passed to each callback's ``set_params`` when not ``None``
            (``{"epochs": int, "steps": int or None, "verbose": int}``).
        add_history: append a `History` unless one is already in ``callbacks``.
        add_progbar: append a `ProgbarLogger` unless one is already there (it prints
            nothing when ``params["verbose"]`` is 0).

    ``history`` is the list's `History` (or ``None``), which ``fit`` returns.

    Examples:
        >>> callbacks = CallbackList(add_history=True, params={"epochs": 1, "steps": 1, "verbose": 0})
        >>> callbacks.on_train_begin()
        >>> callbacks.on_epoch_end(0, {"loss": 0.5})
        >>> callbacks.history.history
        {'loss': [0.5]}
    """

    def __init__(
        self,
        callbacks: Optional[Iterable[Callback]] = None,
        model: Any = None,
        params: Optional[dict[str, Any]] = None,
        *,
        add_history: bool = False,
        add_progbar: bool = False,
    ) -> None:
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise ValueError(
                    "Every callback must be an instance of scratchlstm.callbacks.Callback. "
                    f"Received: {callback!r} of type {type(callback).__name__}"
                )
        # Imported here: these modules import this one.
        from ._history import History
        from ._progbar import ProgbarLogger

        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.model = None
        self.params: dict[str, Any] = {}
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    @property
    def history(self) -> Any:
        from ._history import History

        return next((c for c in self.callbacks if isinstance(c, History)), None)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def set_model(self, model: Any) -> None:
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = dict(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_test_end(logs)

    def on_test_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_test_batch_end(batch, logs)

    def on_predict_begin(self, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_predict_end(logs)

    def on_predict_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_predict_batch_end(batch, logs)
