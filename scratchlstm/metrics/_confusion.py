"""Confusion-matrix metrics (Keras' ``confusion_metrics.py``): counts per threshold, and the
`Precision` / `Recall` they give.

``confusion_counts`` is Keras' ``update_confusion_matrix_variables``: a prediction is positive at
threshold ``t`` when ``y_pred > t``; a label is positive when non-zero. With evenly spaced
thresholds (``AUC``'s, or ``[0, 0.5, 1]``) Keras counts by bucket (``ceil(y_pred * (n - 1)) - 1``,
predictions clipped to ``[0, 1]``) and a reversed cumulative sum instead of comparing with every
threshold; that is done here too, so the two agree at the bucket edges.

Examples:
    >>> m = Precision(thresholds=[0.3, 0.7])
    >>> m.update_state([0, 1, 1, 1], [0.8, 0.6, 0.9, 0.2])
    >>> m.result().round(6).tolist()
    [0.666667, 0.5]
    >>> r = Recall(top_k=1, class_id=2)
    >>> r.update_state([[0, 0, 1], [0, 0, 1]], [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    >>> r.result()
    0.5
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._base import Metric
from ._ops import EPSILON, divide_no_nan, squeeze_or_expand_to_same_rank

__all__ = [
    "FalseNegatives",
    "FalsePositives",
    "Precision",
    "Recall",
    "TrueNegatives",
    "TruePositives",
    "confusion_counts",
]

NEG_INF = -1e10  # Keras' default threshold with top_k: every kept prediction is positive
CONDITIONS = ("tp", "fp", "tn", "fn")


def parse_thresholds(thresholds: Any, default: float) -> list[float]:
    """Keras' ``parse_init_thresholds``: a list of floats in ``[0, 1]`` (``default`` for None)."""
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    invalid = [t for t in values if t is None or isinstance(t, bool) or not isinstance(t, (int, float, np.number)) or not 0 <= t <= 1]
    if invalid or not values:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid or values}")
    return [float(t) for t in values]


def thresholds_config(thresholds: Any) -> float | list[float] | None:
    """The ``thresholds`` argument as given, JSON-able (None, a float or a list of floats)."""
    if thresholds is None:
        return None
    if isinstance(thresholds, (list, tuple, np.ndarray)):
        return [float(t) for t in thresholds]
    return float(thresholds)


