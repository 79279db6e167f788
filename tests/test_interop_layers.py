"""Layers built from torch modules (``interop.layers_from_torch``) equal the modules; export back."""

import numpy as np
import pytest

import scratchlstm as keras
from scratchlstm.interop import layers_from_torch, layers_to_torch

torch = pytest.importorskip("torch")

MODULES = {
    "lstm-2-bi": lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
    "gru-2": lambda: torch.nn.GRU(3, 4, num_layers=2, batch_first=True),
    "gru-bi-nobias": lambda: torch.nn.GRU(3, 4, bidirectional=True, bias=False, batch_first=True),
    "rnn-relu-time-major": lambda: torch.nn.RNN(3, 4, nonlinearity="relu", num_layers=2),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_model_of_the_layers_equals_the_torch_module(name):
    torch.manual_seed(0)
    module = MODULES[name]().eval()
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    with torch.no_grad():
        source = torch.from_numpy(x if module.batch_first else x.transpose(1, 0, 2).copy())
        expected = module(source)[0].numpy()
    if not module.batch_first:
        expected = expected.transpose(1, 0, 2)
    model = keras.Sequential([keras.Input((None, 3)), *layers_from_torch(module)])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    exported = layers_to_torch(model)
    fresh = MODULES[name]()
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in exported.items()}, strict=True)
    with torch.no_grad():
        np.testing.assert_allclose(fresh(source)[0].numpy(), module(source)[0].numpy(), rtol=1e-5, atol=1e-6)


def test_from_a_state_dict_and_back_is_bitwise_for_our_weights():
    rng = np.random.default_rng(1)
    layers = [keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True, seed=0))]
    model = keras.Sequential([keras.Input((6, 3)), *layers])
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    state = layers_to_torch(model)
    rebuilt = layers_from_torch(state, mode="GRU")
    assert [w.tobytes() for w in rebuilt[0].get_weights()] == [w.tobytes() for w in model.get_weights()]


def test_what_torch_cannot_hold_is_refused():
    with pytest.raises(ValueError, match="proj_size"):
        layers_from_torch(torch.nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(ValueError, match="mode"):
        layers_from_torch({"weight_ih_l0": np.zeros((12, 3))})
    gru = keras.layers.GRU(4, reset_after=False)
    gru(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match="reset_after"):
        layers_to_torch([gru])
    rnn = keras.layers.SimpleRNN(4, activation="sigmoid")
    rnn(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match="tanh or relu"):
        layers_to_torch([rnn])
    lstm, tanh_rnn = keras.layers.LSTM(4), keras.layers.SimpleRNN(4)
    lstm(np.zeros((1, 2, 3), np.float32))
    tanh_rnn(np.zeros((1, 2, 4), np.float32))
    with pytest.raises(ValueError, match="one kind"):
        layers_to_torch([lstm, tanh_rnn])
