"""Saving and loading models as ``.npz`` files without pickle.

Layout of the file: ``config.json`` is a 0-d string array holding the architecture (the
class name and ``get_config()`` of the model: a graph or a chain), the compile settings and
user metadata as JSON; each weight is an array named ``layer_name/weight_name`` (nested models
add their own prefix). Optimizer state is not saved: a loaded model restarts its optimizer.

``load_model`` checks every stored array against the architecture (name, shape, dtype,
finiteness) before it hands anything back. Files of format version 1 (a ``Sequential`` with
arrays named ``layer{k}/{weight}``) still load.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np

from .._tree import flatten_paths, tree_leaves

FORMAT = "scratchlstm.model"
FORMAT_VERSION = 2
WEIGHTS_FORMAT = "scratchlstm.weights"


def _atomic_savez(path, arrays: dict) -> None:
    """Write ``arrays`` to ``path`` via a temporary file, so a failure leaves the old file intact."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _weight_arrays(model) -> dict:
    return {**flatten_paths(model.params), **flatten_paths(model.state)}


def compile_arguments_config(arguments: dict) -> dict:
    """JSON-able ``loss``, ``loss_weights`` and ``metrics`` as given to ``compile`` (Keras' forms)."""
    from .. import losses as losses_module
    from .. import metrics as metrics_module

    def each(value, leaf):
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


def model_config(model) -> dict:
    return {"class_name": type(model).__name__, "config": model.get_config()}


def model_to_json(model, **kwargs) -> str:
    return json.dumps(model_config(model), **kwargs)


def model_from_config(config: dict):
    from ..layers import deserialize

    if not isinstance(config, dict) or config.get("class_name") not in ("Model", "Sequential", "Functional"):
        raise ValueError(f"a model config must be {{'class_name': 'Model' | 'Sequential', 'config': {{...}}}}, got {type(config).__name__}")
    if config["class_name"] == "Functional":
        config = {**config, "class_name": "Model"}
    return deserialize(config)


def model_from_json(text: str):
    """Rebuild a model's architecture (fresh weights) from `Model.to_json` output."""
    try:
        config = json.loads(text)
    except (TypeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"model_from_json needs JSON text from model.to_json(): {error}") from None
    return model_from_config(config)


def save_model(model, path, metadata=None) -> None:
    model._require_built("save")
    metadata = model.metadata if metadata is None else metadata
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model_config(model),
        "compile": model.get_compile_config(),
        "metadata": metadata,
    }
    try:
        text = json.dumps(document)
    except TypeError as error:
        raise ValueError(f"metadata must be JSON-serialisable (lists, numbers, strings): {error}") from None
    _atomic_savez(path, {"config.json": np.array(text), **_weight_arrays(model)})
    model.metadata = metadata


def _state_fill(template, leaves):
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


def save_weights(model, path) -> None:
    model._require_built("save_weights")
    arrays = _weight_arrays(model)
    document = {"format": WEIGHTS_FORMAT, "version": 1, "order": list(arrays)}
    memory = getattr(model, "_optimizer_memory", None)
    if memory:
        leaves = [leaf for leaf in tree_leaves(memory[2]) if leaf is not None]  # the order _state_fill reads
        document["optimizer"] = {"backend": memory[0], "count": len(leaves), "iterations": model.optimizer.iterations}
        arrays = {**arrays, **{f"optimizer/{k}": np.asarray(leaf) for k, leaf in enumerate(leaves)}}
    _atomic_savez(path, {"weights.json": np.array(json.dumps(document)), **arrays})


def _assign_checked(model, archive, names: dict, source: str) -> None:
    """Check every expected array in ``archive`` (``names``: path in model -> name in file), then set."""
    expected = _weight_arrays(model)
    stored = set(archive.files) - {"config.json", "weights.json"}
    wanted = {names[p] for p in expected}
    unknown = sorted(stored - wanted)
    if unknown:
        raise ValueError(f"{source} holds arrays {unknown} that the model has no weight for")
    checked = {}
    for path, current in expected.items():
        name = names[path]
        if name not in stored:
            raise ValueError(f"{source} has no array {name!r} for weight {path!r} {current.shape}")
        value = archive[name]
        if value.dtype.kind not in "fiu":
            raise ValueError(f"{source}: array {name!r} must be real numbers, got dtype {value.dtype}")
        if value.shape != current.shape:
            raise ValueError(f"{source}: array {name!r} must have shape {current.shape} for the model, got {value.shape}")
        cast = value.astype(current.dtype)
        if not np.isfinite(cast).all():
            raise ValueError(f"{source}: array {name!r} holds NaN or inf values")
        checked[path] = cast
    _set_by_path(model, checked)


