"""The ``.keras`` zip (``metadata.json``, ``config.json``, ``model.weights.h5``) and ``.weights.h5``.

Reading never extracts anything: members are read into memory after their names (no ``..``,
no absolute paths) and declared sizes (at most `MAX_MEMBER_BYTES`, and not a decompression
bomb) are checked. A model is built only once the config converts; its weights' shapes are
checked against the file on a probe built with zero-stride placeholder weights (no initializer
runs, nothing is allocated: `scratchlstm.initializers.placeholder_weights`), so a config that
declares huge layers next to small arrays fails before any allocation.
"""

from __future__ import annotations

import io
import json
import os
import stat
import time
import zipfile
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .._files import atomic_write
from .. import initializers, optimizers
from .._tree import tree_leaves
from ..layers._base import half_precision_layers
from . import _h5
from ._compile import compile_from_keras, compile_to_keras
from ._config import model_from_keras, model_to_keras, refuse_code
from ._optimizer import state_from_keras, state_to_keras, write_variables

if TYPE_CHECKING:
    from ..models import Model

MAX_MEMBER_BYTES = 1 << 32  # 4 GiB: a larger member is refused before it is read
MAX_CONFIG_BYTES = 64 << 20  # config.json and metadata.json
MAX_EXPANSION = 100  # a member stored this many times smaller than it unpacks is a bomb
KERAS_VERSION = "3.15.1"  # the Keras version whose format these files follow
_MEMBERS = ("metadata.json", "config.json", "model.weights.h5")


def _check_member_names(archive: zipfile.ZipFile, source: str) -> None:
    names = archive.namelist()
    for name in names:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise ValueError(f"{source}: the archive member name {name!r} points outside the archive; refused")
    if len(set(names)) != len(names):
        raise ValueError(f"{source}: the archive lists a member twice")
    unknown = sorted(n for n in names if n not in _MEMBERS and not n.startswith("assets/"))
    if unknown:
        raise ValueError(f"{source}: the archive holds {unknown[:5]}, which a Keras 3 model file does not")
    assets = [n for n in names if n.startswith("assets/") and not n.endswith("/")]
    if assets:
        raise ValueError(f"{source}: the archive holds assets {assets[:3]} (e.g. a vocabulary), which no "
                         "scratchlstm layer reads")


def _read_member(archive: zipfile.ZipFile, name: str, limit: int, source: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"{source} is not a Keras 3 model file: it has no {name}") from None
    if info.file_size > limit:
        raise ValueError(f"{source}: {name} declares {info.file_size} bytes, more than the {limit} allowed")
    if info.file_size > (1 << 20) and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
        raise ValueError(f"{source}: {name} declares {info.file_size} bytes but stores {info.compress_size}; "
                         "refusing a decompression bomb")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        raise ValueError(f"{source}: {name} cannot be read (truncated or damaged?): {error}") from None
    if len(data) != info.file_size:
        raise ValueError(f"{source}: {name} holds {len(data)} bytes, not the {info.file_size} it declares")
    return data


def _json_member(archive: zipfile.ZipFile, name: str, source: str) -> Any:
    text = _read_member(archive, name, MAX_CONFIG_BYTES, source)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{source}: {name} is not valid JSON: {error}") from None


def _open_zip(path: str | os.PathLike[str], source: str) -> zipfile.ZipFile:
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{source} is not a regular file, so not a Keras file")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{source} is not a Keras .keras file (not a zip archive: {error})") from None


def is_keras_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a Keras 3 model zip, by content (``config.json`` and ``metadata.json``
    members; our own ``.npz`` files hold ``config.json.npy`` instead).

    Examples:
        >>> import os, tempfile
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
        >>> model.save(path)
        >>> is_keras_archive(path), is_keras_archive(path + ".missing")
        (True, False)
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode) or not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False
    return "config.json" in names and "metadata.json" in names


