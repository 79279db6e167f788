"""The Dense layer as a pure JAX function acting on the last axis of any-rank input."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from .._activations import get_activation
from ..rnn.lstm import compute_dtype


def dense_forward(params: dict[str, Any], x: Any, activation: Any = None) -> Any:
    """``y = activation(x @ kernel + bias)`` on the last axis.

    Args:
        params: ``{"kernel": (F, U), "bias": (U,)}`` (``"bias"`` may be absent or ``None``).
        x: ``(..., F)``, e.g. ``(B, F)`` or ``(B, T, F)``.
        activation: ``None``/``"linear"`` or a name from `scratchlstm.activations` (``"relu"``, ``"gelu"``, ...).

    Returns:
        ``y`` of shape ``(..., U)`` (unlike the reference, no cache: use ``jax.grad``).
    """
    forward = get_activation(activation)
    kernel_shape = tuple(jnp.shape(params["kernel"]))
    if len(kernel_shape) != 2:
        raise ValueError(f"params['kernel'] must be 2-D of shape (features, units), got {kernel_shape}")
    x_shape = tuple(jnp.shape(x))
    if len(x_shape) < 1 or x_shape[-1] != kernel_shape[0]:
        raise ValueError(f"x must have {kernel_shape[0]} features on its last axis, got shape {x_shape}")
    bias = params.get("bias")
    if bias is not None and tuple(jnp.shape(bias)) != (kernel_shape[1],):
        raise ValueError(f"params['bias'] must have shape {(kernel_shape[1],)}, got {tuple(jnp.shape(bias))}")
    dtype = compute_dtype(x, params["kernel"], bias)
    z = jnp.asarray(x, dtype) @ jnp.asarray(params["kernel"], dtype)
    if bias is not None:
        z = z + jnp.asarray(bias, dtype)
    return forward(z)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`dense_forward` for a ``Dense`` layer (DESIGN §7): ``(y, state)``."""
    return dense_forward(params, inputs, layer.activation), state
