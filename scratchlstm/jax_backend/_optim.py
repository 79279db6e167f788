"""optax transforms built from this library's optimizers: Keras 3's update rules on JAX.

``make_optax(optimizer)`` returns one ``optax.GradientTransformation`` whose ``update`` is one
Keras ``optimizer.apply`` (the order of operations of `scratchlstm.optimizers.Optimizer`):
loss-scale division, gradient accumulation, clipping, weight decay, the update rule, EMA, and the
step counter. Its state is the same `OptimizerState` NamedTuple as the NumPy optimizers'
(``iterations`` int32, ``learning_rate`` a 0-d float array, ``slots``, ``average``,
``accumulated``), so ``optimizer.with_learning_rate(state)`` sets the learning rate of a JAX
state too, and a jitted step that takes the state never recompiles for a new rate.

The update rules use optax where optax computes what Keras computes, with the learning rate
applied by this wrapper (it is a state value or a schedule of the step, not a constant):

    SGD       optax.trace(momentum, nesterov) on -lr * g              (plain: -lr * g)
    RMSprop   optax.scale_by_rms / scale_by_stddev(rho, epsilon, eps_in_sqrt=True),
              times -lr, then optax.trace(momentum)
    Adagrad   optax.scale_by_rss(initial_accumulator_value, epsilon), times -lr
    Adadelta  optax.scale_by_adadelta(rho, epsilon), times -lr
    Lion      optax.scale_by_lion(beta_1, beta_2), times -lr

and small custom transformations where Keras' numerics differ from optax's:

    Adam, AdamW  epsilon added to sqrt(v), bias corrections folded into the step size
                 ("epsilon hat"); AMSGrad on the raw v
    Adamax       epsilon added after the maximum, not inside it
    Nadam        Keras' momentum schedule u_t = beta_1 * (1 - 0.5 * 0.96**t)
    Ftrl         not in optax

Clipping: ``optax.clip(clipvalue)``, ``optax.clip_by_global_norm(global_clipnorm)``, and
`clip_by_norm` below (per tensor; optax has no built-in).

A `LossScaleOptimizer` becomes `loss_scale` around its inner optimizer's transform: the dynamic
scale and its counter live in the state, and ``jnp.where`` picks between the applied and the
skipped step inside the jitted update, so neither a new scale nor a skipped step recompiles.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, cast

import jax
import jax.numpy as jnp
import optax

from .. import optimizers as _optimizers
from ..optimizers import OptimizerState
from ..optimizers._adam import AdamState
from ..optimizers._adamax import AdamaxState
from ..optimizers._ftrl import FtrlState
from ..optimizers._loss_scale import LossScaleState
from ..optimizers._nadam import NadamState
from ..optimizers.schedules import evaluate as _evaluate

tree_map = jax.tree_util.tree_map


def clip_by_norm(clipnorm: float) -> optax.GradientTransformation:
    """Clip each gradient tensor by its own L2 norm (Keras ``clipnorm``); stateless.

    ``g <- g * clipnorm / max(||g||_2, clipnorm)``: unchanged when ``||g|| <= clipnorm``,
    rescaled to norm ``clipnorm`` otherwise; a zero gradient stays zero.
    """

    def init(params: Any) -> Any:
        del params
        return optax.EmptyState()

    def update(updates: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        del params

        def clip_one(g: jax.Array) -> jax.Array:
            norm = jnp.sqrt(jnp.sum(g * g))
            return (g * clipnorm) / jnp.maximum(norm, clipnorm)

        return tree_map(clip_one, updates), state

    return optax.GradientTransformation(init, update)


def _clipping(opt: Any) -> optax.GradientTransformation | None:
    if opt.clipnorm is not None:
        return clip_by_norm(opt.clipnorm)
    if opt.global_clipnorm is not None:
        return optax.clip_by_global_norm(opt.global_clipnorm)
    if opt.clipvalue is not None:
        return optax.clip(opt.clipvalue)
    return None


def _cast(value: Any, like: Any) -> jax.Array:
    """Keras' ``ops.cast(value, variable.dtype)``."""
    return jnp.asarray(value).astype(like.dtype)


