"""DESIGN §7's registry test: every public layer kind is known to both backends, round-trips
through its config and through save/load, and its NumPy backward passes a float64
finite-difference check. A layer registered without an entry in EXAMPLES fails here."""

import numpy as np
import pytest

from scratchlstm import Input, Model, Sequential, layers, load_model
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._tree import flatten_paths, unflatten_paths
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops

F64 = "float64"


class ScaledTanhCell(layers.RNNCell):
    """A user cell for ``RNN``'s entry: ``h_t = tanh(x_t W + h_{t-1} U)``, output ``0.5 h_t``."""

    def __init__(self, units=3):
        self.units, self.state_size = units, (units,)

    def initialize(self, features, rng, dtype):
        return {"kernel": rng.normal(size=(features, self.units)).astype(dtype),
                "recurrent_kernel": 0.5 * rng.normal(size=(self.units, self.units)).astype(dtype)}

    def step(self, params, x, states):
        h = np.tanh(x @ params["kernel"] + states[0] @ params["recurrent_kernel"])
        return 0.5 * h, (h,), (x, states[0], h)

    def step_backward(self, params, cache, d_output, d_states):
        x, previous, h = cache
        dz = (0.5 * d_output + d_states[0]) * (1 - h * h)
        return ({"kernel": x.T @ dz, "recurrent_kernel": previous.T @ dz}, dz @ params["kernel"].T,
                (dz @ params["recurrent_kernel"].T,))

    def jax_step(self, params, x, states):
        import jax.numpy as jnp

        h = jnp.tanh(x @ params["kernel"] + states[0] @ params["recurrent_kernel"])
        return 0.5 * h, (h,)

    def get_config(self):
        return {"units": self.units}


# class name -> (a fresh layer, the input shapes without the batch axis; a list for list inputs).
# Seeded, so the finite-difference checks see the same weights on every run.
EXAMPLES = {
    "Dense": (lambda: layers.Dense(3, activation="tanh", seed=0, dtype=F64), (2, 4)),
    "LSTM": (lambda: layers.LSTM(3, return_sequences=True, seed=0, dtype=F64), (4, 2)),
    "GRU": (lambda: layers.GRU(3, return_sequences=True, go_backwards=True, seed=0, dtype=F64), (4, 2)),
    "SimpleRNN": (lambda: layers.SimpleRNN(3, activation="relu", seed=0, dtype=F64), (4, 2)),
    "Bidirectional": (lambda: layers.Bidirectional(layers.GRU(3, return_sequences=True, seed=0, dtype=F64),
                                                   merge_mode="mul"), (4, 2)),
    "RNN": (lambda: layers.RNN(ScaledTanhCell(3), return_sequences=True, seed=0, dtype=F64), (4, 2)),
    "Add": (lambda: layers.Add(dtype=F64), [(3,), (3,)]),
    "Subtract": (lambda: layers.Subtract(dtype=F64), [(3,), (3,)]),
    "Multiply": (lambda: layers.Multiply(dtype=F64), [(3,), (3,), (3,)]),
    "Average": (lambda: layers.Average(dtype=F64), [(3,), (3,)]),
    "Maximum": (lambda: layers.Maximum(dtype=F64), [(3,), (3,)]),
    "Minimum": (lambda: layers.Minimum(dtype=F64), [(3,), (3,)]),
    "Concatenate": (lambda: layers.Concatenate(axis=1, dtype=F64), [(2, 3), (4, 3)]),
    "Dot": (lambda: layers.Dot(axes=-1, normalize=True, dtype=F64), [(4,), (4,)]),
    "Dropout": (lambda: layers.Dropout(0.5, noise_shape=(None, 1, None), dtype=F64), (3, 4)),
    "SpatialDropout1D": (lambda: layers.SpatialDropout1D(0.5, dtype=F64), (3, 4)),
    "GaussianNoise": (lambda: layers.GaussianNoise(0.1, dtype=F64), (3, 4)),
    "Flatten": (lambda: layers.Flatten(data_format="channels_first", dtype=F64), (3, 2, 4)),
    "Reshape": (lambda: layers.Reshape((2, -1), dtype=F64), (3, 4)),
    "Permute": (lambda: layers.Permute((3, 1, 2), dtype=F64), (2, 3, 4)),
    "RepeatVector": (lambda: layers.RepeatVector(3, dtype=F64), (4,)),
    "Conv1D": (lambda: layers.Conv1D(3, 2, padding="causal", dilation_rate=2, activation="tanh", seed=0, dtype=F64), (5, 2)),
    "LayerNormalization": (lambda: layers.LayerNormalization(dtype=F64), (3, 4)),
    "BatchNormalization": (lambda: layers.BatchNormalization(dtype=F64), (3, 4)),
    "Embedding": (lambda: layers.Embedding(5, 3, mask_zero=True, seed=0, dtype=F64), (4,)),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(3, strides=2, padding="same", dtype=F64), (5, 2)),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(3, strides=2, padding="same", dtype=F64), (5, 2)),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(dtype=F64), (4, 3)),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(dtype=F64), (4, 3)),
    "TimeDistributed": (lambda: layers.TimeDistributed(layers.Dense(2, activation="tanh", seed=0, dtype=F64)), (3, 4)),
    "Masking": (lambda: layers.Masking(0.5, dtype=F64), (3, 4)),
    "Attention": (lambda: layers.Attention(use_scale=True, score_mode="concat", dtype=F64), [(3, 4), (5, 4)]),
    "AdditiveAttention": (lambda: layers.AdditiveAttention(seed=0, dtype=F64), [(3, 4), (5, 2), (5, 4)]),
    # no bias: a key bias shifts every score alike, so its exact gradient is 0 (round-off vs round-off)
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(2, 3, value_dim=2, use_bias=False, seed=0, dtype=F64),
                           [(3, 4), (5, 2), (5, 3)]),
}
# Kinds whose instances are made differently, each tested on its own elsewhere or below.
STRUCTURAL = {"InputLayer", "Model", "Sequential"}


