"""Names by language: which of 18 languages a surname comes from, read character by character.

The bundled names (`scratchlstm.datasets.load_names`, 20,050 rows from the PyTorch tutorial
"Classifying Names with a Character-Level RNN") are very unbalanced: about half are Russian,
73 are Vietnamese. The recipe, with what the raw table needs first:

1. drop the exact duplicate (name, language) rows (2,037 of them);
2. split by *distinct name*, so that no test name was seen in training (some names belong to
   several languages; all their rows go to the same part), stratified by language (70% train,
   10% validation, 20% test of each language's names);
3. learn the characters on the training names only (`Vocabulary`; unseen characters become
   the out-of-vocabulary id) and pad with id 0;
4. train four networks, seeded `seed` to `seed + 3` (weights, dropout, shuffling), two of each
   kind in turn: characters -> `Embedding` -> three `Conv1D` (widths 2, 3, 4: character n-gram
   detectors) -> `Bidirectional(GRU(192, return_sequences=True))`, and characters ->
   `Embedding(mask_zero=True)` -> `Bidirectional(GRU(256, return_sequences=True))`; both read the
   GRU's steps through their maximum and their mean, then `Dropout` -> `Dense(18, softmax)`, with
   Adam, the learning rate cut when the validation loss stalls and early stopping on it. As in
   Keras, `GlobalAveragePooling1D` uses the mask and `GlobalMaxPooling1D` does not (it warns
   that it drops the mask); the bidirectional GRU outputs zeros at the padded steps. `Conv1D`
   cannot use a mask, so the convolutional kind has no `mask_zero` and its GRU reads the padding;
5. average the four networks' predicted probabilities. One network of either kind is within
   about a point of the baseline below, and seeds move it by a point; averaging networks of the
   two kinds (different mistakes) is what pulls ahead. `--ensemble 1` trains one network,
   `--front conv|none` one kind only, `--head last` the masked GRU's final states only;
6. score the test names beside two baselines: the majority class, and a multinomial naive
   Bayes on the counts of character n-grams of 1 to 3, 4 or 5 characters (written below in
   NumPy; the longest n-gram and the smoothing are chosen on the validation names, as the
   network's epochs are).

As the classes are unbalanced, accuracy is reported with macro-F1 (each language counts the
same) and balanced accuracy (the mean recall over languages). A name with several languages
keeps one test row per language, so no classifier can get all of its rows right. Beside each
difference with a baseline: McNemar's z on the rows that only one of the two gets right
(|z| > 2, roughly, is more than the split's noise), and a 95% interval for the difference
from 2,000 paired bootstrap resamples of the test rows (the only such check for macro-F1).

What to expect (docs/examples.md has the measured runs): naive Bayes on character n-grams,
tuned on the validation names, is a strong baseline here (0.822 accuracy), because no test
name was seen in training. The average of four networks (0.834) beats it by 1.2 points of
accuracy and 4.7 of macro-F1, both intervals above zero (McNemar z 2.4): more than the split's
noise, but a small margin. Six networks (`--ensemble 6`) reach 0.836, z 2.9. The majority
class is 0.518.

Run:  python examples/names_by_language.py [--ensemble 4] [--front both|conv|none] [--epochs 30] [--backend numpy|jax]
      python examples/names_by_language.py --quick      (the reduced CI setting, seconds)
The last line is machine-readable: RESULT model_accuracy=... majority_accuracy=... ...
"""

import argparse
import math
import time
from collections import Counter, defaultdict

import numpy as np

import scratchlstm as keras
from scratchlstm.data.text import Vocabulary
from scratchlstm.datasets import load_names

SPLIT = {"train": 0.7, "val": 0.1, "test": 0.2}
# the baseline's settings, each pair tried on the validation names: n-grams of 1 to max_n characters
NGRAM_MAX_SIZES = (3, 4, 5)
SMOOTHING = (0.03, 0.1, 0.3, 1.0)


def split_by_name(pairs, classes, rng):
    """Assign each distinct name to train, val or test, stratified by its language.

    A name under several languages is stratified by the rarest of them (so that the small
    classes keep their share of test names), and all its rows follow it.

    Returns:
        ``{"train": [(name, language), ...], "val": [...], "test": [...]}``.
    """
    class_size = Counter(language for _, language in pairs)
    languages_of = defaultdict(list)
    for name, language in pairs:
        languages_of[name].append(language)
    names_by_stratum = defaultdict(list)
    for name, languages in languages_of.items():
        names_by_stratum[min(languages, key=class_size.__getitem__)].append(name)
    part_of = {}
    for language in classes:
        names = sorted(names_by_stratum[language])
        rng.shuffle(names)
        n_test = max(1, round(SPLIT["test"] * len(names)))
        n_val = max(1, round(SPLIT["val"] * len(names)))
        for position, name in enumerate(names):
            part_of[name] = "test" if position < n_test else "val" if position < n_test + n_val else "train"
    parts = {part: [] for part in SPLIT}
    for name, language in pairs:
        parts[part_of[name]].append((name, language))
    return parts


