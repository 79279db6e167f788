"""Saving and loading models as ``.npz`` files without pickle.

Layout of the file: ``config.json`` is a 0-d string array holding the architecture (the
class name and ``get_config()`` of the model: a graph or a chain), the compile settings (the
optimizer's config among them) and user metadata as JSON; each weight is an array named
``layer_name/weight_name`` (nested models add their own prefix).

The optimizer's state, once the model has trained (as Keras' ``.keras`` files hold it), is one
array per leaf of its `OptimizerState` tree, named by the path to it: ``optimizer/iterations``,
``optimizer/learning_rate``, ``optimizer/slots/momentums/dense/kernel`` (NumPy backend),
``optimizer/slots/1/trace/dense/kernel`` (an optax state on the JAX backend),
``optimizer/average/...`` (EMA), ``optimizer/accumulated/...`` (gradient accumulation).
``config.json`` then holds ``"optimizer_state": {"backend": ..., "iterations": ...}``. The
state belongs to the backend that trained (the two keep different slot trees): ``load_model``
restores it when the model compiles for that backend again, so that ``fit`` continues exactly
where it stopped, and otherwise warns and starts the optimizer afresh.

``load_model`` checks every stored array against the architecture and the optimizer (name,
shape, dtype, finiteness) before it hands anything back; it builds the model with placeholder
weights (no initializer runs, nothing is allocated) and reads each array's header before its data,
so a hostile file allocates no more than the arrays it really holds and fails with a ``ValueError``
(`_file_checks`).
Files of format version 1 (a
``Sequential`` with arrays named ``layer{k}/{weight}``) and version 2 (no optimizer state)
still load.
"""

from __future__ import annotations

import importlib.util
import json
import os
import warnings
from typing import TYPE_CHECKING, Any, Callable, cast

import numpy as np
from numpy.typing import NDArray

from .. import initializers
from .._files import atomic_write
from .._tree import flatten_paths, tree_leaves
from ._file_checks import MAX_METADATA_DEPTH, NpzArchive, check_metadata, nesting_depth, parse_json

if TYPE_CHECKING:
    from ._model import Model

FORMAT = "scratchlstm.model"
FORMAT_VERSION = 3  # 3: the optimizer state (``optimizer/...`` arrays)
WEIGHTS_FORMAT = "scratchlstm.weights"
OPTIMIZER_PREFIX = "optimizer"


def _atomic_savez(path: str | os.PathLike[str], arrays: dict[str, Any]) -> None:
    """Write ``arrays`` to ``path`` atomically (see ``scratchlstm/_files.py``): a failure leaves
    the old file intact, the mode is a plain write's, a symlink is written through."""
    atomic_write(path, lambda handle: np.savez(handle, **arrays))


def _weight_arrays(model: Any) -> dict[str, Any]:
    return {**flatten_paths(model.params), **flatten_paths(model.state)}


