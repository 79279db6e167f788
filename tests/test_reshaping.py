"""The reshaping layers (Flatten, Reshape, Permute, RepeatVector): NumPy backward against finite
differences, forward, output shapes, masks and configs against Keras 3, JAX against NumPy (values and
autodiff gradients), models on both backends with save/load, and the errors for bad inputs."""

import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlstm import Input, Model, load_model, optimizers
from scratchlstm._numpy.gradient_check import gradcheck
from scratchlstm.layers import LSTM, Dense
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.reshaping import Flatten, Permute, RepeatVector, Reshape

B = 2

# (id, layer factory, input shape with the batch axis)
CASES = [
    ("flatten_3d", lambda: Flatten(), (B, 3, 4)),
    ("flatten_4d", lambda: Flatten(), (B, 3, 2, 4)),
    ("flatten_2d", lambda: Flatten(), (B, 5)),
    ("flatten_1d", lambda: Flatten(), (B,)),
    ("flatten_channels_first_3d", lambda: Flatten(data_format="channels_first"), (B, 3, 4)),
    ("flatten_channels_first_4d", lambda: Flatten("channels_first"), (B, 3, 2, 4)),
    ("flatten_channels_first_2d", lambda: Flatten("channels_first"), (B, 5)),
    ("reshape", lambda: Reshape((4, 3)), (B, 3, 4)),
    ("reshape_minus_one", lambda: Reshape((-1, 2, 2)), (B, 12)),
    ("reshape_minus_one_last", lambda: Reshape((2, -1)), (B, 3, 2, 2)),
    ("reshape_to_flat", lambda: Reshape((-1,)), (B, 3, 4)),
    ("permute_swap", lambda: Permute((2, 1)), (B, 3, 4)),
    ("permute_3", lambda: Permute((3, 1, 2)), (B, 2, 3, 4)),
    ("permute_identity", lambda: Permute((1, 2)), (B, 3, 4)),
    ("repeat_vector", lambda: RepeatVector(3), (B, 4)),
    ("repeat_vector_once", lambda: RepeatVector(1), (B, 4)),
]
IDS = [case[0] for case in CASES]


