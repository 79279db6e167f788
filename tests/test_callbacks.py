"""Tests for scratchlstm.callbacks: CallbackList, History, EarlyStopping, ProgbarLogger."""

from __future__ import annotations

import io
import re
import sys
import warnings

import numpy as np
import pytest

from scratchlstm.callbacks import Callback, CallbackList, EarlyStopping, History, ProgbarLogger
from scratchlstm.callbacks import _progbar


class FakeModel:
    """What fit hands to callbacks: stop_training, get_weights(), set_weights()."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros((2, 2)), np.zeros(2)]
        self.set_calls = 0

    def get_weights(self):
        return self.weights  # deliberately the live arrays: callbacks must copy

    def set_weights(self, weights):
        self.set_calls += 1
        for mine, new in zip(self.weights, weights):
            mine[...] = new


def run_epochs(callback, values, monitor="val_loss", model=None, extra_logs=None):
    """Drive ``callback`` like fit would, with epoch ``e`` setting the weights to ``e`` in place.

    Returns (model, number of epochs run).
    """
    model = model or FakeModel()
    callbacks = CallbackList([callback], model, {"epochs": len(values), "steps": 1, "verbose": 0})
    callbacks.on_train_begin()
    epochs_run = 0
    for epoch, value in enumerate(values):
        callbacks.on_epoch_begin(epoch)
        for w in model.weights:
            w[...] = epoch  # "training" changes the weights in place
        logs = {monitor: value, **(extra_logs or {})}
        callbacks.on_epoch_end(epoch, logs)
        epochs_run += 1
        if model.stop_training:
            break
    callbacks.on_train_end()
    return model, epochs_run


# ---------------------------------------------------------------------------------------------
# Callback / CallbackList
# ---------------------------------------------------------------------------------------------


class Recorder(Callback):
    def __init__(self, name, calls):
        super().__init__()
        self.name, self.calls = name, calls

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((self.name, "epoch_end", epoch))

    def on_batch_end(self, batch, logs=None):  # the Keras alias must be reached
        self.calls.append((self.name, "batch_end", batch))


def test_callback_list_fans_out_in_order_and_sets_model_and_params():
    calls = []
    first, second = Recorder("a", calls), Recorder("b", calls)
    model, params = FakeModel(), {"epochs": 3, "steps": 2, "verbose": 0}
    callbacks = CallbackList([first, second], model, params)
    assert first.model is model and second.params == params
    callbacks.on_train_batch_end(0, {})
    callbacks.on_epoch_end(1, {})
    assert calls == [("a", "batch_end", 0), ("b", "batch_end", 0), ("a", "epoch_end", 1),
                     ("b", "epoch_end", 1)]
    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                 "on_predict_begin", "on_predict_end"):
        getattr(callbacks, hook)({})  # base hooks are no-ops
    assert len(calls) == 4


def test_callback_list_adds_defaults_once_and_rejects_non_callbacks():
    mine = History()
    callbacks = CallbackList([mine], add_history=True, add_progbar=True)
    assert callbacks.history is mine
    assert [type(c) for c in callbacks] == [History, ProgbarLogger]
    assert CallbackList().history is None
    with pytest.raises(ValueError, match="Received: 'loss'"):
        CallbackList(["loss"])


# ---------------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------------


def test_history_records_python_floats_per_epoch():
    history = History()
    model = FakeModel()
    callbacks = CallbackList([history], model, {"epochs": 2, "steps": 1, "verbose": 0})
    callbacks.on_train_begin()
    callbacks.on_epoch_end(0, {"loss": np.float32(0.5), "mae": np.array(0.25), "val_loss": 0.75})
    callbacks.on_epoch_end(1, {"loss": np.float64(0.125), "mae": 0.0625, "val_loss": 0.5})
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [0.5, 0.125], "mae": [0.25, 0.0625], "val_loss": [0.75, 0.5]}
    assert all(type(v) is float for values in history.history.values() for v in values)
    assert model.history is history
    callbacks.on_train_begin()  # a new run starts a new record
    assert history.history == {} and history.epoch == []


# ---------------------------------------------------------------------------------------------
# EarlyStopping
# ---------------------------------------------------------------------------------------------


def test_patience_zero_stops_at_first_non_improvement():
    stopper = EarlyStopping(monitor="val_loss", patience=0)
    model, epochs = run_epochs(stopper, [1.0, 0.8, 0.9, 0.5])
    assert epochs == 3 and model.stop_training
    assert stopper.stopped_epoch == 2 and stopper.best == 0.8 and stopper.best_epoch == 1


def test_patience_counts_epochs_without_improvement():
    stopper = EarlyStopping(patience=2)
    _, epochs = run_epochs(stopper, [1.0, 0.9, 0.95, 0.85, 0.9, 0.91, 0.5])
    # Improvement at epoch 3 resets the wait; epochs 4 and 5 exhaust patience 2.
    assert epochs == 6 and stopper.stopped_epoch == 5 and stopper.best == 0.85


def test_min_delta_requires_a_large_enough_improvement():
    values = [1.0, 0.95, 0.92, 0.5]
    _, epochs = run_epochs(EarlyStopping(patience=1), values)
    assert epochs == 4  # every epoch improves a little
    stopper = EarlyStopping(patience=1, min_delta=0.1)
    _, epochs = run_epochs(stopper, values)
    assert epochs == 2 and stopper.best == 1.0 and stopper.stopped_epoch == 1
    # The sign of min_delta does not matter (Keras takes its absolute value).
    _, epochs = run_epochs(EarlyStopping(patience=1, min_delta=-0.1), values)
    assert epochs == 2


def test_mode_auto_maximises_accuracy_and_minimises_others():
    accuracy = EarlyStopping(monitor="val_accuracy", patience=0)
    _, epochs = run_epochs(accuracy, [0.5, 0.6, 0.7, 0.65, 0.9], monitor="val_accuracy")
    assert accuracy.mode == "max" and epochs == 4 and accuracy.best == 0.7
    assert EarlyStopping(monitor="acc").mode == "max"
    assert EarlyStopping(monitor="val_auc").mode == "max"
    assert EarlyStopping(monitor="mae").mode == "min"
    assert EarlyStopping(monitor="accuracy", mode="min").mode == "min"
    with pytest.warns(UserWarning, match="unknown"):
        assert EarlyStopping(monitor="loss", mode="sideways").mode == "min"


def test_restore_best_weights_on_early_stop():
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    model, epochs = run_epochs(stopper, [1.0, 0.5, 0.7, 0.8, 0.1])
    assert epochs == 4 and stopper.best_epoch == 1
    # The best epoch's weights came back although the model was modified in place afterwards.
    assert all(np.all(w == 1.0) for w in model.weights) and model.set_calls == 1


def test_restore_best_weights_when_epochs_run_out():
    """Keras 3 (>= 3.4) restores at train end even when training was not stopped early."""
    stopper = EarlyStopping(patience=10, restore_best_weights=True)
    model, epochs = run_epochs(stopper, [1.0, 0.2, 0.7, 0.8])
    assert epochs == 4 and stopper.stopped_epoch == 0
    assert all(np.all(w == 1.0) for w in model.weights)


def test_no_restore_by_default():
    model, epochs = run_epochs(EarlyStopping(patience=1), [1.0, 0.5, 0.7, 0.8])
    assert epochs == 3  # the last epoch's weights stay
    assert all(np.all(w == 2.0) for w in model.weights) and model.set_calls == 0


def test_baseline_keeps_the_wait_running_until_beaten():
    values = [0.9, 0.8, 0.85, 0.86, 0.87]
    _, epochs = run_epochs(EarlyStopping(patience=2), values)
    assert epochs == 4  # wait reset at epoch 1, exhausted at epoch 3
    stopper = EarlyStopping(patience=2, baseline=0.5)
    _, epochs = run_epochs(stopper, values)
    # Epochs 0 and 1 improve but do not beat the baseline, so they do not reset the wait:
    # the first non-improving epoch already exceeds the patience.
    assert epochs == 3 and stopper.stopped_epoch == 2 and stopper.wait == 3
    stopper = EarlyStopping(patience=1, baseline=0.5)
    _, epochs = run_epochs(stopper, [0.4, 0.3, 0.35, 0.2])
    assert epochs == 3  # baseline beaten: behaves like plain patience


def test_start_from_epoch_ignores_warm_up():
    stopper = EarlyStopping(patience=0, start_from_epoch=3)
    _, epochs = run_epochs(stopper, [1.0, 2.0, 3.0, 4.0, 5.0, 1.0])
    assert epochs == 5 and stopper.stopped_epoch == 4 and stopper.best_epoch == 3


def test_missing_monitor_warns_with_available_keys_and_does_nothing():
    stopper = EarlyStopping(monitor="val_loss", patience=0)
    model = FakeModel()
    with pytest.warns(UserWarning, match="`val_loss`.*Available metrics are: loss,mae"):
        run_epochs(stopper, [1.0, 2.0, 3.0], monitor="loss", model=model, extra_logs={"mae": 0.1})
    assert not model.stop_training and stopper.wait == 0


def test_early_stopping_is_reusable_and_verbose(capsys):
    stopper = EarlyStopping(patience=0, restore_best_weights=True, verbose=1)
    run_epochs(stopper, [1.0, 2.0])
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out and "best epoch: 1." in out
    _, epochs = run_epochs(stopper, [5.0, 4.0, 3.0])  # best/wait were reset by on_train_begin
    assert epochs == 3 and stopper.best == 3.0 and stopper.stopped_epoch == 0


@pytest.mark.parametrize("kwargs, name", [({"patience": -1}, "patience"),
                                          ({"start_from_epoch": 1.5}, "start_from_epoch"),
                                          ({"min_delta": "0.1"}, "min_delta"),
                                          ({"baseline": float("nan")}, "baseline")])
def test_early_stopping_invalid_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`.*Received: {name}="):
        EarlyStopping(**kwargs)


# ---------------------------------------------------------------------------------------------
# ProgbarLogger
# ---------------------------------------------------------------------------------------------


class CountingValue:
    """A stand-in for a device scalar: counts how often it is converted with float()."""

    def __init__(self, value):
        self.value, self.conversions = value, 0

    def __float__(self):
        self.conversions += 1
        return float(self.value)


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def not_in_jupyter(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)


def drive_progbar(verbose, epochs=2, steps=40, stream=None, epoch_logs=True):
    """Run a ProgbarLogger through fit's calls; returns the batch values it was given."""
    logger = ProgbarLogger(stream=stream)
    callbacks = CallbackList([logger], FakeModel(), {"epochs": epochs, "steps": steps,
                                                     "verbose": verbose})
    batch_values = []
    callbacks.on_train_begin()
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        for batch in range(steps):
            value = CountingValue(1.0 / (batch + 1))
            batch_values.append(value)
            callbacks.on_train_batch_end(batch, {"loss": value, "mae": CountingValue(0.5)})
        logs = {"loss": 0.1234, "mae": 0.2345, "val_loss": 0.0001} if epoch_logs else None
        callbacks.on_epoch_end(epoch, logs)
    callbacks.on_train_end()
    return batch_values


