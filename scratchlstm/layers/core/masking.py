"""The Keras-style ``Masking`` layer: marks the steps whose features all equal ``mask_value``."""

from __future__ import annotations

import math
import numbers
from typing import Any, cast

import numpy as np

from .._base import Layer
from .._registry import jax_ops, numpy_ops, register


def check_mask_value(mask_value: Any) -> float:
    """``mask_value`` as a finite Python float (kept weakly typed, so it compares in the input's dtype).

    A ``bool``, a string, ``None``, an array or NaN/inf is refused with ``ValueError``.
    """
    if isinstance(mask_value, np.ndarray) and mask_value.ndim == 0:
        mask_value = mask_value.item()
    if isinstance(mask_value, (bool, np.bool_)) or not isinstance(mask_value, numbers.Real):
        raise ValueError(f"mask_value must be a real number (e.g. 0.0), got {mask_value!r} of type "
                         f"{type(mask_value).__name__}")
    mask_value = float(mask_value)
    if not math.isfinite(mask_value):
        raise ValueError(f"mask_value must be a finite number (inputs are checked to be finite, so it could "
                         f"never match), got {mask_value!r}")
    return cast(float, mask_value)  # converted above


def _is_jax_array(value: Any) -> bool:
    return type(value).__module__.split(".")[0] in ("jax", "jaxlib")


@register(numpy="scratchlstm._numpy.core.masking", jax="scratchlstm.jax_backend.core.masking")
class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``, and zeroes them.

    For inputs ``x (B, T, F)``:

        mask[b, t] = any_f(x[b, t, f] != mask_value)          (B, T) bool, True = kept
        y[b, t]    = x[b, t] if mask[b, t] else 0             (B, T, F)

    The mask goes to the downstream layers (an `LSTM` skips the masked steps). As in Keras, the
    mask of the incoming tensor is ignored: the output mask depends on the values only. Any rank
    of at least 2 works; the mask is over all axes but the last.

    Args:
        mask_value: the padding value (a finite real number); default ``0.0``.
        **kwargs: ``name``, ``dtype``, ``trainable``, ``seed``, ``input_shape``, as for `Layer`.

    Examples:
        >>> import numpy as np
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]])
        >>> Masking()(x).tolist()
        [[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]]
        >>> Masking().compute_mask(x).tolist()
        [[True, False, True]]
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        self.mask_value = check_mask_value(mask_value)
        super().__init__(**kwargs)

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"Masking {self.name!r} expects one input of shape (batch, ..., features), e.g. "
                f"(batch, time, features), got {input_shape}"
            )

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(input_shape)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras' rule: ``any(inputs != mask_value, axis=-1)``, by the backend ``inputs`` belong to.

        Args:
            inputs: ``(B, T, F)`` NumPy or JAX array (a traced one inside a JAX graph).
            mask: the incoming mask, ignored (as Keras does).

        Returns:
            the ``(B, T)`` bool mask, of the same array kind as ``inputs``.
        """
        ops = jax_ops(self) if _is_jax_array(inputs) else numpy_ops(self)
        return ops.masking_mask(inputs, self.mask_value)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}
