"""FTRL-proximal."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._tree import tree_map
from ._base import Optimizer, check_number, common_arguments, full_like_tree, scalar, zeros_like_tree


class FtrlState(NamedTuple):
    """Slots of `Ftrl`, shaped like the params: ``accumulators`` (n, the sum of ``g**2``,
    starting at initial_accumulator_value) and ``linears`` (z)."""

    accumulators: Any
    linears: Any


class Ftrl(Optimizer):
    """FTRL-proximal (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), learning rate ``lr``,
    ``p = -learning_rate_power``:

        l2 = l2_regularization_strength + beta / (2 * lr)
        g_shrunk = g + 2 * l2_shrinkage_regularization_strength * var
        n_new = n + g**2
        z = z + g_shrunk - (n_new**p - n**p) / lr * var
        quadratic = n_new**p / lr + 2 * l2
        var = (clip(z, -l1, l1) - z) / quadratic            (l1 = l1_regularization_strength)
        n = n_new

    The rule replaces the weights (the update is ``var_new - var``), so ``update`` needs
    ``params``. optax has no FTRL: the JAX backend runs a small custom transformation.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        learning_rate_power: <= 0. Default -0.5.
        initial_accumulator_value: >= 0. Default 0.1.
        l1_regularization_strength, l2_regularization_strength, l2_shrinkage_regularization_strength: >= 0. Default 0.
        beta: >= 0. Default 0.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = Ftrl(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # n = 0.1 + g**2, z = g - (sqrt(n) - sqrt(0.1)) / lr * w, w = -z * lr / sqrt(n)
        array([ 0.381 , -1.3016])
    """

    _slot_trees = ("accumulators",)
    # hyperparameters, set by `Optimizer.__init__`
    learning_rate_power: float
    initial_accumulator_value: float
    l1_regularization_strength: float
    l2_regularization_strength: float
    l2_shrinkage_regularization_strength: float
    beta: float

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float = 0.0, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None) -> None:
        hyperparameters = {
            "learning_rate_power": check_number("learning_rate_power", learning_rate_power, high=0),
            "initial_accumulator_value": check_number("initial_accumulator_value", initial_accumulator_value, low=0),
            "l1_regularization_strength": check_number("l1_regularization_strength", l1_regularization_strength, low=0),
            "l2_regularization_strength": check_number("l2_regularization_strength", l2_regularization_strength, low=0),
            "l2_shrinkage_regularization_strength": check_number(
                "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, low=0
            ),
            "beta": check_number("beta", beta, low=0),
        }
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _needs_params(self) -> bool:
        return True

    def _init_slots(self, params: Any) -> FtrlState:
        return FtrlState(full_like_tree(params, self.initial_accumulator_value), zeros_like_tree(params))

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, FtrlState]:
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        shrinkage = 2 * self.l2_shrinkage_regularization_strength
        new_accumulators = tree_map(lambda g, n: n + np.square(g), grads, slots.accumulators)

        def linear(
            g: NDArray[Any], var: NDArray[Any], n: NDArray[Any], n_new: NDArray[Any], z: NDArray[Any]
        ) -> NDArray[Any]:
            lr_ = scalar(lr, g)
            g_shrunk = g + shrinkage * var
            new_linear: NDArray[Any] = z + (g_shrunk - ((np.power(n_new, power) - np.power(n, power)) / lr_) * var)
            return new_linear

        linears = tree_map(linear, grads, params, slots.accumulators, new_accumulators, slots.linears)

        def step(var: NDArray[Any], n_new: NDArray[Any], z: NDArray[Any]) -> NDArray[Any]:
            lr_ = scalar(lr, var)
            l2 = self.l2_regularization_strength + self.beta / (2.0 * lr_)
            quadratic = np.power(n_new, power) / lr_ + 2 * l2
            update: NDArray[Any] = (np.clip(z, -l1, l1) - z) / quadratic - var
            return update

        updates = tree_map(step, params, new_accumulators, linears)
        return updates, FtrlState(new_accumulators, linears)
