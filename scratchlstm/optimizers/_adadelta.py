"""Adadelta."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from .._tree import tree_map
from ._base import Optimizer, check_number, common_arguments, scalar, zeros_like_tree


class AdadeltaState(NamedTuple):
    """Slots of `Adadelta`, shaped like the params: running means of ``g**2`` and of the
    squared steps."""

    accumulated_grads: Any
    accumulated_delta_vars: Any


class Adadelta(Optimizer):
    """Adadelta (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), learning rate ``lr``, and
    ``rms(x) = sqrt(x + epsilon)``:

        accumulated_grad = rho * accumulated_grad + (1 - rho) * g**2
        delta_var = -rms(accumulated_delta_var) * g / rms(accumulated_grad)
        accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta_var**2
        var = var + lr * delta_var

    On JAX: ``optax.scale_by_adadelta(rho, epsilon)`` times ``-lr``.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        rho: decay rate, in [0, 1). Default 0.95.
        epsilon: > 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = Adadelta(learning_rate=1.0)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # w - lr * sqrt(epsilon) * g / sqrt((1 - rho) g**2 + epsilon)
        array([ 0.9986, -1.9986])
    """

    _slot_trees = ("accumulated_grads",)
    # hyperparameters, set by `Optimizer.__init__`
    rho: float
    epsilon: float

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 weight_decay: float | None = None, clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None) -> None:
        hyperparameters = {
            "rho": check_number("rho", rho, low=0, high=1, high_open=True),
            "epsilon": check_number("epsilon", epsilon, low=0, low_open=True),
        }
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _init_slots(self, params: Any) -> AdadeltaState:
        return AdadeltaState(zeros_like_tree(params), zeros_like_tree(params))

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, AdadeltaState]:
        rho, eps = self.rho, self.epsilon
        accumulated_grads = tree_map(lambda g, a: rho * a + (1 - rho) * np.square(g), grads, slots.accumulated_grads)
        delta_vars = tree_map(
            lambda g, ag, ad: -((np.sqrt(ad + eps) * g) / np.sqrt(ag + eps)),
            grads,
            accumulated_grads,
            slots.accumulated_delta_vars,
        )
        accumulated_delta_vars = tree_map(
            lambda d, ad: rho * ad + (1 - rho) * np.square(d), delta_vars, slots.accumulated_delta_vars
        )
        updates = tree_map(lambda d: scalar(lr, d) * d, delta_vars)
        return updates, AdadeltaState(accumulated_grads, accumulated_delta_vars)