def _set_by_path(model, flat: dict) -> None:
    from .._tree import unflatten_paths

    def assign(owner, values):
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


def load_weights(model, path) -> None:
    """Weights matched by position (layer order, then Keras' weight order), as Keras does, so a
    model built anew (with other automatic layer names) takes them; shapes are checked."""
    model._require_built("load_weights")
    with _open_archive(path, "weights.json", "weights") as archive:
        try:
            order = json.loads(str(archive["weights.json"]))["order"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}: weights.json is malformed: {error!r}") from None
        paths = list(_weight_arrays(model))
        if not isinstance(order, list) or len(order) != len(paths):
            raise ValueError(
                f"{path} holds {len(order) if isinstance(order, list) else '?'} weight arrays, "
                f"the model has {len(paths)}"
            )
        optimizer = json.loads(str(archive["weights.json"])).get("optimizer")
        leaves = [archive[f"optimizer/{k}"] for k in range(optimizer["count"])] if optimizer else []
        _assign_checked(model, _Without(archive, "optimizer/"), dict(zip(paths, order)), str(path))
        if optimizer and model.compiled is not None and model.backend_name == optimizer["backend"]:
            backend = model._backend()
            template = backend.init_state(model.get_variables(), None).optimizer_state
            model._remember_optimizer_state(backend, _state_fill(template, leaves))
            model.optimizer.iterations = optimizer["iterations"]


class _Without:
    def __init__(self, archive, prefix):
        self.archive, self.files = archive, [f for f in archive.files if not f.startswith(prefix)]

    def __getitem__(self, name):
        return self.archive[name]


class _open_archive:
    """``np.load`` without pickle, turning every way a file can be wrong into ``ValueError``."""

    def __init__(self, path, header: str, kind: str):
        self.path, self.header, self.kind = os.fspath(path), header, kind

    def __enter__(self):
        try:
            self.archive = np.load(self.path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{self.path} is not a scratchlstm {self.kind} file: {error}") from None
        if not hasattr(self.archive, "files") or self.header not in self.archive.files:
            raise ValueError(f"{self.path} is not a scratchlstm {self.kind} file (no {self.header} entry)")
        return self.archive

    def __exit__(self, *exc):
        if hasattr(self.archive, "close"):
            self.archive.close()


def _read_document(archive, path) -> dict:
    try:
        document = json.loads(str(archive["config.json"]))
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{path}: config.json is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: config.json must hold a JSON object, got {type(document).__name__}")
    version = document.get("version")
    if document.get("format") != FORMAT or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"{path} holds format {document.get('format')!r} version {version!r}, "
            f"expected {FORMAT!r} version 1 to {FORMAT_VERSION}"
        )
    return document


def load_model(path, compile=True):
    """Load a model saved with ``model.save(path)``; the predictions are identical.

    Args:
        path: the ``.npz`` file.
        compile: re-apply the saved compile settings (optimizer, loss, metrics, backend).

    Returns:
        the model (a `Sequential` or a `Model`) with ``.metadata`` restored.

    Raises:
        ValueError: the file is not a model file, or an array disagrees with the architecture.
    """
    if os.fspath(path).endswith((".keras", ".h5")):
        raise ValueError(
            f"{path}: Keras' .keras and .h5 files are not supported yet; scratchlstm loads the .npz "
            "files that model.save writes"
        )
    with _open_archive(path, "config.json", "model") as archive:
        document = _read_document(archive, path)
        try:
            if document["version"] == 1:
                model, names = _version_1_model(document)
            else:
                model = model_from_config(document.get("model"))
                names = {p: p for p in _weight_arrays(model)}
        except (TypeError, KeyError, AttributeError) as error:
            raise ValueError(f"{path}: the model config is malformed: {error!r}") from None
        _assign_checked(model, archive, names, str(path))
    model.metadata = document.get("metadata") or {}
    compile_config = document.get("compile")
    if compile and compile_config:
        _compile_from_config(model, compile_config, path)
    return model


def _version_1_model(document):
    from ..layers import deserialize
    from ._sequential import Sequential

    config = document["model"]
    model = Sequential([deserialize(c) for c in config["layers"]], name=config.get("name", "sequential"))
    model.seed = config.get("seed")
    model.build((None, *document["input_shape"]))
    names = {}
    for k, layer in enumerate(model.layers):
        for weight in layer.params:
            names[f"{layer.name}/{weight}"] = f"layer{k}/{weight}"
    return model, names


def _compile_from_config(model, compile_config: dict, path) -> None:
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
