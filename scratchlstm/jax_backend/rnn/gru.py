"""The GRU forward pass as a pure JAX function built on ``lax.scan``, and its one-step twin.

Shapes: ``B`` batch, ``T`` time steps, ``I`` input features, ``H`` units. Same parameter dict,
gate order and equations as the NumPy reference (``scratchlstm._numpy.rnn.gru``), Keras 3's
layout with column blocks ``[z, r, h]``:

    kernel            (I, 3H)
    recurrent_kernel  (H, 3H)
    bias              (2, 3H) with reset_after=True (rows b_in, b_rec), (3H,) without; optional

For t = 1..T (one ``lax.scan`` step each, so compile time does not grow with T), with the
recurrent dropout multipliers ``m (B, H)`` (ones without dropout) and ``h~_{t-1} = h_{t-1} * m``:

    a_t = x_t @ kernel + b_in
    reset_after=True:
        q_t  = h~_{t-1} @ recurrent_kernel + b_rec
        z, r = sigmoid(a_z + q_z), sigmoid(a_r + q_r)
        hh   = tanh(a_h + r * q_h)
    reset_after=False:
        z, r = sigmoid(a_z + h~_{t-1} @ U_z), sigmoid(a_r + h~_{t-1} @ U_r)
        hh   = tanh(a_h + (r * h~_{t-1}) @ U_h)
    h_t = z * h_{t-1} + (1 - z) * hh

Masks (Keras' ``RNN``): with a ``(B, T)`` boolean ``mask``, a masked step of a row keeps its
state (``jnp.where`` on the carry) and outputs the carried ``h_{t-1}`` (zeros with
``zero_output_for_mask``). Calls without a mask (or without a dropout mask) trace none of
that code.

Gradients: with Keras' defaults (tanh/sigmoid, ``reset_after=True``, no mask, no dropout) a
``jax.custom_vjp`` runs the reference's hand-written BPTT as a reverse ``lax.scan`` and then
computes the weight and input gradients as one GEMM each over all ``T*B`` rows (as the JAX
LSTM does; measured at M = (64, 100, 32, 128): see ``docs/performance.md``); every other case
uses JAX's reverse mode through the scan. The tests check both against the NumPy reference's
hand-written BPTT. The custom VJP has no forward mode (``jax.jvp``). The input projection ``x_t @ kernel``
runs inside the scanned step, as the JAX LSTM measured fastest on the 2-core CPU
(``benchmarks/bench_gru.py`` has the numbers).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax import lax

from .._activations import get_activation
from ._runner import check_remat, recurrent_layer_forward, remat_forward
from .lstm import compute_dtype

# (kernel, recurrent_kernel, input_bias or None, recurrent_bias or None), in the compute dtype
_Weights = tuple[jax.Array, jax.Array, "jax.Array | None", "jax.Array | None"]


def _static_shape(value: Any, name: str) -> tuple[int, ...]:
    try:
        return tuple(jnp.shape(value))
    except TypeError as error:
        raise ValueError(f"{name} must be an array, got {type(value).__name__}") from error


def check_gru_params(params: Any, reset_after: bool = True) -> tuple[int, int]:
    """Validate a GRU parameter dict from its (static) shapes; return ``(I, H)``."""
    if not hasattr(params, "get"):
        raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
    for name in ("kernel", "recurrent_kernel"):
        if name not in params:
            raise ValueError(f"params must contain {name!r}; got keys {sorted(params)}")
    kernel = _static_shape(params["kernel"], "params['kernel']")
    if len(kernel) != 2 or kernel[1] % 3 or kernel[1] == 0:
        raise ValueError(f"params['kernel'] must have shape (input_features, 3 * units), got {kernel}")
    units = kernel[1] // 3
    recurrent = _static_shape(params["recurrent_kernel"], "params['recurrent_kernel']")
    if recurrent != (units, 3 * units):
        raise ValueError(f"params['recurrent_kernel'] must have shape {(units, 3 * units)}, got {recurrent}")
    if params.get("bias") is not None:
        bias = _static_shape(params["bias"], "params['bias']")
        expected = (2, 3 * units) if reset_after else (3 * units,)
        if bias != expected:
            raise ValueError(
                f"params['bias'] must have shape {expected} with reset_after={reset_after} "
                f"({'input and recurrent bias rows' if reset_after else 'one bias'}), got {bias}"
            )
    return kernel[0], units


def _cell(weights: _Weights, h_previous: jax.Array, x_t: jax.Array, dropout: jax.Array | None,
          activation: Callable[..., jax.Array], recurrent_activation: Callable[..., jax.Array],
          reset_after: bool) -> jax.Array:
    """One GRU step: ``h_t`` from ``h_{t-1}`` and ``x_t`` (``weights``: kernel, recurrent, b_in, b_rec)."""
    kernel, recurrent, input_bias, recurrent_bias = weights
    H = recurrent.shape[0]
    projected = x_t @ kernel  # (B, 3H)
    if input_bias is not None:
        projected = projected + input_bias
    masked = h_previous if dropout is None else h_previous * dropout  # h~_{t-1}
    if reset_after:
        recurrent_projected = masked @ recurrent  # one GEMM for all three blocks
        if recurrent_bias is not None:
            recurrent_projected = recurrent_projected + recurrent_bias
        z = recurrent_activation(projected[:, :H] + recurrent_projected[:, :H])
        r = recurrent_activation(projected[:, H : 2 * H] + recurrent_projected[:, H : 2 * H])
        candidate = activation(projected[:, 2 * H :] + r * recurrent_projected[:, 2 * H :])
    else:
        recurrent_projected = masked @ recurrent[:, : 2 * H]
        z = recurrent_activation(projected[:, :H] + recurrent_projected[:, :H])
        r = recurrent_activation(projected[:, H : 2 * H] + recurrent_projected[:, H:])
        candidate = activation(projected[:, 2 * H :] + (r * masked) @ recurrent[:, 2 * H :])
    return z * h_previous + (1 - z) * candidate


def _weights(params: dict[str, Any], dtype: Any, reset_after: bool) -> _Weights:
    kernel = jnp.asarray(params["kernel"], dtype)
    recurrent = jnp.asarray(params["recurrent_kernel"], dtype)
    bias = params.get("bias")
    input_bias = recurrent_bias = None
    if bias is not None:
        bias = jnp.asarray(bias, dtype)
        input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, None)
    return kernel, recurrent, input_bias, recurrent_bias


def gru_forward(
    params: dict[str, Any],
    x: Any,
    initial_state: Any = None,
    *,
    mask: Any = None,
    zero_output_for_mask: bool = False,
    recurrent_dropout_mask: Any = None,
    activation: Any = "tanh",
    recurrent_activation: Any = "sigmoid",
    reset_after: bool = True,
    remat: int | None = None,
) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    """Run the GRU over a whole sequence; pure, so usable under ``jit``, ``grad`` and ``vmap``.

    Args:
        params: ``{"kernel": (I, 3H), "recurrent_kernel": (H, 3H), "bias": (2, 3H) or (3H,)}``
            (``"bias"`` may be absent or ``None``). NumPy or JAX arrays.
        x: ``(B, T, I)`` inputs.
        initial_state: ``None`` (zeros) or ``(h_0,)`` with ``h_0`` of shape ``(B, H)``.
        mask: ``None`` or ``(B, T)`` booleans (nonzero numbers count as ``True``): at a step
            where ``mask[b, t]`` is ``False``, row ``b`` keeps its state and outputs it.
        zero_output_for_mask: with a mask, outputs zeros at masked steps instead.
        recurrent_dropout_mask: ``None`` or ``(B, H)`` multipliers ``m``, fixed for the
            sequence; ``h_{t-1} * m`` enters the recurrent matmuls, the carry keeps ``h_{t-1}``.
        activation: the candidate's activation (Keras name, default ``"tanh"``).
        recurrent_activation: the gates' activation (default ``"sigmoid"``).
        reset_after: Keras' ``reset_after`` (see the module docstring).
        remat: ``None`` or ``k``, steps per ``jax.checkpoint``-ed chunk (reverse-mode memory
            ``O(T / k + k)`` steps instead of ``O(T)``; see ``_runner.remat_forward``).

    Returns:
        ``(outputs, (h_T,))``: ``outputs`` is ``(B, T, H)``, ``h_T`` is ``(B, H)``.

    The dtype is the promotion of the inputs: float32 by default, float64 when
    ``jax_enable_x64`` is on and an input is float64 (integer inputs become float32).

    Equations, for t = 1..T, as in the module docstring, and with a mask ``m_t (B, 1)``:

        h_t = where(m_t, z * h_{t-1} + (1 - z) * hh, h_{t-1})
        output_t = h_t, or where(m_t, h_t, 0) with zero_output_for_mask

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 6)).astype("float32"),
        ...           "recurrent_kernel": rng.normal(size=(2, 6)).astype("float32"),
        ...           "bias": np.zeros((2, 6), "float32")}
        >>> outputs, (h,) = gru_forward(params, np.ones((4, 5, 3), "float32"))
        >>> outputs.shape, h.shape
        ((4, 5, 2), (4, 2))
    """
    reset_after = bool(reset_after)
    features, units = check_gru_params(params, reset_after)
    x_shape = _static_shape(x, "x")
    if len(x_shape) != 3:
        raise ValueError(f"x must be 3-D of shape (batch, time_steps, features), got shape {x_shape}")
    batch, steps, x_features = x_shape
    if x_features != features:
        raise ValueError(
            f"x must have {features} features on its last axis (params['kernel'] is "
            f"{(features, 3 * units)}), got x of shape {x_shape}"
        )
    if batch == 0 or steps == 0:
        raise ValueError(f"x must have at least one sample and one time step, got shape {x_shape}")
    # the same call on chunks of `remat` steps
    if check_remat(remat) is not None and remat < steps:  # type: ignore[operator]  # remat is an int here
        return remat_forward(
            gru_forward, remat, params, x, initial_state, mask=mask, zero_output_for_mask=zero_output_for_mask,
            recurrent_dropout_mask=recurrent_dropout_mask, activation=activation,
            recurrent_activation=recurrent_activation, reset_after=reset_after,
        )
    h0 = None
    if initial_state is not None:
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 1:
            raise ValueError(
                "initial_state must be a 1-tuple (h0,) with h0 shaped (batch, units), got "
                f"{type(initial_state).__name__}"
                + (f" of length {len(initial_state)}" if hasattr(initial_state, "__len__") else "")
            )
        h0 = initial_state[0]
        if _static_shape(h0, "initial_state[0] (h0)") != (batch, units):
            raise ValueError(f"initial_state[0] (h0) must have shape {(batch, units)}, got {jnp.shape(h0)}")
    dtype = compute_dtype(x, params["kernel"], params["recurrent_kernel"], params.get("bias"), h0)
    weights = _weights(params, dtype, reset_after)
    h0 = jnp.zeros((batch, units), dtype) if h0 is None else jnp.asarray(h0, dtype)
    dropout = None
    if recurrent_dropout_mask is not None:
        dropout_shape = _static_shape(recurrent_dropout_mask, "recurrent_dropout_mask")
        if dropout_shape != (batch, units):
            raise ValueError(f"recurrent_dropout_mask must have shape {(batch, units)}, got {dropout_shape}")
        dropout = jnp.asarray(recurrent_dropout_mask, dtype)
    masks = None
    if mask is not None:
        mask_shape = _static_shape(mask, "mask")
        if mask_shape != (batch, steps):
            raise ValueError(f"mask must have shape {(batch, steps)} (batch, time_steps), got {mask_shape}")
        masks = jnp.swapaxes(jnp.asarray(mask).astype(bool), 0, 1)[:, :, None]  # (T, B, 1)
    zero_output = bool(zero_output_for_mask) and masks is not None
    act, recurrent_act = get_activation(activation), get_activation(recurrent_activation)
    xs = jnp.swapaxes(jnp.asarray(x, dtype), 0, 1)  # (T, B, I), scanned over its first axis
    if (masks is None and dropout is None and reset_after and activation == "tanh"
            and recurrent_activation == "sigmoid"):  # Keras' defaults: the hand-written BPTT
        kernel, recurrent, input_bias, recurrent_bias = weights
        zeros = jnp.zeros((3 * units,), dtype)
        hs, h = _gru_scan_bptt(kernel, recurrent, zeros if input_bias is None else input_bias,
                               zeros if recurrent_bias is None else recurrent_bias, h0, xs)
        return jnp.swapaxes(hs, 0, 1), (h,)

    def step(h_previous: jax.Array, inputs: Any) -> tuple[jax.Array, jax.Array]:
        x_t, m = inputs if masks is not None else (inputs, None)  # m: (B, 1), False where masked
        h = _cell(weights, h_previous, x_t, dropout, act, recurrent_act, reset_after)
        if m is None:
            return h, h
        kept = jnp.where(m, h, h_previous)  # masked rows carry their state
        return kept, (jnp.where(m, h, 0) if zero_output else kept)

    h, hs = lax.scan(step, h0, xs if masks is None else (xs, masks))
    return jnp.swapaxes(hs, 0, 1), (h,)


def _default_scan(kernel: jax.Array, recurrent: jax.Array, input_bias: jax.Array, recurrent_bias: jax.Array,
                  h0: jax.Array, xs: jax.Array, keep: bool) -> tuple[jax.Array, jax.Array, jax.Array | None]:
    """The default GRU (tanh/sigmoid, reset_after) forward scan: ``(hs, h_T, saved)``.

    With ``keep``, ``saved`` is ``(T, B, 4H)``: ``[z, r, hh, q_h]`` of every step, what the
    backward needs besides ``h_{t-1}`` (which is ``hs`` shifted by one step).
    """
    H = recurrent.shape[0]

    def step(h_previous: jax.Array, x_t: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array | None]]:
        projected = x_t @ kernel + input_bias  # (B, 3H)
        recurrent_projected = h_previous @ recurrent + recurrent_bias  # (B, 3H)
        gates = jax.nn.sigmoid(projected[:, : 2 * H] + recurrent_projected[:, : 2 * H])  # (B, 2H)
        z, r = gates[:, :H], gates[:, H:]
        candidate_recurrent = recurrent_projected[:, 2 * H :]
        candidate = jnp.tanh(projected[:, 2 * H :] + r * candidate_recurrent)
        h = z * h_previous + (1 - z) * candidate
        saved = jnp.concatenate([gates, candidate, candidate_recurrent], axis=1) if keep else None
        return h, (h, saved)

    h, (hs, saved) = lax.scan(step, h0, xs)
    return hs, h, saved


@jax.custom_vjp  # type: ignore[untyped-decorator]  # jax is not analysed: custom_vjp types as Any
def _gru_scan_bptt(kernel: jax.Array, recurrent: jax.Array, input_bias: jax.Array, recurrent_bias: jax.Array,
                   h0: jax.Array, xs: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(hs (T, B, H), h_T)`` of the default GRU, differentiated by the reference's BPTT.

    Backward, for t = T..1, carrying ``dh`` (the outputs' cotangent added at each step):

        dhh = dh (1 - z) ;  dz = dh (h_{t-1} - hh) ;  dh_{t-1} = dh z + dq_t @ U.T
        da_h = dhh (1 - hh^2) ;  dr = da_h q_h
        da_t = [dz z(1-z), dr r(1-r), da_h]          dq_t = [da_z, da_r, da_h r]

    then one GEMM each over all ``T*B`` rows: ``d_kernel = x.T @ da``, ``d_recurrent =
    h_prev.T @ dq``, ``d_x = da @ kernel.T``, and the biases as column sums.
    """
    hs, h, _ = _default_scan(kernel, recurrent, input_bias, recurrent_bias, h0, xs, False)
    return hs, h


