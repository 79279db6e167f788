"""The LSTM consumes Keras masks (``Embedding(mask_zero=True) -> LSTM``), as Keras 3's ``RNN``.

A masked step ``mask[b, t] = False`` carries row ``b``'s ``h`` and ``c`` over unchanged and outputs
the carried ``h`` (zeros with ``zero_output_for_mask``). Checked here: the masked BPTT against
float64 finite differences for every parameter, the input and the initial state (leading,
trailing and interior masked steps, a fully masked row, T = 1; sequence and last-step losses;
return_sequences / return_state through the layer protocol), the forward against an independent
"run only the unmasked steps" reference and against live Keras (outputs, output masks, one SGD
step of an Embedding -> LSTM -> Dense model on both backends), JAX = NumPy with masks in both
gradient modes, configs, training and save/load.
"""

import numpy as np
import pytest

from scratchlstm import Input, Model, load_model
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._numpy.rnn.lstm import layer_backward, layer_forward, lstm_backward, lstm_forward
from scratchlstm.layers import LSTM, Dense, Embedding
from scratchlstm.layers.pooling import GlobalAveragePooling1D

F64 = "float64"
TOLERANCE = 1e-6
PARAM_NAMES = ("kernel", "recurrent_kernel", "bias")

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
SINGLE_STEP = np.array([[1], [0], [1], [0]], bool)  # T = 1
MASKS = {"mixed": MIXED, "single_step": SINGLE_STEP}


def make_case(seed, mask, features=2, units=3, scale=0.5):
    """Random float64 params (non-zero bias), inputs and initial state for ``mask``'s (B, T)."""
    batch, steps = mask.shape
    rng = np.random.default_rng(seed)
    params = {
        "kernel": rng.normal(scale=scale, size=(features, 4 * units)),
        "recurrent_kernel": rng.normal(scale=scale, size=(units, 4 * units)),
        "bias": rng.normal(scale=scale, size=4 * units),
    }
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=scale, size=(batch, units))
    c0 = rng.normal(scale=scale, size=(batch, units))
    return rng, params, x, h0, c0


@pytest.fixture
def keras():
    return pytest.importorskip("keras")


@pytest.fixture
def x64():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


# --- the pure functions: finite differences ----------------------------------------------------------
@pytest.mark.parametrize("mask_name", sorted(MASKS))
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("loss", ["all_steps", "last_step_only"])
def test_masked_backward_matches_finite_differences(mask_name, zero_output, loss):
    mask = MASKS[mask_name]
    rng, params, x, h0, c0 = make_case(1, mask)
    outputs_shape = x.shape[:2] + (h0.shape[1],)
    r_out = rng.normal(size=outputs_shape) if loss == "all_steps" else None
    r_h, r_c = rng.normal(size=h0.shape), (rng.normal(size=c0.shape) if loss == "all_steps" else None)

    def objective(values):
        p = {k: values[k] for k in PARAM_NAMES}
        out, (h, c), _ = lstm_forward(p, values["x"], (values["h0"], values["c0"]), mask=mask,
                                      zero_output_for_mask=zero_output)
        total = np.sum(h * r_h)
        if r_out is not None:
            total += np.sum(out * r_out) + np.sum(c * r_c)
        return total

    _, _, cache = lstm_forward(params, x, (h0, c0), mask=mask, zero_output_for_mask=zero_output)
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, r_out, (r_h, r_c), mask=mask)
    analytic = {**grads, "x": d_x, "h0": d_h0, "c0": d_c0}
    values = {**params, "x": x, "h0": h0, "c0": c0}
    for name in values:
        numeric = numerical_gradient(objective, values, name)
        assert relative_error(analytic[name], numeric) < TOLERANCE, name
    # a masked step is the identity: its input gets no gradient, ...
    np.testing.assert_array_equal(d_x[~mask], 0.0)
    assert np.abs(d_x[mask]).min() > 0
    # ... and a fully masked row passes its gradients straight to the initial state.
    for row in np.flatnonzero(~mask.any(axis=1)):
        expected_h = r_h[row] + (0 if r_out is None or zero_output else r_out[row].sum(axis=0))
        np.testing.assert_allclose(d_h0[row], expected_h, rtol=1e-12)
        np.testing.assert_allclose(d_c0[row], 0 if r_c is None else r_c[row], rtol=1e-12)


