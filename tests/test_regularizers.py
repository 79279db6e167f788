"""Regularizers: penalties and gradients against Keras 3 and float64 finite differences, the
activity penalties inside the graph's backward pass, training steps equal to Keras'
``train_on_batch`` on both backends (constraints included), JAX = NumPy fit histories,
``model.losses``, configs and save/load."""

import os

import numpy as np
import pytest

import scratchlstm as ours
from scratchlstm import constraints, regularizers
from scratchlstm._numpy import graph
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._tree import flatten_paths, unflatten_paths

os.environ.setdefault("KERAS_BACKEND", "jax")

F64 = "float64"

PENALTIES = {
    "L1": (lambda m: m.regularizers.L1(0.03)),
    "L2": (lambda m: m.regularizers.L2(0.02)),
    "L1L2": (lambda m: m.regularizers.L1L2(l1=0.01, l2=0.05)),
    "L1L2_l1_only": (lambda m: m.regularizers.L1L2(l1=0.07)),
    "Orthogonal_rows": (lambda m: m.regularizers.OrthogonalRegularizer(0.3)),
    "Orthogonal_columns": (lambda m: m.regularizers.OrthogonalRegularizer(0.2, mode="columns")),
}


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture
def x64():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


def _weights(dtype=np.float32, seed=0, shape=(4, 3)):
    w = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    w[0, 0] = 0.0  # L1's gradient at 0 is +l1 (JAX's choice, so Keras' on JAX)
    return w


# --- penalties and gradients --------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_penalty_and_gradient_equal_keras(name, keras):
    import jax
    import jax.numpy as jnp

    w = _weights()
    mine, theirs = PENALTIES[name](ours), PENALTIES[name](keras)
    value = mine(w)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, float(theirs(jnp.asarray(w))), rtol=1e-6)  # (Keras' NumPy path of
    # OrthogonalRegularizer(mode="columns") fails to broadcast: it normalizes on axis -1 for axis 0)
    keras_gradient = np.asarray(jax.grad(lambda v: theirs(v))(jnp.asarray(w)))
    np.testing.assert_allclose(mine.gradient(w), keras_gradient, rtol=1e-6, atol=1e-8)
    # the same penalty on JAX arrays, differentiated by JAX, is the hand-written gradient
    np.testing.assert_allclose(float(mine(jnp.asarray(w))), value, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.grad(mine)(jnp.asarray(w))), mine.gradient(w), rtol=1e-6, atol=1e-8)


def test_l1_gradient_at_zero_is_plus_l1_as_jax_autodiff():
    np.testing.assert_array_equal(regularizers.L1(0.5).gradient(np.array([-1.0, -0.0, 0.0, 2.0])), [-0.5, 0.5, 0.5, 0.5])


@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("shape", [(4, 3), (2, 5)])
def test_gradient_matches_float64_finite_differences(name, shape):
    w = np.random.default_rng(1).normal(size=shape)  # no exact zeros: L1 has a kink there
    regularizer = PENALTIES[name](ours)
    numeric = numerical_gradient(lambda d: float(regularizer(d["w"])), {"w": w}, "w")
    assert relative_error(regularizer.gradient(w), numeric) < 1e-6


def test_orthogonal_penalty_by_hand():
    w = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    rows = w / np.linalg.norm(w, axis=1, keepdims=True)
    dots = rows @ rows.T
    pairs = [(0, 1), (0, 2), (1, 2)]
    expected = 0.1 * np.mean([abs(dots[i, j]) for i, j in pairs])
    assert np.isclose(float(regularizers.OrthogonalRegularizer(0.1)(w)), expected)
    # orthogonal rows cost nothing
    assert float(regularizers.OrthogonalRegularizer(1.0)(np.eye(3))) == 0.0


def test_activity_penalty_divides_by_the_batch_size():
    y = np.full((4, 3), 2.0)
    assert regularizers.activity_penalty(regularizers.L2(0.5), y) == pytest.approx(0.5 * 12 * 4 / 4)
    np.testing.assert_allclose(regularizers.activity_penalty_gradient(regularizers.L2(0.5), y), 0.5 * 2 * y / 4)


