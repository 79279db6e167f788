"""The attention layers (Attention, AdditiveAttention, MultiHeadAttention): NumPy backward against
float64 finite differences (every weight and input, with padding and causal masks), forward and
scores against Keras 3 (masks included), JAX against NumPy (values and jax.grad), dropout,
configs, models on both backends with save/load, and the errors for bad input."""

import json

import numpy as np
import pytest

from scratchlstm import Input, Model, load_model
from scratchlstm._numpy.attention import (
    attention_backward,
    attention_forward,
    masked_softmax_backward,
    masked_softmax_forward,
    multi_head_attention_backward,
    multi_head_attention_forward,
)
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._numpy.regularization.dropout import draw_dropout_mask
from scratchlstm.layers import Dense, Embedding, GlobalAveragePooling1D
from scratchlstm.layers._registry import LAYER_CLASSES, jax_ops, numpy_ops
from scratchlstm.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from scratchlstm.optimizers import Adam

F64 = "float64"
B, TQ, TV = 2, 3, 4


def normal(seed, *shape, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def padding_mask(seed, batch, steps, keep_first=True):
    """A ``(B, T)`` bool mask with some steps off; the first step kept so no row is all off."""
    mask = np.random.default_rng(seed).random((batch, steps)) > 0.4
    if keep_first:
        mask[:, 0] = True
    return mask


def built(layer, inputs, seed=0):
    """``layer`` built for ``inputs``, with seeded weights away from 0 (and their params dict).

    Entries of size 0.3 to 1 keep the entrywise relative error of the gradient check meaningful
    (an entry near 0 is all round-off).
    """
    layer.build([tuple(np.shape(x)) for x in inputs], np.asarray(inputs[0]).dtype)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.choice([-1, 1], size=w.shape) * rng.uniform(0.3, 1.0, size=w.shape)
                       for w in layer.get_weights()])
    return layer, dict(layer.params)


def as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


# --- NumPy backward against float64 central differences -----------------------------------------
def luong_inputs(with_key, value_features=5):
    inputs = [normal(1, B, TQ, 3), normal(2, B, TV, value_features)]
    return inputs + [normal(3, B, TV, 3)] if with_key else inputs


def mha_inputs(key_features=None, attention_mask=None):
    inputs = [normal(1, B, TQ, 4), normal(2, B, TV, 5)]
    if key_features:
        inputs.append(normal(3, B, TV, key_features))
    if attention_mask is not None:
        if not key_features:  # the list form: [query, value, key, attention_mask], key = value
            inputs.append(inputs[1])
        inputs.append(attention_mask.astype(np.float64))
    return inputs


def attention_mask_with_an_empty_row():
    mask = np.random.default_rng(9).random((B, TQ, TV)) > 0.3
    mask[:, :, 0] = True
    mask[0, 1] = False  # query step 1 of sample 0 may attend to nothing
    return mask


# (id, layer factory, inputs, mask, call options)
LUONG_CASES = [
    ("dot", lambda: Attention(dtype=F64), luong_inputs(False, 3), None, {}),
    ("dot_scale_key", lambda: Attention(use_scale=True, dtype=F64), luong_inputs(True), None, {}),
    ("dot_masks_scores", lambda: Attention(use_scale=True, dtype=F64), luong_inputs(True),
     [padding_mask(4, B, TQ), padding_mask(5, B, TV)], {"return_attention_scores": True}),
    ("dot_causal", lambda: Attention(dtype=F64), luong_inputs(False, 3), [None, padding_mask(6, B, TV)],
     {"use_causal_mask": True, "return_attention_scores": True}),
    ("concat", lambda: Attention(score_mode="concat", dtype=F64), luong_inputs(True), None, {}),
    ("concat_scale_masks", lambda: Attention(use_scale=True, score_mode="concat", dtype=F64), luong_inputs(False, 3),
     [padding_mask(7, B, TQ), padding_mask(8, B, TV)], {"return_attention_scores": True, "use_causal_mask": True}),
    ("additive", lambda: AdditiveAttention(dtype=F64), luong_inputs(True), None, {}),
    ("additive_no_scale", lambda: AdditiveAttention(use_scale=False, dtype=F64), luong_inputs(False, 3), None, {}),
    ("additive_masks_causal", lambda: AdditiveAttention(dtype=F64), luong_inputs(True),
     [padding_mask(9, B, TQ), padding_mask(10, B, TV)], {"use_causal_mask": True, "return_attention_scores": True}),
]

