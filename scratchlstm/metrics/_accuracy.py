"""The accuracy family (Keras' ``accuracy_metrics.py``): means of per-position hits.

Examples:
    >>> import numpy as np
    >>> m = TopKCategoricalAccuracy(k=1)
    >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    >>> m.result()
    0.5
    >>> sparse_top_k_categorical_accuracy(np.array([2, 1]), np.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]), k=2)
    array([1., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._base import MeanMetric
from ._ops import NUMPY

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "exact_accuracy",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]


# --- per-position functions on ops.xp (NumPy or jax.numpy) --------------------------------------
def _binary(ops: Any, y_true: Any, y_pred: Any, threshold: float = 0.5) -> Any:
    # Keras: a hit where y_true equals (y_pred > threshold) as a number (a soft label never hits)
    return ops.xp.mean((y_true == (y_pred > threshold).astype(y_true.dtype)).astype(y_pred.dtype), axis=-1)


def _categorical(ops: Any, y_true: Any, y_pred: Any) -> Any:
    xp = ops.xp
    return (xp.argmax(y_true, axis=-1) == xp.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


def _sparse_categorical(ops: Any, y_true: Any, y_pred: Any) -> Any:
    return (ops.sparse_labels(y_true, y_pred) == ops.xp.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


def _exact(ops: Any, y_true: Any, y_pred: Any) -> Any:
    return ops.xp.mean((y_pred == y_true).astype(y_pred.dtype), axis=-1)


def _in_top_k(ops: Any, labels: Any, y_pred: Any, k: int) -> Any:
    """1 where the label's score is among the ``k`` largest: its rank ``1 + #(scores > it)`` is
    at most ``k`` (Keras' JAX ``in_top_k``: ties count in the label's favour, NaN never does)."""
    xp = ops.xp
    at_label = xp.take_along_axis(y_pred, labels[..., None].astype(np.int32), axis=-1)  # (..., 1)
    at_label = xp.where(xp.isnan(at_label), -np.inf, at_label)
    rank = 1 + xp.sum(y_pred > at_label, axis=-1)
    return (rank <= k).astype(y_pred.dtype)


def _top_k(ops: Any, y_true: Any, y_pred: Any, k: int = 5) -> Any:
    return _in_top_k(ops, ops.xp.argmax(y_true, axis=-1), y_pred, k)


def _sparse_top_k(ops: Any, y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False) -> Any:
    xp = ops.xp
    if not from_sorted_ids:
        return _in_top_k(ops, ops.sparse_labels(y_true, y_pred), y_pred, k)
    # y_pred holds class ids, best first: a hit is the label among the first k
    labels = xp.asarray(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return xp.any(labels[..., None].astype(y_pred.dtype) == y_pred[..., :k], axis=-1).astype(np.float32)


# --- Keras' module-level functions (NumPy) ------------------------------------------------------
def binary_accuracy(y_true: ArrayLike, y_pred: ArrayLike, threshold: float = 0.5) -> NDArray[Any]:
    """Fraction of ``y_true == (y_pred > threshold)`` (as 0/1), mean over the last axis."""
    y_true = np.asarray(y_true)
    accuracy: NDArray[Any] = np.mean(y_true == (np.asarray(y_pred) > threshold).astype(y_true.dtype), axis=-1)
    return accuracy


def categorical_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[Any]:
    """1 where ``argmax(y_true) == argmax(y_pred)`` over the last axis, else 0."""
    hits: NDArray[Any] = _categorical(NUMPY, np.asarray(y_true), np.asarray(y_pred))
    return hits


def sparse_categorical_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[Any]:
    """1 where the integer label equals ``argmax(y_pred)``, else 0."""
    hits: NDArray[Any] = _sparse_categorical(NUMPY, y_true, np.asarray(y_pred))
    return hits


def exact_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[Any]:
    """Keras' `Accuracy`: fraction of elements with ``y_pred == y_true``, mean over the last axis."""
    accuracy: NDArray[Any] = np.mean(np.asarray(y_pred) == np.asarray(y_true), axis=-1)
    return accuracy


def top_k_categorical_accuracy(y_true: ArrayLike, y_pred: ArrayLike, k: int = 5) -> NDArray[Any]:
    """1 where the one-hot target's class is among the ``k`` highest scores, else 0."""
    hits: NDArray[Any] = _top_k(NUMPY, np.asarray(y_true), np.asarray(y_pred, dtype=float), k)
    return hits


def sparse_top_k_categorical_accuracy(y_true: ArrayLike, y_pred: ArrayLike, k: int = 5,
                                      from_sorted_ids: bool = False) -> NDArray[Any]:
    """1 where the integer label is among the ``k`` highest scores (or, with
    ``from_sorted_ids``, among the first ``k`` ids of ``y_pred``), else 0."""
    hits: NDArray[Any] = _sparse_top_k(NUMPY, y_true, np.asarray(y_pred, dtype=float), k, from_sorted_ids)
    return hits


