"""The regularization layers (Dropout, SpatialDropout1D, GaussianNoise): mask statistics and exact
mask reuse by the NumPy backward, finite differences, inference identity, Keras 3 as the oracle for
shapes, masks, configs and training-mode statistics, JAX against NumPy with explicit masks (DESIGN §7:
masks cannot match bit for bit across backends), models training on both backends, bad inputs."""

import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlstm import Input, Model, load_model, optimizers
from scratchlstm._numpy.gradient_check import gradcheck
from scratchlstm._numpy.regularization import dropout as np_dropout
from scratchlstm.layers import Dense
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.regularization import Dropout, GaussianNoise, SpatialDropout1D

RATE = 0.3


def normal(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def np_forward(layer, x, *, training, seed=None, mask=None):
    """The NumPy layer_forward with a fresh generator: the same seed draws the same mask."""
    rng = None if seed is None else np.random.default_rng(seed)
    y, _, cache = numpy_ops(layer).layer_forward(layer, {}, {}, x, training=training, rng=rng, mask=mask)
    return y, cache


# --- statistics of the masks ---------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.1, RATE, 0.75])
def test_dropout_drops_about_rate_and_scales_the_rest(rate):
    x = np.ones((200, 500))
    y = Dropout(rate, seed=0)(x, training=True)
    dropped = np.mean(y == 0)
    # Binomial standard error over 1e5 draws is at most 0.0016: 0.01 is six of them.
    assert abs(dropped - rate) < 0.01
    np.testing.assert_array_equal(np.unique(y), [0.0, 1.0 / (1.0 - rate)])
    assert abs(y.mean() - 1.0) < 0.03  # inverted dropout keeps the expectation


def test_eager_training_draws_a_new_mask_per_call_and_seeds_reproduce():
    x = np.ones((4, 50))
    layer = Dropout(0.5, seed=7)
    first, second = layer(x, training=True), layer(x, training=True)
    assert not np.array_equal(first, second)  # the layer's generator advances
    np.testing.assert_array_equal(Dropout(0.5, seed=7)(x, training=True), first)


def test_numpy_backward_reuses_the_forward_mask_exactly():
    layer = Dropout(RATE)
    x = normal((3, 5, 4))
    y, cache = np_forward(layer, x, training=True, seed=3)
    keep = np.random.default_rng(3).random(x.shape) < 1 - RATE  # the draw, redone by hand
    np.testing.assert_array_equal(cache.keep, keep)
    np.testing.assert_array_equal(y, np.where(keep, x / (1 - RATE), 0.0))
    upstream = normal(x.shape, seed=4)
    grads, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    assert grads == {}
    np.testing.assert_array_equal(d_x, np.where(keep, upstream / (1 - RATE), 0.0))
    np.testing.assert_array_equal(d_x == 0, y == 0)
    # A second forward draws another mask: the backward must read the cache, not redraw.
    _, other = np_forward(layer, x, training=True, seed=5)
    assert not np.array_equal(other.keep, cache.keep)


def test_spatial_dropout1d_drops_whole_channels():
    x = np.ones((100, 7, 40))
    y = SpatialDropout1D(RATE, seed=1)(x, training=True)
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1], y.shape))  # (B, 1, C) mask
    assert abs(np.mean(y[:, 0] == 0) - RATE) < 0.03  # 4000 channels
    np.testing.assert_array_equal(np.unique(y), [0.0, 1.0 / (1.0 - RATE)])
    _, cache = np_forward(SpatialDropout1D(RATE), x, training=True, seed=2)
    assert cache.keep.shape == (100, 1, 40)


@pytest.mark.parametrize(
    "noise_shape, input_shape, mask_shape, shared_axes",
    [
        ((None, 1, None), (50, 6, 8), (50, 1, 8), (1,)),
        ((50, 1, 8), (50, 6, 8), (50, 1, 8), (1,)),
        ((None, 6, 1), (50, 6, 8), (50, 6, 1), (2,)),
        ((1, 8), (50, 6, 8), (1, 8), (0, 1)),  # fewer axes: aligned on the right, as broadcasting
        ((None, None), (50, 8), (50, 8), ()),
    ],
)
def test_noise_shape_broadcasts_the_mask_as_keras(noise_shape, input_shape, mask_shape, shared_axes):
    layer = Dropout(0.5, noise_shape=noise_shape)
    y, cache = np_forward(layer, np.ones(input_shape), training=True, seed=0)
    assert cache.keep.shape == mask_shape
    for axis in shared_axes:
        np.testing.assert_array_equal(y, np.broadcast_to(np.take(y, [0], axis=axis), y.shape))
    assert 0 < np.mean(y == 0) < 1


