"""Many-to-one: tomorrow's maximum temperature in Seattle from the past 14 days.

Inputs per day: every numeric column of the bundled Seattle weather data (precipitation,
temp_max, temp_min, wind) plus the day of year as sin/cos, so the model knows the season.
The setup a practitioner would use on noisy daily weather:

1. split the days in time order (70% train, 15% validation, 15% test) before anything else;
2. fit the scaler on the training days only, then cut each part into windows on its own;
3. train LSTM(32) -> Dense(1) with Adam, stopping when the validation loss stops improving
   and restoring the best epoch's weights (EarlyStopping(restore_best_weights=True));
4. score the test days in degrees C beside two baselines: persistence (tomorrow = today) and
   climatology (the training mean).

Run:  python examples/many_to_one.py [--epochs 100] [--seed 0]
(with scratchlstm installed, e.g. `pip install -e .`). The last line is machine-readable:
RESULT model_rmse=... persistence_rmse=... climatology_rmse=...
"""

import argparse
import time

from scratchlstm import LSTM, Dense, Sequential
from scratchlstm.callbacks import EarlyStopping
from scratchlstm.datasets import load_seattle_weather
from scratchlstm.forecasting import WindowSpec, format_scores, prepare_windows, result_line, score
from scratchlstm.optimizers import Adam


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100, help="most epochs; early stopping ends sooner")
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="fit's progress output: 2 one line per epoch (default), 1 a progress bar, 0 none")
    args = parser.parse_args(argv)

    table = load_seattle_weather(as_frame=False)  # NumPy arrays; pandas is not needed
    spec = WindowSpec(target="temp_max", columns=table.columns, lookback=14, horizon=1,
                      date_column="date", calendar=["day_of_year"])
    data = prepare_windows(table, spec, val_fraction=0.15, test_fraction=0.15)
    print(f"inputs: {', '.join(spec.feature_names)}")
    print(f"windows x (samples, time_steps, features): train {data.train.x.shape}, "
          f"validation {data.val.x.shape}, test {data.test.x.shape}; y: {data.train.y.shape}")

    model = Sequential([LSTM(32), Dense(1)], seed=args.seed)
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

    truth = spec.to_units(data.test.y)  # (days, 1) in degrees C
    scores = score(truth, {
        "model": spec.to_units(model.predict(data.test.x)),
        "persistence": spec.persistence(data.test.x),
        "climatology": spec.climatology(len(truth)),
    })
    print(f"next-day temp_max on the {len(truth)} test days (the last 15%, never trained on):")
    print(format_scores(scores, unit="°C", notes={"persistence": "(tomorrow = today)",
                                                  "climatology": "(training mean)"}))
    print(result_line(scores))
    return scores


if __name__ == "__main__":
    main()
