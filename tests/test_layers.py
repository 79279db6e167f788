"""The Keras-style layers: shapes from the contract, weights layout, initialisers, arguments."""

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, lstm_forward
from scratchlstm._numpy import dense_forward


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(32, 25, 1)).astype(np.float32)


def test_contract_shapes_and_values(x):
    last = LSTM(20, seed=1)
    seq = LSTM(20, return_sequences=True, seed=1)
    h = last(x)
    outputs = seq(x)
    assert h.shape == (32, 20) and outputs.shape == (32, 25, 20)
    # Same seed, same weights: the last step of the sequence is the last-step output.
    np.testing.assert_allclose(outputs[:, -1], h, rtol=1e-6)
    dense = Dense(10, seed=2)
    y2 = dense(h)
    y3 = dense(outputs)
    assert y2.shape == (32, 10) and y3.shape == (32, 25, 10)
    # The Dense acts on the last axis: time step t of the 3-D output is the 2-D map of step t.
    np.testing.assert_allclose(y3[:, -1], y2, rtol=1e-5, atol=1e-6)


def test_return_state_matches_reference(x):
    layer = LSTM(4, return_sequences=True, return_state=True, seed=0)
    outputs, h, c = layer(x)
    ref_out, (ref_h, ref_c), _ = lstm_forward(layer.params, x)
    np.testing.assert_array_equal(outputs, ref_out)
    np.testing.assert_array_equal(h, ref_h)
    np.testing.assert_array_equal(c, ref_c)


def test_initial_state_changes_output_and_is_used(x):
    layer = LSTM(3, seed=0)
    h0 = np.full((32, 3), 0.5, np.float32)
    c0 = np.full((32, 3), -0.5, np.float32)
    with_state = layer(x, initial_state=[h0, c0])
    expected = lstm_forward(layer.params, x, (h0, c0))[1][0]
    np.testing.assert_allclose(with_state, expected)
    assert not np.allclose(with_state, layer(x))


def test_weights_layout_and_keras_initialisation():
    layer = LSTM(5, seed=0)
    layer(np.zeros((2, 3, 4), np.float32))
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (4, 20) and recurrent.shape == (5, 20) and bias.shape == (20,)
    # unit_forget_bias: ones on the forget block only.
    np.testing.assert_array_equal(bias, np.r_[np.zeros(5), np.ones(5), np.zeros(10)])
    # orthogonal recurrent kernel: orthonormal rows.
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(5), atol=1e-5)
    limit = np.sqrt(6 / (4 + 20))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.5 * limit
    assert kernel.dtype == np.float32


def test_set_weights_round_trip_and_checks():
    layer = LSTM(2, input_shape=(3, 1), seed=0)
    weights = [np.ones_like(w) for w in layer.get_weights()]
    layer.set_weights(weights)
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), weights))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"\(1, 8\).*\(2, 8\)"):
        layer.set_weights([np.ones((2, 8)), weights[1], weights[2]])
    with pytest.raises(ValueError, match="expects 3 weight arrays"):
        layer.set_weights(weights[:2])
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), before))


def test_dense_matches_pure_function_for_every_activation():
    x = np.random.default_rng(3).normal(size=(4, 6, 3))
    for activation in (None, "relu", "tanh", "sigmoid", "softmax"):
        layer = Dense(5, activation=activation, seed=0, dtype="float64")
        y = layer(x)
        np.testing.assert_allclose(y, dense_forward(layer.params, x, activation)[0])
    probabilities = Dense(5, activation="softmax", seed=0)(x.astype(np.float32))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-6)


def test_use_bias_false_has_no_bias():
    layer = LSTM(3, use_bias=False, input_shape=(2, 4), seed=0)
    assert [w.shape for w in layer.get_weights()] == [(4, 12), (3, 12)]
    assert Dense(2, use_bias=False, input_shape=(3,)).count_params() == 6


def test_dtype_float64_by_layer_or_input():
    x64 = np.zeros((2, 3, 1))
    assert LSTM(2, seed=0)(x64).dtype == np.float64  # float64 input builds a float64 layer
    assert LSTM(2, seed=0)(x64.astype(np.float32)).dtype == np.float32
    assert LSTM(2, dtype="float64", seed=0)(x64.astype(np.float32)).dtype == np.float64
    fixed = LSTM(2, dtype="float32", seed=0)
    assert fixed(x64).dtype == np.float32  # an explicit dtype stays as asked


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda layers: layers.Conv1D(4, 3, groups=2), "groups=2"),
        (lambda layers: layers.Embedding(5, 2, lora_rank=4), "lora_rank=4"),
        (lambda layers: layers.MultiHeadAttention(2, 3, activity_regularizer="l2"), "activity_regularizer='l2'"),
    ],
)
def test_unimplemented_arguments_fail_loudly(build, argument):
    from scratchlstm import layers

    with pytest.raises(NotImplementedError, match=argument):
        build(layers)


def test_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="activation.*'swish2'"):
        Dense(2, activation="swish2")
    with pytest.raises(ValueError, match="initializer"):
        LSTM(2, kernel_initializer="nope")


def test_unit_forget_bias_sets_the_forget_block_to_one_as_keras():
    keras = pytest.importorskip("keras")
    ours = LSTM(3, bias_initializer="ones", seed=0)
    ours.build((None, 4, 2))
    theirs = keras.layers.LSTM(3, bias_initializer="ones")
    theirs.build((None, 4, 2))
    np.testing.assert_array_equal(ours.get_weights()[2], theirs.get_weights()[2])  # all ones, not 2 in the forget block


def test_built_params_is_the_weights_of_a_built_layer_and_refuses_an_unbuilt_one():
    layer = Dense(3, name="head")
    with pytest.raises(ValueError, match="'head' is not built yet"):
        layer.built_params
    layer.build((None, 2))
    assert layer.built_params is layer.params and layer.built_params["kernel"].shape == (2, 3)
