"""The functional API: a graph with two inputs, two outputs, a shared layer, a nested model and
every merge layer; its NumPy backward against finite differences, JAX against NumPy, and the
model surface (names, weights, summary, bad input)."""

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, Input, Model, Sequential, optimizers
from scratchlstm._numpy import graph
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._tree import flatten_paths, unflatten_paths
from scratchlstm.layers import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract

F64 = "float64"


def graph_model(seed=0, dtype=F64):
    """Two inputs, two outputs; ``shared`` is called twice, ``inner`` is a nested model."""
    series = Input((4, 3), name="series", dtype=dtype)
    extra = Input((5,), name="extra", dtype=dtype)
    inner_input = Input((5,), dtype=dtype)
    inner = Model(inner_input, Dense(5, activation="sigmoid", seed=seed + 1, dtype=dtype)(inner_input), name="inner")
    shared = Dense(5, activation="tanh", name="shared", seed=seed + 2, dtype=dtype)
    sequence = LSTM(5, return_sequences=True, seed=seed + 3, dtype=dtype)(series)
    last = LSTM(5, seed=seed + 4, dtype=dtype)(sequence)
    p, q = shared(last), shared(extra)
    r = inner(q)
    merged = Concatenate()([
        Add()([p, r]), Subtract()([p, q]), Multiply()([p, r]),
        Average()([p, q, r]), Maximum()([p, q]), Minimum()([q, r]),
    ])
    similarity = Dot(axes=1, normalize=True)([p, q])
    first = Dense(2, name="first", seed=seed + 5, dtype=dtype)(merged)
    second = Dense(1, name="second", seed=seed + 6, dtype=dtype)(Concatenate(axis=-1)([similarity, last]))
    return Model([series, extra], [first, second], name="two_headed")


def random_inputs(rng, batch=3, dtype=np.float64):
    return [rng.normal(size=(batch, 4, 3)).astype(dtype), rng.normal(size=(batch, 5)).astype(dtype)]


def nonzero_biases(model, rng):
    """Random non-zero biases, so that a gradient that ignores a bias cannot pass."""
    weights = [w + 0.1 * rng.normal(size=w.shape) for w in model.get_weights()]
    model.set_weights(weights)


# --- NumPy backward over the graph ----------------------------------------------------------------
def test_graph_backward_matches_finite_differences_for_every_parameter_and_input():
    rng = np.random.default_rng(0)
    model = graph_model()
    nonzero_biases(model, rng)
    xs = random_inputs(rng)
    params = model.params
    outputs, _, cache = graph.layer_forward(model, params, {}, xs)
    upstream = [rng.normal(size=o.shape) for o in outputs]
    grads, d_inputs = graph.layer_backward(model, params, cache, upstream)

    def objective(flat_params, inputs):
        out, _, _ = graph.layer_forward(model, unflatten_paths(flat_params), {}, inputs)
        return sum(float(np.sum(o * u)) for o, u in zip(out, upstream))

    flat, flat_grads = flatten_paths(params), flatten_paths(grads)
    assert set(flat_grads) == set(flat)  # every weight, the nested model's and the shared one's
    assert "shared/kernel" in flat and "inner/dense" not in flat and any(p.startswith("inner/") for p in flat)
    # eps 1e-4: behind two LSTMs some entries are ~1e-6, where 1e-5 steps are roundoff-bound.
    for path in flat:
        numeric = numerical_gradient(lambda d: objective(d, xs), flat, path, eps=1e-4)
        assert relative_error(flat_grads[path], numeric) < 1e-6, path
    for k in range(2):
        probe = {"x": xs[k]}
        numeric = numerical_gradient(
            lambda d: objective(flat, [d["x"] if j == k else xs[j] for j in range(2)]), probe, "x", eps=1e-4)
        assert relative_error(d_inputs[k], numeric) < 1e-6, f"input {k}"