def normal(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def np_forward(layer, x):
    y, _, cache = numpy_ops(layer).layer_forward(layer, {}, {}, x, training=False, rng=None, mask=None)
    return y, cache


# --- NumPy backward against float64 central differences -----------------------------------------
@pytest.mark.parametrize("name, make, shape", CASES, ids=IDS)
def test_numpy_backward_matches_finite_differences(name, make, shape):
    layer = make()
    x = normal(shape)
    y, cache = np_forward(layer, x)
    upstream = normal(y.shape, seed=1)
    grads, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    assert grads == {} and d_x.shape == x.shape
    errors = gradcheck(lambda v: float(np.sum(upstream * np_forward(layer, v["x"])[0])), {"x": x}, {"x": d_x})
    assert errors["x"] < 1e-6


def test_finite_differences_catch_a_wrong_inverse():
    """The check above can fail: undoing a (3, 1, 2) permutation with the same order is caught."""
    layer = Permute((3, 1, 2))
    x = normal((B, 2, 3, 4))
    y, _ = np_forward(layer, x)
    upstream = normal(y.shape, seed=1)
    wrong = np.transpose(upstream, (0, 3, 1, 2)).reshape(x.shape)
    errors = gradcheck(lambda v: float(np.sum(upstream * np_forward(layer, v["x"])[0])), {"x": x},
                       {"x": wrong}, raise_on_failure=False)
    assert errors["x"] > 0.5


@settings(max_examples=40, deadline=None)
@given(
    dims=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    batch=st.integers(1, 3),
    choice=st.sampled_from(["flatten", "flatten_cf", "reshape", "permute", "repeat"]),
    seed=st.integers(0, 2**16),
)
def test_backward_is_the_adjoint_of_the_forward(dims, batch, choice, seed):
    """These layers are linear maps: <u, f(x)> = <f*(u), x> for the backward f*, sizes of 1 included."""
    rng = np.random.default_rng(seed)
    if choice == "repeat":
        dims = dims[:1]
    layer = {
        "flatten": lambda: Flatten(),
        "flatten_cf": lambda: Flatten("channels_first"),
        "reshape": lambda: Reshape((*dims[::-1][:-1], -1)),
        "permute": lambda: Permute(tuple(int(d) + 1 for d in rng.permutation(len(dims)))),
        "repeat": lambda: RepeatVector(int(rng.integers(1, 4))),
    }[choice]()
    x = rng.normal(size=(batch, *dims))
    y, cache = np_forward(layer, x)
    assert y.shape == layer.compute_output_shape((batch, *dims))
    upstream = rng.normal(size=y.shape)
    _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    assert d_x.shape == x.shape
    np.testing.assert_allclose(np.sum(upstream * y), np.sum(d_x * x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(np.sort(y, axis=None)[:: max(1, y.size // x.size)] if choice == "repeat"
                                  else np.sort(y, axis=None), np.sort(x, axis=None))


def test_input_gradient_false_returns_none():
    layer = RepeatVector(2)
    y, cache = np_forward(layer, normal((B, 3)))
    assert numpy_ops(layer).layer_backward(layer, {}, cache, np.ones_like(y), input_gradient=False) == ({}, None)


def test_values_by_hand():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    np.testing.assert_array_equal(Flatten()(x), x.reshape(1, 24))
    np.testing.assert_array_equal(Flatten("channels_first")(x), np.moveaxis(x, 1, -1).reshape(1, 24))
    np.testing.assert_array_equal(Reshape((4, -1))(x), x.reshape(1, 4, 6))
    np.testing.assert_array_equal(Permute((3, 1, 2))(x)[0, :, 1, 2], x[0, 1, 2, :])
    v = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(RepeatVector(3)(v), [[[1, 2]] * 3, [[3, 4]] * 3])
    _, cache = np_forward(RepeatVector(3), v)
    np.testing.assert_array_equal(numpy_ops(RepeatVector(3)).layer_backward(
        RepeatVector(3), {}, cache, np.ones((2, 3, 2)))[1], np.full((2, 2), 3.0))


def test_outputs_never_alias_the_inputs_where_they_could_be_changed():
    """Reshape and transpose are views: the graph gets them read-only, an eager caller a copy."""
    x = normal((B, 3, 4))
    for layer in (Flatten(), Reshape((12,)), Permute((2, 1))):
        y, _ = np_forward(layer, x)
        assert np.shares_memory(y, x) and not y.flags.writeable
        eager = layer(x)
        eager[...] = 0
        assert np.all(x != 0)
    assert Flatten()(x.astype(np.float32)).dtype == np.float32


# --- against Keras 3 -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def keras_twin(keras, layer):
    config = {k: v for k, v in layer.get_config().items() if k in ("data_format", "target_shape", "dims", "n")}
    return getattr(keras.layers, type(layer).__name__)(**config)


@pytest.mark.parametrize("name, make, shape", CASES, ids=IDS)
def test_forward_and_output_shape_match_keras(keras, name, make, shape):
    layer = make()
    twin = keras_twin(keras, layer)
    x = normal(shape, seed=3, dtype=np.float32)
    expected = np.asarray(twin(x))
    actual = layer(x)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)
    for symbolic in [(None, *shape[1:]), shape]:
        assert layer.compute_output_shape(symbolic) == tuple(twin.compute_output_shape(symbolic))


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: Flatten(), (None, None, 4)),
        (lambda: Flatten("channels_first"), (7, 3, None)),
        (lambda: Flatten(), (None,)),
        (lambda: Reshape((-1, 2)), (None, None, 4)),
        (lambda: Reshape((-1, 2)), (None, 3, 4)),
        (lambda: Reshape((3, 2)), (None, None)),
        (lambda: Permute((2, 1)), (None, None, 4)),
        (lambda: RepeatVector(5), (None, None)),
    ],
)
def test_symbolic_output_shapes_match_keras(keras, make, shape):
    layer = make()
    assert layer.compute_output_shape(shape) == tuple(keras_twin(keras, layer).compute_output_shape(shape))
    symbolic_input = Input(shape[1:]) if len(shape) > 1 else None
    if symbolic_input is not None:
        assert layer(symbolic_input).shape == layer.compute_output_shape((None, *shape[1:]))


@pytest.mark.parametrize("make, shape", [(lambda: Flatten(), (3, 4)), (lambda: Reshape((4, 3)), (3, 4)),
                                         (lambda: Permute((2, 1)), (3, 4)), (lambda: RepeatVector(2), (4,))])
def test_masks_are_dropped_as_keras_drops_them(keras, make, shape):
    """None of these layers supports masking in Keras 3: a mask that reaches them goes no further."""
    layer = make()
    twin = keras_twin(keras, layer)
    masked = keras.layers.Masking()(keras.Input(shape))
    assert getattr(masked, "_keras_mask", None) is not None  # the oracle can see a mask
    with pytest.warns(UserWarning, match="does not support masking"):
        assert getattr(twin(masked), "_keras_mask", None) is None and not twin.supports_masking
    mask = np.ones((B, shape[0]), bool)
    assert not layer.supports_masking and layer.compute_mask(normal((B, *shape)), mask) is None


@pytest.mark.parametrize("name, make, shape", CASES, ids=IDS)
def test_config_matches_keras_and_round_trips(keras, name, make, shape):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    theirs = {k: v for k, v in keras_twin(keras, layer).get_config().items() if k not in ("dtype", "name")}
    ours = {k: v for k, v in config.items() if k not in ("dtype", "name")}
    assert ours == theirs
    assert LAYER_CLASSES[type(layer).__name__] is type(layer)
    assert jax_ops(layer).__name__.startswith("scratchlstm.jax_backend.reshaping.")


def test_default_data_format_and_names_follow_keras(keras):
    assert Flatten().data_format == keras.layers.Flatten().data_format == "channels_last"
    assert Flatten(data_format="Channels_First").data_format == "channels_first"
    assert RepeatVector(2).name.startswith("repeat_vector") and Permute((1,)).name.startswith("permute")
    assert Reshape([3, -1]).target_shape == (3, -1) and Permute([2, 1]).dims == (2, 1)


# --- JAX against NumPy ---------------------------------------------------------------------------
@pytest.fixture
def jax64():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield jax
    finally:
        jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("name, make, shape", CASES, ids=IDS)
def test_jax_forward_and_grad_match_numpy(jax64, name, make, shape):
    layer = make()
    x = normal(shape, seed=4)
    y, cache = np_forward(layer, x)
    upstream = normal(y.shape, seed=5)
    _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    forward = jax_ops(layer).layer_forward
    y_jax, _ = forward(layer, {}, {}, x, training=False, key=None, mask=None)
    assert y_jax.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(y_jax), y)
    d_jax = jax64.grad(lambda v: jax64.numpy.sum(upstream * forward(layer, {}, {}, v, training=False)[0]))(x)
    np.testing.assert_allclose(np.asarray(d_jax), d_x, rtol=1e-15, atol=0)


