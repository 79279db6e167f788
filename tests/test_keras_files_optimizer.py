"""Optimizer variables travel in ``.keras`` archives both ways, with live Keras as the oracle.

One library trains 3 steps (one batch each, ``shuffle=False``) and saves; the other loads and
trains 3 more on the same batches. Its weights must equal those of the first library after 6
steps of its own, to float32 tolerance: only a restored optimizer state (slots, iteration count,
learning rate) gives that.
"""

from __future__ import annotations

import io
import warnings
import zipfile

import numpy as np
import pytest

keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

import scratchlstm  # noqa: E402
from scratchlstm.keras_files._optimizer import keras_trainable_paths  # noqa: E402
from scratchlstm.models import load_model  # noqa: E402

BATCH = 4


def _model(K, recurrent=False):
    """Dense layers keep Keras' compile time low; the LSTM variant is for the Keras file with
    every slot shape the tests edit (`test_keras_order_of_trainable_variables` covers RNN order)."""
    if recurrent:
        return K.Sequential([K.Input((3, 2)), K.layers.LSTM(3, name="lstm"), K.layers.Dense(1, name="dense")])
    return K.Sequential([K.Input((3, 2)), K.layers.Flatten(), K.layers.Dense(3, activation="tanh", name="hidden"),
                         K.layers.Dense(1, name="dense")])


def _data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(3 * BATCH, 3, 2)).astype("float32"), rng.normal(size=(3 * BATCH, 1)).astype("float32")


def _start_weights(recurrent=False):
    rng = np.random.default_rng(5)
    return [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in _model(scratchlstm, recurrent).get_weights()]


OPTIMIZERS = {  # name: K.optimizers -> optimizer (the same recipe for both libraries)
    "sgd": lambda O: O.SGD(0.1),
    "sgd_momentum": lambda O: O.SGD(0.05, momentum=0.9),
    "adam": lambda O: O.Adam(0.02),
    "adam_amsgrad": lambda O: O.Adam(0.02, beta_2=0.9, amsgrad=True),
    "adamw": lambda O: O.AdamW(0.02, weight_decay=0.1),
    "rmsprop": lambda O: O.RMSprop(0.01),
    "rmsprop_momentum": lambda O: O.RMSprop(0.01, momentum=0.9, epsilon=1e-3),
    "rmsprop_centered": lambda O: O.RMSprop(0.01, momentum=0.5, centered=True),
    "sgd_accumulation": lambda O: O.SGD(0.1, momentum=0.9, gradient_accumulation_steps=2),
    "loss_scale_adam": lambda O: O.LossScaleOptimizer(O.Adam(0.02), initial_scale=8.0, dynamic_growth_steps=2),
    "adagrad": lambda O: O.Adagrad(0.1, initial_accumulator_value=0.5, epsilon=1e-3),
    "adadelta": lambda O: O.Adadelta(1.0, rho=0.8),
    "adamax": lambda O: O.Adamax(0.02, beta_1=0.8, beta_2=0.9),
    "nadam": lambda O: O.Nadam(0.02, beta_1=0.8, beta_2=0.9),  # u_product depends on beta_1
    "nadam_accumulation": lambda O: O.Nadam(0.02, gradient_accumulation_steps=2),
    "lion": lambda O: O.Lion(0.01, beta_1=0.8, beta_2=0.5),
    "ftrl": lambda O: O.Ftrl(0.2, learning_rate_power=-0.7, initial_accumulator_value=0.3,
                             l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                             l2_shrinkage_regularization_strength=0.01, beta=0.1),
}
_ACCUMULATING = ("sgd_accumulation", "nadam_accumulation")  # Keras' public iterations: raw // 2


def _fit(model, x, y):
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)


def _compiled(K, name, backend=None, recurrent=False):
    model = _model(K, recurrent)
    model.set_weights(_start_weights(recurrent))
    extra = {} if backend is None else {"backend": backend}
    model.compile(OPTIMIZERS[name](K.optimizers), "mse", **extra)
    return model


