"""Keras' training surface for every model: compile, fit, evaluate, predict and the ``*_on_batch``
methods, with Keras 3's arguments in Keras' positional order.

The math runs in a backend (``_numpy_backend`` or ``scratchlstm.jax_backend``) driven by the
shared loop in ``_fit``; weights always live in the layers as NumPy arrays between calls.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any, Callable, cast

import numpy as np
from numpy.typing import NDArray

from .. import optimizers as optimizers_module
from .._checks import check_representable
from .._tree import flatten_paths
from ._compile import resolve_compile
from ._data import input_arrays, sample_weights, target_arrays
from ._fit import read_logs, run_fit, validation_split_at
from ._numpy_backend import NumpyBackend
from ._tbptt import TruncatedBPTT, carried_states, check_tbptt_data, check_tbptt_steps

if TYPE_CHECKING:
    from .._graph import Graph
    from .._graph.tensor import SymbolicTensor
    from ..callbacks import Callback, History
    from ..layers import Layer
    from ..layers.rnn._recurrent import Recurrent
    from ..losses import Loss
    from ._compile import CompileConfig

    # Trainer is only ever mixed into Model (a Layer): the checker sees it as a Layer subclass.
    _TrainerBase = Layer
else:
    _TrainerBase = object

# checked arrays of x, of y (None without targets) and the sample weights (None without any)
_Prepared = tuple[list[NDArray[Any]], list[NDArray[Any]] | None, NDArray[Any] | None]

BACKENDS = ("numpy", "jax")


def _positive_int(name: str, value: Any, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _verbosity(verbose: Any) -> int:
    verbose = 1 if verbose == "auto" else verbose
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


# Keras' other compile arguments: accepted where they do not change the results.
_COMPILE_OPTIONS = {
    "jit_compile": ("auto", True, False),  # the JAX backend always jits; NumPy never does
    "run_eagerly": (False, True),  # NumPy is eager; JAX steps stay jitted
    "steps_per_execution": (1,),
    "auto_scale_loss": (True, False),
    "weighted_metrics": (None,),
}


def _check_compile_options(options: dict[str, Any]) -> None:
    for name, value in options.items():
        if name not in _COMPILE_OPTIONS:
            raise TypeError(f"compile() got an unexpected keyword argument {name!r}")
        if not any(value is allowed or (type(value) is type(allowed) and value == allowed)
                   for allowed in _COMPILE_OPTIONS[name]):
            raise NotImplementedError(
                f"compile({name}={value!r}) is not implemented; supported: {list(_COMPILE_OPTIONS[name])}"
            )


def _instantiate_metric_classes(metrics: Any) -> Any:
    """Metric classes in ``metrics`` made objects once, at compile, so their automatic names
    (``auc``, ``auc_1``) do not change when the settings are resolved again after a build."""
    from ..metrics import Metric

    if isinstance(metrics, dict):
        return {key: _instantiate_metric_classes(value) for key, value in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return type(metrics)(_instantiate_metric_classes(item) for item in metrics)
    if isinstance(metrics, type) and issubclass(metrics, Metric):
        from ..metrics import get

        return get(metrics)
    return metrics


def _all_layers(model: Any) -> list[Layer]:
    """Every layer of ``model``, nested models' layers included."""
    found: list[Layer] = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "graph"):
            found += _all_layers(layer)
    return found


