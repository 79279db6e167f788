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


# ---------------------------------------------------------------------------------------------
# The Keras callbacks in real fit runs, on both backends
# ---------------------------------------------------------------------------------------------

import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import scratchlstm as keras  # noqa: E402
from scratchlstm.callbacks import (  # noqa: E402
    BackupAndRestore,
    CheckpointPathError,
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)

BACKENDS = ["numpy", "jax"]


def fit_data(n=24):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 5, 2)).astype(np.float32)
    return x, np.tanh(x[:, -1, :1]) + 0.1 * x[:, 0, 1:]


def fit_model(backend="numpy", lr=0.1, metrics=("mae",)):
    if backend == "jax":
        pytest.importorskip("jax")
    model = keras.Sequential([keras.layers.LSTM(3), keras.layers.Dense(1)], seed=1)
    model.compile(keras.optimizers.SGD(lr), "mse", metrics=list(metrics), backend=backend)
    model.build((None, 5, 2))
    return model


def copies(weights):
    return [np.array(w, copy=True) for w in weights]


class Scripted(Callback):
    """Puts scripted values into the epoch logs (as a metric would) and snapshots the weights."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values, self.weights = key, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(copies(self.model.get_weights()))


def improving_epochs(values, better):
    best, chosen = None, []
    for epoch, value in enumerate(values):
        if best is None or better(value, best):
            best = value
            chosen.append(epoch)
    return chosen


@pytest.mark.parametrize("backend", BACKENDS)
def test_model_checkpoint_writes_only_improvements_with_the_best_epochs_weights(backend, tmp_path):
    x, y = fit_data()
    scores = [0.9, 0.7, 0.8, 0.6, 0.65, 0.66]
    model = fit_model(backend)
    scripted = Scripted("score", scores)
    on_score = ModelCheckpoint(tmp_path / "score" / "m-{epoch:02d}-{score:.2f}.npz", monitor="score", mode="min",
                               save_best_only=True)
    on_val = ModelCheckpoint(str(tmp_path / "val" / "w-{epoch}-{val_loss:.4f}-{loss:.4f}.weights.npz"),
                             save_best_only=True, save_weights_only=True)
    latest = ModelCheckpoint(tmp_path / "latest.npz", monitor="score", mode="max", save_best_only=True)
    history = model.fit(x, y, batch_size=8, epochs=6, verbose=0, validation_data=(x[:8], y[:8]),
                        callbacks=[scripted, on_score, on_val, latest])
    assert sorted(os.listdir(tmp_path / "score")) == ["m-01-0.90.npz", "m-02-0.70.npz", "m-04-0.60.npz"]
    for epoch in (0, 1, 3):  # each file holds the weights of its epoch, compile settings included
        loaded = keras.models.load_model(tmp_path / "score" / f"m-{epoch + 1:02d}-{scores[epoch]:.2f}.npz")
        for a, b in zip(loaded.get_weights(), scripted.weights[epoch]):
            np.testing.assert_array_equal(a, b)
        assert loaded.optimizer.learning_rate == 0.1
    val_losses, losses = history.history["val_loss"], history.history["loss"]
    expected = improving_epochs(val_losses, lambda v, best: v < best - 1e-12)
    assert 0 < len(expected) < 6  # the run has both kinds of epochs
    assert sorted(os.listdir(tmp_path / "val")) == sorted(
        f"w-{e + 1}-{val_losses[e]:.4f}-{losses[e]:.4f}.weights.npz" for e in expected)
    best = expected[-1]
    # Loaded into the trained model itself: after a JAX fit the model's weight-path order is
    # sorted, and load_weights into a freshly built model then matches arrays by the wrong position
    # (a models/ issue, reported; not this callback's).
    model.load_weights(tmp_path / "val" / f"w-{best + 1}-{val_losses[best]:.4f}-{losses[best]:.4f}.weights.npz")
    for a, b in zip(model.get_weights(), scripted.weights[best]):
        np.testing.assert_array_equal(a, b)
    # one name, overwritten by each better model (mode max: the best score is the first, 0.9)
    for a, b in zip(keras.models.load_model(tmp_path / "latest.npz").get_weights(), scripted.weights[0]):
        np.testing.assert_array_equal(a, b)
    assert (on_score.best, latest.best) == (0.6, 0.9)


def test_model_checkpoint_every_epoch_and_missing_monitor(tmp_path, capsys):
    x, y = fit_data()
    every = ModelCheckpoint(tmp_path / "every-{epoch}.npz", verbose=1)
    fallback = ModelCheckpoint(tmp_path / "fallback-{epoch}.npz", save_best_only=True)  # no val_loss logged
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        fit_model().fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[every, fallback])
    assert sorted(os.listdir(tmp_path)) == [f"{kind}-{e}.npz" for kind in ("every", "fallback") for e in (1, 2, 3)]
    assert capsys.readouterr().out.count("finished saving model to") == 3


@pytest.mark.parametrize("filepath, weights_only", [("m.h5", False), ("m.weights.h5", False), ("m.pt", False),
                                                    ("m.keras", True), ("m.h5", True), ("m", True)])
def test_model_checkpoint_refuses_names_of_other_formats(filepath, weights_only):
    with pytest.raises(ValueError, match=r"filepath provided must end in .*Received: filepath=" + re.escape(filepath)):
        ModelCheckpoint(filepath, save_weights_only=weights_only)


def test_model_checkpoint_bad_arguments(tmp_path):
    with pytest.raises(NotImplementedError, match="save_freq=10.*Use save_freq='epoch'"):
        ModelCheckpoint("m.npz", save_freq=10)
    with pytest.raises(ValueError, match="Unrecognized save_freq: 'batch'"):
        ModelCheckpoint("m.npz", save_freq="batch")
    with pytest.raises(ValueError, match=r"not a valid format template.*Received: filepath='m-\{epoch\.npz'"):
        ModelCheckpoint("m-{epoch.npz")
    with pytest.raises(ValueError, match="`initial_value_threshold` must be a finite number"):
        ModelCheckpoint("m.npz", initial_value_threshold="0.5")
    with pytest.raises(ValueError, match="`filepath` must be a non-empty string or path. Received: filepath=3"):
        ModelCheckpoint(3)
    with pytest.raises(ValueError, match="`save_best_only` must be True or False"):
        ModelCheckpoint("m.npz", save_best_only="yes")


def test_model_checkpoint_unknown_template_key_fails_before_writing(tmp_path):
    x, y = fit_data()
    checkpoint = ModelCheckpoint(tmp_path / "m-{epoch}-{val_acc:.2f}.npz")
    with pytest.raises(CheckpointPathError, match=r"'val_acc' is not available; the template can use "
                                                  r"\['epoch', 'loss', 'mae', 'val_loss', 'val_mae'\]") as error:
        fit_model().fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x, y), callbacks=[checkpoint])
    assert isinstance(error.value, KeyError) and isinstance(error.value, ValueError)
    assert os.listdir(tmp_path) == []


def test_monitor_that_cannot_be_placed_fails_before_training():
    x, y = fit_data()
    model = fit_model()
    before = copies(model.get_weights())
    for callback in (ReduceLROnPlateau(monitor="val_acc"), ModelCheckpoint("never.npz", monitor="score")):
        with pytest.raises(ValueError, match=r"monitor=(val_acc|score), but it is not able to automatically determine"
                                             r".*\['mae'\].*mode='max'"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    placed = ReduceLROnPlateau(monitor="val_mae", min_delta=0.5)  # a compiled metric: Keras' direction
    placed.set_model(model)
    placed.on_train_begin()
    assert placed.monitor_op(0.0, 1.0) and not placed.monitor_op(1.0, 0.0) and placed.min_delta == -0.5


def manual_run(backend, rates, epochs_per_call=1):
    """Train one epoch per fit call, setting each epoch's learning rate by hand."""
    x, y = fit_data()
    model = fit_model(backend)
    for rate in rates:
        model.optimizer.learning_rate = rate
        model.fit(x, y, batch_size=8, epochs=epochs_per_call, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("backend", BACKENDS)
def test_learning_rate_scheduler_sets_the_rate_the_epoch_trains_with(backend, capsys):
    x, y = fit_data()
    model = fit_model(backend)
    schedule = LearningRateScheduler(lambda epoch, lr: 0.3 / (1 + epoch) if epoch < 3 else lr * 0.5, verbose=1)
    history = model.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0, callbacks=[schedule])
    rates = [0.3, 0.15, 0.1, 0.05]
    assert history.history["learning_rate"] == pytest.approx(rates, rel=1e-12)
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.15." in capsys.readouterr().out
    for a, b in zip(model.get_weights(), manual_run(backend, rates).get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # the same run at the original rate ends elsewhere: the rates were used
    assert not np.allclose(model.get_weights()[0], manual_run(backend, [0.1] * 4).get_weights()[0], atol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reduce_lr_on_plateau_in_fit(backend):
    x, y = fit_data()
    model = fit_model(backend)
    scores = [1.0, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4]
    reduce = ReduceLROnPlateau(monitor="score", mode="min", factor=0.5, patience=2, min_lr=0.03)
    history = model.fit(x, y, batch_size=8, epochs=7, shuffle=False, verbose=0,
                        callbacks=[Scripted("score", scores), reduce])
    # epoch 3 is the second without improvement: 0.1 -> 0.05; epoch 6 again: 0.05 -> max(0.025, 0.03)
    rates = [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05]
    assert history.history["learning_rate"] == pytest.approx(rates)
    assert model.optimizer.learning_rate == pytest.approx(0.03)
    for a, b in zip(model.get_weights(), manual_run(backend, rates).get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_reduce_lr_warns_when_the_monitor_is_never_logged_and_changes_nothing():
    x, y = fit_data()
    model = fit_model()
    with pytest.warns(UserWarning, match=r"`val_loss` which is not available. Available metrics are: "
                                         r"loss,mae,learning_rate\."):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[ReduceLROnPlateau(patience=0)])
    assert model.optimizer.learning_rate == 0.1


@pytest.mark.parametrize("kwargs, message", [
    ({"factor": 1.0}, "does not support a factor >= 1.0. Received factor=1.0"),
    ({"factor": -0.5}, "`factor` must be >= 0.0. Received: factor=-0.5"),
    ({"factor": 0.0}, "factor=0 and min_lr=0"),
    ({"patience": 1.5}, "`patience` must be an integer >= 0. Received: patience=1.5"),
    ({"cooldown": -1}, "`cooldown` must be an integer >= 0"),
    ({"min_lr": -1e-3}, "`min_lr` must be >= 0.0"),
    ({"min_delta": None}, "`min_delta` must be a finite number. Received: min_delta=None"),
    ({"monitor": 3}, "`monitor` must be a string. Received: monitor=3 of type int"),
])
def test_reduce_lr_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ReduceLROnPlateau(**kwargs)


def test_learning_rate_scheduler_bad_input():
    with pytest.raises(ValueError, match="`schedule` must be a function schedule.*Received: schedule=0.1"):
        LearningRateScheduler(0.1)
    x, y = fit_data()
    model = fit_model()
    before = copies(model.get_weights())
    with pytest.raises(ValueError, match="should be a float. Got: '0.1' of type str"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda epoch, lr: "0.1")])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    scheduled = keras.Sequential([keras.layers.Dense(1)])
    scheduled.compile(keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)), "mse")
    with pytest.raises(TypeError, match="not settable to a float"):  # as Keras
        scheduled.fit(np.ones((4, 1)), np.ones((4, 1)), verbose=0, callbacks=[LearningRateScheduler(lambda e, lr: lr)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_csv_logger_rows_and_columns(backend, tmp_path):
    x, y = fit_data()
    path = tmp_path / "log.csv"
    model = fit_model(backend)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, validation_data=(x[:8], y[:8]),
                        callbacks=[CSVLogger(path)])
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    for column, key in enumerate(rows[0][1:], start=1):
        assert [float(r[column]) for r in rows[1:]] == history.history[key]  # exact: repr of the floats
    assert path.read_bytes().count(b"\r\n") == 4
    # append: no second header; a semicolon file without validation gets NA val_ columns
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_data=(x[:8], y[:8]),
              callbacks=[CSVLogger(path, append=True)])
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 6 and rows[4][0] == "0" and rows.count(rows[0]) == 1
    other = tmp_path / "train.csv"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(other, separator=";")])
    lines = other.read_text().splitlines()
    assert lines[0] == "epoch;loss;mae;val_loss;val_mae" and lines[1].endswith(";NA;NA")


