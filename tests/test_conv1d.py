"""Conv1D: NumPy backward against finite differences, forward and shapes against Keras 3, JAX
against NumPy (values and autodiff gradients), training and save/load on both backends, configs,
and the errors for bad inputs."""

import json
import os

import numpy as np
import pytest

from scratchlstm import Input, Model, Sequential, load_model
from scratchlstm._numpy.convolutional import conv1d_forward
from scratchlstm._numpy.gradient_check import gradcheck
from scratchlstm.layers import Dense
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.convolutional import Conv1D

F64 = "float64"

# (id, constructor arguments, steps): every padding, strides that do and do not divide the
# length, dilation, every activation, and a window as long as the input.
CASES = [
    ("valid", dict(filters=4, kernel_size=3), 7),
    ("valid_stride2", dict(filters=3, kernel_size=3, strides=2, activation="tanh"), 8),
    ("valid_stride3_tail", dict(filters=2, kernel_size=2, strides=3), 9),
    ("valid_dilated", dict(filters=3, kernel_size=2, dilation_rate=3, activation="sigmoid"), 7),
    ("valid_full_window", dict(filters=2, kernel_size=(5,)), 5),
    ("same", dict(filters=4, kernel_size=3, padding="same", activation="relu"), 6),
    ("same_even_kernel", dict(filters=3, kernel_size=4, padding="same"), 6),
    ("same_stride2", dict(filters=3, kernel_size=3, strides=2, padding="same"), 7),
    ("same_stride3", dict(filters=2, kernel_size=4, strides=(3,), padding="same"), 8),
    ("same_dilated", dict(filters=3, kernel_size=3, dilation_rate=2, padding="same", activation="softmax"), 6),
    ("same_kernel_longer_than_input", dict(filters=2, kernel_size=5, padding="SAME"), 3),
    ("causal", dict(filters=3, kernel_size=3, padding="causal", activation="tanh"), 6),
    ("causal_dilated", dict(filters=3, kernel_size=2, dilation_rate=[4], padding="causal"), 7),
    ("causal_stride2", dict(filters=2, kernel_size=3, strides=2, padding="causal"), 7),
    ("no_bias", dict(filters=3, kernel_size=2, use_bias=False), 5),
]
IDS = [case[0] for case in CASES]
B, C = 2, 3


def built(kwargs, steps, seed=0, dtype=F64):
    """A built layer with random non-zero weights (bias included)."""
    layer = Conv1D(**kwargs, dtype=dtype, seed=seed)
    layer.build((None, steps, C))
    rng = np.random.default_rng(seed + 100)
    layer.set_weights([rng.normal(size=w.shape) * 0.5 for w in layer.get_weights()])
    return layer


def data(steps, seed=1, dtype=np.float64, batch=B):
    return np.random.default_rng(seed).normal(size=(batch, steps, C)).astype(dtype)


def forward(layer, params, x):
    return numpy_ops(layer).layer_forward(layer, params, {}, x, training=False, rng=None, mask=None)


# --- NumPy backward against float64 central differences -----------------------------------------
@pytest.mark.parametrize("name, kwargs, steps", CASES, ids=IDS)
def test_numpy_backward_matches_finite_differences(name, kwargs, steps):
    layer = built(kwargs, steps)
    x = data(steps)
    y, _, cache = forward(layer, layer.params, x)
    upstream = np.random.default_rng(2).normal(size=y.shape)
    grads, d_x = numpy_ops(layer).layer_backward(layer, layer.params, cache, upstream)
    assert set(grads) == set(layer.params) and d_x.shape == x.shape

    def loss(values):
        params = {k: values[k] for k in layer.params}
        return float(np.sum(upstream * forward(layer, params, values["x"])[0]))

    errors = gradcheck(loss, {**layer.params, "x": x}, {**grads, "x": d_x})
    assert max(errors.values()) < 1e-6, errors


