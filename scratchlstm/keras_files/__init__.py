"""Keras 3 model files in and out: ``.keras`` archives and ``.weights.h5`` weight files.

``model.save("x.keras")`` / ``save_weights("x.weights.h5")`` and ``load_model`` /
``load_weights`` dispatch here (by extension on save, by content on load). One module per part
of the format: `_archive` (the zip), `_config` (Keras' serialization format), `_h5` (the HDF5
weight layout), `_compile` (compile settings), `_optimizer` (the optimizer's variables),
all driven by the per-layer table in `_mappings`. h5py is imported on first use
(``pip install "scratchlstm[keras-files]"``).
"""

from __future__ import annotations

from ._archive import (
    is_keras_archive,
    is_keras_weights,
    load_keras_archive,
    load_keras_weights,
    save_keras_archive,
    save_keras_weights,
)
from ._mappings import MAPPINGS, LayerMapping

__all__ = [
    "MAPPINGS",
    "LayerMapping",
    "is_keras_archive",
    "is_keras_weights",
    "load_keras_archive",
    "load_keras_weights",
    "save_keras_archive",
    "save_keras_weights",
]
