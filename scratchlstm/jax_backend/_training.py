"""The JAX training backend behind ``model.compile(..., backend="jax")``.

It implements the protocol the shared ``fit`` loop drives (the NumPy one is
``scratchlstm.models._numpy_backend``):

- ``init_state(params, batch_size) -> TrainState``: params on the device(s), optax state.
- ``with_params(state, params) -> TrainState``: new params, same optimizer state.
- ``train_step(state, x_batch, y_batch) -> (state, logs)``: one ``jax.jit``-compiled step
  (forward, loss, ``value_and_grad``, clipping, optax update). ``logs`` holds 0-d device
  arrays (batch means over the real samples); nothing is read back to the host.
- ``get_params(state)``, ``evaluate(params, x, y, batch_size)``, ``predict(params, x, batch_size)``.

No recompilation within an epoch: every batch, the short last one included, is padded to the
same number of rows (``batch_size`` rounded up to a multiple of the device count) by repeating
its last sample, and a per-sample weight of 0 removes the padding from the loss, the gradients
and the metrics.

Non-finite steps are sticky: ``TrainState.finite`` turns False at the first step whose loss or
gradients are not finite, and from then on every step returns the params and optimizer state
unchanged. A step that was not applied logs a non-finite loss (NaN, or the inf it met), so a
finite logged loss always means its update happened; the loop, which reads loss ``k`` after
dispatching step ``k + 1``, stops there and keeps the last good weights.

Compiled functions are cached per model structure (layers, loss, metrics, optimizer config,
device count), so a fresh backend object for every ``fit``/``predict`` call does not recompile.
``TRACE_COUNTS`` counts how often each kind of step has been traced (= compiled), for tests.
"""

from __future__ import annotations

import functools
import warnings
from collections import Counter
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._dense import dense_forward
from ._losses import loss_value, metric_value
from ._lstm import lstm_forward
from ._optim import make_optax
from ._parallel import DataParallel, pad_rows, row_weights

# How many times each step function has been traced (incremented inside the traced Python).
TRACE_COUNTS: Counter = Counter()


class TrainState(NamedTuple):
    """What the jitted train step carries from batch to batch (a pytree).

    params: one dict of arrays per layer (replicated over the devices).
    optimizer_state: the optax state.
    finite: 0-d bool; False once a non-finite loss or gradient has been seen (sticky).
    """

    params: list
    optimizer_state: Any
    finite: Any


def _layer_spec(config: dict) -> tuple:
    kind = config.get("class_name")
    if kind == "LSTM":
        if config.get("return_state"):
            raise ValueError("the JAX backend cannot train an LSTM with return_state=True inside a model")
        return ("LSTM", bool(config.get("return_sequences", False)))
    if kind == "Dense":
        activation = config.get("activation")
        return ("Dense", None if activation in (None, "linear") else str(activation).lower())
    raise ValueError(f"the JAX backend supports LSTM and Dense layers, got a layer with class_name {kind!r}")