def compile_arguments_config(arguments: dict[str, Any]) -> dict[str, Any]:
    """JSON-able ``loss``, ``loss_weights`` and ``metrics`` as given to ``compile`` (Keras' forms)."""
    from .. import losses as losses_module
    from .. import metrics as metrics_module

    def each(value: Any, leaf: Callable[[Any], Any]) -> Any:
        if isinstance(value, dict) and "class_name" not in value:
            return {k: each(v, leaf) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [each(v, leaf) for v in value]
        return None if value is None else leaf(value)

    return {
        "loss": each(arguments["loss"], lambda v: losses_module.serialize(losses_module.get(v))),
        "loss_weights": arguments["loss_weights"],
        "metrics": each(arguments["metrics"], metrics_module.serialize),
    }


def model_config(model: Any) -> dict[str, Any]:
    return {"class_name": type(model).__name__, "config": model.get_config()}


def model_to_json(model: Any, **kwargs: Any) -> str:
    return json.dumps(model_config(model), **kwargs)


def model_from_config(config: dict[str, Any]) -> Model:
    from ..layers import deserialize

    if not isinstance(config, dict) or config.get("class_name") not in ("Model", "Sequential", "Functional"):
        raise ValueError(f"a model config must be {{'class_name': 'Model' | 'Sequential', 'config': {{...}}}}, got {type(config).__name__}")
    if config["class_name"] == "Functional":
        config = {**config, "class_name": "Model"}
    return cast("Model", deserialize(config))  # the class_name checked above names a model


def model_from_json(text: str) -> Model:
    """Rebuild a model's architecture (fresh weights) from `Model.to_json` output."""
    try:
        config = json.loads(text)
    except (TypeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"model_from_json needs JSON text from model.to_json(): {error}") from None
    return model_from_config(config)


def save_model(model: Any, path: str | os.PathLike[str], metadata: Any = None, include_optimizer: bool = True) -> None:
    model._require_built("save")
    from ..keras_files import _dispatch  # .keras: Keras 3's format; .npz: ours; else refused

    if not isinstance(include_optimizer, bool):
        raise ValueError(f"include_optimizer must be True or False, got {include_optimizer!r}")
    # checked here, before either format's writer: json.dumps would recurse without bound on deep
    # metadata (both loaders refuse it), and an array's truth value is ambiguous to the .keras one
    metadata = model.metadata if metadata is None else metadata
    check_metadata(metadata)
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as error:
        raise ValueError(f"metadata must be JSON-serialisable (lists, numbers, strings): {error}") from None
    if _dispatch.save_model(model, path, metadata, include_optimizer):
        return
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model_config(model),
        # what the config must build: a config edited to disagree (a flipped return_sequences
        # keeps every weight's shape) is refused on load instead of predicting another shape
        "output_shapes": _output_shapes(model),
        "compile": model.get_compile_config(),
        "metadata": metadata,
    }
    arrays = _weight_arrays(model)
    saved_state = _optimizer_state_to_save(model) if include_optimizer else None
    if saved_state is not None:
        backend_name, state = saved_state
        named = {name: np.asarray(leaf) for name, leaf in named_state_leaves(state)}
        clash = sorted(set(named) & set(arrays))
        if clash:
            raise ValueError(
                f"the weight names {clash} are also the names of optimizer state arrays; rename the "
                f"layer called {OPTIMIZER_PREFIX!r}, or save with include_optimizer=False"
            )
        document["optimizer_state"] = {"backend": backend_name, "iterations": int(state.iterations)}
        arrays.update(named)
    try:
        text = json.dumps(document)
    except RecursionError:
        raise ValueError("the model's config nests too deeply to be saved as JSON") from None
    except TypeError as error:
        try:
            json.dumps(document["compile"])
        except TypeError:
            raise ValueError(
                f"the compile settings are not JSON-serialisable ({error}); a learning rate given as "
                "a plain function cannot be saved: use a schedule from scratchlstm.optimizers.schedules"
            ) from None
        raise ValueError(f"metadata must be JSON-serialisable (lists, numbers, strings): {error}") from None
    _atomic_savez(path, {"config.json": np.array(text), **arrays})
    model.metadata = metadata


def _optimizer_state_to_save(model: Any) -> tuple[str, Any] | None:
    """``(backend name, OptimizerState)`` that the next ``fit`` would continue from, or None
    (never trained since compile, or what is trainable has changed since)."""
    memory = getattr(model, "_optimizer_memory", None)
    if model.compiled is None or not memory or memory[1] != frozenset(model.trainable_paths()):
        return None
    return memory[0], memory[2]


def named_state_leaves(tree: Any, prefix: str = OPTIMIZER_PREFIX) -> list[tuple[str, Any]]:
    """``(name, leaf)`` for each leaf of an optimizer state, in the order `_state_fill` reads.

    Names are paths: NamedTuple fields by name, tuple items by index, dict keys (weight paths)
    as they are; ``None`` (an unused field, such as ``average`` without EMA) has no leaf.

    Examples:
        >>> from scratchlstm.optimizers import SGD
        >>> state = SGD(0.1, momentum=0.9).init({"dense/kernel": np.zeros((2, 1))})
        >>> [name for name, _ in named_state_leaves(state)]
        ['optimizer/iterations', 'optimizer/learning_rate', 'optimizer/slots/momentums/dense/kernel']
    """
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [item for key in sorted(tree) for item in named_state_leaves(tree[key], f"{prefix}/{key}")]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return [item for field, value in zip(tree._fields, tree) for item in named_state_leaves(value, f"{prefix}/{field}")]
    if isinstance(tree, (tuple, list)):
        return [item for index, value in enumerate(tree) for item in named_state_leaves(value, f"{prefix}/{index}")]
    return [(prefix, tree)]


