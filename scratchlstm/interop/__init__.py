"""Interoperability: PyTorch recurrent weights to and from this library's Keras layout.

Train a ``torch.nn.LSTM`` / ``GRU`` / ``RNN``, serve it with NumPy only, and export back.
Nothing here imports torch: the functions take NumPy arrays, torch tensors (read duck-typed
with ``.detach().cpu().numpy()``) or a torch module's attributes. See ``docs/interop.md``.

- one layer and direction: `lstm_params_from_torch` / `lstm_params_to_torch`,
  `gru_params_from_torch` / `gru_params_to_torch`,
  `simple_rnn_params_from_torch` / `simple_rnn_params_to_torch`;
- layers of this library equal to a whole torch module (or its state dict), and back:
  `layers_from_torch`, `layers_to_torch`;
- a whole (stacked, bidirectional) module's state dict: `rnn_params_from_state_dict`,
  `rnn_state_dict_to_torch`; a module itself: `rnn_params_from_torch`;
- files without torch: `load_safetensors_state_dict`, `save_safetensors_state_dict` (the
  ``safetensors`` extra).

Examples:
    A two-layer ``nn.LSTM(input_size=3, hidden_size=4, num_layers=2)``'s state dict, as
    ``load_safetensors_state_dict`` would return it (here random NumPy arrays), served with the
    NumPy LSTM one layer after the other, then exported back with torch's names:

    >>> import numpy as np
    >>> from scratchlstm import lstm_forward
    >>> from scratchlstm.interop import rnn_params_from_state_dict, rnn_state_dict_to_torch
    >>> rng = np.random.default_rng(0)
    >>> shapes = {"weight_ih_l0": (16, 3), "weight_hh_l0": (16, 4), "bias_ih_l0": (16,), "bias_hh_l0": (16,),
    ...           "weight_ih_l1": (16, 4), "weight_hh_l1": (16, 4), "bias_ih_l1": (16,), "bias_hh_l1": (16,)}
    >>> state_dict = {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}
    >>> layers = rnn_params_from_state_dict(state_dict, mode="LSTM")
    >>> x = rng.normal(size=(2, 5, 3)).astype(np.float32)       # (B, T, I), batch-first
    >>> for layer in layers:
    ...     x, (h, c), _ = lstm_forward(layer["forward"], x)
    >>> x.shape, x.dtype                                        # torch's output for batch_first=True
    ((2, 5, 4), dtype('float32'))
    >>> exported = rnn_state_dict_to_torch(layers, "LSTM")
    >>> list(exported) == list(state_dict)
    True
    >>> bool(np.array_equal(exported["weight_hh_l1"], state_dict["weight_hh_l1"]))
    True
"""

from ._layers import layers_from_torch, layers_to_torch
from ._safetensors import load_safetensors_state_dict, save_safetensors_state_dict
from ._torch_rnn import (
    gru_params_from_torch,
    gru_params_to_torch,
    lstm_params_from_torch,
    lstm_params_to_torch,
    rnn_params_from_state_dict,
    rnn_params_from_torch,
    rnn_state_dict_to_torch,
    simple_rnn_params_from_torch,
    simple_rnn_params_to_torch,
)

__all__ = [
    "gru_params_from_torch",
    "gru_params_to_torch",
    "layers_from_torch",
    "layers_to_torch",
    "load_safetensors_state_dict",
    "lstm_params_from_torch",
    "lstm_params_to_torch",
    "rnn_params_from_state_dict",
    "rnn_params_from_torch",
    "rnn_state_dict_to_torch",
    "save_safetensors_state_dict",
    "simple_rnn_params_from_torch",
    "simple_rnn_params_to_torch",
]