def test_verbose1_off_terminal_prints_only_final_lines(capsys, not_in_jupyter):
    values = drive_progbar(verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    pattern = (r"^40/40 \[={30}\] - \d+\.\ds \d+(us|ms)/step - loss: 0\.1234 - mae: 0\.2345"
               r" - val_loss: 1\.0000e-04$")
    assert re.match(pattern, lines[1]) and re.match(pattern, lines[3])
    assert sum(v.conversions for v in values) == 0  # batch values were never converted


def test_verbose1_falls_back_to_last_batch_logs(capsys, not_in_jupyter):
    values = drive_progbar(verbose=1, epochs=1, steps=4, epoch_logs=False)
    assert capsys.readouterr().out.splitlines()[1].endswith("loss: 0.2500 - mae: 0.5000")
    assert [v.conversions for v in values] == [0, 0, 0, 1]


def test_verbose2_prints_one_line_per_epoch(capsys, not_in_jupyter):
    values = drive_progbar(verbose=2, epochs=3)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines, start=1):
        assert re.match(rf"^Epoch {epoch}/3 - \d+\.\ds - loss: 0\.1234 - mae: 0\.2345 - "
                        r"val_loss: 1\.0000e-04$", line)
    assert sum(v.conversions for v in values) == 0


def test_verbose0_prints_nothing(capsys):
    drive_progbar(verbose=0)
    assert capsys.readouterr().out == ""


