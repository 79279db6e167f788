"""The optimizer base: the state, the common arguments, and Keras 3's order of operations.

An optimizer here is a bag of hyperparameters with two pure methods shaped like an optax
``GradientTransformation``:

    state = opt.init(params)                            # an OptimizerState
    updates, state = opt.update(grads, state, params)   # updates are *added* to the params
    params = apply_updates(params, updates)             # params + updates, leafwise

One ``update`` is one call of Keras 3's ``optimizer.apply(grads, variables)`` (JAX backend), in
Keras' order:

    1. g <- g / loss_scale_factor                                       (if set)
    2. gradient accumulation: sum the gradients; every N-th call continue with their mean,
       the other calls change nothing but the sums                       (if set)
    3. clipping: clipnorm, global_clipnorm or clipvalue                  (at most one)
    4. weight decay: var <- var - var * weight_decay * lr                (if set)
    5. the optimizer's own update rule (its class docstring), on the decayed weights
    6. EMA of the weights; every ema_overwrite_frequency steps the weights become the EMA
    7. iterations += 1

``lr`` is the float learning rate kept in the state, or ``schedule(iterations)`` for a schedule
(Keras evaluates the schedule at the count *before* this update: the first update uses
``schedule(0)``). The update rules see Keras' ``optimizer.iterations``, which with gradient
accumulation is ``iterations // N``; schedules see the raw count, as in Keras.

Parameter trees are nested dicts / lists / tuples of NumPy arrays (see ``scratchlstm._tree``).
Nothing here imports jax or optax.
"""

from __future__ import annotations

import dataclasses
import inspect
from numbers import Integral, Real
from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._tree import tree_leaves, tree_map
# `name as name`: explicit re-exports (for the optimizer modules), as mypy --strict wants them
from ._checks import (
    check_bool as check_bool,
    check_learning_rate as check_learning_rate,
    check_number as check_number,
    check_optional_int as check_optional_int,
    check_optional_positive as check_optional_positive,
    check_positive as check_positive,
)
from ._clipping import (
    clip_by_global_norm as clip_by_global_norm,
    clip_by_norm as clip_by_norm,
    clip_by_value as clip_by_value,
    global_norm as global_norm,
)
from ._trees import (
    apply_updates as apply_updates,
    as_arrays as as_arrays,
    cast_like as cast_like,
    check_like as check_like,
    check_state_field as check_state_field,
    full_like_tree as full_like_tree,
    scalar as scalar,
    zeros_like_tree as zeros_like_tree,
)
from .schedules import LearningRateSchedule
from .schedules import evaluate as evaluate_schedule
from .schedules import serialize as serialize_schedule


# ---------------------------------------------------------------------------------------------
# The state every optimizer carries.
# ---------------------------------------------------------------------------------------------


class OptimizerState(NamedTuple):
    """What ``update`` carries from step to step (a pytree: the JAX path uses the same class).

    iterations: Keras' ``optimizer._iterations``: how many times ``update`` ran (gradient
        accumulation micro-steps included). A Python int here, an int32 scalar on JAX.
    learning_rate: the learning rate the next update uses: the float learning rate (replace it
        with `Optimizer.with_learning_rate`), or a schedule's value at ``iterations``.
    slots: the optimizer's own buffers (momentums, velocities, ...): its ``...State``
        NamedTuple here; on JAX the optax state where optax computes Keras' rule.
    average: the exponential moving average of the weights (``use_ema=True``), else None.
    accumulated: the summed gradients since the last update (``gradient_accumulation_steps``),
        else None.
    """

    iterations: Any
    learning_rate: Any
    slots: Any
    average: Any = None
    accumulated: Any = None


# ---------------------------------------------------------------------------------------------
# Base class.
# ---------------------------------------------------------------------------------------------

COMMON_ARGUMENTS = (
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
    "name",
)


