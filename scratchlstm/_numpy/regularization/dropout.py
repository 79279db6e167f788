"""Dropout as pure functions: a keep-mask drawn once, the forward and the backward both use it.

    keep ~ Bernoulli(1 - rate)              drawn in the noise shape, broadcast to x's shape
    y    = keep * x / (1 - rate)            (inverted dropout: E[y] = x)
    d x  = keep * d y / (1 - rate)          the same mask, taken from the cache

Only in training; at inference ``y = x``. ``rate = 1`` drops everything (``y = 0``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray


def concrete_noise_shape(
    noise_shape: Sequence[int | None] | None, input_shape: Sequence[int | None],
) -> tuple[int | None, ...]:
    """The shape of the keep-mask for inputs shaped ``input_shape``, as Keras resolves it.

    Keras fills a ``None`` entry ``i`` of ``noise_shape`` with ``input_shape[i]`` and then
    broadcasts the mask to the input (NumPy rules: aligned on the right, 1 stretches).

    Args:
        noise_shape: ``None`` (one draw per element) or a tuple of ints and ``None``, batch
            axis included, e.g. ``(None, 1, None)`` for one mask per sequence.
        input_shape: the input's shape, batch axis first; entries may be ``None`` (unknown).

    Returns:
        the mask shape (entries are ``None`` only where the input's are unknown).

    Raises:
        ValueError: if the mask cannot broadcast to the input.
    """
    input_shape = tuple(input_shape)
    if noise_shape is None:
        return input_shape
    noise_shape = tuple(noise_shape)
    if len(noise_shape) > len(input_shape):
        raise ValueError(
            f"noise_shape={noise_shape} has {len(noise_shape)} axes but the input has shape {input_shape} "
            f"({len(input_shape)} axes); expected at most {len(input_shape)} axes"
        )
    concrete = tuple(input_shape[i] if n is None else n for i, n in enumerate(noise_shape))
    for n, d in zip(reversed(concrete), reversed(input_shape)):
        if n is not None and d is not None and n not in (1, d):
            raise ValueError(
                f"noise_shape={noise_shape} (resolved to {concrete}) does not broadcast to the input shape "
                f"{input_shape}: each axis of the mask (aligned on the right) must be 1 or the input's size"
            )
    return concrete


def draw_dropout_mask(rng: np.random.Generator, rate: float, shape: Sequence[int]) -> NDArray[np.bool_]:
    """A boolean keep-mask: each entry ``True`` with probability ``1 - rate``.

    Args:
        rng: the generator to draw from.
        rate: the fraction to drop, in ``[0, 1]``.
        shape: the mask shape (the noise shape).

    Returns:
        a bool array of ``shape`` (``True`` = kept).
    """
    return rng.random(shape) < 1.0 - rate


@dataclass(frozen=True)
class DropoutCache:
    """``keep`` (the bool mask in the noise shape, or ``None`` for the identity) and ``rate``."""

    keep: NDArray[np.bool_] | None
    rate: float


def dropout_forward(x: ArrayLike, rate: float, keep: ArrayLike | None = None) -> tuple[NDArray[Any], DropoutCache]:
    """``y = keep * x / (1 - rate)``, or ``y = x`` without a mask.

    Args:
        x: ``(B, ...)`` any rank.
        rate: the fraction dropped, in ``[0, 1]``.
        keep: ``None`` (inference: identity) or a bool mask that broadcasts to ``x`` (from
            `draw_dropout_mask`).

    Returns:
        ``(y, cache)`` with ``y`` shaped like ``x`` (read-only: it may be a view of ``x``).

    Examples:
        >>> import numpy as np
        >>> y, _ = dropout_forward(np.ones((1, 4)), 0.5, np.array([[True, False, True, False]]))
        >>> y.tolist()
        [[2.0, 0.0, 2.0, 0.0]]
    """
    x = np.asarray(x)
    if keep is None:
        y = x.view()
    else:
        keep = np.asarray(keep, dtype=bool)
        if not _broadcasts_to(keep.shape, x.shape):
            raise ValueError(f"the keep-mask of shape {keep.shape} does not broadcast to the input shape {x.shape}")
        y = _scale(x, keep, rate)
    y.flags.writeable = False
    return y, DropoutCache(keep, float(rate))


def dropout_backward(cache: DropoutCache, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `dropout_forward`: ``d x = keep * d y / (1 - rate)`` with the cached mask.

    Args:
        cache: the `DropoutCache` of the forward call.
        d_y: ``(B, ...)`` gradient with respect to its output.

    Returns:
        ``d_x`` shaped like ``d_y``.
    """
    d_y = np.asarray(d_y)
    if cache.keep is None:
        return d_y
    return _scale(d_y, cache.keep, cache.rate)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _scale(values: NDArray[Any], keep: NDArray[np.bool_], rate: float) -> NDArray[Any]:
    """``keep * values / (1 - rate)`` (zeros when ``rate = 1``), in ``values``' dtype."""
    zero = values.dtype.type(0)
    if rate >= 1.0:
        return np.zeros_like(values)
    return np.where(keep, values / (1.0 - rate), zero)  # (B, ...) as Keras: x / keep_prob


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def keep_mask_for(
    layer: Any, x: ArrayLike, noise_shape: Sequence[int | None] | None, *, training: bool,
    rng: np.random.Generator | None,
) -> NDArray[np.bool_] | None:
    """The keep-mask a dropout layer uses on ``x`` (``None`` outside training or with rate 0).

    Args:
        layer: the layer (its ``rate``, and its own generator when ``rng`` is ``None``).
        x: the input.
        noise_shape: the layer's noise shape (``None`` entries take the input's sizes).
        training: whether to drop.
        rng: the ``numpy.random.Generator`` to draw from (the model's, in ``fit``).

    Returns:
        a bool mask in the concrete noise shape, or ``None``.
    """
    if not training or layer.rate == 0:
        return None
    shape = concrete_noise_shape(noise_shape, np.shape(x))
    concrete = cast("tuple[int, ...]", shape)  # an array's shape has no None entries to keep
    return draw_dropout_mask(rng if rng is not None else layer._rng, layer.rate, concrete)


def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], DropoutCache]:
    """`dropout_forward` for a ``Dropout`` layer, drawing its mask in training: ``(y, state, cache)``."""
    keep = keep_mask_for(layer, inputs, layer.noise_shape, training=training, rng=rng)
    y, cache = dropout_forward(inputs, layer.rate, keep)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: DropoutCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`dropout_backward` for a ``Dropout`` layer: ``({}, d_x)``."""
    return {}, dropout_backward(cache, d_outputs) if input_gradient else None
