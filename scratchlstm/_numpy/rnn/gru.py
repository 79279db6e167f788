"""The GRU layer as pure functions: `gru_forward`, its exact BPTT `gru_backward`, and `gru_step`.

Shapes: ``B`` batch, ``T`` time steps, ``I`` input features, ``H`` units. Parameters use Keras
3's layout (see ``DESIGN.md`` §2), column blocks ``[z, r, h]`` (update, reset, candidate):

    kernel            (I, 3H)
    recurrent_kernel  (H, 3H)
    bias              (2, 3H)   reset_after=True: row 0 the input bias b_in, row 1 the
                                recurrent bias b_rec
                      (3H,)     reset_after=False: one bias b
                                (``use_bias=False`` leaves "bias" out)

The forward recurrence, for t = 1..T, with ``U = recurrent_kernel`` and the recurrent dropout
multipliers ``m (B, H)`` (all ones without dropout), ``h~_{t-1} = h_{t-1} * m``:

    reset_after=True (Keras' default, cuDNN's convention):
        a_t   = x_t @ kernel + b_in                                        (B, 3H)
        q_t   = h~_{t-1} @ U + b_rec                                       (B, 3H)
        z, r  = sigmoid(a_z + q_z), sigmoid(a_r + q_r)
        hh    = tanh(a_h + r * q_h)
    reset_after=False:
        a_t   = x_t @ kernel + b                                           (B, 3H)
        z, r  = sigmoid(a_z + h~_{t-1} @ U_z), sigmoid(a_r + h~_{t-1} @ U_r)
        hh    = tanh(a_h + (r * h~_{t-1}) @ U_h)
    both:
        h_t   = z * h_{t-1} + (1 - z) * hh

(``sigmoid`` is ``recurrent_activation`` and ``tanh`` is ``activation``.) The carry term
``z * h_{t-1}`` uses the unmasked ``h_{t-1}``: recurrent dropout only touches the inputs of the
recurrent matmuls, as in Keras.

Masks (Keras' ``RNN``): with a ``(B, T)`` boolean ``mask``, a masked step ``m_t = False`` of a
row keeps that row's state, ``h_t = h_{t-1}``, and outputs ``h_{t-1}`` (or zeros with
``zero_output_for_mask``).

Speed (``DESIGN.md`` §4), the LSTM's recipe: the input projection of all T steps is one call
before the loop (the input bias rides it as an input of ones, and with ``reset_after`` the
recurrent bias rides the recurrent GEMM the same way); each step does one recurrent GEMM
(``reset_after=False``: two, since the candidate's GEMM needs ``r``); the weight gradients are
one GEMM each over all ``B*T`` rows after the backward loop. Per-step slabs are column-major
(`column_major_steps`, `feature_major`), buffers preallocated and written with ``out=``. With
the default ``tanh``/``sigmoid`` pair the gate columns are pre-scaled so that one ``tanh`` pass
gives both sigmoid gates (see `_column_scale`), and the backward computes every slope that
does not depend on the carried gradient in whole-block passes before the sequential loop.
Other activations take a general path that keeps the pre-activations and calls the
activation's own backward rule each step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, cast

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ..._checks import as_float_array, check_ndim, check_shape, compute_dtype
from ..._layout import as_rows, column_major_steps, feature_major, to_batch_major, to_time_major
from ..activations import activation_name, get_activation
from ._common import check_recurrent_params, read_only, recurrent_dropout_multipliers, time_major_mask, unpack_states
from ._runner import recurrent_protocol


@dataclass(frozen=True)
class GRUCache:
    """What BPTT needs from the forward pass, stored time-major.

    Attributes:
        projection_inputs: ``(T, B, I)`` time-major copy of ``x``; with a bias, ``(T, B, I + 1)``
            ending with a column of ones, so that the input bias is one more row of the input
            projection and its gradient one more row of the kernel-gradient GEMM.
        gates: ``(T, B, 3H)`` gate values ``[z, r, hh]`` after their activations.
        hiddens: ``(T + 1, B, H)``; ``hiddens[0]`` is ``h_0`` and ``hiddens[t]`` is ``h_t``. With
            ``reset_after`` and a bias, ``(T + 1, B, H + 1)`` ending with a column of ones: the
            recurrent bias rides the recurrent GEMM, and its gradient that GEMM's gradient.
        candidate_inputs: the recurrent part of the candidate, ``(T, B, H)``. With
            ``reset_after``, ``q_h = h~_{t-1} @ U_h + b_rec_h``; without, ``r * h~_{t-1}``, the
            input of the candidate's recurrent GEMM.
        recurrent_inputs: ``None`` without recurrent dropout (then ``hiddens[:-1]`` is the
            recurrent GEMMs' input), else ``(T, B, H [+ 1])``: ``h~_{t-1} = h_{t-1} * m``
            (with the same column of ones as ``hiddens``).
        preactivations: ``None`` on the fast path (``tanh``/``sigmoid``), else ``(T, B, 3H)``
            ``[a_z + q_z, a_r + q_r, a_h + r * q_h]`` (or the ``reset_after=False`` forms),
            which the general activations' backward rules take.
        reset_after: the forward's ``reset_after``.
        has_bias: whether ``params`` had a bias.
        activation, recurrent_activation: the activations' names.
        recurrent_dropout_mask: ``None`` or the ``(B, H)`` multipliers ``m``.
        step_mask: ``None``, or ``(T, B, 1)`` booleans (the forward's ``mask``, time-major):
            ``False`` where a row's step was masked. Then ``hiddens`` holds the carried states,
            and ``gates`` what the masked step computed before the mask kept the old state.
        zero_output_for_mask: whether the forward's outputs are zeros at masked steps.

    Every step's slab is column-major in memory: ``projection_inputs``, ``hiddens``,
    ``recurrent_inputs`` and (``reset_after=False``) ``candidate_inputs`` are `feature_major`
    (the weight-gradient GEMMs read them as ``(W, T*B)`` rows), the others
    `column_major_steps`.

    The properties ``z``, ``r``, ``hh`` and ``h`` give read-only ``(B, T, H)`` views,
    batch-first like the inputs.
    """

    projection_inputs: NDArray[Any]
    gates: NDArray[Any]
    hiddens: NDArray[Any]
    candidate_inputs: NDArray[Any]
    recurrent_inputs: NDArray[Any] | None
    preactivations: NDArray[Any] | None
    reset_after: bool
    has_bias: bool
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    recurrent_dropout_mask: NDArray[Any] | None = None
    step_mask: NDArray[Any] | None = None
    zero_output_for_mask: bool = False

    @property
    def units(self) -> int:
        units: int = self.gates.shape[-1] // 3
        return units

    @property
    def input_features(self) -> int:
        features: int = self.projection_inputs.shape[-1] - self.has_bias
        return features

    @property
    def fast(self) -> bool:
        """Whether the forward took the ``tanh``/``sigmoid`` fast path."""
        return self.preactivations is None

    def _block(self, k: int) -> NDArray[Any]:
        h = self.units
        return read_only(to_batch_major(self.gates[:, :, k * h : (k + 1) * h]))

    @property
    def z(self) -> NDArray[Any]:
        """Update gate, ``(B, T, H)``."""
        return self._block(0)

    @property
    def r(self) -> NDArray[Any]:
        """Reset gate, ``(B, T, H)``."""
        return self._block(1)

    @property
    def hh(self) -> NDArray[Any]:
        """Candidate state, ``(B, T, H)``."""
        return self._block(2)

    @property
    def h(self) -> NDArray[Any]:
        """Hidden states ``h_1..h_T`` (the outputs before ``zero_output_for_mask``), ``(B, T, H)``."""
        return read_only(to_batch_major(self.hiddens[1:, :, : self.units]))


def _bias_shape(reset_after: bool) -> Callable[[int], tuple[tuple[int, ...], str]]:
    """The GRU's bias shape for `check_recurrent_params`: ``(2, 3H)`` or ``(3H,)``."""
    meaning = " with reset_after=True (input and recurrent bias rows)" if reset_after else " with reset_after=False (one bias)"
    return lambda units: ((2, 3 * units) if reset_after else (3 * units,), meaning)


def _column_scale(units: int, fast: bool, dtype: DTypeLike) -> NDArray[Any]:
    """``(3H,)``: the factor each weight column is pre-multiplied by.

    On the fast path the sigmoid blocks ``[z, r]`` get ``1/2``, so that the summed projections
    are ``y / 2`` and ``sigmoid(y) = 0.5 * tanh(y / 2) + 0.5`` is three passes over both blocks
    (exact: a power of two). NumPy's float32 ``tanh`` is SIMD and twice as fast as its ``exp``
    (65536 values: 9.6 vs 19.6 us; the ``1 / (1 + exp(-y))`` form costs 32 us against 15 us;
    float64 61 vs 71 us; measured on the 2-core CI machine, NumPy 2.4), and for the same
    reason the candidate uses ``np.tanh`` itself. The general path uses ``1`` throughout.
    """
    scale = np.ones(3 * units, dtype=dtype)
    if fast:
        scale[: 2 * units] = 0.5
    return scale


def gru_forward(params: dict[str, Any], x: ArrayLike, initial_state: Any = None, *, mask: Any = None,
                zero_output_for_mask: bool = False, recurrent_dropout_mask: NDArray[Any] | None = None,
                activation: str | Callable[..., Any] | None = "tanh",
                recurrent_activation: str | Callable[..., Any] | None = "sigmoid", reset_after: bool = True,
                ) -> tuple[NDArray[Any], tuple[NDArray[Any]], GRUCache]:
    """Run the GRU over a whole sequence (Keras 3's ``GRU``, ``implementation=2``).

    Args:
        params: ``{"kernel": (I, 3H), "recurrent_kernel": (H, 3H), "bias": (2, 3H) or (3H,)}``
            (``"bias"`` may be absent). Gate blocks in order ``[z, r, h]``.
        x: ``(B, T, I)`` inputs.
        initial_state: ``None`` (zeros) or ``(h_0,)`` with ``h_0`` of shape ``(B, H)``.
        mask: ``None`` or ``(B, T)`` booleans (Keras' mask; nonzero numbers count as ``True``):
            at a step where ``mask[b, t]`` is ``False``, row ``b`` keeps its state.
        zero_output_for_mask: with a mask, the outputs at masked steps are zeros instead of
            the carried ``h_{t-1}`` (Keras' ``RNN(zero_output_for_mask=True)``).
        recurrent_dropout_mask: ``None`` or ``(B, H)`` inverted-dropout multipliers ``m``
            (0 or ``1 / (1 - rate)``), fixed for the whole sequence; ``h_{t-1} * m`` replaces
            ``h_{t-1}`` wherever it enters a recurrent matmul.
        activation: the candidate's activation (a Keras name; default ``"tanh"``).
        recurrent_activation: the gates' activation (default ``"sigmoid"``).
        reset_after: Keras' ``reset_after``: the reset gate multiplies ``h~_{t-1} @ U_h +
            b_rec_h`` (``True``, bias ``(2, 3H)``) or ``h~_{t-1}`` before the matmul
            (``False``, bias ``(3H,)``).

    Returns:
        ``(outputs, (h_T,), cache)``: ``outputs`` is ``(B, T, H)`` holding ``h_1..h_T`` (a
        read-only view into the cache; a new array with ``zero_output_for_mask`` and a mask),
        ``h_T`` is ``(B, H)`` and ``cache`` a `GRUCache` for `gru_backward`.

    The dtype is float64 if ``x``, a parameter or the initial state is float64, else float32.

    Equations, for t = 1..T, with ``h~_{t-1} = h_{t-1} * m`` (``m`` all ones without dropout):

        a_t = x_t @ kernel + b_in                   (b_in = bias[0], or bias when not reset_after)
        reset_after=True:
            q_t  = h~_{t-1} @ recurrent_kernel + b_rec                  (b_rec = bias[1])
            z, r = sigmoid(a_z + q_z), sigmoid(a_r + q_r)
            hh   = tanh(a_h + r * q_h)
        reset_after=False:
            z, r = sigmoid(a_z + h~_{t-1} @ U_z), sigmoid(a_r + h~_{t-1} @ U_r)
            hh   = tanh(a_h + (r * h~_{t-1}) @ U_h)
        h_t = z * h_{t-1} + (1 - z) * hh

    and with a mask ``m_t (B, 1)`` the step's result replaces the state only where it holds:

        h_t = where(m_t, z * h_{t-1} + (1 - z) * hh, h_{t-1})
        output_t = h_t, or where(m_t, h_t, 0) with zero_output_for_mask

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 6)), "recurrent_kernel": rng.normal(size=(2, 6)),
        ...           "bias": np.zeros((2, 6))}
        >>> outputs, (h,), cache = gru_forward(params, rng.normal(size=(4, 5, 3)))
        >>> outputs.shape, h.shape, cache.z.shape
        ((4, 5, 2), (4, 2), (4, 5, 2))
        >>> bool(np.allclose(outputs[:, -1], h))
        True
    """
    reset_after = bool(reset_after)
    input_features, units = check_recurrent_params(params, 3, _bias_shape(reset_after))
    x = as_float_array(x, "x")
    check_ndim(x, 3, "x", "of shape (batch, time_steps, features)")
    batch, steps, features = x.shape
    if features != input_features:
        raise ValueError(
            f"x must have {input_features} features on its last axis (params['kernel'] is "
            f"{np.shape(params['kernel'])}), got x of shape {x.shape}"
        )
    if steps == 0 or batch == 0:
        raise ValueError(f"x must have at least one sample and one time step, got shape {x.shape}")
    h0 = None if initial_state is None else unpack_states(initial_state, batch, units, ("h0",))[0]
    step_mask = None if mask is None else time_major_mask(mask, batch, steps)  # (T, B, 1)
    bias = params.get("bias")
    dtype = compute_dtype(x, params["kernel"], params["recurrent_kernel"], bias, h0)
    dropout = None
    if recurrent_dropout_mask is not None:
        dropout = recurrent_dropout_multipliers(recurrent_dropout_mask, batch, units, dtype)  # (B, H)
    activation, recurrent_activation = activation_name(activation), activation_name(recurrent_activation)
    fast = activation == "tanh" and recurrent_activation == "sigmoid"
    H = units

    scale = _column_scale(units, fast, dtype)
    has_bias = bias is not None
    input_bias = recurrent_bias = None
    if has_bias:
        bias = np.asarray(bias, dtype=dtype)
        input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, None)
    # The input bias rides the input projection as one more input that is always 1.
    projection_inputs = feature_major(steps, batch, features + has_bias, dtype)  # (T, B, I [+ 1])
    projection_inputs[:, :, :features] = to_time_major(x)
    projection_kernel = np.asarray(params["kernel"], dtype=dtype) * scale  # (I, 3H)
    if has_bias:
        projection_inputs[:, :, features] = 1.0
        projection_kernel = np.concatenate([projection_kernel, (input_bias * scale)[None, :]])
    # Every step's slab is column-major (see column_major_steps): faster small GEMMs and gate
    # blocks that are contiguous runs of B*H values.
    gates = column_major_steps(steps, batch, 3 * units, dtype)  # (T, B, 3H)
    np.matmul(projection_inputs, projection_kernel, out=gates)  # T GEMMs (B, I [+ 1]) @ (I [+ 1], 3H)
    preactivations = None
    if not fast:  # the general path keeps the pre-activations for the backward rules
        preactivations, gates = gates, column_major_steps(steps, batch, 3 * units, dtype)

    # With reset_after the recurrent bias rides the recurrent GEMM as a column of ones.
    ones_column = reset_after and has_bias
    hiddens = feature_major(steps + 1, batch, units + ones_column, dtype)  # (T + 1, B, H [+ 1])
    hiddens[0, :, :H] = 0.0 if h0 is None else h0
    recurrent_inputs = None  # (T, B, H [+ 1]): h_{t-1} * m, with dropout only
    if dropout is not None:
        recurrent_inputs = feature_major(steps, batch, units + ones_column, dtype)
    if ones_column:
        hiddens[:, :, H] = 1.0
        if recurrent_inputs is not None:
            recurrent_inputs[:, :, H] = 1.0

    recurrent = np.asarray(params["recurrent_kernel"], dtype=dtype) * scale  # (H, 3H), pre-scaled
    skip = None if step_mask is None else ~step_mask  # (T, B, 1): rows that keep their state
    state = _ForwardState(gates, preactivations, hiddens, recurrent_inputs, dropout, skip,
                          get_activation(activation)[0], get_activation(recurrent_activation)[0])
    if reset_after:
        if ones_column:
            recurrent = np.concatenate([recurrent, (recurrent_bias * scale)[None, :]])
        # Column-major like the slabs: OpenBLAS's small GEMMs are fastest with all three alike.
        candidate_inputs = _forward_reset_after(state, np.asfortranarray(recurrent))
    else:
        candidate_inputs = _forward_reset_before(
            state, np.asfortranarray(recurrent[:, : 2 * H]), np.asfortranarray(recurrent[:, 2 * H :])
        )

    zero_output_for_mask = bool(zero_output_for_mask) and step_mask is not None
    cache = GRUCache(
        projection_inputs, gates, hiddens, candidate_inputs, recurrent_inputs, preactivations, reset_after,
        has_bias, activation, recurrent_activation, dropout, step_mask, zero_output_for_mask,
    )
    outputs = cache.h
    if zero_output_for_mask:
        # zero_output_for_mask is only True with a mask
        outputs = np.where(to_batch_major(cast("NDArray[Any]", step_mask)), outputs, 0.0)  # (B, T, H)
    return outputs, (hiddens[-1, :, :H].copy(),), cache


@dataclass
class _ForwardState:
    """The arrays the forward loops fill in, and how they compute the activations."""

    gates: NDArray[Any]  # (T, B, 3H): the input projection (fast path), becomes [z, r, hh]
    preactivations: NDArray[Any] | None  # (T, B, 3H): the input projection (general path)
    hiddens: NDArray[Any]  # (T + 1, B, H [+ 1])
    recurrent_inputs: NDArray[Any] | None  # (T, B, H [+ 1]) with dropout
    dropout: NDArray[Any] | None  # (B, H)
    skip: NDArray[Any] | None  # (T, B, 1): True where a row's step is masked
    activation: Callable[..., NDArray[Any]]
    recurrent_activation: Callable[..., NDArray[Any]]

    @property
    def fast(self) -> bool:
        return self.preactivations is None

    def recurrent_input(self, t: int) -> NDArray[Any]:
        """``h~_{t-1}`` for the step from ``hiddens[t]``: ``(B, H [+ 1])``."""
        if self.dropout is None:
            hidden: NDArray[Any] = self.hiddens[t]
            return hidden
        units = self.dropout.shape[1]
        masked: NDArray[Any] = self.recurrent_inputs[t]  # type: ignore[index]  # set with dropout
        np.multiply(self.hiddens[t][:, :units], self.dropout, out=masked[:, :units])
        return masked

    def gate_activations(self, t: int, units: int) -> None:
        """``gates[t][:, :2H] = [z, r]`` from the summed projections of ``[z, r]``."""
        H = units
        if self.fast:  # the columns were pre-scaled by 1/2: sigmoid(y) = 0.5 tanh(y / 2) + 0.5
            zr = self.gates[t][:, : 2 * H]
            np.tanh(zr, out=zr)
            zr *= 0.5
            zr += 0.5
        else:  # block by block, as Keras applies it (it matters for softmax-like activations)
            pre, out = self.preactivations[t], self.gates[t]  # type: ignore[index]  # set when not fast
            out[:, :H] = self.recurrent_activation(pre[:, :H])
            out[:, H : 2 * H] = self.recurrent_activation(pre[:, H : 2 * H])

    def candidate_activation(self, t: int, units: int) -> None:
        """``gates[t][:, 2H:] = hh`` from the summed candidate pre-activation."""
        H = units
        if self.fast:
            candidate = self.gates[t][:, 2 * H :]
            np.tanh(candidate, out=candidate)
        else:
            self.gates[t][:, 2 * H :] = self.activation(
                self.preactivations[t][:, 2 * H :]  # type: ignore[index]  # set when not fast
            )

    def pre(self, t: int) -> NDArray[Any]:
        """Where step ``t`` sums its pre-activations (the gate blocks halved on the fast path)."""
        pre: NDArray[Any] = self.gates[t] if self.fast else self.preactivations[t]  # type: ignore[index]  # set when not fast
        return pre

    def new_state(self, t: int, units: int) -> None:
        """``h_t = hh + z * (h_{t-1} - hh)`` (= ``z h_{t-1} + (1 - z) hh``), then the mask."""
        H = units
        gates = self.gates[t]
        previous, new = self.hiddens[t][:, :H], self.hiddens[t + 1][:, :H]
        np.subtract(previous, gates[:, 2 * H :], out=new)
        new *= gates[:, :H]
        new += gates[:, 2 * H :]
        if self.skip is not None:  # masked rows keep h_{t-1}
            np.copyto(new, previous, where=self.skip[t])


def _forward_reset_after(state: _ForwardState, recurrent: NDArray[Any]) -> NDArray[Any]:
    """The ``reset_after=True`` loop; returns ``candidate_inputs``, every step's ``q_h``.

    ``recurrent`` is ``(H [+ 1], 3H)``, its gate blocks pre-scaled, with the recurrent bias as
    its last row when the hiddens carry the column of ones: one GEMM per step gives ``q_t`` for
    all three blocks.
    """
    steps, batch, width = state.gates.shape
    H = width // 3
    dtype = state.gates.dtype
    candidate_inputs = column_major_steps(steps, batch, H, dtype)  # (T, B, H): q_h
    projected = np.empty((batch, 3 * H), dtype=dtype, order="F")  # q_t
    reset_times_q = np.empty((batch, H), dtype=dtype, order="F")
    for t in range(steps):
        np.matmul(state.recurrent_input(t), recurrent, out=projected)
        pre = state.pre(t)  # (B, 3H), holds a_t (the gate blocks pre-scaled on the fast path)
        pre[:, : 2 * H] += projected[:, : 2 * H]
        state.gate_activations(t, H)
        np.copyto(candidate_inputs[t], projected[:, 2 * H :])
        np.multiply(state.gates[t][:, H : 2 * H], candidate_inputs[t], out=reset_times_q)
        pre[:, 2 * H :] += reset_times_q  # a_h + r * q_h
        state.candidate_activation(t, H)
        state.new_state(t, H)
    return candidate_inputs


def _forward_reset_before(
    state: _ForwardState, recurrent_gates: NDArray[Any], recurrent_candidate: NDArray[Any]
) -> NDArray[Any]:
    """The ``reset_after=False`` loop; returns ``candidate_inputs``, every step's ``r * h~_{t-1}``.

    Two GEMMs per step: ``h~_{t-1} @ U_[z, r]`` (``(H, 2H)``), then ``(r * h~_{t-1}) @ U_h``.
    """
    steps, batch, width = state.gates.shape
    H = width // 3
    dtype = state.gates.dtype
    candidate_inputs = feature_major(steps, batch, H, dtype)  # (T, B, H): r * h~_{t-1}
    projected_gates = np.empty((batch, 2 * H), dtype=dtype, order="F")
    projected_candidate = np.empty((batch, H), dtype=dtype, order="F")
    for t in range(steps):
        masked_previous = state.recurrent_input(t)  # (B, H)
        np.matmul(masked_previous, recurrent_gates, out=projected_gates)
        pre = state.pre(t)
        pre[:, : 2 * H] += projected_gates
        state.gate_activations(t, H)
        np.multiply(state.gates[t][:, H : 2 * H], masked_previous, out=candidate_inputs[t])
        np.matmul(candidate_inputs[t], recurrent_candidate, out=projected_candidate)
        pre[:, 2 * H :] += projected_candidate
        state.candidate_activation(t, H)
        state.new_state(t, H)
    return candidate_inputs


def gru_backward(params: dict[str, Any], cache: GRUCache, d_outputs: ArrayLike | None = None, d_state: Any = None, *,
                 input_gradient: bool = True,
                 ) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None, tuple[NDArray[Any]]]:
    """Backpropagation through time for `gru_forward`.

    Args:
        params: the same parameter dict as given to `gru_forward`.
        cache: the `GRUCache` returned by `gru_forward`.
        d_outputs: ``(B, T, H)`` gradient of the loss with respect to ``outputs``, or ``None``.
        d_state: ``None`` or ``(d_h_T,)`` with ``d_h_T`` ``(B, H)`` or ``None``: the gradient
            with respect to the final state (a last-step-only loss passes ``(d_h,)``).
        input_gradient: ``False`` skips ``d_x`` (returned as ``None``), a ``(B*T, 3H) @ (3H, I)``
            GEMM that the first layer of a model does not need.

    Returns:
        ``(grads, d_x, (d_h0,))``: ``grads`` has the keys of ``params`` with the same shapes,
        ``d_x`` is ``(B, T, I)`` and ``d_h0`` is ``(B, H)``.

    Walking t = T..1 and carrying ``dh`` (it starts at ``d_state``), with ``sigmoid'`` and
    ``tanh'`` written for the default activations (``s' = s (1 - s)``, ``tanh' = 1 - hh^2``; the
    general path calls the activations' backward rules instead):

        dh      += d_outputs_t
        d_hh     = dh * (1 - z)             d_pre_h = d_hh * (1 - hh^2)             (B, H)
        d_zg     = dh * (h_{t-1} - hh)      d_pre_z = d_zg * z (1 - z)
        reset_after=True:
            d_q_h    = d_pre_h * r                        (the candidate's recurrent slot)
            d_pre_r  = d_pre_h * q_h * r (1 - r)
            d_q      = [d_pre_z, d_pre_r, d_q_h]                                     (B, 3H)
            dh~      = d_q @ recurrent_kernel.T
        reset_after=False:
            d_rh     = d_pre_h @ U_h.T                    (rh = r * h~_{t-1})
            d_pre_r  = d_rh * h~_{t-1} * r (1 - r)
            dh~      = d_rh * r + [d_pre_z, d_pre_r] @ U_[z, r].T
        dh_{t-1} = dh * z + dh~ * m

    (``z * h_{t-1}`` is the unmasked carry; ``dh~`` reaches ``h_{t-1}`` through the dropout
    multipliers ``m``.) After the loop, with ``d_a_t = [d_pre_z, d_pre_r, d_pre_h]``, one GEMM
    each over all ``B*T`` rows:

        d_kernel = sum_t x_t.T @ d_a_t ;  d_b_in = sum_t sum_b d_a_t ;  d_x_t = d_a_t @ kernel.T
        reset_after=True:
            d_recurrent_kernel = sum_t h~_{t-1}.T @ d_q_t ;  d_b_rec = sum_t sum_b d_q_t
        reset_after=False:
            d_recurrent_kernel[:, :2H] = sum_t h~_{t-1}.T @ [d_pre_z, d_pre_r]_t
            d_recurrent_kernel[:, 2H:] = sum_t (r * h~_{t-1}).T @ d_pre_h_t
        bias gradient: [d_b_in, d_b_rec] (reset_after=True) or d_b_in (False)

    With a mask, a masked step ``m_t = False`` of a row is an identity on its state, so there
    the carried gradient passes straight through and the step adds nothing to the weight and
    input gradients:

        dh_t += d_outputs_t        (times m_t with zero_output_for_mask: those outputs are 0)
        d_pre = 0 ;  dh_{t-1} = dh_t                                   (rows with m_t = False)

    The cache is not modified, so the backward pass can be repeated.
    """
    if not isinstance(cache, GRUCache):
        raise ValueError(f"cache must be the GRUCache returned by gru_forward, got {type(cache).__name__}")
    steps, batch, _ = cache.gates.shape
    units, features = cache.units, cache.input_features
    H = units
    dtype = cache.gates.dtype
    kernel = np.asarray(params["kernel"], dtype=dtype)
    recurrent = np.asarray(params["recurrent_kernel"], dtype=dtype)
    check_shape(kernel, (features, 3 * units), "params['kernel']")
    check_shape(recurrent, (units, 3 * units), "params['recurrent_kernel']")

    step_mask = cache.step_mask  # (T, B, 1) or None
    d_outputs_time_major = None
    if d_outputs is not None:
        d_outputs = as_float_array(d_outputs, "d_outputs")
        check_shape(d_outputs, (batch, steps, units), "d_outputs")
        d_outputs_time_major = to_time_major(d_outputs)
        if cache.zero_output_for_mask:  # the masked steps' outputs are constant zeros
            d_outputs_time_major = d_outputs_time_major * step_mask  # (T, B, H)
    d_hidden = np.zeros((batch, units), dtype=dtype, order="F")
    if d_state is not None:
        if not isinstance(d_state, (list, tuple)) or len(d_state) != 1:
            raise ValueError(f"d_state must be None or a 1-tuple (d_h,), got {type(d_state).__name__}"
                             + (f" of length {len(d_state)}" if hasattr(d_state, "__len__") else ""))
        if d_state[0] is not None:
            d_h_final = as_float_array(d_state[0], "d_state[0]")
            check_shape(d_h_final, (batch, units), "d_state[0]")
            d_hidden += d_h_final

    # The per-step slab of d_pre: reset_after [d_q_h, d_pre_z, d_pre_r, d_pre_h] (4H), so that
    # d_q = [d_q_h, d_pre_z, d_pre_r] (the recurrent GEMM's operand, against U's columns
    # reordered [h, z, r]) and d_a = [d_pre_z, d_pre_r, d_pre_h] (the input GEMMs', Keras'
    # order) are both contiguous; without reset_after d_a (3H).
    width = 4 * H if cache.reset_after else 3 * H
    if cache.reset_after:
        # (3H, H), column-major like the slabs: OpenBLAS is fastest with all operands alike.
        reordered = np.concatenate([recurrent[:, 2 * H :], recurrent[:, : 2 * H]], axis=1)  # (H, 3H): [h, z, r]
        recurrent_back: tuple[NDArray[Any], ...] = (np.ascontiguousarray(reordered).T,)
    else:
        recurrent_back = (np.ascontiguousarray(recurrent[:, : 2 * H]).T, np.ascontiguousarray(recurrent[:, 2 * H :]).T)
    # Slopes are computed a block of steps at a time, just before the loop reaches them, so
    # that each block's (k, B, width) slab is still in cache when the loop reads it.
    block = max(1, min(steps // 4, _SLOPE_BLOCK_ELEMENTS // (batch * width)))
    slab_buffer = column_major_steps(block, batch, width, dtype)  # (k, B, width)
    carry_buffer = None if step_mask is None else column_major_steps(block, batch, units, dtype)
    # Every step's finished slab, feature-major: the weight-gradient GEMMs read them as
    # (width, T*B) rows. (Computing the slabs in place there instead, without the block copy,
    # measured slower at B = 16, T = 1000 and no faster at M and L.)
    d_preactivations = feature_major(steps, batch, width, dtype)  # (T, B, width)
    loop = _BackwardLoop(cache, recurrent_back, batch)
    for stop in range(steps, 0, -block):
        start = max(0, stop - block)
        slabs = slab_buffer[: stop - start]
        keep = None if step_mask is None else step_mask[start:stop]  # (k, B, 1)
        carry = cache.gates[start:stop, :, :H]  # dh_{t-1} gains dh_t * z ...
        if keep is not None:  # ... or all of dh_t on a masked row
            carry = carry_buffer[: stop - start]  # type: ignore[index]  # set with a mask
            np.copyto(carry, cache.gates[start:stop, :, :H])
            np.copyto(carry, 1.0, where=~keep)
        if cache.fast:
            _local_slopes(cache, start, stop, slabs, keep)
        for t in range(stop - 1, start - 1, -1):
            if d_outputs_time_major is not None:
                d_hidden += d_outputs_time_major[t]
            loop.step(t, slabs[t - start], d_hidden, None if keep is None else keep[t - start])
            d_hidden *= carry[t - start]
            d_hidden += loop.d_previous
        d_preactivations[start:stop] = slabs  # now d_pre of steps start..stop-1

    # The weight gradients contract over all T*B rows: one GEMM each. The ones columns give the
    # bias gradients as one more row.
    rows = as_rows(d_preactivations)  # (width, T*B)
    input_rows = rows[H:] if cache.reset_after else rows  # d_a: (3H, T*B)
    projection_grad = as_rows(cache.projection_inputs) @ input_rows.T  # (I [+ 1], 3H)
    recurrent_rows = as_rows(cache.hiddens[:-1] if cache.recurrent_inputs is None else cache.recurrent_inputs)
    grads = {"kernel": projection_grad[:features]}  # (I, 3H)
    if cache.reset_after:
        reordered = recurrent_rows @ rows[: 3 * H].T  # (H [+ 1], 3H), columns [h, z, r]
        recurrent_grad = np.concatenate([reordered[:, H:], reordered[:, :H]], axis=1)  # [z, r, h]
        grads["recurrent_kernel"] = recurrent_grad[:H]
        if cache.has_bias:
            grads["bias"] = np.stack([projection_grad[features], recurrent_grad[H]])  # (2, 3H)
    else:
        recurrent_grad = np.empty((units, 3 * units), dtype=dtype)
        recurrent_grad[:, : 2 * H] = recurrent_rows @ rows[: 2 * H].T
        recurrent_grad[:, 2 * H :] = as_rows(cache.candidate_inputs) @ rows[2 * H :].T
        grads["recurrent_kernel"] = recurrent_grad
        if cache.has_bias:
            grads["bias"] = projection_grad[features]  # (3H,)
    d_x = None
    if input_gradient:
        d_x = to_batch_major((input_rows.T @ kernel.T).reshape(steps, batch, features))
    return grads, d_x, (d_hidden,)


# Elements of (k, B, width) per block of local slopes in the backward pass (1 MiB in float32):
# large enough that a block's passes are not dominated by per-call overhead (T = 1000, B = 16),
# small enough to stay in the L2/L3 cache (B = 256, H = 256 gives one step per block).
_SLOPE_BLOCK_ELEMENTS = 2**18


def _local_slopes(cache: GRUCache, start: int, stop: int, slabs: NDArray[Any], keep: NDArray[Any] | None) -> None:
    """Everything in ``d_pre`` that does not depend on the carried ``dh``, steps ``start..stop-1``.

    Fills the slabs (``k = stop - start``) with, per block,

        reset_after:   [r, (h_{t-1} - hh) z(1-z), q_h r(1-r), (1-z)(1-hh^2)]
        otherwise:     [(h_{t-1} - hh) z(1-z), h~_{t-1} r(1-r), (1-z)(1-hh^2)]

    so that the loop's step is a few in-place multiplications (see `_BackwardLoop.step`):
    ``d_pre_z`` and ``d_pre_h`` are ``dh`` times their slopes, ``d_q_h`` and (reset_after)
    ``d_pre_r`` are ``d_pre_h`` times theirs. On masked rows (``keep`` False) the slopes of
    ``z`` and ``h`` are zero, which zeroes the whole step's ``d_pre``.
    """
    H = cache.units
    gates = cache.gates[start:stop]
    z, r, hh = gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H :]
    previous = cache.hiddens[start:stop, :, :H]
    blocks = [slabs[..., k * H : (k + 1) * H] for k in range(slabs.shape[-1] // H)]
    if cache.reset_after:
        copy_r, slope_z, slope_r, slope_h = blocks
    else:
        slope_z, slope_r, slope_h = blocks
    np.subtract(1.0, z, out=slope_h)
    np.subtract(previous, hh, out=slope_z)
    slope_z *= z
    slope_z *= slope_h  # (h_{t-1} - hh) z (1 - z)
    np.multiply(hh, hh, out=slope_r)  # slope_r is scratch space until below
    np.subtract(1.0, slope_r, out=slope_r)
    slope_h *= slope_r  # (1 - z)(1 - hh^2)
    if keep is not None:
        slope_z *= keep
        slope_h *= keep
    if cache.reset_after:
        np.subtract(1.0, r, out=copy_r)  # copy_r is scratch space until below
        np.multiply(r, cache.candidate_inputs[start:stop], out=slope_r)
        slope_r *= copy_r
        np.copyto(copy_r, r)
    else:
        np.subtract(1.0, r, out=slope_r)
        slope_r *= r
        masked_previous = previous if cache.recurrent_inputs is None else cache.recurrent_inputs[start:stop, :, :H]
        slope_r *= masked_previous


def _gate_blocks(slab: NDArray[Any], units: int) -> NDArray[Any]:
    """A column-major ``(B, n*H)`` slab as an ``(n, H, B)`` view (one ``(H, B)`` per gate block),
    so that one ufunc call covers several blocks (``blocks[1::2]``). Raises rather than copy."""
    blocks: NDArray[Any] = slab.T.view()
    blocks.shape = (slab.shape[1] // units, units, slab.shape[0])
    return blocks


class _BackwardLoop:
    """One step of the sequential backward: fills a step's ``d_pre`` slab and ``d_previous``.

    ``d_previous`` receives ``dh~ * m``, the gradient that reaches ``h_{t-1}`` through the
    recurrent matmuls; the caller adds the carry term ``dh * z``.
    """

    def __init__(self, cache: GRUCache, recurrent_back: tuple[NDArray[Any], ...], batch: int) -> None:
        self.cache = cache
        self.recurrent_back = recurrent_back
        self.units = H = cache.units
        dtype = cache.gates.dtype
        self.d_previous = np.empty((batch, H), dtype=dtype, order="F")
        self.scratch = np.empty((batch, H), dtype=dtype, order="F")
        self.dropout = cache.recurrent_dropout_mask
        if not cache.fast:
            self.activation_backward = get_activation(cache.activation)[1]
            self.recurrent_activation_backward = get_activation(cache.recurrent_activation)[1]

    def step(self, t: int, slab: NDArray[Any], d_hidden: NDArray[Any], keep: NDArray[Any] | None) -> None:
        H = self.units
        cache = self.cache
        if cache.fast:  # the slab holds the local slopes (`_local_slopes`)
            blocks = _gate_blocks(slab, H)  # (4 or 3, H, B) view of the slab
            if cache.reset_after:
                blocks[1::2] *= d_hidden.T  # d_pre_z, d_pre_h
                blocks[0::2] *= blocks[3]  # d_q_h = r d_pre_h, d_pre_r = q_h r(1-r) d_pre_h
            else:
                blocks[0::2] *= d_hidden.T  # d_pre_z, d_pre_h
        else:
            self._general_slab(t, slab, d_hidden, keep)
        if cache.reset_after:
            np.matmul(slab[:, : 3 * H], self.recurrent_back[0], out=self.d_previous)
        else:
            gates_back, candidate_back = self.recurrent_back
            d_reset_input = self.scratch  # d_rh = d_pre_h @ U_h.T
            np.matmul(slab[:, 2 * H :], candidate_back, out=d_reset_input)
            if cache.fast:
                slab[:, H : 2 * H] *= d_reset_input  # d_pre_r = d_rh h~ r(1-r)
            else:
                self._general_reset_before(t, slab, d_reset_input)
            d_reset_input *= cache.gates[t][:, H : 2 * H]  # the r * h~ path: d_rh * r
            np.matmul(slab[:, : 2 * H], gates_back, out=self.d_previous)
            self.d_previous += d_reset_input
        if self.dropout is not None:
            self.d_previous *= self.dropout

    def _general_slab(self, t: int, slab: NDArray[Any], d_hidden: NDArray[Any], keep: NDArray[Any] | None) -> None:
        """``d_pre_z``, ``d_pre_h`` (and with reset_after ``d_q_h``, ``d_pre_r``) from the rules."""
        H = self.units
        cache = self.cache
        gates, pre = cache.gates[t], cache.preactivations[t]  # type: ignore[index]  # set when not fast
        z, r, hh = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]
        live = d_hidden if keep is None else d_hidden * keep  # masked rows contribute nothing
        offset = H if cache.reset_after else 0
        d_update, d_reset, d_candidate = (slab[:, offset + k * H : offset + (k + 1) * H] for k in range(3))
        d_candidate[...] = self.activation_backward(pre[:, 2 * H :], hh, live * (1.0 - z))
        d_update[...] = self.recurrent_activation_backward(pre[:, :H], z, live * (cache.hiddens[t][:, :H] - hh))
        if cache.reset_after:
            np.multiply(d_candidate, r, out=slab[:, :H])  # d_q_h
            d_reset[...] = self.recurrent_activation_backward(
                pre[:, H : 2 * H], r, d_candidate * cache.candidate_inputs[t]
            )

    def _general_reset_before(self, t: int, slab: NDArray[Any], d_reset_input: NDArray[Any]) -> None:
        H = self.units
        cache = self.cache
        masked_previous = cache.hiddens[t] if cache.recurrent_inputs is None else cache.recurrent_inputs[t]
        slab[:, H : 2 * H] = self.recurrent_activation_backward(
            cache.preactivations[t][:, H : 2 * H],  # type: ignore[index]  # set when not fast
            cache.gates[t][:, H : 2 * H], d_reset_input * masked_previous[:, :H]
        )


def gru_step(
    params: dict[str, Any], x_t: ArrayLike, state: Sequence[ArrayLike], *,
    activation: str | Callable[..., Any] | None = "tanh",
    recurrent_activation: str | Callable[..., Any] | None = "sigmoid",
    reset_after: bool = True,
) -> tuple[NDArray[Any], tuple[NDArray[Any]]]:
    """One GRU step, for streaming (``stateful`` inference one input at a time).

    Args:
        params: the parameter dict of `gru_forward`.
        x_t: ``(B, I)`` the step's input.
        state: ``(h_{t-1},)`` with ``h_{t-1}`` of shape ``(B, H)``.
        activation, recurrent_activation, reset_after: as in `gru_forward`.

    Returns:
        ``(y_t, (h_t,))`` where ``y_t`` is ``h_t``, ``(B, H)``: exactly `gru_forward`'s step
        (the same equations; only cheap shape checks, no recurrent dropout and no mask).

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 6)), "recurrent_kernel": rng.normal(size=(2, 6)),
        ...           "bias": rng.normal(size=(2, 6))}
        >>> x = rng.normal(size=(4, 5, 3))
        >>> state = (np.zeros((4, 2)),)
        >>> for t in range(5):
        ...     y, state = gru_step(params, x[:, t], state)
        >>> outputs, (h,), _ = gru_forward(params, x)
        >>> bool(np.allclose(y, h)) and bool(np.allclose(state[0], outputs[:, -1]))
        True
    """
    kernel = params["kernel"]
    recurrent = params["recurrent_kernel"]
    bias = params.get("bias")
    if not isinstance(state, (list, tuple)) or len(state) != 1:
        raise ValueError(f"state must be a 1-tuple (h,), got {type(state).__name__}")
    h, x_t = np.asarray(state[0]), np.asarray(x_t)
    H = recurrent.shape[0]
    if x_t.ndim != 2 or x_t.shape[1] != kernel.shape[0]:
        raise ValueError(f"x_t must have shape (batch, {kernel.shape[0]}), got {x_t.shape}")
    if h.shape != (x_t.shape[0], H):
        raise ValueError(f"state[0] (h) must have shape {(x_t.shape[0], H)}, got {h.shape}")
    if bias is not None and bias.ndim != 1 + bool(reset_after):
        expected = (2, 3 * H) if reset_after else (3 * H,)
        raise ValueError(
            f"params['bias'] must have shape {expected} with reset_after={bool(reset_after)}, got {bias.shape}"
        )
    same_dtype = x_t.dtype == h.dtype == kernel.dtype == recurrent.dtype and (bias is None or bias.dtype == h.dtype)
    if activation != "tanh" or recurrent_activation != "sigmoid" or not same_dtype:
        # (mixed dtypes promote there, as in gru_forward; the in-place ops below would not)
        return _general_step(params, x_t, h, activation, recurrent_activation, bool(reset_after))

    # The default pair, lean for batch 1: in-place ops on the two GEMMs' results (each NumPy
    # call costs ~0.2 us here; a temporary or an np.errstate block costs more than the math).
    projected = x_t @ kernel  # (B, 3H)
    if reset_after:
        recurrent_projected = h @ recurrent  # (B, 3H)
        if bias is not None:
            projected += bias[0]
            recurrent_projected += bias[1]
        gates = projected[:, : 2 * H]
        gates += recurrent_projected[:, : 2 * H]
        candidate_recurrent = recurrent_projected[:, 2 * H :]
        _sigmoid_in_place(gates)
        candidate_recurrent *= gates[:, H:]  # r * q_h
    else:
        if bias is not None:
            projected += bias
        gates = projected[:, : 2 * H]
        gates += h @ recurrent[:, : 2 * H]
        _sigmoid_in_place(gates)
        candidate_recurrent = (gates[:, H:] * h) @ recurrent[:, 2 * H :]
    candidate = projected[:, 2 * H :]
    candidate += candidate_recurrent
    np.tanh(candidate, out=candidate)
    h_new = h - candidate
    h_new *= gates[:, :H]
    h_new += candidate  # z h + (1 - z) hh
    return h_new, (h_new,)


def _sigmoid_in_place(values: NDArray[Any]) -> None:
    """``sigmoid(y) = 0.5 tanh(y / 2) + 0.5``: no overflow, so no ``np.errstate`` needed."""
    values *= 0.5
    np.tanh(values, out=values)
    values *= 0.5
    values += 0.5


def _general_step(
    params: dict[str, Any], x_t: NDArray[Any], h: NDArray[Any], activation: str | Callable[..., Any] | None,
    recurrent_activation: str | Callable[..., Any] | None, reset_after: bool,
) -> tuple[NDArray[Any], tuple[NDArray[Any]]]:
    """`gru_step` for activations other than the default pair, or mixed dtypes (Keras applies
    the gate activation block by block, which matters for softmax-like ones)."""
    gate, candidate_activation = get_activation(recurrent_activation)[0], get_activation(activation)[0]
    kernel, recurrent, bias = params["kernel"], params["recurrent_kernel"], params.get("bias")
    H = recurrent.shape[0]
    projected = x_t @ kernel
    if reset_after:
        recurrent_projected = h @ recurrent
        if bias is not None:
            projected = projected + bias[0]
            recurrent_projected = recurrent_projected + bias[1]
    else:
        recurrent_projected = h @ recurrent[:, : 2 * H]
        if bias is not None:
            projected = projected + bias
    z = gate(projected[:, :H] + recurrent_projected[:, :H])
    r = gate(projected[:, H : 2 * H] + recurrent_projected[:, H : 2 * H])
    if reset_after:
        hh = candidate_activation(projected[:, 2 * H :] + r * recurrent_projected[:, 2 * H :])
    else:
        hh = candidate_activation(projected[:, 2 * H :] + (r * h) @ recurrent[:, 2 * H :])
    h_new = z * h + (1 - z) * hh
    return h_new, (h_new,)


# --- the layer protocol (DESIGN §7): the shared runner around these kernels ------------------
layer_forward, layer_backward, layer_step = recurrent_protocol(gru_forward, gru_backward, gru_step)
