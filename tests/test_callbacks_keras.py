"""The callbacks against live Keras 3 (its JAX backend): the same hooks, driven with the same
synthetic logs, must take the same decisions (learning rates after plateaus, which checkpoints are
written and under which names, CSV bytes, stops), and the constructors must have Keras' argument
names, order and defaults. Skipped when Keras is not installed."""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "jax":  # pragma: no cover - conftest selects the JAX backend
    pytest.skip("the Keras oracle runs on its JAX backend", allow_module_level=True)

import scratchlstm  # noqa: E402
from scratchlstm import callbacks, optimizers  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

NAN = float("nan")


def keras_model(lr=0.1, metrics=None):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(lr), "mse", metrics=metrics)
    return model


def our_model(lr=0.1, metrics=None):
    model = scratchlstm.Sequential([scratchlstm.Input((2,)), scratchlstm.layers.Dense(1)], seed=0)
    model.compile(optimizers.SGD(lr), "mse", metrics=metrics)
    return model


def drive_epochs(callback, model, logs_per_epoch, stdout=None):
    """on_train_begin, then on_epoch_begin/on_epoch_end with a copy of each logs dict; returns
    (the logs each epoch ended with, the learning rate after each epoch)."""
    callback.set_model(model)
    callback.set_params({"epochs": len(logs_per_epoch), "steps": 1, "verbose": 0})
    seen, rates = [], []
    with contextlib.redirect_stdout(stdout or io.StringIO()):
        callback.on_train_begin({})
        for epoch, logs in enumerate(logs_per_epoch):
            logs = dict(logs)
            callback.on_epoch_begin(epoch, {})
            callback.on_epoch_end(epoch, logs)
            seen.append(logs)
            rates.append(float(np.asarray(model.optimizer.learning_rate)))
        callback.on_train_end({})
    return seen, rates


# ---------------------------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------------------------

SAME_SIGNATURE = ["ModelCheckpoint", "LearningRateScheduler", "CSVLogger", "TerminateOnNaN", "BackupAndRestore",
                  "ReduceLROnPlateau", "LambdaCallback"]


@pytest.mark.parametrize("name", SAME_SIGNATURE)
def test_arguments_names_order_and_defaults_are_keras(name):
    def arguments(cls):
        return [(p.name, p.default) for p in inspect.signature(cls.__init__).parameters.values()
                if p.kind is p.POSITIONAL_OR_KEYWORD][1:]

    assert arguments(getattr(callbacks, name)) == arguments(getattr(keras.callbacks, name))


# ---------------------------------------------------------------------------------------------
# ReduceLROnPlateau
# ---------------------------------------------------------------------------------------------

