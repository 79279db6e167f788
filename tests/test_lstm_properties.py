"""Properties of lstm_forward / lstm_backward over random shapes, sizes of 1 included (hypothesis).

The examples are derandomised so that a run is reproducible: the entrywise relative error of a
central difference is occasionally above 1e-6 on an entry that happens to be ~1e-6 of the
largest one (an exact gradient, but a near-cancelling sum), and a fixed example set keeps such a
draw from turning into a flaky failure. ``eps = 3e-5`` measured the fewest such misses here
(about 1 in 600 full-gradient draws, against 5 at the default 1e-5).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchlstm._numpy import gradcheck, lstm_backward, lstm_forward

SIZES = st.integers(min_value=1, max_value=4)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None)


def make_case(seed, batch, steps, features, units):
    rng = np.random.default_rng(seed)
    params = {
        "kernel": rng.normal(scale=0.5, size=(features, 4 * units)),
        "recurrent_kernel": rng.normal(scale=0.5, size=(units, 4 * units)),
        "bias": rng.normal(scale=0.5, size=4 * units),
    }
    x = rng.normal(size=(batch, steps, features))
    h0 = rng.normal(scale=0.5, size=(batch, units))
    c0 = rng.normal(scale=0.5, size=(batch, units))
    return rng, params, x, (h0, c0)


@PROPERTY_SETTINGS
@given(batch=SIZES, first=SIZES, second=SIZES, features=SIZES, units=SIZES, zero_state=st.booleans(), seed=SEEDS)
def test_split_sequence_equals_whole(batch, first, second, features, units, zero_state, seed):
    _, params, x, state = make_case(seed, batch, first + second, features, units)
    state = None if zero_state else state
    whole, (h, c), _ = lstm_forward(params, x, initial_state=state)
    out1, carried, _ = lstm_forward(params, x[:, :first], initial_state=state)
    out2, (h2, c2), _ = lstm_forward(params, x[:, first:], initial_state=carried)
    np.testing.assert_allclose(np.concatenate([out1, out2], axis=1), whole, rtol=0, atol=1e-14)
    np.testing.assert_allclose(h2, h, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c2, c, rtol=0, atol=1e-14)


@PROPERTY_SETTINGS
@given(batch=SIZES, steps=SIZES, features=SIZES, units=SIZES, seed=SEEDS)
def test_last_output_is_final_state(batch, steps, features, units, seed):
    _, params, x, state = make_case(seed, batch, steps, features, units)
    outputs, (h, c), cache = lstm_forward(params, x, initial_state=state)
    assert outputs.shape == (batch, steps, units)
    np.testing.assert_array_equal(outputs[:, -1], h)
    np.testing.assert_array_equal(cache.c[:, -1], c)
    # and the state really is the recurrence's: one more step from (h, c) continues it
    _, params_more, x_more, _ = make_case(seed + 1, batch, 1, features, units)
    extended, (h_ext, _), _ = lstm_forward(params, np.concatenate([x, x_more], axis=1), initial_state=state)
    step, (h_step, _), _ = lstm_forward(params, x_more, initial_state=(h, c))
    np.testing.assert_allclose(h_step, h_ext, rtol=0, atol=1e-14)


@PROPERTY_SETTINGS
@given(
    batch=SIZES,
    steps=SIZES,
    features=SIZES,
    units=SIZES,
    name=st.sampled_from(["kernel", "recurrent_kernel", "bias", "x", "h0", "c0"]),
    upstream=st.sampled_from(["all_steps", "last_step", "both"]),
    seed=SEEDS,
)
def test_gradcheck_of_one_input(batch, steps, features, units, name, upstream, seed):
    rng, params, x, (h0, c0) = make_case(seed, batch, steps, features, units)
    d_out = rng.normal(size=(batch, steps, units)) if upstream != "last_step" else None
    d_h = rng.normal(size=(batch, units)) if upstream != "all_steps" else None

    def f(d):
        p = {k: d[k] for k in params}
        outputs, (h, _), _ = lstm_forward(p, d["x"], initial_state=(d["h0"], d["c0"]))
        return (np.sum(outputs * d_out) if d_out is not None else 0.0) + (np.sum(h * d_h) if d_h is not None else 0.0)

    _, _, cache = lstm_forward(params, x, initial_state=(h0, c0))
    grads, d_x, (d_h0, d_c0) = lstm_backward(params, cache, d_out, None if d_h is None else (d_h, None))
    analytic = dict(grads, x=d_x, h0=d_h0, c0=d_c0)
    inputs = dict(params, x=x, h0=h0, c0=c0)
    errors = gradcheck(f, inputs, {name: analytic[name]}, eps=3e-5, tolerance=1e-6)
    assert errors[name] < 1e-6