# ---------------------------------------------------------------------------------------------
# Update rules: ``init(params) -> slots``; ``update(grads, slots, params, lr, step) ->
# (updates, slots)`` with ``params`` the weight-decayed weights, ``lr`` a 0-d array and ``step``
# Keras' ``optimizer.iterations`` (int32; its local step is ``step + 1``).
# ---------------------------------------------------------------------------------------------


class _Rule(NamedTuple):
    init: Callable[..., Any]
    update: Callable[..., tuple[Any, Any]]


def _scaled(before: optax.GradientTransformation | None, after: optax.GradientTransformation | None = None) -> _Rule:
    """``after(-lr * before(g))``: optax's learning-rate-free rules with the rate put in between."""

    def init(params: Any) -> Any:
        return (
            before.init(params) if before is not None else optax.EmptyState(),
            after.init(params) if after is not None else optax.EmptyState(),
        )

    def update(grads: Any, slots: Any, params: Any, lr: jax.Array, step: jax.Array) -> tuple[Any, Any]:
        direction, first = (grads, slots[0]) if before is None else before.update(grads, slots[0], params)
        updates = tree_map(lambda d: -(d * _cast(lr, d)), direction)
        second = slots[1]
        if after is not None:
            updates, second = after.update(updates, second, params)
        return updates, (first, second)

    return _Rule(init, update)


def _zeros(params: Any) -> Any:
    return tree_map(jnp.zeros_like, params)


def _adam_rule(opt: Any) -> _Rule:
    b1, b2, eps = opt.beta_1, opt.beta_2, opt.epsilon

    def init(params: Any) -> Any:
        return AdamState(_zeros(params), _zeros(params), _zeros(params) if opt.amsgrad else None)

    def update(grads: Any, slots: Any, params: Any, lr: jax.Array, step: jax.Array) -> tuple[Any, Any]:
        momentums = tree_map(lambda g, m: m + (g - m) * (1 - b1), grads, slots.momentums)
        velocities = tree_map(lambda g, v: v + (jnp.square(g) - v) * (1 - b2), grads, slots.velocities)
        velocity_hats, denominators = None, velocities
        if opt.amsgrad:
            velocity_hats = tree_map(jnp.maximum, slots.velocity_hats, velocities)
            denominators = velocity_hats

        def one(m: jax.Array, v: jax.Array) -> jax.Array:
            t = _cast(step + 1, m)
            alpha = _cast(lr, m) * jnp.sqrt(1 - _cast(b2, m) ** t) / (1 - _cast(b1, m) ** t)
            return -((m * alpha) / (jnp.sqrt(v) + eps))

        return tree_map(one, momentums, denominators), AdamState(momentums, velocities, velocity_hats)

    return _Rule(init, update)


def _adamax_rule(opt: Any) -> _Rule:
    b1, b2, eps = opt.beta_1, opt.beta_2, opt.epsilon

    def init(params: Any) -> Any:
        return AdamaxState(_zeros(params), _zeros(params))

    def update(grads: Any, slots: Any, params: Any, lr: jax.Array, step: jax.Array) -> tuple[Any, Any]:
        momentums = tree_map(lambda g, m: m + (g - m) * (1 - b1), grads, slots.momentums)
        norms = tree_map(lambda g, u: jnp.maximum(b2 * u, jnp.abs(g)), grads, slots.norms)

        def one(m: jax.Array, u: jax.Array) -> jax.Array:
            beta_1_power = _cast(b1, m) ** _cast(step + 1, m)
            return -((_cast(lr, m) * m) / ((1 - beta_1_power) * (u + eps)))

        return tree_map(one, momentums, norms), AdamaxState(momentums, norms)

    return _Rule(init, update)


