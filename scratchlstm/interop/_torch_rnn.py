"""PyTorch ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` weights to and from this library's Keras layout.

Shapes: ``I`` input features, ``H`` units (torch's ``hidden_size``). Three levels, each built on
the one below:

1. One layer and direction, in both directions of conversion: `lstm_params_from_torch` /
   `lstm_params_to_torch`, and the same pairs for ``gru_`` and ``simple_rnn_``. They take torch's
   four arrays (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``; the keys of a
   ``torch.nn.LSTMCell``'s state dict) and return this library's parameter dict
   (``DESIGN.md`` §2), or the reverse.
2. A whole stacked, possibly bidirectional module's state dict: `rnn_params_from_state_dict` and
   `rnn_state_dict_to_torch`, with torch's key names ``weight_ih_l{k}``, ``weight_hh_l{k}``,
   ``bias_ih_l{k}``, ``bias_hh_l{k}`` and the suffix ``_reverse`` for the backward direction.
3. A torch module itself, read duck-typed (torch is never imported here): `rnn_params_from_torch`.

The layouts (torch stores ``W x`` with ``W`` of shape ``(gates * H, I)``; Keras stores
``x @ kernel`` with ``kernel`` of shape ``(I, gates * H)``):

    LSTM       kernel (I, 4H) = weight_ih.T     blocks [i, f, c, o] == torch rows [i, f, g, o]
               recurrent_kernel (H, 4H) = weight_hh.T
               bias (4H,) = bias_ih + bias_hh   (the two always enter the sum together)
    GRU        kernel (I, 3H) = weight_ih.T     blocks [z, r, h]  <-  torch rows [r, z, n]
               recurrent_kernel (H, 3H) = weight_hh.T, same reordering
               bias (2, 3H) = [bias_ih; bias_hh] reordered (Keras' reset_after=True:
               row 0 the input bias, row 1 the recurrent bias inside r * (...))
    SimpleRNN  kernel (I, H) = weight_ih.T, recurrent_kernel (H, H) = weight_hh.T,
               bias (H,) = bias_ih + bias_hh

Exactness: every conversion is a transpose, a reordering of blocks or a copy, so it is exact,
except the LSTM / SimpleRNN bias sum ``bias_ih + bias_hh`` (one float addition per entry). The
export writes the whole bias to ``bias_ih`` and zeros to ``bias_hh``, and the import takes an
all-zero ``bias_hh`` as nothing to add, so ours -> torch -> ours is bitwise (negative zeros
included). The GRU keeps torch's two biases apart (``bias (2, 3H)``) and is exact both ways.

Every function returns new arrays (never views of its arguments or of torch's parameters), in
the arguments' floating dtype, and raises ``ValueError`` naming what it expected and what
arrived before building anything.
"""

from __future__ import annotations

import re
from typing import Any, Callable, cast

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "gru_params_from_torch",
    "gru_params_to_torch",
    "lstm_params_from_torch",
    "lstm_params_to_torch",
    "rnn_params_from_state_dict",
    "rnn_params_from_torch",
    "rnn_state_dict_to_torch",
    "simple_rnn_params_from_torch",
    "simple_rnn_params_to_torch",
]

# torch's GRU rows are [r, z, n], Keras' GRU columns [z, r, h]: swap the first two blocks. The
# permutation is its own inverse, so the same tuple converts both ways.
_GRU_BLOCK_ORDER = (1, 0, 2)


# -- arrays -----------------------------------------------------------------------------------


def _to_numpy(value: Any, name: str) -> NDArray[Any]:
    """A NumPy view of ``value``: an array, a list, or a torch tensor (read duck-typed).

    Tensors are detached and moved to the CPU; ``bfloat16``, which NumPy lacks, becomes
    float32 (exact: every bfloat16 is a float32).
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without importing torch
        tensor = value.detach().cpu()
        try:
            return cast(NDArray[Any], tensor.numpy())
        except TypeError:  # bfloat16 and other dtypes NumPy does not have
            return cast(NDArray[Any], tensor.float().numpy())
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise ValueError(f"{name} must be a floating-point array, got dtype {array.dtype}")
    return array


def _check_shape(array: NDArray[Any], expected: tuple[int, ...], name: str, meaning: str) -> None:
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)} {meaning}, got {tuple(array.shape)}")


def _transposed_copy(matrix: NDArray[Any]) -> NDArray[Any]:
    """``matrix.T`` as a new C-contiguous array (never a view of the argument)."""
    return np.array(matrix.T, order="C", copy=True)


def _reorder_blocks(array: NDArray[Any], order: tuple[int, ...], axis: int) -> NDArray[Any]:
    """``array`` split into ``len(order)`` equal blocks along ``axis``, reassembled in ``order``."""
    blocks = np.split(array, len(order), axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


def _summed_bias(bias_ih: NDArray[Any] | None, bias_hh: NDArray[Any] | None) -> NDArray[Any] | None:
    """``bias_ih + bias_hh``; an all-zero (or missing) half adds nothing, so copies stay bitwise."""
    if bias_ih is None and bias_hh is None:
        return None
    if bias_hh is None or not np.any(bias_hh):
        return np.array(bias_ih if bias_ih is not None else np.zeros_like(bias_hh), copy=True)
    if bias_ih is None or not np.any(bias_ih):
        return np.array(bias_hh, copy=True)
    return cast(NDArray[Any], bias_ih + bias_hh)


# -- one layer and direction -------------------------------------------------------------------


def _read_torch_weights(
    kind: str, gates: int, weight_ih: Any, weight_hh: Any, bias_ih: Any, bias_hh: Any
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None, NDArray[Any] | None, int, int]:
    """Check torch's four arrays for one layer: ``((gates*H, I), (gates*H, H), (gates*H,) x2)``."""
    weight_ih = _to_numpy(weight_ih, "weight_ih")
    weight_hh = _to_numpy(weight_hh, "weight_hh")
    if weight_ih.ndim != 2 or weight_ih.shape[0] % gates or weight_ih.shape[0] == 0:
        raise ValueError(
            f"weight_ih of a torch {kind} must be 2-D ({gates}H, I) with {gates}H rows, "
            f"got shape {tuple(weight_ih.shape)}"
        )
    rows, features = weight_ih.shape
    units = rows // gates
    _check_shape(weight_hh, (rows, units), "weight_hh", f"({gates}H, H) for a torch {kind} with H = {units}")
    biases: list[NDArray[Any] | None] = []
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None:
            bias = _to_numpy(bias, name)
            _check_shape(bias, (rows,), name, f"({gates}H,) for a torch {kind} with H = {units}")
        biases.append(bias)
    return weight_ih, weight_hh, biases[0], biases[1], units, features


