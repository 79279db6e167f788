"""The LSTM kernels' options: ``activation``, ``recurrent_activation``, ``recurrent_dropout_mask``
and the one-step ``lstm_step``, NumPy and JAX.

Checked: the forward against an independent loop, the hand-written BPTT (general path and the
default path with a dropout mask) against float64 finite differences for every parameter, the
input and both initial states (with masks too), Keras 3's ``LSTM`` with copied weights for
non-default activation pairs, ``lstm_step`` against ``lstm_forward`` step by step, JAX against
NumPy (outputs and ``jax.grad`` in float64), and that the default path is untouched by them.
"""

import numpy as np
import pytest

from scratchlstm._numpy.activations import get_activation
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._numpy.rnn.lstm import lstm_backward, lstm_forward, lstm_step

TOLERANCE = 1e-6
PARAM_NAMES = ("kernel", "recurrent_kernel", "bias")
# (activation, recurrent_activation): Keras' old default hard_sigmoid, an unbounded candidate,
# a smooth non-default pair and one along the units axis (softmax per gate block).
PAIRS = [("relu", "hard_sigmoid"), ("tanh", "hard_sigmoid"), ("elu", "sigmoid"), ("linear", "softsign"),
         ("softmax", "sigmoid")]

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
    rng = np.random.default_rng(seed)
    params = {
        "kernel": rng.normal(scale=scale, size=(features, 4 * units)),
        "recurrent_kernel": rng.normal(scale=scale, size=(units, 4 * units)),
    }
    if use_bias:
        params["bias"] = rng.normal(scale=scale, size=4 * units)
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=scale, size=(batch, units))
    c0 = rng.normal(scale=scale, size=(batch, units))
    return rng, params, x, h0, c0


def dropout_mask(rng, batch, units, rate=0.4):
    keep = rng.random((batch, units)) >= rate
    keep.flat[0], keep.flat[1] = False, True
    return keep / (1 - rate)


def naive_lstm(params, x, h0, c0, activation="tanh", recurrent_activation="sigmoid", mask=None, dropout=None):
    """Per-step LSTM as Keras' LSTMCell writes it, with Keras' mask semantics."""
    act, rec = get_activation(activation)[0], get_activation(recurrent_activation)[0]
    kernel, recurrent = params["kernel"], params["recurrent_kernel"]
    units = recurrent.shape[0]
    bias = params.get("bias", np.zeros(4 * units))
    m = np.ones_like(h0) if dropout is None else dropout
    h, c = h0.copy(), c0.copy()
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + (h * m) @ recurrent + bias
        i, f, o = rec(z[:, :units]), rec(z[:, units : 2 * units]), rec(z[:, 3 * units :])
        new_c = f * c + i * act(z[:, 2 * units : 3 * units])
        new_h = o * act(new_c)
        keep = np.ones((len(h), 1), bool) if mask is None else mask[:, t][:, None]
        h, c = np.where(keep, new_h, h), np.where(keep, new_c, c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def check_against_finite_differences(params, x, h0, c0, r_out, r_h, r_c, **options):
    def objective(values):
        p = {k: values[k] for k in params}
        outputs, (h, c), _ = lstm_forward(p, values["x"], (values["h0"], values["c0"]), **options)
        total = np.sum(h * r_h) + (0.0 if r_c is None else np.sum(c * r_c))
        return total + (0.0 if r_out is None else np.sum(outputs * r_out))

    _, _, cache = lstm_forward(params, x, (h0, c0), **options)
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, r_out, (r_h, r_c))
    analytic = {**grads, "x": d_x, "h0": d_h0, "c0": d_c0}
    values = {**params, "x": x, "h0": h0, "c0": c0}
    assert set(analytic) == set(values)
    for name in values:
        assert np.abs(analytic[name]).max() > 1e-4, name  # a real signal
        error = relative_error(analytic[name], numerical_gradient(objective, values, name))
        assert error < TOLERANCE, (name, error)
    return analytic


