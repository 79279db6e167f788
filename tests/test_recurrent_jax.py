"""JAX = NumPy for the recurrent layers through the shared runners: outputs, ``jax.grad`` of the
JAX layer forward against the NumPy layer backward (float64), stateful carrying, dropout
statistics, and a short ``fit`` history on both backends."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import scratchlstm as keras  # noqa: E402
from scratchlstm._tree import flatten_paths  # noqa: E402
from scratchlstm.layers import GRU, LSTM, RNN, Bidirectional, SimpleRNN  # noqa: E402
from scratchlstm.layers._registry import jax_ops, numpy_ops  # noqa: E402

from test_recurrent_layers import MASK, ElmanTestCell  # noqa: E402

F64 = "float64"


@pytest.fixture(autouse=True)
def _x64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


MAKERS = {
    "LSTM-backwards": lambda: LSTM(3, go_backwards=True, return_sequences=True, dtype=F64, seed=0),
    "GRU-state": lambda: GRU(3, return_state=True, dtype=F64, seed=0),
    "GRU-before": lambda: GRU(3, reset_after=False, return_sequences=True, dtype=F64, seed=0),
    "SimpleRNN-relu": lambda: SimpleRNN(3, activation="relu", go_backwards=True, dtype=F64, seed=0),
    "RNN-cell": lambda: RNN(ElmanTestCell(3), return_sequences=True, dtype=F64, seed=0),
    "Bidirectional-concat": lambda: Bidirectional(LSTM(3, return_sequences=True, dtype=F64, seed=0)),
    "Bidirectional-state": lambda: Bidirectional(GRU(3, return_state=True, dtype=F64, seed=0), merge_mode="mul"),
}


def _listed(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_jax_forward_and_grad_equal_numpy(name, masked):
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 2))
    mask = MASK if masked else None
    layer = MAKERS[name]()
    layer(x)
    params = layer.params
    outputs, _, cache = numpy_ops(layer).layer_forward(layer, params, {}, x, training=False, rng=None, mask=mask)
    upstream = [rng.normal(size=o.shape) for o in _listed(outputs)]
    jax_outputs, _ = jax_ops(layer).layer_forward(layer, params, {}, x, training=False, key=None, mask=mask)
    for ours, theirs in zip(_listed(outputs), _listed(jax_outputs)):
        np.testing.assert_allclose(np.asarray(theirs), ours, rtol=1e-10, atol=1e-12)

    def loss(p, values):
        out, _ = jax_ops(layer).layer_forward(layer, p, {}, values, training=False, key=None, mask=mask)
        return sum(jnp.sum(o * u) for o, u in zip(_listed(out), upstream))

    d_params, d_x = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, x)
    grads, d_x_numpy = numpy_ops(layer).layer_backward(
        layer, params, cache, upstream if len(upstream) > 1 else upstream[0], input_gradient=True
    )
    flat_jax, flat_numpy = flatten_paths(d_params), flatten_paths(grads)
    assert set(flat_jax) == set(flat_numpy)
    for path, value in flat_numpy.items():
        np.testing.assert_allclose(np.asarray(flat_jax[path]), value, rtol=1e-8, atol=1e-10, err_msg=path)
    np.testing.assert_allclose(np.asarray(d_x), d_x_numpy, rtol=1e-8, atol=1e-10)


def test_stateful_jax_forward_returns_the_carried_state():
    layer = GRU(3, stateful=True, return_sequences=True, dtype=F64, seed=0)
    x = np.random.default_rng(1).normal(size=(2, 6, 2))
    layer(x[:, :3])
    layer.reset_states()
    first, state = jax_ops(layer).layer_forward(layer, layer.params, layer.state, x[:, :3], training=False, key=None)
    second, _ = jax_ops(layer).layer_forward(layer, layer.params, state, x[:, 3:], training=False, key=None)
    whole = layer(x)  # numpy, from the (zero) carried state
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-12)


@pytest.mark.parametrize("make", [lambda: LSTM(64, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=0),
                                  lambda: GRU(64, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=0)])
def test_jax_dropout_only_in_training_with_a_fresh_mask_per_key(make):
    layer = make()
    x = np.ones((4, 5, 8), dtype=np.float32)
    layer(x)
    forward = jax_ops(layer).layer_forward
    inference, _ = forward(layer, layer.params, {}, x, training=False, key=None)
    np.testing.assert_allclose(np.asarray(inference), layer(x), rtol=1e-5, atol=1e-6)
    one, _ = forward(layer, layer.params, {}, x, training=True, key=jax.random.PRNGKey(0))
    two, _ = forward(layer, layer.params, {}, x, training=True, key=jax.random.PRNGKey(1))
    assert not np.allclose(np.asarray(one), np.asarray(inference))
    assert not np.allclose(np.asarray(one), np.asarray(two))
    with pytest.raises(ValueError, match="key"):
        forward(layer, layer.params, {}, x, training=True, key=None)


def _model(seed=0):
    inputs = keras.Input((6, 3))
    h = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True, seed=seed))(inputs)
    h = keras.layers.LSTM(4, go_backwards=True, return_sequences=True, seed=seed + 1)(h)
    h = keras.layers.SimpleRNN(3, seed=seed + 2)(h)
    return keras.Model(inputs, keras.layers.Dense(1, seed=seed + 3)(h))


def test_fit_history_is_the_same_on_both_backends():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(24, 6, 3)).astype("float32")
    y = x[:, :2, :1].sum(axis=1)
    histories = []
    for backend in ("numpy", "jax"):
        model = _model()
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", backend=backend)
        histories.append(model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=2e-4)
    assert histories[0][-1] < histories[0][0]
