"""Adam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .._tree import tree_map
from ._base import (
    Optimizer,
    as_arrays,
    cast_like,
    check_like,
    check_number,
    check_positive,
    scale,
    zeros_like_tree,
)


class AdamState(NamedTuple):
    """State of `Adam`.

    count: number of updates done so far (Python int; the bias corrections use it).
    mu: running mean of the gradients (first moment), shaped like the params.
    nu: running mean of the squared gradients (second moment), shaped like the params.
    """

    count: int
    mu: Any
    nu: Any


@dataclass(frozen=True, repr=False)
class Adam(Optimizer):
    """Adam (Keras 3 arguments and defaults), computed as ``optax.adam``.

    With gradient ``g`` (after clipping), step ``k = count + 1``:

        mu     = beta_1 * mu + (1 - beta_1) * g
        nu     = beta_2 * nu + (1 - beta_2) * g**2
        mu_hat = mu / (1 - beta_1**k)
        nu_hat = nu / (1 - beta_2**k)
        update = -learning_rate * mu_hat / (sqrt(nu_hat) + epsilon)

    This is ``optax.adam(learning_rate, b1=beta_1, b2=beta_2, eps=epsilon)`` step for step.
    Keras puts epsilon slightly differently ("epsilon hat": it folds the bias corrections into
    the learning rate and adds epsilon to ``sqrt(nu)`` rather than ``sqrt(nu_hat)``), so results
    differ from Keras by O(epsilon) only. The default epsilon is Keras' 1e-7, not optax's 1e-8.

    Args:
        learning_rate: step size, > 0. Default 0.001.
        beta_1: decay of the first moment, in [0, 1). Default 0.9.
        beta_2: decay of the second moment, in [0, 1). Default 0.999.
        epsilon: keeps the division finite; must be > 0. Default 1e-7.
        clipnorm, clipvalue, global_clipnorm: see `Optimizer`.
    """

    learning_rate: float = 0.001
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7

    def _check_hyperparameters(self) -> dict:
        return {
            "learning_rate": check_positive("learning_rate", self.learning_rate),
            "beta_1": check_number("beta_1", self.beta_1, low=0, high=1, high_open=True),
            "beta_2": check_number("beta_2", self.beta_2, low=0, high=1, high_open=True),
            "epsilon": check_number("epsilon", self.epsilon, low=0, low_open=True),
        }

    def init(self, params: Any) -> AdamState:
        """Zero moments shaped like ``params``, count 0."""
        return AdamState(count=0, mu=zeros_like_tree(params), nu=zeros_like_tree(params))

    def update(self, grads: Any, state: AdamState, params: Any = None):
        """Return ``(updates, new_state)``; add ``updates`` to the params. Pure."""
        del params  # Adam does not look at the parameters
        grads = self.clip_gradients(as_arrays(grads))
        check_like(grads, state.mu)
        grads = cast_like(grads, state.mu)
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        mu = tree_map(lambda g, m: (1 - b1) * g + b1 * m, grads, state.mu)
        nu = tree_map(lambda g, v: (1 - b2) * g**2 + b2 * v, grads, state.nu)
        count = state.count + 1
        # Python floats: cast to each leaf's dtype before dividing, as optax does.
        correction_1 = 1 - b1**count
        correction_2 = 1 - b2**count

        def direction(m, v):
            m_hat = m / np.asarray(correction_1, dtype=m.dtype)
            v_hat = v / np.asarray(correction_2, dtype=v.dtype)
            return m_hat / (np.sqrt(v_hat) + eps)

        updates = scale(-self.learning_rate, tree_map(direction, mu, nu))
        return updates, AdamState(count=count, mu=mu, nu=nu)
