"""The Keras-style ``Dropout`` layer: drop a fraction of the inputs in training, scale the rest."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._numpy.regularization.dropout import concrete_noise_shape
from .._base import Layer, check_single_input
from .._registry import register


def check_rate(value: Any, name: str = "rate") -> float:
    """``value`` as a float in ``[0, 1]``, or ``ValueError`` naming what was received (as Keras)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between 0 and 1. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def check_noise_shape(noise_shape: Any) -> tuple[int | None, ...] | None:
    """Keras' validation of ``noise_shape``: ``None``, or a tuple of positive ints and ``None``."""
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str):
        raise ValueError(
            "Invalid value received for argument `noise_shape`. Expected a tuple or list of integers. "
            f"Received: noise_shape={noise_shape!r}"
        )
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(
            "Invalid value received for argument `noise_shape`. Expected an iterable of integers "
            f"(e.g., a tuple or list). Received: noise_shape={noise_shape!r}"
        ) from None
    for index, dim in enumerate(noise_shape):
        if dim is None:
            continue
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all elements to be integers "
                f"or None. Received element at index {index}: {dim!r} (type: {type(dim).__name__})"
            )
        if dim <= 0:
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected all dimensions to be positive "
                f"integers or None. Received {dim} at index {index} of noise_shape={noise_shape}"
            )
    return tuple(None if d is None else int(d) for d in noise_shape)


@register(numpy="scratchlstm._numpy.regularization.dropout", jax="scratchlstm.jax_backend.regularization.dropout")
class Dropout(Layer):
    """Sets a fraction ``rate`` of the inputs to 0 in training and scales the rest by
    ``1 / (1 - rate)``, so that the expected sum is unchanged; the identity at inference.

        keep ~ Bernoulli(1 - rate) in noise_shape ;  y = keep * x / (1 - rate)

    Active only when called with ``training=True`` (``fit`` does; ``predict`` does not). Masks
    pass through unchanged.

    Args:
        rate: fraction of the inputs to drop, in ``[0, 1]``.
        noise_shape: shape of the binary mask, batch axis included, broadcast to the input:
            e.g. ``(batch_size, 1, features)`` (or ``(None, 1, None)``) drops the same features
            at every time step. ``None`` entries take the input's size on that axis.
        seed: int (or ``numpy.random.Generator``) for the masks of eager calls; in ``fit`` the
            model's generator (NumPy) or its per-step key (JAX) is used.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``input_shape``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> layer = Dropout(0.5, seed=0)
        >>> bool((layer(np.ones((2, 3))) == 1).all())
        True
        >>> sorted(set(layer(np.ones((4, 100)), training=True).ravel().tolist()))
        [0.0, 2.0]
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: tuple[Any, ...] | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        self.rate = check_rate(rate)
        self.noise_shape = check_noise_shape(noise_shape)
        super().__init__(seed=seed, **kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_single_input(self, input_shape)
        concrete_noise_shape(self.noise_shape, input_shape)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape}
