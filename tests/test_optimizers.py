"""Tests for scratchlstm.optimizers: convergence, Keras' formulas, optax parity, dtypes, the
learning rate, validation, configs. (Live-Keras comparisons: test_optimizers_keras.py.)"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchlstm import optimizers
from scratchlstm._tree import tree_leaves, tree_map
from scratchlstm.optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamState,
    AdamW,
    Ftrl,
    Lion,
    Nadam,
    OptimizerState,
    RMSprop,
    RMSpropState,
    SGDState,
    apply_updates,
    schedules,
)

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def make_params(rng, dtype=np.float64):
    """A two-layer tree in the model's layout: LSTM(I=2, H=2) then Dense(2 -> 8).

    Only two distinct shapes, so JAX's per-shape compilation in the optax reference stays cheap.
    """
    shapes = [
        {"kernel": (2, 8), "recurrent_kernel": (2, 8), "bias": (8,)},
        {"kernel": (2, 8), "bias": (8,)},
    ]
    return [{k: rng.normal(size=s).astype(dtype) for k, s in layer.items()} for layer in shapes]


def random_like(rng, tree, scale=1.0):
    return tree_map(lambda p: (scale * rng.normal(size=p.shape)).astype(p.dtype), tree)


def quadratic(params, curvature, target):
    """0.5 * sum(A * (p - target)^2) and its gradient A * (p - target)."""
    diffs = tree_map(lambda p, t: p - t, params, target)
    pairs = zip(tree_leaves(curvature), tree_leaves(diffs))
    loss = 0.5 * sum(float(np.sum(a * d * d)) for a, d in pairs)
    grads = tree_map(lambda a, d: a * d, curvature, diffs)
    return loss, grads


def max_abs_diff(tree_a, tree_b):
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in
               zip(tree_leaves(tree_a), tree_leaves(tree_b)))


ALL_CONFIGS = [
    pytest.param(SGD(learning_rate=0.2), id="sgd"),
    pytest.param(SGD(learning_rate=0.05, momentum=0.9), id="sgd-momentum"),
    pytest.param(SGD(learning_rate=0.05, momentum=0.9, nesterov=True), id="sgd-nesterov"),
    pytest.param(Adam(learning_rate=0.05), id="adam"),
    pytest.param(RMSprop(learning_rate=0.01), id="rmsprop"),
    pytest.param(RMSprop(learning_rate=0.01, momentum=0.5), id="rmsprop-momentum"),
    pytest.param(RMSprop(learning_rate=0.01, centered=True), id="rmsprop-centered"),
    pytest.param(
        RMSprop(learning_rate=0.005, momentum=0.5, centered=True), id="rmsprop-centered-momentum"
    ),
    pytest.param(SGD(learning_rate=0.1, momentum=0.5, clipnorm=0.5), id="sgd-clipnorm"),
    pytest.param(Adam(learning_rate=0.05, clipvalue=0.1), id="adam-clipvalue"),
    pytest.param(SGD(learning_rate=0.2, global_clipnorm=1.0), id="sgd-global_clipnorm"),
    pytest.param(Adam(learning_rate=0.05, amsgrad=True), id="adam-amsgrad"),
    pytest.param(AdamW(learning_rate=0.05, weight_decay=0.001), id="adamw"),
    pytest.param(Adagrad(learning_rate=0.5), id="adagrad"),
    pytest.param(Adadelta(learning_rate=10.0, rho=0.9), id="adadelta"),
    pytest.param(Adamax(learning_rate=0.05), id="adamax"),
    pytest.param(Nadam(learning_rate=0.05), id="nadam"),
    pytest.param(Lion(learning_rate=schedules.CosineDecay(0.05, 400)), id="lion-cosine"),
    pytest.param(Ftrl(learning_rate=0.5), id="ftrl"),
    pytest.param(SGD(learning_rate=0.2, weight_decay=1e-4), id="sgd-weight_decay"),
    pytest.param(Adam(learning_rate=0.05, use_ema=True, ema_momentum=0.9), id="adam-ema"),
    pytest.param(Adam(learning_rate=0.05, gradient_accumulation_steps=2), id="adam-accumulation"),
    pytest.param(RMSprop(learning_rate=lambda step: 0.05 / (1 + step / 100)), id="rmsprop-callable"),
    pytest.param(Adam(learning_rate=schedules.PiecewiseConstantDecay([200], [0.05, 0.01])), id="adam-piecewise"),
]


# ---------------------------------------------------------------------------------------------
# Optimisation behaviour
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("opt", ALL_CONFIGS)
def test_minimises_a_quadratic(opt):
    rng = np.random.default_rng(0)
    params = make_params(rng)
    target = make_params(rng)
    curvature = tree_map(lambda p: rng.uniform(0.5, 2.0, size=p.shape), params)
    state = opt.init(params)
    initial_loss, _ = quadratic(params, curvature, target)
    losses = []
    for _ in range(400):
        loss, grads = quadratic(params, curvature, target)
        losses.append(loss)
        updates, state = opt.update(grads, state, params)
        params = apply_updates(params, updates)
    final_loss, _ = quadratic(params, curvature, target)
    assert final_loss < 1e-3 * initial_loss
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    assert max_abs_diff(params, target) < 0.05


def test_plain_sgd_step_is_minus_lr_times_grad():
    params = {"w": np.array([1.0, -2.0, 3.0])}
    grads = {"w": np.array([0.5, 0.25, -1.0])}
    opt = SGD(learning_rate=0.1)
    updates, state = opt.update(grads, opt.init(params), params)
    np.testing.assert_array_equal(updates["w"], -0.1 * grads["w"])
    assert state == OptimizerState(iterations=1, learning_rate=0.1, slots=SGDState(momentums=None))


def test_sgd_matches_keras_formulation():
    """Keras' velocity form (also optax' trace form for a constant learning rate)."""
    rng = np.random.default_rng(1)
    for nesterov in (False, True):
        lr, mu = 0.03, 0.8
        opt = SGD(learning_rate=lr, momentum=mu, nesterov=nesterov)
        params = {"w": rng.normal(size=5)}
        state = opt.init(params)
        keras_w, velocity = params["w"].copy(), np.zeros(5)
        for _ in range(6):
            g = rng.normal(size=5)
            updates, state = opt.update({"w": g}, state, params)
            params = apply_updates(params, updates)
            velocity = mu * velocity - lr * g
            keras_w = keras_w + (mu * velocity - lr * g if nesterov else velocity)
        np.testing.assert_allclose(params["w"], keras_w, rtol=0, atol=1e-13)


def test_rmsprop_matches_keras_formulation():
    rng = np.random.default_rng(2)
    lr, rho, mom, eps = 0.01, 0.85, 0.6, 1e-7
    opt = RMSprop(learning_rate=lr, rho=rho, momentum=mom, epsilon=eps, centered=True)
    params = {"w": rng.normal(size=4)}
    state = opt.init(params)
    w, velocity, average_grad, momentum = params["w"].copy(), np.zeros(4), np.zeros(4), np.zeros(4)
    for _ in range(6):
        g = rng.normal(size=4)
        updates, state = opt.update({"w": g}, state, params)
        params = apply_updates(params, updates)
        velocity = rho * velocity + (1 - rho) * g**2
        average_grad = rho * average_grad + (1 - rho) * g
        increment = lr * g / np.sqrt(velocity - average_grad**2 + eps)
        momentum = mom * momentum + increment
        w = w - momentum
    np.testing.assert_allclose(params["w"], w, rtol=0, atol=1e-13)


def _keras_reference(name, hyper, w, grads, lr):
    """Keras 3's update rules written out again, per step, in float64 (an independent copy)."""
    w = w.copy()
    zeros = np.zeros_like(w)
    m, v, v_hat, u, acc_g, acc_d = (zeros.copy() for _ in range(6))
    n = np.full_like(w, hyper.get("initial_accumulator_value", 0.1))
    z, u_product = zeros.copy(), 1.0
    for k, g in enumerate(grads):
        t = k + 1
        if name == "Adam":
            alpha = lr * np.sqrt(1 - hyper["beta_2"] ** t) / (1 - hyper["beta_1"] ** t)
            m = m + (g - m) * (1 - hyper["beta_1"])
            v = v + (g * g - v) * (1 - hyper["beta_2"])
            v_hat = np.maximum(v_hat, v)
            w = w - m * alpha / (np.sqrt(v_hat if hyper.get("amsgrad") else v) + hyper["epsilon"])
        elif name == "Adamax":
            m = m + (g - m) * (1 - hyper["beta_1"])
            u = np.maximum(hyper["beta_2"] * u, np.abs(g))
            w = w - lr * m / ((1 - hyper["beta_1"] ** t) * (u + hyper["epsilon"]))
        elif name == "Nadam":
            b1, b2 = hyper["beta_1"], hyper["beta_2"]
            u_t, u_t1 = b1 * (1 - 0.5 * 0.96**t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
            u_product = u_product * u_t
            m = m + (g - m) * (1 - b1)
            v = v + (g * g - v) * (1 - b2)
            m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
            w = w - m_hat * lr / (np.sqrt(v / (1 - b2**t)) + hyper["epsilon"])
        elif name == "Adagrad":
            n = n + g * g
            w = w - lr * g / np.sqrt(n + hyper["epsilon"])
        elif name == "Adadelta":
            rho, eps = hyper["rho"], hyper["epsilon"]
            acc_g = rho * acc_g + (1 - rho) * g * g
            delta = -np.sqrt(acc_d + eps) * g / np.sqrt(acc_g + eps)
            acc_d = rho * acc_d + (1 - rho) * delta * delta
            w = w + lr * delta
        elif name == "Lion":
            w = w - lr * np.sign(m * hyper["beta_1"] + g * (1 - hyper["beta_1"]))
            m = m * hyper["beta_2"] + g * (1 - hyper["beta_2"])
        elif name == "Ftrl":
            p = -hyper["learning_rate_power"]
            l2 = hyper["l2_regularization_strength"] + hyper["beta"] / (2 * lr)
            n_new = n + g * g
            z = z + g + 2 * hyper["l2_shrinkage_regularization_strength"] * w - (n_new**p - n**p) / lr * w
            l1 = hyper["l1_regularization_strength"]
            w = (np.clip(z, -l1, l1) - z) / (n_new**p / lr + 2 * l2)
            n = n_new
    return w


@pytest.mark.parametrize(
    "opt",
    [
        Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
        Adam(0.01, amsgrad=True, beta_2=0.8),
        Adamax(0.02, beta_1=0.7, epsilon=1e-3),
        Nadam(0.02, beta_2=0.9, epsilon=1e-4),
        Adagrad(0.1, initial_accumulator_value=0.5, epsilon=1e-3),
        Adadelta(1.0, rho=0.8, epsilon=1e-3),
        Lion(0.01, beta_1=0.6, beta_2=0.8),
        Ftrl(0.1, learning_rate_power=-0.6, initial_accumulator_value=0.2, l1_regularization_strength=0.05,
             l2_regularization_strength=0.1, l2_shrinkage_regularization_strength=0.02, beta=0.5),
    ],
    ids=lambda opt: type(opt).__name__,
)
def test_update_rules_are_keras_formulas_float64(opt):
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=6)
    grads = [rng.normal(size=6) for _ in range(8)]
    params, state = {"w": w0}, opt.init({"w": w0})
    for g in grads:
        updates, state = opt.update({"w": g}, state, params)
        params = apply_updates(params, updates)
    config = opt.get_config()
    expected = _keras_reference(type(opt).__name__, config, w0, grads, config["learning_rate"])
    np.testing.assert_allclose(params["w"], expected, rtol=1e-13, atol=1e-14)


