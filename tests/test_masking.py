"""The Masking layer: NumPy backward against finite differences (at the kept steps; exactly zero at
the masked ones), forward and masks against Keras 3, ``Masking -> LSTM`` against Keras with copied
weights on padded float series (both backends), JAX = NumPy (values, masks on traced arrays,
autodiff gradients), configs, training and save/load, and the errors for bad arguments."""

import numpy as np
import pytest

from scratchlstm import Input, Model, Sequential, load_model
from scratchlstm._numpy.core.masking import layer_backward, layer_forward, masking_backward, masking_forward
from scratchlstm._numpy.gradient_check import numerical_gradient, relative_error
from scratchlstm.layers import LSTM, Dense
from scratchlstm.layers.core.masking import Masking

F64 = "float64"


@pytest.fixture
def keras():
    return pytest.importorskip("keras")


@pytest.fixture
def x64():
    jax = pytest.importorskip("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", previous)


def padded(seed=0, batch=4, steps=6, features=3, mask_value=0.0, dtype=np.float64):
    """Random series with right padding, one leading padded step, an interior one and a step
    that equals ``mask_value`` on all features but one (which must stay unmasked)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, features))
    lengths = np.array([steps, steps - 2, 3, 1][:batch])
    x[np.arange(steps) >= lengths[:, None]] = mask_value
    x[0, 0] = mask_value  # leading
    x[0, 2] = mask_value  # interior
    x[1, 1, :-1] = mask_value  # only partly the padding value: kept
    return x.astype(dtype)


def expected_mask(x, mask_value):
    """The kept steps, by an explicit loop (independent of the vectorized code)."""
    keep = np.zeros(x.shape[:-1], bool)
    for index in np.ndindex(*x.shape[:-1]):
        keep[index] = any(value != mask_value for value in x[index])
    return keep


# --- the NumPy reference ---------------------------------------------------------------------------
@pytest.mark.parametrize("mask_value", [0.0, -1.5])
def test_forward_zeroes_exactly_the_padded_steps(mask_value):
    x = padded(1, mask_value=mask_value)
    y, mask, _ = masking_forward(x, mask_value)
    keep = expected_mask(x, mask_value)
    np.testing.assert_array_equal(mask, keep)
    assert keep[1, 1] and not keep[0, 0] and not keep[0, 2] and not keep[3, 1]
    np.testing.assert_array_equal(y[keep], x[keep])
    np.testing.assert_array_equal(y[~keep], 0.0)
    np.testing.assert_array_equal(Masking(mask_value).compute_mask(x), keep)


@pytest.mark.parametrize("mask_value", [0.0, 0.7])
@pytest.mark.parametrize("shape", [(2, 1, 3), (4, 6, 3), (3, 5)])
def test_backward_matches_finite_differences_at_the_kept_steps(mask_value, shape):
    """The output is piecewise constant in the mask; on the kept entries it is differentiable and
    the finite differences (masked steps held at the padding value) must match; at masked steps
    the hand-written gradient is exactly zero, as Keras' ``where`` gives."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    drop = rng.random(shape[:-1]) < 0.4
    drop.flat[0], drop.flat[-1] = False, True  # at least one kept and one masked step
    x[drop] = mask_value
    keep = expected_mask(x, mask_value)
    np.testing.assert_array_equal(keep, ~drop)
    d_y = rng.normal(size=shape)
    layer = Masking(mask_value, dtype=F64)
    y, _, cache = layer_forward(layer, {}, {}, x)
    grads, d_x = layer_backward(layer, {}, cache, d_y)
    assert grads == {}

    def objective(values):
        full = x.copy()
        full[keep] = values["kept"]
        return np.sum(layer_forward(layer, {}, {}, full)[0] * d_y)

    numeric = numerical_gradient(objective, {"kept": x[keep]}, "kept")
    assert relative_error(d_x[keep], numeric) < 1e-6
    np.testing.assert_array_equal(d_x[~keep], 0.0)
    np.testing.assert_array_equal(d_x[keep], d_y[keep])
    assert layer_backward(layer, {}, cache, d_y, input_gradient=False) == ({}, None)