MHA_CASES = [
    ("self", lambda: MultiHeadAttention(2, 3, dtype=F64), mha_inputs(), None, {}),
    ("key_value_dim_output_shape", lambda: MultiHeadAttention(2, 3, value_dim=2, output_shape=(3, 2), dtype=F64),
     mha_inputs(key_features=6), None, {"return_attention_scores": True}),
    ("no_bias_causal", lambda: MultiHeadAttention(3, 2, use_bias=False, dtype=F64), mha_inputs(key_features=3), None,
     {"use_causal_mask": True}),
    ("padding_masks", lambda: MultiHeadAttention(2, 3, dtype=F64), mha_inputs(key_features=3),
     [padding_mask(11, B, TQ, keep_first=False), padding_mask(12, B, TV), padding_mask(13, B, TV)], {}),
    ("padding_masks_scores", lambda: MultiHeadAttention(2, 3, dtype=F64), mha_inputs(),
     [padding_mask(11, B, TQ, keep_first=False), padding_mask(12, B, TV)],
     {"return_attention_scores": True, "use_causal_mask": True}),
    # a row with every key masked: uniform weights (fused path) or zeros (explicit path), as Keras
    ("empty_row_uniform", lambda: MultiHeadAttention(2, 3, dtype=F64),
     mha_inputs(key_features=3, attention_mask=attention_mask_with_an_empty_row()), None, {}),
    ("empty_row_zero", lambda: MultiHeadAttention(2, 3, dtype=F64),
     mha_inputs(attention_mask=attention_mask_with_an_empty_row()), None,
     {"return_attention_scores": True, "use_causal_mask": True}),
]
CASES = LUONG_CASES + MHA_CASES
IDS = [case[0] for case in CASES]


def numpy_objective(layer, upstream, mask, options):
    ops = numpy_ops(layer)

    def objective(params, inputs):
        outputs, _, _ = ops.layer_forward(layer, params, {}, inputs, mask=mask, **options)
        return float(sum(np.sum(o * u) for o, u in zip(as_list(outputs), upstream)))

    return objective


@pytest.mark.parametrize("name, make, inputs, mask, options", CASES, ids=IDS)
def test_numpy_backward_matches_finite_differences(name, make, inputs, mask, options):
    layer, params = built(make(), inputs)
    ops = numpy_ops(layer)
    outputs, _, cache = ops.layer_forward(layer, params, {}, inputs, mask=mask, **options)
    upstream = [normal(20 + k, *o.shape) for k, o in enumerate(as_list(outputs))]
    grads, d_inputs = ops.layer_backward(layer, params, cache, upstream if isinstance(outputs, list) else upstream[0])
    objective = numpy_objective(layer, upstream, mask, options)
    assert set(grads) == set(params) and len(d_inputs) == len(inputs)
    for key in params:
        numeric = numerical_gradient(lambda p: objective(p, inputs), params, key)
        if key == "key_bias":
            # softmax is shift invariant and q . bk is the same for every key: d bk is exactly 0
            assert np.abs(grads[key]).max() < 1e-12 and np.abs(numeric).max() < 1e-8
            continue
        assert relative_error(grads[key], numeric) < 1e-6, key
    for k, value in enumerate(inputs):
        def with_input(d, k=k):
            return objective(params, [d["x"] if j == k else v for j, v in enumerate(inputs)])

        numeric = numerical_gradient(with_input, {"x": value}, "x")
        if isinstance(layer, MultiHeadAttention) and k == 3:  # the attention mask: no gradient
            np.testing.assert_array_equal(d_inputs[k], np.zeros_like(value))
            np.testing.assert_array_equal(numeric, np.zeros_like(value))
            continue
        assert relative_error(d_inputs[k], numeric) < 1e-6, f"input {k}"


