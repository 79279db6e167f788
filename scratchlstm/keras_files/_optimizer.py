"""Optimizer variables in Keras' ``model.weights.h5`` (``optimizer/vars/<i>``), both ways.

Keras 3 saves ``optimizer.variables`` as ``optimizer/vars/0``, ``/1``, ... in the order they
were created:

    iterations                       int scalar (Keras' raw ``optimizer._iterations``)
    learning_rate                    float32 scalar (absent with a schedule)
    average[v] for v in V            use_ema only (``_model_variables_moving_average``)
    accumulated[v] for v in V        gradient_accumulation_steps only
    the optimizer's slots            in the order its ``build`` creates them:
        SGD       momentums[v]                               (momentum != 0)
        Adam(W)   momentums[v], velocities[v] interleaved per v; then velocity_hats[v] (amsgrad)
        RMSprop   velocities[v]; momentums[v] (momentum > 0); average_gradients[v] (centered)
        Adagrad   accumulators[v]                            (start: initial_accumulator_value)
        Adadelta  accumulated_grads[v], accumulated_delta_vars[v] interleaved per v
        Adamax    momentums[v], norms[v] interleaved per v
        Nadam     momentums[v], velocities[v] interleaved per v; then u_product, a scalar of
                  the first variable's dtype: prod over the applied steps s of
                  beta_1 * (1 - 0.5 * 0.96**s)
        Lion      momentums[v]
        Ftrl      accumulators[v], linears[v] interleaved per v (start: initial_accumulator_value, 0)

where ``V`` is ``model.trainable_variables``: the layers in Keras' order (`keras_layer_order`),
each layer's trainable weights in ``get_weights()`` order. A ``LossScaleOptimizer`` stores its
own ``iterations`` (never advanced), ``learning_rate`` (0), ``step_counter`` and
``dynamic_scale``, then its inner optimizer's variables as above (which Keras also writes
again under ``optimizer/inner_optimizer/vars``; we write both and read the first). Inside a
``LossScaleOptimizer`` Keras' Nadam does not track its ``u_product`` (it is neither listed nor
saved, and on JAX its update is dropped after each step): we leave it out of the file and, on
reading, rebuild it from the iteration count, as a Nadam that kept it would hold. An optimizer
Keras never built holds only its ``iterations`` (0) and ``learning_rate``: a fresh start.
(Checked against Keras 3.15.1's files and ``optimizer.variables``.)

Each entry maps onto one leaf of our `OptimizerState` (NumPy backend; the JAX backend's optax
containers are converted on the way out, e.g. optax's ``trace`` of RMSprop is ``-momentums``),
so a loaded model's ``fit`` continues where Keras' stopped and the other way round. Every
optimizer of `scratchlstm.optimizers` travels; only a class a user derived from one (which Keras
could not load either) keeps nothing, and the caller warns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .. import optimizers as _optimizers
from .._tree import flatten_paths
from ..optimizers._adadelta import AdadeltaState
from ..optimizers._adagrad import AdagradState
from ..optimizers._adam import AdamState
from ..optimizers._adamax import AdamaxState
from ..optimizers._ftrl import FtrlState
from ..optimizers._lion import LionState
from ..optimizers._loss_scale import LossScaleState
from ..optimizers._nadam import NadamState
from ..optimizers._rmsprop import RMSpropState
from ..optimizers._sgd import SGDState
from ..layers._base import snake_case
from ._config import keras_layer_order

if TYPE_CHECKING:
    from ..models import Model
    from ..optimizers._base import Optimizer, OptimizerState

_SLOT_TYPES = {"SGD": SGDState, "Adam": AdamState, "AdamW": AdamState, "RMSprop": RMSpropState,
               "Adagrad": AdagradState, "Adadelta": AdadeltaState, "Adamax": AdamaxState, "Nadam": NadamState,
               "Lion": LionState, "Ftrl": FtrlState}
SUPPORTED = tuple(_SLOT_TYPES)  # and a LossScaleOptimizer around one of them
# slots that are sums or running means of squares (or maxima of absolute values): a negative
# one would make the next step NaN, so a file holding one is refused
_NON_NEGATIVE = {"velocities", "velocity_hats", "accumulators", "accumulated_grads", "accumulated_delta_vars",
                 "norms"}


class Entry(NamedTuple):
    """One Keras optimizer variable: ``key`` says which leaf of our state it is, ``label`` names
    it in messages, ``shape`` and ``dtype`` are what Keras creates."""

    key: tuple[str, ...]
    label: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]


_ONE_GROUP = {"Adagrad": ("accumulators",), "Adadelta": ("accumulated_grads", "accumulated_delta_vars"),
              "Adamax": ("momentums", "norms"), "Nadam": ("momentums", "velocities"), "Lion": ("momentums",),
              "Ftrl": ("accumulators", "linears")}  # Nadam's scalar u_product follows (see `layout`)


def supported(optimizer: Optimizer) -> bool:
    """Whether ``optimizer``'s variables travel (`SUPPORTED`, or a wrapper around one)."""
    if type(optimizer) is _optimizers.LossScaleOptimizer:
        optimizer = optimizer.inner_optimizer
    name = type(optimizer).__name__
    return name in SUPPORTED and type(optimizer) is getattr(_optimizers, name)


