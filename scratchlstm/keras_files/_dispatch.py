"""Which format a model or weights file uses: by extension on save, by content on load.

``save``: ``.keras`` (Keras 3 archive) or ``.npz`` (scratchlstm's own archive, which also keeps
what Keras cannot express); ``save_weights``: ``.weights.h5`` (Keras' HDF5 layout) or ``.npz``
(``.weights.npz``). Any other name is refused with the list. ``load_model``/``load_weights``
look at the bytes, so files older versions wrote (our npz under any name, ``.keras`` included)
keep loading.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from . import _archive

if TYPE_CHECKING:
    from ..models import Model

MODEL_SUFFIXES = {".keras": "a Keras 3 archive", ".npz": "scratchlstm's own archive (scalers, metadata, NumPy-only)"}
WEIGHTS_SUFFIXES = {".weights.h5": "Keras 3's HDF5 weights layout", ".npz": "scratchlstm's own archive, e.g. .weights.npz"}


def _suffix(path: str | bytes | os.PathLike[str] | os.PathLike[bytes], table: dict[str, str], what: str) -> str:
    name = os.fspath(path)
    name = name.decode() if isinstance(name, bytes) else name
    for suffix in table:
        if name.lower().endswith(suffix):
            return suffix
    listed = "; ".join(f"{s} ({meaning})" for s, meaning in table.items())
    hint = ""
    if name.lower().endswith((".h5", ".hdf5")):
        hint = (" Keras 2's HDF5 model files are not written; use .keras" if what == "save"
                else " Keras 3 names weight files *.weights.h5")
    raise ValueError(f"{what}: cannot tell the format from the file name {name!r}; the supported "
                     f"extensions are {listed}.{hint}")


def save_model(model: Model, path: str | os.PathLike[str], metadata: dict[str, Any] | None,
               include_optimizer: bool = True) -> bool:
    """Write a ``.keras`` file and return True, or return False for ``.npz`` (the caller writes it)."""
    if _suffix(path, MODEL_SUFFIXES, "save") != ".keras":
        return False
    metadata = model.metadata if metadata is None else metadata
    _archive.save_keras_archive(model, path, metadata=metadata, include_optimizer=include_optimizer)
    model.metadata = metadata
    return True


def save_weights(model: Model, path: str | os.PathLike[str]) -> bool:
    """Write a ``.weights.h5`` file and return True, or return False for ``.npz``."""
    if _suffix(path, WEIGHTS_SUFFIXES, "save_weights") != ".weights.h5":
        return False
    _archive.save_keras_weights(model, path)
    return True


def load_model(path: str | os.PathLike[str], compile: bool) -> Model | None:
    """The model from a Keras file, or None when ``path`` is not one (our npz then)."""
    if _archive.is_keras_archive(path):
        return _archive.load_keras_archive(path, compile=compile)
    if _archive.is_keras_weights(path):
        raise ValueError(f"{os.fspath(path)} is an HDF5 weights file (Keras' .weights.h5), not a model; build "
                         "the model and call model.load_weights(path) (Keras 2's HDF5 model files are not read)")
    return None


def load_weights(model: Model, path: str | os.PathLike[str]) -> bool:
    """Read Keras weights (``.weights.h5``, or a ``.keras`` archive's) and return True, or False."""
    if _archive.is_keras_weights(path):
        _archive.load_keras_weights(model, path)
        return True
    if _archive.is_keras_archive(path):
        _archive.load_archive_weights(model, path)
        return True
    return False
