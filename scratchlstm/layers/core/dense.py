"""The Keras-style ``Dense`` layer, acting on the last axis."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ... import initializers
from ..._numpy.activations import get_activation
from .._base import Layer, check_units
from .._registry import register


@register(numpy="scratchlstm._numpy.core.dense", jax="scratchlstm.jax_backend.core.dense")
class Dense(Layer):
    """``y = activation(x @ kernel + bias)`` on the last axis: ``(B, F) -> (B, U)``,
    ``(B, T, F) -> (B, T, U)``.

    Args:
        units: ``U``.
        activation: ``None``/``"linear"`` or any name in `scratchlstm.activations` (``"relu"``,
            ``"tanh"``, ``"gelu"``, ...), or one of its functions.
        use_bias: whether there is a ``bias (U,)``.
        kernel_initializer: for ``kernel (F, U)``; default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        kernel_regularizer, bias_regularizer: penalties on the weights (`scratchlstm.regularizers`:
            ``"l1"``, ``"l2"``, ``"l1_l2"``, ``L2(0.001)``, ...), added to the training loss.
        activity_regularizer: penalty on the output, divided by the batch size (Keras' rule).
        kernel_constraint, bias_constraint: projections applied after each update
            (`scratchlstm.constraints`: ``"max_norm"``, ``"non_neg"``, ``MaxNorm(1)``, ...).
        seed, dtype, name, trainable, input_shape: as for `Layer`.

    Weights (Keras' order): ``kernel (F, U)``, ``bias (U,)``.

    Examples:
        >>> import numpy as np
        >>> Dense(10, seed=0)(np.zeros((32, 25, 20))).shape
        (32, 25, 10)
    """

    weight_names = ("kernel", "bias")
    supports_masking = True

    def __init__(self, units: int, activation: str | Callable[..., Any] | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, seed: int | None = None, dtype: Any = None,
                 name: str | None = None, trainable: bool = True, input_shape: tuple[Any, ...] | None = None) -> None:
        check_units(units)
        get_activation(activation)
        for arg in (kernel_initializer, bias_initializer):
            initializers.get(arg)
        self.set_regularization(
            {
                "kernel_regularizer": (kernel_regularizer, ("kernel",)),
                "bias_regularizer": (bias_regularizer, ("bias",)),
                "kernel_constraint": (kernel_constraint, ("kernel",)),
                "bias_constraint": (bias_constraint, ("bias",)),
            },
            activity_regularizer,
        )
        self.units = int(units)
        self.activation = None if activation in (None, "linear") else str(activation).lower()
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=input_shape)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"Dense {self.name!r} expects one input of shape (batch, ..., features), got "
                f"{input_shape}"
            )
        if self.built and input_shape[-1] != self.built_params["kernel"].shape[0]:
            raise ValueError(
                f"Dense {self.name!r} was built for {self.built_params['kernel'].shape[0]} features, got input of "
                f"shape {tuple(input_shape)} with {input_shape[-1]} features"
            )
        if input_shape[-1] is None or input_shape[-1] < 1:
            raise ValueError(f"Dense {self.name!r} needs a known, positive feature count, got shape {input_shape}")

    def initialize(self, input_shape: tuple[Any, ...],
                   rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        params = {
            "kernel": initializers.get(self.kernel_initializer)((input_shape[-1], self.units), rng, self.dtype)
        }
        if self.use_bias:
            params["bias"] = initializers.get(self.bias_initializer)((self.units,), rng, self.dtype)
        return params, {}

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self.regularization_config(),
        }
