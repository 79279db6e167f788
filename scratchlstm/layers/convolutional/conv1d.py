"""The Keras-style ``Conv1D`` layer: a 1-D convolution over the steps axis (channels last)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ... import initializers
from ..._numpy.activations import get_activation
from .._base import Layer, check_units, reject_unsupported
from .._registry import register

PADDINGS = ("valid", "same", "causal")


def _one_int(value: Any, name: str) -> tuple[int]:
    """Keras' ``standardize_tuple`` for rank 1: an int or a 1-sequence of ints -> ``(n,)``."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(items) != 1 or isinstance(items[0], bool) or not isinstance(items[0], (int, np.integer)):
        raise ValueError(f"{name} must be an integer or a tuple/list of 1 integer, got {value!r}")
    if items[0] < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return (int(items[0]),)


def conv_padding(steps: int, kernel_size: int, strides: int, padding: str, dilation_rate: int) -> tuple[Any, ...]:
    """``(left, right, out_steps)``: the zeros added around the steps axis and the output length.

    With the dilated span ``span = dilation_rate * (kernel_size - 1) + 1``:

    - ``"valid"``: no padding, ``out = floor((steps - span) / strides) + 1``;
    - ``"same"``: ``out = ceil(steps / strides)``; the ``max((out - 1) * strides + span - steps, 0)``
      zeros are split with the smaller half on the left (TensorFlow's and XLA's ``SAME``);
    - ``"causal"``: ``span - 1`` zeros on the left only, then as ``"valid"`` with stride: the
      output at step ``t`` never reads inputs after ``t * strides``.
    """
    span = dilation_rate * (kernel_size - 1) + 1
    if padding == "valid":
        return 0, 0, (steps - span) // strides + 1
    out = (steps - 1) // strides + 1
    if padding == "causal":
        return span - 1, 0, out
    total = max((out - 1) * strides + span - steps, 0)
    return total // 2, total - total // 2, out


