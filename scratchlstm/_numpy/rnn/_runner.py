"""The NumPy runner of every recurrent layer: one forward and one backward around a cell's kernel.

A recurrent layer's math is a whole-sequence kernel pair (``lstm_forward``/``lstm_backward``,
``gru_forward``/``gru_backward``, ...) with one signature::

    kernel_forward(params, x, initial_state, *, mask, zero_output_for_mask,
                   recurrent_dropout_mask, **cell_options) -> (outputs, final_states, cache)
    kernel_backward(params, cache, d_outputs, d_state, *, input_gradient)
        -> (grads, d_x, d_initial_states)

The runner adds what Keras' ``RNN`` layer adds around its cell, the same for every kind
(DESIGN §7):

- ``go_backwards``: the kernel runs on ``x[:, ::-1]`` (and the mask reversed); the outputs stay
  in that processing order, as Keras returns them; ``d_x`` is flipped back.
- input dropout (training only): ``x * input_mask``, one ``(B, I)`` mask per sequence, so
  ``d_x = d_x_masked * input_mask``; the recurrent mask ``(B, H)`` goes to the kernel.
- ``stateful``: the initial state is the layer's carried ``state`` and the final one is
  returned as the new ``state``; no gradient flows into it (Keras' truncated BPTT).
- ``return_sequences`` / ``return_state`` / ``initial_state``: which outputs come back, and
  the matching split of the upstream gradients. Without ``return_sequences`` the output is the
  last step's: ``h_T``, or ``where(m_T, h_T, 0)`` with ``zero_output_for_mask``; its gradient
  joins the final ``h``'s. (A user's cell whose output is not its first state,
  ``layer.output_is_first_state = False``, returns ``outputs[:, -1]`` instead.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numpy.typing import DTypeLike, NDArray


@dataclass(frozen=True)
class RunnerCache:
    """What the backward needs besides the kernel's own cache.

    Attributes:
        kernel_cache: the kernel's cache.
        input_mask: ``None`` or the ``(B, 1, I)`` input dropout multipliers.
        initial_state_given: whether the call had ``[x, *initial_state]`` inputs.
        last_step_kept: ``None``, or ``(B, 1)`` booleans: the mask of the last processed step,
            when ``zero_output_for_mask`` makes the last output ``where(m_T, h_T, 0)``.
        steps: ``T``.
    """

    kernel_cache: object
    input_mask: NDArray[Any] | None
    initial_state_given: bool
    last_step_kept: NDArray[Any] | None
    steps: int


def dropout_multipliers(
    rng: np.random.Generator, shape: tuple[int, ...], rate: float, dtype: DTypeLike
) -> NDArray[Any]:
    """Inverted dropout: ``0`` with probability ``rate``, else ``1 / (1 - rate)``."""
    keep = rng.random(shape) >= rate
    multipliers: NDArray[Any] = keep.astype(dtype) / np.asarray(1.0 - rate, dtype=dtype)
    return multipliers


def split_inputs(layer: Any, inputs: Any) -> tuple[Any, tuple[Any, ...] | None]:
    """``(x, initial_state tuple or None)`` from ``x`` or ``[x, *states]``."""
    if isinstance(inputs, (list, tuple)):
        return inputs[0], tuple(inputs[1:])
    return inputs, None


def carried_state(layer: Any, state: dict[str, Any], batch: int) -> tuple[Any, ...]:
    """A stateful layer's initial state from its ``state`` dict (checked against the batch)."""
    values = tuple(state[name] for name in layer.cell_state_names)
    if values[0].shape[0] != batch:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} is stateful with batch size {values[0].shape[0]}; "
            f"got a batch of {batch}. Feed batches of that size (the sample count must be a multiple of it)"
        )
    return values


