"""lstm_forward / lstm_backward: the forward math against a naive implementation, and the
hand-written BPTT against float64 central finite differences (DESIGN.md §3, §5).

The scalar under test is ``L = sum(outputs * R) + sum(h_T * R_h) + sum(c_T * R_c)`` with random
``R``s, so that ``d_outputs = R``, ``d_state = (R_h, R_c)``; dropping a term gives the
"all steps", "last step only" and "cell state" cases.
"""

import numpy as np
import pytest

from scratchlstm._numpy import gradcheck, lstm_backward, lstm_forward, relative_error

B, I, H = 3, 2, 3
TOLERANCE = 1e-6
PARAM_NAMES = ("kernel", "recurrent_kernel", "bias")


def make_case(seed, batch=B, steps=4, features=I, units=H, use_bias=True, scale=0.5):
    """Random float64 params (non-zero bias), inputs and initial state."""
    rng = np.random.default_rng(seed)
    params = {
        "kernel": rng.normal(scale=scale, size=(features, 4 * units)),
        "recurrent_kernel": rng.normal(scale=scale, size=(units, 4 * units)),
    }
    if use_bias:
        params["bias"] = rng.normal(scale=scale, size=4 * units)
        assert np.all(params["bias"] != 0)
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=scale, size=(batch, units))
    c0 = rng.normal(scale=scale, size=(batch, units))
    return rng, params, x, h0, c0


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def naive_lstm(params, x, h0, c0):
    """Textbook per-step LSTM, Keras gate order [i, f, c, o], written independently of the library."""
    kernel, recurrent = params["kernel"], params["recurrent_kernel"]
    units = recurrent.shape[0]
    bias = params.get("bias", np.zeros(4 * units))
    h, c = h0.copy(), c0.copy()
    record = {k: [] for k in "ifgoch"}
    for t in range(x.shape[1]):
        z = x[:, t, :] @ kernel + h @ recurrent + bias
        i = sigmoid(z[:, 0 * units : 1 * units])
        f = sigmoid(z[:, 1 * units : 2 * units])
        g = np.tanh(z[:, 2 * units : 3 * units])
        o = sigmoid(z[:, 3 * units : 4 * units])
        c = f * c + i * g
        h = o * np.tanh(c)
        for name, value in zip("ifgoch", (i, f, g, o, c, h)):
            record[name].append(value)
    return {k: np.stack(v, axis=1) for k, v in record.items()}, h, c


# -- the forward math, independently ----------------------------------------------------------

