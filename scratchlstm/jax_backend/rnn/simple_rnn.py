"""The SimpleRNN forward pass as a pure JAX function built on ``lax.scan``, and its one step.

Shapes: ``B`` batch, ``T`` time steps, ``I`` input features, ``H`` units. Same parameter dict
as the NumPy reference (``scratchlstm._numpy.rnn.simple_rnn``, Keras 3's layout):

    kernel            (I, H)
    recurrent_kernel  (H, H)
    bias              (H,)      optional

For t = 1..T (one ``lax.scan`` step each, so compile time does not grow with T), with any
Keras ``activation`` (tanh by default) and an optional recurrent dropout mask ``m (B, H)``:

    z_t = x_t @ kernel + (h_{t-1} * m) @ recurrent_kernel + bias        (B, H)
    h_t = activation(z_t)

Masks (Keras' ``RNN``): a masked step of a row keeps its state and outputs it (zeros with
``zero_output_for_mask``); calls without a mask trace no mask code, calls without a dropout
mask no dropout code.

Gradients: by default (``gradient="bptt"``) a ``jax.custom_vjp`` runs the reference's BPTT as
a reverse ``lax.scan`` (the forward saves each step's slope ``activation'(z_t)``, so a backward
step is one multiplication and one GEMM), then the weight and input gradients as one GEMM each
over all ``T*B`` rows, as the LSTM (``scratchlstm.jax_backend.rnn.lstm``).
``gradient="autodiff"`` differentiates the forward scan with JAX's reverse mode; activations
along an axis (``softmax``, ``log_softmax``, ``sparsemax``) always use it.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from ..._numpy.activations import activation_name
from .._activations import get_activation as get_jax_activation
from ._runner import check_remat, recurrent_layer_forward, remat_forward
from .lstm import AXIS_ACTIVATIONS, _static_shape, activation_and_slope, compute_dtype, recurrent_dropout_multipliers

# As the LSTM's measured defaults (benchmarks/bench_lstm.py): x_t @ kernel inside the scanned step.
DEFAULT_PROJECTION = "inside"
DEFAULT_GRADIENT = "bptt"

# the scans' static configuration: (projection, unroll, zero_output, activation name)
_Static = tuple[str, int, bool, str]


def check_simple_rnn_params(params: Any) -> tuple[int, int]:
    """Validate a SimpleRNN parameter dict from its (static) shapes; return ``(I, H)``."""
    if not hasattr(params, "get"):
        raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
    for name in ("kernel", "recurrent_kernel"):
        if name not in params:
            raise ValueError(f"params must contain {name!r}; got keys {sorted(params)}")
    kernel = _static_shape(params["kernel"], "params['kernel']")
    if len(kernel) != 2 or kernel[1] == 0:
        raise ValueError(f"params['kernel'] must have shape (input_features, units), got {kernel}")
    units = kernel[1]
    recurrent = _static_shape(params["recurrent_kernel"], "params['recurrent_kernel']")
    if recurrent != (units, units):
        raise ValueError(f"params['recurrent_kernel'] must have shape {(units, units)}, got {recurrent}")
    if params.get("bias") is not None:
        bias = _static_shape(params["bias"], "params['bias']")
        if bias != (units,):
            raise ValueError(f"params['bias'] must have shape {(units,)}, got {bias}")
    return kernel[0], units


def _unpack_state(state: Any, batch: int, units: int, name: str) -> Any:
    """``(h,)``, ``[h]`` or a bare ``h`` -> ``h`` with its shape checked."""
    if isinstance(state, (list, tuple)):
        if len(state) != 1:
            raise ValueError(
                f"{name} must be (h,), one array of shape (batch, units) = {(batch, units)}, "
                f"got a {type(state).__name__} of length {len(state)}"
            )
        state = state[0]
    shape = _static_shape(state, f"{name}[0] (h)")
    if shape != (batch, units):
        raise ValueError(f"{name}[0] (h) must have shape {(batch, units)}, got {shape}")
    return state


def simple_rnn_forward(
    params: dict[str, Any],
    x: Any,
    initial_state: Any = None,
    *,
    mask: Any = None,
    zero_output_for_mask: bool = False,
    recurrent_dropout_mask: Any = None,
    activation: Any = "tanh",
    projection: str | None = None,
    unroll: int = 1,
    gradient: str | None = None,
    remat: int | None = None,
) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    """Run the SimpleRNN over a whole sequence; pure, so usable under ``jit``, ``grad``, ``vmap``.

    Args:
        params: ``{"kernel": (I, H), "recurrent_kernel": (H, H), "bias": (H,)}`` (``"bias"`` may
            be absent or ``None``). NumPy or JAX arrays.
        x: ``(B, T, I)`` inputs.
        initial_state: ``None`` (zeros) or ``(h_0,)`` with ``h_0`` ``(B, H)`` (a bare array too).
        mask: ``None`` or ``(B, T)`` booleans (nonzero numbers count as ``True``): at a step
            where ``mask[b, t]`` is ``False``, row ``b`` keeps its state and outputs it.
        zero_output_for_mask: with a mask, outputs zeros at masked steps instead.
        recurrent_dropout_mask: ``None`` or ``(B, H)`` multipliers ``m`` of ``h_{t-1}`` in the
            recurrent GEMM, fixed for the sequence.
        activation: a Keras activation name, ``None`` (linear) or a ``scratchlstm.activations``
            function; tanh by default.
        projection: ``"inside"`` (``x_t @ kernel`` in each scanned step) or ``"outside"`` (one
            GEMM over all ``T*B`` rows before the scan); ``None`` for ``DEFAULT_PROJECTION``.
        unroll: passed to ``lax.scan``.
        gradient: ``"bptt"`` (the hand-written BPTT as a ``jax.custom_vjp``; no forward mode),
            ``"autodiff"`` (JAX's reverse mode through the scan) or ``None`` for
            ``DEFAULT_GRADIENT``. An activation along an axis always uses ``"autodiff"``.
        remat: ``None`` or ``k``, steps per ``jax.checkpoint``-ed chunk (reverse-mode memory
            ``O(T / k + k)`` steps instead of ``O(T)``; see ``_runner.remat_forward``).

    Returns:
        ``(outputs, (h_T,))``: ``outputs`` ``(B, T, H)`` holds ``h_1..h_T``.

    The dtype is the promotion of the inputs: float32 by default, float64 when
    ``jax_enable_x64`` is on and an input is float64.

    Equations, for t = 1..T:

        z_t = x_t @ kernel + (h_{t-1} * m) @ recurrent_kernel + bias
        h_t = activation(z_t)

    and with a mask ``mask_t (B, 1)``: ``h_t = where(mask_t, activation(z_t), h_{t-1})``,
    ``output_t = h_t`` (or ``where(mask_t, h_t, 0)`` with ``zero_output_for_mask``).

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 2)).astype("float32"),
        ...           "recurrent_kernel": rng.normal(size=(2, 2)).astype("float32")}
        >>> outputs, (h,) = simple_rnn_forward(params, np.ones((4, 5, 3), "float32"))
        >>> outputs.shape, h.shape
        ((4, 5, 2), (4, 2))
        >>> bool(np.allclose(outputs[:, -1], h))
        True
    """
    features, units = check_simple_rnn_params(params)
    x_shape = _static_shape(x, "x")
    if len(x_shape) != 3:
        raise ValueError(f"x must be 3-D of shape (batch, time_steps, features), got shape {x_shape}")
    batch, steps, x_features = x_shape
    if x_features != features:
        raise ValueError(
            f"x must have {features} features on its last axis (params['kernel'] is "
            f"{(features, units)}), got x of shape {x_shape}"
        )
    if batch == 0 or steps == 0:
        raise ValueError(f"x must have at least one sample and one time step, got shape {x_shape}")
    # the same call on chunks of `remat` steps
    if check_remat(remat) is not None and remat < steps:  # type: ignore[operator]  # remat is an int here
        return remat_forward(
            functools.partial(simple_rnn_forward, projection=projection, unroll=unroll, gradient=gradient),
            remat, params, x, initial_state, mask=mask, zero_output_for_mask=zero_output_for_mask,
            recurrent_dropout_mask=recurrent_dropout_mask, activation=activation,
        )
    h0 = None if initial_state is None else _unpack_state(initial_state, batch, units, "initial_state")
    bias = params.get("bias")
    dtype = compute_dtype(x, params["kernel"], params["recurrent_kernel"], bias, h0)
    projection = DEFAULT_PROJECTION if projection is None else projection
    if projection not in ("inside", "outside"):
        raise ValueError(f"projection must be 'inside' or 'outside', got {projection!r}")
    name = activation_name(activation)
    dropout = recurrent_dropout_multipliers(recurrent_dropout_mask, batch, units, dtype)

    kernel = jnp.asarray(params["kernel"], dtype)
    recurrent = jnp.asarray(params["recurrent_kernel"], dtype)
    bias = jnp.zeros((units,), dtype) if bias is None else jnp.asarray(bias, dtype)
    h0 = jnp.zeros((batch, units), dtype) if h0 is None else jnp.asarray(h0, dtype)
    xs = jnp.swapaxes(jnp.asarray(x, dtype), 0, 1)  # (T, B, I)
    masks = None
    if mask is not None:
        mask_shape = _static_shape(mask, "mask")
        if mask_shape != (batch, steps):
            raise ValueError(f"mask must have shape {(batch, steps)} (batch, time_steps), got {mask_shape}")
        masks = jnp.swapaxes(jnp.asarray(mask).astype(bool), 0, 1)[:, :, None]  # (T, B, 1)
    zero_output = bool(zero_output_for_mask) and masks is not None

    gradient = DEFAULT_GRADIENT if gradient is None else gradient
    if gradient not in ("bptt", "autodiff"):
        raise ValueError(f"gradient must be 'bptt' or 'autodiff', got {gradient!r}")
    if name in AXIS_ACTIVATIONS:
        gradient = "autodiff"
    static = (projection, unroll, zero_output, name)
    if gradient == "bptt":
        hs, h = _simple_rnn_scan_bptt(static, kernel, recurrent, bias, h0, xs, masks, dropout)
    else:
        hs, h, _ = _scan_forward(static, kernel, recurrent, bias, h0, xs, masks, dropout, keep=False)
    return jnp.swapaxes(hs, 0, 1), (h,)


def _scan_forward(static: _Static, kernel: jax.Array, recurrent: jax.Array, bias: jax.Array, h0: jax.Array,
                  xs: jax.Array, masks: jax.Array | None, dropout: jax.Array | None, *,
                  keep: bool) -> tuple[jax.Array, jax.Array, jax.Array | None]:
    """The forward scan, time-major: ``(hs, h_T, saved)``.

    With ``keep``, ``saved`` is ``(T, B, 2H)``: per step ``[activation'(z_t), h_t]`` (the slope
    0 on masked rows, ``h_t`` the carried state), one slab per step; otherwise ``None``.
    """
    projection, unroll, zero_output, name = static

    def cell(h_prev: jax.Array, inputs: Any) -> tuple[jax.Array, jax.Array]:
        z_input, m = inputs if masks is not None else (inputs, None)  # m: (B, 1), False where masked
        if projection == "inside":
            z_input = z_input @ kernel + bias
        z = z_input + (h_prev if dropout is None else h_prev * dropout) @ recurrent
        h, slope = activation_and_slope(name, z, keep)
        h_new = h
        if m is not None:
            h = jnp.where(m, h, h_prev)
        if not keep:
            return h, (jnp.where(m, h_new, 0) if zero_output else h)
        if m is not None:
            slope = jnp.where(m, slope, 0)
        return h, jnp.concatenate([slope, h], axis=-1)

    if projection == "outside":
        xs = xs @ kernel + bias  # (T, B, H): one GEMM over all T*B rows
    scanned = xs if masks is None else (xs, masks)
    h, stacked = lax.scan(cell, h0, scanned, unroll=unroll)
    if not keep:
        return stacked, h, None
    hs = stacked[..., h0.shape[-1] :]
    return (jnp.where(masks, hs, 0) if zero_output else hs), h, stacked


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _simple_rnn_scan_bptt(static: _Static, kernel: jax.Array, recurrent: jax.Array, bias: jax.Array, h0: jax.Array,
                          xs: jax.Array, masks: jax.Array | None,
                          dropout: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    """``(hs, h_T)`` of the forward scan, differentiated by `_bptt_backward`."""
    hs, h, _ = _scan_forward(static, kernel, recurrent, bias, h0, xs, masks, dropout, keep=False)
    return hs, h


def _bptt_forward(static: _Static, kernel: jax.Array, recurrent: jax.Array, bias: jax.Array, h0: jax.Array,
                  xs: jax.Array, masks: jax.Array | None,
                  dropout: jax.Array | None) -> tuple[tuple[jax.Array, jax.Array], tuple[Any, ...]]:
    hs, h, saved = _scan_forward(static, kernel, recurrent, bias, h0, xs, masks, dropout, keep=True)
    return (hs, h), (kernel, recurrent, h0, xs, saved, masks, dropout)


def _bptt_backward(static: _Static, residuals: tuple[Any, ...],
                   cotangents: tuple[jax.Array, jax.Array]) -> tuple[jax.Array | None, ...]:
    """The reference's BPTT (``simple_rnn_backward``) as a reverse scan.

    Walking t = T..1 with the carried ``dh`` (``m`` the dropout mask, 1 without):

        dh      += d_outputs_t
        dz_t     = activation'(z_t) * dh
        dh_{t-1} = (dz_t @ recurrent_kernel.T) * m      (dh itself on masked rows)

    then one GEMM over all ``T*B`` rows of ``[x_t, h_{t-1} * m, 1]`` against ``dz_t`` gives the
    kernel, recurrent-kernel and bias gradients, and one more ``d_x``.
    """
    _, unroll, zero_output, _ = static
    kernel, recurrent, h0, xs, saved, masks, dropout = residuals
    d_hs, d_h = cotangents
    H = h0.shape[-1]
    recurrent_t = recurrent.T
    if zero_output:
        d_hs = jnp.where(masks, d_hs, 0)

    def step(dh: jax.Array, inputs: tuple[Any, ...]) -> tuple[jax.Array, jax.Array]:
        d_out, slab, m = inputs if masks is not None else (*inputs, None)
        dh = dh + d_out
        dz = slab[:, :H] * dh
        dh_previous = dz @ recurrent_t
        if dropout is not None:
            dh_previous = dh_previous * dropout
        if m is not None:
            dh_previous = jnp.where(m, dh_previous, dh)
        return dh_previous, dz

    scanned = (d_hs, saved) if masks is None else (d_hs, saved, masks)
    d_h0, dzs = lax.scan(step, d_h, scanned, reverse=True, unroll=unroll)
    steps, batch, features = xs.shape
    previous_hiddens = jnp.concatenate([h0[None], saved[:-1, :, H:]], axis=0)  # (T, B, H)
    recurrent_inputs = previous_hiddens if dropout is None else previous_hiddens * dropout
    inputs = jnp.concatenate([xs, recurrent_inputs, jnp.ones((steps, batch, 1), xs.dtype)], axis=-1)
    d_weights = lax.dot_general(inputs, dzs, (((0, 1), (0, 1)), ((), ())))  # (I + H + 1, H)
    d_kernel, d_recurrent, d_bias = d_weights[:features], d_weights[features:-1], d_weights[-1]
    d_xs = jnp.einsum("tbh,ih->tbi", dzs, kernel)
    d_dropout = None
    if dropout is not None:  # sum_t h_{t-1} * (dz_t @ recurrent_kernel.T); dead code under jit unless used
        d_dropout = jnp.sum(previous_hiddens * jnp.einsum("tbg,hg->tbh", dzs, recurrent), axis=0)
    return d_kernel, d_recurrent, d_bias, d_h0, d_xs, None, d_dropout


_simple_rnn_scan_bptt.defvjp(_bptt_forward, _bptt_backward)


def simple_rnn_step(params: dict[str, Any], x_t: Any, state: Any, *, activation: Any = "tanh",
                    recurrent_dropout_mask: Any = None) -> tuple[jax.Array, tuple[jax.Array]]:
    """One SimpleRNN step, pure: equals `simple_rnn_forward` step by step.

    Args:
        params: the parameter dict of `simple_rnn_forward`.
        x_t: ``(B, I)`` inputs of this step.
        state: ``(h_{t-1},)`` with ``h_{t-1}`` ``(B, H)``.
        activation: as in `simple_rnn_forward`.
        recurrent_dropout_mask: ``None`` or ``(B, H)`` multipliers of ``h_{t-1}``.

    Returns:
        ``(h_t, (h_t,))`` with ``h_t = activation(x_t @ kernel + (h_{t-1} * m) @ recurrent_kernel
        + bias)``.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 2)).astype("float32"),
        ...           "recurrent_kernel": rng.normal(size=(2, 2)).astype("float32")}
        >>> y, (h,) = simple_rnn_step(params, np.ones((4, 3), "float32"), (np.zeros((4, 2), "float32"),))
        >>> y.shape, bool((y == h).all())
        ((4, 2), True)
    """
    features, units = check_simple_rnn_params(params)
    x_shape = _static_shape(x_t, "x_t")
    if len(x_shape) != 2 or x_shape[1] != features:
        raise ValueError(f"x_t must have shape (batch, {features}), got {x_shape}")
    h = _unpack_state(state, x_shape[0], units, "state")
    bias = params.get("bias")
    dtype = compute_dtype(x_t, params["kernel"], params["recurrent_kernel"], bias, h)
    h = jnp.asarray(h, dtype)
    dropout = recurrent_dropout_multipliers(recurrent_dropout_mask, x_shape[0], units, dtype)
    z = jnp.asarray(x_t, dtype) @ jnp.asarray(params["kernel"], dtype)
    z = z + (h if dropout is None else h * dropout) @ jnp.asarray(params["recurrent_kernel"], dtype)
    if bias is not None:
        z = z + jnp.asarray(bias, dtype)
    h = get_jax_activation(activation_name(activation))(z)
    return h, (h,)


layer_forward = recurrent_layer_forward(simple_rnn_forward)  # the shared runner around the kernel (DESIGN §7)
