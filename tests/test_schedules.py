"""Learning-rate schedules: Keras' values at many steps (NumPy and jitted JAX), configs, bad input."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from scratchlstm import optimizers
from scratchlstm.optimizers import schedules

CASES = [
    pytest.param("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.9}, id="exp"),
    pytest.param("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5,
                                      "staircase": True}, id="exp-staircase"),
    pytest.param("PiecewiseConstantDecay", {"boundaries": [5, 12, 40], "values": [0.1, 0.05, 0.01, 0.001]}, id="piecewise"),
    pytest.param("PiecewiseConstantDecay", {"boundaries": [5.7], "values": [1.0, 0.5]}, id="piecewise-float-boundary"),
    pytest.param("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 13, "end_learning_rate": 0.001,
                                     "power": 0.5}, id="poly"),
    pytest.param("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 13, "end_learning_rate": 0.001,
                                     "power": 2.0, "cycle": True}, id="poly-cycle"),
    pytest.param("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5}, id="inverse"),
    pytest.param("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5,
                                      "staircase": True}, id="inverse-staircase"),
    pytest.param("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "alpha": 0.1}, id="cosine"),
    pytest.param("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 20, "warmup_target": 0.1,
                                 "warmup_steps": 8}, id="cosine-warmup"),
    pytest.param("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 20, "warmup_target": 0.1,
                                 "warmup_steps": 0}, id="cosine-warmup-0"),
    pytest.param("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 6}, id="restarts"),
    pytest.param("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 6, "t_mul": 1.0,
                                         "m_mul": 0.5, "alpha": 0.1}, id="restarts-t1"),
    pytest.param("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 6, "t_mul": 1.5,
                                         "m_mul": 0.8, "alpha": 0.05}, id="restarts-geometric"),
]
STEPS = np.arange(0, 150)


def _scale(kwargs):
    return max([kwargs.get("initial_learning_rate", 0.0), kwargs.get("warmup_target") or 0.0, *kwargs.get("values", [])])


@pytest.fixture(scope="module")
def keras_schedules():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":  # pragma: no cover
        pytest.skip("the Keras oracle runs on its JAX backend")
    return keras.optimizers.schedules


@pytest.mark.parametrize("name, kwargs", CASES)
def test_equals_keras_at_many_steps(name, kwargs, keras_schedules):
    """NumPy path vs Keras (eager, float32) and the jitted JAX path vs Keras jitted, steps 0..149."""
    import jax
    import jax.numpy as jnp

    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras_schedules, name)(**kwargs)
    steps = jnp.asarray(STEPS, jnp.int32)
    with jax.disable_jit():  # op by op, no fusion; ops.cond runs one branch (fast)
        keras_eager = np.array([float(theirs(s)) for s in steps])
    keras_jitted = np.asarray(jax.jit(jax.vmap(theirs))(steps))
    scale = _scale(kwargs)
    numpy64 = np.array([float(ours(int(s))) for s in STEPS])  # float64: Keras' float32 rounding apart
    np.testing.assert_allclose(numpy64, keras_eager, rtol=1e-6, atol=1e-6 * scale)
    numpy32 = np.array([float(ours(int(s), dtype=np.float32)) for s in STEPS])  # what a float32 optimizer uses
    np.testing.assert_allclose(numpy32, keras_eager, rtol=4e-7, atol=1e-7 * scale)
    jitted = np.asarray(jax.jit(jax.vmap(ours))(steps))
    assert jitted.dtype == np.float32 and np.isfinite(jitted).all()
    finite = np.isfinite(keras_jitted)  # see test_keras_jitted_polynomial_decay_nan
    np.testing.assert_allclose(jitted[finite], keras_jitted[finite], rtol=1e-7, atol=1e-8 * scale)
    np.testing.assert_allclose(jitted[~finite], numpy64[~finite], rtol=1e-6)


def test_keras_jitted_polynomial_decay_nan(keras_schedules, xla_optimized):
    """Keras' jitted PolynomialDecay(power=0.5) is NaN from decay_steps on; ours is end_learning_rate."""
    import jax
    import jax.numpy as jnp

    kwargs = {"initial_learning_rate": 0.1, "decay_steps": 13, "end_learning_rate": 0.001, "power": 0.5}
    steps = jnp.asarray([12, 13, 14, 100], jnp.int32)
    theirs = np.asarray(jax.jit(jax.vmap(keras_schedules.PolynomialDecay(**kwargs)))(steps))
    ours = np.asarray(jax.jit(jax.vmap(schedules.PolynomialDecay(**kwargs)))(steps))
    assert np.isfinite(theirs[0]) and np.isnan(theirs[1:]).all()
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1:], 0.001, rtol=1e-6)


