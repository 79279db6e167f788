"""Constraints: projections against Keras 3 (NumPy and JAX arrays), names and configs, bad input,
and training with constraints applied after every update (both backends, against Keras' fit)."""

import os

import numpy as np
import pytest

import scratchlstm as ours
from scratchlstm import constraints

os.environ.setdefault("KERAS_BACKEND", "jax")

CONSTRAINTS = {
    "MaxNorm": lambda m, axis: m.constraints.MaxNorm(1.2, axis=axis),
    "MaxNorm_default": lambda m, axis: m.constraints.MaxNorm(axis=axis),
    "NonNeg": lambda m, axis: m.constraints.NonNeg(),
    "UnitNorm": lambda m, axis: m.constraints.UnitNorm(axis=axis),
    "MinMaxNorm": lambda m, axis: m.constraints.MinMaxNorm(0.8, 1.5, axis=axis),
    "MinMaxNorm_rate": lambda m, axis: m.constraints.MinMaxNorm(0.5, 1.0, rate=0.3, axis=axis),
}


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _weights(shape, dtype, seed=0):
    w = np.random.default_rng(seed).normal(scale=0.8, size=shape).astype(dtype)
    w[..., 0] = 0.0  # a zero vector: the norm's epsilon keeps it at zero
    return w


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
@pytest.mark.parametrize("shape, axis", [((4, 3), 0), ((4, 3), 1), ((3, 2, 4), [0, 1])])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_projection_equals_keras(name, shape, axis, dtype, keras):
    import jax.numpy as jnp

    w = _weights(shape, dtype)
    mine = CONSTRAINTS[name](ours, axis)
    projected = mine(w)
    assert projected.dtype == dtype and projected.shape == w.shape
    expected = np.asarray(CONSTRAINTS[name](keras, axis)(jnp.asarray(w)))
    np.testing.assert_allclose(projected, expected, rtol=1e-6, atol=1e-7)
    # the same projection on JAX arrays (inside the JAX backend's compiled step)
    np.testing.assert_allclose(np.asarray(mine(jnp.asarray(w))), projected, rtol=1e-6, atol=1e-7)


def test_what_the_projections_guarantee():
    w = _weights((5, 4), np.float64, seed=3) * 3
    axis_norms = lambda v: np.linalg.norm(v, axis=0)  # noqa: E731
    assert (axis_norms(constraints.MaxNorm(0.7)(w)) <= 0.7 + 1e-9).all()
    assert np.allclose(axis_norms(constraints.UnitNorm()(w))[1:], 1.0)  # column 0 is zero and stays so
    assert (constraints.NonNeg()(w) >= 0).all()
    norms = axis_norms(constraints.MinMaxNorm(1.0, 2.0)(w))[1:]
    assert ((norms >= 1.0 - 1e-6) & (norms <= 2.0 + 1e-6)).all()
    small = np.full((4, 1), 0.1)  # norm 0.2, inside [0, 2]: MaxNorm keeps it (to 1e-7 / 0.2)
    np.testing.assert_allclose(constraints.MaxNorm(2)(small), small, rtol=1e-6)
    # a NumPy integer bound does not promote float32 weights
    assert constraints.MaxNorm(np.int64(1))(np.ones((2, 2), np.float32)).dtype == np.float32


def test_names_configs_and_keras_round_trip(keras):
    C = constraints
    assert C.get(None) is None
    assert C.get("max_norm") == C.MaxNorm(2, 0) and C.get("MaxNorm") == C.MaxNorm()
    assert C.get("non_neg") == C.NonNeg() and C.get("unit_norm") == C.UnitNorm()
    assert C.get("min_max_norm") == C.MinMaxNorm(0.0, 1.0, 1.0, 0)
    assert C.get(C.UnitNorm) == C.UnitNorm() and C.max_norm is C.MaxNorm
    for constraint in (C.MaxNorm(3, axis=[0, 1]), C.NonNeg(), C.UnitNorm(1), C.MinMaxNorm(0.5, 2.0, 0.5, 1)):
        config = C.serialize(constraint)
        assert C.deserialize(config) == constraint
        theirs = keras.constraints.serialize(keras.constraints.deserialize(config))  # Keras reads ours ...
        assert theirs["config"] == config["config"]
        assert C.get(theirs) == constraint  # ... and we read Keras' (module, registered_name)
    assert C.serialize(C.MaxNorm(3)) == {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}