def test_finite_differences_catch_a_backward_that_ignores_the_mask():
    x = padded(3, mask_value=0.5)
    d_y = np.random.default_rng(3).normal(size=x.shape)
    _, _, cache = masking_forward(x, 0.5)
    keep = cache.keep[..., 0]

    def objective(values):
        full = x.copy()
        full[keep] = values["kept"]
        return np.sum(masking_forward(full, 0.5)[0] * d_y)

    wrong = d_y  # the identity's gradient
    assert relative_error(masking_backward(cache, d_y), wrong) > 1e-2
    assert relative_error(masking_backward(cache, d_y)[keep], numerical_gradient(objective, {"kept": x[keep]}, "kept")) < 1e-6


# --- against Keras 3 --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_value", [0.0, -1.0, 0.1])
def test_outputs_and_masks_match_keras(keras, dtype, mask_value, request):
    """0.1 is not exact in float32: the padding written as float32 must still match, as in Keras,
    because the value compares in the input's dtype."""
    if dtype == np.float64:
        request.getfixturevalue("x64")  # else Keras on JAX truncates float64 to float32
    x = padded(4, mask_value=mask_value, dtype=dtype)
    theirs = keras.layers.Masking(mask_value=mask_value, dtype=np.dtype(dtype).name)
    ours = Masking(mask_value=mask_value)
    expected = np.asarray(theirs(x))
    assert expected.dtype == dtype
    got = ours(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    their_mask = np.asarray(theirs.compute_mask(keras.ops.convert_to_tensor(x)))
    np.testing.assert_array_equal(ours.compute_mask(x), their_mask)
    assert not their_mask.all()
    assert ours.compute_output_shape((None, 6, 3)) == tuple(theirs.compute_output_shape((None, 6, 3)))
    assert ours.supports_masking and theirs.supports_masking


def test_rank_two_inputs_match_keras(keras):
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 2.0]])
    theirs = keras.layers.Masking(mask_value=2.0)
    np.testing.assert_array_equal(Masking(2.0)(x), np.asarray(theirs(x)))
    np.testing.assert_array_equal(Masking(2.0).compute_mask(x), np.asarray(theirs.compute_mask(x)))


def test_the_incoming_mask_is_ignored_as_keras_does(keras):
    x = padded(5)
    incoming = np.zeros(x.shape[:2], bool)
    theirs = keras.layers.Masking().compute_mask(keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(incoming))
    ours = Masking().compute_mask(x, incoming)
    np.testing.assert_array_equal(ours, np.asarray(theirs))
    assert ours.any()


def keras_masked_lstm(keras, steps, features, return_sequences):
    inputs = keras.Input((steps, features))
    lstm = keras.layers.LSTM(4, return_sequences=return_sequences)
    dense = keras.layers.Dense(2)
    return keras.Model(inputs, dense(lstm(keras.layers.Masking()(inputs)))), lstm, dense


def our_masked_lstm(steps, features, return_sequences, dtype=F64):
    inputs = Input((steps, features), dtype=dtype)
    lstm = LSTM(4, return_sequences=return_sequences, seed=0, dtype=dtype)
    dense = Dense(2, seed=1, dtype=dtype)
    return Model(inputs, dense(lstm(Masking(dtype=dtype)(inputs)))), lstm, dense


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_masking_lstm_matches_keras_with_copied_weights(keras, return_sequences, backend):
    if backend == "jax":
        pytest.importorskip("jax")
    x = padded(6, batch=4, steps=6, features=3)
    theirs, their_lstm, their_dense = keras_masked_lstm(keras, 6, 3, return_sequences)
    ours, our_lstm, our_dense = our_masked_lstm(6, 3, return_sequences)
    our_lstm.set_weights(their_lstm.get_weights())
    our_dense.set_weights(their_dense.get_weights())
    ours.compile("sgd", "mse", backend=backend)
    expected = np.asarray(theirs.predict(x.astype(np.float32), verbose=0))
    got = ours.predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # the mask matters: without it the LSTM would run over the padding
    no_mask_inputs = Input((6, 3), dtype=F64)
    lstm_only = Model(no_mask_inputs, our_dense(our_lstm(no_mask_inputs)))
    assert np.abs(lstm_only.predict(x, verbose=0) - expected).max() > 1e-3


