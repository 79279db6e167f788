"""The training loop shared by both backends: batching, shuffling, validation, callbacks.

Keras' conventions: ``validation_split`` takes the last samples before shuffling; epoch logs
are sample-weighted means of the batch values; callbacks see ``loss``, the metrics and their
``val_`` twins. The backend only supplies pure step functions (see ``_numpy_backend``).

A backend whose steps run asynchronously (JAX: ``backend.asynchronous = True``) has its batch
logs read back one batch late, after the next step has been dispatched, so that reading them
(for the progress bar, the callbacks and the NaN check) never leaves the device idle. Its
``on_train_batch_end(k)`` therefore comes after ``on_train_batch_begin(k + 1)``.
"""

from __future__ import annotations

import math
import warnings
from collections import deque

import numpy as np

from ..callbacks import CallbackList


def validation_split_at(num_samples: int, validation_split: float) -> int:
    """Index where the validation tail starts (Keras rounds the training part up)."""
    return int(math.ceil(num_samples * (1.0 - validation_split)))


def _renamed(logs: dict, names: dict, prefix: str = "") -> dict:
    return {prefix + names.get(key, key): value for key, value in logs.items()}


class _EpochLogs:
    """Running, sample-weighted means of the batch logs of one epoch (host floats)."""

    def __init__(self):
        self.totals: dict = {}
        self.seen = 0

    def add(self, logs: dict, count: int) -> dict:
        for key, value in logs.items():
            self.totals[key] = self.totals.get(key, 0.0) + value * count
        self.seen += count
        return self.means()

    def means(self) -> dict:
        return {key: total / self.seen for key, total in self.totals.items()}


def run_fit(model, backend, x, y, *, epochs, batch_size, validation, shuffle, callbacks, verbose, rng):
    """Train ``model`` in place and return its `History`.

    Args:
        model: a built, compiled ``Sequential`` (source of truth for the NumPy weights).
        backend: an object implementing the backend protocol.
        x, y: validated training arrays, ``(N, T, I)`` and ``(N, ...)``.
        validation: ``None`` or a validated ``(x_val, y_val)`` pair.
        rng: the ``numpy.random.Generator`` that shuffles.
    """
    num_samples = len(x)
    steps = int(math.ceil(num_samples / batch_size))
    names = model.metric_display_names  # canonical -> the name the user asked for
    lag = 1 if getattr(backend, "asynchronous", False) else 0
    callback_list = CallbackList(
        callbacks,
        model=model,
        params={"epochs": epochs, "steps": steps, "verbose": verbose},
        add_history=True,
        add_progbar=bool(verbose),
    )

    state = backend.init_state(model.get_params(), batch_size)
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        order = rng.permutation(num_samples) if shuffle else np.arange(num_samples)
        epoch_logs = _EpochLogs()
        dispatched: deque = deque()  # (step, device logs, batch size), not yet read back
        failed = None  # (step, logs) of the first step whose update was skipped
        for step in range(steps + lag):
            if step < steps:
                index = order[step * batch_size : (step + 1) * batch_size]
                callback_list.on_train_batch_begin(step)
                state, logs = backend.train_step(state, x[index], y[index])
                dispatched.append((step, logs, len(index)))
            while len(dispatched) > (lag if step < steps else 0):
                done_step, logs, count = dispatched.popleft()
                logs = {key: float(value) for key, value in logs.items()}  # the one host read
                if not math.isfinite(logs["loss"]):  # the backend skipped this update
                    failed = (done_step, logs)
                    break
                callback_list.on_train_batch_end(done_step, _renamed(epoch_logs.add(logs, count), names))
            if failed:
                break
        model.set_params(backend.get_params(state))
        if failed:
            # The step functions skip every update from the first non-finite loss or gradient on.
            model.stop_training = True
            warnings.warn(
                f"Training stopped: a non-finite loss or gradient (loss {failed[1]['loss']}) at epoch "
                f"{epoch + 1}, batch {failed[0] + 1}. The weights from before that batch were kept. "
                "Try a lower learning_rate, clipnorm=1.0, or scaling the inputs and targets.",
                RuntimeWarning,
                stacklevel=3,
            )
            break

        logs = _renamed(epoch_logs.means(), names)
        if validation is not None:
            val_logs = backend.evaluate(model.get_params(), validation[0], validation[1], batch_size)
            logs.update(_renamed(val_logs, names, prefix="val_"))
        params_before_callbacks = model.get_params()
        callback_list.on_epoch_end(epoch, logs)
        if any(a is not b for a, b in zip(model.get_params(), params_before_callbacks)):
            state = backend.with_params(state, model.get_params())  # a callback set the weights
        if model.stop_training:
            break
    callback_list.on_train_end()
    return callback_list.history