def ngram_ids(names, index, max_n=3, grow=False):
    """The character 1- to ``max_n``-grams of each name (with ``^``/``$`` boundary marks) as id arrays.

    With ``grow=True`` new n-grams get new ids in ``index`` (training); otherwise n-grams never
    seen in training are dropped, as a count vectorizer fitted on the training names does.
    """
    rows = []
    for name in names:
        marked = f"^{name}$"
        grams = [marked[i:i + n] for n in range(1, max_n + 1) for i in range(len(marked) - n + 1)]
        if grow:
            for gram in grams:
                index.setdefault(gram, len(index))
        rows.append(np.array([index[g] for g in grams if g in index], dtype=np.int64))
    return rows


class NgramNaiveBayes:
    """Multinomial naive Bayes on the counts of character 1- to ``max_n``-grams, in NumPy.

    ``log P(class | name) = log P(class) + sum over the name's n-grams of log P(gram | class)``
    with ``P(gram | class) = (count(gram, class) + alpha) / (total(class) + alpha * V)``.
    """

    def __init__(self, n_classes, alpha=1.0, max_n=3):
        self.n_classes, self.alpha, self.max_n, self.index = n_classes, alpha, max_n, {}

    def fit(self, names, labels):
        grams = ngram_ids(names, self.index, self.max_n, grow=True)
        lengths = np.array([len(g) for g in grams])
        flat_labels = np.repeat(labels, lengths)
        # one bincount over (class, gram) pairs instead of a Python loop over the counts
        self.counts = np.bincount(flat_labels * len(self.index) + np.concatenate(grams),
                                  minlength=self.n_classes * len(self.index)).reshape(self.n_classes, -1)
        self.log_prior = np.log(np.bincount(labels, minlength=self.n_classes) / len(labels))
        return self.set_alpha(self.alpha)

    def set_alpha(self, alpha):
        self.alpha = alpha
        smoothed = self.counts + alpha  # (C, V)
        self.log_likelihood = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))
        return self

    def predict(self, names):
        grams = ngram_ids(names, self.index, self.max_n)
        lengths = np.array([len(g) for g in grams])
        per_gram = self.log_likelihood[:, np.concatenate(grams)]  # (C, all n-grams of all names)
        owner = np.repeat(np.arange(len(names)), lengths)
        scores = np.stack([np.bincount(owner, weights=row, minlength=len(names)) for row in per_gram], axis=1)
        return (scores + self.log_prior).argmax(axis=1)


def scores_from_confusion(confusion):
    """Accuracy, macro-F1 and balanced accuracy (mean per-class recall) of confusion matrices.

    Args:
        confusion: ``(..., C, C)`` counts, rows the true class and columns the predicted one.

    Returns:
        ``{"accuracy": ..., "macro_f1": ..., "balanced_accuracy": ...}``, each of shape ``(...)``.
        Classes absent from the truth are left out of the two means.
    """
    confusion = confusion.astype(float)
    hits = np.diagonal(confusion, axis1=-2, axis2=-1)  # (..., C)
    true_count, predicted_count = confusion.sum(axis=-1), confusion.sum(axis=-2)  # (..., C) each
    recall = hits / np.maximum(true_count, 1)
    precision = hits / np.maximum(predicted_count, 1)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)  # 0 where both are 0
    present = true_count > 0
    return {
        "accuracy": hits.sum(axis=-1) / confusion.sum(axis=(-2, -1)),
        "macro_f1": (f1 * present).sum(axis=-1) / present.sum(axis=-1),
        "balanced_accuracy": (recall * present).sum(axis=-1) / present.sum(axis=-1),
    }


def classification_scores(truth, predicted, n_classes):
    """The scores of `scores_from_confusion` as floats, and the confusion matrix."""
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)  # rows: true, columns: predicted
    np.add.at(confusion, (truth, predicted), 1)
    return {metric: float(value) for metric, value in scores_from_confusion(confusion).items()}, confusion