def test_sequential_masking_lstm_matches_keras(keras):
    x = padded(7, batch=3, steps=5, features=2, mask_value=-1.0)
    theirs = keras.Sequential([keras.Input((5, 2)), keras.layers.Masking(-1.0), keras.layers.LSTM(3)])
    ours = Sequential([Masking(-1.0, input_shape=(5, 2), dtype=F64), LSTM(3, dtype=F64)])
    ours.set_weights(theirs.get_weights())
    expected = np.asarray(theirs.predict(x, verbose=0))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    unmasked = Sequential([LSTM(3, input_shape=(5, 2), dtype=F64)])
    unmasked.set_weights(theirs.get_weights())
    assert np.abs(unmasked.predict(x, verbose=0) - expected).max() > 1e-3


# --- JAX = NumPy --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask_value", [0.0, 0.3])
def test_jax_forward_mask_and_gradient_match_numpy(x64, mask_value):
    jax = x64
    import jax.numpy as jnp

    from scratchlstm.jax_backend.core import masking as jax_masking

    x = padded(8, mask_value=mask_value)
    d_y = np.random.default_rng(8).normal(size=x.shape)
    layer = Masking(mask_value, dtype=F64)
    y, _, cache = layer_forward(layer, {}, {}, x)
    jax_y, _ = jax_masking.layer_forward(layer, {}, {}, jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(jax_y), y)
    jax_mask = layer.compute_mask(jnp.asarray(x))
    assert isinstance(jax_mask, jax.Array)
    np.testing.assert_array_equal(np.asarray(jax_mask), layer.compute_mask(x))
    traced = jax.jit(lambda v: layer.compute_mask(v))(jnp.asarray(x))  # inside a traced graph
    np.testing.assert_array_equal(np.asarray(traced), expected_mask(x, mask_value))
    grad = jax.grad(lambda v: jnp.sum(jax_masking.layer_forward(layer, {}, {}, v)[0] * d_y))(jnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(grad), layer_backward(layer, {}, cache, d_y)[1])


