"""Write the Keras 3 files that tests/test_keras_files_fixtures.py loads without Keras.

Run from the repository root with Keras 3 installed (they were made with Keras 3.15.1)::

    KERAS_BACKEND=jax python tests/data/keras/make_files.py

Each model gets fixed random weights; ``expected.npz`` holds the fixed inputs (``<name>/x<i>``)
and Keras' predictions for them (``<name>/y<i>``).
"""

from __future__ import annotations

import os

import keras
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def lstm_dense():
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def two_inputs():
    a, b = keras.Input((5, 2), name="a"), keras.Input((4, 3), name="b")
    merged = keras.layers.concatenate([keras.layers.LSTM(3)(a), keras.layers.GRU(2)(b)])
    return keras.Model([a, b], keras.layers.Dense(1, name="out")(merged))


def recurrent_family():
    return keras.Sequential([
        keras.Input((6, 3)),
        keras.layers.GRU(3, reset_after=False, return_sequences=True),
        keras.layers.SimpleRNN(3, return_sequences=True),
        keras.layers.Bidirectional(keras.layers.LSTM(2, return_sequences=True)),
        keras.layers.BatchNormalization(),
        keras.layers.TimeDistributed(keras.layers.Dense(2)),
        keras.layers.GlobalAveragePooling1D(),
    ])


def embedding_attention():
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(9, 4, mask_zero=True)(tokens)
    attended = keras.layers.MultiHeadAttention(2, 2)(embedded, embedded)
    pooled = keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(3, 2)(attended))
    return keras.Model(tokens, keras.layers.Dense(1)(pooled))


MODELS = {f.__name__: f for f in (lstm_dense, two_inputs, recurrent_family, embedding_attention)}


def main():
    rng = np.random.default_rng(2024)
    expected = {}
    for name, build in MODELS.items():
        model = build()
        model.set_weights([np.abs(rng.normal(size=w.shape)).astype(w.dtype) + 0.1 if "variance" in v.path
                           else rng.normal(scale=0.5, size=w.shape).astype(w.dtype)
                           for w, v in zip(model.get_weights(), model.weights)])
        inputs = []
        for tensor in model.inputs:
            shape = (2, *tensor.shape[1:])
            inputs.append(rng.integers(0, 9, shape).astype("int32") if "int" in str(tensor.dtype)
                          else rng.normal(size=shape).astype("float32"))
        outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        for i, x in enumerate(inputs):
            expected[f"{name}/x{i}"] = x
        expected[f"{name}/y0"] = np.asarray(outputs)
        model.save(os.path.join(HERE, f"{name}.keras"))
        if name == "lstm_dense":  # one weights file is enough (each is ~20 KB of HDF5 headers)
            model.save_weights(os.path.join(HERE, f"{name}.weights.h5"))
    np.savez(os.path.join(HERE, "expected.npz"), **expected)


if __name__ == "__main__":
    main()
