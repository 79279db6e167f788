"""scratchlstm.interop: torch.nn.LSTM / GRU / RNN weights to and from this library's layout.

torch is the oracle: its modules run on the same weights as this library's NumPy kernels,
composed layer by layer here (a bidirectional layer runs its backward copy on x reversed in
time, reverses those outputs back and concatenates them after the forward ones), and the
outputs, final states and gradients must agree. Round trips must be exact.
"""

from __future__ import annotations

import copy
import os
import sys

import numpy as np
import pytest

from scratchlstm._numpy.rnn.lstm import lstm_backward, lstm_forward
from scratchlstm.interop import (
    gru_params_from_torch,
    gru_params_to_torch,
    load_safetensors_state_dict,
    lstm_params_from_torch,
    lstm_params_to_torch,
    rnn_params_from_state_dict,
    rnn_params_from_torch,
    rnn_state_dict_to_torch,
    save_safetensors_state_dict,
    simple_rnn_params_from_torch,
    simple_rnn_params_to_torch,
)

torch = pytest.importorskip("torch")

B, T, I, H = 3, 5, 4, 6


# -- helpers --------------------------------------------------------------------------------------


def _numpy_state_dict(module) -> dict:
    return {name: value.detach().numpy().copy() for name, value in module.state_dict().items()}


