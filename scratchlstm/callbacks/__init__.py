"""Keras-style callbacks for ``fit``, with Keras 3's names, arguments and defaults.

``History``, ``ProgbarLogger``, ``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``,
``LearningRateScheduler``, ``CSVLogger``, ``TerminateOnNaN``, ``LambdaCallback`` and
``BackupAndRestore``. Write your own by subclassing `Callback` and overriding the hooks you
need; ``fit`` calls them in order through a `CallbackList`. NumPy only.
"""

from ._backup_and_restore import BackupAndRestore
from ._base import Callback, CallbackList
from ._csv_logger import CSVLogger
from ._early_stopping import EarlyStopping
from ._history import History
from ._lr_scheduler import LearningRateScheduler
from ._model_checkpoint import CheckpointPathError, ModelCheckpoint
from ._monitor import MonitorCallback
from ._progbar import ProgbarLogger
from ._reduce_lr import ReduceLROnPlateau
from ._simple import LambdaCallback, TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "CheckpointPathError",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