def test_csv_logger_bad_arguments():
    with pytest.raises(ValueError, match=r"`separator` must be a one-character string. Received: separator=', '"):
        CSVLogger("log.csv", separator=", ")
    with pytest.raises(ValueError, match="`append` must be True or False. Received: append='yes'"):
        CSVLogger("log.csv", append="yes")


@pytest.mark.parametrize("backend", BACKENDS)
def test_terminate_on_nan_stops_training(backend, capsys):
    x, y = fit_data()
    model = fit_model(backend, lr=1e18)  # the third batch's loss overflows to inf
    batches = []
    with pytest.warns(RuntimeWarning, match="non-finite loss"), np.errstate(over="ignore", invalid="ignore"):
        history = model.fit(x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
                            callbacks=[TerminateOnNaN(),
                                       LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))])
    # fit stops by itself at a non-finite loss, before the callbacks see that batch
    assert model.stop_training and history.epoch == [] and batches == [0, 1]
    assert all(np.isfinite(w).all() for w in model.get_weights())
    # driven directly, as Keras: stop_training and a message, or a RuntimeError
    stopper = TerminateOnNaN()
    stopper.set_model(FakeModel())
    stopper.on_train_batch_end(4, {"loss": 0.5})
    assert not stopper.model.stop_training
    stopper.on_train_batch_end(5, {"loss": float("inf")})
    assert stopper.model.stop_training and "Batch 5: Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2. Loss value: nan"):
        TerminateOnNaN(raise_error=True).on_batch_end(2, {"loss": np.float32("nan")})


