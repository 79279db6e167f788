"""Mixed precision, as ``keras.mixed_precision``: dtype policies for the layers.

``set_global_policy("mixed_bfloat16")`` (or a layer's ``dtype="mixed_bfloat16"``) keeps the
weights in float32 and runs each layer's math in bfloat16 on the JAX backend: the graph walk
casts the layer's inputs and weights to its ``compute_dtype`` before its forward, gradients
flow back through the casts to the float32 weights, and the losses and metrics are computed
in float32 (the model's outputs are cast to float32 first). The NumPy backend computes in
float32 or float64 only and refuses half-precision policies with a ``ValueError``.

``"mixed_float16"`` trains with dynamic loss scaling: ``compile`` wraps the optimizer in a
``LossScaleOptimizer`` (also exported here, as Keras does) when the model's policy is
``"mixed_float16"``.

Names as in Keras 3: ``DTypePolicy`` (alias ``Policy``), ``set_global_policy`` /
``set_dtype_policy``, ``global_policy`` / ``dtype_policy``.
"""

from ..optimizers._loss_scale import LossScaleOptimizer

from ._policy import (
    HALF_DTYPES,
    DTypePolicy,
    deserialize,
    get,
    global_policy,
    serialize,
    set_global_policy,
)

Policy = DTypePolicy
dtype_policy = global_policy
set_dtype_policy = set_global_policy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "deserialize",
    "dtype_policy",
    "get",
    "global_policy",
    "serialize",
    "set_dtype_policy",
    "set_global_policy",
]
