"""Several JAX processes (``jax.distributed``): starting them, and moving data between them.

After ``jax.distributed.initialize()`` every process runs the same program; ``jax.devices()``
lists the devices of all processes and ``jax.local_devices()`` this process's. The training
backend's 1-D ``"data"`` mesh then spans every process's devices: a global batch of ``R`` rows
is split along axis 0, and each process supplies only the rows its devices hold (see
`local_rows`), built into one global array with ``jax.make_array_from_process_local_data``.
The weights, optimizer state, metric states and logged losses are replicated, so XLA's
all-reduce of the gradients keeps every process's weights identical and every process reads
the same global logs.

`initialize` is `scratchlstm.distributed.initialize`: explicit arguments, the launcher's
environment variables (``python -m scratchlstm.distributed``), or JAX's own detection
(SLURM, Open MPI, Kubernetes, Cloud TPU).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import jax
import numpy as np
from numpy.typing import NDArray

# Set by ``python -m scratchlstm.distributed`` for each process it starts (JAX itself reads
# JAX_COORDINATOR_ADDRESS, but not the process count or id).
COORDINATOR_VARIABLE = "JAX_COORDINATOR_ADDRESS"
NUM_PROCESSES_VARIABLE = "SCRATCHLSTM_NUM_PROCESSES"
PROCESS_ID_VARIABLE = "SCRATCHLSTM_PROCESS_ID"
HEARTBEAT_VARIABLE = "SCRATCHLSTM_HEARTBEAT_TIMEOUT"


def is_initialized() -> bool:
    """Whether ``jax.distributed.initialize`` has run in this process."""
    from jax._src import distributed

    return distributed.global_state.client is not None


def initialize(coordinator_address: str | None = None, num_processes: int | None = None, process_id: int | None = None,
               *, heartbeat_timeout_seconds: float | None = None, initialization_timeout: float = 120) -> None:
    """Join this process to a multi-process JAX run (once; later calls do nothing).

    Arguments left ``None`` come from the environment: ``JAX_COORDINATOR_ADDRESS``,
    ``SCRATCHLSTM_NUM_PROCESSES``, ``SCRATCHLSTM_PROCESS_ID`` and
    ``SCRATCHLSTM_HEARTBEAT_TIMEOUT`` (seconds), which ``python -m scratchlstm.distributed``
    sets, or else JAX's cluster detection (SLURM, Open MPI, Kubernetes/GKE, Cloud TPU). On CPU
    the collectives go through gloo.

    Args:
        coordinator_address: ``"host:port"`` of process 0's coordination service.
        num_processes: how many processes take part.
        process_id: this process's index, ``0 <= process_id < num_processes``.
        heartbeat_timeout_seconds: a process silent this long is declared dead and the
            others stop with an error (JAX's default is 100 s).
        initialization_timeout: seconds to wait for every process to connect.

    Raises:
        ValueError: ``process_id`` outside ``[0, num_processes)``, or a non-integer setting.
    """
    if is_initialized():
        return
    environ = os.environ

    def setting(value: Any, name: str) -> Any:
        if value is not None or not environ.get(name):
            return value
        try:
            return int(environ[name])
        except ValueError:
            raise ValueError(f"{name} must be an integer, got {environ[name]!r}") from None

    num_processes = setting(num_processes, NUM_PROCESSES_VARIABLE)
    process_id = setting(process_id, PROCESS_ID_VARIABLE)
    heartbeat_timeout_seconds = setting(heartbeat_timeout_seconds, HEARTBEAT_VARIABLE)
    if num_processes is not None and process_id is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, num_processes={num_processes}), got {process_id}")
    # CPU collectives (the all-reduce of the gradients) need a cross-process implementation.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    options = {"initialization_timeout": int(initialization_timeout)}
    if heartbeat_timeout_seconds is not None:
        options["heartbeat_timeout_seconds"] = int(heartbeat_timeout_seconds)
    jax.distributed.initialize(coordinator_address, num_processes, process_id, **options)


def spans_processes(devices: Iterable[Any]) -> bool:
    """Whether ``devices`` belong to more than one process."""
    return len({device.process_index for device in devices}) > 1


def local_rows(sharding: Any, rows: int) -> slice:
    """The rows of a ``(rows, ...)`` array sharded by ``sharding`` (along axis 0) that this
    process's devices hold: one contiguous block, since the mesh lists the devices by process."""
    blocks = [index[0].indices(rows) for index in sharding.addressable_devices_indices_map((rows,)).values()]
    start, stop = min(b[0] for b in blocks), max(b[1] for b in blocks)
    if sum(b[1] - b[0] for b in set(blocks)) != stop - start:
        raise ValueError(f"this process's devices do not hold one contiguous block of the {rows} rows")
    return slice(start, stop)


def put_local_rows(sharding: Any, local: Any, rows: int | None) -> jax.Array:
    """One global ``(rows, ...)`` array from this process's block of rows ``local``."""
    return jax.make_array_from_process_local_data(sharding, local, (rows,) + local.shape[1:])


def replicate_leaf(leaf: Any, sharding: Any) -> Any:
    """``leaf`` copied to every device of ``sharding`` (the same value in every process)."""
    if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
        return leaf  # already global (a previous step's output)
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        # device_put cannot send key arrays to other processes' devices: send their bits
        data = jax.device_put(np.asarray(jax.random.key_data(leaf)), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(leaf))
    return jax.device_put(np.asarray(leaf), sharding)


def host_array(array: jax.Array) -> NDArray[Any]:
    """A NumPy copy of ``array``, gathered from every process when it is sharded across them."""
    if array.is_fully_addressable or array.is_fully_replicated:
        return np.asarray(array)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(array, tiled=True))
