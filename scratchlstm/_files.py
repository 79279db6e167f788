"""One way to write a file: atomically, with the permissions a plain write would give.

Every file the library writes (model and weights files, safetensors state dicts, backup
metadata) goes through `atomic_write`:

- the bytes go to a temporary file in the target's folder, are flushed and fsync'ed, and
  ``os.replace`` moves it over the target, so a failed or killed write leaves the old file whole;
- the new file gets the mode a plain ``open(path, "w")`` would: the umask's for a new file, the
  replaced file's own mode otherwise (``tempfile.mkstemp`` would make every file 0600);
- a symlink is written through to its target, as ``open`` would (the link stays a link);
- a target that exists and is not a regular file (a directory, a FIFO, a device node) is
  refused with ``ValueError`` before anything is written;
- temporary files are named ``.<name>.tmp-<pid>-<host>-<random>``, so a later write of the same
  target removes the ones a killed write (SIGKILL) left behind: at once when the process that
  wrote one is gone (same host, POSIX), else once it is an hour old (another host's, or a name
  without a process id).
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import time
import uuid
from typing import BinaryIO, Callable

STALE_SECONDS = 3600.0  # a temporary file this old is a leftover, not a write in progress
# which machine wrote a temporary: a process id means something only there (a shared folder)
HOST_TAG = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(handle)`` on a binary file that replaces ``path`` only once complete.

    Args:
        path: the target file.
        write: a function that writes the content to the open binary handle it gets.

    Raises:
        ValueError: ``path`` exists and is not a regular file (nothing is written).
        FileNotFoundError: the folder does not exist.
    """
    target = os.path.realpath(os.fspath(path))  # through symlinks, as open() writes
    mode = None
    try:
        status = os.stat(target)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"{os.fspath(path)} exists and is not a regular file; refusing to replace it")
        mode = stat.S_IMODE(status.st_mode)
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"the folder of {os.fspath(path)!r} does not exist")
    _remove_stale_temporaries(folder, name)
    temporary = os.path.join(folder, f".{name}.tmp-{os.getpid()}-{HOST_TAG}-{uuid.uuid4().hex}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _remove_stale_temporaries(folder: str, name: str) -> None:
    prefix = f".{name}.tmp-"
    now = time.time()
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        candidate = os.path.join(folder, entry)
        try:
            status = os.lstat(candidate)
            if stat.S_ISREG(status.st_mode) and (
                now - status.st_mtime > STALE_SECONDS or _writer_is_gone(entry[len(prefix):])
            ):
                os.unlink(candidate)
        except OSError:
            pass


def _writer_is_gone(tag: str) -> bool:
    """Whether the temporary tagged ``<pid>-<host>-<random>`` was written by a process of this
    host that no longer runs (killed mid-write), so no write is in progress into it."""
    pid, _, rest = tag.partition("-")
    host = rest.partition("-")[0]
    if os.name != "posix" or host != HOST_TAG or not pid.isdigit() or int(pid) == os.getpid():
        return False  # (on Windows, os.kill(pid, 0) would end the process, not probe it)
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except (OverflowError, OSError):  # (PermissionError: alive, run by another user)
        return False  # alive, or not a process id at all
    return False
