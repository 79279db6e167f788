"""Losses, each value rule next to its gradient rule.

Every loss is computed per position and averaged: a position is one row of the leading axes
(``B`` rows for ``(B, U)`` predictions, ``B*T`` rows for ``(B, T, U)``), as Keras' default
``sum_over_batch_size`` reduction does. ``loss_value(y_true, y_pred)`` returns that mean;
``loss_gradient(y_true, y_pred)`` returns ``d mean / d y_pred`` with the shape of ``y_pred``.

Cross-entropies on probabilities clip them to ``[EPSILON, 1 - EPSILON]`` (Keras' epsilon) so
that ``log`` never sees 0; with ``from_logits=True`` they use the log-sum-exp form, which is
exact and stable for any logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPSILON = 1e-7


# --- mean squared error: mean over the last axis of (p - y)^2 ---------------------------------
def mse_per_position(y_true, y_pred, from_logits=False):
    return np.mean((y_pred - y_true) ** 2, axis=-1)


def mse_gradient(y_true, y_pred, from_logits=False):
    return 2.0 * (y_pred - y_true) / y_pred.shape[-1]


# --- mean absolute error: mean over the last axis of |p - y| ----------------------------------
def mae_per_position(y_true, y_pred, from_logits=False):
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def mae_gradient(y_true, y_pred, from_logits=False):
    return np.sign(y_pred - y_true) / y_pred.shape[-1]


# --- binary cross-entropy, mean over the last axis --------------------------------------------
def binary_crossentropy_per_position(y_true, y_pred, from_logits=False):
    if from_logits:
        # -[y log s(z) + (1-y) log(1-s(z))] = max(z, 0) - z*y + log(1 + exp(-|z|))
        z = y_pred
        elementwise = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
    else:
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        elementwise = -(y_true * np.log(p) + (1 - y_true) * np.log1p(-p))
    return np.mean(elementwise, axis=-1)


def binary_crossentropy_gradient(y_true, y_pred, from_logits=False):
    n = y_pred.shape[-1]
    if from_logits:
        sigmoid = 0.5 * (1 + np.tanh(0.5 * y_pred))
        return (sigmoid - y_true) / n
    inside = (y_pred > EPSILON) & (y_pred < 1 - EPSILON)  # the clip has zero slope outside
    p = np.clip(y_pred, EPSILON, 1 - EPSILON)
    return inside * (-(y_true / p) + (1 - y_true) / (1 - p)) / n


# --- categorical cross-entropy over the last (class) axis --------------------------------------
def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def categorical_crossentropy_per_position(y_true, y_pred, from_logits=False):
    if from_logits:
        return -np.sum(y_true * _log_softmax(y_pred), axis=-1)
    # Keras renormalises the probabilities, then clips them.
    p = y_pred / np.sum(y_pred, axis=-1, keepdims=True)
    return -np.sum(y_true * np.log(np.clip(p, EPSILON, 1 - EPSILON)), axis=-1)


def categorical_crossentropy_gradient(y_true, y_pred, from_logits=False):
    if from_logits:
        softmax = np.exp(_log_softmax(y_pred))
        return softmax * np.sum(y_true, axis=-1, keepdims=True) - y_true
    total = np.sum(y_pred, axis=-1, keepdims=True)
    p = y_pred / total
    inside = (p > EPSILON) & (p < 1 - EPSILON)
    d_p = -(inside * y_true) / np.clip(p, EPSILON, 1 - EPSILON)  # d loss / d p
    # p = y / sum(y): d p_j / d y_k = (delta_jk - p_j) / total
    return (d_p - np.sum(d_p * p, axis=-1, keepdims=True)) / total


# --- sparse categorical cross-entropy: integer labels ------------------------------------------
def _one_hot(labels, num_classes, dtype):
    labels = np.asarray(labels)
    return (labels[..., None] == np.arange(num_classes)).astype(dtype)


def sparse_labels(y_true, y_pred):
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of 1 is dropped)."""
    return check_sparse_labels(y_true, np.shape(y_pred))


