"""Our configs and Keras 3's serialization format (``config.json`` of a ``.keras`` file), both ways.

Keras writes every object as ``{"module", "class_name", "config", "registered_name"}``; a
functional model lists its layers with ``inbound_nodes`` whose arguments are
``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history": [layer,
node_index, tensor_index]}}``; a ``Sequential`` lists an ``InputLayer`` first. Ours writes
``{"class_name", "config"}`` and nodes as ``{"args": [[layer, node, tensor], ...],
"takes_list", "options"}`` (``models/_graph_config.py``). What differs layer by layer is in
`_mappings.MAPPINGS`; this module holds no branch on a layer's kind.

Loading follows Keras' ``safe_mode``: a ``Lambda`` layer, a ``__lambda__`` function or any
other code-bearing object is refused, never run.
"""

from __future__ import annotations

from typing import Any

from ._mappings import MAPPINGS, LayerMapping, mapping_for_keras, mapping_for_ours

_CODE_CLASSES = ("Lambda", "__lambda__", "function", "__bytes__")
_FAMILIES = (("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
             ("_constraint", "keras.constraints"))
_NESTED_LAYER_KEYS = ("layer", "backward_layer")
_CALL_KWARGS = {  # the keyword arguments a Keras node may carry, by calling convention
    "single": (), "model": (), "rnn": ("initial_state",),
    "list": ("return_attention_scores", "use_causal_mask"),
    "positional": ("key", "attention_mask", "return_attention_scores", "use_causal_mask"),
}


def _policy(name: str) -> dict[str, Any]:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def _keras_object(value: Any, module: str) -> Any:
    """Ours ``{"class_name", "config"}`` as Keras writes it; strings (``"zeros"``) stay."""
    if isinstance(value, dict) and "class_name" in value:
        return {"module": module, "class_name": value["class_name"], "config": value.get("config", {}),
                "registered_name": None}
    return value


# --- ours -> Keras ------------------------------------------------------------------------------
def layer_to_keras(entry: dict[str, Any]) -> dict[str, Any]:
    """One of our ``{"class_name", "config"}`` layer entries in Keras' form.

    Raises:
        ValueError: the class has no Keras counterpart, or one of our arguments that Keras does
            not have is set (it would be lost).
    """
    mapping = mapping_for_ours(entry["class_name"])
    config: dict[str, Any] = {}
    for key, value in entry["config"].items():
        if key in mapping.initial_only:
            continue
        if key in mapping.ours_only:
            if value != mapping.ours_only[key]:
                raise ValueError(
                    f"{entry['class_name']} {entry['config'].get('name')!r}: Keras has no argument "
                    f"{key!r} (set to {value!r}); save as .npz to keep it"
                )
            continue
        config[key] = _value_to_keras(key, value)
    return {"module": mapping.module, "class_name": mapping.keras_name, "config": config, "registered_name": None}


def _value_to_keras(key: str, value: Any) -> Any:
    if key == "dtype" and isinstance(value, str):
        return _policy(value)
    if key in _NESTED_LAYER_KEYS and isinstance(value, dict):
        return layer_to_keras(value)
    for suffix, module in _FAMILIES:
        if key.endswith(suffix):
            return _keras_object(value, module)
    return value


def keras_layer_order(model: Any) -> list[Any]:
    """The layers of ``model`` in the order Keras lists them (``model.layers``), which names the
    HDF5 groups: a chain's order for ``Sequential``; for a functional model Keras' own order
    (``ops/function.py`` ``map_graph``: deepest first, ties in the depth-first order of a walk
    from the outputs), recomputed here from the graph."""
    if not hasattr(model, "graph") or type(model).__name__ == "Sequential":
        return list(model.layers)
    graph = model.graph
    first_seen: dict[int, int]
    finished: set[int]
    ordered: list[Any]
    first_seen, finished, ordered = {}, set(), []  # ordered: nodes, inputs first

    def visit(tensor: Any) -> None:
        node = tensor.node
        if id(node) in finished:
            return
        first_seen.setdefault(id(node.layer), len(first_seen))
        if not node.layer.is_input_layer:
            for inbound in node.inbound:
                visit(inbound)
        finished.add(id(node))
        ordered.append(node)

    for output in graph.outputs:
        visit(output)
    node_depth: dict[int, int]
    layer_depth: dict[int, int]
    layers: dict[int, Any]
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)], node_depth[id(node)] = depth, depth
        layers[id(node.layer)] = node.layer
        for parent in (t.node for t in node.inbound):
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in graph.inputs:  # an input no output depends on still belongs to the model
        if id(tensor.node.layer) not in layer_depth:
            layer_depth[id(tensor.node.layer)], first_seen[id(tensor.node.layer)] = 0, -1
            layers[id(tensor.node.layer)] = tensor.node.layer
    return [layers[key] for key in sorted(layer_depth, key=lambda k: (-layer_depth[k], first_seen[k]))]


