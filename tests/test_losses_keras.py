"""The Keras 3 losses against live Keras (values, per-sample functions, configs, from_logits, 2-D
and 3-D) and the JAX twins against the NumPy reference (values and jax.grad, x64), through names,
``Loss`` objects and a compiled model. Keras computes in float32: relative tolerance 2e-5."""

import json
import os

import numpy as np
import pytest

from scratchlstm import losses
from scratchlstm._numpy.losses import OPTIONS, Loss, _RULES
from test_losses import NEW_CASES, NEW_IDS, make_case, make_targets_and_predictions, new_loss

os.environ.setdefault("KERAS_BACKEND", "jax")

RTOL = 2e-5
SHAPES = {"2d": (16, 3), "3d": (3, 5, 3)}

# (our class, constructor kwargs, kind of data for make_case)
KERAS_CASES = [
    ("MeanAbsolutePercentageError", {}, "mean_absolute_percentage_error"),
    ("MeanSquaredLogarithmicError", {}, "mean_squared_logarithmic_error"),
    ("Huber", {}, "huber"),
    ("Huber", {"delta": 0.3}, "huber"),
    ("LogCosh", {}, "log_cosh"),
    ("KLDivergence", {}, "kl_divergence"),
    ("Poisson", {}, "poisson"),
    ("Hinge", {}, "hinge"),
    ("Hinge", {}, "hinge-binary"),
    ("SquaredHinge", {}, "squared_hinge"),
    ("SquaredHinge", {}, "squared_hinge-binary"),
    ("CategoricalHinge", {}, "categorical_hinge"),
    ("CosineSimilarity", {}, "cosine_similarity"),
    ("CosineSimilarity", {"axis": 1}, "cosine_similarity"),
    ("BinaryFocalCrossentropy", {}, "binary_focal_crossentropy"),
    ("BinaryFocalCrossentropy", {"from_logits": True}, "binary_focal_crossentropy"),
    ("BinaryFocalCrossentropy", {"gamma": 3.0, "apply_class_balancing": True, "alpha": 0.4, "from_logits": True}, "binary_focal_crossentropy"),
    ("BinaryFocalCrossentropy", {"gamma": 0.5, "label_smoothing": 0.2}, "binary_focal_crossentropy"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary_crossentropy"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1, "from_logits": True}, "binary_crossentropy"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "categorical_crossentropy"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2, "from_logits": True}, "categorical_crossentropy"),
]
KERAS_IDS = [f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items())}-{kind}".replace("--", "-") for c, kw, kind in KERAS_CASES]
FUNCTION_OF = {
    "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
    "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error",
    "Huber": "huber",
    "LogCosh": "log_cosh",
    "KLDivergence": "kl_divergence",
    "Poisson": "poisson",
    "Hinge": "hinge",
    "SquaredHinge": "squared_hinge",
    "CategoricalHinge": "categorical_hinge",
    "CosineSimilarity": "cosine_similarity",
    "BinaryFocalCrossentropy": "binary_focal_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
}


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def keras_case(kind, kwargs, shape, rng):
    name, _, binary = kind.partition("-")
    options = {"binary": True} if binary else dict(kwargs)
    from_logits = kwargs.get("from_logits", False)
    if name in ("binary_crossentropy", "categorical_crossentropy"):
        y_true, y_pred = make_targets_and_predictions(name, from_logits, shape, rng)
        if name == "categorical_crossentropy" and not from_logits:
            y_pred = y_pred / y_pred.sum(axis=-1, keepdims=True)
        return y_true, y_pred
    y_true, y_pred = make_case(name, options, from_logits, shape, rng)
    if name == "kl_divergence":
        y_true.reshape(-1)[:3] = 0.0  # labels below eps are clipped, as in Keras
    return y_true, y_pred


@pytest.mark.parametrize("class_name, kwargs, kind", KERAS_CASES, ids=KERAS_IDS)
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_values_match_keras(keras, class_name, kwargs, kind, shape):
    if kwargs.get("axis") == 1 and len(shape) == 2:
        pytest.skip("axis=1 is the last axis of 2-D data")
    rng = np.random.default_rng(KERAS_CASES.index((class_name, kwargs, kind)) + 100 * len(shape))
    y_true, y_pred = keras_case(kind, kwargs, shape, rng)
    ours, theirs = getattr(losses, class_name)(**kwargs), getattr(keras.losses, class_name)(**kwargs)
    expected = float(theirs(y_true, y_pred))
    assert abs(expected) > 1e-3
    assert ours(y_true, y_pred) == pytest.approx(expected, rel=RTOL)
    # Keras' per-sample function, with the same arguments
    function = FUNCTION_OF[class_name]
    per_sample = getattr(keras.losses, function)(y_true, y_pred, **kwargs)
    np.testing.assert_allclose(getattr(losses, function)(y_true, y_pred, **kwargs), np.asarray(per_sample), rtol=RTOL, atol=1e-5)
    # sample weights (one per position): the weighted sum over the number of positions, as Keras
    weight = rng.uniform(0, 2, size=ours.per_position(y_true, y_pred).shape)  # (B,) in 2-D
    assert ours(y_true, y_pred, sample_weight=weight) == pytest.approx(float(theirs(y_true, y_pred, sample_weight=weight)), rel=RTOL)


