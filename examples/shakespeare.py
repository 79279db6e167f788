"""Shakespeare, one character at a time: the classic char-RNN language model.

The text is the bundled tinyshakespeare (`scratchlstm.datasets.load_tinyshakespeare`, 1.1 M
characters of the plays). The recipe:

1. split the text by position: the first 90% trains, the last 10% validates;
2. learn the characters on the training text (`Vocabulary(level="char")`);
3. cut each part into consecutive windows of `--seq-len + 1` characters; each window gives
   the inputs `x = chars[:-1]` and the targets `y = chars[1:]` (the next character at every
   step);
4. train `Embedding -> LSTM(return_sequences=True) -> Dense(vocabulary, softmax)` with
   sparse categorical cross-entropy on every step (Adam, gradient clipping);
5. report the validation loss in bits per character (cross-entropy in nats / ln 2) beside a
   unigram baseline: a model that ignores the context and predicts each character with its
   frequency in the training text (its cross-entropy on the validation text; the entropy of
   the training frequencies is printed with it);
6. sample new text with a temperature, one character at a time, through the streaming API:
   the LSTM's `layer.step(x_t, states)` carries the states, and the embedding lookup and the
   Dense layer are applied to each step with their weights.

Bits per character: a model that assigns probability p to the character that comes pays
-log2(p) bits for it; the mean over the validation text is what an ideal coder driven by the
model would spend per character. Validation windows start from zero states, as in training.

Run:  python examples/shakespeare.py [--epochs 10] [--units 128] [--backend numpy|jax]
      python examples/shakespeare.py --quick      (the reduced CI setting, under a minute)
      python examples/shakespeare.py --backend jax --units 512 --epochs 20   (an accelerator)
The last line is machine-readable: RESULT model_bits_per_char=... unigram_bits_per_char=...
"""

import argparse
import math
import time

import numpy as np

import scratchlstm as keras
from scratchlstm.data.text import Vocabulary
from scratchlstm.datasets import load_tinyshakespeare


def windows(ids, length):
    """Consecutive windows of ``length + 1`` ids (the last id of one is the first of the next).

    Returns:
        ``x (N, length)`` and ``y (N, length)`` with ``y[:, t] == x[:, t + 1]`` inside a window
        and ``y[:, -1]`` the id that follows the window.
    """
    n = (len(ids) - 1) // length
    block = ids[:n * length + 1]
    x = block[:-1].reshape(n, length)
    y = block[1:].reshape(n, length)
    return x, y


def unigram_bits(train_ids, val_ids, size):
    """Entropy of the training character frequencies, and their cross-entropy on the validation text (bits)."""
    counts = np.bincount(train_ids, minlength=size).astype(float)
    p = (counts + 1e-12) / counts.sum()  # an id absent from training gets (almost) no mass
    seen = counts > 0
    entropy = float(-(p[seen] * np.log2(p[seen])).sum())
    cross_entropy = float(-np.log2(p[val_ids]).mean())
    return entropy, cross_entropy


def build_model(vocabulary_size, units, embedding_dim, seed):
    return keras.Sequential([
        keras.layers.Embedding(vocabulary_size, embedding_dim),
        keras.layers.LSTM(units, return_sequences=True),
        keras.layers.Dense(vocabulary_size, activation="softmax"),
    ], seed=seed)


