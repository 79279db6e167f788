"""``RNN(cell)`` in JAX: the cell's ``jax_step`` under ``lax.scan``, with Keras' mask rules."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import lax

from ._runner import recurrent_forward


def cell_sequence_forward(cell: Any, params: dict[str, Any], x: Any, initial_state: Any = None, *, mask: Any = None,
                          zero_output_for_mask: bool = False) -> tuple[Any, tuple[Any, ...]]:
    """``(outputs (B, T, O), final_states)``; the twin of the NumPy ``cell_sequence_forward``."""
    step = getattr(cell, "jax_step", None)
    if step is None:
        raise ValueError(
            f"{type(cell).__name__} has no jax_step(params, x_t, states) -> (output, states); "
            "define it to train this RNN on the JAX backend"
        )
    batch = x.shape[0]
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    if initial_state is None:
        size = cell.state_size
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,)
        initial_state = tuple(jnp.zeros((batch, s), dtype) for s in sizes)
    xs = jnp.swapaxes(jnp.asarray(x, dtype), 0, 1)  # (T, B, I)

    def advance(states: tuple[Any, ...], inputs: tuple[Any, Any]) -> tuple[tuple[Any, ...], Any]:
        x_t, keep = inputs
        output, new_states = step(params, x_t, states)
        new_states = tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)
        if keep is not None:
            carried = jnp.zeros_like(output) if zero_output_for_mask else states[0]
            output = jnp.where(keep, output, carried)
            new_states = tuple(jnp.where(keep, new, old) for new, old in zip(new_states, states))
        return new_states, output

    keeps = None if mask is None else jnp.swapaxes(jnp.asarray(mask).astype(bool), 0, 1)[:, :, None]
    final, outputs = lax.scan(advance, tuple(initial_state), (xs, keeps))
    return jnp.swapaxes(outputs, 0, 1), final


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    def kernel(params: dict[str, Any], x: Any, initial_state: Any = None, *, mask: Any = None,
               zero_output_for_mask: bool = False) -> tuple[Any, tuple[Any, ...]]:
        return cell_sequence_forward(layer.cell, params, x, initial_state, mask=mask,
                                     zero_output_for_mask=zero_output_for_mask)

    return recurrent_forward(layer, kernel, params, state, inputs, training=training, key=key, mask=mask)
