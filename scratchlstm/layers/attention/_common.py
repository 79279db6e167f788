"""What the attention layers share: checking the call's options, shapes and masks.

Nothing here does math; the math is in ``scratchlstm._numpy.attention`` and
``scratchlstm.jax_backend.attention``. The checks read only shapes, so the same functions serve
the NumPy arrays of an eager call and the JAX tracers of a jitted model.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .._base import Layer


def kind(layer: Layer) -> str:
    """``"Attention 'attention'"``: the layer's class and name, for messages."""
    return f"{type(layer).__name__} {layer.name!r}"


def check_rate(layer_kind: str, dropout: Any) -> float:
    """``dropout`` as a float in ``[0, 1]``, or ``ValueError`` naming what arrived."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= float(dropout) <= 1.0:
        raise ValueError(f"{layer_kind}: dropout must be a float in [0, 1], got {dropout!r}")
    return float(dropout)


def call_options(return_attention_scores: Any = False, use_causal_mask: Any = False) -> dict[str, Any]:
    """The non-default call options (JSON-able), as a graph node stores them."""
    options = {}
    for name, value in (("return_attention_scores", return_attention_scores), ("use_causal_mask", use_causal_mask)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
        if value:
            options[name] = True
    return options


def check_rank3(layer: Layer, shape: Any, what: str) -> None:
    """``shape`` must be ``(batch, time, features)`` with known, positive features."""
    if len(shape) != 3:
        raise ValueError(
            f"{kind(layer)} expects {what} of shape (batch, time_steps, features) (3-D), got shape "
            f"{tuple(shape)} ({len(shape)}-D)"
        )
    if shape[-1] is None or shape[-1] < 1:
        raise ValueError(f"{kind(layer)} needs a known, positive feature size for {what}, got shape {tuple(shape)}")


def check_same(layer: Layer, axis_name: str, first: Any, second: Any, first_name: str, second_name: str) -> None:
    """Two shapes must agree on an axis where both are known."""
    axis = {"batch": 0, "time": 1}[axis_name]
    a, b = first[axis], second[axis]
    if a is not None and b is not None and a != b:
        raise ValueError(
            f"{kind(layer)}: {first_name} and {second_name} must have the same {axis_name} size; got "
            f"{first_name} shape {tuple(first)} and {second_name} shape {tuple(second)}"
        )


def check_padding_mask(layer: Layer, mask: Any, shape: Any, what: str) -> None:
    """A padding mask for an input of ``shape`` must be ``(batch, time)``."""
    if mask is None:
        return
    expected = tuple(shape[:2])
    got = tuple(np.shape(mask))
    if got != expected:
        raise ValueError(
            f"{kind(layer)}: the mask of {what} must have shape (batch, time_steps) = {expected} for {what} of "
            f"shape {tuple(shape)}, got a mask of shape {got}"
        )


def split_masks(layer: Layer, mask: Any, count: int) -> list[Any]:
    """``mask`` (``None`` or one entry per input) as a list of ``count`` entries (``None`` padded).

    Raises:
        ValueError: if ``mask`` is not ``None``, a list or a tuple, or has more entries than ``count``.
    """
    if mask is None:
        return [None] * count
    if not isinstance(mask, (list, tuple)):
        raise ValueError(
            f"{kind(layer)} expects mask to be a list [query_mask, value_mask] (one (batch, time_steps) "
            f"mask or None per input), got {type(mask).__name__}"
        )
    if len(mask) > count:
        raise ValueError(f"{kind(layer)} expects at most {count} masks (one per input), got {len(mask)}")
    return list(mask) + [None] * (count - len(mask))