def paired_bootstrap(truth, first, second, n_classes, rng, resamples=2000):
    """95% intervals of ``score(first) - score(second)`` for each score, resampling the test rows.

    Each resample draws the test rows with replacement and scores both classifiers on the same
    draw, so the interval holds the split's noise for that difference (macro-F1 has no McNemar).

    Returns:
        ``{"accuracy": (low, high), "macro_f1": (low, high), "balanced_accuracy": (low, high)}``.
    """
    rows = rng.integers(0, len(truth), size=(resamples, len(truth)))  # (R, N)
    offsets = np.arange(resamples)[:, None] * n_classes * n_classes
    scores = []
    for predicted in (first, second):
        cells = offsets + truth[rows] * n_classes + predicted[rows]  # (R, N): each drawn row's cell
        confusion = np.bincount(cells.ravel(), minlength=resamples * n_classes * n_classes)
        scores.append(scores_from_confusion(confusion.reshape(resamples, n_classes, n_classes)))  # (R,) each
    return {metric: (float(np.percentile(scores[0][metric] - scores[1][metric], 2.5)),
                     float(np.percentile(scores[0][metric] - scores[1][metric], 97.5)))
            for metric in scores[0]}


def format_confusion(confusion, classes):
    """The confusion matrix with 3-letter class names; '.' for zero."""
    short = [c[:3] for c in classes]
    width = max(4, len(str(confusion.max())) + 1)
    lines = ["true \\ predicted " + "".join(f"{s:>{width}}" for s in short)]
    for name, row in zip(classes, confusion):
        cells = "".join(f"{(str(v) if v else '.'):>{width}}" for v in row)
        lines.append(f"{name:<16} {cells}   recall {row[classes.index(name)] / max(row.sum(), 1):.2f}")
    return "\n".join(lines)


def build_model(vocabulary_size, n_classes, maxlen, units, head, front, filters, seed):
    """Characters -> Embedding -> (Conv1D n-gram detectors) -> Bidirectional(GRU) -> (pooling) -> Dense(softmax).

    ``front="conv"`` puts three `Conv1D` of width 2, 3 and 4 (``filters`` each, ReLU) between the
    embedding and the GRU: detectors of character bigrams to 4-grams, such as the suffixes that
    mark a language, which the GRU then reads in order (the CNN-then-RNN pattern of Keras'
    ``imdb_cnn_lstm`` example). `Conv1D` cannot use a mask, so this front has no
    ``mask_zero``: the GRU reads the padding too, and learns what id 0 means.
    ``front="none"`` feeds the embedding to the GRU with ``mask_zero=True``.

    ``head="pool"`` reads every step of the bidirectional GRU through the maximum and the mean
    over the steps; ``head="last"`` (``front="none"`` only) takes its final states.
    """
    layers = keras.layers
    characters = keras.Input((maxlen,), dtype="int32", name="characters")
    if front == "conv":
        embedded = layers.Embedding(vocabulary_size, 64)(characters)  # (B, T, 64)
        embedded = layers.SpatialDropout1D(0.2)(embedded)  # drops whole embedding channels in training
        grams = [layers.Conv1D(filters, width, padding="same", activation="relu")(embedded) for width in (2, 3, 4)]
        sequence = layers.Dropout(0.2)(layers.Concatenate()(grams))  # (B, T, 3 filters)
    else:
        embedded = layers.Embedding(vocabulary_size, 128, mask_zero=True)(characters)  # (B, T, 128), mask (B, T)
        sequence = layers.SpatialDropout1D(0.2)(embedded)
    if head == "pool":
        steps = layers.Bidirectional(layers.GRU(units, return_sequences=True))(sequence)  # (B, T, 2 units)
        features = layers.Concatenate()([layers.GlobalMaxPooling1D()(steps), layers.GlobalAveragePooling1D()(steps)])
    else:
        features = layers.Bidirectional(layers.GRU(units))(sequence)  # (B, 2 units)
    probabilities = layers.Dense(n_classes, activation="softmax")(layers.Dropout(0.5)(features))
    return keras.Model(characters, probabilities, seed=seed)  # seed: the shuffling


