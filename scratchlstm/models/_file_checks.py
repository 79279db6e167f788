"""Reading ``.npz`` model and weights files that may be hostile: every way one can be wrong is a
``ValueError`` that names the file and what is wrong, raised before anything large is allocated.

What a file may make the loader do is bounded by the file itself:

* every member of the archive is a ``.npy`` array whose size must fit in the archive (a stored
  member's bytes lie in the file; a compressed one cannot claim more than deflate's ratio
  allows), checked on opening from the zip directory alone; an array's header (shape, dtype) is
  read and checked when the array is first asked for, before its data: the shape times the item
  size must be exactly the bytes the member holds (``ZipInfo.file_size``). So an array is never
  allocated larger than ~1100 times the file, a stored one never larger than the file, and the
  headers of members a loader refuses by name (thousands of tiny forged ones) are never parsed;
* object arrays are refused from their header (nothing is unpickled, ever);
* JSON (``config.json``, ``weights.json``) is measured for nesting depth before it is parsed, so
  neither parsing nor what runs on the result can recurse without bound (`MAX_DOCUMENT_DEPTH`);
  metadata nests at most `MAX_METADATA_DEPTH` levels, on save as on load.

Examples:
    >>> json_depth('{"a": [1, {"b": "[[[["}]}')
    3
    >>> nesting_depth({"a": [1, {"b": "[[[["}]})
    3
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import zipfile
import zlib
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

MAX_METADATA_DEPTH = 100  # nesting of the user's metadata (lists and dicts), on save and on load
MAX_DOCUMENT_DEPTH = 200  # nesting of config.json as a whole: metadata + a model config (~3 per nested model)
_DEFLATE_RATIO = 1100  # deflate expands at most ~1032:1, so a member claiming more is lying
_NPY_MAGIC = b"\x93NUMPY"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)  # a JSON string, escapes included


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of JSON ``text`` nest (``1`` for ``[1, 2]``), measured
    without parsing it, so that a document nested 100,000 deep costs no recursion.

    Brackets inside strings do not count; on text that is not JSON the answer may be too high,
    never too low.

    Examples:
        >>> json_depth("3"), json_depth("[[1], {}]"), json_depth('["]]]", [{"k": "[["}]]')
        (0, 2, 3)
    """
    bare = np.frombuffer(_STRING.sub('""', text).encode("utf-8", "surrogatepass"), np.uint8)
    steps = np.isin(bare, (ord("["), ord("{"))).astype(np.int64) - np.isin(bare, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def parse_json(text: str, source: str, limit: int = MAX_DOCUMENT_DEPTH) -> Any:
    """``json.loads(text)`` when ``text`` nests at most ``limit`` deep; else a ``ValueError``.

    Examples:
        >>> parse_json('{"a": [1]}', "config.json")
        {'a': [1]}
        >>> parse_json("[" * 300 + "]" * 300, "config.json")
        Traceback (most recent call last):
        ...
        ValueError: config.json nests 300 levels deep; at most 200 are allowed
    """
    depth = json_depth(text)
    if depth > limit:
        raise ValueError(f"{source} nests {depth} levels deep; at most {limit} are allowed")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{source} is not valid JSON: {error}") from None


def nesting_depth(value: Any, limit: int = MAX_METADATA_DEPTH) -> int:
    """How deeply the lists, tuples and dicts of ``value`` nest (``0`` for a scalar), without
    recursion; the count stops a level past ``limit`` (so a structure holding itself ends).

    Examples:
        >>> nesting_depth(3), nesting_depth([[1], {"a": 2}]), nesting_depth({"a": [(2,)]})
        (0, 2, 3)
        >>> loop = []
        >>> loop.append(loop)
        >>> nesting_depth(loop, limit=10)
        11
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, (list, tuple)):
            continue
        deepest = max(deepest, depth + 1)
        if deepest > limit:
            return deepest
        pending.extend((child, depth + 1) for child in item)
    return deepest


def check_metadata(metadata: Any, source: str = "metadata") -> None:
    """Raise ``ValueError`` if ``metadata`` nests deeper than `MAX_METADATA_DEPTH`.

    Examples:
        >>> check_metadata({"scaler": {"min": [0.0]}})
        >>> deep = []
        >>> for _ in range(100):
        ...     deep = [deep]
        >>> check_metadata(deep)
        Traceback (most recent call last):
        ...
        ValueError: metadata nests more than 100 levels deep (lists and dicts within each other, or a structure that holds itself); save flatter metadata
    """
    if nesting_depth(metadata, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
        raise ValueError(
            f"{source} nests more than {MAX_METADATA_DEPTH} levels deep (lists and dicts within each "
            "other, or a structure that holds itself); save flatter metadata"
        )


def _member_name(filename: str) -> str:
    return filename[: -len(".npy")]


class NpzArchive:
    """An ``.npz`` archive read defensively: every member's name and size is checked on opening,
    its ``.npy`` header when it is first asked for, arrays are read one at a time on request.

    Attributes:
        files: the array names (members without their ``.npy``), as ``np.load(...).files``.
    """

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        self.path, self.kind = os.fspath(path), kind
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, zipfile.ZipInfo] = {}  # array name -> its member, sizes checked
        self._headers: dict[str, tuple[tuple[int, ...], np.dtype[Any]]] = {}  # read on first request
        st = os.stat(self.path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block open(), a directory fail late
            raise ValueError(f"{self.path} is not a regular file, so not a scratchlstm {kind} file")
        with open(self.path, "rb") as handle:
            start = handle.read(8)
        if not start:
            raise ValueError(f"{self.path} is empty, so not a scratchlstm {kind} file")
        if start == _HDF5_MAGIC:
            raise ValueError(f"{self.path} is an HDF5 file (Keras .h5), which is not supported yet; "
                             f"scratchlstm loads the {kind} files it writes itself")
        if start.startswith(_NPY_MAGIC):
            raise ValueError(f"{self.path} is a single .npy array, not a scratchlstm {kind} file (an .npz archive)")
        try:
            self._zip = zipfile.ZipFile(self.path)
            self._check_members(st.st_size)
        except BaseException as error:
            self.close()
            if isinstance(error, ValueError):
                raise
            if isinstance(error, (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
                                  RuntimeError, UnicodeDecodeError, OverflowError, MemoryError)):
                raise ValueError(f"{self.path} is not a scratchlstm {kind} file (a readable .npz archive): "
                                 f"{type(error).__name__}: {error}") from None
            raise
        self.files = list(self._members)

    def _error(self, what: str) -> ValueError:
        return ValueError(f"{self.path} is not a scratchlstm {self.kind} file: {what}")

    def _check_members(self, archive_size: int) -> None:
        infos = cast(zipfile.ZipFile, self._zip).infolist()  # opened just before
        names = [info.filename for info in infos]
        if "model.weights.h5" in names:  # by content, not by the file's name
            raise ValueError(
                f"{self.path} is a Keras .keras file, which is not supported yet; scratchlstm loads the "
                "files that its own model.save writes (whatever their name, .keras included)"
            )
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise self._error(f"its member {info.filename!r} is not a .npy array")
            name = _member_name(info.filename)
            if name in self._members:
                raise self._error(f"it holds the array {name!r} twice")
            if info.flag_bits & 0x1:
                raise self._error(f"its member {info.filename!r} is encrypted")
            if info.compress_type == zipfile.ZIP_STORED:
                if info.compress_size != info.file_size or info.header_offset + info.compress_size > archive_size:
                    raise self._error(f"its member {info.filename!r} claims {info.file_size} bytes, more than the "
                               f"file holds ({archive_size} bytes): it is truncated or forged")
            elif info.file_size > _DEFLATE_RATIO * info.compress_size + 4096:
                raise self._error(f"its member {info.filename!r} claims to expand from {info.compress_size} to "
                           f"{info.file_size} bytes, more than compression can")
            # the header waits until the array is asked for: parsing one costs ~0.3 ms, so a
            # small file of 100,000 forged members would take half a minute before its names,
            # which the loaders refuse at once, were even looked at
            self._members[name] = info

    def _read_header(self, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype[Any]]:
        """``(shape, dtype)`` from a member's ``.npy`` header, checked against the member's size."""
        try:
            with cast(zipfile.ZipFile, self._zip).open(info) as member:  # opened in __init__
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ValueError(f"the .npy format version {version} is not one NumPy writes for plain arrays")
                offset = member.tell()
        # (also what opening a damaged member raises: a bad local header, a bad deflate stream)
        except (ValueError, EOFError, SyntaxError, TypeError, OSError, zipfile.BadZipFile, zlib.error,
                NotImplementedError, RuntimeError, MemoryError, OverflowError) as error:
            raise self._error(f"the .npy header of {info.filename!r} is unreadable: {error}") from None
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biufcUSMm":
            raise self._error(f"the array {_member_name(info.filename)!r} has dtype {dtype}; only plain numbers and "
                       "strings are read (never Python objects, which would need pickle)")
        declared = math.prod(shape) * dtype.itemsize
        held = info.file_size - offset
        if declared != held:
            raise self._error(f"the array {_member_name(info.filename)!r} declares shape {shape} of {dtype} "
                       f"({declared} bytes) but holds {held} bytes")
        return tuple(shape), dtype

    def declared(self, name: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
        """``(shape, dtype)`` of array ``name`` from its header (checked against the bytes the
        member holds), without reading its data."""
        if name not in self._headers:
            if name not in self._members:
                raise KeyError(f"{name} is not a file in the archive")
            self._headers[name] = self._read_header(self._members[name])
        return self._headers[name]

    def __getitem__(self, name: str) -> NDArray[Any]:
        """The array ``name``, its header checked before any of its data is read."""
        self.declared(name)
        try:
            with cast(zipfile.ZipFile, self._zip).open(f"{name}.npy") as member:  # opened in __init__
                array: NDArray[Any] = np.lib.format.read_array(member, allow_pickle=False)
                return array
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise ValueError(f"{self.path}: the array {name!r} cannot be read (the file is damaged): {error}") from None

    def text(self, name: str, source: str) -> str:
        """The string held by the 0-d string array ``name`` (``config.json``, ``weights.json``)."""
        shape, dtype = self.declared(name)
        if shape != () or dtype.kind != "U":
            raise ValueError(f"{source} must be a single string, got an array of shape {shape} and dtype {dtype}")
        return str(self[name])

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
