"""The Keras habits of a tutorial user: loss and metric classes, utils, initializers.

Values are compared with live Keras 3 (JAX backend) where it is installed; Keras computes in
float32, hence the relative tolerances of about 1e-5.
"""

import json
import math
import os
import random

import numpy as np
import pytest

from scratchlstm import initializers, losses, metrics, utils
from scratchlstm._numpy.losses import Loss, get_loss

os.environ.setdefault("KERAS_BACKEND", "jax")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


RTOL = 2e-5


def random_case(kind, shape, rng, from_logits=False):
    """Targets and predictions for a loss or metric of ``kind`` with predictions of ``shape``."""
    if kind in ("mse", "mae", "rmse"):
        return rng.normal(size=shape), rng.normal(size=shape)
    if kind == "binary":
        y_true = rng.integers(0, 2, size=shape).astype(float)
        return y_true, rng.normal(scale=2, size=shape) if from_logits else rng.uniform(0.02, 0.98, size=shape)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    y_pred = rng.normal(scale=2, size=shape) if from_logits else rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    return (labels if kind == "sparse" else np.eye(shape[-1])[labels]), y_pred


# -- losses -----------------------------------------------------------------------------------

LOSS_CASES = [
    ("MeanSquaredError", "mse", False),
    ("MeanAbsoluteError", "mae", False),
    ("BinaryCrossentropy", "binary", False),
    ("BinaryCrossentropy", "binary", True),
    ("CategoricalCrossentropy", "categorical", False),
    ("CategoricalCrossentropy", "categorical", True),
    ("SparseCategoricalCrossentropy", "sparse", False),
    ("SparseCategoricalCrossentropy", "sparse", True),
]


@pytest.mark.parametrize("class_name, kind, from_logits", LOSS_CASES)
def test_loss_classes_match_keras(keras, class_name, kind, from_logits):
    rng = np.random.default_rng(LOSS_CASES.index((class_name, kind, from_logits)))
    kwargs = {"from_logits": True} if from_logits else {}
    ours, theirs = getattr(losses, class_name)(**kwargs), getattr(keras.losses, class_name)(**kwargs)
    for shape in [(16, 4), (3, 5, 4)]:
        y_true, y_pred = random_case(kind, shape, rng, from_logits)
        assert ours(y_true, y_pred) == pytest.approx(float(theirs(y_true, y_pred)), rel=RTOL)
        # The snake_case function gives per-sample values, as Keras'.
        fn = getattr(losses, ours.name)
        expected = getattr(keras.losses, ours.name)(y_true, y_pred, **kwargs)
        np.testing.assert_allclose(fn(y_true, y_pred, **kwargs), np.asarray(expected), rtol=RTOL, atol=1e-6)
    weight = rng.uniform(0, 2, size=16)  # Keras divides the weighted sum by the sample count
    y_true, y_pred = random_case(kind, (16, 4), rng, from_logits)
    assert ours(y_true, y_pred, sample_weight=weight) == pytest.approx(
        float(theirs(y_true, y_pred, sample_weight=weight)), rel=RTOL
    )


@pytest.mark.parametrize("class_name, kind, from_logits", LOSS_CASES)
def test_loss_classes_are_losses_compile_accepts(class_name, kind, from_logits):
    loss = getattr(losses, class_name)(from_logits=True) if from_logits else getattr(losses, class_name)()
    plain = Loss(loss.name, from_logits=from_logits)
    assert isinstance(loss, Loss) and get_loss(loss) is loss and losses.get(loss) is loss
    assert loss == plain and plain == loss and hash(loss) == hash(plain)
    assert loss != Loss(loss.name, from_logits=not from_logits)
    # get_config() is Loss' and round-trips through get_loss (what saved models store).
    assert loss.get_config() == plain.get_config() and get_loss(loss.get_config()) == loss
    # The Keras-style config round-trips, through JSON, to an instance of the class.
    config = json.loads(json.dumps(losses.serialize(loss)))
    rebuilt = losses.get(config)
    assert type(rebuilt) is type(loss) and rebuilt == loss
    assert losses.get(class_name) == getattr(losses, class_name)()
    assert losses.get(getattr(losses, class_name)) == getattr(losses, class_name)()
    y_true, y_pred = random_case(kind, (5, 3), np.random.default_rng(0), from_logits)
    np.testing.assert_array_equal(loss.gradient(y_true, y_pred), plain.gradient(y_true, y_pred))


