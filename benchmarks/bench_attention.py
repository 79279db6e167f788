"""MultiHeadAttention forward + backward: the NumPy reference, the JAX path and PyTorch.

Self-attention ``mha(x, x)`` on ``x (B, T, d)`` with ``num_heads`` heads of size ``d / heads``
(Keras' usual ``key_dim``), the output projected back to ``d``. One step is the forward pass
and the gradients of ``sum(output * upstream)`` with respect to every weight and to ``x``:

- ``numpy``: ``layer_forward`` + ``layer_backward`` of ``scratchlstm._numpy.attention`` (the
  hand-written backward);
- ``jax``: one ``jax.jit``-compiled ``value_and_grad`` of the JAX twin (compile time excluded);
- ``torch``: ``torch.nn.MultiheadAttention(batch_first=True, need_weights=False)`` forward and
  ``backward()``, when torch is importable.

``--threads`` (default 1) caps torch's threads and NumPy's BLAS threads (through threadpoolctl,
when installed); on a busy 2-core machine two threads each oversubscribe the cores and run
several times slower, and erratically. XLA picks its own threads.

Also the forward pass alone. Prints median milliseconds per step and sequences per second.

    python benchmarks/bench_attention.py
    python benchmarks/bench_attention.py --batch 32 --steps 128 --dim 64 --heads 4 --repeats 20
    python benchmarks/bench_attention.py --causal --dtype float64
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, when not installed
from scratchlstm.layers._registry import jax_ops, numpy_ops  # noqa: E402
from scratchlstm.layers.attention import MultiHeadAttention  # noqa: E402


def median_ms(function, repeats: int) -> float:
    function()  # warm-up (and JIT compilation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def numpy_steps(layer, x, upstream, options):
    ops = numpy_ops(layer)
    params = layer.params

    def forward():
        return ops.layer_forward(layer, params, {}, [x, x], **options)

    def step():
        outputs, _, cache = forward()
        return ops.layer_backward(layer, params, cache, upstream)

    return forward, step


def jax_steps(layer, x, upstream, options):
    import jax
    import jax.numpy as jnp

    forward_fn = jax_ops(layer).layer_forward
    params = {k: jnp.asarray(v) for k, v in layer.params.items()}
    x, upstream = jnp.asarray(x), jnp.asarray(upstream)

    def objective(p, inputs):
        out, _ = forward_fn(layer, p, {}, [inputs, inputs], **options)
        return jnp.sum(out * upstream)

    grad = jax.jit(jax.grad(objective, argnums=(0, 1)))
    forward_only = jax.jit(lambda p, inputs: forward_fn(layer, p, {}, [inputs, inputs], **options)[0])

    def forward():
        return forward_only(params, x).block_until_ready()

    def step():
        return jax.block_until_ready(grad(params, x))

    return forward, step


def torch_steps(x, upstream, heads, causal, dtype, threads):
    import torch

    torch.set_num_threads(threads)
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    mha = torch.nn.MultiheadAttention(x.shape[-1], heads, batch_first=True, dtype=torch_dtype)
    inputs = torch.tensor(x, requires_grad=True)
    grad_out = torch.tensor(upstream)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1], dtype=torch_dtype) if causal else None

    def forward():
        with torch.no_grad():
            return mha(inputs, inputs, inputs, need_weights=False, attn_mask=mask, is_causal=causal)[0]

    def step():
        mha.zero_grad(set_to_none=True)
        inputs.grad = None
        out = mha(inputs, inputs, inputs, need_weights=False, attn_mask=mask, is_causal=causal)[0]
        out.backward(grad_out)

    return forward, step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--causal", action="store_true", help="use_causal_mask=True")
    parser.add_argument("--threads", type=int, default=1, help="torch and NumPy BLAS threads")
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax", "torch"])
    args = parser.parse_args(argv)
    dtype = np.dtype(args.dtype)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:
        pass
    if dtype == np.float64 and "jax" in args.backends:
        import jax

        jax.config.update("jax_enable_x64", True)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.steps, args.dim)).astype(dtype)
    upstream = rng.normal(size=x.shape).astype(dtype)
    layer = MultiHeadAttention(args.heads, args.dim // args.heads, dtype=args.dtype, seed=0)
    layer.build([x.shape, x.shape])
    options = {"use_causal_mask": True} if args.causal else {}

    print(f"MultiHeadAttention self-attention, (B, T, d) = ({args.batch}, {args.steps}, {args.dim}), "
          f"{args.heads} heads of {args.dim // args.heads}, {args.dtype}{', causal' if args.causal else ''}")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, "
          f"{args.threads} BLAS/torch thread(s), median of {args.repeats}")
    header = f"{'backend':<8} {'fwd+bwd ms':>11} {'seq/s':>9} {'forward ms':>11}"
    print(header)
    print("-" * len(header))
    for backend in args.backends:
        try:
            if backend == "numpy":
                forward, step = numpy_steps(layer, x, upstream, options)
            elif backend == "jax":
                forward, step = jax_steps(layer, x, upstream, options)
            elif backend == "torch":
                forward, step = torch_steps(x, upstream, args.heads, args.causal, dtype, args.threads)
            else:
                raise ValueError(f"unknown backend {backend!r}")
        except ImportError as error:
            print(f"{backend:<8} not importable ({error})")
            continue
        step_ms = median_ms(step, args.repeats)
        forward_ms = median_ms(forward, args.repeats)
        print(f"{backend:<8} {step_ms:>11.2f} {1000 * args.batch / step_ms:>9.0f} {forward_ms:>11.2f}")


if __name__ == "__main__":
    main()
