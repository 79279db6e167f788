"""Benchmark: one LSTM train step and forward pass on the NumPy reference, the JAX path and
(when installed) PyTorch's ``nn.LSTM``, side by side.

A train step is ``LSTM(H) -> Dense(1)`` (``return_sequences=False``), MSE loss, forward +
backward + Adam update, on one batch ``x (B, T, I)``. NumPy and JAX run the library's real
training backends (``scratchlstm.models._numpy_backend`` and ``scratchlstm.jax_backend``);
PyTorch runs ``nn.LSTM`` + ``nn.Linear`` + ``torch.optim.Adam`` with ``torch.set_num_threads(2)``.

Usage:

    python benchmarks/bench_lstm.py                          # all configs, all backends
    python benchmarks/bench_lstm.py --configs S M --repeats 20
    python benchmarks/bench_lstm.py --backends jax --projection both   # input GEMM inside vs before the scan
    python benchmarks/bench_lstm.py --dtype float64

Prints markdown tables: median ms per train step and per forward pass, sequences per second,
peak memory per train step (NumPy: tracemalloc peak; JAX: XLA's temp + output buffers of the
compiled step; PyTorch: not measured) and its ratio to the activations BPTT must keep plus
the parameters; the NumPy GEMM-only forward (the input GEMM and T recurrent GEMMs, nothing
else: a floor for the forward pass); the ratios of each backend to PyTorch; the JAX compile
time of the train step at T = 25, 100, 1000 (flat: ``lax.scan`` compiles one step whatever T
is); the JAX ``fit`` overhead (an epoch of ``fit`` against batches x the jitted step); and the
time ``import scratchlstm`` takes in a fresh interpreter (and whether it loaded jax).
"""

from __future__ import annotations

import argparse
import json
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIGS = {  # name: (B, T, I, H)
    "S": (32, 25, 1, 20),
    "M": (64, 100, 32, 128),
    "L": (256, 50, 64, 256),
    "LT": (16, 1000, 8, 64),
}
COMPILE_STEPS = (25, 100, 1000)


def median_ms(fn, repeats: int, max_seconds: float) -> float:
    """Median wall time of ``fn()`` in ms over up to ``repeats`` runs (at least 3), after one warm-up."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < repeats and (len(times) < 3 or time.perf_counter() - start < max_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def make_data(config, dtype):
    batch, steps, features, _ = config
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, steps, features)).astype(dtype)
    y = rng.normal(size=(batch, 1)).astype(dtype)
    return x, y


def make_model(config, dtype, backend):
    from scratchlstm import Dense, LSTM, Sequential, optimizers

    _, steps, features, units = config
    model = Sequential([LSTM(units, dtype=dtype), Dense(1, dtype=dtype)], seed=0)
    model.compile(optimizer=optimizers.Adam(1e-3), loss="mse", backend=backend)
    model.build((None, steps, features), np.dtype(dtype))
    return model


def activation_bound_bytes(config, dtype) -> int:
    """What BPTT must keep, ``B*T*6H`` values (gates 4H, cell, hidden), plus the parameters."""
    batch, steps, features, units = config
    params = features * 4 * units + units * 4 * units + 4 * units + units + 1  # LSTM + Dense(1)
    return (batch * steps * 6 * units + params) * np.dtype(dtype).itemsize


def gemm_only_forward_ms(config, dtype, args) -> float:
    """The NumPy forward's GEMMs alone: ``(T*B, I) @ (I, 4H)`` once, then T ``(B, H) @ (H, 4H)``."""
    batch, steps, features, units = config
    rng = np.random.default_rng(0)
    x = rng.normal(size=(steps * batch, features)).astype(dtype)
    kernel = rng.normal(size=(features, 4 * units)).astype(dtype)
    recurrent = rng.normal(size=(units, 4 * units)).astype(dtype)
    gates = np.empty((steps, batch, 4 * units), dtype)
    hiddens = rng.normal(size=(steps, batch, units)).astype(dtype)
    step = np.empty((batch, 4 * units), dtype)

    def forward():
        np.matmul(x, kernel, out=gates.reshape(steps * batch, 4 * units))
        for t in range(steps):
            np.matmul(hiddens[t], recurrent, out=step)

    return median_ms(forward, args.repeats, args.max_seconds)