def keras_trainable_paths(model: Model) -> list[str]:
    """Our flat weight paths (``"lstm/kernel"``) in the order of Keras' ``model.trainable_variables``.

    Examples:
        >>> import scratchlstm as keras
        >>> model = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3, name="lstm"),
        ...                           keras.layers.Dense(1, name="dense")])
        >>> keras_trainable_paths(model)
        ['lstm/kernel', 'lstm/recurrent_kernel', 'lstm/bias', 'dense/kernel', 'dense/bias']
    """
    by_array = {id(array): path for path, array in flatten_paths(model.params).items()}
    trainable = model.trainable_paths()
    ordered: list[str] = []

    def walk(owner: Any) -> None:
        for layer in keras_layer_order(owner):
            if hasattr(layer, "_weight_layers"):  # a nested model: its own Keras order
                walk(layer)
                continue
            for leaf_owner, tree, key in layer.weight_leaves():
                path = by_array.get(id(getattr(leaf_owner, tree)[key]))
                if path in trainable and path not in ordered:
                    ordered.append(path)

    walk(model)
    if set(ordered) != trainable:  # cannot happen for the layers we map; never guess an order
        raise ValueError(f"cannot place the trainable weights {sorted(trainable - set(ordered))} in Keras' order")
    return ordered


def _slot_groups(optimizer: Any) -> list[tuple[str, ...]]:
    """The slot fields in the order the Keras optimizer's ``build`` creates them; fields in one
    group are interleaved per variable (Keras' ``add_optimizer_variables`` with a list)."""
    name = type(optimizer).__name__
    if name == "SGD":
        return [("momentums",)] if optimizer.momentum != 0 else []
    if name in ("Adam", "AdamW"):
        return [("momentums", "velocities")] + ([("velocity_hats",)] if optimizer.amsgrad else [])
    if name in _ONE_GROUP:
        return [_ONE_GROUP[name]]
    groups: list[tuple[str, ...]] = [("velocities",)]
    if optimizer.momentum > 0:
        groups.append(("momentums",))
    if optimizer.centered:
        groups.append(("average_gradients",))
    return groups


def layout(optimizer: Optimizer, trainable: dict[str, Any]) -> list[Entry]:
    """The `Entry` of every variable Keras' ``optimizer`` holds once built on ``trainable``
    (``{path: array}`` in Keras' order), in Keras' order; for a supported optimizer only."""
    entries: list[Entry] = []
    int32, float32 = np.dtype("int32"), np.dtype("float32")
    wrapped = type(optimizer) is _optimizers.LossScaleOptimizer
    if wrapped:
        entries += [Entry(("wrapper_iterations",), "LossScaleOptimizer iterations", (), int32),
                    Entry(("wrapper_learning_rate",), "LossScaleOptimizer learning_rate", (), float32),
                    Entry(("step_counter",), "LossScaleOptimizer step_counter", (), int32),
                    Entry(("dynamic_scale",), "LossScaleOptimizer dynamic_scale", (), float32)]
        optimizer = cast(_optimizers.LossScaleOptimizer, optimizer).inner_optimizer  # `wrapped` checked its type
    name = type(optimizer).__name__
    entries.append(Entry(("iterations",), f"{name} iterations", (), int32))
    if optimizer.learning_rate_schedule is None:
        entries.append(Entry(("learning_rate",), f"{name} learning_rate", (), float32))

    def per_variable(field: str, kind: str) -> list[Entry]:
        return [Entry((kind, field, path), f"{name} {field} of {path!r}", np.shape(array), np.asarray(array).dtype)
                for path, array in trainable.items()]

    if optimizer.use_ema:
        entries += per_variable("average", "state")
    if optimizer.gradient_accumulation_steps:
        entries += per_variable("accumulated", "state")
    for group in _slot_groups(optimizer):
        if len(group) == 1:
            entries += per_variable(group[0], "slot")
        else:  # interleaved: m[v0], v[v0], m[v1], v[v1], ...
            columns = [per_variable(field, "slot") for field in group]
            entries += [entry for row in zip(*columns) for entry in row]
    if name == "Nadam" and not wrapped:  # Keras' dtype: the first variable's (float32 without any)
        dtype = np.asarray(next(iter(trainable.values()))).dtype if trainable else float32
        entries.append(Entry(("scalar", "u_product"), "Nadam u_product", (), dtype))
    return entries