def test_loss_names_functions_and_keras_configs(keras):
    assert losses.mse is losses.mean_squared_error and losses.mae is losses.mean_absolute_error
    for identifier in ["mse", "mean_squared_error", "MeanSquaredError", losses.mse, losses.MeanSquaredError]:
        assert losses.get(identifier) == Loss("mse")
    assert losses.get(losses.binary_crossentropy) == Loss("binary_crossentropy")
    # Keras' own serialized form is read (extra keys ignored), and Keras reads ours.
    keras_config = keras.losses.serialize(keras.losses.BinaryCrossentropy(from_logits=True, name="bce"))
    loss = losses.get(keras_config)
    assert loss == losses.BinaryCrossentropy(from_logits=True) and loss.display_name == "bce"
    assert keras.losses.deserialize(losses.serialize(loss)).get_config()["from_logits"] is True
    named = losses.MeanAbsoluteError(name="my_mae")
    assert named.name == "mean_absolute_error" and named.display_name == "my_mae"
    assert losses.serialize(Loss("sparse_categorical_crossentropy", True)) == {
        "class_name": "SparseCategoricalCrossentropy",
        "config": {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size", "from_logits": True},
    }
    assert losses.MeanSquaredError(reduction="mean") == Loss("mse")


@pytest.mark.parametrize("reduction", ["sum", "none", None, "mean_with_sample_weight"])
def test_other_keras_reductions_are_not_implemented(reduction):
    with pytest.raises(NotImplementedError, match=f"reduction={reduction!r}.*sum_over_batch_size"):
        losses.MeanSquaredError(reduction=reduction)


def test_bad_loss_arguments():
    with pytest.raises(ValueError, match="reduction must be one of .* got 'avg'"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="name must be a non-empty string, got 3"):
        losses.MeanSquaredError(name=3)
    with pytest.raises(ValueError, match="from_logits must be True or False, got 'yes'"):
        losses.BinaryCrossentropy(from_logits="yes")
    with pytest.raises(NotImplementedError, match="axis=0"):
        losses.CategoricalCrossentropy(axis=0)
    with pytest.raises(NotImplementedError, match="ignore_class=0"):
        losses.SparseCategoricalCrossentropy(ignore_class=0)
    with pytest.raises(ValueError, match="class_name must be one of .* got 'CTC'"):
        losses.get({"class_name": "CTC", "config": {}})
    with pytest.raises(ValueError, match="loss must be one of .* got 'dice'"):
        losses.get("dice")
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(4,\) or \(4,\), got \(3,\)"):
        losses.MeanSquaredError()(np.zeros((4, 1)), np.ones((4, 1)), sample_weight=np.ones(3))


# -- metrics ----------------------------------------------------------------------------------

METRIC_CASES = [
    ("MeanSquaredError", "mse", "mean_squared_error", {}),
    ("MeanAbsoluteError", "mae", "mean_absolute_error", {}),
    ("RootMeanSquaredError", "rmse", "root_mean_squared_error", {}),
    ("BinaryAccuracy", "binary", "binary_accuracy", {}),
    ("BinaryAccuracy", "binary", "binary_accuracy@0.7", {"threshold": 0.7}),
    ("CategoricalAccuracy", "categorical", "categorical_accuracy", {}),
    ("SparseCategoricalAccuracy", "sparse", "sparse_categorical_accuracy", {}),
    ("Accuracy", "exact", "exact_accuracy", {}),
]


def metric_case(kind, shape, rng):
    if kind == "exact":  # integer predictions, some equal to the targets
        return rng.integers(0, 2, size=shape).astype(float), rng.integers(0, 2, size=shape).astype(float)
    return random_case(kind, shape, rng)


@pytest.mark.parametrize("class_name, kind, canonical, kwargs", METRIC_CASES)
def test_metric_classes_match_keras_over_an_epoch(keras, class_name, kind, canonical, kwargs):
    rng = np.random.default_rng(len(canonical))
    ours, theirs = getattr(metrics, class_name)(**kwargs), getattr(keras.metrics, class_name)(**kwargs)
    assert ours.name == theirs.name
    assert metrics.resolve(ours, "mean_squared_error") == canonical
    assert metrics.display_name(ours) == theirs.name
    # Batches of different sizes, as a last short batch: the fit loop's epoch value is the
    # count-weighted mean of compute() values, then finalize().
    total = count = 0.0
    for size in (8, 8, 3):
        y_true, y_pred = metric_case(kind, (size, 2, 4), rng)
        theirs.update_state(y_true, y_pred)
        ours.update_state(y_true, y_pred)
        total += metrics.compute(canonical, y_true, y_pred) * size
        count += size
    expected = float(theirs.result())
    assert metrics.finalize(canonical, total / count) == pytest.approx(expected, rel=RTOL, abs=1e-7)
    assert ours.result() == pytest.approx(expected, rel=RTOL, abs=1e-7)
    # Sample weights: a weighted mean over samples, as Keras' metric objects.
    y_true, y_pred = metric_case(kind, (8, 4), rng)
    weight = rng.uniform(0, 2, size=8)
    theirs.reset_state()
    theirs.update_state(y_true, y_pred, sample_weight=weight)
    value = metrics.finalize(canonical, metrics.compute(canonical, y_true, y_pred, sample_weight=weight))
    assert value == pytest.approx(float(theirs.result()), rel=RTOL, abs=1e-7)
    ours.reset_state()
    assert ours(y_true, y_pred, sample_weight=weight) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("class_name, kind, canonical, kwargs", METRIC_CASES)
def test_jax_metric_value_is_the_pre_finalize_value(class_name, kind, canonical, kwargs):
    jb = pytest.importorskip("scratchlstm.jax_backend")
    rng = np.random.default_rng(7)
    y_true, y_pred = metric_case(kind, (6, 3, 4), rng)
    weight = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 1.0])
    for w in (None, weight):
        expected = metrics.compute(canonical, y_true, y_pred, sample_weight=w)
        assert float(jb.metric_value(canonical, y_true, y_pred, sample_weight=w)) == pytest.approx(expected, rel=1e-6)


