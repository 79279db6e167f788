"""The fit loop and the optimizer: state carried across fit calls, a learning rate set between
epochs (without recompiling on JAX), EMA weights at the end, loss scaling."""

import numpy as np
import pytest

from scratchlstm import LSTM, Dense, Sequential, callbacks, optimizers

BACKENDS = ["numpy", "jax"]


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 5, 2))
    return x, np.tanh(x[:, -1, :1]) + 0.1 * x[:, 0, 1:]


def _model(backend, optimizer):
    if backend == "jax":
        pytest.importorskip("jax")
    model = Sequential([LSTM(4, dtype="float64"), Dense(1, dtype="float64")], seed=1)
    model.compile(optimizer, "mse", backend=backend)
    return model


@pytest.fixture(autouse=True)
def _x64():
    try:
        import jax
    except ImportError:
        yield
        return
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_fits_continue_the_optimizer_as_one(backend):
    x, y = _data()
    once = _model(backend, optimizers.Adam(0.01))
    once.fit(x, y, batch_size=8, epochs=4, shuffle=False, verbose=0)
    twice = _model(backend, optimizers.Adam(0.01))
    twice.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    twice.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert twice.optimizer.iterations == once.optimizer.iterations == 12
    for a, b in zip(twice.get_weights(), once.get_weights()):
        if backend == "numpy":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    twice.compile(optimizers.Adam(0.01), "mse", backend=backend)  # compile starts the optimizer afresh
    assert twice._resumed_optimizer_state(twice._backend()) is None


class HalveAfterFirstEpoch(callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.model.optimizer.learning_rate = self.model.optimizer.learning_rate / 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_learning_rate_set_by_a_callback_applies_from_the_next_step(backend):
    x, y = _data()
    halved = _model(backend, optimizers.SGD(0.1))
    halved.fit(x, y, batch_size=24, epochs=2, shuffle=False, verbose=0, callbacks=[HalveAfterFirstEpoch()])
    assert halved.optimizer.learning_rate == 0.05
    # the same by hand: one epoch at 0.1, one at 0.05 (a new fit keeps the optimizer state)
    manual = _model(backend, optimizers.SGD(0.1))
    manual.fit(x, y, batch_size=24, epochs=1, shuffle=False, verbose=0)
    manual.optimizer.learning_rate = 0.05
    manual.fit(x, y, batch_size=24, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(halved.get_weights(), manual.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    unchanged = _model(backend, optimizers.SGD(0.1))
    unchanged.fit(x, y, batch_size=24, epochs=2, shuffle=False, verbose=0)
    assert not np.allclose(unchanged.get_weights()[0], halved.get_weights()[0])


def test_setting_the_learning_rate_does_not_recompile_the_jax_step():
    from scratchlstm.jax_backend import _training

    x, y = _data()
    model = _model("jax", optimizers.SGD(0.1))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    before = _training.TRACE_COUNTS["train"]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[HalveAfterFirstEpoch()])
    assert _training.TRACE_COUNTS["train"] == before


@pytest.mark.parametrize("backend", BACKENDS)
def test_use_ema_keeps_the_moving_average_and_both_backends_agree(backend):
    x, y = _data()
    plain = _model(backend, optimizers.Adam(0.01))
    plain.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    averaged = _model(backend, optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9))
    averaged.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert not np.allclose(plain.get_weights()[0], averaged.get_weights()[0])
    reference = _model("numpy", optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9))
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(averaged.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_loss_scale_factor_leaves_the_trajectory_and_the_logged_loss_alone(backend):
    x, y = _data()
    plain = _model(backend, optimizers.SGD(0.1))
    history = plain.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    scaled = _model(backend, optimizers.SGD(0.1, loss_scale_factor=128.0))
    scaled_history = scaled.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(scaled_history["loss"], history["loss"], rtol=1e-12)
    for a, b in zip(scaled.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
