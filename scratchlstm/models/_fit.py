"""The training loop shared by both backends: batching, shuffling, validation, callbacks.

Keras' conventions: ``validation_split`` takes the last samples before shuffling; epoch logs
are sample-weighted means of the batch values; callbacks see ``loss``, the metrics and their
``val_`` twins. The backend only supplies pure step functions (see ``_numpy_backend``).

On the JAX backend a batch's loss is read back only after the next batch has been dispatched,
so reading it (for the progress bar and the NaN check) never idles the device.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..callbacks import CallbackList


def validation_split_at(num_samples: int, validation_split: float) -> int:
    """Index where the validation tail starts (Keras rounds the training part up)."""
    return int(math.ceil(num_samples * (1.0 - validation_split)))


def _weighted_add(totals: dict, logs: dict, count: int) -> dict:
    return {key: totals.get(key, 0.0) + value * count for key, value in logs.items()}


def _renamed(logs: dict, names: dict, prefix: str = "") -> dict:
    return {prefix + names.get(key, key): value for key, value in logs.items()}


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
        totals: dict = {}
        seen = 0
        pending = None  # (step, loss) not yet read back
        bad = None
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            callback_list.on_train_batch_begin(step)
            state, logs = backend.train_step(state, x[index], y[index])
            if pending is not None and not math.isfinite(float(pending[1])):
                bad = pending
                break
            pending = (step, logs["loss"])
            totals = _weighted_add(totals, logs, len(index))
            seen += len(index)
            callback_list.on_train_batch_end(step, _renamed({k: v / seen for k, v in totals.items()}, names))
        if bad is None and pending is not None and not math.isfinite(float(pending[1])):
            bad = pending
        model.set_params(backend.get_params(state))
        if bad is not None:
            # The step functions skip every update from the first non-finite loss on.
            model.stop_training = True
            warnings.warn(
                f"Training stopped: the loss became {float(bad[1])} at epoch {epoch + 1}, batch "
                f"{bad[0] + 1}. The weights from before that batch were kept. Try a lower "
                "learning_rate, clipnorm=1.0, or scaling the inputs and targets.",
                RuntimeWarning,
                stacklevel=3,
            )
            break

        epoch_logs = _renamed({k: float(v) / seen for k, v in totals.items()}, names)
        if validation is not None:
            val_logs = backend.evaluate(model.get_params(), validation[0], validation[1], batch_size)
            epoch_logs.update(_renamed(val_logs, names, prefix="val_"))
        params_before_callbacks = model.get_params()
        callback_list.on_epoch_end(epoch, epoch_logs)
        if any(a is not b for a, b in zip(model.get_params(), params_before_callbacks)):
            state = backend.with_params(state, model.get_params())  # a callback set the weights
        if model.stop_training:
            break
    callback_list.on_train_end()
    return callback_list.history