@pytest.mark.parametrize("backend", BACKENDS)
def test_lambda_callback_hooks_fire_in_fit_order(backend):
    x, y = fit_data(n=20)
    calls = []
    def recorder(name):
        def record(*args):  # (logs) or (epoch/batch, logs): keep the index
            calls.append((name, *args[:-1]))
        return record

    hooks = {name: recorder(name) for name in ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
                                               "on_train_batch_begin", "on_train_batch_end")}
    also = []
    callback = LambdaCallback(**hooks, on_test_begin=lambda logs: also.append("test"))
    fit_model(backend).fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[callback])
    assert calls[0] == ("on_train_begin",) and calls[-1] == ("on_train_end",)
    for epoch in (0, 1):
        epoch_calls = calls[1 + 8 * epoch: 1 + 8 * (epoch + 1)]
        assert epoch_calls[0] == ("on_epoch_begin", epoch) and epoch_calls[-1] == ("on_epoch_end", epoch)
        assert sorted(c for c in epoch_calls[1:-1]) == sorted(
            [("on_train_batch_begin", b) for b in range(3)] + [("on_train_batch_end", b) for b in range(3)])
    assert len(calls) == 18 and also == []
    batch_ends = []  # a Keras alias reached through **kwargs
    fit_model().fit(x, y, batch_size=8, epochs=1, verbose=0,
                    callbacks=[LambdaCallback(on_batch_end=lambda batch, logs: batch_ends.append(logs["loss"]))])
    assert len(batch_ends) == 3 and all(np.isfinite(batch_ends))


