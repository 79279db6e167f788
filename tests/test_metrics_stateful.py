"""Stateful metrics: each accumulates a state over an epoch and reports a function of it, as Keras 3.

- Standalone parity with Keras 3: ``update_state`` over three weighted batches, ``result()``.
- The JAX functions (jitted, the state a pytree) equal the NumPy ones on the same batches.
- ``fit`` histories (train and validation), ``evaluate`` and ``train_on_batch`` on both
  backends equal Keras' metrics over the whole epoch's data, with Keras' log names; an epoch's
  precision is not the mean of its batch precisions (that would fail these tests).
- Masked outputs, several devices, save/load, bad input.

Keras computes in float32, so values agree to about 1e-6.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import scratchlstm as ours
from scratchlstm import metrics

os.environ.setdefault("KERAS_BACKEND", "jax")
ROOT = Path(__file__).resolve().parents[1]
TOL = dict(rtol=2e-6, atol=2e-6)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def make_batch(kind, shape, rng):
    """``(y_true, y_pred)`` float32 for predictions of ``shape``."""
    if kind == "binary":
        return (rng.random(shape) > 0.5).astype("float32"), rng.random(shape).astype("float32")
    if kind in ("onehot", "sparse"):
        labels = rng.integers(0, shape[-1], size=shape[:-1])
        y_true = labels if kind == "sparse" else np.eye(shape[-1])[labels]
        return y_true.astype("float32"), rng.random(shape).astype("float32")
    if kind == "positive":
        return (rng.random(shape) + 0.1).astype("float32"), (rng.random(shape) + 0.1).astype("float32")
    return rng.normal(size=shape).astype("float32"), rng.normal(size=shape).astype("float32")


# (class name, constructor arguments, data kind, prediction shape)
CASES = [
    ("Precision", {}, "binary", (8, 3)),
    ("Precision", {"thresholds": [0.2, 0.5, 0.9]}, "binary", (8, 3)),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary", (8, 3)),  # evenly spaced: buckets
    ("Precision", {"top_k": 2}, "binary", (8, 4)),
    ("Precision", {"class_id": 1}, "binary", (8, 4)),
    ("Precision", {"top_k": 2, "class_id": 3}, "binary", (8, 4)),
    ("Recall", {}, "binary", (8, 3)),
    ("Recall", {"thresholds": [0.3, 0.6]}, "binary", (8,)),
    ("Recall", {"top_k": 1, "class_id": 0}, "onehot", (8, 4)),
    ("TruePositives", {}, "binary", (8, 2)),
    ("FalsePositives", {"thresholds": [0.1, 0.7]}, "binary", (8, 2)),
    ("TrueNegatives", {}, "binary", (8, 1)),
    ("FalseNegatives", {}, "binary", (8, 3)),
    ("AUC", {}, "binary", (8, 3)),
    ("AUC", {"curve": "PR"}, "binary", (8, 3)),
    ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, "binary", (8, 3)),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "binary", (8, 2)),
    ("AUC", {"thresholds": [0.1, 0.45, 0.5, 0.8]}, "binary", (8, 3)),  # uneven: compared
    ("AUC", {"multi_label": True}, "binary", (8, 3)),
    ("AUC", {"multi_label": True, "curve": "PR", "label_weights": [1.0, 2.0, 0.5]}, "binary", (8, 3)),
    ("AUC", {"label_weights": [1.0, 2.0, 0.5]}, "binary", (8, 3)),
    ("AUC", {"from_logits": True}, "regression", (8, 2)),
    ("AUC", {"curve": "PRGAIN"}, "binary", (8, 3)),
    ("R2Score", {}, "regression", (8, 3)),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression", (8, 3)),
    ("R2Score", {"class_aggregation": None}, "regression", (8, 3)),
    ("F1Score", {}, "onehot", (8, 4)),
    ("F1Score", {"average": "micro"}, "onehot", (8, 4)),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "binary", (8, 4)),
    ("F1Score", {"average": "weighted"}, "onehot", (8, 4)),
    ("FBetaScore", {"beta": 2.0, "average": "macro"}, "binary", (8, 3)),
    ("TopKCategoricalAccuracy", {}, "onehot", (8, 7)),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", (8, 5)),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse", (8, 5)),
    ("BinaryCrossentropy", {}, "binary", (8, 3)),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary", (8, 3)),
    ("CategoricalCrossentropy", {}, "onehot", (8, 3)),
    ("SparseCategoricalCrossentropy", {}, "sparse", (8, 3)),
    ("KLDivergence", {}, "positive", (8, 3)),
    ("Poisson", {}, "positive", (8, 3)),
    ("Hinge", {}, "binary", (8, 3)),
    ("SquaredHinge", {}, "binary", (8, 3)),
    ("CategoricalHinge", {}, "onehot", (8, 3)),
    ("CosineSimilarity", {}, "regression", (8, 3)),
    ("LogCoshError", {}, "regression", (8, 3)),
    ("MeanAbsolutePercentageError", {}, "regression", (8, 3)),
    ("MeanSquaredLogarithmicError", {}, "positive", (8, 3)),
]
IDS = [f"{name}-{json.dumps(kwargs)}" for name, kwargs, _, _ in CASES]


def three_batches(kind, shape, seed):
    """Three batches with sample weights (one of them 0)."""
    rng = np.random.default_rng(seed)
    batches = []
    for b in range(3):
        y_true, y_pred = make_batch(kind, shape, rng)
        weight = rng.uniform(0, 2, size=shape[0]).astype("float32")
        if b == 1:
            weight[2] = 0.0
        batches.append((y_true, y_pred, weight))
    return batches


@pytest.mark.parametrize("name, kwargs, kind, shape", CASES, ids=IDS)
def test_standalone_update_state_over_weighted_batches_equals_keras(keras, name, kwargs, kind, shape):
    mine, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y_true, y_pred, weight in three_batches(kind, shape, seed=len(name)):
        mine.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
    result = mine.result()
    assert isinstance(result, (float, np.ndarray))
    np.testing.assert_allclose(result, np.asarray(theirs.result()), **TOL)
    # reset_state() forgets everything: one more batch alone equals Keras' after its reset
    mine.reset_state()
    theirs.reset_state()
    y_true, y_pred, _ = three_batches(kind, shape, seed=99)[0]
    mine.update_state(y_true, y_pred)
    theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(mine.result(), np.asarray(theirs.result()), **TOL)


def test_adjusted_r2_and_the_names_keras_gives(keras):
    mine, theirs = metrics.R2Score(num_regressors=2), keras.metrics.R2Score(num_regressors=2)
    rng = np.random.default_rng(5)
    for _ in range(3):
        y_true, y_pred = make_batch("regression", (8, 1), rng)
        mine.update_state(y_true, y_pred)
        theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(mine.result(), float(theirs.result()), **TOL)
    # n counts the samples of non-zero weight (Keras' current source; 3.15.1 counted y_true.size)
    y_true, y_pred = make_batch("regression", (6, 1), rng)
    weight = np.array([1.0, 2.0, 0.0, 1.0, 0.5, 1.0])
    plain = metrics.R2Score()(y_true, y_pred, sample_weight=weight)
    adjusted = metrics.R2Score(num_regressors=2)(y_true, y_pred, sample_weight=weight)
    assert adjusted == pytest.approx(1 - (1 - plain) * (5 - 1) / (5 - 2 - 1), rel=1e-12)
    with pytest.warns(UserWarning, match="Falling back to standard R2 score"):
        assert metrics.R2Score(num_regressors=4)(y_true, y_pred, sample_weight=weight) == pytest.approx(plain, rel=1e-12)
    # Keras numbers the objects of the classes without a default name (auto_name: precision,
    # precision_1, ...); the others keep their default name
    for name, base in (("Precision", "precision"), ("Recall", "recall"), ("AUC", "auc"), ("TruePositives", "true_positives")):
        first, second = getattr(metrics, name)().name, getattr(metrics, name)().name
        number = 0 if first == base else int(first[len(base) + 1:])
        assert first in (base, f"{base}_{number}") and second == f"{base}_{number + 1}"
        assert getattr(keras.metrics, name)().name.startswith(base)
    for name in ("R2Score", "F1Score", "FBetaScore", "TopKCategoricalAccuracy", "LogCoshError", "CosineSimilarity",
                 "SparseTopKCategoricalAccuracy", "BinaryCrossentropy", "KLDivergence"):
        assert getattr(metrics, name)().name == getattr(metrics, name)().name == getattr(keras.metrics, name)().name


@pytest.mark.parametrize("name, kwargs, kind, shape", CASES, ids=IDS)
def test_jitted_jax_functions_equal_the_numpy_ones(name, kwargs, kind, shape):
    jax = pytest.importorskip("jax")
    from scratchlstm.metrics._ops import jax_ops

    with jax.enable_x64(True):
        metric = getattr(metrics, name)(**kwargs)
        numpy_fns = metric.functions(y_pred_shape=(None,) + shape[1:])
        jax_fns = metric.functions(jax_ops(), y_pred_shape=(None,) + shape[1:])
        update, result = jax.jit(jax_fns.update), jax.jit(jax_fns.result)
        numpy_state, jax_state = numpy_fns.init(), jax_fns.init()
        for y_true, y_pred, weight in three_batches(kind, shape, seed=3):
            y_true, y_pred, weight = (a.astype(np.float64) for a in (y_true, y_pred, weight))
            numpy_state = numpy_fns.update(numpy_state, y_true, y_pred, weight)
            jax_state = update(jax_state, y_true, y_pred, weight)
        np.testing.assert_allclose(np.asarray(result(jax_state)), numpy_fns.result(numpy_state), rtol=1e-12, atol=1e-12)


# --- training: the epoch value is the metric over the whole epoch ------------------------------------
N, FEATURES, CLASSES = 37, 5, 4  # batches of 8: four full ones and a short one of 5


def classification_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, FEATURES)).astype("float32")
    y = np.eye(CLASSES, dtype="float32")[rng.integers(0, CLASSES, N)]
    x_val = rng.normal(size=(13, FEATURES)).astype("float32")
    y_val = np.eye(CLASSES, dtype="float32")[rng.integers(0, CLASSES, 13)]
    return x, y, x_val, y_val


def classification_metrics(module):
    return [
        "precision", "recall", "auc", "auc",  # the second logs as auc_1
        module.metrics.AUC(curve="PR", name="pr_auc"),
        module.metrics.F1Score(average="macro"),
        module.metrics.TopKCategoricalAccuracy(k=2),
        "categorical_accuracy",
        module.losses.Huber(),  # a loss object: the mean of the batch losses, as Keras
        module.metrics.FalseNegatives(thresholds=[0.3, 0.6], name="fn"),  # one count per threshold
        module.metrics.Recall(top_k=1, class_id=2, name="recall_2"),
    ]


def dense_classifier(module, weights=None):
    model = module.Sequential([module.Input((FEATURES,)), module.layers.Dense(CLASSES, activation="softmax")])
    if weights is not None:
        model.set_weights(weights)
    return model


@pytest.fixture(scope="module")
def keras_run(keras):
    """Keras' history and evaluate for a Dense classifier whose weights do not move (lr 1e-20)."""
    x, y, x_val, y_val = classification_data()
    keras.utils.set_random_seed(0)  # the weights, whatever ran before in this process
    model = dense_classifier(keras)
    weights = [w.astype("float32") for w in model.get_weights()]
    model.compile(keras.optimizers.SGD(1e-20), "categorical_crossentropy", metrics=classification_metrics(keras))
    history = model.fit(x, y, batch_size=8, epochs=2, validation_data=(x_val, y_val), shuffle=False, verbose=0).history
    evaluated = model.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    return weights, history, evaluated