def _numpy_slots(optimizer: Any, slots: Any) -> Any:
    """Our NumPy slots NamedTuple from a state's slots. The JAX backend keeps optax containers
    ``(before, after)`` for SGD and RMSprop (``after.trace``; RMSprop's trace is ``-m``, its
    ``before.nu``/``mu`` are ours), Adagrad (``before.sum_of_squares``: the accumulators, which
    optax also starts at initial_accumulator_value), Adadelta (``before.e_g``/``e_x``: the means
    of ``g**2`` and of the squared steps, optax's step is our ``-delta_var``, squared alike) and
    Lion (``before.mu``: the momentums)."""
    if type(optimizer) is _optimizers.LossScaleOptimizer:
        inner = _numpy_slots(optimizer.inner_optimizer, slots.inner_slots)
        return LossScaleState(slots.dynamic_scale, slots.step_counter, inner)
    name = type(optimizer).__name__
    if isinstance(slots, _SLOT_TYPES[name]):
        return slots
    before, after = slots
    if name == "Adagrad":
        return AdagradState(accumulators=before.sum_of_squares)
    if name == "Adadelta":
        return AdadeltaState(accumulated_grads=before.e_g, accumulated_delta_vars=before.e_x)
    if name == "Lion":
        return LionState(momentums=before.mu)
    trace = getattr(after, "trace", None)
    if name == "SGD":
        return SGDState(momentums=trace)
    negated = None if trace is None else {path: -np.asarray(value) for path, value in trace.items()}
    return RMSpropState(velocities=before.nu, momentums=negated,
                        average_gradients=getattr(before, "mu", None) if optimizer.centered else None)


def _leaf(state: OptimizerState, key: tuple[str, ...], wrapped: bool) -> Any:
    slots = state.slots.inner_slots if wrapped else state.slots
    kind = key[0]
    if kind == "wrapper_iterations":
        return 0
    if kind == "wrapper_learning_rate":
        return 0.0
    if kind in ("step_counter", "dynamic_scale"):
        return getattr(state.slots, kind)
    if kind in ("iterations", "learning_rate"):
        return getattr(state, kind)
    if kind == "scalar":
        return getattr(slots, key[1])
    tree = getattr(state, key[1]) if kind == "state" else getattr(slots, key[1])
    return tree[key[2]]


def state_to_keras(model: Model) -> list[NDArray[Any]] | None:
    """The arrays of ``optimizer/vars`` for ``model``'s optimizer, or None when its optimizer is
    not supported (or the model is not compiled). A model that has not trained since compile
    (or whose trainable weights changed since) gets the fresh state its next ``fit`` starts from."""
    from ..models._serialization import _optimizer_state_to_save

    optimizer = getattr(model, "optimizer", None)
    if model.compiled is None or optimizer is None or not supported(optimizer):
        return None
    trainable, natural = _trainable(model)
    saved = _optimizer_state_to_save(model)
    state = optimizer.init(natural) if saved is None else saved[1]
    state = state._replace(slots=_numpy_slots(optimizer, state.slots))
    wrapped = type(optimizer) is _optimizers.LossScaleOptimizer
    return [np.asarray(_leaf(state, entry.key, wrapped), dtype=entry.dtype) for entry in layout(optimizer, trainable)]


def _trainable(model: Model) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two ``{path: weight}`` dicts of the trainable weights: in Keras' order, and in ours (the
    key order of the train loop's trees)."""
    flat = flatten_paths(model.params)
    trainable = model.trainable_paths()
    return ({path: flat[path] for path in keras_trainable_paths(model)},
            {path: value for path, value in flat.items() if path in trainable})


