"""A model's graph in JAX: the same walk as ``scratchlstm._numpy.graph``, traced once under jit.

Gradients come from ``jax.grad`` through the traced walk; fan-out sums and shared weights
need no code here, autodiff adds them.
"""

from __future__ import annotations

import sys

import jax

from ..layers._registry import jax_ops


def _as_list(value) -> list:
    return list(value) if isinstance(value, list) else [value]


def layer_forward(model, params, state, inputs, *, training=False, key=None, mask=None, return_masks=False,
                  activity=None):
    """Run the graph: ``(outputs, new_state)``; arguments as the NumPy twin's.

    ``key`` (a ``jax.random`` key or ``None``) is folded with each node's position, so every
    node draws its own randomness. With ``return_masks`` also the outputs' masks (a list,
    ``None`` where an output has none), for the losses. ``activity``, a list, receives
    ``(regularizer, output)`` for every output of every node whose layer has an
    ``activity_regularizer`` (a nested model's nodes included); the training backend turns
    them into Keras' activity penalties.
    """
    graph = model.graph
    values, masks = graph.start(_as_list(inputs), mask)
    new_state = dict(state)
    for position, node in enumerate(graph.nodes):
        layer = node.layer
        if layer.is_input_layer:
            continue
        arguments, node_mask = node.read(values, masks)
        node_key = None if key is None else jax.random.fold_in(key, position)
        nested = {"activity": activity} if activity is not None and jax_ops(layer) is sys.modules[__name__] else {}
        outputs, layer_state = jax_ops(layer).layer_forward(
            layer, params.get(layer.name, {}), state.get(layer.name, {}), arguments,
            training=training, key=node_key, mask=node_mask, **node.options, **nested,
        )
        if layer_state:
            new_state[layer.name] = layer_state
        output_values = node.write(values, masks, outputs, arguments, node_mask)
        if activity is not None and layer.activity_regularizer is not None:
            activity.extend((layer.activity_regularizer, y) for y in output_values)
    outputs = [values[id(t)] for t in graph.outputs]
    structured = outputs if model.returns_list else outputs[0]
    if return_masks:
        return structured, new_state, [masks.get(id(t)) for t in graph.outputs]
    return structured, new_state
