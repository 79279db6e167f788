"""Losses and metrics as JAX functions, with the names and semantics of the NumPy reference.

Every loss and metric is computed per *position* and then averaged. A position is one row of
the leading axes: ``B`` rows for ``(B, U)`` predictions, ``B*T`` rows for ``(B, T, U)``, as
Keras' default ``sum_over_batch_size`` reduction. Cross-entropies on probabilities clip them to
``[EPSILON, 1 - EPSILON]`` (Keras' 1e-7); with ``from_logits=True`` they use the log-sum-exp
form.

``sample_weight`` (shape ``(B,)``) makes the mean a weighted mean over samples:

    value = sum_b w_b * sum_{positions p of b} l_bp  /  (sum_b w_b * positions_per_sample)

With 0/1 weights this is the plain mean over the kept samples, which is how the trainer
weights the padding of a short last batch out. (Keras divides by the number of positions
instead of the weight sum; the two agree for 0/1 masks only up to that normalisation.) Samples
of weight 0 contribute exactly 0 even when their loss is not finite.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from .._numpy.losses import ALIASES, canonical_name, normalize_options

EPSILON = 1e-7


def _mse(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    return jnp.mean((y_pred - y_true) ** 2, axis=-1)


def _mae(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    return jnp.mean(jnp.abs(y_pred - y_true), axis=-1)


def _mape(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    return 100.0 * jnp.mean(jnp.abs(y_true - y_pred) / jnp.maximum(jnp.abs(y_true), EPSILON), axis=-1)


def _msle(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    difference = jnp.log(jnp.maximum(y_pred, EPSILON) + 1) - jnp.log(jnp.maximum(y_true, EPSILON) + 1)
    return jnp.mean(difference**2, axis=-1)


def _huber(y_true: jax.Array, y_pred: jax.Array, from_logits: bool, delta: float = 1.0) -> jax.Array:
    error = y_pred - y_true
    absolute = jnp.abs(error)
    return jnp.mean(jnp.where(absolute <= delta, 0.5 * error**2, delta * absolute - 0.5 * delta**2), axis=-1)


def _log_cosh(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    error = y_pred - y_true
    return jnp.mean(error + jax.nn.softplus(-2.0 * error) - jnp.log(2.0).astype(error.dtype), axis=-1)


def _kl_divergence(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    t, p = jnp.clip(y_true, EPSILON, 1), jnp.clip(y_pred, EPSILON, 1)
    return jnp.sum(t * jnp.log(t / p), axis=-1)


def _poisson(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + EPSILON), axis=-1)


def _hinge_labels(y_true: jax.Array) -> jax.Array:
    # Keras: when every label of the batch is 0 or 1, they become -1 / 1.
    return jnp.where(jnp.all((y_true == 0) | (y_true == 1)), 2.0 * y_true - 1.0, y_true)


def _hinge(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    return jnp.mean(jax.nn.relu(1 - _hinge_labels(y_true) * y_pred), axis=-1)


def _squared_hinge(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    return jnp.mean(jax.nn.relu(1 - _hinge_labels(y_true) * y_pred) ** 2, axis=-1)


def _categorical_hinge(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    positive = jnp.sum(y_true * y_pred, axis=-1)
    negative = jnp.max((1 - y_true) * y_pred, axis=-1)
    return jax.nn.relu(negative - positive + 1)


def _unit(v: jax.Array, axis: int) -> jax.Array:
    return v / jnp.sqrt(jnp.maximum(jnp.sum(v * v, axis=axis, keepdims=True), EPSILON**2))


def _cosine_similarity(y_true: jax.Array, y_pred: jax.Array, from_logits: bool, axis: int = -1) -> jax.Array:
    return -jnp.sum(_unit(y_true, axis) * _unit(y_pred, axis), axis=axis)


def _smooth(y_true: jax.Array, label_smoothing: float, classes: int = 2) -> jax.Array:
    return y_true * (1.0 - label_smoothing) + label_smoothing / classes if label_smoothing else y_true


def _binary_focal_crossentropy(
    y_true: jax.Array, y_pred: jax.Array, from_logits: bool, apply_class_balancing: bool = False, alpha: float = 0.25,
    gamma: float = 2.0, label_smoothing: float = 0.0,
) -> jax.Array:
    y_true = _smooth(y_true, label_smoothing)
    p = jax.nn.sigmoid(y_pred) if from_logits else y_pred
    clipped = jnp.clip(p, EPSILON, 1 - EPSILON)
    bce = -(y_true * jnp.log(clipped) + (1 - y_true) * jnp.log(1 - clipped))
    focal = (1 - (y_true * p + (1 - y_true) * (1 - p))) ** gamma * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return jnp.mean(focal, axis=-1)


def _binary_crossentropy(y_true: jax.Array, y_pred: jax.Array, from_logits: bool,
                         label_smoothing: float = 0.0) -> jax.Array:
    y_true = _smooth(y_true, label_smoothing)
    if from_logits:
        # -[y log s(z) + (1-y) log(1-s(z))] = max(z, 0) - z*y + log(1 + exp(-|z|))
        z = y_pred
        elementwise = jnp.maximum(z, 0) - z * y_true + jnp.log1p(jnp.exp(-jnp.abs(z)))
    else:
        p = jnp.clip(y_pred, EPSILON, 1 - EPSILON)
        elementwise = -(y_true * jnp.log(p) + (1 - y_true) * jnp.log1p(-p))
    return jnp.mean(elementwise, axis=-1)


def _categorical_crossentropy(y_true: jax.Array, y_pred: jax.Array, from_logits: bool,
                              label_smoothing: float = 0.0) -> jax.Array:
    y_true = _smooth(y_true, label_smoothing, jnp.shape(y_true)[-1])
    if from_logits:
        return -jnp.sum(y_true * jax.nn.log_softmax(y_pred, axis=-1), axis=-1)
    p = y_pred / jnp.sum(y_pred, axis=-1, keepdims=True)  # Keras renormalises, then clips
    return -jnp.sum(y_true * jnp.log(jnp.clip(p, EPSILON, 1 - EPSILON)), axis=-1)


def sparse_labels(y_true: Any, y_pred: Any) -> jax.Array:
    """Integer labels of shape ``y_pred.shape[:-1]`` (a trailing axis of 1 is dropped).

    Shapes are checked here; the range ``[0, classes)`` cannot be checked inside ``jit``
    (out-of-range labels give an all-zero one-hot row); the trainer checks it on the host.
    """
    labels = jnp.asarray(y_true)
    pred_shape = tuple(jnp.shape(y_pred))
    if labels.ndim == len(pred_shape) and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if tuple(labels.shape) != pred_shape[:-1]:
        raise ValueError(
            f"sparse labels must have shape {pred_shape[:-1]} (or with a trailing 1) for "
            f"predictions of shape {pred_shape}, got {tuple(jnp.shape(y_true))}"
        )
    return labels.astype(jnp.int32)


def _one_hot(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    return jax.nn.one_hot(sparse_labels(y_true, y_pred), jnp.shape(y_pred)[-1], dtype=jnp.result_type(y_pred))


def _sparse_categorical_crossentropy(y_true: jax.Array, y_pred: jax.Array, from_logits: bool) -> jax.Array:
    return _categorical_crossentropy(_one_hot(y_true, y_pred), y_pred, from_logits)


_LOSSES: dict[str, Callable[..., jax.Array]] = {
    "mean_squared_error": _mse,
    "mean_absolute_error": _mae,
    "mean_absolute_percentage_error": _mape,
    "mean_squared_logarithmic_error": _msle,
    "huber": _huber,
    "log_cosh": _log_cosh,
    "kl_divergence": _kl_divergence,
    "poisson": _poisson,
    "hinge": _hinge,
    "squared_hinge": _squared_hinge,
    "categorical_hinge": _categorical_hinge,
    "cosine_similarity": _cosine_similarity,
    "binary_focal_crossentropy": _binary_focal_crossentropy,
    "binary_crossentropy": _binary_crossentropy,
    "categorical_crossentropy": _categorical_crossentropy,
    "sparse_categorical_crossentropy": _sparse_categorical_crossentropy,
}
LOSS_NAMES = tuple(_LOSSES)


def _binary_accuracy(y_true: jax.Array, y_pred: jax.Array, threshold: float = 0.5) -> jax.Array:
    return jnp.mean((y_pred > threshold) == (y_true > 0.5), axis=-1, dtype=jnp.result_type(y_pred))


def _categorical_accuracy(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    hit = jnp.argmax(y_true, axis=-1) == jnp.argmax(y_pred, axis=-1)
    return hit.astype(jnp.result_type(y_pred))


def _sparse_categorical_accuracy(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    hit = sparse_labels(y_true, y_pred) == jnp.argmax(y_pred, axis=-1)
    return hit.astype(jnp.result_type(y_pred))


def _exact_accuracy(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    return jnp.mean(y_pred == y_true, axis=-1, dtype=jnp.result_type(y_pred))


_METRICS: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "mean_absolute_error": lambda y_true, y_pred: _mae(y_true, y_pred, False),
    "mean_squared_error": lambda y_true, y_pred: _mse(y_true, y_pred, False),
    # Before finalization (scratchlstm.metrics.finalize takes the square root): the squared error.
    "root_mean_squared_error": lambda y_true, y_pred: _mse(y_true, y_pred, False),
    "binary_accuracy": _binary_accuracy,
    "categorical_accuracy": _categorical_accuracy,
    "sparse_categorical_accuracy": _sparse_categorical_accuracy,
    "exact_accuracy": _exact_accuracy,
}
METRIC_NAMES = tuple(_METRICS)


def _metric_function(metric: str) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """The per-position function of a canonical name; ``binary_accuracy@t`` has threshold ``t``."""
    base, sep, threshold = str(metric).partition("@")
    if base in _METRICS and not sep:
        return _METRICS[base]
    if base == "binary_accuracy" and sep:
        try:
            value = float(threshold)
        except ValueError:
            pass
        else:
            return lambda y_true, y_pred: _binary_accuracy(y_true, y_pred, value)
    raise ValueError(f"metric must be one of {sorted(_METRICS)} or 'binary_accuracy@<float>', got {metric!r}")


def _resolve_loss(loss: Any, from_logits: bool, options: Any = None) -> tuple[str, bool, tuple[tuple[str, Any], ...]]:
    """``(canonical name, from_logits, options)`` from a name or a reference ``Loss``.

    A ``Loss`` brings its ``from_logits`` and ``options``; ``options`` are added to them.
    """
    if hasattr(loss, "name") and hasattr(loss, "from_logits"):
        name, from_logits = loss.name, bool(loss.from_logits)
        carried = getattr(loss, "options", ())
    else:
        name, carried = loss, ()
    key = canonical_name(name)
    if key not in _LOSSES:  # pragma: no cover - the two tables are kept in step by the tests
        raise ValueError(f"loss must be one of {sorted(set(_LOSSES) | set(ALIASES))}, got {name!r}")
    return key, from_logits, normalize_options(key, {**dict(carried), **dict(options or {})})


def loss_per_position(loss: Any, y_true: Any, y_pred: Any, from_logits: bool = False, **options: Any) -> jax.Array:
    """The loss at each position, shape ``y_pred.shape`` without the reduced (last) axis.

    Args:
        loss: a name (``mse``, ``huber``, ``binary_focal_crossentropy``, ..., aliases and long
            Keras names accepted) or a reference ``Loss`` object (its ``from_logits`` and
            options then win over the arguments).
        y_true: targets shaped like ``y_pred`` (integer labels shaped ``y_pred.shape[:-1]``,
            optionally with a trailing 1, for the sparse loss).
        y_pred: predictions ``(..., U)``.
        from_logits: for the cross-entropies, whether ``y_pred`` holds logits.
        **options: the loss' Keras arguments (``delta=``, ``label_smoothing=``, ``axis=``, ...;
            see ``scratchlstm._numpy.losses.OPTIONS``).
    """
    name, from_logits, options = _resolve_loss(loss, from_logits, options)  # type: ignore[assignment]  # now (key, value) pairs
    y_pred = jnp.asarray(y_pred)
    if name != "sparse_categorical_crossentropy":
        y_true = jnp.asarray(y_true, jnp.result_type(y_pred))
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true must have the shape of y_pred {tuple(y_pred.shape)} for {name}, "
                f"got {tuple(y_true.shape)}"
            )
    axis = dict(options).get("axis", -1)
    if axis != -1 and (not -y_pred.ndim <= axis < y_pred.ndim or (y_pred.ndim > 1 and axis % y_pred.ndim == 0)):
        raise ValueError(f"{name}: axis={axis} must name a non-batch axis of y_pred {tuple(y_pred.shape)}")
    return _LOSSES[name](y_true, y_pred, from_logits, **dict(options))


def weighted_mean(values: Any, sample_weight: Any = None) -> jax.Array:
    """Mean of ``values (B, ...)``; with ``sample_weight (B,)`` the weighted mean described above."""
    values = jnp.asarray(values)
    if sample_weight is None:
        return jnp.mean(values)
    weight = jnp.asarray(sample_weight, values.dtype)
    if weight.shape != values.shape[:1]:
        raise ValueError(
            f"sample_weight must have shape {values.shape[:1]} (one weight per sample), got {weight.shape}"
        )
    weight_b = weight.reshape(weight.shape + (1,) * (values.ndim - 1))
    total = jnp.sum(jnp.where(weight_b != 0, values * weight_b, 0))
    positions_per_sample = values.size // max(values.shape[0], 1)
    return total / (jnp.sum(weight) * positions_per_sample)


def loss_value(loss: Any, y_true: Any, y_pred: Any, from_logits: bool = False, sample_weight: Any = None,
               **options: Any) -> jax.Array:
    """The loss averaged over positions (weighted by ``sample_weight (B,)`` when given); 0-d."""
    return weighted_mean(loss_per_position(loss, y_true, y_pred, from_logits, **options), sample_weight)


def metric_per_position(metric: str, y_true: Any, y_pred: Any) -> jax.Array:
    """A metric at each position, before finalization.

    Args:
        metric: a canonical name, as ``scratchlstm.metrics.resolve`` returns: one of
            ``METRIC_NAMES`` or ``"binary_accuracy@<threshold>"``. For
            ``"root_mean_squared_error"`` the values are squared errors (the square root is
            taken by ``scratchlstm.metrics.finalize`` after averaging).
        y_true: targets shaped like ``y_pred`` (integer labels for the sparse accuracy).
        y_pred: predictions ``(..., U)``.
    """
    fn = _metric_function(metric)
    y_pred = jnp.asarray(y_pred)
    if metric != "sparse_categorical_accuracy":
        y_true = jnp.asarray(y_true, jnp.result_type(y_pred))
        if y_true.shape != y_pred.shape:  # static under jit, so the check is free
            raise ValueError(
                f"y_true must have the shape of y_pred {tuple(y_pred.shape)} for {metric}, "
                f"got {tuple(y_true.shape)}"
            )
    return fn(y_true, y_pred)


def metric_value(metric: str, y_true: Any, y_pred: Any, sample_weight: Any = None) -> jax.Array:
    """The metric averaged over positions (weighted by ``sample_weight (B,)`` when given); 0-d.

    For ``"root_mean_squared_error"`` this is the mean squared error, as in
    ``scratchlstm.metrics.compute``; ``scratchlstm.metrics.finalize`` takes the root.
    """
    return weighted_mean(metric_per_position(metric, y_true, y_pred), sample_weight)
