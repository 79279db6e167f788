"""Input shapes for an LSTM: (samples, time_steps, features), and what comes out.

Walks through one batch of 32 sequences, 25 steps long, 1 feature each: x.shape == (32, 25, 1).

- LSTM(20) returns the last hidden state only: (32, 20).
- LSTM(20, return_sequences=True) returns the hidden state at every step: (32, 25, 20).
- Dense acts on the last axis, so it maps (32, 20) -> (32, units) and, with the same weights
  at every step, (32, 25, 20) -> (32, 25, units).
- LSTM(20, return_state=True) returns [output, h, c]: the output plus the final hidden state
  h and cell state c, each (32, 20); they can seed another LSTM via initial_state=[h, c].

Each claim is printed and checked (numbers, not only shapes). No training, so no options.

Run:  python examples/input_shapes.py
"""

import numpy as np

from scratchlstm import LSTM, Dense, Sequential


def show(label, value):
    shape = [v.shape for v in value] if isinstance(value, list) else value.shape
    print(f"{label:62} -> {shape}")


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 25, 1)).astype(np.float32)  # (samples, time_steps, features)
    show("x: 32 sequences, 25 time steps, 1 feature", x)

    print("\n1. LSTM(20): one vector per sequence (the hidden state after the last step)")
    last = LSTM(20, seed=1)
    h_last = last(x)
    show("LSTM(20)(x)", h_last)
    print(f"   weights: kernel {last.get_weights()[0].shape} (features, 4*units), recurrent kernel "
          f"{last.get_weights()[1].shape}, bias {last.get_weights()[2].shape}: "
          f"{last.count_params()} parameters = 4 * 20 * (1 + 20 + 1)")

    print("\n2. LSTM(20, return_sequences=True): one vector per time step")
    every = LSTM(20, return_sequences=True, seed=1)  # same seed: the same weights as above
    h_all = every(x)
    show("LSTM(20, return_sequences=True)(x)", h_all)
    print(f"   its last step equals LSTM(20)'s output: {np.allclose(h_all[:, -1], h_last)}")

    print("\n3. Dense acts on the last axis")
    dense = Dense(1, seed=2)
    y_last = dense(h_last)
    y_all = dense(h_all)  # the same Dense (same weights) applied at each of the 25 steps
    show("Dense(1) on LSTM(20)(x): many-to-one", y_last)
    show("Dense(1) on LSTM(20, return_sequences=True)(x): many-to-many", y_all)
    print(f"   at the last step both agree: {np.allclose(y_all[:, -1], y_last, atol=1e-6)}")

    print("\n4. return_state=True: [output, h, c]")
    stateful = LSTM(20, return_state=True, seed=1)
    output, h, c = stateful(x)
    show("LSTM(20, return_state=True)(x)", [output, h, c])
    print(f"   output is h (no return_sequences): {np.array_equal(output, h)}")
    # Carrying (h, c) on: 25 steps at once equal 15 steps, then 10 more from the carried state.
    first = LSTM(20, return_state=True, seed=1)
    _, h15, c15 = first(x[:, :15])
    rest = LSTM(20, seed=1)
    h25 = rest(x[:, 15:], initial_state=[h15, c15])
    print(f"   15 steps, then 10 more from initial_state=[h, c], equal 25 at once: "
          f"{np.allclose(h25, h_last, atol=1e-5)}")

    print("\n5. In a model: the batch axis is left out of input_shape")
    model = Sequential([LSTM(20, input_shape=(25, 1)), Dense(1)])
    model.summary()
    print(f"model.predict(x).shape -> {model.predict(x).shape}")


if __name__ == "__main__":
    main()