def _leaf_dtype(leaf: Any) -> np.dtype[Any]:
    """The dtype a state leaf has: a Python int or float as NumPy stores it, an array's own."""
    return np.dtype(leaf.dtype) if hasattr(leaf, "dtype") else np.asarray(leaf).dtype


def _optimizer_template(model: Any, backend: Any) -> Any:
    """A fresh optimizer state for ``model`` on ``backend``: the tree a saved one must match."""
    with warnings.catch_warnings():  # fit warns about float64 without jax_enable_x64, not loading
        warnings.filterwarnings("ignore", message="the model is float64 but jax_enable_x64 is off")
        return backend.init_state(model.get_variables(), None).optimizer_state


def _checked_optimizer_state(model: Any, template: Any, arrays: dict[str, Any], iterations: Any, source: str) -> Any:
    """The optimizer state built from ``arrays`` (name -> stored array), after checking every
    array against ``template``, a fresh state of the model's optimizer: the names, shapes,
    dtypes (integer counters hold integers) and finiteness, and ``iterations`` against the
    stored counter."""
    expected = named_state_leaves(template)
    names = [name for name, _ in expected]
    what = f"the {type(model.optimizer).__name__} optimizer's state"
    unknown = sorted(set(arrays) - set(names))
    if unknown:
        raise ValueError(f"{source} holds optimizer arrays {unknown} that {what} has no place for; it has {names}")
    values: list[NDArray[Any]] = []
    for name, leaf in expected:
        if name not in arrays:
            raise ValueError(f"{source} has no array {name!r} for {what} (it has {sorted(arrays)})")
        value = np.asarray(arrays[name])
        shape, dtype = np.shape(leaf), _leaf_dtype(leaf)
        allowed, kind = ("iu", "integers") if dtype.kind in "iub" else ("fiu", "real numbers")
        if value.dtype.kind not in allowed:
            raise ValueError(f"{source}: optimizer array {name!r} must hold {kind}, got dtype {value.dtype}")
        if value.shape != shape:
            raise ValueError(f"{source}: optimizer array {name!r} must have shape {shape} for {what}, got {value.shape}")
        cast = value.astype(dtype)
        if not np.isfinite(cast).all():
            raise ValueError(f"{source}: optimizer array {name!r} holds NaN or inf values")
        if dtype.kind in "iu" and (not np.array_equal(cast, value) or (cast < 0).any()):
            raise ValueError(f"{source}: optimizer array {name!r} must hold counts >= 0 that fit {dtype}, got {value}")
        values.append(cast)
    state = _state_fill(template, values)
    stored = int(state.iterations)
    if iterations is not None and (isinstance(iterations, bool) or iterations != stored):
        raise ValueError(f"{source} says the optimizer ran {iterations!r} iterations but its state holds {stored}")
    return state