def test_lambda_callback_bad_arguments():
    with pytest.raises(ValueError, match=r"unknown hook\(s\) \['on_epoch_ned'\]; expected some of \['on_train_begin'"):
        LambdaCallback(on_epoch_ned=print)
    with pytest.raises(ValueError, match="`on_epoch_end` must be a function or None. Received: on_epoch_end=3"):
        LambdaCallback(on_epoch_end=3)


# ---------------------------------------------------------------------------------------------
# BackupAndRestore
# ---------------------------------------------------------------------------------------------


class Interrupt(Callback):
    """Raises at the end of epoch ``at`` (after the callbacks before it ran)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt(f"interrupted after epoch {epoch}")


def test_backup_and_restore_writes_and_reads_the_backup(tmp_path):
    """The callback's own half, with a real model: what it writes at each epoch end and what it
    puts back at on_train_begin (the loop's half is the resume test below)."""
    x, y = fit_data()
    model = fit_model(lr=0.2)
    backup = BackupAndRestore(tmp_path / "backup", double_checkpoint=True)
    snapshots = Scripted("score", [0.0] * 5)
    rng_states = []
    record_rng = LambdaCallback(on_epoch_end=lambda e, logs: rng_states.append(model._shuffle_rng.bit_generator.state))
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, epochs=5, verbose=0,
                  callbacks=[snapshots, record_rng, ReduceLROnPlateau("score", patience=0, factor=0.5, mode="min"),
                             backup, Interrupt(at=2)])
    files = sorted(os.listdir(tmp_path / "backup"))
    assert files == ["latest.weights.npz", "latest.weights.npz.bkp", "training_metadata.json",
                     "training_metadata.json.bkp"]
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 3 and metadata["batch"] == 0
    assert metadata["learning_rate"] == pytest.approx(0.05)  # reduced after epochs 1 and 2
    assert metadata["shuffle_rng"] == json.loads(json.dumps(rng_states[2]))
    assert json.loads((tmp_path / "backup" / "training_metadata.json.bkp").read_text())["epoch"] == 2
    fresh = fit_model(lr=0.2)
    restore = BackupAndRestore(tmp_path / "backup")
    restore.set_model(fresh)
    restore.on_train_begin()
    assert fresh._initial_epoch == 3 and fresh.optimizer.learning_rate == pytest.approx(0.05)
    assert fresh._shuffle_rng.bit_generator.state == rng_states[2]
    for a, b in zip(fresh.get_weights(), snapshots.weights[2]):
        np.testing.assert_array_equal(a, b)
    # a corrupted latest backup falls back to the previous one
    (tmp_path / "backup" / "latest.weights.npz").write_bytes(b"not a zip file")
    (tmp_path / "backup" / "training_metadata.json").write_text("{")
    restore.on_train_begin()
    assert fresh._initial_epoch == 2
    for a, b in zip(fresh.get_weights(), snapshots.weights[1]):
        np.testing.assert_array_equal(a, b)
    restore.on_train_end()  # delete_checkpoint=True: the folder goes
    assert not (tmp_path / "backup").exists()


