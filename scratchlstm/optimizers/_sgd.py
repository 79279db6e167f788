"""Stochastic gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .._tree import tree_map
from ._base import (
    Optimizer,
    as_arrays,
    cast_like,
    check_bool,
    check_like,
    check_number,
    check_positive,
    check_state_field,
    scale,
    zeros_like_tree,
)


class SGDState(NamedTuple):
    """State of `SGD`.

    momentum_buffer: the trace ``t`` (a tree shaped like the params), or ``None`` when
        ``momentum == 0`` (plain SGD keeps no state).
    """

    momentum_buffer: Any


@dataclass(frozen=True, repr=False)
class SGD(Optimizer):
    """Gradient descent (Keras 3 arguments and defaults), computed as ``optax.sgd``.

    With gradient ``g`` (after clipping), learning rate ``lr`` and ``momentum`` = mu:

        momentum == 0:   update = -lr * g
        otherwise:       t      = g + mu * t                       (t starts at 0)
                         update = -lr * t                          (nesterov=False)
                         update = -lr * (g + mu * t)               (nesterov=True, t the new trace)

    This is ``optax.sgd(lr, momentum=momentum or None, nesterov=nesterov)`` step for step. For a
    constant learning rate it equals Keras' ``v = mu * v - lr * g; p += v`` (there ``v = -lr*t``)
    and Keras' Nesterov form ``p += mu * v - lr * g``.

    Args:
        learning_rate: step size, > 0. Default 0.01.
        momentum: in [0, 1]. Default 0.
        nesterov: use Nesterov momentum (ignored when momentum is 0). Default False.
        clipnorm, clipvalue, global_clipnorm: see `Optimizer`.
    """

    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False

    def _check_hyperparameters(self) -> dict:
        return {
            "learning_rate": check_positive("learning_rate", self.learning_rate),
            "momentum": check_number("momentum", self.momentum, low=0, high=1),
            "nesterov": check_bool("nesterov", self.nesterov),
        }

    def init(self, params: Any) -> SGDState:
        """Zero momentum buffer shaped like ``params`` (``None`` without momentum)."""
        if self.momentum == 0:
            return SGDState(momentum_buffer=None)
        return SGDState(momentum_buffer=zeros_like_tree(params))

    def update(self, grads: Any, state: SGDState, params: Any = None):
        """Return ``(updates, new_state)``; add ``updates`` to the params. Pure."""
        grads = self.clip_gradients(as_arrays(grads))
        if self.momentum == 0:
            if params is not None:  # no state to take a dtype from: keep the params' dtype
                grads = cast_like(grads, as_arrays(params))
            return scale(-self.learning_rate, grads), state
        check_state_field("SGD", "momentum_buffer", state.momentum_buffer)
        check_like(grads, state.momentum_buffer)
        grads = cast_like(grads, state.momentum_buffer)
        mu = self.momentum
        new_buffer = tree_map(lambda g, t: g + mu * t, grads, state.momentum_buffer)
        if self.nesterov:
            direction = tree_map(lambda g, t: g + mu * t, grads, new_buffer)
        else:
            direction = new_buffer
        return scale(-self.learning_rate, direction), SGDState(momentum_buffer=new_buffer)
