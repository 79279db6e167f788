"""Keras 3's weight regularizers (``keras.regularizers``): penalties added to the training loss.

A regularizer is a pure function of one array. ``reg(x)`` is its penalty, a scalar of
``x``'s dtype; ``reg.gradient(x)`` is the hand-written derivative of that penalty (NumPy, the
NumPy backend adds it to the weight's gradient). The penalty is written once against an array
namespace (``reg.penalty(x, xp)``), so ``reg(x)`` runs NumPy on NumPy arrays and ``jax.numpy``
on JAX arrays, where the JAX backend differentiates it.

Layers take them as ``kernel_regularizer``, ``recurrent_regularizer``, ``bias_regularizer``,
``embeddings_regularizer``, ``gamma_regularizer``/``beta_regularizer`` (a weight penalty) and
``activity_regularizer`` (a penalty on the layer's outputs). As in Keras, training minimizes

    loss = compiled loss + sum over regularized trainable weights w of reg(w)
                         + sum over the outputs y of each call of reg(y) / batch_size(y)

and the logged ``loss`` (training and ``evaluate``) includes the penalties; the per-output
losses of a multi-output model do not. ``model.losses`` lists the current penalties.

Formulas (Keras' exactly, computed in ``x``'s dtype):

- ``L1(l1=0.01)``: ``l1 * sum(|x|)``; gradient ``l1 * s`` with ``s = 1 where x >= 0, else -1``
  (the subgradient JAX's autodiff takes at 0, so both backends agree on zero weights);
- ``L2(l2=0.01)``: ``l2 * sum(x ** 2)``; gradient ``l2 * 2 x``;
- ``L1L2(l1=0.0, l2=0.0)``: both (a zero factor's term is left out);
- ``OrthogonalRegularizer(factor=0.01, mode="rows")``: for ``x (n, m)`` with L2-normalized rows
  ``N`` (columns with ``mode="columns"``), ``factor * sum(|N N^T - diag|) / (n (n - 1))``.

Names for ``get`` (and layer arguments): ``"l1"``, ``"l2"``, ``"l1_l2"`` (``L1L2(0.01, 0.01)``,
as Keras documents it), ``"l1l2"`` (``L1L2()``, the name Keras 3's code registers),
``"orthogonal_regularizer"`` and the class names.

Examples:
    >>> import numpy as np
    >>> float(L2(2.0)(np.ones((5, 5), np.float32)))
    50.0
    >>> get("l1_l2")
    L1L2(l1=0.01, l2=0.01)
    >>> L1(0.5).gradient(np.array([-2.0, 0.0, 3.0]))
    array([-0.5,  0.5,  0.5])
    >>> serialize(L2(0.1))
    {'class_name': 'L2', 'config': {'l2': 0.1}}
"""

from __future__ import annotations

import math
import sys
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ._catalog import Catalog

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "activity_penalty",
    "activity_penalty_gradient",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "penalty_gradient",
    "serialize",
]

EPSILON = 1e-7  # Keras' backend.epsilon()


def array_namespace(x: Any) -> Any:
    """``jax.numpy`` for a JAX array (traced or not), else NumPy; JAX is never imported here."""
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(x, jax.Array):
        import jax.numpy as jnp

        return jnp
    return np


def _as_float_array(x: Any, xp: Any) -> Any:
    """``x`` as an array; non-float data becomes float32 (Keras' default float type)."""
    x = xp.asarray(x)
    return x if xp.issubdtype(x.dtype, xp.floating) else x.astype(xp.float32)


def _check_factor(name: str, value: object) -> float:
    """Keras' ``validate_float_arg``: a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not (
        math.isfinite(value) and value >= 0
    ):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value!r}")
    return float(value)


def _sign_ge0(x: NDArray[Any]) -> NDArray[Any]:
    """``1 where x >= 0, else -1``, in ``x``'s dtype: the derivative of ``|x|`` that JAX takes."""
    return np.where(x >= 0, 1, -1).astype(x.dtype, copy=False)


