"""Adam (with AMSGrad) and AdamW."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

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


class AdamState(NamedTuple):
    """Slots of `Adam` / `AdamW`, each shaped like the params.

    momentums: first moment ``m``; velocities: second moment ``v``;
    velocity_hats: running maximum of ``v`` with ``amsgrad=True``, else None.
    """

    momentums: Any
    velocities: Any
    velocity_hats: Any = None


def adam_hyperparameters(beta_1: Any, beta_2: Any, epsilon: Any, amsgrad: Any) -> dict[str, Any]:
    return {
        "beta_1": check_number("beta_1", beta_1, low=0, high=1, high_open=True),
        "beta_2": check_number("beta_2", beta_2, low=0, high=1, high_open=True),
        "epsilon": check_number("epsilon", epsilon, low=0, low_open=True),
        "amsgrad": check_bool("amsgrad", amsgrad),
    }


class Adam(Optimizer):
    """Adam (Keras 3 arguments, defaults and update rule, "epsilon hat" placement).

    With gradient ``g`` (after clipping and weight decay), ``t = iterations + 1``:

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        v_hat = maximum(v_hat, v);  v = v_hat                              (amsgrad only)
        var = var - (m * alpha) / (sqrt(v) + epsilon)

    Keras adds epsilon to ``sqrt(v)``, not to the bias-corrected ``sqrt(v / (1 - beta_2**t))``
    as ``optax.adam`` does; on small gradients the first steps differ a lot (at lr 0.01 and a
    gradient of 1e-6, Keras' first update is -0.0024, optax's -0.0091), so the JAX backend
    runs a small custom optax transformation with Keras' formula. AMSGrad keeps the maximum of
    the raw ``v`` (optax's ``amsgrad`` takes it of the bias-corrected one).

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        beta_1: decay of the first moment, in [0, 1). Default 0.9.
        beta_2: decay of the second moment, in [0, 1). Default 0.999.
        epsilon: added to ``sqrt(v)``; > 0. Default 1e-7.
        amsgrad: use the AMSGrad variant. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = Adam(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # first step: m / sqrt(v) = sign(g), so w - lr * sign(g)
        array([ 0.9, -1.9])
    """

    _slot_trees = ("momentums",)
    # hyperparameters, set by `Optimizer.__init__`
    beta_1: float
    beta_2: float
    epsilon: float
    amsgrad: bool

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None) -> None:
        hyperparameters = adam_hyperparameters(beta_1, beta_2, epsilon, amsgrad)
        super().__init__(learning_rate, hyperparameters, **common_arguments(locals()))

    def _init_slots(self, params: Any) -> AdamState:
        return AdamState(
            momentums=zeros_like_tree(params),
            velocities=zeros_like_tree(params),
            velocity_hats=zeros_like_tree(params) if self.amsgrad else None,
        )

    def _update_slots(self, grads: Any, slots: Any, params: Any, lr: Any, iterations: int) -> tuple[Any, AdamState]:
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        momentums = tree_map(lambda g, m: m + (g - m) * (1 - b1), grads, slots.momentums)
        velocities = tree_map(lambda g, v: v + (np.square(g) - v) * (1 - b2), grads, slots.velocities)
        velocity_hats, denominators = None, velocities
        if self.amsgrad:
            check_state_field(type(self).__name__, "velocity_hats", slots.velocity_hats)
            velocity_hats = tree_map(np.maximum, slots.velocity_hats, velocities)
            denominators = velocity_hats

        def step(m: NDArray[Any], v: NDArray[Any]) -> NDArray[Any]:
            t = scalar(iterations + 1, m)
            alpha = scalar(lr, m) * np.sqrt(1 - scalar(b2, m) ** t) / (1 - scalar(b1, m) ** t)
            update: NDArray[Any] = -((m * alpha) / (np.sqrt(v) + eps))
            return update

        updates = tree_map(step, momentums, denominators)
        return updates, AdamState(momentums, velocities, velocity_hats)


class AdamW(Adam):
    """AdamW: `Adam` with decoupled weight decay (Keras 3 arguments, defaults and update rule).

    Before each Adam step (same formula as `Adam`), ``var = var - var * weight_decay * lr``.
    This is Keras' common ``weight_decay`` argument, here required and defaulting to 0.004.

    Args:
        learning_rate: float > 0, a schedule, or a callable of the step. Default 0.001.
        weight_decay: >= 0 (not None). Default 0.004.
        beta_1, beta_2, epsilon, amsgrad: as `Adam`.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: see `Optimizer`.

    Examples:
        >>> import numpy as np
        >>> w, g = np.array([1.0, -2.0]), np.array([0.5, -1.0])
        >>> opt = AdamW(learning_rate=0.1)
        >>> updates, state = opt.update(g, opt.init(w), w)   # one step; the updates are added to w
        >>> np.round(w + updates, 4)   # Adam's w - lr * sign(g), less w * weight_decay * lr
        array([ 0.8996, -1.8992])
    """

    def __init__(self, learning_rate: float | Callable[[int], float] = 0.001, weight_decay: float | None = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 clipnorm: float | None = None, clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None, gradient_accumulation_steps: int | None = None,
                 name: str | None = None) -> None:
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        hyperparameters = adam_hyperparameters(beta_1, beta_2, epsilon, amsgrad)
        Optimizer.__init__(self, learning_rate, hyperparameters, **common_arguments(locals()))
