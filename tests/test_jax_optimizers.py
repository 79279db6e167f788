"""The optax transforms built by the JAX backend equal the NumPy optimizers, every variant; the
learning rate lives in the state, so setting it never recompiles a jitted step."""

import json

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")

import jax.numpy as jnp  # noqa: E402

from scratchlstm import optimizers  # noqa: E402
from scratchlstm.jax_backend import clip_by_norm, make_optax  # noqa: E402
from scratchlstm.optimizers import schedules  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


O = optimizers
OPTIMIZERS = [
    O.SGD(),
    O.SGD(learning_rate=0.1, momentum=0.9),
    O.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    O.Adam(),
    O.Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-4, amsgrad=True),
    O.AdamW(learning_rate=0.05, weight_decay=0.1),
    O.RMSprop(),
    O.RMSprop(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True),
    O.RMSprop(learning_rate=0.01, centered=True),
    O.Adagrad(learning_rate=0.1),
    O.Adadelta(learning_rate=1.0, rho=0.9),
    O.Adamax(learning_rate=0.05),
    O.Nadam(learning_rate=0.05),
    O.Lion(learning_rate=0.01, beta_1=0.8),
    O.Ftrl(learning_rate=0.1),
    O.Ftrl(learning_rate=0.1, learning_rate_power=-0.6, l1_regularization_strength=0.01, l2_regularization_strength=0.1,
           l2_shrinkage_regularization_strength=0.05, beta=0.3),
    # common arguments and schedules
    O.SGD(learning_rate=0.1, momentum=0.9, weight_decay=0.05, use_ema=True, ema_overwrite_frequency=2),
    O.Adam(learning_rate=0.05, gradient_accumulation_steps=2, use_ema=True, ema_momentum=0.5),
    O.Nadam(learning_rate=schedules.CosineDecay(0.05, 3, warmup_target=0.1, warmup_steps=1), weight_decay=0.01),
    O.Lion(learning_rate=schedules.ExponentialDecay(0.01, 2, 0.5), loss_scale_factor=4.0),
    O.Adamax(learning_rate=lambda step: 0.05 / (1.0 + step)),
]


def _name(opt):
    config, defaults = opt.get_config(), type(opt)().get_config()
    lr = config.pop("learning_rate")
    lr = lr["class_name"] if isinstance(lr, dict) else ("callable" if callable(lr) else lr)
    changed = [f"{k}={v}" for k, v in config.items() if k != "class_name" and v != defaults[k]]
    return "-".join([config["class_name"], f"lr={lr}", *changed])


CLIPPING = [{}, {"clipnorm": 0.5}, {"clipvalue": 0.3}, {"global_clipnorm": 1.0}]


def _tree(rng, dtype):
    """Two layers' worth of parameters; scales differ so that clipping hits some tensors only."""
    return [
        {"kernel": rng.normal(size=(3, 8)).astype(dtype), "recurrent_kernel": rng.normal(size=(2, 8)).astype(dtype) * 0.1,
         "bias": rng.normal(size=8).astype(dtype)},
        {"kernel": rng.normal(size=(2, 1)).astype(dtype) * 0.01, "bias": rng.normal(size=1).astype(dtype)},
    ]


def _steps(opt, dtype, steps=4):
    """Run ``steps`` updates with the same gradients on both sides; return both param trees and states."""
    rng = np.random.default_rng(0)
    params = _tree(rng, dtype)
    grads = [_tree(rng, dtype) for _ in range(steps)]
    np_params, np_state = params, opt.init(params)
    tx = make_optax(opt)
    jx_params = jax.tree_util.tree_map(jnp.asarray, params)
    jx_state = tx.init(jx_params)
    update = tx.update  # eager: tiny programs, and per-primitive compiles are shared by all cases
    for g in grads:
        updates, np_state = opt.update(g, np_state, np_params)
        np_params = optimizers.apply_updates(np_params, updates)
        updates, jx_state = update(g, jx_state, jx_params)
        jx_params = optax.apply_updates(jx_params, updates)
    return np_params, jax.device_get(jx_params), np_state, jx_state


# Every optimizer variant unclipped; each clipping mode (an independent first link) with a few.
CASES = [(opt, {}) for opt in OPTIMIZERS] + [
    (opt, clip) for opt in (OPTIMIZERS[1], OPTIMIZERS[4], OPTIMIZERS[7], OPTIMIZERS[15]) for clip in CLIPPING[1:]
]


