"""Graphs and chains through save/load, to_json and save_weights; files that disagree with their
architecture are refused with ValueError before a model is handed back."""

import json

import numpy as np
import pytest
from test_functional import graph_model, random_inputs

from scratchlstm import LSTM, Dense, Input, Sequential, load_model, models

FORMAT = "scratchlstm.model"


@pytest.fixture
def compiled_graph():
    model = graph_model(seed=30, dtype="float32")
    model.compile("adam", {"first": "mse", "second": "mae"}, loss_weights=[1.0, 0.25],
                  metrics={"first": ["mae"], "second": ["mse"]})
    return model


def test_graph_round_trip_keeps_predictions_connectivity_and_compile(compiled_graph, tmp_path):
    rng = np.random.default_rng(0)
    xs = [x.astype(np.float32) for x in random_inputs(rng, batch=5)]
    path = tmp_path / "graph.npz"
    compiled_graph.save(path, metadata={"note": "two heads"})
    loaded = load_model(path)
    for a, b in zip(loaded.predict(xs), compiled_graph.predict(xs)):
        np.testing.assert_array_equal(a, b)
    assert loaded.metadata == {"note": "two heads"}
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in compiled_graph.layers]
    assert loaded.compiled.loss_weights == (1.0, 0.25)
    assert [e.log_name for e in loaded.compiled.metrics] == ["first_mae", "second_mse"]
    ys = [rng.normal(size=(5, 2)), rng.normal(size=(5, 1))]
    assert loaded.evaluate(xs, ys, return_dict=True) == compiled_graph.evaluate(xs, ys, return_dict=True)


def test_to_json_rebuilds_the_architecture(compiled_graph):
    rng = np.random.default_rng(1)
    xs = [x.astype(np.float32) for x in random_inputs(rng, batch=4)]
    rebuilt = models.model_from_json(compiled_graph.to_json())
    assert json.loads(rebuilt.to_json()) == json.loads(compiled_graph.to_json())
    rebuilt.set_weights(compiled_graph.get_weights())
    for a, b in zip(rebuilt.predict(xs), compiled_graph.predict(xs)):
        np.testing.assert_array_equal(a, b)
    # the shared layer is still one layer called twice
    shared = rebuilt.get_layer("shared")
    assert sum(1 for node in rebuilt.graph.nodes if node.layer is shared) == 2


def test_sequential_with_input_first_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    model = Sequential([Input((6, 2)), LSTM(4), Dense(1)], seed=0)
    assert model.built and model.output_shape == (None, 1)
    x = rng.normal(size=(3, 6, 2)).astype(np.float32)
    model.save(tmp_path / "chain.npz")
    loaded = load_model(tmp_path / "chain.npz")
    assert isinstance(loaded, Sequential)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(models.model_from_json(model.to_json()).layers[0].get_weights()[0].shape, (2, 16))


def test_save_weights_and_load_weights(compiled_graph, tmp_path):
    path = tmp_path / "w.npz"
    compiled_graph.save_weights(path)
    other = graph_model(seed=99, dtype="float32")
    assert not all(np.array_equal(a, b) for a, b in zip(other.get_weights(), compiled_graph.get_weights()))
    other.load_weights(path)
    for a, b in zip(other.get_weights(), compiled_graph.get_weights()):
        np.testing.assert_array_equal(a, b)
    wrong = Sequential([Input((6, 2)), LSTM(4), Dense(1)])
    before = wrong.get_weights()
    with pytest.raises(ValueError, match="holds 14 weight arrays, the model has 5"):
        wrong.load_weights(path)
    for a, b in zip(wrong.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def _tampered(tmp_path, model, change):
    """Save ``model``, rewrite its arrays with ``change(arrays)``, return the new path."""
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    change(arrays)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    return bad


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update({"shared/kernel": np.zeros((6, 5), np.float32)}), r"shared/kernel.*shape \(5, 5\).*\(6, 5\)"),
        (lambda a: a.pop("first/bias"), r"no array 'first/bias'"),
        (lambda a: a.update({"stray/kernel": np.zeros(3)}), r"arrays \['stray/kernel'\]"),
        (lambda a: a.update({"second/bias": np.array([np.nan], np.float32)}), "NaN or inf"),
        (lambda a: a.update({"second/bias": np.array(["x"])}), "real numbers"),
        (lambda a: a.update({"second/bias": np.array([1 + 2j])}), "real numbers"),
        (lambda a: a.update({"config.json": np.array(json.dumps([1, 2]))}), "JSON object"),
        (lambda a: a.update({"config.json": np.array(json.dumps({"format": FORMAT, "version": 9}))}), "version"),
        (lambda a: a.update({"config.json": np.array("{not json")}), "not valid JSON"),
    ],
)
def test_a_file_that_disagrees_with_its_architecture_is_refused(compiled_graph, tmp_path, change, message):
    path = _tampered(tmp_path, compiled_graph, change)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_a_version_1_file_still_loads(tmp_path):
    rng = np.random.default_rng(3)
    kernel, recurrent, bias = rng.normal(size=(2, 12)), rng.normal(size=(3, 12)), rng.normal(size=12)
    dense_kernel, dense_bias = rng.normal(size=(3, 1)), rng.normal(size=1)
    document = {
        "format": FORMAT, "version": 1, "input_shape": [5, 2],
        "model": {"name": "sequential", "seed": 0, "layers": [
            {"class_name": "LSTM", "units": 3, "use_bias": True, "kernel_initializer": "glorot_uniform",
             "recurrent_initializer": "orthogonal", "bias_initializer": "zeros", "unit_forget_bias": True,
             "return_sequences": False, "return_state": False, "dtype": "float64", "name": "lstm"},
            {"class_name": "Dense", "units": 1, "activation": None, "use_bias": True,
             "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros", "dtype": "float64", "name": "dense"},
        ]},
        "compile": {"optimizer": {"class_name": "Adam", "learning_rate": 0.001}, "loss": {"name": "mean_squared_error", "from_logits": False},
                    "metrics": ["mae"], "backend": "numpy"},
        "metadata": {},
    }
    path = tmp_path / "old.npz"
    np.savez(path, **{"config.json": np.array(json.dumps(document)), "layer0/kernel": kernel,
                      "layer0/recurrent_kernel": recurrent, "layer0/bias": bias,
                      "layer1/kernel": dense_kernel, "layer1/bias": dense_bias})
    model = load_model(path)
    assert model.metric_names == ["mean_absolute_error"]
    x = rng.normal(size=(4, 5, 2))
    from scratchlstm import lstm_forward

    _, (h, _), _ = lstm_forward({"kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}, x)
    np.testing.assert_allclose(model.predict(x), h @ dense_kernel + dense_bias, rtol=1e-12)