def test_every_registered_layer_has_an_example():
    ours = {name for name, cls in LAYER_CLASSES.items() if cls.__module__.startswith("scratchlstm.")}
    assert ours - STRUCTURAL == set(EXAMPLES)  # (other tests may register their own layers)


def test_a_second_class_with_a_registered_name_is_refused():
    with pytest.raises(ValueError, match="'Dense' is already registered"):
        @layers.register(numpy="scratchlstm._numpy.core.dense")
        class Dense(layers.Layer):
            pass


def _inputs(shapes, rng, batch=2, layer=None):
    if getattr(layer, "integer_inputs", False):  # token ids
        return rng.integers(0, layer.input_dim, size=(batch, *shapes)).astype(np.float64)
    if isinstance(shapes, list):
        return [rng.normal(size=(batch, *s)) for s in shapes]
    return rng.normal(size=(batch, *shapes))


def _model(name):
    make, shapes = EXAMPLES[name]
    layer = make()
    if isinstance(shapes, list):
        inputs = [Input(s, dtype=F64) for s in shapes]
    else:
        inputs = Input(shapes, dtype=F64)
    return Model(inputs, layer(inputs)), layer


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_both_backends_know_the_layer(name):
    layer = EXAMPLES[name][0]()
    assert callable(numpy_ops(layer).layer_forward) and callable(numpy_ops(layer).layer_backward)
    pytest.importorskip("jax")
    assert callable(jax_ops(layer).layer_forward)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_config_round_trip(name):
    layer = EXAMPLES[name][0]()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert layers.deserialize(layers.serialize(layer)).get_config() == config


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_save_and_load_give_identical_predictions(name, tmp_path):
    rng = np.random.default_rng(0)
    model, layer = _model(name)
    x = _inputs(EXAMPLES[name][1], rng, layer=layer)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_numpy_backward_matches_finite_differences(name):
    rng = np.random.default_rng(1)
    model, layer = _model(name)
    if layer.params:
        model.set_weights([w + 0.1 * rng.normal(size=w.shape) for w in model.get_weights()])
    x = _inputs(EXAMPLES[name][1], rng, layer=layer)
    ops = numpy_ops(layer)
    params = dict(layer.params)
    outputs, _, cache = ops.layer_forward(layer, params, layer.state, x, training=False, rng=None, mask=None)
    upstream = rng.normal(size=outputs.shape)
    grads, d_x = ops.layer_backward(layer, params, cache, upstream, input_gradient=True)

    def objective(p, inputs):
        out, _, _ = ops.layer_forward(layer, p, layer.state, inputs, training=False, rng=None, mask=None)
        return float(np.sum(out * upstream))

    flat_params, flat_grads = flatten_paths(params), flatten_paths(grads)  # nested for wrappers
    assert set(flat_grads) == set(flat_params)
    for key in flat_params:
        numeric = numerical_gradient(lambda d: objective(unflatten_paths(d), x), flat_params, key)
        assert relative_error(flat_grads[key], numeric) < 1e-6, key
    if getattr(layer, "integer_inputs", False):  # ids have no gradient
        np.testing.assert_array_equal(d_x, np.zeros_like(x))
        return
    xs, d_xs = (x, d_x) if isinstance(x, list) else ([x], [d_x])
    for k, (value, analytic) in enumerate(zip(xs, d_xs)):
        def with_input(d, k=k):
            inputs = [d["x"] if j == k else v for j, v in enumerate(xs)]
            return objective(params, inputs if isinstance(x, list) else inputs[0])

        assert relative_error(analytic, numerical_gradient(with_input, {"x": value}, "x")) < 1e-6, f"input {k}"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_jax_forward_matches_numpy(name):
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        rng = np.random.default_rng(2)
        model, layer = _model(name)
        x = _inputs(EXAMPLES[name][1], rng, layer=layer)
        expected, _, _ = numpy_ops(layer).layer_forward(layer, layer.params, layer.state, x, training=False, rng=None, mask=None)
        got, _ = jax_ops(layer).layer_forward(layer, layer.params, layer.state, x, training=False, key=None, mask=None)
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-12)
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_models_are_layers_in_the_registry():
    inner = Sequential([layers.Dense(2)])
    assert numpy_ops(inner).__name__.endswith("_numpy.graph")
    assert LAYER_CLASSES["Model"] is Model and LAYER_CLASSES["Sequential"] is Sequential