def check_sparse_labels(y_true, prediction_shape) -> np.ndarray:
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


def sparse_categorical_crossentropy_per_position(y_true, y_pred, from_logits=False):
    one_hot = _one_hot(sparse_labels(y_true, y_pred), y_pred.shape[-1], y_pred.dtype)
    return categorical_crossentropy_per_position(one_hot, y_pred, from_logits)


def sparse_categorical_crossentropy_gradient(y_true, y_pred, from_logits=False):
    one_hot = _one_hot(sparse_labels(y_true, y_pred), y_pred.shape[-1], y_pred.dtype)
    return categorical_crossentropy_gradient(one_hot, y_pred, from_logits)


_RULES = {
    "mean_squared_error": (mse_per_position, mse_gradient),
    "mean_absolute_error": (mae_per_position, mae_gradient),
    "binary_crossentropy": (binary_crossentropy_per_position, binary_crossentropy_gradient),
    "categorical_crossentropy": (
        categorical_crossentropy_per_position,
        categorical_crossentropy_gradient,
    ),
    "sparse_categorical_crossentropy": (
        sparse_categorical_crossentropy_per_position,
        sparse_categorical_crossentropy_gradient,
    ),
}
ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}


@dataclass(frozen=True)
class Loss:
    """A named loss: ``loss(y_true, y_pred)`` is the mean over positions; ``gradient`` its derivative.

    Args:
        name: one of ``mse``, ``mae``, ``binary_crossentropy``, ``categorical_crossentropy``,
            ``sparse_categorical_crossentropy`` (long Keras names accepted).
        from_logits: for the cross-entropies, whether ``y_pred`` holds logits.

    Examples:
        >>> import numpy as np
        >>> Loss("mse")(np.zeros((2, 1)), np.ones((2, 1)))
        1.0
    """

    name: str
    from_logits: bool = False

    def __post_init__(self):
        canonical = ALIASES.get(str(self.name).lower(), str(self.name).lower())
        if canonical not in _RULES:
            known = sorted(set(_RULES) | set(ALIASES))
            raise ValueError(f"loss must be one of {known}, got {self.name!r}")
        object.__setattr__(self, "name", canonical)

    def _check(self, y_true, y_pred):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        # Sparse labels are checked by sparse_labels(); every other loss compares like with like
        # (silent broadcasting of (N,) against (N, 1) would compare every pair).
        if self.name != "sparse_categorical_crossentropy" and y_true.shape != y_pred.shape:
            raise ValueError(
                f"{self.name} needs y_true and y_pred of the same shape, got {y_true.shape} "
                f"and {y_pred.shape}"
            )
        return y_true, y_pred

    def per_position(self, y_true, y_pred) -> np.ndarray:
        """Loss at each position, shape ``y_pred.shape[:-1]``."""
        y_true, y_pred = self._check(y_true, y_pred)
        return _RULES[self.name][0](y_true, y_pred, self.from_logits)

    def __call__(self, y_true, y_pred) -> float:
        return float(np.mean(self.per_position(y_true, y_pred)))

    def gradient(self, y_true, y_pred) -> np.ndarray:
        """``d loss / d y_pred``, shape of ``y_pred``."""
        y_true, y_pred = self._check(y_true, y_pred)
        positions = int(np.prod(y_pred.shape[:-1]))
        return _RULES[self.name][1](y_true, y_pred, self.from_logits) / positions

    def get_config(self) -> dict:
        return {"name": self.name, "from_logits": self.from_logits}


def get_loss(identifier) -> Loss:
    """A `Loss` from a name, a config dict or a `Loss`."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return Loss(**identifier)
    if isinstance(identifier, str):
        return Loss(identifier)
    raise ValueError(f"loss must be a name or a Loss, got {type(identifier).__name__}: {identifier!r}")