def test_gaussian_noise_adds_zero_mean_noise_of_stddev():
    x = normal((200, 300), seed=1)
    layer = GaussianNoise(0.2, seed=0)
    y = layer(x, training=True)
    noise = y - x
    assert abs(noise.std() - 0.2) < 0.004 and abs(noise.mean()) < 0.004
    y_np, cache = np_forward(layer, x, training=True, seed=9)
    np.testing.assert_array_equal(y_np, x + cache.noise)
    np.testing.assert_array_equal(cache.noise, 0.2 * np.random.default_rng(9).standard_normal(x.shape))
    upstream = normal(x.shape, seed=2)
    np.testing.assert_array_equal(numpy_ops(layer).layer_backward(layer, {}, cache, upstream)[1], upstream)


# --- inference is the identity -------------------------------------------------------------------
LAYERS = [
    ("dropout", lambda: Dropout(RATE, seed=0), (3, 5, 4)),
    ("dropout_noise_shape", lambda: Dropout(0.5, noise_shape=(None, 1, None), seed=0), (3, 5, 4)),
    ("dropout_2d", lambda: Dropout(0.2, seed=0), (4, 6)),
    ("spatial_dropout1d", lambda: SpatialDropout1D(0.4, seed=0), (3, 5, 4)),
    ("gaussian_noise", lambda: GaussianNoise(0.5, seed=0), (3, 5, 4)),
]
IDS = [case[0] for case in LAYERS]


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=IDS)
def test_inference_is_the_identity(name, make, shape):
    layer = make()
    x = normal(shape)
    for y in (layer(x), layer(x, training=False)):
        np.testing.assert_array_equal(y, x)
        y[...] = 0  # the caller's own array, not a view of x
    assert np.all(x != 0)
    y, cache = np_forward(layer, x, training=False, seed=0)
    np.testing.assert_array_equal(y, x)
    upstream = normal(shape, seed=1)
    np.testing.assert_array_equal(numpy_ops(layer).layer_backward(layer, {}, cache, upstream)[1], upstream)
    assert not np.array_equal(layer(x, training=True), x)  # the same layer does act in training


def test_rate_zero_and_rate_one():
    x = normal((3, 4))
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True), x)
    np.testing.assert_array_equal(GaussianNoise(0.0)(x, training=True), x)
    layer = Dropout(1.0)
    with np.errstate(all="raise"):
        y, cache = np_forward(layer, x, training=True, seed=0)
        _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, np.ones_like(x))
    np.testing.assert_array_equal(y, 0.0)
    np.testing.assert_array_equal(d_x, 0.0)


def test_input_gradient_false_returns_none():
    layer = Dropout(RATE)
    y, cache = np_forward(layer, normal((2, 3)), training=True, seed=0)
    assert numpy_ops(layer).layer_backward(layer, {}, cache, np.ones_like(y), input_gradient=False) == ({}, None)


def test_float32_stays_float32():
    x = normal((20, 30), dtype=np.float32)
    for layer in (Dropout(RATE, seed=0), SpatialDropout1D(RATE, seed=0), GaussianNoise(0.3, seed=0)):
        xs = x[:, :, None] if isinstance(layer, SpatialDropout1D) else x
        assert layer(xs, training=True).dtype == np.float32
    kept = Dropout(RATE, seed=0)(x, training=True)
    np.testing.assert_array_equal(kept[kept != 0], (x / np.float32(1 - RATE))[kept != 0])