def test_metric_resolution_display_names_and_configs(keras):
    assert metrics.resolve("accuracy", "binary_crossentropy") == "binary_accuracy"
    assert metrics.resolve("acc", "sparse_categorical_crossentropy") == "sparse_categorical_accuracy"
    assert metrics.resolve("accuracy", "mean_squared_error") == "categorical_accuracy"
    assert metrics.resolve("mae", "mse") == "mean_absolute_error"
    assert metrics.resolve("root_mean_squared_error", "mse") == "root_mean_squared_error"
    assert metrics.resolve(metrics.RootMeanSquaredError, "mse") == "root_mean_squared_error"
    assert metrics.resolve(metrics.Accuracy(), "binary_crossentropy") == "exact_accuracy"
    assert metrics.resolve(metrics.mean_absolute_error, "mse") == "mean_absolute_error"
    assert metrics.display_name("mae") == "mae" and metrics.display_name("accuracy") == "accuracy"
    assert metrics.display_name(metrics.RootMeanSquaredError(name="rmse")) == "rmse"
    assert metrics.finalize("mean_squared_error", 4.0) == 4.0 and metrics.finalize("root_mean_squared_error", 4.0) == 2.0
    # serialize(): strings stay strings; objects round-trip (through JSON) with their config.
    assert metrics.serialize("accuracy") == "accuracy"
    config = json.loads(json.dumps(metrics.serialize(metrics.BinaryAccuracy(name="acc7", threshold=0.7))))
    assert metrics.resolve(config, "mse") == "binary_accuracy@0.7" and metrics.display_name(config) == "acc7"
    assert keras.metrics.deserialize(config).threshold == 0.7
    assert metrics.get(keras.metrics.serialize(keras.metrics.BinaryAccuracy(threshold=0.7))).canonical == "binary_accuracy@0.7"
    # metrics.get() like Keras: class names, snake names, mse/mae; "accuracy" is the Accuracy class.
    for identifier, cls in [("mse", "MeanSquaredError"), ("RootMeanSquaredError", "RootMeanSquaredError"),
                            ("root_mean_squared_error", "RootMeanSquaredError"), ("accuracy", "Accuracy")]:
        assert type(metrics.get(identifier)).__name__ == cls == type(keras.metrics.get(identifier)).__name__


