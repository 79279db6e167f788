"""Dtype policies (Keras' ``DTypePolicy``): the dtype a layer keeps its weights in and the one
it computes in.

A policy name is a float dtype (``"float32"``, ``"float64"``: weights and math in that dtype)
or ``"mixed_bfloat16"`` / ``"mixed_float16"``: weights in float32, math in bfloat16 / float16.
Half precision runs on the JAX backend only; NumPy has no bfloat16 and no fast float16 GEMM.

Only NumPy is imported here (the core must stay importable without JAX).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# name -> (compute dtype, variable dtype), as Keras' DTypePolicy._parse_name
_POLICIES = {
    "float32": ("float32", "float32"),
    "float64": ("float64", "float64"),
    "mixed_bfloat16": ("bfloat16", "float32"),
    "mixed_float16": ("float16", "float32"),
}
HALF_DTYPES = ("bfloat16", "float16")


class DTypePolicy:
    """A layer's dtype policy: the dtype of its weights and the dtype of its computations.

    Args:
        name: ``"float32"``, ``"float64"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``
            (Keras' names); ``None`` takes the global policy's name (`global_policy`).

    Attributes:
        name: the policy's name.
        compute_dtype: the dtype a layer casts its inputs and weights to before its math
            (``"bfloat16"`` for ``"mixed_bfloat16"``), so its outputs have it too.
        variable_dtype: the dtype the weights are created and kept (and updated) in.

    Raises:
        ValueError: for another name, naming the accepted ones. Pure ``"bfloat16"`` or
            ``"float16"`` policies (half-precision weights) are refused: use the mixed ones,
            whose float32 weights keep small updates that half precision would round away.

    Examples:
        >>> from scratchlstm.mixed_precision import DTypePolicy
        >>> policy = DTypePolicy("mixed_bfloat16")
        >>> policy.compute_dtype, policy.variable_dtype
        ('bfloat16', 'float32')
        >>> policy
        <DTypePolicy "mixed_bfloat16">
        >>> DTypePolicy("float64").compute_dtype
        'float64'
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = global_policy().name
        if isinstance(name, np.dtype) or (isinstance(name, type) and issubclass(name, np.generic)):
            name = np.dtype(name).name
        if not isinstance(name, str):
            raise TypeError(f"a dtype policy name must be a string such as 'mixed_bfloat16', got {name!r} "
                            f"(of type {type(name).__name__})")
        if name not in _POLICIES:
            hint = f"; for {name} math with float32 weights use 'mixed_{name}'" if name in HALF_DTYPES else ""
            raise ValueError(f"unknown dtype policy {name!r}: expected one of {sorted(_POLICIES)}{hint}")
        self._name = name
        self._compute_dtype, self._variable_dtype = _POLICIES[name]

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    @property
    def is_mixed(self) -> bool:
        """Whether the math runs in another dtype than the weights (a half-precision one)."""
        return self._compute_dtype != self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """Keras' attribute; quantized policies are not implemented, so always ``None``."""
        return None

    def get_config(self) -> dict[str, Any]:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("DTypePolicy", self._name))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


_GLOBAL_POLICY = DTypePolicy("float32")


def get(identifier: Any) -> DTypePolicy:
    """A `DTypePolicy` from what a layer's ``dtype=`` argument accepts.

    Args:
        identifier: ``None`` (the global policy), a `DTypePolicy`, a policy name, a NumPy
            float dtype (``np.float64``), or Keras' serialized form
            ``{"class_name": "DTypePolicy", "config": {"name": ...}}`` (what a Keras 3
            ``layer.get_config()["dtype"]`` holds).

    Returns:
        The policy.

    Raises:
        ValueError: for anything else, naming what arrived.

    Examples:
        >>> from scratchlstm import mixed_precision
        >>> mixed_precision.get({"class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"}})
        <DTypePolicy "mixed_bfloat16">
        >>> mixed_precision.get("float64").variable_dtype
        'float64'
    """
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        if identifier.get("class_name") not in ("DTypePolicy", "FloatDTypePolicy", "Policy") or not isinstance(
                identifier.get("config"), dict):
            raise ValueError(f"a serialized dtype policy must look like {{'class_name': 'DTypePolicy', "
                             f"'config': {{'name': ...}}}}, got {identifier!r}")
        return DTypePolicy.from_config(identifier["config"])
    try:
        return DTypePolicy(identifier)
    except TypeError:
        pass
    try:
        return DTypePolicy(np.dtype(identifier).name)
    except TypeError:
        raise ValueError(
            f"cannot interpret dtype={identifier!r}: expected a policy name such as 'float32' or "
            "'mixed_bfloat16', a DTypePolicy, or a float dtype"
        ) from None


def serialize(policy: DTypePolicy) -> dict[str, Any]:
    """Keras' serialized form of a policy (``deserialize``/`get` read it back).

    Examples:
        >>> from scratchlstm.mixed_precision import DTypePolicy, serialize
        >>> serialize(DTypePolicy("mixed_bfloat16"))["config"]
        {'name': 'mixed_bfloat16'}
    """
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(), "registered_name": None}


def deserialize(config: dict[str, Any]) -> DTypePolicy:
    """The policy `serialize` wrote (a Keras 3 layer config's ``"dtype"`` entry too)."""
    return get(config)


def set_global_policy(policy: Any) -> None:
    """Set the policy of the layers created from now on without a ``dtype`` argument.

    Layers keep the policy they were created with; set the policy before building the model
    (as in Keras). ``"float32"`` restores the default.

    Args:
        policy: a policy name or a `DTypePolicy`.

    Raises:
        ValueError: for an unknown policy (the global one is left as it was).

    Examples:
        >>> from scratchlstm import layers, mixed_precision
        >>> mixed_precision.set_global_policy("mixed_bfloat16")
        >>> dense = layers.Dense(4)
        >>> dense.compute_dtype, dense.variable_dtype
        ('bfloat16', 'float32')
        >>> mixed_precision.set_global_policy("float32")
        >>> mixed_precision.global_policy()
        <DTypePolicy "float32">
    """
    global _GLOBAL_POLICY
    if policy is None or not isinstance(policy, (str, DTypePolicy)):
        raise ValueError(
            f"set_global_policy expects a policy name such as 'mixed_bfloat16' or a DTypePolicy, got {policy!r}"
        )
    _GLOBAL_POLICY = get(policy)


def global_policy() -> DTypePolicy:
    """The policy that layers created without a ``dtype`` argument get (``"float32"`` by default).

    Examples:
        >>> from scratchlstm import mixed_precision
        >>> mixed_precision.global_policy().name
        'float32'
    """
    return _GLOBAL_POLICY
