"""Weight initializers with Keras 3's classes, names and formulas, drawing from a NumPy Generator.

An initializer is called as ``init(shape, rng, dtype) -> array``; layers call
``get(identifier)(shape, rng, dtype)`` with their own generator. Nothing touches NumPy's global
state.

* An instance **without** a seed draws from the ``rng`` it is given (a layer's generator, which
  follows the layer's ``seed`` or `scratchlstm.utils.set_random_seed`); called without one it
  uses the library-wide stream, else fresh entropy.
* An instance **with** an int ``seed`` ignores ``rng`` and draws from its own generator, made
  fresh from the seed at every call, so it returns the same values every time for a given
  shape, as Keras' int-seeded initializers do.

`get` accepts the snake_case names (``"glorot_uniform"``, ``"he_normal"``, ...), the class
names (``"GlorotUniform"``), classes, instances and Keras config dicts
``{"class_name": "Constant", "config": {"value": 0.5}}``; `serialize` writes what `get` reads.

Examples:
    >>> import numpy as np
    >>> init = get({"class_name": "Constant", "config": {"value": 0.5}})
    >>> init((2, 2), np.random.default_rng(0), "float32")
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    >>> serialize(init), serialize("he_normal")
    ({'class_name': 'Constant', 'config': {'value': 0.5}}, 'he_normal')
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import weakref
from typing import Any, Iterator, Sequence

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._random import make_rng

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "serialize",
]

# Standard deviation of a unit normal truncated to [-2, 2]: dividing by it makes the truncated
# draws have the requested standard deviation (Keras' VarianceScaling does the same).
_TRUNCATION_STD = 0.87962566103423978


def compute_fans(shape: Sequence[int], input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them.

    ``()`` gives ``(1, 1)``, ``(n,)`` gives ``(n, n)``, ``(a, b)`` gives ``(a, b)``, and a
    convolution kernel ``(..., in, out)`` multiplies both by the receptive field size.
    ``input_axes``/``output_axes`` (both given) name the axes to multiply instead.
    """
    shape = tuple(int(d) for d in shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(
    shape: tuple[int, ...], mean: float, stddev: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Normal draws, those beyond 2 standard deviations drawn again (Keras' truncated normal)."""
    values = rng.normal(0.0, stddev, size=shape)
    outside = np.abs(values) > 2 * stddev
    while outside.any():
        values[outside] = rng.normal(0.0, stddev, size=int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values + mean if mean else values


def _check_number(what: str, value: object, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{what} must be positive, got {value!r}")
    return float(value)


def _check_shape(shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"shape must be a tuple of non-negative ints, got {shape!r}") from None
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in shape):
        raise ValueError(f"shape must be a tuple of non-negative ints, got {shape!r}")
    return tuple(int(d) for d in shape)


_PLACEHOLDERS = contextvars.ContextVar("placeholder_weights", default=False)


# The 0-d element that each placeholder's entries all are, by id (NumPy collapses a view's base
# chain to the array owning the memory, so that owner identifies a placeholder and its views).
_PLACEHOLDER_ELEMENTS: weakref.WeakValueDictionary[int, NDArray[Any]] = weakref.WeakValueDictionary()


def _placeholder(shape: tuple[int, ...], dtype: DTypeLike) -> NDArray[Any]:
    # Zero strides: every entry is the same element, so no shape allocates anything. Writable,
    # because some layers adjust an initial weight in place (LSTM's unit_forget_bias).
    element = np.zeros((), dtype)
    _PLACEHOLDER_ELEMENTS[id(element)] = element
    return np.lib.stride_tricks.as_strided(element, shape, (0,) * len(shape), writeable=True)


@contextlib.contextmanager
def placeholder_weights() -> Iterator[None]:
    """Within this context, initializers draw nothing: each returns a zero-stride placeholder
    of the requested shape and dtype (all zeros, no memory), so building a model costs nothing
    whatever its size. A loader builds the model from a file's config this way, checks the
    stored arrays against the placeholders' shapes and replaces every one of them.

    Examples:
        >>> with placeholder_weights():
        ...     kernel = get("orthogonal")((30000, 120000), None, "float32")
        >>> kernel.shape, kernel.strides, is_placeholder(kernel), is_placeholder(kernel[:2])
        ((30000, 120000), (0, 0), True, True)
        >>> is_placeholder(get("zeros")((2,), None, "float32"))
        False
    """
    token = _PLACEHOLDERS.set(True)
    try:
        yield
    finally:
        _PLACEHOLDERS.reset(token)


def is_placeholder(array: Any) -> bool:
    """Whether ``array`` is (a view of) a weight made within `placeholder_weights`."""
    owner = array
    for _ in range(64):  # view -> base -> ... -> the array owning the memory (as_strided adds a link)
        if getattr(owner, "base", None) is None:
            break
        owner = owner.base
    return isinstance(owner, np.ndarray) and _PLACEHOLDER_ELEMENTS.get(id(owner)) is owner


class Initializer:
    """Base class: subclasses implement ``_sample(shape, rng) -> float64 array``.

    Call an initializer as ``init(shape, rng=None, dtype=None)``; ``dtype`` defaults to float32
    (Keras' floatx).
    """

    def __call__(
        self, shape: Sequence[int], rng: np.random.Generator | None = None, dtype: DTypeLike | None = None
    ) -> NDArray[Any]:
        """Values of ``shape`` and ``dtype``, drawn from ``rng`` unless the instance has a seed."""
        shape = _check_shape(shape)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"rng must be a numpy Generator or None, got {rng!r} (pass dtype by keyword: init(shape, dtype=...))"
            )
        if _PLACEHOLDERS.get():  # a loader builds the model only to learn its weights' shapes
            return _placeholder(shape, dtype or np.float32)
        return np.asarray(self._sample(shape, rng)).astype(dtype or np.float32)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """The initializer `get_config` describes."""
        return cls(**config)

    def clone(self) -> Initializer:
        """A new instance with the same config."""
        return type(self).from_config(self.get_config())

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros."""

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        return np.zeros(shape)


class Ones(Initializer):
    """All ones."""

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        return np.ones(shape)


class Constant(Initializer):
    """Every entry equal to ``value``.

    Args:
        value: a Python or NumPy scalar (Keras allows scalars only).
    """

    def __init__(self, value: Any = 0.0) -> None:
        if isinstance(value, np.generic):
            value = value.item()  # keeps get_config() JSON-able
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"Constant value must be a real scalar, got {value!r}")
        self.value = value

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        return np.full(shape, self.value, dtype=np.float64)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"value": self.value}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; non-square ones as ``np.eye``).

    Args:
        gain: the multiplier.
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = _check_number("gain", gain)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape, got shape={shape} of rank {len(shape)}")
        return self.gain * np.eye(*shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"gain": self.gain}


class _RandomInitializer(Initializer):
    """An initializer with a ``seed``: None (use the caller's generator) or a non-negative int."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _generator(self, rng: np.random.Generator | None) -> np.random.Generator:
        if self.seed is not None:
            return np.random.default_rng(self.seed)  # fresh each call: same values every call
        return rng if rng is not None else make_rng(None)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"seed": self.seed}


class RandomNormal(_RandomInitializer):
    """Normal draws.

    Args:
        mean: the mean.
        stddev: the standard deviation.
        seed: None (draw from the caller's generator) or an int (same values every call).
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = _check_number("mean", mean)
        self.stddev = _check_number("stddev", stddev, positive=True)
        super().__init__(seed)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        return self._generator(rng).normal(self.mean, self.stddev, size=shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(_RandomInitializer):
    """Normal draws, those more than 2 ``stddev`` from the mean drawn again.

    ``stddev`` is that of the normal before truncation (the result's is about 0.88 times it).

    Args:
        mean: the mean.
        stddev: the standard deviation before truncation.
        seed: None (draw from the caller's generator) or an int (same values every call).
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = _check_number("mean", mean)
        self.stddev = _check_number("stddev", stddev, positive=True)
        super().__init__(seed)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        return _truncated_normal(shape, self.mean, self.stddev, self._generator(rng))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(_RandomInitializer):
    """Uniform draws on ``[minval, maxval)``.

    Args:
        minval: the lower bound.
        maxval: the upper bound.
        seed: None (draw from the caller's generator) or an int (same values every call).
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        self.minval = _check_number("minval", minval)
        self.maxval = _check_number("maxval", maxval)
        if self.maxval < self.minval:
            raise ValueError(f"maxval must be >= minval, got minval={minval!r}, maxval={maxval!r}")
        super().__init__(seed)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        return self._generator(rng).uniform(self.minval, self.maxval, size=shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(_RandomInitializer):
    """Draws with variance ``scale / n``, ``n`` the fan-in, the fan-out or their mean.

    ``"truncated_normal"`` uses ``stddev = sqrt(scale / n) / 0.8796...`` before truncation at 2
    standard deviations (so the result's standard deviation is ``sqrt(scale / n)``),
    ``"untruncated_normal"`` ``stddev = sqrt(scale / n)``, and ``"uniform"`` the range
    ``[-sqrt(3 scale / n), sqrt(3 scale / n)]``. ``n`` is at least 1.

    Args:
        scale: a positive number.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: None (draw from the caller's generator) or an int (same values every call).
        input_axes: optional axes whose sizes multiply to the fan-in (with ``output_axes``).
        output_axes: optional axes whose sizes multiply to the fan-out.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None, input_axes: tuple[int, ...] | None = None,
                 output_axes: tuple[int, ...] | None = None) -> None:
        self.scale = _check_number("scale", scale, positive=True)
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {list(self._MODES)}, got {mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {list(self._DISTRIBUTIONS)}, got {distribution!r}")
        self.mode, self.distribution = mode, distribution
        self.input_axes = None if input_axes is None else [int(a) for a in input_axes]
        self.output_axes = None if output_axes is None else [int(a) for a in output_axes]
        super().__init__(seed)

    def _fan(self, shape: tuple[int, ...]) -> float:
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return max(1.0, fan)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        rng, n = self._generator(rng), self._fan(shape)
        # One division (not scale /= n first) so that e.g. glorot_uniform's limit is exactly
        # sqrt(6 / (fan_in + fan_out)).
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * self.scale / n)
            return rng.uniform(-limit, limit, size=shape)
        stddev = math.sqrt(self.scale / n)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, stddev, size=shape)
        return _truncated_normal(shape, 0.0, stddev / _TRUNCATION_STD, rng)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed by the class."""

    _fixed: tuple[Any, ...] = ()

    def __init__(self, seed: int | None = None, input_axes: tuple[int, ...] | None = None,
                 output_axes: tuple[int, ...] | None = None) -> None:
        scale, mode, distribution = self._fixed
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    Args:
        seed: None (draw from the caller's generator) or an int (same values every call).
        input_axes: optional fan-in axes (see `VarianceScaling`).
        output_axes: optional fan-out axes.
    """

    _fixed = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with standard deviation ``sqrt(2 / (fan_in + fan_out))``.

    Args:
        seed: None (draw from the caller's generator) or an int (same values every call).
        input_axes: optional fan-in axes (see `VarianceScaling`).
        output_axes: optional fan-out axes.
    """

    _fixed = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: None (draw from the caller's generator) or an int (same values every call).
        input_axes: optional fan-in axes (see `VarianceScaling`).
        output_axes: optional fan-out axes.
    """

    _fixed = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with standard deviation ``sqrt(2 / fan_in)``.

    Args:
        seed: None (draw from the caller's generator) or an int (same values every call).
        input_axes: optional fan-in axes (see `VarianceScaling`).
        output_axes: optional fan-out axes.
    """

    _fixed = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: None (draw from the caller's generator) or an int (same values every call).
        input_axes: optional fan-in axes (see `VarianceScaling`).
        output_axes: optional fan-out axes.
    """

    _fixed = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with standard deviation ``sqrt(1 / fan_in)``.

    Args:
        seed: None (draw from the caller's generator) or an int (same values every call).
        input_axes: optional fan-in axes (see `VarianceScaling`).
        output_axes: optional fan-out axes.
    """

    _fixed = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_RandomInitializer):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal matrix.

    Shapes of rank > 2 are treated as ``(prod(shape[:-1]), shape[-1])``. With fewer rows than
    columns the rows are orthonormal (``W @ W.T = I`` for an LSTM's ``(H, 4H)``), otherwise the
    columns are.

    Args:
        gain: the multiplier.
        seed: None (draw from the caller's generator) or an int (same values every call).
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = _check_number("gain", gain)
        super().__init__(seed)

    def _sample(self, shape: tuple[int, ...], rng: np.random.Generator | None) -> NDArray[Any]:
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got shape={shape} of rank {len(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = self._generator(rng).normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))  # makes the decomposition unique, so Q is uniformly distributed
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able."""
        return {"gain": self.gain, **super().get_config()}


_CLASSES = {
    cls.__name__: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        Identity,
        RandomNormal,
        RandomUniform,
        TruncatedNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
        Orthogonal,
    )
}
_SNAKE = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "identity": Identity,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    # Keras' extra aliases
    "zero": Zeros,
    "one": Ones,
    "normal": RandomNormal,
    "uniform": RandomUniform,
}
_ALIAS_CLASSES = {"IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal}

# The snake_case names are also attributes, as in Keras (``initializers.he_normal(seed=1)``).
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def _class_for(name: str) -> type[Initializer]:
    cls = _CLASSES.get(name) or _ALIAS_CLASSES.get(name) or _SNAKE.get(name.lower())
    if cls is None:
        raise ValueError(f"initializer must be one of {sorted(_SNAKE)} or a class name, got {name!r}")
    return cls


def get(identifier: Any) -> Initializer:
    """An initializer, callable as ``init(shape, rng, dtype)``.

    Args:
        identifier: a name (``"glorot_uniform"``, ``"GlorotUniform"``, Keras' aliases such as
            ``"normal"``), an `Initializer` (returned as is), an `Initializer` class
            (instantiated), or a config dict ``{"class_name": ..., "config": {...}}`` (extra
            keys that ``keras.initializers.serialize`` writes, such as ``"module"``, are
            ignored).

    Returns:
        An `Initializer`; a name gives a new unseeded instance, which draws from the
        generator it is called with.

    Raises:
        ValueError: for an unknown name or class, a bad config, or another type.
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _class_for(identifier)()
    if isinstance(identifier, type) and issubclass(identifier, Initializer) and identifier.__name__ in _CLASSES:
        return identifier()
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        config = identifier.get("config") or {}
        if not isinstance(config, dict):
            raise ValueError(f"initializer config must be a dict, got {type(config).__name__}: {config!r}")
        try:
            return _class_for(identifier["class_name"]).from_config(config)
        except TypeError as error:  # an unexpected or missing constructor argument
            raise ValueError(f"bad config for initializer {identifier['class_name']!r}: {error}") from None
    raise ValueError(
        "initializer must be a name such as 'glorot_uniform', an Initializer or a "
        f"{{'class_name': ..., 'config': {{...}}}} dict, got {type(identifier).__name__}: {identifier!r}"
    )


def serialize(initializer: Any) -> Any:
    """A JSON-able value that `get` turns back into an equal initializer.

    Args:
        initializer: anything `get` accepts.

    Returns:
        The string itself for a (valid) name; ``{"class_name": ..., "config": {...}}`` for
        instances, classes and config dicts.
    """
    if isinstance(initializer, str):
        get(initializer)  # fail now on an unknown name
        return initializer
    obj = get(initializer)
    return {"class_name": type(obj).__name__, "config": obj.get_config()}
