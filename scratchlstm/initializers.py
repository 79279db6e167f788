"""Weight initializers with Keras' names and formulas, drawing from an explicit Generator.

Each initializer is ``fn(shape, rng, dtype) -> array``. Nothing touches NumPy's global state.
"""

from __future__ import annotations

import numpy as np


def _fans(shape) -> tuple[int, int]:
    # Keras: for a 2-D kernel (fan_in, fan_out) = shape; 1-D uses its length for both.
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def zeros(shape, rng, dtype):
    return np.zeros(shape, dtype=dtype)


def ones(shape, rng, dtype):
    return np.ones(shape, dtype=dtype)


def glorot_uniform(shape, rng, dtype):
    """Uniform on ``[-limit, limit]`` with ``limit = sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def glorot_normal(shape, rng, dtype):
    """Truncated normal (at 2 std) with ``std = sqrt(2 / (fan_in + fan_out))``, as Keras."""
    fan_in, fan_out = _fans(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out)) / 0.87962566103423978  # truncation correction
    return _truncated_normal(shape, std, rng).astype(dtype)


def he_uniform(shape, rng, dtype):
    """Uniform on ``[-limit, limit]`` with ``limit = sqrt(6 / fan_in)``."""
    fan_in, _ = _fans(shape)
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def orthogonal(shape, rng, dtype):
    """A (semi-)orthogonal matrix from the QR decomposition of a normal matrix (Keras' recipe).

    For ``(H, 4H)`` the rows are orthonormal: ``W @ W.T = I``.
    """
    rows = int(np.prod(shape[:-1]))
    cols = shape[-1]
    flat = rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # make the decomposition unique, so the result is uniform
    if rows < cols:
        q = q.T
    return q.reshape(shape).astype(dtype)


def random_normal(shape, rng, dtype):
    """Normal with mean 0 and std 0.05 (Keras' default)."""
    return rng.normal(0.0, 0.05, size=shape).astype(dtype)


def random_uniform(shape, rng, dtype):
    """Uniform on ``[-0.05, 0.05]`` (Keras' default)."""
    return rng.uniform(-0.05, 0.05, size=shape).astype(dtype)


def _truncated_normal(shape, std, rng):
    values = rng.normal(0.0, std, size=shape)
    outside = np.abs(values) > 2 * std
    while outside.any():
        values[outside] = rng.normal(0.0, std, size=int(outside.sum()))
        outside = np.abs(values) > 2 * std
    return values


INITIALIZERS = {
    fn.__name__: fn
    for fn in (zeros, ones, glorot_uniform, glorot_normal, he_uniform, orthogonal, random_normal, random_uniform)
}


def get(name: str):
    """Look up an initializer by its Keras name."""
    if not isinstance(name, str) or name.lower() not in INITIALIZERS:
        raise ValueError(f"initializer must be one of {sorted(INITIALIZERS)}, got {name!r}")
    return INITIALIZERS[name.lower()]
