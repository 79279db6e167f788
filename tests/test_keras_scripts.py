"""Keras tutorial code with only its import changed (``import scratchlstm as keras``)."""

import numpy as np
import pytest

import scratchlstm as keras
from scratchlstm.layers import LSTM, Dense


def test_stock_price_style_sequential_with_positional_fit_arguments():
    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(40, 10, 1)).astype("float32")
    y_train = x_train[:, -1, 0] * 0.5
    model = keras.Sequential()
    model.add(LSTM(units=8, return_sequences=True, input_shape=(x_train.shape[1], 1)))
    model.add(LSTM(units=8))
    model.add(Dense(units=1))
    model.compile(optimizer="adam", loss="mean_squared_error")
    history = model.fit(x_train, y_train, 8, 2, verbose=0)  # Keras' order: batch_size, epochs
    assert len(history.history["loss"]) == 2
    assert model.predict(x_train[:3], verbose=0).shape == (3, 1)


def test_multi_input_multi_output_functional_model_logs_as_keras():
    rng = np.random.default_rng(1)
    keras.utils.set_random_seed(42)
    series = keras.Input(shape=(12, 3), name="series")
    tags = keras.Input(shape=(5,), name="tags")
    features = keras.layers.concatenate([keras.layers.LSTM(8)(series), keras.layers.Dense(4, activation="relu")(tags)])
    priority = keras.layers.Dense(1, name="priority")(features)
    department = keras.layers.Dense(3, name="department")(features)
    model = keras.Model(inputs=[series, tags], outputs={"priority": priority, "department": department})
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
        metrics={"department": [keras.metrics.CategoricalAccuracy()]},
    )
    x = {"series": rng.normal(size=(32, 12, 3)), "tags": rng.integers(0, 2, size=(32, 5)).astype("float32")}
    y = {"priority": rng.integers(0, 2, size=(32, 1)), "department": keras.utils.to_categorical(rng.integers(0, 3, 32), 3)}
    history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0)
    assert sorted(history.history) == sorted([
        "loss", "priority_loss", "department_loss", "department_categorical_accuracy",
        "val_loss", "val_priority_loss", "val_department_loss", "val_department_categorical_accuracy",
    ])
    logs = history.history
    np.testing.assert_allclose(logs["loss"][-1], logs["priority_loss"][-1] + 0.2 * logs["department_loss"][-1], rtol=1e-6)
    predictions = model.predict(x, verbose=0)
    assert set(predictions) == {"priority", "department"} and predictions["department"].shape == (32, 3)


def test_set_random_seed_makes_layer_weights_reproducible():
    def build():
        keras.utils.set_random_seed(7)
        return keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)]).get_weights()

    first, second = build(), build()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    keras.utils.set_random_seed(8)
    third = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)]).get_weights()
    assert not np.array_equal(first[0], third[0])


def test_models_namespace_and_sequential_pop(tmp_path):
    model = keras.models.Sequential([keras.layers.Input(shape=(6, 2)), keras.layers.LSTM(4), keras.layers.Dense(2)])
    model.add(keras.layers.Dense(1))
    assert model.output_shape == (None, 1)
    removed = model.pop()
    assert isinstance(removed, keras.layers.Dense) and model.output_shape == (None, 2)
    model.compile("sgd", keras.losses.MeanSquaredError(), metrics=[keras.metrics.RootMeanSquaredError()])
    x, y = np.ones((8, 6, 2)), np.zeros((8, 2))
    rmse = model.evaluate(x, y, return_dict=True, verbose=0)["root_mean_squared_error"]
    np.testing.assert_allclose(rmse, np.sqrt(np.mean(model.predict(x, verbose=0) ** 2)), rtol=1e-5)
    model.save(tmp_path / "m.npz")
    assert isinstance(keras.models.load_model(tmp_path / "m.npz"), keras.Sequential)
    assert keras.models.model_from_json(model.to_json()).count_params() == model.count_params()


def test_class_and_sample_weights_scale_the_loss_as_keras():
    rng = np.random.default_rng(2)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    x, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=(10, 1)).astype("float32")
    plain = model.evaluate(x, y, verbose=0)
    weighted = model.evaluate(x, y, sample_weight=np.full(10, 2.0), verbose=0)
    np.testing.assert_allclose(weighted, 2 * plain, rtol=1e-6)
    before = model.get_weights()
    model.fit(x, y, class_weight={0: 0.0, 1: 0.0}, epochs=1, verbose=0)  # every sample weighs nothing
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_accuracy_follows_keras_rule_of_the_output_shape():
    rng = np.random.default_rng(3)
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.compile("sgd", "mse", metrics=["accuracy"])  # one unit: binary accuracy, whatever the loss
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=(40, 1)).astype("float32")
    expected = np.mean((model.predict(x, verbose=0) > 0.5) == (y > 0.5))
    np.testing.assert_allclose(model.evaluate(x, y, return_dict=True, verbose=0)["accuracy"], expected, rtol=1e-6)
    multi = keras.Model(inputs, keras.layers.Dense(3, activation="sigmoid")(inputs))
    multi.compile("sgd", "binary_crossentropy", metrics=["accuracy"])  # three units: categorical
    assert multi.metric_names == ["categorical_accuracy"]
    chain = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(1, activation="sigmoid")])
    chain.compile("sgd", "mse", metrics=["accuracy"])  # unbuilt: resolved again once built
    chain.fit(x, y, epochs=1, verbose=0)
    assert chain.metric_names == ["binary_accuracy"]


def test_generators_and_unknown_compile_options_get_clear_errors():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", jit_compile=True, run_eagerly=False)
    with pytest.raises(ValueError, match="generators and datasets are not supported"):
        model.fit((np.zeros((2, 3)) for _ in range(2)), verbose=0)
    with pytest.raises(NotImplementedError, match="steps_per_execution=4"):
        model.compile("sgd", "mse", steps_per_execution=4)
    with pytest.raises(TypeError, match="'jit'"):
        model.compile("sgd", "mse", jit=True)
