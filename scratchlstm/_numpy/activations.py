"""Activations, each forward rule next to its backward rule.

Every activation of Keras 3 (``keras.activations``), with Keras' keyword arguments and defaults.
A forward rule is ``f(x, **kwargs) -> y``; its backward rule ``f_backward(x, y, d_y, **kwargs)``
takes the forward input ``x``, the forward output ``y`` and the upstream gradient ``d_y`` and
returns ``d_x`` (``x.shape``). The two rules of a name take the same keyword arguments.

Elementwise rules keep the shape and dtype of ``x``; ``softmax``, ``log_softmax`` and
``sparsemax`` act along ``axis`` (last by default); ``glu`` halves ``axis``.

At a kink the backward rule returns the one-sided slope that ``jax.grad`` of Keras' JAX
formula returns (``relu'(0) = 0``, ``leaky_relu'(0) = 1``, ``elu'(0) = alpha``, ``relu6`` and
``hard_sigmoid`` 0 at both corners, ``hard_tanh'(+-1) = 1``).

``get_activation(name)`` returns the ``(forward, backward)`` pair a layer calls with the
defaults; names are Keras' (``"swish"`` and ``"hard_swish"`` are aliases), case-insensitive, and
the functions of ``scratchlstm.activations`` are accepted for their names.
"""

from __future__ import annotations

import math
from typing import Any, Callable, cast

import numpy as np
from numpy.typing import NDArray

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
# SELU's constants (Klambauer et al., 2017), as jax.nn.selu writes them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# NumPy has no erf; math.erfc is exact to the last bit. (On an array the ufunc returns an
# object array; the stubs say "float | array".)
_erfc = cast("Callable[[NDArray[Any]], NDArray[Any]]", np.frompyfunc(math.erfc, 1, 1))


def _sigmoid(x: NDArray[Any]) -> NDArray[Any]:
    return 0.5 * (1 + np.tanh(0.5 * x))


def _softplus(x: NDArray[Any]) -> NDArray[Any]:
    y: NDArray[Any] = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return y


# --- identity and the rectifiers ----------------------------------------------------------------
def linear(x: NDArray[Any]) -> NDArray[Any]:
    """``y = x``."""
    return x


def linear_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    return d_y


def relu(
    x: NDArray[Any], negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0,
) -> NDArray[Any]:
    """Keras' ``relu``: ``max(x, 0)`` by default.

    In general ``y = clip(x if x > threshold else 0, 0, max_value) - negative_slope *
    max(threshold - x, 0)`` (no clip without ``max_value``; with ``threshold == 0`` the first
    term is ``max(x, 0)``); with only ``negative_slope`` set it is ``leaky_relu``.
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0:
        y: NDArray[Any] = np.maximum(x, 0)
        return y
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return leaky_relu(x, negative_slope)
    kept = np.where(x > threshold, x, 0) if threshold != 0 else np.maximum(x, 0)
    if max_value is not None:
        kept = np.clip(kept, 0, max_value)
    if negative_slope != 0.0:
        kept = kept - negative_slope * np.maximum(threshold - x, 0)
    return kept.astype(x.dtype, copy=False)


def relu_backward(
    x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], negative_slope: float = 0.0,
    max_value: float | None = None, threshold: float = 0.0,
) -> NDArray[Any]:
    if negative_slope == 0.0 and max_value is None and threshold == 0:
        return d_y * (x > 0)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return leaky_relu_backward(x, y, d_y, negative_slope)
    passes = x > threshold if threshold != 0 else x > 0
    if max_value is not None:
        passes = passes & (x > 0) & (x < max_value)
    slope = passes + negative_slope * (x < threshold)
    d_x: NDArray[Any] = d_y * slope.astype(x.dtype, copy=False)
    return d_x


def relu6(x: NDArray[Any]) -> NDArray[Any]:
    """``y = min(max(x, 0), 6)``."""
    y: NDArray[Any] = np.clip(x, 0, 6)
    return y


def relu6_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    return d_y * ((x > 0) & (x < 6))


def leaky_relu(x: NDArray[Any], negative_slope: float = 0.2) -> NDArray[Any]:
    """``y = x`` for ``x >= 0``, ``negative_slope * x`` below (Keras' default slope 0.2)."""
    return np.where(x >= 0, x, negative_slope * x).astype(x.dtype, copy=False)


def leaky_relu_backward(
    x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], negative_slope: float = 0.2,
) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * np.where(x >= 0, 1, negative_slope).astype(x.dtype, copy=False)
    return d_x


