"""Benchmark: the JAX path's LSTM train step on whatever device JAX has (GPU, TPU or CPU).

One command, a few minutes on a GPU:

    python benchmarks/device.py            # L = (256, 50, 64, 256) and XL = (1024, 100, 128, 512)
    python benchmarks/device.py --quick    # small sizes, runs on the CPU in seconds (CI runs it)
    python benchmarks/device.py --remat    # remat=None vs remat=k: memory and step time, long T

A train step is ``LSTM(H) -> Dense(1)`` on the last output, MSE, Adam(1e-3), forward + backward +
update, on one batch ``x (B, T, I)``; the median wall time in ms after a warm-up (compilation
excluded), every row on the same device. Rows:

- ``scratchlstm (jit, lax.scan)``: the library's JAX training backend (``compile(backend="jax")``),
  float32, and bfloat16 through the dtype policy ``scratchlstm.mixed_precision``
  (``dtype="mixed_bfloat16"`` on the layers: float32 weights, bfloat16 math, float32 loss).
  Without that module, bfloat16 casts the parameters and inputs inside a hand-written step.
- ``lax.scan step`` and ``jax.experimental.rnn (cuDNN)``: the same step written by hand around
  ``scratchlstm.jax_backend.rnn.lstm.lstm_forward`` and around JAX's cuDNN-backed
  ``jax.experimental.rnn.lstm`` (GPU only; "not offered" elsewhere), params and inputs in the
  row's dtype, so the two recurrences compare like for like.
- ``PyTorch nn.LSTM (cuDNN)``: when a CUDA build of torch sees a GPU (bfloat16 via
  ``torch.autocast``); otherwise the row says why it is missing.

It prints the device, the versions, and one markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIGS = {"L": (256, 50, 64, 256), "XL": (1024, 100, 128, 512)}  # (B, T, I, H)
QUICK_CONFIGS = {"quick": (8, 10, 4, 16)}
DTYPES = ("float32", "bfloat16")


def median_ms(step, repeats: int) -> float:
    """Median ms of ``step()`` (which must block until its work is done) after one warm-up."""
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def data(config):
    batch, steps, features, _ = config
    rng = np.random.default_rng(0)
    return rng.normal(size=(batch, steps, features)).astype("float32"), rng.normal(size=(batch, 1)).astype("float32")


def policy_available() -> bool:
    try:
        from scratchlstm import mixed_precision

        mixed_precision.get("mixed_bfloat16")
        return True
    except (ImportError, ValueError, AttributeError):
        return False


def library_step_ms(config, dtype, repeats) -> float:
    """The library's JAX training backend: ``Sequential([LSTM(H), Dense(1)])``, MSE, Adam."""
    import jax

    from scratchlstm import Dense, LSTM, Sequential, optimizers
    from scratchlstm.jax_backend import make_training_backend

    _, steps, features, units = config
    layer_dtype = "mixed_bfloat16" if dtype == "bfloat16" else "float32"
    model = Sequential([LSTM(units, dtype=layer_dtype), Dense(1, dtype=layer_dtype)], seed=0)
    model.compile(optimizer=optimizers.Adam(1e-3), loss="mse", backend="jax")
    model.build((None, steps, features), np.dtype("float32"))
    x, y = data(config)
    backend = make_training_backend(model)
    state = [backend.init_state(model.get_variables(), len(x))]
    batch = backend.prepare_batch([x], [y])

    def step():
        state[0], logs = backend.train_prepared(state[0], batch)
        jax.block_until_ready(logs["loss"])

    return median_ms(step, repeats)


