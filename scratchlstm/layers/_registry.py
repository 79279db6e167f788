"""The one place a layer kind is registered: its class, its NumPy ops and its JAX ops.

    @register(numpy="scratchlstm._numpy.core.dense", jax="scratchlstm.jax_backend.core.dense")
    class Dense(Layer): ...

``numpy`` names a module with the two functions of the NumPy protocol (DESIGN §7)::

    layer_forward(layer, params, state, inputs, *, training, rng, mask) -> (outputs, new_state, cache)
    layer_backward(layer, params, cache, d_outputs, *, input_gradient) -> (grads, d_inputs)

``jax`` names a module with the JAX one::

    layer_forward(layer, params, state, inputs, *, training, key, mask) -> (outputs, new_state)

Modules are given by name and imported on first use, so registering a layer never imports JAX.
A user's own layer registers the same way (module names or module objects). Models, the fit
loop, both backends and serialization find everything through this table.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ._base import Layer

LAYER_CLASSES: dict[str, type[Layer]] = {}


def register(numpy: Any, jax: Any = None) -> Callable[[type], type]:
    """Class decorator: record the layer class under its name with its NumPy and JAX ops."""

    def decorate(cls: Any) -> Any:
        known = LAYER_CLASSES.get(cls.__name__)
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(
                f"a layer class named {cls.__name__!r} is already registered ({known.__module__}."
                f"{known.__qualname__}); give yours another name so saved models stay unambiguous"
            )
        cls._numpy_ops, cls._jax_ops = numpy, jax
        LAYER_CLASSES[cls.__name__] = cls
        return cls

    return decorate


def _module(reference: Any) -> ModuleType:
    return reference if isinstance(reference, ModuleType) else importlib.import_module(reference)


def numpy_ops(layer: object) -> ModuleType:
    """The module holding ``layer_forward``/``layer_backward`` for ``layer``'s kind."""
    reference = getattr(type(layer), "_numpy_ops", None)
    if reference is None:
        raise TypeError(f"{type(layer).__name__} is not registered; decorate it with layers.register(...)")
    return _module(reference)


def jax_ops(layer: object) -> ModuleType:
    """The module holding the JAX ``layer_forward`` for ``layer``'s kind."""
    reference = getattr(type(layer), "_jax_ops", None)
    if reference is None:
        raise ValueError(f"the JAX backend has no implementation of {type(layer).__name__} layers")
    return _module(reference)


def layer_class(name: str) -> type[Layer]:
    if name not in LAYER_CLASSES:
        raise ValueError(f"unknown layer class_name {name!r}; known: {sorted(LAYER_CLASSES)}")
    return LAYER_CLASSES[name]
