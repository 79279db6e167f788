"""The Keras-style ``GaussianNoise`` layer: additive zero-mean noise in training."""

from __future__ import annotations

from typing import Any

from .._base import Layer
from .._registry import register
from .._base import check_single_input
from .dropout import check_rate


@register(
    numpy="scratchlstm._numpy.regularization.gaussian_noise",
    jax="scratchlstm.jax_backend.regularization.gaussian_noise",
)
class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise in training; the identity at inference.

        y = x + stddev * n ,   n ~ N(0, 1) with x's shape

    A regularizer (a form of data augmentation for real-valued inputs), active only with
    ``training=True``. Masks pass through unchanged.

    Args:
        stddev: standard deviation of the noise; Keras accepts values in ``[0, 1]`` only.
        seed: int (or ``numpy.random.Generator``) for the noise of eager calls; in ``fit`` the
            model's generator (NumPy) or its per-step key (JAX) is used.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``input_shape``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> layer = GaussianNoise(0.1, seed=0)
        >>> bool((layer(np.ones((2, 3))) == 1).all())
        True
        >>> round(float(layer(np.zeros((100, 100)), training=True).std()), 1)
        0.1
    """

    supports_masking = True

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        self.stddev = check_rate(stddev, "stddev")
        super().__init__(seed=seed, **kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_single_input(self, input_shape)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev}
