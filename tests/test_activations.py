"""Every Keras 3 activation: float64 finite-difference checks of the NumPy backward rules, parity of
the forward rules with live Keras, the JAX twins (x64) against the reference forward and backward,
and the public ``scratchlstm.activations`` module (names, get/serialize, use in Dense)."""

import doctest
import os

import numpy as np
import pytest

from scratchlstm import activations
from scratchlstm._numpy import activations as reference
from scratchlstm._numpy import dense_backward, dense_forward, get_activation, gradcheck

os.environ.setdefault("KERAS_BACKEND", "jax")

TOLERANCE = 1e-6
SHAPE = (2, 3, 4)

# (name, kwargs, kinks to keep away from)
CASES = [
    ("linear", {}, []),
    ("relu", {}, [0.0]),
    ("relu", {"negative_slope": 0.1}, [0.0]),
    ("relu", {"max_value": 2.0}, [0.0, 2.0]),
    ("relu", {"max_value": 6.0}, [0.0, 6.0]),
    ("relu", {"threshold": 0.5}, [0.5]),
    ("relu", {"threshold": -0.5, "max_value": 1.5}, [-0.5, 0.0, 1.5]),
    ("relu", {"negative_slope": 0.3, "max_value": 2.0, "threshold": -0.5}, [-0.5, 0.0, 2.0]),
    ("relu", {"negative_slope": 0.2, "threshold": 1.0}, [1.0]),
    ("relu6", {}, [0.0, 6.0]),
    ("leaky_relu", {}, [0.0]),
    ("leaky_relu", {"negative_slope": 0.05}, [0.0]),
    ("elu", {}, [0.0]),
    ("elu", {"alpha": 0.5}, [0.0]),
    ("selu", {}, [0.0]),
    ("celu", {}, [0.0]),
    ("celu", {"alpha": 2.0}, [0.0]),
    ("gelu", {}, []),
    ("gelu", {"approximate": True}, []),
    ("silu", {}, []),
    ("swish", {}, []),
    ("mish", {}, []),
    ("softplus", {}, []),
    ("log_sigmoid", {}, []),
    ("softsign", {}, [0.0]),
    ("squareplus", {}, []),
    ("squareplus", {"b": 1.0}, []),
    ("exponential", {}, []),
    ("tanh_shrink", {}, []),
    ("hard_sigmoid", {}, [-3.0, 3.0]),
    ("hard_silu", {}, [-3.0, 3.0]),
    ("hard_swish", {}, [-3.0, 3.0]),
    ("hard_tanh", {}, [-1.0, 1.0]),
    ("hard_shrink", {}, [-0.5, 0.5]),
    ("hard_shrink", {"threshold": 1.0}, [-1.0, 1.0]),
    ("soft_shrink", {}, [-0.5, 0.5]),
    ("soft_shrink", {"threshold": 1.0}, [-1.0, 1.0]),
    ("sparse_plus", {}, [-1.0, 1.0]),
    ("sparse_sigmoid", {}, [-1.0, 1.0]),
    ("sigmoid", {}, []),
    ("tanh", {}, []),
    ("softmax", {}, []),
    ("softmax", {"axis": 1}, []),
    ("log_softmax", {}, []),
    ("log_softmax", {"axis": 0}, []),
    ("sparsemax", {}, []),
    ("sparsemax", {"axis": 1}, []),
    ("glu", {}, []),
    ("glu", {"axis": 0}, []),
    ("threshold", {"threshold": 0.3, "default_value": -1.0}, [0.3]),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items())}".rstrip("-") for name, kwargs, _ in CASES]
KERAS_NAMES = sorted(reference.PAIRS)  # every Keras 3 activation, aliases included


def pair(name):
    return reference.PAIRS[name]


