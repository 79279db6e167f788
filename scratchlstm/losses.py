"""Losses for ``model.compile(loss=...)``: names, `Loss` objects, or Keras 3 style classes.

The classes (`MeanSquaredError`, `BinaryCrossentropy(from_logits=True)`, ...) are `Loss`
subclasses, so everything that accepts a `Loss` accepts them, and an instance compares equal to
the plain `Loss` of the same kind: ``MeanSquaredError() == Loss("mse")``. Their ``.name`` is the
canonical loss kind that training reads; the Keras ``name=`` argument is kept as
``display_name``.

The snake_case functions (`mean_squared_error`, `binary_crossentropy`, ...) return per-sample
values, shape ``y_pred.shape[:-1]``, like Keras' loss functions.

Examples:
    >>> import numpy as np
    >>> BinaryCrossentropy(from_logits=True) == Loss("binary_crossentropy", from_logits=True)
    True
    >>> MeanSquaredError()(np.zeros((2, 1)), np.ones((2, 1)))
    1.0
"""

from __future__ import annotations

import numpy as np

from ._numpy.losses import Loss, get_loss

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "get",
    "get_loss",
    "mae",
    "mean_absolute_error",
    "mean_squared_error",
    "mse",
    "serialize",
    "sparse_categorical_crossentropy",
]

DEFAULT_REDUCTION = "sum_over_batch_size"
# Keras' accepted values; "mean" is Keras' synonym of the default (same sum / element count).
_SAME_AS_DEFAULT = {DEFAULT_REDUCTION, "mean"}
_KERAS_REDUCTIONS = {DEFAULT_REDUCTION, "mean", "sum", "none", None, "mean_with_sample_weight"}


def _check_reduction(reduction) -> str:
    if reduction in _SAME_AS_DEFAULT:
        return reduction
    if reduction in _KERAS_REDUCTIONS:
        raise NotImplementedError(
            f"reduction={reduction!r} is not supported; only the default "
            f"reduction={DEFAULT_REDUCTION!r} (or its synonym 'mean') is"
        )
    raise ValueError(
        f"reduction must be one of {sorted(map(str, _KERAS_REDUCTIONS))}, got {reduction!r}"
    )


def _check_option(what: str, value, supported) -> None:
    # Keras arguments we accept for copied code, but only at their default.
    if value != supported:
        raise NotImplementedError(f"{what}={value!r} is not supported; only {what}={supported!r} is")


class _KerasLoss(Loss):
    """Shared behaviour of the Keras-style classes (not a dataclass: the fields stay Loss')."""

    _kind = ""  # canonical Loss name, set by each subclass

    def _setup(self, from_logits, reduction, name, dtype) -> None:
        if not isinstance(from_logits, (bool, np.bool_)):
            raise ValueError(f"from_logits must be True or False, got {from_logits!r}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise ValueError(f"dtype must be a float dtype or None, got {dtype!r}")
        Loss.__init__(self, self._kind, bool(from_logits))
        # Not dataclass fields: equality, hashing and get_config() stay those of Loss.
        object.__setattr__(self, "reduction", _check_reduction(reduction))
        object.__setattr__(self, "display_name", name)
        object.__setattr__(self, "dtype", dtype)

    # Equal to the plain Loss of the same kind, whatever the class (dataclass __eq__ is per class).
    def __eq__(self, other):
        if not isinstance(other, Loss):
            return NotImplemented
        return (self.name, self.from_logits) == (other.name, other.from_logits)

    def __hash__(self):
        return hash((self.name, self.from_logits))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.keras_config().items() if k != "reduction")
        return f"{type(self).__name__}({args})"

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """The loss over the batch (Keras' ``sum_over_batch_size``).

        Args:
            y_true: targets (integer labels for the sparse loss).
            y_pred: predictions ``(..., U)``.
            sample_weight: optional weights of shape ``(B,)`` (one per sample) or of the
                per-position shape ``y_pred.shape[:-1]``. As in Keras, the weighted sum is
                divided by the number of positions, not by the sum of the weights.
        """
        values = self.per_position(y_true, y_pred)
        if sample_weight is None:
            return float(np.mean(values))
        weight = np.asarray(sample_weight, dtype=values.dtype)
        if weight.shape != values.shape[: weight.ndim] or weight.ndim == 0:
            raise ValueError(
                f"sample_weight must have shape {values.shape[:1]} or {values.shape}, got {weight.shape}"
            )
        weight = weight.reshape(weight.shape + (1,) * (values.ndim - weight.ndim))
        return float(np.sum(values * weight) / values.size)

    def keras_config(self) -> dict:
        """The Keras-style constructor arguments (``get_config()`` stays the `Loss` one)."""
        config = {"name": self.display_name, "reduction": self.reduction}
        if self._kind not in ("mean_squared_error", "mean_absolute_error"):
            config["from_logits"] = self.from_logits
        return config


class MeanSquaredError(_KerasLoss):
    """Mean of ``(y_pred - y_true) ** 2`` over the last axis, averaged over positions.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.
    """

    _kind = "mean_squared_error"

    def __init__(self, reduction=DEFAULT_REDUCTION, name="mean_squared_error", dtype=None):
        self._setup(False, reduction, name, dtype)