def _gru_bptt_forward(kernel: jax.Array, recurrent: jax.Array, input_bias: jax.Array, recurrent_bias: jax.Array,
                      h0: jax.Array, xs: jax.Array) -> tuple[tuple[jax.Array, jax.Array], tuple[Any, ...]]:
    hs, h, saved = _default_scan(kernel, recurrent, input_bias, recurrent_bias, h0, xs, True)
    return (hs, h), (kernel, recurrent, h0, xs, hs, saved)


def _gru_bptt_backward(residuals: tuple[Any, ...], cotangents: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, ...]:
    kernel, recurrent, h0, xs, hs, saved = residuals
    d_hs, d_h_final = cotangents
    H = recurrent.shape[0]
    previous = jnp.concatenate([h0[None], hs[:-1]], axis=0)  # (T, B, H): h_{t-1}
    recurrent_transposed = recurrent.T

    def step(d_hidden: jax.Array,
             inputs: tuple[jax.Array, jax.Array, jax.Array]) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        d_output, h_previous, saved_t = inputs
        z, r, candidate, candidate_recurrent = (saved_t[:, k * H : (k + 1) * H] for k in range(4))
        d_hidden = d_hidden + d_output
        d_candidate_pre = d_hidden * (1 - z) * (1 - candidate * candidate)  # da_h
        d_z = d_hidden * (h_previous - candidate) * z * (1 - z)
        d_r = d_candidate_pre * candidate_recurrent * r * (1 - r)
        d_projected = jnp.concatenate([d_z, d_r, d_candidate_pre], axis=1)  # (B, 3H): da_t
        d_recurrent_projected = jnp.concatenate([d_z, d_r, d_candidate_pre * r], axis=1)  # dq_t
        d_previous = d_hidden * z + d_recurrent_projected @ recurrent_transposed
        return d_previous, (d_projected, d_recurrent_projected)

    d_h0, (d_projected, d_recurrent_projected) = lax.scan(
        step, d_h_final, (d_hs, previous, saved), reverse=True
    )
    steps, batch, features = xs.shape
    d_projected_rows = d_projected.reshape(steps * batch, 3 * H)
    d_recurrent_rows = d_recurrent_projected.reshape(steps * batch, 3 * H)
    d_kernel = xs.reshape(steps * batch, features).T @ d_projected_rows
    d_recurrent = previous.reshape(steps * batch, H).T @ d_recurrent_rows
    d_xs = (d_projected_rows @ kernel.T).reshape(steps, batch, features)
    return d_kernel, d_recurrent, d_projected_rows.sum(0), d_recurrent_rows.sum(0), d_h0, d_xs


