"""``InputLayer`` in JAX: the identity."""

from __future__ import annotations

from typing import Any


def layer_forward(layer: Any, params: dict[str, Any], state: dict[str, Any], inputs: Any, *,
                  training: bool = False, key: Any = None, mask: Any = None) -> tuple[Any, dict[str, Any]]:
    return inputs, state
