"""The gradient-check helper itself: numerical_gradient, relative_error and gradcheck."""

import numpy as np
import pytest

from scratchlstm._numpy import gradcheck, numerical_gradient, relative_error


def cubic(d):
    # L = sum(a^3) + sum(a * b) ; dL/da = 3a^2 + b ; dL/db = a
    return float(np.sum(d["a"] ** 3) + np.sum(d["a"] * d["b"]))


def inputs():
    rng = np.random.default_rng(0)
    return {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 3))}


def exact(d):
    return {"a": 3 * d["a"] ** 2 + d["b"], "b": d["a"].copy()}


def test_numerical_gradient_matches_the_derivative_and_leaves_inputs_alone():
    d = inputs()
    before = {k: v.copy() for k, v in d.items()}
    numeric = numerical_gradient(cubic, d, "a")
    np.testing.assert_allclose(numeric, exact(d)["a"], rtol=1e-8)
    assert numeric.shape == d["a"].shape and numeric.dtype == np.float64
    for k in d:
        np.testing.assert_array_equal(d[k], before[k])


def test_numerical_gradient_central_difference_is_exact_for_quadratics():
    # Central differences have no truncation error on a quadratic: only round-off remains.
    x = np.array([0.5, -1.5, 2.0])
    numeric = numerical_gradient(lambda d: float(np.sum(d["x"] ** 2)), {"x": x}, "x", eps=1e-3)
    np.testing.assert_allclose(numeric, 2 * x, rtol=1e-10)


def test_relative_error_by_hand():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0], [3.0]) == pytest.approx(0.5)  # |1-3| / (1+3)
    assert relative_error([1.0, -1.0], [1.0, 1.0]) == pytest.approx(1.0)  # sign flip: 2 / 2
    assert relative_error([0.0, 1.0], [0.0, 1.0]) == 0.0  # 0/0 is avoided by the tiny floor
    assert relative_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


def test_gradcheck_returns_an_error_per_checked_name():
    d = inputs()
    errors = gradcheck(cubic, d, exact(d))
    assert set(errors) == {"a", "b"}
    assert all(isinstance(v, float) and v < 1e-8 for v in errors.values())
    only_a = gradcheck(cubic, d, {"a": exact(d)["a"]})
    assert set(only_a) == {"a"}  # only names given in `analytic` are checked


def test_gradcheck_raises_on_failure_naming_the_input():
    d = inputs()
    wrong = exact(d)
    wrong["b"] = wrong["b"] * 1.01
    with pytest.raises(AssertionError, match="'b'") as info:
        gradcheck(cubic, d, wrong)
    assert "'a'" not in str(info.value)  # the passing input is not blamed
    errors = gradcheck(cubic, d, wrong, raise_on_failure=False)
    assert errors["a"] < 1e-8
    assert errors["b"] == pytest.approx(0.01 / 2.01, rel=1e-3)


def test_gradcheck_tolerance_is_respected():
    d = inputs()
    wrong = exact(d)
    wrong["a"] = wrong["a"] * (1 + 1e-4)  # relative error about 5e-5
    gradcheck(cubic, d, wrong, tolerance=1e-3)  # loose enough: passes
    with pytest.raises(AssertionError):
        gradcheck(cubic, d, wrong, tolerance=1e-6)


def test_gradcheck_rejects_float32_inputs():
    d = inputs()
    d32 = dict(d, a=d["a"].astype(np.float32))
    with pytest.raises(ValueError, match=r"float64.*'a'.*float32"):
        gradcheck(cubic, d32, exact(d))
    # even when the float32 input is not among the checked names
    with pytest.raises(ValueError, match="float32"):
        gradcheck(cubic, d32, {"b": exact(d)["b"]})


def test_gradcheck_rejects_unknown_names():
    d = inputs()
    with pytest.raises(ValueError, match=r"'c'.*\['a', 'b'\]"):
        gradcheck(cubic, d, {"c": np.zeros(3)})


def test_gradcheck_rejects_a_wrong_shape():
    d = inputs()
    with pytest.raises(ValueError, match="shape"):
        gradcheck(cubic, d, {"a": exact(d)["a"].T})
