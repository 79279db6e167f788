"""Symbolic tensors and nodes.

Calling a layer on symbolic tensors (from `scratchlstm.Input`) records a `Node`: the layer, the
tensors it was called on, and the tensors it produced. A layer called twice has two nodes and
one set of weights (a shared layer).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

if TYPE_CHECKING:
    from ..layers import Layer


class SymbolicTensor:
    """A placeholder with a shape (batch axis first, ``None`` where unknown) and a dtype.

    Attributes:
        shape: tuple, e.g. ``(None, 25, 1)``.
        dtype: a NumPy dtype.
        node: the `Node` that produced it.
        index: which of that node's outputs it is.
        name: the producing layer's name (with the output index when the layer has several).
    """

    def __init__(self, shape: Any, dtype: Any, node: "Node", index: int = 0) -> None:
        self.shape: tuple[int | None, ...] = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        layer = self.node.layer
        return layer.name if len(self.node.outputs) <= 1 else f"{layer.name}_{self.index}"

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name} from {self.node.layer.name!r}>"

    def __len__(self) -> NoReturn:
        raise TypeError("a symbolic tensor has no length; it stands for data passed to the model later")

    def __iter__(self) -> NoReturn:
        raise TypeError(
            f"{self!r} is one tensor, not a list; layers that return several tensors "
            "(return_state=True) return a list"
        )


class Node:
    """One call of a layer in a graph.

    Attributes:
        layer: the layer called.
        inbound: the symbolic tensors it was called on, flat.
        takes_list: whether the layer received a list (merge layers, or an RNN with
            ``initial_state``) rather than one tensor.
        outputs: the symbolic tensors it produced, flat.
        returns_list: whether the layer returns a list (e.g. ``return_state=True``).
        options: the call's non-tensor arguments (see ``Layer.gather_inputs``), passed to the
            layer's ``layer_forward`` as keywords.
    """

    def __init__(self, layer: Layer, inbound: list[SymbolicTensor], takes_list: bool,
                 options: dict[str, Any] | None = None) -> None:
        self.layer = layer
        self.inbound = list(inbound)
        self.takes_list = bool(takes_list)
        self.options = dict(options or {})
        self.outputs: list[SymbolicTensor] = []
        self.returns_list = False

    def arguments(self, values: list[Any]) -> Any:
        """``values`` (one per inbound tensor) in the form the layer was called with."""
        return list(values) if self.takes_list else values[0]

    def read(self, values: dict[int, Any], masks: dict[int, Any]) -> tuple[Any, Any]:
        """``(arguments, mask)`` for this call from the values and masks of the tensors so far
        (both keyed by ``id(tensor)``); ``mask`` is ``None`` when no input has one."""
        arguments = self.arguments([values[id(t)] for t in self.inbound])
        node_masks = [masks.get(id(t)) for t in self.inbound]
        if all(m is None for m in node_masks):
            return arguments, None
        return arguments, (node_masks if self.takes_list else node_masks[0])

    def write(self, values: dict[int, Any], masks: dict[int, Any], outputs: Any, arguments: Any,
              mask: Any) -> list[Any]:
        """Record the layer's ``outputs`` and their masks (Keras' ``compute_mask``); return them as a list."""
        output_list = outputs if self.returns_list else [outputs]
        if mask is not None and not self.layer.supports_masking:
            _warn_mask_dropped(self.layer)
        output_masks = self.layer.compute_mask(arguments, mask, **self.options)
        if not isinstance(output_masks, list):
            output_masks = [output_masks] * len(output_list)
        for tensor, value, output_mask in zip(self.outputs, output_list, output_masks):
            values[id(tensor)], masks[id(tensor)] = value, output_mask
        return output_list


def _warn_mask_dropped(layer: Layer) -> None:
    """Keras 3's warning (``Layer.__call__``) for a layer that cannot use the mask it receives.

    Keras warns when the symbolic call records the node; masks here are computed when the graph
    runs, so the warning comes with the first forward pass (once per layer: Python's default
    warning filter shows a message once per place).
    """
    warnings.warn(
        f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input with a mask "
        "attached to it. However, this layer does not support masking and will therefore destroy "
        "the mask information. Downstream layers will not see the mask.",
        UserWarning,
        stacklevel=2,
    )


def is_symbolic(inputs: Any) -> bool:
    return any(isinstance(t, SymbolicTensor) for t in flatten_structure(inputs))


def flatten_structure(value: Any) -> list[Any]:
    """The leaves of nested lists, tuples and dicts (dicts in insertion order)."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in flatten_structure(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in flatten_structure(v)]
    return [value]
