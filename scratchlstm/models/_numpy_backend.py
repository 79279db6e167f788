"""The NumPy training backend: one train step = graph forward, losses, graph backward, update.

Implements the backend protocol that the shared ``fit`` loop drives (the JAX backend in
``scratchlstm.jax_backend`` implements the same):

- ``init_state(variables, batch_size) -> state``   (``variables``: ``{"params", "state"}`` trees)
- ``with_variables(state, variables) -> state``     (keeps the optimizer state)
- ``reset_metrics(state) -> state``: the metrics' states back to zero (at each epoch's start)
- ``train_step(state, xs, ys, sample_weight) -> (state, logs)``: lists of arrays, one per model
  input and output; ``logs`` holds the batch means of the losses and each metric's result over
  every batch since the last reset (its state lives in ``state.metrics``, as Keras' metric
  variables). Non-finite loss or gradients leave the weights unchanged, and so do all later
  steps (``state.finite`` is sticky); a step that was not applied logs a non-finite loss, so the
  loop stops there. An optimizer with ``handles_non_finite_gradients`` (`LossScaleOptimizer`)
  gets non-finite gradients of a finite loss instead: it skips that update and halves its scale.
- ``asynchronous``: False here, so the loop reads each step's logs right away.
- ``get_variables(state)``, ``evaluate(variables, xs, ys, sample_weight, batch_size) -> dict``
  (the losses' sample-weighted batch means, the metrics' results over all the batches),
  ``predict(variables, xs, batch_size) -> list of arrays``.

Only the trainable weights (``model.trainable_paths()``) reach the optimizer; frozen ones ride
along unchanged and have no optimizer slots.

Regularizers and constraints (Keras' rules, ``model.weight_regularization()``): the logged and
differentiated ``loss`` is the compiled loss plus each regularized trainable weight's penalty
(at the weights the step starts from) plus the graph's activity penalties; the penalties'
hand-written gradients join the weights' gradients, and after the optimizer's update each
constrained weight is projected, ``w = constraint(w)``. ``evaluate`` adds the same penalties to
its ``loss``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np
from numpy.typing import NDArray

from .._numpy import graph
from .._tree import flatten_paths, tree_leaves, unflatten_paths
from ..optimizers import apply_updates
from ..layers._base import refuse_half_precision
from ..regularizers import penalty_gradient

if TYPE_CHECKING:
    from ._compile import CompileConfig
    from ._trainer import Trainer


class NumpyTrainState(NamedTuple):
    trainable: dict[str, Any]  # {"layer/weight": array} that the optimizer updates
    frozen: dict[str, Any]  # {"layer/weight": array} of frozen layers
    model_state: dict[str, Any]  # the layers' non-trainable state, {layer_name: {...}}
    optimizer_state: Any
    finite: bool  # False once a non-finite loss or gradient has been seen
    metrics: tuple[Any, ...] = ()  # one state (dict of arrays) per compiled metric


def _all_finite(tree: Any) -> bool:
    return all(np.isfinite(leaf).all() for leaf in tree_leaves(tree))


def split_trainable(params: dict[str, Any], trainable_paths: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flat ``(trainable, frozen)`` path dicts from a params tree."""
    flat = flatten_paths(params)
    trainable = {path: value for path, value in flat.items() if path in trainable_paths}
    frozen = {path: value for path, value in flat.items() if path not in trainable_paths}
    return trainable, frozen


def _broadcast(weight: NDArray[Any], values: NDArray[Any]) -> NDArray[Any]:
    """``(B,)`` weights against ``(B, ...)`` values."""
    return weight.reshape(weight.shape + (1,) * (values.ndim - 1))


def mask_weight(mask: Any, values: NDArray[Any]) -> NDArray[Any] | None:
    """Keras' ``apply_mask``: ``mask * total / valid`` (0 where masked), or None.

    Weighting the per-position losses by it turns their mean into the mean over the unmasked
    positions, ``sum(loss * mask) / sum(mask)``; used only when the output's mask has the
    positions' shape (e.g. ``(B, T)`` for a ``(B, T, U)`` output).
    """
    if mask is None or np.shape(mask) != values.shape:
        return None
    mask = np.asarray(mask, values.dtype)
    valid = mask.sum()
    weight: NDArray[Any] = mask * (values.size / valid) if valid else np.zeros_like(mask)
    return weight


