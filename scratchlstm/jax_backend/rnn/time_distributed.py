"""``TimeDistributed`` in JAX: fold time into the batch, run the wrapped layer's JAX op, unfold."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ...layers._registry import jax_ops


def _unfold(y: Any, batch: int, steps: int) -> Any:
    if isinstance(y, (list, tuple)):
        return [_unfold(v, batch, steps) for v in y]
    return jnp.reshape(y, (batch, steps, *jnp.shape(y)[1:]))


def time_distributed_forward(inner: Any, params: dict[str, Any], state: dict[str, Any], x: Any, *,
                             training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """The wrapped layer ``inner`` on every time step of ``x (B, T, ...)``: ``(y, new_state)``.

    A ``(B, T, ...)`` mask with more than two axes reaches ``inner`` folded to ``(B*T, ...)``;
    a ``(B, T)`` one does not (as the NumPy twin).
    """
    x = jnp.asarray(x)
    if x.ndim < 3:
        raise ValueError(
            f"TimeDistributed expects inputs of at least 3 dimensions (batch, time, ...), got shape {x.shape}"
        )
    batch, steps = x.shape[:2]
    inner_mask = None
    if mask is not None:
        mask = jnp.asarray(mask)
        if mask.ndim < 2 or tuple(mask.shape[:2]) != (batch, steps):
            raise ValueError(f"The mask passed to TimeDistributed must start with the input's (batch, time) = "
                             f"{(batch, steps)}, got a mask of shape {tuple(mask.shape)}")
        if mask.ndim > 2:
            inner_mask = jnp.reshape(mask, (batch * steps, *mask.shape[2:]))
    y, new_state = jax_ops(inner).layer_forward(
        inner, params, state, jnp.reshape(x, (batch * steps, *x.shape[2:])), training=training, key=key,
        mask=inner_mask,
    )
    return _unfold(y, batch, steps), new_state


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`time_distributed_forward` for a ``TimeDistributed`` layer (DESIGN §7): ``(y, state)``."""
    return time_distributed_forward(layer.layer, params, state, inputs, training=training, key=key, mask=mask)
