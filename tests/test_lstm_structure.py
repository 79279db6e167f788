"""lstm_forward / lstm_backward: structure (state carrying, last step, batch independence),
the cache, dtypes and bad input (DESIGN.md §5)."""

import numpy as np
import pytest

from scratchlstm._numpy import LSTMCache, lstm_backward, lstm_forward

B, T, I, H = 3, 6, 2, 4


def make_case(seed=0, batch=B, steps=T, features=I, units=H, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {
        "kernel": rng.normal(scale=0.6, size=(features, 4 * units)).astype(dtype),
        "recurrent_kernel": rng.normal(scale=0.6, size=(units, 4 * units)).astype(dtype),
        "bias": rng.normal(scale=0.6, size=4 * units).astype(dtype),
    }
    x = rng.normal(size=(batch, steps, features)).astype(dtype)
    h0 = rng.normal(scale=0.5, size=(batch, units)).astype(dtype)
    c0 = rng.normal(scale=0.5, size=(batch, units)).astype(dtype)
    return rng, params, x, (h0, c0)


# -- sequence structure ------------------------------------------------------------------------

@pytest.mark.parametrize("split", [1, 2, 5])
@pytest.mark.parametrize("with_initial_state", [False, True])
def test_split_sequence_equals_whole(split, with_initial_state):
    _, params, x, state = make_case(1)
    state = state if with_initial_state else None
    whole, (h, c), _ = lstm_forward(params, x, initial_state=state)
    first, carried, _ = lstm_forward(params, x[:, :split], initial_state=state)
    second, (h2, c2), _ = lstm_forward(params, x[:, split:], initial_state=carried)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h2, h, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c2, c, rtol=0, atol=1e-14)
    # The state matters: restarting from zeros gives something else.
    restarted, _, _ = lstm_forward(params, x[:, split:])
    assert np.abs(restarted - whole[:, split:]).max() > 1e-3


def test_last_output_is_final_hidden_state_and_cell_is_carried():
    _, params, x, state = make_case(2)
    outputs, (h, c), cache = lstm_forward(params, x, initial_state=state)
    np.testing.assert_array_equal(outputs[:, -1], h)
    np.testing.assert_array_equal(cache.c[:, -1], c)
    np.testing.assert_array_equal(cache.h, outputs)
    # h_t = o_t * tanh(c_t) at every step, read from the cache views
    np.testing.assert_allclose(outputs, cache.o * np.tanh(cache.c), rtol=0, atol=1e-15)
    assert not np.allclose(outputs[:, -1], outputs[:, -2])


def test_batch_rows_are_independent():
    _, params, x, (h0, c0) = make_case(3)
    outputs, (h, c), _ = lstm_forward(params, x, initial_state=(h0, c0))
    changed = x.copy()
    changed[0] += 1.0
    outputs2, (h2, c2), _ = lstm_forward(params, changed, initial_state=(h0, c0))
    assert np.abs(outputs2[0] - outputs[0]).max() > 1e-3  # row 0 did change
    np.testing.assert_array_equal(outputs2[1:], outputs[1:])
    np.testing.assert_array_equal(h2[1:], h[1:])
    np.testing.assert_array_equal(c2[1:], c[1:])
    for row in range(B):
        alone, (h_alone, c_alone), _ = lstm_forward(
            params, x[row : row + 1], initial_state=(h0[row : row + 1], c0[row : row + 1])
        )
        np.testing.assert_allclose(alone[0], outputs[row], rtol=0, atol=1e-14)
        np.testing.assert_allclose(h_alone[0], h[row], rtol=0, atol=1e-14)
        np.testing.assert_allclose(c_alone[0], c[row], rtol=0, atol=1e-14)


