"""Training on several processes (JAX): join a run, and a launcher for one machine.

Under ``jax.distributed`` the JAX backend's ``fit``, ``evaluate`` and ``predict`` run unchanged
in every process: each process passes the same arrays, takes its block of each global batch
(``batch_size`` counts the samples of all processes), the gradients and the logged losses and
metrics are reduced over all of them, every process ends with the same weights, and only
process 0 prints progress and writes the callbacks' files.

Start the processes with ``python -m scratchlstm.distributed -n 2 train.py`` (one machine,
127.0.0.1), or start one per host yourself with the environment variables below, or under a
cluster manager JAX detects (SLURM, Open MPI, Kubernetes/GKE, Cloud TPU), calling `initialize`
first. NumPy only at import; `initialize` imports JAX.
"""

from __future__ import annotations

from typing import Any

from ._launch import launch

__all__ = ["initialize", "is_initialized", "launch", "process_count", "process_index"]


def initialize(coordinator_address: str | None = None, num_processes: int | None = None, process_id: int | None = None,
               *, heartbeat_timeout_seconds: int | None = None, initialization_timeout: int = 120) -> None:
    """Join this process to a multi-process JAX run (once; later calls do nothing).

    Call it before anything else touches JAX's devices. Arguments left ``None`` come from
    the environment: ``JAX_COORDINATOR_ADDRESS`` (``"host:port"`` of process 0),
    ``SCRATCHLSTM_NUM_PROCESSES``, ``SCRATCHLSTM_PROCESS_ID`` and
    ``SCRATCHLSTM_HEARTBEAT_TIMEOUT`` (the launcher sets them), or else JAX's cluster
    detection. On CPU the collectives go through gloo.

    Args:
        coordinator_address: ``"host:port"`` where process 0 serves the coordination service.
        num_processes: how many processes take part.
        process_id: this process's index in ``[0, num_processes)``.
        heartbeat_timeout_seconds: a process silent this long is declared dead and the
            others stop with an error (JAX's default: 100 s).
        initialization_timeout: seconds to wait for every process to connect.

    Raises:
        ValueError: ``process_id`` outside ``[0, num_processes)``.

    Examples:
        >>> from scratchlstm import distributed
        >>> distributed.initialize(num_processes=2, process_id=2)
        Traceback (most recent call last):
        ...
        ValueError: process_id must be in [0, num_processes=2), got 2
    """
    _jax_distributed().initialize(coordinator_address, num_processes, process_id,
                                  heartbeat_timeout_seconds=heartbeat_timeout_seconds,
                                  initialization_timeout=initialization_timeout)


def is_initialized() -> bool:
    """Whether this process has joined a multi-process run (`initialize` has run).

    Examples:
        >>> from scratchlstm import distributed
        >>> distributed.is_initialized()
        False
    """
    initialized: bool = _jax_distributed().is_initialized()
    return initialized


def process_index() -> int:
    """This process's index (0 without ``jax.distributed``).

    Examples:
        >>> from scratchlstm import distributed
        >>> distributed.process_index()
        0
    """
    import jax

    index: int = jax.process_index()
    return index


def process_count() -> int:
    """How many processes take part (1 without ``jax.distributed``).

    Examples:
        >>> from scratchlstm import distributed
        >>> distributed.process_count()
        1
    """
    import jax

    count: int = jax.process_count()
    return count


def _jax_distributed() -> Any:
    from ..jax_backend import _distributed

    return _distributed
