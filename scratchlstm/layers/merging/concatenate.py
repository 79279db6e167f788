"""The Keras-style ``Concatenate`` merge layer and its functional form `concatenate`."""

from __future__ import annotations

from typing import Any

from .._registry import register
from ._merge import Merge, backend_ops, check_mask_list, shape_list


def check_axis(axis: Any) -> int:
    """``axis`` must be an integer (``bool`` is refused although it is an ``int``)."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    return axis


@register(numpy="scratchlstm._numpy.merging.concatenate", jax="scratchlstm.jax_backend.merging.concatenate")
class Concatenate(Merge):
    """Joins the inputs along ``axis``: ``(B, T, F_1), (B, T, F_2) -> (B, T, F_1 + F_2)``.

    All inputs have the same rank and the same sizes on every axis but ``axis`` (``None``, an
    unknown size, matches any). Unlike the elementwise merges there is no broadcasting.

    Masks (Keras): an input without a mask counts as unmasked everywhere; the masks are
    concatenated along ``axis`` (a ``(B, T)`` mask stretched over the features first) and a step
    is kept if any of its features is, so ``axis=-1`` gives the OR of the masks and ``axis=1``
    joins them in time.

    Args:
        axis: the axis to join along; negative counts from the end.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> Concatenate(axis=1)([np.zeros((2, 3, 4)), np.ones((2, 5, 4))]).shape
        (2, 8, 4)
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        self.axis = check_axis(axis)
        super().__init__(**kwargs)

    def _shapes(self, input_shape: Any) -> list[tuple[Any, ...]]:
        shapes = shape_list(self, input_shape, at_least=self.at_least)
        kind = f"Concatenate {self.name!r}"
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(f"{kind} expects inputs of equal rank; received shapes {shapes}")
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"{kind} has axis={self.axis}, expected an axis in [{-rank}, {rank}) for shapes {shapes}")
        axis = self.axis % rank
        for dim in range(rank):
            sizes = {s[dim] for s in shapes} - {None}
            if dim != axis and len(sizes) > 1:
                raise ValueError(
                    f"{kind} expects inputs with matching shapes except on the concatenation axis "
                    f"{self.axis}; received shapes {shapes} (they differ on axis {dim})"
                )
        return shapes

    def validate_input_shape(self, input_shape: Any) -> None:
        self._shapes(input_shape)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        shapes = self._shapes(input_shape)
        axis = self.axis % len(shapes[0])
        sizes = [s[axis] for s in shapes]
        # The other axes are the first input's, unknown sizes included, as Keras reports them.
        joined = None if None in sizes else sum(sizes)
        return (*shapes[0][:axis], joined, *shapes[0][axis + 1:])

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras' rule (see the class docstring), computed by the backend the arrays belong to.

        Args:
            inputs: the list of inputs (their shapes stand in for a missing mask).
            mask: ``None``, or one mask (``(B, T)`` bool, or ``None``) per input.

        Returns:
            the output's ``(B, T')`` bool mask, or ``None`` if no input has one.
        """
        if mask is None:
            return None
        check_mask_list(self, inputs, mask)
        if all(m is None for m in mask):
            return None
        return backend_ops(self, inputs, mask).concatenate_mask(inputs, mask, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs: Any, axis: int = -1, **kwargs: Any) -> Any:
    """Functional form of `Concatenate`: ``Concatenate(axis=axis, **kwargs)(inputs)``.

    Args:
        inputs: a list of at least two tensors (arrays, or symbolic tensors of a model).
        axis: the axis to join along.
        **kwargs: the other arguments of `Concatenate`.

    Returns:
        the inputs joined along ``axis``: an array, or a symbolic tensor if ``inputs`` are symbolic.
    """
    return Concatenate(axis=axis, **kwargs)(inputs)
