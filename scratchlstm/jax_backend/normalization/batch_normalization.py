"""The BatchNormalization layer as a pure JAX function, in training and in inference mode."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from ..._numpy.normalization.batch_normalization import MASK_COUNT_EPSILON
from ..rnn.lstm import compute_dtype


def _per_channel(value: Any, ndim: int, axis: int, dtype: Any) -> Any:
    shape = [1] * ndim
    shape[axis] = -1
    return jnp.reshape(jnp.asarray(value, dtype), shape)


def batch_normalization_forward(params: dict[str, Any], state: dict[str, Any], x: Any, *, axis: int = -1,
                                momentum: float = 0.99, epsilon: float = 1e-3, training: bool = False,
                                mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """Normalize ``x`` per channel on ``axis``; the NumPy reference's math (see its module).

    Args:
        params: ``{"gamma": (C,), "beta": (C,)}``; either may be absent or ``None``.
        state: ``{"moving_mean": (C,), "moving_variance": (C,)}``.
        x: ``(B, ...)`` with ``C`` channels on ``axis``.
        axis: the channel axis.
        momentum: of the moving averages.
        epsilon: added to the variance.
        training: batch statistics (biased, over every axis but ``axis``) and the moving-average
            update, or the moving statistics.
        mask: ``None`` or a bool ``x.shape[:-1]`` array left out of the batch moments.

    Returns:
        ``(y, new_state)``; ``new_state`` is ``state`` in inference (no cache: use ``jax.grad``).
    """
    ndim = len(jnp.shape(x))
    axis = axis % ndim
    gamma, beta = params.get("gamma"), params.get("beta")
    dtype = compute_dtype(x, gamma, beta)
    x = jnp.asarray(x, dtype)
    if training:
        reduce = tuple(a for a in range(ndim) if a != axis)
        if mask is None:
            mean = jnp.mean(x, axis=reduce, keepdims=True)
            centered = x - mean
            var = jnp.mean(centered * centered, axis=reduce, keepdims=True)
        else:
            if tuple(jnp.shape(mask)) != tuple(x.shape[:-1]):
                raise ValueError(f"mask must have shape {tuple(x.shape[:-1])}, got {tuple(jnp.shape(mask))}")
            w = jnp.broadcast_to(jnp.asarray(mask)[..., None], x.shape).astype(dtype)
            count = jnp.sum(w, axis=reduce, keepdims=True) + MASK_COUNT_EPSILON
            mean = jnp.sum(w * x, axis=reduce, keepdims=True) / count
            centered = x - mean
            var = jnp.sum(w * centered * centered, axis=reduce, keepdims=True) / count
        new_state = {
            key: (jnp.asarray(state[key]) * momentum + jnp.reshape(stat, (-1,)) * (1.0 - momentum)).astype(
                jnp.asarray(state[key]).dtype
            )
            for key, stat in (("moving_mean", mean), ("moving_variance", var))
        }
    else:
        mean = _per_channel(state["moving_mean"], ndim, axis, dtype)
        var = _per_channel(state["moving_variance"], ndim, axis, dtype)
        new_state = state
    y = (x - mean) / jnp.sqrt(var + epsilon)
    if gamma is not None:
        y = y * _per_channel(gamma, ndim, axis, dtype)
    if beta is not None:
        y = y + _per_channel(beta, ndim, axis, dtype)
    return y, new_state


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`batch_normalization_forward` for a ``BatchNormalization`` layer (DESIGN §7): ``(y, new_state)``.

    A frozen layer (``trainable=False``) runs in inference mode even in training, as in Keras.
    """
    missing = [k for k in layer.state_names if k not in state]
    if missing:
        raise ValueError(
            f"BatchNormalization {layer.name!r} needs its state {list(layer.state_names)} (the moving "
            f"statistics, e.g. layer.state); got a state without {missing}"
        )
    axis = layer.axis_for(len(jnp.shape(inputs)))
    return batch_normalization_forward(
        params, state, inputs, axis=axis, momentum=layer.momentum, epsilon=layer.epsilon,
        training=bool(training) and layer.trainable, mask=mask,
    )
