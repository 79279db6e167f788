"""``launch``: start N processes of one program on this machine and watch them.

Each process gets ``JAX_COORDINATOR_ADDRESS=127.0.0.1:PORT``, ``SCRATCHLSTM_NUM_PROCESSES``,
``SCRATCHLSTM_PROCESS_ID`` (and, with ``devices_per_process``, ``XLA_FLAGS`` asking for that
many CPU devices) and runs the program through ``python -m scratchlstm.distributed._run``,
which calls `scratchlstm.distributed.initialize` first, so the program itself needs no change.
The first process to fail stops the others: the launcher names it and its exit code, and
returns that code (a run past ``timeout`` returns 124). It imports no JAX itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any, Mapping

_POLL_SECONDS = 0.1
_GRACE_SECONDS = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def worker_environment(process_id: int, processes: int, port: int, devices_per_process: int | None = None,
                       heartbeat_timeout: float | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of process ``process_id`` of ``processes`` (see the module docstring)."""
    env = dict(os.environ if base is None else base)
    env.update({
        "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
        "SCRATCHLSTM_NUM_PROCESSES": str(processes),
        "SCRATCHLSTM_PROCESS_ID": str(process_id),
    })
    if heartbeat_timeout is not None:
        env["SCRATCHLSTM_HEARTBEAT_TIMEOUT"] = str(int(heartbeat_timeout))
    if devices_per_process is not None:
        flags = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith("--xla_force_host_platform_device_count")]
        env["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={int(devices_per_process)}"])
    return env


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM the running children, then SIGKILL those still alive after a grace period."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def launch(program: list[str], processes: int, *, devices_per_process: int | None = None, port: int | None = None,
           timeout: float | None = None, heartbeat_timeout: int | None = None, initialize: bool = True,
           log: Any = None) -> int:
    """Run ``program`` in ``processes`` local processes joined by ``jax.distributed``.

    Args:
        program: what follows ``python``: ``["train.py", "arg", ...]``,
            ``["-m", "package.module", "arg", ...]`` or ``["-c", "code"]``.
        processes: how many processes (at least 1).
        devices_per_process: CPU devices each process gets (``XLA_FLAGS``); ``None`` leaves the
            platform's default.
        port: the coordinator's port on 127.0.0.1 (default: a free one).
        timeout: seconds after which every process is stopped (default: none).
        heartbeat_timeout: seconds after which JAX declares a silent process dead.
        initialize: call `scratchlstm.distributed.initialize` in each process before the
            program (False: run the program as is, with the environment variables set).
        log: where the launcher writes its own messages (default ``sys.stderr``).

    Returns:
        0 when every process exited with 0; else the first failure's exit code (124 after
        ``timeout``; 128 + the signal for a process killed by one), the others stopped.

    Raises:
        ValueError: ``processes`` below 1, or an empty ``program``.

    Examples:
        >>> import io
        >>> from scratchlstm.distributed import launch
        >>> code = "import os, sys; sys.exit(3 * (os.environ['SCRATCHLSTM_PROCESS_ID'] == '1'))"
        >>> messages = io.StringIO()
        >>> launch(["-c", code], 2, timeout=60, initialize=False, log=messages)
        3
        >>> print(messages.getvalue().strip())
        scratchlstm.distributed: process 1 of 2 exited with code 3; stopping the others
    """
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be an integer >= 1, got {processes!r}")
    if not program:
        raise ValueError("program must name a script or '-m module', got nothing")
    log = sys.stderr if log is None else log
    port = free_port() if port is None else int(port)
    prefix = [sys.executable, "-m", "scratchlstm.distributed._run"] if initialize else [sys.executable]
    children = [
        subprocess.Popen(prefix + list(program),
                         env=worker_environment(i, processes, port, devices_per_process, heartbeat_timeout))
        for i in range(processes)
    ]
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    try:
        while True:
            codes = [child.poll() for child in children]
            failed = next(((i, c) for i, c in enumerate(codes) if c not in (None, 0)), None)
            if failed is not None:
                print(f"scratchlstm.distributed: process {failed[0]} of {processes} exited with code {failed[1]}; "
                      "stopping the others", file=log, flush=True)
                _stop(children)
                return failed[1] if failed[1] > 0 else 128 - failed[1]  # killed by signal s: 128 + s
            if all(c == 0 for c in codes):
                return 0
            if deadline is not None and time.monotonic() > deadline:
                running = [i for i, c in enumerate(codes) if c is None]
                print(f"scratchlstm.distributed: timeout after {timeout} s with processes {running} still "
                      "running; stopping them", file=log, flush=True)
                _stop(children)
                return 124
            time.sleep(_POLL_SECONDS)
    except KeyboardInterrupt:
        _stop(children)
        raise