def _nadam_rule(opt: Any) -> _Rule:
    b1, b2, eps = opt.beta_1, opt.beta_2, opt.epsilon

    def init(params: Any) -> Any:
        leaves = jax.tree_util.tree_leaves(params)
        dtype = leaves[0].dtype if leaves and jnp.issubdtype(leaves[0].dtype, jnp.floating) else jnp.float32
        return NadamState(_zeros(params), _zeros(params), jnp.ones((), dtype))

    def update(grads: Any, slots: Any, params: Any, lr: jax.Array, step: jax.Array) -> tuple[Any, Any]:
        u_product = slots.u_product
        u_product = u_product * b1 * (1.0 - 0.5 * jnp.power(_cast(0.96, u_product), _cast(step + 1, u_product)))
        momentums = tree_map(lambda g, m: m + (g - m) * (1 - _cast(b1, g)), grads, slots.momentums)
        velocities = tree_map(lambda g, v: v + (jnp.square(g) - v) * (1 - _cast(b2, g)), grads, slots.velocities)

        def one(g: jax.Array, m: jax.Array, v: jax.Array) -> jax.Array:
            local_step, next_step = _cast(step + 1, g), _cast(step + 2, g)
            decay, beta_1, beta_2 = _cast(0.96, g), _cast(b1, g), _cast(b2, g)
            u_t = beta_1 * (1.0 - 0.5 * decay**local_step)
            u_t_1 = beta_1 * (1.0 - 0.5 * decay**next_step)
            u_product_t = _cast(u_product, g)
            u_product_t_1 = u_product_t * u_t_1
            m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
            v_hat = v / (1 - beta_2**local_step)
            return -((m_hat * _cast(lr, g)) / (jnp.sqrt(v_hat) + eps))

        return tree_map(one, grads, momentums, velocities), NadamState(momentums, velocities, u_product)

    return _Rule(init, update)


def _ftrl_rule(opt: Any) -> _Rule:
    power = -opt.learning_rate_power
    l1, shrinkage = opt.l1_regularization_strength, 2 * opt.l2_shrinkage_regularization_strength

    def init(params: Any) -> Any:
        return FtrlState(tree_map(lambda p: jnp.full_like(p, opt.initial_accumulator_value), params), _zeros(params))

    def update(grads: Any, slots: Any, params: Any, lr: jax.Array, step: jax.Array) -> tuple[Any, Any]:
        new_accumulators = tree_map(lambda g, n: n + jnp.square(g), grads, slots.accumulators)

        def linear(g: jax.Array, var: jax.Array, n: jax.Array, n_new: jax.Array, z: jax.Array) -> jax.Array:
            lr_ = _cast(lr, g)
            return z + ((g + shrinkage * var) - ((jnp.power(n_new, power) - jnp.power(n, power)) / lr_) * var)

        linears = tree_map(linear, grads, params, slots.accumulators, new_accumulators, slots.linears)

        def one(var: jax.Array, n_new: jax.Array, z: jax.Array) -> jax.Array:
            lr_ = _cast(lr, var)
            l2 = opt.l2_regularization_strength + opt.beta / (2.0 * lr_)
            quadratic = jnp.power(n_new, power) / lr_ + 2 * l2
            return (jnp.clip(z, -l1, l1) - z) / quadratic - var

        return tree_map(one, params, new_accumulators, linears), FtrlState(new_accumulators, linears)

    return _Rule(init, update)


def _rule(opt: Any) -> _Rule:
    name = type(opt).__name__
    if name == "SGD":
        return _scaled(None, optax.trace(opt.momentum, nesterov=opt.nesterov) if opt.momentum != 0 else None)
    if name == "RMSprop":
        scale_by = optax.scale_by_stddev if opt.centered else optax.scale_by_rms
        before = scale_by(decay=opt.rho, eps=opt.epsilon, initial_scale=0.0, eps_in_sqrt=True)
        return _scaled(before, optax.trace(opt.momentum) if opt.momentum > 0 else None)
    if name == "Adagrad":
        return _scaled(optax.scale_by_rss(opt.initial_accumulator_value, opt.epsilon))
    if name == "Adadelta":
        return _scaled(optax.scale_by_adadelta(opt.rho, opt.epsilon))
    if name == "Lion":
        return _scaled(optax.scale_by_lion(opt.beta_1, opt.beta_2))
    if name in ("Adam", "AdamW"):
        return _adam_rule(opt)
    if name == "Adamax":
        return _adamax_rule(opt)
    if name == "Nadam":
        return _nadam_rule(opt)
    if name == "Ftrl":
        return _ftrl_rule(opt)
    raise ValueError(f"the JAX backend has no update rule for {name!r}")