def test_keras_jit_quirk_in_cycled_polynomial_decay(keras_schedules, xla_optimized):
    """Under jit, XLA divides 91 by 13 as 91 * (1/13) = 7.0000005, so ceil gives 8, in Keras and here."""
    import jax
    import jax.numpy as jnp

    kwargs = {"initial_learning_rate": 0.1, "decay_steps": 13, "end_learning_rate": 0.001, "power": 2.0, "cycle": True}
    ours, theirs = schedules.PolynomialDecay(**kwargs), keras_schedules.PolynomialDecay(**kwargs)
    step = jnp.asarray([91], jnp.int32)
    assert float(ours(91)) == pytest.approx(0.001)  # exact arithmetic: the end of the 7th cycle
    assert float(jax.jit(jax.vmap(ours))(step)[0]) == float(jax.jit(jax.vmap(theirs))(step)[0]) != pytest.approx(0.001)


@pytest.mark.parametrize("name, kwargs", CASES)
def test_numpy_equals_jax_in_float64(name, kwargs):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    ours = getattr(schedules, name)(**kwargs)
    with jax.enable_x64(True):
        values = np.asarray(jax.jit(jax.vmap(ours))(jnp.asarray(STEPS)))
        assert values.dtype == np.float64
    expected = np.array([ours(int(s)) for s in STEPS])
    if name == "CosineDecayRestarts" and kwargs.get("t_mul", 2.0) != 1.0:
        # Keras finds the period with floor(log(..) / log(t_mul)); at an exact restart step
        # (42 = 6 * (1 + 2 + 4)) the jitted float64 log ratio rounds to 2.9999999999999996,
        # so that one step reads the end of the previous period (alpha) instead of the start.
        boundaries = [s for s in STEPS if np.isclose(np.log1p(s / kwargs["first_decay_steps"] * (kwargs.get("t_mul", 2.0) - 1))
                                                     / np.log(kwargs.get("t_mul", 2.0)) % 1, 0, atol=1e-9)]
        differ = [int(s) for s in STEPS if not np.isclose(values[s], expected[s], rtol=1e-12, atol=1e-15)]
        assert set(differ) <= set(int(b) for b in boundaries)
        keep = np.array([s not in differ for s in STEPS])
        values, expected = values[keep], expected[keep]
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-15)


def test_traced_step_compiles_once():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    schedule = schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5)
    f = jax.jit(schedule)
    values = [float(f(jnp.asarray(s, jnp.int32))) for s in range(20)]
    assert f._cache_size() == 1
    np.testing.assert_allclose(values, [float(schedule(s)) for s in range(20)], rtol=1e-6, atol=1e-8)


def test_formulas_by_hand():
    assert schedules.ExponentialDecay(0.1, 10, 0.5)(15) == pytest.approx(0.1 * 0.5**1.5, rel=1e-15)
    assert schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True)(15) == pytest.approx(0.1 / 1.5, rel=1e-15)
    assert schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0)(15) == pytest.approx(0.01, rel=1e-15)
    assert schedules.PolynomialDecay(0.1, 10, 0.01, cycle=True)(15) == pytest.approx(0.09 * 0.25 + 0.01, rel=1e-14)
    cosine = schedules.CosineDecay(0.1, 10, alpha=0.2)
    assert cosine(5) == pytest.approx(0.1 * (0.8 * 0.5 + 0.2), rel=1e-14)
    assert cosine(1000) == pytest.approx(0.02, rel=1e-14)
    warm = schedules.CosineDecay(0.01, 10, warmup_target=0.1, warmup_steps=4)
    assert warm(2) == pytest.approx(0.055, rel=1e-14) and warm(4) == pytest.approx(0.1, rel=1e-14)
    restarts = schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    assert restarts(10) == pytest.approx(0.5, rel=1e-14)  # second period starts at m_mul
    assert restarts(20) == pytest.approx(0.5 * 0.5 * (1 + math.cos(math.pi * 0.5)), rel=1e-12)
    piecewise = schedules.PiecewiseConstantDecay([3, 6], [3.0, 2.0, 1.0])
    assert [float(piecewise(s)) for s in range(8)] == [3.0, 3.0, 3.0, 3.0, 2.0, 2.0, 2.0, 1.0]