# --- names, configs, bad input ------------------------------------------------------------------
def test_get_names_classes_and_configs(keras):
    R = regularizers
    assert R.get(None) is None
    assert R.get("l1") == R.L1(0.01) and R.get("l2") == R.L2(0.01) and R.get("L2") == R.L2()
    assert R.get("l1_l2") == R.L1L2(0.01, 0.01)  # Keras' documented meaning
    assert R.get("l1l2") == R.L1L2(0.0, 0.0)  # the name Keras 3's code registers
    assert R.get("orthogonal_regularizer") == R.OrthogonalRegularizer()
    assert R.get(R.L2) == R.L2() and R.l1_l2 is R.L1L2
    l2 = R.L2(0.3)
    assert R.get(l2) is l2
    # Keras' serialized form (module, registered_name) reads back; ours reads in Keras
    for regularizer in (R.L1(0.2), R.L2(0.3), R.L1L2(0.1, 0.2), R.OrthogonalRegularizer(0.5, "columns")):
        theirs = keras.regularizers.serialize(keras.regularizers.deserialize(R.serialize(regularizer)))
        assert _same_config(R.serialize(R.get(theirs)), R.serialize(regularizer))  # Keras keeps L1's as float32
        assert R.deserialize(R.serialize(regularizer)) == regularizer
    assert float(R.L1(0.5)(np.ones(3, dtype=np.float32))) == 1.5


def test_a_subclass_round_trips_by_class_name():
    class Cubes(regularizers.Regularizer):
        def __init__(self, weight=1.0):
            self.weight = weight

        def penalty(self, x, xp):
            return self.weight * xp.sum(x**3)

        def gradient(self, x):
            return 3 * self.weight * x**2

        def get_config(self):
            return {"weight": self.weight}

    config = regularizers.serialize(Cubes(2.0))
    assert config == {"class_name": "Cubes", "config": {"weight": 2.0}}
    assert regularizers.get(config) == Cubes(2.0)
    layer = ours.layers.Dense(2, kernel_regularizer=Cubes(0.5))
    assert ours.layers.Dense.from_config(layer.get_config()).kernel_regularizer == Cubes(0.5)


