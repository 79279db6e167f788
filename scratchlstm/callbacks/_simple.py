"""``TerminateOnNaN`` and ``LambdaCallback`` with Keras 3 semantics."""

from __future__ import annotations

import math
from typing import Any, Callable

from ._base import Callback
from ._monitor import check_bool, print_message

# Every hook a LambdaCallback may take through **kwargs (Keras: "any function in Callback").
HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class TerminateOnNaN(Callback):
    """Stop training when a batch's ``loss`` is NaN or infinite (Keras 3's ``TerminateOnNaN``).

    Args:
        raise_error: raise RuntimeError at that batch instead of setting
            ``model.stop_training`` (which, as Keras does, prints
            ``"Batch {batch}: Invalid loss, terminating training"``).

    Note: ``fit`` here already stops by itself at a non-finite loss or gradient (it warns,
    keeps the weights from before that batch and does not pass the bad batch to the
    callbacks), so in ``fit`` this callback only matters for losses that other callbacks
    log; it checks every ``on_batch_end`` it is given.

    Examples:
        >>> from types import SimpleNamespace
        >>> terminate = TerminateOnNaN()
        >>> terminate.set_model(SimpleNamespace(stop_training=False))   # fit passes the model
        >>> terminate.on_batch_end(3, {"loss": float("nan")})
        Batch 3: Invalid loss, terminating training
        >>> terminate.model.stop_training
        True
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = check_bool("raise_error", raise_error)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                    "Terminating training immediately."
                )
            print_message(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of plain functions (Keras 3's ``LambdaCallback``).

    Args:
        on_epoch_begin, on_epoch_end: ``f(epoch, logs)``.
        on_train_begin, on_train_end: ``f(logs)``.
        on_train_batch_begin, on_train_batch_end: ``f(batch, logs)``.
        **kwargs: any other hook of `Callback` by its name (``on_batch_end=f``,
            ``on_test_begin=f``, ...). Keras sets any keyword as an attribute; here a name that
            is not a hook raises ValueError listing the hooks, so a typo cannot be ignored.

    Examples:
        >>> import numpy as np
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)], seed=0)
        >>> model.compile("sgd", "mse")
        >>> seen = []
        >>> log = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> _ = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=3, verbose=0, callbacks=[log])
        >>> seen
        [0, 1, 2]
    """

    def __init__(self, on_epoch_begin: Callable[..., Any] | None = None, on_epoch_end: Callable[..., Any] | None = None,
                 on_train_begin: Callable[..., Any] | None = None, on_train_end: Callable[..., Any] | None = None,
                 on_train_batch_begin: Callable[..., Any] | None = None,
                 on_train_batch_end: Callable[..., Any] | None = None, **kwargs: Any) -> None:
        super().__init__()
        unknown = sorted(set(kwargs) - set(HOOKS))
        if unknown:
            raise ValueError(f"LambdaCallback got unknown hook(s) {unknown}; expected some of {list(HOOKS)}")
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            **kwargs,
        }
        for name, function in hooks.items():
            if function is None:
                continue
            if not callable(function):
                raise ValueError(f"Argument `{name}` must be a function or None. Received: {name}={function!r}")
            setattr(self, name, function)
