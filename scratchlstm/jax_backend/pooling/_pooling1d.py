"""What the JAX 1-D poolings share: ``lax.reduce_window`` over the time axis, as Keras' JAX
backend computes ``max_pool``/``average_pool`` (XLA's "SAME" padding is the NumPy twin's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
from jax import lax


def window_shape(data_format: str, size: int) -> tuple[int, int, int]:
    """``(1, size, 1)`` channels-last, ``(1, 1, size)`` channels-first."""
    return (1, size, 1) if data_format == "channels_last" else (1, 1, size)


def check_3d(x: Any, what: str) -> Any:
    x = jnp.asarray(x)
    if x.ndim != 3 or not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{what} expects a 3-D float array (batch, steps, channels), got shape {x.shape} "
                         f"and dtype {x.dtype}")
    return x


def reduce_windows(x: Any, init: float, op: Callable[[Any, Any], Any], pool_size: int, strides: int, padding: str,
                   data_format: str) -> Any:
    """``op`` over every window of ``pool_size`` steps, every ``strides`` steps.

    ``init`` must stay a Python scalar (``-inf`` for max, ``0.0`` for sums): JAX then sees a
    known monoid and can differentiate the reduction under ``jit``; an array init (a tracer
    under ``jit``) cannot be linearized.
    """
    return lax.reduce_window(x, init, op, window_shape(data_format, pool_size), window_shape(data_format, strides),
                             padding.upper())
