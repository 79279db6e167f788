"""``ModelCheckpoint`` with Keras 3 semantics, writing Keras' files or this package's ``.npz``."""

from __future__ import annotations

import os
import string
import warnings
from typing import Any

import numpy as np

from ._monitor import MonitorCallback, check_bool, check_path, check_save_freq, print_message

# the names each kind of checkpoint may have: Keras 3's formats, or this package's .npz
MODEL_SUFFIXES = (".keras", ".npz")
WEIGHTS_SUFFIXES = (".weights.h5", ".npz")


class CheckpointPathError(KeyError, ValueError):
    """A ``filepath`` template field that the logs do not provide (a KeyError, as Keras raises,
    and a ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0])


def template_fields(template: str) -> list[str]:
    """The field names of a ``str.format`` template; ValueError for a malformed one."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as error:
        raise ValueError(
            f"`filepath` is not a valid format template ({error}). Received: filepath={template!r}"
        ) from None


class ModelCheckpoint(MonitorCallback):
    """Save the model (or its weights) during training (Keras 3's ``ModelCheckpoint``).

    Args:
        filepath: where to save; a ``str.format`` template filled with ``epoch`` (counted from
            1, as Keras) and the epoch logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.2f}.npz"``.
            As in Keras, a model goes to a ``.keras`` file and weights (``save_weights_only``)
            to a ``.weights.h5`` file; ``.npz`` (``.weights.npz``) writes this package's own
            format instead. Any other name is refused (ValueError) before training. A
            template key the logs lack raises `CheckpointPathError` (a KeyError, as in Keras,
            and a ValueError) at the first save, before anything is written. Missing folders
            are created.
        monitor: the log key that decides "best" (default ``"val_loss"``).
        verbose: 1 prints a line each time a checkpoint is (or is not) written.
        save_best_only: save only when ``monitor`` improved on the best value so far (and,
            when the monitored key is missing from the logs, save anyway after a warning,
            as Keras). Without ``{...}`` in ``filepath`` each better model overwrites the last.
        save_weights_only: ``model.save_weights(path)`` instead of ``model.save(path)``.
        mode: ``"auto"``, ``"min"`` or ``"max"``; see `MonitorCallback`. As in Keras,
            ``"auto"`` with a name it cannot place raises ValueError even when
            ``save_best_only`` is off (here at ``on_train_begin``, before the first epoch).
        save_freq: ``"epoch"``. An integer (every N batches) raises NotImplementedError: the
            fit loop hands the weights back to the model only at the end of an epoch.
        initial_value_threshold: the initial "best" value: with ``save_best_only`` nothing
            is saved until ``monitor`` beats it.

    ``best`` is kept across ``fit`` calls, as in Keras (make a new callback to start over).

    Examples:
        >>> import numpy as np, os, tempfile
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)], seed=0)
        >>> model.compile("sgd", "mse")
        >>> folder = tempfile.mkdtemp()
        >>> checkpoint = keras.callbacks.ModelCheckpoint(
        ...     os.path.join(folder, "model-{epoch:02d}.npz"), monitor="loss", save_best_only=True)
        >>> x = np.linspace(-1, 1, 16).reshape(-1, 1)
        >>> _ = model.fit(x, 2 * x, epochs=3, verbose=0, callbacks=[checkpoint])
        >>> sorted(os.listdir(folder))
        ['model-01.npz', 'model-02.npz', 'model-03.npz']
    """

    _baseline_name = "initial_value_threshold"

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath = check_path("filepath", filepath)
        template_fields(self.filepath)
        self.verbose = verbose
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.save_weights_only = check_bool("save_weights_only", save_weights_only)
        self.save_freq = check_save_freq("ModelCheckpoint", save_freq)
        suffixes = WEIGHTS_SUFFIXES if self.save_weights_only else MODEL_SUFFIXES
        if not self.filepath.lower().endswith(suffixes):
            what = "When using `save_weights_only=True` in `ModelCheckpoint`, the" if self.save_weights_only else "The"
            raise ValueError(
                f"{what} filepath provided must end in `{suffixes[0]}` (Keras' format) or `.npz` "
                f"(scratchlstm's own). Received: filepath={self.filepath}"
            )
        self._current_epoch = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.monitor_op is None:  # fail before the first epoch rather than after it
            self._set_monitor_op()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._current_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.monitor_op is None:
            self._set_monitor_op()
        self._save_model(epoch=epoch, batch=None, logs=logs)

    # --- saving -----------------------------------------------------------------------------------
    def _should_save_model(self, epoch: int, logs: dict[str, Any] | None, filepath: str) -> bool:
        logs = logs or {}
        if not self.save_best_only:
            if self.verbose > 0:
                print_message(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. "
                f"Received: {current}. Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        current = float(current)
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_message(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                    f"saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print_message(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: dict[str, Any] | None) -> None:
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}"
            )
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
        if self.verbose > 0:
            print_message(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch: int, batch: int | None, logs: dict[str, Any] | None) -> str:
        """``filepath`` filled with ``epoch + 1`` (and ``batch + 1``) and the logs."""
        logs = dict(logs or {})
        values = {**logs, "epoch": epoch + 1}
        if batch is not None and "batch" not in logs:
            values["batch"] = batch + 1
        try:
            return self.filepath.format(**values)
        except (KeyError, IndexError) as error:
            available = ["epoch"] + (["batch"] if batch is not None else []) + list(logs)
            raise CheckpointPathError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error} is not '
                f"available; the template can use {available}"
            ) from None
