"""Truncated backpropagation through time: ``fit(..., tbptt_steps=k)`` on both backends.

Semantics (defined by Keras' stateful training, which has no ``tbptt`` argument of its own):
each batch of ``B`` sequences ``x (B, T, I)`` with per-step targets ``y (B, T, ...)`` is cut on
its time axis into windows of ``k`` steps, ``[0, k), [k, 2k), ...`` (the last one shorter when
``k`` does not divide ``T``), and each window is one optimizer step, in order. The recurrent
layers' states are carried from one window to the next (so the forward pass sees the whole
sequence) but gradients stop at window boundaries (``stop_gradient`` on the carried states, as a
stateful layer's), and the states start from zeros at each new batch of sequences. So

    fit(x, y, batch_size=B, shuffle=False, tbptt_steps=k)

equals, weights and optimizer state included, a model with ``stateful=True`` recurrent layers
(batch size ``B``) trained with ``train_on_batch`` on the windows of each batch in order, with
``model.reset_states()`` before each batch.

Loss: a window's loss is the compiled loss on that window (the mean over its steps and samples,
with the sample weights); the batch loss logged is the mean of its windows' losses weighted by
their step counts (for equal windows, the mean over all ``T`` steps), and the epoch loss the
usual sample-weighted mean of the batch losses. Metrics accumulate over every window.

Refused (ValueError, before training): targets without the time axis of ``x`` (a many-to-one
model: only the last window would have a loss and no gradient would reach the earlier ones, so
use ``remat=k`` on the recurrent layers instead, which keeps the whole gradient in bounded
memory), inputs of different lengths, ``go_backwards`` or ``Bidirectional`` layers (a window
read backwards is not a piece of the sequence's recurrence), recurrent layers inside a nested
model, and a ``k`` that is not a positive int.

How: a wrapper around the training backend's step protocol (`run_fit` sees one step per batch).
Recurrent layers that are not stateful are made stateful (batch size ``B``) for the duration of
``fit`` and put back afterwards, so their carried states travel in the backend's model state
(a callback that saves the model during such a fit sees them stateful). Validation data is
evaluated on whole sequences, those layers not stateful.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterable, Iterator, cast, overload

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..layers.rnn._recurrent import Recurrent
    from ._compile import CompileConfig
    from ._trainer import Trainer


@overload
def check_tbptt_steps(tbptt_steps: None) -> None: ...
@overload
def check_tbptt_steps(tbptt_steps: int) -> int: ...


def check_tbptt_steps(tbptt_steps: int | None) -> int | None:
    """``None`` or a positive int; ValueError otherwise."""
    if tbptt_steps is None:
        return None
    if isinstance(tbptt_steps, bool) or not isinstance(tbptt_steps, (int, np.integer)) or tbptt_steps < 1:
        raise ValueError(f"tbptt_steps must be None or a positive int (steps per window), got {tbptt_steps!r}")
    return int(tbptt_steps)


def _recurrent_layers(model: Trainer) -> list[Recurrent]:
    """The model's top-level recurrent layers, after refusing what truncation cannot split."""
    from ..layers.rnn._recurrent import Recurrent
    from ..layers.rnn.bidirectional import Bidirectional

    found: list[Recurrent] = []
    for layer in model._weight_layers():
        if isinstance(layer, Bidirectional):
            raise ValueError(
                f"fit(tbptt_steps=...) cannot split Bidirectional layer {layer.name!r}: its backward direction reads "
                "each window from its end, which is no piece of the whole sequence's recurrence"
            )
        if isinstance(layer, Recurrent):
            if layer.go_backwards:
                raise ValueError(f"fit(tbptt_steps=...) cannot split {type(layer).__name__} {layer.name!r} with go_backwards=True")
            found.append(layer)
        elif hasattr(layer, "_weight_layers") and any(
            isinstance(inner, (Recurrent, Bidirectional)) for inner in layer._weight_layers()
        ):
            raise ValueError(
                f"fit(tbptt_steps=...) needs the recurrent layers at the top level of the model; "
                f"{layer.name!r} is a nested model holding some"
            )
    if not found:
        raise ValueError("fit(tbptt_steps=...) needs a model with recurrent layers (LSTM, GRU, SimpleRNN, RNN)")
    return found


