"""``compile(backend="jax")``: same training as the NumPy backend, one compile per epoch shape,
non-finite steps skipped, data parallel over several devices."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")

from scratchlstm import Dense, LSTM, Sequential, optimizers  # noqa: E402
from scratchlstm.jax_backend import TrainState, make_training_backend  # noqa: E402
from scratchlstm.jax_backend import _training  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def regression_data(dtype, n=70, steps=6, features=2):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, steps, features)).astype(dtype)
    y = (np.tanh(x[:, -1, :1]) + 0.3 * x[:, 0, 1:2]).astype(dtype)
    return x, y


def regression_model(backend, dtype="float64", optimizer=None):
    model = Sequential([LSTM(5, dtype=dtype), Dense(1, dtype=dtype)], seed=3)
    model.compile(optimizer=optimizer or optimizers.Adam(0.02), loss="mse", metrics=["mae"], backend=backend)
    return model


def assert_history_close(a, b, rtol, atol):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=atol, err_msg=key)


def fit_both(make, x, y, **fit_kwargs):
    histories, models = {}, {}
    for backend in ("numpy", "jax"):
        models[backend] = make(backend)
        histories[backend] = models[backend].fit(x, y, verbose=0, **fit_kwargs).history
    return histories, models


# --- parity with the NumPy backend ------------------------------------------------------------------
def test_fit_history_weights_and_inference_match_numpy_backend_float64():
    x, y = regression_data(np.float64)
    histories, models = fit_both(regression_model, x, y, epochs=3, batch_size=32, validation_split=0.2)
    assert set(histories["jax"]) == {"loss", "mae", "val_loss", "val_mae"}
    assert histories["jax"]["loss"][-1] < histories["jax"]["loss"][0]  # it trains
    assert_history_close(histories["jax"], histories["numpy"], rtol=1e-8, atol=1e-12)
    for w_jax, w_np in zip(models["jax"].get_weights(), models["numpy"].get_weights()):
        assert isinstance(w_jax, np.ndarray) and w_jax.dtype == np.float64
        np.testing.assert_allclose(w_jax, w_np, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(models["jax"].predict(x[:37], batch_size=16), models["numpy"].predict(x[:37], batch_size=16), atol=1e-10)
    jax_eval = models["jax"].evaluate(x, y, batch_size=32, return_dict=True)
    np_eval = models["numpy"].evaluate(x, y, batch_size=32, return_dict=True)
    assert jax_eval.keys() == np_eval.keys()
    for key in np_eval:
        assert jax_eval[key] == pytest.approx(np_eval[key], rel=1e-9)


def test_fit_history_matches_numpy_backend_float32():
    with jax.enable_x64(False):
        x, y = regression_data(np.float32)
        histories, models = fit_both(lambda b: regression_model(b, "float32"), x, y, epochs=3, batch_size=32)
        # A float64 model with x64 off trains in float32 (with a warning), hands back float64.
        model64 = regression_model("jax", "float64")
        with pytest.warns(UserWarning, match="jax_enable_x64 is off"):
            history64 = model64.fit(x.astype(np.float64), y.astype(np.float64), epochs=3, batch_size=32, verbose=0).history
    assert_history_close(histories["jax"], histories["numpy"], rtol=1e-5, atol=1e-6)
    assert all(w.dtype == np.float32 for w in models["jax"].get_weights())
    assert all(w.dtype == np.float64 for w in model64.get_weights())
    assert_history_close(history64, histories["jax"], rtol=1e-6, atol=1e-7)


def test_sequence_classification_matches_numpy_backend():
    """return_sequences + softmax head + sparse labels + RMSprop with momentum and clipnorm."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4, 3))
    y = (x[..., 0] > 0).astype(np.int64) + (x[..., 1] > 1)  # labels 0..2 per step, (N, T)

    def make(backend):
        model = Sequential([LSTM(6, return_sequences=True, dtype="float64"), Dense(3, activation="softmax", dtype="float64")], seed=5)
        model.compile(
            optimizer=optimizers.RMSprop(0.01, momentum=0.5, clipnorm=0.5),
            loss="sparse_categorical_crossentropy", metrics=["accuracy"], backend=backend,
        )
        return model

    histories, _ = fit_both(make, x, y, epochs=2, batch_size=16)
    assert set(histories["jax"]) == {"loss", "accuracy"}
    assert_history_close(histories["jax"], histories["numpy"], rtol=1e-8, atol=1e-12)


