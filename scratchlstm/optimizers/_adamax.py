"""Adamax."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._tree import tree_map
from ._adam import adam_hyperparameters
from ._base import Optimizer, common_arguments, scalar, zeros_like_tree


class AdamaxState(NamedTuple):
    """Slots of `Adamax`, shaped like the params: ``momentums`` (m) and ``norms`` (u, the
    exponentially weighted infinity norm)."""

    momentums: Any
    norms: Any


class Adamax(Optimizer):
    """Adamax (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), ``t = iterations + 1``:

        m = m + (g - m) * (1 - beta_1)
        u = maximum(beta_2 * u, abs(g))
        var = var - lr * m / ((1 - beta_1**t) * (u + epsilon))

    ``optax.scale_by_adamax`` adds epsilon to ``abs(g)`` inside the maximum instead, so the JAX
    backend runs a small custom transformation with Keras' formula.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        beta_1: decay of the first moment, in [0, 1). Default 0.9.
        beta_2: decay of the infinity norm, in [0, 1). Default 0.999.
        epsilon: > 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = Adamax(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # first step: m / ((1 - beta_1) u) = sign(g), so w - lr * sign(g)
        array([ 0.9, -1.9])
    """

    _slot_trees = ("momentums",)
    # hyperparameters, set by `Optimizer.__init__`
    beta_1: float
    beta_2: float
    epsilon: float

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None) -> None:
        hyperparameters = adam_hyperparameters(beta_1, beta_2, epsilon, False)
        del hyperparameters["amsgrad"]
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _init_slots(self, params: Any) -> AdamaxState:
        return AdamaxState(zeros_like_tree(params), zeros_like_tree(params))

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, AdamaxState]:
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        momentums = tree_map(lambda g, m: m + (g - m) * (1 - b1), grads, slots.momentums)
        norms = tree_map(lambda g, u: np.maximum(b2 * u, np.abs(g)), grads, slots.norms)

        def step(m: NDArray[Any], u: NDArray[Any]) -> NDArray[Any]:
            beta_1_power = scalar(b1, m) ** scalar(iterations + 1, m)
            update: NDArray[Any] = -((scalar(lr, m) * m) / ((1 - beta_1_power) * (u + eps)))
            return update

        return tree_map(step, momentums, norms), AdamaxState(momentums, norms)
