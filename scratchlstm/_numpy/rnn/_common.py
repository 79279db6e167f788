"""Checks and small helpers that the recurrent kernels (LSTM, GRU, SimpleRNN) share."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ..._checks import as_float_array, check_finite, check_ndim, check_shape
from ..._layout import as_rows


def read_only(view: NDArray[Any]) -> NDArray[Any]:
    """A read-only view (the caches hand out views of their buffers)."""
    view = view.view()
    view.flags.writeable = False
    return view


def check_recurrent_params(
    params: dict[str, Any], gates: int, bias_shapes: Callable[[int], tuple[tuple[int, ...], str]] | tuple[()] = ()
) -> tuple[int, int]:
    """Validate ``kernel (I, gates*H)``, ``recurrent_kernel (H, gates*H)`` and an optional bias.

    Args:
        params: the parameter dict.
        gates: the number of column blocks (4 LSTM, 3 GRU, 1 SimpleRNN).
        bias_shapes: ``(expected shape, what it means)`` when the bias is not ``(gates*H,)``
            (the GRU's ``(2, 3H)``), given as a function of ``units``; empty for the default.

    Returns:
        ``(input_features, units)``.
    """
    if not hasattr(params, "get"):
        raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
    for name in ("kernel", "recurrent_kernel"):
        if name not in params:
            raise ValueError(f"params must contain {name!r}; got keys {sorted(params)}")
    blocks = "units" if gates == 1 else f"{gates} * units"
    kernel = np.asarray(params["kernel"])
    check_ndim(kernel, 2, "params['kernel']", f"of shape (input_features, {blocks})")
    units = kernel.shape[1] // gates
    if kernel.shape[1] != gates * units or units == 0:
        raise ValueError(f"params['kernel'] must have {blocks} columns, got shape {kernel.shape} (at least one unit)")
    check_shape(np.asarray(params["recurrent_kernel"]), (units, gates * units), "params['recurrent_kernel']")
    if params.get("bias") is not None:
        expected, meaning = bias_shapes(units) if bias_shapes else ((gates * units,), "")
        if np.shape(params["bias"]) != expected:
            raise ValueError(f"params['bias'] must have shape {expected}{meaning}, got {np.shape(params['bias'])}")
    return kernel.shape[0], units


def unpack_states(initial_state: Any, batch: int, units: int, names: tuple[str, ...]) -> tuple[NDArray[Any], ...]:
    """The checked ``(B, H)`` initial states, one per name (``("h0",)``, ``("h0", "c0")``).

    A single state may also be given bare (``h0`` instead of ``(h0,)``).
    """
    if len(names) == 1 and not isinstance(initial_state, (list, tuple)):
        initial_state = (initial_state,)
    if not isinstance(initial_state, (list, tuple)) or len(initial_state) != len(names):
        what = "one array" if len(names) == 1 else ("a pair" if len(names) == 2 else f"{len(names)} arrays")
        raise ValueError(
            f"initial_state must be ({', '.join(names)}{',' if len(names) == 1 else ''}), {what} of shape "
            f"(batch, units) = {(batch, units)}, got {type(initial_state).__name__}"
            + (f" of length {len(initial_state)}" if hasattr(initial_state, "__len__") else "")
        )
    states: list[NDArray[Any]] = []
    for k, (value, name) in enumerate(zip(initial_state, names)):
        what = f"initial_state[{k}] ({name})"
        value = as_float_array(value, what)
        check_shape(value, (batch, units), what)
        check_finite(value, what)
        states.append(value)
    return tuple(states)


def time_major_mask(mask: ArrayLike, batch: int, steps: int) -> NDArray[Any]:
    """A ``(B, T)`` mask as time-major ``(T, B, 1)`` booleans (Keras casts masks to bool)."""
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biuf":
        raise ValueError(f"mask must be a (batch, time_steps) boolean array, got dtype {mask.dtype}")
    check_shape(mask, (batch, steps), "mask")
    return np.ascontiguousarray(mask.astype(bool).T)[:, :, None]


def recurrent_dropout_multipliers(
    recurrent_dropout_mask: ArrayLike | None, batch: int, units: int, dtype: DTypeLike
) -> NDArray[Any] | None:
    """Check a recurrent dropout mask: ``None``, or the ``(B, H)`` multipliers as a column-major
    ``dtype`` array (like the per-step slabs they multiply).

    Raises:
        ValueError: for a mask that is not numeric, not ``(batch, units)`` or not finite.
    """
    if recurrent_dropout_mask is None:
        return None
    multipliers = np.asarray(recurrent_dropout_mask)
    if multipliers.dtype.kind not in "biuf":
        raise ValueError(
            f"recurrent_dropout_mask must be a numeric (batch, units) array, got dtype {multipliers.dtype}"
        )
    check_shape(multipliers, (batch, units), "recurrent_dropout_mask")
    multipliers = np.asfortranarray(multipliers, dtype=dtype)
    check_finite(multipliers, "recurrent_dropout_mask")
    return multipliers


def recurrent_inputs(hiddens: NDArray[Any], dropout: NDArray[Any] | None) -> NDArray[Any]:
    """``h_{t-1} * m`` of every step as ``(H, T*B)`` rows (a view of ``hiddens`` without dropout)."""
    rows = as_rows(hiddens[:-1])  # (H, T*B)
    if dropout is None:
        return rows
    units, count = rows.shape
    batch = dropout.shape[0]
    masked: NDArray[Any] = (rows.reshape(units, count // batch, batch) * dropout.T[:, None, :]).reshape(units, count)
    return masked
