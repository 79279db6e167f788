"""Losses for ``model.compile(loss=...)``: names, `Loss` objects, or Keras 3 style classes.

The classes (`MeanSquaredError`, `BinaryCrossentropy(from_logits=True)`, ...) are `Loss`
subclasses, so everything that accepts a `Loss` accepts them, and an instance compares equal to
the plain `Loss` of the same kind: ``MeanSquaredError() == Loss("mse")``. Their ``.name`` is the
canonical loss kind that training reads; the Keras ``name=`` argument is kept as
``display_name``.

The snake_case functions (`mean_squared_error`, `binary_crossentropy`, `huber`, ...) return
per-sample values, shape ``y_pred.shape[:-1]``, like Keras' loss functions.

Keras' arguments beyond ``from_logits`` (``Huber(delta)``, ``label_smoothing``,
``CosineSimilarity(axis)``, the focal ``alpha``/``gamma``/``apply_class_balancing``) are the
loss' ``options``; options this package does not implement (``reduction`` other than the
default, ``axis`` other than -1 for the cross-entropies, ``ignore_class``) raise
``NotImplementedError`` naming them.

Examples:
    >>> import numpy as np
    >>> BinaryCrossentropy(from_logits=True) == Loss("binary_crossentropy", from_logits=True)
    True
    >>> MeanSquaredError()(np.zeros((2, 1)), np.ones((2, 1)))
    1.0
    >>> Huber(delta=0.5) == Loss("huber", options={"delta": 0.5})
    True
    >>> round(Huber(delta=0.5)(np.zeros((1, 2)), np.array([[0.25, 2.0]])), 6)
    0.453125
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._numpy.losses import FROM_LOGITS, OPTIONS, Loss, get_loss

__all__ = [
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "get",
    "get_loss",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mae",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "poisson",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]

DEFAULT_REDUCTION = "sum_over_batch_size"
# Keras' accepted values; "mean" is Keras' synonym of the default (same sum / element count).
_SAME_AS_DEFAULT = {DEFAULT_REDUCTION, "mean"}
_KERAS_REDUCTIONS = {DEFAULT_REDUCTION, "mean", "sum", "none", None, "mean_with_sample_weight"}


def _check_reduction(reduction: object) -> str:
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


def _check_option(what: str, value: object, supported: object) -> None:
    # Keras arguments we accept for copied code, but only at their default.
    if value != supported or isinstance(value, bool):
        raise NotImplementedError(f"{what}={value!r} is not supported; only {what}={supported!r} is")


class _KerasLoss(Loss):
    """Shared behaviour of the Keras-style classes (not a dataclass: the fields stay Loss')."""

    _kind = ""  # canonical Loss name, set by each subclass
    _config_keys: tuple[str, ...] = ()  # the keys Keras' get_config() adds to name and reduction
    # Set by _setup with object.__setattr__ (the dataclass is frozen), not dataclass fields.
    reduction: str
    display_name: str
    dtype: Any

    if TYPE_CHECKING:  # every concrete subclass defines its own __init__, with Keras' defaults
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    def _setup(self, from_logits: object, reduction: object, name: object, dtype: Any, **options: Any) -> None:
        if not isinstance(from_logits, (bool, np.bool_)):
            raise ValueError(f"from_logits must be True or False, got {from_logits!r}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise ValueError(f"dtype must be a float dtype or None, got {dtype!r}")
        Loss.__init__(self, self._kind, bool(from_logits), options)
        # Not dataclass fields: equality, hashing and get_config() stay those of Loss.
        object.__setattr__(self, "reduction", _check_reduction(reduction))
        object.__setattr__(self, "display_name", name)
        object.__setattr__(self, "dtype", dtype)

    # Equal to the plain Loss of the same kind, whatever the class (dataclass __eq__ is per class).
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Loss):
            return NotImplemented
        return (self.name, self.from_logits, self.options) == (other.name, other.from_logits, other.options)

    def __hash__(self) -> int:
        return hash((self.name, self.from_logits, self.options))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.keras_config().items() if k != "reduction")
        return f"{type(self).__name__}({args})"

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
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

    def keras_config(self) -> dict[str, Any]:
        """The Keras-style constructor arguments (``get_config()`` stays the `Loss` one)."""
        config: dict[str, Any] = {"name": self.display_name, "reduction": self.reduction}
        options = {"from_logits": self.from_logits, "axis": -1, **OPTIONS.get(self._kind, {}), **dict(self.options)}
        config.update({key: options[key] for key in self._config_keys})
        return config


