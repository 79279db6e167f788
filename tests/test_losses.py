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


@pytest.mark.parametrize("bad", ["hinge2", "", "mse2", "ctc"])
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


# == the Keras 3 losses beyond the cross-entropies: gradients, values, options =================

def _away(values, kinks, margin=0.05):
    """``values`` pushed at least ``margin`` away from each kink."""
    for kink in kinks:
        close = np.abs(values - kink) < margin
        values = np.where(close, kink + np.where(values >= kink, margin, -margin), values)
    return values


def make_case(name, options, from_logits, shape, rng):
    """Float64 targets and predictions for a loss, away from its kinks and clip boundaries."""
    if name == "mean_absolute_percentage_error":
        y_true = _away(rng.normal(scale=2.0, size=shape), [0.0], 0.2)
        return y_true, y_true + _away(rng.normal(size=shape), [0.0])
    if name == "mean_squared_logarithmic_error":
        y_pred = rng.uniform(-0.5, 3.0, size=shape)
        return rng.uniform(0.0, 3.0, size=shape), _away(y_pred, [0.0])  # some below eps: flat there
    if name == "huber":
        delta = dict(options).get("delta", 1.0)
        y_true = rng.normal(size=shape)
        error = _away(rng.normal(scale=1.5 * delta, size=shape), [-delta, delta], 0.05 * delta)
        return y_true, y_true + error
    if name in ("log_cosh", "cosine_similarity"):
        return rng.normal(size=shape), rng.normal(size=shape)
    if name == "kl_divergence":  # (labels clipped to eps give slopes too small to difference)
        return rng.uniform(0.05, 1.0, size=shape), rng.uniform(0.05, 0.95, size=shape)
    if name == "poisson":
        return rng.poisson(2.0, size=shape).astype(np.float64), rng.uniform(0.2, 4.0, size=shape)
    if name in ("hinge", "squared_hinge"):
        labels = rng.choice([-1.0, 1.0], size=shape)
        y_true = (labels + 1) / 2 if dict(options).get("binary") else labels
        return y_true, labels * _away(labels * rng.normal(scale=1.5, size=shape), [1.0])
    if name == "categorical_hinge":
        y_true = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        while True:
            y_pred = rng.normal(size=shape)
            value = Loss(name).per_position(y_true, y_pred)
            others = np.sort((1 - y_true) * y_pred, axis=-1)
            if np.abs(value).min() > 0.05 and np.diff(others, axis=-1).min() > 1e-3:
                return y_true, y_pred
    # binary focal cross-entropy
    y_true = rng.integers(0, 2, size=shape).astype(np.float64)
    y_true[..., 0] = 0.3
    # (|logit| <= 3: a confident right answer's focal slope, (1 - p_t)^gamma small, stays measurable)
    y_pred = rng.uniform(-3.0, 3.0, size=shape) if from_logits else rng.uniform(0.05, 0.95, size=shape)
    return y_true, y_pred


NEW_CASES = [
    ("mean_absolute_percentage_error", {}, False),
    ("mean_squared_logarithmic_error", {}, False),
    ("huber", {}, False),
    ("huber", {"delta": 0.3}, False),
    ("log_cosh", {}, False),
    ("kl_divergence", {}, False),
    ("poisson", {}, False),
    ("hinge", {}, False),
    ("hinge", {"binary": True}, False),
    ("squared_hinge", {}, False),
    ("squared_hinge", {"binary": True}, False),
    ("categorical_hinge", {}, False),
    ("cosine_similarity", {}, False),
    ("cosine_similarity", {"axis": 1}, False),
    ("binary_focal_crossentropy", {}, False),
    ("binary_focal_crossentropy", {}, True),
    ("binary_focal_crossentropy", {"gamma": 3.0, "apply_class_balancing": True, "alpha": 0.4}, True),
    ("binary_focal_crossentropy", {"gamma": 0.5, "label_smoothing": 0.2}, False),
    ("binary_focal_crossentropy", {"gamma": 0.0, "apply_class_balancing": True}, True),
]
NEW_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}-{'logits' if f else 'p'}" for n, o, f in NEW_CASES]


def new_loss(name, options, from_logits):
    return Loss(name, from_logits, {k: v for k, v in options.items() if k != "binary"})


