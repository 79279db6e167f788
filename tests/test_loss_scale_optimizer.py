"""`LossScaleOptimizer`: Keras 3's dynamic loss scaling, on NumPy and on JAX (optax twin).

- Parity with live Keras: weights, scale, counter and iterations after a sequence of steps that
  holds an overflowing (inf) gradient (skipped, scale halved) and growth (small
  ``dynamic_growth_steps``), inner SGD with momentum and Adam; NumPy and the jitted optax twin.
- ``mixed_float16`` trains on JAX (compile wraps the optimizer); a model whose float16
  gradients underflow without scaling does not move without it and follows float32 with it;
  overflowing scales are halved during fit instead of stopping it.
- Config round trips, ``optimizers.get`` / serialize, the constructor's refusals.
- Save / load keeps the scale, the counter and the inner state: fit continues exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import scratchlstm as keras
from scratchlstm import mixed_precision, optimizers
from scratchlstm.optimizers import SGD, Adam, LossScaleOptimizer, LossScaleState, OptimizerState


@pytest.fixture(autouse=True)
def _float32_policy():
    mixed_precision.set_global_policy("float32")
    yield
    mixed_precision.set_global_policy("float32")


# --- Keras parity ----------------------------------------------------------------------------------
def _gradient_sequence():
    """Scaled gradients of 8 steps; step 2 overflows (skipped), the rest are finite."""
    rng = np.random.default_rng(0)
    steps = [[rng.normal(size=(3, 2)).astype(np.float32) * 8, rng.normal(size=(2,)).astype(np.float32) * 8]
             for _ in range(8)]
    steps[2][0][1, 1] = np.inf
    return steps


INNER = {
    "sgd_momentum": (lambda: SGD(0.1, momentum=0.9), lambda k: k.optimizers.SGD(0.1, momentum=0.9)),
    "adam": (lambda: Adam(0.01), lambda k: k.optimizers.Adam(0.01)),
}


def _keras_trajectory(make_keras_inner, initial):
    keras_module = pytest.importorskip("keras")
    opt = keras_module.optimizers.LossScaleOptimizer(make_keras_inner(keras_module), initial_scale=8.0,
                                                     dynamic_growth_steps=3, name="lso")
    variables = [keras_module.Variable(w) for w in initial]
    opt.build(variables)
    # Keras' JAX trainer path (its stateful `apply` leaks tracers from its cond on JAX)
    paths = [v.path for v in opt.variables]
    where = {name: paths.index(path) for name, path in (("scale", "lso/dynamic_scale"), ("counter", "lso/step_counter"),
                                                        ("iterations", f"{opt.inner_optimizer.name}/iteration"))}
    weights, state = [v.value for v in variables], [v.value for v in opt.variables]
    trajectory = []
    for grads in _gradient_sequence():
        weights, state = opt.stateless_apply(state, [keras_module.ops.convert_to_tensor(g) for g in grads], weights)
        trajectory.append(([np.asarray(w) for w in weights], float(state[where["scale"]]),
                           int(state[where["counter"]]), int(state[where["iterations"]])))
    return trajectory


def _initial():
    rng = np.random.default_rng(1)
    return [rng.normal(size=(3, 2)).astype(np.float32), rng.normal(size=(2,)).astype(np.float32)]


@pytest.mark.parametrize("inner", sorted(INNER))
def test_numpy_steps_match_keras(inner):
    make_ours, make_keras = INNER[inner]
    initial = _initial()
    expected = _keras_trajectory(make_keras, initial)
    opt = LossScaleOptimizer(make_ours(), initial_scale=8.0, dynamic_growth_steps=3)
    params, state = list(initial), opt.init(initial)
    for step, (grads, (weights, scale, counter, iterations)) in enumerate(zip(_gradient_sequence(), expected)):
        updates, state = opt.update(grads, state, params)
        params = optimizers.apply_updates(params, updates)
        for ours, theirs in zip(params, weights):
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, err_msg=f"step {step}")
        assert (state.slots.dynamic_scale, state.slots.step_counter, state.iterations) == (scale, counter, iterations)
    # the sequence did what it is meant to test: one skip (8 -> 4), then one growth (4 -> 8)
    assert [e[1] for e in expected] == [8.0, 8.0, 4.0, 4.0, 4.0, 8.0, 8.0, 8.0]
    assert expected[2][3] == 2 and expected[-1][3] == 7


@pytest.mark.parametrize("inner", sorted(INNER))
def test_optax_twin_matches_keras_without_recompiling(inner):
    jax = pytest.importorskip("jax")
    from scratchlstm.jax_backend import make_optax

    make_ours, make_keras = INNER[inner]
    initial = _initial()
    expected = _keras_trajectory(make_keras, initial)
    tx = make_optax(LossScaleOptimizer(make_ours(), initial_scale=8.0, dynamic_growth_steps=3))
    update = jax.jit(tx.update)
    params = [jax.numpy.asarray(w) for w in initial]
    state = tx.init(params)
    assert isinstance(state, OptimizerState) and isinstance(state.slots, LossScaleState)
    for step, (grads, (weights, scale, counter, iterations)) in enumerate(zip(_gradient_sequence(), expected)):
        updates, state = update(grads, state, params)
        params = [p + u for p, u in zip(params, updates)]
        for ours, theirs in zip(params, weights):
            np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-6, atol=1e-6, err_msg=f"step {step}")
        assert float(state.slots.dynamic_scale) == scale and int(state.slots.step_counter) == counter
        assert int(state.iterations) == iterations
    assert state.slots.dynamic_scale.dtype == np.float32 and update._cache_size() == 1


def test_scale_loss_reads_the_state_and_the_inner_optimizer_is_unscaled():
    inner = SGD(0.5, loss_scale_factor=4.0)
    opt = LossScaleOptimizer(inner, initial_scale=16.0)
    assert inner.loss_scale_factor is None and opt.inner_optimizer is inner  # as Keras: switched off
    state = opt.init({"w": np.zeros(2, np.float32)})
    assert opt.scale_loss(2.0) == 32.0 and opt.scale_loss(2.0, state._replace(slots=state.slots._replace(dynamic_scale=4.0))) == 8.0
    # the learning rate and the iterations are the inner optimizer's
    opt.learning_rate = 0.25
    assert inner.learning_rate == 0.25 and opt.with_learning_rate(state).learning_rate == 0.25
    opt.iterations = 3
    assert inner.iterations == 3
    with pytest.raises(ValueError, match="LossScaleOptimizer.init"):
        opt.update({"w": np.ones(2)}, SGD().init({"w": np.zeros(2)}))
    with pytest.raises(ValueError, match="structure and shapes"):
        opt.update({"w": np.array([np.inf, 1.0, 2.0])}, state, {"w": np.zeros(2, np.float32)})


# --- training --------------------------------------------------------------------------------------
def _small_model(policy):
    mixed_precision.set_global_policy(policy)
    try:
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, seed=0, activation="tanh"),
                                 keras.layers.Dense(1, seed=1)], seed=0)
    finally:
        mixed_precision.set_global_policy("float32")


def _regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    return x, (x @ np.array([[0.5], [-1.0], [0.3]])).astype(np.float32)


def test_mixed_float16_fit_on_jax_wraps_the_optimizer_and_trains():
    pytest.importorskip("jax")
    mixed_precision.set_global_policy("mixed_float16")
    try:
        model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(4, seed=0), keras.layers.Dense(1, seed=1)], seed=0)
    finally:
        mixed_precision.set_global_policy("float32")
    inner = Adam(0.02)
    model.compile(inner, "mse", backend="jax")
    assert isinstance(model.optimizer, LossScaleOptimizer) and model.optimizer.inner_optimizer is inner
    assert model.optimizer.name == "loss_scale_optimizer"
    x = np.random.default_rng(3).normal(size=(32, 5, 2)).astype(np.float32)
    history = model.fit(x, np.tanh(x[:, -1, :1]), epochs=6, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.7 * losses[0]
    assert all(w.dtype == np.float32 and np.isfinite(w).all() for w in model.get_weights())
    assert model.optimizer.iterations == 24  # no step overflowed at 2**15 here
    # auto_scale_loss=False (or a float32 model) keeps the optimizer as given
    model.compile(Adam(0.02), "mse", backend="jax", auto_scale_loss=False)
    assert type(model.optimizer) is Adam


def test_float16_gradients_that_underflow_train_only_with_loss_scaling():
    """A loss weight of 1e-8 makes the output gradients ~1e-9: 0 in float16 (smallest ~6e-8),
    ~3e-5 once scaled by 2**15. SGD's large rate makes up for the weight in float32."""
    pytest.importorskip("jax")
    x, y = _regression()
    runs = {}
    for label, policy, options in (("float32", "float32", {}), ("unscaled", "mixed_float16", {"auto_scale_loss": False}),
                                   ("scaled", "mixed_float16", {})):
        model = _small_model(policy)
        model.compile(SGD(1e7), "mse", loss_weights=1e-8, backend="jax", **options)
        before = model.get_weights()
        history = model.fit(x, y, epochs=4, batch_size=16, shuffle=False, verbose=0)
        runs[label] = (before, model.get_weights(), history.history["loss"])
    before, after, losses = runs["unscaled"]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)  # every float16 gradient was 0
    _, scaled, scaled_losses = runs["scaled"]
    _, reference, reference_losses = runs["float32"]
    assert scaled_losses[-1] < 0.2 * scaled_losses[0]
    np.testing.assert_allclose(scaled_losses, reference_losses, rtol=0.05)
    for a, b in zip(scaled, reference):
        np.testing.assert_allclose(a, b, rtol=0.02, atol=2e-3)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_fit_halves_an_overflowing_scale_and_goes_on(backend):
    """float32 gradients (of targets ~10) overflow at a scale of 2**127 on NumPy, float16 ones
    at 2**40 on JAX: those steps are skipped with the scale halved, instead of stopping."""
    if backend == "jax":
        pytest.importorskip("jax")
    x, y = _regression()
    model = _small_model("mixed_float16" if backend == "jax" else "float32")
    initial_scale, y, rate = (2.0**40, y, 0.1) if backend == "jax" else (2.0**127, 10 * y, 0.01)
    model.compile(LossScaleOptimizer(SGD(rate), initial_scale=initial_scale), "mse", backend=backend)
    history = model.fit(x, y, epochs=10, batch_size=8, shuffle=False, verbose=0)
    state = model._optimizer_memory[2]
    skipped = 40 - int(state.iterations)
    assert skipped >= 1 and float(state.slots.dynamic_scale) == initial_scale / 2**skipped
    assert int(state.slots.step_counter) == int(state.iterations)  # no growth at 2000 steps
    losses = history.history["loss"]
    assert len(losses) == 10 and np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0]


