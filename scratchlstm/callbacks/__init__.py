"""Keras-style callbacks for ``fit``: ``History``, ``EarlyStopping``, ``ProgbarLogger``.

Write your own by subclassing `Callback` and overriding the hooks you need; ``fit``
calls them in order through a `CallbackList`. NumPy only.
"""

from ._base import Callback, CallbackList
from ._early_stopping import EarlyStopping
from ._history import History
from ._progbar import ProgbarLogger

__all__ = ["Callback", "CallbackList", "EarlyStopping", "History", "ProgbarLogger"]
