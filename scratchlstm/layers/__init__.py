"""Keras-style layers: thin objects holding configuration and weights; the math is in ``_numpy``."""

from ._base import Layer
from ._dense import Dense
from ._lstm import LSTM

LAYERS = {"LSTM": LSTM, "Dense": Dense}


def deserialize(config: dict) -> Layer:
    """Rebuild an (unbuilt) layer from its ``get_config()`` dict."""
    name = config.get("class_name")
    if name not in LAYERS:
        raise ValueError(f"layer class_name must be one of {sorted(LAYERS)}, got {name!r}")
    return LAYERS[name].from_config(config)


__all__ = ["Dense", "LSTM", "Layer", "deserialize"]
