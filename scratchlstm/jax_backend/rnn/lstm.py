"""The LSTM forward pass as a pure JAX function built on ``lax.scan``.

Shapes: ``B`` batch, ``T`` time steps, ``I`` input features, ``H`` units. Same parameter dict
and gate order as the NumPy reference (``scratchlstm._numpy.rnn.lstm``):

    kernel            (I, 4H)   column blocks [i, f, c, o]
    recurrent_kernel  (H, 4H)
    bias              (4H,)     optional

For t = 1..T (one ``lax.scan`` step each, so compile time does not grow with T), with Keras'
``activation`` (tanh by default), ``recurrent_activation`` (sigmoid by default) and an optional
recurrent dropout mask ``m (B, H)`` (``m = 1`` without):

    z_t        = x_t @ kernel + (h_{t-1} * m) @ recurrent_kernel + bias        (B, 4H)
    i, f, o    = recurrent_activation(z_i), recurrent_activation(z_f), recurrent_activation(z_o)
    g          = activation(z_c)
    c_t        = f * c_{t-1} + i * g
    h_t        = o * activation(c_t)

Masks (Keras' ``RNN``): with a ``(B, T)`` boolean ``mask``, a masked step of a row keeps its
state (``jnp.where`` on the carry) and outputs the carried ``h_{t-1}`` (zeros with
``zero_output_for_mask``); the hand-written BPTT passes ``dh``, ``dc`` straight through such a
step. Both gradient modes take masks; calls without one trace exactly the unmasked scan.

Gradients: by default (``gradient="bptt"``) a ``jax.custom_vjp`` runs the reference's
hand-written BPTT as a reverse ``lax.scan`` (one fused elementwise pass and one GEMM per step),
then computes the weight and input gradients as one GEMM each over all ``T*B`` rows, instead of
``T`` small accumulations inside the scan. ``gradient="autodiff"`` uses JAX's own reverse mode
through the forward scan. The tests check both against the reference BPTT. The custom VJP
has no forward mode: ``jax.jvp``/``jacfwd`` need ``gradient="autodiff"``. It covers the
recurrent dropout mask (``dh_{t-1} = (dz_t @ recurrent_kernel.T) * m``) and every elementwise
activation (the forward saves each slope); the activations along an axis (``softmax``,
``log_softmax``, ``sparsemax``) always take ``"autodiff"``.

Measured on the 2-core CPU (``jax.value_and_grad`` of the LSTM alone, one device, ms,
interleaved, autodiff -> bptt): M = (64, 100, 32, 128) 116-117 -> 97-103, LT = (16, 1000, 8,
64) 134-135 -> 90-91, L = (256, 50, 64, 256) 536-549 -> 510-512 (GEMM-bound). The bptt
forward saves the local slopes so that the backward step only multiplies (see
`_scan_forward`). More in ``docs/performance.md``.

Where the input projection ``x_t @ kernel`` happens is a measured choice (``DESIGN.md`` §4):
inside the scanned step (one small GEMM per step, the default) or as one ``(T*B, I) @ (I, 4H)``
GEMM before the scan. ``benchmarks/bench_lstm.py --projection both`` times both. On the 2-core
CPU this was written on, "inside" was as fast or faster for every benchmark config (train step
1.1-1.9x faster at M = (64, 100, 32, 128), forward 1.5-2x at M, L and LT) and needs about half
the XLA temporary memory, because the ``(T, B, 4H)`` projection (and its gradient) is never
materialised. ``lax.scan(unroll=k)`` for k = 2, 4, 8 was no faster and compiles slower, so
``unroll=1``.

Long sequences: ``remat=k`` runs the same kernel over chunks of ``k`` steps, each under
``jax.checkpoint`` (``_runner.remat_forward``), so reverse mode keeps ``O(T / k + k)`` steps of
residuals instead of the ``(T, B, 7H)`` slab; ``remat=None`` (the default) traces exactly the
code above. Measured in ``docs/performance.md`` ("Rematerialisation").
"""

from __future__ import annotations

import functools
from typing import Any, cast

import jax
import jax.numpy as jnp
from jax import lax

from ..._numpy.activations import activation_name
from .._activations import get_activation as get_jax_activation
from ._runner import check_remat, recurrent_layer_forward, remat_forward

