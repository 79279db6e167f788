"""Where random numbers come from: explicit seeds, or one library-wide stream.

Nothing here touches NumPy's global state. ``set_global_seed`` (``keras.utils.set_random_seed``)
starts a library-wide stream; every layer or model created afterwards without a seed of its
own draws its generator from that stream, so a script that seeds once is reproducible in the
order it creates things, as in Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_global_stream: np.random.Generator | None = None


def set_global_seed(seed: int | np.integer[Any] | None) -> None:
    """Start the library-wide stream from ``seed`` (a non-negative int), or stop it with ``None``."""
    global _global_stream
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    _global_stream = None if seed is None else np.random.default_rng([int(seed), 0x5EED])


def check_seed(seed: object, what: str = "seed") -> None:
    """``seed`` must be None, a non-negative int or a ``numpy.random.Generator``."""
    if seed is None or isinstance(seed, np.random.Generator):
        return
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{what} must be a non-negative int, a numpy Generator or None, got {seed!r}")


def make_rng(seed: int | np.integer[Any] | np.random.Generator | None = None) -> np.random.Generator:
    """A generator for ``seed``; with ``seed=None`` one drawn from the global stream, if started."""
    check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None and _global_stream is not None:
        return np.random.default_rng(_global_stream.integers(2**63))
    return np.random.default_rng(seed)
