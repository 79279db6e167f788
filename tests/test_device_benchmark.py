"""``benchmarks/device.py --quick`` runs on the CPU: device and versions, one timed row per
route and dtype, numbers where the route runs and the reason where it cannot."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")

ROOT = Path(__file__).resolve().parents[1]


def test_device_benchmark_quick_runs_and_reports_every_route():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device.py"), "--quick", "--repeats", "2"],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert re.search(r"^Device: cpu", out, re.M), out
    assert re.search(r"^Versions: .*jax \d", out, re.M), out
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| quick")]
    routes = {(dtype.strip(), route.strip()): value.strip() for _, dtype, route, value in rows}
    for dtype in ("float32", "bfloat16"):
        for route in ("scratchlstm (jit, lax.scan)", "lax.scan step (hand-written)"):
            assert float(routes[(dtype, route)]) > 0, routes  # a time in ms
        assert routes[(dtype, "jax.experimental.rnn (cuDNN)")] == "not offered on cpu"
        assert routes[(dtype, "PyTorch nn.LSTM (cuDNN)")]  # a time on a CUDA machine, else the reason
    assert len(rows) == 8
