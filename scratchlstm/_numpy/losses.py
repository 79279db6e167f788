"""Losses, each value rule next to its gradient rule.

Every loss is computed per position and averaged: a position is one row of the leading axes
(``B`` rows for ``(B, U)`` predictions, ``B*T`` rows for ``(B, T, U)``), as Keras' default
``sum_over_batch_size`` reduction does. ``loss_value(y_true, y_pred)`` returns that mean;
``loss_gradient(y_true, y_pred)`` returns ``d mean / d y_pred`` with the shape of ``y_pred``.

Cross-entropies on probabilities clip them to ``[EPSILON, 1 - EPSILON]`` (Keras' epsilon) so
that ``log`` never sees 0; with ``from_logits=True`` they use the log-sum-exp form, which is
exact and stable for any logit.

Each rule is ``rule(y_true, y_pred, from_logits=False, **options)``; the options are Keras'
arguments of that loss (``delta`` for Huber, ``label_smoothing``, ...), listed with their
defaults in ``OPTIONS``. A gradient rule returns ``d per_position / d y_pred`` (each position's
value differentiated by its own predictions); `Loss.gradient` divides by the positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

EPSILON = 1e-7


# --- mean squared error: mean over the last axis of (p - y)^2 ---------------------------------
def mse_per_position(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    # arrays of either backend (a jax array stays one); the public metrics.mean_squared_error takes lists
    loss: NDArray[Any] = np.mean((y_pred - y_true) ** 2, axis=-1)
    return loss


def mse_gradient(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    gradient: NDArray[Any] = 2.0 * (y_pred - y_true) / y_pred.shape[-1]
    return gradient


# --- mean absolute error: mean over the last axis of |p - y| ----------------------------------
def mae_per_position(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    # arrays of either backend (a jax array stays one); the public metrics.mean_absolute_error takes lists
    loss: NDArray[Any] = np.mean(np.abs(y_pred - y_true), axis=-1)
    return loss


def mae_gradient(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    gradient: NDArray[Any] = np.sign(y_pred - y_true) / y_pred.shape[-1]
    return gradient


# --- binary cross-entropy, mean over the last axis --------------------------------------------
def _smooth_binary(y_true: NDArray[Any], label_smoothing: float) -> NDArray[Any]:
    # Keras squeezes binary labels towards 0.5: y (1 - ls) + ls / 2.
    return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def binary_crossentropy_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, label_smoothing: float = 0.0,
) -> NDArray[Any]:
    y_true = _smooth_binary(y_true, label_smoothing)
    if from_logits:
        # -[y log s(z) + (1-y) log(1-s(z))] = max(z, 0) - z*y + log(1 + exp(-|z|))
        z = y_pred
        elementwise = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
    else:
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        elementwise = -(y_true * np.log(p) + (1 - y_true) * np.log1p(-p))
    loss: NDArray[Any] = np.mean(elementwise, axis=-1)
    return loss


def binary_crossentropy_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, label_smoothing: float = 0.0,
) -> NDArray[Any]:
    y_true = _smooth_binary(y_true, label_smoothing)
    n = y_pred.shape[-1]
    if from_logits:
        sigmoid = 0.5 * (1 + np.tanh(0.5 * y_pred))
        gradient: NDArray[Any] = (sigmoid - y_true) / n
        return gradient
    inside = (y_pred > EPSILON) & (y_pred < 1 - EPSILON)  # the clip has zero slope outside
    p = np.clip(y_pred, EPSILON, 1 - EPSILON)
    gradient = inside * (-(y_true / p) + (1 - y_true) / (1 - p)) / n
    return gradient


# --- categorical cross-entropy over the last (class) axis --------------------------------------
def _log_softmax(logits: NDArray[Any]) -> NDArray[Any]:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities: NDArray[Any] = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return log_probabilities


def _smooth_categorical(y_true: NDArray[Any], label_smoothing: float) -> NDArray[Any]:
    # Keras spreads ls over the C classes: y (1 - ls) + ls / C.
    return y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1] if label_smoothing else y_true


def categorical_crossentropy_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, label_smoothing: float = 0.0,
) -> NDArray[Any]:
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        loss: NDArray[Any] = -np.sum(y_true * _log_softmax(y_pred), axis=-1)
        return loss
    # Keras renormalises the probabilities, then clips them.
    p = y_pred / np.sum(y_pred, axis=-1, keepdims=True)
    loss = -np.sum(y_true * np.log(np.clip(p, EPSILON, 1 - EPSILON)), axis=-1)
    return loss


def categorical_crossentropy_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, label_smoothing: float = 0.0,
) -> NDArray[Any]:
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        softmax = np.exp(_log_softmax(y_pred))
        gradient: NDArray[Any] = softmax * np.sum(y_true, axis=-1, keepdims=True) - y_true
        return gradient
    total = np.sum(y_pred, axis=-1, keepdims=True)
    p = y_pred / total
    inside = (p > EPSILON) & (p < 1 - EPSILON)
    d_p = -(inside * y_true) / np.clip(p, EPSILON, 1 - EPSILON)  # d loss / d p
    # p = y / sum(y): d p_j / d y_k = (delta_jk - p_j) / total
    gradient = (d_p - np.sum(d_p * p, axis=-1, keepdims=True)) / total
    return gradient


# --- sparse categorical cross-entropy: integer labels ------------------------------------------
def _one_hot(labels: ArrayLike, num_classes: int, dtype: DTypeLike) -> NDArray[Any]:
    labels = np.asarray(labels)
    one_hot: NDArray[Any] = (labels[..., None] == np.arange(num_classes)).astype(dtype)
    return one_hot


def sparse_labels(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[Any]:
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of 1 is dropped)."""
    return check_sparse_labels(y_true, np.shape(y_pred))


