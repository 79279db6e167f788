"""`AUC`: the area under the ROC or precision-recall curve from confusion counts at fixed
thresholds, accumulated over everything seen (Keras' ``confusion_metrics.AUC``).

Examples:
    >>> m = AUC(num_thresholds=3)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> m.result()
    0.75
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._base import Metric
from ._confusion import confusion_counts, is_evenly_distributed
from ._ops import EPSILON, divide_no_nan

__all__ = ["AUC"]

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = {"interpolation": "interpolation", "majoring": "majoring", "minoring": "minoring"}


def _choice(value: Any, choices: dict[str, str], what: str) -> str:
    if isinstance(value, str) and value in (value.lower(), value.upper(), value.capitalize()) and value.lower() in choices:
        return choices[value.lower()]
    raise ValueError(f"Invalid AUC {what} value: {value!r}. Expected values are {sorted(set(choices.values()))}")


class AUC(Metric):
    """Area under the ROC (or PR) curve, Keras' Riemann sum over ``num_thresholds`` thresholds.

    The state holds true/false positives/negatives at each threshold (``(n,)``, or
    ``(n, labels)`` with ``multi_label``). ``curve="ROC"`` sums ``(fpr_i - fpr_{i+1})`` times the
    mean (``"interpolation"``), smaller (``"minoring"``) or larger (``"majoring"``) recall of the
    two ends; ``curve="PR"`` with interpolation is the Davis & Goadrich interpolation Keras uses
    (``interpolate_pr_auc``).

    Args:
        num_thresholds: how many thresholds (> 1), evenly spaced in ``[0, 1]`` with the end
            ones moved to ``-1e-7`` and ``1 + 1e-7``.
        curve: ``"ROC"``, ``"PR"`` or ``"PRGAIN"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: ``None`` numbers the objects as Keras (``auc``, ``auc_1``, ...).
        dtype: the state's dtype.
        thresholds: explicit thresholds in ``[0, 1]`` instead of ``num_thresholds`` (the end
            ones are added).
        multi_label: one curve per label (the last axis), averaged; otherwise every
            prediction counts in one curve.
        num_labels: with ``multi_label``, the number of labels (else taken from the first
            predictions).
        label_weights: ``(labels,)`` weights of the labels (in the counts without
            ``multi_label``, in the average of the curves with it).
        from_logits: apply a sigmoid to the predictions first.

    Examples:
        >>> y_true, y_pred = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
        >>> AUC()(y_true, y_pred)   # 3 of the 4 (positive, negative) pairs are ranked right
        0.75
        >>> AUC(curve="PR")(y_true, y_pred)
        0.797267
    """

    kind = "auc"

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: Any = None, thresholds: list[float] | None = None,
                 multi_label: bool = False, num_labels: int | None = None, label_weights: ArrayLike | None = None,
                 from_logits: bool = False) -> None:
        self.curve = _choice(curve, _CURVES, "curve")
        self.summation_method = _choice(summation_method, _SUMMATIONS, "summation method")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            if any(not 0 <= t <= 1 for t in inner):
                raise ValueError(f"Threshold values must be in [0, 1]. Received: {inner}")
            self.num_thresholds = len(inner) + 2
            evenly = is_evenly_distributed(np.array([0.0] + inner + [1.0]))
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            evenly = True
        self._evenly = evenly
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        for what, value in (("multi_label", multi_label), ("from_logits", from_logits)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{what} must be True or False, got {value!r}")
        if num_labels is not None and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        bad_count = isinstance(num_labels, bool) or not isinstance(num_labels, (int, np.integer)) or num_labels < 1
        if num_labels is not None and bad_count:
            raise ValueError(f"num_labels must be a positive integer, got {num_labels!r}")
        self.multi_label = bool(multi_label)
        self.num_labels = None if num_labels is None else int(num_labels)
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64).reshape(-1)
        self.from_logits = bool(from_logits)
        self.builds_from_shape = self.multi_label and self.num_labels is None
        super().__init__(name, dtype)

    @property
    def thresholds(self) -> list[float]:
        """Every threshold, the end ones included."""
        return list(self._thresholds)

    def _arguments(self) -> dict[str, Any]:
        arguments = {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            arguments["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return arguments

    def check_shape(self, y_pred_shape: tuple[int | None, ...]) -> None:
        if self.multi_label and (len(y_pred_shape) != 2 or y_pred_shape[-1] is None):
            raise ValueError(
                f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(y_pred_shape)}. "
                f"Full shape received for `y_pred`: {y_pred_shape}"
            )

    def _init(self, ops: Any, dtype: Any, y_pred_shape: Any) -> dict[str, Any]:
        shape: tuple[int, ...] = (self.num_thresholds,)
        if self.multi_label:
            shape += (self.num_labels if self.num_labels is not None else y_pred_shape[-1],)
        zeros = ops.xp.zeros(shape, dtype=dtype)
        return {"true_positives": zeros, "false_positives": zeros, "true_negatives": zeros, "false_negatives": zeros}

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        dtype = state["true_positives"].dtype
        y_pred = ops.xp.asarray(y_pred, dtype=dtype)
        if self.multi_label and (y_pred.ndim != 2 or y_pred.shape[-1] != state["true_positives"].shape[-1]):
            raise ValueError(
                f"AUC(multi_label=True) expects y_pred of shape (batch_size, {state['true_positives'].shape[-1]}), "
                f"got {tuple(y_pred.shape)}"
            )
        if self.from_logits:
            y_pred = ops.sigmoid(y_pred)
        counts = confusion_counts(
            ops, ("tp", "fp", "tn", "fn"), y_true, y_pred, self._thresholds, evenly=self._evenly,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, dtype=dtype,
        )
        names = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives", "fn": "false_negatives"}
        return {names[key]: state[names[key]] + counts[key] for key in names}

    def _average(self, xp: Any, by_label: Any) -> Any:
        if not self.multi_label:
            return by_label
        if self.label_weights is None:
            return xp.mean(by_label)
        weights = xp.asarray(self.label_weights, dtype=by_label.dtype)
        return divide_no_nan(xp, xp.sum(by_label * weights), xp.sum(weights))

    def _interpolated_pr_auc(self, xp: Any, state: dict[str, Any]) -> Any:
        """Keras' ``interpolate_pr_auc``: precision interpolated linearly in the true positives."""
        tp, fp, fn = state["true_positives"], state["false_positives"], state["false_negatives"]
        d_tp = tp[:-1] - tp[1:]
        predicted = tp + fp
        d_predicted = predicted[:-1] - predicted[1:]
        slope = divide_no_nan(xp, d_tp, xp.maximum(d_predicted, 0))
        intercept = tp[1:] - slope * predicted[1:]
        both_positive = (predicted[:-1] > 0) & (predicted[1:] > 0)
        ratio = xp.where(both_positive, divide_no_nan(xp, predicted[:-1], xp.maximum(predicted[1:], 0)), 1.0)
        increments = divide_no_nan(xp, slope * (d_tp + intercept * xp.log(ratio)), xp.maximum(tp[1:] + fn[1:], 0))
        return self._average(xp, xp.sum(increments, axis=0))

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        xp = ops.xp
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc(xp, state)
        tp, fp, tn, fn = (state[k] for k in ("true_positives", "false_positives", "true_negatives", "false_negatives"))
        recall = divide_no_nan(xp, tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(xp, fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(xp, tp, tp + fp)
        else:  # PRGAIN, with Keras' fixes for no true positives and negative gains
            scale = divide_no_nan(xp, tp + fn, tn + fp)
            recall_gain = xp.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(xp, fn, tp))
            precision_gain = xp.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(xp, fp, tp))
            x, y = xp.maximum(recall_gain, 0.0), precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = xp.minimum(y[:-1], y[1:])
        else:
            heights = xp.maximum(y[:-1], y[1:])
        return self._average(xp, xp.sum((x[:-1] - x[1:]) * heights, axis=0))