def write_variables(h5_file: Any, optimizer: Optimizer, arrays: list[NDArray[Any]]) -> None:
    """Add ``optimizer/vars/<i>`` to an open (writable) h5py file, as Keras writes them; for a
    `LossScaleOptimizer` also ``optimizer/inner_optimizer/vars`` (its inner optimizer's part,
    which Keras saves again there and loads last)."""
    groups = [("optimizer", optimizer, arrays)]
    if type(optimizer) is _optimizers.LossScaleOptimizer:
        groups.append(("optimizer/inner_optimizer", optimizer.inner_optimizer, arrays[4:]))  # after its 4 own
    for path, owner, values in groups:
        group = h5_file.require_group(path).require_group("vars")
        group.attrs["name"] = owner.name or snake_case(type(owner).__name__)
        for index, array in enumerate(values):
            group.create_dataset(str(index), data=array)


def read_variables(datasets: dict[str, Any]) -> list[Any]:
    """The ``optimizer/vars/<i>`` datasets in index order (named ``0``..``n-1``, checked first)."""
    prefix = "optimizer/vars/"
    found = {path[len(prefix):]: dataset for path, dataset in datasets.items() if path.startswith(prefix)}
    return [found[str(index)] for index in range(len(found))]


def state_from_keras(model: Model, datasets: dict[str, Any], source: str) -> OptimizerState | None:
    """Our optimizer state from a Keras file's ``optimizer/vars``, checked against ``model``'s
    compiled optimizer (which must be `supported`), or None when the file's optimizer was never
    built (Keras writes only ``iterations`` and ``learning_rate`` then: a fresh start).

    Raises:
        ValueError: the number of variables, a shape, a dtype or a value (NaN, inf, a negative
            or fractional counter) disagrees; the variable is named and nothing is changed.
    """
    optimizer = model.optimizer
    prefix = "optimizer/vars/"
    names = sorted(path[len(prefix):] for path in datasets if path.startswith(prefix))
    if set(names) != {str(i) for i in range(len(names))}:
        raise ValueError(f"{source}: the optimizer variables are named {names[:8]}; Keras numbers them "
                         f"optimizer/vars/0..{len(names) - 1}")
    # a LossScaleOptimizer's inner variables are also under inner_optimizer/: the same values, not read
    copy = "optimizer/inner_optimizer/vars/" if type(optimizer) is _optimizers.LossScaleOptimizer else prefix
    extra = sorted(p for p in datasets if p.startswith("optimizer/") and not p.startswith((prefix, copy)))
    if extra:
        raise ValueError(f"{source} holds optimizer datasets {extra[:5]} that Keras' {_describe(optimizer)} "
                         "does not write")
    stored = read_variables(datasets)
    if not stored:
        return None
    trainable, natural = _trainable(model)
    entries = layout(optimizer, trainable)
    if len(stored) != len(entries):
        # compiled but never built in Keras: only iterations (0) and learning_rate, nothing to continue
        base = sum(e.key[0] in ("iterations", "learning_rate", "wrapper_iterations", "wrapper_learning_rate")
                   for e in entries)
        if len(stored) == base and _counter(stored[0], f"{source}: optimizer/vars/0 (iterations)") == 0:
            return None
        listed = ", ".join(f"{i}: {e.label}" for i, e in enumerate(entries[:6])) + (", ..." if len(entries) > 6 else "")
        raise ValueError(f"{source} holds {len(stored)} optimizer variables (optimizer/vars/0..{len(stored) - 1}) but "
                         f"Keras' {_describe(optimizer)} for this model has {len(entries)} ({listed})")
    values: dict[tuple[str, ...], Any] = {}
    for index, (entry, dataset) in enumerate(zip(entries, stored)):
        where = f"{source}: optimizer/vars/{index} ({entry.label})"
        if tuple(dataset.shape) != tuple(entry.shape):
            raise ValueError(f"{where} has shape {tuple(dataset.shape)}, the model needs {tuple(entry.shape)}")
        if entry.dtype.kind in "iu":
            values[entry.key] = _counter(dataset, where)
            continue
        if dataset.dtype.kind not in "fiu":
            raise ValueError(f"{where} must hold real numbers, got dtype {dataset.dtype}")
        try:
            value = np.asarray(dataset[()])
        except (OSError, RuntimeError) as error:
            raise ValueError(f"{where} cannot be read (damaged file?): {error}") from None
        if not np.isfinite(value).all():
            raise ValueError(f"{where} holds NaN or inf values")
        if entry.key[0] == "slot" and entry.key[1] in _NON_NEGATIVE and (value < 0).any():
            raise ValueError(f"{where} holds negative values ({value.min()}); it is a sum or mean of squares")
        values[entry.key] = value
    return _build_state(optimizer, natural, values)


