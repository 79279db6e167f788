"""A model's graph in JAX: the same walk as ``scratchlstm._numpy.graph``, traced once under jit.

Gradients come from ``jax.grad`` through the traced walk; fan-out sums and shared weights
need no code here, autodiff adds them.

Mixed precision (``scratchlstm.mixed_precision``): before a layer's forward, its float inputs
and weights are cast to the layer's ``compute_dtype`` (bfloat16 under ``"mixed_bfloat16"``),
so its math and outputs are in that dtype while the weights stay float32; ``jax.grad`` casts
the gradients back to float32 through the casts. The layer's non-trainable state (moving
statistics, a stateful RNN's carried ``h``/``c``) is not cast, and keeps its dtype.
"""

from __future__ import annotations

import sys
from typing import Any

import jax
import jax.numpy as jnp

from ..layers._registry import jax_ops


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _cast_floats(tree: Any, dtype: Any) -> Any:
    """``tree`` with its floating leaves as ``dtype`` (integer token ids stay integers)."""
    def cast(leaf: Any) -> Any:
        return leaf.astype(dtype) if jnp.issubdtype(jnp.result_type(leaf), jnp.floating) else leaf

    return jax.tree_util.tree_map(cast, tree)


def _compute_dtype(layer: Any, nested: bool) -> Any:
    """The dtype to cast a node's inputs and weights to, or ``None`` to leave them: only for a
    mixed policy, the layer's own or, for a wrapper (``Bidirectional``, ``TimeDistributed``),
    its wrapped layer's (whose forward the wrapper runs); a nested model leaves the casting to
    its own layers."""
    if nested:
        return None
    wrapped = [value for value in vars(layer).values() if hasattr(value, "_mixed_compute")]
    for candidate in (layer, *wrapped):
        if getattr(candidate, "_mixed_compute", None) is not None:
            return jnp.dtype(candidate._mixed_compute)
    return None


def losses_dtype(outputs: list[Any]) -> list[Any]:
    """The model's outputs with half-precision ones cast to float32: the losses and metrics
    are computed in float32 (as Keras' ``Loss`` casts ``y_pred``), and ``predict`` hands
    back float32 arrays (NumPy has no bfloat16)."""
    return [y.astype(jnp.float32) if jnp.result_type(y) in (jnp.bfloat16, jnp.float16) else y for y in outputs]


def _keep_dtypes(new_state: dict[str, Any], old_state: dict[str, Any]) -> dict[str, Any]:
    """The layer's new state in the dtypes it came in (a jitted carry must keep its dtypes)."""
    return {key: _keep_dtypes(value, old_state[key]) if isinstance(value, dict) else
            (value.astype(jnp.result_type(old_state[key])) if key in old_state else value)
            for key, value in new_state.items()}


def layer_forward(model: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *, training: bool = False,
                  key: jax.Array | None = None, mask: Any = None, return_masks: bool = False,
                  activity: list[Any] | None = None) -> tuple[Any, ...]:
    """Run the graph: ``(outputs, new_state)``; arguments as the NumPy twin's.

    ``key`` (a ``jax.random`` key or ``None``) is folded with each node's position, so every
    node draws its own randomness. With ``return_masks`` also the outputs' masks (a list,
    ``None`` where an output has none), for the losses. ``activity``, a list, receives
    ``(regularizer, output)`` for every output of every node whose layer has an
    ``activity_regularizer`` (a nested model's nodes included); the training backend turns
    them into Keras' activity penalties.
    """
    graph = model.graph
    values, masks = graph.start(_as_list(inputs), mask)
    new_state = dict(state)
    for position, node in enumerate(graph.nodes):
        layer = node.layer
        if layer.is_input_layer:
            continue
        arguments, node_mask = node.read(values, masks)
        node_key = None if key is None else jax.random.fold_in(key, position)
        is_model = jax_ops(layer) is sys.modules[__name__]
        nested = {"activity": activity} if activity is not None and is_model else {}
        layer_params, layer_state = params.get(layer.name, {}), state.get(layer.name, {})
        compute = _compute_dtype(layer, is_model)
        if compute is not None:
            layer_params, arguments = _cast_floats(layer_params, compute), _cast_floats(arguments, compute)
        outputs, new_layer_state = jax_ops(layer).layer_forward(
            layer, layer_params, layer_state, arguments,
            training=training, key=node_key, mask=node_mask, **node.options, **nested,
        )
        if new_layer_state:
            new_state[layer.name] = _keep_dtypes(new_layer_state, layer_state) if compute is not None else new_layer_state
        output_values = node.write(values, masks, outputs, arguments, node_mask)
        if activity is not None and layer.activity_regularizer is not None:
            # penalties in float32 (as the losses) even when the outputs are half precision
            activity.extend((layer.activity_regularizer, _cast_floats(y, jnp.float32) if compute is not None else y)
                            for y in output_values)
    outputs = [values[id(t)] for t in graph.outputs]
    structured = outputs if model.returns_list else outputs[0]
    if return_masks:
        return structured, new_state, [masks.get(id(t)) for t in graph.outputs]
    return structured, new_state