def test_backup_and_restore_bad_arguments():
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed. Received: backup_dir=''"):
        BackupAndRestore("")
    with pytest.raises(NotImplementedError, match=r"BackupAndRestore\(save_freq=5\)"):
        BackupAndRestore("backup", save_freq=5)
    with pytest.raises(ValueError, match="Unrecognized save_freq: 'batch'"):
        BackupAndRestore("backup", save_freq="batch")
    with pytest.raises(ValueError, match="`delete_checkpoint` must be True or False"):
        BackupAndRestore("backup", delete_checkpoint=None)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("optimizer", ["adam", "sgd-momentum"])
def test_backup_and_restore_resumes_an_interrupted_run(backend, optimizer, tmp_path):
    x, y = fit_data()

    def model():
        m = fit_model(backend)
        m.compile(keras.optimizers.Adam(0.01) if optimizer == "adam" else keras.optimizers.SGD(0.1, momentum=0.9),
                  "mse", metrics=["mae"], backend=backend)
        return m

    def reduce():  # the rate changes once, before the interruption: the resumed run must keep it
        def halve(epoch, logs):
            if epoch == 1:
                uninterrupted_or_resumed = reducer.model
                uninterrupted_or_resumed.optimizer.learning_rate /= 2

        reducer = LambdaCallback(on_epoch_end=halve)
        return reducer

    uninterrupted = model()
    uninterrupted.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[reduce()])
    resumed = model()
    backup = BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        resumed.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[reduce(), backup, Interrupt(at=2)])
    resumed = model()  # as after a crash: a new process, a new model
    epochs = []
    history = resumed.fit(x, y, batch_size=8, epochs=5, verbose=0,
                          callbacks=[reduce(), backup, LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))])
    assert epochs == [3, 4] and history.epoch == [3, 4]
    assert not (tmp_path / "backup").exists()
    for a, b in zip(resumed.get_weights(), uninterrupted.get_weights()):
        if backend == "numpy":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_mode_auto_places_per_output_names_of_a_multi_output_model():
    """Keras 3.15 cannot place ``a_loss`` / ``a_mae`` (it raises); here they follow their metric."""
    inputs = keras.Input((3,))
    outputs = [keras.layers.Dense(1, name="a")(inputs), keras.layers.Dense(1, name="b", activation="sigmoid")(inputs)]
    model = keras.Model(inputs, outputs)
    model.compile("sgd", ["mse", "binary_crossentropy"], metrics=[["mae"], ["accuracy"]])
    directions = {}
    for monitor in ["loss", "a_loss", "val_b_loss", "a_mae", "val_b_accuracy", "b_mae", "mae"]:
        callback = ReduceLROnPlateau(monitor=monitor)
        callback.set_model(model)
        try:
            callback._set_monitor_op()
            directions[monitor] = "max" if callback.monitor_op(1, 0) else "min"
        except ValueError:
            directions[monitor] = "error"
    assert directions == {"loss": "min", "a_loss": "min", "val_b_loss": "min", "a_mae": "min",
                          "val_b_accuracy": "max", "b_mae": "error", "mae": "error"}