def test_shared_layer_gradient_is_the_sum_over_its_calls():
    rng = np.random.default_rng(1)
    x = Input((3,), dtype=F64)
    shared = Dense(3, activation="tanh", seed=0, dtype=F64)
    model = Model(x, shared(shared(x)))
    data = rng.normal(size=(4, 3))
    params = model.params
    out, _, cache = graph.layer_forward(model, params, {}, data)
    grads, _ = graph.layer_backward(model, params, cache, np.ones_like(out), input_gradient=False)
    inner_out = np.tanh(data @ params[shared.name]["kernel"] + params[shared.name]["bias"])
    numeric = numerical_gradient(
        lambda d: float(np.sum(graph.layer_forward(model, {shared.name: d}, {}, data)[0])),
        params[shared.name], "kernel",
    )
    assert relative_error(grads[shared.name]["kernel"], numeric) < 1e-6
    assert not np.allclose(inner_out, out)  # the second call really saw the first call's output


# --- JAX = NumPy on the same graph ---------------------------------------------------------------
@pytest.fixture
def x64():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


def test_jax_graph_matches_numpy_outputs_and_gradients(x64):
    jax = x64
    from scratchlstm.jax_backend import graph as jax_graph

    rng = np.random.default_rng(2)
    model = graph_model()
    nonzero_biases(model, rng)
    xs = random_inputs(rng)
    params = model.params
    outputs, _, cache = graph.layer_forward(model, params, {}, xs)
    jax_outputs, _ = jax.jit(lambda p, x: jax_graph.layer_forward(model, p, {}, x))(params, xs)
    for a, b in zip(outputs, jax_outputs):
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-10, atol=1e-12)
    upstream = [rng.normal(size=o.shape) for o in outputs]
    grads, d_inputs = graph.layer_backward(model, params, cache, upstream)

    def objective(p, x):
        out, _ = jax_graph.layer_forward(model, p, {}, x)
        return sum((o * u).sum() for o, u in zip(out, upstream))

    jax_grads, jax_d_inputs = jax.jit(jax.grad(objective, argnums=(0, 1)))(params, xs)
    for path, value in flatten_paths(grads).items():
        np.testing.assert_allclose(np.asarray(flatten_paths(jax_grads)[path]), value, rtol=1e-8, atol=1e-10, err_msg=path)
    for a, b in zip(d_inputs, jax_d_inputs):
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-8, atol=1e-10)


def fit_two_headed(backend, epochs=3):
    rng = np.random.default_rng(3)
    model = graph_model(seed=10)
    model.compile(
        optimizer="adam", loss={"first": "mse", "second": "mae"}, loss_weights={"first": 1.0, "second": 0.5},
        metrics={"first": ["mae"], "second": ["mse"]}, backend=backend,
    )
    xs = random_inputs(rng, batch=20)
    ys = {"first": rng.normal(size=(20, 2)), "second": rng.normal(size=(20, 1))}
    history = model.fit({"series": xs[0], "extra": xs[1]}, ys, batch_size=8, epochs=epochs, verbose=0, shuffle=False)
    return model, history.history