def test_adam_epsilon_is_keras_epsilon_hat_not_optax():
    """Keras adds epsilon to sqrt(v); optax to sqrt(v / (1 - beta_2**t)). At lr 0.01 and a
    gradient of 1e-6, Keras' first update is -0.0024 (optax's would be -0.0091)."""
    opt = Adam(learning_rate=0.01)
    params = {"w": np.zeros(1, np.float32)}
    updates, _ = opt.update({"w": np.full(1, 1e-6, np.float32)}, opt.init(params), params)
    keras = -0.01 * np.sqrt(0.001) / 0.1 * 1e-7 / (np.sqrt(1e-15) + 1e-7)
    optax_like = -0.01 * 1e-6 / (1e-6 + 1e-7)
    assert float(updates["w"][0]) == pytest.approx(keras, rel=1e-5)
    assert keras == pytest.approx(-0.0024, rel=0.01) and optax_like == pytest.approx(-0.0091, rel=0.01)


def test_weight_decay_is_applied_before_the_rule_with_the_current_learning_rate():
    """Keras: var <- var - var * wd * lr, then the rule; for Lion the step is -lr * sign(...)."""
    opt = Lion(learning_rate=0.1, weight_decay=0.5)
    params = {"w": np.array([2.0, -4.0])}
    updates, state = opt.update({"w": np.array([1.0, 1.0])}, opt.init(params), params)
    np.testing.assert_allclose(updates["w"], [-2.0 * 0.05 - 0.1, 4.0 * 0.05 - 0.1], rtol=1e-14)
    opt.learning_rate = 0.2
    updates, _ = opt.update({"w": np.array([1.0, 1.0])}, opt.with_learning_rate(state), params)
    np.testing.assert_allclose(updates["w"], [-2.0 * 0.1 - 0.2, 4.0 * 0.1 - 0.2], rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# Parity with optax in float64
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def optax_x64():
    """Import optax and run the test with float64 enabled in JAX, restoring the flag after."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    previous = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    yield optax
    jax.config.update("jax_enable_x64", previous)


def optax_clip_by_norm(max_norm):
    """Keras' per-tensor clipnorm as a stateless optax transform (the documented formula)."""
    import jax
    import jax.numpy as jnp
    import optax

    def update_fn(updates, state, params=None):
        del params
        clipped = jax.tree.map(
            lambda g: g * max_norm / jnp.maximum(jnp.sqrt(jnp.sum(g * g)), max_norm), updates
        )
        return clipped, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def optax_equivalent(optax, opt):
    """Build the optax chain the JAX backend is meant to build from ``opt.get_config()``."""
    config = opt.get_config()
    name = config["class_name"]
    if name == "SGD":
        core = optax.sgd(config["learning_rate"], momentum=config["momentum"] or None,
                         nesterov=config["nesterov"])
    elif name == "Adagrad":
        core = optax.adagrad(config["learning_rate"], config["initial_accumulator_value"], config["epsilon"])
    elif name == "Adadelta":
        core = optax.adadelta(config["learning_rate"], config["rho"], config["epsilon"])
    elif name == "Lion":
        core = optax.lion(config["learning_rate"], config["beta_1"], config["beta_2"], weight_decay=0.0)
    else:
        core = optax.rmsprop(config["learning_rate"], decay=config["rho"], eps=config["epsilon"],
                             eps_in_sqrt=True, centered=config["centered"],
                             momentum=config["momentum"] or None)
    if config["clipnorm"] is not None:
        return optax.chain(optax_clip_by_norm(config["clipnorm"]), core)
    if config["clipvalue"] is not None:
        return optax.chain(optax.clip(config["clipvalue"]), core)
    if config["global_clipnorm"] is not None:
        return optax.chain(optax.clip_by_global_norm(config["global_clipnorm"]), core)
    return core


# Where optax's stock optimizer computes Keras' rule (a constant learning rate; no Adam: optax puts
# epsilon elsewhere, see test_adam_epsilon_is_keras_epsilon_hat_not_optax).
PARITY_CONFIGS = [
    p for p in ALL_CONFIGS
    if p.id.split("-")[0] in ("sgd", "rmsprop") and not p.id.endswith(("weight_decay", "callable"))
] + [
    pytest.param(Adagrad(learning_rate=0.1, initial_accumulator_value=0.3, epsilon=1e-3), id="adagrad"),
    pytest.param(Adadelta(learning_rate=1.0, rho=0.8, epsilon=1e-4, clipnorm=0.5), id="adadelta-clipnorm"),
    pytest.param(Lion(learning_rate=0.01, beta_1=0.7, beta_2=0.9), id="lion"),
    pytest.param(RMSprop(learning_rate=0.02, rho=0.5, clipnorm=0.3), id="rmsprop-clipnorm"),
    pytest.param(RMSprop(learning_rate=0.02, momentum=0.9, global_clipnorm=0.5),
                 id="rmsprop-momentum-global_clipnorm"),
    pytest.param(SGD(learning_rate=0.1, momentum=0.9, nesterov=True, clipvalue=0.2),
                 id="sgd-nesterov-clipvalue"),
    pytest.param(SGD(learning_rate=0.01, global_clipnorm=100.0), id="sgd-inactive-clipping"),
]


@pytest.mark.parametrize("opt", PARITY_CONFIGS)
def test_steps_equal_optax_in_float64(opt, optax_x64):
    import jax
    import jax.numpy as jnp

    optax = optax_x64
    reference = optax_equivalent(optax, opt)
    rng = np.random.default_rng(4)
    params = make_params(rng)
    ref_params = jax.tree.map(jnp.asarray, params)
    state, ref_state = opt.init(params), reference.init(ref_params)
    for step in range(6):
        # Large gradients on some steps so that every clipping mode actually clips.
        grads = random_like(rng, params, scale=3.0 if step % 2 else 0.3)
        updates, state = opt.update(grads, state, params)
        ref_updates, ref_state = reference.update(jax.tree.map(jnp.asarray, grads), ref_state,
                                                  ref_params)
        assert max_abs_diff(updates, ref_updates) < 1e-12
        params = apply_updates(params, updates)
        ref_params = optax.apply_updates(ref_params, ref_updates)
        assert jax.tree.leaves(ref_params)[0].dtype == np.float64
    assert max_abs_diff(params, ref_params) < 1e-12


def test_clipping_is_active_in_parity_cases():
    """Guard for the parity test: its gradients are large enough to be clipped."""
    rng = np.random.default_rng(4)
    params = make_params(rng)
    _ = random_like(rng, params, scale=0.3)
    grads = random_like(rng, params, scale=3.0)
    assert optimizers.global_norm(grads) > 1.0
    assert max(float(np.max(np.abs(g))) for g in tree_leaves(grads)) > 0.2


# ---------------------------------------------------------------------------------------------
# Clipping formulas
# ---------------------------------------------------------------------------------------------


def test_clipnorm_clips_each_tensor_by_its_own_norm():
    grads = {"big": np.array([3.0, 4.0]), "small": np.array([0.3, 0.4]), "zero": np.zeros(3)}
    clipped = optimizers.clip_by_norm(grads, 1.0)
    np.testing.assert_allclose(clipped["big"], [0.6, 0.8], rtol=1e-15)
    np.testing.assert_array_equal(clipped["small"], grads["small"])
    np.testing.assert_array_equal(clipped["zero"], np.zeros(3))


def test_global_clipnorm_scales_all_tensors_together():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([0.0, 4.0])}
    clipped = optimizers.clip_by_global_norm(grads, 1.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(clipped["b"], [0.0, 0.8], rtol=1e-15)
    assert optimizers.clip_by_global_norm(grads, 10.0) is grads


def test_clipvalue_clips_elementwise_inside_update():
    opt = SGD(learning_rate=1.0, clipvalue=0.5)
    params = {"w": np.zeros(3)}
    updates, _ = opt.update({"w": np.array([2.0, -0.1, -7.0])}, opt.init(params), params)
    np.testing.assert_array_equal(updates["w"], [-0.5, 0.1, 0.5])


# ---------------------------------------------------------------------------------------------
# Dtypes, purity, state
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("opt", ALL_CONFIGS)
@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
def test_float32_params_stay_float32(opt, grad_dtype):
    rng = np.random.default_rng(5)
    params = make_params(rng, np.float32)
    state = opt.init(params)
    for _ in range(2):
        grads = random_like(rng, params, scale=3.0)
        grads = tree_map(lambda g: g.astype(grad_dtype), grads)
        updates, state = opt.update(grads, state, params)
        params = apply_updates(params, updates)
    dtypes = {leaf.dtype for leaf in tree_leaves(params)}
    dtypes |= {leaf.dtype for leaf in tree_leaves(list(state)) if isinstance(leaf, np.ndarray)}
    dtypes |= {leaf.dtype for leaf in tree_leaves(updates)}
    assert dtypes == {np.dtype(np.float32)}


@pytest.mark.parametrize("opt", ALL_CONFIGS)
def test_update_is_pure(opt):
    rng = np.random.default_rng(6)
    params = make_params(rng)
    state = opt.init(params)
    grads = random_like(rng, params, scale=3.0)
    state = opt.update(grads, state, params)[1]  # non-zero buffers
    saved = copy.deepcopy((params, grads, state))
    first = opt.update(grads, state, params)
    second = opt.update(grads, state, params)
    assert max_abs_diff(first[0], second[0]) == 0.0  # same inputs, same outputs
    for before, after in zip(tree_leaves(saved), tree_leaves((params, grads, state))):
        np.testing.assert_array_equal(before, after)


def test_state_types_and_fields():
    params = {"w": np.ones(2)}
    state = SGD(momentum=0.9).init(params)
    assert isinstance(state, OptimizerState) and isinstance(state.slots, SGDState)
    assert state.iterations == 0 and state.learning_rate == 0.01 and state.average is None and state.accumulated is None
    adam_state = Adam().init(params)
    assert isinstance(adam_state.slots, AdamState) and adam_state.slots.velocity_hats is None
    _, adam_state = Adam().update({"w": np.ones(2)}, adam_state)
    assert adam_state.iterations == 1
    rms = RMSprop().init(params).slots
    assert isinstance(rms, RMSpropState) and rms.average_gradients is None and rms.momentums is None
    rms = RMSprop(centered=True, momentum=0.5).init(params).slots
    assert rms.average_gradients is not None and rms.momentums is not None
    np.testing.assert_array_equal(Adagrad(initial_accumulator_value=0.3).init(params).slots.accumulators["w"], 0.3)
    ema = Adam(use_ema=True, gradient_accumulation_steps=4).init(params)
    assert ema.average["w"].shape == (2,) and ema.accumulated["w"].shape == (2,)


def test_hyperparameters_are_immutable_but_the_learning_rate_is_settable():
    opt = Adam()
    with pytest.raises(dataclasses.FrozenInstanceError, match="beta_1"):
        opt.beta_1 = 0.5
    with pytest.raises(AttributeError):
        opt.clipnorm = 1.0
    assert Adam(learning_rate=0.5) == Adam(learning_rate=0.5) != Adam(learning_rate=0.4)
    opt.learning_rate = 0.25
    assert opt.learning_rate == 0.25 and opt.get_config()["learning_rate"] == 0.25  # Keras: the current rate
    assert opt == Adam(learning_rate=0.25)
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    opt.learning_rate = np.float32(0.5) * np.ones((), np.float32)  # a 0-d array, as a callback may compute
    assert opt.learning_rate == 0.5 and type(opt.learning_rate) is float
    with pytest.raises(TypeError):
        hash(opt)  # mutable: key caches on opt.static_config() instead


def test_with_learning_rate_changes_the_next_updates_only():
    opt = SGD(learning_rate=0.1, momentum=0.5)
    params = {"w": np.zeros(2)}
    state = opt.init(params)
    g = {"w": np.array([1.0, -2.0])}
    first, state = opt.update(g, state, params)
    opt.learning_rate = 0.01
    unchanged, _ = opt.update(g, state, params)  # the state still holds 0.1: pure functions of the state
    second, state2 = opt.update(g, opt.with_learning_rate(state), params)
    np.testing.assert_allclose(unchanged["w"], 0.5 * first["w"] - 0.1 * g["w"], rtol=1e-15)
    np.testing.assert_allclose(second["w"], 0.5 * first["w"] - 0.01 * g["w"], rtol=1e-15)
    assert state2.learning_rate == 0.01
    assert opt.with_learning_rate(state, 0.3).learning_rate == 0.3
    assert opt.static_config() == SGD(learning_rate=0.7, momentum=0.5).static_config()
    assert opt.static_config()["learning_rate"] is None


def test_schedule_learning_rate_follows_iterations():
    schedule = schedules.ExponentialDecay(0.1, 1, 0.5)
    opt = SGD(learning_rate=schedule)
    params = {"w": np.zeros(1)}
    state = opt.init(params)
    moves = []
    for _ in range(4):
        assert state.learning_rate == pytest.approx(0.1 * 0.5**state.iterations)  # the rate of the next update
        updates, state = opt.update({"w": np.ones(1)}, state, params)
        moves.append(float(updates["w"][0]))
    np.testing.assert_allclose(moves, [-0.1, -0.05, -0.025, -0.0125], rtol=1e-15)  # schedule(0) first, as Keras
    assert opt.learning_rate == 0.1 and opt.iterations == 0
    opt.iterations = state.iterations  # what the train loop syncs after an epoch
    assert opt.learning_rate == pytest.approx(0.1 * 0.5**4)
    assert opt.learning_rate_schedule is schedule
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.01
    with pytest.raises(TypeError):
        opt.with_learning_rate(state, 0.01)
    assert opt.with_learning_rate(state) is state
    opt.learning_rate = schedules.InverseTimeDecay(0.1, 1, 1.0)  # a new schedule is allowed (Keras too)
    assert opt.learning_rate == pytest.approx(0.1 / 5)


def test_callable_learning_rate_gets_the_step():
    opt = SGD(learning_rate=lambda step: 1.0 / (step + 1))
    params = {"w": np.zeros(1)}
    state = opt.init(params)
    for k in range(3):
        updates, state = opt.update({"w": np.ones(1)}, state, params)
        assert float(updates["w"][0]) == pytest.approx(-1.0 / (k + 1))
    with pytest.raises(ValueError, match="must take the step"):
        SGD(learning_rate=lambda: 0.1)  # Keras calls a plain callable without arguments; not here


def test_ema_average_and_overwrite():
    opt = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3)
    params = {"w": np.zeros(1)}
    state = opt.init(params)
    seen = []
    for g in (1.0, 1.0, 1.0):
        updates, state = opt.update({"w": np.array([g])}, state, params)
        params = apply_updates(params, updates)
        seen.append((float(params["w"][0]), float(state.average["w"][0])))
    # weights -1, -2, then -3 overwritten by the average: -1 (first: the weights), -1.5, -2.25
    assert seen == [(-1.0, -1.0), (-2.0, -1.5), (-2.25, -2.25)]
    assert opt.finalize_variable_values(params, state) is state.average
    plain = SGD()
    assert plain.finalize_variable_values(params, plain.init(params)) is params


