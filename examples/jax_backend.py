"""The many_to_one.py training on both backends: NumPy (the reference) and JAX (jax.jit).

The same model, data, seed and EarlyStopping run once with `backend="numpy"` and once with
`backend="jax"`. Printed: seconds per epoch on each (JAX's first epoch, which includes the
jit compilation, separately) and the test RMSE of each beside persistence and climatology.
The two runs start from the same weights and shuffle alike; their float32 arithmetic differs
in the last bits, so the epochs and scores are close but need not be identical.

Which is faster depends on the machine and the model: JAX first spends seconds compiling,
then runs each epoch as compiled code; it pays off most for larger models, longer sequences
and accelerators.

Needs the jax extra (`pip install "scratchlstm[jax]"`); without it only the NumPy run happens.

Run:  python examples/jax_backend.py [--epochs 100] [--seed 0]
"""

import argparse
import statistics
import time

from scratchlstm import LSTM, Dense, Sequential
from scratchlstm.callbacks import Callback, EarlyStopping
from scratchlstm.datasets import load_seattle_weather
from scratchlstm.forecasting import WindowSpec, format_scores, prepare_windows, result_line, score
from scratchlstm.optimizers import Adam


class EpochTimer(Callback):
    """Wall-clock seconds of each epoch (training and validation)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


def train(data, backend, epochs, seed, verbose=2):
    model = Sequential([LSTM(32), Dense(1)], seed=seed)
    model.compile(optimizer=Adam(learning_rate=1e-3), loss="mse", metrics=["mae"], backend=backend)
    timer = EpochTimer()
    model.fit(
        data.train.x, data.train.y, epochs=epochs, batch_size=32, validation_data=(data.val.x, data.val.y),
        callbacks=[EarlyStopping(patience=10, restore_best_weights=True), timer], verbose=verbose,
    )
    return model, timer.seconds


def jax_missing():
    """The error message when the jax extra (jax, optax) cannot be imported, else None."""
    try:
        import jax  # noqa: F401
        import optax  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100, help="most epochs; early stopping ends sooner")
    parser.add_argument("--seed", type=int, default=0, help="weights and shuffling")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="fit's progress output: 2 one line per epoch (default), 1 a progress bar, 0 none")
    args = parser.parse_args(argv)

    table = load_seattle_weather(as_frame=False)
    spec = WindowSpec(target="temp_max", columns=table.columns, lookback=14, horizon=1,
                      date_column="date", calendar=["day_of_year"])
    data = prepare_windows(table, spec)
    truth = spec.to_units(data.test.y)
    baselines = {"persistence": spec.persistence(data.test.x), "climatology": spec.climatology(len(truth))}

    backends = ["numpy"]
    missing = jax_missing()
    if missing:
        print(f'skipping the JAX run, jax is not available ({missing}); install it with: '
              'pip install "scratchlstm[jax]"')
    else:
        backends.append("jax")

    results, per_epoch = {}, {}
    for backend in backends:
        model, seconds = train(data, backend, args.epochs, args.seed, args.verbose)
        scores = score(truth, {"model": spec.to_units(model.predict(data.test.x)), **baselines})
        results[backend] = scores
        per_epoch[backend] = statistics.median(seconds[1:] or seconds)  # epoch 1 includes compiling
        print(f"\n{backend}: {len(seconds)} epochs, the first {seconds[0]:.2f}s, then "
              f"{per_epoch[backend]:.3f}s per epoch (median)")
        print(format_scores(scores, unit="°C"))
        print(result_line(scores).replace("RESULT", f"RESULT backend={backend}"))
    if len(per_epoch) == 2:
        print(f"\nseconds per epoch after compilation: numpy {per_epoch['numpy']:.3f}, jax {per_epoch['jax']:.3f} "
              f"(jax {per_epoch['numpy'] / per_epoch['jax']:.1f}x the speed of numpy)")
    return results


if __name__ == "__main__":
    main()
