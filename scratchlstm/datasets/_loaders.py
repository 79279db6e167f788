"""Loaders for the small real datasets shipped inside the package (see README.md here)."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

import numpy as np
from numpy.typing import NDArray

from ..data._arrays import require_pandas

if TYPE_CHECKING:  # Python 3.10 has it in importlib.abc, 3.11+ in importlib.resources.abc
    import sys

    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

# name -> (file, strptime format of its `date` column, numpy datetime64 unit)
_DATASETS = {
    "seattle-weather": ("seattle-weather.csv", "%Y/%m/%d", "D"),
    "seattle-temps": ("seattle-temps.csv", "%Y/%m/%d %H:%M", "m"),
}
# every bundled file: name -> file name
_FILES = {
    **{name: spec[0] for name, spec in _DATASETS.items()},
    "names": "names.csv",
    "tinyshakespeare": "tinyshakespeare.txt.gz",
}


@dataclass(frozen=True)
class Table:
    """A dataset as NumPy arrays, for use without pandas.

    Attributes:
        columns: names of the columns of `values`, e.g. `["precipitation", "temp_max", ...]`.
        dates: `(N,)` `datetime64` timestamps (unit `D` for daily, `m` for hourly data).
        values: `(N, k)` float64, the numeric columns in file order.
        labels: the text columns, name -> `(N,)` str array (e.g. `"weather"`).

    `table["temp_max"]` returns one column (`"date"`, a numeric or a text column);
    `len(table)` is N.
    """

    columns: list[str]
    dates: NDArray[Any]
    values: NDArray[Any]
    labels: dict[str, NDArray[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.dates)

    def __getitem__(self, name: str) -> NDArray[Any]:
        if name == "date":
            return self.dates
        if name in self.labels:
            return self.labels[name]
        if name in self.columns:
            return self.values[:, self.columns.index(name)]
        raise KeyError(f"no column {name!r}; the columns are {['date', *self.columns, *self.labels]}")


def dataset_path(name: str) -> Traversable:
    """The path of a bundled data file.

    Arguments:
        name: `"seattle-weather"`, `"seattle-temps"`, `"names"` or `"tinyshakespeare"`
            (the file name, e.g. `"names.csv"` or `"tinyshakespeare.txt.gz"`, is allowed too).

    Returns:
        A `pathlib.Path` for a normal install (an `importlib.resources` Traversable
        when the package is imported from a zip file).
    """
    key = name
    if isinstance(name, str):
        by_file = {file_name: key_ for key_, file_name in _FILES.items()}
        key = by_file.get(name, name)
    if key not in _FILES:
        raise ValueError(f"unknown dataset {name!r}; the bundled datasets are {sorted(_FILES)}")
    return resources.files(__package__).joinpath(_FILES[key])


def _check_as_frame(as_frame: bool) -> bool:
    """Check `as_frame` before anything is read: a plain bool, and pandas when it is True."""
    if not isinstance(as_frame, (bool, np.bool_)):
        raise ValueError(f"as_frame must be True or False, got {as_frame!r}")
    if as_frame:
        require_pandas()  # ImportError naming the `data` extra when pandas is missing
    return bool(as_frame)


def _load(name: str, as_frame: bool) -> Table | Any:
    file_name, date_format, date_unit = _DATASETS[name]
    text = dataset_path(name).read_text(encoding="utf-8")
    if _check_as_frame(as_frame):
        pd = require_pandas()
        frame = pd.read_csv(io.StringIO(text))
        frame["date"] = pd.to_datetime(frame["date"], format=date_format)
        return frame
    header, *rows = csv.reader(io.StringIO(text))
    columns = list(zip(*rows))
    # numpy parses ISO dates only, so YYYY/MM/DD becomes YYYY-MM-DD.
    dates = np.array([stamp.replace("/", "-") for stamp in columns[0]], dtype=f"datetime64[{date_unit}]")
    numeric, labels = {}, {}
    for name_, column in zip(header[1:], columns[1:]):
        try:
            numeric[name_] = np.array(column, dtype=np.float64)
        except ValueError:
            labels[name_] = np.array(column, dtype=str)
    values = np.stack(list(numeric.values()), axis=1)
    return Table(columns=list(numeric), dates=dates, values=values, labels=labels)


@overload
def load_seattle_weather(as_frame: Literal[False] = ...) -> Table: ...
@overload
def load_seattle_weather(as_frame: Literal[True]) -> Any: ...  # a pandas DataFrame
@overload
def load_seattle_weather(as_frame: bool) -> Table | Any: ...


def load_seattle_weather(as_frame: bool = False) -> Table | Any:
    """Daily weather in Seattle, 2012-01-01 to 2015-12-31: 1,461 rows, no gaps.

    Columns: `date`; `precipitation` (mm); `temp_max` and `temp_min` (degrees Celsius);
    `wind` (m/s); `weather` (text: drizzle, rain, sun, snow, fog).

    Source: NOAA observations (public domain), as redistributed in the `vega_datasets`
    Python package, version 0.9.0.

    Arguments:
        as_frame: `False` (default) returns a `Table` of NumPy arrays, the same whatever
            is installed; `True` a pandas DataFrame (needs the `data` extra: ImportError
            naming `pip install "scratchlstm[data]"` when pandas is missing).

    Returns:
        A `Table` (default) or, with `as_frame=True`, a DataFrame with `date` parsed to
        datetime64. The `Table` has `columns ==
        ["precipitation", "temp_max", "temp_min", "wind"]`, `values` `(1461, 4)`,
        `dates` `(1461,)` datetime64[D] and `labels["weather"]`.

    Examples:
        >>> from scratchlstm.datasets import load_seattle_weather
        >>> table = load_seattle_weather(as_frame=False)
        >>> table.values.shape, str(table.dates[0]), str(table["weather"][0])
        ((1461, 4), '2012-01-01', 'drizzle')
    """
    return _load("seattle-weather", as_frame)


@overload
def load_seattle_temps(as_frame: Literal[False] = ...) -> Table: ...
@overload
def load_seattle_temps(as_frame: Literal[True]) -> Any: ...  # a pandas DataFrame
@overload
def load_seattle_temps(as_frame: bool) -> Table | Any: ...


def load_seattle_temps(as_frame: bool = False) -> Table | Any:
    """Hourly temperature in Seattle during 2010: 8,759 rows.

    Columns: `date` (hourly); `temp` (degrees Fahrenheit). One hour, 2010-03-14 03:00,
    is absent (the switch to daylight saving time), hence 8,759 rather than 8,760 rows.
    A smooth series with a clear daily cycle, good for long sequences; not a noisy
    forecasting benchmark.

    Source: NOAA observations (public domain), as redistributed in the `vega_datasets`
    Python package, version 0.9.0.

    Arguments:
        as_frame: as in `load_seattle_weather`.

    Returns:
        A `Table` (default) with `columns ==
        ["temp"]`, `values` `(8759, 1)` and `dates` `(8759,)` datetime64[m]; with
        `as_frame=True`, a DataFrame with `date` parsed to datetime64.

    Examples:
        >>> from scratchlstm.datasets import load_seattle_temps
        >>> table = load_seattle_temps(as_frame=False)
        >>> len(table), table.columns, str(table.dates[1])
        (8759, ['temp'], '2010-01-01T01:00')
    """
    return _load("seattle-temps", as_frame)


class Names(NamedTuple):
    """Surnames and their language of origin, as plain Python lists.

    Attributes:
        names: the surnames, `list[str]`, in file order (grouped by language).
        languages: each surname's language, `list[str]`, as long as `names`.
        classes: the distinct languages, sorted, `list[str]`.

    `labels` gives the languages as int64 indices into `classes`.
    """

    names: list[str]
    languages: list[str]
    classes: list[str]

    @property
    def labels(self) -> NDArray[Any]:
        """`(N,)` int64: the index of each surname's language in `classes`."""
        index = {language: position for position, language in enumerate(self.classes)}
        return np.array([index[language] for language in self.languages], dtype=np.int64)