def test_terminal_updates_in_place_and_throttles(monkeypatch, not_in_jupyter):
    clock = {"now": 100.0}
    monkeypatch.setattr(_progbar, "_now", lambda: clock["now"])
    stream = FakeTTY()
    logger = ProgbarLogger(stream=stream)
    logger.set_params({"epochs": 1, "steps": 40, "verbose": 1})
    logger.on_epoch_begin(0)
    values = []
    for batch in range(40):
        clock["now"] += 0.01  # 10 ms per step: at most every 10th step may render
        value = CountingValue(1.0 / (batch + 1))
        values.append(value)
        logger.on_train_batch_end(batch, {"loss": value})
    logger.on_epoch_end(0, {"loss": 0.5})
    rendered = [i for i, v in enumerate(values) if v.conversions]
    assert rendered[0] == 0 and rendered[-1] == 39  # first and last steps are always shown
    assert all(b - a >= 10 for a, b in zip(rendered, rendered[1:-1]))
    assert len(rendered) <= 6 and max(v.conversions for v in values) == 1
    out = stream.getvalue()
    assert out.startswith("Epoch 1/1\n\r 1/40 [>")
    assert "ETA: " in out and out.count("\r") == len(rendered) + 1
    final = out.split("\r")[-1]
    assert final.startswith("40/40 [" + "=" * 30 + "] - 0.4s 10ms/step - loss: 0.5000")
    assert final.endswith("\n")


