"""Small real datasets shipped with scratchlstm; no download. Sources in README.md here.

Seattle weather and temperatures (NOAA, public domain, via vega_datasets 0.9.0): the
loaders return NumPy `Table`s, or pandas DataFrames with `as_frame=True` (the `data` extra).
Surnames by language (`load_names`, lists of str) and Tiny Shakespeare
(`load_tinyshakespeare`, one str). Every loader returns the same type whatever is installed.
Imports NumPy only.
"""

from ._loaders import Names as Names
from ._loaders import Table as Table
from ._loaders import dataset_path as dataset_path
from ._loaders import load_names as load_names
from ._loaders import load_seattle_temps as load_seattle_temps
from ._loaders import load_seattle_weather as load_seattle_weather
from ._loaders import load_tinyshakespeare as load_tinyshakespeare

__all__ = [
    "Names",
    "Table",
    "dataset_path",
    "load_names",
    "load_seattle_temps",
    "load_seattle_weather",
    "load_tinyshakespeare",
]