def test_the_check_catches_a_window_off_by_one_tap():
    """The finite-difference check can fail: an input gradient scattered one step late is caught."""
    layer = built(dict(filters=3, kernel_size=3, strides=2), 8)
    x = data(8)
    y, _, cache = forward(layer, layer.params, x)
    upstream = np.random.default_rng(2).normal(size=y.shape)
    _, d_x = numpy_ops(layer).layer_backward(layer, layer.params, cache, upstream)
    shifted = np.roll(d_x, 1, axis=1)
    errors = gradcheck(
        lambda v: float(np.sum(upstream * forward(layer, layer.params, v["x"])[0])),
        {"x": x}, {"x": shifted}, raise_on_failure=False,
    )
    assert errors["x"] > 1e-2


def test_input_gradient_false_skips_the_input_gradient():
    layer = built(dict(filters=2, kernel_size=3), 5)
    y, _, cache = forward(layer, layer.params, data(5))
    grads, d_x = numpy_ops(layer).layer_backward(layer, layer.params, cache, np.ones_like(y), input_gradient=False)
    assert d_x is None and grads["kernel"].shape == (3, C, 2)


# --- exact behaviour -------------------------------------------------------------------------------
def test_forward_is_the_sum_over_taps_written_out():
    """``y[b, t] = sum_j x_pad[b, t s + j d] @ kernel[j] + bias`` with explicit loops (a test oracle)."""
    for kwargs, steps in [(dict(filters=3, kernel_size=3, strides=2, padding="same"), 8),
                          (dict(filters=2, kernel_size=2, dilation_rate=3, padding="causal"), 7)]:
        layer = built(kwargs, steps)
        x = data(steps)
        left, right, out = layer.padding_for(steps)
        x_pad = np.pad(x, ((0, 0), (left, right), (0, 0)))
        kernel, bias = layer.params["kernel"], layer.params["bias"]
        s, d = layer.strides[0], layer.dilation_rate[0]
        expected = np.zeros((B, out, kernel.shape[-1]))
        for t in range(out):
            for j in range(kernel.shape[0]):
                expected[:, t] += x_pad[:, t * s + j * d] @ kernel[j]
        np.testing.assert_allclose(layer(x), expected + bias, rtol=1e-12, atol=1e-12)


def test_causal_output_does_not_see_the_future():
    layer = built(dict(filters=2, kernel_size=3, dilation_rate=2, padding="causal"), 9)
    x = data(9)
    later = x.copy()
    later[:, 5:] += 10.0
    np.testing.assert_array_equal(layer(later)[:, :5], layer(x)[:, :5])
    assert not np.allclose(layer(later)[:, 5:], layer(x)[:, 5:])


def test_same_padding_with_stride_one_keeps_the_length_and_centres_odd_kernels():
    layer = Conv1D(1, 3, padding="same", use_bias=False, kernel_initializer="ones", dtype=F64)
    x = np.arange(5.0).reshape(1, 5, 1)
    np.testing.assert_array_equal(layer(x)[0, :, 0], [1.0, 3.0, 6.0, 9.0, 7.0])


def test_pure_function_example_and_dtypes():
    params = {"kernel": np.ones((2, 1, 1), np.float32), "bias": np.zeros(1, np.float32)}
    y, _ = conv1d_forward(params, np.arange(4.0, dtype=np.float32).reshape(1, 4, 1), padding="causal")
    assert y.dtype == np.float32 and y[0, :, 0].tolist() == [0.0, 1.0, 3.0, 5.0]
    assert Conv1D(2, 2, seed=0)(np.zeros((1, 3, 2), np.float32)).dtype == np.float32


# --- forward and shapes against Keras 3 ----------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def keras_twin(keras, layer):
    config = layer.get_config()
    keys = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "activation", "use_bias")
    return keras.layers.Conv1D(**{k: config[k] for k in keys})