# Measured with benchmarks/bench_lstm.py on the 2-core CPU this was developed on; see there.
DEFAULT_PROJECTION = "inside"
DEFAULT_GRADIENT = "bptt"

# the scans' static configuration: (projection, unroll, zero_output, (activation, recurrent_activation))
_Static = tuple[str, int, bool, tuple[str, str]]


def _static_shape(value: Any, name: str) -> tuple[int, ...]:
    try:
        return tuple(jnp.shape(value))
    except TypeError as error:
        raise ValueError(f"{name} must be an array, got {type(value).__name__}") from error


def check_lstm_params(params: Any) -> tuple[int, int]:
    """Validate an LSTM parameter dict from its (static) shapes; return ``(I, H)``."""
    if not hasattr(params, "get"):
        raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
    for name in ("kernel", "recurrent_kernel"):
        if name not in params:
            raise ValueError(f"params must contain {name!r}; got keys {sorted(params)}")
    kernel = _static_shape(params["kernel"], "params['kernel']")
    if len(kernel) != 2 or kernel[1] % 4 or kernel[1] == 0:
        raise ValueError(
            f"params['kernel'] must have shape (input_features, 4 * units), got {kernel}"
        )
    units = kernel[1] // 4
    recurrent = _static_shape(params["recurrent_kernel"], "params['recurrent_kernel']")
    if recurrent != (units, 4 * units):
        raise ValueError(f"params['recurrent_kernel'] must have shape {(units, 4 * units)}, got {recurrent}")
    if params.get("bias") is not None:
        bias = _static_shape(params["bias"], "params['bias']")
        if bias != (4 * units,):
            raise ValueError(f"params['bias'] must have shape {(4 * units,)}, got {bias}")
    return kernel[0], units


def compute_dtype(*arrays: Any) -> Any:
    """The promoted floating dtype of the given arrays (``None`` entries skipped).

    float32 unless an input is float64 and ``jax_enable_x64`` is on, as in the reference.
    """
    present = [a for a in arrays if a is not None]
    dtype = jnp.result_type(*present)
    if not jnp.issubdtype(dtype, jnp.floating):
        return jnp.dtype(jnp.float32)
    return dtype


def _unpack_state(initial_state: Any, batch: int, units: int) -> tuple[Any, Any]:
    if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
        raise ValueError(
            "initial_state must be a pair [h0, c0] of arrays shaped (batch, units), got "
            f"{type(initial_state).__name__}"
            + (f" of length {len(initial_state)}" if hasattr(initial_state, "__len__") else "")
        )
    h0, c0 = initial_state
    for value, name in ((h0, "initial_state[0] (h0)"), (c0, "initial_state[1] (c0)")):
        shape = _static_shape(value, name)
        if shape != (batch, units):
            raise ValueError(f"{name} must have shape {(batch, units)}, got {shape}")
    return h0, c0


# Keras activations that act along the units axis, not elementwise: their slope is no elementwise
# factor, so the hand-written BPTT (which multiplies by slopes) hands them to autodiff.
AXIS_ACTIVATIONS = frozenset({"softmax", "log_softmax", "sparsemax"})


def activation_and_slope(name: str, z: jax.Array, slope: bool) -> tuple[jax.Array, jax.Array | None]:
    """``(activation(z), activation'(z) or None)`` for an elementwise activation ``name``.

    sigmoid and tanh write their slopes from their values (``s (1 - s)``, ``1 - t^2``); any other
    elementwise activation gets its slope from one ``jax.jvp`` with a tangent of ones, which is
    the slope ``jax.grad`` returns, kinks included (``relu'(0) = 0``), as the reference's rules.
    """
    if name == "sigmoid":
        value = jax.nn.sigmoid(z)
        return value, (value * (1 - value) if slope else None)
    if name == "tanh":
        value = jnp.tanh(z)
        return value, (1 - value * value if slope else None)
    function = get_jax_activation(name)
    if not slope:
        return function(z), None
    return cast("tuple[jax.Array, jax.Array | None]", jax.jvp(function, (z,), (jnp.ones_like(z),)))


def recurrent_dropout_multipliers(recurrent_dropout_mask: Any, batch: int, units: int, dtype: Any) -> jax.Array | None:
    """Check the ``(B, H)`` shape of a recurrent dropout mask; return it as ``dtype`` (or None)."""
    if recurrent_dropout_mask is None:
        return None
    shape = _static_shape(recurrent_dropout_mask, "recurrent_dropout_mask")
    if shape != (batch, units):
        raise ValueError(f"recurrent_dropout_mask must have shape {(batch, units)} (batch, units), got {shape}")
    return jnp.asarray(recurrent_dropout_mask, dtype)


