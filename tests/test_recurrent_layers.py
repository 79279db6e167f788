"""The recurrent runner (``_numpy/rnn/_runner.py``) and Bidirectional, through every recurrent kind.

Float64 finite differences of the layer-level backward (every parameter, the input and the
initial states) with return_sequences on and off, return_state, go_backwards, masks, dropout
with fixed masks (the same Generator seed in every evaluation), T = 1 and T > 1; Bidirectional in
every merge mode; a user cell through ``RNN(cell)``; stateful carrying and its errors.
"""

import numpy as np
import pytest

from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm._tree import flatten_paths, unflatten_paths
from scratchlstm.layers import GRU, LSTM, RNN, Bidirectional, Dense, RNNCell, SimpleRNN
from scratchlstm.layers._registry import numpy_ops

F64 = "float64"


class ElmanTestCell(RNNCell):
    """A user cell for the tests: ``h_t = tanh(x_t W + h_{t-1} U + b)``, output ``2 h_t``."""

    def __init__(self, units):
        self.units, self.state_size, self.output_size = units, (units,), units

    def initialize(self, features, rng, dtype):
        return {
            "kernel": rng.normal(size=(features, self.units)).astype(dtype),
            "recurrent_kernel": rng.normal(size=(self.units, self.units)).astype(dtype) * 0.5,
            "bias": rng.normal(size=(self.units,)).astype(dtype),
        }

    def step(self, params, x, states):
        h = np.tanh(x @ params["kernel"] + states[0] @ params["recurrent_kernel"] + params["bias"])
        return 2 * h, (h,), (x, states[0], h)

    def step_backward(self, params, cache, d_output, d_states):
        x, h_previous, h = cache
        dz = (2 * d_output + d_states[0]) * (1 - h * h)
        grads = {"kernel": x.T @ dz, "recurrent_kernel": h_previous.T @ dz, "bias": dz.sum(axis=0)}
        return grads, dz @ params["kernel"].T, (dz @ params["recurrent_kernel"].T,)

    def jax_step(self, params, x, states):
        import jax.numpy as jnp

        h = jnp.tanh(x @ params["kernel"] + states[0] @ params["recurrent_kernel"] + params["bias"])
        return 2 * h, (h,)

    def get_config(self):
        return {"units": self.units}


KINDS = {
    "LSTM": lambda **kw: LSTM(3, dtype=F64, seed=0, **kw),
    "GRU": lambda **kw: GRU(3, dtype=F64, seed=0, **kw),
    "GRU_before": lambda **kw: GRU(3, reset_after=False, dtype=F64, seed=0, **kw),
    "SimpleRNN": lambda **kw: SimpleRNN(3, dtype=F64, seed=0, **kw),
    "RNN_cell": lambda **kw: RNN(ElmanTestCell(3), dtype=F64, seed=0, **kw),
}


def _assert_close(analytic, numeric, what):
    """Relative error below 1e-6, except on entries so small that the finite difference's own
    round-off (about 1e-16 * |L| / eps ~ 1e-10 here) dominates: those within 1e-9 absolute."""
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    tiny = np.abs(analytic - numeric) < 1e-9
    assert relative_error(np.where(tiny, 0, analytic), np.where(tiny, 0, numeric)) < 1e-6, what


def _randomize(layer, rng):
    layer.params = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in layer.params.items()}