class MeanSquaredError(_KerasLoss):
    """Mean of ``(y_pred - y_true) ** 2`` over the last axis, averaged over positions.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> MeanSquaredError()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]])   # (0.5 + 0.5) / 2
        0.5
    """

    _kind = "mean_squared_error"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "mean_squared_error",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class MeanAbsoluteError(_KerasLoss):
    """Mean of ``|y_pred - y_true|`` over the last axis, averaged over positions.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> MeanAbsoluteError()([[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 0.0]])   # (0.5 + 0.5) / 2
        0.5
    """

    _kind = "mean_absolute_error"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "mean_absolute_error",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class MeanAbsolutePercentageError(_KerasLoss):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 5.0]])   # 100 * (1/2 + 1/4) / 2
        37.5
    """

    _kind = "mean_absolute_percentage_error"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "mean_absolute_percentage_error",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class MeanSquaredLogarithmicError(_KerasLoss):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2)`` over the last axis.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> MeanSquaredLogarithmicError()([[1.0, 3.0]], [[0.0, 3.0]])   # (log 1 - log 2) ** 2 / 2
        0.240226
    """

    _kind = "mean_squared_logarithmic_error"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "mean_squared_logarithmic_error",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class CosineSimilarity(_KerasLoss):
    """``-sum(unit(y_true) * unit(y_pred))`` along ``axis`` (a zero vector counts as 0).

    Args:
        axis: the feature axis the similarity runs along (any axis but the batch axis).
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> CosineSimilarity()([[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [1.0, 0.0]])   # (-1 + 0) / 2
        -0.5
    """

    _kind = "cosine_similarity"
    _config_keys = ("axis",)

    def __init__(self, axis: int = -1, reduction: str = DEFAULT_REDUCTION, name: str | None = "cosine_similarity",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype, axis=axis)


class Huber(_KerasLoss):
    """Mean over the last axis of ``0.5 e^2`` where ``|e| <= delta``, else ``delta |e| - 0.5 delta^2``.

    Args:
        delta: where the loss turns from quadratic to linear (> 0).
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> Huber()([[0.0, 0.0]], [[0.5, 3.0]])   # (0.5 * 0.5**2 + (3 - 0.5)) / 2
        1.3125
    """

    _kind = "huber"
    _config_keys = ("delta",)

    def __init__(self, delta: float = 1.0, reduction: str = DEFAULT_REDUCTION, name: str | None = "huber_loss",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype, delta=delta)


class LogCosh(_KerasLoss):
    """Mean over the last axis of ``log(cosh(y_pred - y_true))``.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> LogCosh()([[0.0, 0.0]], [[1.0, -1.0]])   # log(cosh(1))
        0.433781
    """

    _kind = "log_cosh"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "log_cosh", dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class Hinge(_KerasLoss):
    """Mean over the last axis of ``max(1 - y_true * y_pred, 0)``.

    Labels are -1 / 1; if every label of the batch is 0 or 1 they are mapped to -1 / 1 first.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> Hinge()([[1.0], [-1.0]], [[0.3], [-2.0]])   # (max(1 - 0.3, 0) + max(1 - 2, 0)) / 2
        0.35
        >>> Hinge()([[1.0], [0.0]], [[0.3], [-2.0]])    # 0/1 labels become 1/-1
        0.35
    """

    _kind = "hinge"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "hinge", dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class SquaredHinge(_KerasLoss):
    """Mean over the last axis of ``max(1 - y_true * y_pred, 0) ** 2`` (labels as for `Hinge`).

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> SquaredHinge()([[1.0], [-1.0]], [[0.3], [-2.0]])   # (0.7**2 + 0) / 2
        0.245
    """

    _kind = "squared_hinge"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "squared_hinge",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class CategoricalHinge(_KerasLoss):
    """``max(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)``, ``neg = max((1 - y_true) * y_pred)``.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> y_true, y_pred = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[0.05, 0.9, 0.05], [0.1, 0.2, 0.7]]
        >>> CategoricalHinge()(y_true, y_pred)   # (max(0.05 - 0.9 + 1, 0) + max(0.2 - 0.7 + 1, 0)) / 2
        0.325
    """

    _kind = "categorical_hinge"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "categorical_hinge",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class KLDivergence(_KerasLoss):
    """``sum(y * log(y / p))`` over the last axis, with ``y`` and ``p`` clipped to ``[1e-7, 1]``.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> KLDivergence()([[0.5, 0.5]], [[0.9, 0.1]])   # 0.5 log(0.5 / 0.9) + 0.5 log(0.5 / 0.1)
        0.510826
    """

    _kind = "kl_divergence"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "kl_divergence",
                 dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class Poisson(_KerasLoss):
    """Mean over the last axis of ``y_pred - y_true * log(y_pred + 1e-7)``.

    Args:
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> Poisson()([[1.0, 2.0]], [[1.0, 2.0]])   # (1 - log 1 + 2 - 2 log 2) / 2
        0.806853
    """

    _kind = "poisson"

    def __init__(self, reduction: str = DEFAULT_REDUCTION, name: str | None = "poisson", dtype: Any = None) -> None:
        self._setup(False, reduction, name, dtype)


