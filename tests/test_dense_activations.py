"""dense_forward / dense_backward and the activations: values, gradients, stability, errors."""

import numpy as np
import pytest

from scratchlstm._numpy import dense_backward, dense_forward, get_activation, gradcheck

ACTIVATIONS = [None, "linear", "relu", "tanh", "sigmoid", "softmax"]
TOLERANCE = 1e-6
F, U = 3, 4


def make_case(seed, leading, use_bias=True, margin=0.05):
    """Float64 params and input whose pre-activations stay ``margin`` away from relu's kink at 0."""
    rng = np.random.default_rng(seed)
    while True:
        params = {"kernel": rng.normal(size=(F, U))}
        if use_bias:
            params["bias"] = rng.normal(size=U)
        x = rng.normal(size=(*leading, F))
        z = x @ params["kernel"] + params.get("bias", 0.0)
        if np.abs(z).min() > margin:
            return rng, params, x, z


def scalar(keys, weights, activation):
    def f(d):
        y, _ = dense_forward({k: d[k] for k in keys}, d["x"], activation)
        return np.sum(y * weights)

    return f


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("leading", [(5,), (2, 3)], ids=["2d", "3d"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients_match_finite_differences(activation, leading, use_bias):
    rng, params, x, z = make_case(10 * ACTIVATIONS.index(activation) + 2 * len(leading) + use_bias, leading, use_bias)
    if activation == "relu":
        assert (z > 0).any() and (z < 0).any()  # both sides of the kink are exercised
    weights = rng.normal(size=(*leading, U))
    y, cache = dense_forward(params, x, activation)
    assert y.shape == (*leading, U)
    grads, d_x = dense_backward(params, cache, weights)
    assert set(grads) == set(params)
    analytic = dict(grads, x=d_x)
    errors = gradcheck(scalar(tuple(params), weights, activation), dict(params, x=x), analytic, tolerance=TOLERANCE)
    assert set(errors) == set(analytic)
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid", "softmax"])
def test_dense_gradcheck_catches_a_wrong_activation_derivative(activation):
    # Use another activation's backward rule with this forward: the check must notice.
    rng, params, x, _ = make_case(1, (4,))
    weights = rng.normal(size=(4, U))
    _, cache = dense_forward(params, x, activation)
    other = {"linear": "tanh", "relu": "linear", "tanh": "sigmoid", "sigmoid": "tanh", "softmax": "sigmoid"}[activation]
    wrong_backward = get_activation(other)[1]
    d_pre = wrong_backward(cache.preactivation, cache.outputs, weights)
    wrong_d_x = d_pre @ params["kernel"].T
    errors = gradcheck(
        scalar(tuple(params), weights, activation), dict(params, x=x), {"x": wrong_d_x}, raise_on_failure=False
    )
    assert errors["x"] > 1e-3


def test_dense_values_by_hand():
    params = {"kernel": np.array([[1.0, -1.0], [2.0, 0.5]]), "bias": np.array([0.5, -1.0])}
    x = np.array([[1.0, 1.0], [-1.0, 2.0]])
    # x @ kernel + bias = [[3.5, -1.5], [3.5, 1.0]]; softmax of a pair (a, b) is (sigmoid(a - b), sigmoid(b - a))
    expected = {
        None: [[3.5, -1.5], [3.5, 1.0]],
        "linear": [[3.5, -1.5], [3.5, 1.0]],
        "relu": [[3.5, 0.0], [3.5, 1.0]],
        "tanh": [[0.9981778976, -0.9051482536], [0.9981778976, 0.7615941560]],
        "sigmoid": [[0.9706877692, 0.1824255238], [0.9706877692, 0.7310585786]],
        "softmax": [[0.9933071490757153, 0.006692850924284856], [0.9241418199787566, 0.07585818002124355]],
    }
    for activation, values in expected.items():
        y, _ = dense_forward(params, x, activation)
        np.testing.assert_allclose(y, values, rtol=1e-9, err_msg=str(activation))


def test_dense_acts_on_last_axis_like_a_2d_dense():
    _, params, x, _ = make_case(2, (2, 3))
    y3, _ = dense_forward(params, x, "tanh")
    y2, _ = dense_forward(params, x.reshape(6, F), "tanh")
    np.testing.assert_array_equal(y3.reshape(6, U), y2)
    # softmax normalises over the units of each position
    y, _ = dense_forward(params, x, "softmax")
    np.testing.assert_allclose(y.sum(axis=-1), np.ones((2, 3)), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_dtype_is_preserved(dtype):
    rng, params, x, _ = make_case(3, (2, 3))
    params = {k: v.astype(dtype) for k, v in params.items()}
    y, cache = dense_forward(params, x.astype(dtype), "sigmoid")
    grads, d_x = dense_backward(params, cache, rng.normal(size=y.shape).astype(dtype))
    assert y.dtype == dtype and d_x.dtype == dtype
    assert all(g.dtype == dtype for g in grads.values())


def test_dense_bad_input_raises():
    _, params, x, _ = make_case(4, (5,))
    with pytest.raises(ValueError, match=r"3 features.*\(5, 2\)"):
        dense_forward(params, x[:, :2])
    with pytest.raises(ValueError, match="kernel"):
        dense_forward({"kernel": np.zeros(3)}, x)


# -- activations -------------------------------------------------------------------------------

def test_activation_values_by_hand():
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(get_activation("relu")[0](z), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(get_activation(None)[0](z), z)
    np.testing.assert_allclose(get_activation("sigmoid")[0](z), [0.11920292202211755, 0.5, 0.9525741268224334], rtol=1e-14)
    np.testing.assert_allclose(get_activation("tanh")[0](z), [-0.9640275800758169, 0.0, 0.9950547536867305], rtol=1e-14)
    np.testing.assert_allclose(
        get_activation("softmax")[0](np.array([1.0, 2.0, 3.0])),
        [0.09003057317038046, 0.24472847105479767, 0.6652409557748219],
        rtol=1e-14,
    )


def test_activation_derivatives_by_hand():
    z = np.array([-2.0, -0.005, 0.0, 0.005, 3.0])
    d_y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])

    def backward(name):
        forward, rule = get_activation(name)
        return rule(z, forward(z), d_y)

    np.testing.assert_array_equal(backward("relu"), [0.0, 0.0, 0.0, 4.0, 5.0])  # 0 at the kink, as Keras
    np.testing.assert_array_equal(backward("linear"), d_y)
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(backward("sigmoid"), d_y * s * (1 - s), rtol=1e-14)
    np.testing.assert_allclose(backward("tanh"), d_y / np.cosh(z) ** 2, rtol=1e-13)
    # softmax: d_x = J^T d_y with J = diag(y) - y y^T
    y = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(backward("softmax"), (np.diag(y) - np.outer(y, y)) @ d_y, rtol=1e-13, atol=1e-16)


def test_activations_are_stable_at_extreme_inputs():
    z = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        sigmoid = get_activation("sigmoid")[0](z)
        softmax = get_activation("softmax")[0](z)
    np.testing.assert_array_equal(sigmoid, [[0.0, 0.5, 1.0], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(softmax, [[0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])


def test_activation_names_are_case_insensitive():
    assert get_activation("ReLU") is get_activation("relu")
    assert get_activation(None) is get_activation("linear")


@pytest.mark.parametrize("name", ["swish2", "", 3, "soft max", "relu_6"])
def test_unknown_activation_names_the_known_ones(name):
    with pytest.raises(ValueError) as info:
        get_activation(name)
    message = str(info.value)
    for known in ("linear", "relu", "tanh", "sigmoid", "softmax", "gelu", "swish", "hard_silu", "log_softmax"):
        assert known in message
    assert repr(name) in message
    with pytest.raises(ValueError):
        dense_forward({"kernel": np.ones((2, 2))}, np.ones((1, 2)), name)