def _assert_close(mine, theirs):
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_keras_trains_then_we_continue(name, tmp_path):
    x, y = _data()
    theirs = _compiled(keras, name)
    _fit(theirs, x, y)
    theirs.save(tmp_path / "theirs.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "optimizer starts afresh"
        ours = load_model(tmp_path / "theirs.keras")
    assert ours.optimizer.iterations == 3  # Keras' raw count (its public one is // N with accumulation)
    assert int(theirs.optimizer.iterations) == (1 if name in _ACCUMULATING else 3)
    _fit(theirs, x, y)
    _fit(ours, x, y)
    _assert_close(ours.get_weights(), theirs.get_weights())


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_we_train_then_keras_continues(name, tmp_path):
    x, y = _data()
    ours = _compiled(scratchlstm, name)
    _fit(ours, x, y)
    ours.save(tmp_path / "ours.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "Skipping variable loading for optimizer"
        theirs = keras.models.load_model(tmp_path / "ours.keras")
    assert int(theirs.optimizer.iterations) == (1 if name in _ACCUMULATING else 3)
    _fit(ours, x, y)
    _fit(theirs, x, y)
    _assert_close(ours.get_weights(), theirs.get_weights())


@pytest.mark.parametrize("name", ["sgd_momentum", "rmsprop_centered", "adagrad", "adadelta", "lion",  # optax's
                                  "nadam"])  # containers, converted; Nadam's own with a jnp u_product
def test_jax_backend_state_travels_to_keras(name, tmp_path):
    pytest.importorskip("jax")
    x, y = _data()
    ours = _compiled(scratchlstm, name, backend="jax")
    _fit(ours, x, y)
    ours.save(tmp_path / "ours.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        theirs = keras.models.load_model(tmp_path / "ours.keras")
    _fit(ours, x, y)
    _fit(theirs, x, y)
    _assert_close(ours.get_weights(), theirs.get_weights())


_KERAS_SUFFIX = {"average": "average", "accumulated": "gradient_accumulator", "momentums": "momentum",
                 "velocities": "velocity", "velocity_hats": "velocity_hat", "average_gradients": "average_gradient",
                 "accumulators": "accumulator", "accumulated_grads": "accumulated_grad",
                 "accumulated_delta_vars": "accumulated_delta_var", "norms": "norm", "linears": "linear"}
LAYOUTS = {  # the fits above check the others' order; these Keras cannot fit (EMA) or are new combinations
           "loss_scale_rmsprop_centered": lambda O: O.LossScaleOptimizer(O.RMSprop(momentum=0.5, centered=True)),
           "adamw_amsgrad_ema_accumulation": lambda O: O.AdamW(0.01, amsgrad=True, use_ema=True,
                                                               gradient_accumulation_steps=3),
           "rmsprop_schedule": lambda O: O.RMSprop(O.schedules.ExponentialDecay(0.1, 10, 0.5), momentum=0.5),
           **{name: OPTIMIZERS[name] for name in ("adagrad", "adadelta", "adamax", "nadam", "lion", "ftrl")},
           "nadam_ema_accumulation": lambda O: O.Nadam(use_ema=True, gradient_accumulation_steps=2),
           "loss_scale_nadam": lambda O: O.LossScaleOptimizer(O.Nadam()),  # Keras tracks no u_product here
           "loss_scale_ftrl_schedule": lambda O: O.LossScaleOptimizer(O.Ftrl(O.schedules.InverseTimeDecay(0.1, 5, 1.0)))}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layout_is_the_order_keras_builds(name):
    """Our list of variables against the one Keras' ``build`` makes (EMA included, whose fit
    Keras 3.15 cannot run on JAX: "Attempt to donate the same buffer twice")."""
    from scratchlstm.keras_files._optimizer import _trainable, layout

    theirs, ours = _model(keras, recurrent=True), _model(scratchlstm, recurrent=True)
    optimizer = LAYOUTS[name](keras.optimizers)
    optimizer.build(theirs.trainable_variables)
    mine = LAYOUTS[name](scratchlstm.optimizers)
    entries = layout(mine, _trainable(ours)[0])
    assert [tuple(v.shape) for v in optimizer.variables] == [e.shape for e in entries]
    for variable, entry in zip(optimizer.variables, entries):
        if entry.key[0] in ("state", "slot"):
            layer, weight = entry.key[2].split("/")
            assert variable.name.endswith(f"{layer}_{'lstm_cell_' if layer == 'lstm' else ''}{weight}_"
                                          f"{_KERAS_SUFFIX[entry.key[1]]}"), (variable.name, entry.label)
        elif entry.key == ("scalar", "u_product"):  # a bare backend.Variable in Keras' Nadam
            assert variable.name.startswith("variable") and variable.dtype == "float32", (variable.name, entry.label)
        else:
            assert variable.name.split("/")[-1] in entry.key[0], (variable.name, entry.label)


def test_ema_state_round_trips_through_a_keras_archive(tmp_path):
    x, y = _data()
    ours = _compiled(scratchlstm, "adam")
    ours.compile(scratchlstm.optimizers.Adam(0.02, use_ema=True, ema_momentum=0.5), "mse")
    _fit(ours, x, y)
    ours.save(tmp_path / "ema.keras")
    back = load_model(tmp_path / "ema.keras")
    _fit(ours, x, y)
    _fit(back, x, y)
    _assert_close(back.get_weights(), ours.get_weights())


def test_keras_order_of_trainable_variables():
    def build(K):
        a, b = K.Input((3, 2), name="a"), K.Input((4, 2), name="b")
        frozen = K.layers.Dense(2, name="frozen")
        frozen.trainable = False
        merged = K.layers.concatenate([K.layers.GRU(2, name="gru")(b), K.layers.LSTM(2, name="lstm")(a)])
        return K.Model([a, b], K.layers.Dense(1, name="out")(frozen(merged)))

    theirs, ours = build(keras), build(scratchlstm)
    names = [f"{v.path.split('/')[0]}/{v.name}" for v in theirs.trainable_variables]
    assert keras_trainable_paths(ours) == names


@pytest.fixture(scope="module")
def keras_archive(tmp_path_factory):
    """The members of a .keras file Keras wrote after 3 Adam steps on the LSTM model."""
    x, y = _data()
    theirs = _compiled(keras, "adam", recurrent=True)
    _fit(theirs, x, y)
    path = tmp_path_factory.mktemp("keras") / "theirs.keras"
    theirs.save(path)
    with zipfile.ZipFile(path) as source:
        return {name: source.read(name) for name in source.namelist()}


def _rewritten(tmp_path, members, change):
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as store:
        change(store)
    path = tmp_path / "bad.keras"
    with zipfile.ZipFile(path, "w") as target:
        for name, data in {**members, "model.weights.h5": buffer.getvalue()}.items():
            target.writestr(name, data)
    return path


def _replace(store, name, value):
    del store[name]
    store.create_dataset(name, data=value)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.__delitem__("optimizer/vars/11"), r"holds 11 optimizer variables .* Adam for this model has 12"),
    (lambda s: _replace(s, "optimizer/vars/2", np.zeros((3, 9), "float32")),
     r"optimizer/vars/2 \(Adam momentums of 'lstm/kernel'\) has shape \(3, 9\), the model needs \(2, 12\)"),
    (lambda s: _replace(s, "optimizer/vars/0", np.array(-1)), r"optimizer/vars/0 \(Adam iterations\).*count >= 0"),
    (lambda s: _replace(s, "optimizer/vars/3", np.full((2, 12), np.nan, "float32")), "NaN"),
    (lambda s: _replace(s, "optimizer/vars/3", np.full((2, 12), -1.0, "float32")),
     r"optimizer/vars/3 \(Adam velocities of 'lstm/kernel'\) holds negative values"),
    (lambda s: s.create_dataset("optimizer/vars/x", data=0.0), "Keras numbers them"),
])
def test_mismatched_optimizer_variables_are_refused(keras_archive, tmp_path, change, message):
    path = _rewritten(tmp_path, keras_archive, change)
    with pytest.raises(ValueError, match=message):
        load_model(path)
    assert load_model(path, compile=False).compiled is None  # the weights alone still load