@pytest.mark.parametrize("name, options, from_logits", NEW_CASES, ids=NEW_IDS)
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_new_loss_gradients_match_finite_differences(name, options, from_logits, shape):
    if options.get("axis") == 1 and len(shape) == 2:
        pytest.skip("axis=1 is the last axis of 2-D data")
    rng = np.random.default_rng(NEW_CASES.index((name, options, from_logits)) * 10 + len(shape))
    loss = new_loss(name, options, from_logits)
    y_true, y_pred = make_case(name, options, from_logits, shape, rng)
    gradient = loss.gradient(y_true, y_pred)
    assert gradient.shape == y_pred.shape
    assert np.abs(gradient).max() > 1e-3
    base = loss.per_position(y_true, y_pred)

    def change(d):  # loss(d) - loss(y_pred), summed per position so unchanged positions cancel exactly
        return float(np.sum(loss.per_position(y_true, d["y_pred"]) - base) / base.size)

    errors = gradcheck(change, {"y_pred": y_pred}, {"y_pred": gradient}, tolerance=TOLERANCE)
    assert errors["y_pred"] < TOLERANCE
    wrong = gradient * 1.5  # the check notices a wrong scale
    assert gradcheck(change, {"y_pred": y_pred}, {"y_pred": wrong}, raise_on_failure=False)["y_pred"] > 0.1


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy"])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_label_smoothing_gradients_match_finite_differences(name, from_logits, shape):
    rng = np.random.default_rng(len(shape) + 2 * from_logits)
    loss = Loss(name, from_logits, {"label_smoothing": 0.15})
    y_true, y_pred = make_targets_and_predictions(name, from_logits, shape, rng)
    gradient = loss.gradient(y_true, y_pred)
    errors = gradcheck(lambda d: loss(y_true, d["y_pred"]), {"y_pred": y_pred}, {"y_pred": gradient}, tolerance=TOLERANCE)
    assert errors["y_pred"] < TOLERANCE
    assert loss(y_true, y_pred) != pytest.approx(Loss(name, from_logits)(y_true, y_pred), rel=1e-3)


def test_label_smoothing_is_a_change_of_labels():
    rng = np.random.default_rng(0)
    y_true, y_pred = make_targets_and_predictions("categorical_crossentropy", True, (5, 3), rng)
    smoothed = Loss("categorical_crossentropy", True, {"label_smoothing": 0.3})
    assert smoothed(y_true, y_pred) == pytest.approx(Loss("categorical_crossentropy", True)(y_true * 0.7 + 0.1, y_pred), rel=1e-14)
    y_true, y_pred = make_targets_and_predictions("binary_crossentropy", False, (5, 3), rng)
    smoothed = Loss("binary_crossentropy", False, {"label_smoothing": 0.3})
    assert smoothed(y_true, y_pred) == pytest.approx(Loss("binary_crossentropy")(y_true * 0.7 + 0.15, y_pred), rel=1e-14)


@pytest.mark.parametrize(
    "loss, y_true, y_pred, expected",
    [
        # Keras' documented examples (rounded there)
        (Loss("mape"), [100.0, 200.0, 300.0], [90.0, 210.0, 310.0], 100 * (10 / 100 + 10 / 200 + 10 / 300) / 3),  # 6.111
        (Loss("huber"), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], (0.18 + 0.18 + 0.08 + 0.18) / 4),  # 0.155
        (Loss("huber", options={"delta": 0.5}), [[0.0]], [[2.0]], 0.5 * 2 - 0.125),
        (Loss("log_cosh"), [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], math.log(math.cosh(1.0)) / 4),  # 0.108
        (Loss("kld"), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]],  # labels clipped to [1e-7, 1]: 0.458
         (1e-7 * LN(1e-7 / 0.6) - LN(0.4) + 1e-7 * LN(1e-7 / 0.4) + 1e-7 * LN(1e-7 / 0.6)) / 2),
        (Loss("poisson"), [[1.0, 3.0]], [[2.0, 1.0]], (2 - LN(2 + 1e-7) + 1 - 3 * LN(1 + 1e-7)) / 2),
        (Loss("hinge"), [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]], (1.6 + 0.6 + 1.4 + 1.6) / 4),  # 1.3
        (Loss("hinge"), [[-1.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]], (1.6 + 0.6 + 1 + 1) / 4),  # not all 0/1: as given
        (Loss("squared_hinge"), [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]], (1.6**2 + 0.6**2 + 1.4**2 + 1.6**2) / 4),  # 1.86
        (Loss("categorical_hinge"), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], (1.2 + 1.6) / 2),  # 1.4
        (Loss("cosine_similarity"), [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], -0.5),
        (Loss("cosine_similarity"), [[0.0, 0.0]], [[1.0, 2.0]], 0.0),  # a zero vector counts as 0
        (Loss("msle"), [[0.0, 1.0]], [[1.0, 0.0]], (LN(2.0) - LN(1 + 1e-7)) ** 2),
        (Loss("binary_focal_crossentropy", options={"gamma": 2.0}), [[1.0, 0.0]], [[0.8, 0.4]],
         (0.2**2 * -LN(0.8) + 0.4**2 * -LN(0.6)) / 2),
        (Loss("binary_focal_crossentropy", options={"gamma": 2.0, "apply_class_balancing": True, "alpha": 0.25}),
         [[1.0, 0.0]], [[0.8, 0.4]], (0.25 * 0.2**2 * -LN(0.8) + 0.75 * 0.4**2 * -LN(0.6)) / 2),
    ],
)
def test_new_loss_values_by_hand(loss, y_true, y_pred, expected):
    assert loss(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_focal_with_gamma_zero_is_the_binary_crossentropy():
    rng = np.random.default_rng(2)
    for from_logits in (False, True):
        y_true, y_pred = make_case("binary_focal_crossentropy", {}, from_logits, (3, 2, 4), rng)
        focal = Loss("binary_focal_crossentropy", from_logits, {"gamma": 0.0})
        bce = Loss("binary_crossentropy", from_logits)
        assert focal(y_true, y_pred) == pytest.approx(bce(y_true, y_pred), rel=1e-9)
        np.testing.assert_allclose(focal.gradient(y_true, y_pred), bce.gradient(y_true, y_pred), rtol=1e-8, atol=1e-15)


def test_cosine_axis_reduces_that_axis():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))
    along_time = Loss("cosine_similarity", options={"axis": 1})
    per_position = along_time.per_position(y_true, y_pred)
    assert per_position.shape == (2, 3)
    expected = Loss("cosine_similarity").per_position(np.swapaxes(y_true, 1, 2), np.swapaxes(y_pred, 1, 2))
    np.testing.assert_allclose(per_position, expected, rtol=1e-14)
    with pytest.raises(ValueError, match="axis=0 must name a non-batch axis"):
        Loss("cosine_similarity", options={"axis": 0})(y_true, y_pred)
    with pytest.raises(ValueError, match="axis=3 must name a non-batch axis"):
        Loss("cosine_similarity", options={"axis": 3}).gradient(y_true, y_pred)


