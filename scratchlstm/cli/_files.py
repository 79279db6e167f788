"""The command line's checks of the paths it is given, made before anything is read or trained.

Inputs must be regular files, checked with ``os.stat`` before they are opened: opening a FIFO
blocks until a writer appears, so it is never opened. Outputs must be regular files or not exist
yet, in a folder that exists: ``model.save`` replaces whatever is at its path, so a directory, a
FIFO or a device node given as ``--out`` is refused before training, not discovered after it.
Standard output, when it is a full disk or /dev/full, fails as one line too (`GuardedStdout`).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from ._errors import CLIError

_KINDS = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def _stat(path: Path) -> os.stat_result | None:
    """``os.stat(path)`` (following links), or None when nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as error:  # permission, a loop of links, a name too long
        raise CLIError(f"{path}: cannot use this path: {error.strerror or error}") from None


def check_input(path: str | os.PathLike[str], expected: str, missing: str = "no such file") -> Path:
    """``path`` as a Path if it names a regular file; a one-line CLIError otherwise.

    Args:
        path: the path the user gave.
        expected: what the file should be, for the message (``"a CSV file"``).
        missing: the message when nothing is at ``path``.
    """
    path = Path(path)
    status = _stat(path)
    if status is None:
        raise CLIError(f"{path}: {missing}")
    if not stat.S_ISREG(status.st_mode):
        raise CLIError(f"{path}: not a regular file ({_kind(status.st_mode)}); expected {expected}")
    return path


def open_input(path: str | os.PathLike[str], expected: str) -> BinaryIO:
    """Open the regular file ``path`` for reading in binary mode, without blocking.

    The stat check comes first; the open itself uses ``O_NONBLOCK`` and the open file is
    checked again, so a FIFO swapped in between the two steps is refused, not waited on.
    """
    path = check_input(path, expected)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise CLIError(f"{path}: cannot open it: {error.strerror or error}") from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        raise CLIError(f"{path}: not a regular file ({_kind(status.st_mode)}); expected {expected}")
    if hasattr(os, "set_blocking"):
        os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def check_output(path: str | os.PathLike[str], what: str, inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Refuse an output path that cannot take a new regular file, before any work is done.

    Args:
        path: the path the user gave (``--out``, ``--plot``).
        what: what will be written there, for the message (``"the model"``).
        inputs: paths read by this command; writing over one of them is refused.
    """
    text = os.fspath(path)
    path = Path(text)
    if text == "" or text.endswith(("/", os.sep)):
        raise CLIError(f"{text!r}: names a folder; give a file path for {what}")
    status = _stat(path)
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise CLIError(f"{path}: not a regular file ({_kind(status.st_mode)}); give a file path for {what}")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise CLIError(f"{path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"{path}: cannot write {what} into the folder {folder} (permission denied)")
    if status is not None:
        for source in inputs:
            other = _stat(Path(source))
            if other is not None and os.path.samestat(status, other):
                raise CLIError(f"{path}: is also an input of this command; writing {what} there would overwrite it")


class GuardedStdout:
    """Stands in for ``sys.stdout`` while a command runs: a failed write or flush (stdout
    redirected to a full disk or to /dev/full) becomes a one-line CLIError, whichever ``print``
    or ``to_csv`` made it. A closed pipe (BrokenPipeError) passes through: ``main`` ends quietly.
    Everything else is the stream's own.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise _stdout_failure(error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise _stdout_failure(error) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _stdout_failure(error: OSError) -> CLIError:
    silence_stdout()  # else the exit-time flush of what is still buffered fails a second time
    return CLIError(f"cannot write the results to standard output: {error.strerror or error}")


def silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's exit-time flush raises no second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor
        pass