def common_arguments(local_variables: dict[str, Any]) -> dict[str, Any]:
    """The common Keras arguments out of a subclass ``__init__``'s ``locals()``."""
    return {name: local_variables[name] for name in COMMON_ARGUMENTS}


class Optimizer:
    """Base of the optimizers: Keras 3 hyperparameters plus pure ``init`` / ``update``.

    Common arguments (Keras 3 names, defaults and positions, after each optimizer's own):

    - ``weight_decay``: if set, ``var <- var - var * weight_decay * lr`` before each update rule
      (decoupled weight decay, as Keras applies it to every optimizer).
    - ``clipnorm``: each gradient tensor is clipped by its own L2 norm, see `clip_by_norm`.
    - ``clipvalue``: each element is clipped to ``[-clipvalue, clipvalue]``.
    - ``global_clipnorm``: all tensors are rescaled together, see `clip_by_global_norm`.
      At most one of the three clipping arguments may be set (ValueError otherwise).
    - ``use_ema``, ``ema_momentum`` (default 0.99), ``ema_overwrite_frequency``: keep an
      exponential moving average of the weights in the state, ``average = m * average +
      (1 - m) * var`` after each update (``m = 0`` on the first one, so it starts at the
      weights); every ``ema_overwrite_frequency`` updates the weights are replaced by it, and
      `finalize_variable_values` returns it at the end of training.
    - ``loss_scale_factor``: the gradients are divided by it (the training loop multiplies the
      loss by it first, see `scale_loss`).
    - ``gradient_accumulation_steps`` (``N >= 2``): the weights change every N-th update, with the
      mean of the last N gradients.
    - ``name``: kept in the config.

    The learning rate is a float (> 0), a `scratchlstm.optimizers.schedules` schedule, or any
    callable of the step. ``optimizer.learning_rate`` reads the current value and can be set
    between epochs (the train loop pushes it into the state with `with_learning_rate`); every
    other hyperparameter is read-only.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.optimizers import SGD
        >>> w, opt = np.array([1.0, -2.0]), SGD(0.1, clipvalue=0.6, weight_decay=0.1)
        >>> updates, state = opt.update(np.array([0.5, -1.0]), opt.init(w), w)
        >>> np.round(w + updates, 4), state.iterations   # g clipped to [0.5, -0.6]; w - 0.01 w - 0.1 g
        (array([ 0.94, -1.92]), 1)
    """

    _slot_trees: tuple[str, ...] = ()  # names of the slots that are shaped like the params (for checks)
    # True where `update` itself deals with NaN/inf gradients (`LossScaleOptimizer` skips the
    # step and halves its scale): the train loops then hand them over instead of stopping.
    handles_non_finite_gradients: bool = False

    def __init__(self, learning_rate: float | Callable[[int], float], hyperparameters: dict[str, Any], **common: Any) -> None:
        object.__setattr__(self, "_locked", False)
        self._learning_rate = check_learning_rate(learning_rate)
        self._iterations = 0
        self._hyperparameter_names = tuple(hyperparameters)
        for key, value in hyperparameters.items():
            setattr(self, key, value)
        clip = {key: check_optional_positive(key, common[key]) for key in ("clipnorm", "clipvalue", "global_clipnorm")}
        if sum(value is not None for value in clip.values()) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                + ", ".join(f"{key}={value}" for key, value in clip.items())
            )
        weight_decay = common["weight_decay"]
        self.weight_decay = None if weight_decay is None else check_number("weight_decay", weight_decay, low=0)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clip["clipnorm"], clip["clipvalue"], clip["global_clipnorm"]
        self.use_ema = check_bool("use_ema", common["use_ema"])
        self.ema_momentum = check_number("ema_momentum", common["ema_momentum"], low=0, high=1)
        self.ema_overwrite_frequency = check_optional_int("ema_overwrite_frequency", common["ema_overwrite_frequency"], 1)
        self.loss_scale_factor = check_optional_positive("loss_scale_factor", common["loss_scale_factor"])
        self.gradient_accumulation_steps = check_optional_int(
            "gradient_accumulation_steps", common["gradient_accumulation_steps"], 2
        )
        name = common["name"]
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Argument `name` must be None or a string. Received: name={name!r}")
        self.name = name
        self._locked = True

    # --- attributes ---------------------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        if key in ("learning_rate", "iterations") or not self.__dict__.get("_locked", False):
            object.__setattr__(self, key, value)
            return
        raise dataclasses.FrozenInstanceError(
            f"cannot assign to field {key!r}: an optimizer's hyperparameters are fixed (only "
            "`learning_rate` can be set); build a new optimizer instead"
        )

    @property
    def learning_rate(self) -> float:
        """The current learning rate, a float.

        For a schedule (or callable), its value at `iterations`, as Keras reports it. Setting a
        float (> 0) changes the rate of the next updates once the train loop has pushed it into
        the optimizer state with `with_learning_rate`; as in Keras, the rate of an optimizer
        built with a schedule cannot be set to a float (TypeError), but a new schedule can be set.
        """
        lr = self._learning_rate
        if isinstance(lr, float):
            return lr
        return float(evaluate_schedule(lr, self._iterations))

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if not callable(value) and not isinstance(value, dict) and not isinstance(self._learning_rate, float):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` (or a callable) as its "
                "`learning_rate`, hence its learning rate is not settable to a float. If you need "
                "the learning rate to be settable, instantiate the optimizer with a float `learning_rate`."
            )
        object.__setattr__(self, "_learning_rate", check_learning_rate(value))

    @property
    def learning_rate_schedule(self) -> Any:
        """The schedule or callable given as ``learning_rate``, or None for a float rate."""
        return None if isinstance(self._learning_rate, float) else self._learning_rate

    @property
    def iterations(self) -> int:
        """The update counter as last synced by the train loop (``int(state.iterations)``).

        Only informational: a schedule's current `learning_rate` is read at it; the updates read
        the counter from the state. This is Keras' raw ``optimizer._iterations``: with gradient
        accumulation Keras' public ``optimizer.iterations`` is this ``// N``.
        """
        return self._iterations

    @iterations.setter
    def iterations(self, value: Any) -> None:
        if not isinstance(value, Integral) and not (hasattr(value, "shape") and np.shape(value) == ()):
            raise ValueError(f"`iterations` must be an integer >= 0. Received: iterations={value!r}")
        value = int(value)
        if value < 0:
            raise ValueError(f"`iterations` must be an integer >= 0. Received: iterations={value!r}")
        object.__setattr__(self, "_iterations", value)

    # --- config -------------------------------------------------------------------------------
    def _learning_rate_config(self) -> Any:
        lr = self._learning_rate
        if isinstance(lr, float):
            return lr
        if isinstance(lr, LearningRateSchedule):
            return serialize_schedule(lr)
        return lr  # a plain callable: kept as is (not JSON-serialisable)

    def get_config(self) -> dict[str, Any]:
        """``{"class_name": ..., "learning_rate": ..., <hyperparameters>, <common arguments>}``.

        As in Keras, ``learning_rate`` is the current float rate (or the schedule's config), so
        ``deserialize(opt.get_config()) == opt``. JSON-serialisable unless the learning rate is
        a plain callable.
        """
        config = {"class_name": type(self).__name__, "learning_rate": self._learning_rate_config()}
        config.update({key: getattr(self, key) for key in self._hyperparameter_names})
        config.update({key: getattr(self, key) for key in COMMON_ARGUMENTS})
        return config

    def static_config(self) -> dict[str, Any]:
        """`get_config` with a float ``learning_rate`` replaced by None.

        Everything a compiled train step depends on: two optimizers with the same static config
        differ at most in their float learning rate, which lives in the optimizer state. Key
        compiled-step caches on this, not on `get_config`, so that setting
        ``optimizer.learning_rate`` does not recompile.
        """
        config = self.get_config()
        if isinstance(self._learning_rate, float):
            config["learning_rate"] = None
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Optimizer":
        config = {key: value for key, value in config.items() if key != "class_name"}
        known = list(inspect.signature(cls.__init__).parameters)[1:]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"Unknown argument(s) for {cls.__name__}: {unknown}. Expected some of: {known}")
        return cls(**config)

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    # the learning rate is settable: optimizers are not hashable (key on static_config())
    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose; typeshed types it as a method

    def __repr__(self) -> str:
        config = self.get_config()
        name = config.pop("class_name")
        return f"{name}({', '.join(f'{key}={value!r}' for key, value in config.items())})"

    # --- pure functions -----------------------------------------------------------------------
    def clip_gradients(self, grads: Any) -> Any:
        """Apply the configured clipping (if any) to ``grads``; returns a new tree."""
        if self.clipnorm is not None:
            return clip_by_norm(grads, self.clipnorm)
        if self.global_clipnorm is not None:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue is not None:
            return clip_by_value(grads, self.clipvalue)
        return grads

    def scale_loss(self, loss: Any, state: OptimizerState | None = None) -> Any:
        """``loss * loss_scale_factor`` (if set): what the train loop differentiates.

        ``state`` is the optimizer state of the step (unused here; `LossScaleOptimizer` reads
        its dynamic scale from it)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _state_learning_rate(self, iterations: int) -> float:
        lr = self._learning_rate
        return lr if isinstance(lr, float) else float(evaluate_schedule(lr, iterations))

    def _needs_params(self) -> bool:
        return self.weight_decay is not None or self.use_ema

    def init(self, params: Any) -> OptimizerState:
        """Zero (or Keras-initialised) buffers shaped like ``params``; iterations 0."""
        params = as_arrays(params)
        return OptimizerState(
            iterations=0,
            learning_rate=self._state_learning_rate(0),
            slots=self._init_slots(params),
            average=zeros_like_tree(params) if self.use_ema else None,
            accumulated=zeros_like_tree(params) if self.gradient_accumulation_steps else None,
        )

    def with_learning_rate(self, state: OptimizerState, learning_rate: Any = None) -> OptimizerState:
        """Return ``state`` with its float learning rate replaced (pure; NumPy or JAX state).

        ``learning_rate`` defaults to this optimizer's current `learning_rate`. With a schedule
        the state's rate follows the schedule: the call returns ``state`` unchanged (and
        TypeError if a float is given, as Keras). A JAX state gets a JAX scalar of the same
        dtype and placement, so a jitted step that takes the state does not recompile.
        """
        if not isinstance(self._learning_rate, float):
            if learning_rate is not None:
                raise TypeError("This optimizer's learning rate is a schedule; it cannot be set to a float.")
            return state
        lr = self._learning_rate if learning_rate is None else check_positive("learning_rate", learning_rate)
        old = state.learning_rate
        if isinstance(old, (Real, np.ndarray, np.generic)):
            return state._replace(learning_rate=float(lr))
        import jax  # a JAX state: jax is imported already

        new = jax.numpy.asarray(lr, dtype=old.dtype)
        if getattr(old, "committed", False):  # same placement, so a jitted step does not retrace
            new = jax.device_put(new, old.sharding)
        return state._replace(learning_rate=new)

    def finalize_variable_values(self, params: Any, state: OptimizerState) -> Any:
        """The weights to keep at the end of training: the EMA with ``use_ema=True``, else ``params``."""
        return state.average if self.use_ema else params

    def update(self, grads: Any, state: OptimizerState, params: Any = None) -> tuple[Any, OptimizerState]:
        """Return ``(updates, new_state)``; add ``updates`` to the params. Pure.

        ``params`` is required with ``weight_decay``, ``use_ema`` and by `Ftrl`.
        """
        if not isinstance(state, OptimizerState):
            raise ValueError(
                f"`state` must be the OptimizerState made by {type(self).__name__}.init(params). "
                f"Received: {type(state).__name__}"
            )
        grads = as_arrays(grads)
        if params is None and self._needs_params():
            raise ValueError(
                f"{type(self).__name__}.update needs `params` (weight_decay={self.weight_decay}, "
                f"use_ema={self.use_ema}): call update(grads, state, params)."
            )
        reference = as_arrays(params) if params is not None else self._reference_tree(state)
        if reference is not None:
            check_like(grads, reference)
            grads = cast_like(grads, reference)
        iterations = int(state.iterations)
        if isinstance(self._learning_rate, float):
            lr = state.learning_rate
        else:  # computed in the weights' dtype, as Keras computes it in its float32 floatx
            leaves = tree_leaves(grads)
            lr = evaluate_schedule(self._learning_rate, iterations, leaves[0].dtype if leaves else None)
        if self.loss_scale_factor is not None:
            grads = tree_map(lambda g: g / self.loss_scale_factor, grads)

        steps = self.gradient_accumulation_steps
        accumulated, apply_now = state.accumulated, True
        if steps:
            check_state_field(type(self).__name__, "accumulated", accumulated)
            apply_now = (iterations + 1) % steps == 0
            if apply_now:
                grads = tree_map(lambda g, a: (g + a) / steps, grads, accumulated)
                accumulated = tree_map(np.zeros_like, accumulated)
            else:
                accumulated = tree_map(lambda g, a: g + a, grads, accumulated)
        step_count = iterations // steps if steps else iterations  # Keras' `optimizer.iterations`

        if apply_now:
            grads = self.clip_gradients(grads)
            decayed = params if params is None else as_arrays(params)
            if self.weight_decay is not None:
                wd = self.weight_decay
                decayed = tree_map(lambda p: p - p * scalar(wd, p) * scalar(lr, p), decayed)
            updates, slots = self._update_slots(grads, state.slots, decayed, lr, step_count)
            if self.weight_decay is not None:
                updates = tree_map(lambda d, p, u: (d - p) + u, decayed, as_arrays(params), updates)
        else:
            updates, slots = tree_map(np.zeros_like, grads), state.slots

        average = state.average
        if self.use_ema:
            check_state_field(type(self).__name__, "average", average)
            params = as_arrays(params)
            new_params = apply_updates(params, updates)
            first = step_count == 0

            def ema(a: NDArray[Any], v: NDArray[Any]) -> NDArray[Any]:
                momentum = scalar(0.0 if first else self.ema_momentum, v)
                averaged: NDArray[Any] = momentum * a + (1 - momentum) * v
                return averaged

            average = tree_map(ema, average, new_params)
            frequency = self.ema_overwrite_frequency
            if frequency and (step_count + 1) % frequency == 0:
                updates = tree_map(lambda a, p: a - p, average, params)

        next_lr = state.learning_rate if isinstance(self._learning_rate, float) else self._state_learning_rate(iterations + 1)
        return updates, OptimizerState(iterations + 1, next_lr, slots, average, accumulated)

    def _reference_tree(self, state: OptimizerState) -> Any:
        for tree in (state.average, state.accumulated):
            if tree is not None:
                return tree
        for name in self._slot_trees:
            tree = getattr(state.slots, name, None)
            if tree is not None:
                return tree
        return None

    # --- per optimizer ------------------------------------------------------------------------
    def _init_slots(self, params: Any) -> Any:
        raise NotImplementedError

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, Any]:
        """``(updates, new_slots)`` of the update rule; ``params`` are the weight-decayed
        weights (None when not given), ``lr`` the learning rate (Python float), ``iterations``
        Keras' ``optimizer.iterations`` (its ``local_step`` is ``iterations + 1``)."""
        raise NotImplementedError