def _randomize(module, seed=0):
    """Non-trivial weights and biases (torch's init is small and the biases would hide mistakes)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for value in module.parameters():
            value.copy_(torch.rand(value.shape, generator=generator, dtype=value.dtype) * 1.2 - 0.6)
    return module


def _forward_fn(mode):
    if mode == "LSTM":
        return lstm_forward
    if mode == "GRU":
        gru = pytest.importorskip("scratchlstm._numpy.rnn.gru", reason="the NumPy GRU kernel is not written yet")
        return gru.gru_forward
    simple_rnn = pytest.importorskip("scratchlstm._numpy.rnn.simple_rnn")
    activation = "relu" if mode == "RNN_RELU" else "tanh"
    return lambda params, x, initial_state=None: simple_rnn.simple_rnn_forward(params, x, initial_state, activation=activation)


def _backward_fn(mode):
    if mode == "LSTM":
        return lstm_backward
    if mode == "GRU":
        return pytest.importorskip("scratchlstm._numpy.rnn.gru").gru_backward
    return pytest.importorskip("scratchlstm._numpy.rnn.simple_rnn").simple_rnn_backward


def run_stack(forward, layers, x, initial_states):
    """This library's kernels stacked as torch stacks them.

    ``x`` is ``(B, T, I)``; ``initial_states[k * D + d]`` is the state tuple of layer ``k``,
    direction ``d`` (torch's ``h_0[k * D + d]``). Returns ``(outputs (B, T, D*H), final state
    tuples in torch's order, caches)``.
    """
    finals, caches = [], []
    for k, entry in enumerate(layers):
        directions = [entry["forward"]] + ([entry["backward"]] if entry["backward"] is not None else [])
        outputs = []
        for d, params in enumerate(directions):
            x_in = x if d == 0 else np.ascontiguousarray(x[:, ::-1])  # the backward copy reads x reversed
            out, state, cache = forward(params, x_in, initial_states[k * len(directions) + d])
            outputs.append(out if d == 0 else out[:, ::-1])
            finals.append(state)
            caches.append(cache)
        x = np.concatenate(outputs, axis=-1)
    return x, finals, caches


def backprop_stack(backward, layers, caches, d_outputs):
    """BPTT through `run_stack`; returns the grads per (layer, direction) in torch's order and d_x."""
    grads = [None] * len(caches)
    for k in reversed(range(len(layers))):
        entry = layers[k]
        directions = [entry["forward"]] + ([entry["backward"]] if entry["backward"] is not None else [])
        d_parts = np.split(d_outputs, len(directions), axis=-1)
        d_inputs = 0
        for d, params in enumerate(directions):
            index = k * len(directions) + d
            d_out = d_parts[d] if d == 0 else d_parts[d][:, ::-1]
            grads[index], d_x, _ = backward(params, caches[index], np.ascontiguousarray(d_out))
            d_inputs = d_inputs + (d_x if d == 0 else d_x[:, ::-1])
        d_outputs = d_inputs
    return grads, d_outputs


def _torch_initial_state(mode, module, rng, dtype):
    directions = 2 if module.bidirectional else 1
    shape = (module.num_layers * directions, B, module.hidden_size)
    h0 = rng.normal(size=shape).astype(dtype) * 0.5
    if mode == "LSTM":
        c0 = rng.normal(size=shape).astype(dtype) * 0.5
        return (h0, c0), [(h0[j], c0[j]) for j in range(shape[0])]
    return (h0,), [(h0[j],) for j in range(shape[0])]


def _run_torch(module, x, torch_state, batch_first):
    x_t = torch.from_numpy(x if batch_first else np.ascontiguousarray(x.transpose(1, 0, 2)))
    state = tuple(torch.from_numpy(s) for s in torch_state)
    out, final = module(x_t, state if len(state) == 2 else state[0])
    out = out.detach().numpy()
    final = tuple(f.detach().numpy() for f in (final if isinstance(final, tuple) else (final,)))
    return (out if batch_first else out.transpose(1, 0, 2)), final


def _bits(array):
    array = np.ascontiguousarray(array)
    return array.dtype.str, array.shape, array.tobytes()


MODULES = {
    "LSTM": lambda **kw: torch.nn.LSTM(I, H, **kw),
    "GRU": lambda **kw: torch.nn.GRU(I, H, **kw),
    "RNN_TANH": lambda **kw: torch.nn.RNN(I, H, nonlinearity="tanh", **kw),
    "RNN_RELU": lambda **kw: torch.nn.RNN(I, H, nonlinearity="relu", **kw),
}
STACKS = [  # (num_layers, bidirectional, bias, batch_first)
    (1, False, True, True),
    (2, True, True, False),
    (2, False, False, True),
    (3, True, False, True),
]


# -- forward parity with torch -------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODULES))
@pytest.mark.parametrize("num_layers, bidirectional, bias, batch_first", STACKS)
def test_outputs_and_final_states_match_torch_float32(mode, num_layers, bidirectional, bias, batch_first):
    forward = _forward_fn(mode)
    torch.manual_seed(0)
    module = MODULES[mode](num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                           batch_first=batch_first, dropout=0.3 if num_layers > 1 else 0.0)
    _randomize(module).eval()  # dropout between layers is a training-only op
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, T, I)).astype(np.float32)
    torch_state, our_states = _torch_initial_state(mode, module, rng, np.float32)

    config, layers = rnn_params_from_torch(module)
    assert config["num_layers"] == num_layers and config["bidirectional"] == bidirectional
    assert config["batch_first"] == batch_first and config["bias"] == bias
    assert len(layers) == num_layers
    assert all((entry["backward"] is not None) == bidirectional for entry in layers)
    assert all(("bias" in entry["forward"]) == bias for entry in layers)
    assert layers[0]["forward"]["kernel"].dtype == np.float32

    ours, finals, _ = run_stack(forward, layers, x, our_states)
    theirs, final_theirs = _run_torch(module, x, torch_state, batch_first)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5)
    assert len(final_theirs) == len(finals[0])
    for j, state in enumerate(finals):  # h_n (and c_n) in torch's (layer, direction) order
        for ours_s, theirs_s in zip(state, final_theirs):
            np.testing.assert_allclose(ours_s, theirs_s[j], rtol=0, atol=2e-5)


