"""TimeDistributed: the folded backward against finite differences, the forward, shapes, weights
and mask against Keras 3, JAX against NumPy, the weights living in the wrapped layer only,
configs, training on both backends with save/load, and the errors for bad inputs."""

import json

import numpy as np
import pytest

from scratchlstm import Input, Model, Sequential, load_model
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._tree import flatten_paths
from scratchlstm.layers import LSTM, Dense
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.core.embedding import Embedding
from scratchlstm.layers.pooling import GlobalAveragePooling1D
from scratchlstm.layers.rnn.time_distributed import TimeDistributed

F64 = "float64"


def random_weights(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([w + 0.3 * rng.normal(size=w.shape) for w in layer.get_weights()])


def ids_mask(shape, seed):
    """Integer ids with zeros (padding) and the mask ``ids != 0``."""
    ids = np.random.default_rng(seed).integers(0, 4, size=shape)
    ids[..., 0] = 1
    return ids, ids != 0


# (id, wrapper factory, input shape, mask or None)
CASES = [
    ("dense_3d", lambda: TimeDistributed(Dense(3, activation="tanh", dtype=F64)), (2, 4, 5), None),
    ("dense_4d", lambda: TimeDistributed(Dense(2, activation="sigmoid", dtype=F64)), (2, 3, 2, 4), None),
    ("dense_time_1", lambda: TimeDistributed(Dense(3, dtype=F64)), (3, 1, 2), None),
    ("lstm_over_substeps", lambda: TimeDistributed(LSTM(3, dtype=F64)), (2, 3, 4, 2), None),
    ("masked_average_over_substeps", lambda: TimeDistributed(GlobalAveragePooling1D(dtype=F64)), (2, 3, 4, 2),
     ids_mask((2, 3, 4), 0)[1]),
    ("dense_with_passing_mask", lambda: TimeDistributed(Dense(2, dtype=F64)), (2, 4, 3), ids_mask((2, 4), 1)[1]),
]
IDS = [case[0] for case in CASES]


def forward(layer, params, x, mask=None):
    return numpy_ops(layer).layer_forward(layer, params, {}, x, mask=mask)


def built(make, shape, seed=0):
    layer = make()
    x = np.random.default_rng(seed).normal(size=shape)
    layer(x)
    if layer.params:
        random_weights(layer)
    return layer, x


# --- NumPy backward against float64 central differences -------------------------------------------
@pytest.mark.parametrize("name, make, shape, mask", CASES, ids=IDS)
def test_numpy_backward_matches_finite_differences(name, make, shape, mask):
    layer, x = built(make, shape)
    params = dict(layer.params)
    y, _, cache = forward(layer, params, x, mask)
    upstream = np.random.default_rng(2).normal(size=y.shape)
    grads, d_x = numpy_ops(layer).layer_backward(layer, params, cache, upstream)
    assert set(grads) == set(params) and d_x.shape == x.shape

    def objective(p, inputs):
        return float(np.sum(forward(layer, p, inputs, mask)[0] * upstream))

    for key in params:
        assert relative_error(grads[key], numerical_gradient(lambda p: objective(p, x), params, key)) < 1e-6, key
    numeric = numerical_gradient(lambda d: objective(params, d["x"]), {"x": x}, "x")
    assert relative_error(d_x, numeric) < 1e-6 and np.abs(numeric).max() > 1e-3


def test_folding_equals_a_loop_over_steps():
    """Each step independently through the wrapped layer: the definition of TimeDistributed."""
    layer, x = built(lambda: TimeDistributed(LSTM(3, return_sequences=True, dtype=F64)), (2, 3, 4, 2))
    y = layer(x)
    for t in range(x.shape[1]):
        np.testing.assert_allclose(y[:, t], layer.layer(x[:, t]), rtol=1e-13, atol=1e-14)


def test_wrapped_embedding_gets_integer_ids_and_its_mask():
    ids, mask = ids_mask((2, 3, 4), 3)
    layer = TimeDistributed(Embedding(4, 2, mask_zero=True, dtype=F64))
    y = layer(ids)
    np.testing.assert_array_equal(y, layer.layer.get_weights()[0][ids])
    np.testing.assert_array_equal(layer.compute_mask(ids, mask), mask)  # passes through


# --- against Keras 3 --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("shape", [(2, 4, 5), (2, 3, 2, 5)])
def test_forward_weights_and_shapes_match_keras(keras, shape):
    x = np.random.default_rng(4).normal(size=shape).astype(np.float32)
    twin = keras.layers.TimeDistributed(keras.layers.Dense(3, activation="tanh"))
    expected = np.asarray(twin(x))
    layer = TimeDistributed(Dense(3, activation="tanh"))
    layer(x)
    layer.set_weights(twin.get_weights())  # Keras' order: the wrapped Dense's [kernel, bias]
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6, atol=1e-6)
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in twin.get_weights()]
    for symbolic in [(None, *shape[1:]), (None, None, *shape[2:]), (7, None, *shape[2:])]:
        assert layer.compute_output_shape(symbolic) == tuple(twin.compute_output_shape(symbolic))