class Regularizer:
    """Base class: ``reg(x)`` is a scalar penalty, ``reg.gradient(x)`` its derivative (NumPy).

    A subclass defines ``penalty(x, xp)`` with array functions of ``xp`` (``numpy`` or
    ``jax.numpy``), ``gradient(x)`` for the NumPy backend, and ``get_config`` (its
    constructor's arguments) so that a model holding it can be saved and loaded; `get`
    finds a subclass by its class name. The base class itself is the zero penalty (as Keras').

    Keras code that overrides ``__call__(self, x)`` instead works too, on the JAX backend (which
    differentiates it); the NumPy backend needs ``gradient``.

    Examples:
        >>> import numpy as np
        >>> class Squares(Regularizer):
        ...     def __init__(self, weight=1.0):
        ...         self.weight = weight
        ...     def penalty(self, x, xp):
        ...         return self.weight * xp.sum(x * x)
        ...     def gradient(self, x):
        ...         return 2 * self.weight * x
        ...     def get_config(self):
        ...         return {"weight": self.weight}
        >>> float(Squares(0.5)(np.array([1.0, 2.0]))), get({"class_name": "Squares", "config": {"weight": 2}})
        (2.5, Squares(weight=2))
    """

    def __call__(self, x: Any) -> Any:
        """The penalty of ``x`` (a NumPy scalar for NumPy input, a JAX scalar for JAX input)."""
        xp = array_namespace(x)
        value = self.penalty(_as_float_array(x, xp), xp)
        return value[()] if xp is np else value

    def penalty(self, x: Any, xp: Any) -> Any:
        """The penalty of the float array ``x`` with the functions of ``xp``."""
        return xp.zeros((), x.dtype)

    def gradient(self, x: NDArray[Any]) -> NDArray[Any]:
        """``d penalty / d x``, same shape and dtype as ``x`` (NumPy)."""
        if type(self).penalty is Regularizer.penalty and type(self).__call__ is Regularizer.__call__:
            return np.zeros_like(x)
        raise NotImplementedError(
            f"{type(self).__name__} has no gradient(x); the NumPy backend needs one (define gradient(x) "
            "returning d penalty / d x), or train with compile(..., backend='jax'), which differentiates it"
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-able."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """The regularizer `get_config` describes."""
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``; a zero factor's term is left out.

    Args:
        l1: the L1 factor, a non-negative number (``None`` means 0).
        l2: the L2 factor, a non-negative number (``None`` means 0).

    The gradient is ``l1 * s + l2 * 2 x`` with ``s = 1 where x >= 0, else -1``. The string
    ``"l1_l2"`` gives ``L1L2(0.01, 0.01)``; the class's own defaults are 0, as Keras'.

    Examples:
        >>> import numpy as np
        >>> float(L1L2(l1=0.1, l2=0.01)(np.array([1.0, -2.0])))
        0.35
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _check_factor("l1", 0.0 if l1 is None else l1)
        self.l2 = _check_factor("l2", 0.0 if l2 is None else l2)

    def penalty(self, x: Any, xp: Any) -> Any:
        value = xp.zeros((), x.dtype)
        if self.l1 != 0.0:
            value = value + xp.asarray(self.l1, x.dtype) * xp.sum(xp.abs(x))
        if self.l2 != 0.0:
            value = value + xp.asarray(self.l2, x.dtype) * xp.sum(xp.square(x))
        return value

    def gradient(self, x: NDArray[Any]) -> NDArray[Any]:
        grad = np.zeros_like(x)
        if self.l1 != 0.0:
            grad = grad + x.dtype.type(self.l1) * _sign_ge0(x)
        if self.l2 != 0.0:
            grad = grad + x.dtype.type(self.l2) * (2 * x)
        return grad

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``; gradient ``l1 * s`` with ``s = 1 where x >= 0, else -1``.

    Args:
        l1: the factor, a non-negative number; default ``0.01`` (also for ``None``).
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _check_factor("l1", 0.01 if l1 is None else l1)

    def penalty(self, x: Any, xp: Any) -> Any:
        return xp.asarray(self.l1, x.dtype) * xp.sum(xp.abs(x))

    def gradient(self, x: NDArray[Any]) -> NDArray[Any]:
        return cast(NDArray[Any], x.dtype.type(self.l1) * _sign_ge0(x))

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x ** 2)``; gradient ``l2 * 2 x``.

    Args:
        l2: the factor, a non-negative number; default ``0.01`` (also for ``None``).
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _check_factor("l2", 0.01 if l2 is None else l2)

    def penalty(self, x: Any, xp: Any) -> Any:
        return xp.asarray(self.l2, x.dtype) * xp.sum(xp.square(x))

    def gradient(self, x: NDArray[Any]) -> NDArray[Any]:
        return cast(NDArray[Any], x.dtype.type(self.l2) * (2 * x))

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards being orthogonal to each other.

    For ``x (n, m)`` in ``mode="rows"`` (``mode="columns"`` is the same on ``x.T``):

        inv_r = 1 / sqrt(max(sum_j x[r, j] ** 2, epsilon ** 2))        (n, 1)
        N     = x * inv_r                                               rows of unit length
        P     = N @ N.T * (1 - I)                                       (n, n), no diagonal
        penalty = factor * 0.5 * sum(|P|) / (n (n - 1) / 2)

    Backward, with ``c = factor * 0.5 / (n (n - 1) / 2)`` and ``s = 1 where P >= 0, else -1``:

        G  = c * s * (1 - I)                    d penalty / d P
        dN = (G + G.T) @ N
        dx = inv_r * (dN - x * inv_r ** 2 * sum_j dN[:, j] x[:, j])     (rows with a norm > eps)

    Args:
        factor: a non-negative number; default ``0.01``.
        mode: ``"rows"`` (default) or ``"columns"``.

    Examples:
        >>> import numpy as np
        >>> float(OrthogonalRegularizer(factor=1.0)(np.array([[1.0, 0.0], [1.0, 1.0]])))
        0.7071067811865475
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _check_factor("factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f'Invalid value for argument `mode`. Expected one of {{"rows", "columns"}}. Received: mode={mode!r}')
        self.mode = mode

    def _rows(self, x: Any) -> Any:
        """``x`` with the vectors to compare as rows; checks the rank and the count."""
        if x.ndim != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={tuple(x.shape)}")
        rows = x if self.mode == "rows" else x.T
        if rows.shape[0] < 2:
            raise ValueError(
                f"OrthogonalRegularizer(mode={self.mode!r}) needs at least 2 {self.mode} to compare, got inputs "
                f"of shape {tuple(x.shape)}"
            )
        return rows

    def penalty(self, x: Any, xp: Any) -> Any:
        rows = self._rows(x)
        size = rows.shape[0]
        inverse_norm = 1 / xp.sqrt(xp.maximum(xp.sum(xp.square(rows), axis=1, keepdims=True), EPSILON * EPSILON))
        normalized = rows * inverse_norm
        off_diagonal = (normalized @ normalized.T) * (1 - xp.eye(size, dtype=x.dtype))
        pairs = size * (size - 1.0) / 2.0
        return xp.asarray(self.factor, x.dtype) * 0.5 * xp.sum(xp.abs(off_diagonal)) / pairs

    def gradient(self, x: NDArray[Any]) -> NDArray[Any]:
        rows = self._rows(x)
        size = rows.shape[0]
        square_norm = np.sum(np.square(rows), axis=1, keepdims=True)  # (n, 1)
        clamped = square_norm <= EPSILON * EPSILON  # the norm is held at epsilon: no gradient through it
        inverse_norm = 1 / np.sqrt(np.maximum(square_norm, EPSILON * EPSILON))
        normalized = rows * inverse_norm
        off_diagonal_mask = 1 - np.eye(size, dtype=x.dtype)
        off_diagonal = (normalized @ normalized.T) * off_diagonal_mask
        scale = x.dtype.type(self.factor * 0.5 / (size * (size - 1.0) / 2.0))
        d_product = scale * _sign_ge0(off_diagonal) * off_diagonal_mask  # (n, n)
        d_normalized = (d_product + d_product.T) @ normalized  # (n, m)
        radial = np.where(clamped, 0, np.sum(d_normalized * rows, axis=1, keepdims=True) * inverse_norm**2)
        d_rows = inverse_norm * (d_normalized - rows * radial)
        return cast(NDArray[Any], d_rows if self.mode == "rows" else d_rows.T)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


# Keras' function-style aliases (they are the classes, as in Keras 3).
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_CLASSES = {cls.__name__: cls for cls in (Regularizer, L1, L2, L1L2, OrthogonalRegularizer)}
_NAMES = {
    "l1": L1,
    "l2": L2,
    "l1_l2": lambda: L1L2(l1=0.01, l2=0.01),  # Keras' documented meaning of the string
    "l1l2": L1L2,  # the snake-case name Keras 3's code registers (both factors 0)
    "orthogonal_regularizer": OrthogonalRegularizer,
    "regularizer": Regularizer,
}
_CATALOG = Catalog("regularizer", Regularizer, _CLASSES, _NAMES, example="l2")


def deserialize(config: dict[str, Any]) -> Regularizer:
    """The regularizer of a config ``{"class_name": ..., "config": {...}}`` (as `serialize` or
    ``keras.regularizers.serialize`` writes; ``module``/``registered_name`` are ignored).

    Raises:
        ValueError: for an unknown class (the known names are listed) or bad arguments.
    """
    return cast(Regularizer, _CATALOG.deserialize(config))


def get(identifier: Any) -> Any:
    """A regularizer from any identifier Keras accepts (``None`` stays ``None``).

    Args:
        identifier: ``None``; a name (``"l1"``, ``"l2"``, ``"l1_l2"``, ``"l1l2"``,
            ``"orthogonal_regularizer"``, or a class name such as ``"L2"``); a `Regularizer`
            (returned as is) or class (instantiated with its defaults); a config dict; or any
            callable of one array returning a scalar (used as is).

    Raises:
        ValueError: for an unknown name (the known ones are listed) or another type.
    """
    return _CATALOG.get(identifier)


def serialize(regularizer: Any) -> Any:
    """A JSON-able config that `get` turns back into an equal regularizer (``None`` stays).

    A `Regularizer` (or a name, resolved first) becomes ``{"class_name": ..., "config": ...}``;
    a plain function becomes ``{"class_name": "function", "config": its name}``, which cannot
    be loaded back (subclass `Regularizer` for that).
    """
    return _CATALOG.serialize(regularizer)


def penalty_gradient(regularizer: Any, x: NDArray[Any]) -> NDArray[Any]:
    """``d regularizer(x) / d x`` (NumPy), for the NumPy backend.

    Raises:
        NotImplementedError: for a plain function or a subclass without ``gradient``, naming it.
    """
    gradient = getattr(regularizer, "gradient", None)
    if gradient is None:
        raise NotImplementedError(
            f"the regularizer {regularizer!r} is a plain function: the NumPy backend needs its gradient. "
            "Subclass scratchlstm.regularizers.Regularizer with penalty(x, xp) and gradient(x), or train with "
            "compile(..., backend='jax'), which differentiates it"
        )
    return cast(NDArray[Any], gradient(x))


def activity_penalty(regularizer: Any, output: Any, batch_size: int | None = None) -> Any:
    """Keras' activity penalty of one layer output: ``regularizer(output) / batch_size``.

    Args:
        regularizer: the layer's ``activity_regularizer``.
        output: one output ``(B, ...)`` (NumPy or JAX).
        batch_size: the divisor; default ``B`` (the JAX backend passes the number of real rows
            of a padded batch, whose padding rows it has zeroed).

    Returns:
        A scalar of ``output``'s dtype (a 0-d output is not divided, as in Keras).
    """
    value = regularizer(output)
    if output.ndim == 0:
        return value
    xp = array_namespace(output)
    batch = output.shape[0] if batch_size is None else batch_size
    return value / xp.asarray(batch, dtype=output.dtype)


def activity_penalty_gradient(regularizer: Any, output: NDArray[Any]) -> NDArray[Any]:
    """``d activity_penalty(regularizer, output) / d output`` (NumPy)."""
    gradient = penalty_gradient(regularizer, output)
    return gradient if output.ndim == 0 else gradient / output.dtype.type(output.shape[0])