@pytest.mark.parametrize(
    "base, clipping", CASES, ids=[_name(o) + "-" + next(iter(c), "noclip") for o, c in CASES]
)
def test_optax_steps_equal_numpy_optimizer_float64(base, clipping):
    opt = type(base).from_config({**base.get_config(), **clipping})
    np_params, jx_params, np_state, jx_state = _steps(opt, np.float64)
    for np_layer, jx_layer in zip(np_params, jx_params):
        for name in np_layer:
            assert jx_layer[name].dtype == np.float64
            np.testing.assert_allclose(jx_layer[name], np_layer[name], rtol=1e-12, atol=1e-14, err_msg=name)
    assert int(jx_state.iterations) == np_state.iterations == 4
    assert float(jx_state.learning_rate) == pytest.approx(np_state.learning_rate, rel=1e-12)
    if opt.use_ema:
        for jx_leaf, np_leaf in zip(jax.tree_util.tree_leaves(jx_state.average), jax.tree_util.tree_leaves(np_state.average)):
            np.testing.assert_allclose(jx_leaf, np_leaf, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("base", [OPTIMIZERS[4], OPTIMIZERS[7], OPTIMIZERS[12], OPTIMIZERS[17]], ids=_name)
def test_optax_steps_close_to_numpy_optimizer_float32(base):
    opt = type(base).from_config({**base.get_config(), "clipnorm": 0.5})
    np_params, jx_params, _, _ = _steps(opt, np.float32)
    for np_layer, jx_layer in zip(np_params, jx_params):
        for name in np_layer:
            assert jx_layer[name].dtype == np.float32
            np.testing.assert_allclose(jx_layer[name], np_layer[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_custom_rules_keep_the_numpy_state_layout():
    """Adam's JAX slots are the NumPy AdamState; the whole state is an OptimizerState on both sides."""
    opt = O.Adam(amsgrad=True, use_ema=True, gradient_accumulation_steps=2)
    params = {"w": np.zeros((2, 3))}
    np_state, jx_state = opt.init(params), make_optax(opt).init(jax.tree_util.tree_map(jnp.asarray, params))
    assert type(jx_state) is type(np_state) is optimizers.OptimizerState
    assert type(jx_state.slots) is optimizers.AdamState
    assert jax.tree_util.tree_structure(jx_state) == jax.tree_util.tree_structure(
        np_state._replace(iterations=np.int32(0), learning_rate=np.float64(0)))


def test_setting_the_learning_rate_does_not_recompile():
    """The float learning rate is state: a jitted step sees a new one without retracing."""
    opt = O.SGD(learning_rate=0.1, momentum=0.5)
    tx = make_optax(opt)
    step = jax.jit(tx.update)
    params = {"w": jnp.ones(3)}
    grads = {"w": jnp.asarray([1.0, 2.0, 4.0])}
    state = tx.init(params)
    updates, state = step(grads, state, params)
    np.testing.assert_allclose(updates["w"], [-0.1, -0.2, -0.4], rtol=1e-15)
    opt.learning_rate = 0.01  # e.g. ReduceLROnPlateau between epochs
    state = opt.with_learning_rate(state)
    assert state.learning_rate.dtype == jnp.float64 and float(state.learning_rate) == 0.01
    updates, state = step(grads, state, params)
    np.testing.assert_allclose(updates["w"], 0.5 * np.array([-0.1, -0.2, -0.4]) - 0.01 * np.array([1.0, 2.0, 4.0]),
                               rtol=1e-14)
    assert step._cache_size() == 1
    assert opt.static_config() == O.SGD(learning_rate=0.1, momentum=0.5).static_config()  # a cache key that holds
    # A state placed on the device(s) explicitly (as the training backend replicates it) keeps its placement.
    placed = jax.device_put(state, jax.sharding.SingleDeviceSharding(jax.devices()[0]))
    updates, placed = step(grads, placed, params)
    placed = opt.with_learning_rate(placed, 0.5)
    assert placed.learning_rate.committed and placed.learning_rate.sharding == placed.iterations.sharding
    step(grads, placed, params)
    assert step._cache_size() == 2  # one more for the committed placement, none for the new rate


def test_static_config_builds_the_transform_and_needs_the_rate_pushed():
    opt = O.Adam(learning_rate=0.02)
    tx = make_optax(opt.static_config())
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    assert np.isnan(float(state.learning_rate))  # loud if the backend forgets to push the rate
    state = opt.with_learning_rate(state)
    updates, _ = tx.update({"w": jnp.ones(2)}, state, params)
    expected, _ = opt.update({"w": np.ones(2)}, opt.init({"w": np.zeros(2)}), {"w": np.zeros(2)})
    np.testing.assert_allclose(updates["w"], expected["w"], rtol=1e-14)


def test_frozen_config_with_a_schedule_is_accepted():
    """The training backend freezes ``get_config()`` into sorted tuples of pairs for its cache key."""

    def freeze(value):
        if isinstance(value, dict):
            return tuple(sorted((k, freeze(v)) for k, v in value.items()))
        if isinstance(value, (list, tuple)):
            return tuple(freeze(v) for v in value)
        return value

    opt = O.RMSprop(learning_rate=schedules.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01]), momentum=0.5)
    tx = make_optax(dict(freeze(opt.get_config())))
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    for _ in range(3):
        _, state = tx.update({"w": jnp.ones(2)}, state, params)
    assert float(state.learning_rate) == pytest.approx(0.05)  # the rate the 4th update will use (step 3)


def test_schedule_in_a_jitted_step_compiles_once():
    opt = O.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1, 0.5))
    tx = make_optax(opt)
    step = jax.jit(tx.update)
    params = {"w": jnp.zeros(1)}
    state = tx.init(params)
    moves = []
    for _ in range(5):
        updates, state = step({"w": jnp.ones(1)}, state, params)
        moves.append(float(updates["w"][0]))
    np.testing.assert_allclose(moves, [-0.1 * 0.5**k for k in range(5)], rtol=1e-14)
    assert step._cache_size() == 1 and int(state.iterations) == 5