# -- gradient parity with torch ------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODULES))
@pytest.mark.parametrize("num_layers, bidirectional, bias", [(1, False, True), (2, True, True), (2, True, False)])
def test_gradients_match_torch_through_the_same_conversion(mode, num_layers, bidirectional, bias):
    forward, backward = _forward_fn(mode), _backward_fn(mode)
    torch.manual_seed(0)
    module = _randomize(MODULES[mode](num_layers=num_layers, bidirectional=bidirectional, bias=bias, batch_first=True).double())
    rng = np.random.default_rng(2)
    x = rng.normal(size=(B, T, I))
    torch_state, our_states = _torch_initial_state(mode, module, rng, np.float64)
    _, layers = rnn_params_from_torch(module)

    outputs, _, caches = run_stack(forward, layers, x, our_states)
    loss_weights = rng.normal(size=outputs.shape)  # loss = sum(outputs * loss_weights)
    grads, d_x = backprop_stack(backward, layers, caches, loss_weights)

    x_t = torch.from_numpy(x).requires_grad_(True)
    state = tuple(torch.from_numpy(s) for s in torch_state)
    out_t, _ = module(x_t, state if len(state) == 2 else state[0])
    (out_t * torch.from_numpy(loss_weights)).sum().backward()
    np.testing.assert_allclose(out_t.detach().numpy(), outputs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(x_t.grad.numpy(), d_x, rtol=1e-10, atol=1e-12)

    from_torch = {"LSTM": lstm_params_from_torch, "GRU": gru_params_from_torch}.get(mode, simple_rnn_params_from_torch)
    directions = 2 if bidirectional else 1
    for k in range(num_layers):
        for d, suffix in enumerate(["", "_reverse"][:directions]):
            torch_grads = {name: getattr(module, f"{name}_l{k}{suffix}").grad.numpy()
                           for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if bias or name.startswith("weight")}
            if mode == "GRU":  # two separate biases: the conversion carries both gradients exactly
                converted = from_torch(**torch_grads)
            else:  # one summed bias: d(loss)/d(bias_ih) = d(loss)/d(bias_hh) = d(loss)/d(bias)
                if bias:  # (torch sums them in different orders: equal to rounding)
                    np.testing.assert_allclose(torch_grads["bias_hh"], torch_grads["bias_ih"], rtol=1e-12, atol=1e-14)
                converted = from_torch(torch_grads["weight_ih"], torch_grads["weight_hh"], torch_grads.get("bias_ih"))
            ours = grads[k * directions + d]
            assert sorted(converted) == sorted(ours)
            for name in ours:
                np.testing.assert_allclose(ours[name], converted[name], rtol=1e-10, atol=1e-12, err_msg=f"{name} l{k}{suffix}")


# -- cells -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell, mode", [("LSTMCell", "LSTM"), ("GRUCell", "GRU"), ("RNNCell", "RNN_RELU")])
def test_torch_cells_convert_to_one_step(cell, mode):
    forward = _forward_fn(mode)
    kwargs = {"nonlinearity": "relu"} if cell == "RNNCell" else {}
    module = _randomize(getattr(torch.nn, cell)(I, H, **kwargs))
    config, layers = rnn_params_from_torch(module)
    assert config["mode"] == mode and config["cell"] and len(layers) == 1
    rng = np.random.default_rng(3)
    x = rng.normal(size=(B, I)).astype(np.float32)
    state = tuple(rng.normal(size=(B, H)).astype(np.float32) for _ in range(2 if mode == "LSTM" else 1))
    theirs = module(torch.from_numpy(x), tuple(map(torch.from_numpy, state)) if mode == "LSTM" else torch.from_numpy(state[0]))
    theirs = tuple(t.detach().numpy() for t in (theirs if isinstance(theirs, tuple) else (theirs,)))
    _, final, _ = forward(layers[0]["forward"], x[:, None], state)
    for ours_s, theirs_s in zip(final, theirs):
        np.testing.assert_allclose(ours_s, theirs_s, rtol=0, atol=2e-6)
    # a cell's state dict keys are the argument names of the one-layer functions
    direct = {"LSTM": lstm_params_from_torch, "GRU": gru_params_from_torch}.get(mode, simple_rnn_params_from_torch)(**module.state_dict())
    for name, value in layers[0]["forward"].items():
        assert _bits(direct[name]) == _bits(value)


def test_config_describes_the_equivalent_layers():
    config, _ = rnn_params_from_torch(torch.nn.GRU(I, H, num_layers=2, bias=False, batch_first=True, dropout=0.25))
    assert config["keras"] == {"class_name": "GRU", "units": H, "use_bias": False, "activation": "tanh",
                               "recurrent_activation": "sigmoid", "reset_after": True}
    assert (config["mode"], config["input_size"], config["dropout"], config["nonlinearity"]) == ("GRU", I, 0.25, None)
    config, _ = rnn_params_from_torch(torch.nn.RNN(I, H, nonlinearity="relu"))
    assert config["keras"] == {"class_name": "SimpleRNN", "units": H, "use_bias": True, "activation": "relu"}
    assert config["mode"] == "RNN_RELU" and config["nonlinearity"] == "relu" and config["batch_first"] is False


# -- the GRU layout against an independent Keras-formula reference (no GRU kernel needed) ---------


def _keras_gru_reference(params, x, h):
    """Keras' GRU with reset_after=True, column blocks [z, r, h], written from its equations."""
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    kernel, recurrent = params["kernel"], params["recurrent_kernel"]
    bias = params.get("bias", np.zeros((2, kernel.shape[1])))
    n = recurrent.shape[0]
    for t in range(x.shape[1]):
        x_proj = x[:, t] @ kernel + bias[0]
        h_proj = h @ recurrent + bias[1]
        z = sigmoid(x_proj[:, :n] + h_proj[:, :n])
        r = sigmoid(x_proj[:, n:2 * n] + h_proj[:, n:2 * n])
        candidate = np.tanh(x_proj[:, 2 * n:] + r * h_proj[:, 2 * n:])
        h = z * h + (1 - z) * candidate
    return h


@pytest.mark.parametrize("bias", [True, False])
def test_gru_conversion_matches_torch_with_keras_equations(bias):
    module = _randomize(torch.nn.GRU(I, H, batch_first=True, bias=bias).double())
    rng = np.random.default_rng(4)
    x, h0 = rng.normal(size=(B, T, I)), rng.normal(size=(B, H))
    _, layers = rnn_params_from_torch(module)
    _, h_n = module(torch.from_numpy(x), torch.from_numpy(h0)[None])
    np.testing.assert_allclose(_keras_gru_reference(layers[0]["forward"], x, h0), h_n[0].detach().numpy(), rtol=0, atol=1e-12)


def test_gru_conversion_matches_keras_gru():
    """The same params in Keras' own GRU (reset_after=True) give torch's outputs."""
    pytest.importorskip("jax")
    keras = pytest.importorskip("keras")
    module = _randomize(torch.nn.GRU(I, H, batch_first=True))
    x = np.random.default_rng(5).normal(size=(B, T, I)).astype(np.float32)
    _, layers = rnn_params_from_torch(module)
    params = layers[0]["forward"]
    layer = keras.layers.GRU(H, return_sequences=True, reset_after=True)
    layer.build((None, T, I))
    layer.set_weights([params["kernel"], params["recurrent_kernel"], params["bias"]])
    theirs, _ = module(torch.from_numpy(x))
    np.testing.assert_allclose(np.asarray(layer(x)), theirs.detach().numpy(), rtol=0, atol=2e-5)


# -- round trips -----------------------------------------------------------------------------------


def _our_params(mode, rng, inputs, dtype=np.float32, bias=True):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    params = {"kernel": rng.normal(size=(inputs, gates * H)).astype(dtype),
              "recurrent_kernel": rng.normal(size=(H, gates * H)).astype(dtype)}
    if bias:
        params["bias"] = rng.normal(size=(2, 3 * H) if mode == "GRU" else (gates * H,)).astype(dtype)
        params["bias"].reshape(-1)[:3] = [-0.0, 0.0, np.nan]  # signed zeros and a NaN survive bit for bit
    params["kernel"][0, 0] = -0.0
    return params


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ours_to_torch_to_ours_is_bitwise(mode, dtype):
    rng = np.random.default_rng(6)
    layers = [{"forward": _our_params(mode, rng, I, dtype), "backward": _our_params(mode, rng, I, dtype)},
              {"forward": _our_params(mode, rng, 2 * H, dtype), "backward": _our_params(mode, rng, 2 * H, dtype)}]
    before = copy.deepcopy(layers)
    state_dict = rnn_state_dict_to_torch(layers, mode)
    back = rnn_params_from_state_dict(state_dict, mode=mode)
    for layer_before, layer_after in zip(layers, back):
        for direction in ("forward", "backward"):
            assert sorted(layer_after[direction]) == sorted(layer_before[direction])
            for name, value in layer_before[direction].items():
                assert _bits(layer_after[direction][name]) == _bits(value), (direction, name)
    # the one-layer pairs too, and nothing given was modified or aliased
    to_torch = {"LSTM": lstm_params_to_torch, "GRU": gru_params_to_torch}.get(mode, simple_rnn_params_to_torch)
    from_torch = {"LSTM": lstm_params_from_torch, "GRU": gru_params_from_torch}.get(mode, simple_rnn_params_from_torch)
    params = layers[0]["forward"]
    weights = to_torch(params)
    again = from_torch(**weights)
    for name, value in params.items():
        assert _bits(again[name]) == _bits(value)
        assert not any(np.shares_memory(value, w) for w in weights.values())
        assert not any(np.shares_memory(again[name], w) for w in weights.values())
        assert _bits(before[0]["forward"][name]) == _bits(value)


@pytest.mark.parametrize("mode", list(MODULES))
@pytest.mark.parametrize("bias", [True, False])
def test_torch_to_ours_to_torch_loads_strictly_and_keeps_the_weights(mode, bias):
    module = _randomize(MODULES[mode](num_layers=2, bidirectional=True, bias=bias))
    original = _numpy_state_dict(module)
    _, layers = rnn_params_from_torch(module)
    exported = rnn_state_dict_to_torch(layers, mode)
    assert list(exported) == list(original)  # torch's names, in torch's order
    for name, value in original.items():
        if name.startswith("weight") or mode == "GRU":
            assert _bits(exported[name]) == _bits(value), name  # exact
        elif name.startswith("bias_ih"):  # the two biases summed: one float addition
            assert _bits(exported[name]) == _bits(value + original[name.replace("bias_ih", "bias_hh")]), name
        else:
            assert not exported[name].any(), name
    rebuilt = MODULES[mode](num_layers=2, bidirectional=True, bias=bias)
    rebuilt.load_state_dict({k: torch.from_numpy(v) for k, v in exported.items()}, strict=True)
    x = torch.from_numpy(np.random.default_rng(7).normal(size=(T, B, I)).astype(np.float32))
    np.testing.assert_allclose(rebuilt(x)[0].detach().numpy(), module(x)[0].detach().numpy(), rtol=0, atol=1e-6)


def test_conversion_copies_the_torch_weights():
    module = torch.nn.LSTM(I, H)
    params = lstm_params_from_torch(module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0)
    kernel = params["kernel"].copy()
    with torch.no_grad():
        module.weight_ih_l0.add_(1.0)
        module.bias_ih_l0.add_(1.0)
    np.testing.assert_array_equal(params["kernel"], kernel)
    _, layers = rnn_params_from_torch(module)
    np.testing.assert_array_equal(layers[0]["forward"]["kernel"], kernel + 1.0)


def test_bfloat16_modules_convert_to_float32_exactly():
    module = _randomize(torch.nn.LSTM(I, H)).to(torch.bfloat16)
    _, layers = rnn_params_from_torch(module)
    assert layers[0]["forward"]["kernel"].dtype == np.float32
    np.testing.assert_array_equal(layers[0]["forward"]["kernel"], module.weight_ih_l0.float().detach().numpy().T)


def test_prefix_reads_one_module_out_of_a_model_state_dict():
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(I, H, num_layers=2)
            self.head = torch.nn.Linear(H, 1)

    state_dict = Model().state_dict()
    layers = rnn_params_from_state_dict(state_dict, mode="LSTM", prefix="lstm.")
    assert len(layers) == 2
    np.testing.assert_array_equal(layers[1]["forward"]["recurrent_kernel"], state_dict["lstm.weight_hh_l1"].numpy().T)
    with pytest.raises(ValueError, match=r"unexpected keys \['head.bias', 'head.weight', 'lstm.bias_hh_l0'.*prefix="):
        rnn_params_from_state_dict(state_dict, mode="LSTM")
    with pytest.raises(ValueError, match=r"no key .* prefix='gru.'"):
        rnn_params_from_state_dict(state_dict, mode="LSTM", prefix="gru.")


# -- safetensors -----------------------------------------------------------------------------------


def test_safetensors_file_from_torch_serves_with_numpy_only(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    module = _randomize(torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True))
    path = tmp_path / "lstm.safetensors"
    safetensors_torch.save_file(module.state_dict(), str(path))

    state_dict = load_safetensors_state_dict(path)
    assert all(type(v) is np.ndarray for v in state_dict.values())
    layers = rnn_params_from_state_dict(state_dict, mode="LSTM")
    x = np.random.default_rng(8).normal(size=(B, T, I)).astype(np.float32)
    zeros = [(np.zeros((B, H), np.float32),) * 2] * 4
    ours, _, _ = run_stack(lstm_forward, layers, x, zeros)
    theirs, _ = module(torch.from_numpy(x))
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=2e-5)

    # and back: written here with NumPy, read by torch
    out_path = tmp_path / "exported.safetensors"
    save_safetensors_state_dict(rnn_state_dict_to_torch(layers, "LSTM"), out_path, metadata={"mode": "LSTM"})
    rebuilt = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True)
    rebuilt.load_state_dict(safetensors_torch.load_file(str(out_path)), strict=True)
    np.testing.assert_allclose(rebuilt(torch.from_numpy(x))[0].detach().numpy(), theirs.detach().numpy(), rtol=0, atol=1e-6)


