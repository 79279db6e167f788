"""The array operations a metric's pure functions use, for NumPy and for ``jax.numpy``.

A metric is written once against ``ops.xp`` (the part of the API NumPy and ``jax.numpy``
share: ``where``, ``sum``, ``cumsum``, ``take_along_axis``, ...) plus the few operations below
that the two spell differently. `NUMPY` runs it on the host; `jax_ops()` (which imports JAX on
first use) runs the same code inside a ``jax.jit``-compiled train step.

Examples:
    >>> import numpy as np
    >>> NUMPY.segment_sum(np.array([1.0, 2.0, 4.0]), np.array([0, -1, 2]), 3)
    array([1., 0., 4.])
    >>> NUMPY.top_k_mask(np.array([[0.1, 0.7, 0.3]]), 2)
    array([[0., 1., 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._numpy.losses import sparse_labels as _numpy_sparse_labels

EPSILON = 1e-7  # Keras' backend.epsilon()


def divide_no_nan(xp: Any, numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, 0 where the denominator is 0 (Keras' ``ops.divide_no_nan``)."""
    zero = denominator == 0
    return xp.where(zero, 0, numerator / xp.where(zero, 1, denominator))


def squeeze_or_expand_to_same_rank(xp: Any, x1: Any, x2: Any, expand_rank_1: bool = True) -> tuple[Any, Any]:
    """Keras' rule: when the ranks differ by one and the longer has a last axis of 1, drop it
    (or, for a rank-1 partner and ``expand_rank_1``, add one to the partner)."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = xp.expand_dims(x2, -1)
        else:
            x1 = xp.squeeze(x1, -1)
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = xp.expand_dims(x1, -1)
        else:
            x2 = xp.squeeze(x2, -1)
    return x1, x2


class _NumpyOps:
    """Host NumPy."""

    name = "numpy"
    xp = np
    default_float = np.dtype(np.float64)

    @staticmethod
    def segment_sum(data: ArrayLike, segment_ids: ArrayLike, num_segments: int) -> NDArray[Any]:
        """Sums of ``data`` per id in ``[0, num_segments)``; other ids are dropped (as JAX)."""
        data, segment_ids = np.ravel(data), np.ravel(segment_ids)
        kept = (segment_ids >= 0) & (segment_ids < num_segments)
        sums = np.bincount(segment_ids[kept], weights=data[kept], minlength=num_segments)
        return sums.astype(data.dtype, copy=False)

    @staticmethod
    def top_k_mask(x: NDArray[Any], k: int) -> NDArray[Any]:
        """1.0 at the ``k`` largest entries of the last axis (the lower index first on ties)."""
        index = np.argsort(-x, axis=-1, kind="stable")[..., :k]
        mask = np.zeros(x.shape, dtype=x.dtype)
        np.put_along_axis(mask, index, 1, axis=-1)
        return mask

    @staticmethod
    def sparse_labels(y_true: Any, y_pred: Any) -> Any:
        """Integer labels shaped ``y_pred.shape[:-1]`` (shape and range checked)."""
        return _numpy_sparse_labels(y_true, y_pred)

    @staticmethod
    def loss_values(loss: Any, y_true: Any, y_pred: Any) -> Any:
        """A `Loss` at each position."""
        return loss.per_position(y_true, y_pred)

    @staticmethod
    def sigmoid(x: NDArray[Any]) -> NDArray[Any]:
        return 0.5 * (1.0 + np.tanh(0.5 * x))


NUMPY = _NumpyOps()
_JAX: Any = None  # the `jax_ops()` namespace, built on first use


def jax_ops() -> Any:
    """The same operations on ``jax.numpy`` (JAX is imported here, on first use)."""
    global _JAX
    if _JAX is None:
        import jax
        import jax.numpy as jnp

        from ..jax_backend import _losses

        class _JaxOps:
            """``jax.numpy``, traceable under ``jax.jit``."""

            name = "jax"
            xp = jnp
            @property
            def default_float(self) -> np.dtype[Any]:
                """float32 unless 64-bit JAX is on (read now: the flag can change)."""
                default: np.dtype[Any] = np.dtype(jax.dtypes.canonicalize_dtype(np.float64))
                return default

            @staticmethod
            def segment_sum(data: Any, segment_ids: Any, num_segments: int) -> Any:
                return jax.ops.segment_sum(jnp.ravel(data), jnp.ravel(segment_ids), num_segments=num_segments)

            @staticmethod
            def top_k_mask(x: Any, k: int) -> Any:
                _, index = jax.lax.top_k(x, k)
                return jnp.sum(jax.nn.one_hot(index, x.shape[-1], dtype=x.dtype), axis=-2)

            sparse_labels = staticmethod(_losses.sparse_labels)

            @staticmethod
            def loss_values(loss: Any, y_true: Any, y_pred: Any) -> Any:
                return _losses.loss_per_position(loss, y_true, y_pred)

            sigmoid = staticmethod(jax.nn.sigmoid)

        _JAX = _JaxOps()
    return _JAX
