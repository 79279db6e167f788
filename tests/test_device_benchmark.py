"""``benchmarks/device.py --quick`` runs on the CPU: device and versions, one timed row per
route and dtype, numbers where the route runs and the reason where it cannot."""

import importlib.util
import re
from pathlib import Path

import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_device_benchmark_quick_runs_and_reports_every_route(capsys):
    # in-process: the worker has JAX and PyTorch imported already (a subprocess spent 5 s on that)
    spec = importlib.util.spec_from_file_location("device_benchmark", ROOT / "benchmarks" / "device.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    assert benchmark.main(["--quick", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
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