def test_gradient_accumulation_updates_every_nth_step_with_the_mean():
    opt = SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    params = {"w": np.zeros(1)}
    state = opt.init(params)
    moves = []
    for g in (1.0, 2.0, 6.0, 3.0, 3.0, 3.0):
        updates, state = opt.update({"w": np.array([g])}, state, params)
        moves.append(float(updates["w"][0]))
    assert moves == [0.0, 0.0, -3.0, 0.0, 0.0, -3.0]
    assert state.iterations == 6 and float(state.accumulated["w"][0]) == 0.0


def test_loss_scale_factor_divides_the_gradients():
    opt = SGD(learning_rate=1.0, loss_scale_factor=8.0)
    params = {"w": np.zeros(1)}
    updates, _ = opt.update({"w": np.array([8.0])}, opt.init(params), params)
    assert float(updates["w"][0]) == -1.0 and opt.scale_loss(2.0) == 16.0 and SGD().scale_loss(2.0) == 2.0


def test_params_are_required_where_the_rule_reads_them():
    grads = {"w": np.ones(2)}
    for opt in (Ftrl(), SGD(weight_decay=0.1), Adam(use_ema=True)):
        with pytest.raises(ValueError, match="params"):
            opt.update(grads, opt.init(grads))


def test_grads_with_wrong_structure_raise():
    opt = Adam()
    state = opt.init({"w": np.ones((2, 3))})
    with pytest.raises(ValueError, match=r"Expected.*\(2, 3\).*Received.*\(3, 2\)"):
        opt.update({"w": np.ones((3, 2))}, state)


