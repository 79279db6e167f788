"""Lion."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._tree import tree_map
from ._base import Optimizer, check_number, common_arguments, scalar, zeros_like_tree


class LionState(NamedTuple):
    """Slots of `Lion`: ``momentums``, shaped like the params."""

    momentums: Any


class Lion(Optimizer):
    """Lion (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), learning rate ``lr``:

        var = var - lr * sign(m * beta_1 + g * (1 - beta_1))
        m = m * beta_2 + g * (1 - beta_2)

    On JAX: ``optax.scale_by_lion(beta_1, beta_2)`` times ``-lr``.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        beta_1: in (0, 1]. Default 0.9.
        beta_2: in [0, 1]. Default 0.99.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = Lion(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # w - lr * sign((1 - beta_1) g)
        array([ 0.9, -1.9])
    """

    _slot_trees = ("momentums",)
    # hyperparameters, set by `Optimizer.__init__`
    beta_1: float
    beta_2: float

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 weight_decay: float | None = None, clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None) -> None:
        hyperparameters = {
            "beta_1": check_number("beta_1", beta_1, low=0, low_open=True, high=1),
            "beta_2": check_number("beta_2", beta_2, low=0, high=1),
        }
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _init_slots(self, params: Any) -> LionState:
        return LionState(zeros_like_tree(params))

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, LionState]:
        def step(g: NDArray[Any], m: NDArray[Any]) -> NDArray[Any]:
            beta_1 = scalar(self.beta_1, g)
            update: NDArray[Any] = -(scalar(lr, g) * np.sign(m * beta_1 + g * (1.0 - beta_1)))
            return update

        updates = tree_map(step, grads, slots.momentums)
        momentums = tree_map(
            lambda g, m: m * scalar(self.beta_2, g) + g * (1.0 - scalar(self.beta_2, g)), grads, slots.momentums
        )
        return updates, LionState(momentums)
