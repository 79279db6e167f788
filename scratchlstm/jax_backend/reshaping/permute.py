"""Permute in JAX: ``y = transpose(x, (0, *dims))``."""

from __future__ import annotations

import jax.numpy as jnp


def permute_forward(x, dims):
    """The JAX twin of the NumPy ``permute_forward``.

    Args:
        x: ``(B, d1, ..., dn)``.
        dims: a permutation of ``1..n``.

    Returns:
        ``y`` with axis ``k`` the input's axis ``dims[k - 1]``.
    """
    return jnp.transpose(jnp.asarray(x), (0, *dims))


def layer_forward(layer, params, state, inputs, *, training=False, key=None, mask=None):
    """`permute_forward` for a ``Permute`` layer (DESIGN §7): ``(y, state)``."""
    return permute_forward(inputs, layer.dims), state