def elu(x: NDArray[Any], alpha: float = 1.0) -> NDArray[Any]:
    """``y = x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


def elu_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], alpha: float = 1.0) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)
    return d_x


def selu(x: NDArray[Any]) -> NDArray[Any]:
    """``y = scale * elu(x, alpha)`` with SELU's ``alpha = 1.67326...``, ``scale = 1.05070...``."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    return SELU_SCALE * elu_backward(x, y, d_y, SELU_ALPHA)


def celu(x: NDArray[Any], alpha: float = 1.0) -> NDArray[Any]:
    """``y = max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``."""
    y: NDArray[Any] = np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha)
    return y


def celu_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], alpha: float = 1.0) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * np.where(x > 0, 1, np.exp(np.minimum(x, 0) / alpha)).astype(x.dtype, copy=False)
    return d_x


def threshold(x: NDArray[Any], threshold: float, default_value: float) -> NDArray[Any]:
    """``y = x`` for ``x > threshold``, ``default_value`` otherwise (no defaults, as Keras)."""
    return np.where(x > threshold, x, default_value).astype(x.dtype, copy=False)


def threshold_backward(
    x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], threshold: float, default_value: float,
) -> NDArray[Any]:
    return d_y * (x > threshold)


# --- smooth gates -------------------------------------------------------------------------------
def sigmoid(x: NDArray[Any]) -> NDArray[Any]:
    """``y = 1 / (1 + exp(-x)) = 0.5 * (1 + tanh(x / 2))``; the tanh form never overflows."""
    return _sigmoid(x)


def sigmoid_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * y * (1 - y)
    return d_x


def tanh(x: NDArray[Any]) -> NDArray[Any]:
    """``y = tanh(x)``."""
    y: NDArray[Any] = np.tanh(x)
    return y


def tanh_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * (1 - y * y)
    return d_x


def gelu(x: NDArray[Any], approximate: bool = False) -> NDArray[Any]:
    """``y = x * Phi(x)``, ``Phi`` the standard normal CDF: ``0.5 * erfc(-x / sqrt(2))``.

    With ``approximate=True``: ``Phi(x) ~ 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))``.
    (Keras' activation defaults to the exact form; ``keras.ops.gelu`` to the approximate one.)
    """
    if approximate:
        return x * (0.5 * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3))))
    y: NDArray[Any] = x * (0.5 * _erfc(-_SQRT_HALF * x).astype(x.dtype))
    return y


def gelu_backward(
    x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], approximate: bool = False,
) -> NDArray[Any]:
    if approximate:
        inner = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3))
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
        d_x: NDArray[Any] = d_y * (0.5 * (1 + inner) + 0.5 * x * (1 - inner * inner) * d_inner)
        return d_x
    cdf = 0.5 * _erfc(-_SQRT_HALF * x).astype(x.dtype)
    d_x = d_y * (cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x))
    return d_x


def silu(x: NDArray[Any]) -> NDArray[Any]:
    """``y = x * sigmoid(x)`` (also ``swish``)."""
    y: NDArray[Any] = x * _sigmoid(x)
    return y


def silu_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    s = _sigmoid(x)
    d_x: NDArray[Any] = d_y * s * (1 + x * (1 - s))
    return d_x


def mish(x: NDArray[Any]) -> NDArray[Any]:
    """``y = x * tanh(softplus(x))``."""
    y: NDArray[Any] = x * np.tanh(_softplus(x))
    return y


def mish_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    t = np.tanh(_softplus(x))
    d_x: NDArray[Any] = d_y * (t + x * (1 - t * t) * _sigmoid(x))
    return d_x


def softplus(x: NDArray[Any]) -> NDArray[Any]:
    """``y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))`` (stable for any ``x``)."""
    return _softplus(x)


def softplus_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * _sigmoid(x)
    return d_x


def log_sigmoid(x: NDArray[Any]) -> NDArray[Any]:
    """``y = log(sigmoid(x)) = -softplus(-x)``."""
    return -_softplus(-x)


def log_sigmoid_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * _sigmoid(-x)
    return d_x


def softsign(x: NDArray[Any]) -> NDArray[Any]:
    """``y = x / (|x| + 1)``."""
    y: NDArray[Any] = x / (np.abs(x) + 1)
    return y


def softsign_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y / (np.abs(x) + 1) ** 2
    return d_x


def squareplus(x: NDArray[Any], b: float = 4) -> NDArray[Any]:
    """``y = (x + sqrt(x^2 + b)) / 2``."""
    y: NDArray[Any] = 0.5 * (x + np.sqrt(x * x + b))
    return y


def squareplus_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], b: float = 4) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * 0.5 * (1 + x / np.sqrt(x * x + b))
    return d_x


