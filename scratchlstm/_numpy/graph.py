"""A model's graph in NumPy: forward through the nodes in order, backward in reverse (DESIGN §8).

A `Model` is a layer too: these are its ``layer_forward``/``layer_backward``, so a model nested
inside another runs through the same two functions.

Backward, for every node from the last to the first:

    d_outputs(node) = the gradients that reached its output tensors
    grads[layer]   += d params      (a shared layer sums over its calls)
    d(tensor)      += d inputs      (a tensor read by several nodes sums over its readers)

A node that no gradient reaches is skipped; its layer's gradient is zero. The first layers'
input gradients are not computed unless the caller asks for ``d_inputs``.

Activity regularizers (Keras' rule): a node whose layer has an ``activity_regularizer`` adds
``penalty(y) / batch_size`` for each of its outputs ``y``; the forward lists these in
``cache["activity_losses"]`` (a nested model's included), and the backward adds
``loss_scale * d penalty / d y`` to the gradient reaching ``y``, so such a node is never
skipped.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..layers._registry import numpy_ops
from ..regularizers import activity_penalty, activity_penalty_gradient


def _is_graph(layer: Any) -> bool:
    """Whether the node's math is this walk (a model used as a layer)."""
    return numpy_ops(layer) is sys.modules[__name__]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def layer_forward(
    model: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Run the graph: ``(outputs, new_state, cache)``.

    Args:
        model: a `Model` (its ``graph`` and output structure are read).
        params: ``{layer_name: that layer's params}``.
        state: ``{layer_name: that layer's state}`` (layers without state may be absent).
        inputs: one array per model input (a list, or one array for a one-input model).
        training, rng: passed to every layer.
        mask: ``None``, or one mask per input.

    Returns:
        ``outputs`` (one array, or a list in the order of ``model.outputs``), the new state of
        every stateful layer, and the cache for `layer_backward` (``cache["activity_losses"]``:
        the activity penalties of this call, floats).
    """
    graph = model.graph
    values, masks = graph.start(_as_list(inputs), mask)
    new_state = dict(state)
    caches: list[tuple[Any, list[Any]] | None] = []
    activity_losses: list[float] = []
    for node in graph.nodes:
        layer = node.layer
        if layer.is_input_layer:
            caches.append(None)
            continue
        arguments, node_mask = node.read(values, masks)
        outputs, layer_state, cache = numpy_ops(layer).layer_forward(
            layer, params.get(layer.name, {}), state.get(layer.name, {}), arguments,
            training=training, rng=rng, mask=node_mask, **node.options,
        )
        if layer_state:
            new_state[layer.name] = layer_state
        output_values = node.write(values, masks, outputs, arguments, node_mask)
        if layer.activity_regularizer is not None:
            activity_losses += [float(activity_penalty(layer.activity_regularizer, y)) for y in output_values]
        if _is_graph(layer):
            activity_losses += cache["activity_losses"]
        caches.append((cache, output_values))
    outputs = [values[id(t)] for t in graph.outputs]
    # the outputs' masks (Keras' _keras_mask), for losses and metrics that leave masked steps out
    cache = {"nodes": caches, "inputs": _as_list(inputs), "output_masks": [masks.get(id(t)) for t in graph.outputs],
             "activity_losses": activity_losses}
    return (outputs if model.returns_list else outputs[0]), new_state, cache


def _accumulate(store: dict[int, Any], key: int, value: Any) -> None:
    if value is None:
        return
    store[key] = value if key not in store else store[key] + value


def _add_trees(a: Any, b: Any) -> Any:
    if isinstance(a, dict):
        return {k: _add_trees(a[k], b[k]) for k in a}
    return a + b


def _zeros_like(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _zeros_like(v) for k, v in tree.items()}
    return np.zeros_like(tree)


def _has_activity(layer: Any, layer_cache: Any) -> bool:
    """Whether the node adds activity penalties (its own, or a nested model's)."""
    return layer.activity_regularizer is not None or (_is_graph(layer) and bool(layer_cache["activity_losses"]))


def layer_backward(
    model: Any, params: dict[str, Any], cache: dict[str, Any], d_outputs: Any, *, input_gradient: bool = True,
    loss_scale: float = 1.0,
) -> tuple[dict[str, Any], Any]:
    """Gradients of `layer_forward`: ``(grads, d_inputs)``.

    Args:
        model, params: as given to `layer_forward`.
        cache: what it returned.
        d_outputs: the gradient of each output (structure of the outputs; ``None`` for zero).
        input_gradient: ``False`` skips ``d_inputs`` (returned as ``None``) and every input
            gradient that only the model's inputs would receive.
        loss_scale: the factor ``d_outputs`` carry (the optimizer's ``loss_scale_factor``);
            the activity penalties' gradients are scaled by it too.

    Returns:
        ``grads`` shaped like ``params``, and ``d_inputs`` shaped like the inputs.
    """
    graph = model.graph
    d_values: dict[int, Any] = {}
    for tensor, d in zip(graph.outputs, _as_list(d_outputs) if model.returns_list else [d_outputs]):
        _accumulate(d_values, id(tensor), d)
    model_inputs = {id(t) for t in graph.inputs}
    grads: dict[str, Any] = {}
    for node, node_cache in zip(reversed(graph.nodes), reversed(cache["nodes"])):
        layer = node.layer
        if layer.is_input_layer:
            continue
        d_node = [d_values.get(id(t)) for t in node.outputs]
        layer_cache, output_values = node_cache
        if all(d is None for d in d_node) and not _has_activity(layer, layer_cache):
            continue  # nothing downstream depends on this call
        d_node = [np.zeros_like(v) if d is None else d for d, v in zip(d_node, output_values)]
        if layer.activity_regularizer is not None:
            d_node = [d + v.dtype.type(loss_scale) * activity_penalty_gradient(layer.activity_regularizer, v)
                      for d, v in zip(d_node, output_values)]
        wants_inputs = input_gradient or any(id(t) not in model_inputs for t in node.inbound)
        nested = {"loss_scale": loss_scale} if _is_graph(layer) else {}
        layer_grads, d_arguments = numpy_ops(layer).layer_backward(
            layer, params.get(layer.name, {}), layer_cache, d_node if node.returns_list else d_node[0],
            input_gradient=wants_inputs, **nested,
        )
        if layer_grads:
            grads[layer.name] = layer_grads if layer.name not in grads else _add_trees(grads[layer.name], layer_grads)
        if wants_inputs:
            for tensor, d in zip(node.inbound, _as_list(d_arguments) if node.takes_list else [d_arguments]):
                _accumulate(d_values, id(tensor), d)
    for name, layer_params in params.items():
        if name not in grads and layer_params:
            grads[name] = _zeros_like(layer_params)
    if not input_gradient:
        return grads, None
    d_inputs = [d_values.get(id(t)) for t in graph.inputs]
    d_inputs = [np.zeros_like(x) if d is None else d for d, x in zip(d_inputs, cache["inputs"])]
    return grads, (d_inputs if model.takes_list else d_inputs[0])