def test_a_subclass_and_a_function():
    class Clip(constraints.Constraint):
        def __init__(self, limit=1.0):
            self.limit = limit

        def project(self, w, xp):
            return xp.clip(w, -self.limit, self.limit)

        def get_config(self):
            return {"limit": self.limit}

    layer = ours.layers.Dense(2, kernel_constraint=Clip(0.5), bias_constraint=np.abs)
    assert layer.get_config()["kernel_constraint"] == {"class_name": "Clip", "config": {"limit": 0.5}}
    assert layer.get_config()["bias_constraint"] == {"class_name": "function", "config": "absolute"}
    with pytest.raises(ValueError, match="'absolute'.*Constraint"):
        ours.layers.Dense.from_config(layer.get_config())
    copy = ours.layers.Dense.from_config({**layer.get_config(), "bias_constraint": None})
    assert copy.kernel_constraint == Clip(0.5)


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: constraints.get("nonneg"), ["'nonneg'", "'non_neg'", "'max_norm'"]),
        (lambda: constraints.get(1.5), ["Could not interpret", "1.5"]),
        (lambda: constraints.get({"class_name": "Clamp"}), ["'Clamp'", "MaxNorm"]),
        (lambda: constraints.get({"class_name": "MaxNorm", "config": {"max_norm": 2}}), ["MaxNorm", "max_norm"]),
        (lambda: constraints.MaxNorm(-1), ["max_value", ">= 0", "-1"]),
        (lambda: constraints.MaxNorm(axis=1.5), ["axis", "1.5"]),
        (lambda: constraints.UnitNorm(axis=[0, "1"]), ["axis", "'1'"]),
        (lambda: constraints.MinMaxNorm(2.0, 1.0), ["max_value", ">= 2.0", "1.0"]),
        (lambda: constraints.MinMaxNorm(rate=1.5), ["rate", "[0.0, 1.0]", "1.5"]),
        (lambda: ours.layers.GRU(2, recurrent_constraint="unit"), ["GRU(recurrent_constraint=...)", "'unit'"]),
        (lambda: ours.layers.BatchNormalization(gamma_constraint=3), ["gamma_constraint", "3"]),
    ],
)
def test_bad_input_is_named(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


# --- training: the projection follows every update ----------------------------------------------
def _model(m):
    C = m.constraints
    return m.Sequential([
        m.Input((6, 2)),
        m.layers.SimpleRNN(4, kernel_constraint=C.UnitNorm(axis=1), recurrent_constraint=C.MaxNorm(0.9),
                           bias_constraint=C.NonNeg()),
        m.layers.Dense(2, kernel_constraint=C.MinMaxNorm(0.3, 0.6, rate=0.7), bias_constraint="non_neg"),
    ])


@pytest.fixture(scope="module")
def keras_fit(keras):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(12, 6, 2)).astype(np.float32), rng.normal(size=(12, 2)).astype(np.float32)
    mine = _model(ours)
    mine.build((None, 6, 2))
    theirs = _model(keras)
    initial = mine.get_weights()
    theirs.set_weights(initial)
    theirs.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = theirs.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history["loss"]
    return x, y, initial, history, [np.asarray(w) for w in theirs.get_weights()]


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_fit_with_constraints_equals_keras(backend, keras_fit):
    if backend == "jax":
        pytest.importorskip("jax")
    x, y, initial, keras_history, keras_weights = keras_fit
    model = _model(ours)
    model.build((None, 6, 2))
    model.set_weights(initial)
    model.compile(optimizer=ours.optimizers.Adam(0.05), loss="mse", backend=backend)
    history = model.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(history, keras_history, rtol=1e-5)
    for mine, theirs in zip(model.get_weights(), keras_weights):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    kernel, recurrent, bias, dense_kernel, dense_bias = model.get_weights()
    np.testing.assert_allclose(np.linalg.norm(kernel, axis=1), 1.0, rtol=1e-5)
    assert (np.linalg.norm(recurrent, axis=0) <= 0.9 + 1e-6).all() and (bias >= 0).all() and (dense_bias >= 0).all()


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_function_constraint_on_both_backends(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=(8, 1)).astype(np.float32) * 5

    def clip_to_a_tenth(w):
        return w.clip(-0.1, 0.1)  # a method NumPy and JAX arrays share

    model = ours.Sequential([ours.Input((3,)), ours.layers.Dense(1, kernel_constraint=clip_to_a_tenth, seed=0)])
    model.compile(optimizer=ours.optimizers.SGD(0.5), loss="mse", backend=backend)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert np.abs(model.get_weights()[0]).max() == pytest.approx(0.1)