def sample(model, vocab, prime, length, temperature, rng):
    """Generate ``length`` characters after ``prime`` with the streaming step API.

    Each step: the embedding row of the current character, one `LSTM.step`, the Dense layer's
    ``softmax(h @ kernel + bias)``, then a draw from ``softmax(log p / temperature)``.
    """
    embedding, lstm, dense = model.layers
    table = embedding.get_weights()[0]  # (V, E)
    kernel, bias = dense.get_weights()  # (H, V), (V,)
    ids = list(vocab.encode(prime))
    states = None
    for current in ids:  # read the prime; its last step predicts the first new character
        h, states = lstm.step(table[[current]], states)
    generated = []
    for _ in range(length):
        logits = (h @ kernel + bias)[0].astype(np.float64)  # the Dense layer's pre-softmax values
        scaled = logits / temperature
        p = np.exp(scaled - scaled.max())
        p /= p.sum()
        p[:2] = 0.0  # never emit the padding or out-of-vocabulary id
        current = int(rng.choice(len(p), p=p / p.sum()))
        generated.append(current)
        h, states = lstm.step(table[[current]], states)
    return prime + vocab.decode(generated)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training text")
    parser.add_argument("--units", type=int, default=128, help="LSTM units")
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=64, help="characters per training window")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backend", default="numpy", choices=("numpy", "jax"))
    parser.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (lower: safer)")
    parser.add_argument("--sample-length", type=int, default=400)
    parser.add_argument("--prime", default="ROMEO:\n", help="the text the sample continues")
    parser.add_argument("--seed", type=int, default=0, help="weights, shuffling and sampling")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="fit's progress output")
    parser.add_argument("--quick", action="store_true",
                        help="CI setting: the first 200,000 characters, 3 epochs, 64 units, a 120-character sample")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    text = load_tinyshakespeare()
    if args.quick:
        text = text[:200_000]
        args.epochs, args.units, args.sample_length = min(args.epochs, 3), min(args.units, 64), 120
    split = int(0.9 * len(text))
    vocab = Vocabulary("char").fit(text[:split])
    train_ids = vocab.encode(text[:split]).astype(np.int32)
    val_ids = vocab.encode(text[split:]).astype(np.int32)
    entropy, unigram = unigram_bits(train_ids, val_ids, len(vocab))
    print(f"{len(text):,} characters: train {len(train_ids):,}, validation {len(val_ids):,}; "
          f"{len(vocab) - 2} distinct characters (+ padding and out-of-vocabulary ids)")

    model = build_model(len(vocab), args.units, args.embedding_dim, args.seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3, clipnorm=5.0),
                  loss="sparse_categorical_crossentropy", backend=args.backend)
    x_train, y_train = windows(train_ids, args.seq_len)
    x_val, y_val = windows(val_ids, args.seq_len)
    print(f"windows of {args.seq_len} characters: x {x_train.shape} -> y {y_train.shape} (the next characters); "
          f"validation {x_val.shape}")
    fit_started = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, validation_data=(x_val, y_val),
              verbose=args.verbose)
    fit_seconds = time.perf_counter() - fit_started
    val_loss = model.evaluate(x_val, y_val, batch_size=256, verbose=0)
    val_loss = float(val_loss[0] if isinstance(val_loss, (list, tuple)) else val_loss)
    bits = val_loss / math.log(2)
    print(f"trained {args.epochs} epoch(s) of LSTM({args.units}) in {fit_seconds:.1f}s ({args.backend})")

    print(f"\nvalidation text ({len(val_ids):,} characters, {len(x_val)} windows):")
    print(f"  model    {bits:.3f} bits per character  (cross-entropy {val_loss:.3f} nats)")
    print(f"  unigram  {unigram:.3f} bits per character  (training frequencies; their entropy is {entropy:.3f})")
    print(f"  the model saves {unigram - bits:.3f} bits per character ({1 - bits / unigram:.0%})")

    rng = np.random.default_rng(args.seed)
    text_sample = sample(model, vocab, args.prime, args.sample_length, args.temperature, rng)
    print(f"\nsample at temperature {args.temperature} (streaming LSTM.step):\n{text_sample}\n")
    print(f"total time {time.perf_counter() - started:.1f}s")

    scores = {"model_bits_per_char": bits, "unigram_bits_per_char": unigram, "unigram_entropy": entropy,
              "fit_seconds": fit_seconds}
    print("RESULT " + " ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    scores["sample"] = text_sample
    return scores


if __name__ == "__main__":
    main()