def test_dropout_backward_with_a_fixed_keep_mask():
    """The pure functions take the keep-mask: their backward passes the finite-difference check."""
    rng = np.random.default_rng(3)
    query, value = normal(1, B, TQ, 3), normal(2, B, TV, 3)
    keep = rng.random((B, TQ, TV)) > 0.3
    params = {"scale": np.array(0.7)}
    upstream = normal(4, B, TQ, 3), normal(5, B, TQ, TV)

    def objective(p, q):
        y, w, _ = attention_forward(p, q, value, keep=keep, rate=0.3, value_mask=padding_mask(6, B, TV))
        return float(np.sum(y * upstream[0]) + np.sum(w * upstream[1]))

    y, w, cache = attention_forward(params, query, value, keep=keep, rate=0.3, value_mask=padding_mask(6, B, TV))
    assert np.all(w[~keep] == 0) and np.all(w[keep & padding_mask(6, B, TV)[:, None]] > 0)  # dropped: exactly 0
    grads, d_query, d_value, d_key = attention_backward(params, cache, *upstream)
    assert d_key is None
    assert relative_error(grads["scale"], numerical_gradient(lambda p: objective(p, query), params, "scale")) < 1e-6
    assert relative_error(d_query, numerical_gradient(lambda d: objective(params, d["q"]), {"q": query}, "q")) < 1e-6

    layer, mha_params = built(MultiHeadAttention(2, 3, dropout=0.4, dtype=F64), [query, value])
    mha_keep = rng.random((B, 2, TQ, TV)) > 0.4
    up = normal(7, B, TQ, 3), normal(8, B, 2, TQ, TV)

    def mha_objective(p):
        out, scores, _ = multi_head_attention_forward(p, query, value, keep=mha_keep, rate=0.4, zero_masked_rows=True)
        return float(np.sum(out * up[0]) + np.sum(scores * up[1]))

    _, _, mha_cache = multi_head_attention_forward(mha_params, query, value, keep=mha_keep, rate=0.4)
    mha_grads, *_ = multi_head_attention_backward(mha_params, mha_cache, *up)
    for key in ("query_kernel", "value_kernel", "value_bias", "attention_output_kernel"):
        assert relative_error(mha_grads[key], numerical_gradient(mha_objective, mha_params, key)) < 1e-6, key


def test_the_check_catches_a_softmax_backward_that_ignores_replaced_scores():
    """Fully masked rows (uniform weights) need ``d s = 0`` where the mask replaced the score: the
    subtract-mode formula there gives a gradient the finite differences reject."""
    mask = attention_mask_with_an_empty_row()[:, None]  # (B, 1, T, S)
    scores, upstream = normal(1, B, 1, TQ, TV), normal(2, B, 1, TQ, TV)

    p = masked_softmax_forward(scores, mask, fill="replace")
    numeric = numerical_gradient(
        lambda d: float(np.sum(masked_softmax_forward(d["s"], mask, fill="replace") * upstream)), {"s": scores}, "s")
    assert relative_error(masked_softmax_backward(p, upstream, mask, fill="replace"), numeric) < 1e-6
    assert relative_error(masked_softmax_backward(p, upstream, mask, fill="subtract"), numeric) > 0.5


# --- forward, scores, shapes and masks against Keras 3 -----------------------------------------------
@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def keras_twin(keras, layer):
    config = {k: v for k, v in layer.get_config().items() if k not in ("name", "dtype", "trainable", "seed")}
    return getattr(keras.layers, type(layer).__name__)(**config)


