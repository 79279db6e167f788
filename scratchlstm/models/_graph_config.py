"""A functional model's graph as JSON-able config, and back (DESIGN §8).

Each layer is stored once with its config and the nodes it was called at; a node lists its
inbound tensors as ``[layer_name, node_index, tensor_index]`` (Keras' convention), where
``node_index`` counts that layer's calls within this model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from .._graph import Graph, SymbolicTensor
    from ..layers import InputLayer, Layer
    from ._model import Model


def _node_index(graph: Graph) -> dict[int, int]:
    """``id(node) -> its position among its layer's nodes in this graph``."""
    positions: dict[int, int] = {}
    counters: dict[int, int] = {}
    for node in graph.nodes:
        key = id(node.layer)
        positions[id(node)] = counters.get(key, 0)
        counters[key] = positions[id(node)] + 1
    return positions


def graph_config(model: Model) -> dict[str, Any]:
    from ..layers import serialize

    graph = model.graph
    positions = _node_index(graph)

    def reference(tensor: SymbolicTensor) -> list[Any]:
        return [tensor.node.layer.name, positions[id(tensor.node)], tensor.index]

    layers: list[dict[str, Any]] = []
    for layer in graph.layers:
        nodes = [n for n in graph.nodes if n.layer is layer and not layer.is_input_layer]
        layers.append({
            **serialize(layer),
            "name": layer.name,
            "inbound_nodes": [
                {"args": [reference(t) for t in n.inbound], "takes_list": n.takes_list, **({"options": n.options} if n.options else {})}
                for n in nodes
            ],
        })

    def structure(kind: str, keys: list[str] | None, tensors: list[SymbolicTensor]) -> dict[str, Any]:
        refs = [reference(t) for t in tensors]
        if kind == "dict":
            return {"dict": dict(zip(cast("list[str]", keys), refs))}  # a dict structure has its keys
        return {"list": refs} if kind == "list" else {"single": refs[0]}

    return {
        "layers": layers,
        "input_layers": structure(model._input_kind, model._input_keys, graph.inputs),
        "output_layers": structure(model._output_kind, model._output_keys, graph.outputs),
    }


def _check_reference(ref: Any, what: str) -> tuple[Any, ...]:
    if (not isinstance(ref, list) or len(ref) != 3 or not isinstance(ref[0], str)
            or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ref[1:])):
        raise ValueError(f"{what} must be [layer_name, node_index, tensor_index], got {ref!r}")
    return tuple(ref)


def graph_from_config(config: dict[str, Any]) -> tuple[Any, Any]:
    """``(inputs, outputs)`` structures of symbolic tensors, the layers created and called anew."""
    from ..layers import deserialize

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("a model config must be a dict with a list of 'layers'")
    layers: dict[str, Layer] = {}
    pending: list[tuple[Layer, list[tuple[Any, ...]], bool, dict[str, Any]]] = []
    for entry in config["layers"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"each layer entry needs a 'name', got {entry!r}")
        layer = deserialize(entry)
        if layer.name != entry["name"]:
            raise ValueError(f"layer entry {entry['name']!r} holds a config named {layer.name!r}")
        if entry["name"] in layers:
            raise ValueError(f"two layers are named {entry['name']!r}")
        layers[entry["name"]] = layer
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ValueError(f"inbound_nodes of layer {entry['name']!r} must be a list")
        for node in nodes:
            if not isinstance(node, dict) or not isinstance(node.get("args"), list):
                raise ValueError(f"a node of layer {entry['name']!r} must be {{'args': [...]}}, got {node!r}")
            refs = [_check_reference(r, f"an inbound tensor of layer {entry['name']!r}") for r in node["args"]]
            options = node.get("options", {})
            if not isinstance(options, dict):
                raise ValueError(f"the options of a node of layer {entry['name']!r} must be a dict, got {options!r}")
            pending.append((layer, refs, bool(node.get("takes_list", len(refs) > 1)), options))
    made: dict[tuple[str, int], list[Any]] = {}  # (layer name, node index) -> list of output tensors
    for layer in layers.values():
        if layer.is_input_layer:
            made[(layer.name, 0)] = [cast("InputLayer", layer).output]

    def tensor(ref: tuple[Any, ...]) -> Any:
        name, node_index, tensor_index = ref
        outputs = made.get((name, node_index))
        if outputs is None:
            return None
        if tensor_index >= len(outputs):
            raise ValueError(f"layer {name!r} node {node_index} has no output {tensor_index}")
        return outputs[tensor_index]

    calls: dict[str, int] = {}
    while pending:
        progressed = False
        for item in list(pending):
            layer, refs, takes_list, options = item
            if next(p for p in pending if p[0] is layer) is not item:
                continue  # a shared layer's calls are replayed in their order
            for ref in refs:
                if ref[0] not in layers:
                    raise ValueError(f"layer {layer.name!r} is called on unknown layer {ref[0]!r}")
            arguments = [tensor(r) for r in refs]
            if any(a is None for a in arguments):
                continue
            result = layer(arguments if takes_list else arguments[0], **options)
            index = calls.get(layer.name, 0)
            calls[layer.name] = index + 1
            made[(layer.name, index)] = result if isinstance(result, list) else [result]
            pending.remove(item)
            progressed = True
        if not progressed:
            raise ValueError(f"the graph's nodes cannot be connected (a cycle or a missing node): {[p[0].name for p in pending]}")

    def rebuild(section: str) -> Any:
        spec = config.get(section)
        if not isinstance(spec, dict) or len(spec) != 1:
            raise ValueError(f"model config {section!r} must be {{'single'|'list'|'dict': ...}}, got {spec!r}")
        (kind, value), = spec.items()
        if kind == "single":
            return _resolved(tensor(_check_reference(value, section)), value)
        if kind == "list" and isinstance(value, list):
            return [_resolved(tensor(_check_reference(v, section)), v) for v in value]
        if kind == "dict" and isinstance(value, dict):
            return {k: _resolved(tensor(_check_reference(v, section)), v) for k, v in value.items()}
        raise ValueError(f"model config {section!r} has an unknown form {kind!r}")

    return rebuild("input_layers"), rebuild("output_layers")


def _resolved(tensor: Any, ref: Any) -> Any:
    if tensor is None:
        raise ValueError(f"the model config refers to a missing tensor {ref!r}")
    return tensor
