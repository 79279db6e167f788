"""Time-series workflow utilities: split, scale, window, and calendar features; text vocabularies.

Leak-free recipe: `chronological_split` the raw series, fit a scaler on the training
part only, transform all parts, then `make_windows` on each part separately.

Imports NumPy only; pandas objects are accepted where documented and recognised by
duck typing, without importing pandas.
"""

from __future__ import annotations

from ._calendar import CalendarFeatures as CalendarFeatures
from ._calendar import calendar_features as calendar_features
from ._scalers import MinMaxScaler as MinMaxScaler
from ._scalers import NotFittedError as NotFittedError
from ._scalers import StandardScaler as StandardScaler
from ._scalers import scaler_from_state as scaler_from_state
from ._split import Split as Split
from ._split import chronological_split as chronological_split
from ._windows import make_windows as make_windows
from .text import Vocabulary as Vocabulary
from .text import standardize_text as standardize_text

__all__ = [
    "CalendarFeatures",
    "MinMaxScaler",
    "NotFittedError",
    "Split",
    "StandardScaler",
    "Vocabulary",
    "calendar_features",
    "chronological_split",
    "make_windows",
    "scaler_from_state",
    "standardize_text",
]
