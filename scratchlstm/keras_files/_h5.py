"""Keras 3's HDF5 weight layout (``model.weights.h5`` and ``.weights.h5`` files), both ways.

Keras walks its objects and stores each one's own variables as datasets ``<path>/vars/0``,
``/1``, ... in the object's order. A model's layers sit under ``layers/<class in snake case>``
numbered per class in ``model.layers`` order (``dense``, ``dense_1``; never the layer's own
name); an object inside a layer sits under the attribute that holds it (``lstm/cell``,
``bidirectional/forward_layer/cell``, ``multi_head_attention/query_dense``); the optimizer's
variables under ``optimizer/vars``. Where a layer's weights go is in `_mappings.MAPPINGS`.

Reading is defensive: only hard links are followed (no external or soft links), every dataset's
declared shape and dtype are checked against the model before any data is read, and nothing is
assigned until every array has passed (shape, real dtype, finite values).
"""

from __future__ import annotations

import os
import stat
import warnings
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..layers._base import snake_case
from ._config import keras_layer_order
from ._mappings import mapping_for_ours

if TYPE_CHECKING:
    from ..layers._base import Layer

INSTALL_HINT = 'Keras .keras and .h5 files need h5py: pip install "scratchlstm[keras-files]"'
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def h5py_module() -> Any:  # h5py is untyped here (not analysed)
    """The ``h5py`` module, or an ``ImportError`` naming the extra to install."""
    try:
        import h5py
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return h5py


def weight_parts(model: Layer, prefix: str = "") -> list[tuple[str, Layer, int, int]]:
    """``(group path, owner layer, start, stop)`` for every slice of weights in ``model``: the
    arrays ``owner.get_weights()[start:stop]`` are the datasets ``<group path>/vars/0...``."""
    parts: list[tuple[str, Layer, int, int]]
    used: dict[str, int]
    parts, used = [], {}
    for layer in keras_layer_order(model):
        mapping = mapping_for_ours(type(layer).__name__)
        base = snake_case(mapping.keras_name)
        number = used.get(base, -1) + 1
        used[base] = number
        parts += _layer_parts(layer, f"{prefix}layers/{base if number == 0 else f'{base}_{number}'}")
    return parts


def _layer_parts(layer: Layer, path: str) -> list[tuple[str, Layer, int, int]]:
    mapping = mapping_for_ours(type(layer).__name__)
    if mapping.call == "model":
        return weight_parts(layer, f"{path}/")
    parts: list[tuple[str, Layer, int, int]]
    parts, start = [], 0
    for sub, count in mapping.groups(layer):
        parts.append(("/".join(p for p in (path, sub) if p), layer, start, start + count))
        start += count
    for h5_name, attribute in mapping.sublayers:
        parts += _layer_parts(getattr(layer, attribute), f"{path}/{h5_name}")
    return parts


def write_weights(handle: str | os.PathLike[str] | IO[bytes], model: Layer) -> None:
    """Write ``model``'s weights in Keras' layout to ``handle`` (a path or a binary file)."""
    h5py = h5py_module()
    with h5py.File(handle, "w") as store:
        store.create_group("vars").attrs["name"] = model.name
        for path, owner, start, stop in weight_parts(model):
            group = store.require_group(f"{path}/vars")
            group.attrs["name"] = owner.name
            for index, array in enumerate(owner.get_weights()[start:stop]):
                group.create_dataset(str(index), data=np.asarray(array))


def _datasets(store: Any, h5py: Any, source: str) -> dict[str, Any]:
    """``{path: dataset}`` of every dataset reached through hard links only."""
    found: dict[str, Any]
    pending: list[tuple[str, Any]]
    found, pending = {}, [("", store)]
    while pending:
        prefix, group = pending.pop()
        for name in group:
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ValueError(f"{source}: {prefix}{name} is a {type(link).__name__}; Keras weight files "
                                 "hold plain groups and datasets only")
            item = group[name]
            if isinstance(item, h5py.Group):
                pending.append((f"{prefix}{name}/", item))
            elif isinstance(item, h5py.Dataset):
                if item.is_virtual or item.external:
                    raise ValueError(f"{source}: dataset {prefix}{name} refers to data outside the file")
                found[f"{prefix}{name}"] = item
            else:
                raise ValueError(f"{source}: {prefix}{name} is neither a group nor a dataset")
    return found