def whole_epoch_precision(model, x, y):
    """Precision over all the samples at once, with this package's metric object."""
    return metrics.Precision(name="p")(y, model.predict(x, batch_size=len(x)))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_fit_history_and_evaluate_equal_keras_over_the_whole_epoch(keras_run, backend):
    if backend == "jax":
        pytest.importorskip("jax")
    weights, keras_history, keras_evaluated = keras_run
    x, y, x_val, y_val = classification_data()
    model = dense_classifier(ours, weights)
    model.compile(ours.optimizers.SGD(1e-20), "categorical_crossentropy", metrics=classification_metrics(ours), backend=backend)
    history = model.fit(x, y, batch_size=8, epochs=2, validation_data=(x_val, y_val), shuffle=False, verbose=0).history
    # Keras' names (it sorts them): auc and auc_1, the loss object as huber_loss, val_ twins
    assert sorted(history) == sorted(keras_history)
    assert list(history)[:3] == ["loss", "precision", "recall"]
    for key, values in keras_history.items():
        np.testing.assert_allclose(history[key], np.asarray(values), rtol=1e-5, atol=1e-6, err_msg=key)
    # The epoch precision is tp / (tp + fp) over all 37 samples; the epoch AUC is the AUC of all
    # of them, not a mean of the batches' AUCs (which the old aggregation reported).
    assert history["precision"][-1] == pytest.approx(whole_epoch_precision(model, x, y), rel=1e-6)
    predictions = model.predict(x)
    assert history["auc"][-1] == pytest.approx(metrics.AUC(name="a")(y, predictions), rel=1e-6)
    batch_aucs = [metrics.AUC(name="a")(y[s:s + 8], predictions[s:s + 8]) for s in range(0, N, 8)]
    batch_mean = np.average(batch_aucs, weights=[8, 8, 8, 8, 5])
    assert abs(batch_mean - history["auc"][-1]) > 1e-3, (batch_mean, history["auc"][-1])
    evaluated = model.evaluate(x, y, batch_size=5, return_dict=True)
    for key, value in keras_evaluated.items():
        np.testing.assert_allclose(evaluated[key], np.asarray(value), rtol=1e-5, atol=1e-6, err_msg=key)
    assert evaluated["precision"] == pytest.approx(whole_epoch_precision(model, x, y), rel=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_regression_metrics_in_fit_and_vector_results(keras, backend):
    if backend == "jax":
        pytest.importorskip("jax")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 3)).astype("float32")
    y = (x @ rng.normal(size=(3, 2)) + 0.3 * rng.normal(size=(30, 2))).astype("float32")

    def compiled(module, backend_kwargs):
        model = module.Sequential([module.Input((3,)), module.layers.Dense(2)])
        model.set_weights(weights)
        model.compile(module.optimizers.SGD(1e-20), "mse", metrics=[
            "r2_score", module.metrics.R2Score(class_aggregation=None, name="r2_per_output"),
            "mse", "root_mean_squared_error", module.losses.mean_absolute_error,
        ], **backend_kwargs)
        return model

    weights = [rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=2).astype("float32")]
    theirs = compiled(keras, {}).fit(x, y, batch_size=7, epochs=1, shuffle=False, verbose=0).history
    mine = compiled(ours, {"backend": backend}).fit(x, y, batch_size=7, epochs=1, shuffle=False, verbose=0).history
    assert sorted(mine) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(np.asarray(mine[key][-1]), np.asarray(theirs[key][-1]), rtol=1e-5, atol=1e-6, err_msg=key)
    assert np.shape(mine["r2_per_output"][-1]) == (2,)  # one R2 per output column, as Keras