def is_keras_weights(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an HDF5 file (Keras' ``.weights.h5``), by its signature."""
    return _h5.is_hdf5(path)


def save_keras_archive(model: Model, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None,
                       include_optimizer: bool = True) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file that ``keras.models.load_model`` opens.

    A compiled model's optimizer variables go in too, as Keras writes them (every optimizer of
    `scratchlstm.optimizers`, also inside a ``LossScaleOptimizer``; see `_optimizer`), so Keras'
    ``fit`` continues where ours stopped; those of a class a user derived from one are left out.

    Args:
        model: a built `Sequential` or `Model` whose layers all have Keras counterparts.
        path: the target file.
        metadata: JSON-able user metadata, kept in ``metadata.json`` (Keras ignores it).
        include_optimizer: False leaves the optimizer variables out (the compile settings stay).

    Raises:
        ImportError: h5py is missing (the message names the extra).
        ValueError: a layer or a setting has no Keras counterpart (named); nothing is written.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
        >>> save_keras_archive(model, path)
        >>> restored = load_keras_archive(path)
        >>> x = np.ones((1, 4, 2), "float32")
        >>> bool(np.array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0)))
        True
    """
    model._require_built("save")
    document = model_to_keras(model)
    compile_config = model.get_compile_config() if model.compiled is not None else None
    if compile_config:
        document["compile_config"] = compile_to_keras(compile_config)
    info: dict[str, Any] = {"keras_version": KERAS_VERSION, "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    if metadata:
        info["scratchlstm_metadata"] = metadata
    try:
        config_text, metadata_text = json.dumps(document), json.dumps(info)
    except TypeError as error:
        raise ValueError(f"the model config or metadata is not JSON-serialisable: {error}") from None
    weights = io.BytesIO()
    _h5.write_weights(weights, model)
    # None: not compiled, left out, or an optimizer we do not map
    optimizer_variables = state_to_keras(model) if include_optimizer else None
    if optimizer_variables is not None:
        with _h5.h5py_module().File(weights, "r+") as store:
            write_variables(store, model.optimizer, optimizer_variables)

    def write(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w") as archive:
            archive.writestr("metadata.json", metadata_text)
            archive.writestr("config.json", config_text)
            archive.writestr("model.weights.h5", weights.getvalue())

    atomic_write(path, write)


def load_keras_archive(path: str | os.PathLike[str], compile: bool = True) -> Model:
    """Load a Keras 3 ``.keras`` file (written by Keras or by scratchlstm) as our model.

    Args:
        path: the ``.keras`` file.
        compile: compile with the stored optimizer, loss and metrics (NumPy backend), as Keras'
            ``load_model`` does; a setting we cannot map is a ``ValueError`` (as in Keras).
            The optimizer variables (of every Keras optimizer we have, also inside a
            ``LossScaleOptimizer``) become the state ``fit`` continues from.

    Returns:
        the `Sequential` or `Model`, with ``.metadata`` from the file (``{}`` if none).

    Raises:
        ValueError: anything wrong with the file, named; no model is returned then.
    """
    from ..models._file_checks import MAX_METADATA_DEPTH, nesting_depth
    from ..models._serialization import model_from_config

    _h5.h5py_module()  # the error naming the extra comes first
    source = os.fspath(path)
    with _open_zip(path, source) as archive:
        _check_member_names(archive, source)
        document = _json_member(archive, "config.json", source)
        info = _json_member(archive, "metadata.json", source)
        # as in .npz files (one level more: the metadata sits in Keras' own object); deeper
        # metadata could not be saved again
        if nesting_depth(info, MAX_METADATA_DEPTH + 1) > MAX_METADATA_DEPTH + 1:
            raise ValueError(f"{source}: metadata.json nests more than {MAX_METADATA_DEPTH} levels deep")
        refuse_code(document, f"{source} config.json")
        if not isinstance(document, dict):
            raise ValueError(f"{source}: config.json must hold a JSON object")
        ours = model_from_keras(document)
        if "model.weights.h5" not in archive.namelist():
            raise ValueError(f"{source} has no model.weights.h5 (Keras' npz weights format is not supported)")
        weights = _read_member(archive, "model.weights.h5", MAX_MEMBER_BYTES, source)
    declared = _declared_elements(weights, source)
    with initializers.placeholder_weights():  # zero-stride weights: the probe allocates nothing
        probe = _build(model_from_config, ours, source, declared)
    _h5.read_weights(io.BytesIO(weights), probe, source, assign=False)
    model = _build(model_from_config, ours, source, None)
    _h5.read_weights(io.BytesIO(weights), model, source)  # not compiled yet: no warning
    model.metadata = info.get("scratchlstm_metadata") or {} if isinstance(info, dict) else {}
    compile_config = document.get("compile_config")
    if compile and compile_config:
        arguments = compile_from_keras(compile_config, source)
        if half_precision_layers(model):  # mixed-precision layers run on the JAX backend only
            arguments["backend"] = "jax"
        if _model_policy(document) == "mixed_float16":  # Keras' compile wraps it (auto_scale_loss)
            optimizer = optimizers.get(arguments["optimizer"])
            if not isinstance(optimizer, optimizers.LossScaleOptimizer):
                arguments["optimizer"] = optimizers.LossScaleOptimizer(optimizer, name="loss_scale_optimizer")
        try:
            model.compile(**arguments)
        except (ValueError, TypeError, KeyError, NotImplementedError) as error:
            raise ValueError(f"{source}: the compile settings do not map onto scratchlstm ({error}); "
                             "load with compile=False and compile yourself") from None
        _restore_optimizer(model, weights, source)
    return model


def _model_policy(document: dict[str, Any]) -> Any:
    """The name of the Keras model's own dtype policy (our models keep none: their layers do)."""
    dtype = (document.get("config") or {}).get("dtype") if isinstance(document.get("config"), dict) else None
    return (dtype.get("config") or {}).get("name") if isinstance(dtype, dict) else dtype