def test_jax_fit_history_and_weights_match_numpy_on_the_graph(x64):
    numpy_model, numpy_history = fit_two_headed("numpy")
    jax_model, jax_history = fit_two_headed("jax")
    assert list(numpy_history) == ["loss", "first_loss", "second_loss", "first_mae", "second_mse"]
    assert list(jax_history) == list(numpy_history)
    for key in numpy_history:
        np.testing.assert_allclose(jax_history[key], numpy_history[key], rtol=1e-8, err_msg=key)
    for a, b in zip(jax_model.get_weights(), numpy_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    total = np.array(numpy_history["first_loss"]) + 0.5 * np.array(numpy_history["second_loss"])
    np.testing.assert_allclose(numpy_history["loss"], total, rtol=1e-12)


def test_one_optimizer_step_matches_between_backends(x64):
    rng = np.random.default_rng(4)
    xs = random_inputs(rng, batch=6)
    ys = [rng.normal(size=(6, 2)), rng.normal(size=(6, 1))]
    weights = {}
    for backend in ("numpy", "jax"):
        model = graph_model(seed=20)
        model.compile("sgd", ["mse", "mse"], backend=backend)
        model.train_on_batch(xs, ys)
        weights[backend] = model.get_weights()
    for a, b in zip(weights["jax"], weights["numpy"]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# --- the model surface -----------------------------------------------------------------------------
def test_names_layers_and_get_layer():
    model = graph_model()
    assert model.input_names == ["series", "extra"] and model.output_names == ["first", "second"]
    assert model.get_layer("shared") is model.get_layer(index=[layer.name for layer in model.layers].index("shared"))
    assert model.layers[0].name == "series"  # Keras lists the InputLayers of a functional model
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")


def test_summary_has_connected_to_and_counts_a_shared_layer_once():
    lines = []
    model = graph_model()
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert "Connected to" in text and "shared[1][0]" in text
    assert f"Total params: {sum(w.size for w in model.get_weights()):,}" in text


def test_a_model_called_on_data_and_as_a_layer_in_sequential():
    rng = np.random.default_rng(5)
    inner_input = Input((6, 2))
    inner = Model(inner_input, LSTM(3, seed=0)(inner_input))
    outer = Sequential([inner, Dense(1, seed=1)])
    x = rng.normal(size=(4, 6, 2)).astype(np.float32)
    features = inner(x)
    assert features.shape == (4, 3)
    dense = outer.layers[1]
    np.testing.assert_allclose(outer.predict(x), features @ dense.get_weights()[0] + dense.get_weights()[1], rtol=1e-5)


def test_multi_input_model_trains_and_lowers_the_loss():
    rng = np.random.default_rng(6)
    a, b = Input((5, 1)), Input((2,))
    out = Dense(1, seed=0)(Concatenate()([LSTM(4, seed=1)(a), b]))
    model = Model([a, b], out)
    model.compile(optimizers.Adam(0.02), "mse")
    x1, x2 = rng.normal(size=(64, 5, 1)), rng.normal(size=(64, 2))
    y = x1[:, -1] + x2[:, :1]
    history = model.fit([x1, x2], y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_return_state_and_initial_state_encoder_decoder():
    rng = np.random.default_rng(7)
    encoder_inputs, decoder_inputs = Input((5, 2)), Input((3, 2))
    _, h, c = LSTM(4, return_state=True, seed=0)(encoder_inputs)
    decoded = LSTM(4, return_sequences=True, seed=1)(decoder_inputs, initial_state=[h, c])
    model = Model([encoder_inputs, decoder_inputs], Dense(2, seed=2)(decoded))
    model.compile("adam", "mse")
    x1, x2 = rng.normal(size=(8, 5, 2)), rng.normal(size=(8, 3, 2))
    before = model.predict([x1, x2])
    x1_changed = x1 + 1.0
    assert not np.allclose(model.predict([x1_changed, x2]), before)  # the state reaches the decoder
    params = model.params
    outputs, _, cache = graph.layer_forward(model, params, {}, [x1.astype(np.float32), x2.astype(np.float32)])
    grads, _ = graph.layer_backward(model, params, cache, np.ones_like(outputs), input_gradient=False)
    encoder = model.layers[2] if isinstance(model.layers[2], LSTM) else model.layers[1]
    assert np.abs(grads[encoder.name]["kernel"]).sum() > 0  # gradient flows through h and c


# --- frozen layers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_frozen_layers_stay_bitwise_unchanged(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(8)
    model = Sequential([LSTM(4, name="frozen_lstm"), Dense(1)], seed=0)
    model.compile("adam", "mse", backend=backend)
    model.build((None, 5, 2))
    model.layers[0].trainable = False
    frozen_before = model.layers[0].get_weights()
    dense_before = model.layers[1].get_weights()
    lines = []
    model.summary(print_fn=lines.append)
    assert f"Non-trainable params: {sum(w.size for w in frozen_before):,}" in lines[0]
    assert model.trainable_weights[0].shape == dense_before[0].shape and len(model.non_trainable_weights) == 3
    model.fit(rng.normal(size=(32, 5, 2)), rng.normal(size=(32, 1)), epochs=2, batch_size=8, verbose=0)
    for a, b in zip(model.layers[0].get_weights(), frozen_before):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(model.layers[1].get_weights(), dense_before))


def test_freezing_a_model_freezes_its_layers():
    model = graph_model()
    model.trainable = False
    assert not any(layer.trainable for layer in model.layers if not layer.is_input_layer)
    assert model.trainable_weights == [] and model.trainable_paths() == set()


# --- bad input ---------------------------------------------------------------------------------------
def test_a_tensor_from_another_model_is_refused():
    a, other = Input((3,)), Input((3,))
    y = Dense(2)(other)
    with pytest.raises(ValueError, match="not among the model's inputs"):
        Model(a, y)


def test_input_with_the_wrong_rank_and_unknown_dict_key_and_sample_counts():
    model = graph_model(dtype="float32")
    model.compile("adam", ["mse", "mse"])
    before = [w.copy() for w in model.get_weights()]
    x1, x2 = np.zeros((4, 4, 3)), np.zeros((4, 5))
    y = [np.zeros((4, 2)), np.zeros((4, 1))]
    with pytest.raises(ValueError, match=r"3-D.*\(None, 4, 3\).*\(4, 3\)"):
        model.predict([np.zeros((4, 3)), x2])
    with pytest.raises(ValueError, match=r"unknown: \['sereis'\]"):
        model.fit({"sereis": x1, "extra": x2}, y, verbose=0)
    with pytest.raises(ValueError, match="same number of samples, got 4, 3"):
        model.fit([x1, x2[:3]], y, verbose=0)
    with pytest.raises(ValueError, match=r"x and y\['second'\] must have the same number of samples, got 4 and 2"):
        model.fit([x1, x2], [y[0], y[1][:2]], verbose=0)
    with pytest.raises(ValueError, match=r"loss dict has no entry for output\(s\) \['second'\]"):
        model.compile("adam", {"first": "mse"})
    assert model.compiled.losses[1] is not None  # the failed compile kept the old settings
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_duplicate_layer_names_are_refused():
    a = Input((3,))
    with pytest.raises(ValueError, match="unique.*'twin'"):
        Model(a, Add()([Dense(2, name="twin")(a), Dense(2, name="twin")(a)]))


def test_predict_casts_float64_data_to_a_float32_model():
    x = Input((4, 2))
    model = Model(x, LSTM(3, seed=0)(x))
    assert model.predict(np.ones((2, 4, 2), np.float64)).dtype == np.float32


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_integer_inputs_stay_integers_until_a_layer_reads_them(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    ids = Input((3,), dtype="int32")
    assert ids.dtype == np.int32
    model = Model(ids, Dense(1, seed=0)(ids))
    model.compile("sgd", "mse", backend=backend)
    xs = model._prepare(np.array([[1, 2, 3]]))[0]
    assert xs[0].dtype == np.int32
    with pytest.raises(ValueError, match="whole numbers"):
        model.predict(np.array([[1.5, 2.0, 3.0]]))
    assert model.predict(np.array([[1, 2, 3]])).shape == (1, 1)


@pytest.mark.parametrize("loss", ["mse", "sparse_categorical_crossentropy"])
def test_fit_with_a_variable_length_time_axis_on_both_backends(loss):
    """Input((None, F)) with a sequence output: y of the data's length is accepted (fit refused
    every y before, comparing it with a shape that held None), and the backends agree."""
    pytest.importorskip("jax")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 6, 3)).astype(np.float32)
    y = rng.normal(size=(8, 6, 2)) if loss == "mse" else rng.integers(0, 2, size=(8, 6))
    histories = {}
    for backend in ("numpy", "jax"):
        inputs = Input((None, 3))
        outputs = Dense(2, activation=None if loss == "mse" else "softmax", seed=1)(
            LSTM(4, return_sequences=True, seed=0)(inputs))
        model = Model(inputs, outputs, seed=0)
        model.compile(optimizers.Adam(0.01), loss, backend=backend)
        histories[backend] = model.fit(x, y, epochs=2, batch_size=4, verbose=0).history["loss"]
        assert model.predict(x[:, :4], verbose=0).shape == (8, 4, 2)  # any length at predict time
    np.testing.assert_allclose(histories["jax"], histories["numpy"], rtol=1e-5)
    assert histories["numpy"][1] < histories["numpy"][0]
