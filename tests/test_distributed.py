"""Several JAX processes (``jax.distributed``) and the fit loop's double-buffered batches.

The multi-process tests start real processes on 127.0.0.1 (2 processes x 2 CPU devices, CPU
collectives through gloo), always under subprocess timeouts, and compare them with one process
of 4 devices on the same data and global batch.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import scratchlstm as sl  # noqa: E402
from scratchlstm import callbacks  # noqa: E402
from scratchlstm.distributed import launch  # noqa: E402
from scratchlstm.distributed.__main__ import parse_args  # noqa: E402
from scratchlstm.distributed._launch import free_port, worker_environment  # noqa: E402
from scratchlstm.jax_backend import _training  # noqa: E402
from scratchlstm.jax_backend._parallel import pad_rows  # noqa: E402
from scratchlstm.models import _fit  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUN_SECONDS = 150  # a bound for one multi-process run (about 30 s on 2 loaded cores)

# One process of the runs below: 45 samples (37 train, 8 validation: neither divides by the
# 2 processes nor by the batch of 8), shuffled, with a metric, a CSV log and a progress bar.
WORKER = textwrap.dedent('''
    import json, os, sys
    mode, out = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:  # explicit arguments (else the launcher's environment, or one process)
        from scratchlstm import distributed
        distributed.initialize(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), heartbeat_timeout_seconds=10)
    import jax
    import numpy as np
    import scratchlstm as sl
    from scratchlstm import callbacks

    pid = jax.process_index()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(45, 5, 3)).astype("float32")
    y = rng.normal(size=(45, 2)).astype("float32")
    model = sl.Sequential([sl.layers.LSTM(4), sl.layers.Dense(2)], seed=0)
    model.compile(optimizer=sl.optimizers.Adam(0.01), loss="mse", metrics=["mae"], backend="jax")
    hooks = [callbacks.CSVLogger(os.path.join(out, f"log{pid}.csv"))]
    if mode == "die":
        class Die(callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1 and pid == 1:
                    os._exit(7)
        hooks.append(Die())
    history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.2, verbose=1, callbacks=hooks)
    result = {
        "devices": len(jax.devices()),
        "history": history.history,
        "weights": [w.tolist() for w in model.get_weights()],
        "predict": model.predict(x[:13], batch_size=4, verbose=0).tolist(),
        "evaluate": model.evaluate(x[:11], y[:11], batch_size=4, verbose=0, return_dict=True),
    }
    with open(os.path.join(out, f"result{pid}.json"), "w") as handle:
        json.dump(result, handle)
''')


def _environment(devices: int) -> dict:
    env = dict(os.environ)
    env.update(KERAS_BACKEND="jax", OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    return env


def _require_gloo():
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except Exception as error:  # an old jax without it: nothing to test the processes with
        pytest.skip(f"no gloo CPU collectives in this jax: {error}")


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    path = tmp_path_factory.mktemp("worker") / "worker.py"
    path.write_text(WORKER)
    return path


def _start(worker, mode, out, *args, devices=2):
    return subprocess.Popen([sys.executable, str(worker), mode, str(out), *map(str, args)], env=_environment(devices),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process, timeout=RUN_SECONDS):
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"a process ran past {timeout} s:\n{err[-3000:]}")
    return process.returncode, out, err


def _load(path):
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="module")
def one_process(worker, tmp_path_factory):
    """The reference: one process with 4 devices, the same data and global batch."""
    out = tmp_path_factory.mktemp("one")
    code, _, err = _finish(_start(worker, "train", out, devices=4))
    assert code == 0, err[-3000:]
    return _load(out / "result0.json")


@pytest.mark.slow
def test_two_processes_of_two_devices_train_as_one_process_of_four(worker, one_process, tmp_path):
    _require_gloo()
    address = f"127.0.0.1:{free_port()}"
    processes = [_start(worker, "train", tmp_path, address, 2, pid) for pid in (0, 1)]
    finished = [_finish(p) for p in processes]
    for code, _, err in finished:
        assert code == 0, err[-3000:]
    results = [_load(tmp_path / f"result{pid}.json") for pid in (0, 1)]
    assert results[0]["devices"] == results[1]["devices"] == one_process["devices"] == 4
    # every process ends with the same weights, logs and outputs, bit for bit
    assert results[0] == results[1]
    got = results[0]
    assert got["history"].keys() == one_process["history"].keys() == {"loss", "mae", "val_loss", "val_mae"}
    for key, values in one_process["history"].items():
        np.testing.assert_allclose(got["history"][key], values, rtol=1e-5, err_msg=key)
    for ours, reference in zip(got["weights"], one_process["weights"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["predict"], one_process["predict"], rtol=1e-5, atol=1e-6)
    assert np.shape(got["predict"]) == (13, 2)
    for key, value in one_process["evaluate"].items():
        np.testing.assert_allclose(got["evaluate"][key], value, rtol=1e-5, err_msg=key)
    # only process 0 writes the callbacks' files and prints the progress bar
    assert (tmp_path / "log0.csv").exists() and not (tmp_path / "log1.csv").exists()
    assert len((tmp_path / "log0.csv").read_text().splitlines()) == 4  # header + 3 epochs
    assert "Epoch 3/3" in finished[0][1] and "loss:" in finished[0][1]
    assert "Epoch" not in finished[1][1] and "loss:" not in finished[1][1]


@pytest.mark.slow
def test_a_dead_process_makes_the_other_fail_quickly_with_a_clear_error(worker, tmp_path):
    _require_gloo()
    address = f"127.0.0.1:{free_port()}"
    start = time.monotonic()
    processes = [_start(worker, "die", tmp_path, address, 2, pid) for pid in (0, 1)]
    (code0, _, err0), (code1, _, _) = [_finish(p) for p in processes]
    assert code1 == 7  # the one that died
    assert code0 != 0 and time.monotonic() - start < RUN_SECONDS
    assert "Connection reset by peer" in err0 or "heartbeat" in err0 or "Connection closed" in err0, err0[-3000:]
    assert not (tmp_path / "result0.json").exists()


@pytest.mark.slow
def test_the_launcher_stops_the_others_and_names_the_process_that_died(worker, tmp_path):
    _require_gloo()
    messages = io.StringIO()
    start = time.monotonic()
    code = launch([str(worker), "die", str(tmp_path)], 2, devices_per_process=2, timeout=RUN_SECONDS,
                  heartbeat_timeout=10, log=messages)
    assert code == 7, messages.getvalue()
    assert "process 1 of 2 exited with code 7; stopping the others" in messages.getvalue()
    assert time.monotonic() - start < RUN_SECONDS
    assert not (tmp_path / "result0.json").exists() and not (tmp_path / "result1.json").exists()


# --- the launcher, without JAX in the children --------------------------------------------------

def test_the_launcher_gives_each_process_its_id_and_the_coordinator(tmp_path):
    code = ("import os, pathlib; e = os.environ; pathlib.Path(r'%s', e['SCRATCHLSTM_PROCESS_ID']).write_text("
            "e['JAX_COORDINATOR_ADDRESS'] + ' ' + e['SCRATCHLSTM_NUM_PROCESSES'] + ' ' + e['XLA_FLAGS'])") % tmp_path
    assert launch(["-c", code], 3, devices_per_process=2, port=4321, timeout=60, initialize=False) == 0
    for pid in range(3):
        assert (tmp_path / str(pid)).read_text() == "127.0.0.1:4321 3 --xla_force_host_platform_device_count=2"


def test_the_launcher_stops_everything_after_its_timeout():
    messages = io.StringIO()
    start = time.monotonic()
    code = launch(["-c", "import time; time.sleep(60)"], 2, timeout=1, initialize=False, log=messages)
    assert code == 124 and time.monotonic() - start < 20
    assert "timeout after 1 s with processes [0, 1] still running" in messages.getvalue()


def test_the_launcher_rejects_bad_arguments():
    with pytest.raises(ValueError, match="processes must be an integer >= 1, got 0"):
        launch(["x.py"], 0)
    with pytest.raises(ValueError, match="program must name a script"):
        launch([], 2)
    with pytest.raises(SystemExit):
        parse_args(["-n", "2"])


def test_the_command_line_keeps_the_programs_own_options():
    args = parse_args(["-n", "2", "--timeout", "5", "-m", "scratchlstm", "fit", "-n", "3"])
    assert (args.processes, args.timeout, args.program) == (2, 5.0, ["-m", "scratchlstm", "fit", "-n", "3"])
    args = parse_args(["--processes=4", "--devices-per-process", "2", "train.py", "--epochs", "3"])
    assert (args.processes, args.devices_per_process, args.program) == (4, 2, ["train.py", "--epochs", "3"])


def test_worker_environment_replaces_only_the_device_count_flag():
    env = worker_environment(1, 2, 99, devices_per_process=3, heartbeat_timeout=7,
                             base={"XLA_FLAGS": "--xla_force_host_platform_device_count=8 --xla_cpu_foo=1"})
    assert env["XLA_FLAGS"] == "--xla_cpu_foo=1 --xla_force_host_platform_device_count=3"
    assert (env["SCRATCHLSTM_PROCESS_ID"], env["SCRATCHLSTM_HEARTBEAT_TIMEOUT"]) == ("1", "7")


def test_initialize_rejects_a_process_id_outside_the_run(monkeypatch):
    from scratchlstm import distributed

    with pytest.raises(ValueError, match=r"process_id must be in \[0, num_processes=2\), got 5"):
        distributed.initialize(num_processes=2, process_id=5)
    monkeypatch.setenv("SCRATCHLSTM_NUM_PROCESSES", "two")
    with pytest.raises(ValueError, match="SCRATCHLSTM_NUM_PROCESSES must be an integer, got 'two'"):
        distributed.initialize()
    assert not distributed.is_initialized()


# --- one process: which callbacks each process runs, the rows it gathers, the prefetch --------

def test_processes_other_than_0_keep_only_the_reading_hooks_of_the_file_writers(tmp_path):
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"))
    csv = callbacks.CSVLogger(str(tmp_path / "log.csv"))
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m.weights.npz"), save_weights_only=True)
    stopping, progress = callbacks.EarlyStopping(), callbacks.ProgbarLogger()
    given = [backup, csv, checkpoint, stopping, progress]
    assert _fit.process_callbacks(given, 0) == given
    kept = _fit.process_callbacks(given, 1)
    assert len(kept) == 2 and kept[1] is stopping
    assert isinstance(kept[0], _fit._ReadOnlyHooks) and kept[0].callback is backup
    # the restore runs, the backups do not
    calls = []
    backup.on_train_begin = lambda logs=None: calls.append("restore")
    backup.on_epoch_end = lambda epoch, logs=None: calls.append("backup")
    backup.on_train_end = lambda logs=None: calls.append("delete")
    wrapped = kept[0]
    wrapped.set_model("model")
    wrapped.on_train_begin()
    wrapped.on_epoch_end(0, {"loss": 1.0})
    wrapped.on_train_end()
    assert calls == ["restore"] and backup.model == "model"


@pytest.mark.parametrize("real, rows, block", [(5, 8, slice(4, 8)), (5, 8, slice(0, 4)), (8, 8, slice(0, 8)), (3, 4, slice(2, 4))])
def test_each_process_gathers_its_block_of_the_padded_batch(real, rows, block):
    index = np.array([9, 2, 7, 4, 0, 6, 1, 3][:real])
    data = np.arange(10) * 10
    expected = pad_rows(data[index], rows)[block]
    np.testing.assert_array_equal(data[_training._picked_samples(real, rows, index, block)], expected)
    picked = _training._picked_samples(real, rows, None, block)  # the batch itself, not an index
    if real == rows and block == slice(0, rows):
        assert picked is None  # nothing to gather
    else:
        np.testing.assert_array_equal(data[:real][picked], pad_rows(data[:real], rows)[block])


def test_the_jax_fit_loop_sends_batch_k_plus_1_before_reading_step_k():
    x = np.random.default_rng(0).normal(size=(20, 4, 2)).astype("float32")
    y = np.random.default_rng(1).normal(size=(20, 1)).astype("float32")
    model = sl.Sequential([sl.layers.LSTM(3), sl.layers.Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse", backend="jax")
    model.build((None, 4, 2))
    events = []
    backend = model._backend()
    prepare, train = backend.prepare_batch, backend.train_prepared

    def prepare_batch(xs, ys, weights, index):
        events.append(("prepare", len(index)))
        return prepare(xs, ys, weights, index)

    def train_prepared(state, batch):
        events.append(("step",))
        return train(state, batch)

    backend.prepare_batch, backend.train_prepared = prepare_batch, train_prepared
    logger = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: events.append(("read", batch)))
    _fit.run_fit(model, backend, (model._cast_inputs([x]), [y], None), epochs=1, initial_epoch=0, batch_size=8,
                 validation=None, shuffle=True, callbacks=[logger], verbose=0, rng=np.random.default_rng(0))
    # batch k + 1 is prepared right after step k is dispatched, before step k's logs are read
    assert events == [("prepare", 8), ("step",), ("prepare", 8), ("step",), ("prepare", 4), ("read", 0),
                      ("step",), ("read", 1), ("read", 2)]