def output_losses(config: CompileConfig, ys: list[Any], predictions: list[Any], sample_weight: NDArray[Any] | None,
                  gradient: bool = True, masks: list[Any] | None = None) -> tuple[float, dict[str, Any], list[Any] | None]:
    """``(total, logs, d_predictions)``: Keras' weighted sum of the per-output losses
    (``d_predictions`` is ``None`` without ``gradient``).

    With ``sample_weight (B,)`` each loss is ``mean(loss_at_each_position * weight)``, as Keras'
    ``sum_over_batch_size`` reduction. An output with a mask (``masks[k]``, e.g. from
    ``Embedding(mask_zero=True)``) counts its unmasked positions only, as Keras does. The
    metrics are updated separately (`NumpyBackend.update_metrics`).
    """
    logs: dict[str, Any] = {}
    d_predictions: list[Any] = []
    total = 0.0
    masks = masks or [None] * len(predictions)
    loss_names = dict(config.loss_log_names())
    for k, (loss, weight, y, y_pred) in enumerate(zip(config.losses, config.loss_weights, ys, predictions)):
        if loss is None:
            d_predictions.append(None)
            continue
        values = loss.per_position(y, y_pred)  # (B, ...)
        d_values = loss.gradient(y, y_pred) if gradient else None  # d mean(values) / d y_pred
        position_weight = mask_weight(masks[k], values)
        if sample_weight is not None:
            w = _broadcast(sample_weight.astype(values.dtype, copy=False), values)
            position_weight = w if position_weight is None else w * position_weight
        if position_weight is not None:
            values = values * position_weight
            d_values = None if d_values is None else d_values * position_weight[..., None]
        value = float(np.mean(values))
        total += weight * value
        d_predictions.append(None if d_values is None else weight * d_values)
        if k in loss_names:
            logs[loss_names[k]] = value
    logs = {"loss": total, **logs}
    return total, logs, (d_predictions if gradient else None)


