"""``model.summary()``: Keras' table of layers, output shapes and parameter counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .._graph.tensor import SymbolicTensor
    from ._model import Model


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return str(tuple(shape))


def _weights_count(arrays: Any) -> int:
    return int(sum(np.size(a) for a in arrays))


def summary_text(model: Model) -> str:
    """The summary as text: one row per layer (per call of a shared layer for graphs)."""
    model._require_built("summary")
    graph_view = model.summary_shows_connections
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if graph_view else [])
    rows: list[list[str]] = []
    counted: set[int] = set()
    for node in model.graph.nodes:
        layer = node.layer
        if layer.is_input_layer and not graph_view:
            continue
        shapes = [t.shape for t in node.outputs]
        params = 0 if id(layer) in counted else _weights_count(layer.weights)
        counted.add(id(layer))
        row = [f"{layer.name} ({type(layer).__name__})", _shape_text(shapes if len(shapes) > 1 else shapes[0]), f"{params:,}"]
        if graph_view:
            row.append(", ".join(_tensor_reference(model, t) for t in node.inbound) or "-")
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) + 2 for i, h in enumerate(headers)]
    line = "-" * sum(widths)
    trainable = _weights_count(model.trainable_weights)
    non_trainable = _weights_count(model.non_trainable_weights)
    out = [f'Model: "{model.name}"', line, "".join(h.ljust(w) for h, w in zip(headers, widths)), line]
    out += ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    out += [line, f"Total params: {trainable + non_trainable:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {non_trainable:,}", line]
    return "\n".join(out)


def _tensor_reference(model: Model, tensor: SymbolicTensor) -> str:
    """Keras' ``layer_name[node_index][tensor_index]``."""
    layer = tensor.node.layer
    nodes = [n for n in model.graph.nodes if n.layer is layer]
    return f"{layer.name}[{nodes.index(tensor.node)}][{tensor.index}]"