def _check_layer_gradients(layer, inputs, *, mask=None, training=False, seed=5):
    """Finite differences of ``sum(outputs * upstream)`` against ``layer_backward``."""
    ops = numpy_ops(layer)
    params = layer.params

    def run(p, values):
        rng = np.random.default_rng(seed)  # the same dropout masks in every evaluation
        return ops.layer_forward(layer, p, layer.state, values, training=training, rng=rng, mask=mask)

    outputs, _, cache = run(params, inputs)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    upstream_rng = np.random.default_rng(9)
    upstream = [upstream_rng.normal(size=o.shape) for o in outputs]

    def objective(p, values):
        out = run(p, values)[0]
        out = out if isinstance(out, list) else [out]
        return float(sum(np.sum(o * u) for o, u in zip(out, upstream)))

    d_outputs = upstream if len(upstream) > 1 else upstream[0]
    grads, d_inputs = ops.layer_backward(layer, params, cache, d_outputs, input_gradient=True)
    flat_params, flat_grads = flatten_paths(params), flatten_paths(grads)
    assert set(flat_grads) == set(flat_params)
    for path in flat_params:
        numeric = numerical_gradient(lambda d: objective(unflatten_paths(d), inputs), flat_params, path)
        _assert_close(flat_grads[path], numeric, path)
    values = inputs if isinstance(inputs, list) else [inputs]
    d_values = d_inputs if isinstance(d_inputs, list) else [d_inputs]
    assert len(d_values) == len(values)
    for k, (value, analytic) in enumerate(zip(values, d_values)):
        def with_input(d, k=k):
            replaced = [d["v"] if j == k else v for j, v in enumerate(values)]
            return objective(params, replaced if isinstance(inputs, list) else replaced[0])

        _assert_close(analytic, numerical_gradient(with_input, {"v": value}, "v"), f"input {k}")
    return outputs


def _build(layer, x, states=None):
    layer(x if states is None else [x, *states])
    _randomize(layer, np.random.default_rng(3))
    return layer


MASK = np.array([[True, True, False, True], [False, True, True, False]])


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(
    "options",
    [
        {"return_sequences": True},
        {"return_sequences": False},
        {"return_sequences": True, "go_backwards": True},
        {"return_sequences": False, "go_backwards": True, "return_state": True},
        {"return_sequences": True, "return_state": True, "zero_output_for_mask": True},
    ],
    ids=lambda o: "-".join(k for k, v in o.items() if v) or "last",
)
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_layer_backward_matches_finite_differences(kind, options, masked):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 2))
    layer = _build(KINDS[kind](**options), x)
    _check_layer_gradients(layer, x, mask=MASK if masked else None)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_initial_state_gradients_and_one_step(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 1, 2))  # T = 1
    probe = KINDS[kind]()
    states = [rng.normal(size=(2, 3)) for _ in probe.cell_state_names]
    layer = _build(KINDS[kind](return_sequences=True, return_state=True), x, states)
    _check_layer_gradients(layer, [x, *states])
    x = rng.normal(size=(2, 4, 2))
    _check_layer_gradients(layer, [x, *states], mask=MASK)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_dropout_with_fixed_masks(kind):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 2))
    options = {"dropout": 0.4} if kind == "RNN_cell" else {"dropout": 0.4, "recurrent_dropout": 0.3}
    layer = _build(KINDS[kind](return_sequences=True, **options), x)
    outputs = _check_layer_gradients(layer, x, training=True)
    inference = numpy_ops(layer).layer_forward(layer, layer.params, {}, x, training=False, rng=None, mask=None)[0]
    assert not np.allclose(outputs[0], inference)  # the masks did something in training only


def test_dropout_masks_are_one_per_sequence_and_inverted():
    """Input dropout zeroes the same features at every step: a linear-free check via SimpleRNN."""
    layer = SimpleRNN(2, activation="linear", dropout=0.5, dtype=F64, seed=0, return_sequences=True)
    x = np.ones((400, 3, 4))
    layer(x[:1])
    layer.params = {"kernel": np.eye(4)[:, :2], "recurrent_kernel": np.zeros((2, 2)), "bias": np.zeros(2)}
    out = numpy_ops(layer).layer_forward(layer, layer.params, {}, x, training=True, rng=np.random.default_rng(0), mask=None)[0]
    assert set(np.unique(out)) <= {0.0, 2.0}  # kept features scaled by 1 / (1 - 0.5)
    np.testing.assert_array_equal(out[:, 0], out[:, 2])  # the same mask at every step
    assert 0.4 < (out[:, 0] == 0).mean() < 0.6


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN", "RNN_cell"])
def test_bidirectional_backward_matches_finite_differences(kind, merge_mode):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 4, 2))
    for options in ({"return_sequences": True}, {"return_sequences": False, "return_state": True}):
        layer = Bidirectional(KINDS[kind](**options), merge_mode=merge_mode)
        layer(x)
        layer.params = {d: {k: v + 0.3 * rng.normal(size=v.shape) for k, v in p.items()} for d, p in layer.params.items()}
        _check_layer_gradients(layer, x, mask=MASK)


