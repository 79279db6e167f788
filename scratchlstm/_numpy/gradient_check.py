"""Check hand-written gradients against float64 central finite differences.

For a scalar function ``L`` and each entry ``w`` of an input array:

    numeric = (L(w + eps) - L(w - eps)) / (2 * eps)          error O(eps^2)
    relative_error = |analytic - numeric| / max(|analytic| + |numeric|, tiny)

In float64 the default ``eps = 1e-5`` balances the truncation error (about ``eps^2``) against
round-off (about ``1e-16 * |L| / eps``): an exact gradient scores near 1e-8, far below the 1e-6
tolerance, and a wrong one (a missing term, a transposed matrix) scores near 1.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

TINY = 1e-12


def numerical_gradient(
    f: Callable[[dict[str, Any]], float], inputs: dict[str, Any], name: str, eps: float = 1e-5
) -> NDArray[Any]:
    """Central-difference gradient of ``f(inputs)`` with respect to ``inputs[name]``.

    Args:
        f: maps a dict of arrays to a scalar.
        inputs: dict of float64 arrays; not modified (each probe works on a copy).
        name: which entry to differentiate with respect to.
        eps: the step.

    Returns:
        an array shaped like ``inputs[name]``.
    """
    base = np.array(inputs[name], dtype=np.float64)
    probe = dict(inputs)
    gradient = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        shifted = base.copy()
        shifted[index] = base[index] + eps
        probe[name] = shifted
        plus = float(f(probe))
        shifted[index] = base[index] - eps
        minus = float(f(probe))
        gradient[index] = (plus - minus) / (2 * eps)
    return gradient


def relative_error(analytic: ArrayLike, numeric: ArrayLike) -> float:
    """Largest entrywise ``|a - n| / max(|a| + |n|, tiny)``."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"analytic gradient has shape {analytic.shape}, numeric has {numeric.shape}")
    if analytic.size == 0:
        return 0.0
    scale = np.maximum(np.abs(analytic) + np.abs(numeric), TINY)
    return float(np.max(np.abs(analytic - numeric) / scale))


def gradcheck(
    f: Callable[[dict[str, Any]], float],
    inputs: dict[str, Any],
    analytic: dict[str, Any],
    *,
    eps: float = 1e-5,
    tolerance: float = 1e-6,
    raise_on_failure: bool = True,
) -> dict[str, float]:
    """Compare analytic gradients of a scalar function with central differences.

    Args:
        f: maps a dict of float64 arrays (the keys of ``inputs``) to a scalar loss.
        inputs: ``{name: array}`` where the gradient is taken. Use float64.
        analytic: ``{name: array}``, your gradients, each shaped like ``inputs[name]``; only these
            names are checked.
        eps: finite-difference step.
        tolerance: largest acceptable relative error.
        raise_on_failure: raise ``AssertionError`` naming the failing inputs if any exceeds it.

    Returns:
        ``{name: relative_error}``.

    Examples:
        >>> import numpy as np
        >>> x = np.array([1.0, -2.0, 3.0])
        >>> errors = gradcheck(lambda d: float(np.sum(d["x"] ** 3)), {"x": x}, {"x": 3 * x ** 2})
        >>> errors["x"] < 1e-8
        True
    """
    for name, value in inputs.items():
        if np.asarray(value).dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 inputs; {name!r} is {np.asarray(value).dtype}")
    errors: dict[str, float] = {}
    for name, grad in analytic.items():
        if name not in inputs:
            raise ValueError(f"analytic gradient {name!r} has no matching input; inputs are {sorted(inputs)}")
        errors[name] = relative_error(grad, numerical_gradient(f, inputs, name, eps))
    failing = {k: v for k, v in errors.items() if not v < tolerance}
    if failing and raise_on_failure:
        raise AssertionError(f"gradient check failed (tolerance {tolerance:g}): {failing}")
    return errors
