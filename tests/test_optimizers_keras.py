"""Every optimizer against live Keras 3 (its JAX backend): same weights, same gradients, same steps.

The weights after 1 and after 20 updates must agree with Keras' to 1e-6 relative in float32, on
the NumPy path (``opt.update``) and on the optax path (``make_optax(opt)``), for every optimizer
and option: clipping, weight decay, EMA, gradient accumulation, loss scaling, schedules, and a
learning rate changed between steps. Keras runs ``stateless_apply`` under ``jax.jit`` (what its
``fit`` runs); skipped when Keras is not installed.

"Relative" is per tensor: ``|ours - keras| <= 1e-6 * max|keras|`` elementwise. A weight that
ends near 0 after large moves (momentum SGD; Ftrl, which rebuilds each weight from a
difference) carries the rounding of those moves: there Keras' own eager and jitted runs differ
by more than 1e-6 of that one weight (1.4e-6 on "sgd-cosine-warmup", from a 1-ulp difference in
the float32 cosine), so an elementwise bound would test XLA's fusion, not the update rule.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
if keras.backend.backend() != "jax":  # pragma: no cover - conftest selects the JAX backend
    pytest.skip("the Keras oracle runs on its JAX backend", allow_module_level=True)

import jax.numpy as jnp  # noqa: E402

from scratchlstm import optimizers  # noqa: E402
from scratchlstm.jax_backend import make_optax  # noqa: E402
from scratchlstm.optimizers import schedules  # noqa: E402

# Keras' own Variable.__array__ trips NumPy 2's copy-keyword deprecation; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

STEPS = 20
RTOL = 1e-6  # relative to each tensor's largest weight, float32


def _data(scale=1.0, seed=0):
    """Float32 weights (a kernel and a bias) and 20 gradient sets; norms ~3.5 and ~2 (clipping bites)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(4,)).astype(np.float32)]
    grads = [[(scale * rng.normal(size=w.shape)).astype(np.float32) for w in weights] for _ in range(STEPS)]
    return weights, grads


