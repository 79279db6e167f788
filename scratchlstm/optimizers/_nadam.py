"""Nadam."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._tree import tree_leaves, tree_map
from ._adam import adam_hyperparameters
from ._base import Optimizer, common_arguments, scalar, zeros_like_tree


class NadamState(NamedTuple):
    """Slots of `Nadam`: ``momentums`` and ``velocities`` shaped like the params, and
    ``u_product``, the running product of the momentum schedule (a scalar, starts at 1)."""

    momentums: Any
    velocities: Any
    u_product: Any


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Keras 3 arguments, defaults and update rule).

    With gradient ``g`` (after clipping and weight decay), ``t = iterations + 1`` and the
    momentum schedule ``u(s) = beta_1 * (1 - 0.5 * 0.96**s)``:

        u_product = u_product * u(t)                                   (starts at 1)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        m_hat = u(t + 1) * m / (1 - u_product * u(t + 1)) + (1 - u(t)) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        var = var - m_hat * lr / (sqrt(v_hat) + epsilon)

    ``optax.nadam`` has no momentum schedule, so the JAX backend runs a small custom
    transformation with Keras' formula.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        beta_1: in [0, 1). Default 0.9.
        beta_2: in [0, 1). Default 0.999.
        epsilon: added to ``sqrt(v_hat)``; > 0. Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = Nadam(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # the Nesterov-corrected first moment: a step of 1.063 lr
        array([ 0.8937, -1.8937])
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

    def _init_slots(self, params: Any) -> NadamState:
        leaves = tree_leaves(params)
        dtype = np.asarray(leaves[0]).dtype if leaves and np.asarray(leaves[0]).dtype.kind == "f" else np.float32
        return NadamState(zeros_like_tree(params), zeros_like_tree(params), np.ones((), dtype))

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, NadamState]:
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        u_product = np.asarray(slots.u_product)
        u_product = u_product * b1 * (1.0 - 0.5 * np.power(scalar(0.96, u_product), scalar(iterations + 1, u_product)))
        momentums = tree_map(lambda g, m: m + (g - m) * (1 - scalar(b1, g)), grads, slots.momentums)
        velocities = tree_map(lambda g, v: v + (np.square(g) - v) * (1 - scalar(b2, g)), grads, slots.velocities)

        def step(g: NDArray[Any], m: NDArray[Any], v: NDArray[Any]) -> NDArray[Any]:
            local_step, next_step = scalar(iterations + 1, g), scalar(iterations + 2, g)
            decay, beta_1, beta_2 = scalar(0.96, g), scalar(b1, g), scalar(b2, g)
            u_t = beta_1 * (1.0 - 0.5 * decay**local_step)
            u_t_1 = beta_1 * (1.0 - 0.5 * decay**next_step)
            u_product_t = scalar(u_product, g)
            u_product_t_1 = u_product_t * u_t_1
            m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
            v_hat = v / (1 - beta_2**local_step)
            update: NDArray[Any] = -((m_hat * scalar(lr, g)) / (np.sqrt(v_hat) + eps))
            return update

        updates = tree_map(step, grads, momentums, velocities)
        return updates, NadamState(momentums, velocities, u_product)