def lstm_forward(
    params: dict[str, Any],
    x: Any,
    initial_state: Any = None,
    *,
    projection: str | None = None,
    unroll: int = 1,
    gradient: str | None = None,
    mask: Any = None,
    zero_output_for_mask: bool = False,
    recurrent_dropout_mask: Any = None,
    activation: Any = "tanh",
    recurrent_activation: Any = "sigmoid",
    remat: int | None = None,
) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    """Run the LSTM over a whole sequence; pure, so usable under ``jit``, ``grad`` and ``vmap``.

    Args:
        params: ``{"kernel": (I, 4H), "recurrent_kernel": (H, 4H), "bias": (4H,)}``
            (``"bias"`` may be absent or ``None``). NumPy or JAX arrays.
        x: ``(B, T, I)`` inputs.
        initial_state: ``None`` (zeros) or ``(h_0, c_0)``, each ``(B, H)``.
        projection: ``"inside"`` computes ``x_t @ kernel`` inside each scanned step,
            ``"outside"`` as one GEMM over all ``T*B`` rows before the scan. Same numbers up
            to rounding; ``None`` uses the measured default (``DEFAULT_PROJECTION``).
        unroll: passed to ``lax.scan`` (steps per loop iteration); 1 keeps compile time
            independent of ``T``.
        gradient: how reverse mode differentiates the recurrence. ``"bptt"``: a
            ``jax.custom_vjp`` with the reference's hand-written BPTT (a reverse ``lax.scan`` for
            the recurrent part, then the weight gradients as one GEMM over all ``T*B`` rows);
            ``"autodiff"``: JAX's own reverse mode through the forward scan. Same numbers up to
            rounding. ``"bptt"`` supports ``grad``, ``vjp``, ``jit`` and ``vmap`` but not
            forward mode (``jvp``, ``jacfwd``); use ``"autodiff"`` for those. ``None`` uses the
            measured default (``DEFAULT_GRADIENT``). An activation along an axis (``softmax``,
            ``log_softmax``, ``sparsemax``) always uses ``"autodiff"``.
        mask: ``None`` or ``(B, T)`` booleans (nonzero numbers count as ``True``): at a step
            where ``mask[b, t]`` is ``False``, row ``b`` keeps its state and outputs it.
        zero_output_for_mask: with a mask, outputs zeros at masked steps instead (Keras'
            ``RNN(zero_output_for_mask=True)``).
        recurrent_dropout_mask: ``None`` or ``(B, H)`` inverted-dropout multipliers ``m``, fixed
            for the sequence, applied to ``h_{t-1}`` where it enters the recurrent GEMM.
        activation: Keras' ``activation`` (tanh by default) for the candidate and for ``c_t``
            in ``h_t = o * activation(c_t)``.
        recurrent_activation: Keras' ``recurrent_activation`` (sigmoid by default) for i, f, o.
        remat: ``None`` (keep every step's residuals for the backward: memory ``O(T)``) or
            ``k``, steps per ``jax.checkpoint``-ed chunk: reverse mode keeps the states at
            the ``T / k`` chunk starts and recomputes each chunk's forward when its backward
            runs, memory ``O(T / k + k)`` steps for about one more forward pass (see
            ``scratchlstm.jax_backend.rnn._runner.remat_forward``). Same numbers.

    Returns:
        ``(outputs, (h_T, c_T))``: ``outputs`` is ``(B, T, H)`` holding ``h_1..h_T``; ``h_T`` and
        ``c_T`` are ``(B, H)``.

    The dtype is the promotion of the inputs: float32 by default, float64 when
    ``jax_enable_x64`` is on and an input is float64 (integer inputs become float32).

    Equations, for t = 1..T (``m = 1`` without recurrent dropout):

        z_t = x_t @ kernel + (h_{t-1} * m) @ recurrent_kernel + bias
        i, f, o = recurrent_activation(z_i), recurrent_activation(z_f), recurrent_activation(z_o)
        g = activation(z_c)
        c_t = f * c_{t-1} + i * g
        h_t = o * activation(c_t)

    and with a mask ``m_t (B, 1)``:

        c_t = where(m_t, f * c_{t-1} + i * g, c_{t-1})
        h_t = where(m_t, o * activation(f * c_{t-1} + i * g), h_{t-1})
        output_t = h_t, or where(m_t, h_t, 0) with zero_output_for_mask

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 8)).astype("float32"),
        ...           "recurrent_kernel": rng.normal(size=(2, 8)).astype("float32")}
        >>> outputs, (h, c) = lstm_forward(params, np.ones((4, 5, 3), "float32"))
        >>> outputs.shape, h.shape
        ((4, 5, 2), (4, 2))
        >>> outputs, _ = lstm_forward(params, np.ones((4, 5, 3), "float32"), activation="relu",
        ...                           recurrent_activation="hard_sigmoid")
        >>> bool((outputs >= 0).all())
        True
    """
    features, units = check_lstm_params(params)
    x_shape = _static_shape(x, "x")
    if len(x_shape) != 3:
        raise ValueError(f"x must be 3-D of shape (batch, time_steps, features), got shape {x_shape}")
    batch, steps, x_features = x_shape
    if x_features != features:
        raise ValueError(
            f"x must have {features} features on its last axis (params['kernel'] is "
            f"{(features, 4 * units)}), got x of shape {x_shape}"
        )
    if batch == 0 or steps == 0:
        raise ValueError(f"x must have at least one sample and one time step, got shape {x_shape}")
    # the same call on chunks of `remat` steps
    if check_remat(remat) is not None and remat < steps:  # type: ignore[operator]  # remat is an int here
        return remat_forward(
            functools.partial(lstm_forward, projection=projection, unroll=unroll, gradient=gradient),
            remat, params, x, initial_state, mask=mask, zero_output_for_mask=zero_output_for_mask,
            recurrent_dropout_mask=recurrent_dropout_mask, activation=activation,
            recurrent_activation=recurrent_activation,
        )
    h0, c0 = (None, None) if initial_state is None else _unpack_state(initial_state, batch, units)
    bias = params.get("bias")
    dtype = compute_dtype(x, params["kernel"], params["recurrent_kernel"], bias, h0, c0)
    projection = DEFAULT_PROJECTION if projection is None else projection
    if projection not in ("inside", "outside"):
        raise ValueError(f"projection must be 'inside' or 'outside', got {projection!r}")
    activations = (activation_name(activation), activation_name(recurrent_activation))
    dropout = recurrent_dropout_multipliers(recurrent_dropout_mask, batch, units, dtype)

    kernel = jnp.asarray(params["kernel"], dtype)
    recurrent = jnp.asarray(params["recurrent_kernel"], dtype)
    bias = jnp.zeros((4 * units,), dtype) if bias is None else jnp.asarray(bias, dtype)
    h0 = jnp.zeros((batch, units), dtype) if h0 is None else jnp.asarray(h0, dtype)
    c0 = jnp.zeros((batch, units), dtype) if c0 is None else jnp.asarray(c0, dtype)
    xs = jnp.swapaxes(jnp.asarray(x, dtype), 0, 1)  # (T, B, I), scanned over its first axis
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
    if AXIS_ACTIVATIONS.intersection(activations):
        gradient = "autodiff"
    static = (projection, unroll, zero_output, activations)
    if gradient == "bptt":
        hs, h, c = _lstm_scan_bptt(static, kernel, recurrent, bias, h0, c0, xs, masks, dropout)
    else:
        hs, h, c, _ = _scan_forward(static, kernel, recurrent, bias, h0, c0, xs, masks, dropout, keep=False)
    return jnp.swapaxes(hs, 0, 1), (h, c)