def _tensor_spec(tensor: Any, positions: dict[int, int]) -> dict[str, Any]:
    return {"class_name": "__keras_tensor__", "config": {
        "shape": list(tensor.shape), "dtype": str(tensor.dtype),
        "keras_history": [tensor.node.layer.name, positions[id(tensor.node)], tensor.index]}}


def _node_to_keras(node: Any, positions: dict[int, int]) -> dict[str, Any]:
    mapping = mapping_for_ours(type(node.layer).__name__)
    specs = [_tensor_spec(t, positions) for t in node.inbound]
    kwargs: dict[str, Any] = dict(node.options)
    unknown = sorted(set(kwargs) - set(_CALL_KWARGS[mapping.call]))
    if unknown:
        raise ValueError(f"layer {node.layer.name!r} was called with {unknown}, which Keras files cannot hold")
    args: list[Any]
    if not node.takes_list:
        args = specs[:1]
    elif mapping.call == "rnn":
        args, kwargs["initial_state"] = specs[:1], specs[1:]
    elif mapping.call == "positional":
        args = specs[:2]
        kwargs.update(zip(("key", "attention_mask"), specs[2:]))
    else:
        args = [specs]
    return {"args": args, "kwargs": kwargs}


def model_to_keras(model: Any) -> dict[str, Any]:
    """``model`` (a `Sequential` or a functional `Model`, nested ones included) as Keras'
    serialized model, without the compile settings."""
    kind = type(model).__name__
    mapping = mapping_for_ours(kind)
    layers: list[dict[str, Any]]
    if kind == "Sequential":
        layers = []
        shape = model._known_input_shape()
        if shape is not None:
            source = model._input_layer
            layers.append(layer_to_keras({"class_name": "InputLayer", "config": {
                "batch_shape": list(shape), "dtype": source.dtype.name if source is not None else "float32",
                "name": source.name if source is not None else f"{model.name}_input"}}))
        layers += [_layer_or_model(layer) for layer in model.layers]
        config: dict[str, Any] = {"name": model.name, "trainable": model.trainable, "dtype": _policy(model.dtype.name),
                  "layers": layers}
        if shape is not None:
            config["build_input_shape"] = list(shape)
        entry: dict[str, Any] = {"module": mapping.module, "class_name": "Sequential", "config": config,
                                 "registered_name": None}
        if shape is not None:
            entry["build_config"] = {"input_shape": list(shape)}
        return entry
    from ..models._graph_config import _node_index

    graph = model.graph
    positions = _node_index(graph)
    layers = []
    for layer in keras_layer_order(model):
        entry = _layer_or_model(layer)
        nodes = [n for n in graph.nodes if n.layer is layer and not layer.is_input_layer]
        layers.append({**entry, "name": layer.name, "inbound_nodes": [_node_to_keras(n, positions) for n in nodes]})

    def structure(kind: str, keys: Any, tensors: Any) -> Any:
        refs = [[t.node.layer.name, positions[id(t.node)], t.index] for t in tensors]
        if kind == "dict":
            return dict(zip(keys, refs))
        return refs if kind == "list" else refs[0]

    config = {"name": model.name, "trainable": model.trainable, "layers": layers,
              "input_layers": structure(model._input_kind, model._input_keys, graph.inputs),
              "output_layers": structure(model._output_kind, model._output_keys, graph.outputs)}
    return {"module": mapping.module, "class_name": "Functional", "config": config,
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def _layer_or_model(layer: Any) -> dict[str, Any]:
    from ..layers import serialize

    if type(layer).__name__ in ("Sequential", "Model"):
        return model_to_keras(layer)
    return layer_to_keras(serialize(layer))


# --- Keras -> ours ------------------------------------------------------------------------------
def refuse_code(value: Any, where: str = "config.json") -> None:
    """Raise ``ValueError`` if a serialized object anywhere in ``value`` carries code."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") in _CODE_CLASSES:
                raise ValueError(
                    f"{where} holds a {item['class_name']!r} object, i.e. Python code; scratchlstm never "
                    "runs code from a file (Keras' safe_mode refuses it too)"
                )
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _plain(value: Any) -> Any:
    """Keras' ``{"module", "class_name", "config", ...}`` objects as our ``{"class_name", "config"}``."""
    if isinstance(value, dict) and "class_name" in value:
        return {"class_name": value["class_name"], "config": _plain(value.get("config", {}))}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_DTYPES = ("float32", "float64", "mixed_bfloat16", "mixed_float16", "int32", "int64", None)


def _dtype_from_keras(value: Any) -> Any:
    """A Keras dtype or ``DTypePolicy`` as our ``dtype`` argument (the mixed policies run on
    the JAX backend; see `scratchlstm.mixed_precision`)."""
    if isinstance(value, dict):
        if value.get("class_name") != "DTypePolicy":
            raise ValueError(f"the dtype policy {value.get('class_name')!r} is not supported (DTypePolicy only)")
        value = (value.get("config") or {}).get("name")
    if value not in _DTYPES:
        raise ValueError(f"the dtype {value!r} is not supported; scratchlstm takes {[d for d in _DTYPES if d]}")
    return value


def layer_from_keras(entry: Any) -> dict[str, Any]:
    """One Keras layer entry as our ``{"class_name", "config"}`` (nested models included).

    Raises:
        ValueError: an unknown class, code, or a Keras argument we do not implement, by name.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"a layer entry must be {{'class_name': ..., 'config': {{...}}}}, got {entry!r:.200}")
    mapping = mapping_for_keras(entry.get("class_name"))
    if mapping.call == "model":
        return model_from_keras(entry)
    config: dict[str, Any] = {}
    name = entry["config"].get("name")
    for key, value in entry["config"].items():
        if key in mapping.keras_only:
            if _plain(value) != mapping.keras_only[key]:
                raise ValueError(
                    f"Keras {mapping.keras_name} {name!r} sets {key}={value!r}, which scratchlstm does not "
                    f"implement (only {key}={mapping.keras_only[key]!r})"
                )
            continue
        if key == "dtype":
            config[key] = _dtype_from_keras(value)
        elif key in _NESTED_LAYER_KEYS and isinstance(value, dict):
            config[key] = layer_from_keras(value)
        else:
            config[key] = _plain(value)
    return {"class_name": mapping.class_name, "config": config}


def _reference(spec: Any, where: str) -> list[Any]:
    history = spec.get("config", {}).get("keras_history") if isinstance(spec, dict) else None
    if (not isinstance(spec, dict) or spec.get("class_name") != "__keras_tensor__" or not isinstance(history, list)
            or len(history) != 3):
        raise ValueError(f"{where}: expected a Keras tensor {{'class_name': '__keras_tensor__', ...}}, got {spec!r:.200}")
    return list(history)


def _node_from_keras(node: Any, mapping: LayerMapping, layer_name: str) -> dict[str, Any]:
    where = f"a node of layer {layer_name!r}"
    if not isinstance(node, dict) or not isinstance(node.get("args"), list):
        raise ValueError(f"{where} must be {{'args': [...], 'kwargs': {{...}}}}, got {node!r:.200}")
    args, kwargs = node["args"], dict(node.get("kwargs") or {})
    # Keras records call defaults: mask=None (masks propagate on their own) and training=False
    for key, allowed in (("mask", (None,)), ("training", (None, False))):
        if key in kwargs and kwargs[key] not in allowed:
            raise ValueError(f"{where} passes {key}={kwargs[key]!r:.100}, which scratchlstm does not take in a file")
        kwargs.pop(key, None)
    unknown = sorted(set(kwargs) - set(_CALL_KWARGS[mapping.call]))
    if unknown:
        raise ValueError(f"{where} passes {unknown}, which scratchlstm's {mapping.class_name} does not take in a file")
    if len(args) == 1 and isinstance(args[0], list):  # one list of tensors
        refs, takes_list = [_reference(s, where) for s in args[0]], True
    elif mapping.call == "positional" and 1 <= len(args) <= 3:
        refs = [_reference(s, where) for s in args]
        refs += [_reference(kwargs.pop(k), where) for k in ("key", "attention_mask") if kwargs.get(k) is not None]
        takes_list = True
    elif len(args) == 1:
        refs, takes_list = [_reference(args[0], where)], False
    else:
        raise ValueError(f"{where} has {len(args)} positional arguments; {mapping.class_name} takes one")
    states = kwargs.pop("initial_state", None)
    if states is not None:
        states = states if isinstance(states, list) else [states]
        refs, takes_list = refs + [_reference(s, where) for s in states], True
    result: dict[str, Any] = {"args": refs, "takes_list": takes_list}
    options = {k: v for k, v in kwargs.items() if v not in (None, False)}
    if options:
        result["options"] = options
    return result


def _structure(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return {"dict": {k: list(v) for k, v in value.items()}}
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return {"single": list(value)}
    if isinstance(value, list) and all(isinstance(v, list) for v in value):
        return {"list": [list(v) for v in value]}
    raise ValueError(f"the model's {where} must be a reference, a list or a dict of them, got {value!r:.200}")


def model_from_keras(entry: dict[str, Any]) -> dict[str, Any]:
    """A Keras ``Sequential``/``Functional`` entry as our model config ``{"class_name", "config"}``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"config.json must hold a model {{'class_name': ..., 'config': {{...}}}}, got {entry!r:.200}")
    mapping = mapping_for_keras(entry.get("class_name"))
    config = entry["config"]
    if not isinstance(config.get("layers"), list):
        raise ValueError(f"the {mapping.keras_name} config has no list of 'layers'")
    if config.get("dtype") is not None:
        _dtype_from_keras(config["dtype"])
    if mapping.class_name == "Sequential":
        layers = list(config["layers"])
        ours: dict[str, Any] = {"name": config.get("name"), "trainable": config.get("trainable", True), "layers": []}
        shape = config.get("build_input_shape")
        if layers and isinstance(layers[0], dict) and layers[0].get("class_name") == "InputLayer":
            first = layer_from_keras(layers.pop(0))["config"]
            shape = first.get("batch_shape", shape)
        ours["layers"] = [layer_from_keras(layer) for layer in layers]
        if shape is not None:
            ours["build_input_shape"] = list(shape)
        return {"class_name": "Sequential", "config": ours}
    if mapping.class_name != "Model":
        raise ValueError(f"config.json must hold a Sequential or Functional model, got {mapping.keras_name!r}")
    layers = []
    for item in config["layers"]:
        converted = layer_from_keras(item)
        name = item.get("name", converted["config"].get("name"))
        nodes = item.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise ValueError(f"inbound_nodes of layer {name!r} must be a list")
        layer_mapping = mapping_for_keras(item.get("class_name"))
        layers.append({**converted, "name": name,
                       "inbound_nodes": [_node_from_keras(n, layer_mapping, name) for n in nodes]})
    return {"class_name": "Model", "config": {
        "name": config.get("name"), "trainable": config.get("trainable", True), "layers": layers,
        "input_layers": _structure(config.get("input_layers"), "input_layers"),
        "output_layers": _structure(config.get("output_layers"), "output_layers")}}


__all__ = ["MAPPINGS", "keras_layer_order", "layer_from_keras", "layer_to_keras", "model_from_keras",
           "model_to_keras", "refuse_code"]
