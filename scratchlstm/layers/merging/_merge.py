"""The base of the merge layers: a list of tensors in, one tensor out (Keras' ``Merge``).

The elementwise merges (`Add`, `Subtract`, `Multiply`, `Average`, `Maximum`, `Minimum`) share
Keras' shape rule: the batch axes must agree; the other axes are aligned on the right (a
lower-rank input gains axes just after the batch axis) and broadcast where one of them is 1.

    (B, T, F) with (B, F)     -> (B, T, F)      the second acts as (B, 1, F)
    (B, 1, F) with (B, T, 1)  -> (B, T, F)
"""

from __future__ import annotations

import functools
import operator
from types import ModuleType
from typing import Any

from .._base import Layer
from .._registry import jax_ops, numpy_ops


def shape_list(layer: Layer, input_shape: Any, *, at_least: int = 2,
               exactly: int | None = None) -> list[tuple[Any, ...]]:
    """``input_shape`` as a list of tuples, or ``ValueError`` naming the expected and the received.

    Args:
        layer: the merge layer (for its kind and name in messages).
        input_shape: what the layer was called with: one shape per input, batch axis first.
        at_least: the fewest inputs accepted.
        exactly: the only accepted count (`Subtract`, `Dot`), or ``None``.

    Returns:
        the shapes as tuples.
    """
    kind = f"{type(layer).__name__} {layer.name!r}"
    wanted = f"exactly {exactly}" if exactly is not None else f"at least {at_least}"
    is_list = isinstance(input_shape, (list, tuple)) and all(isinstance(s, (list, tuple)) for s in input_shape)
    if not is_list:
        raise ValueError(
            f"{kind} should be called on a list of {wanted} inputs; received input_shape={input_shape} "
            "(not a list of shapes)"
        )
    shapes = [tuple(s) for s in input_shape]
    if (exactly is not None and len(shapes) != exactly) or len(shapes) < at_least:
        raise ValueError(f"{kind} should be called on a list of {wanted} inputs; received {len(shapes)}: {shapes}")
    for position, shape in enumerate(shapes):
        if len(shape) < 1:
            raise ValueError(f"{kind} expects inputs with a batch axis; input {position} has shape {shape}")
    batch_sizes = {s[0] for s in shapes} - {None}
    if len(batch_sizes) > 1:
        raise ValueError(f"{kind} expects inputs with the same batch size; received shapes {shapes}")
    return shapes


def broadcast_shapes(layer: Layer, shapes: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Keras' elementwise output shape: right-aligned, 1 broadcasts, ``None`` is unknown.

    Args:
        layer: the merge layer (for messages).
        shapes: the input shapes, batch axis first, already checked by `shape_list`.

    Returns:
        the output shape, batch axis first.
    """
    ndim = max(len(s) for s in shapes) - 1
    out: list[int | None] = [1] * ndim  # the non-batch axes, grown one input at a time
    for shape in shapes:
        dims = (1,) * (ndim - len(shape) + 1) + tuple(shape[1:])
        for axis, (i, j) in enumerate(zip(out, dims)):
            if i is None or j is None:
                out[axis] = None
            elif i == 1:
                out[axis] = j
            elif j != 1 and i != j:
                raise ValueError(
                    f"{type(layer).__name__} {layer.name!r} received inputs with incompatible shapes {shapes}: "
                    f"expected equal sizes (or 1) on each non-batch axis, aligned on the right"
                )
    batch_sizes = {s[0] for s in shapes} - {None}
    return (batch_sizes.pop() if batch_sizes else None, *out)


def is_jax_array(value: Any) -> bool:
    """Whether ``value`` is a JAX array or tracer (decides which backend computes a mask)."""
    return value is not None and type(value).__module__.split(".")[0] in ("jax", "jaxlib")


def backend_ops(layer: Layer, *values: Any) -> ModuleType:
    """The JAX ops module of ``layer`` if any of ``values`` is a JAX array, else its NumPy one."""
    flat = [v for group in values for v in (group if isinstance(group, (list, tuple)) else [group])]
    return jax_ops(layer) if any(is_jax_array(v) for v in flat) else numpy_ops(layer)


def check_mask_list(layer: Layer, inputs: Any, mask: Any) -> None:
    """``mask`` must be one entry (an array or ``None``) per input, as Keras requires."""
    if not isinstance(mask, (list, tuple)):
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects mask to be a list (one per input), "
            f"received {type(mask).__name__}"
        )
    if not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
        count = len(inputs) if isinstance(inputs, (list, tuple)) else "not a list of"
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects as many masks as inputs; received {len(mask)} "
            f"masks for {count} inputs"
        )


class Merge(Layer):
    """Base class of the elementwise merge layers: several inputs, one output, no weights.

    Subclasses name their math modules with `register`; this class holds the shape rules,
    the mask rule, and the count of inputs.

    Args:
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, as for `Layer`.
    """

    supports_masking = True
    at_least = 2  # Keras 3 accepts one input; one input to a merge is almost always a mistake
    exactly: int | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def validate_input_shape(self, input_shape: Any) -> None:
        broadcast_shapes(self, shape_list(self, input_shape, at_least=self.at_least, exactly=self.exactly))

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return broadcast_shapes(self, shape_list(self, input_shape, at_least=self.at_least, exactly=self.exactly))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras' rule: the OR of the input masks, or ``None`` if any input has none.

        Args:
            inputs: the list of inputs.
            mask: ``None``, or one mask (``(B, T)`` bool, or ``None``) per input.

        Returns:
            a ``(B, T)`` bool mask, or ``None``.
        """
        if mask is None:
            return None
        check_mask_list(self, inputs, mask)
        if any(m is None for m in mask):
            return None
        return functools.reduce(operator.or_, mask)  # `|` works on NumPy and JAX arrays alike
