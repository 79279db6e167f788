"""The Keras-style ``Dense`` layer, acting on the last axis."""

from __future__ import annotations

from .. import initializers
from .._checks import as_float_array, check_finite
from .._numpy.activations import get_activation
from .._numpy.dense import dense_backward, dense_forward
from ._base import Layer, check_units, reject_unsupported


class Dense(Layer):
    """``y = activation(x @ kernel + bias)`` on the last axis: ``(B, F) -> (B, U)``,
    ``(B, T, F) -> (B, T, U)``.

    Args:
        units: ``U``.
        activation: ``None``/``"linear"``, ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"softmax"``.
        use_bias: whether there is a ``bias (U,)``.
        kernel_initializer: for ``kernel (F, U)``; default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        seed, dtype, name, input_shape: as for `LSTM`.

    Examples:
        >>> import numpy as np
        >>> Dense(10, seed=0)(np.zeros((32, 25, 20))).shape
        (32, 25, 10)
    """

    weight_names = ("kernel", "bias")

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        dtype=None,
        name=None,
        input_shape=None,
    ):
        check_units(units)
        get_activation(activation)
        for arg in (kernel_initializer, bias_initializer):
            initializers.get(arg)
        reject_unsupported(
            "Dense",
            kernel_regularizer=(kernel_regularizer, None),
            bias_regularizer=(bias_regularizer, None),
            activity_regularizer=(activity_regularizer, None),
            kernel_constraint=(kernel_constraint, None),
            bias_constraint=(bias_constraint, None),
        )
        self.units = int(units)
        self.activation = None if activation in (None, "linear") else str(activation).lower()
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        super().__init__(name=name, dtype=dtype, seed=seed, input_shape=input_shape)

    def validate_input_shape(self, input_shape) -> None:
        if len(input_shape) < 2:
            raise ValueError(
                f"Dense {self.name!r} expects input of shape (batch, ..., features), got "
                f"{tuple(input_shape)}"
            )
        if self.built and input_shape[-1] != self.input_shape[-1]:
            raise ValueError(
                f"Dense {self.name!r} was built for {self.input_shape[-1]} features, got input of "
                f"shape {tuple(input_shape)} with {input_shape[-1]} features"
            )

    def initialize(self, input_shape, rng) -> dict:
        params = {
            "kernel": initializers.get(self.kernel_initializer)((input_shape[-1], self.units), rng, self.dtype)
        }
        if self.use_bias:
            params["bias"] = initializers.get(self.bias_initializer)((self.units,), rng, self.dtype)
        return params

    def compute_output_shape(self, input_shape) -> tuple:
        return (*input_shape[:-1], self.units)

    def __call__(self, x):
        x = as_float_array(x, "x")
        check_finite(x, f"input to Dense {self.name!r}")
        self.validate_input_shape(x.shape)
        if not self.built:
            self.build(x.shape, x.dtype)
        y, _ = dense_forward(self.params, x.astype(self.dtype, copy=False), self.activation)
        return y

    def forward(self, params, x):
        return dense_forward(params, x, self.activation)

    def backward(self, params, cache, d_y, input_gradient=True):
        return dense_backward(params, cache, d_y, input_gradient=input_gradient)

    def get_config(self) -> dict:
        return {
            "class_name": "Dense",
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "dtype": self.dtype.name,
            "name": self.name,
        }