def test_the_check_fails_a_backward_that_ignores_the_mask():
    """Gradients of the unmasked recurrence are far from the masked finite differences."""
    _, params, x, h0, c0 = make_case(2, MIXED)
    r_h = np.ones_like(h0)
    _, _, unmasked_cache = lstm_forward(params, x, (h0, c0))
    wrong = lstm_backward(params, unmasked_cache, None, (r_h, None))[0]["kernel"]

    def objective(values):
        return np.sum(lstm_forward({**params, "kernel": values["kernel"]}, x, (h0, c0), mask=MIXED)[1][0] * r_h)

    assert relative_error(wrong, numerical_gradient(objective, params, "kernel")) > 1e-2


# --- the forward semantics -------------------------------------------------------------------------
def test_masked_forward_equals_running_only_the_unmasked_steps():
    """Per row, h_T and c_T are those of the LSTM run on the unmasked steps alone; each output is
    the state after the last unmasked step so far (h0 before the first)."""
    _, params, x, h0, c0 = make_case(3, MIXED)
    outputs, (h, c), _ = lstm_forward(params, x, (h0, c0), mask=MIXED)
    for row in range(len(MIXED)):
        state = (h0[row : row + 1], c0[row : row + 1])
        for t in range(MIXED.shape[1]):
            if MIXED[row, t]:
                _, state, _ = lstm_forward(params, x[row : row + 1, t : t + 1], state)
            np.testing.assert_allclose(outputs[row, t], state[0][0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(h[row], state[0][0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(c[row], state[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(outputs[3], np.broadcast_to(h0[3], outputs[3].shape))


def test_zero_output_for_mask_zeroes_only_the_masked_outputs():
    _, params, x, h0, c0 = make_case(4, MIXED)
    carried, state, _ = lstm_forward(params, x, (h0, c0), mask=MIXED)
    zeroed, zero_state, _ = lstm_forward(params, x, (h0, c0), mask=MIXED, zero_output_for_mask=True)
    np.testing.assert_array_equal(zeroed[~MIXED], 0.0)
    np.testing.assert_array_equal(zeroed[MIXED], carried[MIXED])
    for a, b in zip(state, zero_state):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_all_true_mask_gives_the_unmasked_results_bit_for_bit(dtype):
    rng, params, x, h0, c0 = make_case(5, np.ones((3, 7), bool))
    params = {k: v.astype(dtype) for k, v in params.items()}
    x, h0, c0 = x.astype(dtype), h0.astype(dtype), c0.astype(dtype)
    d_out, d_h = rng.normal(size=(3, 7, 3)).astype(dtype), rng.normal(size=(3, 3)).astype(dtype)
    plain = lstm_forward(params, x, (h0, c0))
    masked = lstm_forward(params, x, (h0, c0), mask=np.ones((3, 7), np.int32))  # numbers count as bools
    np.testing.assert_array_equal(masked[0], plain[0])
    np.testing.assert_array_equal(masked[1][1], plain[1][1])
    plain_grads = lstm_backward(params, plain[2], d_out, (d_h, None))
    masked_grads = lstm_backward(params, masked[2], d_out, (d_h, None))
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(masked_grads[0][name], plain_grads[0][name])
    np.testing.assert_array_equal(masked_grads[1], plain_grads[1])
    np.testing.assert_array_equal(masked_grads[2][0], plain_grads[2][0])
    assert plain[2].step_mask is None and masked[2].step_mask.shape == (7, 3, 1)


def test_long_sequences_cross_backward_blocks():
    """T = 40 makes the backward walk several blocks of local slopes: still exact."""
    mask = np.random.default_rng(6).random((2, 40)) < 0.6
    rng, params, x, h0, c0 = make_case(6, mask, features=1, units=2)
    r_out = rng.normal(size=(2, 40, 2))
    _, _, cache = lstm_forward(params, x, (h0, c0), mask=mask)
    grads, d_x, (d_h0, _) = lstm_backward(params, cache, r_out)

    def objective(values):
        out = lstm_forward({**params, **{k: values[k] for k in PARAM_NAMES}}, values["x"], (values["h0"], c0),
                           mask=mask)[0]
        return np.sum(out * r_out)

    values = {**params, "x": x, "h0": h0}
    for name, analytic in (("recurrent_kernel", grads["recurrent_kernel"]), ("x", d_x), ("h0", d_h0)):
        assert relative_error(analytic, numerical_gradient(objective, values, name)) < TOLERANCE, name


# --- the layer protocol: return_sequences / return_state / initial_state ------------------------------
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_layer_backward_matches_finite_differences(return_sequences, return_state, zero_output):
    rng, params, x, h0, c0 = make_case(7, MIXED)
    layer = LSTM(3, return_sequences=return_sequences, return_state=return_state,
                 zero_output_for_mask=zero_output, dtype=F64)
    layer([x, h0, c0])
    mask = [MIXED, None, None]  # what the graph passes for a call with initial_state
    outputs = layer_forward(layer, params, {}, [x, h0, c0], mask=mask)[0]
    upstream = [rng.normal(size=o.shape) for o in (outputs if return_state else [outputs])]

    def objective(values):
        out = layer_forward(layer, {k: values[k] for k in PARAM_NAMES}, {},
                            [values["x"], values["h0"], values["c0"]], mask=mask)[0]
        return sum(np.sum(o * u) for o, u in zip(out if return_state else [out], upstream))

    _, _, cache = layer_forward(layer, params, {}, [x, h0, c0], mask=mask)
    grads, (d_x, d_h0, d_c0) = layer_backward(layer, params, cache, upstream if return_state else upstream[0])
    analytic = {**grads, "x": d_x, "h0": d_h0, "c0": d_c0}
    values = {**params, "x": x, "h0": h0, "c0": c0}
    for name in values:
        assert relative_error(analytic[name], numerical_gradient(objective, values, name)) < TOLERANCE, name
    if not return_sequences and zero_output:  # Keras' outputs[:, -1]: zeros where the last step is masked
        last = outputs[0] if return_state else outputs
        np.testing.assert_array_equal(last[~MIXED[:, -1]], 0.0)


def test_compute_mask_follows_keras(keras):
    x = np.zeros((4, 5, 2))
    for return_sequences in (False, True):
        for return_state in (False, True):
            ours = LSTM(3, return_sequences=return_sequences, return_state=return_state)
            theirs = keras.layers.LSTM(3, return_sequences=return_sequences, return_state=return_state)
            expected = theirs.compute_mask(x, MIXED)
            got = ours.compute_mask(x, MIXED)
            got_list, expected_list = (got, expected) if return_state else ([got], [expected])
            assert len(got_list) == len(expected_list)
            for a, b in zip(got_list, expected_list):
                assert (a is None) == (b is None)
                if b is not None:
                    np.testing.assert_array_equal(a, np.asarray(b))
            if not return_state:  # a call on [x, h0, c0] propagates the mask of x
                assert ours.compute_mask([x, None, None], [MIXED, None, None]) is got
    assert LSTM.supports_masking and keras.layers.LSTM(3).supports_masking
    assert LSTM(3).compute_mask(x, None) is None


# --- against live Keras ------------------------------------------------------------------------------
IDS = np.array([[0, 3, 4, 0, 2], [1, 2, 3, 0, 0], [0, 0, 0, 0, 0], [4, 1, 0, 2, 3]], np.int32)


def keras_masked_model(keras, return_sequences, zero_output=False):
    ids = keras.Input((IDS.shape[1],), dtype="int32")
    embedded = keras.layers.Embedding(5, 3, mask_zero=True)(ids)
    lstm = keras.layers.LSTM(4, return_sequences=return_sequences, zero_output_for_mask=zero_output)
    return keras.Model(ids, lstm(embedded)), lstm


def our_masked_model(return_sequences, zero_output=False, mask_zero=True, dtype="float32"):
    ids = Input((IDS.shape[1],), dtype="int32")
    embedded = Embedding(5, 3, mask_zero=mask_zero, dtype=dtype)(ids)
    lstm = LSTM(4, return_sequences=return_sequences, zero_output_for_mask=zero_output, dtype=dtype)
    return Model(ids, lstm(embedded)), lstm


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_embedding_masked_lstm_matches_keras(keras, return_sequences, zero_output):
    theirs, their_lstm = keras_masked_model(keras, return_sequences, zero_output)
    rng = np.random.default_rng(8)
    weights = [rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    expected = np.asarray(theirs.predict(IDS, verbose=0))
    ours, our_lstm = our_masked_model(return_sequences, zero_output)
    ours.set_weights(weights)
    assert ours.output_shape == theirs.output_shape
    for backend in ("numpy", "jax"):
        if backend == "jax":
            pytest.importorskip("jax")
            ours.compile("sgd", "mse", backend="jax")
        np.testing.assert_allclose(ours.predict(IDS, verbose=0), expected, rtol=1e-5, atol=1e-6, err_msg=backend)
    # the mask matters: without it the outputs differ
    unmasked, _ = our_masked_model(return_sequences, zero_output, mask_zero=False)
    unmasked.set_weights(weights)
    assert np.abs(unmasked.predict(IDS, verbose=0) - expected).max() > 1e-2
    # the output mask of the layer, as Keras' compute_mask gives it
    embedded = np.asarray(theirs.layers[1](IDS))
    theirs_mask = their_lstm.compute_mask(embedded, IDS != 0)
    ours_mask = our_lstm.compute_mask(embedded, IDS != 0)
    assert (ours_mask is None) == (theirs_mask is None) == (not return_sequences)
    if return_sequences:
        np.testing.assert_array_equal(ours_mask, np.asarray(theirs_mask))


def test_eager_call_with_a_mask_and_return_state_matches_keras(keras):
    x = np.random.default_rng(9).normal(size=(4, 5, 2)).astype(np.float32)
    theirs = keras.layers.LSTM(3, return_sequences=True, return_state=True)
    theirs(x)
    rng = np.random.default_rng(10)
    theirs.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in theirs.get_weights()])
    ours = LSTM(3, return_sequences=True, return_state=True)
    ours(x)
    ours.set_weights(theirs.get_weights())
    h0 = rng.normal(size=(4, 3)).astype(np.float32)
    c0 = rng.normal(size=(4, 3)).astype(np.float32)
    expected = theirs(x, mask=MIXED, initial_state=[h0, c0])
    got = ours(x, mask=MIXED, initial_state=[h0, c0])
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def one_sgd_step_model(make_layers, ids_input):
    """Embedding(mask_zero) -> LSTM over the masked sequence -> masked average -> Dense, and the
    same with the LSTM's last output."""
    embedded = make_layers["embedding"](ids_input)
    sequence = make_layers["lstm_sequence"](embedded)
    last = make_layers["lstm_last"](embedded)
    pooled = make_layers["pool"](sequence)
    merged = make_layers["concat"]([pooled, last])
    return make_layers["dense"](merged)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_one_sgd_step_matches_keras(keras, backend):
    """Keras' ``train_on_batch`` with SGD vs ours: the weights after one step agree.

    No fully masked row here: the masked average of one is 0 / 0 = NaN, in Keras as in ours.
    """
    if backend == "jax":
        pytest.importorskip("jax")
    from scratchlstm import optimizers
    from scratchlstm.layers import Concatenate

    ids = np.array([[0, 3, 4, 0, 2], [1, 2, 3, 0, 0], [0, 0, 0, 0, 1], [4, 1, 0, 2, 3]], np.int32)
    y = np.random.default_rng(11).normal(size=(len(ids), 2)).astype(np.float32)
    their_ids = keras.Input((ids.shape[1],), dtype="int32")
    theirs = keras.Model(their_ids, one_sgd_step_model({
        "embedding": keras.layers.Embedding(5, 3, mask_zero=True),
        "lstm_sequence": keras.layers.LSTM(4, return_sequences=True),
        "lstm_last": keras.layers.LSTM(3),
        "pool": keras.layers.GlobalAveragePooling1D(),
        "concat": keras.layers.Concatenate(),
        "dense": keras.layers.Dense(2),
    }, their_ids))
    rng = np.random.default_rng(12)
    weights = [rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    theirs.compile(keras.optimizers.SGD(learning_rate=0.5), "mse")
    theirs.train_on_batch(ids, y)
    expected = theirs.get_weights()

    def ours(mask_zero):
        our_ids = Input((ids.shape[1],), dtype="int32")
        model = Model(our_ids, one_sgd_step_model({
            "embedding": Embedding(5, 3, mask_zero=mask_zero),
            "lstm_sequence": LSTM(4, return_sequences=True),
            "lstm_last": LSTM(3),
            "pool": GlobalAveragePooling1D(),
            "concat": Concatenate(),
            "dense": Dense(2),
        }, our_ids))
        model.set_weights(weights)
        model.compile(optimizers.SGD(learning_rate=0.5), "mse", backend=backend)
        model.train_on_batch(ids, y)
        return model.get_weights()

    got = ours(mask_zero=True)
    assert len(got) == len(expected)
    for index, (a, b, before) in enumerate(zip(got, expected, weights)):
        assert np.abs(b - before).max() > 1e-3 or index == 0  # every LSTM and Dense weight moved
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-6, err_msg=f"weight {index}")
    unmasked = ours(mask_zero=False)
    assert max(np.abs(a - b).max() for a, b in zip(unmasked, expected)) > 1e-3


# --- JAX = NumPy with masks ----------------------------------------------------------------------------
@pytest.mark.parametrize("gradient", ["bptt", "autodiff"])
@pytest.mark.parametrize("projection", ["inside", "outside"])
@pytest.mark.parametrize("zero_output", [False, True])
def test_jax_matches_numpy_values_and_gradients(x64, gradient, projection, zero_output):
    jax = x64
    from scratchlstm.jax_backend.rnn.lstm import lstm_forward as jax_lstm_forward

    rng, params, x, h0, c0 = make_case(13, MIXED)
    r_out, r_h, r_c = rng.normal(size=(4, 5, 3)), rng.normal(size=h0.shape), rng.normal(size=c0.shape)
    outputs, (h, c), cache = lstm_forward(params, x, (h0, c0), mask=MIXED, zero_output_for_mask=zero_output)
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, r_out, (r_h, r_c))

    def forward(p, x, h0, c0, mask):
        return jax_lstm_forward(p, x, (h0, c0), mask=mask, zero_output_for_mask=zero_output,
                                gradient=gradient, projection=projection)

    def objective(p, x, h0, c0, mask):
        out, (h, c) = forward(p, x, h0, c0, mask)
        return (out * r_out).sum() + (h * r_h).sum() + (c * r_c).sum()

    jax_out, (jax_h, jax_c) = jax.jit(forward)(params, x, h0, c0, MIXED)
    for a, b in ((jax_out, outputs), (jax_h, h), (jax_c, c)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-14)
    jax_grads = jax.jit(jax.grad(objective, argnums=(0, 1, 2, 3)))(params, x, h0, c0, MIXED)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(np.asarray(jax_grads[0][name]), grads[name], rtol=1e-10, atol=1e-13, err_msg=name)
    for a, b, name in zip(jax_grads[1:], (d_x, d_h0, d_c0), ("x", "h0", "c0")):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-10, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_jax_layer_forward_matches_numpy(x64, return_sequences, return_state):
    from scratchlstm.jax_backend.rnn import lstm as jax_lstm

    _, params, x, h0, c0 = make_case(14, MIXED)
    layer = LSTM(3, return_sequences=return_sequences, return_state=return_state, zero_output_for_mask=True,
                 dtype=F64)
    layer([x, h0, c0])
    expected = layer_forward(layer, params, {}, [x, h0, c0], mask=[MIXED, None, None])[0]
    got = jax_lstm.layer_forward(layer, params, {}, [x, h0, c0], mask=[MIXED, None, None])[0]
    for a, b in zip(got if return_state else [got], expected if return_state else [expected]):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-12, atol=1e-14)


def test_jax_fit_matches_numpy_with_a_masked_lstm(x64):
    ids = np.random.default_rng(15).integers(1, 5, size=(12, 5))
    ids[np.arange(5) >= np.random.default_rng(16).integers(0, 6, size=12)[:, None]] = 0  # right padding
    y = np.random.default_rng(17).normal(size=(12, 4))
    results = {}
    for backend in ("numpy", "jax"):
        model, _ = our_masked_model(return_sequences=False, dtype=F64)
        model.set_weights([np.random.default_rng(18 + k).normal(scale=0.5, size=w.shape)
                           for k, w in enumerate(model.get_weights())])
        model.compile("adam", "mse", backend=backend)
        history = model.fit(ids, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
        results[backend] = (history.history["loss"], model.get_weights())
    np.testing.assert_allclose(results["jax"][0], results["numpy"][0], rtol=1e-10)
    for a, b in zip(results["jax"][1], results["numpy"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# --- configuration, training, save / load, bad input --------------------------------------------------
def test_config_round_trip_and_keras_config(keras):
    layer = LSTM(3, return_sequences=True, zero_output_for_mask=True, dtype=F64)
    config = layer.get_config()
    assert config["zero_output_for_mask"] is True
    assert LSTM.from_config(config).get_config() == config
    assert keras.layers.LSTM(3, zero_output_for_mask=True).get_config()["zero_output_for_mask"] is True
    assert LSTM(3).get_config()["zero_output_for_mask"] is False


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_masked_model_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    ids = np.random.default_rng(19).integers(0, 5, size=(16, 5)).astype(np.int32)
    y = np.random.default_rng(20).normal(size=(16, 4)).astype(np.float32)
    model, _ = our_masked_model(return_sequences=False)
    model.compile("adam", "mse", backend=backend)
    losses = model.fit(ids, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    model.save(tmp_path / "masked.npz")
    loaded = load_model(tmp_path / "masked.npz")
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))


def test_bad_masks_raise_value_error_naming_expected_and_received():
    _, params, x, h0, c0 = make_case(21, MIXED)
    with pytest.raises(ValueError, match=r"mask.*\(4, 5\).*\(4, 4\)"):
        lstm_forward(params, x, mask=MIXED[:, :4])
    with pytest.raises(ValueError, match="mask"):
        lstm_forward(params, x, mask=np.full((4, 5), "a"))
    _, _, cache = lstm_forward(params, x, mask=MIXED)
    with pytest.raises(ValueError, match="differs"):
        lstm_backward(params, cache, d_state=(h0, None), mask=~MIXED)
    _, _, unmasked_cache = lstm_forward(params, x)
    with pytest.raises(ValueError, match="unmasked"):
        lstm_backward(params, unmasked_cache, d_state=(h0, None), mask=MIXED)


def test_jax_bad_mask_shape_raises(x64):
    from scratchlstm.jax_backend.rnn.lstm import lstm_forward as jax_lstm_forward

    _, params, x, _, _ = make_case(22, MIXED)
    with pytest.raises(ValueError, match=r"mask.*\(4, 5\).*\(5, 4\)"):
        jax_lstm_forward(params, x, mask=MIXED.T)
