"""The Conv1D layer as two pure functions: im2col and one GEMM forward, col2im backward.

With ``x (B, T, C)`` zero-padded on the steps axis to ``x_pad (B, T_pad, C)``, stride ``s``,
dilation ``d`` and ``kernel (K, C, F)``:

    z[b, t]  = sum_j x_pad[b, t * s + j * d] @ kernel[j] + bias          (B, T', F)
    y        = activation(z)

The windows ``cols[b, t] = x_pad[b, t * s + j * d, c]`` for ``j < K``, ``c < C`` are gathered once
(``(B * T', K * C)``, tap-major as the kernel's leading axes), so the forward is one GEMM
``cols @ kernel.reshape(K * C, F)`` and the kernel gradient one GEMM ``cols.T @ dz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

from ..._checks import as_float_array, check_ndim, compute_dtype
from ...layers.convolutional.conv1d import PADDINGS, conv_padding
from ..activations import get_activation


@dataclass(frozen=True)
class Conv1DCache:
    """``cols (B * T', K * C)``, the pre-activation and output ``(B, T', F)`` and the geometry."""

    cols: NDArray[Any]
    preactivation: NDArray[Any]
    outputs: NDArray[Any]
    activation: str | None
    input_shape: tuple[int, ...]
    left: int
    strides: int
    dilation_rate: int


def im2col(x_pad: NDArray[Any], kernel_size: int, strides: int, dilation_rate: int, out_steps: int) -> NDArray[Any]:
    """The windows of ``x_pad (B, T_pad, C)`` as a ``(B, T', K, C)`` array (one copy).

    ``windows[b, t, j] = x_pad[b, t * strides + j * dilation_rate]``.
    """
    span = dilation_rate * (kernel_size - 1) + 1
    view = sliding_window_view(x_pad, span, axis=1)  # (B, T_pad - span + 1, C, span), no copy
    view = view[:, : (out_steps - 1) * strides + 1 : strides, :, ::dilation_rate]  # (B, T', C, K)
    return np.ascontiguousarray(view.transpose(0, 1, 3, 2))  # (B, T', K, C)


def col2im(d_windows: NDArray[Any], padded_steps: int, strides: int, dilation_rate: int) -> NDArray[Any]:
    """The adjoint of `im2col`: scatter-add ``d_windows (B, T', K, C)`` into ``(B, T_pad, C)``.

    For a fixed tap ``j`` the rows ``t * strides + j * dilation_rate`` are distinct, so one
    strided ``+=`` per tap adds every window's share without collisions.
    """
    batch, out_steps, kernel_size, channels = d_windows.shape
    d_pad = np.zeros((batch, padded_steps, channels), dtype=d_windows.dtype)
    stop = (out_steps - 1) * strides + 1
    for j in range(kernel_size):
        start = j * dilation_rate
        d_pad[:, start : start + stop : strides] += d_windows[:, :, j]
    return d_pad


def conv1d_forward(
    params: dict[str, NDArray[Any]], x: ArrayLike, *, strides: int = 1, padding: str = "valid", dilation_rate: int = 1,
    activation: str | None = None,
) -> tuple[NDArray[Any], Conv1DCache]:
    """``y = activation(conv1d(x, kernel) + bias)`` over the steps axis (channels last).

    Args:
        params: ``{"kernel": (K, C, F), "bias": (F,)}`` (``"bias"`` may be absent).
        x: ``(B, T, C)``.
        strides: ``s``.
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (see
            `scratchlstm.layers.convolutional.conv1d.conv_padding`).
        dilation_rate: ``d``.
        activation: ``None``/``"linear"`` or a name from `scratchlstm.activations` (``"relu"``, ``"gelu"``, ...).

    Returns:
        ``(y, cache)`` with ``y`` of shape ``(B, T', F)``.

    Examples:
        >>> import numpy as np
        >>> params = {"kernel": np.ones((2, 1, 1)), "bias": np.zeros(1)}
        >>> y, _ = conv1d_forward(params, np.arange(4.0).reshape(1, 4, 1), padding="causal")
        >>> y[0, :, 0].tolist()
        [0.0, 1.0, 3.0, 5.0]
    """
    forward, _ = get_activation(activation)
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    kernel = np.asarray(params["kernel"])
    check_ndim(kernel, 3, "params['kernel']", "of shape (kernel_size, channels, filters)")
    x = as_float_array(x, "x")
    kernel_size, channels, filters = kernel.shape
    if x.ndim != 3 or x.shape[-1] != channels:
        raise ValueError(f"x must have shape (batch, steps, {channels}), got {x.shape}")
    left, right, out_steps = conv_padding(x.shape[1], kernel_size, strides, padding, dilation_rate)
    if out_steps < 1:
        raise ValueError(
            f"x has {x.shape[1]} steps, fewer than the kernel's span {dilation_rate * (kernel_size - 1) + 1} "
            "with padding='valid'"
        )
    dtype = compute_dtype(x, kernel, params.get("bias"))
    x_pad = np.pad(x.astype(dtype, copy=False), ((0, 0), (left, right), (0, 0)))  # (B, T_pad, C)
    cols = im2col(x_pad, kernel_size, strides, dilation_rate, out_steps).reshape(-1, kernel_size * channels)
    z = cols @ kernel.astype(dtype, copy=False).reshape(kernel_size * channels, filters)  # (B * T', F)
    if params.get("bias") is not None:
        z += np.asarray(params["bias"], dtype=dtype)
    z = z.reshape(x.shape[0], out_steps, filters)
    y = forward(z)
    return y, Conv1DCache(cols, z, y, activation, x.shape, left, strides, dilation_rate)


def conv1d_backward(
    params: dict[str, NDArray[Any]], cache: Conv1DCache, d_y: ArrayLike, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """Gradients of `conv1d_forward`.

    Args:
        params: the parameter dict of the forward call.
        cache: the `Conv1DCache` it returned.
        d_y: ``(B, T', F)`` gradient with respect to its output.
        input_gradient: ``False`` skips ``d_x`` (returned as ``None``).

    Returns:
        ``(grads, d_x)``: ``grads`` has the keys of ``params``; ``d_x`` is ``(B, T, C)``.

    With ``dz = d_y * activation'(z)`` flattened to ``(B * T', F)``:

        d_kernel = (cols.T @ dz).reshape(K, C, F) ;  d_bias = sum dz
        d_cols = dz @ kernel.reshape(K * C, F).T ;  d_x = col2im(d_cols) without the padding
    """
    _, backward = get_activation(cache.activation)
    dtype = cache.outputs.dtype
    d_z = backward(cache.preactivation, cache.outputs, np.asarray(d_y, dtype=dtype))
    kernel = np.asarray(params["kernel"], dtype=dtype)
    kernel_size, channels, filters = kernel.shape
    flat_d_z = d_z.reshape(-1, filters)  # (B * T', F)
    grads = {"kernel": (cache.cols.T @ flat_d_z).reshape(kernel.shape)}
    if params.get("bias") is not None:
        grads["bias"] = flat_d_z.sum(axis=0)
    if not input_gradient:
        return grads, None
    batch, steps, _ = cache.input_shape
    out_steps = d_z.shape[1]
    d_windows = (flat_d_z @ kernel.reshape(kernel_size * channels, filters).T).reshape(
        batch, out_steps, kernel_size, channels
    )
    # The padded length that covers every tap of every window (>= the left pad plus T).
    padded = max(cache.left + steps, (out_steps - 1) * cache.strides + cache.dilation_rate * (kernel_size - 1) + 1)
    d_pad = col2im(d_windows, padded, cache.strides, cache.dilation_rate)
    return grads, d_pad[:, cache.left : cache.left + steps]


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], Conv1DCache]:
    """`conv1d_forward` for a ``Conv1D`` layer: ``(y, state, cache)``."""
    y, cache = conv1d_forward(
        params, inputs, strides=layer.strides[0], padding=layer.padding,
        dilation_rate=layer.dilation_rate[0], activation=layer.activation,
    )
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: Conv1DCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`conv1d_backward` for a ``Conv1D`` layer: ``(grads, d_x)``."""
    return conv1d_backward(params, cache, d_outputs, input_gradient=input_gradient)
