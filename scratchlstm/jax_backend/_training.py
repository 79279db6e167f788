"""The JAX training backend behind ``model.compile(..., backend="jax")``.

It implements the protocol the shared ``fit`` loop drives (the NumPy one is
``scratchlstm.models._numpy_backend``):

- ``init_state(variables, batch_size) -> TrainState``: weights on the device(s), optax state.
- ``with_variables(state, variables) -> TrainState``: new weights, same optimizer state.
- ``reset_metrics(state) -> TrainState``: the metrics' states back to zero (each epoch's start).
- ``train_step(state, xs, ys, sample_weight) -> (state, logs)``: one ``jax.jit``-compiled step
  (the model's graph walked inside one traced function, the losses, ``value_and_grad``,
  clipping, optax update, the metrics' ``update``). ``logs`` holds device arrays: the losses'
  batch means over the real samples and each metric's ``result`` of its state so far (the
  states ride in ``TrainState.metrics``, replicated, so on several devices XLA sums each
  batch's partial counts); nothing is read back to the host.
- ``get_variables(state)``, ``evaluate(variables, xs, ys, sample_weight, batch_size)``,
  ``predict(variables, xs, batch_size)``.

Only the trainable weights are differentiated and reach optax; frozen ones ride along.

Regularizers and constraints, as Keras and the NumPy backend: the differentiated and logged
``loss`` adds each regularized trainable weight's penalty and the activity penalties of the
graph's nodes (over the real rows of a padded batch: the padding rows are zeroed and the
penalty is divided by the real row count); after optax's update each constrained weight is
projected, ``w = constraint(w)``, inside the compiled step. ``evaluate`` adds the same
penalties to its ``loss``.

No recompilation within an epoch: every batch, the short last one included, is padded to the
same number of rows (``batch_size`` rounded up to a multiple of the device count) by repeating
its last sample, and a per-sample weight of 0 removes the padding from the loss, the gradients
and the metrics (their ``sample_weight`` is that 0/1 row weight: Keras' ``metrics=`` are not
weighted by the user's sample weights).

Non-finite steps are sticky: ``TrainState.finite`` turns False at the first step whose loss or
gradients are not finite, and from then on every step returns the params and optimizer state
unchanged. A step that was not applied logs a non-finite loss (NaN, or the inf it met), so a
finite logged loss always means its update happened; the loop, which reads loss ``k`` after
dispatching step ``k + 1``, stops there and keeps the last good weights. With a
`LossScaleOptimizer` (``handles_non_finite_gradients``) non-finite *gradients* of a finite loss
are expected instead: the optimizer skips the update and halves its scale, and training goes on.

Compiled functions are cached per model structure (the graph's config, what is frozen, the
compile settings, the optimizer config, the devices), so a fresh backend object for every ``fit``/``predict`` call does not recompile.
``TRACE_COUNTS`` counts how often each kind of step has been traced (= compiled), for tests.
"""

from __future__ import annotations

import functools
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, cast

import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpy.typing import DTypeLike, NDArray

from .._tree import flatten_paths, unflatten_paths
from ..models._numpy_backend import split_trainable
from ..regularizers import activity_penalty
from . import graph
from ..metrics._base import host_value
from ..metrics._ops import jax_ops
from ._losses import loss_per_position, weighted_mean
from ._optim import make_optax
from ._distributed import host_array
from ._parallel import DataParallel, row_weights

# How many times each step function has been traced (incremented inside the traced Python).
TRACE_COUNTS: Counter[str] = Counter()


class TrainState(NamedTuple):
    """What the jitted train step carries from batch to batch (a pytree).

    trainable: ``{"layer/weight": array}`` the optimizer updates (replicated over the devices).
    frozen: ``{"layer/weight": array}`` of frozen layers, carried unchanged.
    model_state: the layers' non-trainable state, ``{layer_name: {...}}``.
    optimizer_state: the optax state (of ``trainable`` only).
    finite: 0-d bool; False once a non-finite loss or gradient has been seen (sticky).
    key: the ``jax.random`` key the next step splits for its randomness (dropout masks).
    metrics: one state (a dict of arrays) per compiled metric, accumulated since the last reset.
    """

    trainable: dict[str, Any]
    frozen: dict[str, Any]
    model_state: dict[str, Any]
    optimizer_state: Any
    finite: Any
    key: Any
    metrics: tuple[Any, ...] = ()


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _rows_like(rows: jax.Array, values: jax.Array) -> jax.Array:
    """The ``(B,)`` real-row weights shaped to broadcast against ``values (B, ...)``."""
    return rows.reshape(rows.shape + (1,) * (values.ndim - 1))


