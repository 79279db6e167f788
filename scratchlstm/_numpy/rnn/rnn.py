"""``RNN(cell)`` in NumPy: the time loop and BPTT around a user cell's ``step`` / ``step_backward``.

Forward, for t = 1..T, with the cell's step ``(y_t, s_t) = step(params, x_t, s_{t-1})`` and a
``(B, T)`` mask ``m`` (Keras' ``RNN`` semantics, as the built-in kernels):

    s_t = where(m_t, step's states, s_{t-1})
    output_t = where(m_t, y_t, s_{t-1}[0])          (zeros instead with zero_output_for_mask)

Backward, for t = T..1, carrying ``d_s`` (the gradient of the loss with respect to ``s_t``):

    d_y_t = d_output_t * m_t ;  d_s_t^cell = d_s * m_t
    (d_params_t, d_x_t, d_s_{t-1}^cell) = step_backward(params, cache_t, d_y_t, d_s_t^cell)
    d_s_{t-1} = d_s_{t-1}^cell + d_s * (1 - m_t)    (+ d_output_t * (1 - m_t) on state 0,
                                                      the carried output, without zero_output)
    d_params = sum_t d_params_t

Zeroing the upstream gradients of the masked rows before ``step_backward`` makes their
contribution to ``d_params`` and ``d_x_t`` exactly zero, since a step's backward is linear in
its upstream gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._runner import RunnerCache, recurrent_backward, recurrent_forward


@dataclass(frozen=True)
class CellSequenceCache:
    """The per-step caches of the cell, the step masks ``(T, B, 1)`` or ``None``, and shapes."""

    step_caches: list[Any]
    step_masks: NDArray[Any] | None
    zero_output_for_mask: bool
    batch: int
    features: int
    state_sizes: tuple[int, ...]
    dtype: np.dtype[Any]


def cell_sequence_forward(
    cell: Any, params: dict[str, Any], x: ArrayLike, initial_state: Any = None, *, mask: ArrayLike | None = None,
    zero_output_for_mask: bool = False,
) -> tuple[NDArray[Any], tuple[Any, ...], CellSequenceCache]:
    """Run ``cell`` over ``x (B, T, I)``: ``(outputs (B, T, O), final_states, cache)``."""
    x = np.asarray(x)
    batch, steps, features = x.shape
    sizes = tuple(s.shape[1] for s in initial_state) if initial_state is not None else None
    if initial_state is None:
        size = cell.state_size
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,)
        states = tuple(np.zeros((batch, s), dtype=x.dtype) for s in sizes)
    else:
        states = tuple(np.asarray(s, dtype=x.dtype) for s in initial_state)
    step_masks = None if mask is None else np.asarray(mask).astype(bool).T[:, :, None]  # (T, B, 1)
    outputs: list[Any] = []
    caches: list[Any] = []
    for t in range(steps):
        output, new_states, cache = cell.step(params, x[:, t], states)
        new_states = tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)
        if step_masks is not None:
            keep = step_masks[t]
            carried = np.zeros_like(output) if zero_output_for_mask else states[0]
            output = np.where(keep, output, carried)
            new_states = tuple(np.where(keep, new, old) for new, old in zip(new_states, states))
        outputs.append(output)
        caches.append(cache)
        states = new_states
    # sizes is set on both paths above (from initial_state, or from cell.state_size)
    cache = CellSequenceCache(caches, step_masks, bool(zero_output_for_mask), batch, features,
                              cast("tuple[int, ...]", sizes), x.dtype)
    return np.stack(outputs, axis=1), states, cache


def cell_sequence_backward(
    cell: Any, params: dict[str, Any], cache: CellSequenceCache, d_outputs: Any = None, d_state: Any = None, *,
    input_gradient: bool = True,
) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None, tuple[NDArray[Any], ...]]:
    """BPTT of `cell_sequence_forward`: ``(grads, d_x (B, T, I), d_initial_states)``."""
    steps = len(cache.step_caches)
    d_states = [
        np.zeros((cache.batch, size), dtype=cache.dtype) if d is None else np.asarray(d, dtype=cache.dtype)
        for size, d in zip(cache.state_sizes, d_state or (None,) * len(cache.state_sizes))
    ]
    grads = {key: np.zeros_like(np.asarray(value, dtype=cache.dtype)) for key, value in params.items()}
    d_x = np.zeros((cache.batch, steps, cache.features), dtype=cache.dtype)
    for t in range(steps - 1, -1, -1):
        d_output = np.zeros_like(d_states[0]) if d_outputs is None else d_outputs[:, t]
        if cache.step_masks is None:
            d_params, d_x_t, d_previous = cell.step_backward(params, cache.step_caches[t], d_output, tuple(d_states))
        else:
            keep = cache.step_masks[t]
            d_params, d_x_t, d_previous = cell.step_backward(
                params, cache.step_caches[t], d_output * keep, tuple(d * keep for d in d_states)
            )
            passed = [d * ~keep for d in d_states]
            if not cache.zero_output_for_mask:  # a masked step output the carried state 0
                passed[0] = passed[0] + d_output * ~keep
            d_previous = tuple(d + p for d, p in zip(d_previous, passed))
        for key, value in d_params.items():
            grads[key] += value
        d_x[:, t] = d_x_t
        d_states = list(d_previous)
    return grads, (d_x if input_gradient else None), tuple(d_states)


def _kernels(layer: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(
        params: dict[str, Any], x: ArrayLike, initial_state: Any = None, *, mask: ArrayLike | None = None,
        zero_output_for_mask: bool = False,
    ) -> tuple[NDArray[Any], tuple[Any, ...], CellSequenceCache]:
        return cell_sequence_forward(layer.cell, params, x, initial_state, mask=mask,
                                     zero_output_for_mask=zero_output_for_mask)

    def backward(
        params: dict[str, Any], cache: CellSequenceCache, d_outputs: Any = None, d_state: Any = None, *,
        input_gradient: bool = True,
    ) -> tuple[dict[str, NDArray[Any]], NDArray[Any] | None, tuple[NDArray[Any], ...]]:
        return cell_sequence_backward(layer.cell, params, cache, d_outputs, d_state, input_gradient=input_gradient)

    return forward, backward


def layer_forward(
    layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *, training: bool = False,
    rng: np.random.Generator | None = None, mask: Any = None,
) -> tuple[Any, dict[str, Any], RunnerCache]:
    """An ``RNN(cell)`` layer's forward through the shared recurrent runner."""
    return recurrent_forward(layer, _kernels(layer)[0], params, state, inputs, training=training, rng=rng, mask=mask)


def layer_backward(
    layer: Any, params: dict[str, Any], cache: RunnerCache, d_outputs: Any, *, input_gradient: bool = True
) -> tuple[dict[str, Any], Any]:
    return recurrent_backward(layer, _kernels(layer)[1], params, cache, d_outputs, input_gradient=input_gradient)


def layer_step(layer: Any, params: dict[str, Any], x_t: Any, states: Any) -> tuple[Any, tuple[Any, ...]]:
    """One streaming step of an ``RNN(cell)``: ``(y_t, new_states)``."""
    output, new_states, _ = layer.cell.step(params, x_t, states)
    return output, tuple(new_states) if isinstance(new_states, (list, tuple)) else (new_states,)
