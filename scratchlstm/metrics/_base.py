"""`Metric`: a Keras-style object over three pure functions, and `MeanMetric`, the sum/count pair.

A metric keeps a small named state (a dict of arrays) and is computed by three pure functions,
shaped like an optax transformation:

- ``init() -> state``: zeros (``{"total": 0., "count": 0.}``, confusion counts per threshold, ...);
- ``update(state, y_true, y_pred, sample_weight=None, mask=None) -> state``: the state after one
  more batch; it only adds to the state, so an epoch's state is the sum of its batches' and
  several devices' partial states add up;
- ``result(state)``: the reported value (a scalar, or a vector, e.g. per threshold or class).

`Metric.functions` hands them out for NumPy or for ``jax.numpy`` (the JAX trainer calls them
inside its jitted step, with the state in the train state). The object's own
``update_state`` / ``result`` / ``reset_state`` run them with NumPy on a state it keeps, as
Keras' metric objects do.

``mask`` is an output's mask shaped like the positions (``y_pred.shape[:-1]``, e.g. ``(B, T)``).
As in Keras 3 only the mean-type metrics read it (`MeanMetric`, Keras' ``MeanMetricWrapper``);
the confusion-matrix, F-score and R2 metrics count every position, as Keras' do.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Callable, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._ops import NUMPY, divide_no_nan


class MetricFunctions(NamedTuple):
    """The pure functions of one metric (see the module docstring)."""

    init: Callable[[], dict[str, Any]]
    update: Callable[..., dict[str, Any]]
    result: Callable[[dict[str, Any]], Any]


def auto_name(cls: type) -> str:
    """Keras' ``auto_name``: the snake-case class name, numbered from the second object on
    (``precision``, ``precision_1``, ...), one counter shared with the layers as in Keras."""
    from ..layers._base import snake_case, unique_name

    return unique_name(snake_case(cls.__name__))


def check_float_dtype(dtype: Any) -> np.dtype[Any] | None:
    if dtype is None:
        return None
    try:
        resolved: np.dtype[Any] | None = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.kind != "f":
        raise ValueError(f"dtype must be a float dtype or None, got {dtype!r}")
    return resolved


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def host_value(value: Any) -> float | NDArray[Any]:
    """A result on the host: a Python float for a scalar, else a float NumPy array."""
    array = np.asarray(value)
    return float(array) if array.ndim == 0 else array.astype(np.float64)


class Metric:
    """Base of every metric: a name, a dtype, a configuration and three pure functions.

    Subclasses implement ``_init(ops, dtype, y_pred_shape)``, ``_update(ops, state, y_true,
    y_pred, sample_weight, mask)`` and ``_result(ops, state)`` with the array namespace
    ``ops.xp`` (NumPy or ``jax.numpy``), and ``_arguments()``, their constructor arguments.

    Args:
        name: the name logs use; Keras' default for the class (``"mean_squared_error"``,
            ``"r2_score"``) or, for the classes Keras numbers (``Precision``, ``AUC``, the
            confusion counts), ``"precision"``, then ``"precision_1"``, ...
        dtype: the state's float dtype; ``None`` is float64 here (float32 on a float32 JAX
            model). Keras' default is float32, so results agree with Keras to about 1e-7.

    Examples:
        >>> import scratchlstm as keras
        >>> m = keras.metrics.Precision(name="p")
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(m.result(), 6)
        0.666667
        >>> fns = m.functions()  # the pure functions behind it
        >>> state = fns.update(fns.init(), [0, 1], [0.9, 0.8])
        >>> float(fns.result(state))
        0.5
    """

    kind = ""  # canonical base name (``scratchlstm.metrics.resolve``); set by each class
    default_name: str | None = None  # None: numbered as Keras' auto_name
    builds_from_shape = False  # True: the state's shape needs y_pred's shape (F1, R2, multi-label AUC)

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        if name is None:
            name = self.default_name if self.default_name is not None else auto_name(type(self))
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        self.name = name
        self.dtype = check_float_dtype(dtype)
        self._functions: MetricFunctions | None = None
        self._state: dict[str, Any] | None = None
        if not self.builds_from_shape:
            self.reset_state()

    # --- what subclasses implement ------------------------------------------------------------
    def _arguments(self) -> dict[str, Any]:
        """Constructor arguments other than ``name`` and ``dtype`` (JSON-able)."""
        return {}

    def _init(self, ops: Any, dtype: Any, y_pred_shape: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        raise NotImplementedError

    def check_shape(self, y_pred_shape: tuple[int | None, ...]) -> None:
        """Raise ``ValueError`` if outputs of this shape cannot be measured (at compile/fit)."""

    # --- the pure functions -------------------------------------------------------------------
    def functions(self, ops: Any = None, y_pred_shape: tuple[int | None, ...] | None = None,
                  dtype: Any = None) -> MetricFunctions:
        """The metric's ``(init, update, result)`` pure functions.

        Args:
            ops: `scratchlstm.metrics._ops.NUMPY` (default) or ``jax_ops()``.
            y_pred_shape: the predictions' shape (the batch axis may be ``None``); needed by the
                metrics whose state has one entry per class or label.
            dtype: the state's dtype when the metric has none (default float64; with JAX, its
                default float: float32 unless 64-bit JAX is on).
        """
        ops = NUMPY if ops is None else ops
        if self.builds_from_shape:
            if y_pred_shape is None:
                raise ValueError(f"{type(self).__name__} needs the predictions' shape to build its state")
            self.check_shape(tuple(y_pred_shape))
        state_dtype = self.dtype or np.dtype(dtype or ops.default_float)
        shape = None if y_pred_shape is None else tuple(y_pred_shape)

        def init() -> dict[str, Any]:
            return self._init(ops, state_dtype, shape)

        def update(state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any = None,
                   mask: Any = None) -> dict[str, Any]:
            return self._update(ops, state, y_true, y_pred, sample_weight, mask)

        def result(state: dict[str, Any]) -> Any:
            return self._result(ops, state)

        return MetricFunctions(init, update, result)

    # --- Keras' stateful interface (NumPy) ----------------------------------------------------
    def _standalone_shape(self, y_true: NDArray[Any], y_pred: NDArray[Any]) -> tuple[int, ...]:
        return y_pred.shape

    def reset_state(self) -> None:
        """Forget every batch seen (a shape-dependent state keeps its shape, as in Keras)."""
        if self._functions is None and not self.builds_from_shape:
            self._functions = self.functions()
        if self._functions is not None:
            self._state = self._functions.init()

    def update_state(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> None:
        """Add one batch to the state.

        Args:
            y_true: targets (integer labels for the sparse metrics).
            y_pred: predictions.
            sample_weight: optional weights, one per sample (or per position).
        """
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if self._functions is None:
            self._functions = self.functions(y_pred_shape=self._standalone_shape(y_true, y_pred))
            self._state = self._functions.init()
        weight = None if sample_weight is None else np.asarray(sample_weight)
        self._state = self._functions.update(self._state, y_true, y_pred, weight)

    def result(self) -> Any:
        """The value so far: a float (or a float array for several thresholds or classes)."""
        if self._functions is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: result() needs a first update_state(), "
                "which fixes the number of classes of its state"
            )
        return host_value(self._functions.result(self._state))  # type: ignore[arg-type]  # set with _functions

    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> Any:
        """Update with one batch and return the result, like Keras' ``metric(y_true, y_pred)``."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    @property
    def variables(self) -> list[NDArray[Any]]:
        """The state's arrays (Keras' metric variables), in the state's key order."""
        return [] if self._state is None else [np.asarray(v) for v in self._state.values()]

    # --- configuration ------------------------------------------------------------------------
    @property
    def canonical(self) -> str:
        """A string naming the computation: the kind, plus ``@`` and the arguments that differ
        from the defaults (``"precision"``, ``'auc@{"curve":"PR"}'``). Equal canonical names
        compute the same thing, so the JAX trainer can cache its compiled step on them."""
        arguments = self._arguments()
        parameters = inspect.signature(type(self).__init__).parameters
        changed = {
            key: value for key, value in arguments.items()
            if key not in parameters or _json(value) != _json(parameters[key].default)
        }
        return self.kind if not changed else f"{self.kind}@{_json(changed)}"

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, JSON-able (Keras' keys)."""
        return {"name": self.name, "dtype": None if self.dtype is None else self.dtype.name, **self._arguments()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """The metric `get_config` describes."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def weight_like(xp: Any, sample_weight: Any, values: Any, what: str = "sample_weight") -> Any:
    """``sample_weight`` of shape ``values.shape[:k]`` (or a scalar) broadcast to ``values``
    (``(B,)`` -> ``(B, 1, ...)``)."""
    weight = xp.asarray(sample_weight, dtype=values.dtype)
    if tuple(weight.shape) != tuple(values.shape[: weight.ndim]):
        per_position = "" if values.ndim < 2 else f" or {tuple(values.shape)} (one per position)"
        raise ValueError(
            f"{what} must have shape {tuple(values.shape[:1])} (one weight per sample){per_position}, "
            f"got {tuple(weight.shape)}"
        )
    return weight.reshape(tuple(weight.shape) + (1,) * (values.ndim - weight.ndim))


class MeanMetric(Metric):
    """A metric that is a (weighted) mean of per-position values: Keras' ``MeanMetricWrapper``.

    The state is ``{"total": sum(value * weight), "count": sum(weight)}`` over every position
    seen (weights 1 without ``sample_weight``; 0 at masked positions), and the result is
    ``total / count`` (0 before any update), so an epoch's value is the mean over all its
    positions, not a mean of batch means. Subclasses give ``_values(ops, y_true, y_pred)``,
    shape ``y_pred.shape[:-1]``, and may post-process the mean in ``_finish`` (RMSE's root).

    Examples:
        >>> from scratchlstm.metrics import MeanAbsoluteError
        >>> m = MeanAbsoluteError()
        >>> m.update_state([[1.0], [2.0]], [[0.0], [0.0]])
        >>> m.update_state([[3.0]], [[0.0]], sample_weight=[2.0])
        >>> m.result()   # (1 + 2 + 2 * 3) / (1 + 1 + 2): a mean over samples, not over batches
        2.25
    """

    sparse_targets = False  # True: y_true holds integer labels (no shape match with y_pred)

    def _values(self, ops: Any, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    def _finish(self, xp: Any, mean: Any) -> Any:
        return mean

    def _init(self, ops: Any, dtype: Any, y_pred_shape: Any) -> dict[str, Any]:
        zero = ops.xp.zeros((), dtype=dtype)
        return {"total": zero, "count": zero}

    def values(self, ops: Any, y_true: Any, y_pred: Any, dtype: Any) -> Any:
        """Per-position values in ``dtype``, after the shape check."""
        xp = ops.xp
        y_pred = xp.asarray(y_pred, dtype=dtype)
        if not self.sparse_targets:
            y_true = xp.asarray(y_true, dtype=dtype)
            if tuple(y_true.shape) != tuple(y_pred.shape):
                raise ValueError(
                    f"metric {self.canonical} needs y_true of the shape of y_pred "
                    f"{tuple(y_pred.shape)}, got {tuple(y_true.shape)}"
                )
        return xp.asarray(self._values(ops, y_true, y_pred), dtype=dtype)

    def _update(self, ops: Any, state: dict[str, Any], y_true: Any, y_pred: Any, sample_weight: Any,
                mask: Any) -> dict[str, Any]:
        xp = ops.xp
        values = self.values(ops, y_true, y_pred, state["total"].dtype)  # (B, ...)
        weight = xp.ones((), values.dtype) if sample_weight is None else weight_like(xp, sample_weight, values)
        if mask is not None and tuple(np.shape(mask)) == tuple(values.shape):
            weight = weight * xp.asarray(mask, dtype=values.dtype)
        weight = xp.broadcast_to(weight, values.shape)
        # a weight of 0 drops a position even where its value is not finite (padding)
        total = xp.sum(xp.where(weight != 0, values * weight, 0))
        return {"total": state["total"] + total, "count": state["count"] + xp.sum(weight)}

    def _result(self, ops: Any, state: dict[str, Any]) -> Any:
        return self._finish(ops.xp, divide_no_nan(ops.xp, state["total"], state["count"]))