def test_accumulation_and_ema_in_a_jitted_step_compile_once():
    opt = O.Adam(learning_rate=0.1, gradient_accumulation_steps=3, use_ema=True, ema_overwrite_frequency=2)
    tx = make_optax(opt)
    step = jax.jit(tx.update)
    params = {"w": jnp.zeros(2)}
    state = tx.init(params)
    changed = []
    for k in range(6):
        updates, state = step({"w": jnp.asarray([1.0, -1.0]) * (k + 1)}, state, params)
        params = optax.apply_updates(params, updates)
        changed.append(bool(jnp.any(updates["w"] != 0)))
    assert changed == [False, False, True, False, False, True]
    assert step._cache_size() == 1


def test_clipping_is_active_in_these_cases():
    """Guard for the parity tests above: the chosen thresholds really clip something."""
    rng = np.random.default_rng(0)
    _tree(rng, np.float64)
    grads = _tree(rng, np.float64)
    clipped, _ = clip_by_norm(0.5).update(grads, optax.EmptyState())
    norms = [float(np.linalg.norm(g[k])) for g in grads for k in sorted(g)]
    clipped_norms = [float(np.linalg.norm(c[k])) for c in clipped for k in sorted(c)]
    assert any(n > 0.5 for n in norms) and any(n < 0.5 for n in norms)
    for before, after in zip(norms, clipped_norms):
        assert after == pytest.approx(min(before, 0.5), rel=1e-12)
    assert float(optax.tree.norm(grads)) > 1.0
    assert max(abs(v) for layer in grads for g in layer.values() for v in np.ravel(g)) > 0.3


def test_clip_by_norm_leaves_zero_gradients_zero():
    zeros = {"w": jax.numpy.zeros((2, 2))}
    clipped, _ = clip_by_norm(1.0).update(zeros, optax.EmptyState())
    np.testing.assert_array_equal(clipped["w"], 0.0)


def test_adam_is_keras_not_optax():
    """Keras' epsilon hat and default epsilon 1e-7, on a tiny gradient's first step."""
    params = {"w": jax.numpy.zeros(1)}
    grads = {"w": jax.numpy.full(1, 1e-7)}
    tx = make_optax(optimizers.Adam())
    updates, _ = tx.update(grads, tx.init(params))
    # alpha = lr * sqrt(1 - beta_2) / (1 - beta_1); m = 1e-8, v = 1e-17: -alpha * m / (sqrt(v) + eps)
    alpha = 0.001 * np.sqrt(1 - 0.999) / (1 - 0.9)
    assert float(updates["w"][0]) == pytest.approx(-alpha * 1e-8 / (np.sqrt(1e-17) + 1e-7), rel=1e-12)
    optax_adam = optax.adam(0.001, eps=1e-7)
    assert float(optax_adam.update(grads, optax_adam.init(params))[0]["w"][0]) == pytest.approx(-0.0005, rel=1e-9)


def test_unknown_optimizer_is_rejected():
    with pytest.raises(ValueError, match="Unknown optimizer: 'Adafactor'.*adamw"):
        make_optax({"class_name": "Adafactor", "learning_rate": 0.1})


def test_params_are_required_where_the_rule_reads_them():
    tx = make_optax(O.Ftrl())
    with pytest.raises(ValueError, match="params"):
        tx.update({"w": jnp.ones(2)}, tx.init({"w": jnp.ones(2)}))


def test_config_of_every_case_is_json():
    for opt in OPTIMIZERS[:-1]:  # the last one has a plain callable learning rate
        assert optimizers.deserialize(json.loads(json.dumps(opt.get_config()))) == opt
