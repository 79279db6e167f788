"""``Bidirectional`` in JAX: both directions' runners and the merge (autodiff does the rest)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ...layers._registry import jax_ops
from ...layers.rnn.bidirectional import merge


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """``(merged output [+ forward states + backward states], new_state)``."""
    if isinstance(inputs, (list, tuple)):
        x, states = inputs[0], list(inputs[1:])
        half = len(states) // 2
        direction_inputs = ([x, *states[:half]], [x, *states[half:]])
    else:
        direction_inputs = (inputs, inputs)
    keys = (None, None) if key is None else tuple(jax.random.split(key))
    results, new_states = [], {}
    for name, direction, direction_input, direction_key in zip(
        ("forward", "backward"), layer.directions, direction_inputs, keys
    ):
        output, direction_state = jax_ops(direction).layer_forward(
            direction, params[name], (state or {}).get(name, {}), direction_input,
            training=training, key=direction_key, mask=mask,
        )
        results.append(output)
        new_states[name] = direction_state
    (forward, backward), states = results, []
    if layer.return_state:
        (forward, *forward_states), (backward, *backward_states) = forward, backward
        states = forward_states + backward_states
    if layer.return_sequences:
        backward = jnp.flip(backward, axis=1)
    output = merge(layer.merge_mode, forward, backward, xp=jnp)
    outputs = (output if isinstance(output, list) else [output]) + states
    new_state = new_states if layer.stateful else state
    return (outputs if len(outputs) > 1 else outputs[0]), new_state
