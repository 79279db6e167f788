"""Keras 3 ``.keras`` and ``.weights.h5`` files, both ways, with live Keras as the oracle.

Each architecture is built twice from one recipe (``K`` is ``keras`` or ``scratchlstm``), given the
same random weights, and moved through a file in each direction: predictions agree to 1e-6,
weights bitwise, and each layer's config on the keys both sides know.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

import scratchlstm  # noqa: E402
from scratchlstm.keras_files._config import keras_layer_order  # noqa: E402
from scratchlstm.models import load_model  # noqa: E402


def _rng():
    return np.random.default_rng(7)


def lstm_dense(K):
    return K.Sequential([K.Input((5, 2)), K.layers.LSTM(4), K.layers.Dense(1)])


def stacked_lstm(K):
    return K.Sequential([K.Input((5, 2)), K.layers.LSTM(4, return_sequences=True), K.layers.LSTM(3),
                         K.layers.Dense(2, activation="tanh")])


def two_inputs(K):
    a, b = K.Input((5, 2), name="a"), K.Input((4, 3), name="b")
    merged = K.layers.concatenate([K.layers.LSTM(3)(a), K.layers.GRU(2)(b)])
    return K.Model([a, b], K.layers.Dense(1, name="out")(merged))


def recurrent_family(K):
    return K.Sequential([
        K.Input((6, 3)),
        K.layers.GRU(4, return_sequences=True),
        K.layers.GRU(3, reset_after=False, return_sequences=True),
        K.layers.SimpleRNN(3, return_sequences=True),
        K.layers.Bidirectional(K.layers.LSTM(2, return_sequences=True)),
        K.layers.Bidirectional(K.layers.GRU(2), merge_mode="sum"),
    ])


def embedding_masked(K):
    return K.Sequential([K.Input((6,), dtype="int32"), K.layers.Embedding(9, 4, mask_zero=True),
                         K.layers.LSTM(3), K.layers.Dense(1)])


def normalisation_and_time(K):
    return K.Sequential([K.Input((6, 3)), K.layers.BatchNormalization(), K.layers.LayerNormalization(),
                         K.layers.TimeDistributed(K.layers.Dense(2)), K.layers.Dropout(0.3),
                         K.layers.SpatialDropout1D(0.2), K.layers.GaussianNoise(0.1)])


def convolution_and_pooling(K):
    return K.Sequential([K.Input((8, 3)), K.layers.Conv1D(4, 3, padding="same", activation="relu"),
                         K.layers.MaxPooling1D(2), K.layers.Conv1D(2, 2), K.layers.AveragePooling1D(2),
                         K.layers.GlobalMaxPooling1D(), K.layers.RepeatVector(3), K.layers.Permute((2, 1)),
                         K.layers.Reshape((6,)), K.layers.Dense(2)])


def attention_and_merges(K):
    q, v = K.Input((4, 3), name="q"), K.Input((5, 3), name="v")
    mha = K.layers.MultiHeadAttention(2, 3)(q, v)
    dot = K.layers.Attention(use_scale=True)([q, v])
    add = K.layers.AdditiveAttention()([q, v])
    pooled = [K.layers.GlobalAveragePooling1D()(t) for t in (mha, dot, add)]
    merged = [K.layers.Add()(pooled), K.layers.Subtract()(pooled[:2]), K.layers.Multiply()(pooled),
              K.layers.Average()(pooled), K.layers.Maximum()(pooled), K.layers.Minimum()(pooled),
              K.layers.Dot(axes=1)(pooled[:2])]
    flat = K.layers.Flatten()(K.layers.Concatenate()(merged))
    return K.Model([q, v], [flat, K.layers.Dense(1)(flat)])


ARCHITECTURES = [lstm_dense, stacked_lstm, two_inputs, recurrent_family, embedding_masked,
                 normalisation_and_time, convolution_and_pooling, attention_and_merges]


def _inputs(model):
    rng = _rng()
    arrays = []
    for tensor in model.inputs:
        shape = (3, *tensor.shape[1:])
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 9, size=shape).astype("int32"))
        else:
            arrays.append(rng.normal(size=shape).astype("float32"))
    return arrays if len(arrays) > 1 else arrays[0]


def _random_weights(model):
    """Non-trivial weights (variances positive), the same for both libraries."""
    rng = _rng()
    return [np.abs(rng.normal(size=w.shape)).astype(w.dtype) + 0.1 if w.ndim == 1 and w.size and i % 4 == 3
            else rng.normal(scale=0.5, size=w.shape).astype(w.dtype) for i, w in enumerate(model.get_weights())]


def _predict(model, x):
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def _plain(value):
    value = json.loads(json.dumps(value))
    return value if isinstance(value, list) else [value]  # axis=-1 is axis=[-1]


def _same_configs(ours, theirs, names):
    order = [layer for layer in keras_layer_order(ours) if not layer.is_input_layer]
    their_layers = [layer for layer in theirs.layers if type(layer).__name__ != "InputLayer"]
    assert [type(layer).__name__ for layer in order] == [type(layer).__name__ for layer in their_layers]
    if names:
        assert [layer.name for layer in order] == [layer.name for layer in their_layers]
    for mine_layer, layer in zip(order, their_layers):
        mine, their_config = mine_layer.get_config(), layer.get_config()
        for key in set(mine) & set(their_config) - {"name", "dtype", "layer", "backward_layer", "attention_axes"}:
            if key.endswith(("_initializer", "_regularizer", "_constraint")):
                continue
            value, mine_value = their_config[key], mine[key]
            if key.endswith("activation"):  # None and "linear" are the same function
                value, mine_value = value or "linear", mine_value or "linear"
            assert _plain(mine_value) == _plain(value), (layer.name, key)


def _assert_same(ours, theirs, names=True):
    x = _inputs(theirs)
    for a, b in zip(_predict(ours, x), _predict(theirs, x)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-6)
    mine, their_weights = ours.get_weights(), theirs.get_weights()
    assert len(mine) == len(their_weights)
    for a, b in zip(mine, their_weights):
        assert a.shape == b.shape and np.array_equal(a, np.asarray(b))
    _same_configs(ours, theirs, names)


@pytest.mark.parametrize("build", ARCHITECTURES, ids=lambda f: f.__name__)
def test_ours_to_keras_archive_and_back(build, tmp_path):
    ours = build(scratchlstm)
    ours.set_weights(_random_weights(ours))
    ours.save(tmp_path / "ours.keras")
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    _assert_same(ours, theirs)
    again = load_model(tmp_path / "ours.keras")
    _assert_same(again, theirs)


@pytest.mark.parametrize("build", ARCHITECTURES, ids=lambda f: f.__name__)
def test_keras_archive_to_ours(build, tmp_path):
    theirs = build(keras)
    theirs.set_weights(_random_weights(theirs))
    theirs.save(tmp_path / "theirs.keras")
    _assert_same(load_model(tmp_path / "theirs.keras"), theirs)


@pytest.mark.parametrize("build", ARCHITECTURES, ids=lambda f: f.__name__)
def test_weights_h5_both_ways(build, tmp_path):
    theirs, ours = build(keras), build(scratchlstm)
    theirs.set_weights(_random_weights(theirs))
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    _assert_same(ours, theirs, names=False)
    ours.set_weights([w * 0.5 for w in ours.get_weights()])
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    _assert_same(ours, theirs, names=False)


def test_compile_settings_travel_both_ways(tmp_path):
    ours = lstm_dense(scratchlstm)
    ours.compile(scratchlstm.optimizers.RMSprop(0.01, rho=0.8), "mae", metrics=["mse"])
    ours.save(tmp_path / "ours.keras")
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    assert type(theirs.optimizer).__name__ == "RMSprop"
    assert theirs.optimizer.get_config()["rho"] == pytest.approx(0.8)
    x, y = np.ones((4, 5, 2), "float32"), np.ones((4, 1), "float32")
    theirs.fit(x, y, epochs=1, verbose=0)  # trained: the file holds optimizer variables
    theirs.save(tmp_path / "theirs.keras")
    back = load_model(tmp_path / "theirs.keras")  # its variables restored (test_keras_files_optimizer.py)
    assert back.optimizer.iterations == int(theirs.optimizer.iterations) == 1
    assert type(back.optimizer).__name__ == "RMSprop" and back.optimizer.get_config()["rho"] == pytest.approx(0.8)
    assert back.optimizer.learning_rate == pytest.approx(0.01)
    np.testing.assert_allclose(back.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)
    assert load_model(tmp_path / "theirs.keras", compile=False).compiled is None


def test_metadata_rides_in_metadata_json(tmp_path):
    model = lstm_dense(scratchlstm)
    model.save(tmp_path / "m.keras", metadata={"lookback": 5})
    assert load_model(tmp_path / "m.keras").metadata == {"lookback": 5}
    keras.models.load_model(tmp_path / "m.keras")  # Keras ignores the extra key


def test_seeds_that_only_chose_initial_weights_are_left_out_for_keras(tmp_path):
    """Our Dense, Conv1D, Embedding, normalisation layers and Bidirectional take ``seed`` (for
    their initial weights); Keras' do not, so the archive leaves it out and Keras loads it."""
    L = scratchlstm.layers
    model = scratchlstm.Sequential([
        scratchlstm.Input((6,), dtype="int32"), L.Embedding(9, 4, seed=1), L.Conv1D(3, 2, seed=2),
        L.BatchNormalization(seed=3), L.LayerNormalization(seed=4),
        L.Bidirectional(L.LSTM(2, seed=5), seed=6), L.Dense(1, seed=7),
    ])
    x = np.random.default_rng(0).integers(0, 9, size=(5, 6))
    model.save(tmp_path / "seeded.keras")
    theirs = keras.models.load_model(tmp_path / "seeded.keras")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), atol=1e-6)
    config = json.dumps(theirs.get_config())
    assert '"seed": 5' in config  # Keras' LSTM has a seed (its dropout's): kept