def _restore_optimizer_state(model: Any, saved: dict[str, Any], arrays: dict[str, Any], source: str) -> None:
    """Continue ``model``'s (freshly compiled) optimizer from a saved state, or warn why not."""
    if not isinstance(saved, dict):
        raise ValueError(f"{source}: optimizer_state must be a JSON object, got {type(saved).__name__}")
    if saved.get("backend") != model.backend_name:
        warnings.warn(
            f"{source}: the optimizer state was saved by the {saved.get('backend')!r} backend and the "
            f"model is compiled for {model.backend_name!r}, whose optimizer keeps other buffers; the "
            "optimizer starts afresh (the weights are loaded)",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    backend = model._backend()
    template = _optimizer_template(model, backend)
    state = _checked_optimizer_state(model, template, arrays, saved.get("iterations"), source)
    model._remember_optimizer_state(backend, state)
    model.optimizer.iterations = int(state.iterations)


def _state_fill(template: Any, leaves: list[Any]) -> Any:
    if template is None:
        return None
    if isinstance(template, dict):
        return {key: _state_fill(template[key], leaves) for key in sorted(template)}
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return type(template)(*[_state_fill(item, leaves) for item in template])
    if isinstance(template, (tuple, list)):
        return type(template)(_state_fill(item, leaves) for item in template)
    value = leaves.pop(0)
    if isinstance(template, bool):
        return bool(value)
    if isinstance(template, int):
        return int(value)
    if isinstance(template, float):
        return float(value)
    if isinstance(template, np.ndarray) or np.isscalar(template):
        return np.asarray(value, dtype=np.asarray(template).dtype)
    import jax.numpy as jnp

    return jnp.asarray(value, dtype=template.dtype)


def save_weights(model: Any, path: str | os.PathLike[str]) -> None:
    model._require_built("save_weights")
    from ..keras_files import _dispatch  # .weights.h5: Keras 3's layout; .npz: ours; else refused

    if _dispatch.save_weights(model, path):
        return
    arrays = _weight_arrays(model)
    document: dict[str, Any] = {"format": WEIGHTS_FORMAT, "version": 1, "order": list(arrays)}
    memory = getattr(model, "_optimizer_memory", None)
    if memory:
        leaves = [leaf for leaf in tree_leaves(memory[2]) if leaf is not None]  # the order _state_fill reads
        document["optimizer"] = {"backend": memory[0], "count": len(leaves), "iterations": model.optimizer.iterations}
        arrays = {**arrays, **{f"optimizer/{k}": np.asarray(leaf) for k, leaf in enumerate(leaves)}}
    _atomic_savez(path, {"weights.json": np.array(json.dumps(document)), **arrays})


def _assign_checked(model: Any, archive: NpzArchive | _Without, names: dict[str, str], source: str) -> None:
    """Check every expected array in ``archive`` (``names``: path in model -> name in file), then set."""
    expected = _weight_arrays(model)
    stored = set(archive.files) - {"config.json", "weights.json"}
    wanted = {names[p] for p in expected}
    unknown = sorted(stored - wanted)
    if unknown:  # (the first few: a forged file may hold thousands)
        listed = f"{unknown[:10]}" + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise ValueError(f"{source} holds arrays {listed} that the model has no weight for")
    for path, current in expected.items():  # every name, dtype and shape before any data is read
        name = names[path]
        if name not in stored:
            raise ValueError(f"{source} has no array {name!r} for weight {path!r} {current.shape}")
        shape, dtype = _declared(archive, name)
        if dtype.kind not in "fiu":
            raise ValueError(f"{source}: array {name!r} must be real numbers, got dtype {dtype}")
        if shape != current.shape:
            raise ValueError(f"{source}: array {name!r} must have shape {current.shape} for the model, got {shape}")
    checked: dict[str, Any] = {}
    for path, current in expected.items():
        name = names[path]
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float32 becomes inf: refused next
            cast = archive[name].astype(current.dtype)
        if not np.isfinite(cast).all():
            raise ValueError(f"{source}: array {name!r} holds NaN or inf values")
        checked[path] = cast
    _set_by_path(model, checked)
    left = [path for path, value in _weight_arrays(model).items() if initializers.is_placeholder(value)]
    if left:  # cannot happen: every weight was just set; a placeholder must never reach the user
        raise RuntimeError(f"{source}: the weights {left} were not loaded")


def _declared(archive: Any, name: str) -> tuple[Any, Any]:
    """``(shape, dtype)`` of a stored array, from its header when the archive can tell."""
    if hasattr(archive, "declared"):
        declared: tuple[Any, Any] = archive.declared(name)
        return declared
    value = archive[name]
    return value.shape, value.dtype


def _set_by_path(model: Any, flat: dict[str, Any]) -> None:
    from .._tree import unflatten_paths

    def assign(owner: Any, values: dict[str, Any]) -> None:
        for layer in owner._weight_layers():
            if layer.name not in values:
                continue
            if hasattr(layer, "_weight_layers"):
                assign(layer, values[layer.name])
            else:
                layer_values = values[layer.name]
                layer.params = {k: layer_values[k] for k in layer.params}
                layer.state = {k: layer_values[k] for k in layer.state}

    assign(model, unflatten_paths(flat))


def load_weights(model: Any, path: str | os.PathLike[str]) -> None:
    """Weights matched by position (layer order, then Keras' weight order), as Keras does, so a
    model built anew (with other automatic layer names) takes them; shapes are checked. The
    optimizer state in the file (by position too) is checked as well, before anything is set."""
    model._require_built("load_weights")
    from ..keras_files import _dispatch  # Keras' .weights.h5 or .keras, by content

    if _dispatch.load_weights(model, path):
        return
    with _open_archive(path, "weights.json", "weights") as archive:
        document = _read_weights_document(archive, path)
        order, optimizer = document["order"], document.get("optimizer")
        count = optimizer["count"] if optimizer else 0
        paths = list(_weight_arrays(model))
        if not isinstance(order, list) or len(order) != len(paths):
            raise ValueError(
                f"{path} holds {len(order) if isinstance(order, list) else '?'} weight arrays, "
                f"the model has {len(paths)}"
            )
        state_names = [f"optimizer/{k}" for k in range(count)]
        missing = [name for name in state_names if name not in archive.files]
        if missing:
            raise ValueError(f"{path} declares {count} optimizer arrays but has no {missing[:3]}")
        state = None
        if optimizer and model.compiled is not None and model.backend_name == optimizer.get("backend"):
            backend = model._backend()
            template = _optimizer_template(model, backend)
            expected = named_state_leaves(template)
            if len(expected) != count:
                raise ValueError(
                    f"{path} holds {count} optimizer state arrays; the model's "
                    f"{type(model.optimizer).__name__} has {len(expected)}"
                )
            by_name = {name: archive[stored] for (name, _), stored in zip(expected, state_names)}
            # (weights.json's "iterations" is what optimizer.iterations said, which a user may set)
            state = _checked_optimizer_state(model, template, by_name, None, str(path))
        weights_only = _Without(archive, set(state_names) - set(order))
        _assign_checked(model, weights_only, dict(zip(paths, order)), str(path))
        if state is not None:
            model._remember_optimizer_state(backend, state)
            model.optimizer.iterations = int(state.iterations)


def _read_weights_document(archive: NpzArchive, path: str | os.PathLike[str]) -> dict[str, Any]:
    """``weights.json``, checked: the format, an ``order`` of distinct array names and, when the
    optimizer's state is stored, a ``count`` of its arrays that the archive can hold."""
    source = f"{path}: weights.json"
    document = parse_json(archive.text("weights.json", source), source)
    if not isinstance(document, dict):
        raise ValueError(f"{source} must hold a JSON object, got {type(document).__name__}")
    version = document.get("version")
    if document.get("format") != WEIGHTS_FORMAT or type(version) is not int or version != 1:
        raise ValueError(
            f"{path} holds format {document.get('format')!r} version {version!r}, expected {WEIGHTS_FORMAT!r} version 1"
        )
    order = document.get("order")
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order) or len(set(order)) != len(order):
        raise ValueError(f"{source}: 'order' must be a list of distinct array names, got {str(order)[:200]}")
    optimizer = document.get("optimizer")
    if optimizer is not None:
        count = optimizer.get("count") if isinstance(optimizer, dict) else None
        if type(count) is not int or not 0 <= count <= len(archive.files):
            raise ValueError(
                f"{source}: 'optimizer' must be {{'backend': ..., 'count': <number of arrays>, ...}} with a count "
                f"of at most the {len(archive.files)} arrays in the file, got {str(optimizer)[:200]}"
            )
    return document