class MeanAbsoluteError(_KerasLoss):
    """Mean of ``|y_pred - y_true|`` over the last axis, averaged over positions.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.
    """

    _kind = "mean_absolute_error"

    def __init__(self, reduction=DEFAULT_REDUCTION, name="mean_absolute_error", dtype=None):
        self._setup(False, reduction, name, dtype)


class BinaryCrossentropy(_KerasLoss):
    """Binary cross-entropy, mean over the last axis, averaged over positions.

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: only ``0.0`` is supported.
        axis: only ``-1`` is supported.
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.
    """

    _kind = "binary_crossentropy"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=DEFAULT_REDUCTION,
        name="binary_crossentropy",
        dtype=None,
    ):
        _check_option("label_smoothing", label_smoothing, 0.0)
        _check_option("axis", axis, -1)
        self._setup(from_logits, reduction, name, dtype)


class CategoricalCrossentropy(_KerasLoss):
    """Categorical cross-entropy over the last (class) axis, averaged over positions.

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: only ``0.0`` is supported.
        axis: only ``-1`` is supported.
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.
    """

    _kind = "categorical_crossentropy"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction=DEFAULT_REDUCTION,
        name="categorical_crossentropy",
        dtype=None,
    ):
        _check_option("label_smoothing", label_smoothing, 0.0)
        _check_option("axis", axis, -1)
        self._setup(from_logits, reduction, name, dtype)


class SparseCategoricalCrossentropy(_KerasLoss):
    """Categorical cross-entropy with integer labels ``y_pred.shape[:-1]`` (or a trailing 1).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        ignore_class: only ``None`` is supported.
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        axis: only ``-1`` is supported.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.
    """

    _kind = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction=DEFAULT_REDUCTION,
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        _check_option("ignore_class", ignore_class, None)
        _check_option("axis", axis, -1)
        self._setup(from_logits, reduction, name, dtype)


_CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}


# --- Keras' loss functions: per-sample values ---------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error, shape ``y_pred.shape[:-1]``."""
    return Loss("mean_squared_error").per_position(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error, shape ``y_pred.shape[:-1]``."""
    return Loss("mean_absolute_error").per_position(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy (mean over the last axis), shape ``y_pred.shape[:-1]``."""
    return BinaryCrossentropy(from_logits, label_smoothing, axis).per_position(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample categorical cross-entropy, shape ``y_pred.shape[:-1]``."""
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).per_position(y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Per-sample categorical cross-entropy from integer labels, shape ``y_pred.shape[:-1]``."""
    loss = SparseCategoricalCrossentropy(from_logits, ignore_class, axis=axis)
    return loss.per_position(y_true, y_pred)


# Short names tf.keras had as attributes (Keras 3 keeps them as strings only).
mse = mean_squared_error
mae = mean_absolute_error

_FUNCTIONS = {
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
    binary_crossentropy: "binary_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
}


def get(identifier) -> Loss:
    """A `Loss` for ``compile``, from any identifier Keras accepts for these losses.

    Args:
        identifier: a name (``"mse"``, ``"mean_squared_error"``, ``"MeanSquaredError"``, ...), a
            `Loss` (returned as is), a class such as `MeanSquaredError` (instantiated), one of
            this module's loss functions, a Keras config dict ``{"class_name": ..., "config":
            {...}}`` (as ``keras.losses.serialize`` writes), or a `Loss.get_config` dict.

    Returns:
        A `Loss` (a Keras-style subclass for class names, class configs and classes).

    Raises:
        ValueError: for an unknown name or an identifier of another type.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, _KerasLoss) and identifier is not _KerasLoss:
        return identifier()
    if isinstance(identifier, str) and identifier in _CLASSES:
        return _CLASSES[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        class_name = identifier["class_name"]
        if class_name not in _CLASSES:
            raise ValueError(f"loss class_name must be one of {sorted(_CLASSES)}, got {class_name!r}")
        config = identifier.get("config") or {}
        if not isinstance(config, dict):
            raise ValueError(f"loss config must be a dict, got {type(config).__name__}: {config!r}")
        return _CLASSES[class_name](**config)
    if callable(identifier) and identifier in _FUNCTIONS:
        return Loss(_FUNCTIONS[identifier])
    return get_loss(identifier)


def serialize(loss) -> dict:
    """A JSON-able Keras-style config of ``loss`` that `get` rebuilds.

    Args:
        loss: anything `get` accepts.

    Returns:
        ``{"class_name": ..., "config": {...}}`` for the Keras-style classes (a plain `Loss` is
        written as its class), which ``keras.losses.deserialize`` also reads.
    """
    loss = get(loss)
    if not isinstance(loss, _KerasLoss):
        cls = next(c for c in _CLASSES.values() if c._kind == loss.name)
        loss = cls(**({} if cls._kind.startswith("mean") else {"from_logits": loss.from_logits}))
    return {"class_name": type(loss).__name__, "config": loss.keras_config()}
