"""Metrics: ``metric(y_true, y_pred) -> per-position values``; the reported value is their mean.

``"accuracy"`` resolves, as in Keras, to the accuracy that fits the loss: binary for
binary cross-entropy, sparse categorical for sparse labels, categorical otherwise.
"""

from __future__ import annotations

import numpy as np

from ._numpy.losses import mae_per_position, mse_per_position, sparse_labels


def binary_accuracy(y_true, y_pred, threshold=0.5):
    return np.mean((y_pred > threshold) == (y_true > 0.5), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    return (sparse_labels(y_true, y_pred) == np.argmax(y_pred, axis=-1)).astype(y_pred.dtype)


METRICS = {
    "mean_absolute_error": mae_per_position,
    "mean_squared_error": mse_per_position,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
}
_ALIASES = {"mae": "mean_absolute_error", "mse": "mean_squared_error", "acc": "accuracy"}
_ACCURACY_FOR_LOSS = {
    "binary_crossentropy": "binary_accuracy",
    "sparse_categorical_crossentropy": "sparse_categorical_accuracy",
}


def resolve(name: str, loss_name: str) -> str:
    """Canonical metric name for ``name`` given the model's (canonical) loss name."""
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key == "accuracy":
        return _ACCURACY_FOR_LOSS.get(loss_name, "categorical_accuracy")
    if key not in METRICS:
        known = sorted(set(METRICS) | set(_ALIASES) | {"accuracy"})
        raise ValueError(f"metric must be one of {known}, got {name!r}")
    return key


def compute(canonical: str, y_true, y_pred) -> float:
    """Mean of the metric over all positions."""
    return float(np.mean(METRICS[canonical](y_true, y_pred)))
