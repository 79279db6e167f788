"""The Dense layer as two pure functions, acting on the last axis of any-rank input.

    y = activation(x @ kernel + bias)          x: (..., F)   kernel: (F, U)   bias: (U,)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._checks import as_float_array, check_ndim, compute_dtype
from ..activations import get_activation


@dataclass(frozen=True)
class DenseCache:
    """``inputs (..., F)``, ``preactivation (..., U)``, ``outputs (..., U)`` and the activation name."""

    inputs: NDArray[Any]
    preactivation: NDArray[Any]
    outputs: NDArray[Any]
    activation: str | None


def dense_forward(
    params: dict[str, NDArray[Any]], x: ArrayLike, activation: str | None = None,
) -> tuple[NDArray[Any], DenseCache]:
    """``y = activation(x @ kernel + bias)`` on the last axis.

    Args:
        params: ``{"kernel": (F, U), "bias": (U,)}`` (``"bias"`` may be absent).
        x: ``(..., F)``, e.g. ``(B, F)`` or ``(B, T, F)``.
        activation: ``None``/``"linear"`` or a name from `scratchlstm.activations` (``"relu"``, ``"gelu"``, ...).

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(..., U)``.

    Examples:
        >>> import numpy as np
        >>> params = {"kernel": np.ones((3, 2)), "bias": np.array([0.0, 1.0])}
        >>> y, _ = dense_forward(params, np.ones((4, 5, 3)))
        >>> y.shape, y[0, 0].tolist()
        ((4, 5, 2), [3.0, 4.0])
    """
    forward, _ = get_activation(activation)
    kernel = np.asarray(params["kernel"])
    check_ndim(kernel, 2, "params['kernel']", "of shape (features, units)")
    x = as_float_array(x, "x")
    if x.ndim < 1 or x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"x must have {kernel.shape[0]} features on its last axis, got shape {x.shape}"
        )
    dtype = compute_dtype(x, kernel, params.get("bias"))
    x = x.astype(dtype, copy=False)
    preactivation = x @ kernel.astype(dtype, copy=False)  # (..., U)
    if params.get("bias") is not None:
        preactivation += np.asarray(params["bias"], dtype=dtype)
    outputs = forward(preactivation)
    return outputs, DenseCache(x, preactivation, outputs, activation)


def dense_backward(
    params: dict[str, NDArray[Any]], cache: DenseCache, d_y: ArrayLike, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """Gradients of `dense_forward`.

    Args:
        params: the parameter dict of the forward call.
        cache: the `DenseCache` it returned.
        d_y: ``(..., U)`` gradient with respect to its output.

    Returns:
        ``(grads, d_x)``: ``grads`` has the keys of ``params``; ``d_x`` is ``(..., F)``.

    With ``dz = d_y * activation'(z)`` flattened to ``(N, U)`` over the leading axes:

        d_kernel = x.T @ dz ;  d_bias = sum dz ;  d_x = dz @ kernel.T
    """
    _, backward = get_activation(cache.activation)
    d_pre = backward(cache.preactivation, cache.outputs, np.asarray(d_y, dtype=cache.outputs.dtype))
    kernel = np.asarray(params["kernel"], dtype=cache.outputs.dtype)
    features, units = kernel.shape
    flat_x = cache.inputs.reshape(-1, features)
    flat_d_pre = d_pre.reshape(-1, units)
    grads = {"kernel": flat_x.T @ flat_d_pre}
    if params.get("bias") is not None:
        grads["bias"] = flat_d_pre.sum(axis=0)
    d_x = d_pre @ kernel.T if input_gradient else None
    return grads, d_x


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], DenseCache]:
    """`dense_forward` for a ``Dense`` layer: ``(y, state, cache)``."""
    y, cache = dense_forward(params, inputs, layer.activation)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: DenseCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`dense_backward` for a ``Dense`` layer: ``(grads, d_x)``."""
    return dense_backward(params, cache, d_outputs, input_gradient=input_gradient)
