"""The Keras-style ``LayerNormalization`` layer: each sample normalized over the feature axes."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ... import initializers
from .._base import Layer, reject_unsupported
from .._registry import register


def canonical_axes(axis: Any, ndim: int, layer: str) -> tuple[int, ...]:
    """``axis`` (an int or a list of ints, negative allowed) as sorted non-negative axes.

    Raises ``ValueError`` for an axis outside ``[-ndim, ndim)``, the batch axis 0, or a repeat.
    """
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not all(-ndim <= a < ndim for a in axes):
        raise ValueError(
            f"{layer} axis={axis!r} is out of range for inputs of rank {ndim}: expected in [{-ndim}, {ndim})"
        )
    positive = [a % ndim for a in axes]
    if 0 in positive:
        raise ValueError(f"{layer} axis={axis!r} names the batch axis 0; expected feature axes in [1, {ndim})")
    if len(set(positive)) != len(positive):
        raise ValueError(f"{layer} axis={axis!r} repeats an axis (rank {ndim}); expected distinct axes")
    return tuple(sorted(positive))


def _check_axis(axis: Any) -> None:
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in items):
        raise TypeError(f"axis must be an int or a non-empty list/tuple of ints, got {axis!r}")


@register(
    numpy="scratchlstm._numpy.normalization.layer_normalization",
    jax="scratchlstm.jax_backend.normalization.layer_normalization",
)
class LayerNormalization(Layer):
    """``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``, the statistics over ``axis``, per sample.

    For ``x (B, T, C)`` and ``axis=-1`` each step of each sample is normalized over its ``C``
    features; ``axis=[1, 2]`` normalizes each sample over all its ``T * C`` values. ``var`` is the
    biased (population) variance, ``epsilon`` is added to it inside the square root.

    Args:
        axis: an int or a list of ints, the axes normalized over (not the batch axis).
        epsilon: added to the variance; Keras' default ``1e-3``.
        center: whether there is a ``beta``.
        scale: whether there is a ``gamma``.
        beta_initializer: default ``"zeros"``.
        gamma_initializer: default ``"ones"``.
        beta_regularizer, gamma_regularizer: penalties on ``beta``/``gamma``
            (`scratchlstm.regularizers`), added to the training loss.
        beta_constraint, gamma_constraint: projections applied after each update
            (`scratchlstm.constraints`).
        seed, dtype, name, trainable, input_shape: as for `Layer`.

    Weights (Keras' order): ``gamma``, ``beta``, each shaped as the input on ``axis`` (sorted):
    ``(C,)`` for ``axis=-1``, ``(T, C)`` for ``axis=[1, 2]``. Masks are passed on unchanged.

    Examples:
        >>> import numpy as np
        >>> y = LayerNormalization()(np.array([[1.0, 2.0, 3.0]]))
        >>> np.round(y, 3).tolist()
        [[-1.224, 0.0, 1.224]]
    """

    weight_names = ("gamma", "beta")
    supports_masking = True

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                 rms_scaling: bool = False, seed: int | None = None, dtype: Any = None, name: str | None = None,
                 trainable: bool = True, input_shape: tuple[Any, ...] | None = None) -> None:
        _check_axis(axis)
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon > 0:
            raise ValueError(f"epsilon must be a positive number, got {epsilon!r}")
        for arg in (beta_initializer, gamma_initializer):
            initializers.get(arg)
        reject_unsupported(
            "LayerNormalization",
            rms_scaling=(bool(rms_scaling), False),
        )
        self.set_regularization({
            "beta_regularizer": (beta_regularizer, ("beta",)),
            "gamma_regularizer": (gamma_regularizer, ("gamma",)),
            "beta_constraint": (beta_constraint, ("beta",)),
            "gamma_constraint": (gamma_constraint, ("gamma",)),
        })
        self.axis: int | list[int] = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)
        self.epsilon: float = float(epsilon)
        self.center: bool = bool(center)
        self.scale: bool = bool(scale)
        self.beta_initializer: Any = beta_initializer
        self.gamma_initializer: Any = gamma_initializer
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=input_shape)

    def axes_for(self, ndim: int) -> tuple[int, ...]:
        """The normalized axes for inputs of rank ``ndim``, sorted and non-negative."""
        return canonical_axes(self.axis, ndim, f"LayerNormalization {self.name!r}")

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"LayerNormalization {self.name!r} expects one input of shape (batch, ..., features), got "
                f"{input_shape}"
            )
        axes = self.axes_for(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None or d < 1 for d in shape):
            raise ValueError(
                f"LayerNormalization {self.name!r} needs known, positive sizes on axis {self.axis}, got input "
                f"shape {tuple(input_shape)}"
            )
        if self.built and self.params:
            built = next(iter(self.params.values())).shape
            if tuple(built) != shape:
                raise ValueError(
                    f"LayerNormalization {self.name!r} was built for sizes {tuple(built)} on axis {self.axis}, "
                    f"got input of shape {tuple(input_shape)}"
                )

    def initialize(self, input_shape: tuple[Any, ...],
                   rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        shape = tuple(input_shape[a] for a in self.axes_for(len(input_shape)))
        params = {}
        if self.scale:
            params["gamma"] = initializers.get(self.gamma_initializer)(shape, rng, self.dtype)
        if self.center:
            params["beta"] = initializers.get(self.beta_initializer)(shape, rng, self.dtype)
        return params, {}

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        self.axes_for(len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            **self.regularization_config(),
        }
