"""Sequence to sequence with attention: reverse a string of digits, and look at where it attends.

A synthetic task whose right answer is known position by position: the input is a string of
`--min-len` to `--max-len` digits (padded with id 0 at the end), the output the same digits
reversed. The model is the encoder-decoder of Luong et al. (2015) written with Keras layers:

* encoder: `Embedding(mask_zero=True)` -> `LSTM(return_sequences=True, return_state=True)`;
* decoder: `Embedding(mask_zero=True)` over the target shifted right (a start id first:
  teacher forcing) -> `LSTM(return_sequences=True)` started from the encoder's final states
  (`initial_state=[h, c]`);
* `Attention()([decoder_outputs, encoder_outputs], return_attention_scores=True)`: each
  decoder step takes a softmax-weighted mean of the encoder outputs (padded input steps
  masked out), `Concatenate`d with the decoder output -> `TimeDistributed(Dense(softmax))`.

Training is teacher-forced; the test is not: the decoder is run greedily, feeding back its
own previous prediction, on strings never seen in training, and a string counts as right only
if every digit is. Two trivial baselines score the same strings: copying the input unchanged,
and the most frequent training digit at each position. The default run also trains the same
encoder-decoder without attention (the decoder then sees the input only through the encoder's
final states); `--no-compare` skips it.

To reverse, output step t must read input step n - 1 - t, so the attention weights of a
well-trained model form the anti-diagonal; `--plot path.png` saves them (needs matplotlib).

Run:  python examples/attention_seq2seq.py [--epochs 15] [--max-len 20] [--plot attention.png] [--backend numpy|jax]
      python examples/attention_seq2seq.py --quick      (the reduced CI setting, seconds)
The last line is machine-readable: RESULT model_sequence_accuracy=... copy_sequence_accuracy=...
"""

import argparse
import time

import numpy as np

import scratchlstm as keras

START = 11  # ids: 0 padding, 1..10 the digits 0..9, 11 the decoder's start
VOCABULARY = 12


def make_strings(n, min_len, max_len, rng, exclude=()):
    """``n`` distinct digit strings (tuples of ints 0..9) of random lengths, none in ``exclude``."""
    seen, strings = set(exclude), []
    while len(strings) < n:
        digits = tuple(int(d) for d in rng.integers(0, 10, size=int(rng.integers(min_len, max_len + 1))))
        if digits not in seen:
            seen.add(digits)
            strings.append(digits)
    return strings


def encode(strings, max_len):
    """Encoder ids, teacher-forcing decoder ids and targets, each ``(N, max_len)``, 0-padded at the end."""
    source = np.zeros((len(strings), max_len), dtype=np.int32)
    target = np.zeros_like(source)
    decoder_input = np.zeros_like(source)
    for row, digits in enumerate(strings):
        n = len(digits)
        source[row, :n] = np.array(digits) + 1
        target[row, :n] = source[row, :n][::-1]
        decoder_input[row, 0] = START
        decoder_input[row, 1:n] = target[row, :n - 1]  # the target shifted right by one step
    return source, decoder_input, target


def build_models(units, embedding_dim, max_len, seed, use_attention=True):
    """The training model ``[source, decoder_input] -> probabilities``, and one that returns the attention weights.

    With ``use_attention=False`` the decoder sees the input only through the encoder's final
    states (the encoder-decoder of Sutskever et al., 2014), and the second model is ``None``.
    """
    layers = keras.layers
    source = keras.Input((max_len,), dtype="int32", name="source")
    decoder_input = keras.Input((max_len,), dtype="int32", name="decoder_input")
    encoded = layers.Embedding(VOCABULARY, embedding_dim, mask_zero=True)(source)
    encoder_outputs, h, c = layers.LSTM(units, return_sequences=True, return_state=True)(encoded)  # (B, T, H)
    embedded = layers.Embedding(VOCABULARY, embedding_dim, mask_zero=True)(decoder_input)
    decoder_outputs = layers.LSTM(units, return_sequences=True)(embedded, initial_state=[h, c])  # (B, T, H)
    weights = None
    if use_attention:
        context, weights = layers.Attention()([decoder_outputs, encoder_outputs], return_attention_scores=True)
        decoder_outputs = layers.Concatenate()([decoder_outputs, context])  # (B, T, 2H)
    probabilities = layers.TimeDistributed(layers.Dense(VOCABULARY, activation="softmax"))(decoder_outputs)
    model = keras.Model([source, decoder_input], probabilities, seed=seed)
    attention = keras.Model([source, decoder_input], weights, seed=seed) if use_attention else None  # shares the layers
    return model, attention


