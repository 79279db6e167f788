"""Losses: gradients against finite differences, values against hand-computed numbers,
numerical stability, logits vs probabilities, and errors."""

import math

import numpy as np
import pytest

from scratchlstm._numpy import Loss, get_activation, get_loss, gradcheck

TOLERANCE = 1e-6
CLASSES = 3
SHAPES = {"2d": (4, CLASSES), "3d": (2, 3, CLASSES)}


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def make_targets_and_predictions(name, from_logits, shape, rng):
    """Targets and float64 predictions away from every kink and clip boundary."""
    if name == "mse":
        return rng.normal(size=shape), rng.normal(size=shape)
    if name == "mae":
        y_true = rng.normal(size=shape)
        offset = rng.uniform(0.1, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        return y_true, y_true + offset
    if name == "binary_crossentropy":
        y_true = rng.integers(0, 2, size=shape).astype(np.float64)
        y_true[..., 0] = 0.3  # a soft label too
        y_pred = rng.normal(scale=2.0, size=shape) if from_logits else rng.uniform(0.05, 0.95, size=shape)
        return y_true, y_pred
    labels = rng.integers(0, CLASSES, size=shape[:-1])
    y_pred = rng.normal(scale=2.0, size=shape) if from_logits else rng.uniform(0.1, 1.0, size=shape)  # unnormalised
    if name == "sparse_categorical_crossentropy":
        return labels, y_pred
    y_true = np.eye(CLASSES)[labels]
    y_true.reshape(-1, CLASSES)[0] = [0.2, 0.5, 0.1]  # a soft label, not summing to 1, too
    return y_true, y_pred


LOSS_CASES = [
    ("mse", False),
    ("mae", False),
    ("binary_crossentropy", False),
    ("binary_crossentropy", True),
    ("categorical_crossentropy", False),
    ("categorical_crossentropy", True),
    ("sparse_categorical_crossentropy", False),
    ("sparse_categorical_crossentropy", True),
]


@pytest.mark.parametrize("name, from_logits", LOSS_CASES)
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_loss_gradient_matches_finite_differences(name, from_logits, shape):
    rng = np.random.default_rng(10 * LOSS_CASES.index((name, from_logits)) + len(shape))
    loss = Loss(name, from_logits=from_logits)
    y_true, y_pred = make_targets_and_predictions(name, from_logits, shape, rng)
    gradient = loss.gradient(y_true, y_pred)
    assert gradient.shape == y_pred.shape
    assert np.abs(gradient).max() > 1e-3
    errors = gradcheck(lambda d: loss(y_true, d["y_pred"]), {"y_pred": y_pred}, {"y_pred": gradient}, tolerance=TOLERANCE)
    assert errors["y_pred"] < TOLERANCE


@pytest.mark.parametrize("name, from_logits", LOSS_CASES)
def test_loss_gradcheck_catches_a_missing_mean_over_positions(name, from_logits):
    rng = np.random.default_rng(5)
    loss = Loss(name, from_logits=from_logits)
    y_true, y_pred = make_targets_and_predictions(name, from_logits, SHAPES["3d"], rng)
    wrong = loss.gradient(y_true, y_pred) * 6  # forgot to divide by the B*T = 6 positions
    errors = gradcheck(lambda d: loss(y_true, d["y_pred"]), {"y_pred": y_pred}, {"y_pred": wrong}, raise_on_failure=False)
    assert errors["y_pred"] > 0.5


# -- values by hand ----------------------------------------------------------------------------

LN = math.log


@pytest.mark.parametrize(
    "name, from_logits, y_true, y_pred, expected",
    [
        # Keras' documented examples (rounded there to 3 digits)
        ("mse", False, [[0, 1], [0, 0]], [[1.0, 1.0], [1.0, 0.0]], 0.5),
        ("mae", False, [[0, 1], [0, 0]], [[1.0, 1.0], [1.0, 0.0]], 0.5),
        ("binary_crossentropy", False, [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],
         ((-LN(0.4) - LN(0.4)) / 2 + (-LN(0.6) - LN(0.4)) / 2) / 2),  # 0.815
        ("binary_crossentropy", True, [[0, 1, 0, 0]], [[-18.6, 0.51, 2.94, -12.8]],
         (LN(1 + math.exp(-18.6)) + LN(1 + math.exp(-0.51)) + 2.94 + LN(1 + math.exp(-2.94)) + LN(1 + math.exp(-12.8))) / 4),  # 0.865
        ("categorical_crossentropy", False, [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
         (-LN(0.95) - LN(0.1)) / 2),  # 1.177
        ("sparse_categorical_crossentropy", False, [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
         (-LN(0.95) - LN(0.1)) / 2),
        ("sparse_categorical_crossentropy", False, [[1], [2]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
         (-LN(0.95) - LN(0.1)) / 2),
        # unnormalised probabilities are renormalised first, as Keras does: [0.4, 1.4, 0.2] / 2
        ("categorical_crossentropy", False, [[0, 1, 0]], [[0.4, 1.4, 0.2]], -LN(0.7)),
        ("categorical_crossentropy", True, [[0, 0, 1]], [[1.0, 2.0, 3.0]], LN(1 + math.exp(-1) + math.exp(-2))),
        ("sparse_categorical_crossentropy", True, [0], [[1.0, 2.0, 3.0]], LN(math.exp(1) + math.exp(2) + math.exp(3)) - 1),
        # 3-D: the mean runs over all B*T positions
        ("mse", False, np.zeros((2, 2, 1)), [[[1.0], [2.0]], [[3.0], [4.0]]], 7.5),
        ("mae", False, np.zeros((2, 2, 2)), [[[1.0, -1.0], [2.0, 0.0]], [[3.0, 1.0], [4.0, -4.0]]], 2.0),
        ("sparse_categorical_crossentropy", True, [[0, 1]], [[[0.0, 0.0], [LN(3.0), 0.0]]], (LN(2.0) + LN(4.0)) / 2),
    ],
)
def test_loss_values_by_hand(name, from_logits, y_true, y_pred, expected):
    loss = Loss(name, from_logits=from_logits)
    value = loss(np.asarray(y_true), np.asarray(y_pred, dtype=np.float64))
    assert isinstance(value, float)
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_per_position_keeps_the_leading_axes():
    y_pred = np.array([[[1.0], [2.0]], [[3.0], [4.0]]])
    per_position = Loss("mse").per_position(np.zeros_like(y_pred), y_pred)
    np.testing.assert_array_equal(per_position, [[1.0, 4.0], [9.0, 16.0]])


# -- stability ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "name, y_true, y_pred, expected",
    [
        ("binary_crossentropy", [[1.0, 0.0, 1.0, 0.0]], [[1e4, -1e4, -1e4, 1e4]], 5000.0),
        ("categorical_crossentropy", [[0.0, 1.0, 0.0]], [[1e4, -1e4, 0.0]], 2e4),
        ("sparse_categorical_crossentropy", [1], [[1e4, -1e4, 0.0]], 2e4),
        ("categorical_crossentropy", [[1.0, 0.0, 0.0]], [[1e4, -1e4, 0.0]], 0.0),
    ],
)
def test_extreme_logits_give_finite_exact_losses_and_gradients(name, y_true, y_pred, expected):
    loss = Loss(name, from_logits=True)
    y_pred = np.asarray(y_pred)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss(np.asarray(y_true), y_pred)
        gradient = loss.gradient(np.asarray(y_true), y_pred)
    assert value == pytest.approx(expected, abs=1e-9)
    assert np.isfinite(gradient).all()
    assert np.abs(gradient).max() <= 1.0


def test_extreme_logit_gradients_by_hand():
    # d/dz mean(bce) = (sigmoid(z) - y) / n ;  d/dz cce = softmax(z) - y
    bce = Loss("binary_crossentropy", from_logits=True).gradient(np.array([[1.0, 0.0, 1.0, 0.0]]), np.array([[1e4, -1e4, -1e4, 1e4]]))
    np.testing.assert_array_equal(bce, [[0.0, 0.0, -0.25, 0.25]])
    cce = Loss("categorical_crossentropy", from_logits=True).gradient(np.array([[0.0, 1.0, 0.0]]), np.array([[1e4, -1e4, 0.0]]))
    np.testing.assert_array_equal(cce, [[1.0, -1.0, 0.0]])


@pytest.mark.parametrize(
    "name, y_true, y_pred",
    [
        ("binary_crossentropy", [[1.0, 0.0, 0.0, 1.0]], [[0.0, 1.0, 0.0, 1.0]]),
        ("categorical_crossentropy", [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
        ("sparse_categorical_crossentropy", [1, 1], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    ],
)
def test_probabilities_of_exactly_zero_and_one_are_clipped(name, y_true, y_pred):
    loss = Loss(name)
    y_pred = np.asarray(y_pred)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss(np.asarray(y_true), y_pred)
        gradient = loss.gradient(np.asarray(y_true), y_pred)
    assert np.isfinite(value) and np.isfinite(gradient).all()
    # the wrong answers cost -log(epsilon) = 16.118 each (Keras' epsilon 1e-7), the right ones ~0
    wrong_answers = {"binary_crossentropy": 2 / 4, "categorical_crossentropy": 1 / 2, "sparse_categorical_crossentropy": 1 / 2}[name]
    assert value == pytest.approx(wrong_answers * -math.log(1e-7), rel=1e-5)


# -- logits vs probabilities -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_from_logits_equals_probability_form(name, shape):
    rng = np.random.default_rng(len(shape))
    y_true, logits = make_targets_and_predictions(name, True, shape, rng)
    squash, squash_backward = (
        (sigmoid, get_activation("sigmoid")[1]) if name == "binary_crossentropy" else (softmax, get_activation("softmax")[1])
    )
    probabilities = squash(logits)
    with_logits, with_probabilities = Loss(name, from_logits=True), Loss(name)
    assert with_logits(y_true, logits) == pytest.approx(with_probabilities(y_true, probabilities), rel=1e-12)
    # and the gradients agree through the chain rule
    chained = squash_backward(logits, probabilities, with_probabilities.gradient(y_true, probabilities))
    np.testing.assert_allclose(with_logits.gradient(y_true, logits), chained, rtol=1e-9, atol=1e-14)


# -- names and errors --------------------------------------------------------------------------

def test_get_loss_names_aliases_and_configs():
    assert get_loss("mse").name == "mean_squared_error"
    assert get_loss("MAE").name == "mean_absolute_error"
    assert get_loss("mean_squared_error") == Loss("mse")
    loss = Loss("binary_crossentropy", from_logits=True)
    assert get_loss(loss) is loss
    assert get_loss(loss.get_config()) == loss
    assert loss.get_config() == {"name": "binary_crossentropy", "from_logits": True}


@pytest.mark.parametrize("bad", ["hinge", "", "mse2"])
def test_unknown_loss_name_raises_naming_the_known_ones(bad):
    with pytest.raises(ValueError) as info:
        get_loss(bad)
    message = str(info.value)
    assert repr(bad) in message
    for known in ("mse", "mae", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"):
        assert known in message


def test_get_loss_rejects_other_types():
    with pytest.raises(ValueError, match="int"):
        get_loss(3)


@pytest.mark.parametrize(
    "labels, fragment",
    [
        ([0, 3], r"\[0, 2\]"),
        ([-1, 0], r"\[0, 2\]"),
        ([0.5, 1.0], "integers"),
        ([0, 1, 2], r"shape \(2,\)"),
    ],
)
@pytest.mark.parametrize("from_logits", [False, True])
def test_bad_sparse_labels_raise(labels, fragment, from_logits):
    loss = Loss("sparse_categorical_crossentropy", from_logits=from_logits)
    y_pred = np.full((2, CLASSES), 1.0 / CLASSES)
    with pytest.raises(ValueError, match=fragment):
        loss(np.asarray(labels), y_pred)
    with pytest.raises(ValueError, match=fragment):
        loss.gradient(np.asarray(labels), y_pred)


def test_mismatched_shapes_are_an_error_not_a_broadcast():
    from scratchlstm._numpy.losses import Loss

    with pytest.raises(ValueError, match=r"same shape, got \(4,\) and \(4, 1\)"):
        Loss("mse")(np.arange(4.0), np.arange(4.0)[:, None])
    with pytest.raises(ValueError, match="same shape"):
        Loss("mae").gradient(np.zeros((2, 3)), np.zeros((2, 1)))
