"""The 1-D pooling layers: NumPy backward against finite differences, forward, masks and shapes
against Keras 3, JAX against NumPy (values and jax.grad, ties included), configs, training on
both backends with save/load, and the errors for bad inputs."""

import json

import numpy as np
import pytest

from scratchlstm import Input, Model, load_model
from scratchlstm._numpy.gradient_check import gradcheck
from scratchlstm.layers import Dense
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.pooling import (
    AveragePooling1D,
    AvgPool1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPool1D,
    MaxPooling1D,
)

B = 3


def mask_for(seed, shape):
    """A ``(B, T)`` mask with some steps off (step 0 kept, so no row is all off)."""
    mask = np.random.default_rng(seed).random(shape) > 0.4
    mask[:, 0] = True
    return mask


# (id, layer factory, input shape, mask or None)
CASES = [
    ("max_default", lambda: MaxPooling1D(), (B, 7, 2), None),
    ("max_overlap", lambda: MaxPooling1D(3, strides=1), (B, 6, 2), None),
    ("max_gap", lambda: MaxPooling1D(2, strides=3), (B, 8, 2), None),
    ("max_same", lambda: MaxPooling1D(3, strides=2, padding="same"), (B, 7, 2), None),
    ("max_same_even", lambda: MaxPooling1D(4, strides=1, padding="same"), (B, 5, 3), None),
    ("max_channels_first", lambda: MaxPooling1D(2, padding="same", data_format="channels_first"), (B, 2, 5), None),
    ("avg_valid", lambda: AveragePooling1D(2), (B, 7, 2), None),
    ("avg_overlap", lambda: AveragePooling1D(3, strides=1), (B, 6, 2), None),
    ("avg_same", lambda: AveragePooling1D(3, strides=2, padding="same"), (B, 8, 2), None),
    ("avg_same_even", lambda: AveragePooling1D(4, strides=1, padding="same"), (B, 5, 3), None),
    ("avg_same_big_window", lambda: AveragePooling1D(6, strides=4, padding="same"), (B, 5, 1), None),
    ("avg_channels_first", lambda: AveragePooling1D(3, 2, "same", "channels_first"), (B, 2, 7), None),
    ("gap", lambda: GlobalAveragePooling1D(), (B, 5, 3), None),
    ("gap_keepdims", lambda: GlobalAveragePooling1D(keepdims=True), (B, 5, 3), None),
    ("gap_channels_first", lambda: GlobalAveragePooling1D("channels_first", True), (B, 3, 5), None),
    ("gap_masked", lambda: GlobalAveragePooling1D(), (B, 6, 2), mask_for(1, (B, 6))),
    ("gap_masked_channels_first", lambda: GlobalAveragePooling1D("channels_first"), (B, 2, 6), mask_for(2, (B, 6))),
    ("gap_masked_keepdims", lambda: GlobalAveragePooling1D(keepdims=True), (B, 4, 2), mask_for(3, (B, 4))),
    ("gmp", lambda: GlobalMaxPooling1D(), (B, 5, 3), None),
    ("gmp_keepdims_channels_first", lambda: GlobalMaxPooling1D("channels_first", keepdims=True), (B, 3, 5), None),
    ("gmp_masked", lambda: GlobalMaxPooling1D(), (B, 6, 2), mask_for(4, (B, 6))),
]
IDS = [case[0] for case in CASES]


def inputs_for(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def np_forward(layer, x, mask=None):
    y, _, cache = numpy_ops(layer).layer_forward(layer, {}, {}, x, mask=mask)
    return y, cache


# --- NumPy backward against float64 central differences -------------------------------------------
@pytest.mark.parametrize("name, make, shape, mask", CASES, ids=IDS)
def test_numpy_backward_matches_finite_differences(name, make, shape, mask):
    layer = make()
    x = inputs_for(shape)
    y, cache = np_forward(layer, x, mask)
    upstream = np.random.default_rng(1).normal(size=y.shape)
    grads, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    assert grads == {} and d_x.shape == x.shape
    errors = gradcheck(lambda v: float(np.sum(upstream * np_forward(layer, v["x"], mask)[0])), {"x": x}, {"x": d_x})
    assert errors["x"] < 1e-6
    assert numpy_ops(layer).layer_backward(layer, {}, cache, upstream, input_gradient=False) == ({}, None)


def test_the_check_can_fail_a_same_average_that_counts_the_padding():
    """Dividing by pool_size at the padded edges (the common mistake) is caught."""
    layer = AveragePooling1D(3, strides=1, padding="same")
    x = inputs_for((B, 5, 2))
    y, cache = np_forward(layer, x)
    upstream = np.random.default_rng(1).normal(size=y.shape)
    _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    wrong = d_x.copy()
    wrong[:, 0] *= 2 / 3  # the first window has 2 real steps, not 3
    errors = gradcheck(lambda v: float(np.sum(upstream * np_forward(layer, v["x"])[0])), {"x": x}, {"x": wrong},
                       raise_on_failure=False)
    assert errors["x"] > 1e-2


# --- forward, masks and shapes against Keras 3 -----------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def keras_twin(keras, layer):
    config = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype", "trainable")}
    return getattr(keras.layers, type(layer).__name__)(**config)


@pytest.mark.parametrize("name, make, shape, mask", CASES, ids=IDS)
def test_forward_and_output_shape_match_keras(keras, name, make, shape, mask):
    layer = make()
    x = inputs_for(shape, seed=3, dtype=np.float32)
    twin = keras_twin(keras, layer)
    expected = np.asarray(twin(x, mask=mask) if twin.supports_masking else twin(x))
    actual = layer(x, mask=mask)
    assert actual.shape == expected.shape and actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)
    for symbolic in [(None, *shape[1:]), (None, None, shape[2]), (None, shape[1], None)]:
        assert layer.compute_output_shape(symbolic) == tuple(twin.compute_output_shape(symbolic)), symbolic
    # Keras drops the mask of a layer that does not support masking, whatever compute_mask says
    propagated = twin.compute_mask(x, mask) if twin.supports_masking else None
    assert layer.compute_mask(x, mask) is None and propagated is None


