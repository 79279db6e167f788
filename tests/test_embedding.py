"""Embedding: the scatter-add backward against finite differences and np.add.at, the forward and
mask against Keras 3, JAX against NumPy (values and jax.grad), configs, training on both
backends with save/load, and the errors for ids that are not token ids."""

import json

import numpy as np
import pytest

from scratchlstm import Input, Model, load_model
from scratchlstm._numpy.core import embedding as np_embedding
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm.layers import Dense
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.core.embedding import Embedding
from scratchlstm.layers.pooling import GlobalAveragePooling1D

F64 = "float64"


def ids_for(shape, vocab, seed=0, dtype=np.int64):
    """Random ids with repeats (and some zeros), as an array of ``dtype``."""
    return np.random.default_rng(seed).integers(vocab, size=shape).astype(dtype)


def built(layer, ids, seed=1):
    """``layer`` built on ``ids``, with random non-zero float64 embeddings."""
    layer(ids)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    return layer


# --- the backward ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (5,), (1, 1)])
def test_numpy_backward_matches_finite_differences(shape):
    ids = ids_for(shape, 4)  # repeated ids: several rows add into one gradient row
    layer = built(Embedding(4, 3, dtype=F64), ids)
    params = dict(layer.params)
    ops = numpy_ops(layer)
    y, _, cache = ops.layer_forward(layer, params, {}, ids.astype(np.float64))
    upstream = np.random.default_rng(2).normal(size=y.shape)
    grads, d_ids = ops.layer_backward(layer, params, cache, upstream)

    def objective(p):
        return float(np.sum(ops.layer_forward(layer, p, {}, ids)[0] * upstream))

    numeric = numerical_gradient(objective, params, "embeddings")
    assert relative_error(grads["embeddings"], numeric) < 1e-6
    assert np.abs(numeric).max() > 0.1 and set(grads) == {"embeddings"}
    np.testing.assert_array_equal(d_ids, np.zeros(shape))  # ids are piecewise constant
    assert d_ids.dtype == np.float64
    assert ops.layer_backward(layer, params, cache, upstream, input_gradient=False)[1] is None


def test_the_check_can_fail_a_backward_that_drops_repeats():
    """Assigning rows instead of adding them (what ``out[ids] = rows`` does) is caught."""
    ids = np.array([[1, 1, 2]])
    layer = built(Embedding(3, 2, dtype=F64), ids)
    upstream = np.random.default_rng(0).normal(size=(1, 3, 2))
    wrong = np.zeros((3, 2))
    wrong[ids.ravel()] = upstream.reshape(-1, 2)
    numeric = numerical_gradient(
        lambda p: float(np.sum(np_embedding.embedding_forward(p, ids)[0] * upstream)), dict(layer.params), "embeddings")
    assert relative_error(wrong, numeric) > 0.1