def f32(*arrays):
    return [a.astype(np.float32) for a in arrays]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Attention(),
        lambda: Attention(use_scale=True),
        lambda: Attention(use_scale=True, score_mode="concat"),
        lambda: Attention(score_mode="concat"),
        lambda: AdditiveAttention(),
        lambda: AdditiveAttention(use_scale=False),
    ],
    ids=["dot", "dot_scale", "concat_scale", "concat", "additive", "additive_no_scale"],
)
@pytest.mark.parametrize("with_key", [False, True])
def test_luong_forward_scores_and_masks_match_keras(keras, make, with_key):
    inputs = f32(*luong_inputs(with_key, value_features=3 if not with_key else 5))
    layer = make()
    twin = keras_twin(keras, layer)
    twin(inputs)
    layer(inputs)
    weights = [w + 0.3 * normal(30 + i, *w.shape, dtype=np.float32) for i, w in enumerate(twin.get_weights())]
    twin.set_weights(weights)
    layer.set_weights(weights)
    value_mask = padding_mask(5, B, TV)
    value_mask[1] = False  # sample 1: every value masked
    masks = [None, [padding_mask(4, B, TQ), padding_mask(5, B, TV)], [padding_mask(4, B, TQ), value_mask]]
    for mask in masks:
        for causal in (False, True):
            expected = twin(inputs, mask=mask, return_attention_scores=True, use_causal_mask=causal)
            actual = layer(inputs, mask=mask, return_attention_scores=True, use_causal_mask=causal)
            for a, e in zip(actual, expected):
                np.testing.assert_allclose(a, np.asarray(e), rtol=1e-5, atol=2e-6)
            plain = layer(inputs, mask=mask, use_causal_mask=causal)
            np.testing.assert_allclose(plain, actual[0], rtol=1e-6, atol=1e-7)
    shapes = [(None, *np.shape(x)[1:]) for x in inputs]
    assert layer.compute_output_shape(shapes) == tuple(twin.compute_output_shape(shapes))
    mask = [padding_mask(4, B, TQ), padding_mask(5, B, TV)]
    np.testing.assert_array_equal(layer.compute_mask(inputs, mask), np.asarray(twin.compute_mask(inputs, mask)))
    assert layer.compute_mask(inputs, None) is None and twin.compute_mask(inputs, None) is None


MHA_KERAS = [
    ("default", lambda: MultiHeadAttention(2, 3), False, (True, False)),
    ("key", lambda: MultiHeadAttention(2, 3), True, (True, False)),
    ("value_dim_output_shape", lambda: MultiHeadAttention(2, 3, value_dim=2, output_shape=(3, 2)), True, (True,)),
    ("no_bias", lambda: MultiHeadAttention(3, 2, use_bias=False, output_shape=5), False, (True, False)),
    ("dropout_inference", lambda: MultiHeadAttention(2, 3, dropout=0.5), True, (True, False)),
]


@pytest.mark.parametrize("name, make, with_key, scores_options", MHA_KERAS, ids=[c[0] for c in MHA_KERAS])
def test_mha_weights_forward_scores_and_masks_match_keras(keras, name, make, with_key, scores_options):
    query, value, key = f32(normal(1, B, TQ, 4), normal(2, B, TV, 5), normal(3, B, TV, 6))
    keys = (key,) if with_key else ()
    layer = make()
    twin = keras_twin(keras, layer)
    twin(query, value, *keys, return_attention_scores=True)  # (Keras' fused path fails for value_dim != key_dim)
    layer(query, value, *keys)
    # Keras' order and shapes, exactly
    assert [w.shape for w in layer.get_weights()] == [tuple(w.shape) for w in twin.get_weights()]
    weights = [w + 0.3 * normal(40 + i, *w.shape, dtype=np.float32) for i, w in enumerate(twin.get_weights())]
    twin.set_weights(weights)
    layer.set_weights(weights)
    empty_row = attention_mask_with_an_empty_row()  # both of Keras' paths for a row with no key left
    calls = [(None, False, scores_options[0])] + [
        (mask, True, scores) for mask in (None, empty_row) for scores in scores_options
    ] + [(empty_row, False, scores) for scores in scores_options]
    for attention_mask, causal, scores in calls:
        call = dict(attention_mask=attention_mask, use_causal_mask=causal, return_attention_scores=scores)
        expected, actual = twin(query, value, *keys, **call), layer(query, value, *keys, **call)
        for a, e in zip(as_list(actual), as_list(expected) if scores else [expected]):
            np.testing.assert_allclose(a, np.asarray(e), rtol=1e-5, atol=2e-6)
    # Keras applies value and key masks given as arguments (it ignores an explicit query_mask)
    value_mask, key_mask = padding_mask(5, B, TV), padding_mask(6, B, TV)
    expected = twin(query, value, *keys, value_mask=value_mask, key_mask=key_mask, return_attention_scores=True)
    actual = layer(query, value, *keys, value_mask=value_mask, key_mask=key_mask, return_attention_scores=True)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, np.asarray(e), rtol=1e-5, atol=2e-6)
    shapes = [(None, TQ, 4), (None, TV, 5)] + ([(None, TV, 6)] if with_key else [])
    assert layer.compute_output_shape(shapes) == tuple(twin.compute_output_shape(*shapes))