def make_input(name, kwargs, kinks, seed, margin=0.05):
    """float64 input of SHAPE, every entry at least ``margin`` from the kinks (and, for sparsemax,
    from the edge of the support), with entries on both sides of each kink."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        x = rng.normal(scale=2.5, size=SHAPE)
        if name == "sparsemax":
            x = rng.normal(scale=0.6, size=SHAPE)
            axis = kwargs.get("axis", -1)
            z = np.sort(x, axis=axis)
            y = reference.sparsemax(x, **kwargs)
            tau = np.max(np.where(y > 0, x - y, -np.inf), axis=axis, keepdims=True)
            if np.abs(x - tau).min() < margin or np.abs(np.diff(z, axis=axis)).min() < 1e-3:
                continue
        if all(np.abs(x - k).min() > margin and (x < k).any() and (x > k).any() for k in kinks):
            return rng, x
    raise AssertionError("no input found")


def scalar(name, kwargs, weights, x0):
    """``sum(w * (f(x) - f(x0)))``: the offset keeps the central differences' round-off at the size
    of the change, so tiny slopes (gelu at -6) are measured as well as large ones."""
    forward, _ = pair(name)
    y0 = forward(x0, **kwargs)
    return lambda d: float(np.sum((forward(d["x"], **kwargs) - y0) * weights))


# -- NumPy backward: float64 finite differences ------------------------------------------------

@pytest.mark.parametrize("name, kwargs, kinks", CASES, ids=IDS)
def test_backward_matches_finite_differences(name, kwargs, kinks):
    rng, x = make_input(name, kwargs, kinks, seed=CASES.index((name, kwargs, kinks)))
    forward, backward = pair(name)
    y = forward(x, **kwargs)
    assert y.dtype == np.float64
    weights = rng.normal(size=y.shape)
    d_x = backward(x, y, weights, **kwargs)
    assert d_x.shape == x.shape
    if name != "threshold":
        assert np.abs(d_x).max() > 1e-2  # a check of something, not of zeros
    errors = gradcheck(scalar(name, kwargs, weights, x), {"x": x}, {"x": d_x}, tolerance=TOLERANCE)
    assert errors["x"] < TOLERANCE
    for k in kinks:  # both sides of every kink are exercised
        assert (x < k).any() and (x > k).any(), k


@pytest.mark.parametrize("name", ["gelu", "elu", "mish", "hard_silu", "log_softmax", "sparsemax", "squareplus"])
def test_gradcheck_catches_a_wrong_backward(name):
    rng, x = make_input(name, {}, {"elu": [0.0], "hard_silu": [-3.0, 3.0]}.get(name, []), seed=7)
    forward, backward = pair(name)
    weights = rng.normal(size=x.shape)
    wrong = backward(x, forward(x), weights) * 1.01 + 1e-3
    errors = gradcheck(scalar(name, {}, weights, x), {"x": x}, {"x": wrong}, raise_on_failure=False)
    assert errors["x"] > 1e-4


def test_gelu_exact_and_approximate_differ_and_agree_by_hand():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    # Phi(x) from the error function: 0.5 * (1 + erf(x / sqrt 2))
    import math

    exact = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    approx = [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))) for v in x]
    np.testing.assert_allclose(reference.gelu(x), exact, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(reference.gelu(x, approximate=True), approx, rtol=1e-14)
    assert np.abs(reference.gelu(x) - reference.gelu(x, approximate=True)).max() > 1e-4


def test_values_by_hand():
    x = np.array([-4.0, -1.0, 0.0, 2.0, 7.0])
    np.testing.assert_array_equal(reference.relu6(x), [0, 0, 0, 2, 6])
    np.testing.assert_array_equal(reference.leaky_relu(x), [-0.8, -0.2, 0, 2, 7])
    np.testing.assert_array_equal(reference.hard_sigmoid(x), [0, 2 / 6, 0.5, 5 / 6, 1])
    np.testing.assert_array_equal(reference.hard_silu(x), [0, -2 / 6, 0, 10 / 6, 7])
    np.testing.assert_array_equal(reference.hard_tanh(x), [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(reference.sparse_plus(x), [0, 0, 0.25, 2, 7])
    np.testing.assert_array_equal(reference.soft_shrink(x), [-3.5, -0.5, 0, 1.5, 6.5])
    np.testing.assert_allclose(reference.selu(np.array([1.0])), [1.0507009873554805], rtol=1e-15)
    # Keras' documented relu examples
    v = np.array([-10, -5, 0.0, 5, 10])
    np.testing.assert_array_equal(activations.relu(v, negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(activations.relu(v, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(activations.relu(v, threshold=5.0), [0, 0, 0, 0, 10])
    # sparsemax projects onto the simplex: sums to 1, zeros below tau
    y = reference.sparsemax(np.array([[1.0, 0.8, -1.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(y, [[0.6, 0.4, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-14)


def test_stable_at_extreme_inputs():
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for name in ["sigmoid", "softplus", "log_sigmoid", "silu", "mish", "gelu", "elu", "selu", "celu", "softsign"]:
            forward, backward = pair(name)
            y = forward(x)
            d_x = backward(x, y, np.ones_like(x))
            assert np.isfinite(y).all() and np.isfinite(d_x).all(), name
        np.testing.assert_allclose(reference.softplus(x), [0, np.log1p(np.exp(-50)), np.log(2), 50 + np.log1p(np.exp(-50)), 1e4])
        np.testing.assert_array_equal(reference.log_softmax(np.array([1e4, -1e4])), [0.0, -2e4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    x = np.linspace(-4, 4, 24).reshape(2, 3, 4).astype(dtype)
    for name in KERAS_NAMES:
        kwargs = {"threshold": 0.1, "default_value": 0.0} if name == "threshold" else {}
        forward, backward = pair(name)
        y = forward(x, **kwargs)
        assert y.dtype == dtype, name
        assert backward(x, y, np.ones_like(y), **kwargs).dtype == dtype, name


# -- against live Keras -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name, kwargs, kinks", CASES, ids=IDS)
def test_forward_matches_keras(keras, name, kwargs, kinks):
    _, x = make_input(name, kwargs, kinks, seed=100 + CASES.index((name, kwargs, kinks)))
    x = x.astype(np.float32)
    expected = np.asarray(getattr(keras.activations, name)(x, **kwargs))
    if name == "sparsemax":  # Keras 3.15's tau is wrong when the support has 2+ entries (keras#23425)
        axis = kwargs.get("axis", -1)  # a support of one entry, where Keras' tau is right
        x = (x + 3 * (x == x.max(axis=axis, keepdims=True))).astype(np.float32)
        expected = np.asarray(getattr(keras.activations, name)(x, **kwargs))
        np.testing.assert_array_equal(expected, x == x.max(axis=axis, keepdims=True))
    ours = getattr(activations, name)(x, **kwargs)
    assert ours.dtype == np.float32 and ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=2e-6, atol=2e-6)
    # and the float64 reference agrees with Keras' float32 to float32 precision
    np.testing.assert_allclose(pair(name)[0](x.astype(np.float64), **kwargs), expected, rtol=1e-5, atol=1e-6)


def test_names_get_and_serialize_match_keras(keras):
    public = {n for n in dir(keras.activations) if not n.startswith("_")}
    assert public == set(activations.__all__)
    for name in public - {"get", "serialize", "deserialize"}:
        ours, theirs = activations.get(name), keras.activations.get(name)
        assert ours is getattr(activations, name)
        assert activations.serialize(ours) == keras.activations.serialize(theirs) == ours.__name__
        assert activations.deserialize(keras.activations.serialize(theirs)) is ours
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu and activations.get("hard_swish") is activations.hard_silu
    config = {"module": "keras.activations", "class_name": "function", "config": "gelu", "registered_name": "gelu"}
    assert activations.get(config) is activations.gelu
    assert keras.activations.get(config).__name__ == "gelu"


def test_get_and_serialize_errors():
    with pytest.raises(ValueError, match=r"activation must be one of \[.*'gelu'.*\], got 'gelu2'"):
        activations.get("gelu2")
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)
    with pytest.raises(ValueError, match="cannot be serialized"):
        activations.serialize(lambda x: x)
    my = lambda x: x  # noqa: E731 - a callable is returned as is, as Keras does
    assert activations.get(my) is my


def test_public_functions_convert_inputs_like_keras():
    assert activations.relu([-1, 2]).dtype == np.float32  # lists, ints: Keras' float32
    assert activations.relu(np.array([-1, 2])).dtype == np.float32
    assert activations.relu(np.array([-1.0, 2.0])).dtype == np.float64  # a float array keeps its dtype
    assert str(activations.gelu) == "gelu" and activations.gelu.__name__ == "gelu"
    assert activations.gelu.backward is reference.gelu_backward
    assert "approximate" in str(__import__("inspect").signature(activations.gelu))


def test_module_doctests():
    result = doctest.testmod(activations)
    assert result.attempted >= 4 and result.failed == 0


# -- the layer contract: get_activation, Dense ---------------------------------------------------

LAYER_NAMES = sorted(reference.ACTIVATIONS)


def test_every_keras_activation_but_glu_and_threshold_is_a_layer_activation():
    assert set(LAYER_NAMES) == set(KERAS_NAMES) - {"glu", "threshold"}
    for name in ["glu", "threshold"]:
        with pytest.raises(ValueError, match=f"activation '{name}' cannot be a layer's activation"):
            get_activation(name)
        with pytest.raises(ValueError, match="cannot be a layer's activation"):
            get_activation(getattr(activations, name))


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_get_activation_accepts_names_and_public_functions(name):
    function = getattr(activations, name)
    assert get_activation(function) is get_activation(name) is get_activation(name.upper())
    assert get_activation(pair(name)[0]) is get_activation(name)


def test_get_activation_refuses_other_callables():
    with pytest.raises(ValueError, match="activation must be one of"):
        get_activation(lambda x: x)
    with pytest.raises(ValueError, match="activation must be one of"):
        get_activation(np.tanh)


@pytest.mark.parametrize("name", ["gelu", "swish", "hard_silu", "log_softmax", "sparsemax", "selu"])
def test_dense_gradients_with_new_activations(name):
    rng = np.random.default_rng(LAYER_NAMES.index(name) if name in LAYER_NAMES else 0)
    params = {"kernel": rng.normal(size=(3, 4)), "bias": rng.normal(size=4) * 0.1}
    x = rng.normal(size=(2, 5, 3)) * 0.5
    y, cache = dense_forward(params, x, name)
    weights = rng.normal(size=y.shape)
    grads, d_x = dense_backward(params, cache, weights)

    def f(d):
        return float(np.sum(dense_forward({"kernel": d["kernel"], "bias": d["bias"]}, d["x"], name)[0] * weights))

    errors = gradcheck(f, dict(params, x=x), dict(grads, x=d_x), tolerance=TOLERANCE)
    assert max(errors.values()) < TOLERANCE


@pytest.mark.parametrize("activation", ["gelu", "mish", "hard_swish", "elu"])
def test_dense_layer_takes_names_and_functions_and_stores_the_name(activation):
    from scratchlstm.layers import Dense

    x = np.random.default_rng(0).normal(size=(4, 3))
    by_name = Dense(2, activation=activation, seed=1)
    by_function = Dense(2, activation=getattr(activations, activation), seed=1)
    assert by_name.get_config()["activation"] == activation
    assert by_function.get_config()["activation"] == activations.serialize(getattr(activations, activation))
    y_name, y_function = by_name(x), by_function(x)
    np.testing.assert_array_equal(y_name, y_function)
    kernel, bias = by_name.get_weights()
    np.testing.assert_allclose(y_name, pair(activation)[0](x.astype(kernel.dtype) @ kernel + bias), rtol=1e-6)
    assert Dense.from_config(by_name.get_config()).get_config()["activation"] == activation


# -- JAX twins (float64) -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jax64():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        yield jax


def _jax_value_and_grad(jax, name, kwargs, x, weights):
    from scratchlstm.jax_backend import _activations as jax_activations

    function = jax_activations.FUNCTIONS[name]

    @jax.jit  # one compilation per case: faster here than op-by-op dispatch
    def value_and_grad(x, weights):
        return function(x, **kwargs), jax.grad(lambda v: (function(v, **kwargs) * weights).sum())(x)

    y, grad = value_and_grad(x, weights)
    return np.asarray(y), np.asarray(grad)


@pytest.mark.parametrize("name, kwargs, kinks", CASES, ids=IDS)
def test_jax_equals_reference_forward_and_grad(jax64, name, kwargs, kinks):
    rng, x = make_input(name, kwargs, kinks, seed=200 + CASES.index((name, kwargs, kinks)))
    forward, backward = pair(name)
    y = forward(x, **kwargs)
    weights = rng.normal(size=y.shape)
    jax_y, jax_grad = _jax_value_and_grad(jax64, name, kwargs, x, weights)
    assert jax_y.dtype == np.float64
    np.testing.assert_allclose(jax_y, y, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jax_grad, backward(x, y, weights, **kwargs), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in LAYER_NAMES if n not in ("softmax", "log_softmax", "sparsemax")])
def test_jax_grad_equals_reference_at_the_kinks(jax64, name):
    # The points where a one-sided slope must be chosen: both backends choose the same one.
    x = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])
    forward, backward = pair(name)
    y = forward(x)
    _, jax_grad = _jax_value_and_grad(jax64, name, {}, x, np.ones_like(x))
    np.testing.assert_allclose(jax_grad, backward(x, y, np.ones_like(x)), rtol=1e-12, atol=1e-15, err_msg=name)


def test_jax_get_activation_names_and_errors():
    pytest.importorskip("jax")
    from scratchlstm.jax_backend import _activations as jax_activations

    assert set(jax_activations.ACTIVATIONS) == set(reference.ACTIVATIONS)
    assert jax_activations.get_activation(activations.swish) is jax_activations.get_activation("SiLU")
    assert jax_activations.get_activation(None) is jax_activations.linear
    with pytest.raises(ValueError, match="activation must be one of"):
        jax_activations.get_activation("gelu2")
    with pytest.raises(ValueError, match="cannot be a layer's activation"):
        jax_activations.get_activation("glu")


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_jax_dense_forward_equals_reference(jax64, name):
    from scratchlstm import jax_backend as jb

    rng = np.random.default_rng(3)
    params = {"kernel": rng.normal(size=(3, 4)), "bias": rng.normal(size=4)}
    x = rng.normal(size=(2, 5, 3))
    np.testing.assert_allclose(np.asarray(jb.dense_forward(params, x, name)), dense_forward(params, x, name)[0], rtol=1e-12, atol=1e-14)
