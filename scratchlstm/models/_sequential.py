"""``Sequential``: a stack of layers with Keras' compile / fit / predict / evaluate surface.

The model holds the layers (weights and configuration) and the compile settings; the math
runs in a backend (``_numpy_backend`` or ``scratchlstm.jax_backend``) driven by the shared
loop in ``_fit``. Weights always live here as NumPy arrays between calls.
"""

from __future__ import annotations

import numpy as np

from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .._checks import as_float_array, check_finite
from .._numpy.losses import check_sparse_labels, get_loss
from ..layers import LSTM, Layer
from ._fit import run_fit, validation_split_at
from ._numpy_backend import NumpyBackend

BACKENDS = ("numpy", "jax")


class Sequential:
    """A linear stack of layers.

    Args:
        layers: list of layers (e.g. ``[LSTM(20), Dense(1)]``), or ``None`` and use `add`.
        seed: makes initial weights (for layers without their own seed) and shuffling
            reproducible; ``None`` draws fresh entropy.
        name: a label for `summary`.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm import LSTM, Dense, Sequential
        >>> x = np.random.default_rng(0).normal(size=(64, 10, 1)).astype("float32")
        >>> y = x[:, -1] * 0.5
        >>> model = Sequential([LSTM(8), Dense(1)], seed=0)
        >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        >>> history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        >>> sorted(history.history), model.predict(x[:3]).shape
        (['loss', 'mae'], (3, 1))
    """

    def __init__(self, layers=None, seed=None, name="sequential"):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed must be an int or None, got {seed!r}")
        self.name = name
        self.seed = seed
        self.layers: list[Layer] = []
        self._rng = np.random.default_rng(None if seed is None else [seed, 0])
        self.optimizer = None
        self.loss = None
        self.metric_names: list[str] = []
        self.metric_display_names: dict[str, str] = {}
        self.backend_name = None
        self.stop_training = False
        self.metadata: dict = {}
        for layer in layers or []:
            self.add(layer)

    # --- structure ------------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append a layer."""
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add expects a layer (LSTM, Dense), got {type(layer).__name__}")
        if getattr(layer, "return_state", False):
            raise ValueError(
                f"LSTM {layer.name!r} has return_state=True, which a Sequential model cannot pass "
                "on; call the layer directly to get [output, h, c]"
            )
        if self.seed is not None and layer.seed is None and not layer.built:
            layer.reseed(np.random.default_rng([self.seed, len(self.layers) + 1]))
        if any(existing.name == layer.name for existing in self.layers):
            layer.name = f"{layer.name}_{len(self.layers)}"
        self.layers.append(layer)
        if self.layers[0].built and not layer.built:
            try:  # the input shape is known (input_shape=...): build as Keras does
                self.build(self.layers[0].input_shape, self.layers[0].dtype)
            except ValueError:
                self.layers.pop()
                raise

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def _output_shapes(self, input_shape) -> list:
        """Validate the whole stack for ``input_shape`` without building; return each output shape."""
        if not self.layers:
            raise ValueError("the model has no layers; add an LSTM or Dense first")
        shapes, shape = [], tuple(input_shape)
        for layer in self.layers:
            layer.validate_input_shape(shape)
            shape = layer.compute_output_shape(shape)
            shapes.append(shape)
        return shapes

    def build(self, input_shape, dtype=None) -> None:
        """Create every layer's weights for inputs shaped ``input_shape`` (batch axis included)."""
        input_shape = (None, *tuple(input_shape)[1:])
        self._output_shapes(input_shape)  # all checks first: a failed build changes nothing
        shape = input_shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, dtype)
            dtype = layer.dtype
            shape = layer.compute_output_shape(shape)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{what} needs a built model; call fit/predict on data, model.build((None, "
                "time_steps, features)) or give the first layer input_shape=(time_steps, features)"
            )

    @property
    def input_shape(self):
        self._require_built("input_shape")
        return self.layers[0].input_shape

    @property
    def output_shape(self):
        return self._output_shapes(self.input_shape)[-1]

    # --- weights --------------------------------------------------------------------------------
    def get_params(self) -> list:
        """The layers' parameter dicts (not copies), one per layer."""
        return [layer.params for layer in self.layers]

    def set_params(self, params) -> None:
        for layer, layer_params in zip(self.layers, params):
            layer.params = layer_params

    def get_weights(self) -> list:
        """All weights as a flat list of NumPy arrays, layer by layer in Keras' order."""
        self._require_built("get_weights")
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        """Set all weights from a list shaped like `get_weights`; nothing changes on error."""
        self._require_built("set_weights")
        weights = list(weights)
        expected = sum(len(layer.get_weights()) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"the model has {expected} weight arrays, got {len(weights)}")
        saved = [layer.params for layer in self.layers]
        try:
            offset = 0
            for layer in self.layers:
                count = len(layer.params)
                layer.set_weights(weights[offset : offset + count])
                offset += count
        except ValueError:
            self.set_params(saved)
            raise

    def count_params(self) -> int:
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self.layers)

    # --- compile --------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, backend="numpy") -> None:
        """Configure training.

        Args:
            optimizer: a name (``"sgd"``, ``"adam"``, ``"rmsprop"``) or an object from
                `scratchlstm.optimizers`.
            loss: ``"mse"``, ``"mae"``, ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
                ``"sparse_categorical_crossentropy"`` or a `scratchlstm.losses.Loss`.
            metrics: list of ``"mae"``, ``"mse"``, ``"accuracy"``.
            backend: ``"numpy"`` (the reference) or ``"jax"`` (jit-compiled; needs the
                ``jax`` extra).
        """
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='mse'; got loss=None")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        resolved_optimizer = optimizers_module.get(optimizer)
        resolved_loss = get_loss(loss)
        if metrics is not None and (isinstance(metrics, str) or not isinstance(metrics, (list, tuple))):
            raise ValueError(f"metrics must be a list of names like ['mae'], got {metrics!r}")
        requested = list(metrics or [])
        canonical = [metrics_module.resolve(m, resolved_loss.name) for m in requested]
        if backend == "jax":
            from .. import jax_backend  # noqa: F401  (fails now, with the install hint, if jax is missing)
        self.optimizer, self.loss, self.backend_name = resolved_optimizer, resolved_loss, backend
        self.metric_names = canonical
        # Logs and History use the name the user gave, as Keras does ("mae", "accuracy").
        self.metric_display_names = {c: str(r) for c, r in zip(canonical, requested)}

    def _require_compiled(self, what: str) -> None:
        if self.loss is None:
            raise ValueError(f"{what} needs a compiled model; call model.compile(optimizer, loss) first")

    def _backend(self):
        if self.backend_name == "jax":
            from .. import jax_backend

            return jax_backend.make_training_backend(self)
        return NumpyBackend(self)

    # --- data checks ----------------------------------------------------------------------------
    def _check_x(self, x, what="x") -> np.ndarray:
        x = as_float_array(x, what)
        check_finite(x, what)
        if isinstance(self.layers[0] if self.layers else None, LSTM) and x.ndim != 3:
            raise ValueError(
                f"{what} must be 3-D (samples, time_steps, features) for an LSTM, got shape "
                f"{x.shape} ({x.ndim}-D)"
            )
        self._output_shapes(x.shape)  # feature count against the built layers
        if len(x) == 0:
            raise ValueError(f"{what} has no samples (shape {x.shape})")
        return x

    def _check_xy(self, x, y, what="") -> tuple:
        x = self._check_x(x, f"x{what}")
        y_array = np.asarray(y)
        if y_array.dtype.kind not in "fiub":
            raise ValueError(f"y{what} must be numeric, got dtype {y_array.dtype}")
        y_array = as_float_array(y_array, f"y{what}")
        check_finite(y_array, f"y{what}")
        if len(y_array) != len(x):
            raise ValueError(
                f"x{what} and y{what} must have the same number of samples, got {len(x)} and "
                f"{len(y_array)} (shapes {x.shape} and {y_array.shape})"
            )
        output_shape = self._output_shapes(x.shape)[-1]
        expected = (len(x), *output_shape[1:])
        if self.loss is not None and self.loss.name == "sparse_categorical_crossentropy":
            # Whole set checked up front: a bad label in a later batch must not fail mid-training.
            check_sparse_labels(y_array, expected)
            return x, y_array
        if y_array.shape == expected[:-1] and expected[-1] == 1:
            y_array = y_array[..., None]  # (N,) targets for a (N, 1) output
        if y_array.shape != expected:
            raise ValueError(f"y{what} must have shape {expected} to match the model output, got {y_array.shape}")
        return x, y_array

    # --- training and inference -----------------------------------------------------------------
    def fit(
        self,
        x,
        y,
        epochs=1,
        batch_size=32,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
    ):
        """Train for ``epochs`` passes over ``(x, y)``; return a `History`.

        Args:
            x: ``(samples, time_steps, features)``.
            y: targets shaped like the model output (``(samples,)`` is accepted for one unit),
                or integer labels for the sparse loss.
            epochs, batch_size: as in Keras; the last batch may be smaller.
            verbose: ``0`` silent, ``1`` (or ``"auto"``) a progress bar per epoch, ``2`` one
                line per epoch.
            callbacks: list of `scratchlstm.callbacks` objects.
            validation_split: fraction of the samples, taken from the end before shuffling.
            validation_data: ``(x_val, y_val)``; overrides ``validation_split``.
            shuffle: shuffle the training samples every epoch (with the model's generator).
        """
        self._require_compiled("fit")
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= float(validation_split) < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        verbose = 1 if verbose == "auto" else verbose
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        x, y = self._check_xy(x, y)
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            validation = self._check_xy(*validation_data, what="_val")
        elif validation_split:
            split_at = validation_split_at(len(x), validation_split)
            if split_at == len(x) or split_at == 0:
                raise ValueError(
                    f"validation_split={validation_split} leaves no samples on one side of {len(x)}"
                )
            x, validation = x[:split_at], (x[split_at:], y[split_at:])
            y = y[:split_at]
        if not self.built:
            self.build(x.shape, x.dtype)
        x = x.astype(self.layers[0].dtype, copy=False)
        return run_fit(
            self, self._backend(), x, y,
            epochs=int(epochs), batch_size=int(batch_size), validation=validation,
            shuffle=bool(shuffle), callbacks=callbacks, verbose=verbose, rng=self._rng,
        )

    def predict(self, x, batch_size=None, verbose=0) -> np.ndarray:
        """Outputs for ``x`` (``(samples, time_steps, features)``), computed in batches."""
        x = self._check_x(x)
        if not self.built:
            self.build(x.shape, x.dtype)
        backend = self._backend() if self.loss is not None else NumpyBackend(self)
        return np.asarray(backend.predict(self.get_params(), x.astype(self.layers[0].dtype, copy=False), int(batch_size or 32)))

    def __call__(self, x) -> np.ndarray:
        return self.predict(x)

    def evaluate(self, x, y, batch_size=None, verbose=0, return_dict=False):
        """Loss (and metrics) on ``(x, y)``: a float, a list ``[loss, *metrics]`` or a dict."""
        self._require_compiled("evaluate")
        x, y = self._check_xy(x, y)
        self._require_built("evaluate")
        logs = self._backend().evaluate(self.get_params(), x.astype(self.layers[0].dtype, copy=False), y, int(batch_size or 32))
        logs = {self.metric_display_names.get(k, k): float(v) for k, v in logs.items()}
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    # --- description and persistence ------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        """Print layers, output shapes and parameter counts (Keras' numbers)."""
        self._require_built("summary")
        shapes = self._output_shapes(self.input_shape)
        rows = [(f"{layer.name} ({type(layer).__name__})", str(shape), f"{layer.count_params():,}")
                for layer, shape in zip(self.layers, shapes)]
        widths = [max(len(h), *(len(r[i]) for r in rows)) + 2 for i, h in enumerate(("Layer (type)", "Output Shape", "Param #"))]
        line = "-" * sum(widths)
        out = [f'Model: "{self.name}"', line,
               "".join(h.ljust(w) for h, w in zip(("Layer (type)", "Output Shape", "Param #"), widths)), line]
        out += ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
        out += [line, f"Total params: {self.count_params():,}", f"Trainable params: {self.count_params():,}",
                "Non-trainable params: 0", line]
        print_fn("\n".join(out))

    def get_config(self) -> dict:
        return {"name": self.name, "seed": self.seed, "layers": [layer.get_config() for layer in self.layers]}

    def get_compile_config(self) -> dict | None:
        if self.loss is None:
            return None
        return {
            "optimizer": self.optimizer.get_config(),
            "loss": self.loss.get_config(),
            "metrics": [self.metric_display_names[c] for c in self.metric_names],
            "backend": self.backend_name,
        }

    def save(self, path, metadata=None) -> None:
        """Save architecture, weights, compile settings and ``metadata`` to one ``.npz`` file.

        No pickle: weights are plain arrays and the rest is JSON. The file is written to a
        temporary name and moved into place, so a failed save leaves an older file intact.
        """
        from ._serialization import save_model

        save_model(self, path, metadata)
