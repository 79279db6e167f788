"""SimpleRNN kernels: `simple_rnn_forward` / `simple_rnn_backward` / `simple_rnn_step` (NumPy) and
their JAX twins, against an independent loop, float64 finite differences, Keras 3's
``SimpleRNN`` and PyTorch's ``nn.RNN`` (DESIGN.md §3, §5).

The scalar under test is ``L = sum(outputs * R) + sum(h_T * R_h)`` with random ``R``s, so that
``d_outputs = R`` and ``d_state = (R_h,)``; dropping a term gives the "all steps" and "last step
only" cases.
"""

import numpy as np
import pytest

from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._numpy.rnn.simple_rnn import (
    SimpleRNNCache,
    simple_rnn_backward,
    simple_rnn_forward,
    simple_rnn_step,
)

# Entrywise relative error: a wrong rule gives O(1); float64 differences of small entries reach
# ~1e-6 on some CPUs (softmax, last step only, measured 1.2e-6 on CI), so 1e-5.
TOLERANCE = 1e-5
PARAM_NAMES = ("kernel", "recurrent_kernel", "bias")
# tanh is the fast path; the others keep the pre-activations (softmax acts along the units axis).
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "softmax")

# Rows: leading masked steps, trailing (right padding), interior, every step masked.
MIXED = np.array(
    [
        [0, 0, 1, 1, 1],
        [1, 1, 1, 0, 0],
        [1, 0, 0, 1, 1],
        [0, 0, 0, 0, 0],
    ],
    bool,
)


def make_case(seed, batch=3, steps=4, features=2, units=3, use_bias=True, scale=0.5):
    """Random float64 params (non-zero bias), inputs and initial state."""
    rng = np.random.default_rng(seed)
    params = {
        "kernel": rng.normal(scale=scale, size=(features, units)),
        "recurrent_kernel": rng.normal(scale=scale, size=(units, units)),
    }
    if use_bias:
        params["bias"] = rng.normal(scale=scale, size=units)
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=scale, size=(batch, units))
    return rng, params, x, h0


def dropout_mask(rng, batch, units, rate=0.4):
    """Inverted-dropout multipliers with at least one dropped and one kept unit."""
    keep = rng.random((batch, units)) >= rate
    keep.flat[0], keep.flat[1] = False, True
    return keep / (1 - rate)


def _naive_activation(name, z):
    """The activations written out here, independently of the library."""
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "linear":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise AssertionError(name)


def naive_simple_rnn(params, x, h0, activation="tanh", mask=None, dropout=None, zero_output=False):
    """Textbook per-step, per-row SimpleRNN with Keras' mask semantics."""
    kernel, recurrent = params["kernel"], params["recurrent_kernel"]
    bias = params.get("bias", np.zeros(recurrent.shape[0]))
    m = np.ones_like(h0) if dropout is None else dropout
    h = h0.copy()
    outputs = []
    for t in range(x.shape[1]):
        new = _naive_activation(activation, x[:, t] @ kernel + (h * m) @ recurrent + bias)
        if mask is None:
            h = new
            outputs.append(h)
        else:
            keep = mask[:, t][:, None]
            h = np.where(keep, new, h)
            outputs.append(np.where(keep, h, 0.0) if zero_output else h)
    return np.stack(outputs, axis=1), h


def run_backward_and_numeric(params, x, h0, r_out, r_h, **options):
    """Analytic gradients from the backward pass and the values they are taken at, plus the
    objective for finite differences."""

    def objective(values):
        p = {k: values[k] for k in params}
        outputs, (h,), _ = simple_rnn_forward(p, values["x"], (values["h0"],), **options)
        total = np.sum(h * r_h) if r_h is not None else 0.0
        if r_out is not None:
            total += np.sum(outputs * r_out)
        return total

    _, _, cache = simple_rnn_forward(params, x, (h0,), **options)
    grads, d_x, (d_h0,) = simple_rnn_backward(params, cache, r_out, None if r_h is None else (r_h,))
    analytic = {**grads, "x": d_x, "h0": d_h0}
    values = {**params, "x": x, "h0": h0}
    return objective, values, analytic