@pytest.mark.parametrize(
    "call, fragments",
    [
        (lambda: regularizers.get("l3"), ["'l3'", "'l1_l2'", "'l2'"]),
        (lambda: regularizers.get(3), ["Could not interpret", "3"]),
        (lambda: regularizers.get({"class_name": "Nope", "config": {}}), ["'Nope'", "L1L2"]),
        (lambda: regularizers.get({"class_name": "L2", "config": {"l3": 1}}), ["L2", "l3"]),
        (lambda: regularizers.L1(-0.1), ["l1", "non-negative", "-0.1"]),
        (lambda: regularizers.L2(float("nan")), ["l2", "non-negative"]),
        (lambda: regularizers.L1L2(l2="0.1"), ["l2", "'0.1'"]),
        (lambda: regularizers.OrthogonalRegularizer(mode="diagonal"), ["rows", "columns", "diagonal"]),
        (lambda: regularizers.OrthogonalRegularizer()(np.ones((2, 3, 4))), ["rank 2", "(2, 3, 4)"]),
        (lambda: regularizers.OrthogonalRegularizer()(np.ones((1, 3))), ["at least 2 rows", "(1, 3)"]),
        (lambda: ours.layers.Dense(2, kernel_regularizer="l3"), ["Dense(kernel_regularizer=...)", "'l3'", "'l2'"]),
        (lambda: ours.layers.LSTM(2, recurrent_regularizer="nope"), ["recurrent_regularizer", "'nope'"]),
        (lambda: regularizers.get({"class_name": "function", "config": "my_penalty"}), ["my_penalty", "Regularizer"]),
    ],
)
def test_bad_input_is_named(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_activity_regularizer_only_where_the_constructor_takes_it():
    layer = ours.layers.Dense(2)
    layer.activity_regularizer = "l2"  # settable, as in Keras
    assert layer.activity_regularizer == regularizers.L2()
    with pytest.raises(NotImplementedError, match="Dropout takes no activity_regularizer"):
        ours.layers.Dropout(0.5).activity_regularizer = "l2"
    with pytest.raises(NotImplementedError, match="activity_regularizer"):
        ours.layers.MultiHeadAttention(2, 3, activity_regularizer="l2")


# --- configs of the layers ----------------------------------------------------------------------
def _same_config(a, b) -> bool:
    """Equal configs, numbers to float32 precision (Keras' L1 says 0.0099999998 for 0.01)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_config(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_config(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a == pytest.approx(b, rel=1e-6)
    return a == b


LAYER_ARGUMENTS = {
    "Dense": (lambda L, R, C: L.Dense(3, kernel_regularizer=R.L2(0.1), bias_regularizer="l1",
                                      activity_regularizer=R.L1L2(0.01, 0.02),
                                      kernel_constraint=C.MaxNorm(1.5), bias_constraint="non_neg")),
    "Conv1D": (lambda L, R, C: L.Conv1D(3, 2, kernel_regularizer="l2", bias_constraint=C.NonNeg(),
                                        kernel_constraint=C.MaxNorm(1.0, axis=[0, 1]))),
    "Embedding": (lambda L, R, C: L.Embedding(5, 2, embeddings_regularizer=R.L1(0.1), embeddings_constraint="unit_norm",
                                              activity_regularizer="l2")),
    "LSTM": (lambda L, R, C: L.LSTM(3, kernel_regularizer="l1", recurrent_regularizer=R.L2(0.2), bias_regularizer="l2",
                                    activity_regularizer="l1", kernel_constraint="max_norm",
                                    recurrent_constraint=C.UnitNorm(), bias_constraint="non_neg")),
    "GRU": (lambda L, R, C: L.GRU(3, recurrent_regularizer="l2", recurrent_constraint=C.MinMaxNorm(0.5, 1.0, 0.5))),
    "SimpleRNN": (lambda L, R, C: L.SimpleRNN(3, kernel_regularizer=R.OrthogonalRegularizer(0.1), bias_constraint="non_neg")),
    "LayerNormalization": (lambda L, R, C: L.LayerNormalization(gamma_regularizer="l2", beta_constraint="non_neg")),
    "BatchNormalization": (lambda L, R, C: L.BatchNormalization(beta_regularizer="l1", gamma_constraint=C.NonNeg())),
    "MultiHeadAttention": (lambda L, R, C: L.MultiHeadAttention(2, 3, kernel_regularizer="l2", bias_constraint="non_neg")),
}


@pytest.mark.parametrize("kind", sorted(LAYER_ARGUMENTS))
def test_layer_configs_round_trip_and_read_in_keras(kind, keras):
    layer = LAYER_ARGUMENTS[kind](ours.layers, regularizers, constraints)
    config = layer.get_config()
    copy = type(layer).from_config(config)
    assert copy.get_config() == config
    assert dict(copy.weight_regularizers) == dict(layer.weight_regularizers)
    assert dict(copy.weight_constraints) == dict(layer.weight_constraints)
    # the same keys as Keras' config, and Keras builds the same regularizers from ours
    keras_layer = LAYER_ARGUMENTS[kind](keras.layers, keras.regularizers, keras.constraints)
    keras_config = keras_layer.get_config()
    for key, value in config.items():
        if key.endswith(("_regularizer", "_constraint")):
            assert key in keras_config, key
            expected = keras_config[key]
            if value is None:
                assert expected is None, key
                continue
            module = keras.regularizers if key.endswith("_regularizer") else keras.constraints
            rebuilt = module.serialize(module.deserialize(value))
            assert _same_config(rebuilt, expected), key


def test_mha_regularizes_and_constrains_its_four_kernels_and_biases():
    layer = ours.layers.MultiHeadAttention(2, 3, kernel_regularizer="l2", bias_constraint="non_neg")
    assert sorted(layer.weight_regularizers) == ["attention_output_kernel", "key_kernel", "query_kernel", "value_kernel"]
    assert sorted(layer.weight_constraints) == ["attention_output_bias", "key_bias", "query_bias", "value_bias"]


def test_weight_regularization_paths_reach_wrapped_and_nested_layers():
    inner_in = ours.Input((5, 3))
    inner = ours.Model(inner_in, ours.layers.Dense(3, kernel_regularizer="l1", bias_constraint="non_neg", name="d")(inner_in),
                       name="inner")
    frozen = ours.layers.Dense(3, kernel_regularizer="l2", kernel_constraint="max_norm", name="frozen")
    frozen.trainable = False
    model = ours.Sequential([
        ours.Input((5, 3)), inner, frozen,
        ours.layers.TimeDistributed(ours.layers.Dense(2, bias_regularizer="l2"), name="td"),
        ours.layers.Bidirectional(ours.layers.GRU(2, recurrent_constraint="unit_norm", name="g"), name="bi"),
    ])
    model.build((None, 5, 3))
    penalties, projections = model.weight_regularization()
    assert penalties == {"inner/d/kernel": regularizers.L1(), "td/bias": regularizers.L2()}
    assert projections == {"inner/d/bias": constraints.NonNeg(), "bi/forward/recurrent_kernel": constraints.UnitNorm(),
                           "bi/backward/recurrent_kernel": constraints.UnitNorm()}
    assert set(penalties) | set(projections) <= model.trainable_paths()


# --- layer.losses and model.losses --------------------------------------------------------------
def test_layer_losses_as_keras_documents():
    layer = ours.layers.Dense(5, kernel_initializer="ones", kernel_regularizer=regularizers.L1(0.01),
                              activity_regularizer=regularizers.L2(0.01))
    layer(np.ones((5, 5), np.float32) * 2.0)
    assert layer.losses == pytest.approx([5.0, 0.25])  # activity (over batch 5), then the kernel's
    layer.trainable = False
    assert layer.losses == pytest.approx([5.0])  # a frozen weight is not penalized


def _sequential(m, seed=None):
    R = m.regularizers
    extra = {} if seed is None else {"seed": seed}
    return m.Sequential([
        m.Input((5, 3)),
        m.layers.LSTM(4, return_sequences=True, recurrent_regularizer=R.L1(0.01), activity_regularizer=R.L2(0.05), **extra),
        m.layers.GRU(3, bias_regularizer=R.L1L2(0.1, 0.2), **extra),
        m.layers.Dense(2, kernel_regularizer="l2", activity_regularizer="l1", **extra),
    ])


def test_model_losses_equal_keras_after_a_call(keras):
    x = np.random.default_rng(0).normal(size=(6, 5, 3)).astype(np.float32)
    mine, theirs = _sequential(ours, seed=0), _sequential(keras)
    mine.build((None, 5, 3))
    theirs.set_weights(mine.get_weights())
    assert len(mine.losses) == 3  # the weights' penalties only, before any call
    np.testing.assert_allclose(mine.losses, [float(v) for v in theirs.losses], rtol=1e-6)
    np.testing.assert_allclose(mine(x), np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
    assert len(mine.losses) == 5  # the two activity penalties of that call first, as Keras
    np.testing.assert_allclose(mine.losses, [float(v) for v in theirs.losses], rtol=1e-5)


# --- the graph's backward with activity penalties (float64) -------------------------------------
def _activity_graph():
    R = regularizers
    inner_in = ours.Input((4, 3), dtype=F64)
    inner_out = ours.layers.Dense(3, activity_regularizer=R.L1L2(0.02, 0.03), dtype=F64, seed=5)(inner_in)
    inner = ours.Model(inner_in, inner_out)
    inputs = ours.Input((4, 3), dtype=F64)
    hidden = inner(inputs)  # a nested model's activity penalties count too
    sequence, h, c = ours.layers.LSTM(4, return_sequences=True, return_state=True, activity_regularizer=R.L2(0.05),
                                      dtype=F64, seed=1)(hidden)
    head = ours.layers.Dense(2, activity_regularizer="l1", dtype=F64, seed=2)(sequence)
    unused_by_the_loss = ours.layers.Dense(2, activity_regularizer=R.L2(0.1), dtype=F64, seed=3)(c)
    return ours.Model(inputs, [head, h, unused_by_the_loss])


def test_activity_penalties_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    model = _activity_graph()
    x = rng.normal(size=(3, 4, 3))
    flat = {path: rng.normal(scale=0.5, size=value.shape) for path, value in flatten_paths(model.params).items()}
    upstream = [rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4)), None]  # no loss gradient reaches output 3

    def objective(flat_params):
        outputs, _, cache = graph.layer_forward(model, unflatten_paths(flat_params), {}, x)
        data = sum(float(np.sum(o * u)) for o, u in zip(outputs, upstream) if u is not None)
        return data + sum(cache["activity_losses"])

    outputs, _, cache = graph.layer_forward(model, unflatten_paths(flat), {}, x)
    assert len(cache["activity_losses"]) == 1 + 3 + 1 + 1  # nested Dense, LSTM's 3 outputs, two heads
    grads, _ = graph.layer_backward(model, unflatten_paths(flat), cache, upstream, input_gradient=False)
    grads = flatten_paths(grads)
    for path in flat:
        numeric = numerical_gradient(lambda d: objective({**flat, path: d["w"]}), {"w": flat[path]}, "w")
        assert relative_error(grads[path], numeric) < 1e-6, path
    # a loss scale multiplies the activity gradients as it multiplies the upstream ones
    scaled, _ = graph.layer_backward(model, unflatten_paths(flat), cache, [None if u is None else 4.0 * u for u in upstream],
                                     input_gradient=False, loss_scale=4.0)
    for path, value in flatten_paths(scaled).items():
        np.testing.assert_allclose(value, 4.0 * grads[path], rtol=1e-12, atol=1e-14)


def test_jax_graph_activity_penalties_equal_numpy(x64):
    jax = x64
    from scratchlstm.jax_backend import graph as jax_graph

    rng = np.random.default_rng(4)
    model = _activity_graph()
    x = rng.normal(size=(3, 4, 3))
    params = model.params
    _, _, cache = graph.layer_forward(model, params, {}, x)
    collected = []
    jax_graph.layer_forward(model, params, {}, x, activity=collected)
    values = [float(regularizers.activity_penalty(reg, y)) for reg, y in collected]
    np.testing.assert_allclose(values, cache["activity_losses"], rtol=1e-12)


# --- training against Keras: one SGD step, both backends ----------------------------------------
def _model_dense(m):
    R, C = m.regularizers, m.constraints
    return m.Sequential([m.Input((4,)), m.layers.Dense(3, kernel_regularizer="l2", kernel_constraint=C.MaxNorm(0.5),
                                                     bias_regularizer=R.L1(0.02), activity_regularizer="l1")])


def _model_recurrent(m):
    R, C = m.regularizers, m.constraints
    return m.Sequential([
        m.Input((5, 3)),
        m.layers.LSTM(4, return_sequences=True, recurrent_regularizer=R.L1(0.01), bias_constraint=C.NonNeg(),
                      kernel_regularizer=R.L2(0.02), activity_regularizer=R.L2(0.01)),
        m.layers.GRU(4, return_sequences=True, kernel_regularizer=R.L1L2(0.01, 0.02), recurrent_constraint=C.UnitNorm(),
                     bias_regularizer="l2"),
        # not on the orthogonal recurrent kernel: its rows' dot products are rounding noise around
        # the penalty's kink at 0, whose sign differs between BLAS and XLA
        m.layers.SimpleRNN(3, kernel_regularizer=R.OrthogonalRegularizer(0.1), recurrent_regularizer="l2",
                           kernel_constraint=C.MinMaxNorm(0.2, 0.6, rate=0.5)),
    ])


def _model_conv_norm(m):
    R, C = m.regularizers, m.constraints
    return m.Sequential([
        m.Input((6, 3)),
        m.layers.Conv1D(4, 2, kernel_regularizer="l2", kernel_constraint=C.MaxNorm(0.4, axis=[0, 1]),
                        activity_regularizer=R.L1(0.001)),
        m.layers.BatchNormalization(gamma_regularizer=R.L2(0.1), beta_constraint=C.NonNeg()),
        m.layers.LayerNormalization(beta_regularizer=R.L1(0.1), gamma_constraint=C.MaxNorm(1.5)),
        m.layers.GlobalAveragePooling1D(),
    ])


def _model_embedding(m):
    R, C = m.regularizers, m.constraints
    return m.Sequential([
        m.Input((5,), dtype="int32"),
        m.layers.Embedding(7, 3, embeddings_regularizer=R.L2(0.05), embeddings_constraint=C.MaxNorm(0.05, axis=1),
                           activity_regularizer=R.L1(0.01)),
        m.layers.Bidirectional(m.layers.LSTM(2, kernel_regularizer="l1", recurrent_constraint=C.MaxNorm(0.8))),
    ])


def _model_functional(m):
    R, C = m.regularizers, m.constraints
    inputs = m.Input((5, 3))
    sequence, h, c = m.layers.LSTM(4, return_sequences=True, return_state=True, activity_regularizer=R.L2(0.02),
                                   recurrent_regularizer="l2")(inputs)
    attended = m.layers.MultiHeadAttention(2, 2, kernel_regularizer=R.L2(0.05), bias_constraint=C.NonNeg())(sequence, sequence)
    pooled = m.layers.GlobalAveragePooling1D()(attended)
    out = m.layers.Dense(2, kernel_constraint=C.UnitNorm())(m.layers.Concatenate()([pooled, c]))
    return m.Model(inputs, out)


MODELS = {
    "dense": (_model_dense, (8, 4), (8, 3)),
    "recurrent": (_model_recurrent, (4, 5, 3), (4, 3)),
    "conv_norm": (_model_conv_norm, (4, 6, 3), (4, 4)),
    "embedding_bidirectional": (_model_embedding, (4, 5), (4, 4)),
    "functional": (_model_functional, (4, 5, 3), (4, 2)),
}


def _data(name, seed=0):
    _, x_shape, y_shape = MODELS[name]
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 7, size=x_shape) if name.startswith("embedding") else rng.normal(size=x_shape).astype(np.float32)
    return x, rng.normal(size=y_shape).astype(np.float32)


@pytest.fixture(scope="module")
def keras_steps(keras):
    """Per model: the initial weights, and Keras' loss, weights and evaluate loss after one SGD step."""
    results = {}

    def run(name):
        if name not in results:
            build = MODELS[name][0]
            x, y = _data(name)
            ours.utils.set_random_seed(0)  # the initial weights, whatever ran before in this process
            mine = build(ours)
            mine.build((None, *x.shape[1:]))
            theirs = build(keras)
            initial = [w.copy() for w in mine.get_weights()]
            theirs.set_weights(initial)
            theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
            loss = float(theirs.train_on_batch(x, y))
            results[name] = (initial, loss, [np.asarray(w) for w in theirs.get_weights()],
                             float(theirs.evaluate(x, y, verbose=0)))
        return results[name]

    return run


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_sgd_step_equals_keras(name, backend, keras_steps):
    if backend == "jax":
        pytest.importorskip("jax")
    initial, keras_loss, keras_weights, keras_evaluated = keras_steps(name)
    x, y = _data(name)
    model = MODELS[name][0](ours)
    model.build((None, *x.shape[1:]))
    model.set_weights(initial)
    model.compile(optimizer=ours.optimizers.SGD(0.1), loss="mse", backend=backend)
    loss = model.train_on_batch(x, y)
    assert loss == pytest.approx(keras_loss, rel=1e-5)  # the penalties included, as Keras reports
    for mine, theirs, before in zip(model.get_weights(), keras_weights, initial):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=2e-6)
        assert mine.shape == before.shape
    assert model.evaluate(x, y, verbose=0) == pytest.approx(keras_evaluated, rel=1e-5)