def load_names() -> Names:
    """Surnames and their language: 20,050 rows, 18 languages, very unbalanced.

    For character-level sequence classification (variable lengths: pad and mask). The
    counts go from 9,384 Russian to 73 Vietnamese names. Some names occur more than once
    (18,013 distinct name-language pairs, 17,451 distinct names, some under several
    languages): deduplicate before a split if a test set must hold unseen names. The names
    contain non-ASCII letters (e.g. "Bélanger", "Müller"), a few spaces, apostrophes and
    hyphens, and a handful of stray characters kept from the source ("Rafaj1", "Lytkin,").

    Source: the 18 files of `data/names/` of the PyTorch tutorial "NLP From Scratch:
    Classifying Names with a Character-Level RNN" (pytorch/tutorials, BSD-3-Clause), one
    row per name; `Portugese` is spelled `Portuguese` here.

    Returns:
        A `Names` tuple `(names, languages, classes)` of lists of str, the same whatever is
        installed.

    Examples:
        >>> from scratchlstm.datasets import load_names
        >>> names, languages, classes = load_names()
        >>> len(names), len(classes), names[0], languages[0], classes[:3]
        (20050, 18, 'Khoury', 'Arabic', ['Arabic', 'Chinese', 'Czech'])
    """
    text = dataset_path("names").read_text(encoding="utf-8")
    header, *rows = csv.reader(io.StringIO(text))
    if header != ["name", "language"]:
        raise ValueError(f"names.csv has columns {header}, expected ['name', 'language']")
    names = [row[0] for row in rows]
    languages = [row[1] for row in rows]
    return Names(names=names, languages=languages, classes=sorted(set(languages)))


def load_tinyshakespeare() -> str:
    """About 40,000 lines of Shakespeare's plays as one string: 1,115,394 characters.

    The classic input of a character-level language model (65 distinct ASCII characters,
    newlines included). Read from the bundled gzip file with the standard library.

    Source: the `tinyshakespeare` input of karpathy/char-rnn (MIT), a concatenation of
    works by Shakespeare, which are in the public domain; byte-identical to that file.

    Returns:
        The text, a `str`.

    Examples:
        >>> from scratchlstm.datasets import load_tinyshakespeare
        >>> text = load_tinyshakespeare()
        >>> len(text), text[:14]
        (1115394, 'First Citizen:')
    """
    return gzip.decompress(dataset_path("tinyshakespeare").read_bytes()).decode("utf-8")