@pytest.mark.parametrize(
    "ids, vocab",
    [
        (np.random.default_rng(0).integers(7, size=200), 7),  # many repeats
        (np.random.default_rng(1).permutation(50), 60),  # all distinct, some rows never used
        (np.full(30, 4), 5),  # one id only
        (np.array([3]), 4),
        (np.zeros(0, np.int64), 3),  # no tokens
        (np.minimum(np.random.default_rng(2).zipf(1.3, size=500) - 1, 99), 100),  # Zipf, as text
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_rows_equals_add_at(ids, vocab, dtype):
    rows = np.random.default_rng(3).normal(size=(ids.size, 5)).astype(dtype)
    expected = np.zeros((vocab, 5), dtype)
    np.add.at(expected, ids, rows)
    got = np_embedding.scatter_rows(ids, rows, vocab)
    assert got.dtype == dtype and got.shape == (vocab, 5)
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)


# --- against Keras 3 --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 4), (4,)])
@pytest.mark.parametrize("mask_zero", [False, True])
def test_forward_mask_and_output_shape_match_keras(keras, shape, mask_zero):
    ids = ids_for(shape, 6, seed=4, dtype=np.int32)
    ids.flat[0] = 0
    twin = keras.layers.Embedding(6, 3, mask_zero=mask_zero)
    expected = np.asarray(twin(ids))
    layer = Embedding(6, 3, mask_zero=mask_zero)
    layer(ids)
    layer.set_weights(twin.get_weights())
    for given in (ids, ids.astype(np.float32), ids.astype(np.float64)):  # models hand over floats
        np.testing.assert_array_equal(layer(given), expected)
    keras_mask = twin.compute_mask(ids)
    ours = layer.compute_mask(ids.astype(np.float32))
    if keras_mask is None:
        assert ours is None
    else:
        np.testing.assert_array_equal(ours, np.asarray(keras_mask))
        assert ours.shape == shape and not ours.flat[0]
    symbolic = (None, *shape[1:])
    assert layer.compute_output_shape(symbolic) == tuple(twin.compute_output_shape(symbolic))
    assert layer.supports_masking == twin.supports_masking


def test_weights_and_initializer_match_keras(keras):
    table = np.arange(12.0).reshape(4, 3)
    ours, twin = Embedding(4, 3, weights=table), keras.layers.Embedding(4, 3, weights=table)
    assert ours.built and [w.shape for w in ours.get_weights()] == [w.shape for w in twin.get_weights()]
    np.testing.assert_array_equal(ours(np.array([[3, 0]])), np.asarray(twin(np.array([[3, 0]]))))
    np.testing.assert_array_equal(Embedding(4, 3, weights=[table]).get_weights()[0], table)
    layer = Embedding(400, 50, seed=0)
    layer(np.zeros((1, 1), np.int64))  # integer ids leave the layer float32 (float64 data would not)
    table = layer.get_weights()[0]
    assert table.dtype == np.float32 and -0.05 <= table.min() < -0.049 and 0.049 < table.max() <= 0.05
    assert keras.layers.Embedding(4, 3).get_config()["embeddings_initializer"]["config"]["maxval"] == 0.05


# --- JAX against NumPy ------------------------------------------------------------------------------
@pytest.fixture()
def jax():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64])
def test_jax_forward_and_grad_match_numpy(jax, dtype):
    ids = ids_for((3, 4, 2), 5, seed=5).astype(dtype)
    layer = built(Embedding(5, 3, dtype=F64), ids)
    params = dict(layer.params)
    y, _, cache = numpy_ops(layer).layer_forward(layer, params, {}, ids)
    upstream = np.random.default_rng(6).normal(size=y.shape)
    grads, d_ids = numpy_ops(layer).layer_backward(layer, params, cache, upstream)
    forward = jax_ops(layer).layer_forward

    y_jax, _ = forward(layer, params, {}, ids)
    assert y_jax.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(y_jax), y)
    traced, _ = jax.jit(lambda p, x: forward(layer, p, {}, x))(params, ids)
    np.testing.assert_array_equal(np.asarray(traced), y)

    def objective(p, x):
        return jax.numpy.sum(forward(layer, p, {}, x)[0] * upstream)

    if dtype == np.float64:
        d_params, d_x = jax.grad(objective, argnums=(0, 1))(params, ids)
        np.testing.assert_array_equal(np.asarray(d_x), d_ids)
    else:
        d_params = jax.grad(objective)(params, ids)
    np.testing.assert_allclose(np.asarray(d_params["embeddings"]), grads["embeddings"], rtol=1e-12, atol=1e-13)


def test_jax_checks_concrete_ids_and_masks_under_jit(jax):
    layer = built(Embedding(5, 2, dtype=F64, mask_zero=True), np.array([[1]]))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        jax_ops(layer).layer_forward(layer, layer.params, {}, np.array([[5]]))
    ids = np.array([[0, 3, 0], [2, 0, 4]], np.float64)
    mask = jax.jit(layer.compute_mask)(ids)
    np.testing.assert_array_equal(np.asarray(mask), ids != 0)


# --- configs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer",
    [
        Embedding(10, 4),
        Embedding(7, 2, embeddings_initializer="glorot_uniform", mask_zero=True, name="tokens", seed=3),
        Embedding(3, 2, embeddings_initializer={"class_name": "RandomNormal", "config": {"stddev": 0.5}},
                  dtype="float64", trainable=False),
    ],
    ids=lambda layer: layer.name,
)
def test_config_round_trip(keras, layer):
    config = layer.get_config()
    again = Embedding.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert LAYER_CLASSES["Embedding"] is Embedding
    keras_config = keras.layers.Embedding(10, 4).get_config()
    assert {"input_dim", "output_dim", "mask_zero", "embeddings_initializer"} <= set(config) & set(keras_config)


# --- in a model, on both backends -----------------------------------------------------------------
def embedding_model(seed=0, dtype=F64, ids_dtype=None):
    ids = Input((6,), dtype=ids_dtype or dtype)
    vectors = Embedding(9, 4, mask_zero=True, seed=seed, dtype=dtype)(ids)
    pooled = GlobalAveragePooling1D(dtype=dtype)(vectors)  # reads the mask of padding zeros
    return Model(ids, Dense(1, seed=seed + 1, dtype=dtype)(pooled))