# --- NumPy backward against float64 central differences -----------------------------------------
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("name, make, shape", LAYERS, ids=IDS)
def test_numpy_backward_matches_finite_differences(name, make, shape, training):
    layer = make()
    x = normal(shape, seed=2)
    y, cache = np_forward(layer, x, training=training, seed=11)
    upstream = normal(y.shape, seed=3)
    _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)

    def loss(values):  # the same seed draws the same mask on every probe
        return float(np.sum(upstream * np_forward(layer, values["x"], training=training, seed=11)[0]))

    errors = gradcheck(loss, {"x": x}, {"x": d_x})
    assert errors["x"] < 1e-6


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=3, max_size=3),
    rate=st.floats(0.0, 1.0),
    kind=st.sampled_from(["dropout", "shared_time", "spatial"]),
    seed=st.integers(0, 2**16),
)
def test_dropout_backward_is_the_adjoint_with_the_cached_mask(shape, rate, kind, seed):
    """For a fixed mask dropout is linear: <u, y> = <d_x, x>; and y, d_x vanish where keep is False.
    Random shapes with sizes of 1, rates from 0 to 1 included."""
    layer = {"dropout": lambda: Dropout(rate), "shared_time": lambda: Dropout(rate, noise_shape=(None, 1, None)),
             "spatial": lambda: SpatialDropout1D(rate)}[kind]()
    x = normal(shape, seed=seed)
    y, cache = np_forward(layer, x, training=True, seed=seed)
    upstream = normal(shape, seed=seed + 1)
    _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    np.testing.assert_allclose(np.sum(upstream * y), np.sum(d_x * x), rtol=1e-12, atol=1e-12)
    if rate > 0:
        keep = np.broadcast_to(cache.keep, x.shape)
        assert cache.keep.shape == (tuple(shape) if kind == "dropout" else (shape[0], 1, shape[2]))
        np.testing.assert_array_equal(y[~keep], 0.0)
        np.testing.assert_array_equal(d_x[~keep], 0.0)
        if rate < 1:
            np.testing.assert_allclose(y[keep], x[keep] / (1 - rate), rtol=1e-15)
    else:
        np.testing.assert_array_equal(y, x)


def test_finite_differences_catch_a_backward_with_another_mask():
    """The check above can fail: a backward that redraws its mask is caught."""
    layer = Dropout(0.5)
    x = normal((3, 5, 4), seed=2)
    _, cache = np_forward(layer, x, training=True, seed=11)
    _, redrawn = np_forward(layer, x, training=True, seed=12)
    upstream = normal(x.shape, seed=3)
    wrong = np_dropout.dropout_backward(redrawn, upstream)
    errors = gradcheck(
        lambda v: float(np.sum(upstream * np_forward(layer, v["x"], training=True, seed=11)[0])),
        {"x": x}, {"x": wrong}, raise_on_failure=False,
    )
    assert errors["x"] > 0.5
    np.testing.assert_array_equal(np_dropout.dropout_backward(cache, upstream) != 0, cache.keep)


# --- against Keras 3 -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def keras_twin(keras, layer):
    arguments = {"rate": getattr(layer, "rate", None), "stddev": getattr(layer, "stddev", None),
                 "noise_shape": getattr(layer, "noise_shape", None)}
    config = {k: v for k, v in layer.get_config().items() if k in arguments}
    return getattr(keras.layers, type(layer).__name__)(**config)


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=IDS)
def test_inference_shape_and_mask_match_keras(keras, name, make, shape):
    layer = make()
    twin = keras_twin(keras, layer)
    x = normal(shape, seed=5, dtype=np.float32)
    np.testing.assert_array_equal(layer(x), np.asarray(twin(x)))
    np.testing.assert_array_equal(layer(x, training=False), np.asarray(twin(x, training=False)))
    for symbolic in [(None, *shape[1:]), shape, (None,) * len(shape)]:
        assert layer.compute_output_shape(symbolic) == tuple(twin.compute_output_shape(symbolic))
    # Keras passes masks through these layers: Masking -> layer keeps the (B, T) mask.
    assert layer.supports_masking and twin.supports_masking
    if len(shape) == 3:
        symbolic_input = keras.Input(shape[1:])
        masked = twin(keras.layers.Masking()(symbolic_input))
        assert masked._keras_mask is not None and tuple(masked._keras_mask.shape) == (None, shape[1])
        mask = np.random.default_rng(0).random(shape[:2]) > 0.5
        assert layer.compute_mask(x, mask) is mask
    assert layer.compute_mask(x, None) is None


@pytest.mark.parametrize("cls, kwargs", [(Dropout, {"rate": RATE}), (SpatialDropout1D, {"rate": RATE}),
                                         (Dropout, {"rate": 0.5, "noise_shape": (None, 1, None)})])
def test_training_mode_statistics_match_keras(keras, cls, kwargs):
    """Different generators, the same law: the kept values are identical (x / (1 - rate) in
    float32, as Keras divides) and the dropped fraction agrees."""
    x = np.ones((60, 9, 40), np.float32)
    ours = cls(seed=1, **kwargs)(x, training=True)
    theirs = np.asarray(getattr(keras.layers, cls.__name__)(seed=1, **kwargs)(x, training=True))
    np.testing.assert_array_equal(np.unique(ours), np.unique(theirs))
    assert np.unique(ours).dtype == np.float32 and len(np.unique(ours)) == 2
    assert abs(np.mean(ours == 0) - np.mean(theirs == 0)) < 0.05
    shared = cls is SpatialDropout1D or kwargs.get("noise_shape") is not None
    for result in (ours, theirs):
        assert np.array_equal(result, np.broadcast_to(result[:, :1], result.shape)) == shared


