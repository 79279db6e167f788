"""Losses as metrics: Keras' probabilistic and hinge metric classes, and any loss in ``metrics=``.

Keras' ``BinaryCrossentropy``, ``KLDivergence``, ``Hinge``, ... metrics are the mean of the loss
function of the same name over every position seen (``probabilistic_metrics.py``,
``hinge_metrics.py``). A loss object or loss function given in ``compile(metrics=[...])``
becomes a `MeanMetricWrapper` around it, named as Keras names it (``keras.losses.Huber()`` logs
as ``huber_loss``); a loss object's metric is the mean of its batch values, as in Keras.

Examples:
    >>> import numpy as np
    >>> import scratchlstm as keras
    >>> m = keras.metrics.MeanMetricWrapper(keras.losses.Huber(delta=0.5))
    >>> m.update_state(np.zeros((2, 1)), np.array([[0.25], [2.0]]))  # a batch loss of 0.453125
    >>> m.update_state(np.zeros((1, 1)), np.array([[0.5]]))  # and one of 0.125
    >>> round(m.result(), 6)  # their mean: each batch counts once
    0.289062
"""

from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np

from .._numpy.losses import Loss
from ._base import MeanMetric
from ._ops import divide_no_nan

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "Hinge",
    "KLDivergence",
    "MeanMetricWrapper",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
]


def loss_display_name(loss: Any) -> str:
    """Keras' ``get_object_name`` of a loss: its Keras ``name`` (``"huber_loss"``), else its kind."""
    name: str = getattr(loss, "display_name", None) or loss.name
    return name


class MeanMetricWrapper(MeanMetric):
    """A loss as a metric (Keras' ``MeanMetricWrapper`` around a loss).

    Keras treats the two kinds of loss differently, and so does this class:

    - a loss *object* (or class, or config), e.g. ``losses.Huber(delta=2.0)``: Keras calls it,
      which reduces each batch to one number, so the metric is the mean of the batch losses
      (every batch counting once, a short last one too): state ``{"total": sum of batch
      values, "count": batches}``;
    - a loss *function* (``losses.huber``, or a name): the mean over every position seen, as
      the mean metrics.

    A batch's value leaves out positions of weight 0 (the JAX trainer's padding) and an
    output's masked positions.

    Args:
        fn: a `scratchlstm.losses` object, class, config, function or name.
        name: the name logs use; Keras' default ``"mean_metric_wrapper"`` (``compile`` names it
            after the loss, as Keras: ``huber_loss`` for ``losses.Huber()``).
        dtype: the state's dtype.
        per_sample: ``None`` decides from ``fn`` as above; ``True``/``False`` forces it.

    Examples:
        >>> from scratchlstm import losses
        >>> m = MeanMetricWrapper(losses.mean_absolute_error)
        >>> m.update_state([[0.0], [0.0]], [[1.0], [3.0]])
        >>> m.update_state([[0.0]], [[5.0]])
        >>> m.result()   # a loss function: (1 + 3 + 5) / 3, every sample counts once
        3.0
    """

    default_name = "mean_metric_wrapper"

    def __init__(self, fn: Callable[..., Any], name: str | None = "mean_metric_wrapper", dtype: Any = None,
                 per_sample: bool | None = None) -> None:
        from .. import losses as losses_module

        if per_sample is None:
            per_sample = isinstance(fn, str) or (callable(fn) and not isinstance(fn, (type, Loss)))
        self.per_sample = bool(per_sample)
        self.loss = losses_module.get(fn)
        self.sparse_targets = self.loss.name == "sparse_categorical_crossentropy"
        super().__init__(name, dtype)

    @property
    def kind(self) -> str:  # type: ignore[override]  # a class attribute in Metric, the loss' here
        return f"{self.loss.name}_loss"

    @property
    def canonical(self) -> str:
        """``"<loss>_loss"`` for a plain loss object, else with ``@`` and what differs."""
        config = self.loss.get_config()
        if config == {"name": self.loss.name, "from_logits": False} and not self.per_sample:
            return self.kind
        arguments = {"fn": config, **({"per_sample": True} if self.per_sample else {})}
        return f"{self.kind}@{json.dumps(arguments, sort_keys=True, separators=(',', ':'))}"

    def _arguments(self) -> dict[str, Any]:
        from .. import losses as losses_module

        return {"fn": losses_module.serialize(self.loss), "per_sample": self.per_sample}

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return ops.loss_values(self.loss, y_true, y_pred)

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        if self.per_sample:
            return super()._update(ops, state, y_true, y_pred, sample_weight, mask)
        xp = ops.xp
        batch = super()._update(ops, self._init(ops, state["total"].dtype, None), y_true, y_pred, sample_weight, mask)
        value = divide_no_nan(xp, batch["total"], batch["count"])  # this batch's loss
        return {"total": state["total"] + value, "count": state["count"] + 1}


class _LossMetric(MeanMetric):
    """A Keras metric class that is the mean of one loss (its arguments are the loss' options)."""

    loss_kind = ""

    def _loss(self) -> Loss:
        return Loss(self.loss_kind)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        return ops.loss_values(self._loss(), y_true, y_pred)


