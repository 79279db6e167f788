"""``python -m scratchlstm.distributed -n N [options] (script.py | -m module) [args...]``.

Starts N processes of the program on this machine (coordinator on 127.0.0.1), each joined to
the others by `scratchlstm.distributed.initialize` before the program runs, and waits for
them; the first to fail stops the others, and its exit code is this command's.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ._launch import launch


_WITH_VALUE = {"-n", "--processes", "--devices-per-process", "--port", "--timeout", "--heartbeat-timeout"}


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """``(launcher options, program)``: the program starts at ``-m``/``-c`` or the first word
    that is neither an option nor an option's value (so its own options stay its own)."""
    k = 0
    while k < len(argv):
        word = argv[k]
        if word in ("-m", "-c") or not word.startswith("-"):
            return argv[:k], argv[k:]
        k += 2 if word in _WITH_VALUE else 1
    return argv, []


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scratchlstm.distributed",
        description="Run a training script in N local processes joined by jax.distributed.",
    )
    parser.add_argument("-n", "--processes", type=int, required=True, help="how many processes")
    parser.add_argument("--devices-per-process", type=int, default=None,
                        help="CPU devices per process (sets XLA_FLAGS=--xla_force_host_platform_device_count)")
    parser.add_argument("--port", type=int, default=None, help="coordinator port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--timeout", type=float, default=None, help="stop every process after this many seconds")
    parser.add_argument("--heartbeat-timeout", type=int, default=None,
                        help="seconds after which JAX declares a silent process dead (JAX's default: 100)")
    parser.add_argument("program", nargs="*", help="script.py [args...] or -m module [args...]")
    options, program = _split(list(argv))
    args = parser.parse_args(options)
    args.program = program
    if args.processes < 1:
        parser.error(f"--processes must be at least 1, got {args.processes}")
    if not args.program:
        parser.error("name the program to run: script.py [args...] or -m module [args...]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return launch(args.program, args.processes, devices_per_process=args.devices_per_process, port=args.port,
                  timeout=args.timeout, heartbeat_timeout=args.heartbeat_timeout)


if __name__ == "__main__":
    sys.exit(main())
