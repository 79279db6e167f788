"""Data parallelism: one mesh axis ``"data"`` over the local devices.

Each batch is split along axis 0 across the devices (``P("data")``); parameters and optimizer
state are replicated (``P()``). Under ``jax.jit`` XLA turns the batch-mean loss into per-device
partial sums plus an all-reduce, so the gradients, and hence the replicated updates, equal a
single-device step up to floating-point summation order. With one device this is a no-op
placement.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P


class DataParallel:
    """Shardings for a 1-D ``"data"`` mesh over ``devices`` (default: all of ``jax.devices()``)."""

    def __init__(self, devices=None):
        devices = list(jax.devices() if devices is None else devices)
        self.devices = devices
        self.mesh = Mesh(np.array(devices), ("data",))
        self.batch = NamedSharding(self.mesh, P("data"))
        self.replicated = NamedSharding(self.mesh, P())

    @property
    def size(self) -> int:
        return len(self.devices)

    def padded_size(self, rows: int) -> int:
        """``rows`` rounded up to a multiple of the device count."""
        return -(-max(int(rows), 1) // self.size) * self.size

    def replicate(self, tree):
        return jax.device_put(tree, self.replicated)

    def shard(self, tree):
        return jax.device_put(tree, self.batch)


def pad_rows(array: np.ndarray, rows: int) -> np.ndarray:
    """Pad ``array`` along axis 0 to ``rows`` by repeating its last row.

    Copies of a real row (rather than zeros) keep the padding's loss and gradients finite
    whenever the real rows' are, so weighting the padding out never multiplies a NaN by 0.
    """
    missing = rows - len(array)
    if missing <= 0:
        return array
    return np.concatenate([array, np.repeat(array[-1:], missing, axis=0)], axis=0)


def row_weights(real: int, rows: int, dtype) -> np.ndarray:
    """``(rows,)`` weights: 1 for the ``real`` leading rows, 0 for the padding."""
    weights = np.zeros(rows, dtype=dtype)
    weights[:real] = 1
    return weights
