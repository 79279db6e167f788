"""The NumPy training backend: one train step = forward, loss, hand-written backward, update.

Implements the backend protocol that the shared ``fit`` loop drives (the JAX backend in
``scratchlstm.jax_backend`` implements the same):

- ``init_state(params, batch_size) -> state``
- ``with_params(state, params) -> state``      (keeps the optimizer state)
- ``train_step(state, x_batch, y_batch) -> (state, logs)``; ``logs`` holds batch means of the
  loss and metrics. Non-finite loss or gradients leave the state unchanged, and so do all later
  steps (``state.finite`` is sticky); a step that was not applied logs a non-finite loss, so
  the loop stops there and keeps the last good weights.
- ``asynchronous``: False here, so the loop reads each step's logs right away.
- ``get_params(state) -> list of dicts of NumPy arrays``
- ``evaluate(params, x, y, batch_size) -> dict``, ``predict(params, x, batch_size) -> array``
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import metrics as metrics_module
from .._tree import tree_leaves
from ..optimizers import apply_updates


class NumpyTrainState(NamedTuple):
    params: list  # one dict of arrays per layer
    optimizer_state: object
    finite: bool  # False once a non-finite loss or gradient has been seen


def _all_finite(tree) -> bool:
    return all(np.isfinite(leaf).all() for leaf in tree_leaves(tree))


class NumpyBackend:
    name = "numpy"
    asynchronous = False

    def __init__(self, model):
        self.layers = list(model.layers)
        self.loss = model.loss
        self.optimizer = model.optimizer
        self.metric_names = list(model.metric_names)

    # --- model math ---------------------------------------------------------------------------
    def forward(self, params, x):
        """``(y_pred, caches)`` through all layers."""
        caches = []
        for layer, layer_params in zip(self.layers, params):
            x, cache = layer.forward(layer_params, x)
            caches.append(cache)
        return x, caches

    def backward(self, params, caches, d_y):
        grads = [None] * len(self.layers)
        for k in range(len(self.layers) - 1, -1, -1):
            # The first layer's input gradient (d loss / d x) is never used: skip that GEMM.
            grads[k], d_y = self.layers[k].backward(params[k], caches[k], d_y, input_gradient=k > 0)
        return grads

    def _logs(self, loss_value, y_true, y_pred) -> dict:
        logs = {"loss": np.asarray(loss_value)}
        for name in self.metric_names:
            logs[name] = np.asarray(metrics_module.compute(name, y_true, y_pred))
        return logs

    # --- protocol -------------------------------------------------------------------------------
    def init_state(self, params, batch_size=None) -> NumpyTrainState:
        params = [dict(p) for p in params]
        return NumpyTrainState(params, self.optimizer.init(params), True)

    def with_params(self, state, params) -> NumpyTrainState:
        return state._replace(params=[dict(p) for p in params])

    def train_step(self, state, x_batch, y_batch):
        y_pred, caches = self.forward(state.params, x_batch)
        loss_value = self.loss(y_batch, y_pred)
        logs = self._logs(loss_value, y_batch, y_pred)
        if state.finite and np.isfinite(loss_value):
            grads = self.backward(state.params, caches, self.loss.gradient(y_batch, y_pred))
            if _all_finite(grads):
                updates, optimizer_state = self.optimizer.update(grads, state.optimizer_state, state.params)
                return NumpyTrainState(apply_updates(state.params, updates), optimizer_state, True), logs
        # Not applied: log a non-finite loss (NaN when the loss itself was finite) so the loop stops.
        skipped_loss = loss_value if not np.isfinite(loss_value) else np.nan
        return state._replace(finite=False), {**logs, "loss": np.asarray(skipped_loss)}

    def get_params(self, state) -> list:
        return [{k: v.copy() for k, v in p.items()} for p in state.params]

    def predict(self, params, x, batch_size):
        outputs = [self.forward(params, x[s : s + batch_size])[0] for s in range(0, len(x), batch_size)]
        return np.concatenate(outputs, axis=0)

    def evaluate(self, params, x, y, batch_size) -> dict:
        totals: dict = {}
        for start in range(0, len(x), batch_size):
            y_batch = y[start : start + batch_size]
            y_pred = self.forward(params, x[start : start + batch_size])[0]
            for key, value in self._logs(self.loss(y_batch, y_pred), y_batch, y_pred).items():
                totals[key] = totals.get(key, 0.0) + float(value) * len(y_batch)
        return {key: total / len(x) for key, total in totals.items()}