def recurrent_forward(
    layer: Any, kernel_forward: Callable[..., Any], params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
    training: bool = False, rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[Any, dict[str, Any], RunnerCache]:
    """Run a recurrent layer: ``(output or [output, *states], new_state, cache)``."""
    x, initial_state = split_inputs(layer, inputs)
    given = initial_state is not None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]  # as Keras, the initial state's masks are ignored
    batch = x.shape[0]
    if not given and layer.stateful and state:
        initial_state = carried_state(layer, state, batch)
    if mask is not None:
        mask = np.asarray(mask)
    if layer.go_backwards:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]

    input_mask = recurrent_mask = None
    if training and layer.dropout > 0:
        input_mask = dropout_multipliers(_rng(rng), (batch, 1, x.shape[-1]), layer.dropout, x.dtype)  # (B, 1, I)
        x = x * input_mask
    if training and layer.recurrent_dropout > 0:
        recurrent_mask = dropout_multipliers(_rng(rng), (batch, layer.units), layer.recurrent_dropout, x.dtype)

    zero_output = layer.zero_output_for_mask and mask is not None
    options = layer.cell_options()
    if recurrent_mask is not None:  # only then: a user's kernel without recurrent dropout still runs
        options["recurrent_dropout_mask"] = recurrent_mask
    outputs, final_states, kernel_cache = kernel_forward(
        params, x, initial_state, mask=mask, zero_output_for_mask=zero_output, **options
    )
    last_step_kept = None
    if layer.return_sequences or not layer.output_is_first_state:
        output = outputs if layer.return_sequences else outputs[:, -1]
    elif zero_output:
        output = outputs[:, -1]  # (B, H): zeros where the last step is masked
        last_step_kept = mask[:, -1:].astype(bool)  # (B, 1)
    else:
        output = final_states[0]
    new_state = dict(zip(layer.cell_state_names, final_states)) if layer.stateful else state
    result = [output, *final_states] if layer.return_state else output
    return result, new_state, RunnerCache(kernel_cache, input_mask, given, last_step_kept, x.shape[1])


def recurrent_backward(
    layer: Any, kernel_backward: Callable[..., Any], params: dict[str, Any], cache: RunnerCache, d_outputs: Any, *,
    input_gradient: bool = True,
) -> tuple[dict[str, Any], Any]:
    """The exact gradients of `recurrent_forward`: ``(grads, d_x or [d_x, *d_initial_states])``."""
    state_count = len(layer.cell_state_names)
    d_states = [None] * state_count
    if layer.return_state:
        d_outputs, *d_states = d_outputs
    if layer.return_sequences:
        d_sequence = d_outputs
    elif not layer.output_is_first_state:  # a cell's own output at the last step
        d_sequence = None
        if d_outputs is not None:
            d_sequence = np.zeros((*d_outputs.shape[:1], cache.steps, *d_outputs.shape[1:]), d_outputs.dtype)
            d_sequence[:, -1] = d_outputs
    else:  # the output is the last h (masked with zero_output_for_mask): its gradient joins d_h
        d_sequence = None
        if d_outputs is not None:
            if cache.last_step_kept is not None:
                d_outputs = d_outputs * cache.last_step_kept
            d_states[0] = d_outputs if d_states[0] is None else d_states[0] + d_outputs
    grads, d_x, d_initial = kernel_backward(
        params, cache.kernel_cache, d_sequence, tuple(d_states), input_gradient=bool(input_gradient)
    )
    if d_x is not None:
        if cache.input_mask is not None:
            d_x = d_x * cache.input_mask
        if layer.go_backwards:
            d_x = d_x[:, ::-1]
    if cache.initial_state_given:
        return grads, [d_x, *d_initial]
    return grads, d_x


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    if rng is None:
        raise ValueError("a recurrent layer with dropout needs an rng (numpy.random.Generator) in training")
    return rng


def recurrent_protocol(
    kernel_forward: Callable[..., Any], kernel_backward: Callable[..., Any], kernel_step: Callable[..., Any]
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """A recurrent kind's ``(layer_forward, layer_backward, layer_step)`` (DESIGN §7) from its kernels.

    ``layer_step(layer, params, x_t, states)`` is one streaming step (for ``layer.step``):
    ``kernel_step(params, x_t, states, **layer.cell_options())``.
    """

    def layer_forward(
        layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *, training: bool = False,
        rng: np.random.Generator | None = None, mask: Any = None,
    ) -> tuple[Any, dict[str, Any], RunnerCache]:
        return recurrent_forward(layer, kernel_forward, params, state, inputs, training=training, rng=rng, mask=mask)

    def layer_backward(
        layer: Any, params: dict[str, Any], cache: RunnerCache, d_outputs: Any, *, input_gradient: bool = True
    ) -> tuple[dict[str, Any], Any]:
        return recurrent_backward(layer, kernel_backward, params, cache, d_outputs, input_gradient=input_gradient)

    def layer_step(layer: Any, params: dict[str, Any], x_t: Any, states: Any) -> Any:
        return kernel_step(params, x_t, states, **layer.cell_options())

    return layer_forward, layer_backward, layer_step