def _scan_forward(static: _Static, kernel: jax.Array, recurrent: jax.Array, bias: jax.Array, h0: jax.Array,
                  c0: jax.Array, xs: jax.Array, masks: jax.Array | None, dropout: jax.Array | None, *,
                  keep: bool) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array | None]:
    """The forward scan, time-major: ``(hs, h_T, c_T, saved)``.

    ``static`` is ``(projection, unroll, zero_output, (activation, recurrent_activation))``.
    With ``keep``, ``saved`` is ``(T, B, 7H)``: per step what the hand-written backward needs,
    ``[slope_i, slope_f, slope_g, slope_o, cell_slope, f, h_t]`` with (``r`` the recurrent
    activation, ``a`` the activation, ``'`` their slopes; sigmoid and tanh by default)

        slopes     = [g r'(z_i), c_{t-1} r'(z_f), i a'(z_c), a(c_t) r'(z_o)]
        cell_slope = o a'(c_t)

    written as one slab per step (each scanned output costs a separate update per step on the
    CPU); otherwise ``saved`` is ``None``. The slopes fuse into the forward step's elementwise
    work almost for free, and leave the backward step five multiplications; recomputing them
    there (with ``tanh(c_t)``) made its elementwise part 5x slower (66 vs 13.5 us per step at
    B = 32, H = 128 on one core of the 2-core CPU).

    With ``masks`` (``(T, B, 1)`` booleans) the carry is ``where(m_t, new, old)``, the output
    the carried ``h_t`` (or ``where(m_t, h_t, 0)`` with ``zero_output``), and the saved slab
    makes a masked row's step the identity for the backward: slopes and ``cell_slope`` 0,
    ``f`` 1, ``h_t`` the carried one (see `_bptt_backward`). Without masks the mask code is
    not traced at all; without ``dropout`` (``(B, H)`` or None) neither is the dropout code.
    """
    projection, unroll, zero_output, (activation, recurrent_activation) = static
    H = h0.shape[-1]

    def cell(carry: tuple[jax.Array, jax.Array], inputs: Any) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        """One step; ``z_input`` is ``x_t @ kernel + bias`` or ``x_t`` (projection inside)."""
        z_input, m = inputs if masks is not None else (inputs, None)  # m: (B, 1), False where masked
        h_prev, c_prev = carry
        if projection == "inside":
            z_input = z_input @ kernel + bias
        z = z_input + (h_prev if dropout is None else h_prev * dropout) @ recurrent
        i, d_i = activation_and_slope(recurrent_activation, z[:, :H], keep)
        f, d_f = activation_and_slope(recurrent_activation, z[:, H : 2 * H], keep)
        g, d_g = activation_and_slope(activation, z[:, 2 * H : 3 * H], keep)
        o, d_o = activation_and_slope(recurrent_activation, z[:, 3 * H :], keep)
        c = f * c_prev + i * g
        activated_c, d_activated_c = activation_and_slope(activation, c, keep)
        h = o * activated_c
        h_new = h
        if m is not None:  # masked rows carry their state
            h, c = jnp.where(m, h, h_prev), jnp.where(m, c, c_prev)
        if not keep:
            return (h, c), (jnp.where(m, h_new, 0) if zero_output else h)
        slopes = [g * d_i, c_prev * d_f, i * d_g, activated_c * d_o]
        cell_slope = o * d_activated_c
        if m is None:
            return (h, c), jnp.concatenate([*slopes, cell_slope, f, h], axis=-1)
        live = jnp.where(m, jnp.concatenate([*slopes, cell_slope], axis=-1), 0)  # (B, 5H)
        return (h, c), jnp.concatenate([live, jnp.where(m, f, 1), h], axis=-1)

    if projection == "outside":
        xs = xs @ kernel + bias  # (T, B, 4H): one GEMM over all T*B rows
    scanned = xs if masks is None else (xs, masks)
    (h, c), stacked = lax.scan(cell, (h0, c0), scanned, unroll=unroll)
    if not keep:
        return stacked, h, c, None
    hs = stacked[..., 6 * H :]
    return (jnp.where(masks, hs, 0) if zero_output else hs), h, c, stacked


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _lstm_scan_bptt(static: _Static, kernel: jax.Array, recurrent: jax.Array, bias: jax.Array, h0: jax.Array,
                    c0: jax.Array, xs: jax.Array, masks: jax.Array | None,
                    dropout: jax.Array | None) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(hs, h_T, c_T)`` of the forward scan, differentiated by `_bptt_backward`; ``masks``
    ``(T, B, 1)`` or None, ``dropout`` ``(B, H)`` or None."""
    hs, h, c, _ = _scan_forward(static, kernel, recurrent, bias, h0, c0, xs, masks, dropout, keep=False)
    return hs, h, c


def _bptt_forward(static: _Static, kernel: jax.Array, recurrent: jax.Array, bias: jax.Array, h0: jax.Array,
                  c0: jax.Array, xs: jax.Array, masks: jax.Array | None,
                  dropout: jax.Array | None) -> tuple[tuple[jax.Array, jax.Array, jax.Array], tuple[Any, ...]]:
    hs, h, c, saved = _scan_forward(static, kernel, recurrent, bias, h0, c0, xs, masks, dropout, keep=True)
    return (hs, h, c), (kernel, recurrent, h0, xs, saved, masks, dropout)


def _bptt_backward(static: _Static, residuals: tuple[Any, ...],
                   cotangents: tuple[jax.Array, jax.Array, jax.Array]) -> tuple[jax.Array | None, ...]:
    """The reference's BPTT (``scratchlstm._numpy.rnn.lstm.lstm_backward``) as a reverse scan.

    Walking t = T..1 with the carried ``dh``, ``dc`` (``m`` the recurrent dropout mask, 1
    without):

        dh   += d_outputs_t
        dc   += dh * cell_slope_t
        dz_t  = slopes_t * [dc, dc, dc, dh]
        dh    = (dz_t @ recurrent_kernel.T) * m ;  dc = dc * f

    The step reads one ``(B, 7H)`` slab of the forward's residuals, in which the forward step
    already put the local slopes (see `_scan_forward`): a few multiplications and one GEMM per
    step. After the scan, one GEMM each over all ``T*B`` rows gives the kernel, recurrent
    kernel and input gradients (rather than ``T`` small accumulations inside the scan).

    With masks, a masked row's step passes ``dh``, ``dc`` straight through: the forward saved
    zero slopes and ``f = 1`` for it, so the step above gives ``dz_t = 0`` and ``dc_{t-1} = dc_t``;
    only ``dh_{t-1}`` needs ``where(m_t, dz_t @ recurrent_kernel.T, dh_t)``. With ``zero_output``
    the masked outputs are constants: their cotangents are dropped.
    """
    _, unroll, zero_output, _ = static
    kernel, recurrent, h0, xs, saved, masks, dropout = residuals
    d_hs, d_h, d_c = cotangents
    H = h0.shape[-1]
    recurrent_t = recurrent.T
    if zero_output:
        d_hs = jnp.where(masks, d_hs, 0)

    def step(carry: tuple[jax.Array, jax.Array],
             inputs: tuple[Any, ...]) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        dh, dc = carry
        d_out, slab, m = inputs if masks is not None else (*inputs, None)
        slopes, cell_slope, f = slab[:, : 4 * H], slab[:, 4 * H : 5 * H], slab[:, 5 * H : 6 * H]
        dh = dh + d_out
        dc = dc + dh * cell_slope
        dz = slopes * jnp.concatenate([dc, dc, dc, dh], axis=-1)
        dh_previous = dz @ recurrent_t
        if dropout is not None:
            dh_previous = dh_previous * dropout
        if m is not None:
            dh_previous = jnp.where(m, dh_previous, dh)
        return (dh_previous, dc * f), dz

    scanned = (d_hs, saved) if masks is None else (d_hs, saved, masks)
    (d_h0, d_c0), dzs = lax.scan(step, (d_h, d_c), scanned, reverse=True, unroll=unroll)
    d_kernel, d_recurrent, d_bias, d_xs, d_dropout = _weight_and_input_gradients(
        kernel, recurrent, h0, xs, saved, dzs, dropout
    )
    return d_kernel, d_recurrent, d_bias, d_h0, d_c0, d_xs, None, d_dropout


def _weight_and_input_gradients(kernel: jax.Array, recurrent: jax.Array, h0: jax.Array, xs: jax.Array, saved: jax.Array,
                                dzs: jax.Array, dropout: jax.Array | None) -> tuple[jax.Array | None, ...]:
    """``(d_kernel, d_recurrent_kernel, d_bias, d_xs, d_dropout)`` from every step's ``dz_t``
    (``(T, B, 4H)``); ``d_dropout`` is ``None`` without a dropout mask."""
    H = h0.shape[-1]
    # One GEMM over all T*B rows gives the kernel, recurrent-kernel and bias gradients at once:
    # [x_t, h_{t-1} * m, 1] side by side against dz_t. A dot_general contracting (T, B) rather
    # than a reshape to (T*B, .): with the batch sharded over devices, merging T and B would make
    # XLA gather the whole batch on every device.
    steps, batch, features = xs.shape
    previous_hiddens = jnp.concatenate([h0[None], saved[:-1, :, 6 * H :]], axis=0)  # (T, B, H)
    recurrent_inputs = previous_hiddens if dropout is None else previous_hiddens * dropout
    ones = jnp.ones((steps, batch, 1), xs.dtype)
    inputs = jnp.concatenate([xs, recurrent_inputs, ones], axis=-1)  # (T, B, I + H + 1)
    d_weights = lax.dot_general(inputs, dzs, (((0, 1), (0, 1)), ((), ())))  # (I + H + 1, 4H)
    d_kernel, d_recurrent, d_bias = d_weights[:features], d_weights[features:-1], d_weights[-1]
    d_xs = jnp.einsum("tbg,ig->tbi", dzs, kernel)
    d_dropout = None
    if dropout is not None:  # d m = sum_t h_{t-1} * (dz_t @ recurrent_kernel.T); dead code under jit unless used
        d_dropout = jnp.sum(previous_hiddens * jnp.einsum("tbg,hg->tbh", dzs, recurrent), axis=0)
    return d_kernel, d_recurrent, d_bias, d_xs, d_dropout


_lstm_scan_bptt.defvjp(_bptt_forward, _bptt_backward)


def lstm_step(params: dict[str, Any], x_t: Any, state: Any, *, activation: Any = "tanh",
              recurrent_activation: Any = "sigmoid",
              recurrent_dropout_mask: Any = None) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    """One LSTM step, pure (``jit``/``grad``/``vmap``): equals `lstm_forward` step by step.

    Args:
        params: the parameter dict of `lstm_forward`.
        x_t: ``(B, I)`` inputs of this step.
        state: ``(h_{t-1}, c_{t-1})``, each ``(B, H)``.
        activation: as in `lstm_forward` (tanh by default).
        recurrent_activation: as in `lstm_forward` (sigmoid by default).
        recurrent_dropout_mask: ``None`` or ``(B, H)`` multipliers of ``h_{t-1}``.

    Returns:
        ``(h_t, (h_t, c_t))``.

    Equations:

        z = x_t @ kernel + (h_{t-1} * m) @ recurrent_kernel + bias
        i, f, o = recurrent_activation(z_i, z_f, z_o) ;  g = activation(z_c)
        c_t = f * c_{t-1} + i * g ;  h_t = o * activation(c_t)

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 8)).astype("float32"),
        ...           "recurrent_kernel": rng.normal(size=(2, 8)).astype("float32")}
        >>> x = rng.normal(size=(1, 4, 3)).astype("float32")
        >>> state = (np.zeros((1, 2), "float32"), np.zeros((1, 2), "float32"))
        >>> for t in range(4):
        ...     y, state = lstm_step(params, x[:, t], state)
        >>> bool(np.allclose(y, lstm_forward(params, x)[0][:, -1], atol=1e-6))
        True
    """
    features, units = check_lstm_params(params)
    x_shape = _static_shape(x_t, "x_t")
    if len(x_shape) != 2 or x_shape[1] != features:
        raise ValueError(f"x_t must have shape (batch, {features}), got {x_shape}")
    h, c = _unpack_state(state, x_shape[0], units)
    bias = params.get("bias")
    dtype = compute_dtype(x_t, params["kernel"], params["recurrent_kernel"], bias, h, c)
    h, c = jnp.asarray(h, dtype), jnp.asarray(c, dtype)
    dropout = recurrent_dropout_multipliers(recurrent_dropout_mask, x_shape[0], units, dtype)
    z = jnp.asarray(x_t, dtype) @ jnp.asarray(params["kernel"], dtype)
    z = z + (h if dropout is None else h * dropout) @ jnp.asarray(params["recurrent_kernel"], dtype)
    if bias is not None:
        z = z + jnp.asarray(bias, dtype)
    activate = get_jax_activation(activation_name(activation))
    recurrent_activate = get_jax_activation(activation_name(recurrent_activation))
    H = units
    i, f, o = recurrent_activate(z[:, :H]), recurrent_activate(z[:, H : 2 * H]), recurrent_activate(z[:, 3 * H :])
    c = f * c + i * activate(z[:, 2 * H : 3 * H])
    h = o * activate(c)
    return h, (h, c)


layer_forward = recurrent_layer_forward(lstm_forward)  # the shared runner around the kernel (DESIGN §7)
