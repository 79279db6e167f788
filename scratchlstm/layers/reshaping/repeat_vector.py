"""The Keras-style ``RepeatVector`` layer: ``(B, F) -> (B, n, F)``."""

from __future__ import annotations

from typing import Any

from .._base import Layer, check_single_input
from .._registry import register
from ._shapes import is_int


@register(numpy="scratchlstm._numpy.reshaping.repeat_vector", jax="scratchlstm.jax_backend.reshaping.repeat_vector")
class RepeatVector(Layer):
    """Repeats each input vector ``n`` times along a new time axis: ``y[:, t] = x`` for ``t < n``.

    The usual bridge from an encoder's last state to a decoder's sequence. Masks are not passed
    on (as Keras).

    Args:
        n: the number of repetitions, a positive integer.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``input_shape``, as for `Layer`.

    Raises:
        TypeError: if ``n`` is not an integer (as Keras).
        ValueError: if ``n`` is not positive.

    Examples:
        >>> import numpy as np
        >>> RepeatVector(3)(np.zeros((2, 32))).shape
        (2, 3, 32)
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        if not is_int(n):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = int(n)
        super().__init__(**kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_single_input(self, input_shape, ndim=2)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}
