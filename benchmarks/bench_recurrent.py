"""Benchmark: the streaming step of each recurrent cell, and ``Bidirectional`` against one direction.

1. Streaming inference: the latency of one time step at batch 1 (default ``H = 128``,
   ``I = 32``) of the pure NumPy step functions (``lstm_step``, ``gru_step``,
   ``simple_rnn_step``), of ``layer.step`` (the same plus argument checks), of the jitted JAX
   step functions, and of ``torch.nn.LSTMCell`` / ``GRUCell`` / ``RNNCell`` under
   ``torch.no_grad()`` (1 thread: a batch-1 step is too small to share), side by side.
2. ``Bidirectional(LSTM)``: the median ms of one train step (forward + BPTT + Adam, through the
   library's real training backends) of ``Bidirectional(LSTM(H, return_sequences=True))`` and of
   ``LSTM(H, return_sequences=True)`` alone, each followed by ``Dense(1)``, on the NumPy and the
   JAX backend; the ratio should be at most about 2.

Usage:

    python benchmarks/bench_recurrent.py                      # both parts
    python benchmarks/bench_recurrent.py --part streaming --units 128 --features 32
    python benchmarks/bench_recurrent.py --part bidirectional --configs M --backends numpy jax

Prints markdown tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_lstm import CONFIGS, median_ms, versions  # noqa: E402

KINDS = ("LSTM", "GRU", "SimpleRNN")


def step_latency_us(fn, repeats: int) -> float:
    """Median microseconds of ``fn()`` over ``repeats`` timed blocks of 100 calls each."""
    for _ in range(200):
        fn()
    blocks = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(100):
            fn()
        blocks.append((time.perf_counter() - t0) / 100)
    return 1e6 * statistics.median(blocks)


def streaming_rows(units: int, features: int, repeats: int, backends) -> list:
    from scratchlstm import layers
    from scratchlstm._numpy.rnn.gru import gru_step
    from scratchlstm._numpy.rnn.lstm import lstm_step
    from scratchlstm._numpy.rnn.simple_rnn import simple_rnn_step

    steps = {"LSTM": lstm_step, "GRU": gru_step, "SimpleRNN": simple_rnn_step}
    rng = np.random.default_rng(0)
    x_t = rng.normal(size=(1, features)).astype(np.float32)
    rows = []
    for kind in KINDS:
        layer = getattr(layers, kind)(units, seed=0)
        layer(np.zeros((1, 1, features), np.float32))
        params = layer.params
        states = tuple(np.zeros((1, units), np.float32) for _ in layer.cell_state_names)
        options = layer.cell_options()
        row = {"cell": kind}
        if "numpy" in backends:
            row["numpy step (us)"] = step_latency_us(lambda: steps[kind](params, x_t, states, **options), repeats)
            row["layer.step (us)"] = step_latency_us(lambda: layer.step(x_t, list(states)), repeats)
        if "jax" in backends:
            row["jax jit step (us)"] = jax_step_latency(kind, params, x_t, states, options, repeats)
        if "torch" in backends:
            row["torch cell (us)"] = torch_step_latency(kind, units, features, repeats)
        rows.append(row)
    return rows


def jax_step_latency(kind, params, x_t, states, options, repeats) -> float:
    import jax

    from scratchlstm.jax_backend.rnn import gru, lstm, simple_rnn

    step = {"LSTM": lstm.lstm_step, "GRU": gru.gru_step, "SimpleRNN": simple_rnn.simple_rnn_step}[kind]
    jitted = jax.jit(lambda p, x, s: step(p, x, s, **options))
    device = jax.device_put((params, x_t, states))
    return step_latency_us(lambda: jax.block_until_ready(jitted(*device)), repeats)


def torch_step_latency(kind, units, features, repeats) -> float:
    try:
        import torch
    except ImportError:
        return float("nan")
    torch.set_num_threads(1)
    cell = {"LSTM": torch.nn.LSTMCell, "GRU": torch.nn.GRUCell, "SimpleRNN": torch.nn.RNNCell}[kind](features, units)
    x_t = torch.randn(1, features)
    state = (torch.zeros(1, units), torch.zeros(1, units)) if kind == "LSTM" else torch.zeros(1, units)
    with torch.no_grad():
        return step_latency_us(lambda: cell(x_t, state), repeats)


def bidirectional_rows(configs, backends, repeats: int, max_seconds: float) -> list:
    from scratchlstm import Dense, Input, Sequential, optimizers
    from scratchlstm.layers import LSTM, Bidirectional

    rows = []
    for name in configs:
        batch, steps, features, units = CONFIGS[name]
        rng = np.random.default_rng(0)
        x = rng.normal(size=(batch, steps, features)).astype(np.float32)
        y = rng.normal(size=(batch, steps, 1)).astype(np.float32)
        for backend in backends:
            times = {}
            for label, make in (
                ("one direction", lambda: LSTM(units, return_sequences=True)),
                ("bidirectional", lambda: Bidirectional(LSTM(units, return_sequences=True))),
            ):
                model = Sequential([Input((steps, features)), make(), Dense(1)], seed=0)
                model.compile(optimizer=optimizers.Adam(1e-3), loss="mse", backend=backend)
                times[label] = median_ms(lambda: model.train_on_batch(x, y), repeats, max_seconds)
            rows.append({
                "config": f"{name} {CONFIGS[name]}", "backend": backend,
                "LSTM (ms)": times["one direction"], "Bidirectional (ms)": times["bidirectional"],
                "ratio": times["bidirectional"] / times["one direction"],
            })
    return rows


def print_table(rows: list) -> None:
    if not rows:
        return
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join("---" for _ in columns) + " |")
    for row in rows:
        cells = [f"{row[c]:.1f}" if isinstance(row[c], float) and c != "ratio" else (
            f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c])) for c in columns]
        print("| " + " | ".join(cells) + " |")
    print()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("streaming", "bidirectional", "both"), default="both")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--configs", nargs="+", default=["M"], choices=sorted(CONFIGS))
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax", "torch"])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    print(versions())
    if args.part in ("streaming", "both"):
        print(f"\n## One streaming step, batch 1, H = {args.units}, I = {args.features} (median us)\n")
        print_table(streaming_rows(args.units, args.features, args.repeats, args.backends))
    if args.part in ("bidirectional", "both"):
        print("\n## Train step: Bidirectional(LSTM) vs LSTM, return_sequences=True -> Dense(1) (median ms)\n")
        print_table(bidirectional_rows(args.configs, [b for b in args.backends if b != "torch"], args.repeats,
                                       args.max_seconds))


if __name__ == "__main__":
    main()
