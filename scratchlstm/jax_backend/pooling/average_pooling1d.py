"""1-D average pooling as a pure JAX function; "same" padding divides by the real steps."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import lax

from ._pooling1d import check_3d, reduce_windows


def average_pooling1d_forward(x: Any, pool_size: int, strides: int | None = None, padding: str = "valid",
                              data_format: str = "channels_last") -> Any:
    """Mean over windows of ``pool_size`` steps; arguments as the NumPy twin's.

    Returns:
        ``(B, T_out, C)`` (``(B, C, T_out)`` channels-first).
    """
    x = check_3d(x, "average_pooling1d_forward")
    strides = pool_size if strides is None else strides
    sums = reduce_windows(x, 0.0, lax.add, pool_size, strides, padding, data_format)
    if padding == "valid":
        return sums / pool_size
    steps_axis = 1 if data_format == "channels_last" else 2
    ones = jnp.ones([x.shape[axis] if axis == steps_axis else 1 for axis in range(3)], x.dtype)
    return sums / reduce_windows(ones, 0.0, lax.add, pool_size, strides, padding, data_format)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`average_pooling1d_forward` for an ``AveragePooling1D`` layer (DESIGN §7): ``(y, state)``."""
    y = average_pooling1d_forward(inputs, layer.pool_size[0], layer.strides[0], layer.padding, layer.data_format)
    return y, state
