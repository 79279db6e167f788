"""Real optax transforms built from this library's optimizer configs (Keras names and defaults).

``make_optax(optimizer)`` reads ``optimizer.get_config()`` and passes every hyperparameter to
optax explicitly (Keras' defaults are not optax's: e.g. Adam's epsilon is 1e-7, not 1e-8):

    SGD      -> optax.sgd(learning_rate, momentum or None, nesterov)
    Adam     -> optax.adam(learning_rate, b1=beta_1, b2=beta_2, eps=epsilon, eps_root=0)
    RMSprop  -> optax.rmsprop(learning_rate, decay=rho, eps=epsilon, initial_scale=0,
                              eps_in_sqrt=True, centered, momentum or None, nesterov=False,
                              bias_correction=False)

preceded by the configured clipping:

    clipvalue        -> optax.clip(clipvalue)
    global_clipnorm  -> optax.clip_by_global_norm(global_clipnorm)
    clipnorm         -> clip_by_norm(clipnorm) below (per tensor; optax has no built-in)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


def clip_by_norm(clipnorm: float) -> optax.GradientTransformation:
    """Clip each gradient tensor by its own L2 norm (Keras ``clipnorm``); stateless.

    ``g <- g * clipnorm / max(||g||_2, clipnorm)``: unchanged when ``||g|| <= clipnorm``,
    rescaled to norm ``clipnorm`` otherwise; a zero gradient stays zero.
    """

    def init(params):
        del params
        return optax.EmptyState()

    def update(updates, state, params=None):
        del params

        def clip_one(g):
            norm = jnp.sqrt(jnp.sum(g * g))
            return (g * clipnorm) / jnp.maximum(norm, clipnorm)

        return jax.tree_util.tree_map(clip_one, updates), state

    return optax.GradientTransformation(init, update)


def _clipping(config: dict):
    if config.get("clipnorm") is not None:
        return clip_by_norm(float(config["clipnorm"]))
    if config.get("global_clipnorm") is not None:
        return optax.clip_by_global_norm(float(config["global_clipnorm"]))
    if config.get("clipvalue") is not None:
        return optax.clip(float(config["clipvalue"]))
    return None


def make_optax(optimizer) -> optax.GradientTransformation:
    """The optax transform equal to ``optimizer`` (an SGD, Adam or RMSprop of this library).

    Accepts the optimizer object or its ``get_config()`` dict.
    """
    config = optimizer if isinstance(optimizer, dict) else optimizer.get_config()
    name = str(config.get("class_name", "")).lower()
    lr = float(config["learning_rate"])
    if name == "sgd":
        momentum = float(config.get("momentum", 0.0))
        base = optax.sgd(lr, momentum=momentum or None, nesterov=bool(config.get("nesterov", False)))
    elif name == "adam":
        base = optax.adam(
            lr,
            b1=float(config.get("beta_1", 0.9)),
            b2=float(config.get("beta_2", 0.999)),
            eps=float(config.get("epsilon", 1e-7)),
            eps_root=0.0,
        )
    elif name == "rmsprop":
        momentum = float(config.get("momentum", 0.0))
        base = optax.rmsprop(
            lr,
            decay=float(config.get("rho", 0.9)),
            eps=float(config.get("epsilon", 1e-7)),
            initial_scale=0.0,
            eps_in_sqrt=True,
            centered=bool(config.get("centered", False)),
            momentum=momentum or None,
            nesterov=False,
            bias_correction=False,
        )
    else:
        raise ValueError(
            f"the JAX backend supports the SGD, Adam and RMSprop optimizers, got {config.get('class_name')!r}"
        )
    clip = _clipping(config)
    return base if clip is None else optax.chain(clip, base)
