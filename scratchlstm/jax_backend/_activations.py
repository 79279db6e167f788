"""Activations as JAX functions, with the names, arguments and math of the NumPy reference.

Each is Keras' JAX formula (``jax.nn`` where Keras calls it), so ``jax.grad`` of it equals the
reference backward rule, kinks included. ``softmax``, ``log_softmax`` and ``sparsemax`` act
along ``axis`` (the last by default).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from .._numpy.activations import ACTIVATIONS as _REFERENCE_NAMES
from .._numpy.activations import ALIASES, activation_name


def linear(x: jax.Array) -> jax.Array:
    """``y = x``."""
    return x


def relu(x: jax.Array, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> jax.Array:
    """Keras' ``relu``; see the reference for the general formula."""
    if negative_slope == 0.0 and max_value is None and threshold == 0:
        return jax.nn.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return leaky_relu(x, negative_slope)
    kept = jnp.where(x > threshold, x, 0) if threshold != 0 else jax.nn.relu(x)
    if max_value is not None:
        kept = jnp.clip(kept, 0, max_value)
    if negative_slope != 0.0:
        kept = kept - negative_slope * jax.nn.relu(threshold - x)
    return kept


def relu6(x: jax.Array) -> jax.Array:
    """``y = min(max(x, 0), 6)``."""
    return jax.nn.relu6(x)


def leaky_relu(x: jax.Array, negative_slope: float = 0.2) -> jax.Array:
    """``y = x`` for ``x >= 0``, ``negative_slope * x`` below."""
    return jax.nn.leaky_relu(x, negative_slope=negative_slope)


def elu(x: jax.Array, alpha: float = 1.0) -> jax.Array:
    """``y = x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    return jax.nn.elu(x, alpha=alpha)


def selu(x: jax.Array) -> jax.Array:
    """``y = scale * elu(x, alpha)`` with SELU's constants."""
    return jax.nn.selu(x)


def celu(x: jax.Array, alpha: float = 1.0) -> jax.Array:
    """``y = max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``."""
    # jnp.maximum/minimum split the slope at x = 0 (0.5 + 0.5); the reference's 1 is the same sum.
    return jax.nn.celu(x, alpha=alpha)


def threshold(x: jax.Array, threshold: float, default_value: float) -> jax.Array:
    """``y = x`` for ``x > threshold``, ``default_value`` otherwise."""
    return jnp.where(x > threshold, x, default_value)


def sigmoid(x: jax.Array) -> jax.Array:
    """``y = 1 / (1 + exp(-x))``."""
    return jax.nn.sigmoid(x)


def tanh(x: jax.Array) -> jax.Array:
    """``y = tanh(x)``."""
    return jnp.tanh(x)


def gelu(x: jax.Array, approximate: bool = False) -> jax.Array:
    """``y = x * Phi(x)`` (exact, Keras' activation default) or its tanh approximation."""
    return jax.nn.gelu(x, approximate=approximate)


def silu(x: jax.Array) -> jax.Array:
    """``y = x * sigmoid(x)``."""
    return jax.nn.silu(x)


def mish(x: jax.Array) -> jax.Array:
    """``y = x * tanh(softplus(x))``."""
    return x * jnp.tanh(jax.nn.softplus(x))


def softplus(x: jax.Array) -> jax.Array:
    """``y = log(1 + exp(x))``."""
    return jax.nn.softplus(x)


def log_sigmoid(x: jax.Array) -> jax.Array:
    """``y = -softplus(-x)``."""
    return jax.nn.log_sigmoid(x)


def softsign(x: jax.Array) -> jax.Array:
    """``y = x / (|x| + 1)``."""
    return jax.nn.soft_sign(x)


def squareplus(x: jax.Array, b: float = 4) -> jax.Array:
    """``y = (x + sqrt(x^2 + b)) / 2``."""
    return jax.nn.squareplus(x, b=b)


def exponential(x: jax.Array) -> jax.Array:
    """``y = exp(x)``."""
    return jnp.exp(x)


def tanh_shrink(x: jax.Array) -> jax.Array:
    """``y = x - tanh(x)``."""
    return x - jnp.tanh(x)


def hard_sigmoid(x: jax.Array) -> jax.Array:
    """``y = relu6(x + 3) / 6``."""
    return jax.nn.hard_sigmoid(x)


def hard_silu(x: jax.Array) -> jax.Array:
    """``y = x * hard_sigmoid(x)``."""
    return jax.nn.hard_silu(x)


def hard_tanh(x: jax.Array) -> jax.Array:
    """``y = clip(x, -1, 1)``."""
    return jax.nn.hard_tanh(x)


def hard_shrink(x: jax.Array, threshold: float = 0.5) -> jax.Array:
    """``y = x`` where ``|x| > threshold``, else 0."""
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def soft_shrink(x: jax.Array, threshold: float = 0.5) -> jax.Array:
    """``x -+ threshold`` outside ``[-threshold, threshold]``, 0 inside."""
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))


def sparse_plus(x: jax.Array) -> jax.Array:
    """``0``, ``(x + 1)^2 / 4``, ``x`` on ``x <= -1``, ``(-1, 1)``, ``x >= 1``."""
    return jax.nn.sparse_plus(x)


def sparse_sigmoid(x: jax.Array) -> jax.Array:
    """``y = clip(x + 1, 0, 2) / 2``."""
    # jax.nn.sparse_sigmoid's clip gives slope 1/4 at x = +-1 (a tie split); this form gives 0,
    # the slope on the flat side, as hard_sigmoid's relu6 does at its corners.
    return jnp.where(x <= -1, 0.0, jnp.where(x >= 1, 1.0, 0.5 * (x + 1)))


def softmax(x: jax.Array, axis: int = -1) -> jax.Array:
    """``y = exp(x - max x) / sum exp(x - max x)`` along ``axis``."""
    return jax.nn.softmax(x, axis=axis)


def log_softmax(x: jax.Array, axis: int = -1) -> jax.Array:
    """``y = x - logsumexp(x)`` along ``axis``."""
    return jax.nn.log_softmax(x, axis=axis)


def sparsemax(x: jax.Array, axis: int = -1) -> jax.Array:
    """Projection onto the simplex along ``axis``: ``y = max(x - tau, 0)``."""
    z = -jnp.sort(-x, axis=axis)
    cumulative = jnp.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    rank = jnp.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = z - (cumulative - 1) / rank > 0
    k = jnp.sum(support, axis=axis, keepdims=True)
    tau = (jnp.sum(jnp.where(support, z, 0.0), axis=axis, keepdims=True) - 1) / k  # not Keras 3.15's
    return jnp.maximum(x - tau, 0.0)


def glu(x: jax.Array, axis: int = -1) -> jax.Array:
    """``a * sigmoid(b)`` with ``a, b`` the halves of ``x`` along ``axis``."""
    return jax.nn.glu(x, axis=axis)


ACTIVATIONS: dict[str, Callable[..., jax.Array]] = {
    name: globals()[name] for name in _REFERENCE_NAMES if name not in ALIASES
}
ACTIVATIONS.update({alias: ACTIVATIONS[target] for alias, target in ALIASES.items()})
FUNCTIONS: dict[str, Callable[..., jax.Array]] = {**ACTIVATIONS, "glu": glu, "threshold": threshold}


def get_activation(name: Any) -> Callable[..., jax.Array]:
    """The activation function for a name, ``None`` (linear) or a ``scratchlstm.activations``
    function; the same names, and the same errors, as the reference ``get_activation``."""
    return ACTIVATIONS[activation_name(name)]