def check_sparse_labels(y_true: ArrayLike, prediction_shape: Iterable[int]) -> NDArray[Any]:
    """Validate integer labels for predictions of ``prediction_shape`` ``(..., classes)``.

    Returns the labels as int64 of shape ``prediction_shape[:-1]``; raises ``ValueError`` naming
    the expected and received shape or value range.
    """
    prediction_shape = tuple(prediction_shape)
    labels = np.asarray(y_true)
    if labels.ndim == len(prediction_shape) and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != prediction_shape[:-1]:
        raise ValueError(
            f"sparse labels must have shape {prediction_shape[:-1]} (or with a trailing 1) for "
            f"predictions of shape {prediction_shape}, got {np.asarray(y_true).shape}"
        )
    classes = prediction_shape[-1]
    if labels.size and (np.any(labels != np.round(labels)) or labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"sparse labels must be integers in [0, {classes - 1}], got values in "
            f"[{labels.min()}, {labels.max()}]"
        )
    return labels.astype(np.int64)


def sparse_categorical_crossentropy_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    one_hot = _one_hot(sparse_labels(y_true, y_pred), y_pred.shape[-1], y_pred.dtype)
    return categorical_crossentropy_per_position(one_hot, y_pred, from_logits)


def sparse_categorical_crossentropy_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    one_hot = _one_hot(sparse_labels(y_true, y_pred), y_pred.shape[-1], y_pred.dtype)
    return categorical_crossentropy_gradient(one_hot, y_pred, from_logits)