def test_gaussian_noise_statistics_match_keras(keras):
    x = np.zeros((200, 300), np.float32)
    ours = GaussianNoise(0.3, seed=1)(x, training=True)
    theirs = np.asarray(keras.layers.GaussianNoise(0.3, seed=1)(x, training=True))
    assert ours.dtype == theirs.dtype == np.float32
    assert abs(ours.std() - theirs.std()) < 0.01 and abs(ours.std() - 0.3) < 0.005


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=IDS)
def test_config_matches_keras_and_round_trips(keras, name, make, shape):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    twin = keras_twin(keras, layer)
    ours = {k: v for k, v in config.items() if k not in ("dtype", "trainable", "seed")}
    theirs = {k: v for k, v in twin.get_config().items() if k not in ("dtype", "trainable", "seed", "name")}
    assert set(ours) - {"name"} == set(theirs)
    for key, value in theirs.items():
        assert ours[key] == value, key
    assert LAYER_CLASSES[type(layer).__name__] is type(layer)
    assert jax_ops(layer).__name__.startswith("scratchlstm.jax_backend.regularization.")


def test_keras_names_defaults_and_hierarchy(keras):
    assert Dropout(0.5).name.startswith("dropout") and SpatialDropout1D(0.5).name.startswith("spatial_dropout1d")
    assert isinstance(SpatialDropout1D(0.5), Dropout) == isinstance(keras.layers.SpatialDropout1D(0.5),
                                                                      keras.layers.Dropout)
    assert Dropout(0.5, (None, 1, 3), 4).get_config()["noise_shape"] == (None, 1, 3)  # positional order
    assert Dropout(0.5, noise_shape=[2, 1, 3]).noise_shape == (2, 1, 3)


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


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=IDS)
def test_jax_with_the_numpy_mask_matches_numpy(jax64, name, make, shape):
    """Pass the mask (or noise) NumPy drew to the JAX forward: values and ``jax.grad`` agree."""
    from scratchlstm.jax_backend import regularization as jr

    layer = make()
    x = normal(shape, seed=6)
    y, cache = np_forward(layer, x, training=True, seed=13)
    upstream = normal(y.shape, seed=7)
    _, d_x = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    if isinstance(layer, GaussianNoise):
        def forward(v):
            return jr.gaussian_noise_forward(v, cache.noise)
    else:
        def forward(v):
            return jr.dropout_forward(v, layer.rate, cache.keep)
    y_jax = forward(x)
    assert y_jax.dtype == np.float64
    np.testing.assert_allclose(np.asarray(y_jax), y, rtol=1e-15, atol=0)
    d_jax = jax64.grad(lambda v: jax64.numpy.sum(upstream * forward(v)))(x)
    np.testing.assert_allclose(np.asarray(d_jax), d_x, rtol=1e-15, atol=0)
    inference, _ = jax_ops(layer).layer_forward(layer, {}, {}, x, training=False, key=None)
    np.testing.assert_array_equal(np.asarray(inference), x)


def test_jax_masks_come_from_the_key(jax64):
    jax = jax64
    x = np.ones((100, 6, 50))
    layer = Dropout(RATE)
    forward = jax_ops(layer).layer_forward
    key = jax.random.key(0)
    y = np.asarray(forward(layer, {}, {}, x, training=True, key=key)[0])
    assert abs(np.mean(y == 0) - RATE) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / (1 - RATE)], rtol=1e-15)
    expected = np.where(np.asarray(jax.random.bernoulli(key, 1 - RATE, x.shape)), x / (1 - RATE), 0)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(np.asarray(forward(layer, {}, {}, x, training=True, key=key)[0]), y)
    assert not np.array_equal(np.asarray(forward(layer, {}, {}, x, training=True, key=jax.random.key(1))[0]), y)
    spatial = SpatialDropout1D(RATE)
    s = np.asarray(jax_ops(spatial).layer_forward(spatial, {}, {}, x, training=True, key=key)[0])
    np.testing.assert_array_equal(s, np.broadcast_to(s[:, :1], s.shape))
    shaped = Dropout(0.5, noise_shape=(None, 1, None))
    t = np.asarray(jax_ops(shaped).layer_forward(shaped, {}, {}, x, training=True, key=key)[0])
    np.testing.assert_array_equal(t, np.broadcast_to(t[:, :1], t.shape))
    noise = GaussianNoise(0.2)
    n = np.asarray(jax_ops(noise).layer_forward(noise, {}, {}, np.zeros((200, 300)), training=True, key=key)[0])
    assert abs(n.std() - 0.2) < 0.004 and abs(n.mean()) < 0.004
    for needs_key in (layer, noise):
        with pytest.raises(ValueError, match="needs a jax.random key"):
            jax_ops(needs_key).layer_forward(needs_key, {}, {}, x, training=True, key=None)


