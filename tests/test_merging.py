"""The merge layers: NumPy backward against finite differences, forward against Keras 3, JAX
against NumPy (values and autodiff gradients), configs, and the errors for bad inputs."""

import json
import os

import numpy as np
import pytest

from scratchlstm._numpy.gradient_check import gradcheck
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)

B = 2


def mask_for(seed, shape=(B, 3)):
    """A ``(B, T)`` mask with some steps off (the first step kept, so no row is all off)."""
    mask = np.random.default_rng(seed).random(shape) > 0.4
    mask[:, 0] = True
    return mask


# (id, layer factory, input shapes, masks or None). Shapes include broadcasting as Keras allows.
CASES = [
    ("add3", lambda: Add(), [(B, 3, 4)] * 3, None),
    ("add_broadcast", lambda: Add(), [(B, 3, 4), (B, 1, 4), (B, 4)], None),
    ("subtract", lambda: Subtract(), [(B, 3, 4), (B, 3, 4)], None),
    ("subtract_broadcast", lambda: Subtract(), [(B, 3, 1), (B, 4)], None),
    ("multiply3", lambda: Multiply(), [(B, 3, 4)] * 3, None),
    ("multiply_broadcast", lambda: Multiply(), [(B, 3, 4), (B, 3, 1), (B, 4)], None),
    ("average3", lambda: Average(), [(B, 3, 4)] * 3, None),
    ("average_broadcast", lambda: Average(), [(B, 1, 4), (B, 3, 1)], None),
    ("maximum3", lambda: Maximum(), [(B, 3, 4)] * 3, None),
    ("maximum_broadcast", lambda: Maximum(), [(B, 3, 4), (B, 4), (B, 3, 1)], None),
    ("minimum3", lambda: Minimum(), [(B, 3, 4)] * 3, None),
    ("minimum_2d", lambda: Minimum(), [(B, 5), (B, 5)], None),
    ("concatenate_axis1", lambda: Concatenate(axis=1), [(B, 3, 4), (B, 1, 4), (B, 2, 4)], None),
    ("concatenate_last", lambda: Concatenate(axis=-1), [(B, 3, 4), (B, 3, 1), (B, 3, 2)], None),
    ("concatenate_2d", lambda: Concatenate(), [(B, 2), (B, 3)], None),
    ("dot_last", lambda: Dot(axes=-1), [(B, 3, 4), (B, 5, 4)], None),
    ("dot_last_normalize", lambda: Dot(axes=-1, normalize=True), [(B, 3, 4), (B, 5, 4)], None),
    ("dot_pair", lambda: Dot(axes=(1, 2)), [(B, 3, 5), (B, 4, 3)], None),
    ("dot_pair_normalize", lambda: Dot(axes=(1, 2), normalize=True), [(B, 3, 5), (B, 4, 3)], None),
    ("dot_2d_normalize", lambda: Dot(axes=1, normalize=True), [(B, 4), (B, 4)], None),
    ("dot_2d_3d", lambda: Dot(axes=(1, -1), normalize=True), [(B, 4), (B, 5, 4)], None),
    ("dot_3d_2d", lambda: Dot(axes=(1, 1)), [(B, 3, 4), (B, 3)], None),
    ("dot_4d", lambda: Dot(axes=(-1, 1), normalize=True), [(B, 3, 4, 5), (B, 5, 2)], None),
    ("dot_4d_middle", lambda: Dot(axes=(2, 2)), [(B, 3, 4, 2), (B, 5, 4)], None),
    ("multiply_masked", lambda: Multiply(), [(B, 3, 4)] * 3, [mask_for(1), mask_for(2), mask_for(3)]),
    ("multiply_half_masked", lambda: Multiply(), [(B, 3, 4)] * 2, [mask_for(4), None]),
    ("maximum_masked", lambda: Maximum(), [(B, 3, 4)] * 3, [mask_for(5), mask_for(6), mask_for(7)]),
    ("minimum_half_masked", lambda: Minimum(), [(B, 3, 4)] * 3, [None, mask_for(8), mask_for(9)]),
]
IDS = [case[0] for case in CASES]