def exponential(x: NDArray[Any]) -> NDArray[Any]:
    """``y = exp(x)``."""
    y: NDArray[Any] = np.exp(x)
    return y


def exponential_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * y
    return d_x


def tanh_shrink(x: NDArray[Any]) -> NDArray[Any]:
    """``y = x - tanh(x)``."""
    y: NDArray[Any] = x - np.tanh(x)
    return y


def tanh_shrink_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    t = np.tanh(x)
    d_x: NDArray[Any] = d_y * t * t
    return d_x


# --- piecewise linear ---------------------------------------------------------------------------
def hard_sigmoid(x: NDArray[Any]) -> NDArray[Any]:
    """``y = relu6(x + 3) / 6``: 0 below -3, 1 above 3, ``x / 6 + 0.5`` between."""
    y: NDArray[Any] = np.clip(x + 3, 0, 6) / 6
    return y


def hard_sigmoid_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    return d_y * ((x > -3) & (x < 3)) / 6


def hard_silu(x: NDArray[Any]) -> NDArray[Any]:
    """``y = x * hard_sigmoid(x)`` (also ``hard_swish``)."""
    y: NDArray[Any] = x * (np.clip(x + 3, 0, 6) / 6)
    return y


def hard_silu_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * (np.clip(x + 3, 0, 6) / 6 + x * ((x > -3) & (x < 3)) / 6)
    return d_x


def hard_tanh(x: NDArray[Any]) -> NDArray[Any]:
    """``y = clip(x, -1, 1)``."""
    y: NDArray[Any] = np.clip(x, -1, 1)
    return y


def hard_tanh_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    return d_y * ((x >= -1) & (x <= 1))


def hard_shrink(x: NDArray[Any], threshold: float = 0.5) -> NDArray[Any]:
    """``y = x`` where ``|x| > threshold``, 0 elsewhere."""
    return np.where(np.abs(x) > threshold, x, 0).astype(x.dtype, copy=False)


def hard_shrink_backward(
    x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], threshold: float = 0.5,
) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * (np.abs(x) > threshold)
    return d_x


