"""Benchmark: a masked text classifier's train step on the NumPy reference, the JAX path and
PyTorch, side by side.

The model is the one of ``examples/names_by_language.py`` at a text-sized scale:
``Embedding(V, D, mask_zero=True) -> LSTM(H) -> Dense(C, softmax)``, sparse categorical
crossentropy and Adam, on a batch of ``B`` token sequences padded with 0 to ``T`` (lengths
uniform in ``[T/4, T]``, so about 40% of the steps are padding that the LSTM must carry over).

- ``numpy`` and ``jax`` run the library's real training backends (``train_step`` of
  ``scratchlstm.models._numpy_backend`` and ``scratchlstm.jax_backend``: forward, BPTT through
  the mask, the Embedding's scatter-add backward, the Adam update; JAX timed after a warm-up
  call, so compile time is excluded);
- ``torch`` runs ``nn.Embedding(padding_idx=0)``, ``pack_padded_sequence`` into ``nn.LSTM``
  (PyTorch's way of skipping padding: the final state of each sequence is at its own length,
  as a Keras mask gives), ``nn.Linear``, ``cross_entropy`` and ``torch.optim.Adam``.

The backends are timed interleaved (see ``bench_gru.interleaved_medians``), so that load from
other processes on a shared machine hits them alike. ``--threads`` caps torch's threads; set
``OPENBLAS_NUM_THREADS`` for NumPy yourself.

    python benchmarks/bench_text.py
    python benchmarks/bench_text.py --configs S M --repeats 20 --threads 1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gru import interleaved_medians  # noqa: E402
from bench_lstm import cpu_model, torch_available, versions  # noqa: E402

# name: (B, T, V, D, H, C): batch, padded length, vocabulary, embedding width, LSTM units, classes
CONFIGS = {
    "S": (32, 20, 60, 32, 64, 18),  # the names example (characters)
    "M": (64, 100, 5000, 64, 128, 2),  # an IMDB-like word model
}


def make_batch(config):
    """``(ids (B, T) int32 with 0 padding, lengths (B,), labels (B,))``."""
    batch, steps, vocabulary, _, _, classes = config
    rng = np.random.default_rng(0)
    lengths = rng.integers(max(1, steps // 4), steps + 1, size=batch)
    ids = rng.integers(1, vocabulary, size=(batch, steps)).astype(np.int32)
    ids[np.arange(steps)[None, :] >= lengths[:, None]] = 0  # post-padding, as pad_sequences
    labels = rng.integers(0, classes, size=batch).astype(np.int32)
    return ids, lengths, labels


def make_model(config, backend):
    from scratchlstm import Sequential, optimizers
    from scratchlstm.layers import LSTM, Dense, Embedding

    _, steps, vocabulary, width, units, classes = config
    model = Sequential(
        [Embedding(vocabulary, width, mask_zero=True), LSTM(units), Dense(classes, activation="softmax")], seed=0
    )
    model.compile(optimizer=optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", backend=backend)
    model.build((None, steps), np.dtype("int32"))
    return model


def numpy_train(config):
    from scratchlstm.models._numpy_backend import NumpyBackend

    ids, _, labels = make_batch(config)
    model = make_model(config, "numpy")
    backend = NumpyBackend(model)
    state = [backend.init_state(model.get_variables(), len(ids))]

    def train():
        state[0], _ = backend.train_step(state[0], [ids], [labels])

    return train


def jax_train(config):
    import jax

    from scratchlstm.jax_backend import make_training_backend

    ids, _, labels = make_batch(config)
    model = make_model(config, "jax")
    backend = make_training_backend(model)
    state = [backend.init_state(model.get_variables(), len(ids))]

    def train():
        state[0], logs = backend.train_step(state[0], [ids], [labels])
        jax.block_until_ready(logs)

    return train


def torch_train(config, threads: int):
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    _, _, vocabulary, width, units, classes = config
    ids_np, lengths_np, labels_np = make_batch(config)
    ids, labels = torch.from_numpy(ids_np).long(), torch.from_numpy(labels_np).long()
    lengths = torch.from_numpy(lengths_np)
    embedding = torch.nn.Embedding(vocabulary, width, padding_idx=0)
    lstm = torch.nn.LSTM(width, units, batch_first=True)
    head = torch.nn.Linear(units, classes)
    parameters = [*embedding.parameters(), *lstm.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=1e-3, eps=1e-7)

    def train():
        optimizer.zero_grad()
        packed = pack_padded_sequence(embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        _, (hidden, _) = lstm(packed)  # (1, B, H): each sequence's state at its own length
        loss = torch.nn.functional.cross_entropy(head(hidden[-1]), labels)
        loss.backward()
        optimizer.step()

    return train


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax", "torch"], choices=["numpy", "jax", "torch"])
    parser.add_argument("--repeats", type=int, default=12, help="timed calls per backend (median reported)")
    parser.add_argument("--max-seconds", type=float, default=30.0, help="stop adding rounds after this long (min 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    backends = [b for b in args.backends if b != "torch" or torch_available()]
    print(f"{cpu_model()}; {versions()}; torch threads {args.threads}\n")
    print("Masked text model train step (Embedding(mask_zero) -> LSTM -> Dense softmax, Adam), median ms\n")
    print("| config | (B, T, V, D, H, C) | " + " | ".join(backends) + " | " + " | ".join(
        f"{b} / torch" for b in backends if b != "torch" and "torch" in backends) + " |")
    print("| --- " * (2 + len(backends) + sum(b != "torch" for b in backends) * ("torch" in backends)) + "|")
    for name in args.configs:
        config = CONFIGS[name]
        makers = {"numpy": numpy_train, "jax": jax_train, "torch": lambda c: torch_train(c, args.threads)}
        functions = {backend: makers[backend](config) for backend in backends}
        medians = interleaved_medians(functions, args.repeats, args.max_seconds)
        cells = [f"{medians[b]:.2f}" for b in backends]
        if "torch" in medians:
            cells += [f"{medians[b] / medians['torch']:.2f}x" for b in backends if b != "torch"]
        print(f"| {name} | {config} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
