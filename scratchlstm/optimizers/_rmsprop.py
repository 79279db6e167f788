"""RMSprop (plain or centered, with optional momentum)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

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


class RMSpropState(NamedTuple):
    """State of `RMSprop`.

    nu: running mean of the squared gradients, shaped like the params.
    mu: running mean of the gradients when ``centered=True``, else ``None``.
    momentum_buffer: momentum trace of the scaled steps when ``momentum > 0``, else ``None``.
    """

    nu: Any
    mu: Any
    momentum_buffer: Any


@dataclass(frozen=True, repr=False)
class RMSprop(Optimizer):
    """RMSprop (Keras 3 arguments and defaults), computed as ``optax.rmsprop``.

    With gradient ``g`` (after clipping):

        nu   = rho * nu + (1 - rho) * g**2                       (nu starts at 0)
        mu   = rho * mu + (1 - rho) * g                          (centered only)
        step = -learning_rate * g / sqrt(nu + epsilon)           (plain)
        step = -learning_rate * g / sqrt(nu - mu**2 + epsilon)   (centered)
        momentum == 0:  update = step
        otherwise:      t = step + momentum * t;  update = t     (t starts at 0)

    This is ``optax.rmsprop(learning_rate, decay=rho, eps=epsilon, eps_in_sqrt=True,
    centered=centered, momentum=momentum or None)`` (initial scale 0, epsilon inside the square
    root, momentum applied after the learning rate), which is also Keras 3's RMSprop.

    Args:
        learning_rate: step size, > 0. Default 0.001.
        rho: decay of the running means, in [0, 1). Default 0.9.
        momentum: in [0, 1]. Default 0.
        epsilon: added under the square root; must be > 0. Default 1e-7.
        centered: divide by an estimate of the variance instead of the raw second moment.
        clipnorm, clipvalue, global_clipnorm: see `Optimizer`.
    """

    learning_rate: float = 0.001
    rho: float = 0.9
    momentum: float = 0.0
    epsilon: float = 1e-7
    centered: bool = False

    def _check_hyperparameters(self) -> dict:
        return {
            "learning_rate": check_positive("learning_rate", self.learning_rate),
            "rho": check_number("rho", self.rho, low=0, high=1, high_open=True),
            "momentum": check_number("momentum", self.momentum, low=0, high=1),
            "epsilon": check_number("epsilon", self.epsilon, low=0, low_open=True),
            "centered": check_bool("centered", self.centered),
        }

    def init(self, params: Any) -> RMSpropState:
        """Zero running means (and momentum buffer when used) shaped like ``params``."""
        return RMSpropState(
            nu=zeros_like_tree(params),
            mu=zeros_like_tree(params) if self.centered else None,
            momentum_buffer=zeros_like_tree(params) if self.momentum > 0 else None,
        )

    def update(self, grads: Any, state: RMSpropState, params: Any = None):
        """Return ``(updates, new_state)``; add ``updates`` to the params. Pure."""
        del params  # RMSprop does not look at the parameters
        grads = self.clip_gradients(as_arrays(grads))
        check_like(grads, state.nu)
        grads = cast_like(grads, state.nu)
        rho, eps = self.rho, self.epsilon
        nu = tree_map(lambda g, v: (1 - rho) * g**2 + rho * v, grads, state.nu)
        if self.centered:
            check_state_field("RMSprop", "mu", state.mu)
            mu = tree_map(lambda g, m: (1 - rho) * g + rho * m, grads, state.mu)
            scaled = tree_map(lambda g, m, v: g / np.sqrt(v - m * m + eps), grads, mu, nu)
        else:
            mu = None
            scaled = tree_map(lambda g, v: g / np.sqrt(v + eps), grads, nu)
        steps = scale(-self.learning_rate, scaled)
        if self.momentum == 0:
            return steps, RMSpropState(nu=nu, mu=mu, momentum_buffer=None)
        check_state_field("RMSprop", "momentum_buffer", state.momentum_buffer)
        momentum = self.momentum
        buffer = tree_map(lambda s, t: s + momentum * t, steps, state.momentum_buffer)
        return buffer, RMSpropState(nu=nu, mu=mu, momentum_buffer=buffer)
