"""The pure JAX functions against the NumPy reference: forward, gradients, dense, losses, metrics."""

import functools
import re

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

from hypothesis import given, settings, strategies as st  # noqa: E402

from scratchlstm import metrics as np_metrics  # noqa: E402
from scratchlstm._numpy import dense_backward, lstm_backward  # noqa: E402
from scratchlstm._numpy import dense_forward as np_dense_forward  # noqa: E402
from scratchlstm._numpy import lstm_forward as np_lstm_forward  # noqa: E402
from scratchlstm._numpy.losses import Loss  # noqa: E402
from scratchlstm import jax_backend as jb  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def x64():
    """float64 for this module only (the flag is global; restored when the module ends)."""
    with jax.enable_x64(True):
        yield


def assert_rel_close(actual, expected, rtol, atol=1e-14, what=""):
    """``|a - e| <= rtol * (|a| + |e|) + atol`` entrywise (the DESIGN's relative error, with a floor)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    excess = np.abs(actual - expected) - rtol * (np.abs(actual) + np.abs(expected)) - atol
    assert np.all(excess <= 0), f"{what}: worst excess {excess.max():.3g}, max abs diff {np.abs(actual - expected).max():.3g}"


_forward = jax.jit(jb.lstm_forward, static_argnames=("projection",))


def lstm_case(rng, B=3, T=5, I=2, H=4, bias=True, dtype=np.float64):
    params = {
        "kernel": rng.normal(size=(I, 4 * H)).astype(dtype),
        "recurrent_kernel": rng.normal(size=(H, 4 * H)).astype(dtype) * 0.5,
    }
    if bias:
        params["bias"] = rng.normal(size=4 * H).astype(dtype)
    x = rng.normal(size=(B, T, I)).astype(dtype)
    state = (rng.normal(size=(B, H)).astype(dtype), rng.normal(size=(B, H)).astype(dtype))
    return params, x, state


# --- forward --------------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("projection", ["inside", "outside"])
def test_forward_matches_reference_float64(bias, with_state, projection):
    params, x, state = lstm_case(np.random.default_rng(1), bias=bias)
    state = state if with_state else None
    outputs, (h, c) = _forward(params, x, state, projection=projection)
    ref_outputs, (ref_h, ref_c), _ = np_lstm_forward(params, x, state)
    assert outputs.dtype == jnp.float64 and h.dtype == jnp.float64
    np.testing.assert_allclose(outputs, ref_outputs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(h, ref_h, rtol=0, atol=1e-10)
    np.testing.assert_allclose(c, ref_c, rtol=0, atol=1e-10)


def test_forward_float32_matches_reference_and_stays_float32():
    params, x, state = lstm_case(np.random.default_rng(2), B=4, T=30, I=3, H=8, dtype=np.float32)
    outputs, (h, c) = jb.lstm_forward(params, x, state)
    ref_outputs, (ref_h, ref_c), _ = np_lstm_forward(params, x, state)
    assert outputs.dtype == jnp.float32 and c.dtype == jnp.float32
    np.testing.assert_allclose(outputs, ref_outputs, rtol=0, atol=1e-5)
    np.testing.assert_allclose(c, ref_c, rtol=0, atol=1e-5)


def test_float64_input_promotes_float32_params_as_the_reference():
    params, x, _ = lstm_case(np.random.default_rng(3), dtype=np.float32)
    outputs, _ = jb.lstm_forward(params, x.astype(np.float64))
    ref_outputs, _, _ = np_lstm_forward(params, x.astype(np.float64))
    assert outputs.dtype == jnp.float64 and ref_outputs.dtype == np.float64
    np.testing.assert_allclose(outputs, ref_outputs, atol=1e-10)


def test_integer_inputs_compute_in_float32():
    params, _, _ = lstm_case(np.random.default_rng(4), dtype=np.float32)
    outputs, _ = jb.lstm_forward(params, np.ones((2, 3, 2), dtype=np.int32))
    assert outputs.dtype == jnp.float32


def test_split_sequence_with_carried_state_equals_whole_sequence():
    params, x, state = lstm_case(np.random.default_rng(5), T=7)
    whole, (h, c) = jb.lstm_forward(params, x, state)
    first, carried = jb.lstm_forward(params, x[:, :3], state)
    second, (h2, c2) = jb.lstm_forward(params, x[:, 3:], carried)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-13)
    np.testing.assert_allclose(h2, h, atol=1e-13)
    np.testing.assert_allclose(c2, c, atol=1e-13)
    np.testing.assert_array_equal(whole[:, -1], h)


def test_works_under_jit_and_vmap_and_rows_are_independent():
    params, x, state = lstm_case(np.random.default_rng(6), B=4)
    jitted = jax.jit(jb.lstm_forward)
    outputs, (h, _) = jitted(params, x, state)
    np.testing.assert_allclose(outputs, jb.lstm_forward(params, x, state)[0], atol=1e-13)
    # vmap over samples: each row run alone (as a batch of one) gives the batched row.
    single = jax.vmap(lambda xi, hi, ci: jb.lstm_forward(params, xi[None], (hi[None], ci[None]))[1][0][0])
    np.testing.assert_allclose(single(x, *state), h, atol=1e-13)


def test_scan_keeps_the_program_size_independent_of_time_steps():
    """One scanned step, whatever T: the traced program (and so compile time) does not grow."""
    params, _, _ = lstm_case(np.random.default_rng(7))

    def program_size(steps):
        x = jnp.zeros((2, steps, 2))
        loss = lambda p: jnp.sum(jb.lstm_forward(p, x)[0])  # noqa: E731
        # The program text with the numbers (shapes, lengths) masked: only its structure.
        # Whitespace removed entirely: jaxpr line wrapping depends on the printed numbers' lengths.
        return re.sub(r"\s+", "", re.sub(r"\d+", "N", str(jax.make_jaxpr(jax.grad(loss))(params))))

    assert program_size(3) == program_size(1000)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p, x: jb.lstm_forward(p, x[0]), "3-D"),
        (lambda p, x: jb.lstm_forward(p, x[..., :1]), "features on its last axis"),
        (lambda p, x: jb.lstm_forward({"kernel": p["kernel"]}, x), "recurrent_kernel"),
        (lambda p, x: jb.lstm_forward({**p, "bias": p["bias"][:3]}, x), r"params\['bias'\] must have shape \(16,\)"),
        (lambda p, x: jb.lstm_forward(p, x, (np.zeros((3, 4)),)), "pair"),
        (lambda p, x: jb.lstm_forward(p, x, (np.zeros((3, 5)), np.zeros((3, 4)))), r"must have shape \(3, 4\), got \(3, 5\)"),
        (lambda p, x: jb.lstm_forward(p, x, projection="before"), "projection"),
        (lambda p, x: jb.dense_forward({"kernel": np.ones((3, 2))}, x), "3 features"),
        (lambda p, x: jb.dense_forward({"kernel": np.ones((2, 2))}, x, "gelu2"), "activation must be one of"),
    ],
)
def test_bad_input_names_what_was_expected(call, message):
    params, x, _ = lstm_case(np.random.default_rng(8))
    with pytest.raises(ValueError, match=message):
        call(params, x)


# --- gradients against the hand-written BPTT ------------------------------------------------------
def _objective(p, xs, h0, c0, d_out, d_h, d_c, gradient="bptt"):
    outputs, (h, c) = jb.lstm_forward(p, xs, (h0, c0), gradient=gradient)
    return jnp.sum(outputs * d_out) + jnp.sum(h * d_h) + jnp.sum(c * d_c), (outputs, h, c)


# One compiled forward + gradient per shape and mode, shared by all tests (eager autodiff is slow).
_objective_grads = jax.jit(
    jax.grad(_objective, argnums=(0, 1, 2, 3), has_aux=True), static_argnames="gradient"
)


def _bptt_parity(params, x, state, last_step_only=False, rtol=1e-8, gradient="bptt"):
    """jax.grad equals lstm_backward for every parameter, x, h0 and c0; returns the forward.

    ``gradient="bptt"`` checks the custom VJP, ``"autodiff"`` JAX's own rules through the scan.
    """
    rng = np.random.default_rng(11)
    B, T, _ = x.shape
    H = params["recurrent_kernel"].shape[0]
    d_out = np.zeros((B, T, H)) if last_step_only else rng.normal(size=(B, T, H))
    d_h, d_c = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    (g_params, g_x, g_h0, g_c0), forward = _objective_grads(
        params, x, *state, d_out, d_h, d_c, gradient=gradient
    )
    _, _, cache = np_lstm_forward(params, x, state)
    ref, ref_x, (ref_h0, ref_c0) = lstm_backward(
        params, cache, None if last_step_only else d_out, d_state=(d_h, d_c)
    )
    assert set(g_params) == set(ref)
    for name in ref:
        assert_rel_close(g_params[name], ref[name], rtol, what=name)
    assert_rel_close(g_x, ref_x, rtol, what="x")
    assert_rel_close(g_h0, ref_h0, rtol, what="h0")
    assert_rel_close(g_c0, ref_c0, rtol, what="c0")
    return forward


@pytest.mark.parametrize("gradient", ["bptt", "autodiff"])
@pytest.mark.parametrize("steps", [1, 6])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("last_step_only", [True, False])
def test_jax_grad_equals_hand_written_bptt(steps, bias, last_step_only, gradient):
    params, x, state = lstm_case(np.random.default_rng(12), B=3, T=steps, bias=bias)
    _bptt_parity(params, x, state, last_step_only, gradient=gradient)


def test_forward_mode_works_with_autodiff_and_agrees_with_reverse_mode():
    params, x, state = lstm_case(np.random.default_rng(13), B=2, T=4, bias=True)
    direction = jax.tree_util.tree_map(lambda a: np.random.default_rng(14).normal(size=a.shape), params)

    def last_hidden_sum(p, gradient):
        return jnp.sum(jb.lstm_forward(p, x, state, gradient=gradient)[1][0])

    _, tangent = jax.jvp(lambda p: last_hidden_sum(p, "autodiff"), (params,), (direction,))
    reverse = jax.grad(last_hidden_sum)(params, "bptt")
    expected = sum(np.sum(reverse[k] * direction[k]) for k in params)
    np.testing.assert_allclose(tangent, expected, rtol=1e-10)


@settings(max_examples=5, deadline=None)
@given(
    B=st.integers(1, 3), T=st.integers(1, 4), I=st.integers(1, 3), H=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_forward_and_gradients_match_reference(B, T, I, H, seed):
    params, x, state = lstm_case(np.random.default_rng(seed), B=B, T=T, I=I, H=H)
    outputs, h, c = _bptt_parity(params, x, state)
    ref_outputs, (ref_h, ref_c), _ = np_lstm_forward(params, x, state)
    np.testing.assert_allclose(outputs, ref_outputs, atol=1e-10)
    np.testing.assert_allclose(c, ref_c, atol=1e-10)
    np.testing.assert_array_equal(outputs[:, -1], h)


@settings(max_examples=3, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 4), I=st.integers(1, 3), H=st.integers(1, 3), seed=st.integers(0, 2**31 - 1))
def test_property_float32_forward_close_to_reference(B, T, I, H, seed):
    params, x, state = lstm_case(np.random.default_rng(seed), B=B, T=T, I=I, H=H, dtype=np.float32)
    outputs, (h, c) = _forward(params, x, state)
    ref_outputs, (_, ref_c), _ = np_lstm_forward(params, x, state)
    assert outputs.dtype == jnp.float32
    np.testing.assert_allclose(outputs, ref_outputs, atol=1e-5)
    np.testing.assert_allclose(c, ref_c, atol=1e-5)


def test_float32_gradients_close_to_reference():
    params, x, state = lstm_case(np.random.default_rng(13), B=3, T=8, dtype=np.float32)
    rng = np.random.default_rng(14)
    d_out = rng.normal(size=(3, 8, 4)).astype(np.float32)
    d_h, d_c = rng.normal(size=(2, 3, 4)).astype(np.float32)
    (grads, d_x, d_h0, d_c0), _ = _objective_grads(params, x, *state, d_out, d_h, d_c)
    _, _, cache = np_lstm_forward(params, x, state)
    ref, ref_x, (ref_h0, ref_c0) = lstm_backward(params, cache, d_out, d_state=(d_h, d_c))
    for name in ref:
        assert grads[name].dtype == jnp.float32
        np.testing.assert_allclose(grads[name], ref[name], rtol=1e-4, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(d_x, ref_x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d_h0, ref_h0, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d_c0, ref_c0, rtol=1e-4, atol=1e-5)


# --- dense ----------------------------------------------------------------------------------------
@functools.partial(jax.jit, static_argnums=0)
def _dense_grads(activation, params, x, d_y):
    return jax.grad(lambda p, xs: jnp.sum(jb.dense_forward(p, xs, activation) * d_y), argnums=(0, 1))(params, x)


@pytest.mark.parametrize("activation", [None, "linear", "relu", "tanh", "sigmoid", "softmax"])
@pytest.mark.parametrize("rank", [2, 3])
def test_dense_forward_and_grad_match_reference(activation, rank):
    rng = np.random.default_rng(21)
    params = {"kernel": rng.normal(size=(3, 4)), "bias": rng.normal(size=4)}
    x = rng.normal(size=(5, 3) if rank == 2 else (2, 5, 3))
    d_y = rng.normal(size=x.shape[:-1] + (4,))
    y = jb.dense_forward(params, x, activation)
    ref_y, cache = np_dense_forward(params, x, activation)
    np.testing.assert_allclose(y, ref_y, atol=1e-12)
    grads, d_x = _dense_grads(activation, params, x, d_y)
    ref, ref_x = dense_backward(params, cache, d_y)
    for name in ref:
        assert_rel_close(grads[name], ref[name], 1e-8, atol=1e-13, what=name)
    assert_rel_close(d_x, ref_x, 1e-8, atol=1e-13, what="x")


def test_dense_without_bias():
    params = {"kernel": np.arange(6.0).reshape(3, 2)}
    np.testing.assert_allclose(jb.dense_forward(params, np.ones((1, 3))), [[6.0, 9.0]])


# --- losses and metrics -----------------------------------------------------------------------------
def _loss_case(name, from_logits, rng, shape=(6, 3)):
    if name in ("mean_squared_error", "mean_absolute_error"):
        return rng.normal(size=shape), rng.normal(size=shape)
    if name == "binary_crossentropy":
        y_true = (rng.random(shape) > 0.5).astype(float)
        y_pred = rng.normal(size=shape) * 3 if from_logits else rng.uniform(0.05, 0.95, size=shape)
        return y_true, y_pred
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    logits = rng.normal(size=shape)
    y_pred = logits if from_logits else np.exp(logits) / np.exp(logits).sum(-1, keepdims=True) * 1.3
    if name == "sparse_categorical_crossentropy":
        return labels, y_pred
    return np.eye(shape[-1])[labels], y_pred


LOSS_CASES = [
    ("mean_squared_error", False), ("mean_absolute_error", False),
    ("binary_crossentropy", False), ("binary_crossentropy", True),
    ("categorical_crossentropy", False), ("categorical_crossentropy", True),
    ("sparse_categorical_crossentropy", False), ("sparse_categorical_crossentropy", True),
]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _loss_grad(name, from_logits, y_true, y_pred):
    return jax.grad(lambda p: jb.loss_value(name, y_true, p, from_logits))(y_pred)


@pytest.mark.parametrize("name, from_logits", LOSS_CASES)
@pytest.mark.parametrize("shape", [(6, 3), (2, 4, 3)])
def test_loss_value_and_gradient_match_reference(name, from_logits, shape):
    y_true, y_pred = _loss_case(name, from_logits, np.random.default_rng(31), shape)
    ref = Loss(name, from_logits)
    np.testing.assert_allclose(jb.loss_per_position(name, y_true, y_pred, from_logits), ref.per_position(y_true, y_pred), atol=1e-12)
    assert abs(float(jb.loss_value(ref, y_true, y_pred)) - ref(y_true, y_pred)) < 1e-12
    grad = _loss_grad(name, from_logits, y_true, y_pred)
    assert_rel_close(grad, ref.gradient(y_true, y_pred), 1e-8, atol=1e-14, what=name)


def test_loss_clips_probabilities_like_keras():
    value = jb.loss_value("binary_crossentropy", np.ones((1, 1)), np.zeros((1, 1)))
    assert abs(float(value) - Loss("binary_crossentropy")(np.ones((1, 1)), np.zeros((1, 1)))) < 1e-9
    assert abs(float(value) + np.log(1e-7)) < 1e-6


def test_aliases_and_bad_names():
    y = np.ones((2, 1))
    assert float(jb.loss_value("mse", y, 2 * y)) == float(jb.loss_value("mean_squared_error", y, 2 * y)) == 1.0
    with pytest.raises(ValueError, match="loss must be one of"):
        jb.loss_value("dice", y, y)
    with pytest.raises(ValueError, match="metric must be one of"):
        jb.metric_value("accuracy", y, y)
    with pytest.raises(ValueError, match="y_true must have the shape"):
        jb.loss_value("mse", np.ones((2, 2)), y)
    with pytest.raises(ValueError, match="sparse labels must have shape"):
        jb.loss_value("sparse_categorical_crossentropy", np.ones((3,)), np.ones((2, 4)))


def test_sample_weight_is_a_weighted_mean_and_ignores_non_finite_padding():
    y_true = np.array([[0.0], [1.0], [2.0], [np.inf]])
    y_pred = np.zeros((4, 1))
    weight = np.array([1.0, 1.0, 1.0, 0.0])
    assert float(jb.loss_value("mse", y_true, y_pred, sample_weight=weight)) == pytest.approx(5.0 / 3.0)
    # Per-position over (B, T): every position of a weighted-out sample drops out.
    per = np.arange(8.0).reshape(4, 2)
    assert float(jb.weighted_mean(per, np.array([0.0, 1.0, 1.0, 0.0]))) == pytest.approx(np.mean(per[1:3]))
    with pytest.raises(ValueError, match="one weight per sample"):
        jb.weighted_mean(per, np.ones(3))


@pytest.mark.parametrize("metric", list(np_metrics.METRICS))
def test_metrics_match_reference(metric):
    rng = np.random.default_rng(41)
    if metric == "binary_accuracy":
        y_true, y_pred = (rng.random((8, 2)) > 0.5).astype(float), rng.random((8, 2))
    elif metric in ("categorical_accuracy", "sparse_categorical_accuracy"):
        labels, y_pred = rng.integers(0, 3, size=8), rng.random((8, 3))
        y_true = labels if metric.startswith("sparse") else np.eye(3)[labels]
    else:
        y_true, y_pred = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    np.testing.assert_allclose(jb.metric_per_position(metric, y_true, y_pred), np_metrics.METRICS[metric](y_true, y_pred), atol=1e-12)
    assert float(jb.metric_value(metric, y_true, y_pred)) == pytest.approx(np_metrics.compute(metric, y_true, y_pred), abs=1e-12)
