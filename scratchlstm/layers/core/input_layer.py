"""``Input`` and ``InputLayer``: where a functional model's data enters (DESIGN §8)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._graph import Node, SymbolicTensor
from .._base import Layer, resolve_dtype, unique_name
from .._registry import register


@register(numpy="scratchlstm._numpy.core.input_layer", jax="scratchlstm.jax_backend.core.input_layer")
class InputLayer(Layer):
    """The source node of a graph; it holds the shape and dtype of one model input, no weights.

    Args:
        shape: the shape of one sample, without the batch axis (``None`` for an unknown length).
        batch_size: a fixed batch size, or ``None``.
        dtype: ``"float32"`` (default), ``"float64"``, or ``"int32"``/``"int64"`` for token ids.
        name: the input's name (keys of dict inputs in ``fit`` may use it).
        batch_shape: the full shape with the batch axis, instead of ``shape`` and ``batch_size``.
    """

    is_input_layer = True

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None, dtype: Any = None,
                 name: str | None = None, batch_shape: Sequence[int | None] | None = None,
                 trainable: bool = True) -> None:
        if (shape is None) == (batch_shape is None):
            raise ValueError(
                f"Input needs exactly one of shape=(...) (without the batch axis) or batch_shape=(...), "
                f"got shape={shape!r}, batch_shape={batch_shape!r}"
            )
        if batch_shape is None:
            if not isinstance(shape, (tuple, list)):
                shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
            if not isinstance(shape, (tuple, list)):
                raise ValueError(f"Input shape must be a tuple like (time_steps, features), got {shape!r}")
            if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
                raise ValueError(f"Input batch_size must be a positive integer or None, got {batch_size!r}")
            batch_shape = (batch_size, *shape)
        batch_shape = tuple(batch_shape)
        for dim in batch_shape:
            if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1):
                raise ValueError(f"Input dimensions must be positive integers or None, got shape {batch_shape}")
        integer = dtype is not None and _integer_dtype(dtype)
        super().__init__(name=name if name is not None else unique_name("input_layer"),
                         dtype=None if integer else resolve_dtype(dtype), trainable=trainable)
        if integer:
            self.dtype = np.dtype(dtype)  # token ids stay integers until an Embedding reads them
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.params, self.input_shape = {}, self.batch_shape
        node = Node(self, [], takes_list=False)
        node.outputs.append(SymbolicTensor(self.batch_shape, self.dtype, node, 0))
        self._inbound_nodes.append(node)
        self.output = node.outputs[0]

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        expected = self.batch_shape
        if not isinstance(input_shape, tuple) or len(input_shape) != len(expected) or any(
            e is not None and a is not None and e != a for e, a in zip(expected[1:], input_shape[1:])
        ):
            raise ValueError(f"input {self.name!r} expects shape {expected}, got {input_shape}")

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype.name, "name": self.name}


def _integer_dtype(dtype: Any) -> bool:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        return False
    return resolved in (np.dtype(np.int32), np.dtype(np.int64))


def Input(shape: Sequence[int | None] | None = None, batch_size: int | None = None, name: str | None = None,
          dtype: Any = None, batch_shape: Sequence[int | None] | None = None) -> SymbolicTensor:
    """A symbolic tensor standing for one model input: ``Input(shape=(25, 1))``.

    Args:
        shape: one sample's shape, without the batch axis; ``None`` for a variable length,
            e.g. ``(None, 8)``.
        batch_size: fix the batch size (a stateful RNN needs it), or ``None``.
        name: a name for the input (``fit`` accepts dicts keyed by it).
        dtype: ``"float32"`` (default), ``"float64"``, or ``"int32"``/``"int64"`` for token ids.
        batch_shape: the full shape, batch axis included, instead of ``shape``/``batch_size``.

    Examples:
        >>> x = Input(shape=(25, 1))
        >>> x.shape
        (None, 25, 1)
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape).output


