"""Metrics: Keras 3's classes and names, each a small state and three pure functions.

A metric accumulates a state over an epoch and reports a function of it, as Keras does: a mean
metric (``"mae"``, accuracies, losses as metrics) keeps ``sum(value * weight)`` and
``sum(weight)``; `Precision`, `Recall`, `AUC` and the confusion counts keep true/false
positive/negative counts per threshold; `F1Score` / `FBetaScore` counts per class; `R2Score`
sums per output column. An epoch's value is the result of the state after all its batches, so
``precision`` is ``tp / (tp + fp)`` over the whole epoch, not a mean of batch precisions.

The state and the three functions (``init``, ``update``, ``result``; see `Metric.functions`)
run with NumPy in the NumPy backend and with ``jax.numpy`` inside the JAX trainer's jitted step.
The objects also work on their own, as Keras' do: ``m.update_state(y_true, y_pred)``,
``m.result()``, ``m.reset_state()``.

``compile(metrics=[...])`` takes what Keras takes: names (``"mae"``, ``"precision"``,
``"auc"``, ``"top_k_categorical_accuracy"``, ``"accuracy"``, which picks binary, categorical
or sparse categorical accuracy for the output as Keras' ``compile`` does), metric objects and
classes, and losses (``losses.Huber()``, logged as ``huber_loss``). `resolve` gives a metric's
*canonical* name (what the JAX trainer caches its compiled step on), `display_name` the key
logs use. `compute` and `finalize` are the batch-mean helpers of the mean metrics.

Examples:
    >>> import numpy as np
    >>> rmse = RootMeanSquaredError()
    >>> canonical = resolve(rmse, "mean_squared_error")
    >>> canonical, display_name(rmse)
    ('root_mean_squared_error', 'root_mean_squared_error')
    >>> value = compute(canonical, np.zeros((2, 1)), np.array([[3.0], [4.0]]))
    >>> value, finalize(canonical, value)
    (12.5, 3.5355339059327378)
    >>> m = Precision(name="precision")
    >>> m.update_state([0, 1, 1], [0.9, 0.8, 0.2])
    >>> m.update_state([1, 0], [0.7, 0.1])
    >>> m.result()  # tp = 2, fp = 1 over both batches
    0.6666666666666666
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._numpy.losses import mae_per_position, mse_per_position
from ._accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    binary_accuracy,
    categorical_accuracy,
    exact_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from ._auc import AUC
from ._base import MeanMetric, Metric, MetricFunctions
from ._confusion import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from ._f_score import F1Score, FBetaScore
from ._loss_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    MeanMetricWrapper,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from ._registry import display_name, get, mean_metric, resolve, resolve_metric, serialize
from ._regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetric",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "MetricFunctions",
    "Poisson",
    "Precision",
    "R2Score",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "binary_accuracy",
    "categorical_accuracy",
    "compute",
    "display_name",
    "finalize",
    "get",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "resolve",
    "resolve_metric",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]

# Keras' metrics namespace also holds the loss functions (``keras.metrics.mean_squared_error is
# keras.losses.mean_squared_error``): the same objects here, taking lists as well as arrays.
from ..losses import (  # noqa: E402
    binary_crossentropy as binary_crossentropy,
    binary_focal_crossentropy as binary_focal_crossentropy,
    categorical_crossentropy as categorical_crossentropy,
    categorical_hinge as categorical_hinge,
    hinge as hinge,
    huber as huber,
    kl_divergence as kl_divergence,
    log_cosh as log_cosh,
    mean_absolute_error as mean_absolute_error,
    mean_absolute_percentage_error as mean_absolute_percentage_error,
    mean_squared_error as mean_squared_error,
    mean_squared_logarithmic_error as mean_squared_logarithmic_error,
    poisson as poisson,
    sparse_categorical_crossentropy as sparse_categorical_crossentropy,
    squared_hinge as squared_hinge,
)

# The per-position functions of the first mean metrics, by canonical name (before `finalize`:
# RMSE's entry gives squared errors).
METRICS = {
    "mean_absolute_error": mae_per_position,
    "mean_squared_error": mse_per_position,
    "root_mean_squared_error": mse_per_position,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "exact_accuracy": exact_accuracy,
}


def compute(canonical: str, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None,
            mask: Any = None) -> float:
    """One batch's mean of a mean-type metric, before `finalize`.

    Args:
        canonical: a name from `resolve` of a mean metric (``"mean_absolute_error"``,
            ``"binary_accuracy@0.7"``, ``"top_k_categorical_accuracy"``, ``"huber_loss"``, ...).
        y_true: targets (integer labels for the sparse metrics).
        y_pred: predictions ``(..., U)``.
        sample_weight: optional ``(B,)``; the mean becomes
            ``sum_b w_b * sum_p v_bp / (sum_b w_b * positions_per_sample)``, as Keras' metric
            objects compute it. Weight-0 samples contribute exactly 0, even when not finite.
        mask: optional bool array shaped like the positions (``y_pred.shape[:-1]``): the mean
            is over the unmasked positions only (0 when none is), as Keras weights a mean metric
            by ``y_pred``'s mask.

    Returns:
        A float; for ``root_mean_squared_error``, the mean squared error.

    Raises:
        ValueError: for a metric that is not a mean (``"precision"``: use its object).
    """
    metric = mean_metric(canonical)
    fns = metric.functions()
    state = fns.update(fns.init(), np.asarray(y_true), np.asarray(y_pred), sample_weight, mask)
    return float(state["total"] / state["count"]) if state["count"] else 0.0


def finalize(canonical: str, value: float) -> float:
    """The reported value from a mean of `compute` values: ``sqrt`` for RMSE, else ``value``."""
    value = float(value)
    if canonical == "root_mean_squared_error":
        return math.sqrt(value) if value >= 0 else math.nan
    return value
