"""The Keras-style ``Dot`` merge layer and its functional form `dot`."""

from __future__ import annotations

from typing import Any

from ..._numpy.merging.dot import resolve_axes
from .._registry import register
from ._merge import Merge, shape_list


def check_axes(axes: Any) -> int | tuple[int, ...]:
    """``axes`` as Keras takes it: one integer, or a pair of integers; never the batch axis 0.

    Returns:
        ``axes`` as an ``int`` or a ``tuple`` of two ``int``.
    """
    def is_int(a: Any) -> bool:
        return isinstance(a, int) and not isinstance(a, bool)

    if is_int(axes):
        pair = (axes, axes)
    elif isinstance(axes, (list, tuple)) and len(axes) == 2 and all(is_int(a) for a in axes):
        pair = tuple(axes)
    else:
        raise ValueError(f"Dot axes must be an integer or a pair (list or tuple) of two integers, got {axes!r}")
    if 0 in pair:
        raise ValueError(f"Dot axes cannot include the batch axis 0, got axes={axes!r}")
    return axes if is_int(axes) else pair


@register(numpy="scratchlstm._numpy.merging.dot", jax="scratchlstm.jax_backend.merging.dot")
class Dot(Merge):
    """Per-sample dot product of two tensors along one axis of each (Keras' ``batch_dot``).

    For ``x (B, X..., K at axes[0], ...)`` and ``y (B, Y..., K at axes[1], ...)``:

        z[b, i..., j...] = sum_k x[b, i..., k] * y[b, k, j...]

    where ``i...`` are the non-batch axes of ``x`` left after removing ``axes[0]`` and ``j...``
    those of ``y`` after removing ``axes[1]``, in order. An output with only the batch axis
    becomes ``(B, 1)``. So ``(B, 3, 5) . (B, 10, 3)`` with ``axes=(1, 2)`` is ``(B, 5, 10)``,
    and ``(B, F) . (B, F)`` with ``axes=1`` is ``(B, 1)``.

    With ``normalize=True`` each input is first L2-normalized along its dot axis, as Keras does
    with its epsilon ``1e-7``: ``x / sqrt(max(sum x^2, 1e-14))``, making the output the cosine
    similarity. Dot outputs no mask.

    Args:
        axes: an integer (the same axis of both inputs) or a pair ``(axis_of_x, axis_of_y)``;
            negative counts from the end of each input; ``0``, the batch axis, is refused.
        normalize: whether to L2-normalize both inputs along their dot axes first.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Dot(axes=(1, 2))([np.ones((2, 3, 5)), np.ones((2, 10, 3))]).shape
        (2, 5, 10)
    """

    exactly = 2

    def __init__(self, axes: int | tuple[int, int], normalize: bool = False, **kwargs: Any) -> None:
        self.axes = check_axes(axes)
        self.normalize = bool(normalize)
        super().__init__(**kwargs)

    def _checked(self, input_shape: Any) -> tuple[tuple[Any, ...], tuple[Any, ...], int, int]:
        """The two shapes and the two resolved axes, or ``ValueError`` naming what is wrong."""
        first, second = shape_list(self, input_shape, exactly=2)
        kind = f"Dot {self.name!r}"
        try:
            a0, a1 = resolve_axes(self.axes, (len(first), len(second)))
        except ValueError as error:
            raise ValueError(f"{kind}: {error}; received shapes {[first, second]}") from None
        d0, d1 = first[a0], second[a1]
        if d0 is not None and d1 is not None and d0 != d1:
            raise ValueError(
                f"{kind} expects equal sizes on the dot axes; received {d0} (axis {a0} of {first}) and "
                f"{d1} (axis {a1} of {second}) with axes={self.axes!r}"
            )
        return first, second, a0, a1

    def validate_input_shape(self, input_shape: Any) -> None:
        self._checked(input_shape)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        first, second, a0, a1 = self._checked(input_shape)
        out = (*first[:a0], *first[a0 + 1:], *second[1:a1], *second[a1 + 1:])  # the batch axis is x's
        return out if len(out) > 1 else (first[0], 1)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Always ``None``: Keras' ``Dot`` drops masks."""
        return None

    def get_config(self) -> dict[str, Any]:
        axes = self.axes if isinstance(self.axes, int) else list(self.axes)
        return {**super().get_config(), "axes": axes, "normalize": self.normalize}


def dot(inputs: Any, axes: int | tuple[int, int] = -1, normalize: bool = False, **kwargs: Any) -> Any:
    """Functional form of `Dot`: ``Dot(axes, normalize, **kwargs)(inputs)``.

    Args:
        inputs: a list of two tensors (arrays, or symbolic tensors of a model).
        axes: as for `Dot`; Keras' functional form defaults to the last axis.
        normalize: as for `Dot`.
        **kwargs: the other arguments of `Dot`.

    Returns:
        the per-sample dot product: an array, or a symbolic tensor if ``inputs`` are symbolic.
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