class Trainer(_TrainerBase):
    """Mixed into `Model`: holds the compile settings and runs training and inference."""

    _initial_epoch: int | None = None
    _compile_arguments: dict[str, Any]  # set by compile

    if TYPE_CHECKING:  # what `Model` supplies
        _shuffle_rng: np.random.Generator
        _output_kind: str

        @property
        def inputs(self) -> list[SymbolicTensor]: ...
        @property
        def outputs(self) -> list[SymbolicTensor]: ...
        @property
        def input_names(self) -> list[str]: ...
        @property
        def output_names(self) -> list[str]: ...
        @property
        def takes_list(self) -> bool: ...
        @property
        def returns_list(self) -> bool: ...
        @property
        def stateful(self) -> bool: ...
        @property
        def output_shape(self) -> Any: ...
        @property
        def graph(self) -> Graph: ...
        def check_stateful_batches(self, batch_size: int, samples: int) -> None: ...
        def _weight_layers(self) -> list[Layer]: ...
        def weight_regularization(self) -> tuple[dict[str, Any], dict[str, Any]]: ...
        def get_variables(self) -> dict[str, Any]: ...
        def set_variables(self, variables: Any) -> None: ...

    def __init__(self) -> None:
        self.optimizer: Any = None  # an `Optimizer` once compiled
        self.compiled: CompileConfig | None = None
        self.backend_name: str | None = None
        self.stop_training = False
        self.metadata: dict[str, Any] = {}
        self.history: History | None = None
        self._optimizer_memory: tuple[str, frozenset[str], Any] | None = None

    # --- compile ------------------------------------------------------------------------------
    @property
    def loss(self) -> Loss | list[Loss | None] | None:
        """The loss (one per output, as a list, for several outputs); ``None`` before compile."""
        if self.compiled is None:
            return None
        return self.compiled.losses[0] if len(self.compiled.losses) == 1 else list(self.compiled.losses)

    @property
    def metric_names(self) -> list[str]:
        return [] if self.compiled is None else [entry.canonical for entry in self.compiled.metrics]

    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None, metrics: Any = None,
                backend: str = "numpy", **kwargs: Any) -> None:
        """Configure training.

        Args:
            optimizer: a name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, ...) or an object from
                `scratchlstm.optimizers`.
            loss: a name (``"mse"``, ``"binary_crossentropy"``, ...) or a `scratchlstm.losses`
                object; for several outputs one for all, a list, or a dict keyed by output names.
            loss_weights: the weights of the outputs' losses in the total: a list or a dict.
            metrics: a list such as ``["mae", "precision", keras.metrics.AUC()]`` (names,
                metric objects or classes, losses); for several outputs a list per output or a
                dict keyed by output names. Each accumulates over an epoch as Keras' do (see
                `scratchlstm.metrics`).
            backend: ``"numpy"`` (the reference) or ``"jax"`` (jit-compiled; needs the ``jax``
                extra).
            auto_scale_loss: (keyword, default True) as Keras: when the model's dtype policy is
                ``"mixed_float16"``, wrap the optimizer in a
                `scratchlstm.optimizers.LossScaleOptimizer` (dynamic loss scaling).
        """
        _check_compile_options(kwargs)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        resolved_optimizer = optimizers_module.get(optimizer)
        metrics = _instantiate_metric_classes(metrics)
        config = resolve_compile(self._output_names_for_compile(), loss, loss_weights, metrics, self._output_units())
        if backend == "jax":
            from .. import jax_backend  # (fails now, with the install hint, if jax is missing)
            from ..layers._registry import jax_ops

            for layer in _all_layers(self):
                jax_ops(layer)  # a layer without a JAX implementation fails at compile, not in fit
        policy = getattr(self, "dtype_policy", None)
        if (kwargs.get("auto_scale_loss", True) and policy is not None and policy.name == "mixed_float16"
                and not isinstance(resolved_optimizer, optimizers_module.LossScaleOptimizer)):
            resolved_optimizer = optimizers_module.LossScaleOptimizer(resolved_optimizer, name="loss_scale_optimizer")
        self.optimizer, self.compiled, self.backend_name = resolved_optimizer, config, backend
        self._optimizer_memory = None  # the optimizer state fit and train_on_batch continue from
        self._compile_arguments = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics}

    def _resumed_optimizer_state(self, backend: Any) -> Any:
        """The optimizer state of the last fit or train_on_batch, as Keras' optimizer keeps its
        variables; None (a fresh start) after compile, on another backend, or if what is
        trainable has changed since."""
        memory = self._optimizer_memory
        if memory and memory[0] == backend.name and memory[1] == frozenset(self.trainable_paths()):
            return memory[2]
        return None

    def _remember_optimizer_state(self, backend: Any, optimizer_state: Any) -> None:
        self._optimizer_memory = (backend.name, frozenset(self.trainable_paths()), optimizer_state)

    def _output_names_for_compile(self) -> list[str]:
        return self.output_names

    def _output_units(self) -> list[int | None] | None:
        """Each output's last-axis size once the model is built (``None`` before)."""
        return [t.shape[-1] for t in self.outputs] if self.built else None

    def _resolve_compile_after_build(self) -> None:
        """Re-resolve the compile settings once the output shapes are known (``"accuracy"``)."""
        if self.compiled is not None and self.built:
            arguments = self._compile_arguments
            self.compiled = resolve_compile(self.output_names, arguments["loss"], arguments["loss_weights"],
                                            arguments["metrics"], self._output_units())

    def _require_compiled(self, what: str) -> None:
        if self.compiled is None:
            raise ValueError(f"{what} needs a compiled model; call model.compile(optimizer, loss) first")

    def _backend(self) -> Any:
        if self.backend_name == "jax":
            from .. import jax_backend

            return jax_backend.make_training_backend(self)
        return NumpyBackend(self)

    def get_compile_config(self) -> dict[str, Any] | None:
        if self.compiled is None:
            return None
        from ._serialization import compile_arguments_config

        return {
            "optimizer": self.optimizer.get_config(),
            **compile_arguments_config(self._compile_arguments),
            "backend": self.backend_name,
        }

    # --- data ---------------------------------------------------------------------------------
    def _prepare(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: Any = None,
                 what: str = "") -> _Prepared:
        """Checked ``(xs, ys, weights)``; builds an unbuilt model, undone if a check fails."""
        xs = input_arrays(self, x, f"x{what}")
        was_built = self.built
        undo = self._build_for_data(xs)
        try:
            if self.built and not was_built:
                xs = input_arrays(self, x, f"x{what}")  # now against the built shapes
                self._resolve_compile_after_build()
            ys: list[NDArray[Any]] | None = None
            weights: NDArray[Any] | None = None
            if y is not None:
                self._require_compiled("training or evaluation")
                ys = target_arrays(self, y, len(xs[0]), f"y{what}")
                weights = sample_weights(sample_weight, class_weight, ys, len(xs[0]), self.compiled)
                self._check_targets(ys, weights, what)
            xs = self._cast_inputs(xs, what)
        except Exception:
            undo()
            raise
        return xs, ys, weights

    def _cast_inputs(self, xs: list[NDArray[Any]], what: str = "") -> list[NDArray[Any]]:
        """Float inputs in the compute dtype; inputs declared integer (token ids) as integers;
        each checked after its cast (1e39 is finite in float64, inf in float32)."""
        dtype = self._compute_dtype()
        declared: list[np.dtype[Any] | None] = [t.dtype for t in self.inputs] if self.built else [None] * len(xs)
        names = self.input_names if self.built else ["input"]
        cast: list[NDArray[Any]] = []
        for x, kind, name in zip(xs, declared, names):
            label = f"x{what}" if len(xs) == 1 else f"x{what}[{name!r}]"
            target = kind if kind is not None and kind.kind in "iu" else dtype
            cast.append(check_representable(x, target, label))
        if self.built:  # what only the reading layer can judge, before any batch runs
            for position, layer in self.graph.input_readers():
                layer.check_model_input(cast[position], f"x{what}" if len(xs) == 1 else f"x{what}[{names[position]!r}]")
        return cast

    def _check_targets(self, ys: list[NDArray[Any]], weights: NDArray[Any] | None, what: str) -> None:
        """Targets and sample weights must stay finite in the dtype the losses compute in."""
        dtype = self._compute_dtype()
        names = cast("CompileConfig", self.compiled).output_names  # called with y: compiled
        for y, name in zip(ys, names):
            check_representable(y, dtype, f"y{what}" if len(ys) == 1 else f"y{what}[{name!r}]")
        if weights is not None:
            check_representable(weights, dtype, f"sample_weight{what}")

    def _compute_dtype(self) -> np.dtype[Any]:
        """float64 if any weight is float64 (the NumPy math promotes to it), else float32."""
        weights = flatten_paths(self.built_params).values()
        if self.dtype == np.float64 or any(w.dtype == np.float64 for w in weights):
            return np.dtype(np.float64)
        return np.dtype(np.float32)

    def _build_for_data(self, xs: list[NDArray[Any]]) -> Callable[[], None]:
        """Build from the data's shapes if needed; return a function that undoes it."""
        return lambda: None

    def _validation(self, validation_data: Any) -> _Prepared:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                f"validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val), got {type(validation_data).__name__}"
                + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
            )
        x_val, y_val, weight_val = (*validation_data, None)[:3]
        return self._prepare(x_val, y_val, weight_val, what="_val")

    # --- training and inference ---------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: list[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
        tbptt_steps: int | None = None,
    ) -> History:
        """Train for ``epochs`` passes over ``(x, y)``; return a `History` (Keras 3's arguments).

        Args:
            x: one array ``(samples, ...)``, or a list/dict of arrays for several inputs.
            y: targets shaped like the outputs (``(samples,)`` is accepted for one unit), or
                integer labels for the sparse loss; a list/dict for several outputs.
            batch_size: samples per step (default 32); the last batch may be smaller.
            epochs: train until this epoch (counting from ``initial_epoch``).
            verbose: ``0`` silent, ``1``/``"auto"`` a progress bar, ``2`` one line per epoch.
            callbacks: list of `scratchlstm.callbacks` objects.
            validation_split: fraction of the samples, taken from the end before shuffling.
            validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``;
                overrides ``validation_split``.
            shuffle: shuffle the training samples every epoch (with the model's generator).
            class_weight: ``{class: weight}`` scaling each sample's loss by its class.
            sample_weight: ``(samples,)`` weights of each sample's loss.
            initial_epoch: the epoch to start from (to resume training).
            tbptt_steps: ``None``, or ``k`` for truncated BPTT (not a Keras argument): each
                batch of sequences trains as windows of ``k`` steps in order, states carried
                and gradients cut between windows, states from zeros at each batch; needs
                per-step targets (see ``scratchlstm.models._tbptt``).
        """
        self._require_compiled("fit")
        for name, value in (("steps_per_epoch", steps_per_epoch), ("validation_steps", validation_steps)):
            if value is not None:
                raise NotImplementedError(f"fit({name}=...) is not implemented: fit runs over whole arrays")
        batch_size = _positive_int("batch_size", batch_size, 32)
        epochs = _positive_int("epochs", epochs)
        if validation_batch_size is not None:
            _positive_int("validation_batch_size", validation_batch_size)
        if validation_freq != 1:
            raise NotImplementedError("fit(validation_freq=...) other than 1 is not implemented")
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) or not 0 <= initial_epoch < epochs:
            raise ValueError(f"initial_epoch must be an integer in [0, epochs={epochs}), got {initial_epoch!r}")
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)) or not 0.0 <= float(validation_split) < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise ValueError(f"callbacks must be a list of callbacks, got {type(callbacks).__name__}")
        verbose = _verbosity(verbose)
        xs, ys, weights = self._prepare(x, y, sample_weight, class_weight)
        validation: Any = None  # a _Prepared triple
        if validation_data is not None:
            validation = self._validation(validation_data)
        elif validation_split:
            samples = len(xs[0])
            split_at = validation_split_at(samples, validation_split)
            if split_at == samples or split_at == 0:
                raise ValueError(f"validation_split={validation_split} leaves no samples on one side of {samples}")
            cut: Callable[[Any, slice], Any] = lambda arrays, part: None if arrays is None else [a[part] for a in arrays]  # noqa: E731
            head, tail = slice(None, split_at), slice(split_at, None)
            validation = (cut(xs, tail), cut(ys, tail), None if weights is None else weights[tail])
            xs, ys, weights = cut(xs, head), cut(ys, head), None if weights is None else weights[head]
        self.check_stateful_batches(batch_size, len(xs[0]))
        tbptt_steps = check_tbptt_steps(tbptt_steps)
        if tbptt_steps is not None:  # checked before anything changes
            check_tbptt_data(self, xs, ys)
        with carried_states(self, min(batch_size, len(xs[0]))) if tbptt_steps else contextlib.nullcontext() as changed:
            backend = self._backend()
            if tbptt_steps is not None:
                backend = TruncatedBPTT(backend, self, tbptt_steps, cast("list[Recurrent]", changed))  # carried_states ran
            self.history = run_fit(
                self, backend, (xs, ys, weights),
                epochs=epochs, initial_epoch=int(initial_epoch), batch_size=batch_size, validation=validation,
                shuffle=bool(shuffle), callbacks=callbacks, verbose=verbose, rng=self._shuffle_rng,
            )
        return self.history

    def _inference_backend(self) -> Any:
        return self._backend() if self.compiled is not None else NumpyBackend(self)

    def _outputs(self, arrays: list[Any]) -> Any:
        if self._output_kind == "dict":
            return dict(zip(self.output_names, arrays))
        return arrays if self.returns_list else arrays[0]

    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto", steps: int | None = None,
                callbacks: list[Callback] | None = None) -> Any:
        """Outputs for ``x``, computed in batches of ``batch_size`` (default 32)."""
        batch_size = _positive_int("batch_size", batch_size, 32)
        _verbosity(verbose)
        xs, _, _ = self._prepare(x)
        self.check_stateful_batches(batch_size, len(xs[0]))
        arrays, state = self._inference_backend().predict(self.get_variables(), xs, batch_size)
        self._keep_carried_state(state)
        return self._outputs([np.asarray(a) for a in arrays])

    def _keep_carried_state(self, state: Any) -> None:
        """After predict/evaluate, a stateful RNN keeps its final states (as Keras' layer does)."""
        if self.stateful:
            self.state = state

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: list[Callback] | None = None,
                 return_dict: bool = False) -> Any:
        """Loss and metrics on ``(x, y)``: a float, a list ``[loss, *metrics]``, or a dict."""
        self._require_compiled("evaluate")
        batch_size = _positive_int("batch_size", batch_size, 32)
        _verbosity(verbose)
        xs, ys, weights = self._prepare(x, y, sample_weight)
        self.check_stateful_batches(batch_size, len(xs[0]))
        logs, state = self._backend().evaluate(self.get_variables(), xs, ys, weights, batch_size)
        self._keep_carried_state(state)
        logs = read_logs(cast("CompileConfig", self.compiled).finalize(logs))  # compiled: checked above
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: dict[int, float] | None = None, return_dict: bool = False) -> Any:
        """One optimizer step on one batch; the loss (and metrics) of that batch, before the step."""
        self._require_compiled("train_on_batch")
        xs, ys, weights = self._prepare(x, y, sample_weight, class_weight)
        self.check_stateful_batches(len(xs[0]), len(xs[0]))
        backend = self._backend()
        state = backend.init_state(self.get_variables(), len(xs[0]), self._resumed_optimizer_state(backend))
        state, logs = backend.train_step(state, xs, ys, weights)
        self.set_variables(backend.get_variables(state))
        self.optimizer.iterations = int(state.optimizer_state.iterations)
        self._remember_optimizer_state(backend, state.optimizer_state)
        logs = cast("CompileConfig", self.compiled).finalize(read_logs(logs))  # compiled: checked above
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Loss and metrics of one batch, without training."""
        return self.evaluate(x, y, batch_size=len(input_arrays(self, x)[0]), verbose=0,
                             sample_weight=sample_weight, return_dict=return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch."""
        return self.predict(x, batch_size=len(input_arrays(self, x)[0]), verbose=0)

    # --- persistence --------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None, *,
             include_optimizer: bool = True) -> None:
        """Save the graph, weights, compile settings, optimizer state and ``metadata`` to one file.

        As Keras' ``.keras`` files, the file holds the optimizer's state once the model has
        trained (its slots such as momentums, the iteration count a schedule reads, the EMA
        of the weights, accumulated gradients), so that after `scratchlstm.models.load_model`
        ``fit`` continues exactly where it stopped: on the NumPy backend, 2 epochs, save, load
        and 2 more epochs give bitwise the weights of 2 + 2 epochs in one process, which are
        those of 4 epochs except with ``use_ema`` (as in Keras, each ``fit`` ends on the
        averaged weights), with ``shuffle=False``: as in Keras, the shuffling generator's state
        is not saved (`BackupAndRestore` keeps it).
        ``compile`` after loading starts a new optimizer, as in Keras.

        No pickle: weights and optimizer state are plain arrays and the rest is JSON. The file
        is written to a temporary name and moved into place, so a failed save leaves an older
        file intact. As a plain ``open(path, "w")``: the new file gets the umask's mode (a
        replaced file keeps its own), and a symlink is written through to its target (the link
        stays a link). A ``path`` that exists and is not a regular file (a directory, a FIFO, a
        device node) is refused with ``ValueError`` before anything is written.

        Args:
            path: the file to write; its extension picks the format: ``.keras`` writes Keras 3's
                archive (``keras.models.load_model`` opens it; the optimizer variables of every
                optimizer of `scratchlstm.optimizers`, so Keras' ``fit`` continues them: see
                docs/keras-files.md), ``.npz`` this package's own (everything above); any
                other extension is refused.
            metadata: a JSON-serialisable dict kept in the file (``load_model(...).metadata``);
                default the model's current ``metadata``.
            include_optimizer: ``False`` leaves the optimizer's state out (Keras' argument):
                the loaded model is still compiled, with a fresh optimizer.

        Examples:
            >>> import os, tempfile
            >>> import numpy as np
            >>> import scratchlstm as keras
            >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, name="dense")], seed=0)
            >>> model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "mse")
            >>> x = np.linspace(-1, 1, 8).reshape(-1, 1)
            >>> _ = model.fit(x, 2 * x, epochs=3, verbose=0)
            >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
            >>> model.save(path)
            >>> sorted(name for name in np.load(path).files if name.startswith("optimizer/"))
            ['optimizer/iterations', 'optimizer/learning_rate', 'optimizer/slots/momentums/dense/bias', 'optimizer/slots/momentums/dense/kernel']
            >>> keras.models.load_model(path).optimizer.iterations
            3
        """
        from ._serialization import save_model

        save_model(self, path, metadata, include_optimizer=include_optimizer)

    def save_weights(self, path: str | os.PathLike[str]) -> None:
        """Save only the weights: ``.weights.h5`` in Keras 3's HDF5 layout (Keras'
        ``load_weights`` reads it), ``.npz`` (e.g. ``.weights.npz``) as ``layer/weight`` named
        arrays; any other extension is refused."""
        from ._serialization import save_weights

        save_weights(self, path)

    def load_weights(self, path: str | os.PathLike[str]) -> None:
        """Load weights into this (same-architecture) model from a ``.weights.h5`` or ``.keras``
        file (Keras' or ours) or our ``.npz``, recognised by content; every array is checked
        before any is set."""
        from ._serialization import load_weights

        load_weights(self, path)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON; `scratchlstm.models.model_from_json` rebuilds it."""
        from ._serialization import model_to_json

        return model_to_json(self, **kwargs)