def test_jax_fit_matches_numpy(x64):
    x = padded(9, batch=4, steps=6, features=3)
    y = np.random.default_rng(9).normal(size=(4, 2))
    results = {}
    for backend in ("numpy", "jax"):
        model = our_masked_lstm(6, 3, False)[0]
        model.compile("adam", "mse", backend=backend)
        history = model.fit(x, y, epochs=2, batch_size=2, verbose=0, shuffle=False)
        results[backend] = (history.history["loss"], model.get_weights())
    np.testing.assert_allclose(results["jax"][0], results["numpy"][0], rtol=1e-10)
    for a, b in zip(results["jax"][1], results["numpy"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# --- configuration, training, save/load ------------------------------------------------------------
def test_config_round_trip(keras):
    layer = Masking(mask_value=-2, name="pad", dtype=F64)
    config = layer.get_config()
    assert config["mask_value"] == -2.0 and isinstance(config["mask_value"], float)
    clone = Masking.from_config(config)
    assert clone.get_config() == config
    assert Masking().mask_value == keras.layers.Masking().mask_value == 0.0
    assert Masking(np.float32(1.5)).mask_value == 1.5


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_model_trains_saves_and_loads(backend, tmp_path):
    if backend == "jax":
        pytest.importorskip("jax")
    x = np.concatenate([padded(s, mask_value=0.0, dtype=np.float32) for s in range(4)])
    y = np.random.default_rng(10).normal(size=(len(x), 2)).astype(np.float32)
    model = our_masked_lstm(6, 3, False, dtype="float32")[0]
    model.compile("adam", "mse", backend=backend)
    losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    model.save(tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    assert [type(layer).__name__ for layer in loaded.layers].count("Masking") == 1
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # padding appended at the end changes nothing: the masked steps are skipped
    longer = np.concatenate([x, np.zeros((len(x), 2, 3), np.float32)], axis=1)
    longer_model = our_masked_lstm(8, 3, False, dtype="float32")[0]
    longer_model.set_weights(model.get_weights())
    np.testing.assert_allclose(longer_model.predict(longer, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# --- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mask_value, fragment",
    [("0", "real number"), (None, "real number"), (True, "real number"), ([0.0], "real number"),
     (np.zeros(2), "real number"), (float("nan"), "finite"), (float("inf"), "finite")],
)
def test_a_bad_mask_value_is_refused(mask_value, fragment):
    with pytest.raises(ValueError, match=fragment) as info:
        Masking(mask_value)
    assert "mask_value" in str(info.value) and "got" in str(info.value)


def test_inputs_without_a_features_axis_are_refused():
    layer = Masking()
    with pytest.raises(ValueError, match=r"expects one input of shape \(batch, \.\.\., features\).*got \(3,\)"):
        layer(np.ones(3))
    assert not layer.built
    with pytest.raises(ValueError, match="must be finite"):
        layer(np.array([[np.nan, 1.0]]))


# --- a layer that cannot use a mask -------------------------------------------------------------
MASK_CONSUMERS = {
    "Dense": lambda layers: layers.Dense(3),
    "Flatten": lambda layers: layers.Flatten(),
    "Conv1D": lambda layers: layers.Conv1D(2, 3, padding="same"),
    "MaxPooling1D": lambda layers: layers.MaxPooling1D(2),
    "GlobalMaxPooling1D": lambda layers: layers.GlobalMaxPooling1D(),
    "GlobalAveragePooling1D": lambda layers: layers.GlobalAveragePooling1D(),
    "Reshape": lambda layers: layers.Reshape((12, 2)),
    "Permute": lambda layers: layers.Permute((2, 1)),
    "LSTM": lambda layers: layers.LSTM(2),
    "Dropout": lambda layers: layers.Dropout(0.1),
    "LayerNormalization": lambda layers: layers.LayerNormalization(),
    "TimeDistributed": lambda layers: layers.TimeDistributed(layers.Dense(2)),
}


def _mask_warnings(module, make_layer, run_on=None) -> list:
    """The 'does not support masking' warnings of ``Embedding(mask_zero=True) -> layer``."""
    import warnings

    inputs = module.Input((6,), dtype="int32")
    embedded = module.layers.Embedding(10, 4, mask_zero=True)(inputs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = module.Model(inputs, make_layer(module.layers)(embedded))
        if run_on is not None:
            model.predict(run_on, verbose=0)
    return [w for w in caught if "does not support masking" in str(w.message)]


@pytest.mark.parametrize("kind", sorted(MASK_CONSUMERS))
def test_a_layer_that_drops_a_mask_warns_where_keras_does(keras, kind):
    import scratchlstm

    ours = _mask_warnings(scratchlstm, MASK_CONSUMERS[kind], run_on=np.array([[1, 2, 0, 0, 0, 0]]))
    theirs = _mask_warnings(keras, MASK_CONSUMERS[kind])
    assert bool(ours) == bool(theirs)
    if ours:
        assert "will therefore destroy the mask information" in str(ours[0].message)


def test_the_mask_warning_names_the_layer_and_fires_without_keras():
    import scratchlstm

    caught = _mask_warnings(scratchlstm, lambda layers: layers.Flatten(name="flat"), run_on=np.array([[3, 0, 0, 0, 0, 0]]))
    assert caught and "Layer 'flat' (of type Flatten)" in str(caught[0].message)
    assert not _mask_warnings(scratchlstm, lambda layers: layers.Dense(2), run_on=np.array([[3, 0, 0, 0, 0, 0]]))
