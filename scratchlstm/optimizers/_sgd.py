"""Stochastic gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .._tree import tree_map
from ._base import Optimizer, check_bool, check_number, check_state_field, common_arguments, scalar, zeros_like_tree


class SGDState(NamedTuple):
    """Slots of `SGD`: ``momentums``, shaped like the params, or None when ``momentum == 0``."""

    momentums: Any


class SGD(Optimizer):
    """Gradient descent with momentum (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), learning rate ``lr``:

        momentum == 0:   var = var - g * lr
        otherwise:       m = m * momentum - g * lr                         (m starts at 0)
                         var = var + m                                     (nesterov=False)
                         var = var + m * momentum - g * lr                 (nesterov=True)

    On JAX this is ``optax.trace(momentum, nesterov)`` applied to ``-lr * g`` (the learning rate
    goes in before the trace, as in Keras, so a changing rate is summed as Keras sums it).

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.01.
        momentum: in [0, 1]. Default 0.
        nesterov: use Nesterov momentum. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = SGD(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # w - lr * g
        array([ 0.95, -1.9 ])
    """

    _slot_trees = ("momentums",)
    # hyperparameters, set by `Optimizer.__init__`
    momentum: float
    nesterov: bool

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None) -> None:
        hyperparameters = {
            "momentum": check_number("momentum", momentum, low=0, high=1),
            "nesterov": check_bool("nesterov", nesterov),
        }
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _init_slots(self, params: Any) -> SGDState:
        return SGDState(momentums=zeros_like_tree(params) if self.momentum != 0 else None)

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, SGDState]:
        if self.momentum == 0:
            return tree_map(lambda g: -(g * scalar(lr, g)), grads), slots
        check_state_field("SGD", "momentums", slots.momentums)
        momentums = tree_map(lambda g, m: m * scalar(self.momentum, g) - g * scalar(lr, g), grads, slots.momentums)
        if self.nesterov:
            updates = tree_map(lambda g, m: m * scalar(self.momentum, g) - g * scalar(lr, g), grads, momentums)
        else:
            updates = momentums
        return updates, SGDState(momentums=momentums)