def test_backward_batch_rows_are_independent():
    # d_x and d_h0 of row 1 depend on row 1 alone; parameter gradients sum over rows.
    rng, params, x, (h0, c0) = make_case(4)
    d_out = rng.normal(size=(B, T, H))
    _, _, cache = lstm_forward(params, x, initial_state=(h0, c0))
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, d_out)
    total = {k: np.zeros_like(v) for k, v in grads.items()}
    for row in range(B):
        _, _, cache_row = lstm_forward(params, x[row : row + 1], initial_state=(h0[row : row + 1], c0[row : row + 1]))
        g_row, d_x_row, (d_h0_row, d_c0_row) = lstm_backward(params, cache_row, d_out[row : row + 1])
        np.testing.assert_allclose(d_x_row[0], d_x[row], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(d_h0_row[0], d_h0[row], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(d_c0_row[0], d_c0[row], rtol=1e-12, atol=1e-14)
        for k in total:
            total[k] += g_row[k]
    for k in grads:
        np.testing.assert_allclose(grads[k], total[k], rtol=1e-12, atol=1e-14)


# -- the cache ---------------------------------------------------------------------------------

def test_cache_views_shapes_and_ranges():
    _, params, x, state = make_case(5)
    params["bias"] = params["bias"] * 4  # push some gates towards saturation
    outputs, _, cache = lstm_forward(params, x, initial_state=state)
    assert isinstance(cache, LSTMCache)
    for name in "ifgoch":
        view = getattr(cache, name)
        assert view.shape == (B, T, H), name
    for name in "ifo":
        view = getattr(cache, name)
        assert np.all((view > 0) & (view < 1)), name
    assert np.all(np.abs(cache.g) < 1)
    assert np.all(np.abs(cache.h) < 1)
    assert cache.g.min() < 0 < cache.g.max()  # the candidate is a tanh, not a sigmoid
    # the four gate views are four different blocks of the pre-activations
    assert len({getattr(cache, n).tobytes() for n in "ifgo"}) == 4


def test_cache_views_and_outputs_are_read_only():
    _, params, x, state = make_case(6)
    outputs, _, cache = lstm_forward(params, x, initial_state=state)
    for view in (outputs, cache.i, cache.f, cache.g, cache.o, cache.c, cache.h):
        assert not view.flags.writeable
        with pytest.raises(ValueError):
            view[0, 0, 0] = 123.0
    with pytest.raises(AttributeError):
        cache.gates = None  # frozen dataclass


def test_backward_does_not_modify_cache_or_inputs_and_repeats_exactly():
    rng, params, x, state = make_case(7)
    d_out = rng.normal(size=(B, T, H))
    d_h = rng.normal(size=(B, H))
    d_c = rng.normal(size=(B, H))
    originals = [a.copy() for a in (x, *state, *params.values(), d_out, d_h, d_c)]
    _, _, cache = lstm_forward(params, x, initial_state=state)
    saved = {k: getattr(cache, k).copy() for k in ("inputs_time_major", "gates", "cells", "hiddens", "tanh_cells")}
    first = lstm_backward(params, cache, d_out, (d_h, d_c))
    second = lstm_backward(params, cache, d_out, (d_h, d_c))
    for k, v in saved.items():
        np.testing.assert_array_equal(getattr(cache, k), v, err_msg=k)
    for name in params:
        np.testing.assert_array_equal(first[0][name], second[0][name])
    np.testing.assert_array_equal(first[1], second[1])
    np.testing.assert_array_equal(first[2][0], second[2][0])
    np.testing.assert_array_equal(first[2][1], second[2][1])
    for before, after in zip(originals, (x, *state, *params.values(), d_out, d_h, d_c)):
        np.testing.assert_array_equal(before, after)


def test_forward_returns_state_not_aliasing_cache():
    _, params, x, state = make_case(8)
    _, (h, c), cache = lstm_forward(params, x, initial_state=state)
    h += 1.0
    c += 1.0
    np.testing.assert_array_equal(cache.h[:, -1] + 1.0, h)
    np.testing.assert_array_equal(cache.c[:, -1] + 1.0, c)


# -- dtypes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng, params, x, state = make_case(9, dtype=dtype)
    outputs, (h, c), cache = lstm_forward(params, x, initial_state=state)
    for array in (outputs, h, c, cache.gates, cache.i):
        assert array.dtype == dtype
    d_out = rng.normal(size=(B, T, H)).astype(dtype)
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, d_out, (d_out[:, -1], None))
    for name, grad in grads.items():
        assert grad.dtype == dtype, name
        assert params[name].dtype == dtype, name  # params untouched
    for array in (d_x, d_h0, d_c0):
        assert array.dtype == dtype


def test_float32_agrees_with_float64():
    rng, params, x, state = make_case(10)
    d_out = rng.normal(size=(B, T, H))
    out64, _, cache64 = lstm_forward(params, x, initial_state=state)
    g64, dx64, _ = lstm_backward(params, cache64, d_out)
    to32 = lambda a: a.astype(np.float32)  # noqa: E731
    out32, _, cache32 = lstm_forward({k: to32(v) for k, v in params.items()}, to32(x), initial_state=tuple(map(to32, state)))
    g32, dx32, _ = lstm_backward({k: to32(v) for k, v in params.items()}, cache32, to32(d_out))
    np.testing.assert_allclose(out32, out64, rtol=0, atol=1e-5)
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-5)
    for name in g64:
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-4, atol=1e-5)