def test_bidirectional_with_initial_states_and_weights_order():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 2))
    states = [rng.normal(size=(2, 3)) for _ in range(4)]  # forward h, c, backward h, c
    layer = Bidirectional(LSTM(3, dtype=F64, seed=0, return_sequences=True))
    layer([x, *states])
    _check_layer_gradients(layer, [x, *states])
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [(2, 12), (3, 12), (12,)] * 2
    np.testing.assert_array_equal(weights[0], layer.forward_layer.params["kernel"])
    np.testing.assert_array_equal(weights[3], layer.backward_layer.params["kernel"])
    assert layer.forward_layer.name.startswith("forward_") and layer.backward_layer.go_backwards


def test_bidirectional_refuses_what_keras_refuses():
    with pytest.raises(ValueError, match="recurrent layer.*Dense"):
        Bidirectional(Dense(3))
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, return_sequences=True))


def test_bidirectional_config_round_trip_keeps_names():
    layer = Bidirectional(GRU(4, return_sequences=True), merge_mode="ave", name="bi")
    clone = Bidirectional.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.forward_layer.name == layer.forward_layer.name


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN", "RNN_cell"])
def test_stateful_carries_states_across_calls_and_resets(kind):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 6, 2))
    whole = KINDS[kind](return_sequences=True)
    whole_out = whole(x)
    stateful = KINDS[kind](return_sequences=True, stateful=True)
    stateful(x[:, :3])
    stateful.set_weights(whole.get_weights())
    stateful.reset_states()
    parts = [stateful(x[:, :3]), stateful(x[:, 3:])]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole_out, atol=1e-12)
    np.testing.assert_allclose(stateful.states[0], whole_out[:, -1] / (2 if kind == "RNN_cell" else 1), atol=1e-12)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :3]), whole_out[:, :3], atol=1e-12)
    assert len(stateful.get_weights()) == len(whole.get_weights())  # the states are not weights


def test_stateful_errors_change_nothing():
    layer = LSTM(3, stateful=True, seed=0)
    x = np.ones((2, 4, 2), dtype=np.float32)
    layer(x)
    before = [s.copy() for s in layer.states]
    with pytest.raises(ValueError, match="batch size 2; got a batch of 3"):
        layer(np.ones((3, 4, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="2 states, got 1"):
        layer.reset_states([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        layer.reset_states([np.zeros((2, 3)), np.zeros((3, 3))])
    for kept, now in zip(before, layer.states):
        np.testing.assert_array_equal(kept, now)
    with pytest.raises(ValueError, match="not stateful"):
        LSTM(3).reset_states()
    with pytest.raises(ValueError, match="fixed batch size"):
        import scratchlstm as keras

        keras.Sequential([keras.layers.Input((4, 2)), LSTM(3, stateful=True)])


def test_stateful_reset_with_given_states():
    layer = GRU(3, stateful=True, seed=0, dtype=F64)
    x = np.random.default_rng(0).normal(size=(2, 4, 2))
    layer(x)
    h0 = np.full((2, 3), 0.5)
    layer.reset_states([h0])
    np.testing.assert_array_equal(layer.states[0], h0)
    fresh = GRU(3, seed=0, dtype=F64)
    fresh(x)
    fresh.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x), fresh(x, initial_state=[h0]), atol=1e-12)


def test_rnn_cell_refusals_and_config():
    with pytest.raises(ValueError, match="RNNCell"):
        RNN(object())
    with pytest.raises(ValueError, match="recurrent_dropout"):
        RNN(ElmanTestCell(2), recurrent_dropout=0.1)
    layer = RNN(ElmanTestCell(2), return_sequences=True)
    config = layer.get_config()
    assert config["cell"] == {"class_name": "ElmanTestCell", "config": {"units": 2}}
    assert RNN.from_config(config).get_config() == config