def train(args, x_train, d_train, y_train, use_attention):
    # The layers of a functional model are built as they are called on `keras.Input`, before
    # the Model exists: the global seed (as in Keras) makes their initial weights reproducible.
    keras.utils.set_random_seed(args.seed)
    model, attention = build_models(args.units, 16, args.max_len, args.seed, use_attention)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], backend=args.backend)
    started = time.perf_counter()
    model.fit([x_train, d_train], y_train, epochs=args.epochs, batch_size=64, validation_split=0.1,
              verbose=args.verbose)
    print(f"trained {args.epochs} epochs {'with' if use_attention else 'WITHOUT'} attention in "
          f"{time.perf_counter() - started:.1f}s ({args.backend})")
    return model, attention


def greedy_decode(model, source, lengths):
    """Run the decoder on its own predictions: step t's output becomes step t + 1's input.

    Returns:
        The predicted ids ``(N, max_len)`` (0 after each string's length) and the decoder
        inputs that produced them (to ask the attention model for the same weights).
    """
    n, max_len = source.shape
    decoder_input = np.zeros((n, max_len), dtype=np.int32)
    decoder_input[:, 0] = START
    predicted = np.zeros((n, max_len), dtype=np.int32)
    for t in range(max_len):
        step = model.predict([source, decoder_input], batch_size=512, verbose=0)[:, t]  # (N, V)
        step[:, [0, START]] = -1.0  # a digit must come out
        predicted[:, t] = np.where(t < lengths, step.argmax(axis=-1), 0)
        if t + 1 < max_len:
            decoder_input[:, t + 1] = np.where(t + 1 < lengths, predicted[:, t], 0)
    return predicted, decoder_input


def sequence_scores(predicted, target, lengths):
    """Exact-sequence accuracy (every digit right) and per-digit accuracy over the real steps."""
    real = np.arange(target.shape[1]) < lengths[:, None]
    right = (predicted == target) | ~real
    return {"sequence_accuracy": float(right.all(axis=1).mean()),
            "digit_accuracy": float(((predicted == target) & real).sum() / real.sum())}


