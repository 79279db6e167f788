"""The training loop shared by both backends: batching, shuffling, validation, callbacks.

Keras' conventions: ``validation_split`` takes the last samples before shuffling; an epoch's
losses are sample-weighted means of the batch losses and its metrics the results of states
accumulated over the epoch (reset at its start, each step's logs holding the results so far);
callbacks see ``loss``, the metrics and their ``val_`` twins. The backend only supplies pure
step functions (see ``_numpy_backend``).

A backend whose steps run asynchronously (JAX: ``backend.asynchronous = True``) has its batch
logs read back one batch late, after the next step has been dispatched, so that reading them
(for the progress bar, the callbacks and the NaN check) never leaves the device idle. Its
``on_train_batch_end(k)`` therefore comes after ``on_train_batch_begin(k + 1)``.

A backend with ``prepare_batch`` (JAX) has its batches double-buffered: batch ``k + 1`` is
gathered on the host (shuffled order, this process's rows) and sent to the device right after
step ``k`` is dispatched, so the copy overlaps the step; ``train_prepared`` then runs it.

Several processes (JAX after ``jax.distributed.initialize()``): every process runs this loop on
the same global logs; a backend whose ``process_index`` is not 0 gets no progress bar, and the
callbacks that write files (`ModelCheckpoint`, `CSVLogger`, `BackupAndRestore`'s backups) run
on process 0 only (`BackupAndRestore` still restores on every process, from process 0's files).
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Sequence, cast

import numpy as np
from numpy.typing import NDArray

from ..callbacks import BackupAndRestore, Callback, CallbackList, CSVLogger, ModelCheckpoint, ProgbarLogger
from .._tree import flatten_paths
from ._data import take

if TYPE_CHECKING:
    from ..callbacks import History
    from ._compile import CompileConfig
    from ._trainer import Trainer


def validation_split_at(num_samples: int, validation_split: float) -> int:
    """Index where the validation tail starts (Keras rounds the training part up)."""
    return int(math.ceil(num_samples * (1.0 - validation_split)))


class _EpochLogs:
    """The logs of one epoch so far: running, sample-weighted means of the batch losses, and the
    latest value of each key in ``results`` (the metrics, already results over the epoch)."""

    def __init__(self, results: set[str] | frozenset[str] = frozenset()) -> None:
        self.totals: dict[str, Any] = {}
        self.latest: dict[str, Any] = {}
        self.results = results
        self.seen = 0

    def add(self, logs: dict[str, Any], count: int) -> dict[str, Any]:
        for key, value in logs.items():
            if key in self.results:
                self.latest[key] = value
            else:
                self.totals[key] = self.totals.get(key, 0.0) + value * count
        self.seen += count
        return self.means()

    def means(self) -> dict[str, Any]:
        return {**{key: total / self.seen for key, total in self.totals.items()}, **self.latest}


def read_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """Logs on the host: floats, or float arrays for vector results (``F1Score()`` per class)."""
    read: dict[str, Any] = {}
    for key, value in logs.items():
        array = np.asarray(value)
        read[key] = float(array) if array.ndim == 0 else array.astype(np.float64)
    return read


# Callbacks that write files or print, and the hooks of theirs that other processes than 0 still
# run (reading only): a restore must happen everywhere for the processes to stay identical.
_PROCESS_ZERO_WRITERS = {ProgbarLogger: (), ModelCheckpoint: (), CSVLogger: (), BackupAndRestore: ("on_train_begin",)}


class _ReadOnlyHooks(Callback):
    """``callback`` on a process other than 0: only its ``hooks`` run (see above)."""

    def __init__(self, callback: Callback, hooks: tuple[str, ...]) -> None:
        super().__init__()
        self.callback, self.hooks = callback, hooks

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self.callback.set_model(model)

    def set_params(self, params: dict[str, Any] | None) -> None:
        super().set_params(params)
        self.callback.set_params(params)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if "on_train_begin" in self.hooks:
            self.callback.on_train_begin(logs)


def process_callbacks(callbacks: Sequence[Callback] | None, process_index: int) -> list[Callback]:
    """``callbacks`` as process ``process_index`` runs them: all of them on process 0; on the
    others, the file writers reduced to their reading hooks (and `ProgbarLogger` dropped)."""
    callbacks = list(callbacks or [])
    if process_index == 0:
        return callbacks
    kept: list[Callback] = []
    for callback in callbacks:
        kind = next((k for k in _PROCESS_ZERO_WRITERS if isinstance(callback, k)), None)
        if kind is None:
            kept.append(callback)
        elif _PROCESS_ZERO_WRITERS[kind]:
            kept.append(_ReadOnlyHooks(callback, _PROCESS_ZERO_WRITERS[kind]))
    return kept


def run_fit(model: Trainer, backend: Any, train: tuple[Any, Any, Any], *, epochs: int, initial_epoch: int, batch_size: int,
            validation: Any, shuffle: bool, callbacks: Any, verbose: int, rng: np.random.Generator) -> History:
    """Train ``model`` in place and return its `History`.

    Args:
        model: a built, compiled model (source of truth for the NumPy weights).
        backend: an object implementing the backend protocol.
        train: ``(xs, ys, sample_weight)``: lists of validated arrays (one per input, one per
            output) and ``None`` or an ``(N,)`` weight array.
        validation: ``None`` or a validated ``(xs, ys, sample_weight)``.
        rng: the ``numpy.random.Generator`` that shuffles.
    """
    xs, ys, weights = train
    num_samples = len(xs[0])
    steps = int(math.ceil(num_samples / batch_size))
    finalize = cast("CompileConfig", model.compiled).finalize  # fit checks it is compiled first
    lag = 1 if getattr(backend, "asynchronous", False) else 0
    prepare = getattr(backend, "prepare_batch", None)  # double-buffered host-to-device copies
    process_index = getattr(backend, "process_index", 0)
    callback_list = CallbackList(
        process_callbacks(callbacks, process_index),
        model=model,
        params={"epochs": epochs, "steps": steps, "verbose": verbose},
        add_history=True,
        add_progbar=bool(verbose) and process_index == 0,
    )

    model.stop_training = False
    model._initial_epoch = None  # a callback (BackupAndRestore) may set it in on_train_begin
    callback_list.on_train_begin()
    initial_epoch = model._initial_epoch or initial_epoch
    # after on_train_begin: the weights and optimizer state a callback loaded there are trained on
    # the JAX backend pads each batch to this size: no more rows than there are samples
    state = backend.init_state(model.get_variables(), min(batch_size, num_samples), model._resumed_optimizer_state(backend))
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        order = rng.permutation(num_samples) if shuffle else np.arange(num_samples)
        state = backend.reset_metrics(state)
        epoch_logs = _EpochLogs(cast("CompileConfig", model.compiled).metric_log_names())
        dispatched: deque[tuple[int, Any, int]] = deque()  # (step, device logs, batch size), not yet read back
        failed = None  # (step, logs) of the first step whose update was skipped
        batch_rows: Callable[[int], NDArray[Any]] = lambda k: order[k * batch_size : (k + 1) * batch_size]  # noqa: E731
        ahead = prepare(xs, ys, weights, batch_rows(0)) if prepare else None  # batch 0 on the device
        for step in range(steps + lag):
            if step < steps:
                index = batch_rows(step)
                callback_list.on_train_batch_begin(step)
                if prepare:
                    state, logs = backend.train_prepared(state, ahead)
                    # batch k + 1 goes to the device while step k runs
                    ahead = prepare(xs, ys, weights, batch_rows(step + 1)) if step + 1 < steps else None
                else:
                    batch_weights = None if weights is None else weights[index]
                    state, logs = backend.train_step(state, take(xs, index), take(ys, index), batch_weights)
                dispatched.append((step, logs, len(index)))
            while len(dispatched) > (lag if step < steps else 0):
                done_step, logs, count = dispatched.popleft()
                logs = read_logs(logs)  # the one host read
                if not math.isfinite(logs["loss"]):  # the backend skipped this update
                    failed = (done_step, logs)
                    break
                callback_list.on_train_batch_end(done_step, finalize(epoch_logs.add(logs, count)))
            if failed:
                break
        model.set_variables(backend.get_variables(state))
        model.optimizer.iterations = int(state.optimizer_state.iterations)  # a schedule's rate is read at it
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

        logs = finalize(epoch_logs.means())
        if validation is not None:
            val_logs, _ = backend.evaluate(model.get_variables(), *validation, batch_size)
            logs.update({f"val_{key}": value for key, value in finalize(val_logs).items()})
        model._remember_optimizer_state(backend, state.optimizer_state)  # current for the callbacks
        variables_before_callbacks = list(flatten_paths(model.get_variables()).values())
        callback_list.on_epoch_end(epoch, logs)
        if any(a is not b for a, b in zip(flatten_paths(model.get_variables()).values(), variables_before_callbacks)):
            # a callback set the weights, or reset a stateful RNN's states (model.reset_states())
            state = backend.with_variables(state, model.get_variables())
        if model.stop_training:
            break
    if model.optimizer.use_ema:  # keep the moving average of the weights, as Keras
        model.set_variables(backend.get_variables(state, final=True))
    model._remember_optimizer_state(backend, state.optimizer_state)
    callback_list.on_train_end()
    return cast("History", callback_list.history)