S = schedules
CASES = {
    "sgd": ("SGD", {}),
    "sgd-momentum": ("SGD", {"momentum": 0.9}),
    "sgd-nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "adam": ("Adam", {"learning_rate": 0.01}),
    "adam-tiny-gradients": ("Adam", {"learning_rate": 0.01}, 1e-6),
    "adam-amsgrad": ("Adam", {"learning_rate": 0.01, "amsgrad": True, "beta_2": 0.9}),
    "adamw": ("AdamW", {"learning_rate": 0.01}),
    "adamw-amsgrad-custom": ("AdamW", {"learning_rate": 0.02, "weight_decay": 0.1, "beta_1": 0.8, "amsgrad": True}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.01}),
    "rmsprop-momentum": ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5}),
    "rmsprop-centered": ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    "rmsprop-centered-momentum": ("RMSprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.9, "centered": True}),
    "adagrad": ("Adagrad", {"learning_rate": 0.05}),
    "adagrad-zero-start": ("Adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.0, "epsilon": 1e-4}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
    "adamax": ("Adamax", {"learning_rate": 0.01}),
    "adamax-tiny-gradients": ("Adamax", {"learning_rate": 0.01}, 1e-6),
    "nadam": ("Nadam", {"learning_rate": 0.01}),
    "nadam-tiny-gradients": ("Nadam", {"learning_rate": 0.01}, 1e-6),
    "lion": ("Lion", {"learning_rate": 0.01}),
    "lion-custom": ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.5}),
    "ftrl": ("Ftrl", {"learning_rate": 0.05}),
    "ftrl-regularized": ("Ftrl", {"learning_rate": 0.05, "learning_rate_power": -0.7, "l1_regularization_strength": 0.01,
                                  "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03,
                                  "beta": 0.5}),
    # common arguments
    "sgd-clipnorm": ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "clipnorm": 1.0}),
    "adam-clipvalue": ("Adam", {"learning_rate": 0.01, "clipvalue": 0.5}),
    "rmsprop-global_clipnorm": ("RMSprop", {"learning_rate": 0.01, "global_clipnorm": 1.0}),
    "sgd-weight_decay": ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.05}),
    "ftrl-weight_decay": ("Ftrl", {"learning_rate": 0.05, "weight_decay": 0.1, "l2_shrinkage_regularization_strength": 0.1}),
    "adam-ema": ("Adam", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.9}),
    "nadam-ema-overwrite": ("Nadam", {"learning_rate": 0.01, "use_ema": True, "ema_overwrite_frequency": 3}),
    "adam-accumulation": ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 3}),
    "nadam-accumulation-ema-schedule": ("Nadam", {"learning_rate": S.ExponentialDecay(0.02, 4, 0.8), "use_ema": True,
                                                  "ema_overwrite_frequency": 2, "gradient_accumulation_steps": 2}),
    "adamax-loss_scale_factor": ("Adamax", {"learning_rate": 0.01, "loss_scale_factor": 64.0, "global_clipnorm": 2.0}),
    # schedules as the learning rate (and in weight decay)
    "adam-exponential": ("Adam", {"learning_rate": S.ExponentialDecay(0.05, 5, 0.5, staircase=True)}),
    "sgd-cosine-warmup": ("SGD", {"learning_rate": S.CosineDecay(0.01, 10, alpha=0.1, warmup_target=0.1, warmup_steps=6),
                                  "momentum": 0.9}),
    "rmsprop-piecewise": ("RMSprop", {"learning_rate": S.PiecewiseConstantDecay([3, 9], [0.02, 0.01, 0.002]),
                                      "momentum": 0.5}),
    "adagrad-polynomial": ("Adagrad", {"learning_rate": S.PolynomialDecay(0.1, 12, 0.01, power=2.0)}),
    "lion-inverse-time": ("Lion", {"learning_rate": S.InverseTimeDecay(0.01, 3, 0.5)}),
    "nadam-restarts": ("Nadam", {"learning_rate": S.CosineDecayRestarts(0.02, 4, t_mul=1.5, m_mul=0.7, alpha=0.1)}),
    "adamw-cosine": ("AdamW", {"learning_rate": S.CosineDecay(0.02, 15), "weight_decay": 0.2}),
    "adadelta-ftrl-like-schedule": ("Adadelta", {"learning_rate": S.PolynomialDecay(1.0, 7, 0.1, cycle=True)}),
}


def _case(case_id):
    name, kwargs, *scale = CASES[case_id]
    return name, kwargs, (scale[0] if scale else 1.0)


def _keras_optimizer(name, kwargs):
    kwargs = dict(kwargs)
    lr = kwargs.get("learning_rate")
    if isinstance(lr, schedules.LearningRateSchedule):
        kwargs["learning_rate"] = getattr(keras.optimizers.schedules, type(lr).__name__)(**lr.get_config())
    return getattr(keras.optimizers, name)(**kwargs)


@functools.lru_cache(maxsize=None)
def keras_trajectory(case_id, change_lr_at=None):
    """Keras' weights after each step (plus the finalized EMA weights with use_ema)."""
    name, kwargs, scale = _case(case_id)
    weights, grads = _data(scale)
    opt = _keras_optimizer(name, kwargs)
    variables = [keras.Variable(w) for w in weights]
    opt.build(variables)
    step = jax.jit(opt.stateless_apply)
    optimizer_values = [v.value for v in opt.variables]
    values = [v.value for v in variables]
    out = []
    for i, g in enumerate(grads):
        if change_lr_at is not None and i == change_lr_at:
            for v, value in zip(opt.variables, optimizer_values):
                v.assign(value)
            opt.learning_rate = 0.5 * float(opt.learning_rate)  # what ReduceLROnPlateau does
            optimizer_values = [v.value for v in opt.variables]
        values, optimizer_values = step(optimizer_values, [jnp.asarray(x) for x in g], values)
        out.append([np.asarray(v) for v in values])
    if opt.use_ema:
        out.append(_ema(opt, optimizer_values))
    return out