@register(numpy="scratchlstm._numpy.convolutional.conv1d", jax="scratchlstm.jax_backend.convolutional.conv1d")
class Conv1D(Layer):
    """``y[b, t] = activation(sum_j x_pad[b, t * s + j * d] @ kernel[j] + bias)``: ``(B, T, C) -> (B, T', F)``.

    Args:
        filters: ``F``, the number of output channels.
        kernel_size: ``K``, an int or a tuple/list of one int.
        strides: ``s`` (int or 1-tuple); ``strides > 1`` with ``dilation_rate > 1`` is refused, as
            in Keras.
        padding: ``"valid"`` (none, ``T' = floor((T - d (K - 1) - 1) / s) + 1``), ``"same"``
            (``T' = ceil(T / s)``, zeros split with the extra one on the right) or ``"causal"``
            (``d (K - 1)`` zeros on the left: step ``t`` sees no later input); case-insensitive.
        data_format: ``None`` or ``"channels_last"`` (``(B, T, C)``); ``"channels_first"`` is not
            implemented.
        dilation_rate: ``d``, the gap between the kernel taps (int or 1-tuple).
        groups: only ``1`` is implemented.
        activation: ``None``/``"linear"`` or a name from `scratchlstm.activations` (``"relu"``, ``"gelu"``, ...).
        use_bias: whether there is a ``bias (F,)``.
        kernel_initializer: for ``kernel (K, C, F)``; default ``"glorot_uniform"`` (fans
            multiplied by ``K``).
        bias_initializer: default ``"zeros"``.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the
            training loss (`scratchlstm.regularizers`), as for ``Dense``.
        kernel_constraint, bias_constraint: projections applied after each update
            (`scratchlstm.constraints`; ``MaxNorm(axis=[0, 1])`` constrains each filter).
        seed, dtype, name, trainable, input_shape: as for `Layer`.

    Weights (Keras' order): ``kernel (K, C, F)``, ``bias (F,)``. A mask is not passed on (as in
    Keras, convolutions do not support masking).

    Examples:
        >>> import numpy as np
        >>> Conv1D(32, 3, activation="relu", seed=0)(np.zeros((4, 10, 128))).shape
        (4, 8, 32)
        >>> Conv1D(8, 3, padding="causal", dilation_rate=2, seed=0)(np.zeros((4, 10, 3))).shape
        (4, 10, 8)
    """

    weight_names = ("kernel", "bias")

    def __init__(self, filters: int, kernel_size: int | tuple[int], strides: int | tuple[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | tuple[int] = 1,
                 groups: int = 1,
                 activation: str | Callable[..., Any] | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, seed: int | None = None, dtype: Any = None,
                 name: str | None = None, trainable: bool = True, input_shape: tuple[Any, ...] | None = None) -> None:
        try:
            check_units(filters)
        except ValueError:
            raise ValueError(f"filters must be a positive integer, got {filters!r}") from None
        kernel_size = _one_int(kernel_size, "kernel_size")
        strides = _one_int(strides, "strides")
        dilation_rate = _one_int(dilation_rate, "dilation_rate")
        if not isinstance(padding, str) or padding.lower() not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS} (case-insensitive), got {padding!r}")
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"data_format must be None, 'channels_last' or 'channels_first', got {data_format!r}")
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        if strides[0] > 1 and dilation_rate[0] > 1:
            raise ValueError(
                f"strides > 1 is not supported together with dilation_rate > 1, got strides={strides} and "
                f"dilation_rate={dilation_rate}"
            )
        get_activation(activation)
        for arg in (kernel_initializer, bias_initializer):
            initializers.get(arg)
        reject_unsupported(
            "Conv1D",
            data_format=("channels_last" if data_format is None else data_format, "channels_last"),
            groups=(int(groups), 1),
        )
        self.set_regularization(
            {
                "kernel_regularizer": (kernel_regularizer, ("kernel",)),
                "bias_regularizer": (bias_regularizer, ("bias",)),
                "kernel_constraint": (kernel_constraint, ("kernel",)),
                "bias_constraint": (bias_constraint, ("bias",)),
            },
            activity_regularizer,
        )
        self.filters = int(filters)
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding.lower()
        self.data_format = "channels_last"
        self.dilation_rate = dilation_rate
        self.groups = 1
        self.activation = None if activation in (None, "linear") else str(activation).lower()
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=input_shape)

    def padding_for(self, steps: int) -> tuple[Any, ...]:
        """``(left, right, out_steps)`` for inputs of ``steps`` steps (see `conv_padding`)."""
        return conv_padding(steps, self.kernel_size[0], self.strides[0], self.padding, self.dilation_rate[0])

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) != 3:
            raise ValueError(
                f"Conv1D {self.name!r} expects one input of shape (batch, steps, channels), got {input_shape}"
            )
        channels, steps = input_shape[-1], input_shape[1]
        if channels is None or channels < 1:
            raise ValueError(f"Conv1D {self.name!r} needs a known, positive channel count, got shape {input_shape}")
        if self.built and channels != self.built_params["kernel"].shape[1]:
            raise ValueError(
                f"Conv1D {self.name!r} was built for {self.built_params['kernel'].shape[1]} channels, got input of "
                f"shape {tuple(input_shape)} with {channels} channels"
            )
        if steps is not None and (steps < 1 or self.padding_for(steps)[2] < 1):
            span = self.dilation_rate[0] * (self.kernel_size[0] - 1) + 1
            raise ValueError(
                f"Conv1D {self.name!r} with padding='valid' needs at least {span} steps (kernel_size="
                f"{self.kernel_size[0]}, dilation_rate={self.dilation_rate[0]}), got input of shape "
                f"{tuple(input_shape)}"
            )

    def initialize(self, input_shape: tuple[Any, ...],
                   rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        shape = (self.kernel_size[0], input_shape[-1], self.filters)
        params = {"kernel": initializers.get(self.kernel_initializer)(shape, rng, self.dtype)}
        if self.use_bias:
            params["bias"] = initializers.get(self.bias_initializer)((self.filters,), rng, self.dtype)
        return params, {}

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        steps = input_shape[1]
        out = None if steps is None else self.padding_for(steps)[2]
        return (input_shape[0], out, self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self.regularization_config(),
        }