def mcnemar(truth, first, second):
    """Rows only the first gets right, only the second, and the z of McNemar's test on them."""
    only_first = int(np.sum((first == truth) & (second != truth)))
    only_second = int(np.sum((second == truth) & (first != truth)))
    z = (only_first - only_second) / max(math.sqrt(only_first + only_second), 1.0)
    return only_first, only_second, z


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30, help="most epochs; early stopping ends sooner")
    parser.add_argument("--units", type=int, default=None,
                        help="GRU units per direction (default 192 after the convolutions, 256 without)")
    parser.add_argument("--front", default="both", choices=("both", "conv", "none"),
                        help="Conv1D n-gram detectors before the GRU, the masked embedding straight in, "
                             "or both in turn over the ensemble's networks (default)")
    parser.add_argument("--filters", type=int, default=128, help="filters of each Conv1D (--front conv)")
    parser.add_argument("--head", default="pool", choices=("pool", "last"),
                        help="max and mean over the GRU's steps, or its last states only (--front none)")
    parser.add_argument("--backend", default="numpy", choices=("numpy", "jax"))
    parser.add_argument("--seed", type=int, default=0, help="split, weights and shuffling")
    parser.add_argument("--ensemble", type=int, default=None,
                        help="networks whose probabilities are averaged (default 4; 1 with --quick)")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2), help="fit's progress output")
    parser.add_argument("--quick", action="store_true",
                        help="CI setting: 5,000 training names, 8 epochs, 32 units, 16 filters")
    args = parser.parse_args(argv)
    if args.ensemble is None:
        args.ensemble = 1 if args.quick else 4
    if args.quick:
        args.epochs, args.filters = min(args.epochs, 8), min(args.filters, 16)
        args.units = min(args.units or 32, 32)
    if args.ensemble < 1:
        parser.error(f"--ensemble must be at least 1, got {args.ensemble}")
    if args.head == "last" and args.front != "none":
        parser.error("--head last needs --front none: the convolutions drop the mask, and the GRU's last "
                     "states would come after the padding")

    started = time.perf_counter()
    names, languages, classes = load_names()
    pairs = sorted(set(zip(names, languages)))
    multi = sum(1 for count in Counter(name for name, _ in pairs).values() if count > 1)
    print(f"{len(names):,} rows -> {len(pairs):,} distinct (name, language) pairs "
          f"({len(names) - len(pairs):,} duplicate rows dropped); {len({n for n, _ in pairs}):,} distinct "
          f"names, {multi} of them under several languages")

    rng = np.random.default_rng(args.seed)
    parts = split_by_name(pairs, classes, rng)
    if args.quick:  # a random subset of the training names; validation and test stay whole
        keep = rng.permutation(len(parts["train"]))[:5000]
        parts["train"] = [parts["train"][i] for i in sorted(keep)]
    train_names = {n for n, _ in parts["train"]}
    assert not train_names & {n for n, _ in parts["test"]}, "a test name is also a training name"
    print("rows: " + ", ".join(f"{part} {len(rows):,}" for part, rows in parts.items()) + " (no name in two parts)")

    vocab = Vocabulary("char").fit(n for n, _ in parts["train"])
    maxlen = max(len(n) for n, _ in pairs)

    def arrays(rows):
        x = vocab.encode([n for n, _ in rows], maxlen=maxlen, padding="post")  # (N, maxlen) ids, 0 = pad
        y = np.array([classes.index(language) for _, language in rows])
        return x, y

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (arrays(parts[p]) for p in SPLIT)
    print(f"characters: {len(vocab)} ids (padding and out-of-vocabulary included); x {x_train.shape}")

    # Baselines, fitted on the same training rows.
    majority = int(np.bincount(y_train, minlength=len(classes)).argmax())
    val_names, test_names = [n for n, _ in parts["val"]], [n for n, _ in parts["test"]]
    candidates = {}  # (max_n, alpha) -> (validation accuracy, the fitted naive Bayes)
    for max_n in NGRAM_MAX_SIZES:
        fitted = NgramNaiveBayes(len(classes), max_n=max_n).fit([n for n, _ in parts["train"]], y_train)
        for alpha in SMOOTHING:
            candidates[max_n, alpha] = (float(np.mean(fitted.set_alpha(alpha).predict(val_names) == y_val)), fitted)
    (max_n, alpha), (val_accuracy, bayes) = max(candidates.items(), key=lambda item: item[1][0])
    bayes.set_alpha(alpha)
    print(f"naive Bayes on character 1-{max_n}-grams: {len(bayes.index):,} n-grams, smoothing alpha={alpha} "
          f"(the best of max_n {NGRAM_MAX_SIZES} x alpha {SMOOTHING} on validation: accuracy {val_accuracy:.3f})")

    member_probabilities = []  # (N_test, classes) per network
    fronts = ("conv", "none") if args.front == "both" else (args.front,)
    member_names = []  # what each network is, for the report
    for member in range(args.ensemble):
        seed = args.seed + member
        # The layers of a functional model are built as they are called on `keras.Input`, before
        # the Model exists: the global seed (as in Keras) makes their initial weights reproducible.
        keras.utils.set_random_seed(seed)
        front = fronts[member % len(fronts)]
        units = args.units or (192 if front == "conv" else 256)
        model = build_model(len(vocab), len(classes), maxlen, units, args.head, front, args.filters, seed)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], backend=args.backend)
        fit_started = time.perf_counter()
        history = model.fit(
            x_train, y_train, epochs=args.epochs, batch_size=64, validation_data=(x_val, y_val),
            callbacks=[keras.callbacks.ReduceLROnPlateau(factor=0.3, patience=2),
                       keras.callbacks.EarlyStopping(patience=6, restore_best_weights=True)], verbose=args.verbose,
        )
        epochs_run = len(history.history["loss"])
        member_probabilities.append(model.predict(x_test, verbose=0))
        member_names.append(("Conv1D n-grams + " if front == "conv" else "masked ") + f"BiGRU({units})")
        print(f"network {member + 1}/{args.ensemble} ({member_names[-1]}, seed {seed}): trained {epochs_run} epochs in "
              f"{time.perf_counter() - fit_started:.1f}s ({args.backend})")

    predictions = {
        "model": np.mean(member_probabilities, axis=0).argmax(axis=-1),  # the average of the networks
        "naive_bayes": bayes.predict(test_names),
        "majority": np.full(len(y_test), majority),
    }
    scores, confusions = {}, {}
    for name, predicted in predictions.items():
        scores[name], confusions[name] = classification_scores(y_test, predicted, len(classes))

    print(f"\nlanguage of the {len(y_test):,} test rows ({len(set(test_names)):,} names never seen in training):")
    print(f"  {'':<12} {'accuracy':>9} {'macro-F1':>9} {'balanced':>9}")
    notes = {"majority": f"(always {classes[majority]})", "naive_bayes": f"(character 1-{max_n}-gram counts)",
             "model": f"({member_names[0]}, head {args.head})" if args.ensemble == 1 else
                      f"(average of {args.ensemble} networks: " + ", ".join(sorted(set(member_names))) + ")"}
    for name, s in scores.items():
        print(f"  {name:<12} {s['accuracy']:>9.3f} {s['macro_f1']:>9.3f} {s['balanced_accuracy']:>9.3f}  {notes[name]}")
    for baseline in ("majority", "naive_bayes"):
        gains = {k: scores["model"][k] - scores[baseline][k] for k in scores["model"]}
        only_model, only_baseline, z = mcnemar(y_test, predictions["model"], predictions[baseline])
        print(f"  model - {baseline}: accuracy {gains['accuracy']:+.3f}, macro-F1 {gains['macro_f1']:+.3f}, "
              f"balanced accuracy {gains['balanced_accuracy']:+.3f}; rows only the model gets right "
              f"{only_model}, only {baseline} {only_baseline} (McNemar z = {z:.1f})")
    intervals = paired_bootstrap(y_test, predictions["model"], predictions["naive_bayes"], len(classes),
                                 np.random.default_rng(args.seed))
    print("  model - naive_bayes, 95% interval over resampled test rows: "
          + ", ".join(f"{metric.replace('_', ' ')} [{low:+.3f}, {high:+.3f}]" for metric, (low, high) in intervals.items()))
    network_scores = [classification_scores(y_test, p.argmax(axis=-1), len(classes))[0] for p in member_probabilities]
    if args.ensemble > 1:
        print("  each network alone: accuracy " + ", ".join(f"{s['accuracy']:.3f}" for s in network_scores)
              + "; macro-F1 " + ", ".join(f"{s['macro_f1']:.3f}" for s in network_scores))
    print("\nconfusion matrix of the model on the test rows:")
    print(format_confusion(confusions["model"], classes))
    print(f"\ntotal time {time.perf_counter() - started:.1f}s")

    flat = {f"{name}_{metric}": value for name, s in scores.items() for metric, value in s.items()}
    flat["mcnemar_z_vs_naive_bayes"] = mcnemar(y_test, predictions["model"], predictions["naive_bayes"])[2]
    for metric, (low, high) in intervals.items():
        flat[f"{metric}_gain_vs_naive_bayes_low"], flat[f"{metric}_gain_vs_naive_bayes_high"] = low, high
    for member, s in enumerate(network_scores):
        flat[f"network{member}_accuracy"] = s["accuracy"]
    print("RESULT " + " ".join(f"{k}={v:.4f}" for k, v in flat.items()))
    return flat


if __name__ == "__main__":
    main()