# --- forward ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation, recurrent_activation", PAIRS)
@pytest.mark.parametrize("with_dropout", [False, True])
def test_forward_equals_naive_loop(activation, recurrent_activation, with_dropout):
    rng, params, x, h0, c0 = make_case(1, batch=4, steps=5, scale=1.0)
    dropout = dropout_mask(rng, 4, 3) if with_dropout else None
    for mask in (None, MIXED):
        options = dict(activation=activation, recurrent_activation=recurrent_activation, mask=mask,
                       recurrent_dropout_mask=dropout)
        outputs, (h, c), cache = lstm_forward(params, x, (h0, c0), **options)
        expected, h_expected, c_expected = naive_lstm(
            params, x, h0, c0, activation, recurrent_activation, mask, dropout
        )
        np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(h, h_expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(c, c_expected, rtol=0, atol=1e-12)
        assert cache.preactivations is not None and cache.activation == activation
    default, _, _ = lstm_forward(params, x, (h0, c0), recurrent_dropout_mask=dropout)
    assert np.abs(outputs - default).max() > 1e-2  # the activations matter


def test_default_pair_named_explicitly_is_the_default_path_bit_for_bit():
    rng, params, x, h0, c0 = make_case(2)
    plain = lstm_forward(params, x, (h0, c0))
    named = lstm_forward(params, x, (h0, c0), activation="tanh", recurrent_activation="sigmoid")
    assert plain[2].preactivations is None and named[2].preactivations is None  # no extra cache
    np.testing.assert_array_equal(named[0], plain[0])
    np.testing.assert_array_equal(named[1][1], plain[1][1])
    ones = lstm_forward(params, x, (h0, c0), recurrent_dropout_mask=np.ones((3, 3)))
    np.testing.assert_array_equal(ones[0], plain[0])
    d_out = rng.normal(size=(3, 4, 3))
    a, b = lstm_backward(params, plain[2], d_out), lstm_backward(params, ones[2], d_out)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(a[0][name], b[0][name])


def test_activation_functions_resolve_to_their_names_and_the_fast_path():
    """``scratchlstm.activations.tanh`` / ``.sigmoid`` (and None -> linear) resolve by name:
    the tanh/sigmoid functions take the default path, bit for bit."""
    from scratchlstm import activations

    rng, params, x, h0, c0 = make_case(3)
    d_out = rng.normal(size=(3, 4, 3))
    fast = lstm_forward(params, x, (h0, c0), mask=MIXED[:3, :4])
    named = lstm_forward(params, x, (h0, c0), mask=MIXED[:3, :4], activation=activations.tanh,
                         recurrent_activation=activations.sigmoid)
    assert named[2].preactivations is None and named[2].activation == "tanh"
    np.testing.assert_array_equal(named[0], fast[0])
    np.testing.assert_array_equal(lstm_backward(params, named[2], d_out)[1], lstm_backward(params, fast[2], d_out)[1])
    linear = lstm_forward(params, x, (h0, c0), activation=None)
    assert linear[2].activation == "linear"
    np.testing.assert_allclose(linear[0], naive_lstm(params, x, h0, c0, "linear")[0], atol=1e-12)


# --- BPTT against finite differences ---------------------------------------------------------------
@pytest.mark.parametrize("activation, recurrent_activation", PAIRS)
@pytest.mark.parametrize("steps", [1, 4])
@pytest.mark.parametrize("upstream", ["all_steps", "last_step"])
def test_general_path_matches_finite_differences(activation, recurrent_activation, steps, upstream):
    rng, params, x, h0, c0 = make_case(10 + steps, steps=steps)
    r_out = rng.normal(size=(3, steps, 3)) if upstream == "all_steps" else None
    r_h, r_c = rng.normal(size=(3, 3)), (rng.normal(size=(3, 3)) if upstream == "all_steps" else None)
    check_against_finite_differences(params, x, h0, c0, r_out, r_h, r_c, activation=activation,
                                     recurrent_activation=recurrent_activation)


@pytest.mark.parametrize("pair", [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("softmax", "sigmoid")])
@pytest.mark.parametrize("with_dropout", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_backward_matches_finite_differences(pair, with_dropout, zero_output):
    rng, params, x, h0, c0 = make_case(20, batch=4, steps=5)
    dropout = dropout_mask(rng, 4, 3) if with_dropout else None
    r_out, r_h, r_c = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    analytic = check_against_finite_differences(
        params, x, h0, c0, r_out, r_h, r_c, mask=MIXED, zero_output_for_mask=zero_output,
        recurrent_dropout_mask=dropout, activation=pair[0], recurrent_activation=pair[1],
    )
    np.testing.assert_array_equal(analytic["x"][~MIXED], 0.0)  # masked steps are the identity
    np.testing.assert_allclose(analytic["c0"][3], r_c[3], rtol=1e-12)  # the fully masked row


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("upstream", ["all_steps", "last_step"])
def test_default_path_with_recurrent_dropout_matches_finite_differences(use_bias, upstream):
    rng, params, x, h0, c0 = make_case(30, batch=4, steps=5, use_bias=use_bias)
    dropout = dropout_mask(rng, 4, 3)
    r_out = rng.normal(size=(4, 5, 3)) if upstream == "all_steps" else None
    r_h = rng.normal(size=(4, 3))
    check_against_finite_differences(params, x, h0, c0, r_out, r_h, None, recurrent_dropout_mask=dropout)


def test_a_backward_that_ignores_the_dropout_mask_fails_the_check():
    rng, params, x, h0, c0 = make_case(31)
    dropout = dropout_mask(rng, 3, 3)
    r_h = rng.normal(size=(3, 3))
    _, _, dropped_cache = lstm_forward(params, x, (h0, c0), recurrent_dropout_mask=dropout)
    # the cache without its mask: the recurrent gradient then uses h_{t-1} instead of h_{t-1} * m
    import dataclasses

    wrong_cache = dataclasses.replace(dropped_cache, recurrent_dropout_mask=None)
    wrong = lstm_backward(params, wrong_cache, None, (r_h, None))[0]["recurrent_kernel"]

    def objective(values):
        return np.sum(lstm_forward({**params, **values}, x, (h0, c0), recurrent_dropout_mask=dropout)[1][0] * r_h)

    numeric = numerical_gradient(objective, {"recurrent_kernel": params["recurrent_kernel"]}, "recurrent_kernel")
    assert relative_error(wrong, numeric) > 1e-2
    right = lstm_backward(params, dropped_cache, None, (r_h, None))[0]["recurrent_kernel"]
    assert relative_error(right, numeric) < TOLERANCE


def test_general_backward_leaves_the_cache_unchanged():
    rng, params, x, h0, c0 = make_case(32)
    _, _, cache = lstm_forward(params, x, (h0, c0), activation="relu", recurrent_activation="hard_sigmoid",
                               mask=MIXED[:3, :4], recurrent_dropout_mask=dropout_mask(rng, 3, 3))
    saved = {k: np.array(getattr(cache, k)) for k in ("gates", "cells", "hiddens", "tanh_cells", "preactivations")}
    d_out = rng.normal(size=(3, 4, 3))
    first, second = lstm_backward(params, cache, d_out), lstm_backward(params, cache, d_out)
    for name, value in saved.items():
        np.testing.assert_array_equal(getattr(cache, name), value, err_msg=name)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(first[0][name], second[0][name])


# --- Keras 3 parity ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("activation, recurrent_activation",
                         [("relu", "hard_sigmoid"), ("tanh", "hard_sigmoid"), ("elu", "tanh"), (None, "sigmoid")])
def test_matches_keras_lstm_with_copied_weights(keras, activation, recurrent_activation):
    rng = np.random.default_rng(40)
    x = rng.normal(size=(4, 5, 2)).astype(np.float32)
    h0, c0 = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    theirs = keras.layers.LSTM(3, activation=activation, recurrent_activation=recurrent_activation,
                               return_sequences=True, return_state=True)
    theirs(x)
    weights = [rng.normal(scale=0.7, size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    params = dict(zip(PARAM_NAMES, weights))
    for mask in (None, MIXED):
        expected = [np.asarray(a) for a in theirs(x, mask=mask, initial_state=[h0, c0])]
        outputs, (h, c), _ = lstm_forward(params, x, (h0, c0), mask=mask, activation=activation,
                                          recurrent_activation=recurrent_activation)
        for got, want in zip((outputs, h, c), expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    default, _, _ = lstm_forward(params, x, (h0, c0), mask=MIXED)
    assert np.abs(default - outputs).max() > 1e-2


# --- lstm_step --------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("softmax", "sigmoid")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_dropout", [False, True])
def test_step_equals_forward_step_by_step(pair, dtype, with_dropout):
    rng, params, x, h0, c0 = make_case(50, steps=6)
    params = {k: v.astype(dtype) for k, v in params.items()}
    x, h0, c0 = x.astype(dtype), h0.astype(dtype), c0.astype(dtype)
    dropout = dropout_mask(rng, 3, 3).astype(dtype) if with_dropout else None
    options = dict(activation=pair[0], recurrent_activation=pair[1], recurrent_dropout_mask=dropout)
    outputs, (h, c), _ = lstm_forward(params, x, (h0, c0), **options)
    state = (h0, c0)
    atol = 2e-6 if dtype == np.float32 else 1e-14
    for t in range(6):
        y, state = lstm_step(params, x[:, t], state, **options)
        assert y.dtype == dtype and state[1].dtype == dtype and state[0] is y
        np.testing.assert_allclose(y, outputs[:, t], rtol=0, atol=atol)
    np.testing.assert_allclose(state[1], c, rtol=0, atol=atol)


def test_step_bad_inputs_raise_value_errors():
    _, params, x, h0, c0 = make_case(51)
    with pytest.raises(ValueError, match=r"x_t must have shape \(batch, 2\), got \(3, 4, 2\)"):
        lstm_step(params, x, (h0, c0))
    with pytest.raises(ValueError, match=r"state must be \(h, c\)"):
        lstm_step(params, x[:, 0], (h0,))


def test_bad_options_raise_value_errors_naming_expected_and_got():
    _, params, x, h0, c0 = make_case(52)
    with pytest.raises(ValueError, match=r"recurrent_dropout_mask must have shape \(3, 3\), got \(3, 4\)"):
        lstm_forward(params, x, recurrent_dropout_mask=np.ones((3, 4)))
    with pytest.raises(ValueError, match="recurrent_dropout_mask must be a numeric"):
        lstm_forward(params, x, recurrent_dropout_mask=np.full((3, 3), "a"))
    with pytest.raises(ValueError, match="recurrent_dropout_mask must be finite"):
        lstm_forward(params, x, recurrent_dropout_mask=np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="activation must be one of .* got 'nope'"):
        lstm_forward(params, x, activation="nope")
    with pytest.raises(ValueError, match="activation must be one of .* got 'nope'"):
        lstm_forward(params, x, recurrent_activation="nope")
    with pytest.raises(ValueError, match="glu"):
        lstm_forward(params, x, activation="glu")


# --- JAX == NumPy ---------------------------------------------------------------------------------------
@pytest.fixture
def x64():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        yield jax


JAX_CASES = [
    # (activation, recurrent_activation, gradient, mask, dropout, zero_output)
    ("tanh", "sigmoid", "bptt", False, True, False),
    ("tanh", "sigmoid", "bptt", True, True, True),
    ("tanh", "sigmoid", "autodiff", True, True, False),
    ("relu", "hard_sigmoid", "bptt", False, False, False),
    ("relu", "hard_sigmoid", "bptt", True, True, False),
    ("relu", "hard_sigmoid", "autodiff", True, True, True),
    ("elu", "softsign", "bptt", True, False, False),
    ("softmax", "sigmoid", "bptt", True, True, False),  # along an axis: autodiff inside
]


@pytest.mark.parametrize("activation, recurrent_activation, gradient, use_mask, use_dropout, zero_output", JAX_CASES)
@pytest.mark.parametrize("projection", ["inside", "outside"])
def test_jax_matches_numpy_values_and_gradients(x64, activation, recurrent_activation, gradient, use_mask,
                                                use_dropout, zero_output, projection):
    jax = x64
    from scratchlstm.jax_backend.rnn.lstm import lstm_forward as jax_forward

    rng, params, x, h0, c0 = make_case(60, batch=4, steps=5)
    options = dict(activation=activation, recurrent_activation=recurrent_activation,
                   mask=MIXED if use_mask else None, zero_output_for_mask=zero_output,
                   recurrent_dropout_mask=dropout_mask(rng, 4, 3) if use_dropout else None)
    r_out, r_h, r_c = rng.normal(size=(4, 5, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    outputs, (h, c), cache = lstm_forward(params, x, (h0, c0), **options)
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, r_out, (r_h, r_c))

    def forward(p, x, h0, c0):
        return jax_forward(p, x, (h0, c0), gradient=gradient, projection=projection, **options)

    def objective(p, x, h0, c0):
        out, (h, c) = forward(p, x, h0, c0)
        return (out * r_out).sum() + (h * r_h).sum() + (c * r_c).sum()

    jax_out, (jax_h, jax_c) = jax.jit(forward)(params, x, h0, c0)
    for a, b in ((jax_out, outputs), (jax_h, h), (jax_c, c)):
        assert a.dtype == np.float64
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-14)
    jax_grads = jax.jit(jax.grad(objective, argnums=(0, 1, 2, 3)))(params, x, h0, c0)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(np.asarray(jax_grads[0][name]), grads[name], rtol=1e-10, atol=1e-13, err_msg=name)
    for a, b, name in zip(jax_grads[1:], (d_x, d_h0, d_c0), ("x", "h0", "c0")):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-10, atol=1e-13, err_msg=name)


def test_jax_dropout_mask_gradient_of_the_custom_vjp_matches_autodiff(x64):
    jax = x64
    from scratchlstm.jax_backend.rnn.lstm import lstm_forward as jax_forward

    rng, params, x, h0, c0 = make_case(61, batch=4, steps=5)
    dropout = dropout_mask(rng, 4, 3)
    r_out = rng.normal(size=(4, 5, 3))

    def objective(m, gradient):
        return (jax_forward(params, x, (h0, c0), mask=MIXED, recurrent_dropout_mask=m, gradient=gradient,
                            activation="relu", recurrent_activation="hard_sigmoid")[0] * r_out).sum()

    autodiff = jax.grad(objective)(dropout, "autodiff")
    assert np.abs(np.asarray(autodiff)).max() > 1e-3
    np.testing.assert_allclose(np.asarray(jax.grad(objective)(dropout, "bptt")), np.asarray(autodiff),
                               rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("pair", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
def test_jax_step_equals_numpy_forward_step_by_step(x64, pair):
    from scratchlstm.jax_backend.rnn.lstm import lstm_step as jax_step

    rng, params, x, h0, c0 = make_case(62, steps=5)
    options = dict(activation=pair[0], recurrent_activation=pair[1], recurrent_dropout_mask=dropout_mask(rng, 3, 3))
    outputs, (_, c), _ = lstm_forward(params, x, (h0, c0), **options)
    state = (h0, c0)
    for t in range(5):
        y, state = jax_step(params, x[:, t], state, **options)
        np.testing.assert_allclose(np.asarray(y), outputs[:, t], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(state[1]), c, rtol=1e-12, atol=1e-14)


def test_jax_bad_options_raise_value_errors():
    pytest.importorskip("jax")
    from scratchlstm.jax_backend.rnn.lstm import lstm_forward as jax_forward
    from scratchlstm.jax_backend.rnn.lstm import lstm_step as jax_step

    _, params, x, h0, c0 = make_case(63)
    with pytest.raises(ValueError, match=r"recurrent_dropout_mask must have shape \(3, 3\).*got \(2, 3\)"):
        jax_forward(params, x, recurrent_dropout_mask=np.ones((2, 3)))
    with pytest.raises(ValueError, match="activation must be one of .* got 'nope'"):
        jax_forward(params, x, recurrent_activation="nope")
    with pytest.raises(ValueError, match=r"x_t must have shape \(batch, 2\), got \(3, 1\)"):
        jax_step(params, x[:, 0, :1], (h0, c0))
    with pytest.raises(ValueError, match=r"initial_state\[1\] \(c0\) must have shape \(3, 3\), got \(3, 2\)"):
        jax_step(params, x[:, 0], (h0, c0[:, :2]))