_gru_scan_bptt.defvjp(_gru_bptt_forward, _gru_bptt_backward)


def gru_step(params: dict[str, Any], x_t: Any, state: Any, *, activation: Any = "tanh",
             recurrent_activation: Any = "sigmoid", reset_after: bool = True) -> tuple[jax.Array, tuple[jax.Array]]:
    """One GRU step, `gru_forward`'s scanned step: ``(y_t, (h_t,))`` with ``y_t = h_t``.

    Args:
        params: the parameter dict of `gru_forward`.
        x_t: ``(B, I)`` the step's input.
        state: ``(h_{t-1},)`` with ``h_{t-1}`` of shape ``(B, H)``.
        activation, recurrent_activation, reset_after: as in `gru_forward`.

    Examples:
        >>> import numpy as np
        >>> params = {"kernel": np.ones((3, 6), "float32"), "recurrent_kernel": np.ones((2, 6), "float32")}
        >>> y, (h,) = gru_step(params, np.zeros((1, 3), "float32"), (np.zeros((1, 2), "float32"),))
        >>> y.shape, float(h[0, 0])
        ((1, 2), 0.0)
    """
    reset_after = bool(reset_after)
    features, units = check_gru_params(params, reset_after)
    if not isinstance(state, (list, tuple)) or len(state) != 1:
        raise ValueError(f"state must be a 1-tuple (h,), got {type(state).__name__}")
    (h_previous,) = state
    x_shape = _static_shape(x_t, "x_t")
    if len(x_shape) != 2 or x_shape[1] != features:
        raise ValueError(f"x_t must have shape (batch, {features}), got {x_shape}")
    if _static_shape(h_previous, "state[0] (h)") != (x_shape[0], units):
        raise ValueError(f"state[0] (h) must have shape {(x_shape[0], units)}, got {jnp.shape(h_previous)}")
    dtype = compute_dtype(x_t, params["kernel"], params["recurrent_kernel"], params.get("bias"), h_previous)
    h = _cell(
        _weights(params, dtype, reset_after), jnp.asarray(h_previous, dtype), jnp.asarray(x_t, dtype), None,
        get_activation(activation), get_activation(recurrent_activation), reset_after,
    )
    return h, (h,)


layer_forward = recurrent_layer_forward(gru_forward)  # the shared runner around the kernel (DESIGN §7)