def _ema(opt, optimizer_values):
    for v, value in zip(opt.variables, optimizer_values):
        v.assign(value)
    return [np.asarray(a.value) for a in opt._model_variables_moving_average]


def numpy_trajectory(case_id, change_lr_at=None):
    name, kwargs, scale = _case(case_id)
    weights, grads = _data(scale)
    opt = getattr(optimizers, name)(**kwargs)
    params = [w.copy() for w in weights]
    state = opt.init(params)
    out = []
    for i, g in enumerate(grads):
        if change_lr_at is not None and i == change_lr_at:
            opt.learning_rate = 0.5 * opt.learning_rate
            state = opt.with_learning_rate(state)
        updates, state = opt.update(g, state, params)
        params = optimizers.apply_updates(params, updates)
        out.append(params)
    if opt.use_ema:
        out.append(opt.finalize_variable_values(params, state))
    return out


def optax_trajectory(case_id, change_lr_at=None):
    name, kwargs, scale = _case(case_id)
    weights, grads = _data(scale)
    opt = getattr(optimizers, name)(**kwargs)
    tx = make_optax(opt)
    params = [jnp.asarray(w) for w in weights]
    state = tx.init(params)
    out = []
    for i, g in enumerate(grads):
        if change_lr_at is not None and i == change_lr_at:
            opt.learning_rate = 0.5 * opt.learning_rate
            state = opt.with_learning_rate(state)
        updates, state = tx.update([jnp.asarray(x) for x in g], state, params)
        params = optax.apply_updates(params, updates)
        out.append([np.asarray(p) for p in params])
    if opt.use_ema:
        out.append([np.asarray(a) for a in opt.finalize_variable_values(params, state)])
    return out


def assert_same_weights(ours, theirs, where):
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert a.dtype == np.float32, where
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * float(np.max(np.abs(b))), err_msg=f"{where}, weight {k}")


def check_trajectory(ours, theirs):
    assert len(ours) == len(theirs)
    assert_same_weights(ours[0], theirs[0], "after 1 step")
    assert_same_weights(ours[STEPS - 1], theirs[STEPS - 1], f"after {STEPS} steps")
    if len(theirs) > STEPS:
        assert_same_weights(ours[STEPS], theirs[STEPS], "finalized EMA weights")


@pytest.mark.parametrize("case_id", list(CASES))
def test_numpy_path_follows_keras(case_id):
    check_trajectory(numpy_trajectory(case_id), keras_trajectory(case_id))


@pytest.mark.parametrize("case_id", list(CASES))
def test_optax_path_follows_keras(case_id):
    check_trajectory(optax_trajectory(case_id), keras_trajectory(case_id))


@pytest.mark.parametrize("case_id", ["nadam-accumulation-ema-schedule", "sgd-cosine-warmup", "ftrl-weight_decay"])
def test_jitted_optax_path_follows_keras(case_id):
    """The transform under ``jax.jit`` (as the train step runs it): the same numbers."""
    name, kwargs, scale = _case(case_id)
    weights, grads = _data(scale)
    opt = getattr(optimizers, name)(**kwargs)
    tx = make_optax(opt)
    update = jax.jit(tx.update)
    params = [jnp.asarray(w) for w in weights]
    state = tx.init(params)
    out = []
    for g in grads:
        updates, state = update([jnp.asarray(x) for x in g], state, params)
        params = optax.apply_updates(params, updates)
        out.append([np.asarray(p) for p in params])
    if opt.use_ema:
        out.append([np.asarray(a) for a in opt.finalize_variable_values(params, state)])
    check_trajectory(out, keras_trajectory(case_id))
    assert update._cache_size() == 1