PLATEAU = [1.0, 0.9, 0.9, 0.9, 0.95, 0.89995, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49, 0.49, 0.49, 0.49, 0.49, 0.49]
RISING = [0.1, 0.2, 0.2, 0.25, 0.25, 0.25, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
REDUCE_CASES = {
    "defaults-short-patience": ({"patience": 2}, PLATEAU),
    "cooldown": ({"patience": 1, "cooldown": 2, "factor": 0.5}, PLATEAU),
    "min-lr": ({"patience": 1, "factor": 0.2, "min_lr": 0.0015}, PLATEAU),
    # float32(0.7) < 0.7: once the rate is at min_lr, Keras (float32) sees no room to reduce
    "min-lr-rounds-down-in-float32": ({"patience": 0, "factor": 0.5, "min_lr": 0.7, "min_delta": 0.0}, PLATEAU),
    "min-delta-zero": ({"patience": 1, "min_delta": 0.0}, PLATEAU),
    "big-min-delta-negative": ({"patience": 1, "min_delta": -0.2, "factor": 0.5}, PLATEAU),
    "patience-zero": ({"patience": 0, "factor": 0.5}, PLATEAU),
    "max-mode": ({"patience": 1, "mode": "max", "factor": 0.5, "cooldown": 1}, RISING),
    "auto-on-loss": ({"monitor": "loss", "patience": 2, "factor": 0.3}, PLATEAU),
    "nan-values": ({"patience": 1, "factor": 0.5}, [NAN, 1.0, 0.5, NAN, 0.6, 0.4, 0.4, 0.4]),
}


@pytest.mark.parametrize("case", sorted(REDUCE_CASES))
def test_reduce_lr_on_plateau_follows_keras_learning_rates(case):
    kwargs, values = REDUCE_CASES[case]
    monitor = kwargs.get("monitor", "val_loss")
    logs = [{"loss": 1.0, monitor: value} for value in values]
    theirs = keras.callbacks.ReduceLROnPlateau(**kwargs, verbose=1)
    ours = callbacks.ReduceLROnPlateau(**kwargs, verbose=1)
    their_out, our_out = io.StringIO(), io.StringIO()
    lr = 0.9 if "float32" in case else 0.1
    their_logs, their_rates = drive_epochs(theirs, keras_model(lr), logs, their_out)
    our_logs, our_rates = drive_epochs(ours, our_model(lr), logs, our_out)
    np.testing.assert_allclose(our_rates, their_rates, rtol=1e-6)  # Keras keeps the rate in float32
    np.testing.assert_allclose([lg["learning_rate"] for lg in our_logs], [lg["learning_rate"] for lg in their_logs],
                               rtol=1e-6)
    assert len(set(np.round(our_rates, 12))) > 1  # the rate did change
    assert (ours.wait, ours.cooldown_counter) == (theirs.wait, theirs.cooldown_counter)
    assert [line.split(" to ")[0] for line in our_out.getvalue().splitlines()] == \
        [line.split(" to ")[0] for line in their_out.getvalue().splitlines()]


def test_reduce_lr_warns_like_keras_when_the_monitor_is_never_logged():
    for module, model in ((keras.callbacks, keras_model()), (callbacks, our_model())):
        with pytest.warns(UserWarning, match=r"conditioned on metric `val_loss` which is not available. "
                                             r"Available metrics are: loss,learning_rate\."):
            _, rates = drive_epochs(module.ReduceLROnPlateau(patience=0), model, [{"loss": 1.0}] * 3)
        assert rates == [pytest.approx(0.1)] * 3


def test_mode_auto_picks_the_direction_keras_picks():
    x = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    metrics = ["mae", "mse", "accuracy", "root_mean_squared_error"]
    theirs = keras_model(metrics=metrics)
    theirs.fit(x, y, epochs=1, verbose=0)  # Keras knows its metrics once they are built
    ours = our_model(metrics=metrics)
    ours.fit(x, y, epochs=1, verbose=0)
    for monitor in ["loss", "val_loss", "mae", "val_mae", "mse", "accuracy", "val_accuracy", "root_mean_squared_error",
                    "val_root_mean_squared_error", "unknown", "val_unknown", "learning_rate"]:
        directions = []
        for module, model in ((keras.callbacks, theirs), (callbacks, ours)):
            callback = module.ReduceLROnPlateau(monitor=monitor)
            callback.set_model(model)
            try:
                callback._set_monitor_op()
            except ValueError as error:
                assert "maximized or minimized" in str(error)
                directions.append("error")
            else:
                directions.append("max" if callback.monitor_op(1, 0) else "min")
                assert callback.min_delta == (1e-4 if directions[-1] == "max" else -1e-4)
        assert directions[0] == directions[1], monitor


def test_unknown_mode_warns_and_falls_back_to_auto_like_keras():
    for module in (keras.callbacks, callbacks):
        with pytest.warns(UserWarning, match="mode 'sideways' is unknown, fallback to auto mode"):
            assert module.ReduceLROnPlateau(mode="sideways").mode == "auto"


# ---------------------------------------------------------------------------------------------
# ModelCheckpoint
# ---------------------------------------------------------------------------------------------

CHECKPOINT_VALUES = [0.9, 0.8, 0.85, 0.8, 0.7, 0.75, 0.3]
CHECKPOINT_CASES = {
    "every-epoch": {},
    "best-only": {"save_best_only": True},
    "best-only-max": {"save_best_only": True, "mode": "max"},
    "threshold": {"save_best_only": True, "initial_value_threshold": 0.78},
    "fixed-name": {"save_best_only": True, "template": "best"},
    "missing-monitor": {"save_best_only": True, "monitor": "val_mae"},
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_model_checkpoint_saves_the_epochs_and_names_keras_saves(case, tmp_path, monkeypatch):
    kwargs = dict(CHECKPOINT_CASES[case])
    template = kwargs.pop("template", "w-{epoch:02d}-{val_loss:.3f}")
    mode_kwargs = {"mode": kwargs.pop("mode")} if "mode" in kwargs else {}
    monitor = kwargs.pop("monitor", "val_loss")
    if monitor != "val_loss":
        mode_kwargs["mode"] = "min"
    logs = [{"loss": 2.0, "val_loss": value} for value in CHECKPOINT_VALUES]

    saved_by_keras = []
    model = keras_model()
    monkeypatch.setattr(model, "save_weights", lambda path, overwrite=True: saved_by_keras.append(path))
    theirs = keras.callbacks.ModelCheckpoint(str(tmp_path / "keras" / f"{template}.weights.h5"), monitor=monitor,
                                             save_weights_only=True, verbose=1, **mode_kwargs, **kwargs)
    their_out = io.StringIO()
    ours = callbacks.ModelCheckpoint(tmp_path / "ours" / f"{template}.weights.npz", monitor=monitor,
                                     save_weights_only=True, verbose=1, **mode_kwargs, **kwargs)
    our_out = io.StringIO()
    with _maybe_warns(monitor != "val_loss"):
        drive_epochs(theirs, model, logs, their_out)
    with _maybe_warns(monitor != "val_loss"):
        drive_epochs(ours, our_model(), logs, our_out)

    def stems(paths):
        return [os.path.basename(p).split(".weights.")[0] for p in paths]

    written = sorted(os.listdir(tmp_path / "ours")) if (tmp_path / "ours").exists() else []
    assert stems(written) == sorted(set(stems(saved_by_keras)))
    assert ours.best == theirs.best
    normalise = lambda text: text.replace(str(tmp_path / "keras"), "<dir>").replace(".weights.h5", "")  # noqa: E731
    assert normalise(their_out.getvalue()) == our_out.getvalue().replace(str(tmp_path / "ours"), "<dir>").replace(
        ".weights.npz", "")


@contextlib.contextmanager
def _maybe_warns(expected):
    if expected:
        with pytest.warns(UserWarning, match="Can save best model only with val_mae available"):
            yield
    else:
        yield


def test_model_checkpoint_unknown_template_key_is_a_key_error_as_in_keras(tmp_path):
    logs = [{"loss": 1.0}]
    theirs = keras.callbacks.ModelCheckpoint(str(tmp_path / "{epoch}-{val_los}.keras"), monitor="loss")
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        drive_epochs(theirs, keras_model(), logs)
    ours = callbacks.ModelCheckpoint(tmp_path / "{epoch}-{val_los}.npz", monitor="loss")
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        drive_epochs(ours, our_model(), logs)
    assert os.listdir(tmp_path) == []


def test_model_checkpoint_save_freq_checks_like_keras():
    for module in (keras.callbacks, callbacks):
        with pytest.raises(ValueError, match="Unrecognized save_freq"):
            module.ModelCheckpoint("m.keras" if module is keras.callbacks else "m.npz", save_freq="batch")


# ---------------------------------------------------------------------------------------------
# LearningRateScheduler, TerminateOnNaN, CSVLogger
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", [lambda epoch, lr: lr * 0.5 if epoch % 2 else lr,
                                      lambda epoch: 0.1 / (1 + epoch),
                                      lambda epoch, lr: np.float32(lr + 0.01)])