def test_jupyter_kernel_counts_as_interactive(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    stream = io.StringIO()  # not a TTY, but inside a kernel '\r' works
    drive_progbar(verbose=1, epochs=1, steps=3, stream=stream)
    assert "\r" in stream.getvalue()


def test_stdout_is_looked_up_at_write_time(capsys, not_in_jupyter):
    logger = ProgbarLogger()
    logger.set_params({"epochs": 1, "steps": 1, "verbose": 2})
    logger.on_epoch_begin(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logger.on_epoch_end(0, {"loss": 1.0})
    assert capsys.readouterr().out.startswith("Epoch 1/1 - ")


def test_formatting_helpers():
    assert _progbar.format_bar(12, 40) == "12/40 [========>.....................]"
    assert _progbar.format_bar(3, None) == "3/Unknown"
    assert _progbar.format_duration(0.84) == "0.8s" and _progbar.format_duration(125) == "2m05s"
    assert _progbar.format_time_per_step(0.02) == "20ms/step"
    assert _progbar.format_time_per_step(3.5e-4) == "350us/step"
    assert _progbar.format_value(float("nan")) == "nan" and _progbar.format_value(0.0) == "0.0000"


def test_unknown_number_of_steps(capsys, not_in_jupyter):
    drive_progbar(verbose=1, epochs=1, steps=5, epoch_logs=True)
    known = capsys.readouterr().out.splitlines()[1]
    logger = ProgbarLogger()
    logger.set_params({"epochs": 1, "steps": None, "verbose": 1})
    logger.on_epoch_begin(0)
    for batch in range(5):
        logger.on_train_batch_end(batch, {"loss": 1.0})
    logger.on_epoch_end(0, {"loss": 0.1234, "mae": 0.2345, "val_loss": 0.0001})
    unknown = capsys.readouterr().out.splitlines()[1]
    assert unknown.startswith("5/5 [" + "=" * 30 + "]")  # the count seen becomes the target
    assert unknown.split(" - ")[2:] == known.split(" - ")[2:]