def _x64_enabled() -> bool:
    enabled: bool = jax.dtypes.canonicalize_dtype(np.float64) == np.float64
    return enabled


def _tree_all_finite(tree: Any) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


class _Compiled:
    """The jitted step functions for one model structure (cached by `_compiled`)."""

    def __init__(self, model: Any, optimizer_config: Any, devices: tuple[Any, ...]) -> None:
        self.model, self.config, self.optimizer = model, model.compiled, model.optimizer
        self.output_shapes = [t.shape for t in model.outputs]
        self._metric_functions: list[Any] | None = None
        self.parallel = DataParallel(devices)
        self.tx = make_optax(dict(optimizer_config))
        self._regularization: tuple[dict[str, Any], dict[str, Any]] | None = None
        replicated, batch = self.parallel.replicated, self.parallel.batch
        self.train_step = jax.jit(
            self._train_step,
            in_shardings=(replicated, batch, batch, batch, batch),
            out_shardings=(replicated, replicated),
        )
        self.eval_step = jax.jit(
            self._eval_step,
            in_shardings=(replicated, replicated, batch, batch, batch, batch),
            out_shardings=(replicated, replicated, replicated),
        )
        self.predict_step = jax.jit(
            self._predict_step, in_shardings=(replicated, batch), out_shardings=(batch, replicated)
        )
        self.init_optimizer = jax.jit(self.tx.init, out_shardings=replicated)

    def _forward(self, params: dict[str, Any], model_state: dict[str, Any], xs: list[Any], training: bool,
                 key: jax.Array | None = None,
                 activity: list[Any] | None = None) -> tuple[list[Any], dict[str, Any], list[Any]]:
        """``(predictions (list), new_state, output masks (list, None where none))``; ``activity``
        (a list) receives the activity-regularized outputs (see ``graph.layer_forward``)."""
        model = self.model
        outputs, new_state, masks = graph.layer_forward(
            model, params, model_state, xs if model.takes_list else xs[0], training=training, key=key,
            return_masks=True, activity=activity,
        )
        return graph.losses_dtype(outputs if model.returns_list else [outputs]), new_state, masks

    @property
    def regularization(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``({path: regularizer}, {path: constraint})`` of the trainable weights (read when a
        training or evaluation step is traced; ``predict`` needs neither)."""
        if self._regularization is None:
            self._regularization = self.model.weight_regularization()
        return self._regularization

    def _with_penalties(self, total: jax.Array, flat_params: dict[str, Any], activity: list[Any],
                        rows: jax.Array) -> jax.Array:
        """``total`` plus Keras' ``sum(model.losses)``: the regularized weights' penalties and the
        activity penalties, these over the real rows (``rows`` is 0 on padding)."""
        for path, regularizer in self.regularization[0].items():
            total = total + regularizer(flat_params[path])
        if activity:
            real = jnp.sum(rows)
            for regularizer, output in activity:
                total = total + activity_penalty(regularizer, output * _rows_like(rows, output).astype(output.dtype), real)
        return total

    def _constrain(self, trainable: dict[str, Any]) -> dict[str, Any]:
        """The weights after their constraints (applied after each update, as Keras)."""
        constraints = self.regularization[1]
        return {path: (constraints[path](value) if path in constraints else value) for path, value in trainable.items()}

    def _losses(self, ys: list[Any], predictions: list[Any], rows: jax.Array, sample_weight: jax.Array,
                masks: list[Any]) -> tuple[jax.Array, dict[str, jax.Array]]:
        """Keras' weighted sum of the output losses; ``rows`` (B,) is 0 on padding; an output's
        mask leaves its masked positions out (``mask * total / valid`` over the real rows)."""
        logs: dict[str, jax.Array] = {}
        config, total = self.config, 0.0
        loss_names = dict(config.loss_log_names())
        for k, (loss, weight, y, y_pred) in enumerate(zip(config.losses, config.loss_weights, ys, predictions)):
            if loss is None:
                continue
            values = loss_per_position(loss, y, y_pred)  # (B, ...); the Loss carries its options
            values = values * sample_weight.reshape(sample_weight.shape + (1,) * (values.ndim - 1))
            mask = masks[k]
            if mask is not None and tuple(mask.shape) == tuple(values.shape):
                row_weight, unmasked = _rows_like(rows, values), mask.astype(values.dtype)
                valid = jnp.sum(row_weight * unmasked)  # unmasked positions of the real rows
                positions = jnp.sum(row_weight * jnp.ones_like(values))  # all positions of the real rows
                values = values * unmasked * jnp.where(valid > 0, positions / jnp.maximum(valid, 1), 0)
            value = weighted_mean(values, rows)
            total = total + weight * value
            if k in loss_names:
                logs[loss_names[k]] = value
        return total, logs

    @property
    def metric_functions(self) -> list[Any]:
        """Each compiled metric's ``jax.numpy`` ``(init, update, result)`` for its output's shape
        (built on first use: a metric that cannot measure an output fails in fit, not predict)."""
        if self._metric_functions is None:
            self._metric_functions = [
                entry.metric.functions(jax_ops(), self.output_shapes[entry.output])
                for entry in (self.config.metrics if self.config else ())
            ]
        return self._metric_functions

    def init_metrics(self, dtype: DTypeLike | None) -> tuple[Any, ...]:
        """Zero states of the compiled metrics, in ``dtype`` (unless a metric has its own)."""
        return tuple(
            entry.metric.functions(jax_ops(), self.output_shapes[entry.output], dtype).init()
            for entry in (self.config.metrics if self.config else ())
        )

    def _update_metrics(self, states: tuple[Any, ...], ys: list[Any], predictions: list[Any], rows: jax.Array,
                        masks: list[Any]) -> tuple[Any, ...]:
        """The metrics' states after this batch: the row weights (0 on padding) are their
        sample weights; a mean metric also leaves an output's masked positions out."""
        return tuple(
            fns.update(state, ys[entry.output], predictions[entry.output], rows, masks[entry.output])
            for fns, state, entry in zip(self.metric_functions, states, self.config.metrics)
        )

    def _metric_results(self, states: tuple[Any, ...]) -> dict[str, Any]:
        return {entry.log_name: fns.result(state)
                for fns, state, entry in zip(self.metric_functions, states, self.config.metrics)}

    def _objective(self, trainable: dict[str, Any], frozen: dict[str, Any], model_state: dict[str, Any], key: jax.Array,
                   xs: list[Any], ys: list[Any], rows: jax.Array, sample_weight: jax.Array,
                   optimizer_state: Any = None) -> tuple[jax.Array, tuple[Any, ...]]:
        params = unflatten_paths({**trainable, **frozen})
        activity: list[Any] = []
        predictions, new_state, masks = self._forward(params, model_state, xs, training=True, key=key, activity=activity)
        total, logs = self._losses(ys, predictions, rows, sample_weight, masks)
        total = self._with_penalties(total, trainable, activity, rows)
        # loss_scale_factor or a LossScaleOptimizer's scale: the optimizer divides the gradients by it again
        return self.optimizer.scale_loss(total, optimizer_state), (predictions, masks, new_state, {"loss": total, **logs})

    def _train_step(self, state: TrainState, xs: list[Any], ys: list[Any], rows: jax.Array,
                    sample_weight: jax.Array) -> tuple[TrainState, dict[str, Any]]:
        TRACE_COUNTS["train"] += 1
        key, step_key = jax.random.split(state.key)
        (_, (predictions, masks, model_state, loss_logs)), grads = jax.value_and_grad(self._objective, has_aux=True)(
            state.trainable, state.frozen, state.model_state, step_key, xs, ys, rows, sample_weight, state.optimizer_state
        )
        loss = loss_logs.pop("loss")
        grads_finite = _tree_all_finite(grads)
        tolerated = self.optimizer.handles_non_finite_gradients  # it skips such a step itself
        step_finite = jnp.isfinite(loss) & (grads_finite | tolerated)
        apply = state.finite & step_finite
        updates, optimizer_state = self.tx.update(grads, state.optimizer_state, state.trainable)
        trainable = self._constrain(optax.apply_updates(state.trainable, updates))
        keep = functools.partial(jax.tree_util.tree_map, lambda new, old: jnp.where(apply, new, old))
        move = apply & grads_finite  # a skipped step leaves the weights exactly, constraints unapplied
        metrics = self._update_metrics(state.metrics, ys, predictions, rows, masks)
        new_state = TrainState(
            trainable=jax.tree_util.tree_map(lambda new, old: jnp.where(move, new, old), trainable, state.trainable),
            frozen=state.frozen,
            model_state=keep(model_state, state.model_state),
            optimizer_state=keep(optimizer_state, state.optimizer_state),
            finite=apply,
            key=key,
            metrics=metrics,
        )
        not_applied = jnp.where(jnp.isfinite(loss), jnp.asarray(jnp.nan, loss.dtype), loss)
        logs = {"loss": jnp.where(apply, loss, not_applied), **loss_logs, **self._metric_results(metrics)}
        return new_state, logs

    def _eval_step(self, variables: dict[str, Any], metric_states: tuple[Any, ...], xs: list[Any], ys: list[Any],
                   rows: jax.Array, sample_weight: jax.Array) -> tuple[dict[str, Any], tuple[Any, ...], dict[str, Any]]:
        """``(logs, metric states, model state)``: this batch's losses, the metrics' results so
        far, and the layers' state after the batch (a stateful RNN's carried states)."""
        TRACE_COUNTS["evaluate"] += 1
        activity: list[Any] = []
        predictions, model_state, masks = self._forward(variables["params"], variables["state"], xs, training=False,
                                                        activity=activity)
        total, logs = self._losses(ys, predictions, rows, sample_weight, masks)
        total = self._with_penalties(total, flatten_paths(variables["params"]), activity, rows)
        metric_states = self._update_metrics(metric_states, ys, predictions, rows, masks)
        return {"loss": total, **logs, **self._metric_results(metric_states)}, metric_states, model_state

    def _predict_step(self, variables: dict[str, Any], xs: list[Any]) -> tuple[list[Any], dict[str, Any]]:
        """``(outputs, model state after the batch)``."""
        TRACE_COUNTS["predict"] += 1
        outputs, model_state, _ = self._forward(variables["params"], variables["state"], xs, training=False)
        return outputs, model_state

    def trace_count(self, kind: str = "train") -> int:
        """How many times this structure's ``kind`` step was compiled (jit cache size)."""
        step = {"train": self.train_step, "evaluate": self.eval_step, "predict": self.predict_step}[kind]
        size: int = step._cache_size()
        return size


_CACHE: dict[tuple[Any, ...], _Compiled] = {}


def _plain_functions(model: Any) -> tuple[int, ...]:
    """The ids of the regularizers and constraints that are plain functions: a config names them
    only by ``__name__`` (every ``lambda`` is ``"<lambda>"``), so the cache key needs them."""
    from ..constraints import Constraint
    from ..regularizers import Regularizer

    layers = {id(layer): layer for layer, _, _ in model.weight_leaves()}
    layers.update({id(layer): layer for layer in model._graph_layers()})
    found: set[int] = set()
    for layer in layers.values():
        for obj in (*layer.weight_regularizers.values(), *layer.weight_constraints.values(), layer.activity_regularizer):
            if obj is not None and not isinstance(obj, (Regularizer, Constraint)):
                found.add(id(obj))
    return tuple(sorted(found))


def _compiled(model: Any, optimizer_config: Any, devices: tuple[Any, ...]) -> _Compiled:
    """One `_Compiled` per model structure: the graph, what is frozen, compile settings, devices."""
    import json

    from ..models._serialization import model_config

    key = (
        json.dumps(model_config(model), sort_keys=True, default=str),
        tuple(sorted(model.trainable_paths())),
        repr(model.compiled),
        optimizer_config,
        devices,
        _plain_functions(model),
    )
    if key not in _CACHE:
        if len(_CACHE) >= 32:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _Compiled(model, optimizer_config, devices)
    return _CACHE[key]


class JaxTrainingBackend:
    """The backend protocol on JAX; see the module docstring. Build with `make_training_backend`."""

    name = "jax"
    asynchronous = True  # steps are dispatched; the fit loop reads each step's logs one batch late

    def __init__(self, model: Any, devices: Any = None) -> None:
        from .. import optimizers

        # Keyed on the static config: a changed float learning rate lives in the optimizer
        # state, so setting it between epochs does not recompile the step.
        self.optimizer = model.optimizer if model.optimizer is not None else optimizers.SGD()
        optimizer_config = _freeze(self.optimizer.static_config())
        self.pushed_learning_rate: float | None = None
        devices = tuple(jax.devices() if devices is None else devices)
        self.compiled = _compiled(model, optimizer_config, devices)
        self.parallel = self.compiled.parallel
        self.trainable_paths = model.trainable_paths()
        self.config = model.compiled
        self.output_shapes = [t.shape for t in model.outputs]
        self.integer_inputs = [t.dtype if t.dtype.kind == "i" else None for t in model.inputs]
        # The key of the randomness in training: drawn from the model's generator, so a seeded
        # model's dropout masks repeat run to run (they cannot match the NumPy backend's bits).
        self.seed = int(model._rng.integers(2**31))
        # 0 unless the devices span several processes (jax.distributed): only process 0 writes
        # files and prints (the fit loop reads it)
        self.process_index = jax.process_index() if self.parallel.multiprocess else 0
        self.batch_size: int | None = None
        # the NumPy dtypes of the params handed in, restored by get_variables
        self.host_dtypes: dict[str, np.dtype[Any]] | None = None
        self.device_dtype: np.dtype[Any] | None = None  # the dtype the params have on the device, fixed by init_state

    # --- host-side preparation ----------------------------------------------------------------
    @staticmethod
    def _dtype(tree: Any) -> np.dtype[Any]:
        leaves = jax.tree_util.tree_leaves(tree)
        dtype = jnp.result_type(*leaves) if leaves else jnp.float32
        return cast("np.dtype[Any]", np.dtype(dtype))

    def _labels(self, ys: list[Any], dtype: DTypeLike | None) -> list[NDArray[Any]]:
        """Targets in the device dtype; sparse labels as int32 (checked on the host first)."""
        labels = []
        for y, loss, shape in zip(ys, self.config.losses if self.config else [None] * len(ys), self.output_shapes):
            if loss is None or loss.name != "sparse_categorical_crossentropy":
                labels.append(np.asarray(y, dtype=dtype))
                continue
            y, classes = np.asarray(y), shape[-1]
            if y.size and (np.any(y != np.round(y)) or y.min() < 0 or y.max() >= classes):
                raise ValueError(
                    f"sparse labels must be integers in [0, {classes - 1}], got values in [{y.min()}, {y.max()}]"
                )
            labels.append(y.astype(np.int32))
        return labels

    def _batch(self, xs: list[Any], ys: list[Any] | None, sample_weight: Any, rows: int, dtype: DTypeLike | None,
               index: Any = None) -> Any:
        """One batch padded to ``rows`` and sharded: ``(xs, ys, row weights, sample weights)``,
        or ``xs`` alone when ``ys`` is None.

        ``index`` picks the batch's samples from the arrays (default: all of them, in order);
        the padding repeats the last one. Only this process's block of the padded rows is
        gathered and sent to its devices, so the work per batch does not grow with the data.
        """
        real = len(xs[0]) if index is None else len(index)
        block = self.parallel.local_rows(rows)
        picked = _picked_samples(real, rows, index, block)
        gather: Callable[[Any], Any] = (lambda a: a) if picked is None else (lambda a: a[picked])
        xs = [np.asarray(gather(x), dtype=kind or dtype) for x, kind in zip(xs, self.integer_inputs)]
        if ys is None:
            return self.parallel.shard(xs, rows)
        ys = self._labels([gather(y) for y in ys], dtype)
        local = block.stop - block.start
        weights = np.ones(local, dtype) if sample_weight is None else np.asarray(gather(sample_weight), dtype)
        return self.parallel.shard((xs, ys, row_weights(real, rows, dtype)[block], weights), rows)

    def prepare_batch(self, xs: list[Any], ys: list[Any], sample_weight: Any = None, index: Any = None) -> Any:
        """The device arrays of one training batch (``index`` into the arrays, or all of them),
        padded to the epoch's row count, for `train_prepared`. The fit loop prepares batch
        ``k + 1`` right after dispatching step ``k``, so its copy to the devices overlaps step
        ``k``."""
        real = len(xs[0]) if index is None else len(index)
        rows = self.parallel.padded_size(max(self.batch_size or 0, real))
        return self._batch(xs, ys, sample_weight, rows, self.device_dtype, index)

    # --- protocol -----------------------------------------------------------------------------
    def init_state(self, variables: dict[str, Any], batch_size: int | None = None,
                   optimizer_state: Any = None) -> TrainState:
        """Place the variables (NumPy trees) on the device(s); init the optimizer, or continue
        from ``optimizer_state`` (a previous fit's)."""
        self.batch_size = None if batch_size is None else int(batch_size)
        trainable, frozen = split_trainable(variables["params"], self.trainable_paths)
        host = {**trainable, **frozen, **flatten_paths(variables["state"])}
        self.host_dtypes = {path: np.asarray(v).dtype for path, v in host.items()}
        if any(d == np.float64 for d in self.host_dtypes.values()) and not _x64_enabled():
            warnings.warn(
                "the model is float64 but jax_enable_x64 is off, so the JAX backend trains it in "
                "float32 (the weights are handed back as float64). Enable 64-bit JAX with "
                'jax.config.update("jax_enable_x64", True) before training for float64 math.',
                UserWarning,
                stacklevel=3,
            )
        trainable, frozen, model_state = self.parallel.replicate((trainable, frozen, variables["state"]))
        self.device_dtype = self._dtype((trainable, frozen))  # once, not on every batch
        if optimizer_state is None:
            optimizer_state = self.compiled.init_optimizer(trainable)
        else:
            optimizer_state = self.parallel.replicate(optimizer_state)
        optimizer_state = self.optimizer.with_learning_rate(optimizer_state)
        self.pushed_learning_rate = self.optimizer.learning_rate
        finite, key = self.parallel.replicate((jnp.array(True), jax.random.key(self.seed)))
        metrics = self.parallel.replicate(self.compiled.init_metrics(self.device_dtype))
        return TrainState(trainable, frozen, model_state, optimizer_state, finite, key, metrics)

    def reset_metrics(self, state: TrainState) -> TrainState:
        """The metrics' states back to zero (the fit loop calls it at each epoch's start)."""
        return state._replace(metrics=self.parallel.replicate(self.compiled.init_metrics(self.device_dtype)))

    def with_variables(self, state: TrainState, variables: dict[str, Any]) -> TrainState:
        """Replace the weights (e.g. restored by a callback); keep the optimizer state and flag."""
        trainable, frozen = split_trainable(variables["params"], self.trainable_paths)
        trainable, frozen, model_state = self.parallel.replicate((trainable, frozen, variables["state"]))
        return state._replace(trainable=trainable, frozen=frozen, model_state=model_state)

    def train_step(self, state: TrainState, xs: list[Any], ys: list[Any],
                   sample_weight: Any = None) -> tuple[TrainState, dict[str, Any]]:
        """One compiled step on a batch of at most ``batch_size`` samples; returns ``(state, logs)``."""
        return self.train_prepared(state, self.prepare_batch(xs, ys, sample_weight))

    def train_prepared(self, state: TrainState, batch: Any) -> tuple[TrainState, dict[str, Any]]:
        """One compiled step on a batch from `prepare_batch`; returns ``(state, logs)``."""
        if self.optimizer.learning_rate_schedule is None and self.optimizer.learning_rate != self.pushed_learning_rate:
            # set between steps (a callback): into the state, where the compiled step reads it
            state = state._replace(optimizer_state=self.optimizer.with_learning_rate(state.optimizer_state))
            self.pushed_learning_rate = self.optimizer.learning_rate
        return cast("tuple[TrainState, dict[str, Any]]", self.compiled.train_step(state, *batch))

    def get_variables(self, state: TrainState, final: bool = False) -> dict[str, Any]:
        """Host NumPy copies of the weights and state, in the dtypes handed to ``init_state``;
        with ``final``, the weights to keep after training (the EMA with ``use_ema``)."""
        trainable = self.optimizer.finalize_variable_values(state.trainable, state.optimizer_state) if final else state.trainable
        flat = jax.device_get({**trainable, **state.frozen})
        dtypes = self.host_dtypes or {}
        flat = {path: np.array(v, dtype=dtypes.get(path, v.dtype)) for path, v in flat.items()}
        return {"params": unflatten_paths(flat), "state": self._host_state(state.model_state)}

    def _batches(self, samples: int, batch_size: int) -> Iterator[tuple[NDArray[Any], int]]:
        """``(index of the batch's samples, padded rows)`` for each batch, in order."""
        batch_size = int(min(batch_size, samples))
        rows = self.parallel.padded_size(batch_size)
        for start in range(0, samples, batch_size):
            yield np.arange(start, min(start + batch_size, samples)), rows

    def _device_variables(self, variables: dict[str, Any]) -> tuple[dict[str, Any], np.dtype[Any]]:
        variables = self.parallel.replicate({"params": variables["params"], "state": variables["state"]})
        return variables, self._dtype(variables["params"])

    def _host_state(self, model_state: dict[str, Any]) -> dict[str, Any]:
        flat = jax.device_get(flatten_paths(model_state))
        dtypes = self.host_dtypes or {}
        return unflatten_paths({path: np.array(v, dtype=dtypes.get(path, v.dtype)) for path, v in flat.items()})

    def predict(self, variables: dict[str, Any], xs: list[Any],
                batch_size: int) -> tuple[list[NDArray[Any]], dict[str, Any]]:
        """``(outputs, final state)`` for ``xs`` in batches of ``batch_size`` (the last padded, not
        recompiled); the layers' state goes from batch to batch (a stateful RNN's)."""
        variables, dtype = self._device_variables(variables)
        chunks = []
        for index, rows in self._batches(len(xs[0]), batch_size):
            outputs, model_state = self.compiled.predict_step(variables, self._batch(xs, None, None, rows, dtype, index))
            variables = {**variables, "state": model_state}
            chunks.append((outputs, len(index)))
        # (with several processes each batch's outputs are gathered from all of them)
        arrays = [np.concatenate([host_array(out[k])[:real] for out, real in chunks], axis=0) for k in range(len(chunks[0][0]))]
        return arrays, self._host_state(variables["state"])

    def evaluate(self, variables: dict[str, Any], xs: list[Any], ys: list[Any], sample_weight: Any,
                 batch_size: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Loss and metrics over all of ``(xs, ys)``: the losses' sample-weighted means of batch
        values, the metrics' results of states accumulated over every batch (read once, at the end)."""
        variables, dtype = self._device_variables(variables)
        metric_states = self.parallel.replicate(self.compiled.init_metrics(dtype))
        results = []
        for index, rows in self._batches(len(xs[0]), batch_size):
            batch = self._batch(xs, ys, sample_weight, rows, dtype, index)
            logs, metric_states, model_state = self.compiled.eval_step(variables, metric_states, *batch)
            variables = {**variables, "state": model_state}
            results.append((logs, len(index)))
        metric_names = self.config.metric_log_names()
        totals: dict[str, float] = {}
        for logs, real in results:
            for key, value in logs.items():
                if key not in metric_names:
                    totals[key] = totals.get(key, 0.0) + float(value) * real
        final = {key: host_value(jax.device_get(results[-1][0][key])) for key in metric_names}
        return {**{key: total / len(xs[0]) for key, total in totals.items()}, **final}, self._host_state(variables["state"])


def _picked_samples(real: int, rows: int, index: Any, block: slice) -> NDArray[Any] | None:
    """The samples in rows ``block`` of a batch of ``real`` samples (``index``, or the first
    ``real``) padded to ``rows`` by repeating its last sample; None when that is every sample
    in order (nothing to gather)."""
    if index is None and real == rows and block == slice(0, rows):
        return None
    samples = np.arange(real) if index is None else np.asarray(index)
    if rows > real:
        samples = np.concatenate([samples, np.full(rows - real, samples[-1])])
    return samples[block]


def make_training_backend(model: Any, devices: Any = None) -> JaxTrainingBackend:
    """The JAX backend for a compiled model.

    Args:
        model: the model (its graph, optimizer, losses and metrics are read).
        devices: the devices to train on, data-parallel; default all of ``jax.devices()``.
    """
    return JaxTrainingBackend(model, devices)