@pytest.mark.parametrize("class_name, kwargs, kind", KERAS_CASES, ids=KERAS_IDS)
def test_configs_cross_with_keras(keras, class_name, kwargs, kind):
    ours = getattr(losses, class_name)(**kwargs)
    config = json.loads(json.dumps(losses.serialize(ours)))
    assert config["class_name"] == class_name
    assert {k: config["config"][k] for k in kwargs} == kwargs  # every argument is written
    rebuilt = losses.get(config)
    assert type(rebuilt) is type(ours) and rebuilt == ours
    # Keras reads our config into a loss that computes the same values
    theirs = keras.losses.deserialize(config)
    assert type(theirs).__name__ == class_name
    rng = np.random.default_rng(0)
    y_true, y_pred = keras_case(kind, kwargs, (2, 6, 3) if kwargs.get("axis") == 1 else (6, 3), rng)
    assert float(theirs(y_true, y_pred)) == pytest.approx(ours(y_true, y_pred), rel=RTOL)
    # and we read Keras' config; Keras 3.15 leaves delta out of Huber's and axis out of
    # CosineSimilarity's get_config(), so those two come back with the defaults.
    from_keras = losses.get(keras.losses.serialize(getattr(keras.losses, class_name)(**kwargs)))
    if class_name in ("Huber", "CosineSimilarity") and kwargs:
        assert from_keras == getattr(losses, class_name)()
    else:
        assert from_keras == ours


def test_every_implemented_loss_has_a_keras_class_and_function(keras):
    classes = [c for c in losses.__all__ if isinstance(getattr(losses, c), type) and c != "Loss"]
    assert len(classes) == 16
    for class_name in classes:
        kind = getattr(losses, class_name)._kind
        assert hasattr(keras.losses, class_name)
        assert hasattr(keras.losses, kind) and hasattr(losses, kind)  # the snake_case function
        assert losses.get(kind) == losses.get(class_name) == getattr(losses, class_name)()
        assert losses.get(getattr(losses, kind)) == getattr(losses, class_name)()
    implemented = {getattr(losses, c)._kind for c in classes}
    assert implemented == set(_RULES)
    for alias in ["mape", "msle", "kld", "bce", "mse", "mae", "MAPE", "KLD"]:  # Keras' string aliases
        assert losses.get(alias) == losses.get(keras.losses.get(alias).__name__)


def test_unimplemented_options_are_refused_by_name():
    with pytest.raises(NotImplementedError, match="axis=1 is not supported; only axis=-1"):
        losses.BinaryFocalCrossentropy(axis=1)
    with pytest.raises(NotImplementedError, match="axis=0"):
        losses.CategoricalCrossentropy(axis=0)
    with pytest.raises(NotImplementedError, match="reduction='sum'"):
        losses.Huber(reduction="sum")
    with pytest.raises(NotImplementedError, match="ignore_class=0"):
        losses.SparseCategoricalCrossentropy(ignore_class=0)
    with pytest.raises(ValueError, match="delta must be > 0"):
        losses.Huber(delta=-1.0)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        losses.BinaryCrossentropy(label_smoothing=2.0)
    with pytest.raises(ValueError, match="alpha must be in"):
        losses.BinaryFocalCrossentropy(alpha=1.5)
    with pytest.raises(ValueError, match="class_name must be one of .* got 'CTC'"):
        losses.get({"class_name": "CTC", "config": {}})
    with pytest.raises(ValueError, match="loss must be one of .* got 'dice'"):
        losses.get("dice")


def test_classes_equal_their_plain_losses_and_keep_display_names():
    assert losses.Huber(0.5) == Loss("huber", options={"delta": 0.5}) and losses.Huber(0.5) != losses.Huber()
    assert hash(losses.Huber(0.5)) == hash(Loss("huber", options={"delta": 0.5}))
    assert losses.Huber().display_name == "huber_loss" and losses.Huber().name == "huber"
    assert losses.CosineSimilarity(axis=2) == Loss("cosine_similarity", options={"axis": 2})
    focal = losses.BinaryFocalCrossentropy(gamma=3, from_logits=True)
    assert focal == Loss("binary_focal_crossentropy", True, {"gamma": 3.0})
    assert focal.get_config() == {"name": "binary_focal_crossentropy", "from_logits": True, "options": {"gamma": 3.0}}
    assert repr(losses.Huber(2.0)) == "Huber(name='huber_loss', delta=2.0)"
    assert set(OPTIONS["binary_focal_crossentropy"]) <= set(losses.serialize(focal)["config"])


# -- JAX = NumPy (float64) --------------------------------------------------------------------

@pytest.fixture(scope="module")
def jax():
    return pytest.importorskip("jax")


