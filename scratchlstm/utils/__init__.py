"""Keras' everyday utilities: seeding, one-hot labels, padding sequences, normalizing rows.

Imports NumPy only.

Examples:
    >>> to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2)
    array([[0, 1],
           [2, 3],
           [5, 6]], dtype=int32)
"""

from __future__ import annotations

import random
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._random import set_global_seed

__all__ = ["normalize", "pad_sequences", "set_random_seed", "to_categorical"]


def set_random_seed(seed: int | None) -> None:
    """Seed Python's ``random``, NumPy's global RNG and this library's stream, as Keras does.

    Layers and models created afterwards without a seed of their own draw their weights from
    the library-wide stream, so a script that seeds once is reproducible.

    Args:
        seed: an int in ``[0, 2**32)`` (NumPy's global seed range).

    Raises:
        ValueError: when ``seed`` is not such an int.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r} ({type(seed).__name__})")
    seed = int(seed)
    set_global_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def to_categorical(x: ArrayLike, num_classes: int | None = None) -> NDArray[Any]:
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    A trailing axis of length 1 is dropped first (``(N, 1)`` labels give ``(N, C)``), and the
    class axis is appended last.

    Args:
        x: integer labels in ``[0, num_classes)``, any shape.
        num_classes: the number of classes; ``None`` (or 0, as in Keras) means ``max(x) + 1``.

    Returns:
        A float64 array of shape ``x.shape (minus a trailing 1) + (num_classes,)``.

    Raises:
        ValueError: for labels that are not integers, negative, or not below ``num_classes``
            (Keras would truncate floats and wrap negative labels around).
    """
    labels = np.asarray(x)
    if labels.dtype.kind not in "iub" and not (
        labels.dtype.kind == "f" and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))
    ):
        raise ValueError(f"to_categorical needs integer class labels, got dtype {labels.dtype} values {labels.ravel()[:5]}")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:  # Keras squeezes a trailing 1
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 0):
        raise ValueError(f"num_classes must be a non-negative int or None, got {num_classes!r}")
    if not num_classes:
        if labels.size == 0:
            raise ValueError("to_categorical needs num_classes for empty labels, got num_classes=None")
        num_classes = int(labels.max()) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"class labels must be in [0, {num_classes - 1}] for num_classes={num_classes}, "
            f"got values in [{labels.min()}, {labels.max()}]"
        )
    categorical = np.zeros((labels.size, int(num_classes)))
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(shape + (int(num_classes),))


def pad_sequences(sequences: Sequence[ArrayLike], maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> NDArray[Any]:
    """Pad (and truncate) sequences to one length, as ``keras.utils.pad_sequences``.

    Args:
        sequences: a list of sequences; each item of a sequence may itself be an array (all of
            one shape), giving an output of shape ``(N, maxlen) + item_shape``.
        maxlen: the output length; ``None`` means the longest sequence's length.
        dtype: the output dtype (``object`` for strings).
        padding: ``"pre"`` (default) or ``"post"``: where the ``value`` padding goes.
        truncating: ``"pre"`` (default) or ``"post"``: drop items from the start or the end of
            sequences longer than ``maxlen``.
        value: the padding value.

    Returns:
        An array of shape ``(len(sequences), maxlen) + item_shape``.

    Raises:
        ValueError: for a non-iterable ``sequences`` or item, an unknown ``padding`` or
            ``truncating``, a string ``value`` with a non-string ``dtype``, or items whose shapes
            differ.
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"truncating must be 'pre' or 'post', got {truncating!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences must be a list of sequences, got {type(sequences).__name__}")
    lengths: list[int] = []
    item_shape: tuple[int, ...] | None = None
    sequence: Any  # ArrayLike admits scalars; a scalar fails len() below with a clear error
    for index, sequence in enumerate(sequences):
        try:
            lengths.append(len(sequence))
        except TypeError:
            raise ValueError(
                f"sequences must be a list of iterables, got {type(sequence).__name__} {sequence!r} at position {index}"
            ) from None
        if item_shape is None and len(sequence):  # the first non-empty sequence sets it
            item_shape = np.asarray(sequence).shape[1:]
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen must be a non-negative int or None, got {maxlen!r}")
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"a string value needs dtype=object (or a string dtype), got dtype={dtype!r} with value={value!r}")

    padded = np.full((len(sequences), int(maxlen)) + item_shape, value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(
                f"items of sequence {index} have shape {kept.shape[1:]}, expected {item_shape} "
                "(the shape of the first non-empty sequence's items)"
            )
        if padding == "post":
            padded[index, : len(kept)] = kept
        else:
            padded[index, -len(kept) :] = kept
    return padded


def normalize(x: ArrayLike, axis: int = -1, order: int = 2) -> NDArray[Any]:
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as 1), as Keras.

    Args:
        x: an array.
        axis: the axis the norms run over.
        order: the norm's order (``2`` for L2).

    Returns:
        A new float array of the shape of ``x``.
    """
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    normalized: NDArray[Any] = x / np.expand_dims(norm, -1 if axis is None else axis)
    return normalized
