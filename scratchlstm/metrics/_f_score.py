"""`FBetaScore` and `F1Score` from counts accumulated over everything seen (Keras' ``f_score_metrics.py``).

Examples:
    >>> import numpy as np
    >>> m = F1Score(average="macro", threshold=0.5)
    >>> m.update_state(np.array([[1, 0], [0, 1], [1, 0]]), np.array([[0.9, 0.2], [0.6, 0.7], [0.3, 0.1]]))
    >>> round(m.result(), 6)
    0.75
"""

from __future__ import annotations

from typing import Any

from ._base import Metric
from ._ops import EPSILON

__all__ = ["F1Score", "FBetaScore"]

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """``(1 + beta^2) * precision * recall / (beta^2 * precision + recall)`` per class (Keras' `FBetaScore`).

    A prediction is positive where it exceeds ``threshold``, or, without one, where it is its
    row's largest (and not 0). The state holds true positives, false positives, false negatives
    and the label counts (per class; one number each with ``average="micro"``); Keras' epsilon
    1e-7 guards every division.

    Args:
        average: ``None`` (one score per class), ``"micro"`` (from the counts over all classes),
            ``"macro"`` (mean of the class scores) or ``"weighted"`` (weighted by each class'
            number of true labels).
        beta: a float > 0, the weight of recall.
        threshold: a float in ``(0, 1]``, or ``None`` for the row's largest score.
        name: Keras' default ``"fbeta_score"``.
        dtype: the state's dtype.

    Inputs are ``(batch, classes)``, as Keras requires.

    Examples:
        >>> y_true = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
        >>> y_pred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
        >>> FBetaScore(beta=2.0, threshold=0.5)(y_true, y_pred)   # class 0: precision 1, recall 1/3: 5/13
        array([0.384615, 0.909091, 0.833333])
    """

    kind = default_name = "fbeta_score"
    builds_from_shape = True

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str | None = "fbeta_score", dtype: Any = None) -> None:
        if average not in _AVERAGES:
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', 'weighted'}. "
                f"Received: average={average!r}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta!r} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold!r} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    f"Invalid `threshold` argument value. It should verify 0 < threshold <= 1. Received: threshold={threshold}"
                )
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"average": self.average, "beta": self.beta, "threshold": self.threshold}

    def check_shape(self, y_pred_shape: tuple[int | None, ...]) -> None:
        if len(y_pred_shape) != 2 or y_pred_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim), got y_pred of shape {y_pred_shape}"
            )

    def _init(self, ops: Any, dtype: Any, y_pred_shape: Any) -> dict[str, Any]:
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        zeros = ops.xp.zeros(shape, dtype=dtype)
        return {"true_positives": zeros, "false_positives": zeros, "false_negatives": zeros, "intermediate_weights": zeros}

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        xp = ops.xp
        dtype = state["true_positives"].dtype
        y_true, y_pred = xp.asarray(y_true, dtype=dtype), xp.asarray(y_pred, dtype=dtype)
        classes = None if self.average == "micro" else state["true_positives"].shape[0]
        if y_pred.ndim != 2 or tuple(y_true.shape) != tuple(y_pred.shape) or (classes is not None and y_pred.shape[-1] != classes):
            raise ValueError(
                f"{type(self).__name__} expects y_true and y_pred of shape (batch_size, output_dim)"
                f"{'' if classes is None else f' with output_dim {classes}'}, got {tuple(y_true.shape)} and {tuple(y_pred.shape)}"
            )
        if self.threshold is None:
            # the row's largest score; abs(x) > 1e-9 keeps an all-zero row all negative
            predicted = (y_pred >= xp.max(y_pred, axis=-1, keepdims=True)) & (xp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(dtype)
        axis = None if self.average == "micro" else 0
        weight = None
        if sample_weight is not None:
            weight = xp.asarray(sample_weight, dtype=dtype)
            weight = weight.reshape(tuple(weight.shape) + (1,) * (y_true.ndim - weight.ndim))

        def weighted_sum(values: Any) -> Any:
            return xp.sum(values if weight is None else values * weight, axis=axis)

        return {
            "true_positives": state["true_positives"] + weighted_sum(predicted * y_true),
            "false_positives": state["false_positives"] + weighted_sum(predicted * (1 - y_true)),
            "false_negatives": state["false_negatives"] + weighted_sum((1 - predicted) * y_true),
            "intermediate_weights": state["intermediate_weights"] + weighted_sum(y_true),
        }

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        xp = ops.xp
        tp = state["true_positives"]
        precision = tp / (tp + state["false_positives"] + EPSILON)
        recall = tp / (tp + state["false_negatives"] + EPSILON)
        beta_squared = self.beta**2
        score = (precision * recall) / (beta_squared * precision + recall + EPSILON) * (1 + beta_squared)
        if self.average == "weighted":
            weights = state["intermediate_weights"] / (xp.sum(state["intermediate_weights"]) + EPSILON)
            return xp.sum(score * weights)
        if self.average is not None:
            return xp.mean(score)
        return score


class F1Score(FBetaScore):
    """`FBetaScore` with ``beta=1``: the harmonic mean of precision and recall (Keras' `F1Score`).

    Args:
        average: ``None``, ``"micro"``, ``"macro"`` or ``"weighted"`` (see `FBetaScore`).
        threshold: a float in ``(0, 1]``, or ``None`` for the row's largest score.
        name: Keras' default ``"f1_score"``.
        dtype: the state's dtype.

    Examples:
        >>> y_true = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
        >>> y_pred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
        >>> F1Score(threshold=0.5)(y_true, y_pred)   # one score per class
        array([0.5, 0.8, 0.666667])
        >>> F1Score(average="micro", threshold=0.5)(y_true, y_pred)   # tp 4, fp 2, fn 2: 8 / 12
        0.666667
    """

    kind = default_name = "f1_score"

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str | None = "f1_score",
                 dtype: Any = None) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"average": self.average, "threshold": self.threshold}