# --- models --------------------------------------------------------------------------------------
def dropout_model(backend, learning_rate=0.01):
    series = Input((5, 3))
    hidden = SpatialDropout1D(0.2)(series)
    hidden = GaussianNoise(0.1)(hidden)
    hidden = Dropout(0.5, noise_shape=(None, 1, None))(hidden)
    hidden = Dense(4, activation="tanh")(hidden)
    output = Dense(1)(Dropout(0.3)(hidden))
    model = Model(series, output, seed=0)
    model.compile(optimizer=optimizers.SGD(learning_rate), loss="mse", backend=backend)
    return model


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_model_with_dropout_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 5, 3)), rng.normal(size=(48, 5, 1))
    model = dropout_model(backend)
    before = model.get_weights()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    predictions = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), predictions)  # no dropout at inference
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), predictions)
    assert [type(layer).__name__ for layer in loaded.layers].count("Dropout") == 2


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_fit_trains_with_dropout_on_and_fresh_masks_each_step(backend):
    """With a negligible learning rate the weights stay put, so the training loss differs from the
    evaluation loss only through dropout, and from epoch to epoch only through new masks."""
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 5, 3)), rng.normal(size=(32, 5, 1))
    model = dropout_model(backend, learning_rate=1e-12)  # Keras refuses 0
    losses = model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0).history["loss"]
    evaluated = model.evaluate(x, y, batch_size=32, verbose=0)
    assert abs(losses[0] - evaluated) > 1e-4
    assert abs(losses[0] - losses[1]) > 1e-4


# --- bad inputs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: Dropout(1.5), ["`rate`", "between 0 and 1", "rate=1.5"]),
        (lambda: Dropout(-0.5), ["between 0 and 1", "rate=-0.5"]),
        (lambda: Dropout("0.5"), ["between 0 and 1", "'0.5'"]),
        (lambda: SpatialDropout1D(2), ["between 0 and 1", "rate=2"]),
        (lambda: GaussianNoise(1.5), ["`stddev`", "stddev=1.5"]),
        (lambda: Dropout(0.5, noise_shape="Invalid"), ["tuple or list of integers", "'Invalid'"]),
        (lambda: Dropout(0.5, noise_shape=5), ["iterable of integers", "noise_shape=5"]),
        (lambda: Dropout(0.5, noise_shape=(20, 1.5, 10)), ["integers or None", "1.5"]),
        (lambda: Dropout(0.5, noise_shape=(20, 0, 10)), ["positive integers", "index 1"]),
        (lambda: Dropout(0.5, noise_shape=(None, 2, None))(np.ones((2, 3, 4))),
         ["does not broadcast", "(2, 3, 4)", "(None, 2, None)"]),
        (lambda: Dropout(0.5, noise_shape=(1, 1, 1, 1))(np.ones((2, 3, 4))), ["at most 3 axes", "(2, 3, 4)"]),
        (lambda: Dropout(0.5)([np.ones((2, 3)), np.ones((2, 3))]), ["one input", "[(2, 3), (2, 3)]"]),
        (lambda: SpatialDropout1D(0.5)(np.ones((2, 3))), ["ndim=3", "(2, 3)"]),
        (lambda: SpatialDropout1D(0.5)(Input((3, 4, 5))), ["ndim=3", "(None, 3, 4, 5)"]),
        (lambda: GaussianNoise(0.1)(np.ones(())), ["ndim >= 1", "()"]),
        (lambda: np_dropout.dropout_forward(np.ones((2, 3)), 0.5, np.ones((3, 3), bool)),
         ["(3, 3)", "(2, 3)"]),
    ],
)
def test_bad_inputs_raise_value_error_naming_expected_and_received(call, expected):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in expected:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_a_failed_call_leaves_the_layer_unbuilt():
    layer = Dropout(0.5, noise_shape=(None, 2, None))
    with pytest.raises(ValueError):
        layer(np.ones((2, 3, 4)), training=True)
    assert not layer.built
    assert layer(np.ones((2, 2, 4))).shape == (2, 2, 4)