def test_bad_metric_inputs():
    with pytest.raises(ValueError, match="metric must be one of .* got 'f1'"):
        metrics.resolve("f1", "mse")
    with pytest.raises(ValueError, match="binary_accuracy@<float>.* got 'binary_accuracy@high'"):
        metrics.resolve("binary_accuracy@high", "mse")
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\], got 2"):
        metrics.BinaryAccuracy(threshold=2)
    with pytest.raises(ValueError, match=r"needs y_true of the shape of y_pred \(4, 1\), got \(4,\)"):
        metrics.compute("mean_absolute_error", np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(4,\) .* got \(2,\)"):
        metrics.compute("mean_absolute_error", np.zeros((4, 1)), np.zeros((4, 1)), sample_weight=np.ones(2))
    with pytest.raises(ValueError, match="metric must be one of .* got 'nope'"):
        metrics.get("nope")
    with pytest.raises(ValueError, match="metric must be a name or a metric object, got int"):
        metrics.display_name(3)


# -- utils ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "labels, num_classes",
    [([0, 1, 2, 3], 4), ([2, 0], None), ([[1], [2]], None), ([[0, 1], [2, 0]], 5), (np.array(2), 3),
     ([0.0, 2.0], None), (np.zeros((2, 3, 1), int), 2), ([[3]], None)],
)
def test_to_categorical_matches_keras(keras, labels, num_classes):
    expected = keras.utils.to_categorical(labels, num_classes)
    got = utils.to_categorical(labels, num_classes)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_to_categorical_rejects_labels_keras_would_mangle():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\] for num_classes=3, got values in \[0, 3\]"):
        utils.to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match=r"got values in \[-1, 1\]"):
        utils.to_categorical([-1, 1], 3)  # Keras would wrap -1 to the last class
    with pytest.raises(ValueError, match="integer class labels, got dtype float64"):
        utils.to_categorical([0.5, 1.0])  # Keras would truncate 0.5 to 0


SEQUENCES = [[1], [2, 3], [4, 5, 6, 7], []]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"padding": "post"}, {"maxlen": 2}, {"maxlen": 2, "truncating": "post"},
     {"maxlen": 3, "padding": "post", "truncating": "post", "value": -1},
     {"maxlen": 6, "dtype": "float32", "value": 0.5}, {"dtype": "float64", "padding": "post", "value": np.nan}],
)
def test_pad_sequences_matches_keras(keras, kwargs):
    expected = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    got = utils.pad_sequences(SEQUENCES, **kwargs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_pad_sequences_of_vectors_and_strings_match_keras(keras):
    vectors = [np.ones((2, 3)), np.arange(12.0).reshape(4, 3)]
    np.testing.assert_array_equal(
        utils.pad_sequences(vectors, maxlen=3, dtype="float32"), keras.utils.pad_sequences(vectors, maxlen=3, dtype="float32")
    )
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(
        utils.pad_sequences(words, dtype=object, value="<pad>"), keras.utils.pad_sequences(words, dtype=object, value="<pad>")
    )


def test_bad_pad_sequences_inputs():
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post', got 'middle'"):
        utils.pad_sequences([[]], padding="middle")  # Keras only notices with a non-empty sequence
    with pytest.raises(ValueError, match="truncating must be 'pre' or 'post', got 'both'"):
        utils.pad_sequences([[1]], truncating="both")
    with pytest.raises(ValueError, match="list of iterables, got int 3 at position 1"):
        utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="string value needs dtype=object"):
        utils.pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match=r"items of sequence 1 have shape \(3,\), expected \(2,\)"):
        utils.pad_sequences([np.ones((1, 2)), np.ones((1, 3))], dtype="float32")


def test_normalize_matches_keras(keras):
    x = np.random.default_rng(0).normal(size=(4, 3))
    x[1] = 0.0
    for axis, order in [(-1, 2), (1, 1)]:
        np.testing.assert_allclose(utils.normalize(x, axis, order), keras.utils.normalize(x, axis, order), rtol=1e-6)
    # Keras 3.15 turns axis=0 into -1 (`axis or -1`); newer Keras and we normalize columns.
    np.testing.assert_allclose(utils.normalize(x, axis=0), x / np.linalg.norm(x, axis=0), rtol=1e-12)


def test_set_random_seed_seeds_python_numpy_and_new_layers():
    from scratchlstm import _random

    def draws():
        return random.random(), np.random.random(), _random.make_rng(None).integers(2**32)

    try:
        utils.set_random_seed(123)
        first = draws()
        utils.set_random_seed(123)
        assert draws() == first
        utils.set_random_seed(124)
        assert draws() != first
        for bad in (-1, 1.5, True, 2**32, "1"):
            with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*32\), got"):
                utils.set_random_seed(bad)
    finally:
        _random.set_global_seed(None)  # other tests expect no library-wide stream


# -- initializers -----------------------------------------------------------------------------