@pytest.mark.parametrize("case_id", ["adam", "sgd-momentum", "rmsprop-centered-momentum", "adamw", "ftrl-regularized"])
def test_learning_rate_set_between_steps_follows_keras(case_id):
    """``optimizer.learning_rate = lr / 2`` after 7 steps (as ReduceLROnPlateau does), on both paths."""
    theirs = keras_trajectory(case_id, change_lr_at=7)
    assert not np.allclose(theirs[-1][0], keras_trajectory(case_id)[-1][0], rtol=1e-4)  # the change matters
    check_trajectory(numpy_trajectory(case_id, change_lr_at=7), theirs)
    check_trajectory(optax_trajectory(case_id, change_lr_at=7), theirs)


def test_adam_first_step_on_tiny_gradients_is_keras():
    """Keras' epsilon placement: at lr 0.01 a gradient of 1e-6 moves a weight by 0.0024, not 0.0091."""
    params = {"w": np.zeros(1, np.float32)}
    grads = {"w": np.full(1, 1e-6, np.float32)}
    keras_opt = keras.optimizers.Adam(learning_rate=0.01)
    variable = keras.Variable(params["w"])
    keras_opt.apply([grads["w"]], [variable])
    opt = optimizers.Adam(learning_rate=0.01)
    updates, _ = opt.update(grads, opt.init(params), params)
    tx = make_optax(opt)
    jax_updates, _ = tx.update({"w": jnp.asarray(grads["w"])}, tx.init({"w": jnp.asarray(params["w"])}))
    keras_first = float(variable.numpy()[0])
    assert float(updates["w"][0]) == pytest.approx(keras_first, rel=1e-6)
    assert float(jax_updates["w"][0]) == pytest.approx(keras_first, rel=1e-6)
    expected = -0.01 * np.sqrt(1 - 0.999) / (1 - 0.9) * 1e-7 / (np.sqrt(1e-15) + 1e-7)  # float64
    assert keras_first == pytest.approx(expected, rel=1e-5)
    assert expected == pytest.approx(-0.0024025, rel=1e-4)
    optax_first = float(optax.adam(0.01, eps=1e-7).update(grads, optax.adam(0.01, eps=1e-7).init(params))[0]["w"][0])
    assert optax_first == pytest.approx(-0.0091, rel=1e-2)  # why Adam is a custom transformation


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl"])
def test_signature_and_defaults_are_keras(name):
    import inspect

    ours = inspect.signature(getattr(optimizers, name).__init__).parameters
    theirs = inspect.signature(getattr(keras.optimizers, name).__init__).parameters
    theirs = {key: p for key, p in theirs.items() if key != "kwargs"}
    assert list(ours) == list(theirs)  # names and positional order
    assert {k: p.default for k, p in ours.items()} == {k: p.default for k, p in theirs.items()}


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl"])
def test_config_keys_are_keras(name):
    ours = getattr(optimizers, name)().get_config()
    theirs = getattr(keras.optimizers, name)().get_config()
    assert set(ours) - {"class_name"} == set(theirs)
    theirs.pop("name")
    ours.pop("name")
    ours.pop("class_name")
    assert ours == pytest.approx(theirs)


def test_keras_config_deserializes():
    """A Keras optimizer's serialized config (schedule included) rebuilds the same optimizer here."""
    schedule = keras.optimizers.schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10)
    keras_opt = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=0.01, amsgrad=True, clipnorm=1.0)
    config = keras.optimizers.serialize(keras_opt)
    ours = optimizers.deserialize(config)
    assert isinstance(ours, optimizers.AdamW) and ours.amsgrad and ours.clipnorm == 1.0
    assert ours.learning_rate_schedule == schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=10)
    assert optimizers.get("adamw").get_config()["weight_decay"] == keras.optimizers.get("adamw").weight_decay