_ARGUMENTS = {  # the required arguments of each mapped class, the same for both libraries
    "LSTM": lambda L: (3,), "GRU": lambda L: (3,), "SimpleRNN": lambda L: (3,),
    "Bidirectional": lambda L: (L.LSTM(2),), "TimeDistributed": lambda L: (L.Dense(2),),
    "Dense": lambda L: (2,), "Embedding": lambda L: (5, 2), "Conv1D": lambda L: (2, 3),
    "Dropout": lambda L: (0.1,), "GaussianNoise": lambda L: (0.1,), "SpatialDropout1D": lambda L: (0.1,),
    "Reshape": lambda L: ((2,),), "Permute": lambda L: ((2, 1),), "RepeatVector": lambda L: (2,),
    "MultiHeadAttention": lambda L: (2, 3), "Dot": lambda L: (1,),
    "MaxPooling1D": lambda L: (2,), "AveragePooling1D": lambda L: (2,),
}
# seed: both have it (ours leaves it out of the config while None, Keras writes None)
_BOTH_SIDES_HANDLE = {"name", "dtype", "trainable", "layer", "forward_layer", "backward_layer", "seed"}


@pytest.mark.parametrize("name", sorted(set(scratchlstm.keras_files.MAPPINGS) - {"Sequential", "Model", "InputLayer"}))
def test_the_mapping_table_names_every_argument_one_side_lacks(name):
    """Default configs: every key only Keras writes is in ``keras_only`` (with Keras' default),
    every key only we write is in ``ours_only`` or ``initial_only``; nothing else differs."""
    mapping = scratchlstm.keras_files.MAPPINGS[name]
    ours_layers, their_layers = scratchlstm.layers, keras.layers
    mine = getattr(ours_layers, name)(*_ARGUMENTS.get(name, lambda L: ())(ours_layers)).get_config()
    theirs = getattr(their_layers, mapping.keras_name)(*_ARGUMENTS.get(name, lambda L: ())(their_layers)).get_config()
    only_keras = set(theirs) - set(mine) - _BOTH_SIDES_HANDLE
    only_ours = set(mine) - set(theirs) - _BOTH_SIDES_HANDLE
    assert only_keras == set(mapping.keras_only), name
    for key, value in mapping.keras_only.items():
        assert theirs[key] == value, (name, key)
    assert only_ours <= set(mapping.ours_only) | set(mapping.initial_only), name


