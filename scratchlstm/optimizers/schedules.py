"""Learning-rate schedules with Keras 3's names, arguments and formulas.

A schedule is a callable of the optimizer step: ``schedule(step) -> learning_rate``. Pass one as
any optimizer's ``learning_rate``; the optimizer evaluates it at its ``iterations`` counter, which
starts at 0 and is incremented after each update, so the first update uses ``schedule(0)`` (as
Keras does).

One implementation serves both backends: called with a Python or NumPy number the schedule
computes with NumPy and returns a NumPy float scalar; called with a JAX array (a traced step
inside ``jax.jit`` included) it computes with ``jax.numpy`` and returns a 0-d JAX array, so the
compiled train step reads the step from the optimizer state and never recompiles as it
advances. ``schedule(step, dtype=None)`` computes in ``dtype``: by default float64 for NumPy
steps and JAX's default float for JAX steps; the optimizers pass their parameters' dtype, as
Keras computes a schedule in its float32 ``floatx``. The formulas are Keras' own, written with
the same operations in the same order.

    >>> from scratchlstm.optimizers import schedules
    >>> decay = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> [round(float(decay(step)), 6) for step in (0, 10, 20)]
    [0.1, 0.05, 0.025]
    >>> schedules.deserialize(schedules.serialize(decay)) == decay
    True

Every class has ``get_config()`` / ``from_config()``; inside an optimizer's config a schedule
appears as ``{"class_name": "ExponentialDecay", "config": {...}}`` (Keras' nested form; Keras'
extra ``module`` / ``registered_name`` keys are accepted and ignored).
"""

from __future__ import annotations

import math
import sys
from numbers import Real
from typing import Any, Sequence, cast

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "get",
    "serialize",
]


# ---------------------------------------------------------------------------------------------
# Array namespace: NumPy for concrete steps, jax.numpy for JAX arrays (traced or not).
# ---------------------------------------------------------------------------------------------


def _namespace(step: Any, dtype: Any = None) -> tuple[Any, Any, bool]:
    """``(xp, float dtype, is_numpy)`` for this step."""
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(step, jax.Array):
        import jax.numpy as jnp

        return jnp, jnp.asarray(0.0).dtype if dtype is None else jnp.dtype(dtype), False
    return np, np.dtype(np.float64 if dtype is None else dtype), True


def _numpy_step(step: Any) -> NDArray[Any]:
    value = np.asarray(step)
    if value.shape != () or value.dtype.kind not in "iuf" or not np.isfinite(value):
        raise ValueError(f"A schedule's `step` must be a finite number >= 0. Received: step={step!r}")
    if value < 0:
        raise ValueError(f"A schedule's `step` must be >= 0. Received: step={step!r}")
    return value


def _result(value: Any, is_numpy: bool) -> Any:
    return np.asarray(value)[()] if is_numpy else value


# ---------------------------------------------------------------------------------------------
# Argument checks (ValueError naming the argument).
# ---------------------------------------------------------------------------------------------


def _number(name: str, value: Any, *, low: float | None = None, low_open: bool = False,
            high: float | None = None) -> float:
    ok = isinstance(value, Real) and not isinstance(value, (bool, np.bool_))
    ok = ok and math.isfinite(float(value))
    if ok and low is not None:
        ok = float(value) > low if low_open else float(value) >= low
    if ok and high is not None:
        ok = float(value) <= high
    if not ok:
        rule = "a finite number"
        if low is not None:
            rule += f" {'>' if low_open else '>='} {low:g}"
        if high is not None:
            rule += f" and <= {high:g}"
        raise ValueError(f"Argument `{name}` must be {rule}. Received: {name}={value!r}")
    return cast(float, value)  # returned as given (an int stays an int), checked to be a real number


