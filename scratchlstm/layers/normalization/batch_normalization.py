"""The Keras-style ``BatchNormalization`` layer: batch statistics in training, moving ones after."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ... import initializers
from .._base import Layer, reject_unsupported
from .._registry import register


@register(
    numpy="scratchlstm._numpy.normalization.batch_normalization",
    jax="scratchlstm.jax_backend.normalization.batch_normalization",
)
class BatchNormalization(Layer):
    """``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` per channel on ``axis``.

    In training (``fit``, or ``layer(x, training=True)``) ``mean`` and ``var`` are the batch's:
    the biased moments over every axis except ``axis`` (for ``(B, T, C)`` and ``axis=-1``: over
    ``B`` and ``T``), over the unmasked positions only when a ``(B, T)`` mask arrives, and the
    moving statistics move towards them:

        moving_mean     = moving_mean * momentum + mean * (1 - momentum)
        moving_variance = moving_variance * momentum + var * (1 - momentum)

    In inference (``predict``, ``evaluate``, ``layer(x)``) ``mean``/``var`` are the moving
    statistics. As in Keras, a frozen layer (``trainable=False``) always runs in inference mode:
    it neither uses nor updates batch statistics, even inside ``fit``.

    Args:
        axis: the channel axis (an int, not the batch axis).
        momentum: of the moving averages; default ``0.99``.
        epsilon: added to the variance; default ``1e-3``.
        center: whether there is a ``beta``.
        scale: whether there is a ``gamma``.
        beta_initializer, gamma_initializer: defaults ``"zeros"``, ``"ones"``.
        moving_mean_initializer, moving_variance_initializer: defaults ``"zeros"``, ``"ones"``.
        beta_regularizer, gamma_regularizer: penalties on ``beta``/``gamma``
            (`scratchlstm.regularizers`), added to the training loss.
        beta_constraint, gamma_constraint: projections applied after each update
            (`scratchlstm.constraints`).
        seed, dtype, name, trainable, input_shape: as for `Layer`.

    Weights (Keras' order): ``gamma (C,)``, ``beta (C,)`` (trainable), then ``moving_mean (C,)``,
    ``moving_variance (C,)`` (non-trainable state). Masks are passed on unchanged.

    Examples:
        >>> import numpy as np
        >>> layer = BatchNormalization(momentum=0.5)
        >>> x = np.array([[0.0], [2.0]])
        >>> np.round(layer(x, training=True), 4).tolist()
        [[-0.9995], [0.9995]]
        >>> [w.tolist() for w in layer.get_weights()[2:]]
        [[0.5], [1.0]]
    """

    weight_names = ("gamma", "beta")
    state_names = ("moving_mean", "moving_variance")
    supports_masking = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, renorm: bool = False, renorm_clipping: dict[str, Any] | None = None,
                 renorm_momentum: float = 0.99, synchronized: bool = False, seed: int | None = None, dtype: Any = None,
                 name: str | None = None, trainable: bool = True, input_shape: tuple[Any, ...] | None = None) -> None:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an int, got {axis!r}")
        for what, value in (("momentum", momentum), ("epsilon", epsilon)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{what} must be a number, got {value!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        for arg in (beta_initializer, gamma_initializer, moving_mean_initializer, moving_variance_initializer):
            initializers.get(arg)
        reject_unsupported(
            "BatchNormalization",
            renorm=(bool(renorm), False),
            renorm_clipping=(renorm_clipping, None),
            renorm_momentum=(renorm_momentum, 0.99),
            synchronized=(bool(synchronized), False),
        )
        self.set_regularization({
            "beta_regularizer": (beta_regularizer, ("beta",)),
            "gamma_regularizer": (gamma_regularizer, ("gamma",)),
            "beta_constraint": (beta_constraint, ("beta",)),
            "gamma_constraint": (gamma_constraint, ("gamma",)),
        })
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=input_shape)

    def axis_for(self, ndim: int) -> int:
        """The channel axis for inputs of rank ``ndim``, non-negative."""
        if not -ndim <= self.axis < ndim:
            raise ValueError(
                f"BatchNormalization {self.name!r} axis={self.axis} is out of range for inputs of rank {ndim}: "
                f"expected in [{-ndim}, {ndim})"
            )
        axis = self.axis % ndim
        if axis == 0:
            raise ValueError(
                f"BatchNormalization {self.name!r} axis={self.axis} names the batch axis 0 of inputs of rank "
                f"{ndim}; expected a channel axis in [1, {ndim})"
            )
        return axis

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"BatchNormalization {self.name!r} expects one input of shape (batch, ..., channels), got "
                f"{input_shape}"
            )
        channels = input_shape[self.axis_for(len(input_shape))]
        if channels is None or channels < 1:
            raise ValueError(
                f"BatchNormalization {self.name!r} needs a known, positive size on axis {self.axis}, got input "
                f"shape {tuple(input_shape)}"
            )
        if self.built and channels != self.state["moving_mean"].shape[0]:
            raise ValueError(
                f"BatchNormalization {self.name!r} was built for {self.state['moving_mean'].shape[0]} channels on "
                f"axis {self.axis}, got input of shape {tuple(input_shape)}"
            )

    def initialize(self, input_shape: tuple[Any, ...],
                   rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        shape = (input_shape[self.axis_for(len(input_shape))],)
        params = {}
        if self.scale:
            params["gamma"] = initializers.get(self.gamma_initializer)(shape, rng, self.dtype)
        if self.center:
            params["beta"] = initializers.get(self.beta_initializer)(shape, rng, self.dtype)
        state = {
            "moving_mean": initializers.get(self.moving_mean_initializer)(shape, rng, self.dtype),
            "moving_variance": initializers.get(self.moving_variance_initializer)(shape, rng, self.dtype),
        }
        return params, state

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        self.axis_for(len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            **self.regularization_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
        }
