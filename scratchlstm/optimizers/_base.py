"""Shared pieces of the optimizers: hyperparameter checks, gradient clipping, ``apply_updates``.

An optimizer here is an immutable bag of hyperparameters with two pure methods shaped like an
optax ``GradientTransformation``:

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)          # params + updates, leafwise

Parameter trees are nested dicts / lists / tuples of NumPy arrays (see ``scratchlstm._tree``).
Nothing here imports jax or optax.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Optional

import numpy as np

from .._tree import tree_leaves, tree_map

# ---------------------------------------------------------------------------------------------
# Hyperparameter checks: each raises ValueError naming the argument, the rule and the value.
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Gradient clipping (NumPy versions of what the JAX backend builds from optax).
# ---------------------------------------------------------------------------------------------


def clip_by_value(grads: Any, clipvalue: float) -> Any:
    """Clip every element to ``[-clipvalue, clipvalue]``.  Same as ``optax.clip(clipvalue)``."""
    return tree_map(lambda g: np.clip(g, -clipvalue, clipvalue), grads)


def clip_by_norm(grads: Any, clipnorm: float) -> Any:
    """Clip each gradient tensor by its own L2 norm (Keras ``clipnorm``):

        g <- g * clipnorm / max(||g||_2, clipnorm)

    optax has no built-in for this; the JAX backend writes the same formula per leaf as a small
    stateless ``GradientTransformation``:

        lambda g: g * clipnorm / jnp.maximum(jnp.sqrt(jnp.sum(g * g)), clipnorm)

    A zero gradient stays zero (the denominator is at least ``clipnorm`` > 0).
    """

    def clip_one(g):
        norm = np.sqrt(np.sum(g * g))
        return (g * clipnorm) / np.maximum(norm, clipnorm)

    return tree_map(clip_one, grads)


def global_norm(grads: Any):
    """``sqrt(sum over all tensors of sum(g ** 2))``, like ``optax.global_norm``."""
    return np.sqrt(sum(np.sum(g * g) for g in tree_leaves(grads)))


def clip_by_global_norm(grads: Any, global_clipnorm: float) -> Any:
    """Rescale all tensors together when their global norm exceeds ``global_clipnorm``:

        n = sqrt(sum_k ||g_k||^2);   g_k <- g_k                      if n < global_clipnorm
                                     g_k <- (g_k / n) * global_clipnorm   otherwise

    Same as ``optax.clip_by_global_norm(global_clipnorm)`` (and Keras ``global_clipnorm``).
    """
    norm = global_norm(grads)
    if norm < global_clipnorm:
        return grads
    return tree_map(lambda g: (g / norm.astype(g.dtype)) * global_clipnorm, grads)


# ---------------------------------------------------------------------------------------------
# Tree helpers.
# ---------------------------------------------------------------------------------------------


def apply_updates(params: Any, updates: Any) -> Any:
    """Return ``params + updates`` leafwise, each result in its parameter's dtype.

    Like ``optax.apply_updates``: new arrays are returned, ``params`` is not modified.
    """

    def add(p, u):
        p = np.asarray(p)
        return np.asarray(p + u).astype(p.dtype, copy=False)

    return tree_map(add, params, updates)


def zeros_like_tree(params: Any) -> Any:
    """Zeros with each parameter's shape and floating dtype (integers become float32)."""

    def zeros(p):
        p = np.asarray(p)
        dtype = p.dtype if p.dtype.kind == "f" else np.float32
        return np.zeros(p.shape, dtype=dtype)

    return tree_map(zeros, params)


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
    """Cast each gradient to the dtype of the matching state buffer, so state keeps its dtype."""
    return tree_map(lambda g, r: g.astype(r.dtype, copy=False), grads, reference)


def scale(factor: float, tree: Any) -> Any:
    """``factor * t`` leafwise, with ``factor`` first cast to each leaf's dtype (as optax does)."""
    return tree_map(lambda t: np.asarray(factor, dtype=t.dtype) * t, tree)


# ---------------------------------------------------------------------------------------------
# Base class.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Optimizer:
    """Base of the optimizers: immutable hyperparameters plus pure ``init`` / ``update``.

    Clipping arguments (keyword-only, Keras semantics), applied to the gradients first:

    - ``clipnorm``: each tensor is clipped by its own L2 norm, see `clip_by_norm`.
    - ``clipvalue``: each element is clipped to ``[-clipvalue, clipvalue]``.
    - ``global_clipnorm``: all tensors are rescaled together, see `clip_by_global_norm`.

    As in Keras 3, at most one of the three may be set (ValueError otherwise).
    """

    clipnorm: Optional[float] = field(default=None, kw_only=True)
    clipvalue: Optional[float] = field(default=None, kw_only=True)
    global_clipnorm: Optional[float] = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        clip = {
            "clipnorm": check_optional_positive("clipnorm", self.clipnorm),
            "clipvalue": check_optional_positive("clipvalue", self.clipvalue),
            "global_clipnorm": check_optional_positive("global_clipnorm", self.global_clipnorm),
        }
        if sum(value is not None for value in clip.values()) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                + ", ".join(f"{key}={value}" for key, value in clip.items())
            )
        normalised = {**clip, **self._check_hyperparameters()}
        for name, value in normalised.items():
            object.__setattr__(self, name, value)  # frozen dataclass: store the checked values

    def _check_hyperparameters(self) -> dict:
        """Return the subclass's hyperparameters, checked and normalised (floats, bools)."""
        raise NotImplementedError

    def clip_gradients(self, grads: Any) -> Any:
        """Apply the configured clipping (if any) to ``grads``; returns a new tree."""
        if self.clipnorm is not None:
            return clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm is not None:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue is not None:
            return clip_by_value(grads, self.clipvalue)
        return grads

    def init(self, params: Any):
        raise NotImplementedError

    def update(self, grads: Any, state: Any, params: Any = None):
        raise NotImplementedError

    def get_config(self) -> dict:
        """JSON-serialisable hyperparameters: ``{"class_name": ..., "learning_rate": ..., ...}``.

        ``deserialize(opt.get_config()) == opt``.
        """
        names = [f.name for f in dataclasses.fields(self)]
        clip_names = ["clipnorm", "clipvalue", "global_clipnorm"]
        ordered = [n for n in names if n not in clip_names] + clip_names
        return {"class_name": type(self).__name__, **{n: getattr(self, n) for n in ordered}}

    def __repr__(self) -> str:
        config = self.get_config()
        name = config.pop("class_name")
        return f"{name}({', '.join(f'{key}={value!r}' for key, value in config.items())})"

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        config = {key: value for key, value in config.items() if key != "class_name"}
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(
                f"Unknown argument(s) for {cls.__name__}: {unknown}. Expected some of: {known}"
            )
        return cls(**config)