JAX_CASES = NEW_CASES + [
    ("binary_crossentropy", {"label_smoothing": 0.1}, False),
    ("binary_crossentropy", {"label_smoothing": 0.1}, True),
    ("categorical_crossentropy", {"label_smoothing": 0.2}, False),
    ("categorical_crossentropy", {"label_smoothing": 0.2}, True),
]
JAX_IDS = NEW_IDS + ["bce-ls", "bce-ls-logits", "cce-ls", "cce-ls-logits"]


@pytest.mark.parametrize("name, options, from_logits", JAX_CASES, ids=JAX_IDS)
@pytest.mark.parametrize("shape", [(6, 3), (2, 4, 3)], ids=["2d", "3d"])
def test_jax_equals_reference(jax, name, options, from_logits, shape):
    from scratchlstm import jax_backend as jb

    if options.get("axis") == 1 and len(shape) == 2:
        pytest.skip("axis=1 is the last axis of 2-D data")
    rng = np.random.default_rng(JAX_CASES.index((name, options, from_logits)) + len(shape))
    if name in ("binary_crossentropy", "categorical_crossentropy"):
        y_true, y_pred = make_targets_and_predictions(name, from_logits, shape, rng)
    else:
        y_true, y_pred = make_case(name, options, from_logits, shape, rng)
    loss = new_loss(name, options, from_logits)
    kwargs = dict(loss.options)

    @jax.jit  # one compilation per case (eager op-by-op dispatch is several times slower here)
    def values_and_grad(y_true, y_pred):
        return (
            jb.loss_per_position(name, y_true, y_pred, from_logits, **kwargs),  # name + options
            jb.loss_per_position(loss, y_true, y_pred),  # a Loss brings its options
            jax.grad(lambda p: jb.loss_value(loss, y_true, p))(y_pred),
        )

    with jax.enable_x64(True):
        expected = loss.per_position(y_true, y_pred)
        *both_ways, grad = values_and_grad(y_true, y_pred)
        for values in both_ways:
            assert values.dtype == np.float64
            np.testing.assert_allclose(np.asarray(values), expected, rtol=1e-12, atol=1e-14)
        assert grad.dtype == np.float64
        np.testing.assert_allclose(np.asarray(grad), loss.gradient(y_true, y_pred), rtol=1e-9, atol=1e-15)


def test_jax_options_are_checked_like_the_reference(jax):
    from scratchlstm import jax_backend as jb

    y = np.ones((2, 3))
    with pytest.raises(ValueError, match="delta must be > 0"):
        jb.loss_per_position("huber", y, y, delta=0.0)
    with pytest.raises(ValueError, match=r"mean_squared_error takes no options, got \['delta'\]"):
        jb.loss_value("mse", y, y, delta=1.0)
    with pytest.raises(ValueError, match="loss must be one of .* got 'dice'"):
        jb.loss_value("dice", y, y)
    with pytest.raises(ValueError, match="axis=0 must name a non-batch axis"):
        jb.loss_per_position("cosine_similarity", y, y, axis=0)
    # a Loss's own options and the keyword options combine; the keywords win
    huber = Loss("huber", options={"delta": 0.5})
    assert float(jb.loss_value(huber, y * 0, y * 2, delta=2.0)) == pytest.approx(Loss("huber", options={"delta": 2.0})(y * 0, y * 2))


@pytest.mark.parametrize(
    "loss, units, targets",
    [
        (losses.Huber(delta=0.3), 2, "regression"),
        (losses.LogCosh(), 2, "regression"),
        (losses.CosineSimilarity(), 3, "regression"),
        (losses.BinaryFocalCrossentropy(gamma=3.0, apply_class_balancing=True, from_logits=True, label_smoothing=0.1), 2, "binary"),
        (losses.CategoricalCrossentropy(label_smoothing=0.2, from_logits=True), 3, "one_hot"),
        ("squared_hinge", 2, "binary"),
    ],
    ids=["huber", "log_cosh", "cosine", "focal", "cce-ls", "squared_hinge"],
)
def test_compiled_model_trains_the_same_on_both_backends(jax, loss, units, targets):
    from scratchlstm import Dense, Input, Sequential

    rng = np.random.default_rng(5)
    x = rng.normal(size=(24, 4))
    y = {
        "regression": rng.normal(scale=2.0, size=(24, units)),
        "binary": rng.integers(0, 2, size=(24, units)).astype(np.float64),
        "one_hot": np.eye(units)[rng.integers(0, units, size=24)],
    }[targets]
    histories = []
    with jax.enable_x64(True):
        for backend in ("numpy", "jax"):
            model = Sequential([Input((4,)), Dense(units, dtype="float64")], seed=3)
            model.compile(optimizer="sgd", loss=loss, backend=backend)
            histories.append(model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"])
    assert histories[0][0] != pytest.approx(histories[0][-1], rel=1e-6)  # it trained
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-10)
    # the loss the model reports is the one asked for, options included
    expected = losses.get(loss)
    assert model.loss == expected and model.loss.options == expected.options