def _steps(name: str, value: Any, *, allow_zero: bool = False) -> Any:
    ok = isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(float(value))
    if not ok or not (float(value) >= 0 if allow_zero else float(value) > 0):
        raise ValueError(
            f"Argument `{name}` must be {'>= 0' if allow_zero else '> 0'}. Received: {name}={value!r}"
        )
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Argument `{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


# ---------------------------------------------------------------------------------------------
# Schedules.
# ---------------------------------------------------------------------------------------------


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step)`` and ``get_config()``.

    Equality compares the class and the config, so optimizers holding equal schedules compare
    equal (and their configs freeze to the same cache key on the JAX backend).

    Examples:
        >>> class Halving(LearningRateSchedule):   # halve the rate every 10 steps
        ...     def __call__(self, step, dtype=None):
        ...         return 0.1 * 0.5 ** (step // 10)
        ...     def get_config(self):
        ...         return {}
        >>> [Halving()(s) for s in (0, 10, 25)], Halving() == Halving()
        ([0.1, 0.05, 0.025], True)
    """

    def __call__(self, step: Any, dtype: Any = None) -> Any:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`.")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LearningRateSchedule":
        return cls(**config)

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (Keras 3).

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.

    Examples:
        >>> [float(ExponentialDecay(0.1, 10, 0.5)(s)) for s in (0, 5, 10, 20)]   # 0.1 * 0.5 ** (s / 10)
        [0.1, 0.0707107, 0.05, 0.025]
        >>> float(ExponentialDecay(0.1, 100, 0.96, staircase=True)(150)) == 0.1 * 0.96
        True
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = "ExponentialDecay") -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate, low=0)
        self.decay_steps = _steps("decay_steps", decay_steps)
        self.decay_rate = _number("decay_rate", decay_rate, low=0)
        self.staircase = _boolean("staircase", staircase)
        self.name = name

    def __call__(self, step: Any, dtype: Any = None) -> Any:
        xp, dtype, is_numpy = _namespace(step, dtype)
        if is_numpy:
            step = _numpy_step(step)
        initial_learning_rate = xp.asarray(self.initial_learning_rate, dtype)
        p = xp.asarray(step).astype(dtype) / xp.asarray(self.decay_steps, dtype)
        if self.staircase:
            p = xp.floor(p)
        return _result(initial_learning_rate * xp.power(xp.asarray(self.decay_rate, dtype), p), is_numpy)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary (Keras 3).

    As in Keras, the boundaries are cast to the step's dtype (an integer step truncates float
    boundaries).

    Examples:
        >>> schedule = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
        >>> [float(schedule(s)) for s in (0, 10, 11, 20, 21)]
        [1.0, 1.0, 0.5, 0.5, 0.1]
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float],
                 name: str | None = "PiecewiseConstant") -> None:
        if not isinstance(boundaries, (list, tuple)) or not isinstance(values, (list, tuple)):
            raise ValueError(
                f"Arguments `boundaries` and `values` must be lists. Received: boundaries={boundaries!r}, values={values!r}"
            )
        if len(boundaries) != len(values) - 1 or not boundaries:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values, and at least 1. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and values={values} of length {len(values)}."
            )
        for i, b in enumerate(boundaries):
            _number(f"boundaries[{i}]", b)
        for i, v in enumerate(values):
            _number(f"values[{i}]", v)
        if any(b >= c for b, c in zip(boundaries[:-1], boundaries[1:])):
            raise ValueError(f"Argument `boundaries` must be strictly increasing. Received: boundaries={boundaries!r}")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Any, dtype: Any = None) -> Any:
        xp, dtype, is_numpy = _namespace(step, dtype)
        step = _numpy_step(step) if is_numpy else step
        step = xp.asarray(step)
        boundaries = [xp.asarray(b).astype(step.dtype) for b in self.boundaries]
        values = [xp.asarray(v, dtype) for v in self.values]
        result = (step <= boundaries[0]).astype(dtype) * values[0]
        result = result + (step > boundaries[-1]).astype(dtype) * values[-1]
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            result = result + ((step > low) & (step <= high)).astype(dtype) * value
        return _result(result, is_numpy)

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` (Keras 3):

        step = min(step, decay_steps)                           (cycle=False)
        decay_steps = decay_steps * ceil(step / decay_steps)    (cycle=True; 1 at step 0)
        lr = (initial_learning_rate - end_learning_rate) * (1 - step / decay_steps) ** power
             + end_learning_rate

    (Keras' jitted schedule returns NaN past ``decay_steps`` for a fractional ``power`` when
    ``step / decay_steps`` rounds above 1; here ``1 - step / decay_steps`` is clamped at 0.)

    Examples:
        >>> [float(PolynomialDecay(0.1, 10, 0.0)(s)) for s in (0, 5, 10, 20)]   # linear, then constant
        [0.1, 0.05, 0.0, 0.0]
        >>> [float(PolynomialDecay(0.1, 10, 0.0, power=2.0)(s)) for s in (0, 5, 10)]   # 0.1 * (1 - s / 10) ** 2
        [0.1, 0.025, 0.0]
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str | None = "PolynomialDecay") -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate, low=0)
        self.decay_steps = _steps("decay_steps", decay_steps)
        self.end_learning_rate = _number("end_learning_rate", end_learning_rate, low=0)
        self.power = _number("power", power)
        self.cycle = _boolean("cycle", cycle)
        self.name = name

    def __call__(self, step: Any, dtype: Any = None) -> Any:
        xp, dtype, is_numpy = _namespace(step, dtype)
        if is_numpy:
            step = _numpy_step(step)
        initial_learning_rate = xp.asarray(self.initial_learning_rate, dtype)
        end_learning_rate = xp.asarray(self.end_learning_rate, dtype)
        power = xp.asarray(self.power, dtype)
        global_step = xp.asarray(step).astype(dtype)
        decay_steps = xp.asarray(self.decay_steps, dtype)
        if self.cycle:
            multiplier = xp.where(global_step == 0, xp.asarray(1.0, dtype), xp.ceil(global_step / self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            global_step = xp.minimum(global_step, decay_steps)
        p = global_step / decay_steps
        # max(.., 0): under jit XLA divides by decay_steps as a multiplication by its reciprocal,
        # so p can round to 1 + 1 ulp past the end; Keras then takes a fractional power of a
        # negative number and its jitted schedule returns NaN from decay_steps on (power=0.5).
        remaining = xp.maximum(1 - p, xp.asarray(0, dtype))
        lr = (initial_learning_rate - end_learning_rate) * xp.power(remaining, power) + end_learning_rate
        return _result(lr, is_numpy)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (Keras 3).

    With ``staircase=True``, ``step / decay_steps`` is floored.

    Examples:
        >>> [float(InverseTimeDecay(0.1, 10, 1.0)(s)) for s in (0, 10, 30)]   # 0.1 / (1 + s / 10)
        [0.1, 0.05, 0.025]
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = "InverseTimeDecay") -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate, low=0)
        self.decay_steps = _steps("decay_steps", decay_steps)
        self.decay_rate = _number("decay_rate", decay_rate, low=0)
        self.staircase = _boolean("staircase", staircase)
        self.name = name

    def __call__(self, step: Any, dtype: Any = None) -> Any:
        xp, dtype, is_numpy = _namespace(step, dtype)
        if is_numpy:
            step = _numpy_step(step)
        initial_learning_rate = xp.asarray(self.initial_learning_rate, dtype)
        p = xp.asarray(step).astype(dtype) / xp.asarray(self.decay_steps, dtype)
        if self.staircase:
            p = xp.floor(p)
        denominator = xp.asarray(1, dtype) + xp.asarray(self.decay_rate, dtype) * p
        return _result(initial_learning_rate / denominator, is_numpy)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warmup (Keras 3).

    Without ``warmup_target``: ``step = min(step, decay_steps)`` and

        lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)

    With ``warmup_target``: ``step = min(step, warmup_steps + decay_steps)``; while
    ``step < warmup_steps`` the rate rises linearly,
    ``lr = (warmup_target - initial_learning_rate) * step / warmup_steps + initial_learning_rate``,
    then decays as above from ``warmup_target`` over ``step - warmup_steps``.

    Examples:
        >>> [float(CosineDecay(0.1, 10)(s)) for s in (0, 5, 10, 20)]   # 0.05 * (1 + cos(pi * s / 10))
        [0.1, 0.05, 0.0, 0.0]
        >>> schedule = CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5)
        >>> [round(float(schedule(s)), 6) for s in (0, 1, 5, 10, 15, 99)]
        [0.0, 0.02, 0.1, 0.05, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str | None = "CosineDecay", warmup_target: float | None = None, warmup_steps: int = 0) -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate, low=0)
        self.decay_steps = _steps("decay_steps", decay_steps)
        self.alpha = _number("alpha", alpha, low=0, high=1)
        self.name = name
        self.warmup_steps = _steps("warmup_steps", warmup_steps, allow_zero=True)
        self.warmup_target = None if warmup_target is None else _number("warmup_target", warmup_target, low=0)

    def _decay(self, xp: Any, dtype: Any, step: Any, decay_steps: Any, decay_from_lr: Any) -> Any:
        completed_fraction = step / decay_steps
        pi = xp.asarray(math.pi, dtype)
        cosine_decayed = 0.5 * (1.0 + xp.cos(pi * completed_fraction))
        decayed = (1 - self.alpha) * cosine_decayed + self.alpha
        return decay_from_lr * decayed

    def __call__(self, step: Any, dtype: Any = None) -> Any:
        xp, dtype, is_numpy = _namespace(step, dtype)
        if is_numpy:
            step = _numpy_step(step)
        initial_learning_rate = xp.asarray(self.initial_learning_rate, dtype)
        decay_steps = xp.asarray(self.decay_steps, dtype)
        global_step = xp.asarray(step).astype(dtype)
        if self.warmup_target is None:
            global_step = xp.minimum(global_step, decay_steps)
            return _result(self._decay(xp, dtype, global_step, decay_steps, initial_learning_rate), is_numpy)
        warmup_target = xp.asarray(self.warmup_target, dtype)
        warmup_steps = xp.asarray(self.warmup_steps, dtype)
        global_step = xp.minimum(global_step, decay_steps + warmup_steps)

        def warmup() -> Any:
            # max(.., 1) only keeps the unused branch finite when warmup_steps == 0.
            fraction = global_step / xp.maximum(warmup_steps, xp.asarray(1, dtype))
            return (warmup_target - initial_learning_rate) * fraction + initial_learning_rate

        def decay() -> Any:
            return self._decay(xp, dtype, global_step - warmup_steps, decay_steps, warmup_target)

        if is_numpy:
            return _result(warmup() if global_step < warmup_steps else decay(), is_numpy)
        return xp.where(global_step < warmup_steps, warmup(), decay())

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Keras 3).

    The multiplier decays from 1 to ``alpha`` over ``first_decay_steps``; each restart runs
    ``t_mul`` times longer and starts ``m_mul`` times lower. With ``f = step / first_decay_steps``:

        t_mul == 1:  i = floor(f);  f = f - i
        otherwise:   i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))
                     f = (f - (1 - t_mul**i) / (1 - t_mul)) / t_mul**i
        lr = initial_learning_rate * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * f)) + alpha)

    Examples:
        >>> schedule = CosineDecayRestarts(0.1, 10)
        >>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 20, 30)]
        [0.1, 0.05, 0.1, 0.05, 0.1]
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0, m_mul: float = 1.0,
                 alpha: float = 0.0, name: str | None = "SGDRDecay") -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate, low=0)
        self.first_decay_steps = _steps("first_decay_steps", first_decay_steps)
        self._t_mul = _number("t_mul", t_mul, low=0, low_open=True)
        self._m_mul = _number("m_mul", m_mul, low=0)
        self.alpha = _number("alpha", alpha, low=0, high=1)
        self.name = name

    @property
    def t_mul(self) -> float:
        return self._t_mul

    @property
    def m_mul(self) -> float:
        return self._m_mul

    def __call__(self, step: Any, dtype: Any = None) -> Any:
        xp, dtype, is_numpy = _namespace(step, dtype)
        if is_numpy:
            step = _numpy_step(step)
        initial_learning_rate = xp.asarray(self.initial_learning_rate, dtype)
        first_decay_steps = xp.asarray(self.first_decay_steps, dtype)
        alpha = xp.asarray(self.alpha, dtype)
        t_mul = xp.asarray(self._t_mul, dtype)
        m_mul = xp.asarray(self._m_mul, dtype)
        completed_fraction = xp.asarray(step).astype(dtype) / first_decay_steps
        if float(self._t_mul) == 1.0:
            i_restart = xp.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        else:
            i_restart = xp.floor(xp.log(1.0 - completed_fraction * (1.0 - t_mul)) / xp.log(t_mul))
            sum_r = (1.0 - xp.power(t_mul, i_restart)) / (1.0 - t_mul)
            completed_fraction = (completed_fraction - sum_r) / xp.power(t_mul, i_restart)
        m_fac = xp.power(m_mul, i_restart)
        cosine_decayed = 0.5 * m_fac * (1.0 + xp.cos(xp.asarray(math.pi, dtype) * completed_fraction))
        decayed = (1 - alpha) * cosine_decayed + alpha
        return _result(initial_learning_rate * decayed, is_numpy)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


# ---------------------------------------------------------------------------------------------
# Serialization.
# ---------------------------------------------------------------------------------------------

_BY_NAME = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name": ..., "config": schedule.get_config()}`` (JSON-compatible)."""
    if not isinstance(schedule, LearningRateSchedule):
        raise ValueError(f"Expected a LearningRateSchedule. Received: {schedule!r}")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """Rebuild a schedule from `serialize` output (or Keras' serialized form)."""
    if not isinstance(config, dict) or "class_name" not in config or not isinstance(config.get("config"), dict):
        raise ValueError(
            "A schedule config must be a dict {'class_name': ..., 'config': {...}}. " f"Received: {config!r}"
        )
    name = config["class_name"]
    if name not in _BY_NAME:
        raise ValueError(f"Unknown learning rate schedule: {name!r}. Known schedules: {', '.join(sorted(_BY_NAME))}.")
    return _BY_NAME[name].from_config(dict(config["config"]))


def get(identifier: Any) -> LearningRateSchedule:
    """A schedule from a schedule (returned as is) or a serialized config."""
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    return deserialize(identifier)



def evaluate(schedule: Any, step: Any, dtype: Any = None) -> Any:
    """``schedule(step)``, computed in ``dtype`` where the schedule supports it (the built-in
    schedules do; a user's schedule or callable is called with the step only)."""
    if type(schedule).__module__ == __name__:
        return schedule(step, dtype=dtype)
    return schedule(step)