FAN_IN, FAN_OUT = 300, 500
STD_CASES = [
    ("glorot_uniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("he_uniform", math.sqrt(2 / FAN_IN)),
    ("he_normal", math.sqrt(2 / FAN_IN)),
    ("lecun_uniform", math.sqrt(1 / FAN_IN)),
    ("lecun_normal", math.sqrt(1 / FAN_IN)),
    ("random_normal", 0.05),
    ("random_uniform", 0.1 / math.sqrt(12)),
    ("truncated_normal", 0.05 * 0.87962566103423978),
]


@pytest.mark.parametrize("name, std", STD_CASES)
def test_initializer_statistics_match_keras(keras, name, std):
    shape = (FAN_IN, FAN_OUT)
    ours = initializers.get(name)(shape, np.random.default_rng(0), "float64")
    theirs = np.asarray(keras.initializers.get(name)(shape), dtype=np.float64)
    assert ours.shape == shape and ours.dtype == np.float64
    assert abs(ours.mean()) < 4 * std / math.sqrt(ours.size)
    assert ours.std() == pytest.approx(std, rel=0.01)
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    # Same support: uniform limits, truncation at 2 pre-truncation standard deviations.
    if name != "random_normal":  # bounded: the same limit, or truncation at 2 standard deviations
        assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.05)


def test_constant_zeros_ones_identity_are_exact(keras):
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(initializers.Constant(0.5)((2, 3), rng, "float32"), np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(initializers.get("zeros")((4,), rng, "float64"), np.zeros(4))
    np.testing.assert_array_equal(initializers.get("Ones")((2, 2), rng, "float64"), np.ones((2, 2)))
    np.testing.assert_array_equal(initializers.Identity(2.0)((2, 3)), np.asarray(keras.initializers.Identity(2.0)((2, 3))))
    assert initializers.Constant(np.float32(0.25)).get_config() == {"value": 0.25}


@pytest.mark.parametrize("shape", [(8, 32), (32, 8), (4, 3, 6)])
def test_orthogonal_is_orthogonal(shape):
    w = initializers.Orthogonal(gain=1.5)(shape, np.random.default_rng(1), "float64")
    flat = w.reshape(-1, shape[-1]) / 1.5
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] < flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_seeded_instances_are_reproducible_and_unseeded_follow_the_rng():
    for cls in (initializers.GlorotUniform, initializers.HeNormal, initializers.Orthogonal, initializers.RandomNormal):
        seeded = cls(seed=5)
        first = seeded((6, 4), np.random.default_rng(1), "float64")
        np.testing.assert_array_equal(first, seeded((6, 4), np.random.default_rng(2), "float64"))  # rng ignored
        np.testing.assert_array_equal(first, cls(seed=5)((6, 4), None, "float64"))  # a new instance too
        assert not np.array_equal(first, cls(seed=6)((6, 4), None, "float64"))
        unseeded = cls()
        np.testing.assert_array_equal(
            unseeded((6, 4), np.random.default_rng(3), "float64"), unseeded((6, 4), np.random.default_rng(3), "float64")
        )
        assert not np.array_equal(
            unseeded((6, 4), np.random.default_rng(3), "float64"), unseeded((6, 4), np.random.default_rng(4), "float64")
        )
    assert initializers.get("glorot_uniform")((3, 2)).dtype == np.float32  # Keras' floatx


ROUND_TRIP = [
    initializers.Zeros(), initializers.Constant(-2), initializers.Identity(0.5),
    initializers.RandomNormal(1.0, 0.2, seed=3), initializers.RandomUniform(-1, 2), initializers.TruncatedNormal(stddev=0.3),
    initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=1), initializers.GlorotUniform(seed=9),
    initializers.GlorotNormal(), initializers.HeUniform(), initializers.HeNormal(seed=0), initializers.LecunUniform(),
    initializers.LecunNormal(), initializers.Orthogonal(gain=2.0, seed=4),
]


@pytest.mark.parametrize("init", ROUND_TRIP, ids=lambda i: type(i).__name__)
def test_initializer_configs_round_trip_and_keras_reads_them(keras, init):
    config = json.loads(json.dumps(initializers.serialize(init)))
    assert config["class_name"] == type(init).__name__
    rebuilt = initializers.get(config)
    assert rebuilt == init and rebuilt is not init and rebuilt.clone() == init
    np.testing.assert_array_equal(rebuilt((3, 3), np.random.default_rng(0)), init((3, 3), np.random.default_rng(0)))
    theirs = keras.initializers.deserialize(config)
    assert type(theirs).__name__ == type(init).__name__
    if not isinstance(init, initializers.Identity):  # Keras 3.15's Identity.get_config() drops gain
        assert initializers.get(keras.initializers.serialize(theirs)) == init