def hand_step_ms(config, dtype, repeats, recurrence: str) -> float:
    """A hand-written jitted step (LSTM, Dense(1), MSE, Adam) with params and inputs in
    ``dtype``; ``recurrence`` is ``"scan"`` (``lstm_forward``) or ``"cudnn"``
    (``jax.experimental.rnn.lstm``)."""
    import jax
    import jax.numpy as jnp
    import optax

    from scratchlstm.jax_backend.rnn.lstm import lstm_forward

    batch, steps, features, units = config
    rng = np.random.default_rng(0)
    compute = jnp.dtype(dtype)
    head = {"w": rng.normal(size=(units, 1)) * 0.1, "b": np.zeros(1)}
    if recurrence == "cudnn":
        from jax.experimental import rnn

        weights = rnn.init_lstm_weight(jax.random.key(0), features, units, 1, False)
        params = {"weights": weights, **head}

        def last_hidden(params, x):
            zeros = jnp.zeros((1, batch, units), compute)
            lengths = jnp.full((batch,), steps, jnp.int32)
            outputs, _, _ = rnn.lstm(x, zeros, zeros, params["weights"].astype(compute), lengths,
                                     features, units, 1, 0.0, False)
            return outputs[:, -1]
    else:
        params = {"kernel": rng.normal(size=(features, 4 * units)) * 0.1,
                  "recurrent_kernel": rng.normal(size=(units, 4 * units)) * 0.1, "bias": np.zeros(4 * units), **head}

        def last_hidden(params, x):
            cast = {k: params[k].astype(compute) for k in ("kernel", "recurrent_kernel", "bias")}
            outputs, _ = lstm_forward(cast, x)
            return outputs[:, -1]

    params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), params)  # float32 master weights
    optimizer = optax.adam(1e-3)
    opt_state = optimizer.init(params)

    def loss(params, x, y):
        hidden = last_hidden(params, x.astype(compute))
        prediction = hidden.astype(jnp.float32) @ params["w"] + params["b"]
        return jnp.mean((prediction - y) ** 2)

    @jax.jit
    def train(params, opt_state, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    x, y = (jnp.asarray(a) for a in data(config))
    carry = [params, opt_state]

    def step():
        carry[0], carry[1], value = train(carry[0], carry[1], x, y)
        jax.block_until_ready(value)

    return median_ms(step, repeats)


def torch_step_ms(config, dtype, repeats):
    """``nn.LSTM`` + ``nn.Linear`` + Adam on CUDA (cuDNN), or the reason it cannot run."""
    try:
        import torch
    except ImportError:
        return "torch not installed"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} has no CUDA device"
    batch, steps, features, units = config
    device = torch.device("cuda")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(features, units, batch_first=True).to(device)
    linear = torch.nn.Linear(units, 1).to(device)
    optimizer = torch.optim.Adam([*lstm.parameters(), *linear.parameters()], lr=1e-3)
    x, y = (torch.from_numpy(a).to(device) for a in data(config))

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
            outputs, _ = lstm(x)
            prediction = linear(outputs[:, -1])
        loss = torch.mean((prediction.float() - y) ** 2)
        loss.backward()
        optimizer.step()
        torch.cuda.synchronize()

    return median_ms(step, repeats)


def header() -> list[str]:
    import jax

    device = jax.devices()[0]
    lines = [f"Device: {device.platform} {getattr(device, 'device_kind', '')} (x{jax.device_count()})"]
    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}", f"jax {jax.__version__}"]
    try:
        import jaxlib

        versions.append(f"jaxlib {jaxlib.__version__}")
    except ImportError:
        pass
    try:
        import torch

        cuda = torch.version.cuda or "no CUDA"
        cudnn = torch.backends.cudnn.version() if torch.cuda.is_available() else None
        versions.append(f"torch {torch.__version__} ({cuda}" + (f", cuDNN {cudnn})" if cudnn else ")"))
    except ImportError:
        versions.append("torch not installed")
    lines.append("Versions: " + ", ".join(versions))
    return lines


