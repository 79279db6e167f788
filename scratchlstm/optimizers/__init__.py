"""Optimizers shaped like optax, with Keras 3 names and defaults. NumPy only.

Each optimizer is an immutable object holding hyperparameters, with two pure methods:

    opt = Adam(learning_rate=1e-3)
    state = opt.init(params)                           # AdamState(count, mu, nu)
    updates, state = opt.update(grads, state, params)  # updates are *added* to the params
    params = apply_updates(params, updates)

``params`` / ``grads`` are trees (nested dict / list / tuple) of NumPy arrays, e.g. one dict per
layer. Each step equals the matching optax chain (documented on each class), so the JAX backend
can build real optax transforms from ``opt.get_config()`` and get the same numbers.

``get(identifier)`` accepts a name (``"sgd"``, ``"adam"``, ``"rmsprop"``, any case), an optimizer
(returned as is) or a config dict; ``deserialize(config)`` rebuilds from ``get_config()``.
"""

from __future__ import annotations

from typing import Any

from ._adam import Adam, AdamState
from ._base import (
    Optimizer,
    apply_updates,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    global_norm,
)
from ._rmsprop import RMSprop, RMSpropState
from ._sgd import SGD, SGDState

__all__ = [
    "Adam",
    "AdamState",
    "Optimizer",
    "RMSprop",
    "RMSpropState",
    "SGD",
    "SGDState",
    "apply_updates",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "deserialize",
    "get",
    "global_norm",
    "serialize",
]

_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def _class_for(name: Any) -> type:
    key = name.lower() if isinstance(name, str) else name
    if key not in _BY_NAME:
        raise ValueError(
            f"Unknown optimizer: {name!r}. Known optimizers: {', '.join(sorted(_BY_NAME))}."
        )
    return _BY_NAME[key]


def serialize(optimizer: Optimizer) -> dict:
    """Same as ``optimizer.get_config()``."""
    return optimizer.get_config()


def deserialize(config: dict) -> Optimizer:
    """Rebuild an optimizer from ``get_config()`` output.

    Accepts the flat form ``{"class_name": "Adam", "learning_rate": ...}`` and Keras' nested form
    ``{"class_name": "Adam", "config": {...}}`` (with only the arguments this library knows).
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "An optimizer config must be a dict with a 'class_name' key, e.g. "
            f"{{'class_name': 'Adam', 'learning_rate': 0.001}}. Received: {config!r}"
        )
    cls = _class_for(config["class_name"])
    if set(config) == {"class_name", "config"} and isinstance(config["config"], dict):
        config = config["config"]
    return cls.from_config(config)


def get(identifier: Any) -> Optimizer:
    """Return an optimizer from a name (case-insensitive), an optimizer, or a config dict.

    A name gives the optimizer with Keras' default hyperparameters; an optimizer object is
    returned as is (it is immutable, so sharing it is safe).
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _class_for(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        "Could not interpret optimizer identifier: expected a name "
        f"({', '.join(sorted(_BY_NAME))}), an optimizer or a config dict. "
        f"Received: {identifier!r}"
    )