def test_mha_padding_masks_in_a_model_match_keras(keras):
    """Token ids through Embedding(mask_zero=True) into self-attention, in both frameworks: the
    query mask masks rows, the value mask columns, and the output carries the query's mask."""
    ids = np.array([[3, 5, 2, 0, 0], [4, 1, 0, 0, 0], [2, 2, 2, 2, 1]])

    def build(lib, layers):
        tokens = lib.Input((5,))
        vectors = layers.Embedding(7, 4, mask_zero=True)(tokens)
        out, scores = layers.MultiHeadAttention(2, 3)(vectors, vectors, return_attention_scores=True,
                                                        use_causal_mask=True)
        return lib.Model(tokens, [layers.GlobalAveragePooling1D()(out), scores])

    import types

    import scratchlstm

    ours_layers = types.SimpleNamespace(Embedding=Embedding, MultiHeadAttention=MultiHeadAttention,
                                        GlobalAveragePooling1D=GlobalAveragePooling1D)
    ours, theirs = build(scratchlstm, ours_layers), build(keras, keras.layers)
    theirs.set_weights(ours.get_weights())
    tokens = ids.astype(np.float32)
    expected, actual = theirs.predict(tokens, verbose=0), ours.predict(tokens, verbose=0)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=2e-6)
    assert np.all(actual[1][1, :, 2:] == 0)  # padded query rows attend to nothing (scores path)


def test_initializers_follow_keras_fan_rules(keras):
    """EinsumDense's glorot: fan-in = contracted axes, fan-out = produced axes; scale (D,) glorot."""
    layer = MultiHeadAttention(4, 8, seed=0)
    layer.build([(None, 2, 64), (None, 3, 64)])
    limits = {"query_kernel": np.sqrt(6 / (64 + 32)), "attention_output_kernel": np.sqrt(6 / (32 + 64))}
    for key, limit in limits.items():
        values = np.abs(layer.params[key])
        assert values.max() <= limit and values.max() > 0.95 * limit, key
    np.testing.assert_array_equal(layer.params["query_bias"], 0)
    twin = keras.layers.MultiHeadAttention(4, 8)
    twin(np.zeros((1, 2, 64), np.float32), np.zeros((1, 3, 64), np.float32))
    assert np.abs(twin.get_weights()[0]).max() <= limits["query_kernel"]
    scale = AdditiveAttention(seed=0)
    scale.build([(None, 2, 300), (None, 3, 300)])
    assert np.sqrt(3 / 300) * 0.95 < np.abs(scale.params["scale"]).max() <= np.sqrt(3 / 300)
    luong = Attention(use_scale=True, score_mode="concat")
    luong.build([(None, 2, 3), (None, 4, 3)])
    assert [w.tolist() for w in luong.get_weights()] == [1.0, 1.0]


# --- dropout: training only, drawn from the generator or the key ---------------------------------
def test_dropout_only_in_training_and_from_the_given_generator():
    query, value = normal(1, 4, 6, 3), normal(2, 4, 7, 3)
    luong = Attention(dropout=0.4, dtype=F64)
    ops = numpy_ops(luong)
    (y, w), _, _ = ops.layer_forward(luong, {}, {}, [query, value], return_attention_scores=True)
    (y0, w0), _, _ = ops.layer_forward(Attention(dtype=F64), {}, {}, [query, value], return_attention_scores=True)
    np.testing.assert_array_equal(y, y0)  # inference: no dropout
    (yt, wt), _, _ = ops.layer_forward(luong, {}, {}, [query, value], training=True, rng=np.random.default_rng(5),
                                       return_attention_scores=True)
    keep = draw_dropout_mask(np.random.default_rng(5), 0.4, (4, 6, 7))
    np.testing.assert_allclose(wt, np.where(keep, w0 / 0.6, 0))  # Keras returns the dropped-out weights
    np.testing.assert_allclose(yt, wt @ value)

    mha = MultiHeadAttention(2, 3, dropout=0.5, dtype=F64)
    mha, params = built(mha, [query, value])
    ops = numpy_ops(mha)
    (out, scores), _, _ = ops.layer_forward(mha, params, {}, [query, value], training=True,
                                            rng=np.random.default_rng(6), return_attention_scores=True)
    (out0, scores0), _, _ = ops.layer_forward(mha, params, {}, [query, value], return_attention_scores=True)
    np.testing.assert_array_equal(scores, scores0)  # MHA returns the scores before dropout
    assert not np.allclose(out, out0)
    keep = draw_dropout_mask(np.random.default_rng(6), 0.5, (4, 2, 6, 7))
    expected, _, _ = multi_head_attention_forward(params, query, value, keep=keep, rate=0.5, zero_masked_rows=True)
    np.testing.assert_allclose(out, expected)


