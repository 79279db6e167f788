"""The recurrent layers against Keras 3 (an oracle installed for the tests): outputs from copied
weights, weights after one SGD step, go_backwards, stateful over three batches with a reset,
masks, Bidirectional."""

import os

import numpy as np
import pytest

import scratchlstm as ours

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")

LAYERS = {
    "LSTM": ({}, {}),
    "GRU": ({}, {}),
    "GRU_before": ({"reset_after": False}, {"reset_after": False}),
    "SimpleRNN": ({}, {}),
    "SimpleRNN_relu": ({"activation": "relu"}, {"activation": "relu"}),
}


def _pair(kind, **options):
    name = kind.split("_")[0]
    extra = LAYERS[kind][0]
    return getattr(ours.layers, name)(4, seed=0, **extra, **options), getattr(keras.layers, name)(4, **extra, **options)


def _data(batch=3, steps=5, features=3, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, features)).astype("float32")


def _outputs(value):
    return [np.asarray(v) for v in value] if isinstance(value, (list, tuple)) else [np.asarray(value)]


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize(
    "options",
    [{"return_sequences": True}, {"go_backwards": True, "return_sequences": True}, {"return_state": True, "go_backwards": True}],
    ids=["sequences", "backwards", "state-backwards"],
)
def test_outputs_equal_keras_from_copied_weights(kind, options):
    x = _data()
    mine, theirs = _pair(kind, **options)
    mine(x)
    theirs(x)
    theirs.set_weights(mine.get_weights())
    for a, b in zip(_outputs(mine(x)), _outputs(theirs(x))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_masked_outputs_equal_keras(kind):
    x = _data(seed=1)
    x[0, 3:] = 0.0
    x[1, :2] = 0.0  # leading masked steps keep the initial state
    inputs = keras.Input((5, 3))
    mine_layer, keras_layer = _pair(kind, return_sequences=True)
    keras_model = keras.Model(inputs, keras_layer(keras.layers.Masking()(inputs)))
    our_inputs = ours.Input((5, 3))
    our_model = ours.Model(our_inputs, mine_layer(ours.layers.Masking()(our_inputs)))
    keras_layer.set_weights(mine_layer.get_weights())
    np.testing.assert_allclose(our_model.predict(x, verbose=0), np.asarray(keras_model.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_equals_keras_with_masks(kind, merge_mode):
    x = _data(seed=2)
    mask = np.ones((3, 5), bool)
    mask[0, 2:] = False
    mine = ours.layers.Bidirectional(getattr(ours.layers, kind)(4, return_sequences=True, seed=0), merge_mode=merge_mode)
    theirs = keras.layers.Bidirectional(getattr(keras.layers, kind)(4, return_sequences=True), merge_mode=merge_mode)
    mine(x)
    theirs(x)
    theirs.set_weights(mine.get_weights())
    np.testing.assert_allclose(mine(x, mask=mask), np.asarray(theirs(x, mask=mask)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "GRU_before", "SimpleRNN"])
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_weights_after_one_sgd_step_equal_keras(kind, backend):
    x, y = _data(seed=3), np.random.default_rng(4).normal(size=(3, 2)).astype("float32")

    def build(module, layer):
        model = module.Sequential([module.Input((5, 3)), layer, module.layers.Dense(2)])
        return model

    mine_layer, keras_layer = _pair(kind, go_backwards=True)
    mine = build(ours, mine_layer)
    theirs = build(keras, keras_layer)
    theirs.set_weights(mine.get_weights())
    mine.compile(optimizer=ours.optimizers.SGD(0.1), loss="mse", backend=backend)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    mine.train_on_batch(x, y)
    theirs.train_on_batch(x, y)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_stateful_over_three_batches_with_a_reset_equals_keras(kind):
    """Eager calls: Keras 3 on its JAX backend carries a stateful RNN's states only there (its
    jitted predict and fit leave them untouched), while its TensorFlow and torch backends carry
    them everywhere, as this library does (see test_stateful_predict_carries_the_states)."""
    batches = [_data(batch=2, steps=4, seed=s) for s in range(3)]
    mine = getattr(ours.layers, kind)(4, stateful=True, return_sequences=True, seed=0)
    theirs = getattr(keras.layers, kind)(4, stateful=True, return_sequences=True)
    mine(batches[0])
    theirs(batches[0])
    theirs.set_weights(mine.get_weights())
    mine.reset_states()
    theirs.reset_states()
    for k, x in enumerate(batches):
        if k == 2:
            mine.reset_states()
            theirs.reset_states()
        np.testing.assert_allclose(mine(x), np.asarray(theirs(x)), rtol=1e-5, atol=1e-5)
        for a, b in zip(mine.states, theirs.states):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_bidirectional_weights_after_one_sgd_step_equal_keras(backend):
    x, y = _data(seed=5), np.random.default_rng(6).normal(size=(3, 5, 2)).astype("float32")

    def build(module, **seed):
        return module.Sequential([
            module.Input((5, 3)),
            module.layers.Bidirectional(module.layers.GRU(4, return_sequences=True, **seed), merge_mode="ave"),
            module.layers.Dense(2),
        ])

    mine, theirs = build(ours, seed=0), build(keras)
    theirs.set_weights(mine.get_weights())
    mine.compile(optimizer=ours.optimizers.SGD(0.1), loss="mse", backend=backend)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    mine.train_on_batch(x, y)
    theirs.train_on_batch(x, y)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-6)
