"""Data for a model: ``x``, ``y`` and ``sample_weight`` as lists of checked arrays, one per input
or output, accepted as Keras accepts them (one array, a list, or a dict keyed by name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from .._checks import as_float_array, check_finite
from .._numpy.losses import check_sparse_labels

if TYPE_CHECKING:
    from ._compile import CompileConfig
    from ._trainer import Trainer


def _structured(value: Any, names: list[str], what: str) -> list[Any]:
    """``value`` as one entry per name (a single value, a list/tuple, or a dict keyed by name)."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        missing = [n for n in names if n not in value]
        if unknown or missing:
            raise ValueError(
                f"{what} is a dict with keys {sorted(value)}, expected exactly {names}"
                + (f"; unknown: {unknown}" if unknown else "") + (f"; missing: {missing}" if missing else "")
            )
        return [value[n] for n in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"{what} must hold {len(names)} arrays (for {names}), got {len(value)}")
        return list(value)
    if len(names) > 1:
        raise ValueError(f"the model has {len(names)} {'inputs' if what.startswith('x') else 'outputs'} {names}; "
                         f"{what} must be a list or a dict of {len(names)} arrays, got one {type(value).__name__}")
    return [value]


def _check_count(arrays: list[NDArray[Any]], names: list[str], what: str, count: int | None = None) -> int:
    counts: list[int | None] = [len(a) if a.ndim else None for a in arrays]
    if count is not None:
        counts = [count, *counts]
    known = [c for c in counts if c is not None]
    if len(set(known)) > 1:
        raise ValueError(
            f"{what} must all have the same number of samples, got {', '.join(map(str, known))} "
            f"(shapes {[a.shape for a in arrays]})"
        )
    return known[0] if known else 0


def input_arrays(model: Trainer, x: Any, what: str = "x") -> list[NDArray[Any]]:
    """Model inputs as finite float arrays, checked against the ``Input`` shapes."""
    if x is None:
        raise ValueError(f"{what} is required, got None")
    if hasattr(x, "__next__") or (hasattr(x, "__iter__") and not isinstance(x, (list, tuple, dict, np.ndarray))
                                  and not hasattr(x, "__array__")):
        raise ValueError(
            f"{what} must be arrays (one, a list or a dict); generators and datasets are not supported, "
            f"got {type(x).__name__}"
        )
    names = model.input_names if model.built else ["input"]
    arrays: list[NDArray[Any]] = []
    for name, value in zip(names, _structured(x, names, what)):
        label = what if len(names) == 1 else f"{what}[{name!r}]"
        array = as_float_array(value, label)
        check_finite(array, label)
        if array.ndim == 0:
            raise ValueError(f"{label} must be an array with a batch axis, got a scalar")
        arrays.append(array)
    if model.built:
        for tensor, array, name in zip(model.inputs, arrays, names):
            expected = tensor.shape
            label = what if len(names) == 1 else f"{what}[{name!r}]"
            if array.ndim != len(expected):
                raise ValueError(
                    f"{label} must be {len(expected)}-D, shaped like {expected}, got shape {array.shape} ({array.ndim}-D)"
                )
            if any(e is not None and e != a for e, a in zip(expected[1:], array.shape[1:])):
                raise ValueError(f"{label} must have shape {expected}, got {array.shape}"
                                 + _feature_hint(expected, array.shape))
    count = _check_count(arrays, names, f"the arrays of {what}")
    if count == 0:
        raise ValueError(f"{what} has no samples (shape {arrays[0].shape})")
    return arrays


def _feature_hint(expected: tuple[int | None, ...], got: tuple[int, ...]) -> str:
    if len(expected) == len(got) and expected[-1] != got[-1]:
        return f": the model was built for {expected[-1]} features, got {got[-1]}"
    return ""


def target_arrays(model: Trainer, y: Any, samples: int, what: str = "y") -> list[NDArray[Any]]:
    """Targets as arrays, one per output, checked against the output shapes and the losses."""
    if y is None:
        raise ValueError(f"{what} is required for training and evaluation, got None")
    config = cast("CompileConfig", model.compiled)  # fit/evaluate call this after _require_compiled
    names = list(config.output_names)
    arrays: list[NDArray[Any]] = []
    for k, (name, value, tensor, loss) in enumerate(zip(names, _structured(y, names, what), model.outputs, config.losses)):
        label = what if len(names) == 1 else f"{what}[{name!r}]"
        array = np.asarray(value)
        if array.dtype.kind not in "fiub":
            raise ValueError(f"{label} must be numeric, got dtype {array.dtype}")
        array = as_float_array(array, label)
        check_finite(array, label)
        if array.ndim == 0:
            raise ValueError(f"{label} must be an array with one target per sample, got a scalar")
        if len(array) != samples:
            raise ValueError(
                f"x and {label} must have the same number of samples, got {samples} and {len(array)} "
                f"(y shape {array.shape})"
            )
        expected = (samples, *tensor.shape[1:])
        # a variable axis of the output (Input((None, F)) and a sequence output) takes y's length
        expected = tuple(array.shape[i] if size is None and i < array.ndim else size
                         for i, size in enumerate(expected))
        if loss is not None and loss.name == "sparse_categorical_crossentropy":
            # the whole set, before any batch runs (its None axes were resolved above)
            check_sparse_labels(array, cast("tuple[int, ...]", expected))
        else:
            if array.shape == expected[:-1] and expected[-1] == 1:
                array = array[..., None]  # (N,) targets for a (N, 1) output
            if array.shape != expected:
                raise ValueError(f"{label} must have shape {expected} to match the model output, got {array.shape}")
        arrays.append(array)
    return arrays


def sample_weights(sample_weight: Any, class_weight: Any, targets: list[NDArray[Any]], samples: int,
                   config: CompileConfig | None) -> NDArray[Any] | None:
    """One ``(N,)`` weight array (or ``None``) from ``sample_weight`` and ``class_weight``."""
    weights: NDArray[Any] | None = None
    if sample_weight is not None:
        weights = as_float_array(sample_weight, "sample_weight")
        check_finite(weights, "sample_weight")
        if weights.shape != (samples,):
            raise ValueError(f"sample_weight must have shape ({samples},), one weight per sample, got {weights.shape}")
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise ValueError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
        if len(targets) != 1:
            raise ValueError("class_weight is only supported for models with a single output (as in Keras)")
        y = targets[0]
        if y.ndim > 2:
            raise ValueError(f"class_weight needs targets of shape (N,), (N, 1) or one-hot (N, C), got {y.shape}")
        classes = np.argmax(y, axis=-1) if y.ndim == 2 and y.shape[1] > 1 else np.round(y.reshape(len(y))).astype(int)
        unknown = sorted(set(np.unique(classes).tolist()) - set(int(k) for k in class_weight))
        if unknown:
            raise ValueError(f"class_weight has no weight for class(es) {unknown}; it has {sorted(class_weight)}")
        lookup = {int(k): float(v) for k, v in class_weight.items()}
        from_classes = np.array([lookup[c] for c in classes.tolist()], dtype=np.float32)
        weights = from_classes if weights is None else weights * from_classes
    return weights


def take(arrays: list[NDArray[Any]], index: Any) -> list[NDArray[Any]]:
    return [a[index] for a in arrays]
