"""Benchmark: an epoch of ``model.fit`` on the JAX backend, against its own jitted step and
against Keras 3's ``fit`` (JAX backend) on the same model and data.

The model is ``LSTM(H) -> Dense(1)``, MSE, Adam(1e-3), ``batch_size=B``, ``batches`` batches of
``x (B, T, I)`` per epoch, shuffled (sizes as ``bench_lstm.py``'s S/M/L). An epoch's time is
measured by a callback from ``on_epoch_begin`` to ``on_epoch_end`` (the same callback in both
libraries), after a first epoch that compiles; the median over ``--epochs`` epochs is kept.
The step time is the median of the bare jitted train step on a batch already on the device,
waited for each time; ``batches x step`` is what an epoch would take with no loop overhead.

Usage:

    KERAS_BACKEND=jax OPENBLAS_NUM_THREADS=1 python benchmarks/bench_fit.py
    KERAS_BACKEND=jax python benchmarks/bench_fit.py --configs M --epochs 9 --batches 32
    python benchmarks/bench_fit.py --no-keras

Prints a markdown table: ours (epoch ms, batches x step ms, their ratio), Keras 3's epoch ms
and ours / Keras'. The machine's load average is printed with it: timings on a loaded machine
are noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIGS = {  # name: (B, T, I, H), as bench_lstm.py
    "S": (32, 25, 1, 20),
    "M": (64, 100, 32, 128),
    "L": (256, 50, 64, 256),
}


def make_data(config, batches: int):
    batch, steps, features, _ = config
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch * batches, steps, features)).astype("float32")
    y = rng.normal(size=(batch * batches, 1)).astype("float32")
    return x, y


def epoch_timer(base):
    """A callback class (subclassing ``base``) recording each epoch's seconds."""

    class EpochTimer(base):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    return EpochTimer()


def ours(config, batches: int, epochs: int, repeats: int) -> dict:
    """Our epoch (median ms, the first, compiling epoch left out) and the bare jitted step."""
    import jax

    from scratchlstm import Dense, LSTM, Sequential, callbacks, optimizers

    batch, steps, features, units = config
    x, y = make_data(config, batches)
    model = Sequential([LSTM(units), Dense(1)], seed=0)
    model.compile(optimizer=optimizers.Adam(1e-3), loss="mse", backend="jax")
    model.build((None, steps, features))
    timer = epoch_timer(callbacks.Callback)
    model.fit(x, y, batch_size=batch, epochs=epochs + 1, shuffle=True, verbose=0, callbacks=[timer])
    epoch_ms = 1e3 * statistics.median(timer.seconds[1:])

    backend = model._backend()
    state = backend.init_state(model.get_variables(), batch)
    device_batch = backend.prepare_batch([x[:batch]], [y[:batch]])
    step = backend.compiled.train_step
    state, logs = step(state, *device_batch)  # compiled already: a cache hit
    jax.block_until_ready(logs["loss"])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        state, logs = step(state, *device_batch)
        jax.block_until_ready(logs["loss"])
        times.append(time.perf_counter() - t0)
    step_ms = 1e3 * statistics.median(times)
    return {"epoch": epoch_ms, "step": step_ms, "ratio": epoch_ms / (batches * step_ms)}


def keras_epoch(config, batches: int, epochs: int) -> float | None:
    """Keras 3's epoch (median ms) on the same model and data; None without Keras on JAX."""
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "jax":
        print(f"(Keras runs on {keras.backend.backend()}, not jax: set KERAS_BACKEND=jax; skipping it)")
        return None
    batch, steps, features, units = config
    x, y = make_data(config, batches)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((steps, features)), keras.layers.LSTM(units), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    timer = epoch_timer(keras.callbacks.Callback)
    model.fit(x, y, batch_size=batch, epochs=epochs + 1, shuffle=True, verbose=0, callbacks=[timer])
    return 1e3 * statistics.median(timer.seconds[1:])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["S", "M"], choices=sorted(CONFIGS))
    parser.add_argument("--batches", type=int, default=16, help="batches per epoch")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs (after one that compiles)")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls of the bare jitted step")
    parser.add_argument("--no-keras", action="store_true", help="skip Keras 3")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    import jax

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("n/a",) * 3
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{v:.2f}' if isinstance(v, float) else v for v in load)}; jax {jax.__version__}, "
          f"{len(jax.devices())} {jax.devices()[0].platform} device(s); "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}\n")
    print(f"## One epoch of fit: LSTM(H) + Dense(1), MSE, Adam, {args.batches} batches, shuffled, float32\n")
    print("| config (B, T, I, H) | ours: epoch ms | batches x step ms | epoch / (batches x step) "
          "| Keras 3 (JAX) epoch ms | ours / Keras |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in args.configs:
        config = CONFIGS[name]
        result = ours(config, args.batches, args.epochs, args.repeats)
        keras_ms = None if args.no_keras else keras_epoch(config, args.batches, args.epochs)
        keras_cells = "n/a | n/a" if keras_ms is None else f"{keras_ms:.1f} | {result['epoch'] / keras_ms:.2f}"
        print(f"| {name} {config} | {result['epoch']:.1f} | {args.batches * result['step']:.1f} "
              f"| {result['ratio']:.2f} | {keras_cells} |", flush=True)


if __name__ == "__main__":
    main()