def test_jax_dropout_statistics_and_key_requirement(jax):
    query, value = normal(1, 8, 16, 3), normal(2, 8, 32, 3)
    layer = Attention(dropout=0.25, dtype=F64)
    forward = jax_ops(layer).layer_forward
    (_, w), _ = forward(layer, {}, {}, [query, value], training=True, key=jax.random.key(0),
                        return_attention_scores=True)
    (_, w0), _ = forward(layer, {}, {}, [query, value], return_attention_scores=True)
    dropped = np.asarray(w) == 0
    assert abs(dropped.mean() - 0.25) < 0.03
    np.testing.assert_allclose(np.asarray(w)[~dropped], np.asarray(w0)[~dropped] / 0.75, rtol=1e-12)
    with pytest.raises(ValueError, match="key"):
        forward(layer, {}, {}, [query, value], training=True, key=None)


# --- JAX against NumPy -----------------------------------------------------------------------------
@pytest.fixture()
def jax():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("name, make, inputs, mask, options", CASES, ids=IDS)
def test_jax_forward_and_grad_match_numpy(jax, name, make, inputs, mask, options):
    layer, params = built(make(), inputs)
    ops = numpy_ops(layer)
    outputs, _, cache = ops.layer_forward(layer, params, {}, inputs, mask=mask, **options)
    upstream = [normal(50 + k, *o.shape) for k, o in enumerate(as_list(outputs))]
    grads, d_inputs = ops.layer_backward(layer, params, cache, upstream if isinstance(outputs, list) else upstream[0])
    forward = jax_ops(layer).layer_forward

    def objective(p, xs):
        out, _ = forward(layer, p, {}, xs, mask=mask, **options)
        return sum(jax.numpy.sum(o * u) for o, u in zip(as_list(out), upstream)), out

    # one traced function (forward, grads) under jit: the masks and checks also work on tracers
    (_, jax_outputs), (jax_grads, jax_d_inputs) = jax.jit(
        jax.value_and_grad(objective, argnums=(0, 1), has_aux=True))(params, inputs)
    for a, e in zip(as_list(jax_outputs), as_list(outputs)):
        assert a.dtype == np.float64
        np.testing.assert_allclose(np.asarray(a), e, rtol=1e-11, atol=1e-13)
    for key in params:
        np.testing.assert_allclose(np.asarray(jax_grads[key]), grads[key], rtol=1e-10, atol=1e-12, err_msg=key)
    for a, e in zip(jax_d_inputs, d_inputs):
        np.testing.assert_allclose(np.asarray(a), e, rtol=1e-10, atol=1e-12)


# --- configs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer",
    [
        Attention(),
        Attention(use_scale=True, score_mode="concat", dropout=0.1, seed=3, name="luong", dtype=F64),
        AdditiveAttention(use_scale=False, dropout=0.2, trainable=False),
        MultiHeadAttention(2, 8),
        MultiHeadAttention(4, 3, value_dim=5, dropout=0.1, use_bias=False, output_shape=(2, 3),
                           kernel_initializer={"class_name": "RandomNormal", "config": {"stddev": 0.2}},
                           bias_initializer="ones", seed=2),
    ],
    ids=lambda layer: layer.name,
)
def test_config_round_trip(keras, layer):
    config = layer.get_config()
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert LAYER_CLASSES[type(layer).__name__] is type(layer)
    keras_config = keras_twin(keras, layer).get_config()
    assert set(config) - {"seed"} <= set(keras_config)
    for key in ("use_scale", "score_mode", "dropout", "num_heads", "key_dim", "value_dim", "use_bias"):
        if key in config:
            assert config[key] == keras_config[key], key