@pytest.mark.parametrize("cls", [GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D, AveragePooling1D])
def test_masked_model_matches_keras(keras, cls):
    """Through Keras' own mask propagation (``Masking``): the average skips masked steps, the
    max poolings do not read the mask (Keras drops it with a warning)."""
    x = inputs_for((B, 6, 2), seed=5, dtype=np.float32)
    mask = mask_for(6, (B, 6))
    x[~mask] = 0.0  # Masking masks all-zero steps
    kwargs = {"pool_size": 2} if cls is AveragePooling1D else {}
    warns = pytest.warns(UserWarning, match="does not support masking")
    with warns if cls is not GlobalAveragePooling1D else _nothing():
        inputs = keras.Input((6, 2))
        twin = getattr(keras.layers, cls.__name__)(**kwargs)
        expected = np.asarray(keras.Model(inputs, twin(keras.layers.Masking()(inputs)))(x))
    np.testing.assert_allclose(cls(**kwargs)(x, mask=mask), expected, rtol=1e-6, atol=1e-7)
    assert cls.supports_masking == getattr(keras.layers, cls.__name__)(**kwargs).supports_masking


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def test_all_masked_row_gives_nan_as_keras(keras):
    x = inputs_for((2, 3, 2), dtype=np.float32)
    mask = np.array([[True, False, True], [False, False, False]])
    expected = np.asarray(keras.layers.GlobalAveragePooling1D()(x, mask=mask))
    actual = GlobalAveragePooling1D()(x, mask=mask)
    assert np.isnan(expected[1]).all() and np.isnan(actual[1]).all()
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-6)


@pytest.mark.parametrize("layer", [MaxPooling1D(), AveragePooling1D(3, 1, "same"), GlobalAveragePooling1D(),
                                   GlobalMaxPooling1D(keepdims=True)], ids=lambda layer: layer.name)
def test_configs_match_keras(keras, layer):
    ours = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")}
    theirs = {k: v for k, v in keras_twin(keras, layer).get_config().items() if k not in ("name", "dtype")}
    assert ours == theirs


# --- JAX against NumPy ------------------------------------------------------------------------------
@pytest.fixture()
def jax():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


def check_jax_matches_numpy(jax, layer, x, mask=None, seed=2):
    y, cache = np_forward(layer, x, mask)
    upstream = np.random.default_rng(seed).normal(size=y.shape)
    _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    forward = jax_ops(layer).layer_forward
    y_jax, _ = forward(layer, {}, {}, x, mask=mask)
    assert y_jax.dtype == np.float64
    np.testing.assert_allclose(np.asarray(y_jax), y, rtol=1e-12, atol=1e-13)
    jitted = jax.jit(lambda v, m: forward(layer, {}, {}, v, mask=m)[0])(x, mask)
    np.testing.assert_allclose(np.asarray(jitted), y, rtol=1e-12, atol=1e-13)
    # jit(grad): differentiating a reduction under jit is where JAX is strictest
    d_jax = jax.jit(jax.grad(lambda v, m: jax.numpy.sum(forward(layer, {}, {}, v, mask=m)[0] * upstream)))(x, mask)
    np.testing.assert_allclose(np.asarray(d_jax), d_x, rtol=1e-12, atol=1e-13)
    return d_x


@pytest.mark.parametrize("name, make, shape, mask", CASES, ids=IDS)
def test_jax_forward_and_grad_match_numpy(jax, name, make, shape, mask):
    check_jax_matches_numpy(jax, make(), inputs_for(shape, seed=4), mask)


@pytest.mark.parametrize("name, make, shape, mask", CASES, ids=IDS)
def test_ties_follow_jax_grad(jax, name, make, shape, mask):
    """Inputs with many equal values (ReLU zeros, repeated steps): NumPy's tie rule is JAX's."""
    x = np.round(np.maximum(inputs_for(shape, seed=7), 0) * 2) / 2  # many exact zeros and halves
    check_jax_matches_numpy(jax, make(), x, mask)