def test_jax_forward_under_jit(jax64):
    x = normal((B, 3, 4), seed=6)
    layer = Reshape((-1, 2))
    jitted = jax64.jit(lambda v: jax_ops(layer).layer_forward(layer, {}, {}, v)[0])
    np.testing.assert_array_equal(np.asarray(jitted(x)), x.reshape(B, 6, 2))


# --- models --------------------------------------------------------------------------------------
def reshaping_model(backend):
    """An encoder-decoder that uses all four: a common use of RepeatVector and friends."""
    series = Input((6, 2))
    swapped = Permute((2, 1))(series)                       # (B, 2, 6)
    back = Reshape((6, -1))(Permute((2, 1))(swapped))       # (B, 6, 2)
    code = LSTM(4)(back)                                    # (B, 4)
    steps = RepeatVector(3)(code)                           # (B, 3, 4)
    decoded = LSTM(2, return_sequences=True)(steps)         # (B, 3, 2)
    output = Dense(3)(Flatten()(decoded))                   # (B, 3)
    model = Model(series, output, seed=0)
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse", backend=backend)
    return model


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_model_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6, 2))
    y = x[:, -3:, 0] * 0.5
    model = reshaping_model(backend)
    history = model.fit(x, y, epochs=5, batch_size=20, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]
    predictions = model.predict(x, verbose=0)
    assert predictions.shape == (40, 3)
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), predictions)


def test_both_backends_give_the_same_predictions():
    pytest.importorskip("jax")
    x = np.random.default_rng(2).normal(size=(5, 6, 2))
    numpy_model, jax_model = reshaping_model("numpy"), reshaping_model("jax")
    jax_model.set_weights(numpy_model.get_weights())
    np.testing.assert_allclose(jax_model.predict(x, verbose=0), numpy_model.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)


# --- bad inputs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: Reshape((5, 2))(np.ones((2, 12))), ["total size", "(12,)", "(5, 2)"]),
        (lambda: Reshape((-1, 5))(np.ones((2, 12))), ["cannot be divided", "(12,)", "(-1, 5)"]),
        (lambda: Reshape((-1, 5)).compute_output_shape((None, 3, 4)), ["(3, 4)", "(-1, 5)"]),
        (lambda: Reshape((-1, -1)), ["at most one unknown dimension", "(-1, -1)"]),
        (lambda: Reshape((2, -3)), ["non-negative", "(2, -3)"]),
        (lambda: Reshape((2, 1.5)), ["integer", "1.5"]),
        (lambda: Reshape(3), ["tuple of integers", "3"]),
        (lambda: Permute((1, 3)), ["consecutive and start from 1", "(1, 3)"]),
        (lambda: Permute((0, 1)), ["consecutive and start from 1", "(0, 1)"]),
        (lambda: Permute((2, 1))(np.ones((2, 3, 4, 5))), ["ndim=3", "(2, 3, 4, 5)"]),
        (lambda: Permute((2, 1))(Input((3,))), ["ndim=3", "(None, 3)"]),
        (lambda: RepeatVector(2)(np.ones((2, 3, 4))), ["ndim=2", "(2, 3, 4)"]),
        (lambda: RepeatVector(0), ["positive integer", "n=0"]),
        (lambda: Flatten()(np.ones(())), ["ndim >= 1", "()"]),
        (lambda: Flatten(data_format="channels_middle"), ["channels_first", "'channels_middle'"]),
        (lambda: Flatten()([np.ones((2, 3)), np.ones((2, 3))]), ["one input", "[(2, 3), (2, 3)]"]),
    ],
)
def test_bad_inputs_raise_value_error_naming_expected_and_received(call, expected):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in expected:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_repeat_vector_n_must_be_an_integer_as_in_keras(keras):
    for bad in (2.0, "2", True):
        with pytest.raises(TypeError, match="integer value for `n`"):
            RepeatVector(bad)
        with pytest.raises(TypeError):
            keras.layers.RepeatVector(bad)


def test_a_failed_call_leaves_the_layer_unbuilt():
    layer = Reshape((5, 2))
    with pytest.raises(ValueError):
        layer(np.ones((2, 12)))
    assert not layer.built
    assert layer(np.ones((2, 10))).shape == (2, 5, 2)
