"""Layers of this library from a PyTorch recurrent module (or its state dict), and back.

Built on the parameter-dict conversions of ``_torch_rnn.py``: one ``LSTM`` / ``GRU`` /
``SimpleRNN`` per torch layer, wrapped in ``Bidirectional`` when the module is bidirectional,
every layer with ``return_sequences=True`` (torch returns every step's output).
"""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

from ._torch_rnn import _canonical_mode, rnn_params_from_state_dict, rnn_params_from_torch, rnn_state_dict_to_torch

_KERAS_CLASS = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "SimpleRNN", "RNN_RELU": "SimpleRNN"}
_TORCH_MODE = {"LSTM": "LSTM", "GRU": "GRU"}


def _layer(mode: str, params: dict[str, Any], features: int, dtype: Any, name: str) -> Any:
    from .. import layers

    units = params["recurrent_kernel"].shape[0]
    options = {"return_sequences": True, "use_bias": "bias" in params, "dtype": dtype, "name": name}
    if mode == "RNN_RELU":
        options["activation"] = "relu"
    if mode == "LSTM":
        options["unit_forget_bias"] = False  # the weights are set from torch's
    layer = getattr(layers, _KERAS_CLASS[mode])(units, **options)
    layer.build((None, None, features))
    layer.set_weights([params[key] for key in layer.weight_names if key in params])
    return layer


def layers_from_torch(source: Any, *, mode: str | None = None, dtype: Any = None, name: str | None = "torch") -> list[Any]:
    """Recurrent layers equal to a torch ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` (all layers).

    Args:
        source: the torch module, or its state dict (torch tensors or NumPy arrays, e.g. from
            `load_safetensors_state_dict`); a state dict needs ``mode``.
        mode: ``"LSTM"``, ``"GRU"``, ``"RNN_TANH"`` or ``"RNN_RELU"`` (torch's ``module.mode``)
            for a state dict; read from a module.
        dtype: the layers' dtype; default the weights' (``float32`` for torch's defaults).
        name: prefix of the layer names (``torch_0``, ``torch_1``, ...).

    Returns:
        One layer per torch layer, in order: ``LSTM``/``GRU``/``SimpleRNN`` with
        ``return_sequences=True``, or a ``Bidirectional`` of it (``merge_mode="concat"``, as
        torch concatenates the directions). Stacked, they compute torch's ``output`` for
        batch-first inputs: ``keras.Sequential([keras.Input((None, I)), *layers])``. A
        ``proj_size > 0`` module raises ``ValueError``.
    """
    from ..layers import Bidirectional

    if hasattr(source, "state_dict") and callable(source.state_dict):
        config, stack = rnn_params_from_torch(source)
        mode = config["mode"]
    else:
        if mode is None:
            raise ValueError("layers_from_torch(state_dict) needs mode='LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'")
        mode = _canonical_mode(mode)
        stack = rnn_params_from_state_dict(source, mode=mode)
    mode = _canonical_mode(mode)
    result = []
    for index, directions in enumerate(stack):
        forward = directions["forward"]
        features = forward["kernel"].shape[0]
        layer_dtype = dtype or forward["kernel"].dtype.name
        layer = _layer(mode, forward, features, layer_dtype, f"{name}_{index}")
        if directions.get("backward") is not None:
            wrapper = Bidirectional(layer, merge_mode="concat", name=f"{name}_{index}_bidirectional")
            wrapper.build((None, None, features))
            wrapper.set_weights(layer.get_weights() + _layer(
                mode, directions["backward"], features, layer_dtype, f"{name}_{index}_b").get_weights())
            layer = wrapper
        result.append(layer)
    return result


def layers_to_torch(layers: Any) -> dict[str, NDArray[Any]]:
    """The torch state dict (NumPy arrays, torch's key names) of stacked recurrent layers.

    Args:
        layers: ``LSTM``/``GRU``/``SimpleRNN`` layers (or ``Bidirectional`` of them), all of
            one kind, as `layers_from_torch` returns them; or a model, whose recurrent layers
            are taken in order.

    Returns:
        ``{"weight_ih_l0": ..., ...}``; load it with ``module.load_state_dict({k:
        torch.from_numpy(v) for k, v in state.items()})`` into a module with the same
        ``num_layers``, ``bidirectional`` and ``bias``. A GRU with ``reset_after=False`` or a
        ``SimpleRNN`` whose activation is neither tanh nor relu has no torch twin:
        ``ValueError``.
    """
    if hasattr(layers, "layers") and not isinstance(layers, (list, tuple)):
        layers = [layer for layer in layers.layers if layer.params]
    stack, kinds = [], set()
    reset_after = True
    for layer in layers:
        directions = getattr(layer, "directions", (layer, None))
        first = directions[0]
        kind = type(first).__name__
        if kind == "SimpleRNN":
            if first.activation not in ("tanh", "relu"):
                raise ValueError(f"torch's RNN has tanh or relu; SimpleRNN {first.name!r} has {first.activation!r}")
            kind = "RNN_TANH" if first.activation == "tanh" else "RNN_RELU"
        elif kind not in _TORCH_MODE:
            raise ValueError(f"layers_to_torch takes LSTM, GRU and SimpleRNN layers, got {kind} {first.name!r}")
        if kind == "GRU":
            reset_after = reset_after and first.reset_after
        kinds.add(kind)
        stack.append({"forward": dict(first.params),
                      "backward": None if directions[1] is None else dict(directions[1].params)})
    if len(kinds) != 1:
        raise ValueError(f"a torch module has one kind of layer; got {sorted(kinds) or 'no recurrent layers'}")
    return rnn_state_dict_to_torch(stack, kinds.pop(), reset_after=reset_after)