# --- mean absolute percentage error: 100 * mean |y - p| / max(|y|, eps) -------------------------
def mape_per_position(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    loss: NDArray[Any] = 100.0 * np.mean(np.abs(y_true - y_pred) / np.maximum(np.abs(y_true), EPSILON), axis=-1)
    return loss


def mape_gradient(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    gradient: NDArray[Any] = 100.0 * np.sign(y_pred - y_true) / np.maximum(np.abs(y_true), EPSILON) / y_pred.shape[-1]
    return gradient


# --- mean squared logarithmic error: mean (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2 ------
def msle_per_position(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    difference = np.log(np.maximum(y_pred, EPSILON) + 1) - np.log(np.maximum(y_true, EPSILON) + 1)
    loss: NDArray[Any] = np.mean(difference**2, axis=-1)
    return loss


def msle_gradient(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    shifted = np.maximum(y_pred, EPSILON) + 1
    difference = np.log(shifted) - np.log(np.maximum(y_true, EPSILON) + 1)
    # max(p, eps) is flat below eps
    gradient: NDArray[Any] = 2.0 * difference * (y_pred > EPSILON) / shifted / y_pred.shape[-1]
    return gradient


# --- Huber: e = p - y; 0.5 e^2 where |e| <= delta, delta |e| - 0.5 delta^2 elsewhere; mean -------
def huber_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, delta: float = 1.0,
) -> NDArray[Any]:
    error = y_pred - y_true
    inside = np.abs(error) <= delta
    loss: NDArray[Any] = np.mean(np.where(inside, 0.5 * error**2, delta * np.abs(error) - 0.5 * delta**2), axis=-1)
    return loss


def huber_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, delta: float = 1.0,
) -> NDArray[Any]:
    error = y_pred - y_true
    gradient: NDArray[Any] = np.where(np.abs(error) <= delta, error, delta * np.sign(error)) / y_pred.shape[-1]
    return gradient


# --- log-cosh: mean log(cosh(e)) = mean (e + softplus(-2e) - log 2), e = p - y ------------------
def log_cosh_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    error = y_pred - y_true
    softplus = np.maximum(-2 * error, 0) + np.log1p(np.exp(-np.abs(2 * error)))
    loss: NDArray[Any] = np.mean(error + softplus - np.log(2.0), axis=-1)
    return loss


def log_cosh_gradient(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    gradient: NDArray[Any] = np.tanh(y_pred - y_true) / y_pred.shape[-1]  # d log cosh(e) / de = tanh(e)
    return gradient


# --- Kullback-Leibler divergence: sum y' log(y' / p'), both clipped to [eps, 1] ----------------
def kl_divergence_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    t, p = np.clip(y_true, EPSILON, 1), np.clip(y_pred, EPSILON, 1)
    loss: NDArray[Any] = np.sum(t * np.log(t / p), axis=-1)
    return loss


def kl_divergence_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    inside = (y_pred > EPSILON) & (y_pred < 1)  # the clip has zero slope outside
    gradient: NDArray[Any] = -(inside * np.clip(y_true, EPSILON, 1)) / np.clip(y_pred, EPSILON, 1)
    return gradient


# --- Poisson: mean p - y log(p + eps) ----------------------------------------------------------
def poisson_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    loss: NDArray[Any] = np.mean(y_pred - y_true * np.log(y_pred + EPSILON), axis=-1)
    return loss


def poisson_gradient(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    gradient: NDArray[Any] = (1 - y_true / (y_pred + EPSILON)) / y_pred.shape[-1]
    return gradient


# --- hinge and squared hinge: mean max(1 - y p, 0) (squared) ------------------------------------
def hinge_labels(y_true: NDArray[Any]) -> NDArray[Any]:
    """Keras' label rule: if *every* label of the batch is 0 or 1, map them to -1 / 1; otherwise
    keep them (they are expected in {-1, 1})."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


def hinge_per_position(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    loss: NDArray[Any] = np.mean(np.maximum(1 - hinge_labels(y_true) * y_pred, 0), axis=-1)
    return loss


def hinge_gradient(y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False) -> NDArray[Any]:
    labels = hinge_labels(y_true)
    gradient: NDArray[Any] = -labels * (1 - labels * y_pred > 0) / y_pred.shape[-1]
    return gradient


def squared_hinge_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    loss: NDArray[Any] = np.mean(np.maximum(1 - hinge_labels(y_true) * y_pred, 0) ** 2, axis=-1)
    return loss


def squared_hinge_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    labels = hinge_labels(y_true)
    gradient: NDArray[Any] = -2 * labels * np.maximum(1 - labels * y_pred, 0) / y_pred.shape[-1]
    return gradient


# --- categorical hinge: max(neg - pos + 1, 0), pos = sum y p, neg = max (1 - y) p ----------------
def categorical_hinge_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    positive = np.sum(y_true * y_pred, axis=-1)
    negative = np.max((1 - y_true) * y_pred, axis=-1)
    loss: NDArray[Any] = np.maximum(negative - positive + 1, 0)
    return loss


def categorical_hinge_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
) -> NDArray[Any]:
    others = (1 - y_true) * y_pred
    top = others == others.max(axis=-1, keepdims=True)
    top = top / top.sum(axis=-1, keepdims=True)  # ties share the slope of the max, as jax.grad does
    active = categorical_hinge_per_position(y_true, y_pred) > 0
    gradient: NDArray[Any] = active[..., None] * (top * (1 - y_true) - y_true)
    return gradient


# --- cosine similarity: -sum(unit(y) * unit(p)) along axis ----------------------------------------
def _inverse_norm(v: NDArray[Any], axis: int) -> NDArray[Any]:
    # Keras 3.15's normalize: v * min(rsqrt(sum v^2), 1 / eps) = v / sqrt(max(sum v^2, eps^2))
    inverse: NDArray[Any] = 1.0 / np.sqrt(np.maximum(np.sum(v * v, axis=axis, keepdims=True), EPSILON**2))
    return inverse


def cosine_similarity_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, axis: int = -1,
) -> NDArray[Any]:
    t = y_true * _inverse_norm(y_true, axis)
    loss: NDArray[Any] = -np.sum(t * y_pred * _inverse_norm(y_pred, axis), axis=axis)
    return loss


def cosine_similarity_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False, axis: int = -1,
) -> NDArray[Any]:
    t = y_true * _inverse_norm(y_true, axis)
    squares = np.sum(y_pred * y_pred, axis=axis, keepdims=True)
    inverse = 1.0 / np.sqrt(np.maximum(squares, EPSILON**2))
    unit = y_pred * inverse
    # d(-t . p r)/dp = -r (t - u (t . u)) with u = p r; below the eps floor r is a constant.
    along = np.where(squares > EPSILON**2, np.sum(t * unit, axis=axis, keepdims=True), 0)
    gradient: NDArray[Any] = -inverse * (t - unit * along)
    return gradient


# --- binary focal cross-entropy -----------------------------------------------------------------
def binary_focal_crossentropy_per_position(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
    apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
    label_smoothing: float = 0.0,
) -> NDArray[Any]:
    """``mean(w * (1 - p_t)^gamma * bce)`` with ``p_t = y p + (1 - y)(1 - p)``, ``w = y alpha +
    (1 - y)(1 - alpha)`` when balancing. As Keras, logits go through a sigmoid first and the
    cross-entropy then clips the probabilities (no log-sum-exp form here)."""
    y_true = _smooth_binary(y_true, label_smoothing)
    p = 0.5 * (1 + np.tanh(0.5 * y_pred)) if from_logits else y_pred
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    bce = -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped))
    focal = (1 - (y_true * p + (1 - y_true) * (1 - p))) ** gamma * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    loss: NDArray[Any] = np.mean(focal, axis=-1)
    return loss


def binary_focal_crossentropy_gradient(
    y_true: NDArray[Any], y_pred: NDArray[Any], from_logits: bool = False,
    apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
    label_smoothing: float = 0.0,
) -> NDArray[Any]:
    y_true = _smooth_binary(y_true, label_smoothing)
    p = 0.5 * (1 + np.tanh(0.5 * y_pred)) if from_logits else y_pred
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    inside = (p > EPSILON) & (p < 1 - EPSILON)
    bce = -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped))
    d_bce = inside * ((1 - y_true) / (1 - clipped) - y_true / clipped)
    miss = 1 - (y_true * p + (1 - y_true) * (1 - p))  # 1 - p_t; d(1 - p_t)/dp = 1 - 2y
    d_p = miss**gamma * d_bce
    if gamma != 0:
        d_p = d_p + gamma * miss ** (gamma - 1) * (1 - 2 * y_true) * bce
    if apply_class_balancing:
        d_p = (y_true * alpha + (1 - y_true) * (1 - alpha)) * d_p
    if from_logits:
        d_p = d_p * p * (1 - p)
    gradient: NDArray[Any] = d_p / y_pred.shape[-1]
    return gradient


_RULES: dict[str, tuple[Callable[..., NDArray[Any]], Callable[..., NDArray[Any]]]] = {
    "mean_squared_error": (mse_per_position, mse_gradient),
    "mean_absolute_error": (mae_per_position, mae_gradient),
    "mean_absolute_percentage_error": (mape_per_position, mape_gradient),
    "mean_squared_logarithmic_error": (msle_per_position, msle_gradient),
    "huber": (huber_per_position, huber_gradient),
    "log_cosh": (log_cosh_per_position, log_cosh_gradient),
    "kl_divergence": (kl_divergence_per_position, kl_divergence_gradient),
    "poisson": (poisson_per_position, poisson_gradient),
    "hinge": (hinge_per_position, hinge_gradient),
    "squared_hinge": (squared_hinge_per_position, squared_hinge_gradient),
    "categorical_hinge": (categorical_hinge_per_position, categorical_hinge_gradient),
    "cosine_similarity": (cosine_similarity_per_position, cosine_similarity_gradient),
    "binary_crossentropy": (binary_crossentropy_per_position, binary_crossentropy_gradient),
    "binary_focal_crossentropy": (binary_focal_crossentropy_per_position, binary_focal_crossentropy_gradient),
    "categorical_crossentropy": (
        categorical_crossentropy_per_position,
        categorical_crossentropy_gradient,
    ),
    "sparse_categorical_crossentropy": (
        sparse_categorical_crossentropy_per_position,
        sparse_categorical_crossentropy_gradient,
    ),
}
ALIASES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "kld": "kl_divergence",
    "bce": "binary_crossentropy",
}
# Keras' arguments of each loss besides from_logits, with their defaults (``axis`` only where it
# can differ from -1 here). A Loss stores only the ones that differ from these.
OPTIONS: dict[str, dict[str, Any]] = {
    "binary_crossentropy": {"label_smoothing": 0.0},
    "categorical_crossentropy": {"label_smoothing": 0.0},
    "huber": {"delta": 1.0},
    "cosine_similarity": {"axis": -1},
    "binary_focal_crossentropy": {"apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0, "label_smoothing": 0.0},
}
# The losses whose y_pred may be logits (``from_logits`` is ignored by the others).
FROM_LOGITS = ("binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")


def canonical_name(name: object) -> str:
    """The canonical loss name for a name or an alias; ``ValueError`` naming the known ones."""
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in _RULES:
        known = sorted(set(_RULES) | set(ALIASES))
        raise ValueError(f"loss must be one of {known}, got {name!r}")
    return key


def _option_value(loss: str, key: str, value: Any) -> bool | int | float:
    """One option, checked and normalised (floats, bools and ints, so configs compare equal)."""
    if key == "apply_class_balancing":
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{loss}: apply_class_balancing must be True or False, got {value!r}")
        return bool(value)
    if key == "axis":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{loss}: axis must be an int, got {value!r}")
        return int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise ValueError(f"{loss}: {key} must be a finite number, got {value!r}")
    value = float(value)
    ranges = {"label_smoothing": (0.0, 1.0), "alpha": (0.0, 1.0)}
    if key in ranges and not ranges[key][0] <= value <= ranges[key][1]:
        raise ValueError(f"{loss}: {key} must be in [{ranges[key][0]}, {ranges[key][1]}], got {value!r}")
    if key == "delta" and not value > 0:
        raise ValueError(f"{loss}: delta must be > 0, got {value!r}")
    if key == "gamma" and not value >= 0:
        raise ValueError(f"{loss}: gamma must be >= 0, got {value!r}")
    return cast(float, value)  # a float since float(value) above


def normalize_options(
    name: str, options: Mapping[str, Any] | Iterable[tuple[str, Any]] | None
) -> tuple[tuple[str, Any], ...]:
    """``options`` (a dict or ``(key, value)`` pairs) of the canonical loss ``name``, checked, as
    a sorted tuple of the pairs that differ from the defaults in ``OPTIONS``."""
    options = dict(options or ())
    allowed = OPTIONS.get(name, {})
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"{name} takes {'the options ' + str(sorted(allowed)) if allowed else 'no options'}, got {unknown}"
        )
    pairs = ((key, _option_value(name, key, value)) for key, value in options.items())
    return tuple(sorted((key, value) for key, value in pairs if value != allowed[key]))


def _axis(options: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> int:
    axis: int = dict(options).get("axis", -1)
    return axis


@dataclass(frozen=True)
class Loss:
    """A named loss: ``loss(y_true, y_pred)`` is the mean over positions; ``gradient`` its derivative.

    Args:
        name: a canonical name of ``_RULES`` (``mean_squared_error``, ``huber``, ``hinge``,
            ``binary_focal_crossentropy``, ...) or an alias (``mse``, ``mae``, ``mape``,
            ``msle``, ``kld``, ``bce``).
        from_logits: for the cross-entropies, whether ``y_pred`` holds logits.
        options: the loss' Keras arguments, a dict (or ``(key, value)`` pairs), e.g.
            ``{"delta": 2.0}`` for ``huber``; see ``OPTIONS``. Stored as the sorted pairs that
            differ from the defaults, so ``Loss("huber", options={"delta": 1.0}) == Loss("huber")``.

    Examples:
        >>> import numpy as np
        >>> Loss("mse")(np.zeros((2, 1)), np.ones((2, 1)))
        1.0
        >>> Loss("huber", options={"delta": 0.5})(np.zeros((1, 1)), np.full((1, 1), 2.0))
        0.875
    """

    name: str
    from_logits: bool = False
    options: tuple[tuple[str, Any], ...] | Mapping[str, Any] = ()  # a dict is normalised to the sorted pairs

    def __post_init__(self) -> None:
        canonical = canonical_name(self.name)
        options = normalize_options(canonical, self.options)
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "name", canonical)

    def _check(self, y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        # Sparse labels are checked by sparse_labels(); every other loss compares like with like
        # (silent broadcasting of (N,) against (N, 1) would compare every pair).
        if self.name != "sparse_categorical_crossentropy" and y_true.shape != y_pred.shape:
            raise ValueError(
                f"{self.name} needs y_true and y_pred of the same shape, got {y_true.shape} "
                f"and {y_pred.shape}"
            )
        axis = _axis(self.options)
        if axis != -1 and (not -y_pred.ndim <= axis < y_pred.ndim or (y_pred.ndim > 1 and axis % y_pred.ndim == 0)):
            raise ValueError(
                f"{self.name}: axis={axis} must name a non-batch axis of y_pred {y_pred.shape} "
                "(the positions keep the batch axis first)"
            )
        return y_true, y_pred

    def per_position(self, y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[Any]:
        """Loss at each position: shape ``y_pred.shape`` without the reduced (last) axis."""
        y_true, y_pred = self._check(y_true, y_pred)
        return _RULES[self.name][0](y_true, y_pred, self.from_logits, **dict(self.options))

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike) -> float:
        return float(np.mean(self.per_position(y_true, y_pred)))

    def gradient(self, y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[Any]:
        """``d loss / d y_pred``, shape of ``y_pred``."""
        y_true, y_pred = self._check(y_true, y_pred)
        positions = int(np.prod(np.delete(np.asarray(y_pred.shape), _axis(self.options))))
        return _RULES[self.name][1](y_true, y_pred, self.from_logits, **dict(self.options)) / positions

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": str(self.name), "from_logits": self.from_logits}
        if self.options:
            config["options"] = dict(self.options)
        return config


def get_loss(identifier: Any) -> Loss:
    """A `Loss` from a name, a config dict or a `Loss`."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return Loss(**identifier)
    if isinstance(identifier, str):
        return Loss(identifier)
    raise ValueError(f"loss must be a name or a Loss, got {type(identifier).__name__}: {identifier!r}")
