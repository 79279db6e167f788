"""Benchmark: one LSTM train step and forward pass on the NumPy reference, the JAX path and
(when installed) PyTorch's ``nn.LSTM``, side by side.

A train step is ``LSTM(H) -> Dense(1)`` (``return_sequences=False``), MSE loss, forward +
backward + Adam update, on one batch ``x (B, T, I)``. NumPy and JAX run the library's real
training backends (``scratchlstm.models._numpy_backend`` and ``scratchlstm.jax_backend``);
PyTorch runs ``nn.LSTM`` + ``nn.Linear`` + ``torch.optim.Adam`` with ``torch.set_num_threads(2)``.

Usage::

    python benchmarks/bench_lstm.py                          # all configs, all backends
    python benchmarks/bench_lstm.py --configs S M --repeats 20
    python benchmarks/bench_lstm.py --backends jax --projection both   # input GEMM inside vs before the scan
    python benchmarks/bench_lstm.py --dtype float64

Prints markdown tables: median ms per train step and per forward pass, sequences per second,
peak memory per train step (NumPy: tracemalloc peak; JAX: XLA's temp + output buffers of the
compiled step; PyTorch: not measured), and the JAX compile time of the train step at
T = 25, 100, 1000 (flat: ``lax.scan`` compiles one step whatever T is).
"""

from __future__ import annotations

import argparse
import os
import statistics
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


# --- backends: each returns {"train": ms, "forward": ms, "memory": bytes or None} ------------------
def bench_numpy(config, dtype, args):
    from scratchlstm.models._numpy_backend import NumpyBackend

    x, y = make_data(config, dtype)
    model = make_model(config, dtype, "numpy")
    backend = NumpyBackend(model)
    state = [backend.init_state(model.get_params(), len(x))]

    def train():
        state[0], _ = backend.train_step(state[0], x, y)

    def forward():
        backend.forward(state[0].params, x)

    result = {
        "train": median_ms(train, args.repeats, args.max_seconds),
        "forward": median_ms(forward, args.repeats, args.max_seconds),
    }
    tracemalloc.start()
    train()
    result["memory"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result


def bench_jax(config, dtype, args, projection=None):
    import jax

    from scratchlstm.jax_backend import make_training_backend

    x, y = make_data(config, dtype)
    model = make_model(config, dtype, "jax")
    backend = make_training_backend(model, projection=projection)
    state = [backend.init_state(model.get_params(), len(x))]
    params = backend.parallel.replicate(model.get_params())
    x_device = backend.parallel.shard(x)

    def train():
        state[0], logs = backend.train_step(state[0], x, y)
        jax.block_until_ready(logs["loss"])

    def forward():
        jax.block_until_ready(backend.compiled.predict_step(params, x_device))

    result = {
        "train": median_ms(train, args.repeats, args.max_seconds),
        "forward": median_ms(forward, args.repeats, args.max_seconds),
    }
    weight = backend.parallel.shard(np.ones(len(x), dtype))
    compiled = backend.compiled.train_step.lower(state[0], x_device, backend.parallel.shard(y), weight).compile()
    analysis = compiled.memory_analysis()
    result["memory"] = None if analysis is None else analysis.temp_size_in_bytes + analysis.output_size_in_bytes
    return result


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
    import jax

    from scratchlstm.jax_backend import make_training_backend

    seconds = {}
    for steps in COMPILE_STEPS:
        config = (16, steps, 8, 64)
        x, y = make_data(config, dtype)
        model = make_model(config, dtype, "jax")
        backend = make_training_backend(model, projection=projection)
        state = backend.init_state(model.get_params(), len(x))
        shard = backend.parallel.shard
        jax.clear_caches()  # the LT config has these very shapes: do not time a cache hit
        t0 = time.perf_counter()
        backend.compiled.train_step.lower(state, shard(x), shard(y), shard(np.ones(len(x), dtype))).compile()
        seconds[steps] = time.perf_counter() - t0
    return seconds


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS), help="which (B, T, I, H) configs")
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax", "torch"], choices=["numpy", "jax", "torch"])
    parser.add_argument("--repeats", type=int, default=10, help="timed runs per measurement (median reported)")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="stop repeating a measurement after this long (min 3 runs)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--projection", choices=["default", "inside", "outside", "both"], default="default",
                        help="JAX: input projection inside the scanned step or one GEMM before it")
    parser.add_argument("--no-compile-times", action="store_true", help="skip the JAX compile-time table")
    args = parser.parse_args(argv)

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
        else:
            runs.append(("PyTorch nn.LSTM (2 threads)", bench_torch))

    cpu = f"{os.cpu_count()} CPUs"
    print(f"## Train step (LSTM(H) + Dense(1), MSE, Adam) and forward pass, {args.dtype}, {cpu}\n")
    print("| config (B, T, I, H) | backend | train ms | train seq/s | forward ms | forward seq/s | peak memory / train step |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for config_name in args.configs:
        config = CONFIGS[config_name]
        for label, run in runs:
            result = run(config, args.dtype, args)
            batch = config[0]
            memory = "n/a" if result["memory"] is None else f"{result['memory'] / 2**20:.1f} MiB"
            print(
                f"| {config_name} {config} | {label} | {result['train']:.2f} | {batch / result['train'] * 1e3:,.0f} "
                f"| {result['forward']:.2f} | {batch / result['forward'] * 1e3:,.0f} | {memory} |",
                flush=True,
            )

    if "jax" in backends and not args.no_compile_times:
        print(f"\n## JAX train-step compile time (B=16, I=8, H=64, {args.dtype})\n")
        print("| T | " + " | ".join(str(t) for t in COMPILE_STEPS) + " |")
        print("| --- |" + " ---: |" * len(COMPILE_STEPS))
        seconds = jax_compile_seconds(args.dtype)
        print("| compile s | " + " | ".join(f"{seconds[t]:.2f}" for t in COMPILE_STEPS) + " |")
    print(
        "\nMemory: NumPy is the tracemalloc peak of one step; JAX is XLA's temp + output buffers of "
        "the compiled step (parameters and inputs excluded); PyTorch is not measured."
    )


if __name__ == "__main__":
    main()
