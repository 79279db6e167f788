"""1-D max pooling as a pure JAX function (``jax.grad`` sends each window's gradient to its
first maximum, as the NumPy reference's backward does)."""

from __future__ import annotations

from typing import Any

from jax import lax

from ._pooling1d import check_3d, reduce_windows


def max_pooling1d_forward(x: Any, pool_size: int = 2, strides: int | None = None, padding: str = "valid",
                          data_format: str = "channels_last") -> Any:
    """Max over windows of ``pool_size`` steps; arguments as the NumPy twin's.

    Returns:
        ``(B, T_out, C)`` (``(B, C, T_out)`` channels-first).
    """
    x = check_3d(x, "max_pooling1d_forward")
    strides = pool_size if strides is None else strides
    return reduce_windows(x, -float("inf"), lax.max, pool_size, strides, padding, data_format)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`max_pooling1d_forward` for a ``MaxPooling1D`` layer (DESIGN §7): ``(y, state)``."""
    return max_pooling1d_forward(inputs, layer.pool_size[0], layer.strides[0], layer.padding, layer.data_format), state
