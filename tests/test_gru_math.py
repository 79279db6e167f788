"""The GRU kernels: gru_forward / gru_backward / gru_step (NumPy) and gru_forward / gru_step (JAX).

- the forward against a textbook per-step GRU written here, independently of the library;
- the hand-written BPTT against float64 central finite differences for every parameter, ``x``
  and ``h0`` (both ``reset_after`` modes, with and without bias, T = 1 and T > 1, upstream
  gradients on all steps and on the last step only, masks, a fixed recurrent dropout mask,
  non-default activations);
- structure (split sequences, the one-step function, batch rows), Keras 3 ``keras.layers.GRU``
  and ``torch.nn.GRU`` parity, JAX == NumPy in float64, and bad input.

The scalar under test is ``L = sum(outputs * R) + sum(h_T * R_h)`` with random ``R``s, so that
``d_outputs = R`` and ``d_state = (R_h,)``; dropping a term gives the "all steps" and "last
step only" cases.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from scratchlstm._numpy import gradcheck, relative_error
from scratchlstm._numpy.rnn.gru import GRUCache, gru_backward, gru_forward, gru_step

TOLERANCE = 1e-6
PARAM_NAMES = ("kernel", "recurrent_kernel", "bias")


def make_case(seed, batch=3, steps=4, features=2, units=3, *, reset_after=True, use_bias=True, scale=0.5,
              dtype=np.float64):
    """Random params (non-zero biases), inputs and initial state."""
    rng = np.random.default_rng(seed)
    params = {
        "kernel": rng.normal(scale=scale, size=(features, 3 * units)),
        "recurrent_kernel": rng.normal(scale=scale, size=(units, 3 * units)),
    }
    if use_bias:
        params["bias"] = rng.normal(scale=scale, size=(2, 3 * units) if reset_after else (3 * units,))
        assert np.all(params["bias"] != 0)
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=scale, size=(batch, units))
    cast = lambda a: a.astype(dtype)  # noqa: E731
    return rng, {k: cast(v) for k, v in params.items()}, cast(x), cast(h0)


def dropout_mask(rng, batch, units, rate=0.4):
    keep = rng.random((batch, units)) >= rate
    keep[0, 0], keep[0, 1] = False, True  # at least one dropped and one kept unit
    return keep / (1 - rate)


# A mask with a row whose first steps are masked, a row masked in the middle and at the end,
# and a row that keeps every step.
MASK_4 = np.array([[0, 0, 1, 1], [1, 0, 1, 0], [1, 1, 1, 1]], dtype=bool)


# --- an independent textbook GRU ------------------------------------------------------------------
def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


NAIVE_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda v: np.maximum(v, 0.0),
    "hard_sigmoid": lambda v: np.clip((v + 3.0) / 6.0, 0.0, 1.0),
    "softsign": lambda v: v / (1.0 + np.abs(v)),
    "softmax": _softmax,
}


def naive_gru(params, x, h0, *, reset_after=True, mask=None, zero_output_for_mask=False, dropout=None,
              activation="tanh", recurrent_activation="sigmoid"):
    """Keras' GRUCell.call, one step at a time, with Keras' RNN mask handling."""
    act, gate = NAIVE_ACTIVATIONS[activation], NAIVE_ACTIVATIONS[recurrent_activation]
    kernel, recurrent = params["kernel"], params["recurrent_kernel"]
    units = recurrent.shape[0]
    bias = params.get("bias")
    if bias is None:
        input_bias, recurrent_bias = np.zeros(3 * units), np.zeros(3 * units)
    else:
        input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * units))
    m = np.ones_like(h0) if dropout is None else dropout
    h = h0.copy()
    outputs = []
    for t in range(x.shape[1]):
        hm = h * m
        x_z, x_r, x_h = np.split(x[:, t] @ kernel + input_bias, 3, axis=-1)
        u_z, u_r, u_h = np.split(recurrent, 3, axis=-1)
        b_z, b_r, b_h = np.split(recurrent_bias, 3)
        z = gate(x_z + hm @ u_z + b_z)
        r = gate(x_r + hm @ u_r + b_r)
        hh = act(x_h + r * (hm @ u_h + b_h)) if reset_after else act(x_h + (r * hm) @ u_h)
        new = z * h + (1 - z) * hh
        if mask is None:
            h = new
            outputs.append(h)
        else:
            keep = mask[:, t : t + 1]
            h = np.where(keep, new, h)
            outputs.append(np.where(keep, new, 0.0) if zero_output_for_mask else h)
    return np.stack(outputs, axis=1), h


# --- the forward ----------------------------------------------------------------------------------
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("steps", [1, 5])
def test_forward_equals_naive_gru(reset_after, use_bias, steps):
    _, params, x, h0 = make_case(steps, steps=steps, reset_after=reset_after, use_bias=use_bias, scale=1.0)
    expected, h_expected = naive_gru(params, x, h0, reset_after=reset_after)
    outputs, (h,), cache = gru_forward(params, x, (h0,), reset_after=reset_after)
    np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h, h_expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(outputs[:, -1], h)
    assert isinstance(cache, GRUCache) and cache.reset_after == reset_after


def test_default_initial_state_is_zeros():
    _, params, x, h0 = make_case(1)
    expected, _ = naive_gru(params, x, np.zeros_like(h0))
    np.testing.assert_allclose(gru_forward(params, x)[0], expected, rtol=0, atol=1e-12)
    assert np.abs(gru_forward(params, x, (h0,))[0] - expected).max() > 1e-3  # h0 matters


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("activations", [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("softsign", "softmax")])
@pytest.mark.parametrize("zero_output", [False, True])
def test_forward_with_mask_dropout_and_activations_equals_naive(reset_after, activations, zero_output):
    rng, params, x, h0 = make_case(2, reset_after=reset_after, scale=1.0)
    options = dict(reset_after=reset_after, mask=MASK_4, zero_output_for_mask=zero_output,
                   dropout=dropout_mask(rng, 3, 3), activation=activations[0], recurrent_activation=activations[1])
    expected, h_expected = naive_gru(params, x, h0, **options)
    options["recurrent_dropout_mask"] = options.pop("dropout")
    outputs, (h,), _ = gru_forward(params, x, (h0,), **options)
    np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h, h_expected, rtol=0, atol=1e-12)
    # the masked rows: row 0 outputs h0 (or zeros) before its first kept step and carries it
    np.testing.assert_array_equal(outputs[0, :2], 0.0 if zero_output else np.stack([h0[0], h0[0]]))
    np.testing.assert_array_equal(h[1], outputs[1, 2] if zero_output else outputs[1, 3])


def test_float32_stays_float32_and_follows_float64():
    _, params, x, h0 = make_case(3, batch=4, steps=20, units=8, scale=0.7)
    single = {k: v.astype(np.float32) for k, v in params.items()}
    outputs, (h,), _ = gru_forward(single, x.astype(np.float32), (h0.astype(np.float32),))
    assert outputs.dtype == np.float32 and h.dtype == np.float32
    np.testing.assert_allclose(outputs, gru_forward(params, x, (h0,))[0], atol=2e-6)
    assert gru_forward(single, x)[0].dtype == np.float64  # a float64 input promotes


# --- gradients against finite differences ---------------------------------------------------------
def check_gradients(params, x, h0, *, upstream="all", seed=0, **options):
    """Hand-written BPTT vs central differences for every parameter, x and h0."""
    outputs, (h,), cache = gru_forward(params, x, (h0,), **options)
    rng = np.random.default_rng(seed)
    R = rng.normal(size=outputs.shape) if upstream in ("all", "both") else None
    R_h = rng.normal(size=h.shape) if upstream in ("last", "both") else None

    def loss(inputs):
        p = {k: inputs[k] for k in params}
        out, (h_T,), _ = gru_forward(p, inputs["x"], (inputs["h0"],), **options)
        return (0.0 if R is None else np.sum(out * R)) + (0.0 if R_h is None else np.sum(h_T * R_h))

    grads, d_x, (d_h0,) = gru_backward(params, cache, R, (R_h,))
    assert set(grads) == set(params)
    for name in params:
        assert grads[name].shape == params[name].shape and grads[name].dtype == np.float64
    errors = gradcheck(loss, {**params, "x": x, "h0": h0}, {**grads, "x": d_x, "h0": d_h0}, tolerance=TOLERANCE)
    assert max(errors.values()) < TOLERANCE
    return grads, d_x, d_h0


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("steps", [1, 4])
@pytest.mark.parametrize("upstream", ["all", "last"])
def test_backward_matches_finite_differences(reset_after, use_bias, steps, upstream):
    _, params, x, h0 = make_case(10 + steps, batch=2, steps=steps, reset_after=reset_after, use_bias=use_bias)
    check_gradients(params, x, h0, upstream=upstream, reset_after=reset_after)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_backward_matches_finite_differences(reset_after, zero_output):
    _, params, x, h0 = make_case(20, reset_after=reset_after)
    grads, d_x, _ = check_gradients(params, x, h0, upstream="both", reset_after=reset_after, mask=MASK_4,
                                    zero_output_for_mask=zero_output)
    np.testing.assert_array_equal(d_x[~MASK_4], 0.0)  # a masked step's input has no influence
    assert np.all(np.abs(d_x[MASK_4]).sum(axis=-1) > 0)


@pytest.mark.parametrize("reset_after", [True, False])
def test_recurrent_dropout_backward_matches_finite_differences(reset_after):
    rng, params, x, h0 = make_case(30, reset_after=reset_after)
    dropout = dropout_mask(rng, 3, 3)
    grads, _, d_h0 = check_gradients(params, x, h0, upstream="both", reset_after=reset_after,
                                     recurrent_dropout_mask=dropout)
    # the dropout mask matters for the gradients, not only the values
    _, _, cache = gru_forward(params, x, (h0,), reset_after=reset_after)
    R = np.random.default_rng(0).normal(size=(3, 4, 3))
    undropped = gru_backward(params, cache, R, (np.random.default_rng(0).normal(size=(3, 3)),))[0]
    assert np.abs(undropped["recurrent_kernel"] - grads["recurrent_kernel"]).max() > 1e-3


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("activations", [("relu", "hard_sigmoid"), ("softsign", "softmax")])
def test_general_activation_backward_matches_finite_differences(reset_after, activations):
    rng, params, x, h0 = make_case(40, reset_after=reset_after)
    check_gradients(params, x, h0, upstream="both", reset_after=reset_after, activation=activations[0],
                    recurrent_activation=activations[1], mask=MASK_4, recurrent_dropout_mask=dropout_mask(rng, 3, 3))


@pytest.mark.parametrize("reset_after", [True, False])
def test_long_masked_sequence_crosses_backward_blocks(reset_after):
    """T = 9 runs the backward in blocks of 2 steps (and a last block of 1)."""
    rng, params, x, h0 = make_case(50, batch=2, steps=9, reset_after=reset_after)
    mask = rng.random((2, 9)) > 0.3
    mask[0, :3] = False
    check_gradients(params, x, h0, upstream="both", reset_after=reset_after, mask=mask,
                    recurrent_dropout_mask=dropout_mask(rng, 2, 3))


def directional_check(params, x, h0, eps=1e-6, **options):
    """``<grad, v>`` against ``(L(p + eps v) - L(p - eps v)) / (2 eps)`` for a random direction
    ``v`` per input: a finite-difference check cheap enough for large shapes."""
    outputs, (h,), cache = gru_forward(params, x, (h0,), **options)
    rng = np.random.default_rng(1)
    R, R_h = rng.normal(size=outputs.shape), rng.normal(size=h.shape)
    grads, d_x, (d_h0,) = gru_backward(params, cache, R, (R_h,))
    analytic = {**grads, "x": d_x, "h0": d_h0}
    inputs = {**params, "x": x, "h0": h0}

    def loss(values):
        out, (h_T,), _ = gru_forward({k: values[k] for k in params}, values["x"], (values["h0"],), **options)
        return np.sum(out * R) + np.sum(h_T * R_h)

    for name, value in inputs.items():
        direction = rng.normal(size=value.shape)
        plus, minus = dict(inputs), dict(inputs)
        plus[name], minus[name] = value + eps * direction, value - eps * direction
        numeric = (loss(plus) - loss(minus)) / (2 * eps)
        assert relative_error(np.sum(analytic[name] * direction), numeric) < 1e-6, name


@pytest.mark.parametrize("reset_after", [True, False])
def test_large_shapes_match_naive_and_directional_differences(reset_after):
    """A batch and width past toy sizes (70 x 32, several backward blocks), masked and dropped."""
    rng, params, x, h0 = make_case(60, batch=70, steps=9, features=3, units=32, reset_after=reset_after, scale=0.4)
    mask = rng.random((70, 9)) > 0.2
    options = dict(reset_after=reset_after, mask=mask, recurrent_dropout_mask=dropout_mask(rng, 70, 32))
    outputs, _, _ = gru_forward(params, x, (h0,), **options)
    dropout = options["recurrent_dropout_mask"]
    expected, _ = naive_gru(params, x, h0, reset_after=reset_after, mask=mask, dropout=dropout)
    np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-12)
    directional_check(params, x, h0, **options)


def test_backward_is_repeatable_and_leaves_the_cache_alone():
    _, params, x, h0 = make_case(70, reset_after=True)
    _, _, cache = gru_forward(params, x, (h0,), mask=MASK_4)
    snapshot = {name: np.copy(getattr(cache, name)) for name in ("gates", "hiddens", "candidate_inputs")}
    R = np.ones((3, 4, 3))
    first = gru_backward(params, cache, R)
    second = gru_backward(params, cache, R)
    for name, value in snapshot.items():
        np.testing.assert_array_equal(getattr(cache, name), value)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(first[0][name], second[0][name])
    np.testing.assert_array_equal(first[1], second[1])


def test_input_gradient_false_skips_only_d_x():
    _, params, x, h0 = make_case(71)
    _, _, cache = gru_forward(params, x, (h0,))
    R = np.ones((3, 4, 3))
    with_x = gru_backward(params, cache, R)
    without = gru_backward(params, cache, R, input_gradient=False)
    assert without[1] is None and with_x[1] is not None
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(without[0][name], with_x[0][name])


def test_no_upstream_gives_zero_gradients():
    _, params, x, h0 = make_case(72)
    _, _, cache = gru_forward(params, x, (h0,))
    grads, d_x, (d_h0,) = gru_backward(params, cache, None, (None,))
    assert all(np.all(g == 0) for g in grads.values()) and np.all(d_x == 0) and np.all(d_h0 == 0)


# --- structure ------------------------------------------------------------------------------------
@pytest.mark.parametrize("reset_after", [True, False])
def test_split_sequence_with_carried_state_equals_whole_sequence(reset_after):
    rng, params, x, h0 = make_case(80, steps=7, reset_after=reset_after)
    mask = rng.random((3, 7)) > 0.3
    options = dict(reset_after=reset_after, recurrent_dropout_mask=dropout_mask(rng, 3, 3))
    whole, (h,), _ = gru_forward(params, x, (h0,), mask=mask, **options)
    first, carried, _ = gru_forward(params, x[:, :3], (h0,), mask=mask[:, :3], **options)
    second, (h2,), _ = gru_forward(params, x[:, 3:], carried, mask=mask[:, 3:], **options)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h2, h, rtol=0, atol=1e-14)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activations", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_by_step_equals_whole_sequence(reset_after, use_bias, activations, dtype):
    _, params, x, h0 = make_case(90, steps=6, reset_after=reset_after, use_bias=use_bias, dtype=dtype)
    options = dict(reset_after=reset_after, activation=activations[0], recurrent_activation=activations[1])
    outputs, (h,), _ = gru_forward(params, x, (h0,), **options)
    state = (h0,)
    for t in range(x.shape[1]):
        y, state = gru_step(params, x[:, t], state, **options)
        assert y.dtype == dtype and y is state[0]
        np.testing.assert_allclose(y, outputs[:, t], rtol=0, atol=1e-13 if dtype == np.float64 else 2e-6)
    np.testing.assert_allclose(state[0], h, rtol=0, atol=1e-13 if dtype == np.float64 else 2e-6)


def test_batch_rows_are_independent():
    _, params, x, h0 = make_case(91, batch=4)
    outputs, _, _ = gru_forward(params, x, (h0,), mask=np.array([[1, 0, 1, 1]] * 4, bool))
    for b in range(4):
        alone, _, _ = gru_forward(params, x[b : b + 1], (h0[b : b + 1],), mask=np.array([[1, 0, 1, 1]], bool))
        np.testing.assert_allclose(alone[0], outputs[b], rtol=0, atol=1e-14)


@settings(max_examples=15, deadline=None)
@given(
    batch=st.integers(1, 3), steps=st.integers(1, 5), features=st.integers(1, 3), units=st.integers(1, 4),
    reset_after=st.booleans(), use_bias=st.booleans(), seed=st.integers(0, 2**16),
)
def test_random_shapes_match_naive_and_step(batch, steps, features, units, reset_after, use_bias, seed):
    _, params, x, h0 = make_case(seed, batch, steps, features, units, reset_after=reset_after, use_bias=use_bias)
    outputs, (h,), _ = gru_forward(params, x, (h0,), reset_after=reset_after)
    expected, _ = naive_gru(params, x, h0, reset_after=reset_after)
    np.testing.assert_allclose(outputs, expected, rtol=0, atol=1e-12)
    y, _ = gru_step(params, x[:, -1], (outputs[:, -2] if steps > 1 else h0,), reset_after=reset_after)
    np.testing.assert_allclose(y, h, rtol=0, atol=1e-12)


# --- bad input ------------------------------------------------------------------------------------
def test_bad_input_raises_value_error_naming_expected_and_received():
    _, params, x, h0 = make_case(100)  # I = 2, H = 3, B = 3, T = 4
    bad_kernel = {**params, "kernel": np.zeros((2, 8))}
    with pytest.raises(ValueError, match=r"3 \* units columns, got shape \(2, 8\)"):
        gru_forward(bad_kernel, x)
    with pytest.raises(ValueError, match=r"recurrent_kernel'\] must have shape \(3, 9\), got \(3, 12\)"):
        gru_forward({**params, "recurrent_kernel": np.zeros((3, 12))}, x)
    with pytest.raises(ValueError, match=r"2 features.*got x of shape \(3, 4, 5\)"):
        gru_forward(params, np.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match=r"h0\) must have shape \(3, 3\), got \(3, 4\)"):
        gru_forward(params, x, (np.zeros((3, 4)),))
    with pytest.raises(ValueError, match=r"initial_state must be \(h0,\)"):
        gru_forward(params, x, (h0, h0))
    with pytest.raises(ValueError, match=r"bias'\] must have shape \(9,\) with reset_after=False.*got \(2, 9\)"):
        gru_forward(params, x, reset_after=False)
    with pytest.raises(ValueError, match=r"bias'\] must have shape \(2, 9\) with reset_after=True.*got \(9,\)"):
        gru_forward({**params, "bias": np.zeros(9)}, x)
    with pytest.raises(ValueError, match=r"recurrent_dropout_mask must have shape \(3, 3\), got \(3, 2\)"):
        gru_forward(params, x, recurrent_dropout_mask=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"mask must have shape \(3, 4\), got \(3, 5\)"):
        gru_forward(params, x, mask=np.ones((3, 5), bool))
    with pytest.raises(ValueError, match=r"activation must be one of"):
        gru_forward(params, x, activation="nope")
    _, _, cache = gru_forward(params, x)
    with pytest.raises(ValueError, match=r"d_outputs must have shape \(3, 4, 3\), got \(3, 4, 2\)"):
        gru_backward(params, cache, np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match=r"d_state\[0\] must have shape \(3, 3\), got \(2, 3\)"):
        gru_backward(params, cache, None, (np.zeros((2, 3)),))
    with pytest.raises(ValueError, match=r"x_t must have shape \(batch, 2\), got \(3, 5\)"):
        gru_step(params, np.zeros((3, 5)), (h0,))
    with pytest.raises(ValueError, match=r"state\[0\] \(h\) must have shape \(3, 3\), got \(3, 4\)"):
        gru_step(params, x[:, 0], (np.zeros((3, 4)),))
    with pytest.raises(ValueError, match=r"bias'\] must have shape \(9,\) with reset_after=False, got \(2, 9\)"):
        gru_step(params, x[:, 0], (h0,), reset_after=False)


# --- Keras 3 parity -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("variant", ["default", "activations_no_bias"])
def test_matches_keras_gru(keras, reset_after, variant):
    options = dict(reset_after=reset_after)
    if variant != "default":
        options.update(activation="relu", recurrent_activation="hard_sigmoid", use_bias=False)
    rng = np.random.default_rng(110)
    x = rng.normal(size=(3, 4, 2)).astype(np.float32)
    h0 = rng.normal(scale=0.5, size=(3, 5)).astype(np.float32)
    theirs = keras.layers.GRU(5, return_sequences=True, return_state=True, **options)
    theirs.build((3, 4, 2))
    weights = [rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    params = dict(zip(PARAM_NAMES, weights))
    use_bias = options.pop("use_bias", True)
    assert ("bias" in params) == use_bias
    for mask in (None, MASK_4):
        expected, expected_h = theirs(x, initial_state=[h0], mask=mask)
        outputs, (h,), _ = gru_forward(params, x, (h0,), mask=mask, **options)
        assert outputs.dtype == np.float32
        np.testing.assert_allclose(outputs, np.asarray(expected), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(h, np.asarray(expected_h), rtol=1e-5, atol=1e-5)


# --- PyTorch parity -------------------------------------------------------------------------------
def params_from_torch(gru):
    """Test-local conversion of ``torch.nn.GRU`` layer-0 weights: rows ``[r, z, n]`` -> Keras
    columns ``[z, r, h]``; ``b_ih``/``b_hh`` are reset_after's input/recurrent bias rows."""

    def keras_order(w):
        r, z, n = np.split(w.detach().numpy(), 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    return {
        "kernel": keras_order(gru.weight_ih_l0).T,
        "recurrent_kernel": keras_order(gru.weight_hh_l0).T,
        "bias": np.stack([keras_order(gru.bias_ih_l0), keras_order(gru.bias_hh_l0)]),
    }


def grads_from_torch(gru):
    """The same conversion applied to the ``.grad`` of each torch parameter."""

    def keras_order(p):
        r, z, n = np.split(p.grad.numpy(), 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    return {
        "kernel": keras_order(gru.weight_ih_l0).T,
        "recurrent_kernel": keras_order(gru.weight_hh_l0).T,
        "bias": np.stack([keras_order(gru.bias_ih_l0), keras_order(gru.bias_hh_l0)]),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_gru_values_and_gradients(dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    torch_dtype = getattr(torch, dtype)
    gru = torch.nn.GRU(2, 5, batch_first=True).to(torch_dtype)
    rng = np.random.default_rng(120)
    x = rng.normal(size=(3, 6, 2)).astype(dtype)
    h0 = rng.normal(scale=0.5, size=(3, 5)).astype(dtype)
    R = rng.normal(size=(3, 6, 5)).astype(dtype)
    x_torch = torch.from_numpy(x).requires_grad_(True)
    h0_torch = torch.from_numpy(h0[None]).requires_grad_(True)
    expected, expected_h = gru(x_torch, h0_torch)
    (expected * torch.from_numpy(R)).sum().backward()

    params = params_from_torch(gru)
    outputs, (h,), cache = gru_forward(params, x, (h0,))
    tolerance = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(outputs, expected.detach().numpy(), **tolerance)
    np.testing.assert_allclose(h, expected_h.detach().numpy()[0], **tolerance)
    grads, d_x, (d_h0,) = gru_backward(params, cache, R)
    for name, value in grads_from_torch(gru).items():
        np.testing.assert_allclose(grads[name], value, **tolerance, err_msg=name)
    np.testing.assert_allclose(d_x, x_torch.grad.numpy(), **tolerance)
    np.testing.assert_allclose(d_h0, h0_torch.grad.numpy()[0], **tolerance)


# --- JAX == NumPy ---------------------------------------------------------------------------------
@pytest.fixture
def jax_x64():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        yield jax


JAX_CASES = [
    dict(reset_after=True),
    dict(reset_after=False),
    dict(reset_after=True, masked=True, zero_output_for_mask=True, dropout=True),
    dict(reset_after=False, masked=True, dropout=True),
    dict(reset_after=True, masked=True, activation="relu", recurrent_activation="hard_sigmoid"),
    dict(reset_after=False, use_bias=False, dropout=True, activation="softsign", recurrent_activation="softmax"),
]


@pytest.mark.parametrize("case", JAX_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_jax_values_and_gradients_equal_numpy(jax_x64, case):
    jax = jax_x64
    import jax.numpy as jnp

    from scratchlstm.jax_backend.rnn.gru import gru_forward as jax_gru_forward

    case = dict(case)
    masked, dropout, use_bias = case.pop("masked", False), case.pop("dropout", False), case.pop("use_bias", True)
    rng, params, x, h0 = make_case(130, reset_after=case["reset_after"], use_bias=use_bias)
    options = dict(case)
    if masked:
        options["mask"] = MASK_4
    if dropout:
        options["recurrent_dropout_mask"] = dropout_mask(rng, 3, 3)
    outputs, (h,), cache = gru_forward(params, x, (h0,), **options)
    jax_outputs, (jax_h,) = jax_gru_forward(params, x, (h0,), **options)
    assert jax_outputs.dtype == jnp.float64
    np.testing.assert_allclose(jax_outputs, outputs, rtol=0, atol=1e-13)
    np.testing.assert_allclose(jax_h, h, rtol=0, atol=1e-13)

    R, R_h = rng.normal(size=outputs.shape), rng.normal(size=h.shape)

    def loss(p, x, h0):
        out, (h_T,) = jax_gru_forward(p, x, (h0,), **options)
        return jnp.sum(out * R) + jnp.sum(h_T * R_h)

    jax_grads, jax_d_x, jax_d_h0 = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(params, x, h0)
    grads, d_x, (d_h0,) = gru_backward(params, cache, R, (R_h,))
    for name in params:
        np.testing.assert_allclose(jax_grads[name], grads[name], rtol=1e-12, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(jax_d_x, d_x, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(jax_d_h0, d_h0, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("reset_after", [True, False])
def test_jax_step_equals_jax_forward_and_numpy_step(jax_x64, reset_after):
    from scratchlstm.jax_backend.rnn.gru import gru_forward as jax_gru_forward
    from scratchlstm.jax_backend.rnn.gru import gru_step as jax_gru_step

    _, params, x, h0 = make_case(140, steps=5, reset_after=reset_after)
    outputs, _ = jax_gru_forward(params, x, (h0,), reset_after=reset_after)
    outputs = np.asarray(outputs)
    state = (h0,)
    for t in range(5):
        y, state = jax_gru_step(params, x[:, t], state, reset_after=reset_after)
        np.testing.assert_allclose(y, outputs[:, t], rtol=0, atol=1e-14)
        previous = outputs[:, t - 1] if t else h0
        numpy_y, _ = gru_step(params, x[:, t], (previous,), reset_after=reset_after)
        np.testing.assert_allclose(y, numpy_y, rtol=0, atol=1e-14)


def test_jax_float32_stays_float32_under_jit_and_matches_numpy():
    jax = pytest.importorskip("jax")
    from scratchlstm.jax_backend.rnn.gru import gru_forward as jax_gru_forward

    _, params, x, h0 = make_case(150, batch=4, steps=20, units=8, dtype=np.float32)
    outputs, (h,) = jax.jit(jax_gru_forward)(params, x, (h0,))
    assert outputs.dtype == np.float32 and h.dtype == np.float32
    np.testing.assert_allclose(outputs, gru_forward(params, x, (h0,))[0], rtol=0, atol=1e-5)


def test_jax_bad_input_raises_value_error(jax_x64):
    from scratchlstm.jax_backend.rnn.gru import gru_forward as jax_gru_forward
    from scratchlstm.jax_backend.rnn.gru import gru_step as jax_gru_step

    _, params, x, h0 = make_case(160)
    with pytest.raises(ValueError, match=r"kernel'\] must have shape \(input_features, 3 \* units\), got \(2, 8\)"):
        jax_gru_forward({**params, "kernel": np.zeros((2, 8))}, x)
    with pytest.raises(ValueError, match=r"2 features.*got x of shape \(3, 4, 5\)"):
        jax_gru_forward(params, np.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match=r"h0\) must have shape \(3, 3\), got \(3, 4\)"):
        jax_gru_forward(params, x, (np.zeros((3, 4)),))
    with pytest.raises(ValueError, match=r"bias'\] must have shape \(9,\) with reset_after=False.*got \(2, 9\)"):
        jax_gru_forward(params, x, reset_after=False)
    with pytest.raises(ValueError, match=r"recurrent_dropout_mask must have shape \(3, 3\), got \(3, 2\)"):
        jax_gru_forward(params, x, recurrent_dropout_mask=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"mask must have shape \(3, 4\)"):
        jax_gru_forward(params, x, mask=np.ones((3, 5), bool))
    with pytest.raises(ValueError, match=r"x_t must have shape \(batch, 2\), got \(3, 5\)"):
        jax_gru_step(params, np.zeros((3, 5)), (h0,))