def test_the_constraints_did_project_in_the_keras_steps(keras_steps):
    """The step tests would pass vacuously if no constraint bound; these ones do."""
    _, _, weights, _ = keras_steps("dense")
    assert np.allclose(np.linalg.norm(weights[0], axis=0), 0.5, atol=1e-6)  # MaxNorm(0.5): every column capped
    _, _, weights, _ = keras_steps("recurrent")
    lstm_bias, gru_recurrent = weights[2], weights[4]
    assert (lstm_bias >= 0).all() and (lstm_bias == 0).any()  # NonNeg clipped some
    assert np.allclose(np.linalg.norm(gru_recurrent, axis=0), 1.0, atol=1e-5)  # UnitNorm


# --- JAX = NumPy fit, padding, loss scaling, frozen layers --------------------------------------
def _fit(backend, epochs=3, **compile_options):
    x, y = _data("recurrent", seed=5)
    x, y = np.concatenate([x, x[:3] * 0.5]), np.concatenate([y, y[:3]])  # 7 samples: a padded last batch
    model = ours.Sequential([
        ours.Input((5, 3)),
        ours.layers.LSTM(4, return_sequences=True, activity_regularizer=regularizers.L2(0.3),
                         recurrent_regularizer="l1", bias_constraint="non_neg", seed=0),
        ours.layers.Dense(3, kernel_regularizer="l2", kernel_constraint=constraints.MaxNorm(0.6),
                          activity_regularizer=regularizers.L1(0.05), seed=1),
        ours.layers.GlobalAveragePooling1D(),
    ])
    model.compile(optimizer=ours.optimizers.Adam(0.01, **compile_options), loss="mse", backend=backend)
    history = model.fit(x, y, epochs=epochs, batch_size=3, shuffle=False, validation_data=(x[:4], y[:4]), verbose=0)
    return history.history, model.get_weights()