class _Without:
    """An archive seen without the arrays in ``names``."""

    def __init__(self, archive: NpzArchive, names: set[str]) -> None:
        self.archive, self.files = archive, [f for f in archive.files if f not in names]

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self.archive[name]

    def declared(self, name: str) -> tuple[Any, Any]:
        return _declared(self.archive, name)


class _open_archive:
    """The archive at ``path`` read without pickle, every way the file can be wrong (not a zip,
    truncated, forged sizes, object arrays, ...) a ``ValueError`` (see `_file_checks`)."""

    def __init__(self, path: str | os.PathLike[str], header: str, kind: str) -> None:
        self.path, self.header, self.kind = os.fspath(path), header, kind

    def __enter__(self) -> NpzArchive:
        self.archive = NpzArchive(self.path, self.kind)
        if self.header not in self.archive.files:
            self.archive.close()
            raise ValueError(f"{self.path} is not a scratchlstm {self.kind} file (no {self.header} entry)")
        return self.archive

    def __exit__(self, *exc: object) -> None:
        self.archive.close()


def _read_document(archive: NpzArchive, path: str | os.PathLike[str]) -> dict[str, Any]:
    document = parse_json(archive.text("config.json", f"{path}: config.json"), f"{path}: config.json")
    if not isinstance(document, dict):
        raise ValueError(f"{path}: config.json must hold a JSON object, got {type(document).__name__}")
    version = document.get("version")
    if document.get("format") != FORMAT or type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"{path} holds format {document.get('format')!r} version {version!r}, "
            f"expected {FORMAT!r} version 1 to {FORMAT_VERSION}"
        )
    if nesting_depth(document.get("metadata")) > MAX_METADATA_DEPTH:
        raise ValueError(f"{path}: the metadata nests more than {MAX_METADATA_DEPTH} levels deep")
    return document


