"""Classification: tomorrow's weather type in Seattle (drizzle, fog, rain, snow, sun) from the
past 14 days.

Inputs per day: the numeric weather columns, the day of year as sin/cos, and the day's weather
type one-hot encoded. The model is LSTM(32) -> Dense(5, softmax), trained with sparse
categorical cross-entropy on integer labels and reported with accuracy. It is compared with
two baselines on the same test days: the majority class of the training days, and
persistence (tomorrow's type = today's).

The recipe is written out with scratchlstm.data here (the regression examples use the
scratchlstm.forecasting helpers, which do the same): split by time, fit the scaler on the
training days only, window each part on its own.

Note on the data: the labels drift. "rain" is common in 2012 and nearly absent from 2014 on,
while "fog" grows, so the training days do not look like the test days (the second half of
2015). Yesterday's type as an input lets the model follow the labels of its own period.

Run:  python examples/classification.py [--epochs 100] [--seed 0]
The last line is machine-readable: RESULT model_accuracy=... majority_accuracy=... persistence_accuracy=...
"""

import argparse

import numpy as np

from scratchlstm import LSTM, Dense, Sequential
from scratchlstm.callbacks import EarlyStopping
from scratchlstm.data import StandardScaler, calendar_features, chronological_split, make_windows
from scratchlstm.datasets import load_seattle_weather
from scratchlstm.optimizers import Adam

LOOKBACK = 14


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100, help="most epochs; early stopping ends sooner")
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="fit's progress output: 2 one line per epoch (default), 1 a progress bar, 0 none")
    args = parser.parse_args(argv)

    table = load_seattle_weather(as_frame=False)
    classes = sorted(set(table["weather"].tolist()))  # ['drizzle', 'fog', 'rain', 'snow', 'sun']
    labels = np.searchsorted(classes, table["weather"])  # (days,) integers 0..4
    one_hot = np.eye(len(classes))[labels]
    inputs = np.concatenate([table.values, calendar_features(table.dates).values, one_hot], axis=1)

    # Split the row numbers by time, fit the scaler on the training rows, then window each part.
    parts = chronological_split(np.arange(len(inputs)), val_fraction=0.15, test_fraction=0.15)
    scaler = StandardScaler().fit(inputs[parts.train])

    def windows(rows):
        x, _ = make_windows(scaler.transform(inputs[rows]).astype(np.float32), LOOKBACK, 1)
        return x, labels[rows][LOOKBACK:]  # the label of the day after each window

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = map(windows, parts)
    print(f"windows: x {x_train.shape} -> y {y_train.shape} integer labels (train), "
          f"{len(x_val)} validation, {len(x_test)} test")
    for name, y in (("train", y_train), ("test", y_test)):
        counts = np.bincount(y, minlength=len(classes))
        print(f"{name} days per class: " + ", ".join(f"{c} {n}" for c, n in zip(classes, counts)))

    model = Sequential([LSTM(32), Dense(len(classes), activation="softmax")], seed=args.seed)
    model.compile(optimizer=Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, epochs=args.epochs, batch_size=32, validation_data=(x_val, y_val),
        callbacks=[EarlyStopping(patience=10, restore_best_weights=True)], verbose=args.verbose,
    )
    print(f"trained {len(history.history['loss'])} epochs")

    test_loss, test_accuracy = model.evaluate(x_test, y_test)
    predicted = model.predict(x_test).argmax(axis=-1)
    majority = np.bincount(y_train).argmax()
    today = labels[parts.test][LOOKBACK - 1:-1]  # the last day of each test window
    accuracy = {
        "model": float(np.mean(predicted == y_test)),
        "majority": float(np.mean(y_test == majority)),
        "persistence": float(np.mean(today == y_test)),
    }
    assert abs(accuracy["model"] - test_accuracy) < 1e-6  # evaluate() agrees with predict()
    print(f"tomorrow's weather type on the {len(y_test)} test days:")
    print(f"  model        accuracy {accuracy['model']:.3f}  (cross-entropy {test_loss:.3f})")
    print(f"  majority     accuracy {accuracy['majority']:.3f}  (always '{classes[majority]}', "
          "the most common training class)")
    print(f"  persistence  accuracy {accuracy['persistence']:.3f}  (tomorrow = today)")
    print("RESULT " + " ".join(f"{name}_accuracy={value:.4f}" for name, value in accuracy.items()))
    return accuracy


if __name__ == "__main__":
    main()