def test_learning_rate_scheduler_sets_the_rates_keras_sets(schedule):
    logs = [{"loss": 1.0}] * 5
    their_logs, their_rates = drive_epochs(keras.callbacks.LearningRateScheduler(schedule), keras_model(), logs)
    our_logs, our_rates = drive_epochs(callbacks.LearningRateScheduler(schedule), our_model(), logs)
    np.testing.assert_allclose(our_rates, their_rates, rtol=1e-6)
    np.testing.assert_allclose([lg["learning_rate"] for lg in our_logs], [lg["learning_rate"] for lg in their_logs],
                               rtol=1e-6)


def test_learning_rate_scheduler_rejects_an_int_like_keras():
    for module, model in ((keras.callbacks, keras_model()), (callbacks, our_model())):
        with pytest.raises(ValueError, match="The output of the `schedule` function should be a float"):
            drive_epochs(module.LearningRateScheduler(lambda epoch, lr: 1), model, [{"loss": 1.0}])


@pytest.mark.parametrize("loss, raise_error", [(1.0, False), (NAN, False), (math.inf, False), (-math.inf, True),
                                               (NAN, True)])
def test_terminate_on_nan_decides_like_keras(loss, raise_error):
    outcomes = []
    for module, model in ((keras.callbacks, keras_model()), (callbacks, our_model())):
        callback = module.TerminateOnNaN(raise_error=raise_error)
        callback.set_model(model)
        model.stop_training = False
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                callback.on_train_batch_end(3, {"loss": loss})
                outcomes.append((model.stop_training, out.getvalue()))
            except RuntimeError as error:
                outcomes.append(("raised", str(error)))
    assert outcomes[0] == outcomes[1]


CSV_EPOCHS = [
    {"loss": 0.5, "mae": np.float32(0.25), "val_loss": 0.75, "val_mae": np.array(0.125)},
    {"loss": 0.123456789012345, "mae": 0.1, "val_loss": NAN},  # val_mae missing: NA
]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_logger_writes_the_bytes_keras_writes(tmp_path, separator):
    files = {}
    for name, module, model in (("keras", keras.callbacks, keras_model()), ("ours", callbacks, our_model())):
        path = tmp_path / f"{name}.csv"
        drive_epochs(module.CSVLogger(str(path), separator=separator), model, CSV_EPOCHS)
        drive_epochs(module.CSVLogger(str(path), separator=separator, append=True), model, CSV_EPOCHS[:1])
        no_validation = tmp_path / f"{name}-train-only.csv"
        drive_epochs(module.CSVLogger(str(no_validation), separator=separator), model, [{"loss": 1.5, "acc": 0.5}])
        files[name] = (path.read_bytes(), no_validation.read_bytes())
    assert files["ours"] == files["keras"]
    assert files["ours"][0].count(b"\r\n") == 4 and files["ours"][0].startswith(b"epoch")
    assert b"NA" in files["ours"][0] and files["ours"][1].endswith(b"NA" + separator.encode() + b"NA\r\n")