def test_numpy_fit_with_a_power_of_two_scale_equals_the_unscaled_fit():
    x, y = _regression()
    weights = []
    for optimizer in (SGD(0.1, momentum=0.9), LossScaleOptimizer(SGD(0.1, momentum=0.9), initial_scale=2.0**10)):
        model = _small_model("float32")
        model.compile(optimizer, "mse")
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)  # scaling by 2**k and back is exact


# --- config ----------------------------------------------------------------------------------------
def test_config_round_trips_and_get():
    opt = LossScaleOptimizer(Adam(0.01, clipnorm=1.0), initial_scale=256.0, dynamic_growth_steps=10, name="lso")
    config = opt.get_config()
    assert config == {"class_name": "LossScaleOptimizer", "name": "lso", "inner_optimizer": Adam(0.01, clipnorm=1.0).get_config(),
                      "initial_scale": 256.0, "dynamic_growth_steps": 10}
    for rebuilt in (LossScaleOptimizer.from_config(config), optimizers.deserialize(optimizers.serialize(opt)),
                    optimizers.get(config)):
        assert isinstance(rebuilt, LossScaleOptimizer) and rebuilt == opt and rebuilt.inner_optimizer == opt.inner_optimizer
    assert optimizers.get(opt) is opt
    assert keras.mixed_precision.LossScaleOptimizer is LossScaleOptimizer
    # Keras' own config (the inner optimizer nested as serialize_keras_object writes it)
    keras_module = pytest.importorskip("keras")
    keras_opt = keras_module.optimizers.LossScaleOptimizer(keras_module.optimizers.SGD(0.5, momentum=0.5, name="inner"),
                                                           initial_scale=64.0, dynamic_growth_steps=7, name="lso")
    ours = optimizers.deserialize(keras_module.optimizers.serialize(keras_opt))
    assert ours == LossScaleOptimizer(SGD(0.5, momentum=0.5, name="inner"), initial_scale=64.0, dynamic_growth_steps=7, name="lso")
    assert ours.inner_optimizer.momentum == 0.5
    with pytest.raises(ValueError, match="wraps another optimizer"):
        optimizers.get("LossScaleOptimizer")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clipnorm": 1.0}, "LossScaleOptimizer does not support `clipnorm`. Instead, set `clipnorm` on the `inner_optimizer`."),
        ({"use_ema": True}, "does not support `use_ema`"),
        ({"dynamic": False}, "no longer supports `dynamic=False`"),
        ({"learning_rate": 0.1}, "does not support arguments: `learning_rate`."),
        ({"initial_scale": 0.0}, "initial_scale"),
        ({"initial_scale": 2.0**200}, "float32 holds"),
        ({"dynamic_growth_steps": 0}, "dynamic_growth_steps"),
    ],
)
def test_constructor_refusals(kwargs, message):
    inner = SGD(0.1, loss_scale_factor=2.0)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LossScaleOptimizer(inner, **kwargs)
    assert inner.loss_scale_factor == 2.0  # a refused wrap leaves the inner optimizer alone
    LossScaleOptimizer(SGD(), clipnorm=None, use_ema=False)  # the defaults are accepted (old configs)
    with pytest.raises(ValueError, match="inner_optimizer"):
        LossScaleOptimizer(LossScaleOptimizer(SGD()))
    with pytest.raises(ValueError, match="inner_optimizer"):
        LossScaleOptimizer("sgd")


