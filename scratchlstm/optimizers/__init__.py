"""Optimizers shaped like optax, with Keras 3 names, defaults and update rules. NumPy only.

Each optimizer holds Keras' hyperparameters and has two pure methods:

    opt = Adam(learning_rate=1e-3)
    state = opt.init(params)                           # OptimizerState(iterations, learning_rate, slots, ...)
    updates, state = opt.update(grads, state, params)  # updates are *added* to the params
    params = apply_updates(params, updates)

``params`` / ``grads`` are trees (nested dict / list / tuple) of NumPy arrays, e.g. one dict per
layer. One ``update`` is one Keras ``optimizer.apply``: same order of operations (clipping, weight
decay, the rule, EMA) and the same formulas (each class documents its rule), so weights follow
Keras' trajectory to float rounding. The JAX backend builds optax transforms from the same
config (``scratchlstm.jax_backend.make_optax``) with the same numbers.

The learning rate is a float, a schedule from `scratchlstm.optimizers.schedules`, or a callable
of the step; ``opt.learning_rate`` can be set between epochs (the train loop then pushes it into
the state with ``opt.with_learning_rate(state)``).

``get(identifier)`` accepts a name (``"adam"``, ``"adamw"``, ``"rmsprop"``, ... any case), an
optimizer (returned as is) or a config dict; ``deserialize(config)`` rebuilds from ``get_config()``.

    >>> import numpy as np
    >>> from scratchlstm import optimizers
    >>> opt = optimizers.get("adam")
    >>> params = {"w": np.zeros(2, np.float32)}
    >>> state = opt.init(params)
    >>> updates, state = opt.update({"w": np.array([1e-6, 1.0], np.float32)}, state, params)
    >>> np.round(updates["w"], 6)   # Keras' epsilon placement: not -0.001 on the tiny gradient
    array([-0.00024, -0.001  ], dtype=float32)
"""

from __future__ import annotations

from typing import Any

from . import schedules
from ._adadelta import Adadelta, AdadeltaState
from ._adagrad import Adagrad, AdagradState
from ._adam import Adam, AdamState, AdamW
from ._adamax import Adamax, AdamaxState
from ._base import (
    Optimizer,
    OptimizerState,
    apply_updates,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    global_norm,
)
from ._ftrl import Ftrl, FtrlState
from ._lion import Lion, LionState
from ._loss_scale import LossScaleOptimizer, LossScaleState
from ._nadam import Nadam, NadamState
from ._rmsprop import RMSprop, RMSpropState
from ._sgd import SGD, SGDState

__all__ = [
    "Adadelta",
    "AdadeltaState",
    "Adagrad",
    "AdagradState",
    "Adam",
    "AdamState",
    "AdamW",
    "Adamax",
    "AdamaxState",
    "Ftrl",
    "FtrlState",
    "Lion",
    "LionState",
    "LossScaleOptimizer",
    "LossScaleState",
    "Nadam",
    "NadamState",
    "Optimizer",
    "OptimizerState",
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
    "schedules",
    "serialize",
]

_BY_NAME = {
    cls.__name__.lower(): cls
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl, LossScaleOptimizer)
}


def _class_for(name: Any) -> type[Optimizer]:
    key = name.lower() if isinstance(name, str) else name
    if key not in _BY_NAME:
        raise ValueError(
            f"Unknown optimizer: {name!r}. Known optimizers: {', '.join(sorted(_BY_NAME))}."
        )
    return _BY_NAME[key]


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Same as ``optimizer.get_config()``."""
    return optimizer.get_config()


def deserialize(config: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer from ``get_config()`` output.

    Accepts the flat form ``{"class_name": "Adam", "learning_rate": ...}`` and Keras' nested form
    ``{"class_name": "Adam", "config": {...}}`` (``module`` / ``registered_name`` keys ignored; the
    config may hold only the arguments this library knows). A schedule as ``learning_rate`` is
    its own ``{"class_name": ..., "config": ...}`` dict.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "An optimizer config must be a dict with a 'class_name' key, e.g. "
            f"{{'class_name': 'Adam', 'learning_rate': 0.001}}. Received: {config!r}"
        )
    cls = _class_for(config["class_name"])
    if isinstance(config.get("config"), dict) and set(config) <= {"class_name", "config", "module", "registered_name"}:
        config = config["config"]
    return cls.from_config(config)


def get(identifier: Any) -> Optimizer:
    """Return an optimizer from a name (case-insensitive), an optimizer, or a config dict.

    A name gives the optimizer with Keras' default hyperparameters; an optimizer object is
    returned as is (as in Keras: setting its ``learning_rate`` is seen by everyone holding it).
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        if _class_for(identifier) is LossScaleOptimizer:
            raise ValueError("LossScaleOptimizer wraps another optimizer: build it with LossScaleOptimizer(inner_optimizer)")
        return _class_for(identifier)()  # type: ignore[call-arg]  # each registered class has defaults for all arguments
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(
        "Could not interpret optimizer identifier: expected a name "
        f"({', '.join(sorted(_BY_NAME))}), an optimizer or a config dict. "
        f"Received: {identifier!r}"
    )
