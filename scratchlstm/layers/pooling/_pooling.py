"""The bases of the 1-D pooling layers: Keras' arguments, shapes and configs, no math.

Window poolings (`MaxPooling1D`, `AveragePooling1D`) take ``(B, T, C)`` and slide a window of
``pool_size`` steps every ``strides`` steps:

    "valid": T_out = floor((T - pool_size) / strides) + 1
    "same":  T_out = ceil(T / strides)

Global poolings (`GlobalAveragePooling1D`, `GlobalMaxPooling1D`) reduce the whole time axis:
``(B, T, C) -> (B, C)`` (``(B, 1, C)`` with ``keepdims``). ``data_format="channels_first"``
reads ``(B, C, T)`` instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._base import Layer

DATA_FORMATS = ("channels_last", "channels_first")


def standardize_size(name: str, value: Any) -> tuple[Any, ...]:
    """``value`` (an int, or a one-element tuple or list) as Keras' one-element tuple."""
    given = value
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"The `{name}` argument must be a positive integer or a tuple of 1 integer. "
                         f"Received: {name}={given!r}")
    return (int(value),)


def standardize_data_format(data_format: Any) -> str:
    """``None`` is Keras' default ``"channels_last"``."""
    value = "channels_last" if data_format is None else str(data_format).lower()
    if value not in DATA_FORMATS:
        raise ValueError(
            f"The `data_format` argument must be one of {DATA_FORMATS}. Received: data_format={data_format!r}"
        )
    return value


def check_3d_shape(layer: Pooling1D | GlobalPooling1D, input_shape: Any) -> None:
    """``input_shape`` must be ``(batch, steps, channels)``."""
    if not isinstance(input_shape, tuple) or len(input_shape) != 3:
        layout = "(batch, steps, channels)" if layer.data_format == "channels_last" else "(batch, channels, steps)"
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects one 3-D input {layout}, got shape {input_shape}"
        )


class Pooling1D(Layer):
    """Base of the window poolings (Keras' ``BasePooling`` with one spatial axis).

    Args:
        pool_size: the window, an int (or a one-element tuple).
        strides: the step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` (windows inside the input) or ``"same"`` (``ceil(T / strides)``
            windows, padded evenly, the extra step after).
        data_format: ``"channels_last"`` (default, ``(B, T, C)``) or ``"channels_first"``.
        name, dtype, trainable, input_shape: as for `Layer`.
    """

    def __init__(self, pool_size: int | tuple[int], strides: int | tuple[int] | None = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None, **kwargs: Any) -> None:
        self.pool_size = standardize_size("pool_size", pool_size)
        self.strides = standardize_size("strides", self.pool_size if strides is None else strides)
        padding_value = str(padding).lower() if isinstance(padding, str) else padding
        if padding_value not in ("valid", "same"):
            raise ValueError(f"Argument `padding` must be either 'valid' or 'same'. Received: padding={padding!r}")
        self.padding = padding_value
        self.data_format = standardize_data_format(data_format)
        super().__init__(name=name, **kwargs)

    def _steps(self, input_shape: tuple[int | None, ...]) -> int | None:
        return input_shape[1] if self.data_format == "channels_last" else input_shape[2]

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_3d_shape(self, input_shape)
        steps = self._steps(input_shape)
        if self.padding == "valid" and steps is not None and steps < self.pool_size[0]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} with padding='valid' needs at least pool_size="
                f"{self.pool_size[0]} steps: computed output size would be zero or negative. Received: "
                f"input shape {input_shape}, pool_size={self.pool_size}, strides={self.strides}"
            )

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        steps = self._steps(input_shape)
        if steps is None:
            out = None
        elif self.padding == "same":
            out = -(-steps // self.strides[0])
        else:
            out = (steps - self.pool_size[0]) // self.strides[0] + 1
        if self.data_format == "channels_last":
            return (input_shape[0], out, input_shape[2])
        return (input_shape[0], input_shape[1], out)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class GlobalPooling1D(Layer):
    """Base of the global poolings (Keras' ``BaseGlobalPooling`` with one spatial axis).

    Args:
        data_format: ``"channels_last"`` (default, ``(B, T, C)``) or ``"channels_first"``.
        keepdims: keep the time axis with length 1.
        name, dtype, trainable, input_shape: as for `Layer`.
    """

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        super().__init__(**kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        check_3d_shape(self, input_shape)

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        if self.data_format == "channels_last":
            return (input_shape[0], 1, input_shape[2]) if self.keepdims else (input_shape[0], input_shape[2])
        return (input_shape[0], input_shape[1], 1) if self.keepdims else (input_shape[0], input_shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}