class NumpyBackend:
    name = "numpy"
    asynchronous = False

    def __init__(self, model: Trainer) -> None:
        refuse_half_precision(model, f"model {model.name!r} (backend='numpy')")  # before any state
        self.model = model
        self.config = model.compiled
        self.optimizer = model.optimizer
        self.trainable_paths = model.trainable_paths()
        self.rng = model._rng
        self._metric_functions: list[Any] | None = None
        self._regularization: tuple[dict[str, Any], dict[str, Any]] | None = None

    # --- metrics ------------------------------------------------------------------------------
    @property
    def metric_functions(self) -> list[Any]:
        """Each compiled metric's NumPy ``(init, update, result)``, built for its output's shape
        (on first use: an unfit metric, e.g. F1Score on a sequence output, fails in fit, not predict)."""
        if self._metric_functions is None:
            from ..metrics._ops import NUMPY

            shapes = [t.shape for t in self.model.outputs]
            self._metric_functions = [entry.metric.functions(NUMPY, shapes[entry.output], np.float64)
                                      for entry in (self.config.metrics if self.config else ())]
        return self._metric_functions

    def init_metrics(self) -> tuple[Any, ...]:
        return tuple(fns.init() for fns in self.metric_functions)

    def update_metrics(self, states: tuple[Any, ...], ys: list[Any], predictions: list[Any],
                       masks: list[Any]) -> tuple[Any, ...]:
        """The metrics' states after one more batch. Keras' ``metrics=`` take no sample weight;
        a mean metric leaves an output's masked positions out."""
        return tuple(
            fns.update(state, ys[entry.output], predictions[entry.output], None, masks[entry.output])
            for fns, state, entry in zip(self.metric_functions, states, cast("CompileConfig", self.config).metrics)
        )

    def metric_results(self, states: tuple[Any, ...]) -> dict[str, Any]:
        from ..metrics._base import host_value

        return {entry.log_name: host_value(fns.result(state))
                for fns, state, entry in zip(self.metric_functions, states, cast("CompileConfig", self.config).metrics)}

    def reset_metrics(self, state: NumpyTrainState) -> NumpyTrainState:
        return state._replace(metrics=self.init_metrics())

    # --- regularizers and constraints ---------------------------------------------------------
    @property
    def regularization(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``({path: regularizer}, {path: constraint})`` of the trainable weights (on first use)."""
        if self._regularization is None:
            self._regularization = self.model.weight_regularization()
        return self._regularization

    def weight_penalty(self, flat_params: dict[str, Any]) -> float:
        """The sum of the regularized weights' penalties (0.0 without regularizers)."""
        return sum(float(regularizer(flat_params[path])) for path, regularizer in self.regularization[0].items())

    def add_penalty_gradients(self, grads: dict[str, Any], trainable: dict[str, Any],
                              optimizer_state: Any = None) -> dict[str, Any]:
        """``grads`` plus each regularizer's gradient (scaled as the loss is)."""
        grads = dict(grads)
        for path, regularizer in self.regularization[0].items():
            penalty = penalty_gradient(regularizer, trainable[path])
            grads[path] = grads[path] + self.optimizer.scale_loss(penalty, optimizer_state)
        return grads

    def constrain(self, trainable: dict[str, Any]) -> dict[str, Any]:
        """The weights after their constraints (Keras applies them after each update)."""
        constraints = self.regularization[1]
        return {path: (constraints[path](value) if path in constraints else value) for path, value in trainable.items()}

    # --- model math ---------------------------------------------------------------------------
    def _structure(self, values: list[Any]) -> Any:
        return values if self.model.takes_list else values[0]

    def forward(self, params: dict[str, Any], model_state: dict[str, Any], xs: list[Any],
                training: bool = False) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
        """``(predictions (list), new_model_state, cache)`` through the whole graph."""
        outputs, new_state, cache = graph.layer_forward(
            self.model, params, model_state, self._structure(xs), training=training, rng=self.rng
        )
        return (outputs if self.model.returns_list else [outputs]), new_state, cache

    def backward(self, params: dict[str, Any], cache: dict[str, Any], d_predictions: Any,
                 optimizer_state: Any = None) -> dict[str, Any]:
        """Gradients of every layer's params (no input gradients: nothing needs them);
        ``d_predictions`` carry the optimizer's loss scale, and so do the activity penalties'."""
        d_outputs = d_predictions if self.model.returns_list else d_predictions[0]
        grads, _ = graph.layer_backward(self.model, params, cache, d_outputs, input_gradient=False,
                                        loss_scale=self.optimizer.scale_loss(1.0, optimizer_state))
        return grads

    # --- protocol -------------------------------------------------------------------------------
    def init_state(self, variables: dict[str, Any], batch_size: int | None = None,
                   optimizer_state: Any = None) -> NumpyTrainState:
        """The train state; the optimizer starts fresh or continues from ``optimizer_state``."""
        trainable, frozen = split_trainable(variables["params"], self.trainable_paths)
        optimizer_state = self.optimizer.init(trainable) if optimizer_state is None else optimizer_state
        return NumpyTrainState(trainable, frozen, variables["state"], optimizer_state, True, self.init_metrics())

    def with_variables(self, state: NumpyTrainState, variables: dict[str, Any]) -> NumpyTrainState:
        trainable, frozen = split_trainable(variables["params"], self.trainable_paths)
        return state._replace(trainable=trainable, frozen=frozen, model_state=variables["state"])

    def train_step(self, state: NumpyTrainState, xs: list[Any], ys: list[Any],
                   sample_weight: Any = None) -> tuple[NumpyTrainState, dict[str, Any]]:
        # the optimizer's current float learning rate (a callback may have set it); pure
        state = state._replace(optimizer_state=self.optimizer.with_learning_rate(state.optimizer_state))
        params = unflatten_paths({**state.trainable, **state.frozen})
        predictions, model_state, cache = self.forward(params, state.model_state, xs, training=True)
        loss_value, logs, d_predictions = output_losses(
            cast("CompileConfig", self.config), ys, predictions, sample_weight, masks=cache["output_masks"]
        )
        # Keras' total: the compiled loss plus model.losses (weight and activity penalties)
        loss_value = loss_value + self.weight_penalty(state.trainable) + sum(cache["activity_losses"])
        logs["loss"] = loss_value
        metrics = self.update_metrics(state.metrics, ys, predictions, cache["output_masks"])
        logs.update(self.metric_results(metrics))
        if state.finite and np.isfinite(loss_value):
            optimizer_state = state.optimizer_state
            # a loss scale that overflows is expected there: the optimizer skips the step
            quiet: dict[str, Any] = {"over": "ignore", "invalid": "ignore"} if self.optimizer.handles_non_finite_gradients else {}
            with np.errstate(**quiet):
                if self.optimizer.scale_loss(1.0, optimizer_state) != 1.0:  # the optimizer divides it out again
                    d_predictions = [None if d is None else self.optimizer.scale_loss(d, optimizer_state)
                                     for d in cast("list[Any]", d_predictions)]  # a list: gradient=True
                grads = flatten_paths(self.backward(params, cache, d_predictions, optimizer_state))
                grads = self.add_penalty_gradients({path: grads[path] for path in state.trainable}, state.trainable,
                                                   optimizer_state)
            grads_finite = _all_finite(grads)
            if grads_finite or self.optimizer.handles_non_finite_gradients:  # (it skips such a step itself)
                updates, optimizer_state = self.optimizer.update(grads, optimizer_state, state.trainable)
                trainable = self.constrain(apply_updates(state.trainable, updates)) if grads_finite else state.trainable
                return NumpyTrainState(trainable, state.frozen, model_state, optimizer_state, True, metrics), logs
        # Not applied: log a non-finite loss (NaN when the loss itself was finite) so the loop stops.
        skipped_loss = loss_value if not np.isfinite(loss_value) else np.nan
        return state._replace(finite=False, metrics=metrics), {**logs, "loss": skipped_loss}

    def get_variables(self, state: NumpyTrainState, final: bool = False) -> dict[str, Any]:
        """Copies of the weights and state; with ``final``, the weights to keep after training
        (the EMA with ``use_ema``)."""
        trainable = self.optimizer.finalize_variable_values(state.trainable, state.optimizer_state) if final else state.trainable
        flat = {path: value.copy() for path, value in {**trainable, **state.frozen}.items()}
        return {"params": unflatten_paths(flat), "state": state.model_state}

    def predict(self, variables: dict[str, Any], xs: list[NDArray[Any]],
                batch_size: int) -> tuple[list[NDArray[Any]], Any]:
        """``(outputs, final state)``: the state goes from batch to batch (a stateful RNN's)."""
        chunks: list[list[Any]] = []
        state = variables["state"]
        for start in range(0, len(xs[0]), batch_size):
            batch = [x[start : start + batch_size] for x in xs]
            outputs, state, _ = self.forward(variables["params"], state, batch)
            chunks.append(outputs)
        return [np.concatenate([c[k] for c in chunks], axis=0) for k in range(len(chunks[0]))], state

    def evaluate(self, variables: dict[str, Any], xs: list[NDArray[Any]], ys: list[NDArray[Any]], sample_weight: Any,
                 batch_size: int) -> tuple[dict[str, Any], Any]:
        """``(logs, final state)``: the losses' sample-weighted means of batch values, the metrics
        over every batch; the state goes from batch to batch."""
        totals: dict[str, Any] = {}
        metrics = self.init_metrics()
        samples = len(xs[0])
        state = variables["state"]
        weight_penalty = self.weight_penalty(flatten_paths(variables["params"]))
        for start in range(0, samples, batch_size):
            rows = slice(start, start + batch_size)
            predictions, state, cache = self.forward(variables["params"], state, [x[rows] for x in xs])
            weight = None if sample_weight is None else sample_weight[rows]
            batch_ys = [y[rows] for y in ys]
            _, logs, _ = output_losses(cast("CompileConfig", self.config), batch_ys, predictions, weight, gradient=False,
                                       masks=cache["output_masks"])
            logs["loss"] += weight_penalty + sum(cache["activity_losses"])
            metrics = self.update_metrics(metrics, batch_ys, predictions, cache["output_masks"])
            count = len(predictions[0])
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + float(value) * count
        return {**{key: total / samples for key, total in totals.items()}, **self.metric_results(metrics)}, state
