"""Regression metrics (Keras' ``regression_metrics.py``): error means and `R2Score`.

Examples:
    >>> m = R2Score()
    >>> m.update_state([[1.0], [2.0], [3.0]], [[1.0], [2.5], [2.5]])
    >>> round(m.result(), 6)
    0.75
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._numpy.losses import Loss
from ._base import MeanMetric, Metric
from ._ops import squeeze_or_expand_to_same_rank

__all__ = [
    "CosineSimilarity",
    "LogCoshError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "R2Score",
    "RootMeanSquaredError",
]


class MeanSquaredError(MeanMetric):
    """Mean of ``(y_pred - y_true) ** 2``; Keras name ``"mean_squared_error"``.

    Examples:
        >>> MeanSquaredError()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]])   # (1 + 0 + 0 + 1) / 4
        0.5
    """

    kind = default_name = "mean_squared_error"

    def __init__(self, name: str | None = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return ops.xp.mean((y_pred - y_true) ** 2, axis=-1)


class MeanAbsoluteError(MeanMetric):
    """Mean of ``|y_pred - y_true|``; Keras name ``"mean_absolute_error"``.

    Examples:
        >>> MeanAbsoluteError()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]])   # (1 + 0 + 0 + 1) / 4
        0.5
    """

    kind = default_name = "mean_absolute_error"

    def __init__(self, name: str | None = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return ops.xp.mean(ops.xp.abs(y_pred - y_true), axis=-1)


class RootMeanSquaredError(MeanMetric):
    """Square root of the mean squared error over everything seen; Keras name ``"root_mean_squared_error"``.

    The state is the squared errors' sum and count; the root is taken in ``result``, so an
    epoch's value is the root of the mean over all its samples, as Keras'.

    Examples:
        >>> RootMeanSquaredError()([[0.0], [0.0]], [[3.0], [4.0]])   # sqrt((9 + 16) / 2)
        3.535534
    """

    kind = default_name = "root_mean_squared_error"

    def __init__(self, name: str | None = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return ops.xp.mean((y_pred - y_true) ** 2, axis=-1)

    def _finish(self, xp: Any, mean: Any) -> Any:
        return xp.sqrt(mean)


class _LossMean(MeanMetric):
    """The mean of a loss' per-position values (the loss' ``per_position``, NumPy or JAX)."""

    loss_kind = ""
    sign = 1.0

    def _loss(self) -> Loss:
        return Loss(self.loss_kind)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return self.sign * ops.loss_values(self._loss(), y_true, y_pred)


class MeanAbsolutePercentageError(_LossMean):
    """Mean of ``100 * |y_true - y_pred| / max(|y_true|, 1e-7)``.

    Examples:
        >>> MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 5.0]])   # 100 * (1/2 + 1/4) / 2
        37.5
    """

    kind = default_name = "mean_absolute_percentage_error"
    loss_kind = "mean_absolute_percentage_error"

    def __init__(self, name: str | None = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class MeanSquaredLogarithmicError(_LossMean):
    """Mean of ``(log(1 + y_pred) - log(1 + y_true)) ** 2``.

    Examples:
        >>> MeanSquaredLogarithmicError()([[1.0, 3.0]], [[0.0, 3.0]])   # (log 1 - log 2) ** 2 / 2
        0.240226
    """

    kind = default_name = "mean_squared_logarithmic_error"
    loss_kind = "mean_squared_logarithmic_error"

    def __init__(self, name: str | None = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class LogCoshError(_LossMean):
    """Mean of ``log(cosh(y_pred - y_true))``; Keras name ``"logcosh"``.

    Examples:
        >>> LogCoshError()([[0.0, 0.0]], [[1.0, -1.0]])   # log(cosh(1))
        0.433781
    """

    kind = default_name = "logcosh"
    loss_kind = "log_cosh"

    def __init__(self, name: str | None = "logcosh", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class CosineSimilarity(MeanMetric):
    """Mean cosine similarity of ``y_true`` and ``y_pred`` along ``axis`` (higher is better).

    The metric is the *positive* similarity; the loss of the same name is its negative.

    Examples:
        >>> CosineSimilarity()([[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [1.0, 0.0]])   # (1 + 0) / 2
        0.5
    """

    kind = default_name = "cosine_similarity"

    def __init__(self, name: str | None = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"axis must be an integer, got {axis!r}")
        self.axis = int(axis)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"axis": self.axis}

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return -ops.loss_values(Loss("cosine_similarity", options={"axis": self.axis}), y_true, y_pred)


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


def _divide(xp: Any, numerator: Any, denominator: Any) -> Any:
    """IEEE ``numerator / denominator`` (inf, or NaN for 0/0) without NumPy's warnings."""
    zero = denominator == 0
    by_zero = xp.where(numerator == 0, np.nan, xp.sign(numerator) * np.inf)
    return xp.where(zero, by_zero, numerator / xp.where(zero, 1, denominator))


class R2Score(Metric):
    """The coefficient of determination over everything seen (Keras' `R2Score`).

    Per output column ``j``, with weights ``w`` (1 without ``sample_weight``):
    ``R2_j = 1 - sum(w (y_true - y_pred)^2) / (sum(w y_true^2) - sum(w y_true)^2 / sum(w))``;
    an infinite value (a constant column) counts 0. The state holds the four sums per column
    and the count of samples with a non-zero weight.

    Args:
        class_aggregation: ``"uniform_average"`` (mean of the columns' R2), ``"variance_weighted_average"``
            (weighted by each column's total sum of squares) or ``None`` (one value per column).
        num_regressors: ``p`` for the adjusted R2 ``1 - (1 - R2) (n - 1) / (n - p - 1)``
            (with ``n`` the samples seen; the plain R2 when ``n - 1 <= p``, with a warning as Keras).
        name: Keras' default ``"r2_score"``.
        dtype: the state's dtype.

    Inputs are ``(batch, outputs)``, as Keras requires (``(batch,)`` against ``(batch, 1)`` is
    aligned first). ``n`` counts the samples with a non-zero weight, as Keras' current source
    does (Keras 3.15.1 added ``y_true.size``, every column and zero weights included).

    Examples:
        >>> R2Score()([[1.0], [2.0], [3.0]], [[1.0], [2.5], [2.5]])   # 1 - 0.5 / 2
        0.75
    """

    kind = default_name = "r2_score"
    builds_from_shape = True

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str | None = "r2_score", dtype: Any = None) -> None:
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {_AGGREGATIONS}. "
                f"Received: class_aggregation={class_aggregation!r}"
            )
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, (int, np.integer)) or num_regressors < 0:
            raise ValueError(f"num_regressors must be an integer >= 0, got {num_regressors!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"class_aggregation": self.class_aggregation, "num_regressors": self.num_regressors}

    def check_shape(self, y_pred_shape: tuple[int | None, ...]) -> None:
        if len(y_pred_shape) != 2 or y_pred_shape[-1] is None:
            raise ValueError(
                f"R2Score expects 2D inputs with shape (batch_size, output_dim), got y_pred of shape {y_pred_shape}"
            )

    def _standalone_shape(self, y_true: NDArray[Any], y_pred: NDArray[Any]) -> tuple[int, ...]:
        shape: tuple[int, ...] = squeeze_or_expand_to_same_rank(np, y_true, y_pred)[1].shape
        return shape

    def _init(self, ops: Any, dtype: Any, y_pred_shape: Any) -> dict[str, Any]:
        columns = ops.xp.zeros((y_pred_shape[-1],), dtype=dtype)
        return {"sum": columns, "squared_sum": columns, "residual": columns, "count": columns,
                "num_samples": ops.xp.zeros((), dtype=dtype)}

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        xp = ops.xp
        dtype = state["sum"].dtype
        y_true, y_pred = xp.asarray(y_true, dtype=dtype), xp.asarray(y_pred, dtype=dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(xp, y_true, y_pred)
        if y_true.ndim != 2 or tuple(y_true.shape) != tuple(y_pred.shape) or y_pred.shape[-1] != state["sum"].shape[0]:
            raise ValueError(
                f"R2Score expects y_true and y_pred of shape (batch_size, {state['sum'].shape[0]}), "
                f"got {tuple(y_true.shape)} and {tuple(y_pred.shape)}"
            )
        weight = xp.ones((), dtype) if sample_weight is None else xp.asarray(sample_weight, dtype=dtype)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = xp.broadcast_to(weight, y_true.shape)
        weighted_true = y_true * weight
        # a sample counts once if any of its columns has a non-zero weight
        samples = xp.sum(xp.any(weight != 0, axis=-1).astype(dtype))
        return {
            "sum": state["sum"] + xp.sum(weighted_true, axis=0),
            "squared_sum": state["squared_sum"] + xp.sum(y_true * weighted_true, axis=0),
            "residual": state["residual"] + xp.sum((y_true - y_pred) ** 2 * weight, axis=0),
            "count": state["count"] + xp.sum(weight, axis=0),
            "num_samples": state["num_samples"] + samples,
        }

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        xp = ops.xp
        mean = _divide(xp, state["sum"], state["count"])
        total = state["squared_sum"] - state["sum"] * mean
        raw = 1 - _divide(xp, state["residual"], total)
        raw = xp.where(xp.isinf(raw), 0.0, raw)  # a constant column counts 0 (Keras)
        if self.class_aggregation == "uniform_average":
            score = xp.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = xp.sum(total * raw) / xp.sum(total)
        else:
            score = raw
        if self.num_regressors == 0:
            return score
        n, p = state["num_samples"], self.num_regressors
        if ops.name == "numpy" and p >= n - 1:
            warnings.warn(
                "More independent predictors than datapoints in adjusted R2 score. Falling back to standard R2 score."
                if p > n - 1 else "Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                stacklevel=3,
            )
        adjusted = 1 - (1 - score) * (n - 1) / xp.where(n - p - 1 == 0, 1, n - p - 1)
        return xp.where(p >= n - 1, score, adjusted)