def check_tbptt_data(model: Trainer, xs: list[NDArray[Any]], ys: Any) -> int:
    """The sequence length ``T`` shared by every input and target; ValueError otherwise."""
    lengths = {np.shape(x)[1] if np.ndim(x) >= 2 else None for x in xs}
    if len(lengths) != 1 or None in lengths:
        raise ValueError(
            "fit(tbptt_steps=...) splits every input on its time axis (axis 1); got inputs of shapes "
            f"{[np.shape(x) for x in xs]}"
        )
    (steps,) = lengths
    shapes = model.output_shape if model.returns_list else [model.output_shape]
    for y, shape in zip(ys, shapes):
        if np.ndim(y) < 2 or np.shape(y)[1] != steps or len(shape) < 3:
            raise ValueError(
                f"fit(tbptt_steps=...) needs per-step targets: outputs and y of shape (samples, {steps}, ...) "
                f"(return_sequences=True); got an output of shape {tuple(shape)} and y of shape {np.shape(y)}. "
                "A many-to-one model's loss sits on the last window only and no gradient would reach the "
                "earlier ones: for long sequences use the recurrent layers' remat=k instead"
            )
    return cast(int, steps)  # None refused above


@contextlib.contextmanager
def carried_states(model: Trainer, batch_size: int) -> Iterator[list[Recurrent]]:
    """Make the model's recurrent layers stateful (batch ``batch_size``) while the block runs;
    yields the layers it changed."""
    changed: list[Recurrent] = []
    for layer in _recurrent_layers(model):
        if not layer.stateful:
            changed.append(layer)
            layer.stateful, layer._state_batch, layer.state = True, batch_size, layer.zero_states(batch_size)
    try:
        yield changed
    finally:
        for layer in changed:
            layer.stateful, layer._state_batch, layer.state = False, None, {}


class TruncatedBPTT:
    """A training backend that runs each batch as windows of ``steps`` time steps (see above).

    Args:
        backend: the model's training backend (NumPy or JAX), whose protocol it forwards.
        model: the compiled model (its top-level recurrent layers carry the states).
        steps: ``k``, time steps per window.
        made_stateful: the layers `carried_states` made stateful for the fit; validation runs
            them as they were (whole sequences from zeros).
    """

    def __init__(self, backend: Any, model: Trainer, steps: int, made_stateful: Iterable[Recurrent] = ()) -> None:
        self.backend = backend
        self.made_stateful = list(made_stateful)
        self.steps = check_tbptt_steps(steps)
        self.names = [layer.name for layer in _recurrent_layers(model)]
        self.metric_names = cast("CompileConfig", model.compiled).metric_log_names()  # running results, not batch means
        self.padded = hasattr(backend, "prepare_batch")  # JAX pads batches to a fixed row count

    def __getattr__(self, name: str) -> Any:
        if name in ("prepare_batch", "train_prepared"):  # every batch goes through train_step
            raise AttributeError(name)
        return getattr(self.backend, name)

    def _zero_states(self, model_state: dict[str, Any], rows: int) -> dict[str, Any]:
        """``model_state`` with the recurrent layers' carried states at zeros for ``rows`` rows."""
        def zeros(value: Any) -> Any:
            if self.padded:  # same shape and placement as the padded device arrays
                import jax.numpy as jnp

                return jnp.zeros_like(value)
            return np.zeros((rows, *np.shape(value)[1:]), np.asarray(value).dtype)

        fresh = dict(model_state)
        for name in self.names:
            fresh[name] = {key: zeros(value) for key, value in model_state[name].items()}
        return fresh

    def evaluate(self, variables: dict[str, Any], xs: list[Any], ys: list[Any], sample_weight: Any,
                 batch_size: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Validation on whole sequences, the temporarily stateful layers as they were built."""
        names = {layer.name for layer in self.made_stateful}
        plain = {key: value for key, value in variables["state"].items() if key not in names}
        for layer in self.made_stateful:
            layer.stateful = False
        try:
            logs, state = self.backend.evaluate({"params": variables["params"], "state": plain}, xs, ys,
                                                sample_weight, batch_size)
        finally:
            for layer in self.made_stateful:
                layer.stateful = True
        return logs, {**variables["state"], **{k: v for k, v in state.items() if k not in names}}

    def train_step(self, state: Any, xs: list[Any], ys: list[Any], sample_weight: Any = None) -> tuple[Any, dict[str, Any]]:
        """Every window of the batch in order, states from zeros: ``(state, logs)`` with the
        step-weighted mean of the windows' losses and the metrics' results after the last."""
        steps = np.shape(xs[0])[1]
        state = state._replace(model_state=self._zero_states(state.model_state, len(xs[0])))
        totals: dict[str, Any] = {}
        logs: dict[str, Any] = {}
        for start in range(0, steps, self.steps):
            window = slice(start, min(start + self.steps, steps))
            length = window.stop - window.start
            state, logs = self.backend.train_step(
                state, [x[:, window] for x in xs], [y[:, window] for y in ys], sample_weight
            )
            for key, value in logs.items():  # device values stay on the device (no host read)
                totals[key] = totals.get(key, 0.0) + value * length
        means = {key: total / steps for key, total in totals.items()}
        return state, {key: (value if key in self.metric_names else means[key]) for key, value in logs.items()}