def test_mixed_dtypes_compute_in_float64():
    _, params, x, _ = make_case(11)
    outputs, (h, _), _ = lstm_forward(params, x.astype(np.float32))
    assert outputs.dtype == np.float64 and h.dtype == np.float64
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    outputs, _, _ = lstm_forward(params32, x)
    assert outputs.dtype == np.float64
    # integer inputs are accepted and computed as float32 with float32 params
    outputs, _, _ = lstm_forward(params32, np.ones((B, T, I), dtype=np.int64))
    assert outputs.dtype == np.float32


# -- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "shape, expected_fragments",
    [
        ((B, 0, I), ["(3, 0, 2)", "time step"]),
        ((0, T, I), ["(0, 6, 2)", "sample"]),
        ((T, I), ["3-D", "(batch, time_steps, features)", "(6, 2)"]),
        ((1, B, T, I), ["3-D", "(1, 3, 6, 2)"]),
        ((B, T, I + 1), ["2 features", "(3, 6, 3)"]),
    ],
)
def test_bad_x_raises_naming_expected_and_received(shape, expected_fragments):
    _, params, _, _ = make_case(12)
    with pytest.raises(ValueError) as info:
        lstm_forward(params, np.zeros(shape))
    message = str(info.value)
    for fragment in expected_fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize(
    "state, fragments",
    [
        ((np.zeros((B, H + 1)), np.zeros((B, H))), ["h0", "(3, 4)", "(3, 5)"]),
        ((np.zeros((B, H)), np.zeros((B + 1, H))), ["c0", "(3, 4)", "(4, 4)"]),
        ((np.zeros(H), np.zeros(H)), ["h0", "(3, 4)", "(4,)"]),
        ((np.zeros((B, H)),), ["pair", "length 1"]),
        (np.zeros((2, B, H)), ["pair", "ndarray"]),
        ((np.full((B, H), np.nan), np.zeros((B, H))), ["h0", "finite"]),
    ],
)
def test_bad_initial_state_raises(state, fragments):
    _, params, x, _ = make_case(13)
    with pytest.raises(ValueError) as info:
        lstm_forward(params, x, initial_state=state)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_bad_params_raise():
    _, params, x, _ = make_case(14)
    bad = dict(params, kernel=params["kernel"][:, :-1])
    with pytest.raises(ValueError, match=r"4 \* units"):
        lstm_forward(bad, x)
    bad = dict(params, recurrent_kernel=params["recurrent_kernel"][:-1])
    with pytest.raises(ValueError, match=r"recurrent_kernel.*\(4, 16\).*\(3, 16\)"):
        lstm_forward(bad, x)
    bad = dict(params, bias=params["bias"][:-1])
    with pytest.raises(ValueError, match=r"bias.*\(16,\).*\(15,\)"):
        lstm_forward(bad, x)
    with pytest.raises(ValueError, match="recurrent_kernel"):
        lstm_forward({"kernel": params["kernel"]}, x)


def test_bad_upstream_gradients_raise():
    _, params, x, _ = make_case(15)
    _, _, cache = lstm_forward(params, x)
    with pytest.raises(ValueError, match=r"d_outputs.*\(3, 6, 4\).*\(3, 5, 4\)"):
        lstm_backward(params, cache, np.zeros((B, T - 1, H)))
    with pytest.raises(ValueError, match=r"d_state\[0\].*\(3, 4\).*\(4, 3\)"):
        lstm_backward(params, cache, None, (np.zeros((H, B)), None))
    with pytest.raises(ValueError, match=r"d_state\[1\].*\(3, 4\)"):
        lstm_backward(params, cache, None, (None, np.zeros((B, H + 1))))


# -- optional: PyTorch parity ------------------------------------------------------------------