@pytest.mark.slow
def test_mixed_precision_policies_travel_and_keras_loss_scaling_continues(tmp_path):
    """Layers' dtype policies both ways; a Keras mixed_float16 model's LossScaleOptimizer (its
    compile wraps the optimizer) loads on the JAX backend and trains on as Keras does."""
    pytest.importorskip("jax")
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype("float32")
    y = x[:, 0, :1]
    ours = scratchlstm.Sequential([scratchlstm.Input((5, 3)),
                                   scratchlstm.layers.LSTM(4, dtype="mixed_bfloat16", seed=0),
                                   scratchlstm.layers.Dense(1, seed=1)])
    ours.compile("sgd", "mse", backend="jax")  # half precision runs on JAX
    ours.save(tmp_path / "ours.keras")
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    assert theirs.layers[0].dtype_policy.name == "mixed_bfloat16"
    for mine, their in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(mine, np.asarray(their))  # float32 variables, bitwise
    # bf16 keeps ~3 significant digits; the two LSTMs round in different places
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0), atol=2e-2)

    keras.utils.set_random_seed(0)  # Keras' initial weights, so the run is the same in any test order
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        trained = keras.Sequential([keras.Input((5, 3)), keras.layers.GRU(4), keras.layers.Dense(1, dtype="float32")])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    trained.compile("adam", "mse")
    trained.fit(x, y, verbose=0, shuffle=False)
    trained.save(tmp_path / "theirs.keras")
    loaded = load_model(tmp_path / "theirs.keras")
    assert type(loaded.optimizer).__name__ == "LossScaleOptimizer" and loaded.backend_name == "jax"
    assert loaded.layers[0].dtype_policy.name == "mixed_float16" and loaded.optimizer.iterations == 1
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), np.asarray(trained.predict(x, verbose=0)))
    trained.fit(x, y, verbose=0, shuffle=False)
    loaded.fit(x, y, verbose=0, shuffle=False)
    # The two GRUs round their float16 gradients in different places. Adam divides each gradient by
    # its own size, so a component near float16's resolution can move its weight by a visibly
    # different part of the learning rate (1e-3): seen on 2 of 36 weights for some initial weights.
    # Nearly all weights must agree closely; none may be off by half a step.
    differences = np.concatenate([np.abs(mine - np.asarray(their)).ravel()
                                  for mine, their in zip(loaded.get_weights(), trained.get_weights())])
    assert np.mean(differences > 1e-5) <= 0.05, np.sort(differences)[-5:]
    assert differences.max() < 5e-4, differences.max()