def load_model(path: str | os.PathLike[str], compile: bool = True) -> Model:
    """Load a model saved with ``model.save(path)``: the same predictions, and with
    ``compile=True`` the same training: ``fit`` continues the saved optimizer state.

    Args:
        path: the ``.npz`` file.
        compile: re-apply the saved compile settings (optimizer, loss, metrics, backend) and
            restore the optimizer's state (its slots, iteration count, EMA, accumulated
            gradients), as Keras' ``load_model`` does. With ``False`` the model is not compiled
            and the optimizer arrays are ignored.

    Returns:
        the model (a `Sequential` or a `Model`) with ``.metadata`` restored.

    Raises:
        ValueError: the file is not a model file, an array disagrees with the architecture or
            the optimizer, or the config builds outputs of another shape than the saved model's
            (a flipped ``return_sequences`` keeps every weight's shape) (nothing is returned then).

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import scratchlstm as keras
        >>> x = np.linspace(-1, 1, 8).reshape(-1, 1)
        >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)], seed=0)
        >>> model.compile(keras.optimizers.Adam(0.1), "mse")
        >>> _ = model.fit(x, 2 * x, epochs=2, shuffle=False, verbose=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> model.save(path)
        >>> restored = keras.models.load_model(path)
        >>> restored.optimizer.iterations
        2
        >>> _ = model.fit(x, 2 * x, epochs=2, shuffle=False, verbose=0)
        >>> _ = restored.fit(x, 2 * x, epochs=2, shuffle=False, verbose=0)
        >>> bool(np.array_equal(restored.get_weights()[0], model.get_weights()[0]))
        True
    """
    from ..keras_files import _dispatch  # a Keras 3 .keras file, by content

    keras_model = _dispatch.load_model(path, compile)
    if keras_model is not None:
        return keras_model
    with _open_archive(path, "config.json", "model") as archive:
        document = _read_document(archive, path)
        model, names = _build_without_initializers(document, path)
        saved_state = document.get("optimizer_state") if document["version"] >= 3 else None
        compile_config = document.get("compile")
        state_names: set[str] = set()
        if saved_state is not None:  # the optimizer's arrays: the rest under optimizer/
            weight_names = set(names.values())
            state_names = {
                name for name in archive.files if name.startswith(OPTIMIZER_PREFIX + "/") and name not in weight_names
            }
        _assign_checked(model, _Without(archive, state_names), names, str(path))
        _check_output_shapes(model, document, path)  # after the arrays, whose messages name the weight
        restore = compile and compile_config and saved_state is not None
        state_arrays = {name: archive[name] for name in sorted(state_names)} if restore else {}
    model.metadata = document.get("metadata") or {}
    if compile and compile_config:
        try:
            _compile_from_config(model, compile_config, path)
            if saved_state is not None:
                _restore_optimizer_state(model, saved_state, state_arrays, str(path))
        except (TypeError, KeyError, AttributeError, IndexError) as error:
            raise ValueError(f"{path}: the compile settings are malformed: {error!r}") from None
    return model