def _freeze(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def model_forward(layers: tuple, params, x, projection=None):
    """Run the stack: ``layers`` holds ``("LSTM", return_sequences)`` / ``("Dense", activation)``."""
    for (kind, option), layer_params in zip(layers, params):
        if kind == "LSTM":
            outputs, (h, _) = lstm_forward(layer_params, x, projection=projection)
            x = outputs if option else h
        else:
            x = dense_forward(layer_params, x, option)
    return x


def _x64_enabled() -> bool:
    return jax.dtypes.canonicalize_dtype(np.float64) == np.float64


def _tree_all_finite(tree):
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


class _Compiled:
    """The jitted step functions for one model structure (cached by `_compiled`)."""

    def __init__(self, layers, loss, metrics, optimizer_config, devices, projection):
        self.layers, self.loss, self.metrics, self.projection = layers, loss, metrics, projection
        self.parallel = DataParallel(devices)
        self.tx = make_optax(dict(optimizer_config))
        replicated, batch = self.parallel.replicated, self.parallel.batch
        self.train_step = jax.jit(
            self._train_step,
            in_shardings=(replicated, batch, batch, batch),
            out_shardings=(replicated, replicated),
        )
        self.eval_step = jax.jit(
            self._eval_step, in_shardings=(replicated, batch, batch, batch), out_shardings=replicated
        )
        self.predict_step = jax.jit(self._predict_step, in_shardings=(replicated, batch), out_shardings=batch)
        self.init_optimizer = jax.jit(self.tx.init, out_shardings=replicated)

    def _objective(self, params, x, y, weight):
        y_pred = model_forward(self.layers, params, x, self.projection)
        name, from_logits = self.loss
        return loss_value(name, y, y_pred, from_logits, sample_weight=weight), y_pred

    def _metric_logs(self, y, y_pred, weight) -> dict:
        return {name: metric_value(name, y, y_pred, sample_weight=weight) for name in self.metrics}

    def _train_step(self, state: TrainState, x, y, weight):
        TRACE_COUNTS["train"] += 1
        (loss, y_pred), grads = jax.value_and_grad(self._objective, has_aux=True)(state.params, x, y, weight)
        step_finite = jnp.isfinite(loss) & _tree_all_finite(grads)
        apply = state.finite & step_finite
        updates, optimizer_state = self.tx.update(grads, state.optimizer_state, state.params)
        params = optax.apply_updates(state.params, updates)
        keep = functools.partial(jax.tree_util.tree_map, lambda new, old: jnp.where(apply, new, old))
        new_state = TrainState(
            params=keep(params, state.params),
            optimizer_state=keep(optimizer_state, state.optimizer_state),
            finite=apply,
        )
        not_applied = jnp.where(jnp.isfinite(loss), jnp.asarray(jnp.nan, loss.dtype), loss)
        logs = {"loss": jnp.where(apply, loss, not_applied), **self._metric_logs(y, y_pred, weight)}
        return new_state, logs

    def _eval_step(self, params, x, y, weight):
        TRACE_COUNTS["evaluate"] += 1
        loss, y_pred = self._objective(params, x, y, weight)
        return {"loss": loss, **self._metric_logs(y, y_pred, weight)}

    def _predict_step(self, params, x):
        TRACE_COUNTS["predict"] += 1
        return model_forward(self.layers, params, x, self.projection)

    def trace_count(self, kind: str = "train") -> int:
        """How many times this structure's ``kind`` step was compiled (jit cache size)."""
        step = {"train": self.train_step, "evaluate": self.eval_step, "predict": self.predict_step}[kind]
        return step._cache_size()


@functools.lru_cache(maxsize=32)
def _compiled(layers, loss, metrics, optimizer_config, devices, projection) -> _Compiled:
    return _Compiled(layers, loss, metrics, optimizer_config, devices, projection)


class JaxTrainingBackend:
    """The backend protocol on JAX; see the module docstring. Build with `make_training_backend`."""

    name = "jax"
    asynchronous = True  # steps are dispatched; the fit loop reads each step's logs one batch late

    def __init__(self, model, devices=None, projection=None):
        layers = tuple(_layer_spec(layer.get_config()) for layer in model.layers)
        loss = model.loss
        loss_spec = (loss.name, bool(loss.from_logits)) if loss is not None else ("mean_squared_error", False)
        optimizer = model.optimizer
        optimizer_config = _freeze(optimizer.get_config()) if optimizer is not None else (
            ("class_name", "SGD"), ("learning_rate", 0.01))
        devices = tuple(jax.devices() if devices is None else devices)
        self.compiled = _compiled(
            layers, loss_spec, tuple(model.metric_names or ()), optimizer_config, devices, projection
        )
        self.parallel = self.compiled.parallel
        self.batch_size = None
        self.host_dtypes = None  # the NumPy dtypes of the params handed in, restored by get_params
        self.device_dtype = None  # the dtype the params have on the device, fixed by init_state
        self.sparse = loss_spec[0] == "sparse_categorical_crossentropy"
        self.classes = model.layers[-1].get_config().get("units")

    # --- host-side preparation ----------------------------------------------------------------
    @staticmethod
    def _dtype(params) -> np.dtype:
        leaves = jax.tree_util.tree_leaves(params)
        dtype = jnp.result_type(*leaves) if leaves else jnp.float32
        return np.dtype(dtype)

    def _labels(self, y, dtype):
        if not self.sparse:
            return np.asarray(y, dtype=dtype)
        y = np.asarray(y)
        if y.size and (np.any(y != np.round(y)) or y.min() < 0 or y.max() >= self.classes):
            raise ValueError(
                f"sparse labels must be integers in [0, {self.classes - 1}], got values in [{y.min()}, {y.max()}]"
            )
        return y.astype(np.int32)

    def _batch(self, x, y, rows: int, dtype):
        """Pad one batch to ``rows`` and shard it: ``(x, y, weight)`` on the device(s)."""
        real = len(x)
        x = pad_rows(np.asarray(x, dtype=dtype), rows)
        weight = row_weights(real, rows, dtype)
        if y is None:
            return self.parallel.shard(x)
        y = pad_rows(self._labels(y, dtype), rows)
        return self.parallel.shard((x, y, weight))

    # --- protocol -----------------------------------------------------------------------------
    def init_state(self, params, batch_size=None) -> TrainState:
        """Place ``params`` (list of dicts of NumPy arrays) on the device(s) and init the optimizer."""
        self.batch_size = None if batch_size is None else int(batch_size)
        self.host_dtypes = [{k: np.asarray(v).dtype for k, v in p.items()} for p in params]
        if any(d == np.float64 for p in self.host_dtypes for d in p.values()) and not _x64_enabled():
            warnings.warn(
                "the model is float64 but jax_enable_x64 is off, so the JAX backend trains it in "
                "float32 (the weights are handed back as float64). Enable 64-bit JAX with "
                'jax.config.update("jax_enable_x64", True) before training for float64 math.',
                UserWarning,
                stacklevel=3,
            )
        params = self.parallel.replicate([dict(p) for p in params])
        self.device_dtype = self._dtype(params)  # once, not on every batch
        optimizer_state = self.compiled.init_optimizer(params)
        return TrainState(params, optimizer_state, self.parallel.replicate(jnp.array(True)))

    def with_params(self, state: TrainState, params) -> TrainState:
        """Replace the params (e.g. restored by a callback); keep the optimizer state and flag."""
        return state._replace(params=self.parallel.replicate([dict(p) for p in params]))

    def train_step(self, state: TrainState, x_batch, y_batch):
        """One compiled step on a batch of at most ``batch_size`` samples; returns ``(state, logs)``."""
        rows = self.parallel.padded_size(max(self.batch_size or 0, len(x_batch)))
        x, y, weight = self._batch(x_batch, y_batch, rows, self.device_dtype)
        return self.compiled.train_step(state, x, y, weight)

    def get_params(self, state: TrainState) -> list:
        """Host NumPy copies of the params, one dict per layer, in the dtypes handed to ``init_state``."""
        host = jax.device_get(state.params)
        dtypes = self.host_dtypes or [{} for _ in host]
        return [{k: np.array(v, dtype=d.get(k, v.dtype)) for k, v in p.items()} for p, d in zip(host, dtypes)]

    def _batches(self, x, batch_size):
        batch_size = int(min(batch_size, len(x)))
        rows = self.parallel.padded_size(batch_size)
        for start in range(0, len(x), batch_size):
            yield slice(start, start + batch_size), rows

    def predict(self, params, x, batch_size) -> np.ndarray:
        """Outputs for ``x`` in batches of ``batch_size`` (the last padded, not recompiled)."""
        params = self.parallel.replicate([dict(p) for p in params])
        dtype = self._dtype(params)
        outputs = []
        for rows_slice, rows in self._batches(x, batch_size):
            chunk = x[rows_slice]
            outputs.append((self.compiled.predict_step(params, self._batch(chunk, None, rows, dtype)), len(chunk)))
        return np.concatenate([np.asarray(out)[:real] for out, real in outputs], axis=0)

    def evaluate(self, params, x, y, batch_size) -> dict:
        """Loss and metrics over all of ``(x, y)``: sample-weighted means of the batch values."""
        params = self.parallel.replicate([dict(p) for p in params])
        dtype = self._dtype(params)
        results = []
        for rows_slice, rows in self._batches(x, batch_size):
            x_chunk, y_chunk = x[rows_slice], y[rows_slice]
            results.append((self.compiled.eval_step(params, *self._batch(x_chunk, y_chunk, rows, dtype)), len(x_chunk)))
        totals: dict = {}
        for logs, real in results:
            for key, value in logs.items():
                totals[key] = totals.get(key, 0.0) + float(value) * real
        return {key: total / len(x) for key, total in totals.items()}


def make_training_backend(model, devices=None, projection=None) -> JaxTrainingBackend:
    """The JAX backend for a compiled ``Sequential``.

    Args:
        model: the model (its layers, optimizer, loss and metric names are read).
        devices: the devices to train on, data-parallel; default all of ``jax.devices()``.
        projection: where the LSTM computes ``x_t @ kernel`` (see `lstm_forward`);
            ``None`` for the measured default.
    """
    return JaxTrainingBackend(model, devices, projection)