def test_tie_conventions_on_a_small_example(jax):
    """Window max: the first maximum of each window; global max: ties split equally."""
    x = np.array([1.0, 3.0, 3.0, 2.0, 3.0, 0.0]).reshape(1, 6, 1)
    d_window = check_jax_matches_numpy(jax, MaxPooling1D(3, strides=1), x, seed=0)
    _, cache = np_forward(MaxPooling1D(3, strides=1), x)
    _, d_ones = numpy_ops(MaxPooling1D()).layer_backward(None, {}, cache, np.ones((1, 4, 1)))
    np.testing.assert_array_equal(d_ones.ravel(), [0, 2, 1, 0, 1, 0])
    assert d_window.shape == x.shape
    _, cache = np_forward(GlobalMaxPooling1D(), x)
    _, d_global = numpy_ops(GlobalMaxPooling1D()).layer_backward(None, {}, cache, np.ones((1, 1)))
    np.testing.assert_allclose(d_global.ravel(), [0, 1 / 3, 1 / 3, 0, 1 / 3, 0])
    check_jax_matches_numpy(jax, GlobalMaxPooling1D(), x)


# --- configs, models ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, make, shape, mask", CASES, ids=IDS)
def test_config_round_trip(name, make, shape, mask):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert LAYER_CLASSES[type(layer).__name__] is type(layer)


def test_keras_aliases_and_argument_forms():
    assert MaxPool1D is MaxPooling1D and AvgPool1D is AveragePooling1D
    layer = MaxPooling1D(pool_size=[3], strides=(2,), padding="SAME")
    assert (layer.pool_size, layer.strides, layer.padding) == ((3,), (2,), "same")
    assert AveragePooling1D(4).strides == (4,)


def pooling_model(dtype="float64"):
    """Every pooling after a trainable layer, so the gradients must flow through each of them."""
    x = Input((9, 3), dtype=dtype)
    h = Dense(4, activation="tanh", seed=1)(x)
    h = MaxPooling1D(2, strides=1, padding="same")(h)
    h = AveragePooling1D(3, strides=2, padding="same")(h)
    features = [GlobalAveragePooling1D()(h), GlobalMaxPooling1D()(h)]
    from scratchlstm.layers import Concatenate

    return Model(x, Dense(1, seed=0)(Concatenate()(features)))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_model_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(32, 9, 3)), rng.normal(size=(32, 1))
    model = pooling_model("float32")
    assert model.output.shape == (None, 1)
    model.compile("adam", "mse", backend=backend)
    losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_jax_fit_matches_numpy(jax):
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(16, 9, 3)), rng.normal(size=(16, 1))
    results = {}
    for backend in ("numpy", "jax"):
        model = pooling_model()
        model.compile("sgd", "mse", backend=backend)
        results[backend] = model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(results["jax"], results["numpy"], rtol=1e-10)


# --- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: MaxPooling1D()(np.ones((2, 4))), ["3-D input", "(batch, steps, channels)", "(2, 4)"]),
        (lambda: MaxPooling1D(5)(np.ones((2, 4, 1))), ["at least pool_size=5", "(2, 4, 1)"]),
        (lambda: AveragePooling1D(2, data_format="channels_first")(np.ones((2, 4))),
         ["(batch, channels, steps)", "(2, 4)"]),
        (lambda: GlobalAveragePooling1D()(np.ones((2, 3, 4, 5))), ["3-D input", "(2, 3, 4, 5)"]),
        (lambda: GlobalAveragePooling1D()(np.ones((2, 3, 4)), mask=np.ones((2, 4), bool)),
         ["(batch, steps) = (2, 3)", "(2, 4)"]),
        (lambda: MaxPooling1D(0), ["pool_size", "Received: pool_size=0"]),
        (lambda: MaxPooling1D(2, strides=(1, 1)), ["strides", "(1, 1)"]),
        (lambda: AveragePooling1D(2, padding="causal"), ["'valid' or 'same'", "causal"]),
        (lambda: GlobalMaxPooling1D(data_format="NCW"), ["channels_last", "NCW"]),
        (lambda: MaxPooling1D().validate_input_shape((None, 1, 3)), ["at least pool_size=2", "(None, 1, 3)"]),
    ],
)
def test_bad_inputs_raise_value_error_naming_expected_and_received(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_a_failed_call_changes_nothing():
    layer = MaxPooling1D(5)
    with pytest.raises(ValueError):
        layer(np.ones((2, 4, 1)))
    assert not layer.built
    assert layer(np.ones((2, 6, 1))).shape == (2, 1, 1)


def test_pure_functions_check_their_inputs():
    from scratchlstm._numpy import pooling as p

    with pytest.raises(ValueError, match="3-D float array"):
        p.max_pooling1d_forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        p.average_pooling1d_forward(np.ones((2, 3, 1)), 2, padding="full")
    y, cache = p.max_pooling1d_forward(np.ones((2, 4, 1)))
    with pytest.raises(ValueError, match=r"outputs' shape \(2, 2, 1\)"):
        p.max_pooling1d_backward(cache, np.ones((2, 3, 1)))