def run(configs: dict, repeats: int) -> list[str]:
    import jax

    on_gpu = jax.devices()[0].platform == "gpu"
    bf16_route = "dtype policy mixed_bfloat16" if policy_available() else "params and inputs cast in the step"
    lines = header() + [f"bfloat16 (scratchlstm row): {bf16_route}", "",
                        "| config (B, T, I, H) | dtype | route | train step ms |", "| --- | --- | --- | ---: |"]
    for name, config in configs.items():
        label = f"{name} {config}"
        for dtype in DTYPES:
            rows = []
            try:
                rows.append(("scratchlstm (jit, lax.scan)", library_step_ms(config, dtype, repeats)))
            except (ValueError, TypeError, ImportError) as error:  # no policy: the hand-written cast
                rows.append(("scratchlstm (jit, lax.scan)", f"{hand_step_ms(config, dtype, repeats, 'scan'):.2f} "
                             f"(cast in the step: {type(error).__name__})"))
            rows.append(("lax.scan step (hand-written)", hand_step_ms(config, dtype, repeats, "scan")))
            if on_gpu:
                try:
                    rows.append(("jax.experimental.rnn (cuDNN)", hand_step_ms(config, dtype, repeats, "cudnn")))
                except Exception as error:  # noqa: BLE001 - report why the route failed, keep going
                    rows.append(("jax.experimental.rnn (cuDNN)", f"failed: {type(error).__name__}: {error}"[:120]))
            else:
                rows.append(("jax.experimental.rnn (cuDNN)", f"not offered on {jax.devices()[0].platform}"))
            rows.append(("PyTorch nn.LSTM (cuDNN)", torch_step_ms(config, dtype, repeats)))
            for route, value in rows:
                shown = f"{value:.2f}" if isinstance(value, float) else value
                lines.append(f"| {label} | {dtype} | {route} | {shown} |")
    return lines


def remat_rows(steps_list, batch=8, features=32, units=128, repeats=3) -> list[str]:
    """``remat=None`` against ``remat=k`` (``k ~ sqrt(T)``) for ``lstm_forward``'s gradient:
    XLA's temp bytes of the compiled step (``memory_analysis``, without running) and its time."""
    import jax
    import jax.numpy as jnp

    from scratchlstm.jax_backend.rnn.lstm import lstm_forward

    rng = np.random.default_rng(0)
    params = {"kernel": jnp.asarray(rng.normal(size=(features, 4 * units)) * 0.1, jnp.float32),
              "recurrent_kernel": jnp.asarray(rng.normal(size=(units, 4 * units)) * 0.1, jnp.float32),
              "bias": jnp.zeros(4 * units, jnp.float32)}
    lines = [f"B = {batch}, I = {features}, H = {units}, float32, value_and_grad of lstm_forward (loss on h_T)", "",
             "| T | remat | XLA temp MiB | step ms |", "| ---: | --- | ---: | ---: |"]
    for line in lines:
        print(line, flush=True)
    for steps in steps_list:
        x = jnp.asarray(rng.normal(size=(batch, steps, features)), jnp.float32)
        for remat in (None, int(round(steps ** 0.5))):
            def loss(params, x, remat=remat):
                outputs, _ = lstm_forward(params, x, remat=remat)
                return jnp.sum(outputs[:, -1] ** 2)

            compiled = jax.jit(jax.value_and_grad(loss)).lower(params, x).compile()
            temp = compiled.memory_analysis().temp_size_in_bytes / 2**20

            def step():
                jax.block_until_ready(compiled(params, x))

            lines.append(f"| {steps} | {remat} | {temp:.1f} | {median_ms(step, repeats):.0f} |")
            print(lines[-1], flush=True)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (CPU, CI)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per row (median; default 20, quick 3)")
    parser.add_argument("--remat", type=int, nargs="*", metavar="T",
                        help="instead: the remat table at these T (default 1000 10000 100000)")
    args = parser.parse_args(argv)
    if args.remat is not None:
        remat_rows(args.remat or [1000, 10000, 100000], repeats=args.repeats or 3)  # prints as it goes
        return 0
    configs = QUICK_CONFIGS if args.quick else CONFIGS
    repeats = args.repeats or (3 if args.quick else 20)
    start = time.perf_counter()
    for line in run(configs, repeats):
        print(line, flush=True)
    print(f"\nTotal {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