def read_weights(handle: str | os.PathLike[str] | IO[bytes], model: Layer, source: str, *,
                 assign: bool = True) -> dict[int, tuple[Layer, list[NDArray[Any]]]]:
    """Check every dataset in ``handle`` against ``model`` and, with ``assign``, set the weights.

    Returns:
        ``{owner layer id: (owner, [arrays])}``: the checked arrays, set only if ``assign``.

    Raises:
        ValueError: the file is not HDF5, or a dataset is missing, unknown, or disagrees with the
            model (shape, dtype, NaN/inf); nothing is assigned then.
    """
    h5py = h5py_module()
    try:
        store = h5py.File(handle, "r")
    except (OSError, ValueError) as error:
        raise ValueError(f"{source} is not a readable HDF5 file: {error}") from None
    with store:
        try:
            datasets = _datasets(store, h5py, source)
        except (OSError, RuntimeError, KeyError) as error:
            raise ValueError(f"{source}: the HDF5 file is damaged: {error}") from None
        optimizer = sorted(p for p in datasets if p.startswith("optimizer/"))
        expected: dict[str, tuple[Layer, int, NDArray[Any]]]
        values: dict[int, tuple[Layer, dict[int, NDArray[Any]]]]
        expected, values = {}, {}
        for path, owner, start, stop in weight_parts(model):
            weights = owner.get_weights()[start:stop]
            for index, array in enumerate(weights):
                expected[f"{path}/vars/{index}"] = (owner, start + index, array)
        unknown = sorted(set(datasets) - set(expected) - set(optimizer))
        if unknown:
            raise ValueError(f"{source} holds weights {unknown[:5]} that the model has no place for "
                             f"(the model's are {sorted(expected)[:8]}...)")
        for name, (owner, position, current) in expected.items():
            if name not in datasets:
                raise ValueError(f"{source} has no dataset {name!r} for a weight {current.shape} of layer {owner.name!r}")
            dataset = datasets[name]
            if dataset.shape != current.shape:
                raise ValueError(f"{source}: dataset {name!r} has shape {dataset.shape}, layer {owner.name!r} "
                                 f"needs {current.shape}")
            if dataset.dtype.kind not in "fiu":
                raise ValueError(f"{source}: dataset {name!r} must hold real numbers, got dtype {dataset.dtype}")
            try:
                array = np.asarray(dataset[()]).astype(current.dtype)
            except (OSError, RuntimeError) as error:
                raise ValueError(f"{source}: dataset {name!r} cannot be read (damaged file?): {error}") from None
            if not np.isfinite(array).all():
                raise ValueError(f"{source}: dataset {name!r} holds NaN or inf values")
            values.setdefault(id(owner), (owner, {}))[1][position] = array
        iterations = trained_iterations(datasets)
    if iterations and getattr(model, "compiled", None) is not None:
        warn_optimizer(source, iterations)
    ordered = {key: (owner, [arrays[i] for i in sorted(arrays)]) for key, (owner, arrays) in values.items()}
    if assign:
        for owner, arrays in ordered.values():
            owner.set_weights(arrays)
    return ordered


def is_hdf5(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` starts with the HDF5 signature (how Keras writes ``.weights.h5``)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block open()
            return False
        with open(path, "rb") as handle:
            return handle.read(8) == HDF5_SIGNATURE
    except (OSError, TypeError, ValueError):
        return False


def trained_iterations(datasets: dict[str, Any]) -> int:
    """How many steps the Keras optimizer in the file took (``optimizer/vars/0``), 0 if none."""
    counter = datasets.get("optimizer/vars/0")
    if counter is None or counter.shape != () or counter.dtype.kind not in "iu":
        return 0
    return int(counter[()])


def warn_optimizer(source: str, iterations: int, optimizer_name: str | None = None) -> None:
    what = (f"scratchlstm restores the variables of its own optimizer classes, not of {optimizer_name}"
            if optimizer_name else "load_weights does not restore optimizer variables (load_model does, from a .keras)")
    warnings.warn(
        f"{source} holds the state of a Keras optimizer that ran {iterations} steps; {what}: the "
        "optimizer starts afresh (the weights are loaded)",
        RuntimeWarning,
        stacklevel=4,
    )