@pytest.mark.parametrize("name, kwargs, steps", CASES, ids=IDS)
def test_forward_and_output_shape_match_keras(keras, name, kwargs, steps):
    layer = Conv1D(**kwargs, seed=5)
    x = data(steps, seed=3, dtype=np.float32, batch=3)
    twin = keras_twin(keras, layer)
    twin.build((None, steps, C))
    rng = np.random.default_rng(4)
    twin.set_weights([rng.normal(size=w.shape).astype(np.float32) * 0.5 for w in twin.get_weights()])
    layer.build((None, steps, C))
    layer.set_weights(twin.get_weights())
    expected = np.asarray(twin(x))
    actual = layer(x)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-6)
    for shape in [(None, steps, C), (None, None, C), (7, steps + 5, C)]:
        assert layer.compute_output_shape(shape) == tuple(twin.compute_output_shape(shape)), shape


def test_kernel_layout_and_glorot_fans_match_keras(keras):
    """``kernel (K, C, F)``: Keras' glorot limit counts the receptive field in both fans."""
    layer, twin = Conv1D(64, 5, seed=0), keras.layers.Conv1D(64, 5)
    layer.build((None, 20, 16))
    twin.build((None, 20, 16))
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in twin.get_weights()]
    limit = np.sqrt(6.0 / (5 * 16 + 5 * 64))
    kernel = layer.get_weights()[0]
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert np.abs(np.asarray(twin.get_weights()[0])).max() <= limit


def test_masks_are_not_passed_on_as_in_keras(keras):
    x = data(5, dtype=np.float32)
    mask = np.ones((B, 5), bool)
    assert Conv1D(2, 3).compute_mask(x, mask) is None
    assert not Conv1D.supports_masking and not keras.layers.Conv1D(2, 3).supports_masking


# --- JAX against NumPy ---------------------------------------------------------------------------
@pytest.fixture()
def jax():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        yield jax
    finally:
        jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("name, kwargs, steps", CASES, ids=IDS)
def test_jax_forward_and_grad_match_numpy(jax, name, kwargs, steps):
    layer = built(kwargs, steps, seed=6)
    x = data(steps, seed=7)
    y, _, cache = forward(layer, layer.params, x)
    upstream = np.random.default_rng(8).normal(size=y.shape)
    grads, d_x = numpy_ops(layer).layer_backward(layer, layer.params, cache, upstream)
    jax_forward = jax_ops(layer).layer_forward

    def objective(params, inputs):
        out, _ = jax_forward(layer, params, {}, inputs)
        return jax.numpy.sum(jax.numpy.asarray(upstream) * out)

    y_jax, state = jax_forward(layer, layer.params, {}, x)
    assert y_jax.dtype == np.float64 and state == {}
    np.testing.assert_allclose(np.asarray(y_jax), y, rtol=1e-12, atol=1e-12)
    jax_grads, jax_d_x = jax.jit(jax.grad(objective, argnums=(0, 1)))(layer.params, x)
    for key in grads:
        np.testing.assert_allclose(np.asarray(jax_grads[key]), grads[key], rtol=1e-10, atol=1e-12, err_msg=key)
    np.testing.assert_allclose(np.asarray(jax_d_x), d_x, rtol=1e-10, atol=1e-12)


# --- models: training on both backends, save and load -------------------------------------------
def conv_model(backend):
    inputs = Input((12, 2), dtype=F64)
    h = Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu", dtype=F64)(inputs)
    h = Conv1D(3, 2, strides=2, dtype=F64, activation="tanh")(h)
    h = Conv1D(2, 3, padding="same", dtype=F64)(h)
    outputs = Dense(1, dtype=F64)(h)
    model = Model(inputs, outputs, seed=0)
    model.compile(optimizer="adam", loss="mse", backend=backend)
    return model


def test_a_model_trains_on_both_backends_and_they_agree(jax):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(16, 12, 2))
    y = np.cumsum(x[..., :1], axis=1)[:, ::2][:, :6]
    histories, weights, initial = {}, {}, None
    for backend in ("numpy", "jax"):
        model = conv_model(backend)
        initial = initial or model.get_weights()
        model.set_weights(initial)
        before = model.evaluate(x, y, verbose=0)
        histories[backend] = model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0).history["loss"]
        assert np.all(np.isfinite(histories[backend])) and histories[backend][-1] < before
        weights[backend] = model.get_weights()
    np.testing.assert_allclose(histories["jax"], histories["numpy"], rtol=1e-9)
    for w_jax, w_np in zip(weights["jax"], weights["numpy"]):
        np.testing.assert_allclose(w_jax, w_np, rtol=1e-8, atol=1e-12)


