"""Adagrad."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from .._tree import tree_map
from ._base import Optimizer, check_number, common_arguments, full_like_tree, scalar


class AdagradState(NamedTuple):
    """Slots of `Adagrad`: ``accumulators`` (sum of ``g**2``), shaped like the params."""

    accumulators: Any


class Adagrad(Optimizer):
    """Adagrad (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), learning rate ``lr``:

        accumulator = accumulator + g**2               (starts at initial_accumulator_value)
        var = var - lr * g / sqrt(accumulator + epsilon)

    On JAX: ``optax.scale_by_rss(initial_accumulator_value, epsilon)`` times ``-lr``.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        initial_accumulator_value: starting value of the accumulators, >= 0. Default 0.1.
        epsilon: added under the square root; > 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = Adagrad(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # acc = 0.1 + g**2: w - lr * g / sqrt(acc)
        array([ 0.9155, -1.9047])
    """

    _slot_trees = ("accumulators",)
    # hyperparameters, set by `Optimizer.__init__`
    initial_accumulator_value: float
    epsilon: float

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None) -> None:
        hyperparameters = {
            "initial_accumulator_value": check_number("initial_accumulator_value", initial_accumulator_value, low=0),
            "epsilon": check_number("epsilon", epsilon, low=0, low_open=True),
        }
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _init_slots(self, params: Any) -> AdagradState:
        return AdagradState(accumulators=full_like_tree(params, self.initial_accumulator_value))

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, AdagradState]:
        accumulators = tree_map(lambda g, a: a + np.square(g), grads, slots.accumulators)
        updates = tree_map(
            lambda g, a: -((scalar(lr, g) * g) / np.sqrt(a + self.epsilon)), grads, accumulators
        )
        return updates, AdagradState(accumulators)
