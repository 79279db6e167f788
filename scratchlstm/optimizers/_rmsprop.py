"""RMSprop (plain or centered, with optional momentum)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from .._tree import tree_map
from ._base import (
    Optimizer,
    check_bool,
    check_number,
    check_state_field,
    common_arguments,
    scalar,
    zeros_like_tree,
)


class RMSpropState(NamedTuple):
    """Slots of `RMSprop`, each shaped like the params (or None when unused).

    velocities: running mean of ``g**2``; momentums: momentum buffer (``momentum > 0``);
    average_gradients: running mean of ``g`` (``centered=True``).
    """

    velocities: Any
    momentums: Any
    average_gradients: Any


class RMSprop(Optimizer):
    """RMSprop (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), learning rate ``lr``:

        velocity = rho * velocity + (1 - rho) * g**2                       (starts at 0)
        average_grad = rho * average_grad + (1 - rho) * g                  (centered only)
        denominator = velocity + epsilon                                   (plain)
        denominator = velocity - average_grad**2 + epsilon                 (centered)
        increment = lr * g / sqrt(denominator)
        momentum > 0:  m = momentum * m + increment;  var = var - m        (m starts at 0)
        otherwise:     var = var - increment

    On JAX: ``optax.scale_by_rms(rho, epsilon, initial_scale=0, eps_in_sqrt=True)`` (or
    ``optax.scale_by_stddev`` when centered), times ``-lr``, then ``optax.trace(momentum)``.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        rho: decay of the running means, in [0, 1). Default 0.9.
        momentum: in [0, 1]. Default 0.
        epsilon: added under the square root; > 0. Default 1e-7.
        centered: divide by an estimate of the variance instead of the raw second moment.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = RMSprop(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # v = 0.1 g**2: w - lr * g / sqrt(v) = w - lr * sign(g) / sqrt(0.1)
        array([ 0.6838, -1.6838])
    """

    _slot_trees = ("velocities",)
    # hyperparameters, set by `Optimizer.__init__`
    rho: float
    momentum: float
    epsilon: float
    centered: bool

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None) -> None:
        hyperparameters = {
            "rho": check_number("rho", rho, low=0, high=1, high_open=True),
            "momentum": check_number("momentum", momentum, low=0, high=1),
            "epsilon": check_number("epsilon", epsilon, low=0, low_open=True),
            "centered": check_bool("centered", centered),
        }
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _init_slots(self, params: Any) -> RMSpropState:
        return RMSpropState(
            velocities=zeros_like_tree(params),
            momentums=zeros_like_tree(params) if self.momentum > 0 else None,
            average_gradients=zeros_like_tree(params) if self.centered else None,
        )

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, RMSpropState]:
        rho, eps = self.rho, self.epsilon
        velocities = tree_map(lambda g, v: rho * v + (1 - rho) * np.square(g), grads, slots.velocities)
        average_gradients = None
        if self.centered:
            check_state_field("RMSprop", "average_gradients", slots.average_gradients)
            average_gradients = tree_map(lambda g, a: rho * a + (1 - rho) * g, grads, slots.average_gradients)
            denominators = tree_map(lambda v, a: v - np.square(a) + eps, velocities, average_gradients)
        else:
            denominators = tree_map(lambda v: v + eps, velocities)
        increments = tree_map(lambda g, d: (scalar(lr, g) * g) / np.sqrt(d), grads, denominators)
        momentums = None
        if self.momentum > 0:
            check_state_field("RMSprop", "momentums", slots.momentums)
            momentums = tree_map(lambda i, m: self.momentum * m + i, increments, slots.momentums)
            updates = tree_map(np.negative, momentums)
        else:
            updates = tree_map(np.negative, increments)
        return updates, RMSpropState(velocities, momentums, average_gradients)