def _read_params(
    kind: str, gates: int, params: dict[str, Any], bias_shape: Callable[[int], tuple[tuple[int, ...], str]] | None
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any] | None, int]:
    """Check this library's ``kernel``, ``recurrent_kernel`` and optional ``bias`` for one layer."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict with 'kernel' and 'recurrent_kernel', got {type(params).__name__}")
    expected_keys = {"kernel", "recurrent_kernel", "bias"}
    missing = {"kernel", "recurrent_kernel"} - set(params)
    unexpected = set(params) - expected_keys
    if missing or unexpected:
        raise ValueError(
            f"{kind} params must have the keys ['kernel', 'recurrent_kernel'] and optionally 'bias', "
            f"got {sorted(params)} (missing {sorted(missing)}, unexpected {sorted(unexpected)})"
        )
    kernel = _to_numpy(params["kernel"], "params['kernel']")
    recurrent_kernel = _to_numpy(params["recurrent_kernel"], "params['recurrent_kernel']")
    if kernel.ndim != 2 or kernel.shape[1] % gates or kernel.shape[1] == 0:
        raise ValueError(
            f"params['kernel'] of a {kind} must be 2-D (I, {gates}H), got shape {tuple(kernel.shape)}"
        )
    units = kernel.shape[1] // gates
    _check_shape(
        recurrent_kernel, (units, gates * units), "params['recurrent_kernel']",
        f"(H, {gates}H) for a {kind} with H = {units} (from params['kernel'] {tuple(kernel.shape)})",
    )
    bias = params.get("bias")
    if bias is not None:
        bias = _to_numpy(bias, "params['bias']")
        if bias_shape is not None:
            shape, meaning = bias_shape(units)
            _check_shape(bias, shape, "params['bias']", f"{meaning} for a {kind} with H = {units}")
    return kernel, recurrent_kernel, bias, units


def _torch_dict(
    weight_ih: NDArray[Any], weight_hh: NDArray[Any], bias_ih: NDArray[Any] | None, bias_hh: NDArray[Any] | None
) -> dict[str, NDArray[Any]]:
    weights = {"weight_ih": weight_ih, "weight_hh": weight_hh}
    if bias_ih is not None:
        weights["bias_ih"] = bias_ih
        weights["bias_hh"] = bias_hh  # type: ignore[assignment]  # every caller gives both biases or neither
    return weights


def lstm_params_from_torch(weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None) -> dict[str, NDArray[Any]]:
    """Convert one ``torch.nn.LSTM`` layer's weights (one direction) to this library's LSTM params.

    Args:
        weight_ih: ``(4H, I)``, torch's ``weight_ih_l{k}``, rows ``[i, f, g, o]``. NumPy arrays
            or torch tensors (detached and copied to NumPy).
        weight_hh: ``(4H, H)``, torch's ``weight_hh_l{k}``.
        bias_ih, bias_hh: ``(4H,)`` each, or ``None`` (torch's ``bias=False``); one alone is
            taken as the whole bias (e.g. to convert a gradient: ``bias_ih.grad`` is the
            gradient of the summed bias).

    Returns:
        ``{"kernel": (I, 4H), "recurrent_kernel": (H, 4H), "bias": (4H,)}`` with
        ``kernel = weight_ih.T``, ``recurrent_kernel = weight_hh.T`` (gate blocks ``[i, f, c, o]``
        are torch's order) and ``bias = bias_ih + bias_hh``; without biases there is no
        ``"bias"`` key (Keras' ``use_bias=False``). The keys of a ``torch.nn.LSTMCell``'s
        state dict are this function's argument names: ``lstm_params_from_torch(**cell.state_dict())``.

    Examples:
        >>> import numpy as np
        >>> weight_ih = np.arange(24.0).reshape(8, 3)        # H = 2, I = 3
        >>> weight_hh = np.ones((8, 2))
        >>> params = lstm_params_from_torch(weight_ih, weight_hh, np.ones(8), np.full(8, 0.5))
        >>> params["kernel"].shape, params["recurrent_kernel"].shape, params["bias"][:3]
        ((3, 8), (2, 8), array([1.5, 1.5, 1.5]))
        >>> bool((params["kernel"] == weight_ih.T).all())
        True
    """
    weight_ih, weight_hh, bias_ih, bias_hh, _, _ = _read_torch_weights("LSTM", 4, weight_ih, weight_hh, bias_ih, bias_hh)
    params = {"kernel": _transposed_copy(weight_ih), "recurrent_kernel": _transposed_copy(weight_hh)}
    bias = _summed_bias(bias_ih, bias_hh)
    if bias is not None:
        params["bias"] = bias
    return params


def lstm_params_to_torch(params: dict[str, Any]) -> dict[str, NDArray[Any]]:
    """Convert this library's LSTM params to torch's weights for one layer and direction.

    The inverse of `lstm_params_from_torch`: ours -> torch -> ours is bitwise.

    Args:
        params: ``{"kernel": (I, 4H), "recurrent_kernel": (H, 4H), "bias": (4H,)}``; ``"bias"``
            may be absent.

    Returns:
        ``{"weight_ih": (4H, I), "weight_hh": (4H, H), "bias_ih": (4H,), "bias_hh": (4H,)}``,
        the whole bias in ``bias_ih`` and zeros in ``bias_hh``; without a bias only the two
        weights (for ``torch.nn.LSTM(..., bias=False)``). Load one layer into a module with
        ``getattr(module, name + "_l0").copy_(torch.from_numpy(value))`` under ``torch.no_grad()``,
        or a whole stack with `rnn_state_dict_to_torch`.

    Examples:
        >>> import numpy as np
        >>> params = {"kernel": np.ones((3, 8)), "recurrent_kernel": np.ones((2, 8)), "bias": np.arange(8.0)}
        >>> weights = lstm_params_to_torch(params)
        >>> {name: value.shape for name, value in weights.items()}
        {'weight_ih': (8, 3), 'weight_hh': (8, 2), 'bias_ih': (8,), 'bias_hh': (8,)}
        >>> back = lstm_params_from_torch(**weights)
        >>> all(np.array_equal(back[name], params[name]) for name in params)
        True
    """
    kernel, recurrent_kernel, bias, _ = _read_params("LSTM", 4, params, lambda h: ((4 * h,), "(4H,)"))
    bias_hh = None if bias is None else np.zeros_like(bias)
    bias_ih = None if bias is None else np.array(bias, copy=True)
    return _torch_dict(_transposed_copy(kernel), _transposed_copy(recurrent_kernel), bias_ih, bias_hh)


def gru_params_from_torch(weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None) -> dict[str, NDArray[Any]]:
    """Convert one ``torch.nn.GRU`` layer's weights (one direction) to this library's GRU params.

    torch's GRU is Keras' GRU with ``reset_after=True`` (the reset gate multiplies the
    recurrent projection, bias included, after the matmul)::

        z = sigmoid(x @ kernel_z + b_in_z + h @ recurrent_kernel_z + b_rec_z)   torch: W_iz x + b_iz + W_hz h + b_hz
        r = sigmoid(x @ kernel_r + b_in_r + h @ recurrent_kernel_r + b_rec_r)   torch: r
        n = tanh(x @ kernel_h + b_in_h + r * (h @ recurrent_kernel_h + b_rec_h)) torch: n
        h_t = z * h_{t-1} + (1 - z) * n

    Args:
        weight_ih: ``(3H, I)``, torch's ``weight_ih_l{k}``, rows ``[r, z, n]``.
        weight_hh: ``(3H, H)``, torch's ``weight_hh_l{k}``.
        bias_ih, bias_hh: ``(3H,)`` each, or ``None`` (torch's ``bias=False``); a single missing
            one counts as zeros.

    Returns:
        ``{"kernel": (I, 3H), "recurrent_kernel": (H, 3H), "bias": (2, 3H)}``, column blocks
        ``[z, r, h]``, ``bias[0]`` the input bias (``bias_ih``) and ``bias[1]`` the recurrent
        bias (``bias_hh``), exact. Without biases there is no ``"bias"`` key. Build the layer
        with ``reset_after=True`` (Keras' default).

    Examples:
        >>> import numpy as np
        >>> H, I = 2, 3
        >>> weight_ih = np.concatenate([np.full((H, I), 1.0), np.full((H, I), 2.0), np.full((H, I), 3.0)])
        >>> params = gru_params_from_torch(weight_ih, np.zeros((3 * H, H)), np.zeros(3 * H), np.ones(3 * H))
        >>> params["kernel"][0]          # torch's r rows (1.0) moved after z (2.0)
        array([2., 2., 1., 1., 3., 3.])
        >>> params["bias"].shape
        (2, 6)
    """
    weight_ih, weight_hh, bias_ih, bias_hh, _, _ = _read_torch_weights("GRU", 3, weight_ih, weight_hh, bias_ih, bias_hh)
    params = {
        "kernel": _reorder_blocks(weight_ih.T, _GRU_BLOCK_ORDER, axis=1),
        "recurrent_kernel": _reorder_blocks(weight_hh.T, _GRU_BLOCK_ORDER, axis=1),
    }
    if bias_ih is not None or bias_hh is not None:
        bias_ih = bias_ih if bias_ih is not None else np.zeros_like(bias_hh)
        bias_hh = bias_hh if bias_hh is not None else np.zeros_like(bias_ih)
        params["bias"] = _reorder_blocks(np.stack([bias_ih, bias_hh]), _GRU_BLOCK_ORDER, axis=1)  # (2, 3H)
    return params


def gru_params_to_torch(params: dict[str, Any], *, reset_after: bool = True) -> dict[str, NDArray[Any]]:
    """Convert this library's GRU params (``reset_after=True``) to torch's weights for one layer.

    The inverse of `gru_params_from_torch`, exact both ways.

    Args:
        params: ``{"kernel": (I, 3H), "recurrent_kernel": (H, 3H), "bias": (2, 3H)}``; ``"bias"``
            may be absent.
        reset_after: the Keras layer's ``reset_after``. torch's GRU applies the reset gate after
            the recurrent matmul, as Keras' ``reset_after=True``; a GRU with
            ``reset_after=False`` (``bias (3H,)``, ``r`` applied to ``h_{t-1}`` before the matmul)
            computes a different function that no ``torch.nn.GRU`` weights reproduce, so it
            raises ``ValueError``. Pass the layer's setting: without a bias the params alone
            cannot tell the two apart.

    Returns:
        ``{"weight_ih": (3H, I), "weight_hh": (3H, H), "bias_ih": (3H,), "bias_hh": (3H,)}``,
        rows ``[r, z, n]``; without a bias only the two weights.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 6)), "recurrent_kernel": rng.normal(size=(2, 6)),
        ...           "bias": rng.normal(size=(2, 6))}
        >>> weights = gru_params_to_torch(params)
        >>> weights["weight_ih"].shape, weights["bias_hh"].shape
        ((6, 3), (6,))
        >>> back = gru_params_from_torch(**weights)
        >>> all(np.array_equal(back[name], params[name]) for name in params)
        True
    """
    if not reset_after:
        raise ValueError(
            "a GRU with reset_after=False has no torch.nn.GRU equivalent: torch applies the reset "
            "gate after the recurrent matmul (Keras' reset_after=True); expected reset_after=True, "
            "got reset_after=False"
        )
    kernel, recurrent_kernel, bias, units = _read_params("GRU", 3, params, None)
    if bias is not None and tuple(bias.shape) == (3 * units,):
        raise ValueError(
            f"params['bias'] of shape {tuple(bias.shape)} is a GRU with reset_after=False, which has no "
            f"torch.nn.GRU equivalent (torch applies the reset gate after the recurrent matmul); "
            f"expected a reset_after=True bias of shape {(2, 3 * units)}"
        )
    if bias is not None:
        _check_shape(bias, (2, 3 * units), "params['bias']", f"(2, 3H) (reset_after=True) for a GRU with H = {units}")
    weights = {
        "weight_ih": _reorder_blocks(kernel, _GRU_BLOCK_ORDER, axis=1).T.copy(),
        "weight_hh": _reorder_blocks(recurrent_kernel, _GRU_BLOCK_ORDER, axis=1).T.copy(),
    }
    if bias is not None:
        torch_bias = _reorder_blocks(bias, _GRU_BLOCK_ORDER, axis=1)  # (2, 3H), rows [ih; hh]
        weights["bias_ih"] = torch_bias[0].copy()
        weights["bias_hh"] = torch_bias[1].copy()
    return weights


def simple_rnn_params_from_torch(weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None) -> dict[str, NDArray[Any]]:
    """Convert one ``torch.nn.RNN`` layer's weights (one direction) to this library's SimpleRNN params.

    ``h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`` with torch's
    ``nonlinearity`` (``"tanh"`` or ``"relu"``) as the Keras layer's ``activation``.

    Args:
        weight_ih: ``(H, I)``, torch's ``weight_ih_l{k}``.
        weight_hh: ``(H, H)``, torch's ``weight_hh_l{k}``.
        bias_ih, bias_hh: ``(H,)`` each, or ``None`` (torch's ``bias=False``); one alone is
            taken as the whole bias.

    Returns:
        ``{"kernel": (I, H), "recurrent_kernel": (H, H), "bias": (H,)}`` with
        ``bias = bias_ih + bias_hh``; without biases there is no ``"bias"`` key.

    Examples:
        >>> import numpy as np
        >>> params = simple_rnn_params_from_torch(np.ones((2, 3)), np.eye(2), np.ones(2), np.ones(2))
        >>> params["kernel"].shape, params["bias"]
        ((3, 2), array([2., 2.]))
    """
    weight_ih, weight_hh, bias_ih, bias_hh, _, _ = _read_torch_weights("RNN", 1, weight_ih, weight_hh, bias_ih, bias_hh)
    params = {"kernel": _transposed_copy(weight_ih), "recurrent_kernel": _transposed_copy(weight_hh)}
    bias = _summed_bias(bias_ih, bias_hh)
    if bias is not None:
        params["bias"] = bias
    return params


def simple_rnn_params_to_torch(params: dict[str, Any]) -> dict[str, NDArray[Any]]:
    """Convert this library's SimpleRNN params to torch's weights for one layer and direction.

    The inverse of `simple_rnn_params_from_torch`: ours -> torch -> ours is bitwise.

    Args:
        params: ``{"kernel": (I, H), "recurrent_kernel": (H, H), "bias": (H,)}``; ``"bias"`` may
            be absent.

    Returns:
        ``{"weight_ih": (H, I), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}``, the
        whole bias in ``bias_ih`` and zeros in ``bias_hh``; without a bias only the two weights.

    Examples:
        >>> import numpy as np
        >>> weights = simple_rnn_params_to_torch({"kernel": np.ones((3, 2)), "recurrent_kernel": np.eye(2),
        ...                                       "bias": np.array([0.5, -0.5])})
        >>> weights["weight_ih"].shape, weights["bias_ih"], weights["bias_hh"]
        ((2, 3), array([ 0.5, -0.5]), array([0., 0.]))
    """
    kernel, recurrent_kernel, bias, _ = _read_params("SimpleRNN", 1, params, lambda h: ((h,), "(H,)"))
    bias_hh = None if bias is None else np.zeros_like(bias)
    bias_ih = None if bias is None else np.array(bias, copy=True)
    return _torch_dict(_transposed_copy(kernel), _transposed_copy(recurrent_kernel), bias_ih, bias_hh)


# -- modes ---------------------------------------------------------------------------------------

# canonical mode -> (gates, params_from_torch, params_to_torch, Keras layer class name)
_KINDS = {
    "LSTM": (4, lstm_params_from_torch, lstm_params_to_torch, "LSTM"),
    "GRU": (3, gru_params_from_torch, gru_params_to_torch, "GRU"),
    "RNN_TANH": (1, simple_rnn_params_from_torch, simple_rnn_params_to_torch, "SimpleRNN"),
    "RNN_RELU": (1, simple_rnn_params_from_torch, simple_rnn_params_to_torch, "SimpleRNN"),
}
# the weights of nn.RNN do not depend on the nonlinearity: "RNN" converts as RNN_TANH does
_MODE_ALIASES = {"RNN": "RNN_TANH", "SIMPLERNN": "RNN_TANH", "LSTMCELL": "LSTM", "GRUCELL": "GRU", "RNNCELL": "RNN_TANH"}
_GATES_TO_MODE = {4: "LSTM", 3: "GRU", 1: "RNN"}


def _canonical_mode(mode: object) -> str:
    name = str(mode).upper()
    name = _MODE_ALIASES.get(name, name)
    if name not in _KINDS:
        raise ValueError(
            f"mode must be one of 'LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU' (or torch's class names "
            f"'LSTM', 'GRU', 'RNN'), got {mode!r}"
        )
    return name


# -- whole state dicts ---------------------------------------------------------------------------

_KEY = re.compile(r"^(?P<name>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(?P<layer>\d+)(?P<reverse>_reverse)?$")
_DIRECTIONS = (("forward", ""), ("backward", "_reverse"))


def _torch_key(name: str, layer: int, suffix: str) -> str:
    return f"{name}_l{layer}{suffix}"


def rnn_params_from_state_dict(state_dict: dict[str, Any], *, mode: str, num_layers: int | None = None,
                               bidirectional: bool | None = None, prefix: str | None = None) -> list[dict[str, Any]]:
    """Convert a ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` state dict to per-layer params.

    The state dict may come from ``module.state_dict()`` (tensors), from a file
    (`load_safetensors_state_dict`, NumPy arrays) or be any mapping with torch's key names:
    ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, each also with the
    suffix ``_reverse`` for the backward direction of a bidirectional module.

    Args:
        state_dict: a mapping from those names to arrays or tensors.
        mode: ``"LSTM"``, ``"GRU"``, ``"RNN_TANH"`` or ``"RNN_RELU"`` (torch's ``module.mode``),
            or the class names ``"LSTM"``, ``"GRU"``, ``"RNN"`` (case-insensitive; the weights of
            ``nn.RNN`` do not depend on its nonlinearity).
        num_layers: torch's ``num_layers``, or ``None`` to infer it from the keys. When given, it
            is checked against the keys.
        bidirectional: torch's ``bidirectional``, or ``None`` to infer it (any ``_reverse`` key).
        prefix: ``None`` (every key must be one of the names above), or the name of the
            recurrent submodule inside a bigger model's state dict, e.g. ``"encoder.lstm."``:
            then only the keys that start with it are read (with it removed) and the others are
            ignored.

    Returns:
        A list with one entry per layer, bottom first: ``{"forward": params, "backward": params
        or None}``, ``params`` in this library's layout for the mode (see `lstm_params_from_torch`,
        `gru_params_from_torch`, `simple_rnn_params_from_torch`). Layer ``k > 0`` of a
        bidirectional stack takes the ``(B, T, 2H)`` concatenation ``[forward, backward]`` of
        layer ``k - 1``'s outputs as input, so its kernel has ``2H`` rows.

    Raises:
        ValueError: an unknown mode; missing or unexpected keys; keys of a projected LSTM
            (``weight_hr_l{k}``, torch's ``proj_size > 0``, which this library does not have);
            shapes that do not fit the mode, one hidden size and the stacking; a ``num_layers`` or
            ``bidirectional`` that disagrees with the keys.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> H, I = 2, 3
        >>> state_dict = {"weight_ih_l0": rng.normal(size=(4 * H, I)), "weight_hh_l0": rng.normal(size=(4 * H, H)),
        ...               "weight_ih_l1": rng.normal(size=(4 * H, H)), "weight_hh_l1": rng.normal(size=(4 * H, H))}
        >>> layers = rnn_params_from_state_dict(state_dict, mode="LSTM")
        >>> len(layers), sorted(layers[1]["forward"]), layers[1]["backward"]
        (2, ['kernel', 'recurrent_kernel'], None)
    """
    mode = _canonical_mode(mode)
    gates, params_from_torch, _, _ = _KINDS[mode]
    found = _parse_keys(state_dict, mode, prefix)
    num_layers, suffixes, has_bias = _stack_layout(found, mode, num_layers, bidirectional)
    units = _hidden_size(found, mode, gates)
    directions = len(suffixes)
    layers: list[dict[str, Any]] = []
    for layer in range(num_layers):
        entry: dict[str, Any] = {"forward": None, "backward": None}
        for direction, suffix in _DIRECTIONS[:directions]:
            def read(name: str, layer: int = layer, suffix: str = suffix) -> NDArray[Any]:
                return _to_numpy(found[(name, layer, suffix)], _torch_key(name, layer, suffix))

            weight_ih = read("weight_ih")
            if layer > 0:  # reads the (B, T, D*H) outputs of the layer below
                _check_shape(
                    weight_ih, (gates * units, directions * units), _torch_key("weight_ih", layer, suffix),
                    f"({gates}H, {'2H' if directions == 2 else 'H'}) stacked on layer {layer - 1} with H = {units}",
                )
            biases = (read("bias_ih"), read("bias_hh")) if has_bias else (None, None)
            try:
                params = params_from_torch(weight_ih, read("weight_hh"), *biases)
            except ValueError as error:
                raise ValueError(f"layer {layer} ({direction}) of the torch {mode} state dict: {error}") from None
            if params["recurrent_kernel"].shape[0] != units:
                raise ValueError(
                    f"{_torch_key('weight_hh', layer, suffix)} has hidden size {params['recurrent_kernel'].shape[0]}, "
                    f"expected {units} (every layer of a torch {mode} has the same hidden_size)"
                )
            entry[direction] = params
        if directions == 2 and entry["forward"]["kernel"].shape[0] != entry["backward"]["kernel"].shape[0]:
            raise ValueError(
                f"weight_ih_l{layer}_reverse has input size {entry['backward']['kernel'].shape[0]}, expected "
                f"{entry['forward']['kernel'].shape[0]} as weight_ih_l{layer}'s"
            )
        layers.append(entry)
    return layers


def _parse_keys(state_dict: Any, mode: str, prefix: str | None) -> dict[tuple[str, int, str], Any]:
    """``{(name, layer, suffix): value}`` for torch's recurrent keys; ValueError for anything else."""
    if not hasattr(state_dict, "keys"):
        raise ValueError(f"state_dict must be a mapping of torch's key names to arrays, got {type(state_dict).__name__}")
    if prefix:
        state_dict = {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
        if not state_dict:
            raise ValueError(f"no key of the state dict starts with prefix={prefix!r}")
    found: dict[tuple[str, int, str], Any] = {}
    unexpected: list[str] = []
    for key in state_dict.keys():
        match = _KEY.match(str(key))
        if match is None:
            unexpected.append(key)
        else:
            found[(match["name"], int(match["layer"]), match["reverse"] or "")] = state_dict[key]
    if unexpected:
        raise ValueError(
            f"unexpected keys {sorted(map(str, unexpected))} in a torch {mode} state dict: expected only "
            f"weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k> (and the same with _reverse); "
            f"pass prefix='<submodule>.' to read one module out of a bigger model's state dict"
        )
    if not found:
        raise ValueError(f"the state dict has no weights: expected weight_ih_l0, weight_hh_l0, ... for a torch {mode}")
    projections = sorted(_torch_key(*key) for key in found if key[0] == "weight_hr")
    if projections:
        proj_size = np.shape(found[next(key for key in found if key[0] == "weight_hr")])[0]
        raise ValueError(
            f"the state dict has projection weights {projections}, from an nn.LSTM with proj_size="
            f"{proj_size}; this library's LSTM has no projection (expected proj_size=0)"
        )
    return found


def _stack_layout(
    found: dict[tuple[str, int, str], Any], mode: str, num_layers: int | None, bidirectional: bool | None
) -> tuple[int, list[str], bool]:
    """``(num_layers, suffixes, has_bias)`` from the keys, checked against the given values."""
    layer_numbers = sorted({layer for _, layer, _ in found})
    inferred_layers = layer_numbers[-1] + 1
    if num_layers is None:
        num_layers = inferred_layers
    elif num_layers != inferred_layers:
        raise ValueError(f"num_layers={num_layers} but the state dict has weights for layers {layer_numbers}")
    inferred_bidirectional = any(suffix for _, _, suffix in found)
    if bidirectional is None:
        bidirectional = inferred_bidirectional
    elif bool(bidirectional) != inferred_bidirectional:
        raise ValueError(
            f"bidirectional={bool(bidirectional)} but the state dict "
            f"{'has' if inferred_bidirectional else 'has no'} '_reverse' keys"
        )
    suffixes = ["", "_reverse"] if bidirectional else [""]
    has_bias = any(name.startswith("bias") for name, _, _ in found)  # torch's bias flag is module-wide
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if has_bias else [])
    expected = {(name, layer, suffix) for layer in range(num_layers) for suffix in suffixes for name in names}
    missing = sorted(_torch_key(*key) for key in expected - set(found))
    if missing:
        raise ValueError(
            f"the torch {mode} state dict (num_layers={num_layers}, bidirectional={bool(bidirectional)}, "
            f"bias={has_bias}) is missing the keys {missing}"
        )
    return num_layers, suffixes, has_bias


def _hidden_size(found: dict[tuple[str, int, str], Any], mode: str, gates: int) -> int:
    """H of the whole stack, from ``weight_hh_l0`` ``(gates*H, H)``; names the likely mode if it does not fit."""
    shape = np.shape(found[("weight_hh", 0, "")])
    if len(shape) != 2 or shape[1] == 0 or shape[0] != gates * shape[1]:
        guess = None
        if len(shape) == 2 and shape[1] and shape[0] % shape[1] == 0:
            guess = _GATES_TO_MODE.get(shape[0] // shape[1])
        hint = f" (the shape of a torch {guess}'s; is mode={guess!r} meant?)" if guess else ""
        raise ValueError(f"weight_hh_l0 of a torch {mode} must have shape ({gates}H, H), got {tuple(shape)}{hint}")
    return cast(int, shape[1])


def rnn_state_dict_to_torch(layers: Any, mode: str, *, reset_after: bool = True) -> dict[str, NDArray[Any]]:
    """Convert per-layer params (as `rnn_params_from_state_dict` returns) to a torch state dict.

    Args:
        layers: a list with one entry per layer, bottom first: ``{"forward": params,
            "backward": params or None}``; either every layer has a backward direction
            (torch's ``bidirectional=True``) or none has. A layer ``k > 0`` takes ``H`` inputs
            (``2H`` when bidirectional), and every layer and direction has a bias or none has
            (torch's ``bias`` applies to the whole module).
        mode: as in `rnn_params_from_state_dict`. For ``"GRU"`` every params dict must be a
            ``reset_after=True`` GRU (``bias (2, 3H)``).
        reset_after: GRU only (ignored otherwise): the Keras layers' ``reset_after``, passed to
            `gru_params_to_torch`; ``False`` raises ``ValueError`` (no torch equivalent).

    Returns:
        A dict of new NumPy arrays with torch's key names in torch's order (``weight_ih_l0``,
        ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``weight_ih_l0_reverse``, ...). Load it
        with ``module.load_state_dict({k: torch.from_numpy(v) for k, v in result.items()})``
        into a module built with the matching ``input_size``, ``hidden_size``, ``num_layers``,
        ``bidirectional`` and ``bias``. For the LSTM and SimpleRNN, ``bias_hh`` holds zeros.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> forward = {"kernel": rng.normal(size=(3, 2)), "recurrent_kernel": rng.normal(size=(2, 2)),
        ...            "bias": rng.normal(size=2)}
        >>> state_dict = rnn_state_dict_to_torch([{"forward": forward, "backward": None}], "RNN_TANH")
        >>> list(state_dict)
        ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
        >>> back = rnn_params_from_state_dict(state_dict, mode="RNN")
        >>> np.array_equal(back[0]["forward"]["kernel"], forward["kernel"])
        True
    """
    mode = _canonical_mode(mode)
    gates, _, params_to_torch, _ = _KINDS[mode]
    if mode == "GRU":
        def params_to_torch(params: dict[str, Any]) -> dict[str, NDArray[Any]]:
            return gru_params_to_torch(params, reset_after=reset_after)
    if isinstance(layers, dict) or not hasattr(layers, "__len__") or len(layers) == 0:
        raise ValueError(
            f"layers must be a non-empty list of {{'forward': params, 'backward': params or None}}, "
            f"got {type(layers).__name__}{'' if not hasattr(layers, '__len__') else f' of length {len(layers)}'}"
        )
    for index, entry in enumerate(layers):
        if not isinstance(entry, dict) or "forward" not in entry or set(entry) - {"forward", "backward"}:
            keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(f"layers[{index}] must be a dict with keys 'forward' and 'backward', got {keys}")
    bidirectional = [entry.get("backward") is not None for entry in layers]
    if len(set(bidirectional)) > 1:
        raise ValueError(
            f"torch stacks are bidirectional in every layer or in none; backward directions given for "
            f"layers {[k for k, b in enumerate(bidirectional) if b]} of {len(layers)}"
        )
    suffixes = ["", "_reverse"] if bidirectional[0] else [""]

    converted: dict[tuple[int, str], dict[str, NDArray[Any]]] = {}  # (layer, suffix) -> torch weights dict
    for layer, entry in enumerate(layers):
        for (direction, suffix) in _DIRECTIONS[: len(suffixes)]:
            try:
                converted[(layer, suffix)] = params_to_torch(entry[direction])
            except ValueError as error:
                raise ValueError(f"layers[{layer}][{direction!r}] ({mode}): {error}") from None

    first = converted[(0, "")]
    units = first["weight_hh"].shape[1]
    input_size = first["weight_ih"].shape[1]
    has_bias = "bias_ih" in first
    for (layer, suffix), weights in converted.items():
        where = f"layers[{layer}][{'backward' if suffix else 'forward'!r}]"
        expected_inputs = input_size if layer == 0 else units * len(suffixes)
        expected = (gates * units, expected_inputs)
        if weights["weight_ih"].shape != expected or weights["weight_hh"].shape[1] != units:
            raise ValueError(
                f"{where}['kernel'] must have shape {expected[::-1]} (I = {expected_inputs}, H = {units} "
                f"as layer 0's) in a torch {mode} stack, got {weights['weight_ih'].shape[::-1]}"
            )
        if ("bias_ih" in weights) != has_bias:
            raise ValueError(
                f"torch's bias flag covers the whole module: layers[0]['forward'] "
                f"{'has' if has_bias else 'has no'} bias but {where} {'has' if not has_bias else 'has no'} bias"
            )

    state_dict: dict[str, NDArray[Any]] = {}
    for layer in range(len(layers)):
        for suffix in suffixes:
            for name, value in converted[(layer, suffix)].items():
                state_dict[_torch_key(name, layer, suffix)] = value
    return state_dict


# -- torch modules ---------------------------------------------------------------------------------


def rnn_params_from_torch(module: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a ``torch.nn.LSTM`` / ``GRU`` / ``RNN`` (or ``LSTMCell`` / ``GRUCell`` / ``RNNCell``).

    The module is read duck-typed (this function imports nothing from torch): its ``mode``
    (``"LSTM"``, ``"GRU"``, ``"RNN_TANH"``, ``"RNN_RELU"``; a cell's class name instead),
    ``input_size``, ``hidden_size``, ``num_layers``, ``bidirectional``, ``proj_size``,
    ``batch_first``, ``nonlinearity``, ``bias``, ``dropout`` and ``state_dict()``.

    ``batch_first`` changes only the axis order of torch's inputs and outputs, never the
    weights: this library is batch-first ``(B, T, I)``; with ``batch_first=False`` transpose
    torch's ``(T, B, I)`` data. ``dropout`` (between stacked layers) acts only in training,
    so it plays no part in inference; it is reported in the config.

    Args:
        module: the torch module (any object with those attributes).

    Returns:
        ``(config, layers)``: ``layers`` as `rnn_params_from_state_dict` returns it, and
        ``config`` a dict with torch's settings (``mode``, ``input_size``, ``hidden_size``,
        ``num_layers``, ``bidirectional``, ``batch_first``, ``bias``, ``dropout``,
        ``nonlinearity``, ``cell``) plus ``"keras"``: the arguments of the equivalent layer of this
        library (``class_name`` ``"LSTM"`` / ``"GRU"`` / ``"SimpleRNN"``, ``units``,
        ``use_bias``, ``activation``, and ``reset_after=True`` for the GRU), one such layer per
        torch layer and direction.

    Raises:
        ValueError: ``proj_size > 0``; a module that is not an RNN; the errors of
            `rnn_params_from_state_dict`; weights that disagree with ``hidden_size`` /
            ``input_size``.

    Examples:
        With torch: ``config, layers = rnn_params_from_torch(torch.nn.GRU(3, 2, batch_first=True))``.
        Any object with the same attributes works, which is all this function looks at:

        >>> import numpy as np
        >>> class GRULike:
        ...     mode, input_size, hidden_size, num_layers, bidirectional = "GRU", 3, 2, 1, False
        ...     batch_first, bias, dropout, proj_size = True, True, 0.0, 0
        ...     def state_dict(self):
        ...         rng = np.random.default_rng(0)
        ...         return {"weight_ih_l0": rng.normal(size=(6, 3)), "weight_hh_l0": rng.normal(size=(6, 2)),
        ...                 "bias_ih_l0": rng.normal(size=6), "bias_hh_l0": rng.normal(size=6)}
        >>> config, layers = rnn_params_from_torch(GRULike())
        >>> config["keras"]
        {'class_name': 'GRU', 'units': 2, 'use_bias': True, 'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'reset_after': True}
        >>> layers[0]["forward"]["bias"].shape, layers[0]["backward"]
        ((2, 6), None)
    """
    class_name = type(module).__name__
    is_cell = class_name.upper() in ("LSTMCELL", "GRUCELL", "RNNCELL")
    mode = getattr(module, "mode", None) if not is_cell else class_name
    if mode is None or not hasattr(module, "state_dict"):
        raise ValueError(
            f"expected a torch.nn.LSTM, GRU or RNN (or LSTMCell, GRUCell, RNNCell) with .mode and "
            f".state_dict(), got {class_name}"
        )
    mode = _canonical_mode(mode)
    nonlinearity = getattr(module, "nonlinearity", None)
    if mode == "RNN_TANH" and nonlinearity == "relu":  # an RNNCell: the class name says only "RNN"
        mode = "RNN_RELU"
    proj_size = int(getattr(module, "proj_size", 0) or 0)
    if proj_size > 0:
        raise ValueError(
            f"the torch {class_name} has proj_size={proj_size}; this library's LSTM has no output "
            f"projection (expected proj_size=0)"
        )
    state_dict = module.state_dict()
    hidden_size = int(module.hidden_size)
    input_size = int(module.input_size)
    if is_cell:
        params_from_torch = _KINDS[mode][1]
        expected_keys = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"} if module.bias else {"weight_ih", "weight_hh"}
        if set(state_dict) != expected_keys:
            raise ValueError(f"a torch {class_name} state dict must have the keys {sorted(expected_keys)}, got {sorted(state_dict)}")
        layers: list[dict[str, Any]] = [{"forward": params_from_torch(**state_dict), "backward": None}]
        num_layers, bidirectional, batch_first, dropout = 1, False, None, 0.0
    else:
        num_layers = int(module.num_layers)
        bidirectional = bool(module.bidirectional)
        layers = rnn_params_from_state_dict(state_dict, mode=mode, num_layers=num_layers, bidirectional=bidirectional)
        batch_first = bool(getattr(module, "batch_first", False))
        dropout = float(getattr(module, "dropout", 0.0) or 0.0)
    first = layers[0]["forward"]
    got = (first["kernel"].shape[0], first["recurrent_kernel"].shape[0])
    if got != (input_size, hidden_size):
        raise ValueError(
            f"the torch {class_name} says input_size={input_size}, hidden_size={hidden_size}, but its "
            f"weights have input_size={got[0]}, hidden_size={got[1]}"
        )
    _, _, _, keras_class = _KINDS[mode]
    use_bias = "bias" in first
    keras = {
        "class_name": keras_class,
        "units": hidden_size,
        "use_bias": use_bias,
        "activation": "relu" if mode == "RNN_RELU" else "tanh",
    }
    if mode != "RNN_TANH" and mode != "RNN_RELU":
        keras["recurrent_activation"] = "sigmoid"
    if mode == "GRU":
        keras["reset_after"] = True
    config = {
        "mode": mode,
        "input_size": input_size,
        "hidden_size": hidden_size,
        "num_layers": num_layers,
        "bidirectional": bidirectional,
        "batch_first": batch_first,
        "bias": use_bias,
        "dropout": dropout,
        "nonlinearity": "relu" if mode == "RNN_RELU" else ("tanh" if mode == "RNN_TANH" else None),
        "cell": is_cell,
        "keras": keras,
    }
    return config, layers
