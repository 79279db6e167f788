"""Metrics: names or Keras 3 style metric objects, computed per position and averaged.

Training works with *canonical* metric names (strings, so compiled functions can be cached on
them): `resolve` turns what the user passed into one, `compute` gives a batch's value,
`finalize` turns an epoch's mean of batch values into the reported value, and `display_name`
is the key the logs use. For every metric but RMSE ``finalize`` is the identity; for
``root_mean_squared_error`` ``compute`` returns the mean squared error and ``finalize`` takes
the square root, so ``finalize(mean of batch values)`` is Keras' epoch RMSE, the root of the
mean squared error over all the epoch's samples.

``"accuracy"`` (a string) resolves, as in Keras' ``compile``, to the accuracy that fits the
loss: binary for binary cross-entropy, sparse categorical for sparse labels, categorical
otherwise. The `Accuracy` *class* is Keras' exact-equality accuracy (canonical
``"exact_accuracy"``). `BinaryAccuracy` with a threshold other than 0.5 has the canonical name
``"binary_accuracy@<threshold>"``, e.g. ``"binary_accuracy@0.7"``.

Examples:
    >>> import numpy as np
    >>> rmse = RootMeanSquaredError()
    >>> canonical = resolve(rmse, "mean_squared_error")
    >>> canonical, display_name(rmse)
    ('root_mean_squared_error', 'root_mean_squared_error')
    >>> value = compute(canonical, np.zeros((2, 1)), np.array([[3.0], [4.0]]))
    >>> value, finalize(canonical, value)
    (12.5, 3.5355339059327378)
"""

from __future__ import annotations

import math

import numpy as np

from ._numpy.losses import mae_per_position, mse_per_position, sparse_labels

__all__ = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "compute",
    "display_name",
    "finalize",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "resolve",
    "serialize",
    "sparse_categorical_accuracy",
]


# --- per-position metric functions (also Keras' module-level functions) --------------------------
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of ``y_pred > threshold`` matching ``y_true > 0.5``, mean over the last axis."""
    return np.mean((y_pred > threshold) == (y_true > 0.5), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1 where ``argmax(y_true) == argmax(y_pred)`` over the last axis, else 0."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the integer label equals ``argmax(y_pred)``, else 0."""
    return (sparse_labels(y_true, y_pred) == np.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


def exact_accuracy(y_true, y_pred):
    """Keras' `Accuracy`: fraction of elements with ``y_pred == y_true``, mean over the last axis."""
    return np.mean(y_pred == y_true, axis=-1)


mean_squared_error = mse_per_position
mean_absolute_error = mae_per_position

METRICS = {
    "mean_absolute_error": mae_per_position,
    "mean_squared_error": mse_per_position,
    # Before finalize(): the mean of squared errors; the square root is taken at the end.
    "root_mean_squared_error": mse_per_position,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "exact_accuracy": exact_accuracy,
}
_ALIASES = {"mae": "mean_absolute_error", "mse": "mean_squared_error", "acc": "accuracy"}
_ACCURACY_FOR_LOSS = {
    "binary_crossentropy": "binary_accuracy",
    "sparse_categorical_crossentropy": "sparse_categorical_accuracy",
}
_THRESHOLD_SEPARATOR = "@"


def _parse(canonical: str):
    """``(metric function, keyword arguments)`` for a canonical name."""
    base, sep, threshold = str(canonical).partition(_THRESHOLD_SEPARATOR)
    if base in METRICS and not sep:
        return METRICS[base], {}
    if base == "binary_accuracy" and sep:
        try:
            return binary_accuracy, {"threshold": float(threshold)}
        except ValueError:
            pass
    raise ValueError(f"canonical metric must be one of {sorted(METRICS)} or 'binary_accuracy@<float>', got {canonical!r}")


# --- Keras-style metric objects -------------------------------------------------------------------
class Metric:
    """Base of the metric classes: a canonical kind, a display ``name`` and a running mean.

    ``update_state`` / ``result`` / ``reset_state`` work as in Keras: the result is the
    (sample-weighted) mean of the per-position values seen so far, finalized (square root for
    RMSE).

    Args:
        name: the name logs use; defaults to Keras' name for the class.
        dtype: accepted for Keras compatibility; values are computed in the inputs' dtype.
    """

    kind = ""  # canonical name, set by each subclass
    default_name = ""

    def __init__(self, name=None, dtype=None):
        name = self.default_name if name is None else name
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise ValueError(f"dtype must be a float dtype or None, got {dtype!r}")
        self.name = name
        self.dtype = dtype
        self.reset_state()

    @property
    def canonical(self) -> str:
        """The canonical name `compute` and the JAX path understand."""
        return self.kind

    def reset_state(self) -> None:
        """Forget every batch seen."""
        self._total, self._count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add a batch: its weighted per-position values and their weight."""
        values, weight = _values_and_weight(self.canonical, y_true, y_pred, sample_weight)
        self._total += float(np.sum(np.where(weight != 0, values * weight, 0)))
        self._count += float(np.sum(np.broadcast_to(weight, values.shape)))

    def result(self) -> float:
        """The finalized mean so far (0.0 before any update, as Keras)."""
        mean = self._total / self._count if self._count else 0.0
        return finalize(self.canonical, mean)

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Update with one batch and return the result, like Keras' ``metric(y_true, y_pred)``."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        """Constructor arguments, JSON-able."""
        return {"name": self.name, "dtype": None if self.dtype is None else np.dtype(self.dtype).name}

    @classmethod
    def from_config(cls, config: dict):
        """The metric `get_config` describes."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class MeanSquaredError(Metric):
    """Mean of ``(y_pred - y_true) ** 2``; Keras name ``"mean_squared_error"``."""

    kind = default_name = "mean_squared_error"


class MeanAbsoluteError(Metric):
    """Mean of ``|y_pred - y_true|``; Keras name ``"mean_absolute_error"``."""

    kind = default_name = "mean_absolute_error"


class RootMeanSquaredError(Metric):
    """Square root of the mean squared error over everything seen; Keras name ``"root_mean_squared_error"``."""

    kind = default_name = "root_mean_squared_error"


class CategoricalAccuracy(Metric):
    """How often ``argmax(y_pred)`` matches one-hot ``y_true``; Keras name ``"categorical_accuracy"``."""

    kind = default_name = "categorical_accuracy"


class SparseCategoricalAccuracy(Metric):
    """How often ``argmax(y_pred)`` matches integer labels; Keras name ``"sparse_categorical_accuracy"``."""

    kind = default_name = "sparse_categorical_accuracy"


class Accuracy(Metric):
    """How often ``y_pred`` *equals* ``y_true`` exactly (Keras' `Accuracy`, name ``"accuracy"``).

    Not the string ``"accuracy"`` of ``compile``, which picks an accuracy from the loss.
    """

    kind = "exact_accuracy"
    default_name = "accuracy"


class BinaryAccuracy(Metric):
    """How often ``y_pred > threshold`` matches ``y_true > 0.5``; Keras name ``"binary_accuracy"``.

    Args:
        name: the name logs use.
        dtype: accepted for Keras compatibility.
        threshold: a number in ``[0, 1]``; other than 0.5 it makes the canonical name
            ``"binary_accuracy@<threshold>"``.
    """

    kind = default_name = "binary_accuracy"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)) or not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
        self.threshold = float(threshold)
        super().__init__(name, dtype)

    @property
    def canonical(self) -> str:
        """``"binary_accuracy"``, or ``"binary_accuracy@<threshold>"`` for another threshold."""
        if self.threshold == 0.5:
            return self.kind
        return f"{self.kind}{_THRESHOLD_SEPARATOR}{self.threshold!r}"

    def get_config(self) -> dict:
        """Constructor arguments, JSON-able."""
        return {**super().get_config(), "threshold": self.threshold}


_CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        RootMeanSquaredError,
        BinaryAccuracy,
        CategoricalAccuracy,
        SparseCategoricalAccuracy,
        Accuracy,
    )
}
# Keras' metrics.get() also knows snake_case class names and mse/mae (then "accuracy" is the
# exact-equality Accuracy class).
_GET_NAMES = {
    **_CLASSES,
    **{cls.default_name: cls for cls in _CLASSES.values()},
    "mse": MeanSquaredError,
    "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
}
_FUNCTIONS = {
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
    binary_accuracy: "binary_accuracy",
    categorical_accuracy: "categorical_accuracy",
    sparse_categorical_accuracy: "sparse_categorical_accuracy",
}


def get(identifier) -> Metric:
    """A metric object from a name, a class, an instance or a Keras config dict, like Keras.

    Args:
        identifier: a class name (``"RootMeanSquaredError"``), a Keras name
            (``"root_mean_squared_error"``, ``"mse"``, ``"accuracy"`` -> `Accuracy`), a class,
            an instance (returned as is), or ``{"class_name": ..., "config": {...}}``.

    Raises:
        ValueError: for anything else, naming what is accepted.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric) and identifier.kind:
        return identifier()
    if isinstance(identifier, str) and identifier in _GET_NAMES:
        return _GET_NAMES[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"])
        config = identifier.get("config") or {}
        if cls is None or not isinstance(config, dict):
            raise ValueError(
                f"metric config must be {{'class_name': one of {sorted(_CLASSES)}, 'config': dict}}, got {identifier!r}"
            )
        return cls.from_config(config)
    raise ValueError(f"metric must be one of {sorted(_GET_NAMES)}, a Metric or a config dict, got {identifier!r}")


def serialize(identifier):
    """A JSON-able form `resolve`, `display_name` and `get` read back.

    Strings are returned as given (so ``"accuracy"`` keeps resolving by the loss); metric
    objects and classes become ``{"class_name": ..., "config": {...}}``; this module's
    functions become their names.
    """
    if isinstance(identifier, str):
        return identifier
    if callable(identifier) and not isinstance(identifier, (type, Metric)) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]
    metric = get(identifier)
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def _as_metric(identifier):
    """A Metric for classes, instances and config dicts; None for strings and functions."""
    if isinstance(identifier, (Metric, dict)) or (isinstance(identifier, type) and issubclass(identifier, Metric)):
        return get(identifier)
    return None


def resolve(identifier, loss_name: str, output_units=None) -> str:
    """Canonical metric name for ``identifier`` given the model's canonical loss name.

    Args:
        identifier: a string (``"mae"``, ``"mse"``, ``"accuracy"``/``"acc"`` (see below),
            a canonical name such as ``"root_mean_squared_error"``), a metric object or class,
            a config dict from `serialize`, or one of this module's metric functions.
        loss_name: the canonical loss name, e.g. ``"binary_crossentropy"``.
        output_units: the size of the output's last axis, when known.

    ``"accuracy"`` follows Keras' rule (``is_binary_or_sparse_categorical``): binary for one
    output unit, sparse categorical for sparse labels, categorical otherwise. Without
    ``output_units`` the loss decides (binary for binary cross-entropy).

    Returns:
        One of ``METRICS``' keys, or ``"binary_accuracy@<threshold>"``.

    Raises:
        ValueError: for an unknown metric.
    """
    metric = _as_metric(identifier)
    if metric is not None:
        return metric.canonical
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]
    if not isinstance(identifier, str):
        raise ValueError(f"metric must be a name or a metric object, got {type(identifier).__name__}: {identifier!r}")
    key = _ALIASES.get(identifier.lower(), identifier.lower())
    if key == "accuracy":
        if output_units == 1:
            return "binary_accuracy"
        if output_units is not None and loss_name != "sparse_categorical_crossentropy":
            return "categorical_accuracy"
        return _ACCURACY_FOR_LOSS.get(loss_name, "categorical_accuracy")
    if key in METRICS:
        return key
    if key.startswith("binary_accuracy" + _THRESHOLD_SEPARATOR):
        _parse(key)  # raises for a threshold that is not a number
        return key
    known = sorted(set(METRICS) | set(_ALIASES) | {"accuracy"})
    raise ValueError(f"metric must be one of {known} or a metric object, got {identifier!r}")


def display_name(identifier) -> str:
    """The key logs and History use: a string as given, else the object's ``name`` (as Keras 3)."""
    if isinstance(identifier, str):
        return identifier
    metric = _as_metric(identifier)
    if metric is not None:
        return metric.name
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]
    raise ValueError(f"metric must be a name or a metric object, got {type(identifier).__name__}: {identifier!r}")