def test_state_from_differently_configured_optimizer_raises():
    params = {"w": np.ones(2)}
    with pytest.raises(ValueError, match="momentums"):
        SGD(momentum=0.9).update(params, SGD().init(params))
    with pytest.raises(ValueError, match="`average_gradients`"):
        RMSprop(centered=True).update(params, RMSprop().init(params))
    with pytest.raises(ValueError, match="OptimizerState"):
        Adam().update(params, (0, params, params))


def test_core_does_not_import_jax():
    code = ("import sys, scratchlstm.optimizers, scratchlstm.callbacks; "
            "bad = [m for m in ('jax', 'optax') if m in sys.modules]; assert not bad, bad")
    repo_root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)


# ---------------------------------------------------------------------------------------------
# Validation and configs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (SGD, {"learning_rate": 0.0}, "learning_rate"),
        (SGD, {"learning_rate": -0.1}, "learning_rate"),
        (SGD, {"learning_rate": float("nan")}, "learning_rate"),
        (SGD, {"learning_rate": "0.1"}, "learning_rate"),
        (SGD, {"momentum": -0.5}, "momentum"),
        (SGD, {"momentum": 1.5}, "momentum"),
        (SGD, {"nesterov": "yes"}, "nesterov"),
        (Adam, {"beta_1": 1.0}, "beta_1"),
        (Adam, {"beta_2": -0.1}, "beta_2"),
        (Adam, {"epsilon": 0.0}, "epsilon"),
        (RMSprop, {"rho": 1.0}, "rho"),
        (RMSprop, {"momentum": -1.0}, "momentum"),
        (RMSprop, {"centered": 1}, "centered"),
        (Adam, {"clipnorm": 0.0}, "clipnorm"),
        (SGD, {"clipvalue": -1.0}, "clipvalue"),
        (RMSprop, {"global_clipnorm": float("inf")}, "global_clipnorm"),
        (Adam, {"amsgrad": "yes"}, "amsgrad"),
        (AdamW, {"weight_decay": -0.1}, "weight_decay"),
        (SGD, {"weight_decay": float("nan")}, "weight_decay"),
        (Adagrad, {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
        (Adagrad, {"epsilon": -1e-7}, "epsilon"),
        (Adadelta, {"rho": 1.5}, "rho"),
        (Adamax, {"beta_2": 1.0}, "beta_2"),
        (Nadam, {"beta_1": -0.1}, "beta_1"),
        (Lion, {"beta_1": 0.0}, "beta_1"),
        (Lion, {"beta_2": 1.5}, "beta_2"),
        (Ftrl, {"learning_rate_power": 0.5}, "learning_rate_power"),
        (Ftrl, {"l1_regularization_strength": -1.0}, "l1_regularization_strength"),
        (Ftrl, {"l2_regularization_strength": -1.0}, "l2_regularization_strength"),
        (Ftrl, {"l2_shrinkage_regularization_strength": -1.0}, "l2_shrinkage_regularization_strength"),
        (Ftrl, {"beta": -1.0}, "beta"),
        (Ftrl, {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
        (Adam, {"use_ema": 1}, "use_ema"),
        (Adam, {"ema_momentum": 1.5}, "ema_momentum"),
        (Adam, {"ema_overwrite_frequency": 0}, "ema_overwrite_frequency"),
        (Adam, {"ema_overwrite_frequency": 2.0}, "ema_overwrite_frequency"),
        (SGD, {"gradient_accumulation_steps": 1}, "gradient_accumulation_steps"),
        (SGD, {"gradient_accumulation_steps": True}, "gradient_accumulation_steps"),
        (RMSprop, {"loss_scale_factor": 0.0}, "loss_scale_factor"),
        (RMSprop, {"name": 3}, "name"),
    ],
)
def test_invalid_hyperparameters_raise(cls, kwargs, name):
    value = kwargs[name]
    with pytest.raises(ValueError) as info:
        cls(**kwargs)
    message = str(info.value)
    assert f"`{name}`" in message and f"Received: {name}={value!r}" in message


def test_only_one_clipping_argument():
    with pytest.raises(ValueError, match="clipnorm=1.0.*global_clipnorm=2.0"):
        Adam(clipnorm=1.0, global_clipnorm=2.0)
    with pytest.raises(ValueError, match="Only one of"):
        SGD(clipnorm=1.0, clipvalue=0.5)


def test_adamw_needs_a_weight_decay():
    with pytest.raises(ValueError, match="weight_decay=None"):
        AdamW(weight_decay=None)


def test_keras_defaults():
    assert SGD().get_config() == {
        "class_name": "SGD", "learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": None,
        "clipnorm": None, "clipvalue": None, "global_clipnorm": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None, "name": None,
    }
    assert (AdamW().learning_rate, AdamW().weight_decay) == (0.001, 0.004)
    assert (Adagrad().initial_accumulator_value, Adadelta().rho, Lion().beta_2) == (0.1, 0.95, 0.99)
    assert (Ftrl().learning_rate_power, Ftrl().initial_accumulator_value) == (-0.5, 0.1)
    adam = Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    rms = RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (
        0.001, 0.9, 0.0, 1e-7, False)


def test_positional_arguments_follow_keras_order():
    assert SGD(0.1, 0.9, True) == SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    assert Adam(0.1, 0.8, 0.99, 1e-5).beta_2 == 0.99
    assert RMSprop(0.1, 0.8, 0.5, 1e-5, True).centered is True
    assert AdamW(0.1, 0.2).weight_decay == 0.2 and Adam(0.1, 0.8, 0.99, 1e-5, True).amsgrad is True
    assert SGD(0.1, 0.0, False, 0.3, 1.0).clipnorm == 1.0  # common arguments follow, in Keras' order
    assert Ftrl(0.1, -0.3, 0.2, 0.01).l1_regularization_strength == 0.01


@pytest.mark.parametrize(
    "opt",
    [p for p in ALL_CONFIGS if not p.id.endswith("callable")]
    + [
        pytest.param(Adam(0.5, 0.3, 0.7, 1e-4), id="adam2"),
        pytest.param(Ftrl(0.1, -0.3, 0.2, 0.01, 0.02, 0.03, 0.5, weight_decay=0.1, name="f"), id="ftrl-all"),
        pytest.param(Nadam(schedules.CosineDecayRestarts(0.1, 5), use_ema=True, ema_momentum=0.5,
                           ema_overwrite_frequency=4, loss_scale_factor=2.0, gradient_accumulation_steps=3),
                     id="nadam-everything"),
    ],
)
def test_config_round_trip_through_json(opt):
    config = json.loads(json.dumps(opt.get_config()))
    assert optimizers.deserialize(config) == opt
    assert optimizers.get(config) == opt
    nested = {k: v for k, v in config.items() if k != "class_name"}
    assert optimizers.deserialize({"class_name": config["class_name"], "config": nested}) == opt


def test_callable_learning_rate_config_keeps_the_callable():
    def fn(step):
        return 0.1

    opt = SGD(learning_rate=fn)
    assert opt.get_config()["learning_rate"] is fn and optimizers.deserialize(opt.get_config()) == opt


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "lion",
                                  "ftrl"])
def test_every_keras_name_works_in_get(name):
    opt = optimizers.get(name.upper())
    assert type(opt).__name__.lower() == name and opt == type(opt)()


def test_get_by_name_object_and_errors():
    assert optimizers.get("ADAM") == Adam()
    assert optimizers.get("sgd") == SGD()
    assert optimizers.get("RMSprop") == RMSprop()
    opt = Adam(learning_rate=0.3)
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError) as info:
        optimizers.get("nope")
    assert "'nope'" in str(info.value)
    assert all(name in str(info.value) for name in ("adam", "adamw", "ftrl", "lion", "nadam", "rmsprop", "sgd"))
    with pytest.raises(ValueError, match="Received: 3"):
        optimizers.get(3)
    with pytest.raises(ValueError, match="Unknown argument.*'decay'"):
        optimizers.deserialize({"class_name": "SGD", "decay": 0.1})
    with pytest.raises(ValueError, match="class_name"):
        optimizers.deserialize({"learning_rate": 0.1})
