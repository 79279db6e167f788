"""The JAX runner of every recurrent layer, the twin of ``scratchlstm/_numpy/rnn/_runner.py``.

``go_backwards``, dropout masks (drawn from the call's ``jax.random`` key: one ``(B, I)`` input
mask and one ``(B, H)`` recurrent mask per sequence, in training only), ``stateful`` (the
layer's ``state`` in, the final states out, under ``lax.stop_gradient`` as Keras' truncated
BPTT), ``return_sequences``, ``return_state`` and ``initial_state``, around a whole-sequence
kernel ``kernel_forward(params, x, initial_state, *, mask, zero_output_for_mask,
recurrent_dropout_mask, **cell_options) -> (outputs, final_states)``. Gradients come from
autodiff through the kernel (or the kernel's own ``custom_vjp``).

Rematerialisation (a layer's ``remat=k``, `remat_forward`): the kernel runs over chunks of ``k``
steps, an outer ``lax.scan`` carrying the states from chunk to chunk, each chunk under
``jax.checkpoint``. Reverse mode then keeps only each chunk's starting states (``T / k`` of
them) and, while it walks a chunk backwards, that chunk's ``k`` steps of residuals, instead of
the residuals of all ``T`` steps: memory ``O(T / k + k)`` steps, at the price of a second
forward pass (each chunk's forward runs again in the backward). ``k ~ sqrt(T)`` minimises it.
The outputs ``(B, T, H)`` themselves are not saved residuals but are still the layer's output.
"""

from __future__ import annotations

from typing import Any, Callable, cast

import jax
import jax.numpy as jnp
from jax import lax


def _dropout_multipliers(key: jax.Array, shape: tuple[int, ...], rate: float, dtype: Any) -> jax.Array:
    keep = jax.random.bernoulli(key, p=1.0 - rate, shape=shape)
    return keep.astype(dtype) / jnp.asarray(1.0 - rate, dtype)


def check_remat(remat: Any) -> int | None:
    """``None`` or a positive int (the chunk length in steps); raise ValueError otherwise."""
    if remat is None:
        return None
    if isinstance(remat, bool) or not isinstance(remat, int) and not hasattr(remat, "__index__"):
        raise ValueError(f"remat must be None or a positive int (steps per checkpointed chunk), got {remat!r}")
    if int(remat) < 1:
        raise ValueError(f"remat must be None or a positive int (steps per checkpointed chunk), got {remat!r}")
    return int(remat)


def remat_forward(kernel_forward: Callable[..., Any], chunk: int | None, params: dict[str, Any], x: jax.Array,
                  initial_state: Any = None, *, mask: Any = None, **options: Any) -> tuple[jax.Array, tuple[Any, ...]]:
    """``kernel_forward`` over chunks of ``chunk`` steps, each rematerialised in reverse mode.

    Args:
        kernel_forward: ``(params, x, initial_state, *, mask, **options) -> (outputs, states)``.
        chunk: ``k``, steps per checkpointed chunk (`check_remat`).
        params, x, initial_state, mask, options: as for ``kernel_forward``; ``x`` is ``(B, T, I)``.

    Returns:
        ``(outputs (B, T, O), final_states)``, equal to ``kernel_forward``'s (same math, chunk
        by chunk: the final states of a chunk start the next).

    With ``n = T // k`` full chunks: the first runs from ``initial_state`` (``None`` keeps the
    kernel's zeros), the other ``n - 1`` under one ``lax.scan`` over chunks (so compile time stays
    flat in ``T``), and a last partial chunk of ``T - n k`` steps, if any, after it. Under
    ``jax.grad`` each ``jax.checkpoint``-ed chunk saves only its inputs and is run forward again
    when the backward reaches it (its own residuals, e.g. the LSTM's ``(k, B, 7H)`` slab, live
    only then). ``k >= T`` is the plain kernel.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.jax_backend.rnn.lstm import lstm_forward
        >>> rng = np.random.default_rng(0)
        >>> params = {"kernel": rng.normal(size=(3, 8)).astype("float32"),
        ...           "recurrent_kernel": rng.normal(size=(2, 8)).astype("float32")}
        >>> x = rng.normal(size=(4, 10, 3)).astype("float32")
        >>> chunked, (h, c) = remat_forward(lstm_forward, 3, params, x)
        >>> bool(np.allclose(chunked, lstm_forward(params, x)[0], atol=1e-5))
        True
    """
    chunk = check_remat(chunk)
    batch, steps = x.shape[0], x.shape[1]
    if chunk is None or chunk >= steps:
        return cast("tuple[jax.Array, tuple[Any, ...]]", kernel_forward(params, x, initial_state, mask=mask, **options))
    count = steps // chunk
    mask = None if mask is None else jnp.asarray(mask)

    def run(params: dict[str, Any], x_chunk: jax.Array, states: Any, mask_chunk: Any) -> Any:
        return kernel_forward(params, x_chunk, states, mask=mask_chunk, **options)

    # prevent_cse=False: inside a scan, CSE cannot merge the recomputation away (JAX's advice).
    checkpointed = jax.checkpoint(run, prevent_cse=False)

    def piece(start: int, stop: int) -> tuple[jax.Array, Any]:
        return x[:, start:stop], (None if mask is None else mask[:, start:stop])

    first_x, first_mask = piece(0, chunk)
    if initial_state is None:  # the kernel's own zeros, whatever its states are
        first_outputs, states = jax.checkpoint(
            lambda p, xc, mc: kernel_forward(p, xc, None, mask=mc, **options), prevent_cse=False
        )(params, first_x, first_mask)
    else:
        first_outputs, states = checkpointed(params, first_x, tuple(initial_state), first_mask)
    states = tuple(states)
    outputs = [first_outputs]
    if count > 1:
        middle_x, middle_mask = piece(chunk, count * chunk)
        chunks_x = jnp.swapaxes(middle_x.reshape(batch, count - 1, chunk, *x.shape[2:]), 0, 1)  # (n-1, B, k, I)
        chunks_mask = None if mask is None else jnp.swapaxes(middle_mask.reshape(batch, count - 1, chunk), 0, 1)

        def advance(carry: tuple[Any, ...], inputs: tuple[Any, Any]) -> tuple[tuple[Any, ...], Any]:
            x_chunk, mask_chunk = inputs
            chunk_outputs, new_states = checkpointed(params, x_chunk, carry, mask_chunk)
            return tuple(new_states), chunk_outputs

        states, middle = lax.scan(advance, states, (chunks_x, chunks_mask))  # (n-1, B, k, O)
        outputs.append(jnp.swapaxes(middle, 0, 1).reshape(batch, (count - 1) * chunk, *middle.shape[3:]))
    if count * chunk < steps:
        last_x, last_mask = piece(count * chunk, steps)
        last_outputs, states = checkpointed(params, last_x, states, last_mask)
        outputs.append(last_outputs)
    return jnp.concatenate(outputs, axis=1), tuple(states)