def inputs_for(shapes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def np_forward(layer, inputs, mask=None):
    y, _, cache = numpy_ops(layer).layer_forward(layer, {}, {}, inputs, mask=mask)
    return y, cache


# --- NumPy backward against float64 central differences -----------------------------------------
@pytest.mark.parametrize("name, make, shapes, masks", CASES, ids=IDS)
def test_numpy_backward_matches_finite_differences(name, make, shapes, masks):
    layer = make()
    xs = inputs_for(shapes)
    y, cache = np_forward(layer, xs, masks)
    upstream = np.random.default_rng(1).normal(size=y.shape)
    grads, d_inputs = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    assert grads == {}
    assert [d.shape for d in d_inputs] == [x.shape for x in xs]
    names = [f"x{i}" for i in range(len(xs))]

    def loss(values):
        out, _ = np_forward(layer, [values[n] for n in names], masks)
        return float(np.sum(upstream * out))

    errors = gradcheck(loss, dict(zip(names, xs)), dict(zip(names, d_inputs)))
    assert max(errors.values()) < 1e-6


def test_dot_normalize_backward_catches_a_missing_term():
    """The check above can fail: dropping the projection term of the normalization is caught."""
    from scratchlstm._numpy.merging import dot as np_dot

    layer = Dot(axes=-1, normalize=True)
    xs = inputs_for([(B, 3, 4), (B, 5, 4)])
    y, cache = np_forward(layer, xs)
    upstream = np.random.default_rng(1).normal(size=y.shape)
    d_x, _ = np_dot.batch_dot_backward(cache.batch_dot, upstream)
    wrong = cache.normalized[0].inv_norm * d_x  # the chain rule through r forgotten
    errors = gradcheck(
        lambda v: float(np.sum(upstream * np_forward(layer, [v["x"], xs[1]])[0])),
        {"x": xs[0]}, {"x": wrong}, raise_on_failure=False,
    )
    assert errors["x"] > 1e-3


def test_input_gradient_false_returns_none():
    layer = Add()
    y, cache = np_forward(layer, inputs_for([(B, 3), (B, 3)]))
    assert numpy_ops(layer).layer_backward(layer, {}, cache, np.ones_like(y), input_gradient=False) == ({}, None)


# --- forward and shapes against Keras 3 ---------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def keras_twin(keras, layer):
    config = {k: v for k, v in layer.get_config().items() if k in ("axis", "axes", "normalize")}
    return getattr(keras.layers, type(layer).__name__)(**config)


UNMASKED = [case for case in CASES if case[3] is None]


@pytest.mark.parametrize("name, make, shapes, masks", UNMASKED, ids=[case[0] for case in UNMASKED])
def test_forward_and_output_shape_match_keras(keras, name, make, shapes, masks):
    layer = make()
    xs = inputs_for(shapes, seed=3, dtype=np.float32)
    twin = keras_twin(keras, layer)
    expected = np.asarray(twin(xs))
    actual = layer(xs)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=2e-6)
    symbolic = [(None, *s[1:]) for s in shapes]
    assert layer.compute_output_shape(symbolic) == tuple(twin.compute_output_shape(symbolic))


@pytest.mark.parametrize(
    "make, shapes",
    [
        (lambda: Add(), [(None, None, 4), (None, 3, 4)]),
        (lambda: Maximum(), [(None, 3, 1), (None, 1, 4)]),
        (lambda: Average(), [(8, 3, 4), (None, 4)]),
        (lambda: Concatenate(axis=1), [(None, None, 4), (None, 3, 4)]),
        (lambda: Concatenate(axis=-1), [(None, None, 4), (None, 3, 2)]),
        (lambda: Dot(axes=(1, 2)), [(None, 3, 5), (None, 10, 3)]),
        (lambda: Dot(axes=-1), [(None, 7), (None, 7)]),
        (lambda: Dot(axes=(2, 1)), [(None, None, 6), (None, 6, None)]),
    ],
)
def test_symbolic_output_shapes_match_keras(keras, make, shapes):
    layer = make()
    assert layer.compute_output_shape(shapes) == tuple(keras_twin(keras, layer).compute_output_shape(shapes))