def _check_logits(from_logits: Any) -> bool:
    if not isinstance(from_logits, (bool, np.bool_)):
        raise ValueError(f"from_logits must be True or False, got {from_logits!r}")
    return bool(from_logits)


def _check_smoothing(label_smoothing: Any) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.number)) or not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return float(label_smoothing)


def _check_last_axis(axis: Any) -> int:
    if axis != -1 or isinstance(axis, bool):
        raise NotImplementedError(f"axis={axis!r} is not supported; only axis=-1 is")
    return -1


class BinaryCrossentropy(_LossMetric):
    """Mean binary cross-entropy; Keras name ``"binary_crossentropy"``.

    Examples:
        >>> BinaryCrossentropy()([[1.0], [0.0]], [[0.8], [0.4]])   # -(log 0.8 + log 0.6) / 2
        0.366985
    """

    kind = default_name = "binary_crossentropy"

    def __init__(self, name: str | None = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0) -> None:
        self.from_logits = _check_logits(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}

    def _loss(self) -> Loss:
        return Loss("binary_crossentropy", self.from_logits, {"label_smoothing": self.label_smoothing})


class CategoricalCrossentropy(_LossMetric):
    """Mean categorical cross-entropy; Keras name ``"categorical_crossentropy"``.

    Examples:
        >>> CategoricalCrossentropy()([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[0.05, 0.9, 0.05], [0.1, 0.2, 0.7]])   # -(log 0.9 + log 0.7) / 2
        0.231018
    """

    kind = default_name = "categorical_crossentropy"

    def __init__(self, name: str | None = "categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0, axis: int = -1) -> None:
        self.from_logits = _check_logits(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = _check_last_axis(axis)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing, "axis": self.axis}

    def _loss(self) -> Loss:
        return Loss("categorical_crossentropy", self.from_logits, {"label_smoothing": self.label_smoothing})


class SparseCategoricalCrossentropy(_LossMetric):
    """Mean categorical cross-entropy from integer labels; Keras name ``"sparse_categorical_crossentropy"``.

    Examples:
        >>> SparseCategoricalCrossentropy()([1, 2], [[0.05, 0.9, 0.05], [0.1, 0.2, 0.7]])   # -(log 0.9 + log 0.7) / 2
        0.231018
    """

    kind = default_name = "sparse_categorical_crossentropy"
    sparse_targets = True

    def __init__(self, name: str | None = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, ignore_class: int | None = None, axis: int = -1) -> None:
        self.from_logits = _check_logits(from_logits)
        if ignore_class is not None:
            raise NotImplementedError(f"ignore_class={ignore_class!r} is not supported; only ignore_class=None is")
        self.axis = _check_last_axis(axis)
        super().__init__(name, dtype)

    def _arguments(self) -> dict[str, Any]:
        return {"from_logits": self.from_logits, "ignore_class": None, "axis": self.axis}

    def _loss(self) -> Loss:
        return Loss("sparse_categorical_crossentropy", self.from_logits)


class KLDivergence(_LossMetric):
    """Mean Kullback-Leibler divergence; Keras name ``"kl_divergence"``.

    Examples:
        >>> KLDivergence()([[0.5, 0.5]], [[0.9, 0.1]])   # 0.5 log(0.5 / 0.9) + 0.5 log(0.5 / 0.1)
        0.510826
    """

    kind = default_name = loss_kind = "kl_divergence"

    def __init__(self, name: str | None = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class Poisson(_LossMetric):
    """Mean Poisson loss ``y_pred - y_true * log(y_pred + 1e-7)``; Keras name ``"poisson"``.

    Examples:
        >>> Poisson()([[1.0, 2.0]], [[1.0, 2.0]])   # (1 - log 1 + 2 - 2 log 2) / 2
        0.806853
    """

    kind = default_name = loss_kind = "poisson"

    def __init__(self, name: str | None = "poisson", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class Hinge(_LossMetric):
    """Mean hinge loss; Keras name ``"hinge"``.

    Examples:
        >>> Hinge()([[1.0], [-1.0]], [[0.3], [-2.0]])   # (max(1 - 0.3, 0) + max(1 - 2, 0)) / 2
        0.35
    """

    kind = default_name = loss_kind = "hinge"

    def __init__(self, name: str | None = "hinge", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class SquaredHinge(_LossMetric):
    """Mean squared hinge loss; Keras name ``"squared_hinge"``.

    Examples:
        >>> SquaredHinge()([[1.0], [-1.0]], [[0.3], [-2.0]])   # (0.7**2 + 0) / 2
        0.245
    """

    kind = default_name = loss_kind = "squared_hinge"

    def __init__(self, name: str | None = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(name, dtype)


class CategoricalHinge(_LossMetric):
    """Mean categorical hinge loss; Keras name ``"categorical_hinge"``.

    Examples:
        >>> CategoricalHinge()([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[0.05, 0.9, 0.05], [0.1, 0.2, 0.7]])   # (max(0.05 - 0.9 + 1, 0) + max(0.2 - 0.7 + 1, 0)) / 2
        0.325
    """

    kind = default_name = loss_kind = "categorical_hinge"

    def __init__(self, name: str | None = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(name, dtype)