def assert_matches_finite_differences(objective, values, analytic):
    assert set(analytic) == set(values)
    for name in values:
        assert analytic[name].shape == values[name].shape, name
        numeric = numerical_gradient(objective, values, name)
        error = relative_error(analytic[name], numeric)
        assert error < TOLERANCE, (name, error)


# --- the forward math, independently ------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("use_bias", [True, False])
def test_forward_equals_naive_loop(activation, steps, use_bias):
    _, params, x, h0 = make_case(10 + steps, steps=steps, use_bias=use_bias, scale=1.0)
    expected, h_expected = naive_simple_rnn(params, x, h0, activation)
    outputs, (h,), cache = simple_rnn_forward(params, x, (h0,), activation=activation)
    np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h, h_expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(outputs[:, -1], h)
    assert np.abs(outputs).max() > 1e-2
    assert (cache.preactivations is None) == (activation == "tanh")  # tanh keeps no pre-activations
    assert ("bias" in params) == cache.has_bias


def test_one_step_by_hand():
    # h_1 = tanh(x k + h_0 u + b) with scalars: tanh(2 * 0.5 + 3 * (-1) + 0.25)
    params = {"kernel": np.array([[0.5]]), "recurrent_kernel": np.array([[-1.0]]), "bias": np.array([0.25])}
    outputs, (h,), _ = simple_rnn_forward(params, np.array([[[2.0]]]), (np.array([[3.0]]),))
    assert h[0, 0] == pytest.approx(np.tanh(-1.75), rel=1e-15)
    relu_out, _, _ = simple_rnn_forward(params, np.array([[[2.0]]]), (np.array([[3.0]]),), activation="relu")
    assert relu_out[0, 0, 0] == 0.0
    linear_out, _, _ = simple_rnn_forward(params, np.array([[[2.0]]]), (np.array([[3.0]]),), activation=None)
    assert linear_out[0, 0, 0] == -1.75


def test_default_initial_state_is_zeros_and_bare_h0_is_accepted():
    _, params, x, h0 = make_case(3)
    expected, _ = naive_simple_rnn(params, x, np.zeros_like(h0))
    np.testing.assert_allclose(simple_rnn_forward(params, x)[0], expected, atol=1e-12)
    np.testing.assert_array_equal(simple_rnn_forward(params, x, h0)[0], simple_rnn_forward(params, x, [h0])[0])


