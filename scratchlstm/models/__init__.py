"""Models: ``Model`` (the functional API), ``Sequential``, their training loop and file format."""

from ._model import Model
from ._sequential import Sequential
from ._serialization import load_model, model_from_config, model_from_json

__all__ = ["Model", "Sequential", "load_model", "model_from_config", "model_from_json"]