# --- classes ---------------------------------------------------------------------------------
class CategoricalAccuracy(MeanMetric):
    """How often ``argmax(y_pred)`` matches one-hot ``y_true``; Keras name ``"categorical_accuracy"``.

    Examples:
        >>> m = CategoricalAccuracy()
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0.0]])
        >>> m.result()   # the first row's highest score is class 1, its label class 2
        0.5
    """

    kind = default_name = "categorical_accuracy"

    def __init__(self, name: str | None = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return _categorical(ops, y_true, y_pred)


class SparseCategoricalAccuracy(MeanMetric):
    """How often ``argmax(y_pred)`` matches integer labels; Keras name ``"sparse_categorical_accuracy"``.

    Examples:
        >>> SparseCategoricalAccuracy()([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0.0]])
        0.5
    """

    kind = default_name = "sparse_categorical_accuracy"
    sparse_targets = True

    def __init__(self, name: str | None = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return _sparse_categorical(ops, y_true, y_pred)


class Accuracy(MeanMetric):
    """How often ``y_pred`` *equals* ``y_true`` exactly (Keras' `Accuracy`, name ``"accuracy"``).

    Not the string ``"accuracy"`` of ``compile``, which picks an accuracy from the loss.

    Examples:
        >>> Accuracy()([[1], [2], [3], [4]], [[0], [2], [3], [4]])   # 3 of 4 equal
        0.75
    """

    kind = "exact_accuracy"
    default_name = "accuracy"

    def __init__(self, name: str | None = "accuracy", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return _exact(ops, y_true, y_pred)


def _check_threshold(threshold: Any) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return float(threshold)


class BinaryAccuracy(MeanMetric):
    """How often ``y_pred > threshold`` (as 0/1) equals ``y_true``; Keras name ``"binary_accuracy"``.

    Args:
        name: the name logs use.
        dtype: the state's dtype.
        threshold: a number in ``[0, 1]``; other than 0.5 it makes the canonical name
            ``"binary_accuracy@<threshold>"``.

    Examples:
        >>> BinaryAccuracy()([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])   # 0.6 > 0.5 counts as 1
        0.75
        >>> BinaryAccuracy(threshold=0.7)([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
        1.0
    """

    kind = default_name = "binary_accuracy"

    def __init__(self, name: str | None = "binary_accuracy", dtype: Any = None, threshold: float = 0.5) -> None:
        self.threshold = _check_threshold(threshold)
        super().__init__(name, dtype)

    @property
    def canonical(self) -> str:
        """``"binary_accuracy"``, or ``"binary_accuracy@<threshold>"`` for another threshold."""
        return self.kind if self.threshold == 0.5 else f"{self.kind}@{self.threshold!r}"

    def _arguments(self) -> dict[str, Any]:
        return {"threshold": self.threshold}

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return _binary(ops, y_true, y_pred, self.threshold)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


class TopKCategoricalAccuracy(MeanMetric):
    """How often the one-hot target's class is among the ``k`` highest scores.

    Args:
        k: how many of the highest scores count as a hit (default 5).
        name: Keras' default ``"top_k_categorical_accuracy"``.
        dtype: the state's dtype.

    Examples:
        >>> m = TopKCategoricalAccuracy(k=2)
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.1, 0.85]])
        >>> m.result()
        1.0
    """

    kind = default_name = "top_k_categorical_accuracy"

    def __init__(self, k: int = 5, name: str | None = "top_k_categorical_accuracy", dtype: Any = None) -> None:
        self.k = _check_k(k)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"k": self.k}

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return _top_k(ops, y_true, y_pred, self.k)


class SparseTopKCategoricalAccuracy(MeanMetric):
    """How often the integer label is among the ``k`` highest scores.

    Args:
        k: how many of the highest scores count as a hit (default 5).
        name: Keras' default ``"sparse_top_k_categorical_accuracy"``.
        dtype: the state's dtype.
        from_sorted_ids: ``y_pred`` holds class ids sorted best first (not scores).

    Examples:
        >>> y_pred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0.0]]
        >>> SparseTopKCategoricalAccuracy(k=2)([2, 1], y_pred), SparseTopKCategoricalAccuracy(k=1)([2, 1], y_pred)
        (1.0, 0.5)
    """

    kind = default_name = "sparse_top_k_categorical_accuracy"
    sparse_targets = True

    def __init__(self, k: int = 5, name: str | None = "sparse_top_k_categorical_accuracy", dtype: Any = None,
                 from_sorted_ids: bool = False) -> None:
        self.k = _check_k(k)
        if not isinstance(from_sorted_ids, (bool, np.bool_)):
            raise ValueError(f"from_sorted_ids must be True or False, got {from_sorted_ids!r}")
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"k": self.k, "from_sorted_ids": self.from_sorted_ids}

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return _sparse_top_k(ops, y_true, y_pred, self.k, self.from_sorted_ids)
