"""Saving and loading models as ``.npz`` files without pickle.

Layout of the file: ``config.json`` is a 0-d string array holding the architecture, compile
settings and user metadata as JSON; ``layer{k}/{weight}`` hold the weights. Optimizer state is
not saved: a loaded model restarts its optimizer.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import warnings

import numpy as np

FORMAT = "scratchlstm.model"
FORMAT_VERSION = 1


def save_model(model, path, metadata=None) -> None:
    model._require_built("save")
    metadata = model.metadata if metadata is None else metadata
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model.get_config(),
        "input_shape": list(model.input_shape[1:]),
        "compile": model.get_compile_config(),
        "metadata": metadata,
    }
    try:
        text = json.dumps(document)
    except TypeError as error:
        raise ValueError(f"metadata must be JSON-serialisable (lists, numbers, strings): {error}") from None
    arrays = {"config.json": np.array(text)}
    for k, layer in enumerate(model.layers):
        for name, value in layer.params.items():
            arrays[f"layer{k}/{name}"] = value
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
    model.metadata = metadata


def load_model(path, compile=True):
    """Load a model saved with ``model.save(path)``; the predictions are identical.

    Args:
        path: the ``.npz`` file.
        compile: re-apply the saved compile settings (optimizer, loss, metrics, backend).

    Returns:
        a built `Sequential` with ``.metadata`` restored.
    """
    from ..layers import deserialize
    from ._sequential import Sequential

    with np.load(os.fspath(path), allow_pickle=False) as archive:
        if "config.json" not in archive.files:
            raise ValueError(f"{path} is not a scratchlstm model file (no config.json entry)")
        document = json.loads(str(archive["config.json"]))
        if document.get("format") != FORMAT or document.get("version", 0) > FORMAT_VERSION:
            raise ValueError(
                f"{path} holds format {document.get('format')!r} version {document.get('version')}, "
                f"expected {FORMAT!r} version <= {FORMAT_VERSION}"
            )
        config = document["model"]
        model = Sequential([deserialize(c) for c in config["layers"]], name=config.get("name", "sequential"))
        model.seed = config.get("seed")
        model.build((None, *document["input_shape"]))
        for k, layer in enumerate(model.layers):
            layer.params = {name: archive[f"layer{k}/{name}"].astype(layer.dtype) for name in layer.params}
    model.metadata = document.get("metadata") or {}
    compile_config = document.get("compile")
    if compile and compile_config:
        backend = compile_config["backend"]
        if backend == "jax" and importlib.util.find_spec("jax") is None:
            # The weights are plain NumPy: a model trained with JAX still loads without it.
            warnings.warn(
                f"{path} was compiled for backend='jax', which is not installed; using the NumPy "
                'backend (pip install "scratchlstm[jax]" to train with JAX)',
                RuntimeWarning,
                stacklevel=2,
            )
            backend = "numpy"
        model.compile(
            optimizer=compile_config["optimizer"],
            loss=compile_config["loss"],
            metrics=compile_config["metrics"],
            backend=backend,
        )
    return model