# --- save / load -----------------------------------------------------------------------------------
def test_save_load_keeps_the_scale_and_fit_continues_exactly(tmp_path):
    pytest.importorskip("jax")
    x, y = _regression()
    fit = {"batch_size": 8, "shuffle": False, "verbose": 0}  # 4 steps an epoch

    def make():
        model = _small_model("mixed_float16")
        model.compile(LossScaleOptimizer(SGD(0.05, momentum=0.9), initial_scale=2.0**17, dynamic_growth_steps=3),
                      "mse", backend="jax")
        return model

    straight = make()
    straight.fit(x, y, epochs=4, **fit)
    first = make()
    first.fit(x, y, epochs=2, **fit)
    saved = first._optimizer_memory[2]
    path = tmp_path / "model.npz"
    first.save(path)
    names = set(np.load(path).files)
    assert {"optimizer/slots/dynamic_scale", "optimizer/slots/step_counter", "optimizer/iterations"} <= names
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.optimizer, LossScaleOptimizer) and loaded.optimizer.dynamic_growth_steps == 3
    restored = loaded._optimizer_memory[2]
    assert float(restored.slots.dynamic_scale) == float(saved.slots.dynamic_scale)
    assert int(restored.slots.step_counter) == int(saved.slots.step_counter)
    assert int(restored.iterations) == int(saved.iterations) == loaded.optimizer.iterations
    assert float(saved.slots.dynamic_scale) != 2.0**17  # the scale moved during the first 2 epochs
    loaded.fit(x, y, epochs=2, **fit)
    for a, b in zip(loaded.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    end, reference = loaded._optimizer_memory[2], straight._optimizer_memory[2]
    assert float(end.slots.dynamic_scale) == float(reference.slots.dynamic_scale)
    assert int(end.slots.step_counter) == int(reference.slots.step_counter)


def test_keras_archives_carry_the_wrapper_both_ways(tmp_path):
    """A .keras archive nests the inner optimizer as Keras' serialize_keras_object does."""
    pytest.importorskip("h5py")
    keras3 = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, seed=0)])
    model.compile(LossScaleOptimizer(Adam(0.003), dynamic_growth_steps=7), "mse")
    ours = tmp_path / "ours.keras"
    model.save(ours)
    theirs = keras3.models.load_model(ours)
    assert type(theirs.optimizer).__name__ == "LossScaleOptimizer"
    assert type(theirs.optimizer.inner_optimizer).__name__ == "Adam"
    assert theirs.optimizer.dynamic_growth_steps == 7
    assert np.isclose(float(theirs.optimizer.inner_optimizer.learning_rate), 0.003)

    theirs.compile(keras3.optimizers.LossScaleOptimizer(keras3.optimizers.SGD(0.1), initial_scale=8.0), "mse")
    theirs.save(tmp_path / "theirs.keras")
    loaded = keras.models.load_model(tmp_path / "theirs.keras")
    assert isinstance(loaded.optimizer, LossScaleOptimizer) and isinstance(loaded.optimizer.inner_optimizer, SGD)
    assert loaded.optimizer.initial_scale == 8.0 and np.isclose(loaded.optimizer.learning_rate, 0.1)
