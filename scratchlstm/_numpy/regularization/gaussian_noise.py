"""GaussianNoise as pure functions: noise drawn once, added in the forward; the backward is the identity.

    y   = x + noise ,   noise = stddev * N(0, 1) in x's shape     (training only; else y = x)
    d x = d y
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def draw_gaussian_noise(
    rng: np.random.Generator, stddev: float, shape: Sequence[int],
    dtype: np.dtype[np.floating[Any]] | type[np.floating[Any]] = np.float64,
) -> NDArray[Any]:
    """``stddev * N(0, 1)`` of ``shape`` and ``dtype`` (float32 is drawn in float32, as Keras).

    Args:
        rng: the generator to draw from.
        stddev: the standard deviation.
        shape: the input's shape.
        dtype: float32 or float64.

    Returns:
        the noise array.
    """
    noise: NDArray[Any] = rng.standard_normal(shape, dtype=np.dtype(dtype)) * np.dtype(dtype).type(stddev)
    return noise


@dataclass(frozen=True)
class GaussianNoiseCache:
    """``noise`` (what the forward added, or ``None``): the backward needs nothing else."""

    noise: NDArray[Any] | None


def gaussian_noise_forward(x: ArrayLike, noise: ArrayLike | None = None) -> tuple[NDArray[Any], GaussianNoiseCache]:
    """``y = x + noise``, or ``y = x`` without noise (inference).

    Args:
        x: ``(B, ...)`` any rank.
        noise: ``None`` or an array shaped like ``x`` (from `draw_gaussian_noise`).

    Returns:
        ``(y, cache)`` with ``y`` shaped like ``x`` (read-only: it may be a view of ``x``).

    Raises:
        ValueError: if ``noise`` is not shaped like ``x``.
    """
    x = np.asarray(x)
    if noise is None:
        y = x.view()
    else:
        noise = np.asarray(noise)
        if noise.shape != x.shape:
            raise ValueError(f"noise must be shaped like the input {x.shape}, got {noise.shape}")
        y = x + noise.astype(x.dtype, copy=False)
    y.flags.writeable = False
    return y, GaussianNoiseCache(noise)


def gaussian_noise_backward(cache: GaussianNoiseCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `gaussian_noise_forward`: ``d x = d y`` (the noise does not depend on ``x``).

    Args:
        cache: the `GaussianNoiseCache` of the forward call.
        d_y: the gradient with respect to its output.

    Returns:
        ``d_x``, which is ``d_y``.
    """
    return np.asarray(d_y)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], GaussianNoiseCache]:
    """`gaussian_noise_forward`, with noise drawn in training: ``(y, state, cache)``."""
    noise = None
    if training and layer.stddev > 0:
        x = np.asarray(inputs)
        noise = draw_gaussian_noise(rng if rng is not None else layer._rng, layer.stddev, x.shape, x.dtype)
    y, cache = gaussian_noise_forward(inputs, noise)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: GaussianNoiseCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`gaussian_noise_backward`: ``({}, d_x)``."""
    return {}, gaussian_noise_backward(cache, d_outputs) if input_gradient else None
