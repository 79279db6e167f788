"""Benchmark: the GRU kernel's train step (forward + BPTT) and forward pass on the NumPy
reference, the JAX path and (when installed) PyTorch's ``nn.GRU``, side by side.

A train step is the GRU alone on one batch ``x (B, T, I)`` with the loss ``sum(outputs)``: the
forward pass and the gradients of every weight and of ``x``. NumPy runs ``gru_forward`` +
``gru_backward`` (``scratchlstm._numpy.rnn.gru``); JAX runs
``jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))`` over ``gru_forward``
(``scratchlstm.jax_backend.rnn.gru``: with the defaults, a custom VJP running the hand-written BPTT as a reverse ``lax.scan``), timed after a warm-up
call so compilation is excluded; PyTorch runs ``nn.GRU(batch_first=True)`` with
``x.requires_grad_()`` and ``sum(outputs).backward()``. PyTorch's GRU is ``reset_after=True``;
with ``--reset-after false`` its row stays as the reference point.

The backends are timed interleaved, in rounds of short blocks (see `interleaved_medians`), so
that load from other processes on a shared machine hits them alike.

Usage:

    python benchmarks/bench_gru.py                        # M, L, LT; numpy, jax, torch
    python benchmarks/bench_gru.py --configs M --repeats 20
    python benchmarks/bench_gru.py --reset-after both     # both GRU conventions
    python benchmarks/bench_gru.py --threads 1            # torch.set_num_threads(1); set
                                                          # OPENBLAS_NUM_THREADS=1 yourself too

Prints markdown tables: median ms per train step and per forward pass, sequences per second,
the ratio of each backend to PyTorch, and the latency of one streaming step (``gru_step`` at
batch 1 against ``torch.nn.GRUCell`` under ``torch.no_grad()``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lstm import CONFIGS as LSTM_CONFIGS  # noqa: E402
from bench_lstm import cpu_model, torch_available, versions  # noqa: E402

CONFIGS = {name: LSTM_CONFIGS[name] for name in ("M", "L", "LT")}  # name: (B, T, I, H)
STEP_CONFIG = (1, 32, 128)  # (B, I, H) of the streaming-step latency table


def interleaved_medians(functions: dict, repeats: int, max_seconds: float, block: int = 3) -> dict:
    """``{name: median ms}`` over rounds of blocks: per round, each function in turn gets one
    untimed call and then ``block`` timed calls.

    Blocks rather than single calls: PyTorch's OpenMP threads spin for a while after a call
    and would steal the cores from an OpenBLAS call right after it (call-by-call interleaving
    measured torch 1.7x slower at M); rounds rather than one run per backend, so that load
    from other processes on a shared machine hits every backend alike.
    """
    times = {name: [] for name in functions}
    start = time.perf_counter()
    while min(len(v) for v in times.values()) < repeats and (
        min(len(v) for v in times.values()) < 3 or time.perf_counter() - start < max_seconds
    ):
        for name, fn in functions.items():
            fn()
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: 1e3 * statistics.median(values) for name, values in times.items()}


def make_case(config, dtype, reset_after: bool):
    batch, steps, features, units = config
    rng = np.random.default_rng(0)
    limit = np.sqrt(6.0 / (features + 3 * units))  # glorot-uniform-like scales
    params = {
        "kernel": rng.uniform(-limit, limit, size=(features, 3 * units)).astype(dtype),
        "recurrent_kernel": (rng.normal(size=(units, 3 * units)) / np.sqrt(units)).astype(dtype),
        "bias": (rng.normal(scale=0.1, size=(2, 3 * units) if reset_after else (3 * units,))).astype(dtype),
    }
    x = rng.normal(size=(batch, steps, features)).astype(dtype)
    return params, x


# --- backends: each returns {"train": fn, "forward": fn} --------------------------------------------
def numpy_functions(config, dtype, reset_after: bool):
    from scratchlstm._numpy.rnn.gru import gru_backward, gru_forward

    params, x = make_case(config, dtype, reset_after)
    d_outputs = np.ones(x.shape[:2] + (config[3],), dtype)  # d sum(outputs)

    def train():
        _, _, cache = gru_forward(params, x, reset_after=reset_after)
        gru_backward(params, cache, d_outputs)

    def forward():
        gru_forward(params, x, reset_after=reset_after)

    return {"train": train, "forward": forward}


def jax_functions(config, dtype, reset_after: bool):
    import jax
    import jax.numpy as jnp

    from scratchlstm.jax_backend.rnn.gru import gru_forward

    params, x = make_case(config, dtype, reset_after)
    params = jax.device_put(params)
    x = jax.device_put(x)

    def loss(p, inputs):
        outputs, _ = gru_forward(p, inputs, reset_after=reset_after)
        return jnp.sum(outputs)

    value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    forward_jit = jax.jit(lambda p, inputs: gru_forward(p, inputs, reset_after=reset_after)[0])

    def train():
        jax.block_until_ready(value_and_grad(params, x))

    def forward():
        jax.block_until_ready(forward_jit(params, x))

    return {"train": train, "forward": forward}


def torch_functions(config, dtype, reset_after: bool):
    import torch

    _, _, features, units = config
    torch.manual_seed(0)
    gru = torch.nn.GRU(features, units, batch_first=True).to(getattr(torch, dtype))
    _, x_np = make_case(config, dtype, True)
    x = torch.from_numpy(x_np).requires_grad_(True)

    def train():
        gru.zero_grad(set_to_none=True)
        x.grad = None
        outputs, _ = gru(x)
        outputs.sum().backward()

    def forward():
        with torch.no_grad():
            gru(x)

    return {"train": train, "forward": forward}


BACKENDS = {"numpy": ("NumPy reference", numpy_functions), "jax": ("JAX (jit, scan, BPTT custom VJP)", jax_functions),
            "torch": ("PyTorch nn.GRU", torch_functions)}


def step_latency_us(args) -> dict:
    """Median microseconds of one streaming step at batch 1, float32."""
    batch, features, units = STEP_CONFIG
    rng = np.random.default_rng(1)
    functions = {}
    from scratchlstm._numpy.rnn.gru import gru_step

    params, _ = make_case((batch, 1, features, units), "float32", True)
    x_t = rng.normal(size=(batch, features)).astype(np.float32)
    state = (np.zeros((batch, units), np.float32),)
    functions["NumPy gru_step"] = lambda: gru_step(params, x_t, state)
    if "jax" in args.backends:
        import jax

        from scratchlstm.jax_backend.rnn.gru import gru_step as jax_gru_step

        jitted = jax.jit(jax_gru_step)
        jax_params, jax_x, jax_state = jax.device_put((params, x_t, state))
        functions["JAX gru_step (jit)"] = lambda: jax.block_until_ready(jitted(jax_params, jax_x, jax_state))
    if "torch" in args.backends and torch_available():
        import torch

        cell = torch.nn.GRUCell(features, units)
        x_torch, h_torch = torch.from_numpy(x_t), torch.from_numpy(state[0])

        def torch_step():
            with torch.no_grad():
                cell(x_torch, h_torch)

        functions["PyTorch nn.GRUCell (no_grad)"] = torch_step
    # Each call takes microseconds: time batches of 200 calls.
    batched = {name: (lambda fn=fn: [fn() for _ in range(200)]) for name, fn in functions.items()}
    return {name: ms / 200 * 1e3 for name, ms in interleaved_medians(batched, args.repeats, args.max_seconds).items()}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS),
                        help="which (B, T, I, H) configs")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=list(BACKENDS))
    parser.add_argument("--reset-after", choices=["true", "false", "both"], default="true")
    parser.add_argument("--repeats", type=int, default=12, help="timed calls per measurement (median reported)")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="stop adding rounds after this long (min 3)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch.set_num_threads (default: all cores)")
    parser.add_argument("--no-step", action="store_true", help="skip the streaming-step latency table")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.dtype == "float64" and "jax" in args.backends:
        import jax

        jax.config.update("jax_enable_x64", True)
    backends = list(args.backends)
    if "torch" in backends:
        if torch_available():
            import torch

            torch.set_num_threads(args.threads)
        else:
            print("(torch is not installed: skipping the PyTorch rows)\n")
            backends.remove("torch")
    modes = {"true": [True], "false": [False], "both": [True, False]}[args.reset_after]

    print(f"Machine: {cpu_model()}, {os.cpu_count()} CPUs; {versions()}; torch threads {args.threads}\n")
    print(f"## GRU train step (forward + gradients of weights and x, loss sum(outputs)) and forward, {args.dtype}\n")
    print("| config (B, T, I, H) | reset_after | backend | train ms | train seq/s | forward ms | forward seq/s "
          "| train / PyTorch | forward / PyTorch |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for config_name in args.configs:
        config = CONFIGS[config_name]
        batch = config[0]
        for reset_after in modes:
            functions = {name: BACKENDS[name][1](config, args.dtype, reset_after) for name in backends}
            train = interleaved_medians({n: f["train"] for n, f in functions.items()}, args.repeats,
                                        args.max_seconds)
            forward = interleaved_medians({n: f["forward"] for n, f in functions.items()}, args.repeats,
                                          args.max_seconds)
            for name in backends:
                ratios = " | "
                if "torch" in train:
                    ratios = f"{train[name] / train['torch']:.2f} | {forward[name] / forward['torch']:.2f}"
                print(
                    f"| {config_name} {config} | {reset_after} | {BACKENDS[name][0]} | {train[name]:.2f} "
                    f"| {batch / train[name] * 1e3:,.0f} | {forward[name]:.2f} | {batch / forward[name] * 1e3:,.0f} "
                    f"| {ratios} |",
                    flush=True,
                )

    if not args.no_step:
        batch, features, units = STEP_CONFIG
        print(f"\n## Streaming step latency (B={batch}, I={features}, H={units}, float32, reset_after=True)\n")
        print("| step | us per call |")
        print("| --- | ---: |")
        for name, us in step_latency_us(args).items():
            print(f"| {name} | {us:.1f} |", flush=True)


if __name__ == "__main__":
    main()