def test_save_and_load_give_identical_predictions(tmp_path):
    model = Sequential([Conv1D(3, 3, padding="same", activation="relu", seed=1, dtype=F64),
                        Conv1D(2, 2, strides=2, seed=2, dtype=F64)])
    x = np.random.default_rng(10).normal(size=(4, 9, 2))
    model.build((None, 9, 2))
    model.set_weights([w + 0.1 for w in model.get_weights()])
    model.save(tmp_path / "conv.npz")
    loaded = load_model(tmp_path / "conv.npz")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[1].get_config() == model.layers[1].get_config()


# --- configs -------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    Conv1D(4, 3),
    Conv1D(2, [5], strides=(2,), padding="Same", activation="relu", use_bias=False, name="c", dtype=F64),
    Conv1D(3, 2, dilation_rate=2, padding="causal", kernel_initializer={"class_name": "Constant",
                                                                         "config": {"value": 0.5}},
           bias_initializer="ones", seed=3, trainable=False, data_format="channels_last"),
], ids=lambda layer: layer.name)
def test_config_round_trip(layer):
    config = layer.get_config()
    again = Conv1D.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert LAYER_CLASSES["Conv1D"] is Conv1D
    assert jax_ops(layer).__name__ == "scratchlstm.jax_backend.convolutional.conv1d"
    assert config["kernel_size"] == layer.kernel_size and isinstance(layer.kernel_size, tuple)


def test_config_has_keras_keys(keras):
    ours = set(Conv1D(2, 3).get_config())
    theirs = set(keras.layers.Conv1D(2, 3).get_config())
    assert theirs - ours <= {"lora_rank", "lora_alpha"}
    assert ours - theirs <= {"seed"}


# --- bad inputs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: Conv1D(2, 3)(np.ones((2, 5))), ["(batch, steps, channels)", "(2, 5)"]),
        (lambda: Conv1D(2, 3)(np.ones((2, 5, 3, 1))), ["(batch, steps, channels)", "(2, 5, 3, 1)"]),
        (lambda: Conv1D(2, 4, dilation_rate=2)(np.ones((2, 6, 3))), ["at least 7 steps", "(2, 6, 3)"]),
        (lambda: Conv1D(2, 3, input_shape=(5, 3))(np.ones((2, 5, 4))), ["built for 3 channels", "4 channels"]),
        (lambda: Conv1D(0, 3), ["filters", "0"]),
        (lambda: Conv1D(2, 0), ["kernel_size", "0"]),
        (lambda: Conv1D(2, (3, 3)), ["kernel_size", "(3, 3)"]),
        (lambda: Conv1D(2, 3, padding="full"), ["padding", "'full'"]),
        (lambda: Conv1D(2, 3, strides=2, dilation_rate=2), ["strides > 1", "dilation_rate > 1"]),
        (lambda: Conv1D(2, 3, data_format="NWC"), ["data_format", "'NWC'"]),
        (lambda: Conv1D(2, 3, activation="wobble"), ["activation", "'wobble'"]),
    ],
)
def test_bad_inputs_raise_value_error_naming_expected_and_received(call, expected):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in expected:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_a_failed_call_changes_nothing():
    layer = Conv1D(2, 3, seed=0)
    x = data(5, dtype=np.float32)
    before = layer(x)
    with pytest.raises(ValueError):
        layer(np.ones((2, 5, 4), np.float32))
    np.testing.assert_array_equal(layer(x), before)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(groups=3), "groups=3"),
    (dict(data_format="channels_first"), "data_format='channels_first'"),
])
def test_unimplemented_arguments_raise(kwargs, argument):
    with pytest.raises(NotImplementedError, match=argument):
        Conv1D(3, 3, **kwargs)