# --- BPTT against finite differences ------------------------------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("steps", [1, 4])
@pytest.mark.parametrize("upstream", ["all_steps", "last_step"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_bptt_matches_finite_differences(activation, steps, upstream, use_bias):
    rng, params, x, h0 = make_case(100 + steps, steps=steps, use_bias=use_bias)
    r_out = rng.normal(size=(3, steps, 3)) if upstream == "all_steps" else None
    r_h = rng.normal(size=(3, 3))
    objective, values, analytic = run_backward_and_numeric(params, x, h0, r_out, r_h, activation=activation)
    assert set(analytic) == {"kernel", "recurrent_kernel", "x", "h0"} | ({"bias"} if use_bias else set())
    for name, grad in analytic.items():
        assert np.abs(grad).max() > 1e-3, name  # a real signal, not a vacuous match of zeros
    assert_matches_finite_differences(objective, values, analytic)


def test_last_step_via_d_state_equals_d_outputs_on_last_step():
    rng, params, x, h0 = make_case(7)
    d_h = rng.normal(size=(3, 3))
    d_outputs = np.zeros((3, 4, 3))
    d_outputs[:, -1] = d_h
    _, _, cache = simple_rnn_forward(params, x, (h0,))
    a = simple_rnn_backward(params, cache, None, (d_h,))
    b = simple_rnn_backward(params, cache, d_outputs, (None,))
    for name in params:
        np.testing.assert_allclose(a[0][name], b[0][name], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(a[2][0], b[2][0], rtol=1e-13, atol=1e-15)


def test_backward_leaves_the_cache_unchanged_and_can_run_twice():
    rng, params, x, h0 = make_case(8)
    r_out = rng.normal(size=(3, 4, 3))
    for activation in ("tanh", "relu"):
        _, _, cache = simple_rnn_forward(params, x, (h0,), activation=activation, mask=MIXED[:3, :4])
        saved = {k: np.array(getattr(cache, k)) for k in ("projection_inputs", "hiddens")}
        first = simple_rnn_backward(params, cache, r_out)
        second = simple_rnn_backward(params, cache, r_out)
        for k, v in saved.items():
            np.testing.assert_array_equal(getattr(cache, k), v)
        for name in params:
            np.testing.assert_array_equal(first[0][name], second[0][name])
        np.testing.assert_array_equal(first[1], second[1])


def test_input_gradient_false_skips_d_x_only():
    rng, params, x, h0 = make_case(9)
    _, _, cache = simple_rnn_forward(params, x, (h0,))
    r_out = rng.normal(size=(3, 4, 3))
    full = simple_rnn_backward(params, cache, r_out)
    lean = simple_rnn_backward(params, cache, r_out, input_gradient=False)
    assert lean[1] is None and full[1] is not None
    np.testing.assert_array_equal(lean[0]["kernel"], full[0]["kernel"])
    np.testing.assert_array_equal(lean[2][0], full[2][0])


def test_the_check_catches_truncated_bptt():
    """Gradients of the last step's output alone checked against a loss on every step fail."""
    rng, params, x, h0 = make_case(11)
    r_out = rng.normal(size=(3, 4, 3))
    last_only = np.zeros_like(r_out)
    last_only[:, -1] = r_out[:, -1]
    _, _, cache = simple_rnn_forward(params, x, (h0,))
    grads, _, _ = simple_rnn_backward(params, cache, last_only)
    objective, values, _ = run_backward_and_numeric(params, x, h0, r_out, None)
    assert relative_error(grads["recurrent_kernel"], numerical_gradient(objective, values, "recurrent_kernel")) > 1e-2


# --- masks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("loss", ["all_steps", "last_step_only"])
def test_masked_backward_matches_finite_differences(activation, zero_output, loss):
    rng, params, x, h0 = make_case(20, batch=4, steps=5)
    r_out = rng.normal(size=(4, 5, 3)) if loss == "all_steps" else None
    r_h = rng.normal(size=(4, 3))
    options = dict(mask=MIXED, zero_output_for_mask=zero_output, activation=activation)
    objective, values, analytic = run_backward_and_numeric(params, x, h0, r_out, r_h, **options)
    assert_matches_finite_differences(objective, values, analytic)
    # a masked step is the identity: its input gets no gradient ...
    np.testing.assert_array_equal(analytic["x"][~MIXED], 0.0)
    live = np.abs(analytic["x"][MIXED])
    assert (live.min() if activation == "tanh" else live.max()) > 0  # relu may leave units dead
    # ... and the fully masked row passes its gradients straight to the initial state.
    expected = r_h[3] + (0 if r_out is None or zero_output else r_out[3].sum(axis=0))
    np.testing.assert_allclose(analytic["h0"][3], expected, rtol=1e-12)


def test_masked_forward_equals_naive_and_zero_output_zeroes_only_masked_steps():
    _, params, x, h0 = make_case(21, batch=4, steps=5)
    for activation in ("tanh", "relu", "softmax"):
        outputs, (h,), _ = simple_rnn_forward(params, x, (h0,), mask=MIXED, activation=activation)
        expected, h_expected = naive_simple_rnn(params, x, h0, activation, mask=MIXED)
        np.testing.assert_allclose(outputs, expected, atol=1e-12)
        np.testing.assert_allclose(h, h_expected, atol=1e-12)
        # leading masked steps output h0; the fully masked row outputs h0 throughout
        np.testing.assert_array_equal(outputs[0, :2], np.stack([h0[0]] * 2))
        np.testing.assert_array_equal(outputs[3], np.broadcast_to(h0[3], (5, 3)))
        zeroed, (h_zeroed,), _ = simple_rnn_forward(
            params, x, (h0,), mask=MIXED, activation=activation, zero_output_for_mask=True
        )
        np.testing.assert_array_equal(zeroed[~MIXED], 0.0)
        np.testing.assert_array_equal(zeroed[MIXED], outputs[MIXED])
        np.testing.assert_array_equal(h_zeroed, h)


def test_all_true_mask_gives_the_unmasked_results_bit_for_bit():
    rng, params, x, h0 = make_case(22)
    d_out = rng.normal(size=(3, 4, 3))
    plain = simple_rnn_forward(params, x, (h0,))
    masked = simple_rnn_forward(params, x, (h0,), mask=np.ones((3, 4), np.int32))  # numbers count as bools
    np.testing.assert_array_equal(masked[0], plain[0])
    a, b = simple_rnn_backward(params, plain[2], d_out), simple_rnn_backward(params, masked[2], d_out)
    for name in params:
        np.testing.assert_array_equal(a[0][name], b[0][name])
    np.testing.assert_array_equal(a[1], b[1])


def test_long_masked_sequence():
    mask = np.random.default_rng(23).random((2, 30)) < 0.6
    rng, params, x, h0 = make_case(23, batch=2, steps=30, features=1, units=2)
    r_out = rng.normal(size=(2, 30, 2))
    objective, values, analytic = run_backward_and_numeric(params, x, h0, r_out, None, mask=mask)
    assert_matches_finite_differences(objective, values, analytic)


# --- recurrent dropout -------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("with_mask", [False, True])
def test_recurrent_dropout_backward_matches_finite_differences(activation, with_mask):
    rng, params, x, h0 = make_case(30, batch=4, steps=5)
    dropout = dropout_mask(rng, 4, 3)
    r_out, r_h = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 3))
    options = dict(recurrent_dropout_mask=dropout, activation=activation, mask=MIXED if with_mask else None)
    objective, values, analytic = run_backward_and_numeric(params, x, h0, r_out, r_h, **options)
    assert_matches_finite_differences(objective, values, analytic)
    expected, _ = naive_simple_rnn(params, x, h0, activation, mask=options["mask"], dropout=dropout)
    np.testing.assert_allclose(simple_rnn_forward(params, x, (h0,), **options)[0], expected, atol=1e-12)


def test_recurrent_dropout_matters_and_a_backward_that_ignores_it_fails():
    rng, params, x, h0 = make_case(31)
    dropout = dropout_mask(rng, 3, 3)
    r_out = rng.normal(size=(3, 4, 3))
    plain, _, plain_cache = simple_rnn_forward(params, x, (h0,))
    dropped, _, _ = simple_rnn_forward(params, x, (h0,), recurrent_dropout_mask=dropout)
    assert np.abs(plain - dropped).max() > 1e-2
    assert np.abs(plain[:, 0] - dropped[:, 0]).max() > 1e-3  # from the first step on
    wrong = simple_rnn_backward(params, plain_cache, r_out)[0]["recurrent_kernel"]
    objective, values, _ = run_backward_and_numeric(params, x, h0, r_out, None, recurrent_dropout_mask=dropout)
    assert relative_error(wrong, numerical_gradient(objective, values, "recurrent_kernel")) > 1e-2


def test_all_ones_dropout_mask_changes_nothing():
    rng, params, x, h0 = make_case(32)
    r_out = rng.normal(size=(3, 4, 3))
    plain = simple_rnn_forward(params, x, (h0,))
    ones = simple_rnn_forward(params, x, (h0,), recurrent_dropout_mask=np.ones((3, 3)))
    np.testing.assert_array_equal(ones[0], plain[0])
    a, b = simple_rnn_backward(params, plain[2], r_out), simple_rnn_backward(params, ones[2], r_out)
    for name in params:
        np.testing.assert_array_equal(a[0][name], b[0][name])


# --- structure ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_split_sequence_with_carried_state_equals_whole(activation):
    _, params, x, h0 = make_case(40, steps=7)
    whole, (h,), _ = simple_rnn_forward(params, x, (h0,), activation=activation)
    first, carried, _ = simple_rnn_forward(params, x[:, :3], (h0,), activation=activation)
    second, (h2,), _ = simple_rnn_forward(params, x[:, 3:], carried, activation=activation)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h2, h, rtol=0, atol=1e-14)