@pytest.fixture(scope="module")
def numpy_fit():
    return _fit("numpy")


def test_jax_fit_history_equals_numpy(numpy_fit):
    pytest.importorskip("jax")
    (numpy_history, numpy_weights), (jax_history, jax_weights) = numpy_fit, _fit("jax")
    assert sorted(numpy_history) == ["loss", "val_loss"]
    for key in numpy_history:
        np.testing.assert_allclose(jax_history[key], numpy_history[key], rtol=2e-5, err_msg=key)
    for a, b in zip(numpy_weights, jax_weights):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    assert (numpy_weights[2] >= 0).all()
    assert (np.linalg.norm(numpy_weights[3], axis=0) <= 0.6 + 1e-6).all()


def test_loss_scale_factor_changes_nothing(numpy_fit):
    history, weights = _fit("numpy", loss_scale_factor=8.0)
    np.testing.assert_allclose(history["loss"], numpy_fit[0]["loss"], rtol=1e-6)
    for a, b in zip(weights, numpy_fit[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_frozen_layer_is_neither_penalized_nor_projected(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    x, y = _data("dense")
    model = _model_dense(ours)
    model.build((None, 4))
    model.layers[0].set_weights([np.full((4, 3), 2.0, np.float32), np.full(3, -1.0, np.float32)])
    model.layers[0].trainable = False
    model.compile(optimizer=ours.optimizers.SGD(0.1), loss="mse", backend=backend)
    predictions = model.predict(x, verbose=0)
    mse = float(np.mean((predictions - y) ** 2))
    activity = 0.01 * np.abs(predictions).sum() / len(x)
    assert model.losses == []
    assert model.train_on_batch(x, y) == pytest.approx(mse + activity, rel=1e-5)  # no weight penalty
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], 2.0)  # MaxNorm(0.5) not applied


# --- plain functions, wrapped layers, save/load -------------------------------------------------
def _square_sum(x):
    return 0.01 * (x * x).sum()


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_plain_function_regularizer(backend):
    x, y = _data("dense")

    def build(regularizer):
        model = ours.Sequential([ours.Input((4,)), ours.layers.Dense(3, kernel_regularizer=regularizer, seed=0)])
        model.compile(optimizer=ours.optimizers.SGD(0.1), loss="mse", backend=backend)
        return model

    if backend == "numpy":
        with pytest.raises(NotImplementedError, match="_square_sum.*gradient"):
            build(_square_sum).train_on_batch(x, y)
        return
    pytest.importorskip("jax")
    reference, model = build(regularizers.L2(0.01)), build(_square_sum)
    assert model.train_on_batch(x, y) == pytest.approx(reference.train_on_batch(x, y), rel=1e-6)
    np.testing.assert_allclose(model.get_weights()[0], reference.get_weights()[0], rtol=1e-6)
    assert model.layers[0].get_config()["kernel_regularizer"] == {"class_name": "function", "config": "_square_sum"}


def test_two_lambdas_do_not_share_a_compiled_step():
    pytest.importorskip("jax")
    x, y = _data("dense")
    losses = []
    for factor in (0.0, 10.0):
        dense = ours.layers.Dense(3, kernel_regularizer=lambda w, f=factor: f * (w * w).sum(), seed=0, name="d")
        model = ours.Sequential([ours.Input((4,)), dense], name="same")  # the same config but for the lambda
        model.compile(optimizer=ours.optimizers.SGD(0.1), loss="mse", backend="jax")
        losses.append(model.train_on_batch(x, y))
    assert losses[1] > losses[0] + 1.0  # the second lambda's penalty, not the first's


def test_activity_regularizer_inside_a_wrapper_is_refused():
    model = ours.Sequential([ours.Input((5, 3)), ours.layers.Bidirectional(ours.layers.LSTM(2, activity_regularizer="l2"))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotImplementedError, match="activity_regularizer.*Bidirectional"):
        model.fit(np.zeros((2, 5, 3)), np.zeros((2, 4)), verbose=0)


def test_save_and_load_keep_regularizers_and_constraints(tmp_path):
    x, y = _data("functional")
    model = _model_functional(ours)
    model.build((None, 5, 3))
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = ours.load_model(path)
    for before, after in zip(model.layers, loaded.layers):
        assert after.get_config() == before.get_config()
        assert dict(after.weight_regularizers) == dict(before.weight_regularizers)
        assert dict(after.weight_constraints) == dict(before.weight_constraints)
        assert after.activity_regularizer == before.activity_regularizer
    for m in (model, loaded):
        m.compile(optimizer=ours.optimizers.SGD(0.1), loss="mse")
    assert loaded.train_on_batch(x, y) == pytest.approx(model.train_on_batch(x, y), rel=1e-6)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
