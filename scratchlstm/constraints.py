"""Keras 3's weight constraints (``keras.constraints``): projections applied after each update.

A constraint is a pure function ``w -> projected w`` (same shape and dtype). Layers take them as
``kernel_constraint``, ``recurrent_constraint``, ``bias_constraint``,
``embeddings_constraint``, ``gamma_constraint``/``beta_constraint``; both backends apply a
weight's constraint right after every optimizer update (Keras' order: the update, then
``w = constraint(w)``), on the trainable weights only. The projection is written once against
an array namespace, so it runs with NumPy on NumPy arrays and with ``jax.numpy`` inside the
JAX backend's compiled step.

Formulas (Keras' exactly, with ``norms = sqrt(sum(w ** 2, axis, keepdims=True))`` and
``epsilon = 1e-7``):

- ``MaxNorm(max_value=2, axis=0)``: ``w * clip(norms, 0, max_value) / (epsilon + norms)``;
- ``NonNeg()``: ``max(w, 0)``;
- ``UnitNorm(axis=0)``: ``w / (epsilon + norms)``;
- ``MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)``:
  ``w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (epsilon + norms)``.

``axis=0`` on a ``Dense`` kernel ``(in, units)`` constrains each unit's incoming weights; a
``Conv1D`` kernel ``(K, C, F)`` takes ``axis=[0, 1]`` for each filter.

Names for ``get``: ``"max_norm"``, ``"non_neg"``, ``"unit_norm"``, ``"min_max_norm"`` and the
class names.

Examples:
    >>> import numpy as np
    >>> NonNeg()(np.array([-1.0, 2.0]))
    array([0., 2.])
    >>> w = np.array([[3.0, 0.1], [4.0, 0.0]], np.float32)
    >>> np.round(MaxNorm(1.0)(w), 4)
    array([[0.6, 0.1],
           [0.8, 0. ]], dtype=float32)
    >>> get("unit_norm"), serialize(MaxNorm(3))
    (UnitNorm(axis=0), {'class_name': 'MaxNorm', 'config': {'max_value': 3, 'axis': 0}})
"""

from __future__ import annotations

import numbers
from typing import Any, cast

import numpy as np

from ._catalog import Catalog
from .regularizers import EPSILON, array_namespace

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]


def _check_number(name: str, value: object, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(cast(float, value)) or value < low or (
        high is not None and cast(float, value) > high
    ):
        expected = f"a number >= {low}" if high is None else f"a number in [{low}, {high}]"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return cast(float, value.item() if isinstance(value, np.generic) else value)  # a Python number: JSON-able, weakly typed


def _check_axis(axis: Any) -> int | list[int]:
    """An int or a list/tuple of ints; kept as given (a list for JSON)."""
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in items):
        raise ValueError(f"axis must be an int or a list of ints, got {axis!r}")
    return [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)


