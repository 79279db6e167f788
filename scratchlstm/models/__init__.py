"""Models: ``Sequential``, its training loop and its file format."""

from ._sequential import Sequential
from ._serialization import load_model

__all__ = ["Sequential", "load_model"]
