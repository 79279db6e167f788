"""A model's graph in JAX: the same walk as ``scratchlstm._numpy.graph``, traced once under jit.

Gradients come from ``jax.grad`` through the traced walk; fan-out sums and shared weights
need no code here, autodiff adds them.
"""

from __future__ import annotations

import jax

from ..layers._registry import jax_ops


def _as_list(value) -> list:
    return list(value) if isinstance(value, list) else [value]


def layer_forward(model, params, state, inputs, *, training=False, key=None, mask=None):
    """Run the graph: ``(outputs, new_state)``; arguments as the NumPy twin's.

    ``key`` (a ``jax.random`` key or ``None``) is folded with each node's position, so every
    node draws its own randomness.
    """
    graph = model.graph
    values, masks = {}, {}
    input_masks = _as_list(mask) if mask is not None else [None] * len(graph.inputs)
    for tensor, value, input_mask in zip(graph.inputs, _as_list(inputs), input_masks):
        values[id(tensor)], masks[id(tensor)] = value, input_mask
    new_state = dict(state)
    for position, node in enumerate(graph.nodes):
        layer = node.layer
        if layer.is_input_layer:
            continue
        arguments = node.arguments([values[id(t)] for t in node.inbound])
        node_masks = [masks.get(id(t)) for t in node.inbound]
        node_mask = None if all(m is None for m in node_masks) else (node_masks if node.takes_list else node_masks[0])
        node_key = None if key is None else jax.random.fold_in(key, position)
        outputs, layer_state = jax_ops(layer).layer_forward(
            layer, params.get(layer.name, {}), state.get(layer.name, {}), arguments,
            training=training, key=node_key, mask=node_mask,
        )
        if layer_state:
            new_state[layer.name] = layer_state
        output_list = outputs if node.returns_list else [outputs]
        output_masks = layer.compute_mask(arguments, node_mask)
        output_masks = output_masks if isinstance(output_masks, list) else [output_masks] * len(output_list)
        for tensor, value, output_mask in zip(node.outputs, output_list, output_masks):
            values[id(tensor)], masks[id(tensor)] = value, output_mask
    outputs = [values[id(t)] for t in graph.outputs]
    return (outputs if model.returns_list else outputs[0]), new_state
