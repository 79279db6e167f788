"""``BackupAndRestore`` with Keras 3 semantics, and what it needs from the fit loop.

Keras' mechanism (``keras/src/callbacks/backup_and_restore.py``): at the end of each epoch the
callback writes the weights (in Keras 3.15 ``save_weights`` includes the optimizer's state) and
``{"epoch": epochs done, "batch": ...}``; at ``on_train_begin`` of a later ``fit`` it loads them
and sets ``model._initial_epoch``, which Keras' loop reads *after* ``on_train_begin``; at the end
of a completed ``fit`` it deletes the backup folder.

An interrupted run resumes exactly because the fit loop (`models/_fit.py`):

1. reads ``model._initial_epoch`` after ``on_train_begin`` (``initial_epoch = model._initial_epoch
   or initial_epoch``), having set it to ``None`` before;
2. builds its training state (weights and optimizer state) *after* ``on_train_begin``, so that
   what a callback loaded there is what trains;
3. keeps the model's record of the optimizer state current when the epoch-end callbacks run
   (``model._remember_optimizer_state(backend, state.optimizer_state)`` before ``on_epoch_end``);
4. has ``model.save_weights`` / ``model.load_weights`` carry that optimizer state (Keras 3.15's
   weights files do), so it survives the process.

Beyond Keras, the backup also holds the optimizer's float learning rate (a callback such as
`ReduceLROnPlateau` may have changed it) and the state of the model's shuffling generator, so
that a resumed run with ``shuffle=True`` draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from .._files import atomic_write
from ._base import Callback
from ._monitor import check_bool, check_path, check_save_freq

WEIGHTS_FILE = "latest.weights.npz"
METADATA_FILE = "training_metadata.json"


class BackupAndRestore(Callback):
    """Back up the training state each epoch and resume from it after an interruption (Keras 3).

    Args:
        backup_dir: the folder of the backup (do not share it with other callbacks or runs).
        save_freq: ``"epoch"``; an integer (every N batches) raises NotImplementedError, for
            the reason given in `ModelCheckpoint`.
        double_checkpoint: also keep the previous backup (``*.bkp``), used when the latest one
            cannot be read (Keras 3.15's argument, in its position).
        delete_checkpoint: delete ``backup_dir`` when ``fit`` completes (default True).

    Files: ``backup_dir/latest.weights.npz`` (`Model.save_weights`) and
    ``backup_dir/training_metadata.json`` (``{"epoch": epochs done, "batch": 0,
    "learning_rate": ..., "shuffle_rng": ...}``).

    If the interrupted ``fit`` is called again with the same ``backup_dir``, ``on_train_begin``
    loads the weights and the optimizer state and training continues at the epoch after the
    last one backed up, so the run ends with the weights of an uninterrupted run. Requires a
    fit loop that can resume (see the module docstring); otherwise ``on_train_begin`` raises
    NotImplementedError naming what is missing.

    Examples:
        >>> import numpy as np, os, tempfile
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.layers.Dense(1)], seed=0)
        >>> model.compile("sgd", "mse")
        >>> x, backup_dir = np.linspace(-1, 1, 8).reshape(-1, 1), os.path.join(tempfile.mkdtemp(), "backup")
        >>> _ = model.fit(x, 2 * x, epochs=2, verbose=0, callbacks=[BackupAndRestore(backup_dir, delete_checkpoint=False)])
        >>> sorted(os.listdir(backup_dir))
        ['latest.weights.npz', 'training_metadata.json']
        >>> model.fit(x, 2 * x, epochs=3, verbose=0, callbacks=[BackupAndRestore(backup_dir)]).epoch   # resumes after epoch 2
        [2]
        >>> os.path.exists(backup_dir)   # deleted once fit completes
        False
    """

    def __init__(self, backup_dir: str, save_freq: str | int = "epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: backup_dir={backup_dir!r}")
        self.backup_dir = check_path("backup_dir", backup_dir)
        self.save_freq = check_save_freq("BackupAndRestore", save_freq)
        self.double_checkpoint = check_bool("double_checkpoint", double_checkpoint)
        self.delete_checkpoint = check_bool("delete_checkpoint", delete_checkpoint)
        self._weights_path = os.path.join(self.backup_dir, WEIGHTS_FILE)
        self._training_metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._current_epoch = 0
        self._last_batch_seen = 0

    # --- restore ----------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        try:
            self._load_model()
        except (OSError, ValueError):
            # The latest backup may be corrupted (an interruption while writing): use the previous one.
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path, self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self) -> None:
        if not getattr(self.model, "built", True):
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you call "
                f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling it "
                "on a batch of data."
            )
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as handle:
                metadata = json.load(handle)
            self._current_epoch = int(metadata["epoch"])
            self.model._initial_epoch = self._current_epoch
            optimizer = getattr(self.model, "optimizer", None)
            learning_rate = metadata.get("learning_rate")
            if learning_rate is not None and optimizer is not None and optimizer.learning_rate_schedule is None:
                optimizer.learning_rate = learning_rate
            rng_state = metadata.get("shuffle_rng")
            generator = getattr(self.model, "_shuffle_rng", None)
            if rng_state is not None and generator is not None:
                generator.bit_generator.state = rng_state

    # --- back up ----------------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and optimizer.learning_rate_schedule is None:
            metadata["learning_rate"] = float(optimizer.learning_rate)
        generator = getattr(self.model, "_shuffle_rng", None)
        if generator is not None:
            metadata["shuffle_rng"] = generator.bit_generator.state
        return metadata

    def _save_model(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            shutil.copyfile(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            shutil.copyfile(self._training_metadata_path, self._prev_training_metadata_path)
        self.model.save_weights(self._weights_path)  # written atomically
        text = json.dumps(self._metadata()).encode()
        atomic_write(self._training_metadata_path, lambda handle: handle.write(text))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
