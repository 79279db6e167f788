"""Dynamic loss scaling (Keras 3's ``LossScaleOptimizer``): float16 training without underflow.

float16 keeps 5 exponent bits: gradients below ~6e-8 round to 0 and above 65504 become inf.
The train loop multiplies the loss by a large *scale* before differentiating, so the float16
intermediate gradients carry it too, and this wrapper divides the float32 weight gradients by
the same scale before its inner optimizer sees them. The scale moves with the gradients:
halved (and the step skipped) when they overflow, doubled after ``dynamic_growth_steps`` good
steps in a row.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Callable, NamedTuple

import numpy as np

from .._tree import tree_leaves, tree_map
from ._base import Optimizer, OptimizerState, as_arrays, cast_like, check_like

_FLOAT32_MAX = float(np.finfo(np.float32).max)

# Keras' base-optimizer arguments, with the only values the wrapper accepts (its old configs
# wrote them): any other value belongs on the inner optimizer.
_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleState(NamedTuple):
    """The wrapper's part of its `OptimizerState`: ``state.slots`` is this.

    dynamic_scale: the loss scale ``S`` the next step's loss is multiplied by (a Python float
        here, a float32 0-d array on JAX, as Keras' ``dynamic_scale`` variable).
    step_counter: finite steps since the scale last changed (int; int32 on JAX).
    inner_slots: the inner optimizer's ``slots``. The other fields of the state
        (``iterations``, ``learning_rate``, ``average``, ``accumulated``) are the inner
        optimizer's own, so ``state.iterations`` counts the steps that were applied.
    """

    dynamic_scale: Any
    step_counter: Any
    inner_slots: Any


def _all_finite(tree: Any) -> bool:
    return all(np.isfinite(leaf).all() for leaf in tree_leaves(tree))


class LossScaleOptimizer(Optimizer):
    """Wrap an optimizer with dynamic loss scaling (Keras 3's ``LossScaleOptimizer``).

    The train loop differentiates ``S * loss`` (`scale_loss`), so the gradients ``g`` that
    reach `update` are scaled by the current scale ``S``. One update, with counter ``k``:

        if any g is NaN or inf:   skip: the weights and the inner optimizer's state stay as they
                                  are;  S <- S / 2,  k <- 0
        else:                     inner update with g / S;
                                  if k == dynamic_growth_steps - 1:  S <- 2 S,  k <- 0
                                  else:                              k <- k + 1

    ``S`` starts at ``initial_scale``. The inner optimizer's own ``loss_scale_factor`` is
    switched off (set to None on the object given, as Keras does), or the gradients would be
    divided twice. ``learning_rate``, ``iterations``, ``use_ema`` and
    `finalize_variable_values` are the inner optimizer's: ``iterations`` counts the applied
    steps only. ``compile(..., auto_scale_loss=True)`` (the default) wraps the optimizer in one
    (named ``"loss_scale_optimizer"``) when the model's dtype policy is ``"mixed_float16"``.

    The state is the inner optimizer's `OptimizerState` with ``slots`` replaced by a
    `LossScaleState` holding ``S``, ``k`` and the inner slots: it is saved with the model and
    restored by ``load_model``. On the JAX backend the same state rides in the jitted step
    (``scratchlstm.jax_backend.make_optax``), so a new scale never recompiles it.

    Args:
        inner_optimizer: the `scratchlstm.optimizers.Optimizer` to wrap (not a
            ``LossScaleOptimizer``).
        initial_scale: float > 0 (at most float32's largest), the first loss scale. Default
            ``2.0 ** 15``: start high, a scale that is too high falls much faster (one halving
            per step) than one too low grows.
        dynamic_growth_steps: int >= 1, the finite steps in a row after which the scale
            doubles. Default 2000.
        name: kept in the config.
        **kwargs: Keras' base-optimizer arguments (``clipnorm``, ``weight_decay``, ...) only at
            their defaults; any other value, any other argument, or ``dynamic=False`` raise
            ValueError with Keras' messages (set them on the inner optimizer).

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.optimizers import SGD, LossScaleOptimizer
        >>> opt = LossScaleOptimizer(SGD(0.5), initial_scale=8.0, dynamic_growth_steps=2)
        >>> w = np.array([1.0, 2.0])
        >>> state = opt.init(w)
        >>> opt.scale_loss(3.0, state)                       # the loss the loop differentiates
        24.0
        >>> updates, state = opt.update(np.array([8.0, np.inf]), state, w)   # overflow: skipped
        >>> updates, state.slots.dynamic_scale, state.iterations
        (array([0., 0.]), 4.0, 0)
        >>> updates, state = opt.update(np.array([4.0, -8.0]), state, w)     # g / S = [1, -2]
        >>> w + updates, state.slots.dynamic_scale, state.slots.step_counter
        (array([0.5, 3. ]), 4.0, 1)
        >>> _, state = opt.update(np.array([4.0, -8.0]), state, w)           # 2nd finite step: grow
        >>> state.slots.dynamic_scale, state.slots.step_counter, state.iterations
        (8.0, 0, 2)
    """

    handles_non_finite_gradients = True  # a NaN/inf gradient skips the step, it is not an error
    inner_optimizer: Optimizer
    initial_scale: float
    dynamic_growth_steps: int

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0**15, dynamic_growth_steps: int = 2000,
                 name: str | None = None, **kwargs: Any) -> None:
        object.__setattr__(self, "_locked", False)
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs:
                value = kwargs.pop(key)
                if (default is None and value is not None) or value != default:
                    raise ValueError(
                        f"LossScaleOptimizer does not support `{key}`. Instead, set `{key}` on the `inner_optimizer`."
                    )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer) or isinstance(inner_optimizer, LossScaleOptimizer):
            raise ValueError(
                "`inner_optimizer` must be an optimizer from scratchlstm.optimizers (such as "
                f"SGD() or Adam()), not a LossScaleOptimizer. Received: {inner_optimizer!r}"
            )
        if (isinstance(initial_scale, bool) or not isinstance(initial_scale, Real)
                or not math.isfinite(initial_scale) or not 0 < initial_scale <= _FLOAT32_MAX):
            # (the scale is a float32, as Keras' variable: a larger one would be inf on JAX)
            raise ValueError(
                f"`initial_scale` must be a number > 0 that float32 holds (<= {_FLOAT32_MAX:.4g}). "
                f"Received: initial_scale={initial_scale!r}"
            )
        if isinstance(dynamic_growth_steps, bool) or not isinstance(dynamic_growth_steps, Integral) or dynamic_growth_steps < 1:
            raise ValueError(
                f"`dynamic_growth_steps` must be an integer >= 1. Received: dynamic_growth_steps={dynamic_growth_steps!r}"
            )
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Argument `name` must be None or a string. Received: name={name!r}")
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.name = name
        self._hyperparameter_names = ()
        for key, default in _BASE_DEFAULTS.items():  # the wrapper's own common arguments: off
            if key != "use_ema":
                object.__setattr__(self, key, default)
        # As Keras: the inner optimizer must not divide the gradients a second time (its
        # hyperparameters are otherwise read-only, hence the direct write).
        object.__setattr__(inner_optimizer, "loss_scale_factor", None)
        self._locked = True

    # --- the inner optimizer's -------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The inner optimizer's `learning_rate` (settable, as Keras')."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self.inner_optimizer.learning_rate = value

    @property
    def learning_rate_schedule(self) -> Any:
        return self.inner_optimizer.learning_rate_schedule

    @property
    def _learning_rate(self) -> float | Callable[..., Any]:  # type: ignore[override]  # the inner optimizer's, read-only here (a base attribute)
        return self.inner_optimizer._learning_rate

    @property
    def iterations(self) -> int:
        """The inner optimizer's `iterations`: the steps applied (skipped ones not counted)."""
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value: Any) -> None:
        self.inner_optimizer.iterations = value

    @property
    def use_ema(self) -> bool:  # type: ignore[override]  # the inner optimizer's, read-only here (a base attribute)
        return self.inner_optimizer.use_ema

    def with_learning_rate(self, state: OptimizerState, learning_rate: Any = None) -> OptimizerState:
        """The inner optimizer's `Optimizer.with_learning_rate` (the rate is its state field)."""
        return self.inner_optimizer.with_learning_rate(state, learning_rate)

    def finalize_variable_values(self, params: Any, state: OptimizerState) -> Any:
        return self.inner_optimizer.finalize_variable_values(params, state)

    def _state_learning_rate(self, iterations: int) -> float:
        return self.inner_optimizer._state_learning_rate(iterations)

    # --- config --------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """``{"class_name", "name", "inner_optimizer": inner.get_config(), "initial_scale",
        "dynamic_growth_steps"}`` (Keras' keys; the inner config in this library's flat form)."""
        return {
            "class_name": type(self).__name__,
            "name": self.name,
            "inner_optimizer": self.inner_optimizer.get_config(),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    def static_config(self) -> dict[str, Any]:
        """`get_config` with the inner optimizer's `Optimizer.static_config`."""
        return {**self.get_config(), "inner_optimizer": self.inner_optimizer.static_config()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LossScaleOptimizer":
        """Rebuild from `get_config` (or Keras' config, whose inner optimizer is nested)."""
        from . import deserialize

        config = {key: value for key, value in config.items() if key != "class_name"}
        if "inner_optimizer" not in config:
            raise ValueError(f"a LossScaleOptimizer config needs 'inner_optimizer'. Received keys: {sorted(config)}")
        inner = config.pop("inner_optimizer")
        return cls(inner if isinstance(inner, Optimizer) else deserialize(inner), **config)

    # --- pure functions --------------------------------------------------------------------------
    def scale_loss(self, loss: Any, state: OptimizerState | None = None) -> Any:
        """``loss * S``: the state's dynamic scale, or ``initial_scale`` without a state."""
        return loss * (self.initial_scale if state is None else self._own(state).dynamic_scale)

    def init(self, params: Any) -> OptimizerState:
        """The inner optimizer's state with ``slots = LossScaleState(initial_scale, 0, inner slots)``."""
        state = self.inner_optimizer.init(params)
        return state._replace(slots=LossScaleState(self.initial_scale, 0, state.slots))

    def _own(self, state: Any) -> LossScaleState:
        if not isinstance(state, OptimizerState) or not isinstance(state.slots, LossScaleState):
            raise ValueError(
                "`state` must be the OptimizerState made by LossScaleOptimizer.init(params) (its "
                f"slots a LossScaleState). Received: {type(state).__name__}"
                + (f" with slots {type(state.slots).__name__}" if isinstance(state, OptimizerState) else "")
            )
        return state.slots

    def update(self, grads: Any, state: OptimizerState, params: Any = None) -> tuple[Any, OptimizerState]:
        """Return ``(updates, new_state)`` for the *scaled* gradients ``grads``. Pure."""
        own = self._own(state)
        grads = as_arrays(grads)
        inner_state = state._replace(slots=own.inner_slots)
        scale, counter = float(own.dynamic_scale), int(own.step_counter)
        if not _all_finite(grads):
            reference = as_arrays(params) if params is not None else self.inner_optimizer._reference_tree(inner_state)
            if reference is not None:
                check_like(grads, reference)
                grads = cast_like(grads, reference)
            updates = tree_map(np.zeros_like, grads)
            return updates, state._replace(slots=LossScaleState(scale * 0.5, 0, own.inner_slots))
        unscaled = tree_map(lambda g: np.asarray(g / scale).astype(g.dtype, copy=False), grads)
        updates, inner_state = self.inner_optimizer.update(unscaled, inner_state, params)
        if counter == self.dynamic_growth_steps - 1:
            scale, counter = scale * 2.0, 0
        else:
            counter += 1
        return updates, inner_state._replace(slots=LossScaleState(scale, counter, inner_state.slots))