def test_mask_passes_through_as_keras(keras):
    """Keras 3.15: ``TimeDistributed`` supports masking and hands the mask on unchanged."""
    ids = np.array([[3, 1, 0, 0], [2, 0, 5, 1]])
    inputs = keras.Input((4,))
    wrapped = keras.layers.TimeDistributed(keras.layers.Dense(2))(keras.layers.Embedding(6, 3, mask_zero=True)(inputs))
    keras_mask = wrapped._keras_mask
    assert keras_mask is not None and tuple(keras_mask.shape) == (None, 4)
    ours = Input((4,))
    tensor = TimeDistributed(Dense(2))(Embedding(6, 3, mask_zero=True)(ours))
    assert tensor.shape == tuple(wrapped.shape)
    layer = TimeDistributed(Dense(2))
    x = np.ones((2, 4, 3), np.float32)
    np.testing.assert_array_equal(layer.compute_mask(x, ids != 0), ids != 0)
    assert layer.supports_masking and keras.layers.TimeDistributed(keras.layers.Dense(2)).supports_masking


# --- JAX against NumPy ------------------------------------------------------------------------------
@pytest.fixture()
def jax():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("name, make, shape, mask", CASES, ids=IDS)
def test_jax_forward_and_grad_match_numpy(jax, name, make, shape, mask):
    layer, x = built(make, shape, seed=5)
    params = dict(layer.params)
    y, _, cache = forward(layer, params, x, mask)
    upstream = np.random.default_rng(6).normal(size=y.shape)
    grads, d_x = numpy_ops(layer).layer_backward(layer, params, cache, upstream)
    jax_forward = jax_ops(layer).layer_forward

    y_jax, _ = jax.jit(lambda p, v, m: jax_forward(layer, p, {}, v, mask=m))(params, x, mask)
    np.testing.assert_allclose(np.asarray(y_jax), y, rtol=1e-12, atol=1e-13)

    def objective(p, v):
        return jax.numpy.sum(jax_forward(layer, p, {}, v, mask=mask)[0] * upstream)

    d_params, d_x_jax = jax.jit(jax.grad(objective, argnums=(0, 1)))(params, x)
    for key in params:
        np.testing.assert_allclose(np.asarray(d_params[key]), grads[key], rtol=1e-10, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(np.asarray(d_x_jax), d_x, rtol=1e-10, atol=1e-12)


# --- the weights live in the wrapped layer ----------------------------------------------------------
def test_weights_live_in_one_place():
    dense = Dense(3, seed=0)
    layer = TimeDistributed(dense)
    assert not layer.built and layer.get_config()["layer"]["config"]["units"] == 3
    layer(np.ones((2, 4, 5), np.float32))
    assert dense.built and layer.params is dense.params and layer.input_shape == (None, 4, 5)
    assert layer.count_params() == 18 and layer.weight_names == ("kernel", "bias")
    new = [np.full((5, 3), 0.5), np.arange(3.0)]
    layer.set_weights(new)
    np.testing.assert_array_equal(dense.get_weights()[1], np.arange(3.0))
    dense.set_weights([np.zeros((5, 3)), np.ones(3)])
    np.testing.assert_array_equal(layer.get_weights()[1], np.ones(3))
    np.testing.assert_array_equal(layer(np.ones((2, 4, 5))), np.ones((2, 4, 3)))
    assert layer.dtype == dense.dtype == np.float32


def test_a_built_wrapped_layer_keeps_its_weights_and_freezing_reaches_it():
    dense = Dense(2, seed=0)
    dense(np.ones((1, 3), np.float32))
    before = dense.get_weights()
    layer = TimeDistributed(dense, trainable=False)
    assert layer.built and not dense.trainable
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert layer.trainable_paths("td/") == set()
    layer.trainable = True
    assert dense.trainable and layer.trainable_paths("td/") == {"td/kernel", "td/bias"}
    with pytest.raises(ValueError, match="already built as float32"):
        TimeDistributed(dense, dtype="float64")


def wrapped_model(dtype=F64, seed=0):
    x = Input((5, 3), dtype=dtype)
    h = TimeDistributed(Dense(4, activation="tanh", seed=seed), name="per_step")(x)
    return Model(x, Dense(1, seed=seed + 1)(LSTM(3, seed=seed + 2)(h)))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_model_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(32, 5, 3)), rng.normal(size=(32, 1))
    model = wrapped_model("float32")
    assert "per_step/kernel" in flatten_paths(model.params)
    before = model.get_layer("per_step").get_weights()
    model.compile("adam", "mse", backend=backend)
    losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert not np.array_equal(model.get_layer("per_step").get_weights()[0], before[0])
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    assert isinstance(loaded.get_layer("per_step"), TimeDistributed)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_frozen_wrapper_does_not_move(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(8)
    model = wrapped_model("float32")
    wrapper = model.get_layer("per_step")
    wrapper.trainable = False
    before = wrapper.get_weights()
    model.compile("adam", "mse", backend=backend)
    model.fit(rng.normal(size=(16, 5, 3)), rng.normal(size=(16, 1)), epochs=2, batch_size=8, verbose=0)
    for a, b in zip(wrapper.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_jax_fit_matches_numpy(jax):
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(16, 5, 3)), rng.normal(size=(16, 1))
    results = {}
    for backend in ("numpy", "jax"):
        model = wrapped_model(seed=3)
        model.compile("adam", "mse", backend=backend)
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
        results[backend] = (history, model.get_weights())
    np.testing.assert_allclose(results["jax"][0], results["numpy"][0], rtol=1e-10)
    for a, b in zip(results["jax"][1], results["numpy"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-11)


def test_sequential_and_model_set_weights():
    model = Sequential([Input((4, 2)), TimeDistributed(Dense(3)), TimeDistributed(Dense(1))], seed=0)
    assert model.output.shape == (None, 4, 1)
    weights = [np.full(w.shape, 0.1 * (k + 1), np.float32) for k, w in enumerate(model.get_weights())]
    model.set_weights(weights)
    for got, wanted in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, wanted)
    np.testing.assert_allclose(model.layers[0].layer.get_weights()[1], 0.2)
    assert model.predict(np.ones((2, 4, 2)), verbose=0).shape == (2, 4, 1)


# --- configs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer",
    [TimeDistributed(Dense(3, activation="relu", name="inner_dense")),
     TimeDistributed(LSTM(2, return_sequences=True), name="td_lstm", dtype="float64", trainable=False),
     TimeDistributed(Embedding(5, 2, mask_zero=True))],
    ids=lambda layer: layer.name,
)
def test_config_round_trip(keras, layer):
    config = layer.get_config()
    again = TimeDistributed.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert type(again.layer) is type(layer.layer) and again.layer is not layer.layer
    assert again.layer.name == layer.layer.name
    assert LAYER_CLASSES["TimeDistributed"] is TimeDistributed
    assert "layer" in keras.layers.TimeDistributed(keras.layers.Dense(3)).get_config()


# --- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: TimeDistributed(Dense(3))(np.ones((2, 4))), ["at least 3 dimensions", "(2, 4)"]),
        (lambda: TimeDistributed("dense"), ["Layer", "'dense'"]),
        (lambda: TimeDistributed(Dense(3))(np.ones((2, 4, 5)), mask=np.ones((2, 3), bool)),
         ["(batch, time) = (2, 4)", "(2, 3)"]),
        (lambda: TimeDistributed(LSTM(3))(np.ones((2, 4, 5))), ["each step", "(2, 4, 5)", "(None, 5)", "3-D"]),
    ],
)
def test_bad_inputs_raise_value_error_naming_expected_and_received(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_a_wrong_feature_count_after_building_is_refused_and_changes_nothing():
    layer = TimeDistributed(Dense(3, seed=0))
    layer(np.ones((2, 4, 5)))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="built for 5 features"):
        layer(np.ones((2, 4, 6)))
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