class BinaryCrossentropy(_KerasLoss):
    """Binary cross-entropy, mean over the last axis, averaged over positions.

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; labels become ``y * (1 - ls) + ls / 2``.
        axis: only ``-1`` is supported.
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> BinaryCrossentropy()([[1.0], [0.0]], [[0.8], [0.4]])   # -(log 0.8 + log 0.6) / 2
        0.366985
        >>> BinaryCrossentropy(from_logits=True)([[1.0], [0.0]], [[2.0], [-1.0]])   # sigmoid inside
        0.220095
    """

    _kind = "binary_crossentropy"
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str = DEFAULT_REDUCTION, name: str | None = "binary_crossentropy",
                 dtype: Any = None) -> None:
        _check_option("axis", axis, -1)
        self._setup(from_logits, reduction, name, dtype, label_smoothing=label_smoothing)


class BinaryFocalCrossentropy(_KerasLoss):
    """Focal binary cross-entropy (Lin et al., 2018), mean over the last axis.

    ``(1 - p_t) ** gamma * bce`` with ``p_t = y p + (1 - y)(1 - p)``, times ``alpha`` for class 1
    and ``1 - alpha`` for class 0 with ``apply_class_balancing``. With ``from_logits`` the
    logits go through a sigmoid first, and the cross-entropy clips the probabilities, as Keras.

    Args:
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: the class-1 weight, in ``[0, 1]``.
        gamma: the focusing power, ``>= 0`` (0 gives the binary cross-entropy).
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; labels become ``y * (1 - ls) + ls / 2``.
        axis: only ``-1`` is supported.
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> BinaryFocalCrossentropy(gamma=2.0)([[1.0], [0.0]], [[0.8], [0.4]])   # -(0.2**2 log 0.8 + 0.4**2 log 0.6) / 2
        0.045329
    """

    _kind = "binary_focal_crossentropy"
    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma")

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str = DEFAULT_REDUCTION, name: str | None = "binary_focal_crossentropy",
                 dtype: Any = None) -> None:
        _check_option("axis", axis, -1)
        self._setup(
            from_logits, reduction, name, dtype,
            apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma, label_smoothing=label_smoothing,
        )


class CategoricalCrossentropy(_KerasLoss):
    """Categorical cross-entropy over the last (class) axis, averaged over positions.

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; labels become ``y * (1 - ls) + ls / classes``.
        axis: only ``-1`` is supported.
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> y_true, y_pred = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[0.05, 0.9, 0.05], [0.1, 0.2, 0.7]]
        >>> CategoricalCrossentropy()(y_true, y_pred)   # -(log 0.9 + log 0.7) / 2
        0.231018
    """

    _kind = "categorical_crossentropy"
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str = DEFAULT_REDUCTION, name: str | None = "categorical_crossentropy",
                 dtype: Any = None) -> None:
        _check_option("axis", axis, -1)
        self._setup(from_logits, reduction, name, dtype, label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(_KerasLoss):
    """Categorical cross-entropy with integer labels ``y_pred.shape[:-1]`` (or a trailing 1).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        ignore_class: only ``None`` is supported.
        reduction: only ``"sum_over_batch_size"`` (the default) or its synonym ``"mean"``.
        axis: only ``-1`` is supported.
        name: the Keras name, kept as ``display_name``.
        dtype: accepted for Keras compatibility; the computation follows the inputs' dtype.

    Examples:
        >>> SparseCategoricalCrossentropy()([1, 2], [[0.05, 0.9, 0.05], [0.1, 0.2, 0.7]])   # -(log 0.9 + log 0.7) / 2
        0.231018
    """

    _kind = "sparse_categorical_crossentropy"
    _config_keys = ("from_logits",)

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, reduction: str = DEFAULT_REDUCTION,
                 axis: int = -1, name: str | None = "sparse_categorical_crossentropy", dtype: Any = None) -> None:
        _check_option("ignore_class", ignore_class, None)
        _check_option("axis", axis, -1)
        self._setup(from_logits, reduction, name, dtype)


_CLASSES = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        CosineSimilarity,
        Huber,
        LogCosh,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        KLDivergence,
        Poisson,
        BinaryCrossentropy,
        BinaryFocalCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
    )
}
_CLASS_OF_KIND = {cls._kind: cls for cls in _CLASSES.values()}


# --- Keras' loss functions: per-sample values ---------------------------------------------------
def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample mean squared error, shape ``y_pred.shape[:-1]``."""
    return Loss("mean_squared_error").per_position(y_true, y_pred)


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample mean absolute error, shape ``y_pred.shape[:-1]``."""
    return Loss("mean_absolute_error").per_position(y_true, y_pred)


