"""Parameter-tree helpers of the optimizers: ``apply_updates``, zeros / constants shaped like the
params, structure checks and Keras-style dtype casts."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._tree import tree_map


def apply_updates(params: Any, updates: Any) -> Any:
    """Return ``params + updates`` leafwise, each result in its parameter's dtype.

    Like ``optax.apply_updates``: new arrays are returned, ``params`` is not modified.
    """

    def add(p: ArrayLike, u: ArrayLike) -> NDArray[Any]:
        p = np.asarray(p)
        return np.asarray(p + u).astype(p.dtype, copy=False)

    return tree_map(add, params, updates)


def _float_dtype(p: ArrayLike) -> np.dtype[Any]:
    p = np.asarray(p)
    return p.dtype if p.dtype.kind == "f" else np.dtype(np.float32)


def zeros_like_tree(params: Any) -> Any:
    """Zeros with each parameter's shape and floating dtype (integers become float32)."""
    return tree_map(lambda p: np.zeros(np.shape(p), dtype=_float_dtype(p)), params)


def full_like_tree(params: Any, value: float) -> Any:
    """``value`` everywhere, with each parameter's shape and floating dtype."""
    return tree_map(lambda p: np.full(np.shape(p), value, dtype=_float_dtype(p)), params)


def _signature(tree: Any) -> Any:
    if isinstance(tree, dict):
        return {key: _signature(tree[key]) for key in sorted(tree)}
    if isinstance(tree, (list, tuple)):
        return [_signature(item) for item in tree]
    return tuple(np.shape(tree))


def check_like(grads: Any, reference: Any) -> None:
    """Raise ValueError unless ``grads`` has the structure and shapes of ``reference``."""
    expected, received = _signature(reference), _signature(grads)
    if expected != received:
        raise ValueError(
            "`grads` must have the structure and shapes of the parameters the optimizer state was "
            f"initialised with. Expected: {expected}. Received: {received}"
        )


def check_state_field(optimizer: str, name: str, value: Any) -> None:
    """A state built by a differently configured optimizer lacks a buffer this one needs."""
    if value is None:
        raise ValueError(
            f"{optimizer} state has no `{name}`: it was not created by this optimizer's `init` "
            "(e.g. it comes from an optimizer configured without momentum / centering)."
        )


def as_arrays(grads: Any) -> Any:
    return tree_map(np.asarray, grads)


def cast_like(grads: Any, reference: Any) -> Any:
    """Cast each gradient to the (floating) dtype of the matching reference leaf."""
    return tree_map(lambda g, r: g.astype(_float_dtype(r), copy=False), grads, reference)


def scalar(value: Any, like: NDArray[Any]) -> NDArray[Any]:
    """``value`` as a 0-d array of ``like``'s dtype (Keras' ``ops.cast(value, variable.dtype)``)."""
    return np.asarray(value, dtype=like.dtype)