def _output_shapes(model: Any) -> list[list[int | None]]:
    """Each output's shape as JSON (``None`` for the batch and other free axes)."""
    return [list(tensor.shape) for tensor in model._graph.outputs]


def _check_output_shapes(model: Any, document: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """The built model's outputs against the ``output_shapes`` the file recorded (files written
    before they were recorded have none)."""
    if "output_shapes" not in document:
        return
    recorded, built = document["output_shapes"], _output_shapes(model)
    if recorded != built:
        raise ValueError(
            f"{path}: the model config builds outputs of shape {built}, but the file was saved from a "
            f"model whose outputs were {recorded!r}; the config and the weights do not belong together"
        )


def _build_without_initializers(document: dict[str, Any], path: str | os.PathLike[str]) -> tuple[Model, dict[str, str]]:
    """``(model, names)``: the model that ``document`` describes, its weights zero-stride
    placeholders (no initializer runs, nothing the size of a weight is allocated), and the
    name in the file of each weight path. `_assign_checked` then replaces every placeholder
    with a stored array of the same shape, or fails."""
    try:
        with initializers.placeholder_weights():
            if document["version"] == 1:
                return _version_1_model(document)
            model = model_from_config(cast("dict[str, Any]", document.get("model")))  # a non-dict is refused there
    except (ValueError, NotImplementedError) as error:
        raise ValueError(f"{path}: the model config is invalid: {error}") from None
    except (TypeError, KeyError, AttributeError, IndexError) as error:
        raise ValueError(f"{path}: the model config is malformed: {error!r}") from None
    except (RecursionError, MemoryError, OverflowError) as error:
        raise ValueError(f"{path}: the model config asks for more than can be built: {type(error).__name__}") from None
    return model, {p: p for p in _weight_arrays(model)}


def _version_1_model(document: dict[str, Any]) -> tuple[Model, dict[str, str]]:
    from ..layers import deserialize
    from ._sequential import Sequential

    config = document["model"]
    model = Sequential([deserialize(c) for c in config["layers"]], name=config.get("name", "sequential"))
    model.seed = config.get("seed")
    model.build((None, *document["input_shape"]))
    names: dict[str, str] = {}
    for k, layer in enumerate(model.layers):
        for weight in layer.built_params:
            names[f"{layer.name}/{weight}"] = f"layer{k}/{weight}"
    return model, names


def _compile_from_config(model: Any, compile_config: dict[str, Any], path: str | os.PathLike[str]) -> None:
    backend = compile_config.get("backend", "numpy")
    loss = compile_config["loss"]
    if isinstance(loss, dict) and "name" in loss and "from_logits" in loss:  # version 1 files
        loss = {"class_name": "Loss", "config": loss}
    if backend == "jax" and importlib.util.find_spec("jax") is None:
        # The weights are plain NumPy: a model trained with JAX still loads without it.
        warnings.warn(
            f"{path} was compiled for backend='jax', which is not installed; using the NumPy "
            'backend (pip install "scratchlstm[jax]" to train with JAX)',
            RuntimeWarning,
            stacklevel=3,
        )
        backend = "numpy"
    model.compile(
        optimizer=compile_config["optimizer"],
        loss=loss,
        loss_weights=compile_config.get("loss_weights"),
        metrics=compile_config.get("metrics"),
        backend=backend,
    )