def padded_ids(rows=24, seed=7):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 9, size=(rows, 6))
    lengths = rng.integers(1, 7, size=rows)
    ids[np.arange(6) >= lengths[:, None]] = 0  # right padding
    return ids


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_model_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    ids = padded_ids()
    y = np.random.default_rng(8).normal(size=(len(ids), 1))
    model = embedding_model(dtype="float32")
    before = model.get_weights()[0].copy()
    model.compile("adam", "mse", backend=backend)
    history = model.fit(ids.astype(np.float32), y, epochs=3, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    after = model.get_weights()[0]
    assert not np.array_equal(after[1:], before[1:])
    np.testing.assert_array_equal(after[0], before[0])  # padding id 0 is always masked: no gradient reaches it
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))


def test_padding_is_ignored_by_the_masked_average():
    """With the mask, appending padding changes nothing; the output equals the mean of real rows."""
    model = embedding_model()
    ids = np.array([[3, 5, 0, 0, 0, 0], [3, 5, 2, 0, 0, 0]], np.float64)
    table = model.get_weights()[0]
    kernel, bias = model.get_weights()[1:]
    expected = np.stack([table[[3, 5]].mean(0), table[[3, 5, 2]].mean(0)]) @ kernel + bias
    np.testing.assert_allclose(model.predict(ids, verbose=0), expected, rtol=1e-12)


def test_jax_fit_matches_numpy_with_integer_inputs(jax):
    ids = padded_ids(rows=16, seed=9)
    y = np.random.default_rng(10).normal(size=(16, 1))
    results = {}
    for backend in ("numpy", "jax"):
        model = embedding_model(seed=4, ids_dtype="int32")
        model.compile("adam", "mse", backend=backend)
        history = model.fit(ids, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
        results[backend] = (history.history["loss"], model.get_weights())
    np.testing.assert_allclose(results["jax"][0], results["numpy"][0], rtol=1e-10)
    for a, b in zip(results["jax"][1], results["numpy"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# --- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ids, fragments",
    [
        (np.array([[1.5, 2.0]]), ["whole numbers in [0, 4)", "1.5", "(0, 0)"]),
        (np.array([[1, 4]]), ["[0, 4)", "input_dim=4", "from 1 to 4"]),
        (np.array([[-1, 2]]), ["[0, 4)", "from -1 to 2"]),
        (np.array([[np.nan, 1.0]]), ["[0, 4)", "NaN"]),
        (np.array([["a", "b"]]), ["[0, 4)", "dtype <U1"]),
    ],
)
def test_bad_ids_raise_value_error_naming_the_range_and_what_arrived(ids, fragments):
    layer = Embedding(4, 2, seed=0)
    with pytest.raises(ValueError) as info:
        layer(ids)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    assert not layer.built  # the failed call changed nothing
    built_layer = Embedding(4, 2, seed=0)
    built_layer(np.array([[0]]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        numpy_ops(built_layer).layer_forward(built_layer, built_layer.params, {}, ids)


def test_a_model_rejects_out_of_range_ids():
    model = embedding_model()
    with pytest.raises(ValueError, match=r"Embedding 'embedding.*whole numbers in \[0, 9\).*from 9.0 to 9.0"):
        model.predict(np.full((2, 6), 9.0), verbose=0)


@pytest.mark.parametrize(
    "make, error, fragments",
    [
        (lambda: Embedding(0, 3), ValueError, ["input_dim", "positive integer", "0"]),
        (lambda: Embedding(3.0, 3), ValueError, ["input_dim", "float"]),
        (lambda: Embedding(3, True), ValueError, ["output_dim", "bool"]),
        (lambda: Embedding(3, 2, weights=np.ones((2, 2))), ValueError, ["(3, 2)", "(2, 2)"]),
        (lambda: Embedding(3, 2, lora_rank=4), NotImplementedError, ["lora_rank=4"]),
        (lambda: Embedding(3, 2, embeddings_initializer="nope"), ValueError, ["nope"]),
    ],
)
def test_bad_arguments(make, error, fragments):
    with pytest.raises(error) as info:
        make()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_input_length_is_deprecated_as_in_keras():
    with pytest.warns(UserWarning, match="input_length"):
        layer = Embedding(3, 2, input_length=5)
    assert "input_length" not in layer.get_config()
