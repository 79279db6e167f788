"""``python -m scratchlstm.distributed._run (script.py | -m module | -c code) [args...]``: one
process of a launched run: `scratchlstm.distributed.initialize` (from the launcher's
environment variables), then the program as ``python`` would run it."""

from __future__ import annotations

import runpy
import sys


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m scratchlstm.distributed._run (script.py | -m module | -c code) [args...]")
    from . import initialize

    initialize()
    if argv[0] == "-m" and len(argv) > 1:
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    elif argv[0] == "-c" and len(argv) > 1:
        sys.argv = ["-c", *argv[2:]]
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = list(argv)
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