# --- in a model, on both backends ------------------------------------------------------------------
def mha_model(seed=0, scores=False):
    x = Input((6, 3))
    out = MultiHeadAttention(2, 4, seed=seed, dropout=0.1)(x, x, use_causal_mask=True,
                                                           return_attention_scores=scores)
    attended = out[0] if scores else out
    y = Dense(1, seed=seed + 1)(GlobalAveragePooling1D()(attended))
    return Model(x, [y, out[1]] if scores else y, seed=seed)  # seed: the shuffling and dropout draws


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_model_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    x = normal(1, 32, 6, 3, dtype=np.float32)
    y = x[:, :, :1].mean(axis=1) + 0.5 * x[:, -1, 1:2]
    model = mha_model()
    model.compile(Adam(learning_rate=0.01), "mse", backend=backend)  # the default 1e-3 barely moves in 4 epochs
    losses = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saved_options_and_masks_survive_loading(tmp_path):
    """The call's options (causal mask, returned scores) and an attention-mask input are saved."""
    x, allowed = Input((4, 3)), Input((4, 5))
    values = Input((5, 2))
    out, scores = MultiHeadAttention(2, 3, seed=1)(x, values, attention_mask=allowed, return_attention_scores=True)
    luong, weights = Attention(use_scale=True)([x, x], return_attention_scores=True, use_causal_mask=True)
    assert scores.shape == (None, 2, 4, 5) and weights.shape == (None, 4, 4)  # (Keras says (None, 2, 4, 4))
    model = Model([x, values, allowed], [out, scores, luong, weights])
    data = [normal(1, 3, 4, 3, dtype=np.float32), normal(2, 3, 5, 2, dtype=np.float32),
            (np.random.default_rng(3).random((3, 4, 5)) > 0.3).astype(np.float32)]
    predictions = model.predict(data, verbose=0)
    np.testing.assert_array_equal(np.triu(predictions[3][0], 1), 0)  # causal
    np.testing.assert_array_equal(predictions[1][data[2][:, None].repeat(2, 1) == 0], 0)  # masked scores are 0
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    for a, b in zip(loaded.predict(data, verbose=0), predictions):
        np.testing.assert_array_equal(a, b)


