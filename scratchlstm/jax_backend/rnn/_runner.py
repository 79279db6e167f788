"""The JAX runner of every recurrent layer, the twin of ``scratchlstm/_numpy/rnn/_runner.py``.

``go_backwards``, dropout masks (drawn from the call's ``jax.random`` key: one ``(B, I)`` input
mask and one ``(B, H)`` recurrent mask per sequence, in training only), ``stateful`` (the
layer's ``state`` in, the final states out, under ``lax.stop_gradient`` as Keras' truncated
BPTT), ``return_sequences``, ``return_state`` and ``initial_state``, around a whole-sequence
kernel ``kernel_forward(params, x, initial_state, *, mask, zero_output_for_mask,
recurrent_dropout_mask, **cell_options) -> (outputs, final_states)``. Gradients come from
autodiff through the kernel (or the kernel's own ``custom_vjp``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def _dropout_multipliers(key, shape, rate: float, dtype):
    keep = jax.random.bernoulli(key, p=1.0 - rate, shape=shape)
    return keep.astype(dtype) / jnp.asarray(1.0 - rate, dtype)


def recurrent_forward(layer, kernel_forward, params, state, inputs, *, training=False, key=None, mask=None):
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


def recurrent_layer_forward(kernel_forward):
    """A recurrent kind's JAX ``layer_forward`` (DESIGN §7): the runner around its kernel."""

    def layer_forward(layer, params, state, inputs, *, training=False, key=None, mask=None):
        return recurrent_forward(layer, kernel_forward, params, state, inputs, training=training, key=key, mask=mask)

    return layer_forward
