"""Small real datasets shipped with scratchlstm (NOAA, public domain, via vega_datasets 0.9.0).

Imports NumPy only; the loaders return pandas DataFrames when pandas is installed and
NumPy `Table`s otherwise (or with `as_frame=False`). See README.md in this folder.
"""

from ._loaders import Table as Table
from ._loaders import dataset_path as dataset_path
from ._loaders import load_seattle_temps as load_seattle_temps
from ._loaders import load_seattle_weather as load_seattle_weather

__all__ = ["Table", "dataset_path", "load_seattle_temps", "load_seattle_weather"]