def test_masks_flow_through_a_trained_model_on_both_backends():
    pytest.importorskip("jax")
    rng = np.random.default_rng(4)
    ids = rng.integers(1, 9, size=(16, 6))
    ids[np.arange(6) >= rng.integers(2, 7, size=16)[:, None]] = 0
    target = rng.normal(size=(16, 1))
    results = {}
    for backend in ("numpy", "jax"):
        tokens = Input((6,))
        vectors = Embedding(9, 4, mask_zero=True, seed=0)(tokens)
        attended = MultiHeadAttention(2, 3, seed=1)(vectors, vectors)
        model = Model(tokens, Dense(1, seed=2)(GlobalAveragePooling1D()(attended)))
        model.compile("adam", "mse", backend=backend)
        history = model.fit(ids.astype(np.float32), target, epochs=2, batch_size=8, verbose=0, shuffle=False)
        results[backend] = history.history["loss"], model.get_weights()
    np.testing.assert_allclose(results["jax"][0], results["numpy"][0], rtol=1e-4)
    for a, b in zip(results["jax"][1], results["numpy"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


# --- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, error, fragments",
    [
        (lambda: MultiHeadAttention(0, 4), ValueError, ["num_heads", "positive integer", "num_heads=0"]),
        (lambda: MultiHeadAttention(2.5, 4), ValueError, ["num_heads", "num_heads=2.5"]),
        (lambda: MultiHeadAttention(True, 4), ValueError, ["num_heads=True"]),
        (lambda: MultiHeadAttention(2, -1), ValueError, ["key_dim", "key_dim=-1"]),
        (lambda: MultiHeadAttention(2, 4, value_dim=0), ValueError, ["value_dim", "value_dim=0"]),
        (lambda: MultiHeadAttention(2, 4, attention_axes=(2,)), NotImplementedError, ["attention_axes=(2,)"]),
        (lambda: MultiHeadAttention(2, 4, use_gate=True), NotImplementedError, ["use_gate"]),
        (lambda: MultiHeadAttention(2, 4, dropout=1.5), ValueError, ["dropout", "1.5"]),
        (lambda: Attention(score_mode="general"), ValueError, ["score_mode", "'general'", "dot"]),
        (lambda: AdditiveAttention(dropout=-0.1), ValueError, ["dropout", "-0.1"]),
    ],
)
def test_bad_arguments(make, error, fragments):
    with pytest.raises(error) as info:
        make()
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: Attention()([np.ones((2, 3, 4)), np.ones((2, 5, 3))]),
         ["same feature size", "(2, 3, 4)", "(2, 5, 3)", "4 features", "3 features"]),
        (lambda: AdditiveAttention()([np.ones((2, 3, 4)), np.ones((2, 5, 6)), np.ones((2, 5, 3))]),
         ["query and key", "(2, 5, 3)"]),
        (lambda: Attention()(np.ones((2, 3, 4))), ["list of inputs", "[query, value]"]),
        (lambda: Attention()([np.ones((2, 3, 4))] * 4), ["length 2 or 3", "4 inputs"]),
        (lambda: Attention()([np.ones((2, 3)), np.ones((2, 3))]), ["3-D", "(2, 3)"]),
        (lambda: Attention()([np.ones((2, 3, 4)), np.ones((2, 5, 4))], mask=[np.ones((2, 5), bool), None]),
         ["mask of query", "(2, 3)", "(2, 5)"]),
        (lambda: Attention()([np.ones((2, 3, 4)), np.ones((2, 5, 4))], mask=np.ones((2, 5), bool)),
         ["mask to be a list", "ndarray"]),
        (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4)), np.ones((2, 5, 4)), value_mask=np.ones((2, 3), bool)),
         ["mask of value", "(2, 5)", "(2, 3)"]),
        (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4)), np.ones((2, 5, 4)),
                                          attention_mask=np.ones((2, 5, 3), bool)),
         ["attention_mask", "(batch, 3, 5)", "(2, 5, 3)"]),
        (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 4, 4))),
         ["value` and `key`", "(2, 5, 4)", "(2, 4, 4)"]),
        (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4, 1)), np.ones((2, 5, 4))), ["3-D", "4-D"]),
        (lambda: MultiHeadAttention(2, 3)(np.ones((2, 3, 4)), np.ones((4, 5, 4))), ["same batch size"]),
    ],
)
def test_bad_input_raises_value_error_naming_expected_and_received(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value)


def test_eager_masks_given_as_keras_call_arguments():
    """``query_mask``/``value_mask``/``key_mask`` of an eager call are the ``mask`` list."""
    query, value = normal(1, B, TQ, 4), normal(2, B, TV, 4)
    query_mask, value_mask = padding_mask(3, B, TQ, keep_first=False), padding_mask(4, B, TV)
    layer = MultiHeadAttention(2, 3, seed=0, dtype=F64)
    out, scores = layer(query, value, query_mask=query_mask, value_mask=value_mask, return_attention_scores=True)
    same = layer(query, value, mask=[query_mask, value_mask], return_attention_scores=True)
    np.testing.assert_array_equal(out, same[0])
    masked_rows = np.broadcast_to(~query_mask[:, None, :, None], scores.shape)
    masked_columns = np.broadcast_to(~value_mask[:, None, None, :], scores.shape)
    assert np.all(scores[masked_rows | masked_columns] == 0)  # masked queries attend to nothing
    np.testing.assert_allclose(scores.sum(-1), np.broadcast_to(query_mask[:, None], scores.shape[:3]))
    with pytest.raises(ValueError, match="not both"):
        layer(query, value, query_mask=query_mask, mask=[query_mask, None])


def test_a_built_layer_rejects_other_features_and_keeps_its_weights():
    layer = MultiHeadAttention(2, 3, seed=0)
    layer(np.ones((2, 3, 4)), np.ones((2, 5, 4)))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="built for query with 4 features"):
        layer(np.ones((2, 3, 6)), np.ones((2, 5, 4)))
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    additive = AdditiveAttention()
    additive([np.ones((1, 2, 3)), np.ones((1, 4, 3))])
    with pytest.raises(ValueError, match="built for 3 query features"):
        additive([np.ones((1, 2, 5)), np.ones((1, 4, 5))])
