"""The Conv1D layer as a pure JAX function (``jax.lax.conv_general_dilated``), channels last."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import lax

from ...layers.convolutional.conv1d import PADDINGS, conv_padding
from .._activations import get_activation
from ..rnn.lstm import compute_dtype


def conv1d_forward(params: dict[str, Any], x: Any, *, strides: int = 1, padding: str = "valid", dilation_rate: int = 1,
                   activation: Any = None) -> Any:
    """``y = activation(conv1d(x, kernel) + bias)`` over the steps axis.

    Args:
        params: ``{"kernel": (K, C, F), "bias": (F,)}`` (``"bias"`` may be absent or ``None``).
        x: ``(B, T, C)``.
        strides: ``s``.
        padding: ``"valid"``, ``"same"`` or ``"causal"``; the zeros are placed as in the NumPy
            reference (`scratchlstm.layers.convolutional.conv1d.conv_padding`).
        dilation_rate: ``d``.
        activation: ``None``/``"linear"`` or a name from `scratchlstm.activations` (``"relu"``, ``"gelu"``, ...).

    Returns:
        ``y`` of shape ``(B, T', F)`` (no cache: use ``jax.grad``).
    """
    forward = get_activation(activation)
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    kernel_shape = tuple(jnp.shape(params["kernel"]))
    if len(kernel_shape) != 3:
        raise ValueError(f"params['kernel'] must be 3-D of shape (kernel_size, channels, filters), got {kernel_shape}")
    x_shape = tuple(jnp.shape(x))
    if len(x_shape) != 3 or x_shape[-1] != kernel_shape[1]:
        raise ValueError(f"x must have shape (batch, steps, {kernel_shape[1]}), got {x_shape}")
    left, right, out_steps = conv_padding(x_shape[1], kernel_shape[0], strides, padding, dilation_rate)
    if out_steps < 1:
        raise ValueError(f"x has {x_shape[1]} steps, fewer than the kernel's span with padding='valid'")
    bias = params.get("bias")
    dtype = compute_dtype(x, params["kernel"], bias)
    z = lax.conv_general_dilated(
        jnp.asarray(x, dtype),
        jnp.asarray(params["kernel"], dtype),
        window_strides=(strides,),
        padding=[(left, right)],
        rhs_dilation=(dilation_rate,),
        dimension_numbers=("NWC", "WIO", "NWC"),
    )  # (B, T', F)
    if bias is not None:
        z = z + jnp.asarray(bias, dtype)
    return forward(z)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`conv1d_forward` for a ``Conv1D`` layer (DESIGN §7): ``(y, state)``."""
    y = conv1d_forward(
        params, inputs, strides=layer.strides[0], padding=layer.padding,
        dilation_rate=layer.dilation_rate[0], activation=layer.activation,
    )
    return y, state
