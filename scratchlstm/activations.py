"""Keras 3's activation functions (``keras.activations``), on NumPy arrays.

Each function takes Keras' arguments with Keras' defaults and returns a NumPy array; a list, a
Python number or an integer array is converted to float32 first (Keras' default float type), a
NumPy float array keeps its dtype. The math, and the backward rule of each, is in ``scratchlstm._numpy.activations``; the
JAX twins are in ``scratchlstm.jax_backend``.

Any of these functions, or its name, can be a layer's activation: ``Dense(4, activation="gelu")``
or ``Dense(4, activation=activations.gelu)``; the layer stores the name (``str(activations.gelu)``
is ``"gelu"``), so its config stays a string, as Keras writes it. ``glu`` and ``threshold`` are
functions only (``glu`` halves its axis; ``threshold`` has no defaults).

Examples:
    >>> from scratchlstm import activations
    >>> activations.relu([-10, -5, 0.0, 5, 10])
    array([ 0.,  0.,  0.,  5., 10.], dtype=float32)
    >>> activations.relu([-10, -5, 0.0, 5, 10], negative_slope=0.5)
    array([-5. , -2.5,  0. ,  5. , 10. ], dtype=float32)
    >>> activations.get("swish") is activations.silu
    True
    >>> activations.serialize(activations.hard_swish)
    'hard_silu'
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._numpy import activations as _reference

__all__ = [
    "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear",
    "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
]


def _as_float_array(x: ArrayLike) -> NDArray[Any]:
    array = np.asarray(x)
    if array.dtype.kind != "f" or not isinstance(x, (np.ndarray, np.generic)):
        array = array.astype(np.float32)
    return array


class KerasActivation:
    """A Keras activation function on NumPy arrays; ``str()`` of it is its Keras name.

    Calling it runs the NumPy reference forward rule; ``.backward(x, y, d_y, **kwargs)`` is the
    matching hand-written backward rule.
    """

    def __init__(self, name: str) -> None:
        forward, backward = _reference.PAIRS[name]
        self.__name__ = self.__qualname__ = name
        self.__module__ = __name__
        self.__doc__ = forward.__doc__
        self.__signature__ = inspect.signature(forward)
        self._forward: Callable[..., NDArray[Any]] = forward
        self.backward: Callable[..., NDArray[Any]] = backward

    def __call__(self, x: ArrayLike, *args: Any, **kwargs: Any) -> NDArray[Any]:
        return self._forward(_as_float_array(x), *args, **kwargs)

    def __str__(self) -> str:
        return self.__name__

    def __repr__(self) -> str:
        return f"<activation function {__name__}.{self.__name__}>"

    def __reduce__(self) -> str:  # pickled by reference: the module attribute of that name
        return self.__name__


celu = KerasActivation("celu")
elu = KerasActivation("elu")
exponential = KerasActivation("exponential")
gelu = KerasActivation("gelu")
glu = KerasActivation("glu")
hard_shrink = KerasActivation("hard_shrink")
hard_sigmoid = KerasActivation("hard_sigmoid")
hard_silu = KerasActivation("hard_silu")
hard_tanh = KerasActivation("hard_tanh")
leaky_relu = KerasActivation("leaky_relu")
linear = KerasActivation("linear")
log_sigmoid = KerasActivation("log_sigmoid")
log_softmax = KerasActivation("log_softmax")
mish = KerasActivation("mish")
relu = KerasActivation("relu")
relu6 = KerasActivation("relu6")
selu = KerasActivation("selu")
sigmoid = KerasActivation("sigmoid")
silu = KerasActivation("silu")
soft_shrink = KerasActivation("soft_shrink")
softmax = KerasActivation("softmax")
softplus = KerasActivation("softplus")
softsign = KerasActivation("softsign")
sparse_plus = KerasActivation("sparse_plus")
sparse_sigmoid = KerasActivation("sparse_sigmoid")
sparsemax = KerasActivation("sparsemax")
squareplus = KerasActivation("squareplus")
tanh = KerasActivation("tanh")
tanh_shrink = KerasActivation("tanh_shrink")
threshold = KerasActivation("threshold")
swish = silu  # Keras' aliases: the same function (serialized as "silu", "hard_silu")
hard_swish = hard_silu

_FUNCTIONS: dict[str, KerasActivation] = {name: globals()[name] for name in sorted(_reference.PAIRS) if name not in _reference.ALIASES}
_BY_NAME: dict[str, KerasActivation] = {**_FUNCTIONS, "swish": swish, "hard_swish": hard_swish}


def name_of(function: object) -> str | None:
    """The Keras name of one of this module's functions, else ``None``."""
    for name, candidate in _FUNCTIONS.items():
        if function is candidate:
            return name
    return None


def get(identifier: Any) -> Callable[..., Any]:
    """The activation function for a Keras identifier.

    Args:
        identifier: ``None`` (``linear``), a name (``"relu"``, ``"swish"``, ...), a Keras config
            dict ``{"class_name": "function", "config": "relu", ...}``, or a callable (returned
            as is; a layer only accepts this module's functions).

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"activation must be one of {sorted(_BY_NAME)}, got {identifier!r}")
        return _BY_NAME[identifier]
    if callable(identifier):
        return cast(Callable[..., Any], identifier)
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(activation: str | Callable[..., Any] | None) -> str:
    """The Keras name of an activation (``serialize(swish) == "silu"``, as Keras writes it)."""
    name = activation if isinstance(activation, str) else name_of(activation)
    if name is None or name not in _BY_NAME:
        raise ValueError(f"Unknown activation function {activation!r} cannot be serialized; known: {sorted(_BY_NAME)}")
    return _BY_NAME[name].__name__


def deserialize(config: str | dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Callable[..., Any]:
    """The function for a name or a Keras config dict (``{"class_name": "function", "config": name}``)."""
    if isinstance(config, dict):
        if config.get("class_name") != "function" or not isinstance(config.get("config"), str):
            raise ValueError(f"activation config must be {{'class_name': 'function', 'config': <name>}}, got {config!r}")
        config = config["config"]
    if custom_objects and config in custom_objects:
        return cast(Callable[..., Any], custom_objects[config])
    return get(config)