def soft_shrink(x: NDArray[Any], threshold: float = 0.5) -> NDArray[Any]:
    """``y = x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    shrunk = np.where(x > threshold, x - threshold, np.where(x < -threshold, x + threshold, 0))
    return shrunk.astype(x.dtype, copy=False)


def soft_shrink_backward(
    x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], threshold: float = 0.5,
) -> NDArray[Any]:
    return d_y * ((x > threshold) | (x < -threshold))


def sparse_plus(x: NDArray[Any]) -> NDArray[Any]:
    """``y = 0`` for ``x <= -1``, ``(x + 1)^2 / 4`` on ``(-1, 1)``, ``x`` for ``x >= 1``."""
    return np.where(x <= -1, 0, np.where(x >= 1, x, 0.25 * (x + 1) ** 2)).astype(x.dtype, copy=False)


def sparse_plus_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    d_x: NDArray[Any] = d_y * np.where(x <= -1, 0, np.where(x >= 1, 1, 0.5 * (x + 1))).astype(x.dtype, copy=False)
    return d_x


def sparse_sigmoid(x: NDArray[Any]) -> NDArray[Any]:
    """``y = clip(x + 1, 0, 2) / 2`` (the derivative of ``sparse_plus``)."""
    y: NDArray[Any] = 0.5 * np.clip(x + 1, 0, 2)
    return y


def sparse_sigmoid_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any]) -> NDArray[Any]:
    return d_y * 0.5 * ((x > -1) & (x < 1))


# --- along an axis ------------------------------------------------------------------------------
def softmax(x: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    """``y = exp(x - max x) / sum exp(x - max x)`` along ``axis`` (the last by default)."""
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    y: NDArray[Any] = shifted / shifted.sum(axis=axis, keepdims=True)
    return y


def softmax_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    # Jacobian-vector product: d_x = y * (d_y - sum(d_y * y)).
    d_x: NDArray[Any] = y * (d_y - np.sum(d_y * y, axis=axis, keepdims=True))
    return d_x


def log_softmax(x: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    """``y = x - max x - log(sum exp(x - max x))`` along ``axis``."""
    shifted = x - x.max(axis=axis, keepdims=True)
    y: NDArray[Any] = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return y


def log_softmax_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    # d_x = d_y - softmax(x) * sum(d_y), and softmax(x) = exp(y).
    d_x: NDArray[Any] = d_y - np.exp(y) * np.sum(d_y, axis=axis, keepdims=True)
    return d_x


def sparsemax(x: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    """Euclidean projection onto the simplex: ``y = max(x - tau, 0)`` along ``axis``.

    ``tau`` is chosen so that ``y`` sums to 1: with ``z`` sorted decreasingly and the support
    ``k = #{j : 1 + j z_j > sum_{i<=j} z_i}``, ``tau = (sum_{j<=k} z_j - 1) / k`` (Martins and
    Astudillo, 2016). Keras 3.15 computes another ``tau`` whenever ``k > 1`` (its output does
    not sum to 1: keras-team/keras#23425); this is the projection its docstring describes.
    """
    z = -np.sort(-x, axis=axis)
    cumulative = np.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    rank = np.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = z - (cumulative - 1) / rank > 0
    k = np.sum(support, axis=axis, keepdims=True)
    # (Keras 3.15 sums the cumulative sums over the support here, which is wrong for k > 1 and
    # leaves y off the simplex: keras-team/keras#23425, fixed after 3.15.)
    tau = (np.sum(np.where(support, z, 0), axis=axis, keepdims=True) - 1) / k
    y: NDArray[Any] = np.maximum(x - tau, 0).astype(x.dtype, copy=False)
    return y


def sparsemax_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    # On the support S (y > 0) the map is x - mean_S(x) + const: d_x = [S] (d_y - mean_S(d_y)).
    support = y > 0
    mean = np.sum(np.where(support, d_y, 0), axis=axis, keepdims=True) / np.sum(support, axis=axis, keepdims=True)
    return np.where(support, d_y - mean, 0).astype(d_y.dtype, copy=False)


def glu(x: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    """Gated linear unit: ``x`` split in halves ``a, b`` along ``axis``; ``y = a * sigmoid(b)``."""
    if x.shape[axis] % 2:
        raise ValueError(f"glu needs an even size along axis {axis}, got shape {x.shape}")
    a, b = np.split(x, 2, axis=axis)
    y: NDArray[Any] = a * _sigmoid(b)
    return y


def glu_backward(x: NDArray[Any], y: NDArray[Any], d_y: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    a, b = np.split(x, 2, axis=axis)
    s = _sigmoid(b)
    return np.concatenate([d_y * s, d_y * a * s * (1 - s)], axis=axis)


# --- the table layers read ----------------------------------------------------------------------
def _pair(name: str) -> tuple[Callable[..., NDArray[Any]], Callable[..., NDArray[Any]]]:
    return globals()[name], globals()[f"{name}_backward"]


# Every Keras 3 activation a layer can name. ``glu`` (halves the axis) and ``threshold`` (has no
# defaults) are functions only, as in Keras, where naming them in a layer fails too.
_LAYER_NAMES = (
    "celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_tanh",
    "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu",
    "sigmoid", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "tanh", "tanh_shrink",
)
ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
ACTIVATIONS = {name: _pair(name) for name in _LAYER_NAMES}
ACTIVATIONS.update({alias: ACTIVATIONS[target] for alias, target in ALIASES.items()})
FUNCTION_ONLY = {
    "glu": "glu halves the size of its axis, so a layer cannot use it as its activation",
    "threshold": "threshold needs its threshold and default_value arguments",
}
PAIRS = {**ACTIVATIONS, "glu": _pair("glu"), "threshold": _pair("threshold")}


def activation_name(identifier: Any) -> str:
    """The lower-case table name of an identifier: a name, ``None`` (linear), or a function of
    ``scratchlstm.activations`` or of this module. Raises ``ValueError`` listing the names."""
    if identifier is None:
        return "linear"
    key: str | None
    if isinstance(identifier, str):
        key = identifier.lower()
    else:
        key = _name_of_function(identifier)
    if key in FUNCTION_ONLY:
        raise ValueError(f"activation {identifier!r} cannot be a layer's activation: {FUNCTION_ONLY[key]}")
    if key is None or key not in ACTIVATIONS:  # None (an unknown function) is not a key either
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} or None, got {identifier!r}")
    return key


def _name_of_function(identifier: Any) -> str | None:
    if not callable(identifier):
        return None
    for forward, _ in PAIRS.values():
        if identifier is forward:
            name: str = forward.__name__  # mypy types a Callable's __name__ as Any
            return name
    from .. import activations as public  # the public functions wrap these; loaded by now

    return public.name_of(identifier)


def get_activation(name: Any) -> tuple[Callable[..., NDArray[Any]], Callable[..., NDArray[Any]]]:
    """Return the ``(forward, backward)`` pair for an activation (``None`` means linear).

    Args:
        name: a Keras activation name (case-insensitive; ``"swish"``, ``"hard_swish"`` are
            aliases), ``None``, or one of the functions of ``scratchlstm.activations``.

    Raises:
        ValueError: for anything else, listing the known names.
    """
    return ACTIVATIONS[activation_name(name)]
