"""``InputLayer`` in NumPy: the identity (a graph seeds its input tensors directly)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def layer_forward(
    layer: Any, params: dict[str, NDArray[Any]], state: dict[str, NDArray[Any]], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[Any, dict[str, NDArray[Any]], None]:
    return inputs, state, None


def layer_backward(
    layer: Any, params: dict[str, NDArray[Any]], cache: None, d_outputs: Any, *, input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], Any]:
    return {}, d_outputs