def recurrent_forward(layer: Any, kernel_forward: Callable[..., Any], params: dict[str, Any], state: dict[str, Any],
                      inputs: Any, *, training: bool = False, key: jax.Array | None = None,
                      mask: Any = None) -> tuple[Any, dict[str, Any]]:
    """Run a recurrent layer: ``(output or [output, *states], new_state)``."""
    if isinstance(inputs, (list, tuple)):
        x, initial_state = inputs[0], tuple(inputs[1:])
    else:
        x, initial_state = inputs, None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    batch = x.shape[0]
    if initial_state is None and layer.stateful and state:
        initial_state = tuple(lax.stop_gradient(state[name]) for name in layer.cell_state_names)
        if initial_state[0].shape[0] != batch:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r} is stateful with batch size {initial_state[0].shape[0]}; "
                f"got a batch of {batch}"
            )
    if layer.go_backwards:
        x = jnp.flip(x, axis=1)
        mask = None if mask is None else jnp.flip(jnp.asarray(mask), axis=1)

    recurrent_mask = None
    if training and (layer.dropout > 0 or layer.recurrent_dropout > 0):
        if key is None:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r} has dropout: it needs a jax.random key in training (key=...)"
            )
        input_key, recurrent_key = jax.random.split(key)
        dtype = jnp.result_type(x.dtype, jnp.float32) if not jnp.issubdtype(x.dtype, jnp.floating) else x.dtype
        if layer.dropout > 0:
            x = x * _dropout_multipliers(input_key, (batch, 1, x.shape[-1]), layer.dropout, dtype)
        if layer.recurrent_dropout > 0:
            recurrent_mask = _dropout_multipliers(recurrent_key, (batch, layer.units), layer.recurrent_dropout, dtype)

    zero_output = layer.zero_output_for_mask and mask is not None
    options = layer.cell_options()
    if recurrent_mask is not None:
        options["recurrent_dropout_mask"] = recurrent_mask
    remat = getattr(layer, "remat", None)
    if remat:
        outputs, final_states = remat_forward(
            kernel_forward, remat, params, x, initial_state, mask=mask, zero_output_for_mask=zero_output, **options
        )
    else:
        outputs, final_states = kernel_forward(
            params, x, initial_state, mask=mask, zero_output_for_mask=zero_output, **options
        )
    if layer.return_sequences or not layer.output_is_first_state:
        output = outputs if layer.return_sequences else outputs[:, -1]
    elif zero_output:
        output = outputs[:, -1]
    else:
        output = final_states[0]
    new_state = state
    if layer.stateful:
        new_state = {name: lax.stop_gradient(value) for name, value in zip(layer.cell_state_names, final_states)}
    result = [output, *final_states] if layer.return_state else output
    return result, new_state


def recurrent_layer_forward(kernel_forward: Callable[..., Any]) -> Callable[..., tuple[Any, dict[str, Any]]]:
    """A recurrent kind's JAX ``layer_forward`` (DESIGN §7): the runner around its kernel."""

    def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                      training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
        return recurrent_forward(layer, kernel_forward, params, state, inputs, training=training, key=key, mask=mask)

    return layer_forward