def _declared_elements(weights: bytes, source: str) -> int:
    """The number of values the HDF5 file declares (metadata only), bounded by its byte size."""
    h5py = _h5.h5py_module()
    try:
        with h5py.File(io.BytesIO(weights), "r") as store:
            datasets = _h5._datasets(store, h5py, source)
            total = sum(int(dataset.size) for dataset in datasets.values())
            nbytes = sum(int(d.size) * d.dtype.itemsize for d in datasets.values())
            if nbytes > max(MAX_EXPANSION * len(weights), 1 << 20):
                raise ValueError(f"{source}: model.weights.h5 declares {nbytes} bytes of arrays in a "
                                 f"{len(weights)}-byte file; refusing a decompression bomb")
    except (OSError, RuntimeError, KeyError) as error:
        raise ValueError(f"{source}: model.weights.h5 is not a readable HDF5 file: {error}") from None
    return total


def _build(model_from_config: Callable[[dict[str, Any]], Model], config: dict[str, Any], source: str,
           declared: int | None) -> Model:
    """Build our model from ``config``; with ``declared`` (the file's number of values), refuse a
    config whose weights hold more values than the file, before any are drawn."""
    try:
        model = model_from_config(config)
    except (TypeError, KeyError, AttributeError, NotImplementedError, MemoryError) as error:
        raise ValueError(f"{source}: the model config does not build in scratchlstm: {error!r}") from None
    except ValueError as error:
        raise ValueError(f"{source}: the model config does not build in scratchlstm: {error}") from None
    if not model.built:
        raise ValueError(f"{source}: the model config has no input shape, so its weights cannot be checked")
    if declared is not None:
        needed = sum(int(np.size(leaf)) for leaf in tree_leaves([model.params, model.state]))
        if needed > declared:
            raise ValueError(f"{source}: the config's layers hold {needed} weight values but model.weights.h5 "
                             f"declares {declared}")
    return model


def _restore_optimizer(model: Model, weights: bytes, source: str) -> None:
    """Continue ``model``'s freshly compiled optimizer from the file's variables (it was compiled
    from the file's config, so it is one of our classes, all of which map); a mismatch is a
    ``ValueError`` naming the variable."""
    h5py = _h5.h5py_module()
    with h5py.File(io.BytesIO(weights), "r") as store:
        datasets = _h5._datasets(store, h5py, source)
        state = state_from_keras(model, datasets, source)
    if state is None:  # Keras never built its optimizer: a fresh start is where it stood
        return
    optimizer = model.optimizer
    if optimizer.learning_rate_schedule is None and state.learning_rate != optimizer.learning_rate:
        optimizer.learning_rate = state.learning_rate  # set in Keras after compile; the train loop pushes it
    model._remember_optimizer_state(model._backend(), state)
    optimizer.iterations = int(state.iterations)


def save_keras_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """Write ``model``'s weights as a Keras 3 ``.weights.h5`` file (``model.load_weights`` in Keras
    reads it into the same architecture).

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import scratchlstm as keras
        >>> def build():
        ...     return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> model, twin = build(), build()
        >>> path = os.path.join(tempfile.mkdtemp(), "model.weights.h5")
        >>> save_keras_weights(model, path)
        >>> load_keras_weights(twin, path)
        >>> all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
        True
    """
    model._require_built("save_weights")
    buffer = io.BytesIO()
    _h5.write_weights(buffer, model)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def load_keras_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """Read a Keras 3 ``.weights.h5`` file into ``model`` (the same architecture); every array is
    checked first, so a bad file changes nothing."""
    model._require_built("load_weights")
    source = os.fspath(path)
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{source} is not a regular file")
    if not _h5.is_hdf5(path):
        raise ValueError(f"{source} is not an HDF5 (Keras .weights.h5) file")
    _h5.read_weights(source, model, source)


def load_archive_weights(model: Model, path: str | os.PathLike[str]) -> None:
    """Read the weights of a ``.keras`` archive into ``model`` (as Keras' ``load_weights`` does)."""
    model._require_built("load_weights")
    source = os.fspath(path)
    _h5.h5py_module()
    with _open_zip(path, source) as archive:
        _check_member_names(archive, source)
        weights = _read_member(archive, "model.weights.h5", MAX_MEMBER_BYTES, source)
    _h5.read_weights(io.BytesIO(weights), model, source)