def masked_model(module):
    ids = module.Input((4,), dtype="int32")
    embedded = module.layers.Embedding(6, 3, mask_zero=True)(ids)
    hidden = module.layers.LSTM(5, return_sequences=True)(embedded)
    return module.Model(ids, module.layers.TimeDistributed(module.layers.Dense(2, activation="sigmoid"))(hidden))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_masked_mean_metrics_average_the_unmasked_steps_of_the_whole_epoch(keras, backend):
    """Batches with different numbers of real steps: Keras' mae is the mean over every unmasked
    step of the data (a count-weighted mean of per-batch masked means would differ)."""
    if backend == "jax":
        pytest.importorskip("jax")
    x = np.array([[1, 2, 0, 0], [3, 4, 5, 0], [2, 2, 2, 1], [1, 0, 0, 0], [5, 4, 3, 0]])
    rng = np.random.default_rng(0)
    y = (3 * rng.random((5, 4, 2)) * (rng.random((5, 4, 2)) > 0.5)).astype("float32")  # half 0
    weights = [w.astype("float32") for w in masked_model(ours).get_weights()]
    listed = lambda module: ["mae", "precision", "auc", module.metrics.BinaryAccuracy()]  # noqa: E731
    theirs = masked_model(keras)
    theirs.set_weights(weights)
    theirs.compile("sgd", "mse", metrics=listed(keras))
    mine = masked_model(ours)
    mine.set_weights(weights)
    mine.compile("sgd", "mse", metrics=listed(ours), backend=backend)
    expected = theirs.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)
    got = mine.evaluate(x, y, batch_size=2, return_dict=True)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], float(value), rtol=1e-5, atol=1e-6, err_msg=key)
    errors = np.abs(mine.predict(x) - y).mean(axis=-1)
    assert got["mae"] == pytest.approx(errors[x != 0].mean(), rel=1e-5)
    batch_means = [errors[s:s + 2][x[s:s + 2] != 0].mean() for s in range(0, 5, 2)]
    assert abs(np.average(batch_means, weights=[2, 2, 1]) - got["mae"]) > 1e-3 * got["mae"]


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_train_on_batch_reports_that_batch_and_names_resolve_as_keras(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    x, y, _, _ = classification_data()
    model = dense_classifier(ours)
    model.compile("sgd", "categorical_crossentropy", backend=backend,
                  metrics=["auc", "top_k_categorical_accuracy", "f1_score", ours.losses.Huber(delta=0.5)])
    huber = 'huber_loss@{"fn":{"from_logits":false,"name":"huber","options":{"delta":0.5}}}'  # canonical: kind@config
    assert model.metric_names == ["auc", "top_k_categorical_accuracy", "f1_score", huber]
    predictions = model.predict(x[:10])
    logs = model.train_on_batch(x[:10], y[:10], return_dict=True)  # fresh states: this batch only
    assert list(logs) == ["loss", "auc", "top_k_categorical_accuracy", "f1_score", "huber_loss"]
    assert logs["auc"] == pytest.approx(metrics.AUC(name="a")(y[:10], predictions), rel=1e-6)
    assert np.shape(logs["f1_score"]) == (CLASSES,)  # F1Score() is per class, as Keras
    np.testing.assert_allclose(logs["f1_score"], metrics.F1Score()(y[:10], predictions), rtol=1e-6)
    assert logs["huber_loss"] == pytest.approx(ours.losses.Huber(delta=0.5)(y[:10], predictions), rel=1e-6)


def test_compiled_metrics_survive_save_and_load(tmp_path):
    x, y, _, _ = classification_data()
    model = dense_classifier(ours)
    model.compile("sgd", "categorical_crossentropy",
                  metrics=[ours.metrics.AUC(curve="PR", name="pr"), "precision", ours.losses.Huber(), ours.losses.huber])
    model.save(tmp_path / "m.npz")
    loaded = ours.load_model(tmp_path / "m.npz")
    assert loaded.metric_names == model.metric_names
    assert loaded.evaluate(x, y, return_dict=True) == pytest.approx(model.evaluate(x, y, return_dict=True), rel=1e-12)
    assert list(loaded.evaluate(x, y, return_dict=True)) == ["loss", "pr", "precision", "huber_loss", "huber"]


def test_bad_input_names_what_was_expected():
    with pytest.raises(ValueError, match=r"metric must be one of .*'auc'.* got 'roc_auc'"):
        metrics.resolve("roc_auc", "mse")
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]. Received: \[1.5\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="num_thresholds` must be an integer > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve value: 'XY'"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="Invalid `average` argument value"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match=r"F1Score .*result\(\) needs a first update_state\(\)"):
        metrics.F1Score().result()
    with pytest.raises(ValueError, match=r"y_true must have the shape of y_pred \(4,\), got \(3,\)"):
        metrics.Precision().update_state(np.zeros(3), np.zeros(4))
    # a metric that cannot measure the output fails when fit starts, naming the shape
    model = ours.Sequential([ours.Input((3, 2)), ours.layers.Dense(2)])
    model.compile("sgd", "mse", metrics=[ours.metrics.F1Score()])
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"F1Score expects 2D inputs .* got y_pred of shape \(None, 3, 2\)"):
        model.fit(np.zeros((4, 3, 2)), np.zeros((4, 3, 2)), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    model.predict(np.zeros((2, 3, 2)))  # inference does not need the metrics


MULTI_DEVICE_SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import jax
    jax.config.update("jax_enable_x64", True)
    import scratchlstm as ours
    from scratchlstm.jax_backend import make_training_backend

    assert len(jax.devices()) == 4, jax.devices()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5))
    y = np.eye(3)[rng.integers(0, 3, 30)]

    def run(devices):
        model = ours.Sequential([ours.Input((5,)), ours.layers.Dense(3, activation="softmax", dtype="float64")], seed=1)
        model.compile(ours.optimizers.SGD(0.1), "categorical_crossentropy", backend="jax",
                      metrics=["precision", "auc", ours.metrics.F1Score(average="macro"), ours.losses.Huber()])
        backend = make_training_backend(model, devices=devices)
        state = backend.init_state(model.get_variables(), 7)  # 7 rows -> 8 on 4 devices
        for start in range(0, 30, 7):
            state, logs = backend.train_step(state, [x[start:start + 7]], [y[start:start + 7]])
        variables = backend.get_variables(state)
        return {"train": {k: float(v) for k, v in logs.items()},
                "evaluate": backend.evaluate(variables, [x], [y], None, 7)[0]}

    print(json.dumps({"many": run(jax.devices()), "one": run(jax.devices()[:1])}))
    """
)


@pytest.mark.slow
def test_metric_states_add_up_over_four_devices():
    pytest.importorskip("jax")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", MULTI_DEVICE_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for part in ("train", "evaluate"):
        assert set(result["many"][part]) == {"loss", "precision", "auc", "f1_score", "huber_loss"}
        for key, value in result["one"][part].items():
            assert result["many"][part][key] == pytest.approx(value, rel=1e-10), (part, key)
