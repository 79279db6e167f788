"""From what a user passes in ``compile(metrics=...)`` to metric objects, and back (configs).

``resolve_metric`` gives the `Metric` that ``compile`` uses, named as Keras 3 names it: a string
keeps its spelling (``"mae"`` logs as ``mae``), ``"accuracy"``/``"acc"`` picks the accuracy that
fits the output (Keras' ``get_metric``), an object keeps its ``name``, a loss object or function
becomes a `MeanMetricWrapper` named after it (``huber_loss``). ``resolve`` is its canonical name
(what the JAX trainer caches on), ``display_name`` its log name.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from .. import losses as _losses
from .._numpy.losses import Loss, mae_per_position, mse_per_position
from . import _accuracy, _auc, _confusion, _f_score, _loss_metrics, _regression
from ._base import MeanMetric, Metric
from ._loss_metrics import MeanMetricWrapper, loss_display_name



def snake_case(name: str) -> str:
    """Keras' ``to_snake_case``: ``"AUC"`` -> ``"auc"``, ``"FBetaScore"`` -> ``"f_beta_score"``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


CLASSES: dict[str, type[Metric]] = {
    cls.__name__: cls
    for module in (_accuracy, _regression, _loss_metrics, _confusion, _auc, _f_score)
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, Metric) and cls.__name__ in module.__all__
}
# Keras' metrics.get() names: class names, their snake case, Keras' aliases; plus the default
# names where they differ ("fbeta_score", "logcosh").
_FROM_STRING: dict[str, type[Metric]] = {name: cls for name, cls in CLASSES.items() if cls is not MeanMetricWrapper}
GET_NAMES: dict[str, type[Metric]] = {
    **_FROM_STRING,
    **{snake_case(name): cls for name, cls in _FROM_STRING.items()},
    **{cls.default_name: cls for cls in _FROM_STRING.values() if cls.default_name},
    "mse": _regression.MeanSquaredError, "MSE": _regression.MeanSquaredError,
    "mae": _regression.MeanAbsoluteError, "MAE": _regression.MeanAbsoluteError,
    "mape": _regression.MeanAbsolutePercentageError, "MAPE": _regression.MeanAbsolutePercentageError,
    "msle": _regression.MeanSquaredLogarithmicError, "MSLE": _regression.MeanSquaredLogarithmicError,
    "bce": _loss_metrics.BinaryCrossentropy, "BCE": _loss_metrics.BinaryCrossentropy,
}
# The canonical kinds (``Metric.kind``) -> class, for canonical names given back as strings.
_KINDS: dict[str, type[Metric]] = {cls.kind: cls for cls in _FROM_STRING.values() if isinstance(cls.kind, str) and cls.kind}

# Functions accepted in metrics=[...]: this package's metric functions (-> their class).
METRIC_FUNCTIONS: dict[Callable[..., Any], type[Metric]] = {
    mse_per_position: _regression.MeanSquaredError,
    mae_per_position: _regression.MeanAbsoluteError,
    _losses.mean_squared_error: _regression.MeanSquaredError,  # = metrics.mean_squared_error, as in Keras
    _losses.mean_absolute_error: _regression.MeanAbsoluteError,
    _accuracy.binary_accuracy: _accuracy.BinaryAccuracy,
    _accuracy.categorical_accuracy: _accuracy.CategoricalAccuracy,
    _accuracy.sparse_categorical_accuracy: _accuracy.SparseCategoricalAccuracy,
    _accuracy.top_k_categorical_accuracy: _accuracy.TopKCategoricalAccuracy,
    _accuracy.sparse_top_k_categorical_accuracy: _accuracy.SparseTopKCategoricalAccuracy,
}
_FUNCTION_NAMES = {
    fn: {mse_per_position: "mean_squared_error", mae_per_position: "mean_absolute_error"}.get(fn, fn.__name__)
    for fn in METRIC_FUNCTIONS
}
_ACCURACY_FOR_LOSS: dict[str, type[Metric]] = {
    "binary_crossentropy": _accuracy.BinaryAccuracy,
    "sparse_categorical_crossentropy": _accuracy.SparseCategoricalAccuracy,
}
_SEPARATOR = "@"


def _loss_function(identifier: Any) -> Loss | None:
    """A `Loss` for a `scratchlstm.losses` function or Loss class, else None."""
    from .. import losses as losses_module

    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return losses_module.get(identifier)
    if callable(identifier) and not isinstance(identifier, type) and identifier in losses_module._FUNCTIONS:
        return losses_module.get(identifier)
    return None


def _known() -> list[str]:
    return sorted(set(GET_NAMES) | {"accuracy", "acc"})


def from_canonical(canonical: str, name: str | None = None) -> Metric:
    """The metric a canonical name (``Metric.canonical``) stands for, named ``name``."""
    base, separator, rest = str(canonical).partition(_SEPARATOR)
    name = canonical if name is None else name
    try:
        if base == "binary_accuracy" and separator:
            return _accuracy.BinaryAccuracy(name=name, threshold=float(rest))
        arguments = json.loads(rest) if separator else {}
        if not isinstance(arguments, dict):
            raise ValueError(rest)
        if base in _KINDS:
            return _KINDS[base](name=name, **arguments)
        if base.endswith("_loss"):
            loss = Loss(**arguments["fn"]) if "fn" in arguments else Loss(base[: -len("_loss")])
            return MeanMetricWrapper(loss, name=name, per_sample=bool(arguments.get("per_sample", False)))
    except (ValueError, TypeError):
        if base == "binary_accuracy":
            raise ValueError(f"canonical metric must be 'binary_accuracy@<float>', got {canonical!r}") from None
    raise ValueError(f"metric must be one of {_known()} or a metric object, got {canonical!r}")


