"""Many-to-many: the next 7 days of maximum temperature in Seattle from the past 28 days.

The same leak-free setup as many_to_one.py (split in time order, scaler fitted on the training
days, sin/cos day of year, EarlyStopping restoring the best weights), with a 7-step target:
LSTM(32) reads the 28 days and Dense(7) maps its last hidden state to the 7 forecasts at once
(the "direct multi-output" strategy, no feeding forecasts back in).

Printed: RMSE and MAE in degrees C over all 7 steps, then RMSE per step ahead, for the model,
persistence (the last observed day repeated 7 times) and climatology (the training mean).
Persistence is hard to beat one day ahead and falls off quickly after that.

Run:  python examples/many_to_many.py [--epochs 100] [--seed 0]
The last line is machine-readable: RESULT model_rmse=... persistence_rmse=... climatology_rmse=...
"""

import argparse
import time

from scratchlstm import LSTM, Dense, Sequential
from scratchlstm.callbacks import EarlyStopping
from scratchlstm.datasets import load_seattle_weather
from scratchlstm.forecasting import WindowSpec, format_scores, prepare_windows, result_line, score
from scratchlstm.optimizers import Adam

LOOKBACK, HORIZON = 28, 7


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100, help="most epochs; early stopping ends sooner")
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="fit's progress output: 2 one line per epoch (default), 1 a progress bar, 0 none")
    args = parser.parse_args(argv)

    table = load_seattle_weather(as_frame=False)
    spec = WindowSpec(target="temp_max", columns=table.columns, lookback=LOOKBACK, horizon=HORIZON,
                      date_column="date", calendar=["day_of_year"])
    data = prepare_windows(table, spec, val_fraction=0.15, test_fraction=0.15)
    print(f"windows: x {data.train.x.shape} -> y {data.train.y.shape} (train), "
          f"{len(data.val.x)} validation, {len(data.test.x)} test")

    model = Sequential([LSTM(32), Dense(HORIZON)], seed=args.seed)
    model.compile(optimizer=Adam(learning_rate=1e-3), loss="mse", metrics=["mae"])
    started = time.perf_counter()
    history = model.fit(
        data.train.x, data.train.y, epochs=args.epochs, batch_size=32,
        validation_data=(data.val.x, data.val.y),
        callbacks=[EarlyStopping(patience=10, restore_best_weights=True)], verbose=args.verbose,
    )
    epochs_run = len(history.history["loss"])
    best = min(range(epochs_run), key=history.history["val_loss"].__getitem__) + 1
    print(f"trained {epochs_run} epochs in {time.perf_counter() - started:.1f}s; kept epoch {best}")

    truth = spec.to_units(data.test.y)  # (windows, 7) in degrees C
    scores = score(truth, {
        "model": spec.to_units(model.predict(data.test.x)),
        "persistence": spec.persistence(data.test.x),
        "climatology": spec.climatology(len(truth)),
    })
    print(f"temp_max 1..{HORIZON} days ahead, {len(truth)} test windows (the last 15% of the days):")
    print(format_scores(scores, unit="°C", notes={"persistence": "(last day, repeated)",
                                                  "climatology": "(training mean)"}))
    print("RMSE (°C) per day ahead:")
    print(f"{'':14}" + "".join(f"{f'+{step}':>7}" for step in range(1, HORIZON + 1)))
    for name, values in scores.items():
        print(f"{name:14}" + "".join(f"{v:7.2f}" for v in values["rmse_per_step"]))
    print(result_line(scores))
    return scores


if __name__ == "__main__":
    main()
