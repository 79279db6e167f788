"""Hyperparameter checks: each raises ValueError naming the argument, the rule and the value."""

from __future__ import annotations

import inspect
import math
from numbers import Integral, Real
from typing import Any, Callable, Optional, cast

import numpy as np

from .schedules import LearningRateSchedule
from .schedules import deserialize as deserialize_schedule


def check_number(
    name: str,
    value: Any,
    *,
    low: Optional[float] = None,
    high: Optional[float] = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a finite real number in the interval."""
    ok = isinstance(value, Real) and not isinstance(value, (bool, np.bool_))
    number = float(value) if ok else math.nan
    ok = ok and math.isfinite(number)
    if ok and low is not None:
        ok = number > low if low_open else number >= low
    if ok and high is not None:
        ok = number < high if high_open else number <= high
    if not ok:
        lower = "(-inf" if low is None else f"{'(' if low_open else '['}{low:g}"
        upper = "inf)" if high is None else f"{high:g}{')' if high_open else ']'}"
        raise ValueError(
            f"Argument `{name}` must be a finite number in {lower}, {upper}. "
            f"Received: {name}={value!r}"
        )
    return number


def check_positive(name: str, value: Any) -> float:
    return check_number(name, value, low=0.0, low_open=True)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Argument `{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_optional_positive(name: str, value: Any) -> Optional[float]:
    return None if value is None else check_positive(name, value)


def check_optional_int(name: str, value: Any, minimum: int) -> Optional[int]:
    if value is None:
        return None
    if not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)) or value < minimum:
        raise ValueError(f"Argument `{name}` must be None or an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_learning_rate(value: Any) -> float | Callable[..., Any]:
    """A float learning rate (> 0), a `LearningRateSchedule`, a schedule config or a callable of the step."""
    if isinstance(value, LearningRateSchedule):
        return value
    if isinstance(value, dict):
        return deserialize_schedule(value)
    if not callable(value) and getattr(value, "shape", None) == () and getattr(value, "dtype", None) is not None:
        if np.dtype(value.dtype).kind in "fiu":  # a 0-d NumPy / JAX array, e.g. computed by a callback
            value = float(value)
    if callable(value):
        try:
            inspect.signature(value).bind(0)
        except TypeError:
            raise ValueError(
                "A callable `learning_rate` must take the step (Keras' `iterations`, an integer that "
                "starts at 0) and return the learning rate, e.g. `lambda step: 0.01 * 0.9 ** (step / 100)`. "
                f"Received: learning_rate={value!r}"
            ) from None
        except ValueError:  # no signature (some builtins): trust it
            pass
        return cast("Callable[..., Any]", value)
    return check_positive("learning_rate", value)