class Constraint:
    """Base class: ``constraint(w)`` returns the projected ``w`` (the base class: ``w`` itself).

    A subclass defines ``project(w, xp)`` with the functions of ``xp`` (``numpy`` or
    ``jax.numpy``) and ``get_config`` (its constructor's arguments) so that a model holding it
    can be saved; `get` finds a subclass by its class name. Keras code that overrides
    ``__call__(self, w)`` works too, as long as it works on the backend's arrays.

    Examples:
        >>> import numpy as np
        >>> class Clip(Constraint):
        ...     def __init__(self, limit=1.0):
        ...         self.limit = limit
        ...     def project(self, w, xp):
        ...         return xp.clip(w, -self.limit, self.limit)
        ...     def get_config(self):
        ...         return {"limit": self.limit}
        >>> Clip(0.5)(np.array([-2.0, 0.25])), get({"class_name": "Clip", "config": {"limit": 2}})
        (array([-0.5 ,  0.25]), Clip(limit=2))
    """

    def __call__(self, w: Any) -> Any:
        xp = array_namespace(w)
        return self.project(xp.asarray(w), xp)

    def project(self, w: Any, xp: Any) -> Any:
        """The projection of the array ``w`` with the functions of ``xp``."""
        return w

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-able."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """The constraint `get_config` describes."""
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def _norms(w: Any, axis: int | list[int] | tuple[int, ...], xp: Any) -> Any:
    """``sqrt(sum(w ** 2))`` over ``axis``, kept for broadcasting."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    return xp.sqrt(xp.sum(xp.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Caps the norm of the weights along ``axis`` at ``max_value``.

    ``w * clip(norms, 0, max_value) / (epsilon + norms)``: vectors with a larger norm are
    scaled down to ``max_value``, the others are left (nearly) as they are.

    Args:
        max_value: the largest norm, a number >= 0; default ``2``.
        axis: the axis (or list of axes) the norms are taken over; default ``0``.
    """

    def __init__(self, max_value: float = 2, axis: int = 0) -> None:
        self.max_value = _check_number("max_value", max_value)
        self.axis = _check_axis(axis)

    def project(self, w: Any, xp: Any) -> Any:
        norms = _norms(w, self.axis, xp)
        desired = xp.clip(norms, 0, self.max_value)
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """``max(w, 0)``: the weights stay non-negative."""

    def project(self, w: Any, xp: Any) -> Any:
        return xp.maximum(w, 0)


class UnitNorm(Constraint):
    """``w / (epsilon + norms)``: the weights along ``axis`` get unit norm.

    Args:
        axis: the axis (or list of axes) the norms are taken over; default ``0``.
    """

    def __init__(self, axis: int = 0) -> None:
        self.axis = _check_axis(axis)

    def project(self, w: Any, xp: Any) -> Any:
        return w / (EPSILON + _norms(w, self.axis, xp))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps the norm of the weights along ``axis`` between ``min_value`` and ``max_value``.

    ``w * desired / (epsilon + norms)`` with ``desired = rate * clip(norms, min_value,
    max_value) + (1 - rate) * norms``: ``rate=1`` enforces the bounds at once, a smaller rate
    moves the norms part of the way at each update.

    Args:
        min_value: the smallest norm, >= 0; default ``0.0``.
        max_value: the largest norm, >= ``min_value``; default ``1.0``.
        rate: in ``[0, 1]``; default ``1.0``.
        axis: the axis (or list of axes) the norms are taken over; default ``0``.
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int = 0) -> None:
        self.min_value = _check_number("min_value", min_value)
        self.max_value = _check_number("max_value", max_value, low=min_value)
        self.rate = _check_number("rate", rate, high=1.0)
        self.axis = _check_axis(axis)

    def project(self, w: Any, xp: Any) -> Any:
        norms = _norms(w, self.axis, xp)
        desired = self.rate * xp.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras' function-style aliases (they are the classes, as in Keras 3).
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = {cls.__name__: cls for cls in (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_NAMES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
          "constraint": Constraint}
_CATALOG = Catalog("constraint", Constraint, _CLASSES, _NAMES, example="non_neg")


def deserialize(config: dict[str, Any]) -> Constraint:
    """The constraint of a config ``{"class_name": ..., "config": {...}}`` (as `serialize` or
    ``keras.constraints.serialize`` writes; ``module``/``registered_name`` are ignored).

    Raises:
        ValueError: for an unknown class (the known names are listed) or bad arguments.
    """
    return cast(Constraint, _CATALOG.deserialize(config))


def get(identifier: Any) -> Any:
    """A constraint from any identifier Keras accepts (``None`` stays ``None``).

    Args:
        identifier: ``None``; a name (``"max_norm"``, ``"non_neg"``, ``"unit_norm"``,
            ``"min_max_norm"``, or a class name such as ``"MaxNorm"``); a `Constraint`
            (returned as is) or class (instantiated with its defaults); a config dict; or any
            callable ``w -> projected w`` (used as is; on the JAX backend it gets JAX arrays).

    Raises:
        ValueError: for an unknown name (the known ones are listed) or another type.
    """
    return _CATALOG.get(identifier)


def serialize(constraint: Any) -> Any:
    """A JSON-able config that `get` turns back into an equal constraint (``None`` stays).

    A plain function becomes ``{"class_name": "function", "config": its name}``, which cannot be
    loaded back (subclass `Constraint` for that).
    """
    return _CATALOG.serialize(constraint)
