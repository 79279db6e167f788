"""The JAX path: the same model as the NumPy reference, as pure JAX functions and a jitted trainer.

Everything here takes the parameter dicts of the NumPy reference (Keras layout, gate blocks
``[i, f, c, o]``, see ``DESIGN.md`` §2) and works inside a user's own ``jax.jit``, ``jax.grad``
and ``jax.vmap``:

    import jax, jax.numpy as jnp
    from scratchlstm import jax_backend as jb

    def loss(params, x, y):
        _, (h, _) = jb.lstm_forward(params["lstm"], x)
        y_pred = jb.dense_forward(params["head"], h)
        return jb.loss_value("mse", y, y_pred)

    grads = jax.jit(jax.grad(loss))(params, x, y)

``model.compile(..., backend="jax")`` trains through `make_training_backend`: one
``jax.jit``-compiled step per batch (forward, loss, ``value_and_grad``, clipping and the optax
update), compiled once per epoch shape, data-parallel over all local devices when there are
several.

This module needs JAX and optax (``pip install "scratchlstm[jax]"``); ``import scratchlstm``
never imports them.
"""

try:
    import jax  # noqa: F401
    import optax  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError('scratchlstm.jax_backend needs JAX: pip install "scratchlstm[jax]"') from error

from ._activations import ACTIVATIONS, get_activation, linear, relu, sigmoid, softmax, tanh
from .core.dense import dense_forward
from ._losses import (
    EPSILON,
    LOSS_NAMES,
    METRIC_NAMES,
    loss_per_position,
    loss_value,
    metric_per_position,
    metric_value,
    weighted_mean,
)
from .rnn.gru import gru_forward, gru_step
from .rnn.lstm import lstm_forward, lstm_step
from .rnn.simple_rnn import simple_rnn_forward, simple_rnn_step
from ._optim import clip_by_norm, make_optax
from ._training import JaxTrainingBackend, TrainState, make_training_backend

__all__ = [
    "ACTIVATIONS",
    "EPSILON",
    "JaxTrainingBackend",
    "LOSS_NAMES",
    "METRIC_NAMES",
    "TrainState",
    "clip_by_norm",
    "dense_forward",
    "get_activation",
    "gru_forward",
    "gru_step",
    "linear",
    "loss_per_position",
    "loss_value",
    "lstm_forward",
    "lstm_step",
    "make_optax",
    "make_training_backend",
    "metric_per_position",
    "metric_value",
    "relu",
    "sigmoid",
    "simple_rnn_forward",
    "simple_rnn_step",
    "softmax",
    "tanh",
    "weighted_mean",
]