# ---------------------------------------------------------------------------------------------
# Keras' order of operations around the rule.
# ---------------------------------------------------------------------------------------------


def _keras_apply(opt: Any, rule: _Rule, initial_learning_rate: float) -> optax.GradientTransformation:
    schedule = opt.learning_rate_schedule
    clip = _clipping(opt)
    steps = opt.gradient_accumulation_steps
    wd = opt.weight_decay
    needs_params = opt.weight_decay is not None or opt.use_ema or type(opt).__name__ == "Ftrl"

    def init(params: Any) -> Any:
        float_dtype = jnp.asarray(0.0).dtype  # float32, or float64 with jax_enable_x64
        return OptimizerState(
            iterations=jnp.zeros((), jnp.int32),
            learning_rate=jnp.asarray(initial_learning_rate, float_dtype),
            slots=rule.init(params),
            average=_zeros(params) if opt.use_ema else None,
            accumulated=_zeros(params) if steps else None,
        )

    def update(grads: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        if params is None and needs_params:
            raise ValueError(f"{type(opt).__name__} needs `params` in update(grads, state, params)")
        if params is not None:
            grads = tree_map(lambda g, p: jnp.asarray(g).astype(p.dtype), grads, params)
        iterations = state.iterations
        lr = state.learning_rate if schedule is None else _evaluate(schedule, iterations)
        if opt.loss_scale_factor is not None:
            grads = tree_map(lambda g: g / opt.loss_scale_factor, grads)
        accumulated = state.accumulated
        if steps:
            apply_now = (iterations + 1) % steps == 0
            summed = tree_map(lambda g, a: g + a, grads, accumulated)
            grads = tree_map(lambda s, g: jnp.where(apply_now, s / steps, g), summed, grads)
            accumulated = tree_map(lambda s: jnp.where(apply_now, jnp.zeros_like(s), s), summed)
        step = iterations // steps if steps else iterations

        if clip is not None:
            grads, _ = clip.update(grads, clip.init(grads))
        decayed = params
        if wd is not None:
            decayed = tree_map(lambda p: p - p * _cast(wd, p) * _cast(lr, p), params)
        updates, slots = rule.update(grads, state.slots, decayed, lr, step)
        if wd is not None:
            updates = tree_map(lambda d, p, u: (d - p) + u, decayed, params, updates)
        if steps:
            updates = tree_map(lambda u: jnp.where(apply_now, u, jnp.zeros_like(u)), updates)
            slots = tree_map(lambda new, old: jnp.where(apply_now, new, old), slots, state.slots)

        average = state.average
        if opt.use_ema:
            new_params = optax.apply_updates(params, updates)

            def ema(a: jax.Array, v: jax.Array) -> jax.Array:
                momentum = _cast(step != 0, v) * opt.ema_momentum
                return momentum * a + (1 - momentum) * v

            average = tree_map(ema, average, new_params)
            if opt.ema_overwrite_frequency:
                overwrite = (step + 1) % opt.ema_overwrite_frequency == 0
                updates = tree_map(lambda a, p, u: jnp.where(overwrite, a - p, u), average, params, updates)

        if schedule is None:
            next_lr = state.learning_rate
        else:
            next_lr = jnp.asarray(_evaluate(schedule, iterations + 1)).astype(state.learning_rate.dtype)
        return updates, OptimizerState(iterations + 1, next_lr, slots, average, accumulated)

    return optax.GradientTransformation(init, update)


def loss_scale(inner: optax.GradientTransformation, initial_scale: float,
               dynamic_growth_steps: int) -> optax.GradientTransformation:
    """Keras' dynamic loss scaling around ``inner`` (the rule of `LossScaleOptimizer`).

    The state is ``inner``'s `OptimizerState` with ``slots = LossScaleState(S, k, inner
    slots)``, ``S`` float32 and ``k`` int32. If any gradient is NaN or inf the updates are 0,
    the inner state is kept, ``S <- S / 2`` and ``k <- 0``; else ``inner`` updates with
    ``g / S`` and ``S <- 2 S, k <- 0`` when ``k == dynamic_growth_steps - 1``, ``k <- k + 1``
    otherwise.
    """

    def init(params: Any) -> Any:
        state = inner.init(params)
        own = LossScaleState(jnp.asarray(initial_scale, jnp.float32), jnp.zeros((), jnp.int32), state.slots)
        return state._replace(slots=own)

    def update(grads: Any, state: Any, params: Any = None) -> tuple[Any, Any]:
        own = state.slots
        inner_state = state._replace(slots=own.inner_slots)
        leaves = [jnp.all(jnp.isfinite(g)) for g in jax.tree_util.tree_leaves(grads)]
        finite = jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)
        unscaled = tree_map(lambda g: (jnp.asarray(g) / own.dynamic_scale).astype(jnp.asarray(g).dtype), grads)
        updates, new_inner = inner.update(unscaled, inner_state, params)
        updates = tree_map(lambda u: jnp.where(finite, u, jnp.zeros_like(u)), updates)
        new_inner = tree_map(lambda new, old: jnp.where(finite, new, old), new_inner, inner_state)
        grow = own.step_counter == dynamic_growth_steps - 1
        scale = jnp.where(finite, jnp.where(grow, own.dynamic_scale * 2, own.dynamic_scale), own.dynamic_scale * 0.5)
        counter = jnp.where(finite & ~grow, own.step_counter + 1, jnp.zeros_like(own.step_counter))
        return updates, new_inner._replace(slots=LossScaleState(scale, counter, new_inner.slots))

    return optax.GradientTransformation(init, update)


