"""Read and write state dicts as ``.safetensors`` files with NumPy only (no torch needed).

``safetensors`` is an optional dependency (``pip install "scratchlstm[safetensors]"``), imported
on first use. A file written by ``safetensors.torch.save_file(module.state_dict(), path)``
loads here as NumPy arrays with torch's key names, ready for `rnn_params_from_state_dict`; a
file written here loads in torch with ``safetensors.torch.load_file``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._files import atomic_write

__all__ = ["load_safetensors_state_dict", "save_safetensors_state_dict"]

_INSTALL_HINT = 'reading and writing .safetensors files needs the safetensors package: pip install "scratchlstm[safetensors]"'


def _safetensors_numpy() -> Any:
    """The ``safetensors.numpy`` module, or an ImportError that names the extra to install."""
    try:
        from safetensors import numpy as safetensors_numpy
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return safetensors_numpy


def load_safetensors_state_dict(path: str | os.PathLike[str]) -> dict[str, NDArray[Any]]:
    """Load every tensor of a ``.safetensors`` file as a NumPy array.

    Args:
        path: the file (a ``str`` or ``os.PathLike``).

    Returns:
        ``{name: np.ndarray}`` in the file's dtypes, with the names the writer used (for a torch
        module, its ``state_dict()`` keys).

    Raises:
        ImportError: the ``safetensors`` package is not installed (the message names the extra).
        FileNotFoundError: no such file.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "lstm.safetensors")
        >>> save_safetensors_state_dict({"weight_ih_l0": np.ones((8, 3), np.float32)}, path)
        >>> state_dict = load_safetensors_state_dict(path)
        >>> state_dict["weight_ih_l0"].shape, state_dict["weight_ih_l0"].dtype
        ((8, 3), dtype('float32'))
    """
    safetensors_numpy = _safetensors_numpy()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no safetensors file at {str(path)!r}")
    return dict(safetensors_numpy.load_file(str(path)))


def save_safetensors_state_dict(state_dict: dict[str, Any], path: str | os.PathLike[str], *,
                                metadata: dict[str, str] | None = None) -> None:
    """Write a state dict to a ``.safetensors`` file, atomically.

    The file is written to a temporary file in the same folder, flushed to disk, then moved
    over ``path`` with ``os.replace``: a reader sees the old file or the new one, never half a
    file, and a failed write leaves an existing file unchanged (and no temporary file behind).

    Args:
        state_dict: a mapping of ``str`` names to NumPy arrays or torch tensors (detached and
            copied to NumPy; ``bfloat16`` becomes float32), e.g. the result of
            `rnn_state_dict_to_torch`.
        path: the file to write (``str`` or ``os.PathLike``); its folder must exist.
        metadata: optional ``{str: str}`` stored in the file's header.

    Raises:
        ImportError: the ``safetensors`` package is not installed (the message names the extra).
        ValueError: a name that is not a string, a value that is not a numeric array, or
            metadata that is not ``{str: str}``; nothing is written.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.safetensors")
        >>> save_safetensors_state_dict({"bias_ih_l0": np.arange(4.0)}, path, metadata={"mode": "LSTM"})
        >>> load_safetensors_state_dict(path)["bias_ih_l0"]
        array([0., 1., 2., 3.])
    """
    from ._torch_rnn import _to_numpy

    safetensors_numpy = _safetensors_numpy()
    if not hasattr(state_dict, "items"):
        raise ValueError(f"state_dict must be a mapping of names to arrays, got {type(state_dict).__name__}")
    tensors = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise ValueError(f"state dict names must be strings, got {name!r} ({type(name).__name__})")
        array = _to_numpy(value, name) if hasattr(value, "detach") else np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise ValueError(f"state_dict[{name!r}] must be a numeric array, got dtype {array.dtype}")
        tensors[name] = np.ascontiguousarray(array)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    ):
        raise ValueError(f"metadata must be a dict of str to str, got {metadata!r}")
    payload = safetensors_numpy.save(tensors, metadata=metadata)
    _write_atomically(Path(path), payload)


def _write_atomically(path: Path, payload: bytes) -> None:
    """Write ``payload`` over ``path`` atomically (``scratchlstm/_files.py``)."""
    atomic_write(path, lambda handle: handle.write(payload))
