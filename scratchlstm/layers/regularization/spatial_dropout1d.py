"""The Keras-style ``SpatialDropout1D`` layer: dropout of whole channels of a sequence."""

from __future__ import annotations

from typing import Any

from .._registry import register
from .._base import check_single_input
from .dropout import Dropout


@register(
    numpy="scratchlstm._numpy.regularization.spatial_dropout1d",
    jax="scratchlstm.jax_backend.regularization.spatial_dropout1d",
)
class SpatialDropout1D(Dropout):
    """`Dropout` of entire channels: one mask entry per (sample, channel), shared by all time steps.

        keep ~ Bernoulli(1 - rate) of shape (B, 1, C) ;  y = keep * x / (1 - rate)

    For ``(B, T, C)`` inputs whose neighbouring steps are strongly correlated, where dropping
    single entries barely regularizes. Active only with ``training=True``; masks pass through.

    Args:
        rate: fraction of the channels to drop, in ``[0, 1]``.
        seed: int (or ``numpy.random.Generator``) for the masks of eager calls.
        name: as for `Layer`.
        dtype: as for `Layer` (Keras' ``SpatialDropout1D`` takes only these four arguments).
        **kwargs: ``trainable``, ``input_shape``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> y = SpatialDropout1D(0.5, seed=0)(np.ones((2, 3, 4)), training=True)
        >>> bool((y == y[:, :1]).all())
        True
    """

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_single_input(self, input_shape, ndim=3)

    def spatial_noise_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        """``(B, 1, C)``: one draw per sample and channel."""
        return (input_shape[0], 1, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("noise_shape")
        return config