def test_matches_torch_lstm():
    torch = pytest.importorskip("torch")
    from scratchlstm.interop import rnn_state_dict_to_torch

    rng, params, x, (h0, c0) = make_case(16)
    outputs, (h, c), cache = lstm_forward(params, x, initial_state=(h0, c0))
    d_out = rng.normal(size=(B, T, H))
    grads, d_x, _ = lstm_backward(params, cache, d_out)

    module = torch.nn.LSTM(I, H, batch_first=True).double()
    with torch.no_grad():
        for name, value in rnn_state_dict_to_torch([{"forward": params, "backward": None}], "LSTM").items():
            getattr(module, name).copy_(torch.from_numpy(value))
    x_t = torch.from_numpy(x).requires_grad_(True)
    out_t, (h_t, c_t) = module(x_t, (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    (out_t * torch.from_numpy(d_out)).sum().backward()
    np.testing.assert_allclose(out_t.detach().numpy(), outputs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_t[0].detach().numpy(), h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_t[0].detach().numpy(), c, rtol=0, atol=1e-12)
    np.testing.assert_allclose(x_t.grad.numpy(), d_x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(module.weight_ih_l0.grad.numpy().T, grads["kernel"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(module.weight_hh_l0.grad.numpy().T, grads["recurrent_kernel"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(module.bias_ih_l0.grad.numpy(), grads["bias"], rtol=1e-10, atol=1e-12)


def test_backward_without_input_gradient_gives_the_same_weight_gradients():
    from scratchlstm._numpy import dense_backward, dense_forward

    rng = np.random.default_rng(5)
    params = {"kernel": rng.normal(size=(3, 8)), "recurrent_kernel": rng.normal(size=(2, 8)), "bias": rng.normal(size=8)}
    outputs, _, cache = lstm_forward(params, rng.normal(size=(4, 5, 3)))
    d_outputs = rng.normal(size=outputs.shape)
    full, d_x, full_state = lstm_backward(params, cache, d_outputs)
    skipped, no_d_x, skipped_state = lstm_backward(params, cache, d_outputs, input_gradient=False)
    assert d_x.shape == (4, 5, 3) and no_d_x is None
    for name in full:
        np.testing.assert_array_equal(full[name], skipped[name])
    np.testing.assert_array_equal(full_state[0], skipped_state[0])
    dense_params = {"kernel": rng.normal(size=(2, 1)), "bias": rng.normal(size=1)}
    _, dense_cache = dense_forward(dense_params, outputs)
    grads, none = dense_backward(dense_params, dense_cache, np.ones((4, 5, 1)), input_gradient=False)
    assert none is None and grads["kernel"].shape == (2, 1)


# -- memory layout ------------------------------------------------------------------------------

@pytest.mark.parametrize("use_bias", [True, False])
def test_results_do_not_depend_on_the_memory_layout_of_the_arguments(use_bias):
    """Column-major or strided parameters, inputs, states and upstream gradients give the same
    numbers as C-contiguous ones (the code normalises layouts for its GEMMs)."""
    rng, params, x, (h0, c0) = make_case(21)
    if not use_bias:
        del params["bias"]
    d_out = rng.normal(size=(B, T, H))
    d_h = rng.normal(size=(B, H))
    reference = lstm_forward(params, x, initial_state=(h0, c0))
    reference_grads = lstm_backward(params, reference[2], d_out, (d_h, None))

    fortran = {name: np.asfortranarray(value) for name, value in params.items()}
    strided_x = np.repeat(x, 2, axis=2)[:, :, ::2]  # same values, non-contiguous
    outputs, (h, c), cache = lstm_forward(fortran, strided_x, initial_state=(h0.T.copy().T, c0[:, ::-1][:, ::-1]))
    grads, d_x, (d_h0, d_c0) = lstm_backward(fortran, cache, np.asfortranarray(d_out), (d_h.T.copy().T, None))

    np.testing.assert_allclose(outputs, reference[0], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(h, reference[1][0], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(c, reference[1][1], rtol=1e-13, atol=1e-14)
    assert sorted(grads) == sorted(params)
    for name in params:
        np.testing.assert_allclose(grads[name], reference_grads[0][name], rtol=1e-12, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(d_x, reference_grads[1], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(d_h0, reference_grads[2][0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(d_c0, reference_grads[2][1], rtol=1e-12, atol=1e-13)


def test_cache_keeps_the_bias_as_a_column_of_ones_and_tanh_of_the_cells():
    _, params, x, state = make_case(22)
    _, _, cache = lstm_forward(params, x, initial_state=state)
    assert cache.has_bias and cache.projection_inputs.shape == (T, B, I + 1)
    np.testing.assert_array_equal(cache.projection_inputs[..., I], 1.0)
    np.testing.assert_array_equal(cache.inputs_time_major, np.swapaxes(x, 0, 1))
    np.testing.assert_allclose(cache.tanh_cells, np.tanh(cache.cells[1:]), rtol=0, atol=1e-15)
    del params["bias"]
    _, _, cache = lstm_forward(params, x, initial_state=state)
    assert not cache.has_bias and cache.projection_inputs.shape == (T, B, I)