@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("use_bias", [True, False])
def test_forward_equals_naive_implementation(steps, use_bias):
    _, params, x, h0, c0 = make_case(10 + steps, steps=steps, use_bias=use_bias, scale=1.0)
    expected, h_expected, c_expected = naive_lstm(params, x, h0, c0)
    outputs, (h, c), cache = lstm_forward(params, x, initial_state=(h0, c0))
    np.testing.assert_allclose(outputs, expected["h"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(h, h_expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, c_expected, rtol=0, atol=1e-12)
    for name in "ifgoc":
        np.testing.assert_allclose(getattr(cache, name), expected[name], rtol=0, atol=1e-12, err_msg=name)


def test_forward_default_state_is_zeros():
    _, params, x, h0, _ = make_case(3)
    zeros = np.zeros_like(h0)
    expected, h_expected, c_expected = naive_lstm(params, x, zeros, zeros)
    outputs, (h, c), _ = lstm_forward(params, x)
    np.testing.assert_allclose(outputs, expected["h"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, c_expected, rtol=0, atol=1e-12)
    assert np.abs(outputs).max() > 1e-2  # not trivially zero


def test_one_step_by_hand():
    # Zero weights: z = bias, so each gate is a known number.
    # c_1 = sigmoid(b_f) * c_0 + sigmoid(b_i) * tanh(b_c);  h_1 = sigmoid(b_o) * tanh(c_1)
    params = {
        "kernel": np.zeros((1, 4)),
        "recurrent_kernel": np.zeros((1, 4)),
        "bias": np.array([0.0, np.log(3.0), 1.0, -np.log(3.0)]),  # sigmoid -> 1/2, 3/4, ., 1/4
    }
    x = np.array([[[5.0]]])
    c0 = np.array([[2.0]])
    outputs, (h, c), _ = lstm_forward(params, x, initial_state=(np.array([[7.0]]), c0))
    c_expected = 0.75 * 2.0 + 0.5 * 0.7615941559557649  # tanh(1)
    h_expected = 0.25 * np.tanh(c_expected)
    assert c[0, 0] == pytest.approx(c_expected, rel=1e-14)
    assert h[0, 0] == pytest.approx(h_expected, rel=1e-14)
    assert outputs[0, 0, 0] == h[0, 0]


# -- BPTT against finite differences ----------------------------------------------------------

def loss_and_upstream(rng, steps, upstream):
    """The random weights R, R_h, R_c of the scalar; ``None`` where the term is absent."""
    r_out = rng.normal(size=(B, steps, H)) if upstream in ("all_steps", "everything") else None
    r_h = rng.normal(size=(B, H)) if upstream in ("last_step", "everything") else None
    r_c = rng.normal(size=(B, H)) if upstream in ("cell_state", "everything") else None
    return r_out, r_h, r_c


def scalar(params_keys, r_out, r_h, r_c):
    def f(d):
        params = {k: d[k] for k in params_keys}
        outputs, (h, c), _ = lstm_forward(params, d["x"], initial_state=(d["h0"], d["c0"]))
        total = 0.0
        if r_out is not None:
            total += np.sum(outputs * r_out)
        if r_h is not None:
            total += np.sum(h * r_h)
        if r_c is not None:
            total += np.sum(c * r_c)
        return total

    return f


def analytic_and_inputs(seed, steps, upstream, use_bias):
    rng, params, x, h0, c0 = make_case(seed, steps=steps, use_bias=use_bias)
    r_out, r_h, r_c = loss_and_upstream(rng, steps, upstream)
    _, _, cache = lstm_forward(params, x, initial_state=(h0, c0))
    d_state = None if (r_h is None and r_c is None) else (r_h, r_c)
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, r_out, d_state)
    inputs = dict(params, x=x, h0=h0, c0=c0)
    analytic = dict(grads, x=d_x, h0=d_h0, c0=d_c0)
    return scalar(tuple(params), r_out, r_h, r_c), inputs, analytic


@pytest.mark.parametrize("steps", [1, 4])
@pytest.mark.parametrize("upstream", ["all_steps", "last_step", "cell_state", "everything"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_bptt_matches_finite_differences(steps, upstream, use_bias):
    f, inputs, analytic = analytic_and_inputs(100 + steps, steps, upstream, use_bias)
    expected_names = {"kernel", "recurrent_kernel", "x", "h0", "c0"} | ({"bias"} if use_bias else set())
    assert set(analytic) == expected_names
    for name, grad in analytic.items():
        assert grad.shape == inputs[name].shape, name
        assert np.abs(grad).max() > 1e-3, name  # a real signal, not a vacuous match of zeros
    errors = gradcheck(f, inputs, analytic, tolerance=TOLERANCE)
    assert set(errors) == expected_names
    assert max(errors.values()) < TOLERANCE, errors


def test_last_step_via_d_state_equals_d_outputs_on_last_step():
    # d_state=(d_h, None) and d_outputs that is zero except on the last step are the same loss.
    rng, params, x, h0, c0 = make_case(7)
    d_h = rng.normal(size=(B, H))
    d_outputs = np.zeros((B, 4, H))
    d_outputs[:, -1] = d_h
    _, _, cache = lstm_forward(params, x, initial_state=(h0, c0))
    a = lstm_backward(params, cache, None, (d_h, None))
    b = lstm_backward(params, cache, d_outputs)
    for name in params:
        np.testing.assert_allclose(a[0][name], b[0][name], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(a[2][0], b[2][0], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(a[2][1], b[2][1], rtol=1e-13, atol=1e-15)


def test_default_initial_state_gradients_are_those_at_zero_state():
    rng, params, x, h0, _ = make_case(8)
    r_out = rng.normal(size=(B, 4, H))
    _, _, cache = lstm_forward(params, x)  # initial_state=None
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, r_out)
    zeros = np.zeros_like(h0)
    f = scalar(tuple(params), r_out, None, None)
    errors = gradcheck(
        f,
        dict(params, x=x, h0=zeros, c0=zeros.copy()),
        dict(grads, x=d_x, h0=d_h0, c0=d_c0),
        tolerance=TOLERANCE,
    )
    assert max(errors.values()) < TOLERANCE


# -- the check can fail: wrong gradients are caught -------------------------------------------

def _swap_i_f_blocks(grad):
    wrong = grad.copy()
    wrong[..., :H], wrong[..., H : 2 * H] = grad[..., H : 2 * H], grad[..., :H]
    return wrong


@pytest.mark.parametrize(
    "name, corrupt",
    [
        ("kernel", lambda g: 1.01 * g),
        ("recurrent_kernel", lambda g: 1.01 * g),
        ("bias", lambda g: 1.01 * g),
        ("kernel", _swap_i_f_blocks),
        ("bias", _swap_i_f_blocks),
        ("x", lambda g: g[:, ::-1]),  # time reversed
        ("h0", lambda g: g.T),  # transposed (B == H here)
        ("c0", lambda g: 1.01 * g),
    ],
)
def test_gradcheck_catches_a_wrong_gradient(name, corrupt):
    f, inputs, analytic = analytic_and_inputs(200, 4, "everything", True)
    correct = gradcheck(f, inputs, {name: analytic[name]}, tolerance=TOLERANCE)
    assert correct[name] < TOLERANCE
    wrong = {name: corrupt(analytic[name])}
    assert wrong[name].shape == analytic[name].shape
    with pytest.raises(AssertionError, match=name):
        gradcheck(f, inputs, wrong, tolerance=TOLERANCE)
    errors = gradcheck(f, inputs, wrong, tolerance=TOLERANCE, raise_on_failure=False)
    assert errors[name] > 1e-3  # far above the tolerance, not a borderline miss


def test_gradcheck_catches_truncated_bptt():
    # Gradients of the last step's output alone, checked against a loss on every step: the
    # contributions of the earlier outputs are missing, as in a truncated backward pass.
    rng, params, x, h0, c0 = make_case(9)
    r_out = rng.normal(size=(B, 4, H))
    _, _, cache = lstm_forward(params, x, initial_state=(h0, c0))
    last_only = np.zeros_like(r_out)
    last_only[:, -1] = r_out[:, -1]
    grads, d_x, _ = lstm_backward(params, cache, last_only)
    f = scalar(tuple(params), r_out, None, None)
    errors = gradcheck(f, dict(params, x=x, h0=h0, c0=c0), dict(grads, x=d_x), raise_on_failure=False)
    assert min(errors.values()) > 1e-3, errors


def test_relative_error_of_exact_gradient_is_near_round_off():
    f, inputs, analytic = analytic_and_inputs(300, 4, "everything", True)
    errors = gradcheck(f, inputs, analytic)
    # An exact gradient scores orders of magnitude below the tolerance (DESIGN.md §5).
    assert np.median(list(errors.values())) < 1e-7
    assert relative_error(analytic["kernel"], 1.01 * analytic["kernel"]) > 1e-3