def _values_and_weight(canonical: str, y_true, y_pred, sample_weight):
    """Per-position values ``y_pred.shape[:-1]`` and the weight broadcastable to them."""
    fn, kwargs = _parse(canonical)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    # Sparse labels are checked by sparse_labels(); elsewhere silent broadcasting of (N,)
    # against (N, 1) would compare every pair.
    if fn is not sparse_categorical_accuracy and y_true.shape != y_pred.shape:
        raise ValueError(
            f"metric {canonical} needs y_true of the shape of y_pred {y_pred.shape}, got {y_true.shape}"
        )
    values = fn(y_true, y_pred, **kwargs)
    if sample_weight is None:
        return values, np.ones((), values.dtype)
    weight = np.asarray(sample_weight, dtype=values.dtype)
    if weight.shape != values.shape[:1]:
        raise ValueError(f"sample_weight must have shape {values.shape[:1]} (one weight per sample), got {weight.shape}")
    return values, weight.reshape(weight.shape + (1,) * (values.ndim - 1))


def compute(canonical: str, y_true, y_pred, sample_weight=None, mask=None) -> float:
    """The mean over positions of a metric, before `finalize`.

    Args:
        canonical: a name from `resolve`.
        y_true: targets (integer labels for ``sparse_categorical_accuracy``).
        y_pred: predictions ``(..., U)``.
        sample_weight: optional ``(B,)``; the mean becomes
            ``sum_b w_b * sum_p v_bp / (sum_b w_b * positions_per_sample)``, as the JAX path
            (``metric_value``) and Keras' metric objects compute it. Weight-0 samples
            contribute exactly 0, even when not finite.
        mask: optional bool array shaped like the positions (``y_pred.shape[:-1]``), e.g. an
            output's ``(B, T)`` mask: the mean is over the unmasked positions only, as Keras
            weights a metric by ``y_pred``'s mask (0 when none is unmasked).

    Returns:
        A float; for ``root_mean_squared_error``, the mean squared error.
    """
    values, weight = _values_and_weight(canonical, y_true, y_pred, sample_weight)
    if mask is not None and np.shape(mask) == values.shape:
        weight = np.broadcast_to(weight, values.shape) * np.asarray(mask, values.dtype)
        total = np.sum(np.where(weight != 0, values * weight, 0))
        count = np.sum(weight)
        return float(total / count) if count else 0.0
    if sample_weight is None:
        return float(np.mean(values))
    total = np.sum(np.where(weight != 0, values * weight, 0))
    return float(total / (np.sum(weight) * (values.size // max(values.shape[0], 1))))


def finalize(canonical: str, value: float) -> float:
    """The reported value from a mean of `compute` values: ``sqrt`` for RMSE, else ``value``."""
    value = float(value)
    if canonical == "root_mean_squared_error":
        return math.sqrt(value) if value >= 0 else math.nan
    return value
