"""The one conversion module: every change of axis order or weight layout lives here.

The library's layout is Keras': ``kernel (I, 4H)``, ``recurrent_kernel (H, 4H)``, ``bias (4H,)``,
gate blocks ``[i, f, c, o]``, data batch-first ``(B, T, F)``. The NumPy recurrence runs
time-major internally so that each step reads and writes contiguous ``(B, ·)`` slabs.
PyTorch's ``nn.LSTM`` uses the same gate order with transposed matrices and two biases.
"""

from __future__ import annotations

import numpy as np


def to_time_major(x: np.ndarray) -> np.ndarray:
    """``(B, T, ...) -> (T, B, ...)`` as a view (no copy)."""
    return np.swapaxes(x, 0, 1)


def to_batch_major(x: np.ndarray) -> np.ndarray:
    """``(T, B, ...) -> (B, T, ...)`` as a view (no copy)."""
    return np.swapaxes(x, 0, 1)


def lstm_params_from_torch(weight_ih, weight_hh, bias_ih=None, bias_hh=None) -> dict:
    """Convert PyTorch ``nn.LSTM`` layer-0 weights to this library's parameter dict.

    Args:
        weight_ih: ``(4H, I)``, PyTorch ``weight_ih_l0``.
        weight_hh: ``(4H, H)``, PyTorch ``weight_hh_l0``.
        bias_ih, bias_hh: ``(4H,)`` each, or ``None`` when the layer has no bias.

    Returns:
        ``{"kernel": (I, 4H), "recurrent_kernel": (H, 4H), "bias": (4H,)}``; the two PyTorch
        biases are summed, which is exact because they always appear added together.
    """
    weight_ih = np.asarray(weight_ih)
    weight_hh = np.asarray(weight_hh)
    bias = np.zeros(weight_ih.shape[0], dtype=weight_ih.dtype)
    for b in (bias_ih, bias_hh):
        if b is not None:
            bias = bias + np.asarray(b)
    return {
        "kernel": np.ascontiguousarray(weight_ih.T),
        "recurrent_kernel": np.ascontiguousarray(weight_hh.T),
        "bias": bias,
    }


def lstm_params_to_torch(params: dict) -> dict:
    """Inverse of `lstm_params_from_torch`; the whole bias goes to ``bias_ih_l0``.

    Returns:
        ``{"weight_ih_l0": (4H, I), "weight_hh_l0": (4H, H), "bias_ih_l0": (4H,),
        "bias_hh_l0": (4H,) zeros}``.
    """
    bias = np.asarray(params["bias"])
    return {
        "weight_ih_l0": np.ascontiguousarray(np.asarray(params["kernel"]).T),
        "weight_hh_l0": np.ascontiguousarray(np.asarray(params["recurrent_kernel"]).T),
        "bias_ih_l0": bias.copy(),
        "bias_hh_l0": np.zeros_like(bias),
    }