def _counter(dataset: Any, where: str) -> int:
    if dataset.dtype.kind not in "iuf" or dataset.shape != ():
        raise ValueError(f"{where} must be an integer scalar, got shape {dataset.shape} dtype {dataset.dtype}")
    value = np.asarray(dataset[()])
    if not np.isfinite(value) or value != np.floor(value) or value < 0 or value > np.iinfo(np.int32).max:
        raise ValueError(f"{where} must be a count >= 0, got {value}")
    return int(value)


def _describe(optimizer: Optimizer) -> str:
    if type(optimizer) is _optimizers.LossScaleOptimizer:
        return f"LossScaleOptimizer({type(optimizer.inner_optimizer).__name__})"
    return type(optimizer).__name__


def _build_state(optimizer: Any, trainable: dict[str, Any], values: dict[tuple[str, ...], Any]) -> OptimizerState:
    """The NumPy `OptimizerState` for ``trainable`` (ours, in our order) from checked values
    keyed like `layout`'s entries."""
    wrapper = type(optimizer) is _optimizers.LossScaleOptimizer
    fresh: OptimizerState = optimizer.init(trainable)
    fresh_slots = fresh.slots.inner_slots if wrapper else fresh.slots

    def tree(kind: str, field: str, template: dict[str, Any] | None) -> dict[str, NDArray[Any]] | None:
        if template is None:
            return None
        return {path: np.asarray(values[(kind, field, path)], dtype=np.asarray(template[path]).dtype)
                for path in template}

    def slot(field: str) -> Any:
        template = getattr(fresh_slots, field)
        if field != "u_product":
            return tree("slot", field, template)
        stored = values.get(("scalar", field))
        if stored is None:  # inside a LossScaleOptimizer Keras does not keep it: rebuild it
            return _nadam_u_product(optimizer.inner_optimizer, values[("iterations",)], np.asarray(template).dtype)
        return np.asarray(stored, dtype=np.asarray(template).dtype)

    slots = type(fresh_slots)(*[slot(field) for field in fresh_slots._fields])
    learning_rate = fresh.learning_rate
    stored_rate = values.get(("learning_rate",))
    if stored_rate is not None and np.float32(stored_rate) != np.float32(learning_rate):
        learning_rate = float(stored_rate)  # set in Keras since compile (the config keeps the first)
    if wrapper:
        slots = LossScaleState(float(values[("dynamic_scale",)]), int(values[("step_counter",)]), slots)
    return fresh._replace(iterations=int(values[("iterations",)]), learning_rate=learning_rate, slots=slots,
                          average=tree("state", "average", fresh.average),
                          accumulated=tree("state", "accumulated", fresh.accumulated))


def _nadam_u_product(optimizer: Any, iterations: int, dtype: DTypeLike) -> NDArray[Any]:
    """Nadam's ``u_product`` after ``iterations`` raw steps: ``prod beta_1 * (1 - 0.5 * 0.96**s)``
    over the applied steps ``s = 1..n`` (``n = iterations // gradient_accumulation_steps``), in
    ``dtype``, multiplied in the order the update does.

    Examples:
        >>> from scratchlstm.optimizers import Nadam
        >>> round(float(_nadam_u_product(Nadam(beta_1=0.9), 2, np.float64)), 8)   # 0.9 * 0.52 * 0.9 * 0.5392
        0.22711104
        >>> float(_nadam_u_product(Nadam(beta_1=0.9), 2**31 - 1, np.float32))   # long runs stay cheap
        0.0
    """
    kind = cast("type[np.floating[Any]]", np.dtype(dtype).type)  # a float dtype: u_product is a float
    applied = int(iterations) // (optimizer.gradient_accumulation_steps or 1)
    u_product, step = np.ones((), dtype), 0
    while step < applied:
        step += 1
        schedule = 1.0 - 0.5 * np.power(kind(0.96), kind(step))
        u_product = u_product * optimizer.beta_1 * schedule
        if kind(schedule) == 1:  # 0.96**s is below the dtype's resolution: only beta_1 is left
            u_product = u_product * np.power(kind(optimizer.beta_1), kind(applied - step))
            break
    return np.asarray(u_product, dtype)
