"""RepeatVector as two pure functions: copy a vector along a new time axis; sum it back.

    y[:, t, :] = x            for t = 0 .. n-1        x: (B, F)   y: (B, n, F)
    d x        = sum_t d y[:, t, :]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def repeat_vector_forward(x: ArrayLike, n: int) -> tuple[NDArray[Any], None]:
    """``(B, F) -> (B, n, F)``, every step a copy of ``x``.

    Args:
        x: ``(B, F)``.
        n: the number of repetitions.

    Returns:
        ``(y, cache)``; the cache is ``None`` (the backward needs nothing).

    Raises:
        ValueError: if ``x`` is not 2-D.

    Examples:
        >>> import numpy as np
        >>> y, _ = repeat_vector_forward(np.array([[1.0, 2.0]]), 3)
        >>> y.tolist()
        [[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (batch, features), got shape {x.shape}")
    return np.repeat(x[:, None, :], n, axis=1), None  # (B, n, F)


def repeat_vector_backward(cache: None, d_y: ArrayLike) -> NDArray[Any]:
    """Gradient of `repeat_vector_forward`: ``d x = sum_t d y[:, t]``.

    Args:
        cache: the (empty) cache of the forward call.
        d_y: ``(B, n, F)``.

    Returns:
        ``d_x`` of shape ``(B, F)``.
    """
    d_x: NDArray[Any] = np.asarray(d_y).sum(axis=1)
    return d_x


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], None]:
    """`repeat_vector_forward` for a ``RepeatVector`` layer: ``(y, state, cache)``."""
    y, cache = repeat_vector_forward(inputs, layer.n)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: None, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None]:
    """`repeat_vector_backward` for a ``RepeatVector`` layer: ``({}, d_x)``."""
    return {}, repeat_vector_backward(cache, d_outputs) if input_gradient else None