def test_save_accepts_tensors_and_keeps_the_umask_permissions(tmp_path):
    pytest.importorskip("safetensors")
    module = torch.nn.GRU(I, H)
    path = tmp_path / "gru.safetensors"
    save_safetensors_state_dict(module.state_dict(), path)
    loaded = load_safetensors_state_dict(path)
    for name, value in module.state_dict().items():
        assert _bits(loaded[name]) == _bits(value.numpy())
    if os.name == "posix":
        plain = tmp_path / "plain"
        plain.write_bytes(b"")
        assert (path.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    pytest.importorskip("safetensors")
    path = tmp_path / "weights.safetensors"
    save_safetensors_state_dict({"weight_ih_l0": np.ones((4, 2), np.float32)}, path)
    old = path.read_bytes()

    def disk_full(_descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # fails after the payload went into the temporary file
    with pytest.raises(OSError, match="No space left"):
        save_safetensors_state_dict({"weight_ih_l0": np.zeros((400, 20), np.float32)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.safetensors"]

    with pytest.raises(ValueError, match=r"state_dict\['bad'\] must be a numeric array, got dtype <U1"):
        save_safetensors_state_dict({"weight_ih_l0": np.zeros(3), "bad": np.array(["a"])}, path)
    with pytest.raises(ValueError, match=r"names must be strings, got 0"):
        save_safetensors_state_dict({0: np.zeros(3)}, path)
    with pytest.raises(ValueError, match=r"metadata must be a dict of str to str"):
        save_safetensors_state_dict({"a": np.zeros(3)}, path, metadata={"layers": 2})
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.safetensors"]
    np.testing.assert_array_equal(load_safetensors_state_dict(path)["weight_ih_l0"], np.ones((4, 2)))


def test_missing_safetensors_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r'pip install "scratchlstm\[safetensors\]"'):
        load_safetensors_state_dict(tmp_path / "x.safetensors")
    with pytest.raises(ImportError, match=r'pip install "scratchlstm\[safetensors\]"'):
        save_safetensors_state_dict({"a": np.zeros(2)}, tmp_path / "x.safetensors")
    assert not any(tmp_path.iterdir())


def test_loading_a_missing_file_names_it(tmp_path):
    pytest.importorskip("safetensors")
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load_safetensors_state_dict(tmp_path / "nope.safetensors")


# -- bad input -------------------------------------------------------------------------------------


def test_projected_lstm_is_refused_naming_proj_size():
    module = torch.nn.LSTM(I, H, proj_size=2)
    with pytest.raises(ValueError, match=r"proj_size=2.*expected proj_size=0"):
        rnn_params_from_torch(module)
    with pytest.raises(ValueError, match=r"projection weights \['weight_hr_l0'\].*proj_size=2"):
        rnn_params_from_state_dict(module.state_dict(), mode="LSTM")


def test_gru_without_reset_after_cannot_be_exported():
    rng = np.random.default_rng(9)
    params = {"kernel": rng.normal(size=(I, 3 * H)), "recurrent_kernel": rng.normal(size=(H, 3 * H)),
              "bias": rng.normal(size=3 * H)}
    before = copy.deepcopy(params)
    with pytest.raises(ValueError, match=r"reset_after=False.*no torch.nn.GRU equivalent.*\(2, 18\)"):
        gru_params_to_torch(params)
    with pytest.raises(ValueError, match=r"layers\[0\]\['forward'\] \(GRU\).*reset_after=False"):
        rnn_state_dict_to_torch([{"forward": params, "backward": None}], "GRU")
    no_bias = {"kernel": params["kernel"], "recurrent_kernel": params["recurrent_kernel"]}
    with pytest.raises(ValueError, match=r"reset_after=False has no torch.nn.GRU equivalent.*expected reset_after=True"):
        gru_params_to_torch(no_bias, reset_after=False)
    with pytest.raises(ValueError, match=r"layers\[0\]\['forward'\] \(GRU\).*got reset_after=False"):
        rnn_state_dict_to_torch([{"forward": no_bias, "backward": None}], "GRU", reset_after=False)
    assert list(rnn_state_dict_to_torch([{"forward": no_bias, "backward": None}], "GRU")) == ["weight_ih_l0", "weight_hh_l0"]
    for name in params:
        assert _bits(params[name]) == _bits(before[name])


def test_wrong_shapes_name_expected_and_got():
    rng = np.random.default_rng(10)
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(24, 6\).*H = 6, got \(24, 5\)"):
        lstm_params_from_torch(rng.normal(size=(24, I)), rng.normal(size=(24, 5)))
    with pytest.raises(ValueError, match=r"weight_ih of a torch GRU must be 2-D \(3H, I\).*got shape \(20, 4\)"):
        gru_params_from_torch(rng.normal(size=(20, I)), rng.normal(size=(18, H)))
    with pytest.raises(ValueError, match=r"bias_hh must have shape \(6,\).*got \(7,\)"):
        simple_rnn_params_from_torch(rng.normal(size=(H, I)), rng.normal(size=(H, H)), np.zeros(H), np.zeros(7))
    with pytest.raises(ValueError, match=r"params\['recurrent_kernel'\] must have shape \(6, 24\).*got \(6, 18\)"):
        lstm_params_to_torch({"kernel": np.zeros((I, 24)), "recurrent_kernel": np.zeros((H, 18))})
    with pytest.raises(ValueError, match=r"params\['bias'\] must have shape \(24,\).*got \(2, 24\)"):
        lstm_params_to_torch({"kernel": np.zeros((I, 24)), "recurrent_kernel": np.zeros((H, 24)), "bias": np.zeros((2, 24))})
    with pytest.raises(ValueError, match=r"missing \['recurrent_kernel'\], unexpected \['recurrent'\]"):
        simple_rnn_params_to_torch({"kernel": np.zeros((I, H)), "recurrent": np.zeros((H, H))})
    with pytest.raises(ValueError, match=r"floating-point array, got dtype int64"):
        lstm_params_from_torch(np.zeros((24, I), np.int64), np.zeros((24, H)))


def test_state_dict_errors_name_the_keys_and_change_nothing():
    module = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True)
    state_dict = _numpy_state_dict(module)
    snapshot = copy.deepcopy(state_dict)

    def refused(pattern, sd=None, **kwargs):
        kwargs.setdefault("mode", "LSTM")
        with pytest.raises(ValueError, match=pattern):
            rnn_params_from_state_dict(state_dict if sd is None else sd, **kwargs)

    refused(r"missing the keys \['bias_hh_l1_reverse'\]", {k: v for k, v in state_dict.items() if k != "bias_hh_l1_reverse"})
    refused(r"unexpected keys \['weight_ih_l0_extra'\]", {**state_dict, "weight_ih_l0_extra": state_dict["weight_ih_l0"]})
    refused(r"num_layers=3 but the state dict has weights for layers \[0, 1\]", num_layers=3)
    refused(r"bidirectional=False but the state dict has '_reverse' keys", bidirectional=False)
    refused(r"weight_hh_l0 of a torch GRU must have shape \(3H, H\), got \(24, 6\).*mode='LSTM'", mode="GRU")
    refused(r"mode must be one of 'LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'.*got 'Transformer'", mode="Transformer")
    refused(r"weight_ih_l1 must have shape \(24, 12\) \(4H, 2H\) stacked on layer 0 with H = 6, got \(24, 6\)",
            {**state_dict, "weight_ih_l1": state_dict["weight_ih_l1"][:, :H]})
    refused(r"layer 1 \(backward\).*weight_hh must have shape \(24, 6\).*got \(24, 5\)",
            {**state_dict, "weight_hh_l1_reverse": state_dict["weight_hh_l1_reverse"][:, :5]})
    refused(r"weight_ih_l0_reverse has input size 3, expected 4 as weight_ih_l0's",
            {**state_dict, "weight_ih_l0_reverse": state_dict["weight_ih_l0_reverse"][:, :3]})
    refused(r"weight_hh_l0_reverse has hidden size 5, expected 6",
            {**state_dict, "weight_ih_l0_reverse": np.zeros((20, I), np.float32), "weight_hh_l0_reverse": np.zeros((20, 5), np.float32),
             "bias_ih_l0_reverse": np.zeros(20, np.float32), "bias_hh_l0_reverse": np.zeros(20, np.float32)})
    refused(r"has no weights", {})
    for name, value in snapshot.items():
        assert _bits(state_dict[name]) == _bits(value)
    assert list(state_dict) == list(snapshot)


def test_torch_export_checks_the_stack():
    rng = np.random.default_rng(11)
    lstm = lambda inputs: _our_params("LSTM", rng, inputs)  # noqa: E731
    with pytest.raises(ValueError, match=r"bidirectional in every layer or in none.*layers \[1\] of 2"):
        rnn_state_dict_to_torch([{"forward": lstm(I), "backward": None}, {"forward": lstm(H), "backward": lstm(H)}], "LSTM")
    with pytest.raises(ValueError, match=r"layers\[1\]\['forward'\]\['kernel'\] must have shape \(12, 24\).*got \(6, 24\)"):
        rnn_state_dict_to_torch([{"forward": lstm(I), "backward": lstm(I)}, {"forward": lstm(H), "backward": lstm(H)}], "LSTM")
    no_bias = _our_params("LSTM", rng, H, bias=False)
    with pytest.raises(ValueError, match=r"bias flag covers the whole module.*layers\[1\]\['forward'\] has no bias"):
        rnn_state_dict_to_torch([{"forward": lstm(I), "backward": None}, {"forward": no_bias, "backward": None}], "LSTM")
    with pytest.raises(ValueError, match=r"layers\[0\] must be a dict with keys 'forward' and 'backward', got \['bias', 'kernel'"):
        rnn_state_dict_to_torch([lstm(I)], "LSTM")
    with pytest.raises(ValueError, match=r"non-empty list.*got list of length 0"):
        rnn_state_dict_to_torch([], "LSTM")


def test_a_module_whose_attributes_disagree_with_its_weights_is_refused():
    module = torch.nn.GRU(I, H)
    module.hidden_size = H + 1
    with pytest.raises(ValueError, match=r"hidden_size=7, but its weights have input_size=4, hidden_size=6"):
        rnn_params_from_torch(module)
    with pytest.raises(ValueError, match=r"expected a torch.nn.LSTM, GRU or RNN.*got Linear"):
        rnn_params_from_torch(torch.nn.Linear(2, 3))
