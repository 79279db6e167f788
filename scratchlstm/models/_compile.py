"""What ``compile`` resolves: one loss, weight and metric list per output, and the log names.

Keras' conventions (``keras/src/trainers/compile_utils.py``): ``loss``, ``loss_weights`` and
``metrics`` are one value for every output, a list with one entry per output, or a dict keyed
by output names. Logs: ``loss`` is the weighted sum; with several outputs each also logs
``{output}_loss`` and its metrics as ``{output}_{metric}``; with one output a metric is logged
under the name it was given (``"mae"``, ``"accuracy"``). A name met again gets ``_1``, ``_2``, ...
(``metrics=["auc", "auc"]`` logs ``auc`` and ``auc_1``), as Keras' ``CompileMetrics.result``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .._numpy.losses import get_loss

if TYPE_CHECKING:
    from ..losses import Loss


@dataclass(frozen=True)
class MetricEntry:
    output: int  # which output
    canonical: str  # what it computes (``Metric.canonical``); equal ones compute the same
    log_name: str  # its key in the logs
    metric: Any = field(default=None, repr=False, compare=False)  # the `Metric` (its functions)


@dataclass(frozen=True)
class CompileConfig:
    """The resolved compile arguments of a model with ``len(output_names)`` outputs."""

    output_names: tuple[str, ...]
    losses: tuple[Loss | None, ...]  # one Loss (or None: no loss on that output) per output
    loss_weights: tuple[float, ...]  # one float per output
    metrics: tuple[MetricEntry, ...]  # MetricEntry, in log order
    user_metrics: object = field(repr=False, compare=False)  # as given; the JAX cache key is the repr

    @property
    def several(self) -> bool:
        return len(self.output_names) > 1

    def loss_log_names(self) -> list[tuple[int, str]]:
        """``(output index, log name)`` for each output with a loss and its own log entry."""
        if not self.several:
            return []
        return [(k, f"{name}_loss") for k, (name, loss) in enumerate(zip(self.output_names, self.losses)) if loss]

    def metric_log_names(self) -> set[str]:
        """The metrics' log keys: their values are results of the state so far, not batch means."""
        return {entry.log_name for entry in self.metrics}

    def finalize(self, logs: dict[str, Any]) -> dict[str, Any]:
        """The logs in Keras' order: loss, the output losses, the metrics (the backends give the
        metrics' results already: an RMSE is the root of its state's mean)."""
        order = ["loss", *(name for _, name in self.loss_log_names()), *(entry.log_name for entry in self.metrics)]
        return {key: logs[key] for key in order if key in logs}


def _per_output(value: Any, output_names: tuple[str, ...], what: str, default: Any) -> list[Any]:
    """One entry per output from a single value, a list or a dict keyed by output names."""
    count = len(output_names)
    if isinstance(value, dict) and not is_loss_config(value):
        unknown = sorted(set(value) - set(output_names))
        if unknown:
            raise ValueError(f"{what} has keys {unknown} that are not outputs of the model; the outputs are {list(output_names)}")
        return [value.get(name, default) for name in output_names]
    if isinstance(value, (list, tuple)) and count > 1:
        if len(value) != count:
            raise ValueError(f"{what} must have one entry per output ({count}: {list(output_names)}), got {len(value)}")
        return list(value)
    return [value] * count


def is_loss_config(value: Any) -> bool:
    """A saved loss ``{"class_name": ..., "config": {...}}`` (not a dict keyed by output names)."""
    return isinstance(value, dict) and "class_name" in value


def _resolve_loss(identifier: Any) -> Loss | None:
    if identifier is None:
        return None
    if is_loss_config(identifier) and identifier["class_name"] == "Loss":
        return get_loss(identifier.get("config", {}))
    return losses_module.get(identifier)


def resolve_compile(output_names: Any, loss: Any, loss_weights: Any = None, metrics: Any = None,
                    output_units: Any = None) -> CompileConfig:
    """Check and resolve ``compile``'s arguments for a model with these outputs.

    ``output_units`` (each output's last-axis size, when the model is built) lets
    ``"accuracy"`` pick binary, sparse or categorical accuracy as Keras does.
    """
    output_names = tuple(output_names)
    output_units = list(output_units) if output_units is not None else [None] * len(output_names)
    if loss is None:
        raise ValueError("compile needs a loss, e.g. loss='mse'; got loss=None")
    if is_loss_config(loss):
        loss = _resolve_loss(loss)
    if isinstance(loss, dict):
        missing = [name for name in output_names if name not in loss]
        if missing:
            raise ValueError(
                f"the loss dict has no entry for output(s) {missing}; it must name every output "
                f"{list(output_names)}, got keys {sorted(loss)}"
            )
    losses = [_resolve_loss(item) for item in _per_output(loss, output_names, "loss", None)]
    if not any(losses):
        raise ValueError("compile needs a loss for at least one output")
    weights = _per_output(1.0 if loss_weights is None else loss_weights, output_names, "loss_weights", 1.0)
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.integer, np.floating)) or not np.isfinite(weight):
            raise ValueError(f"loss_weights must be finite numbers, got {loss_weights!r}")
    entries: list[MetricEntry] = []
    seen: dict[str, int] = {}
    if metrics is not None:
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple, dict)):
            raise ValueError(f"metrics must be a list like ['mae'] (or one list per output), got {metrics!r}")
        if len(output_names) == 1:
            per_output = [list(metrics.values())[0] if isinstance(metrics, dict) and metrics else metrics]
            if isinstance(metrics, dict):
                _per_output(metrics, output_names, "metrics", None)  # key check
        else:
            per_output = _per_output(metrics, output_names, "metrics", None)
        for k, (name, requested) in enumerate(zip(output_names, per_output)):
            if requested is None:
                continue
            items = requested if isinstance(requested, (list, tuple)) else [requested]
            loss_name = output_loss.name if (output_loss := losses[k]) else ""
            for item in items:
                metric = metrics_module.resolve_metric(item, loss_name, output_units[k])
                shown = f"{name}_{metric.name}" if len(output_names) > 1 else metric.name
                entries.append(MetricEntry(k, metric.canonical, _unique(shown, seen), metric))
    return CompileConfig(output_names, tuple(losses), tuple(float(w) for w in weights), tuple(entries), metrics)


def _unique(name: str, seen: dict[str, int]) -> str:
    """``name``, or ``name_1``, ``name_2``, ... when already used (Keras' ``unique_name_counters``)."""
    if name not in seen:
        seen[name] = 1
        return name
    index = seen[name]
    seen[name] += 1
    return f"{name}_{index}"