ALL = [getattr(schedules, name)(**kwargs) for name, kwargs in (p.values for p in CASES)]


@pytest.mark.parametrize("schedule", ALL, ids=[p.id for p in CASES])
def test_config_round_trip(schedule):
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    rebuilt = schedules.deserialize(config)
    assert rebuilt == schedule and rebuilt is not schedule
    assert type(schedule).from_config(schedule.get_config()) == schedule
    assert schedules.get(config) == schedule and schedules.get(schedule) is schedule
    assert float(rebuilt(17)) == float(schedule(17))
    assert hash(rebuilt) == hash(schedule)


def test_schedule_inside_an_optimizer_config():
    schedule = schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
    opt = optimizers.SGD(learning_rate=schedule, momentum=0.9)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["learning_rate"] == {"class_name": "PiecewiseConstantDecay", "config": schedule.get_config()}
    rebuilt = optimizers.deserialize(config)
    assert rebuilt == opt and rebuilt.learning_rate_schedule == schedule
    assert optimizers.get({"class_name": "SGD", "config": config}) == opt


def test_keras_serialized_schedule_is_accepted(keras_schedules):
    import keras

    theirs = keras_schedules.CosineDecayRestarts(0.1, 50, t_mul=1.5, m_mul=0.9, alpha=0.01)
    ours = schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    assert ours == schedules.CosineDecayRestarts(0.1, 50, t_mul=1.5, m_mul=0.9, alpha=0.01)
    assert ours.get_config() == theirs.get_config()


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (schedules.ExponentialDecay, {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.9}, "decay_steps"),
        (schedules.ExponentialDecay, {"initial_learning_rate": 0.1, "decay_steps": -5, "decay_rate": 0.9}, "decay_steps"),
        (schedules.ExponentialDecay, {"initial_learning_rate": -0.1, "decay_steps": 5, "decay_rate": 0.9},
         "initial_learning_rate"),
        (schedules.ExponentialDecay, {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": float("nan")},
         "decay_rate"),
        (schedules.ExponentialDecay, {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.9,
                                      "staircase": "no"}, "staircase"),
        (schedules.InverseTimeDecay, {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": -1.0}, "decay_rate"),
        (schedules.PolynomialDecay, {"initial_learning_rate": 0.1, "decay_steps": -1}, "decay_steps"),
        (schedules.PolynomialDecay, {"initial_learning_rate": 0.1, "decay_steps": 10, "power": "2"}, "power"),
        (schedules.CosineDecay, {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 1.5}, "alpha"),
        (schedules.CosineDecay, {"initial_learning_rate": 0.1, "decay_steps": 10, "warmup_steps": -3}, "warmup_steps"),
        (schedules.CosineDecay, {"initial_learning_rate": 0.1, "decay_steps": 10, "warmup_target": -1.0},
         "warmup_target"),
        (schedules.CosineDecayRestarts, {"initial_learning_rate": 0.1, "first_decay_steps": 0}, "first_decay_steps"),
        (schedules.CosineDecayRestarts, {"initial_learning_rate": 0.1, "first_decay_steps": 5, "t_mul": 0.0}, "t_mul"),
        (schedules.CosineDecayRestarts, {"initial_learning_rate": 0.1, "first_decay_steps": 5, "m_mul": -1.0}, "m_mul"),
    ],
)
def test_bad_arguments_raise_naming_them(cls, kwargs, name):
    with pytest.raises(ValueError) as info:
        cls(**kwargs)
    assert f"`{name}`" in str(info.value) and f"{name}={kwargs[name]!r}" in str(info.value)


def test_bad_piecewise_arguments():
    with pytest.raises(ValueError, match="1 less than"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="strictly increasing"):
        schedules.PiecewiseConstantDecay([5, 5], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"values\[1\]"):
        schedules.PiecewiseConstantDecay([5], [0.1, "x"])


@pytest.mark.parametrize("step", [-1, -0.5, float("nan"), "3", [1, 2]])
def test_bad_steps_raise(step):
    with pytest.raises(ValueError, match="step"):
        schedules.ExponentialDecay(0.1, 10, 0.9)(step)


def test_unknown_schedule_lists_known_ones():
    with pytest.raises(ValueError) as info:
        schedules.deserialize({"class_name": "StepDecay", "config": {}})
    assert "'StepDecay'" in str(info.value) and "CosineDecay" in str(info.value) and "ExponentialDecay" in str(info.value)
    with pytest.raises(ValueError, match="class_name"):
        schedules.deserialize({"initial_learning_rate": 0.1})