def test_out_of_range_sparse_labels_are_rejected_before_training():
    model = Sequential([LSTM(2, dtype="float64"), Dense(3, activation="softmax", dtype="float64")], seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", backend="jax")
    model.build((None, 2, 1))
    backend = make_training_backend(model)
    state = backend.init_state(model.get_variables(), 4)
    with pytest.raises(ValueError, match=r"sparse labels must be integers in \[0, 2\]"):
        backend.train_step(state, [np.zeros((4, 2, 1))], [np.array([0, 1, 3, 0])])


# --- compilation ---------------------------------------------------------------------------------
def test_train_step_compiles_once_for_all_batches_including_the_partial_one():
    x, y = regression_data(np.float64, n=45)  # batches of 16, 16 and 13
    model = regression_model("jax", optimizer=optimizers.SGD(0.05, momentum=0.9))
    before = _training.TRACE_COUNTS["train"]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert _training.TRACE_COUNTS["train"] - before == 1
    backend = make_training_backend(model)
    assert backend.compiled.trace_count("train") == 1  # jit's own cache agrees
    # Another fit of the same model (a fresh backend object) reuses the compiled step, and so
    # do predict calls with the same batch size. (A new model has new layer names, hence new
    # parameter keys, and compiles its own step, as in Keras.)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    before_predict = _training.TRACE_COUNTS["predict"]
    model.predict(x, batch_size=16)
    model.predict(x[:20], batch_size=16)
    assert _training.TRACE_COUNTS["train"] - before == 1
    assert _training.TRACE_COUNTS["predict"] - before_predict == 1


# --- the protocol: NaN stickiness, params round trip ------------------------------------------------
def _protocol_backend():
    model = regression_model("jax", optimizer=optimizers.SGD(0.05, momentum=0.9))
    model.build((None, 6, 2), np.float64)
    return model, make_training_backend(model)


def test_non_finite_step_is_skipped_and_sticky():
    x, y = regression_data(np.float64, n=32)  # batches of 16: the compiled step of the test above
    model, backend = _protocol_backend()
    state = backend.init_state(model.get_variables(), 16)
    state, logs = backend.train_step(state, [x[:16]], [y[:16]])
    assert np.isfinite(float(logs["loss"])) and bool(state.finite)
    good_params = backend.get_variables(state)["params"]
    good_optimizer_state = jax.device_get(state.optimizer_state)

    bad_y = y[16:].copy()
    bad_y[3] = np.inf
    state, logs = backend.train_step(state, [x[16:]], [bad_y])
    assert not np.isfinite(float(logs["loss"])) and not bool(state.finite)
    state, logs = backend.train_step(state, [x[:16]], [y[:16]])  # a good batch after a bad one
    assert np.isnan(float(logs["loss"]))  # not applied, so not reported as a finite loss
    assert not bool(state.finite)
    now = backend.get_variables(state)["params"]
    for layer, good in good_params.items():
        for name in good:
            np.testing.assert_array_equal(now[layer][name], good[name])
    for now, before in zip(jax.tree_util.tree_leaves(jax.device_get(state.optimizer_state)), jax.tree_util.tree_leaves(good_optimizer_state)):
        np.testing.assert_array_equal(now, before)


def test_variables_round_trip_and_with_variables_keeps_optimizer_state():
    x, y = regression_data(np.float64, n=16)
    model, backend = _protocol_backend()
    variables = model.get_variables()
    params, first = variables["params"], model.layers[0].name
    state = backend.init_state(variables, 16)
    assert isinstance(state, TrainState)
    state, _ = backend.train_step(state, [x], [y])
    host = backend.get_variables(state)["params"]
    assert {k: sorted(p) for k, p in host.items()} == {k: sorted(p) for k, p in params.items()}
    host[first]["kernel"][0, 0] = 123.0  # host copies are writable and independent of the device
    assert float(backend.get_variables(state)["params"][first]["kernel"][0, 0]) != 123.0
    optimizer_leaves = jax.tree_util.tree_leaves(jax.device_get(state.optimizer_state))
    restored = backend.with_variables(state, variables)
    for a, b in zip(jax.tree_util.tree_leaves(jax.device_get(restored.optimizer_state)), optimizer_leaves):
        np.testing.assert_array_equal(a, b)
    restored_params = backend.get_variables(restored)["params"]
    for layer, original in params.items():
        for name in original:
            np.testing.assert_array_equal(restored_params[layer][name], original[name])


# --- several devices ---------------------------------------------------------------------------------
MULTI_DEVICE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import jax
    jax.config.update("jax_enable_x64", True)
    from scratchlstm import Dense, LSTM, Sequential, optimizers
    from scratchlstm.jax_backend import make_training_backend

    assert len(jax.devices()) == 4, jax.devices()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 6, 2))
    y = np.tanh(x[:, -1, :1]) + 0.3 * x[:, 0, 1:2]

    def model():
        m = Sequential([LSTM(5, dtype=dtype), Dense(1, dtype=dtype)], seed=3)
        m.compile(optimizer=optimizers.Adam(0.02, clipnorm=1.0), loss="mse", metrics=["mae"], backend="jax")
        m.build((None, 6, 2), np.dtype(dtype))
        return m

    def run(devices):
        m = model()
        backend = make_training_backend(m, devices=devices)
        state = backend.init_state(m.get_variables(), 30)  # 30 rows -> 32 on 4 devices
        losses = []
        for epoch in range(2):
            for start in range(0, 70, 30):  # batches of 30, 30 and 10
                state, logs = backend.train_step(state, [x[start:start + 30]], [y[start:start + 30]])
                losses.append(float(logs["loss"]))
        variables = backend.get_variables(state)
        params = variables["params"]
        kernel = state.trainable[m.layers[0].name + "/kernel"]
        return {
            "losses": losses,
            "weights": [params[layer.name][k].tolist() for layer in m.layers for k in sorted(params[layer.name])],
            "evaluate": backend.evaluate(variables, [x], [y], None, 30)[0],
            "predict": backend.predict(variables, [x], 30)[0][0].tolist(),
            "param_devices": len(kernel.sharding.device_set),
            "replicated": bool(kernel.sharding.is_fully_replicated),
        }

    results = {}
    for dtype in ("float64", "float32"):
        x, y = x.astype(dtype), y.astype(dtype)
        results[dtype] = {"many": run(jax.devices()), "one": run(jax.devices()[:1])}
    # Public path too: model.fit on all (4) devices.
    results["fit"] = model().fit(x, y, epochs=2, batch_size=30, verbose=0).history
    print(json.dumps(results))
    """
)


@pytest.mark.slow
def test_data_parallel_on_four_cpu_devices_matches_one_device():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", MULTI_DEVICE_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for dtype, rtol in (("float64", 1e-10), ("float32", 2e-5)):
        many, one = result[dtype]["many"], result[dtype]["one"]
        assert many["param_devices"] == 4 and many["replicated"]
        assert one["param_devices"] == 1
        np.testing.assert_allclose(many["losses"], one["losses"], rtol=rtol, err_msg=dtype)
        for a, b in zip(many["weights"], one["weights"]):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, err_msg=dtype)
        for key in one["evaluate"]:
            assert many["evaluate"][key] == pytest.approx(one["evaluate"][key], rel=rtol)
        np.testing.assert_allclose(many["predict"], one["predict"], rtol=rtol, atol=rtol, err_msg=dtype)
    assert np.all(np.isfinite(result["fit"]["loss"])) and result["fit"]["loss"][-1] < result["fit"]["loss"][0]


def test_missing_jax_gives_the_install_hint():
    code = "import sys; sys.modules['jax'] = None\ntry:\n import scratchlstm.jax_backend\nexcept ImportError as e:\n print(e)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert 'scratchlstm.jax_backend needs JAX: pip install "scratchlstm[jax]"' in done.stdout


def test_fit_stops_at_the_first_non_finite_loss_and_matches_the_numpy_backend():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5, 2)).astype(np.float32)
    y = 1e3 * rng.normal(size=(32, 1)).astype(np.float32)
    results = {}
    for backend in ("numpy", "jax"):
        model = Sequential([LSTM(4), Dense(1)], seed=0)
        model.compile(optimizers.SGD(learning_rate=1e4), "mse", backend=backend)
        with pytest.warns(RuntimeWarning, match="Training stopped"):
            history = model.fit(x, y, epochs=20, batch_size=8, verbose=0, shuffle=False)
        assert all(np.isfinite(w).all() for w in model.get_weights())
        results[backend] = (len(history.history.get("loss", [])), model.get_weights())
    # The JAX loop reads each loss one batch late, yet stops at the same batch with the same weights.
    assert results["numpy"][0] == results["jax"][0] < 20
    for a, b in zip(results["numpy"][1], results["jax"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
