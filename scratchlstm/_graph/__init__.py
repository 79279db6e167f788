"""The functional API's graph: symbolic tensors, the nodes that made them, their order (DESIGN §8)."""

from .tensor import Node, SymbolicTensor, flatten_structure, is_symbolic
from .topology import Graph

__all__ = ["Graph", "Node", "SymbolicTensor", "flatten_structure", "is_symbolic"]