def test_nadam_in_a_loss_scale_optimizer_rebuilds_u_product(tmp_path):
    """Keras keeps no ``u_product`` for a wrapped Nadam, so the file has none; ours is rebuilt from
    the iteration count and training continues as if it had never stopped."""
    x, y = _data()
    ours = _model(scratchlstm)
    ours.set_weights(_start_weights())
    ours.compile(scratchlstm.optimizers.LossScaleOptimizer(scratchlstm.optimizers.Nadam(0.02, beta_1=0.8)), "mse")
    _fit(ours, x, y)
    ours.save(tmp_path / "wrapped.keras")
    back = load_model(tmp_path / "wrapped.keras")
    _fit(ours, x, y)
    _fit(back, x, y)
    _assert_close(back.get_weights(), ours.get_weights())


def test_a_user_defined_optimizer_writes_no_variables(tmp_path):
    """Every optimizer class of scratchlstm travels; a class a user derived from one does not (its
    update rule may differ, and Keras cannot load its config): the file holds no optimizer
    variables rather than ones Keras would misread. (Loading never meets such a class: ours
    compiles only its own optimizers from a file, so the "starts afresh" warning of
    ``load_model`` cannot occur for a ``.keras`` file.)"""

    class Mine(scratchlstm.optimizers.Adagrad):
        pass

    x, y = _data()
    ours = _model(scratchlstm)
    ours.compile(Mine(0.1), "mse")
    _fit(ours, x, y)
    ours.save(tmp_path / "ours.keras")
    with h5py.File(io.BytesIO(zipfile.ZipFile(tmp_path / "ours.keras").read("model.weights.h5"))) as store:
        assert "optimizer" not in store
    _assert_close(load_model(tmp_path / "ours.keras", compile=False).get_weights(), ours.get_weights())


def test_include_optimizer_false_leaves_the_variables_out(tmp_path):
    x, y = _data()
    ours = _model(scratchlstm)
    ours.compile(scratchlstm.optimizers.Adam(0.02), "mse")
    _fit(ours, x, y)
    for include, expected in ((True, True), (False, False)):
        ours.save(tmp_path / f"{include}.keras", include_optimizer=include)
        with h5py.File(io.BytesIO(zipfile.ZipFile(tmp_path / f"{include}.keras").read("model.weights.h5"))) as store:
            assert ("optimizer" in store) is expected
    with pytest.raises(ValueError, match="include_optimizer must be True or False"):
        ours.save(tmp_path / "bad.keras", include_optimizer="no")
    assert not (tmp_path / "bad.keras").exists()
