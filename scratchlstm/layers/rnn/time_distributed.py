"""The Keras-style ``TimeDistributed`` wrapper: one layer applied to every time step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._base import Layer, resolve_dtype
from .._registry import register


def child_shape(input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
    """``(B, T, ...) -> (B * T, ...)``: the shape the wrapped layer sees (``None`` if unknown)."""
    batch, steps = input_shape[0], input_shape[1]
    folded = None if batch is None or steps is None else batch * steps
    return (folded, *input_shape[2:])


@register(numpy="scratchlstm._numpy.rnn.time_distributed", jax="scratchlstm.jax_backend.rnn.time_distributed")
class TimeDistributed(Layer):
    """Applies ``layer`` to every time step: ``(B, T, ...) -> (B, T, ...')``.

    The time axis is folded into the batch (``(B * T, ...)``), the wrapped layer's own NumPy or
    JAX ops run once on all steps, and the result is unfolded. One set of weights serves every
    step.

    Args:
        layer: the `Layer` to apply, e.g. ``Dense(8)``.
        name, dtype, trainable, input_shape: as for `Layer`; ``dtype`` and ``trainable`` are
            passed on to ``layer`` (as Keras' ``trainable`` setter does).

    The weights live in ``layer`` only: ``params``, ``state``, ``get_weights()`` (Keras' order:
    the wrapped layer's, e.g. ``[kernel, bias]`` for a ``Dense``), ``set_weights`` and
    ``dtype`` read and write the wrapped layer's. The mask (``(B, T)``) passes through unchanged,
    as in Keras 3.15; a mask with more axes (``(B, T, ...)``) reaches the wrapped layer folded
    to ``(B * T, ...)``, a ``(B, T)`` one does not (it would be one flag per folded row).
    Unlike Keras' loop over steps, a stateful layer updated in training (``BatchNormalization``)
    sees all ``B * T`` rows as one batch.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.layers import Dense
        >>> TimeDistributed(Dense(8, seed=0))(np.zeros((32, 10, 16))).shape
        (32, 10, 8)
    """

    supports_masking = True  # Keras 3.15: the mask passes through

    def __init__(self, layer: Layer, name: str | None = None, dtype: Any = None, trainable: bool = True,
                 input_shape: tuple[Any, ...] | None = None) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `Layer` instance. Received: {layer!r}"
            )
        self.layer = layer
        kept = (layer.params, layer.state, layer.dtype, layer._dtype_from_input, layer.trainable)
        super().__init__(name=name, dtype=dtype, trainable=trainable)  # writes through the delegates below
        layer.params, layer.state, layer.dtype, layer._dtype_from_input = kept[:4]
        layer.trainable = kept[4] and bool(trainable)
        if dtype is not None:
            wanted = resolve_dtype(dtype)
            if layer.built and layer.dtype != wanted:
                raise ValueError(
                    f"TimeDistributed(dtype={wanted.name!r}) wraps layer {layer.name!r}, already built as "
                    f"{layer.dtype.name}"
                )
            layer.dtype, layer._dtype_from_input = wanted, False
        if input_shape is not None:
            self.build((None, *tuple(input_shape)))

    # --- one place for the weights: the wrapped layer's ----------------------------------------
    @property
    def params(self) -> dict[str, Any] | None:
        return self.layer.params

    @params.setter
    def params(self, value: Any) -> None:
        self.layer.params = value

    @property
    def state(self) -> dict[str, Any]:
        return self.layer.state

    @state.setter
    def state(self, value: Any) -> None:
        self.layer.state = value

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.layer.dtype

    @dtype.setter
    def dtype(self, value: Any) -> None:
        self.layer.dtype = np.dtype(value)

    @property
    def _dtype_from_input(self) -> bool:
        return self.layer._dtype_from_input

    @_dtype_from_input.setter
    def _dtype_from_input(self, value: Any) -> None:
        self.layer._dtype_from_input = value

    @property
    def weight_names(self) -> tuple[str, ...]:  # type: ignore[override]  # read-only: the wrapped layer's
        return self.layer.weight_names

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]  # read-only: the wrapped layer's
        return self.layer.state_names

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: Any) -> None:
        """Setting it sets the wrapped layer's too, as Keras does."""
        self._trainable = bool(value)
        self.layer.trainable = bool(value)

    def reseed(self, rng: np.random.Generator) -> None:
        super().reseed(rng)
        self.layer.reseed(rng)

    def weight_leaves(self) -> list[tuple[Layer, str, str]]:
        return self.layer.weight_leaves()

    def trainable_paths(self, prefix: str = "") -> set[str]:
        return self.layer.trainable_paths(prefix) if self.trainable else set()

    def get_weights(self) -> list[NDArray[Any]]:
        self._require_built("get_weights")
        return self.layer.get_weights()

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        self._require_built("set_weights")
        self.layer.set_weights(weights)

    def checked_weight(self, key: str, shape: tuple[Any, ...], value: Any) -> NDArray[Any]:
        return self.layer.checked_weight(key, shape, value)

    @property
    def trainable_weights(self) -> list[NDArray[Any]]:
        return self.layer.trainable_weights if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[NDArray[Any]]:
        return self.layer.non_trainable_weights if self.trainable else self.layer.weights

    def count_params(self) -> int:
        self._require_built("count_params")
        return self.layer.count_params()

    # --- shapes -----------------------------------------------------------------------------------
    def build(self, input_shape: Any, dtype: Any = None) -> None:
        """Build the wrapped layer for one step's shape ``(B * T, ...)``."""
        is_one_shape = isinstance(input_shape, (tuple, list)) and all(
            d is None or isinstance(d, (int, np.integer)) for d in input_shape)
        if is_one_shape:
            input_shape = tuple(None if d is None else int(d) for d in input_shape)
        self.validate_input_shape(input_shape)
        self.layer.build(child_shape(input_shape), dtype)
        if self.input_shape is None:  # the first shape, as Layer.build keeps it
            self.input_shape = (None, *input_shape[1:])

    def validate_input_shape(self, input_shape: Any) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed {self.name!r} should be passed an input shape with at least 3 dimensions "
                f"(batch, time, ...), received: {input_shape}"
            )
        try:
            self.layer.validate_input_shape((None, *input_shape[2:]))
        except ValueError as error:
            raise ValueError(
                f"TimeDistributed {self.name!r} applies {type(self.layer).__name__} {self.layer.name!r} to each step "
                f"of its input of shape {input_shape}, i.e. to (batch, ...) = {(None, *input_shape[2:])}: {error}"
            ) from None

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        inner = self.layer.compute_output_shape(child_shape(tuple(input_shape)))
        if isinstance(inner, list):
            raise ValueError(
                f"TimeDistributed {self.name!r} wraps {type(self.layer).__name__} {self.layer.name!r}, which returns "
                f"{len(inner)} outputs; only layers with one output can be wrapped"
            )
        return (input_shape[0], input_shape[1], *inner[1:])

    # --- configuration ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        from .. import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        from .. import deserialize

        config = dict(config)
        config.pop("class_name", None)
        layer = config.pop("layer")
        return cls(deserialize(layer) if isinstance(layer, dict) else layer, **config)
