"""One optax step built by the JAX backend equals one step of the NumPy optimizer, every variant."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")

from scratchlstm import optimizers  # noqa: E402
from scratchlstm.jax_backend import clip_by_norm, make_optax  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


OPTIMIZERS = [
    optimizers.SGD(),
    optimizers.SGD(learning_rate=0.1, momentum=0.9),
    optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    optimizers.Adam(),
    optimizers.Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-4),
    optimizers.RMSprop(),
    optimizers.RMSprop(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True),
    optimizers.RMSprop(learning_rate=0.01, centered=True),
]
def _name(opt):
    config = opt.get_config()
    return config.pop("class_name") + "-" + "-".join(f"{k}={v}" for k, v in config.items() if v not in (None, False))


CLIPPING = [{}, {"clipnorm": 0.5}, {"clipvalue": 0.3}, {"global_clipnorm": 1.0}]


def _tree(rng, dtype):
    """Two layers' worth of parameters; scales differ so that clipping hits some tensors only."""
    return [
        {"kernel": rng.normal(size=(3, 8)).astype(dtype), "recurrent_kernel": rng.normal(size=(2, 8)).astype(dtype) * 0.1,
         "bias": rng.normal(size=8).astype(dtype)},
        {"kernel": rng.normal(size=(2, 1)).astype(dtype) * 0.01, "bias": rng.normal(size=1).astype(dtype)},
    ]


def _steps(opt, dtype, steps=3):
    """Run ``steps`` updates with the same gradients on both sides; return both param trees."""
    rng = np.random.default_rng(0)
    params = _tree(rng, dtype)
    grads = [_tree(rng, dtype) for _ in range(steps)]
    np_params, np_state = params, opt.init(params)
    tx = make_optax(opt)
    jx_params = jax.tree_util.tree_map(jax.numpy.asarray, params)
    jx_state = tx.init(jx_params)
    update = tx.update  # eager: tiny programs, and per-primitive compiles are shared by all cases
    for g in grads:
        updates, np_state = opt.update(g, np_state, np_params)
        np_params = optimizers.apply_updates(np_params, updates)
        updates, jx_state = update(g, jx_state, jx_params)
        jx_params = optax.apply_updates(jx_params, updates)
    return np_params, jax.device_get(jx_params)


# Every optimizer variant unclipped; each clipping mode (an independent first link of the
# chain) with one optimizer of each class.
CASES = [(opt, {}) for opt in OPTIMIZERS] + [
    (opt, clip) for opt in (OPTIMIZERS[1], OPTIMIZERS[4], OPTIMIZERS[6]) for clip in CLIPPING[1:]
]


@pytest.mark.parametrize(
    "base, clipping", CASES, ids=[_name(o) + "-" + next(iter(c), "noclip") for o, c in CASES]
)
def test_optax_steps_equal_numpy_optimizer_float64(base, clipping):
    opt = type(base).from_config({**base.get_config(), **clipping})
    np_params, jx_params = _steps(opt, np.float64)
    for np_layer, jx_layer in zip(np_params, jx_params):
        for name in np_layer:
            assert jx_layer[name].dtype == np.float64
            np.testing.assert_allclose(jx_layer[name], np_layer[name], rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("base", [OPTIMIZERS[4], OPTIMIZERS[6]], ids=_name)
def test_optax_steps_close_to_numpy_optimizer_float32(base):
    opt = type(base).from_config({**base.get_config(), "clipnorm": 0.5})
    np_params, jx_params = _steps(opt, np.float32)
    for np_layer, jx_layer in zip(np_params, jx_params):
        for name in np_layer:
            assert jx_layer[name].dtype == np.float32
            np.testing.assert_allclose(jx_layer[name], np_layer[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_clipping_is_active_in_these_cases():
    """Guard for the parity tests above: the chosen thresholds really clip something."""
    rng = np.random.default_rng(0)
    _tree(rng, np.float64)
    grads = _tree(rng, np.float64)
    clipped, _ = clip_by_norm(0.5).update(grads, optax.EmptyState())
    norms = [float(np.linalg.norm(g[k])) for g in grads for k in sorted(g)]
    clipped_norms = [float(np.linalg.norm(c[k])) for c in clipped for k in sorted(c)]
    assert any(n > 0.5 for n in norms) and any(n < 0.5 for n in norms)
    for before, after in zip(norms, clipped_norms):
        assert after == pytest.approx(min(before, 0.5), rel=1e-12)
    assert float(optax.tree.norm(grads)) > 1.0
    assert max(abs(v) for layer in grads for g in layer.values() for v in np.ravel(g)) > 0.3


def test_clip_by_norm_leaves_zero_gradients_zero():
    zeros = {"w": jax.numpy.zeros((2, 2))}
    clipped, _ = clip_by_norm(1.0).update(zeros, optax.EmptyState())
    np.testing.assert_array_equal(clipped["w"], 0.0)


def test_defaults_are_keras_not_optax():
    """Adam's epsilon 1e-7 (Keras), not optax's 1e-8: visible on a tiny gradient's first step."""
    params = {"w": jax.numpy.zeros(1)}
    grads = {"w": jax.numpy.full(1, 1e-7)}
    tx = make_optax(optimizers.Adam())
    updates, _ = tx.update(grads, tx.init(params))
    # mu_hat / (sqrt(nu_hat) + eps) = 1e-7 / (1e-7 + 1e-7) = 0.5, times -lr.
    assert float(updates["w"][0]) == pytest.approx(-0.0005, rel=1e-9)


def test_unknown_optimizer_is_rejected():
    with pytest.raises(ValueError, match="SGD, Adam and RMSprop"):
        make_optax({"class_name": "Adagrad", "learning_rate": 0.1})