# --- backends: each returns {"train": ms, "forward": ms, "memory": bytes or None} ------------------
def bench_numpy(config, dtype, args):
    from scratchlstm.models._numpy_backend import NumpyBackend

    x, y = make_data(config, dtype)
    model = make_model(config, dtype, "numpy")
    backend = NumpyBackend(model)
    state = [backend.init_state(model.get_variables(), len(x))]
    variables = model.get_variables()

    def train():
        state[0], _ = backend.train_step(state[0], [x], [y])

    def forward():
        backend.forward(variables["params"], variables["state"], [x])

    result = {
        "train": median_ms(train, args.repeats, args.max_seconds),
        "forward": median_ms(forward, args.repeats, args.max_seconds),
    }
    tracemalloc.start()
    train()
    result["memory"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result


@contextlib.contextmanager
def lstm_projection(projection):
    """Run with the JAX LSTM's input projection ``"inside"``/``"outside"`` the scan (None: default).

    The projection is a module default of ``jax_backend.rnn.lstm``; compiled steps are dropped
    before and after so that each setting is traced anew.
    """
    import jax

    from scratchlstm.jax_backend import _training
    from scratchlstm.jax_backend.rnn import lstm as jax_lstm

    saved = jax_lstm.DEFAULT_PROJECTION
    jax_lstm.DEFAULT_PROJECTION = projection or saved
    _training._CACHE.clear()
    jax.clear_caches()
    try:
        yield
    finally:
        jax_lstm.DEFAULT_PROJECTION = saved
        _training._CACHE.clear()
        jax.clear_caches()


def bench_jax(config, dtype, args, projection=None):
    if projection is not None:
        with lstm_projection(projection):
            return bench_jax(config, dtype, args)
    import jax

    from scratchlstm.jax_backend import make_training_backend

    x, y = make_data(config, dtype)
    model = make_model(config, dtype, "jax")
    backend = make_training_backend(model)
    state = [backend.init_state(model.get_variables(), len(x))]
    params = backend.parallel.replicate(model.get_variables())
    x_device = backend.parallel.shard([x])

    def train():
        state[0], logs = backend.train_step(state[0], [x], [y])
        jax.block_until_ready(logs["loss"])

    def forward():
        jax.block_until_ready(backend.compiled.predict_step(params, x_device))

    result = {
        "train": median_ms(train, args.repeats, args.max_seconds),
        "forward": median_ms(forward, args.repeats, args.max_seconds),
    }
    compiled = backend.compiled.train_step.lower(state[0], *backend._batch([x], [y], None, len(x), dtype)).compile()
    analysis = compiled.memory_analysis()
    result["memory"] = None if analysis is None else analysis.temp_size_in_bytes + analysis.output_size_in_bytes
    return result


def bench_jax_per_core(config, dtype, args):
    """`bench_jax` in a fresh interpreter where XLA makes one CPU device per core.

    XLA's CPU runtime runs a scanned step's small GEMMs on one core, so a single CPU device
    leaves the other cores idle (PyTorch's MKL uses them all). With
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` JAX sees N CPU devices and the JAX
    backend splits each batch across them (``scratchlstm.jax_backend``'s data parallelism),
    which puts every core to work. The flag must be set before JAX starts, hence the
    subprocess. Memory is per device.
    """
    code = (
        "import json, sys; sys.argv = ['bench_lstm']; import bench_lstm as b; "
        f"args = b.parse_args({['--repeats', str(args.repeats), '--max-seconds', str(args.max_seconds)]!r}); "
        f"import jax; jax.config.update('jax_enable_x64', {dtype == 'float64'}); "
        f"assert len(jax.devices()) == {os.cpu_count()}, jax.devices(); "
        f"print(json.dumps(b.bench_jax({tuple(config)!r}, {dtype!r}, args)))"
    )
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={os.cpu_count()}").strip()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(Path(__file__).resolve().parent))
    if out.returncode != 0:
        raise RuntimeError(f"the per-core JAX run failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_torch(config, dtype, args):
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    torch_dtype = torch.float64 if dtype == "float64" else torch.float32
    _, _, features, units = config
    x_np, y_np = make_data(config, dtype)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    lstm = torch.nn.LSTM(features, units, batch_first=True).to(torch_dtype)
    head = torch.nn.Linear(units, 1).to(torch_dtype)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-3, eps=1e-7)

    def train():
        optimizer.zero_grad()
        _, (h, _) = lstm(x)
        loss = torch.nn.functional.mse_loss(head(h[-1]), y)
        loss.backward()
        optimizer.step()

    def forward():
        with torch.no_grad():
            _, (h, _) = lstm(x)
            head(h[-1])

    return {
        "train": median_ms(train, args.repeats, args.max_seconds),
        "forward": median_ms(forward, args.repeats, args.max_seconds),
        "memory": None,
    }


def jax_compile_seconds(dtype, projection=None) -> dict:
    """Seconds to lower + compile the JAX train step for (16, T, 8, 64) at each T."""
    if projection is not None:
        with lstm_projection(projection):
            return jax_compile_seconds(dtype)
    import jax

    from scratchlstm.jax_backend import make_training_backend

    seconds = {}
    for steps in COMPILE_STEPS:
        config = (16, steps, 8, 64)
        x, y = make_data(config, dtype)
        model = make_model(config, dtype, "jax")
        backend = make_training_backend(model)
        state = backend.init_state(model.get_variables(), len(x))
        batch = backend._batch([x], [y], None, len(x), dtype)
        jax.clear_caches()  # the LT config has these very shapes: do not time a cache hit
        t0 = time.perf_counter()
        backend.compiled.train_step.lower(state, *batch).compile()
        seconds[steps] = time.perf_counter() - t0
    return seconds


def jax_fit_overhead(config, dtype, args, batches: int = 8) -> dict:
    """An epoch of ``model.fit`` on the JAX backend against ``batches`` x the jitted train step.

    ``fit`` runs after one warm-up epoch (compilation excluded), silent, without shuffling;
    the step time is the median of the bare ``train_step`` calls (``bench_jax``'s "train").
    """
    batch, steps, features, _ = config
    rng = np.random.default_rng(1)
    x = rng.normal(size=(batch * batches, steps, features)).astype(dtype)
    y = rng.normal(size=(batch * batches, 1)).astype(dtype)
    model = make_model(config, dtype, "jax")
    model.fit(x, y, epochs=1, batch_size=batch, verbose=0, shuffle=False)  # compile
    times = []
    for _ in range(max(3, args.repeats // 3)):
        t0 = time.perf_counter()
        model.fit(x, y, epochs=1, batch_size=batch, verbose=0, shuffle=False)
        times.append(time.perf_counter() - t0)
    epoch_ms = 1e3 * statistics.median(times)
    step_ms = bench_jax(config, dtype, args)["train"]
    return {"epoch": epoch_ms, "step": step_ms, "batches": batches, "ratio": epoch_ms / (batches * step_ms)}


def import_seconds(runs: int = 5) -> tuple:
    """Median seconds of ``import scratchlstm`` in a fresh interpreter, and whether jax got loaded."""
    code = (
        "import sys, time; t = time.perf_counter(); import scratchlstm; "
        "print(time.perf_counter() - t, 'jax' in sys.modules)"
    )
    root = str(Path(__file__).resolve().parents[1])
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
        seconds, jax_loaded = out.stdout.split()
        results.append((float(seconds), jax_loaded == "True"))
    return statistics.median(r[0] for r in results), any(r[1] for r in results)


def versions() -> str:
    parts = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    for name in ("jax", "optax", "torch"):
        try:
            module = __import__(name)
            parts.append(f"{name} {module.__version__}")
        except ImportError:
            pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        parts.append(f"BLAS {blas.get('name')} {blas.get('version')}")
    except Exception:  # noqa: BLE001 - informational only
        pass
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    parts.append(f"OPENBLAS_NUM_THREADS={threads}" if threads else "OPENBLAS_NUM_THREADS unset")
    return ", ".join(parts)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS), help="which (B, T, I, H) configs")
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax", "jax-cores", "torch"],
                        choices=["numpy", "jax", "jax-cores", "torch"],
                        help="jax-cores: the JAX backend data-parallel over one CPU device per core")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per measurement (median reported)")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="stop repeating a measurement after this long (min 3 runs)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--projection", choices=["default", "inside", "outside", "both"], default="default",
                        help="JAX: input projection inside the scanned step or one GEMM before it")
    parser.add_argument("--no-compile-times", action="store_true", help="skip the JAX compile-time table")
    parser.add_argument("--fit-configs", nargs="*", default=["S", "M"], choices=list(CONFIGS),
                        help="configs for the JAX fit-overhead table (none to skip)")
    parser.add_argument("--no-import-time", action="store_true", help="skip timing `import scratchlstm`")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)

    if args.dtype == "float64" and "jax" in args.backends:
        import jax

        jax.config.update("jax_enable_x64", True)
    backends = list(args.backends)
    if "torch" in backends and not torch_available():
        print("(torch is not installed: skipping the PyTorch rows)\n")
        backends.remove("torch")

    runs = []  # (label, function)
    for name in backends:
        if name == "numpy":
            runs.append(("NumPy reference", bench_numpy))
        elif name == "jax":
            projections = {"default": [None], "both": ["inside", "outside"]}.get(args.projection, [args.projection])
            for projection in projections:
                label = "JAX (jit, scan)" if projection is None else f"JAX, projection {projection}"
                runs.append((label, lambda c, d, a, p=projection: bench_jax(c, d, a, p)))
        elif name == "jax-cores":
            if (os.cpu_count() or 1) > 1:
                runs.append((f"JAX, {os.cpu_count()} CPU devices (one per core)", bench_jax_per_core))
        else:
            runs.append(("PyTorch nn.LSTM (2 threads)", bench_torch))

    print(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs; {versions()}\n")
    print(f"## Train step (LSTM(H) + Dense(1), MSE, Adam) and forward pass, {args.dtype}\n")
    print("| config (B, T, I, H) | backend | train ms | train seq/s | forward ms | forward seq/s "
          "| peak memory / train step | memory / (6H·B·T + params) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    results = {}  # (config, label) -> result
    for config_name in args.configs:
        config = CONFIGS[config_name]
        bound = activation_bound_bytes(config, args.dtype)
        for label, run in runs:
            result = results[config_name, label] = run(config, args.dtype, args)
            batch = config[0]
            if result["memory"] is None:
                memory = ratio = "n/a"
            else:
                memory, ratio = f"{result['memory'] / 2**20:.1f} MiB", f"{result['memory'] / bound:.2f}"
            print(
                f"| {config_name} {config} | {label} | {result['train']:.2f} | {batch / result['train'] * 1e3:,.0f} "
                f"| {result['forward']:.2f} | {batch / result['forward'] * 1e3:,.0f} | {memory} | {ratio} |",
                flush=True,
            )

    torch_label = "PyTorch nn.LSTM (2 threads)"
    if "numpy" in backends or any(name != torch_label for _, name in results):
        print("\n## Ratios (lower is faster)\n")
        print("| config | backend | train / PyTorch train | forward / PyTorch forward "
              "| NumPy GEMM-only forward ms | NumPy train / (3 x GEMM-only forward) |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for config_name in args.configs:
            config = CONFIGS[config_name]
            gemm = gemm_only_forward_ms(config, args.dtype, args) if "numpy" in backends else None
            reference = results.get((config_name, torch_label))
            for label, _ in runs:
                if label == torch_label:
                    continue
                result = results[config_name, label]
                train_ratio = f"{result['train'] / reference['train']:.2f}" if reference else "n/a"
                forward_ratio = f"{result['forward'] / reference['forward']:.2f}" if reference else "n/a"
                numpy_row = label == "NumPy reference" and gemm is not None
                gemm_cells = f"{gemm:.2f} | {result['train'] / (3 * gemm):.2f}" if numpy_row else " | "
                print(f"| {config_name} | {label} | {train_ratio} | {forward_ratio} | {gemm_cells} |", flush=True)

    if "jax" in backends and not args.no_compile_times:
        print(f"\n## JAX train-step compile time (B=16, I=8, H=64, {args.dtype})\n")
        print("| T | " + " | ".join(str(t) for t in COMPILE_STEPS) + " |")
        print("| --- |" + " ---: |" * len(COMPILE_STEPS))
        seconds = jax_compile_seconds(args.dtype)
        print("| compile s | " + " | ".join(f"{seconds[t]:.2f}" for t in COMPILE_STEPS) + " |")

    if "jax" in backends and args.fit_configs:
        print(f"\n## JAX fit overhead: one epoch of `fit` vs batches x jitted step ({args.dtype})\n")
        print("| config | batches | epoch ms | step ms | epoch / (batches x step) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for config_name in args.fit_configs:
            fit = jax_fit_overhead(CONFIGS[config_name], args.dtype, args)
            print(f"| {config_name} {CONFIGS[config_name]} | {fit['batches']} | {fit['epoch']:.1f} "
                  f"| {fit['step']:.2f} | {fit['ratio']:.2f} |", flush=True)

    if not args.no_import_time:
        seconds, jax_loaded = import_seconds()
        print(f"\n`import scratchlstm`: {seconds:.3f} s (median of 5 fresh interpreters); "
              f"jax loaded: {'yes' if jax_loaded else 'no'}")
    print(
        "\nMemory: NumPy is the tracemalloc peak of one step; JAX is XLA's temp + output buffers of "
        "the compiled step (parameters and inputs excluded); PyTorch is not measured. The bound is "
        "B·T·6H values (gates, cells, hiddens) plus the LSTM and Dense parameters."
    )


if __name__ == "__main__":
    main()
