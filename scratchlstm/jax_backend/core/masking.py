"""The Masking layer as a pure JAX function, and its mask (twins of ``scratchlstm._numpy.core.masking``)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp


def masking_mask(x: Any, mask_value: float = 0.0) -> Any:
    """The kept steps: ``any(x != mask_value, axis=-1)``, a bool array of shape ``x.shape[:-1]``.

    Works on traced arrays (it is called inside the jitted graph).

    Args:
        x: ``(B, T, F)`` (any rank of at least 1).
        mask_value: the padding value; a Python float compares in ``x``'s dtype.

    Returns:
        the ``(B, T)`` bool mask, ``True`` where the step is kept.
    """
    return jnp.any(jnp.asarray(x) != mask_value, axis=-1)


def masking_forward(x: Any, mask_value: float = 0.0) -> Any:
    """``y = where(mask[..., None], x, 0)`` with the mask of `masking_mask`.

    Args:
        x: ``(B, T, F)``.
        mask_value: the padding value.

    Returns:
        ``y`` of ``x``'s shape (no cache: ``jax.grad`` passes gradients only at the kept steps).
    """
    x = jnp.asarray(x)
    if x.ndim < 1:
        raise ValueError(f"x must have a features axis, got shape {tuple(x.shape)}")
    keep = jnp.any(x != mask_value, axis=-1, keepdims=True)  # (B, T, 1)
    return jnp.where(keep, x, jnp.zeros((), x.dtype))


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`masking_forward` for a ``Masking`` layer (DESIGN §7): ``(y, state)``."""
    return masking_forward(inputs, layer.mask_value), state