def _thaw(value: Any) -> Any:
    """Undo a backend's freezing of a config into tuples of ``(key, value)`` pairs."""
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value):
        return {key: _thaw(v) for key, v in value}
    if isinstance(value, dict):
        return {key: _thaw(v) for key, v in value.items()}
    return value


def make_optax(optimizer: Any) -> optax.GradientTransformation:
    """The optax transform equal to ``optimizer`` (any optimizer of `scratchlstm.optimizers`).

    Accepts the optimizer object, its ``get_config()`` dict (also frozen into tuples of pairs),
    or its ``static_config()`` (learning rate None): then the state starts with a NaN learning
    rate, to be replaced with ``optimizer.with_learning_rate(state)`` before the first update.
    ``init`` returns an `OptimizerState` with the optimizer's current float learning rate.
    """
    if isinstance(optimizer, _optimizers.LossScaleOptimizer):
        return loss_scale(make_optax(optimizer.inner_optimizer), optimizer.initial_scale, optimizer.dynamic_growth_steps)
    if not isinstance(optimizer, _optimizers.Optimizer):
        config = _thaw(dict(optimizer))
        if str(config.get("class_name", "")).lower() == "lossscaleoptimizer":
            inner = dict(config["inner_optimizer"])
            if "loss_scale_factor" in inner:  # switched off by the wrapper, as in Keras
                inner["loss_scale_factor"] = None
            return loss_scale(make_optax(inner), float(config.get("initial_scale", 2.0**15)),
                              int(config.get("dynamic_growth_steps", 2000)))
    if isinstance(optimizer, _optimizers.Optimizer):
        opt = optimizer
        initial = opt._state_learning_rate(0)
    else:
        config = _thaw(dict(optimizer))
        initial = None
        if config.get("learning_rate", 0.0) is None:
            config["learning_rate"], initial = 1.0, float("nan")
        opt = _optimizers.deserialize(config)
        if initial is None:
            initial = opt._state_learning_rate(0)
    return _keras_apply(opt, _rule(opt), cast(float, initial))  # set on every path above; mypy keeps the None
