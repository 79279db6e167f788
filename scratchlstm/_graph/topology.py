"""From the model's input and output tensors to the nodes between them, in execution order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .tensor import Node, SymbolicTensor

if TYPE_CHECKING:
    from ..layers import Layer


class Graph:
    """The nodes that compute ``outputs`` from ``inputs``, topologically sorted.

    Args:
        inputs: flat list of `SymbolicTensor` made by ``Input``.
        outputs: flat list of `SymbolicTensor` computed from them.

    Attributes:
        nodes: the nodes in an order where each comes after the nodes it consumes; the input
            nodes first, in the order of ``inputs``.
        layers: the distinct layers of those nodes, in order of first use.
    """

    def __init__(self, inputs: list[SymbolicTensor], outputs: list[SymbolicTensor]) -> None:
        for position, tensor in enumerate(inputs):
            if not isinstance(tensor, SymbolicTensor) or not getattr(tensor.node.layer, "is_input_layer", False):
                raise ValueError(
                    f"Model inputs must be tensors made by scratchlstm.Input(...); input {position} is {tensor!r}"
                )
        for position, tensor in enumerate(outputs):
            if not isinstance(tensor, SymbolicTensor):
                raise ValueError(
                    f"Model outputs must be symbolic tensors (the result of calling layers on Input "
                    f"tensors); output {position} is {type(tensor).__name__}: {tensor!r}"
                )
        if len({id(t) for t in inputs}) != len(inputs):
            raise ValueError("the same Input tensor is listed twice in the model's inputs")
        self.inputs, self.outputs = list(inputs), list(outputs)
        input_nodes = [t.node for t in inputs]
        order: list[Node] = []
        state: dict[int, str] = {}  # id(node) -> "visiting" | "done"

        def visit(node: Node, path: tuple[Any, ...]) -> None:
            if state.get(id(node)) == "done":
                return
            if state.get(id(node)) == "visiting":
                raise ValueError(f"the graph has a cycle through layer {node.layer.name!r}")
            if getattr(node.layer, "is_input_layer", False) and node not in input_nodes:
                raise ValueError(
                    f"output {path[0]} depends on the Input {node.layer.name!r} "
                    f"{node.outputs[0].shape}, which is not among the model's inputs "
                    f"{[t.node.layer.name for t in inputs]} (a tensor from another model?)"
                )
            state[id(node)] = "visiting"
            for tensor in node.inbound:
                visit(tensor.node, path)
            state[id(node)] = "done"
            order.append(node)

        for node in input_nodes:
            visit(node, ("input",))
        for position, tensor in enumerate(outputs):
            visit(tensor.node, (position,))
        self.nodes = order
        self.layers: list[Layer] = []
        for node in order:
            if all(node.layer is not seen for seen in self.layers):
                self.layers.append(node.layer)
        names = [layer.name for layer in self.layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"all layer names in a model must be unique, but {duplicates} name several layers; "
                "pass name=... to tell them apart"
            )

    def input_readers(self) -> list[tuple[int, Layer]]:
        """``(position in inputs, layer)`` for each layer called directly on a model input."""
        positions = {id(tensor): k for k, tensor in enumerate(self.inputs)}
        return [(positions[id(tensor)], node.layer) for node in self.nodes
                for tensor in node.inbound if id(tensor) in positions]

    def start(self, inputs: list[Any], mask: Any = None) -> tuple[dict[int, Any], dict[int, Any]]:
        """The values and masks of the input tensors, keyed by ``id(tensor)``, for a walk."""
        input_masks = list(mask) if isinstance(mask, list) else [mask] * len(self.inputs)
        values = {id(t): value for t, value in zip(self.inputs, inputs)}
        return values, {id(t): m for t, m in zip(self.inputs, input_masks)}
