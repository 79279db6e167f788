"""Keras' ``get`` / ``serialize`` / ``deserialize`` for a family of objects (regularizers, constraints).

A `Catalog` knows the family's base class, its built-in classes and its short names; a user's
subclass of the base is found by its class name once it is defined.
"""

from __future__ import annotations

import inspect
from typing import Any


class Catalog:
    """Identifier handling shared by `scratchlstm.regularizers` and `scratchlstm.constraints`.

    Args:
        kind: the family's name in messages (``"regularizer"``).
        base: the family's base class.
        classes: ``{class name: class}`` of the built-ins.
        names: ``{short name: class}`` (``"l2"``, ``"non_neg"``).
        example: a short name for the error messages.
    """

    def __init__(self, kind: str, base: type[Any], classes: dict[str, type[Any]], names: dict[str, Any], example: str) -> None:
        self.kind, self.base, self.classes, self.names, self.example = kind, base, classes, names, example

    def known(self) -> list[str]:
        return sorted(self.names) + sorted(self.classes)

    def find(self, name: str) -> type[Any] | None:
        """A built-in class, or a subclass of the base defined by now, by class name (else ``None``)."""
        if name in self.classes:
            return self.classes[name]
        pending: list[type[Any]] = list(self.base.__subclasses__())
        while pending:
            cls = pending.pop()
            if cls.__name__ == name:
                return cls
            pending.extend(cls.__subclasses__())
        return None

    def deserialize(self, config: Any) -> Any:
        """The object of a ``{"class_name": ..., "config": {...}}`` config (``ValueError`` if unknown)."""
        kind, base = self.kind, self.base.__name__
        if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
            raise ValueError(f"a {kind} config is {{'class_name': ..., 'config': {{...}}}}, got {config!r}")
        name = config["class_name"]
        arguments = config.get("config") or {}
        if name == "function":
            raise ValueError(
                f"the {kind} function {arguments!r} cannot be rebuilt from a config; subclass "
                f"{self.base.__module__}.{base} (with get_config) for a {kind} that is saved"
            )
        cls = self.find(name)
        if cls is None:
            raise ValueError(
                f"unknown {kind} class_name {name!r}; expected one of {self.known()} or a {base} subclass "
                "defined before loading"
            )
        if not isinstance(arguments, dict):
            raise ValueError(f"{kind} config must be a dict, got {type(arguments).__name__}: {arguments!r}")
        try:
            return cls.from_config(arguments)
        except TypeError as error:  # an unexpected or missing constructor argument
            raise ValueError(f"bad config for {kind} {name!r}: {error}") from None

    def get(self, identifier: Any) -> Any:
        """``None``, an instance, a name, a class, a config dict or a plain callable -> the object."""
        if identifier is None or isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, str):
            factory = self.names.get(identifier) or self.classes.get(identifier)
            if factory is None:
                raise ValueError(f"unknown {self.kind} {identifier!r}; expected one of {self.known()}")
            return factory()
        if inspect.isclass(identifier) and issubclass(identifier, self.base):
            return identifier()
        if callable(identifier) and not inspect.isclass(identifier):
            return identifier
        raise ValueError(
            f"Could not interpret {self.kind} identifier: {identifier!r}; expected None, a name such as "
            f"{self.example!r}, a {self.base.__name__}, a config dict or a function of one array"
        )

    def serialize(self, value: Any) -> dict[str, Any] | None:
        """A JSON-able config that `get` turns back into an equal object (``None`` stays)."""
        value = self.get(value)
        if value is None:
            return None
        if isinstance(value, self.base):
            return {"class_name": type(value).__name__, "config": value.get_config()}
        return {"class_name": "function", "config": getattr(value, "__name__", repr(value))}