def test_options_are_checked_normalised_and_part_of_equality():
    assert Loss("huber", options={"delta": 1}) == Loss("huber") and Loss("huber").options == ()
    assert Loss("huber", options={"delta": 2}) != Loss("huber")
    assert Loss("huber", options={"delta": 2}).options == (("delta", 2.0),)
    loss = Loss("binary_focal_crossentropy", True, {"gamma": 3, "alpha": 0.25})
    assert loss.options == (("gamma", 3.0),)
    assert loss.get_config() == {"name": "binary_focal_crossentropy", "from_logits": True, "options": {"gamma": 3.0}}
    assert get_loss(loss.get_config()) == loss
    assert loss.name == "binary_focal_crossentropy"
    for aliased, canonical in [("mape", "mean_absolute_percentage_error"), ("MSLE", "mean_squared_logarithmic_error"), ("kld", "kl_divergence"), ("bce", "binary_crossentropy")]:
        assert Loss(aliased).name == canonical


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("huber", {"delta": 0.0}, "delta must be > 0"),
        ("huber", {"delta": "1"}, "delta must be a finite number"),
        ("huber", {"alpha": 0.1}, r"huber takes the options \['delta'\], got \['alpha'\]"),
        ("mse", {"delta": 1.0}, r"mean_squared_error takes no options, got \['delta'\]"),
        ("binary_crossentropy", {"label_smoothing": 1.5}, r"label_smoothing must be in \[0.0, 1.0\]"),
        ("binary_focal_crossentropy", {"gamma": -1.0}, "gamma must be >= 0"),
        ("binary_focal_crossentropy", {"apply_class_balancing": 1}, "apply_class_balancing must be True or False"),
        ("cosine_similarity", {"axis": 1.0}, "axis must be an int"),
    ],
)
def test_bad_options_raise(name, options, message):
    with pytest.raises(ValueError, match=message):
        Loss(name, options=options)


def test_clipped_predictions_and_labels_have_the_clips_slopes():
    # KL: labels below eps count as eps; predictions outside [eps, 1] are flat (Keras clips both).
    kld = Loss("kl_divergence")
    np.testing.assert_allclose(kld.gradient(np.array([[0.0, 1.0]]), np.array([[0.5, 0.25]])), [[-1e-7 / 0.5, -4.0]], rtol=1e-14)
    np.testing.assert_array_equal(kld.gradient(np.array([[0.5, 0.5]]), np.array([[0.0, 1.5]])), [[0.0, 0.0]])
    # MSLE: max(p, eps) is flat below eps; focal: probabilities clipped like the binary cross-entropy
    assert Loss("msle").gradient(np.array([[1.0]]), np.array([[-0.5]]))[0, 0] == 0.0
    focal = Loss("binary_focal_crossentropy")
    with np.errstate(divide="raise", invalid="raise"):
        gradient = focal.gradient(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert np.isfinite(gradient).all()
