"""``TimeDistributed`` in NumPy: fold the time axis into the batch, run the wrapped layer's own
ops once, unfold.

    x (B, T, ...)  ->  (B*T, ...)  --wrapped layer-->  (B*T, ...')  ->  y (B, T, ...')

The backward is the wrapped layer's backward between the same reshapes: its weight gradients
already sum over all ``B*T`` rows, i.e. over every time step, as the shared weights need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...layers._registry import numpy_ops


def fold_time(x: ArrayLike) -> NDArray[Any]:
    """``(B, T, ...) -> (B*T, ...)`` (a view when ``x`` is contiguous)."""
    x = np.asarray(x)
    folded: NDArray[Any] = x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])
    return folded


def unfold_time(y: Any, batch: int, steps: int) -> Any:
    """``(B*T, ...) -> (B, T, ...)``; lists (several outputs) element by element; ``None`` stays."""
    if isinstance(y, (list, tuple)):
        return [unfold_time(v, batch, steps) for v in y]
    return None if y is None else np.asarray(y).reshape(batch, steps, *np.shape(y)[1:])


def folded_mask(mask: ArrayLike | None, x_shape: tuple[int, ...]) -> NDArray[Any] | None:
    """The mask the wrapped layer gets: a ``(B, T, ...)`` mask folded to ``(B*T, ...)``; a
    ``(B, T)`` mask (one flag per folded row) is not passed on. Checked against ``x_shape``."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.ndim < 2 or mask.shape[:2] != tuple(x_shape[:2]):
        raise ValueError(
            f"The mask passed to TimeDistributed must start with the input's (batch, time) = {tuple(x_shape[:2])}, "
            f"got a mask of shape {mask.shape}"
        )
    return fold_time(mask) if mask.ndim > 2 else None


@dataclass(frozen=True)
class TimeDistributedCache:
    """The wrapped layer's cache and the folded sizes."""

    inner: object
    batch: int
    steps: int


def time_distributed_forward(
    inner: Any, params: dict[str, Any], state: dict[str, Any], x: ArrayLike, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: ArrayLike | None = None,
) -> tuple[Any, dict[str, Any], TimeDistributedCache]:
    """The wrapped layer ``inner`` on every time step of ``x``.

    Args:
        inner: the wrapped layer (its registered NumPy ops are called).
        params, state: the wrapped layer's.
        x: ``(B, T, ...)``.
        training, rng: passed on.
        mask: ``None`` or ``(B, T, ...)`` booleans (see `folded_mask`).

    Returns:
        ``(y, new_state, cache)`` with ``y`` of shape ``(B, T, ...')``.
    """
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(
            f"TimeDistributed expects inputs of at least 3 dimensions (batch, time, ...), got shape {x.shape}"
        )
    batch, steps = x.shape[:2]
    y, new_state, cache = numpy_ops(inner).layer_forward(
        inner, params, state, fold_time(x), training=training, rng=rng, mask=folded_mask(mask, x.shape)
    )
    return unfold_time(y, batch, steps), new_state, TimeDistributedCache(cache, batch, steps)


def time_distributed_backward(
    inner: Any, params: dict[str, Any], cache: TimeDistributedCache, d_y: Any, *, input_gradient: bool = True
) -> tuple[dict[str, Any], Any]:
    """Gradients of `time_distributed_forward`: ``(grads, d_x)``, the wrapped layer's, unfolded.

    Args:
        inner: the wrapped layer.
        params: its params.
        cache: what the forward returned.
        d_y: ``(B, T, ...')``.
        input_gradient: ``False`` returns ``None`` for ``d_x``.
    """
    d_folded = [fold_time(d) for d in d_y] if isinstance(d_y, (list, tuple)) else fold_time(d_y)
    grads, d_x = numpy_ops(inner).layer_backward(inner, params, cache.inner, d_folded, input_gradient=input_gradient)
    return grads, unfold_time(d_x, cache.batch, cache.steps)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[Any, dict[str, Any], TimeDistributedCache]:
    """`time_distributed_forward` for a ``TimeDistributed`` layer: ``(y, state, cache)``."""
    return time_distributed_forward(layer.layer, params, state, inputs, training=training, rng=rng, mask=mask)


def layer_backward(
    layer: Any, params: dict[str, Any], cache: TimeDistributedCache, d_outputs: Any, *, input_gradient: bool = True
) -> tuple[dict[str, Any], Any]:
    """`time_distributed_backward` for a ``TimeDistributed`` layer: ``(grads, d_x)``."""
    return time_distributed_backward(layer.layer, params, cache, d_outputs, input_gradient=input_gradient)
