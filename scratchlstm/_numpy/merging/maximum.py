"""The Maximum merge as two pure functions: a left fold of the pairwise maximum.

    y = max(... max(max(x_1, x_2), x_3) ..., x_n)     x_i: (B, ...) broadcasting as Keras allows

The gradient of each pairwise step goes to the operand that won; at a tie it is split evenly
(as JAX's autodiff of ``jnp.maximum`` splits it), so three tied inputs get 1/4, 1/4, 1/2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._merge import SelectCache, select_backward, select_forward


def maximum_forward(
    inputs: Sequence[ArrayLike], mask: Sequence[ArrayLike | None] | None = None,
) -> tuple[NDArray[Any], SelectCache]:
    """The elementwise maximum of the inputs, with Keras' masking.

    Args:
        inputs: a list of at least two arrays ``(B, ...)``.
        mask: ``None``, or one ``(B, T)`` bool mask (or ``None``) per input; a masked step
            of an input does not compete (see `select_forward`).

    Returns:
        ``(y, cache)`` with ``y`` of the broadcast shape.

    Examples:
        >>> import numpy as np
        >>> y, _ = maximum_forward([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])])
        >>> y.tolist()
        [[3.0, 5.0]]
    """
    return select_forward(inputs, mask, np.maximum, "maximum_forward")


def maximum_backward(cache: SelectCache, d_y: ArrayLike) -> list[NDArray[Any]]:
    """Gradients of `maximum_forward`, one per input, each shaped like its input.

    Each pairwise step passes ``d out`` to its left operand where it is greater (all of it),
    equal (half) or not (none), and the rest to its right operand (`select_backward`).
    """
    return select_backward(cache, d_y, np.greater)


# --- the layer protocol (DESIGN §7) -------------------------------------------------------------
def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[NDArray[Any], dict[str, NDArray[Any]], SelectCache]:
    """`maximum_forward` for a ``Maximum`` layer: ``(y, state, cache)``."""
    y, cache = maximum_forward(inputs, mask)
    return y, state, cache


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: SelectCache, d_outputs: ArrayLike, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], list[NDArray[Any]] | None]:
    """`maximum_backward` for a ``Maximum`` layer: ``({}, [d_x_1, ..., d_x_n])``."""
    return {}, maximum_backward(cache, d_outputs) if input_gradient else None
