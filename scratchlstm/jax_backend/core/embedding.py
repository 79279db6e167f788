"""The Embedding layer as a pure JAX function: ``outputs = embeddings[ids]``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..._numpy.core.embedding import check_indices


def embedding_forward(params: dict[str, Any], ids: Any) -> jax.Array:
    """One row of the table per id, as ``jnp.take(embeddings, ids, axis=0)``.

    Args:
        params: ``{"embeddings": (V, D)}``.
        ids: integer ids of any shape ``(...)``, or floats holding them.

    Returns:
        ``(..., D)`` in the table's dtype. ``jax.grad`` gives the table a scatter-add of the
        upstream rows and float ids a zero gradient (the cast to integers is piecewise
        constant), as the NumPy reference.

    Raises:
        ValueError: for concrete ids that are not whole numbers in ``[0, V)``. Traced ids
            (inside ``jax.jit``) cannot be checked: there, ids >= V give NaN rows (``jnp.take``
            fills them) and negative ids wrap around, so check the data before (the NumPy
            path and the model's integer inputs do).
    """
    table = jnp.asarray(params["embeddings"])
    if table.ndim != 2:
        raise ValueError(f"params['embeddings'] must be 2-D of shape (input_dim, output_dim), got {table.shape}")
    if not isinstance(ids, jax.core.Tracer):
        ids = check_indices(np.asarray(ids), table.shape[0])
    index = jnp.asarray(ids)
    if not jnp.issubdtype(index.dtype, jnp.integer):
        index = index.astype(jnp.int32)
    return jnp.take(table, index, axis=0)


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """`embedding_forward` for an ``Embedding`` layer (DESIGN §7): ``(outputs, state)``."""
    return embedding_forward(params, inputs), state
