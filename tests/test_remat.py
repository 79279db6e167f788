"""Rematerialisation of the JAX recurrences (``remat=k``): the same outputs and gradients as the
plain scan for every kernel and every option that reaches it, less XLA temporary memory for the
compiled gradient at long T, and the layer argument (config round trip, bad values refused)."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

import scratchlstm as keras  # noqa: E402
from scratchlstm.jax_backend.rnn._runner import remat_forward  # noqa: E402
from scratchlstm.jax_backend.rnn.gru import gru_forward  # noqa: E402
from scratchlstm.jax_backend.rnn.lstm import lstm_forward  # noqa: E402
from scratchlstm.jax_backend.rnn.simple_rnn import simple_rnn_forward  # noqa: E402
from scratchlstm.layers import GRU, LSTM, RNN, Bidirectional, SimpleRNN  # noqa: E402
from scratchlstm.layers._registry import jax_ops  # noqa: E402

from test_recurrent_layers import ElmanTestCell  # noqa: E402

B, T, I, H = 3, 17, 4, 5  # T = 17: chunks of 5 leave a partial chunk of 2
KERNELS = {
    "lstm-bptt": (lambda p, x, s=None, **kw: lstm_forward(p, x, s, gradient="bptt", **kw), 4, 2),
    "lstm-autodiff": (lambda p, x, s=None, **kw: lstm_forward(p, x, s, gradient="autodiff", **kw), 4, 2),
    "gru": (gru_forward, 3, 1),
    "simple_rnn": (simple_rnn_forward, 1, 1),
}


def _params(gates, rng):
    return {
        "kernel": rng.normal(size=(I, gates * H)) * 0.4,
        "recurrent_kernel": rng.normal(size=(H, gates * H)) * 0.4,
        "bias": rng.normal(size=(2, gates * H) if gates == 3 else (gates * H,)) * 0.1,
    }


@pytest.fixture
def x64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


# every kernel with a mask and with states + dropout; plain runs at the chunk sizes' edges (1, 16
# of 17, 40 > T) and for SimpleRNN
CASES = [(name, 5, options) for name in ("gru", "lstm-bptt", "simple_rnn") for options in ("mask", "state-dropout")]
CASES += [("simple_rnn", 5, "plain"), ("lstm-autodiff", 5, "mask"), ("lstm-bptt", 1, "plain"),
          ("lstm-bptt", 16, "state-dropout"), ("gru", 40, "plain")]


@pytest.mark.parametrize("name, chunk, options", CASES)
def test_remat_equals_plain_scan_in_value_and_gradient(name, chunk, options, x64):
    forward, gates, state_count = KERNELS[name]
    rng = np.random.default_rng(chunk)
    params = _params(gates, rng)
    x = rng.normal(size=(B, T, I))
    kwargs = {}
    initial = None
    if options == "mask":
        kwargs = {"mask": rng.random((B, T)) > 0.3, "zero_output_for_mask": True}
    elif options == "state-dropout":
        initial = tuple(rng.normal(size=(B, H)) for _ in range(state_count))
        kwargs = {"recurrent_dropout_mask": (rng.random((B, H)) > 0.5) * 2.0}
    weights = rng.normal(size=(B, T, H))

    def loss(params, x, initial, remat):
        outputs, states = forward(params, x, initial, remat=remat, **kwargs)
        return jnp.sum(outputs * weights) + sum(jnp.sum(s ** 3) for s in states)

    grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)), static_argnums=3)
    plain_value, plain_grads = grad(params, x, initial, None)
    remat_value, remat_grads = grad(params, x, initial, chunk)
    np.testing.assert_allclose(remat_value, plain_value, rtol=1e-12)
    leaves = jax.tree_util.tree_leaves(remat_grads)
    assert len(leaves) == 3 + len(jax.tree_util.tree_leaves(initial)) + 1
    for ours, theirs in zip(leaves, jax.tree_util.tree_leaves(plain_grads)):
        assert ours.dtype == jnp.float64
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def _temp_bytes(remat, steps, batch=4, units=32):
    rng = np.random.default_rng(0)
    params = {"kernel": jnp.asarray(rng.normal(size=(8, 4 * units)), "float32"),
              "recurrent_kernel": jnp.asarray(rng.normal(size=(units, 4 * units)), "float32")}
    x = jnp.zeros((batch, steps, 8), "float32")

    def loss(params, x):
        outputs, _ = lstm_forward(params, x, remat=remat)
        return jnp.sum(outputs[:, -1] ** 2)

    compiled = jax.jit(jax.grad(loss)).lower(params, x).compile()
    return compiled.memory_analysis().temp_size_in_bytes


def test_remat_compiled_gradient_needs_less_temporary_memory_growing_slower():
    plain_short, plain_long = _temp_bytes(None, 500), _temp_bytes(None, 2000)
    remat_short, remat_long = _temp_bytes(22, 500), _temp_bytes(44, 2000)  # k ~ sqrt(T)
    # Without remat the backward keeps the (T, B, 7H) slab: 2000 * 4 * 224 * 4 B = 7.2 MB.
    assert plain_long > 7 * 2**20, plain_long
    # With k = 44 the slab lives for one chunk; what stays O(T) is the (T, B, H) outputs,
    # their cotangent and the input copies (about 3 x 1 MB here).
    assert remat_long < plain_long / 2, (remat_long, plain_long)
    assert remat_long - remat_short < (plain_long - plain_short) / 2, (remat_short, remat_long, plain_short, plain_long)


LAYERS = {
    "LSTM": lambda remat: LSTM(H, return_sequences=True, return_state=True, remat=remat, seed=0),
    "GRU-backwards": lambda remat: GRU(H, go_backwards=True, remat=remat, seed=0),
    "SimpleRNN": lambda remat: SimpleRNN(H, return_sequences=True, remat=remat, seed=0),
    "RNN-cell": lambda remat: RNN(ElmanTestCell(H), return_sequences=True, remat=remat, seed=0),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_remat_gives_the_same_jax_gradients(name):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, T, I)).astype("float32")
    plain, chunked = LAYERS[name](None), LAYERS[name](4)
    plain(x)
    chunked(x)
    params = plain.params

    def loss(layer, params):
        outputs, _ = jax_ops(layer).layer_forward(layer, params, {}, x, training=False)
        leaves = outputs if isinstance(outputs, list) else [outputs]
        return sum(jnp.sum(jnp.sin(leaf)) for leaf in leaves)

    plain_grads = jax.jit(jax.grad(lambda p: loss(plain, p)))(params)  # jitted: one compile, not op by op
    remat_grads = jax.jit(jax.grad(lambda p: loss(chunked, p)))(params)
    for ours, theirs in zip(jax.tree_util.tree_leaves(remat_grads), jax.tree_util.tree_leaves(plain_grads)):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


def test_fit_with_remat_equals_fit_without():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 30, 2)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    histories = []
    for remat in (None, 7):
        model = keras.Sequential([keras.Input(shape=(30, 2)), LSTM(6, remat=remat, seed=0), keras.layers.Dense(1, seed=0)])
        model.compile(optimizer="adam", loss="mse", backend="jax")
        histories.append(model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)


def test_remat_is_kept_in_config_and_checked():
    layer = LSTM(4, remat=25)
    config = layer.get_config()
    assert config["remat"] == 25
    assert LSTM.from_config(config).remat == 25
    assert "remat" not in LSTM(4).get_config()  # Keras' config when unset
    assert keras.layers.deserialize(keras.layers.serialize(GRU(3, remat=2))).remat == 2
    assert Bidirectional(SimpleRNN(3, remat=6)).forward_layer.remat == 6
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match="remat must be None or a positive int"):
            LSTM(4, remat=bad)
        with pytest.raises(ValueError, match="remat must be None or a positive int"):
            remat_forward(lstm_forward, bad, {}, np.zeros((1, 2, 1)))