def get(identifier: Any) -> Metric:
    """A metric object from a name, a class, an instance or a Keras config dict, like Keras.

    Args:
        identifier: a class name (``"RootMeanSquaredError"``), a Keras name
            (``"root_mean_squared_error"``, ``"mse"``, ``"auc"``, ``"accuracy"`` -> `Accuracy`),
            a class, an instance (returned as is), ``{"class_name": ..., "config": {...}}``, a
            `scratchlstm.losses` object or function (wrapped in a `MeanMetricWrapper`), or one
            of this module's metric functions.

    Raises:
        ValueError: for anything else, naming what is accepted.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric) and identifier in CLASSES.values():
        if identifier is MeanMetricWrapper:
            raise ValueError("MeanMetricWrapper needs a loss: MeanMetricWrapper(fn=...)")
        return identifier()
    if isinstance(identifier, str) and identifier in GET_NAMES:
        return GET_NAMES[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = CLASSES.get(identifier["class_name"])
        config = identifier.get("config") or {}
        if cls is None or not isinstance(config, dict):
            raise ValueError(
                f"metric config must be {{'class_name': one of {sorted(CLASSES)}, 'config': dict}}, got {identifier!r}"
            )
        return cls.from_config(config)
    if isinstance(identifier, Loss):
        return MeanMetricWrapper(identifier, name=loss_display_name(identifier))
    if callable(identifier) and identifier in METRIC_FUNCTIONS:
        return METRIC_FUNCTIONS[identifier](name=_FUNCTION_NAMES[identifier])
    loss = _loss_function(identifier)
    if loss is not None:  # a class: its object's name (huber_loss); a function: its own (huber)
        name = loss_display_name(loss) if isinstance(identifier, type) else identifier.__name__
        return MeanMetricWrapper(identifier, name=name)
    raise ValueError(f"metric must be one of {sorted(GET_NAMES)}, a Metric or a config dict, got {identifier!r}")


def _accuracy_for(identifier: str, loss_name: str, output_units: int | None) -> Metric:
    """Keras' ``"accuracy"`` rule (``is_binary_or_sparse_categorical``)."""
    cls: type[Metric]
    if output_units == 1:
        cls = _accuracy.BinaryAccuracy
    elif output_units is not None and loss_name != "sparse_categorical_crossentropy":
        cls = _accuracy.CategoricalAccuracy
    else:
        cls = _ACCURACY_FOR_LOSS.get(loss_name, _accuracy.CategoricalAccuracy)
    return cls(name=identifier)


def resolve_metric(identifier: Any, loss_name: str = "", output_units: int | None = None) -> Metric:
    """The `Metric` ``compile`` uses for ``identifier``, named as Keras 3 names it.

    Args:
        identifier: a string (a Keras name such as ``"mae"``, ``"precision"``, ``"auc"``,
            ``"top_k_categorical_accuracy"``, ``"accuracy"``/``"acc"``, or a canonical name),
            a metric object, class or config dict, a `scratchlstm.losses` object, class or
            function, or one of this module's metric functions.
        loss_name: the output's canonical loss name (``"accuracy"`` without ``output_units``
            picks from it).
        output_units: the size of the output's last axis, when known.

    Raises:
        ValueError: for an unknown metric, listing the known names.
    """
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_for(identifier, loss_name, output_units)
        for key in (identifier, identifier.lower()):
            if key in GET_NAMES:
                return GET_NAMES[key](name=identifier)
        return from_canonical(identifier, name=identifier)
    if isinstance(identifier, (Metric, dict, Loss)) or (isinstance(identifier, type) and issubclass(identifier, Metric)):
        return get(identifier)
    if callable(identifier) and (identifier in METRIC_FUNCTIONS or _loss_function(identifier) is not None):
        return get(identifier)
    raise ValueError(f"metric must be a name or a metric object, got {type(identifier).__name__}: {identifier!r}")


def resolve(identifier: Any, loss_name: str, output_units: int | None = None) -> str:
    """Canonical metric name for ``identifier`` given the model's canonical loss name.

    ``"accuracy"`` follows Keras' rule (``is_binary_or_sparse_categorical``): binary for one
    output unit, sparse categorical for sparse labels, categorical otherwise. Without
    ``output_units`` the loss decides (binary for binary cross-entropy).

    Returns:
        ``Metric.canonical`` of `resolve_metric`'s metric: ``"mean_absolute_error"``,
        ``"binary_accuracy@0.7"``, ``"precision"``, ``'auc@{"curve":"PR"}'``, ``"huber_loss"``...

    Raises:
        ValueError: for an unknown metric.
    """
    return resolve_metric(identifier, loss_name, output_units).canonical


def display_name(identifier: Any) -> str:
    """The key logs and History use: a string as given, else the object's ``name`` (as Keras 3)."""
    if isinstance(identifier, str):
        return identifier
    return resolve_metric(identifier).name


def serialize(identifier: Any) -> Any:
    """A JSON-able form `resolve_metric`, `display_name` and `get` read back.

    Strings are returned as given (so ``"accuracy"`` keeps resolving by the loss); metric
    objects and classes become ``{"class_name": ..., "config": {...}}``; this module's
    functions become their names; losses become a `MeanMetricWrapper` config.
    """
    if isinstance(identifier, str):
        return identifier
    if callable(identifier) and not isinstance(identifier, (type, Metric, Loss)) and identifier in _FUNCTION_NAMES:
        return _FUNCTION_NAMES[identifier]
    metric = resolve_metric(identifier)
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def mean_metric(canonical: str) -> MeanMetric:
    metric = from_canonical(canonical)
    if not isinstance(metric, MeanMetric):
        raise ValueError(
            f"{canonical!r} is not a mean of per-position values; use its object's update_state() and result()"
        )
    return metric