def test_initializer_get_accepts_names_classes_and_keras_aliases():
    assert initializers.serialize("he_normal") == "he_normal"
    for name, cls in [("he_normal", "HeNormal"), ("HeNormal", "HeNormal"), ("LECUN_UNIFORM", "LecunUniform"),
                      ("normal", "RandomNormal"), ("uniform", "RandomUniform"), ("zero", "Zeros"),
                      ("OrthogonalInitializer", "Orthogonal")]:
        assert type(initializers.get(name)).__name__ == cls
    assert initializers.get(initializers.HeNormal) == initializers.HeNormal()
    instance = initializers.Constant(3.0)
    assert initializers.get(instance) is instance
    assert initializers.he_normal is initializers.HeNormal  # snake_case attributes are the classes, as in Keras
    assert initializers.compute_fans((3, 3, 4, 8)) == (36, 72) and initializers.compute_fans(()) == (1, 1)


def test_bad_initializer_inputs():
    with pytest.raises(ValueError, match="initializer must be one of .* got 'nope'"):
        initializers.get("nope")
    with pytest.raises(ValueError, match="initializer must be a name .* got NoneType"):
        initializers.get(None)
    with pytest.raises(ValueError, match="bad config for initializer 'Constant'"):
        initializers.get({"class_name": "Constant", "config": {"val": 1}})
    with pytest.raises(ValueError, match="mode must be one of .* got 'fan_sum'"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution must be one of .* got 'normal'"):
        initializers.VarianceScaling(distribution="normal")
    with pytest.raises(ValueError, match="scale must be positive, got 0"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="seed must be a non-negative int or None, got 1.5"):
        initializers.GlorotUniform(seed=1.5)
    with pytest.raises(ValueError, match="Constant value must be a real scalar, got"):
        initializers.Constant([1, 2])
    with pytest.raises(ValueError, match=r"Orthogonal needs a shape of rank >= 2, got shape=\(4,\)"):
        initializers.Orthogonal()((4,))
    with pytest.raises(ValueError, match="rng must be a numpy Generator or None, got 'float32'"):
        initializers.Zeros()((2,), "float32")
    with pytest.raises(ValueError, match=r"shape must be a tuple of non-negative ints, got \(2, -1\)"):
        initializers.Zeros()((2, -1))


def test_models_and_layers_show_their_name_and_state_in_repr():
    """As Keras: a notebook cell that ends with a model or layer shows what it is."""
    import scratchlstm as keras

    lstm = keras.layers.LSTM(4, name="encoder")
    assert repr(lstm) == "<LSTM name='encoder' built=False>"
    model = keras.Sequential([keras.Input((5, 3)), lstm, keras.layers.Dense(1, name="head")], name="forecaster")
    assert repr(lstm) == "<LSTM name='encoder' built=True>"
    assert repr(model) == "<Sequential name='forecaster' layers=2>"
    inputs = keras.Input((3,))
    assert repr(keras.Model(inputs, keras.layers.Dense(2)(inputs), name="f")) == "<Model name='f' layers=2>"
    wrapper = keras.layers.Bidirectional(keras.layers.GRU(2), name="both")
    assert repr(wrapper) == "<Bidirectional name='both' built=False>"


def test_the_metrics_namespace_holds_keras_loss_functions_and_takes_lists(keras):
    # keras.metrics.mean_squared_error is keras.losses.mean_squared_error (and so for the other
    # loss functions Keras lists under metrics); ours are the same objects as our losses', so
    # the loss tests against Keras cover them. Lists work as in Keras (they raised a TypeError).
    shared = [name for name in dir(keras.metrics)
              if name[0].islower() and getattr(keras.metrics, name) is getattr(keras.losses, name, None)]
    assert "mean_squared_error" in shared and "binary_crossentropy" in shared
    for name in shared:
        if hasattr(losses, name):
            assert getattr(metrics, name) is getattr(losses, name), name
    y_true, y_pred = [[0.0, 1.0], [2.0, 2.0]], [[0.5, 0.5], [2.0, 1.0]]
    for name in ("mean_squared_error", "mean_absolute_error"):
        expected = np.asarray(getattr(keras.metrics, name)(np.array(y_true), np.array(y_pred)))
        np.testing.assert_allclose(getattr(metrics, name)(y_true, y_pred), expected, rtol=1e-6)
    assert metrics.resolve(metrics.mean_squared_error, "mae") == "mean_squared_error"