def plot_attention(weights, source, predicted, length, path):
    """Save one string's attention weights (output steps x input steps) as a heatmap."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        print(f"no plot: matplotlib is not available ({error}); install it with: pip install \"scratchlstm[plot]\"")
        return False
    figure, axes = plt.subplots(figsize=(5, 4.5))
    image = axes.imshow(weights[:length, :length], cmap="viridis", vmin=0, vmax=1)
    axes.set_xticks(range(length), [str(d - 1) for d in source[:length]])
    axes.set_yticks(range(length), [str(d - 1) for d in predicted[:length]])
    axes.set_xlabel("input digit (encoder step)")
    axes.set_ylabel("output digit (decoder step)")
    axes.set_title("attention weights while reversing")
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--units", type=int, default=64, help="LSTM units of the encoder and the decoder")
    parser.add_argument("--min-len", type=int, default=5)
    parser.add_argument("--max-len", type=int, default=20)
    parser.add_argument("--train-size", type=int, default=20_000, help="training strings")
    parser.add_argument("--test-size", type=int, default=2_000, help="held-out strings")
    parser.add_argument("--backend", default="numpy", choices=("numpy", "jax"))
    parser.add_argument("--plot", default=None, metavar="PATH", help="save an attention heatmap here (PNG)")
    parser.add_argument("--seed", type=int, default=0, help="data, weights and shuffling")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2), help="fit's progress output")
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="skip training the same model without attention for comparison")
    parser.add_argument("--quick", action="store_true",
                        help="CI setting: 5,000 strings of 3 to 6 digits, 8 epochs, no comparison model")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.train_size, args.test_size = min(args.epochs, 8), 5_000, 500
        args.min_len, args.max_len, args.compare = 3, 6, False

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    train_strings = make_strings(args.train_size, args.min_len, args.max_len, rng)
    test_strings = make_strings(args.test_size, args.min_len, args.max_len, rng, exclude=train_strings)
    x_train, d_train, y_train = encode(train_strings, args.max_len)
    x_test, _, y_test = encode(test_strings, args.max_len)
    test_lengths = np.array([len(s) for s in test_strings])
    print(f"{len(train_strings):,} training and {len(test_strings):,} held-out strings of "
          f"{args.min_len} to {args.max_len} digits (no string in both); x {x_train.shape}")

    model, attention = train(args, x_train, d_train, y_train, use_attention=True)
    predicted, decoder_input = greedy_decode(model, x_test, test_lengths)
    if args.compare:
        plain, _ = train(args, x_train, d_train, y_train, use_attention=False)
        plain_predicted, _ = greedy_decode(plain, x_test, test_lengths)
    real = np.arange(args.max_len) < test_lengths[:, None]
    train_lengths = (x_train > 0).sum(axis=1)
    # the most frequent training target digit at each output position
    frequent = np.array([np.bincount(y_train[:, t][train_lengths > t], minlength=VOCABULARY).argmax()
                         for t in range(args.max_len)])
    scores = {
        "model": sequence_scores(predicted, y_test, test_lengths),
        **({"no_attention": sequence_scores(plain_predicted, y_test, test_lengths)} if args.compare else {}),
        "copy": sequence_scores(np.where(real, x_test, 0), y_test, test_lengths),
        "frequent": sequence_scores(np.where(real, frequent, 0), y_test, test_lengths),
    }
    notes = {"model": "(with attention; greedy decoding, no teacher forcing)",
             "no_attention": "(the same encoder-decoder without attention)", "copy": "(the input unchanged)",
             "frequent": "(the most frequent training digit at each position)"}
    print(f"\nreversing {len(test_strings):,} held-out strings:")
    print(f"  {'':<12} {'sequences':>10} {'digits':>8}")
    for name, s in scores.items():
        print(f"  {name:<12} {s['sequence_accuracy']:>10.3f} {s['digit_accuracy']:>8.3f}  {notes[name]}")

    # How anti-diagonal are the weights? Their mass on the mirrored input step, over real steps.
    weights = attention.predict([x_test, decoder_input], batch_size=512, verbose=0)  # (N, T_out, T_in)
    mirrored = test_lengths[:, None] - 1 - np.arange(args.max_len)  # the input step output t should read
    rows = np.nonzero(real)
    on_mirror = float(weights[rows[0], rows[1], mirrored[rows]].mean())
    near = np.zeros(len(rows[0]))  # the weight on the mirrored step and its two neighbours
    for offset in (-1, 0, 1):
        step = mirrored[rows] + offset
        inside = (step >= 0) & (step < args.max_len)
        near[inside] += weights[rows[0][inside], rows[1][inside], step[inside]]
    print(f"  attention weight on the mirrored input step (the anti-diagonal): {on_mirror:.3f} on average, "
          f"{float(near.mean()):.3f} within one step of it")
    if args.plot:
        example = int(np.argmax(test_lengths))  # a longest held-out string
        if plot_attention(weights[example], x_test[example], predicted[example], test_lengths[example], args.plot):
            digits = "".join(str(d - 1) for d in x_test[example] if d)
            print(f"  saved the attention heatmap of {digits} to {args.plot}")
    print(f"\ntotal time {time.perf_counter() - started:.1f}s")

    flat = {f"{name}_{metric}": value for name, s in scores.items() for metric, value in s.items()}
    flat["attention_on_anti_diagonal"] = on_mirror
    flat["attention_near_anti_diagonal"] = float(near.mean())
    print("RESULT " + " ".join(f"{k}={v:.4f}" for k, v in flat.items()))
    return flat


if __name__ == "__main__":
    main()
