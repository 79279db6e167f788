"""Every file the library writes goes through one atomic writer (issue 14's "Saving" items):
a plain write's permissions, symlinks written through, non-regular targets refused, a failed
write leaving the old file, stale temporaries of a killed write cleaned up."""

import os
import stat
import time

import numpy as np
import pytest

import scratchlstm as keras
from scratchlstm._files import STALE_SECONDS, atomic_write


def _model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, seed=0)])


def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path):
    previous = os.umask(0o022)
    try:
        path = tmp_path / "m.npz"
        _model().save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # mkstemp would give 0600
        os.chmod(path, 0o640)
        _model().save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    finally:
        os.umask(previous)


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "real.npz"
    link = tmp_path / "link.npz"
    _model().save(target)
    link.symlink_to(target)
    model = _model()
    model.set_weights([w + 1 for w in model.get_weights()])
    model.save(link)
    assert link.is_symlink()
    np.testing.assert_array_equal(keras.load_model(target).get_weights()[0], model.get_weights()[0])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_non_regular_targets_are_refused_before_writing(tmp_path):
    for name in ("pipe.npz", "pipe.keras"):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        with pytest.raises(ValueError, match="not a regular file"):
            _model().save(fifo)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    for name in ("folder.npz", "folder.weights.h5"):
        (tmp_path / name).mkdir()
        with pytest.raises(ValueError, match="not a regular file"):
            _model().save_weights(tmp_path / name)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")

    def broken(handle):
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_stale_temporaries_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    path = tmp_path / "m.npz"
    stale = tmp_path / ".m.npz.tmp-0123"
    fresh = tmp_path / ".m.npz.tmp-4567"  # maybe a write in progress: kept
    other = tmp_path / ".other.npz.tmp-89ab"  # another target's: kept
    for leftover in (stale, fresh, other):
        leftover.write_bytes(b"partial")
    old = time.time() - 2 * STALE_SECONDS
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    _model().save(path)
    assert not stale.exists() and fresh.exists() and other.exists()


@pytest.mark.skipif(os.name != "posix", reason="process ids are probed on POSIX only")
def test_a_temporary_whose_writer_was_killed_is_removed_by_the_next_write_at_once(tmp_path):
    """A SIGKILL'd save left its temporary for an hour; its name now says which process wrote it."""
    import subprocess

    from scratchlstm._files import HOST_TAG

    finished = subprocess.Popen(["true"])
    finished.wait()  # its process id now names no process (a killed writer's)
    running = subprocess.Popen(["sleep", "60"])  # another process, writing: its temporary is kept
    try:
        dead = tmp_path / f".m.npz.tmp-{finished.pid}-{HOST_TAG}-0123"
        alive = tmp_path / f".m.npz.tmp-{running.pid}-{HOST_TAG}-4567"
        own = tmp_path / f".m.npz.tmp-{os.getpid()}-{HOST_TAG}-cdef"  # this process's: kept
        elsewhere = tmp_path / f".m.npz.tmp-{finished.pid}-00000000-89ab"  # another host's process: kept
        for leftover in (dead, alive, own, elsewhere):
            leftover.write_bytes(b"partial")
        _model().save(tmp_path / "m.npz")
    finally:
        running.kill()
        running.wait()
    assert not dead.exists() and alive.exists() and own.exists() and elsewhere.exists()