def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample mean absolute percentage error, shape ``y_pred.shape[:-1]``."""
    return Loss("mean_absolute_percentage_error").per_position(y_true, y_pred)


def mean_squared_logarithmic_error(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample mean squared logarithmic error, shape ``y_pred.shape[:-1]``."""
    return Loss("mean_squared_logarithmic_error").per_position(y_true, y_pred)


def cosine_similarity(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> np.ndarray:
    """Per-sample negative cosine similarity along ``axis``."""
    return CosineSimilarity(axis=axis).per_position(y_true, y_pred)


def huber(y_true: ArrayLike, y_pred: ArrayLike, delta: float = 1.0) -> np.ndarray:
    """Per-sample Huber loss, shape ``y_pred.shape[:-1]``."""
    return Huber(delta=delta).per_position(y_true, y_pred)


def log_cosh(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample log-cosh error, shape ``y_pred.shape[:-1]``."""
    return Loss("log_cosh").per_position(y_true, y_pred)


def hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample hinge loss, shape ``y_pred.shape[:-1]``."""
    return Loss("hinge").per_position(y_true, y_pred)


def squared_hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample squared hinge loss, shape ``y_pred.shape[:-1]``."""
    return Loss("squared_hinge").per_position(y_true, y_pred)


def categorical_hinge(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample categorical hinge loss, shape ``y_pred.shape[:-1]``."""
    return Loss("categorical_hinge").per_position(y_true, y_pred)


def kl_divergence(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample Kullback-Leibler divergence, shape ``y_pred.shape[:-1]``."""
    return Loss("kl_divergence").per_position(y_true, y_pred)


def poisson(y_true: ArrayLike, y_pred: ArrayLike) -> np.ndarray:
    """Per-sample Poisson loss, shape ``y_pred.shape[:-1]``."""
    return Loss("poisson").per_position(y_true, y_pred)


def binary_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> np.ndarray:
    """Per-sample binary cross-entropy (mean over the last axis), shape ``y_pred.shape[:-1]``."""
    return BinaryCrossentropy(from_logits, label_smoothing, axis).per_position(y_true, y_pred)


def binary_focal_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> np.ndarray:
    """Per-sample binary focal cross-entropy (mean over the last axis), shape ``y_pred.shape[:-1]``."""
    loss = BinaryFocalCrossentropy(apply_class_balancing, alpha, gamma, from_logits, label_smoothing, axis)
    return loss.per_position(y_true, y_pred)


def categorical_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> np.ndarray:
    """Per-sample categorical cross-entropy, shape ``y_pred.shape[:-1]``."""
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).per_position(y_true, y_pred)


def sparse_categorical_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> np.ndarray:
    """Per-sample categorical cross-entropy from integer labels, shape ``y_pred.shape[:-1]``."""
    loss = SparseCategoricalCrossentropy(from_logits, ignore_class, axis=axis)
    return loss.per_position(y_true, y_pred)


# Short names tf.keras had as attributes (Keras 3 keeps them as strings only).
mse = mean_squared_error
mae = mean_absolute_error

_FUNCTIONS = {
    function: function.__name__
    for function in (
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        cosine_similarity,
        huber,
        log_cosh,
        hinge,
        squared_hinge,
        categorical_hinge,
        kl_divergence,
        poisson,
        binary_crossentropy,
        binary_focal_crossentropy,
        categorical_crossentropy,
        sparse_categorical_crossentropy,
    )
}


def get(identifier: Any) -> Loss:
    """A `Loss` for ``compile``, from any identifier Keras accepts for these losses.

    Args:
        identifier: a name (``"mse"``, ``"mean_squared_error"``, ``"MeanSquaredError"``,
            ``"huber"``, ...), a `Loss` (returned as is), a class such as `Huber`
            (instantiated), one of this module's loss functions, a Keras config dict
            ``{"class_name": ..., "config": {...}}`` (as ``keras.losses.serialize`` writes), or a
            `Loss.get_config` dict.

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


def serialize(loss: Any) -> dict[str, Any]:
    """A JSON-able Keras-style config of ``loss`` that `get` rebuilds.

    Args:
        loss: anything `get` accepts.

    Returns:
        ``{"class_name": ..., "config": {...}}`` for the Keras-style classes (a plain `Loss` is
        written as its class), which ``keras.losses.deserialize`` also reads.
    """
    loss = get(loss)
    if not isinstance(loss, _KerasLoss):
        arguments = dict(loss.options)
        if loss.name in FROM_LOGITS:
            arguments["from_logits"] = loss.from_logits
        loss = _CLASS_OF_KIND[loss.name](**arguments)
    return {"class_name": type(loss).__name__, "config": loss.keras_config()}
