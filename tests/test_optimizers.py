"""Tests for scratchlstm.optimizers: convergence, optax parity, dtypes, validation, configs."""

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
    Adam,
    AdamState,
    RMSprop,
    RMSpropState,
    SGDState,
    apply_updates,
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
    assert state == SGDState(momentum_buffer=None)


def test_sgd_matches_keras_formulation():
    """optax' trace form equals Keras' velocity form for a constant learning rate."""
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


def test_adam_differs_from_keras_only_through_epsilon_placement():
    """optax/our Adam == Keras' Adam with epsilon replaced by epsilon * sqrt(1 - beta_2**t)."""
    lr, b1, b2 = 0.01, 0.9, 0.999

    def max_gap_to_keras(eps, keras_eps_scaled):
        rng = np.random.default_rng(3)
        opt = Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
        params = {"w": np.zeros(4)}
        state = opt.init(params)
        w, m, v = np.zeros(4), np.zeros(4), np.zeros(4)
        for t in range(1, 6):
            g = rng.normal(size=4)
            updates, state = opt.update({"w": g}, state, params)
            params = apply_updates(params, updates)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            keras_eps = eps * np.sqrt(1 - b2**t) if keras_eps_scaled else eps
            w = w - alpha * m / (np.sqrt(v) + keras_eps)
        return max_abs_diff(params, {"w": w})

    assert max_gap_to_keras(1e-3, keras_eps_scaled=True) < 1e-15
    assert max_gap_to_keras(1e-3, keras_eps_scaled=False) > 1e-4  # the placement does matter
    assert max_gap_to_keras(1e-7, keras_eps_scaled=False) < 1e-6  # but barely at the default


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
    elif name == "Adam":
        core = optax.adam(config["learning_rate"], b1=config["beta_1"], b2=config["beta_2"],
                          eps=config["epsilon"])
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


PARITY_CONFIGS = ALL_CONFIGS + [
    pytest.param(Adam(learning_rate=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3), id="adam-custom"),
    pytest.param(RMSprop(learning_rate=0.02, rho=0.5, clipnorm=0.3), id="rmsprop-clipnorm"),
    pytest.param(RMSprop(learning_rate=0.02, momentum=0.9, global_clipnorm=0.5),
                 id="rmsprop-momentum-global_clipnorm"),
    pytest.param(SGD(learning_rate=0.1, momentum=0.9, nesterov=True, clipvalue=0.2),
                 id="sgd-nesterov-clipvalue"),
    pytest.param(Adam(learning_rate=0.01, global_clipnorm=100.0), id="adam-inactive-clipping"),
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
    assert isinstance(SGD(momentum=0.9).init(params), SGDState)
    adam_state = Adam().init(params)
    assert isinstance(adam_state, AdamState) and adam_state.count == 0
    _, adam_state = Adam().update({"w": np.ones(2)}, adam_state)
    assert adam_state.count == 1
    rms = RMSprop().init(params)
    assert isinstance(rms, RMSpropState) and rms.mu is None and rms.momentum_buffer is None
    rms = RMSprop(centered=True, momentum=0.5).init(params)
    assert rms.mu is not None and rms.momentum_buffer is not None


def test_optimizer_objects_are_immutable():
    opt = Adam()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opt.learning_rate = 1.0
    assert Adam(learning_rate=0.5) == Adam(learning_rate=0.5)


def test_grads_with_wrong_structure_raise():
    opt = Adam()
    state = opt.init({"w": np.ones((2, 3))})
    with pytest.raises(ValueError, match=r"Expected.*\(2, 3\).*Received.*\(3, 2\)"):
        opt.update({"w": np.ones((3, 2))}, state)


def test_state_from_differently_configured_optimizer_raises():
    params = {"w": np.ones(2)}
    with pytest.raises(ValueError, match="momentum_buffer"):
        SGD(momentum=0.9).update(params, SGD().init(params))
    with pytest.raises(ValueError, match="`mu`"):
        RMSprop(centered=True).update(params, RMSprop().init(params))


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


def test_keras_defaults():
    assert SGD().get_config() == {"class_name": "SGD", "learning_rate": 0.01, "momentum": 0.0,
                                  "nesterov": False, "clipnorm": None, "clipvalue": None,
                                  "global_clipnorm": None}
    adam = Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    rms = RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (
        0.001, 0.9, 0.0, 1e-7, False)


def test_positional_arguments_follow_keras_order():
    assert SGD(0.1, 0.9, True) == SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    assert Adam(0.1, 0.8, 0.99, 1e-5).beta_2 == 0.99
    assert RMSprop(0.1, 0.8, 0.5, 1e-5, True).centered is True


@pytest.mark.parametrize("opt", ALL_CONFIGS + [pytest.param(Adam(0.5, 0.3, 0.7, 1e-4), id="adam2")])
def test_config_round_trip_through_json(opt):
    config = json.loads(json.dumps(opt.get_config()))
    assert optimizers.deserialize(config) == opt
    assert optimizers.get(config) == opt
    nested = {k: v for k, v in config.items() if k != "class_name"}
    assert optimizers.deserialize({"class_name": config["class_name"], "config": nested}) == opt


def test_get_by_name_object_and_errors():
    assert optimizers.get("ADAM") == Adam()
    assert optimizers.get("sgd") == SGD()
    assert optimizers.get("RMSprop") == RMSprop()
    opt = Adam(learning_rate=0.3)
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError) as info:
        optimizers.get("nope")
    assert "'nope'" in str(info.value)
    assert all(name in str(info.value) for name in ("adam", "rmsprop", "sgd"))
    with pytest.raises(ValueError, match="Received: 3"):
        optimizers.get(3)
    with pytest.raises(ValueError, match="Unknown argument.*'decay'"):
        optimizers.deserialize({"class_name": "SGD", "decay": 0.1})
    with pytest.raises(ValueError, match="class_name"):
        optimizers.deserialize({"learning_rate": 0.1})
