"""``Bidirectional`` in NumPy: both directions' runners, the merge, and the merge's backward.

Forward, with ``y_f`` the forward layer's output and ``y_b`` the backward layer's (it reads
``x_T..x_1``; with ``return_sequences`` its outputs are flipped back so that step ``t`` lines up):

    concat: y = [y_f, y_b]  (last axis)      sum: y = y_f + y_b      ave: y = (y_f + y_b) / 2
    mul:    y = y_f * y_b                    None: [y_f, y_b]

Backward: ``d_y`` splits into ``d_y_f`` and ``d_y_b`` by the rule of the merge (``mul``:
``d_y_f = d_y * y_b``, ``d_y_b = d_y * y_f``), ``d_y_b`` is flipped back in time, each direction
runs its own backward, and the two ``d_x`` add up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...layers._registry import numpy_ops
from ...layers.rnn.bidirectional import merge


def _direction_inputs(layer: Any, inputs: Any) -> tuple[Any, Any]:
    if not isinstance(inputs, (list, tuple)):
        return inputs, inputs
    x, states = inputs[0], list(inputs[1:])
    half = len(states) // 2
    return [x, *states[:half]], [x, *states[half:]]


def layer_forward(
    layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[Any, dict[str, Any], tuple[list[Any], Any, Any, bool]]:
    """``(merged output [+ states], new_state, cache)``."""
    results, caches, new_states = [], [], {}
    for key, direction, direction_inputs in zip(
        ("forward", "backward"), layer.directions, _direction_inputs(layer, inputs)
    ):
        output, direction_state, cache = numpy_ops(direction).layer_forward(
            direction, params[key], (state or {}).get(key, {}), direction_inputs,
            training=training, rng=rng, mask=mask,
        )
        results.append(output)
        caches.append(cache)
        new_states[key] = direction_state
    (forward, backward), states = results, []
    if layer.return_state:
        (forward, *forward_states), (backward, *backward_states) = forward, backward
        states = forward_states + backward_states
    if layer.return_sequences:
        backward = backward[:, ::-1]  # (B, T, H): back in input order
    output = merge(layer.merge_mode, forward, backward)
    outputs = output if isinstance(output, list) else [output]
    outputs = outputs + states
    new_state = new_states if layer.stateful else state
    cache = (caches, forward, backward, isinstance(inputs, (list, tuple)))
    return (outputs if len(outputs) > 1 else outputs[0]), new_state, cache


def layer_backward(
    layer: Any, params: dict[str, Any], cache: tuple[list[Any], Any, Any, bool], d_outputs: Any, *,
    input_gradient: bool = True,
) -> tuple[dict[str, Any], Any]:
    """``(grads {"forward", "backward"}, d_x or [d_x, *d_forward_states, *d_backward_states])``."""
    caches, forward, backward, state_given = cache
    d_outputs = list(d_outputs) if isinstance(d_outputs, (list, tuple)) else [d_outputs]
    if layer.merge_mode is None:
        d_forward, d_backward, *d_states = d_outputs
    else:
        d_merged, *d_states = d_outputs
        d_forward, d_backward = _merge_backward(layer.merge_mode, d_merged, forward, backward)
    if layer.return_sequences and d_backward is not None:
        d_backward = d_backward[:, ::-1]
    half = len(d_states) // 2
    grads, d_inputs = {}, []
    for key, direction, direction_cache, d_output, d_state in zip(
        ("forward", "backward"), layer.directions, caches, (d_forward, d_backward),
        (d_states[:half], d_states[half:]),
    ):
        d_direction = [d_output, *d_state] if layer.return_state else d_output
        grads[key], d_input = numpy_ops(direction).layer_backward(
            direction, params[key], direction_cache, d_direction, input_gradient=input_gradient
        )
        d_inputs.append(d_input if isinstance(d_input, list) else [d_input])
    (d_x_forward, *d_forward_states), (d_x_backward, *d_backward_states) = d_inputs
    d_x = None if d_x_forward is None or d_x_backward is None else d_x_forward + d_x_backward
    if state_given:
        return grads, [d_x, *d_forward_states, *d_backward_states]
    return grads, d_x


def _merge_backward(mode: str, d_merged: Any, forward: Any, backward: Any) -> tuple[Any, Any]:
    if d_merged is None:
        return None, None
    if mode == "concat":
        units = forward.shape[-1]
        return d_merged[..., :units], d_merged[..., units:]
    if mode == "sum":
        return d_merged, d_merged
    if mode == "ave":
        return d_merged / 2, d_merged / 2
    return d_merged * backward, d_merged * forward  # mul