def is_evenly_distributed(thresholds: Sequence[float] | NDArray[Any]) -> bool:
    """Keras' ``is_evenly_distributed_thresholds``: 3 or more, equal to ``i / (n - 1)``."""
    count = len(thresholds)
    if count < 3:
        return False
    even = np.arange(count, dtype=np.float32) / (count - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _weights_like(xp: Any, sample_weight: Any, y_true: Any, dtype: Any) -> Any:
    """Keras' handling of ``sample_weight`` against the labels, broadcast to their shape.

    ``(B,)`` weights against ``(B, ...)`` labels are one weight per sample (Keras fails on
    ranks above 2 there); otherwise Keras' ``expand_dims`` + ``squeeze_or_expand`` rule.
    """
    weight = xp.expand_dims(xp.asarray(sample_weight, dtype=dtype), -1)
    _, weight = squeeze_or_expand_to_same_rank(xp, y_true, weight, expand_rank_1=False)
    if weight.ndim < y_true.ndim:
        weight = weight.reshape(tuple(weight.shape) + (1,) * (y_true.ndim - weight.ndim))
    return xp.broadcast_to(weight, y_true.shape)


def confusion_counts(ops: Any, wanted: Sequence[str], y_true: Any, y_pred: Any, thresholds: ArrayLike, *,
                     evenly: bool = False, top_k: int | None = None, class_id: int | None = None,
                     sample_weight: Any = None, multi_label: bool = False, label_weights: ArrayLike | None = None,
                     dtype: Any = np.float64) -> dict[str, Any]:
    """This batch's (weighted) confusion counts per threshold.

    Args:
        ops: the array operations (NumPy or JAX).
        wanted: which of ``"tp"``, ``"fp"``, ``"tn"``, ``"fn"`` to count.
        y_true: labels (non-zero is positive), the shape of ``y_pred`` (or with a trailing 1
            more or less, aligned as Keras).
        y_pred: scores in ``[0, 1]`` (or anything, compared with the thresholds).
        thresholds: a NumPy array ``(n,)``, increasing for ``evenly``.
        evenly: count by bucket (see the module docstring).
        top_k: keep only the ``k`` largest scores of the last axis (the rest count as negative).
        class_id: measure one column of the last axis only.
        sample_weight: weights, one per sample (or the labels' shape).
        multi_label: keep the last axis (counts ``(n, labels)``) instead of flattening.
        label_weights: ``(labels,)`` weights of the columns (not with ``multi_label``).
        dtype: the counts' dtype.

    Returns:
        ``{condition: counts (n,) or (n, labels)}`` for each wanted condition.
    """
    xp = ops.xp
    y_true, y_pred = xp.asarray(y_true, dtype=dtype), xp.asarray(y_pred, dtype=dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(xp, y_pred, y_true)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"y_true must have the shape of y_pred {tuple(y_pred.shape)}, got {tuple(y_true.shape)}")
    weight = None if sample_weight is None else _weights_like(xp, sample_weight, y_true, dtype)
    if top_k is not None:
        mask = ops.top_k_mask(y_pred, top_k)
        y_pred = y_pred * mask + NEG_INF * (1 - mask)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        if not 0 <= class_id < y_pred.shape[-1]:
            raise ValueError(f"class_id must be in [0, {y_pred.shape[-1]}), got {class_id}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
        weight = None if weight is None else weight[..., class_id, None]
    if label_weights is not None and not multi_label:
        label_weight = xp.broadcast_to(xp.asarray(label_weights, dtype=dtype), y_pred.shape)
        weight = label_weight if weight is None else weight * label_weight
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if evenly:
        counts = _bucketed_counts(ops, y_true, y_pred, weight, thresholds, multi_label)
    else:
        counts = _compared_counts(ops, wanted, y_true, y_pred, weight, thresholds, multi_label)
    return {key: counts[key] for key in wanted}


def _compared_counts(ops: Any, wanted: Sequence[str], y_true: Any, y_pred: Any, weight: Any, thresholds: NDArray[Any],
                     multi_label: bool) -> dict[str, Any]:
    """Every prediction against every threshold: ``(n, N)`` (or ``(n, B, labels)``) booleans."""
    xp = ops.xp
    if multi_label:
        threshold = xp.asarray(thresholds, dtype=y_pred.dtype)[:, None, None]
    else:
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
        weight = None if weight is None else weight.reshape(-1)
        threshold = xp.asarray(thresholds, dtype=y_pred.dtype)[:, None]
    predicted = y_pred[None] > threshold  # (n, N) or (n, B, labels)
    positive = (y_true != 0)[None]

    def count(label: Any, prediction: Any) -> Any:
        hit = label & prediction
        values = hit.astype(y_pred.dtype) if weight is None else xp.where(hit, weight[None], 0)
        return xp.sum(values, axis=1)

    pairs = {"tp": (positive, predicted), "fp": (~positive, predicted),
             "tn": (~positive, ~predicted), "fn": (positive, ~predicted)}
    return {key: count(*pairs[key]) for key in wanted}


def _bucketed_counts(ops: Any, y_true: Any, y_pred: Any, weight: Any, thresholds: NDArray[Any],
                     multi_label: bool) -> dict[str, Any]:
    """Keras' optimized path for evenly spaced thresholds (segment sums over buckets)."""
    xp = ops.xp
    n = len(thresholds)
    with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
    weight = xp.ones((), y_pred.dtype) if weight is None else weight
    y_pred = xp.clip(y_pred, 0.0, 1.0)
    y_true = (y_true != 0).astype(y_pred.dtype)
    if not multi_label:
        weight = xp.broadcast_to(weight, y_true.shape).reshape(-1)
        y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
    true_labels, false_labels = y_true * weight, (1.0 - y_true) * weight
    # a prediction in (t_i, t_{i+1}] is above thresholds 0..i: bucket i, counted from there down
    bucket = xp.ceil(y_pred * (n - 1)) - 1
    if with_epsilon:
        bucket = xp.maximum(bucket, 0)  # the first threshold is below 0: every prediction is above it
    bucket = bucket.astype(np.int32)
    if multi_label:
        labels = y_pred.shape[-1]
        # one run of n buckets per label: ids bucket + label * n (a bucket of -1 stays dropped)
        ids = xp.where(bucket >= 0, bucket + n * xp.arange(labels, dtype=np.int32), -1)

        def above(values: Any) -> Any:
            sums = ops.segment_sum(values, ids, n * labels).reshape(labels, n)
            return xp.flip(xp.cumsum(xp.flip(sums, axis=1), axis=1), axis=1).T  # (n, labels)

        totals_true, totals_false = xp.sum(true_labels, axis=0), xp.sum(false_labels, axis=0)
    else:

        def above(values: Any) -> Any:
            return xp.flip(xp.cumsum(xp.flip(ops.segment_sum(values, bucket, n))))

        totals_true, totals_false = xp.sum(true_labels), xp.sum(false_labels)
    tp, fp = above(true_labels), above(false_labels)
    return {"tp": tp, "fp": fp, "tn": totals_false - fp, "fn": totals_true - tp}


class _ConfusionMetric(Metric):
    """State: one count per threshold for each condition in ``conditions``."""

    conditions: tuple[str, ...] = ()
    _state_names = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives", "fn": "false_negatives"}

    def _setup_thresholds(self, thresholds: Any, default: float) -> None:
        self.init_thresholds = thresholds_config(thresholds)
        self.thresholds = parse_thresholds(thresholds, default)
        self._evenly = is_evenly_distributed(self.thresholds)

    def _init(self, ops: Any, dtype: Any, y_pred_shape: Any) -> dict[str, Any]:
        zeros = ops.xp.zeros((len(self.thresholds),), dtype=dtype)
        return {self._state_names[key]: zeros for key in self.conditions}

    def _counts(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                top_k: int | None = None, class_id: int | None = None) -> dict[str, Any]:
        dtype = next(iter(state.values())).dtype
        counts = confusion_counts(ops, self.conditions, y_true, y_pred, self.thresholds, evenly=self._evenly,
                                  top_k=top_k, class_id=class_id, sample_weight=sample_weight, dtype=dtype)
        return {self._state_names[key]: state[self._state_names[key]] + counts[key] for key in self.conditions}

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        return self._counts(ops, state, y_true, y_pred, sample_weight)

    def _one_or_all(self, values: Any) -> Any:
        return values[0] if len(self.thresholds) == 1 else values


class _ConditionCount(_ConfusionMetric):
    """The (weighted) number of one confusion condition per threshold (default 0.5).

    Args:
        thresholds: a float or a list of floats in ``[0, 1]``; a prediction above one is
            positive. One value per threshold (a float for one).
        name: ``None`` numbers the objects as Keras (``true_positives``, ``true_positives_1``, ...).
        dtype: the state's dtype.

    Examples:
        >>> y_true, y_pred = [0, 1, 1, 1, 0], [0.9, 0.2, 0.6, 0.8, 0.1]
        >>> [M()(y_true, y_pred) for M in (TruePositives, FalsePositives, TrueNegatives, FalseNegatives)]
        [2.0, 1.0, 1.0, 1.0]
        >>> TruePositives(thresholds=[0.3, 0.7])(y_true, y_pred)   # one count per threshold
        array([2., 1.])
    """

    def __init__(self, thresholds: float | list[float] | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        self._setup_thresholds(thresholds, 0.5)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"thresholds": self.init_thresholds}

    def _init(self, ops: Any, dtype: Any, y_pred_shape: Any) -> dict[str, Any]:
        return {"accumulator": ops.xp.zeros((len(self.thresholds),), dtype=dtype)}

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        (key,) = self.conditions
        counts = confusion_counts(ops, self.conditions, y_true, y_pred, self.thresholds, evenly=self._evenly,
                                  sample_weight=sample_weight, dtype=state["accumulator"].dtype)
        return {"accumulator": state["accumulator"] + counts[key]}

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        return self._one_or_all(state["accumulator"])


class TruePositives(_ConditionCount):
    # `or ""`: `python -OO` strips docstrings (None), and the import failed
    __doc__ = (_ConditionCount.__doc__ or "").replace("one confusion condition", "true positives")
    kind = "true_positives"
    conditions = ("tp",)


class FalsePositives(_ConditionCount):
    __doc__ = (_ConditionCount.__doc__ or "").replace("one confusion condition", "false positives")
    kind = "false_positives"
    conditions = ("fp",)


class TrueNegatives(_ConditionCount):
    __doc__ = (_ConditionCount.__doc__ or "").replace("one confusion condition", "true negatives")
    kind = "true_negatives"
    conditions = ("tn",)


class FalseNegatives(_ConditionCount):
    __doc__ = (_ConditionCount.__doc__ or "").replace("one confusion condition", "false negatives")
    kind = "false_negatives"
    conditions = ("fn",)


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds: float | list[float] | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None) -> None:
        for what, value, least in (("top_k", top_k, 1), ("class_id", class_id, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least):
                raise ValueError(f"{what} must be None or an integer >= {least}, got {value!r}")
        self.top_k = None if top_k is None else int(top_k)
        self.class_id = None if class_id is None else int(class_id)
        self._setup_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id}

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        return self._counts(ops, state, y_true, y_pred, sample_weight, self.top_k, self.class_id)


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)`` over everything seen, per threshold (Keras' `Precision`).

    Args:
        thresholds: a float or a list of floats in ``[0, 1]`` (default 0.5, or every kept
            prediction with ``top_k``); one result per threshold.
        top_k: count only the ``k`` highest scores of each sample as predicted positive.
        class_id: measure one class (a column of the last axis).
        name: ``None`` numbers the objects as Keras (``precision``, ``precision_1``, ...).
        dtype: the state's dtype.

    Examples:
        >>> m = Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
        >>> m.result()
        1.0
    """

    kind = "precision"
    conditions = ("tp", "fp")

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        tp = state["true_positives"]
        return self._one_or_all(divide_no_nan(ops.xp, tp, tp + state["false_positives"]))


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)`` over everything seen, per threshold (Keras' `Recall`).

    Args:
        thresholds: a float or a list of floats in ``[0, 1]`` (default 0.5, or every kept
            prediction with ``top_k``); one result per threshold.
        top_k: count only the ``k`` highest scores of each sample as predicted positive.
        class_id: measure one class (a column of the last axis).
        name: ``None`` numbers the objects as Keras (``recall``, ``recall_1``, ...).
        dtype: the state's dtype.

    Examples:
        >>> m = Recall()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 6)
        0.666667
    """

    kind = "recall"
    conditions = ("tp", "fn")

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        tp = state["true_positives"]
        return self._one_or_all(divide_no_nan(ops.xp, tp, tp + state["false_negatives"]))