def test_batch_rows_are_independent():
    _, params, x, h0 = make_case(41, batch=4)
    outputs, _, _ = simple_rnn_forward(params, x, (h0,))
    for row in range(4):
        alone, _, _ = simple_rnn_forward(params, x[row : row + 1], (h0[row : row + 1],))
        np.testing.assert_allclose(alone[0], outputs[row], rtol=0, atol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu", "softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("use_dropout", [False, True])
def test_step_equals_forward_step_by_step(activation, dtype, use_dropout):
    rng, params, x, h0 = make_case(42, steps=6)
    params = {k: v.astype(dtype) for k, v in params.items()}
    x, h0 = x.astype(dtype), h0.astype(dtype)
    dropout = dropout_mask(rng, 3, 3).astype(dtype) if use_dropout else None
    outputs, (h,), _ = simple_rnn_forward(params, x, (h0,), activation=activation, recurrent_dropout_mask=dropout)
    state = (h0,)
    for t in range(6):
        y, state = simple_rnn_step(params, x[:, t], state, activation=activation, recurrent_dropout_mask=dropout)
        assert y.dtype == dtype and state[0] is y
        np.testing.assert_allclose(y, outputs[:, t], rtol=0, atol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(state[0], h, rtol=0, atol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes(dtype):
    rng, params, x, h0 = make_case(43)
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    outputs, (h,), cache = simple_rnn_forward(params32, x.astype(dtype), (h0.astype(np.float32),))
    assert outputs.dtype == dtype and h.dtype == dtype
    grads, d_x, (d_h0,) = simple_rnn_backward(params32, cache, rng.normal(size=outputs.shape).astype(dtype))
    assert all(g.dtype == dtype for g in grads.values()) and d_x.dtype == dtype and d_h0.dtype == dtype
    reference, _, _ = simple_rnn_forward(params, x, (h0,))
    np.testing.assert_allclose(outputs, reference, atol=1e-5 if dtype == np.float32 else 1e-6)
    # float32 everywhere, integer inputs too, stays float32; one float64 input promotes
    assert simple_rnn_forward(params32, np.ones((2, 3, 2), np.int32))[0].dtype == np.float32
    assert simple_rnn_step(params32, np.ones((2, 2), np.int32), (np.zeros((2, 3), np.float32),))[0].dtype == np.float32
    assert simple_rnn_step(params32, np.ones((2, 2)), (np.zeros((2, 3), np.float32),))[0].dtype == np.float64


def test_cache_views_are_batch_first_and_read_only():
    _, params, x, h0 = make_case(44)
    outputs, _, cache = simple_rnn_forward(params, x, (h0,), activation="relu")
    assert isinstance(cache, SimpleRNNCache)
    np.testing.assert_array_equal(cache.h, outputs)
    np.testing.assert_allclose(np.maximum(cache.z, 0), outputs, atol=0)
    with pytest.raises(ValueError):
        cache.h[0, 0, 0] = 1.0
    assert simple_rnn_forward(params, x, (h0,))[2].z is None


# --- bad input ----------------------------------------------------------------------------------------
def test_bad_inputs_raise_value_errors_naming_expected_and_got():
    _, params, x, h0 = make_case(50)
    cases = [
        (lambda: simple_rnn_forward({**params, "kernel": np.zeros((2, 3, 1))}, x),
         r"params\['kernel'\] must be 2-D.*got shape \(2, 3, 1\)"),
        (lambda: simple_rnn_forward({**params, "recurrent_kernel": np.zeros((3, 4))}, x),
         r"must have shape \(3, 3\), got \(3, 4\)"),
        (lambda: simple_rnn_forward({**params, "bias": np.zeros(4)}, x),
         r"params\['bias'\] must have shape \(3,\), got \(4,\)"),
        (lambda: simple_rnn_forward({"kernel": params["kernel"]}, x), "must contain 'recurrent_kernel'"),
        (lambda: simple_rnn_forward(params, x[..., :1]), r"x must have 2 features.*got x of shape \(3, 4, 1\)"),
        (lambda: simple_rnn_forward(params, x[0]), r"x must be 3-D.*got shape \(4, 2\)"),
        (lambda: simple_rnn_forward(params, x[:, :0]), r"at least one sample and one time step, got shape \(3, 0, 2\)"),
        (lambda: simple_rnn_forward(params, x, (h0[:2],)), r"h0\) must have shape \(3, 3\), got \(2, 3\)"),
        (lambda: simple_rnn_forward(params, x, (h0, h0)), r"initial_state must be \(h0,\).*length 2"),
        (lambda: simple_rnn_forward(params, x, mask=np.ones((3, 5), bool)),
         r"mask must have shape \(3, 4\), got \(3, 5\)"),
        (lambda: simple_rnn_forward(params, x, recurrent_dropout_mask=np.ones((3, 4))),
         r"recurrent_dropout_mask must have shape \(3, 3\), got \(3, 4\)"),
        (lambda: simple_rnn_forward(params, x, activation="nope"), "activation must be one of .* got 'nope'"),
        (lambda: simple_rnn_step(params, x[:, 0, :1], (h0,)), r"x_t must have shape \(batch, 2\), got \(3, 1\)"),
        (lambda: simple_rnn_step(params, x[:, 0], h0), r"state must be \(h,\)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(TypeError):  # SimpleRNN has no recurrent activation: the keyword is refused
        simple_rnn_forward(params, x, recurrent_activation="sigmoid")
    _, _, cache = simple_rnn_forward(params, x, (h0,))
    with pytest.raises(ValueError, match=r"d_outputs must have shape \(3, 4, 3\), got \(3, 4, 2\)"):
        simple_rnn_backward(params, cache, np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match=r"d_state must be \(d_h,\).*length 2"):
        simple_rnn_backward(params, cache, None, (h0, h0))
    with pytest.raises(ValueError, match=r"d_state\[0\] must have shape \(3, 3\), got \(3, 2\)"):
        simple_rnn_backward(params, cache, None, (h0[:, :2],))


# --- against Keras 3 and PyTorch ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", None, "hard_sigmoid"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_matches_keras_simple_rnn(keras, activation, use_bias):
    rng = np.random.default_rng(60)
    x = rng.normal(size=(4, 5, 2)).astype(np.float32)
    h0 = rng.normal(size=(4, 3)).astype(np.float32)
    theirs = keras.layers.SimpleRNN(
        3, activation=activation, use_bias=use_bias, return_sequences=True, return_state=True
    )
    theirs(x)
    weights = [rng.normal(scale=0.7, size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    params = dict(zip(PARAM_NAMES, weights))
    assert len(weights) == (3 if use_bias else 2)
    for mask in (None, MIXED):
        expected_outputs, expected_h = theirs(x, mask=mask, initial_state=[h0])
        outputs, (h,), _ = simple_rnn_forward(params, x, (h0,), mask=mask, activation=activation)
        np.testing.assert_allclose(outputs, np.asarray(expected_outputs), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h, np.asarray(expected_h), rtol=1e-5, atol=1e-6)
    assert np.abs(outputs - simple_rnn_forward(params, x, (h0,), activation=activation)[0]).max() > 1e-3


def test_matches_keras_zero_output_for_mask(keras):
    rng = np.random.default_rng(61)
    x = rng.normal(size=(4, 5, 2)).astype(np.float32)
    theirs = keras.layers.SimpleRNN(3, return_sequences=True, zero_output_for_mask=True)
    theirs(x)
    weights = [rng.normal(scale=0.7, size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    expected = np.asarray(theirs(x, mask=MIXED))
    outputs, _, _ = simple_rnn_forward(dict(zip(PARAM_NAMES, weights)), x, mask=MIXED, zero_output_for_mask=True)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(outputs[~MIXED], 0.0)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch_rnn_outputs_and_gradients(nonlinearity, bias):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 3, nonlinearity=nonlinearity, bias=bias, batch_first=True).double()
    rng = np.random.default_rng(62)
    x, h0 = rng.normal(size=(4, 5, 2)), rng.normal(size=(4, 3))
    r_out, r_h = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 3))
    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)
    out_t, h_t = rnn(x_t, h0_t)
    ((out_t * torch.tensor(r_out)).sum() + (h_t[0] * torch.tensor(r_h)).sum()).backward()

    # the conversion, test-local: weight_ih (H, I) -> kernel.T; bias_ih + bias_hh -> bias
    params = {
        "kernel": rnn.weight_ih_l0.detach().numpy().T,
        "recurrent_kernel": rnn.weight_hh_l0.detach().numpy().T,
    }
    if bias:
        params["bias"] = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    outputs, (h,), cache = simple_rnn_forward(params, x, (h0,), activation=nonlinearity)
    np.testing.assert_allclose(outputs, out_t.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(h, h_t[0].detach().numpy(), rtol=1e-12, atol=1e-13)
    grads, d_x, (d_h0,) = simple_rnn_backward(params, cache, r_out, (r_h,))
    np.testing.assert_allclose(grads["kernel"], rnn.weight_ih_l0.grad.numpy().T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["recurrent_kernel"], rnn.weight_hh_l0.grad.numpy().T, rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(grads["bias"], rnn.bias_ih_l0.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(grads["bias"], rnn.bias_hh_l0.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d_x, x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d_h0, h0_t.grad.numpy()[0], rtol=1e-10, atol=1e-12)


# --- JAX == NumPy -----------------------------------------------------------------------------------------
@pytest.fixture
def x64():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        yield jax


VARIANTS = ("plain", "mask", "mask_zero_output", "dropout", "mask_dropout")
# every variant for the default kernel; elsewhere mask and dropout together (mask_dropout runs
# both branches of the step) beside the plain run and the zeroed masked outputs
JAX_CASES = (
    [("tanh", "bptt", variant) for variant in VARIANTS]
    + [(activation, gradient, variant) for activation, gradient in (("tanh", "autodiff"), ("relu", "bptt"), ("relu", "autodiff"))
       for variant in ("plain", "mask_zero_output", "mask_dropout")]
    + [(activation, "bptt", variant) for activation in ("sigmoid", "linear") for variant in ("plain", "mask_dropout")]
    + [("softmax", "bptt", "plain"), ("softmax", "bptt", "mask_dropout")]  # along an axis: autodiff inside
)


@pytest.mark.parametrize("activation, gradient, variant", JAX_CASES)
def test_jax_matches_numpy_values_and_gradients(x64, activation, gradient, variant):
    jax = x64
    from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_forward as jax_forward

    rng, params, x, h0 = make_case(70, batch=4, steps=5)
    mask = MIXED if "mask" in variant else None
    dropout = dropout_mask(rng, 4, 3) if "dropout" in variant else None
    zero_output = variant == "mask_zero_output"
    r_out, r_h = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 3))
    options = dict(mask=mask, zero_output_for_mask=zero_output, recurrent_dropout_mask=dropout, activation=activation)
    outputs, (h,), cache = simple_rnn_forward(params, x, (h0,), **options)
    grads, d_x, (d_h0,) = simple_rnn_backward(params, cache, r_out, (r_h,))

    def objective(p, x, h0):
        out, (h,) = jax_forward(p, x, (h0,), gradient=gradient, **options)
        return (out * r_out).sum() + (h * r_h).sum()

    jax_out, (jax_h,) = jax.jit(lambda p, x, h0: jax_forward(p, x, (h0,), gradient=gradient, **options))(params, x, h0)
    assert jax_out.dtype == np.float64
    np.testing.assert_allclose(np.asarray(jax_out), outputs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(jax_h), h, rtol=1e-12, atol=1e-14)
    jax_grads = jax.jit(jax.grad(objective, argnums=(0, 1, 2)))(params, x, h0)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(np.asarray(jax_grads[0][name]), grads[name], rtol=1e-10, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(np.asarray(jax_grads[1]), d_x, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(np.asarray(jax_grads[2]), d_h0, rtol=1e-10, atol=1e-13)


def test_jax_dropout_mask_gradient_matches_autodiff(x64):
    """The custom VJP also differentiates the dropout multipliers (equal to JAX's reverse mode)."""
    jax = x64
    from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_forward as jax_forward

    rng, params, x, h0 = make_case(71, batch=4, steps=5)
    dropout = dropout_mask(rng, 4, 3)
    r_out = rng.normal(size=(4, 5, 3))

    def objective(m, gradient):
        return (jax_forward(params, x, (h0,), mask=MIXED, recurrent_dropout_mask=m, gradient=gradient)[0] * r_out).sum()

    bptt = jax.grad(objective)(dropout, "bptt")
    autodiff = jax.grad(objective)(dropout, "autodiff")
    assert np.abs(np.asarray(autodiff)).max() > 1e-3
    np.testing.assert_allclose(np.asarray(bptt), np.asarray(autodiff), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("projection", ["inside", "outside"])
def test_jax_projection_modes_and_step_match_numpy(x64, projection):
    from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_forward as jax_forward
    from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_step as jax_step

    rng, params, x, h0 = make_case(72, steps=6, use_bias=False)
    dropout = dropout_mask(rng, 3, 3)
    outputs, (h,), _ = simple_rnn_forward(params, x, (h0,), activation="relu", recurrent_dropout_mask=dropout)
    jax_out, _ = jax_forward(params, x, (h0,), activation="relu", recurrent_dropout_mask=dropout, projection=projection)
    np.testing.assert_allclose(np.asarray(jax_out), outputs, rtol=1e-12, atol=1e-14)
    state = (h0,)
    for t in range(6):
        y, state = jax_step(params, x[:, t], state, activation="relu", recurrent_dropout_mask=dropout)
        previous = h0 if t == 0 else outputs[:, t - 1]
        np_y, _ = simple_rnn_step(params, x[:, t], (previous,), activation="relu", recurrent_dropout_mask=dropout)
        np.testing.assert_allclose(np.asarray(y), outputs[:, t], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np_y, outputs[:, t], rtol=1e-12, atol=1e-14)


def test_jax_float32_and_scan_program_size_is_independent_of_time_steps():
    jax = pytest.importorskip("jax")
    import re

    from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_forward as jax_forward

    rng, params, x, h0 = make_case(73, steps=30)
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    outputs, _ = jax_forward(params32, x.astype(np.float32), (h0.astype(np.float32),))
    assert outputs.dtype == np.float32
    np.testing.assert_allclose(np.asarray(outputs), simple_rnn_forward(params, x, (h0,))[0], atol=1e-5)

    def program(steps):
        xs = jax.numpy.zeros((2, steps, 2), "float32")
        loss = lambda p: jax.numpy.sum(jax_forward(p, xs)[0])  # noqa: E731
        return re.sub(r"\s+", "", re.sub(r"\d+", "N", str(jax.make_jaxpr(jax.grad(loss))(params32))))

    assert program(3) == program(50)


def test_jax_bad_inputs_raise_value_errors():
    pytest.importorskip("jax")
    from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_forward as jax_forward
    from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_step as jax_step

    _, params, x, h0 = make_case(74)
    cases = [
        (lambda: jax_forward({**params, "recurrent_kernel": np.zeros((3, 4))}, x),
         r"must have shape \(3, 3\), got \(3, 4\)"),
        (lambda: jax_forward(params, x[..., :1]), r"x must have 2 features.*got x of shape \(3, 4, 1\)"),
        (lambda: jax_forward(params, x, (h0[:2],)), r"must have shape \(3, 3\), got \(2, 3\)"),
        (lambda: jax_forward(params, x, mask=np.ones((3, 5))), r"mask must have shape \(3, 4\).*got \(3, 5\)"),
        (lambda: jax_forward(params, x, recurrent_dropout_mask=np.ones((2, 3))),
         r"must have shape \(3, 3\).*got \(2, 3\)"),
        (lambda: jax_forward(params, x, activation="nope"), "activation must be one of"),
        (lambda: jax_forward(params, x, gradient="exact"), "gradient must be 'bptt' or 'autodiff', got 'exact'"),
        (lambda: jax_step(params, x[:, 0, :1], (h0,)), r"x_t must have shape \(batch, 2\), got \(3, 1\)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