@pytest.mark.parametrize("cls", [Multiply, Maximum, Minimum, Add])
@pytest.mark.parametrize("masked", ["all", "first"])
def test_masked_forward_matches_keras(keras, cls, masked):
    """Keras masks through ``Masking``: a step whose features are all 0 is masked."""
    T, F = 4, 2
    x1, x2 = inputs_for([(3, T, F), (3, T, F)], seed=5, dtype=np.float32)
    x1[0, 1] = x2[0, 1] = x1[1, 2] = x2[2, 3] = 0  # masked in both, in x1 only, in x2 only
    i1, i2 = keras.Input((T, F)), keras.Input((T, F))
    second = keras.layers.Masking()(i2) if masked == "all" else i2
    model = keras.Model([i1, i2], getattr(keras.layers, cls.__name__)()([keras.layers.Masking()(i1), second]))
    masks = [np.any(x1 != 0, -1), np.any(x2 != 0, -1) if masked == "all" else None]
    layer = cls()
    np.testing.assert_allclose(layer([x1, x2], mask=masks), np.asarray(model([x1, x2])), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("axis", [1, -1])
def test_compute_mask_matches_keras(keras, axis):
    xs = inputs_for([(B, 3, 4), (B, 3, 4), (B, 3, 4)], dtype=np.float32)
    masks = [mask_for(11), None, mask_for(12)]
    for cls, kwargs in [(Concatenate, {"axis": axis}), (Add, {}), (Maximum, {})]:
        ours, twin = cls(**kwargs), getattr(keras.layers, cls.__name__)(**kwargs)
        for given in (masks, [masks[0], masks[2], masks[0]], None, [None, None, None]):
            expected = twin.compute_mask(xs, given)
            actual = ours.compute_mask(xs, given)
            if expected is None:
                assert actual is None, (cls.__name__, given)
            else:
                np.testing.assert_array_equal(actual, np.asarray(expected))
    assert Dot(axes=-1).compute_mask(xs[:2], masks[:2]) is None


# --- JAX against NumPy ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        yield jax


def check_jax_matches_numpy(jax, layer, xs, masks=None, seed=2):
    y, cache = np_forward(layer, xs, masks)
    upstream = np.random.default_rng(seed).normal(size=y.shape)
    _, d_inputs = numpy_ops(layer).layer_backward(layer, {}, cache, upstream)
    forward = jax_ops(layer).layer_forward

    def functional(values):
        out, _ = forward(layer, {}, {}, list(values), mask=masks)
        return jax.numpy.sum(jax.numpy.asarray(upstream) * out)

    y_jax, _ = forward(layer, {}, {}, xs, mask=masks)
    assert y_jax.dtype == np.float64
    np.testing.assert_allclose(np.asarray(y_jax), y, rtol=1e-12, atol=1e-13)
    jax_grads = jax.jit(jax.grad(functional))([jax.numpy.asarray(x) for x in xs])
    for d_np, d_jax in zip(d_inputs, jax_grads):
        np.testing.assert_allclose(np.asarray(d_jax), d_np, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name, make, shapes, masks", CASES, ids=IDS)
def test_jax_forward_and_grad_match_numpy(jax, name, make, shapes, masks):
    check_jax_matches_numpy(jax, make(), inputs_for(shapes, seed=4), masks)


@pytest.mark.parametrize("cls", [Maximum, Minimum])
def test_ties_split_the_gradient_as_jax_does(jax, cls):
    """Tied inputs (e.g. ReLU zeros): a pairwise tie sends half to each side, so 1/4, 1/4, 1/2."""
    x = np.random.default_rng(0).normal(size=(B, 3, 4))
    layer = cls()
    y, cache = np_forward(layer, [x, x.copy(), x.copy()])
    _, d_inputs = numpy_ops(layer).layer_backward(layer, {}, cache, np.ones_like(y))
    np.testing.assert_array_equal([d[0, 0, 0] for d in d_inputs], [0.25, 0.25, 0.5])
    check_jax_matches_numpy(jax, layer, [x, x.copy(), x.copy()])
    check_jax_matches_numpy(jax, layer, [x, x.copy(), x.copy()], [mask_for(1), mask_for(2), None])


def test_concatenate_mask_under_jit_uses_jax(jax):
    """Inside a jitted JAX model the masks are tracers: the JAX twin computes the mask."""
    xs = inputs_for([(B, 3, 4), (B, 2, 4)])
    layer = Concatenate(axis=1)
    masks = [mask_for(1), mask_for(2, (B, 2))]
    expected = layer.compute_mask(xs, masks)
    traced = jax.jit(lambda first, second: layer.compute_mask(xs, [first, second]))(*masks)
    np.testing.assert_array_equal(np.asarray(traced), expected)
    np.testing.assert_array_equal(expected, np.concatenate(masks, axis=1))
    maximum_mask = jax.jit(lambda first, second: Maximum().compute_mask(xs[:1] * 2, [first, second]))
    np.testing.assert_array_equal(np.asarray(maximum_mask(masks[0], masks[0])), masks[0])


def test_dot_normalize_of_a_tiny_vector_matches_jax(jax):
    """Below the clamp (norm < 1e-7) the scale is the constant 1/epsilon: no projection term."""
    x, y = inputs_for([(B, 3, 4), (B, 5, 4)], seed=6)
    x[0, 1] = 1e-9 * np.arange(1, 5)
    x[1, 2] = 0.0
    check_jax_matches_numpy(jax, Dot(axes=-1, normalize=True), [x, y])


# --- eager calls, functional forms, configs ------------------------------------------------------
def test_eager_calls_and_functional_forms():
    a, b, c = inputs_for([(B, 3, 4), (B, 3, 4), (B, 4)], seed=7)
    np.testing.assert_allclose(Add()([a, b]), a + b)
    assert Add()([a, b]).dtype == np.float64
    assert Add()([a.astype(np.float32), b.astype(np.float32)]).dtype == np.float32
    pairs = [
        (add, Add, {}, [a, b, c]),
        (subtract, Subtract, {}, [a, c]),
        (multiply, Multiply, {}, [a, b, c]),
        (average, Average, {}, [a, b, c]),
        (maximum, Maximum, {}, [a, b, c]),
        (minimum, Minimum, {}, [a, b, c]),
        (concatenate, Concatenate, {"axis": 1}, [a, b]),
        (dot, Dot, {"axes": (2, 2), "normalize": True}, [a, b]),
    ]
    for function, cls, kwargs, xs in pairs:
        np.testing.assert_array_equal(function(xs, name=f"f_{cls.__name__}", **kwargs), cls(**kwargs)(xs))
    np.testing.assert_allclose(average([a, b, c]), (a + b + c[:, None]) / 3)
    np.testing.assert_allclose(maximum([a, b, c]), np.maximum(np.maximum(a, b), c[:, None]))
    np.testing.assert_allclose(dot([a, b]), np.einsum("btf,bsf->bts", a, b))  # Keras' default axes=-1


@pytest.mark.parametrize(
    "layer",
    [Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum(), Concatenate(axis=1),
     Dot(axes=(1, 2), normalize=True), Dot(axes=-1), Add(name="joined", dtype="float64", trainable=False)],
    ids=lambda layer: layer.name,
)
def test_config_round_trip(layer):
    config = layer.get_config()
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert LAYER_CLASSES[type(layer).__name__] is type(layer)
    assert numpy_ops(layer).layer_backward and jax_ops(layer).__name__.startswith("scratchlstm.jax_backend.merging.")
    assert type(layer).supports_masking


def test_symbolic_calls_give_keras_shapes():
    from scratchlstm.layers import Input

    a, b = Input((3, 4)), Input((4,))
    assert add([a, b]).shape == (None, 3, 4)
    assert concatenate([a, a], axis=1).shape == (None, 6, 4)
    assert dot([a, b], axes=(2, 1)).shape == (None, 3)
    assert dot([b, b], axes=1, normalize=True).shape == (None, 1)


def test_layers_have_no_weights():
    layer = Concatenate()
    layer(inputs_for([(B, 3), (B, 2)]))
    assert layer.built and layer.get_weights() == [] and layer.count_params() == 0


# --- bad inputs ----------------------------------------------------------------------------------
TWO_BY_THREE = np.ones((2, 3))


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: Add()(TWO_BY_THREE), ["list", "(2, 3)"]),
        (lambda: Add()([TWO_BY_THREE]), ["at least 2", "received 1"]),
        (lambda: Maximum()([TWO_BY_THREE, np.ones((2, 4))]), ["incompatible shapes", "(2, 3)", "(2, 4)"]),
        (lambda: Multiply()([TWO_BY_THREE, np.ones((3, 3))]), ["same batch size", "(3, 3)"]),
        (lambda: Subtract()([TWO_BY_THREE] * 3), ["exactly 2", "received 3"]),
        (lambda: Concatenate(axis=1)([np.ones((2, 3, 4)), np.ones((2, 3, 5))]),
         ["except on the concatenation axis", "(2, 3, 5)"]),
        (lambda: Concatenate(axis=3)([np.ones((2, 3, 4))] * 2), ["axis=3", "[-3, 3)"]),
        (lambda: Concatenate()([np.ones((2, 3, 4)), np.ones((2, 4))]), ["equal rank", "(2, 4)"]),
        (lambda: Dot(axes=(1, 1))([TWO_BY_THREE, np.ones((2, 4))]), ["equal sizes on the dot axes", "received 3", "4"]),
        (lambda: Dot(axes=3)([TWO_BY_THREE, TWO_BY_THREE]), ["out of range", "ranks (2, 2)"]),
        (lambda: Dot(axes=1)([np.ones(2), np.ones(2)]), ["rank >= 2"]),
        (lambda: Dot(axes=1)([TWO_BY_THREE] * 3), ["exactly 2", "received 3"]),
        (lambda: Dot(axes=-2)([TWO_BY_THREE, TWO_BY_THREE]), ["batch axis 0"]),
        (lambda: Dot(axes=0), ["batch axis 0"]),
        (lambda: Dot(axes=(1, 2, 3)), ["pair", "(1, 2, 3)"]),
        (lambda: Dot(axes="1"), ["integer", "'1'"]),
        (lambda: Concatenate(axis=1.0), ["integer", "1.0"]),
        (lambda: Add().compute_mask([TWO_BY_THREE] * 2, np.ones(2, bool)), ["mask to be a list", "ndarray"]),
        (lambda: Add().compute_mask([TWO_BY_THREE] * 2, [None]), ["as many masks as inputs", "1 masks for 2"]),
        (lambda: Add().compute_output_shape([(None, 3)]), ["at least 2", "received 1"]),
    ],
)
def test_bad_inputs_raise_value_error_naming_expected_and_received(call, expected):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in expected:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_pure_functions_check_their_inputs():
    from scratchlstm._numpy import merging as m

    with pytest.raises(ValueError, match="list of arrays"):
        m.add_forward(TWO_BY_THREE)
    with pytest.raises(ValueError, match="incompatible shapes"):
        m.multiply_forward([TWO_BY_THREE, np.ones((2, 2))])
    with pytest.raises(ValueError, match="matching shapes except on axis 1"):
        m.concatenate_forward([np.ones((2, 3, 4)), np.ones((2, 2, 5))], axis=1)
    with pytest.raises(ValueError, match="equal sizes on the dot axes"):
        m.dot_forward([TWO_BY_THREE, np.ones((2, 4))], axes=1)
    with pytest.raises(ValueError, match="does not fit"):
        m.maximum_forward([np.ones((2, 3, 4))] * 2, mask=[np.ones((2, 4), bool), None])
