"""The layer protocol (DESIGN §7): configuration, weights, shapes, and calling on data or on symbols.

A layer object holds configuration and weights, never math. Its math is found through the
registry (`scratchlstm.layers.register`): a NumPy module with ``layer_forward``/``layer_backward``
and a JAX module with ``layer_forward``. What a layer kind supplies:

- ``weight_names`` (trainable, Keras' order) and ``state_names`` (non-trainable, e.g. moving
  statistics), and ``initialize(input_shape, rng) -> (params, state)``;
- ``compute_output_shape(input_shape)``: a tuple, or a list of tuples for several outputs; for a
  layer called on a list, ``input_shape`` is a list of tuples;
- ``validate_input_shape(input_shape)``: raise ``ValueError`` naming what was expected;
- ``compute_mask(inputs, mask)``: Keras' mask propagation (default: no mask out);
- ``get_config()`` whose keys are ``__init__`` arguments, so ``from_config`` round-trips;
- optionally Keras' regularizer and constraint arguments, through `Layer.set_regularization`:
  ``weight_regularizers`` / ``weight_constraints`` (weight name -> object) and
  ``activity_regularizer``, which the backends read (no layer math changes).
"""

from __future__ import annotations

import re
from itertools import count
from collections.abc import Mapping, Sequence
from typing import Any, cast
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import constraints, regularizers
from ..mixed_precision import _policy as dtype_policies
from .._checks import as_float_array, check_dimensions, check_finite, check_representable, check_shape
from .._graph import Node, SymbolicTensor, flatten_structure, is_symbolic
from .._random import check_seed, make_rng
from ._registry import numpy_ops

_NAME_COUNTERS: dict[str, count[int]] = {}
_NO_ARGUMENT = object()  # set_regularization: the layer takes no activity_regularizer


def resolve_dtype(dtype: Any) -> np.dtype[Any]:
    """The weights' NumPy dtype for a ``dtype`` argument: float32 (default) or float64, or a
    dtype policy's variable dtype (``"mixed_bfloat16"`` keeps float32 weights)."""
    if dtype is None:
        return np.dtype(np.float32)
    if isinstance(dtype, (str, dict, dtype_policies.DTypePolicy)) and not isinstance(dtype, np.dtype):
        try:
            return np.dtype(dtype_policies.get(dtype).variable_dtype)
        except (TypeError, ValueError):
            pass
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return cast("np.dtype[Any]", resolved)  # not None: checked just above


def snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """``base``, then ``base_1``, ``base_2``, ... for later objects of the same kind (as Keras)."""
    number = next(_NAME_COUNTERS.setdefault(base, count()))
    return base if number == 0 else f"{base}_{number}"


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"a layer name must be a non-empty string without '/', got {name!r}")
    return name


def check_units(units: Any) -> None:
    """``units`` must be a positive integer (``bool`` is refused although it is an ``int``)."""
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
        raise ValueError(f"units must be a positive integer, got {units!r}")


def check_single_input(layer: Layer, input_shape: Any, *, min_ndim: int = 1, ndim: int | None = None) -> None:
    """One input (a shape tuple, batch axis first) of exactly ``ndim`` or at least ``min_ndim`` axes.

    Args:
        layer: the layer (for its kind and name in messages).
        input_shape: what the layer was called with.
        min_ndim: the fewest axes accepted, batch included.
        ndim: the only accepted number of axes, or ``None``.

    Raises:
        ValueError: naming the expected and the received shape.
    """
    kind = f"{type(layer).__name__} {layer.name!r}"
    if not isinstance(input_shape, tuple):
        raise ValueError(f"{kind} expects one input (a single tensor), received input_shape={input_shape}")
    if ndim is not None and len(input_shape) != ndim:
        raise ValueError(
            f"{kind} expects inputs with ndim={ndim} (batch axis included), received input_shape="
            f"{input_shape} (ndim={len(input_shape)})"
        )
    if len(input_shape) < min_ndim:
        raise ValueError(
            f"{kind} expects inputs with ndim >= {min_ndim} (batch axis included), received input_shape="
            f"{input_shape} (ndim={len(input_shape)})"
        )


def reject_unsupported(layer: str, **options: tuple[Any, Any]) -> None:
    """Raise for Keras arguments that are accepted by name but not implemented yet."""
    for name, (value, default) in options.items():
        if value != default:
            raise NotImplementedError(
                f"{layer}({name}={value!r}) is not implemented yet; only {name}={default!r} is supported"
            )


def shape_of(value: Any) -> Any:
    """Shapes with the batch axis as ``None``, in the structure of ``value`` (one or a list)."""
    if isinstance(value, (list, tuple)):
        return [shape_of(v) for v in value]
    return (None, *tuple(value.shape)[1:])


class Layer:
    """Base class of every layer (and of `Model`).

    Args:
        name: unique within a model; default the snake-case class name, numbered as Keras does.
        dtype: a dtype policy (`scratchlstm.mixed_precision`): ``"float32"`` or ``"float64"``
            (weights and math in that dtype), ``"mixed_bfloat16"`` / ``"mixed_float16"``
            (float32 weights, half-precision math on the JAX backend), a ``DTypePolicy`` or
            Keras' serialized policy. Without one, the global policy (float32 by default, and
            then a float64 first input makes the layer float64).
        seed: int or ``numpy.random.Generator`` for the initial weights (and dropout masks).
        trainable: ``False`` freezes the weights on both backends.
        input_shape: the input shape without the batch axis, to build at construction.
    """

    weight_names: tuple[str, ...] = ()
    state_names: tuple[str, ...] = ()
    is_input_layer = False
    supports_masking = False
    # Keras' <weight>_regularizer / <weight>_constraint arguments, by weight name (set_regularization)
    weight_regularizers: Mapping[str, Any] = MappingProxyType({})
    weight_constraints: Mapping[str, Any] = MappingProxyType({})
    _activity_regularizer: Any = None
    _has_activity_argument = False  # whether the constructor takes activity_regularizer
    _call_losses: tuple[float, ...] = ()  # the activity penalties of the last call on data

    def __init__(self, name: str | None = None, dtype: Any = None, seed: int | None = None, trainable: bool = True,
                 input_shape: tuple[int | None, ...] | None = None) -> None:
        check_seed(seed)
        self.name = check_name(name) if name is not None else unique_name(snake_case(type(self).__name__))
        policy = dtype_policies.get(dtype)
        self.dtype: np.dtype[Any] = resolve_dtype(policy.variable_dtype)  # the weights' dtype, Keras' layer.dtype
        self._mixed_compute = policy.compute_dtype if policy.is_mixed else None
        # float32 unless the first input is float64 (not under a mixed policy, which fixes it)
        self._dtype_from_input = dtype is None and not policy.is_mixed
        self.seed = seed
        self._rng = make_rng(seed)
        self.trainable = bool(trainable)
        self.params: dict[str, Any] | None = None
        self.state: dict[str, Any] = {}
        self.input_shape: Any = None
        self._inbound_nodes: list[Node] = []
        if input_shape is not None:
            self._build_input_shape = (None, *tuple(input_shape))
            self.build(self._build_input_shape)

    # --- dtype policy (Keras' dtype_policy / compute_dtype / variable_dtype) -------------------
    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's `scratchlstm.mixed_precision.DTypePolicy`; settable before the layer is
        built (or to a policy with the same variable dtype)."""
        half = getattr(self, "_mixed_compute", None)
        if half:
            return dtype_policies.DTypePolicy(f"mixed_{half}")
        return dtype_policies.DTypePolicy(self.dtype.name if self.dtype.kind == "f" else "float32")

    @dtype_policy.setter
    def dtype_policy(self, value: Any) -> None:
        policy = dtype_policies.get(value)
        variable = np.dtype(policy.variable_dtype)
        if self.built and variable != self.dtype:
            raise ValueError(
                f"layer {self.name!r} is built with {self.dtype.name} weights; dtype policy {policy.name!r} "
                f"needs {variable.name} weights. Set the policy before the layer is built"
            )
        self.dtype, self._dtype_from_input = variable, False
        self._mixed_compute = policy.compute_dtype if policy.is_mixed else None

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's math and outputs (its inputs and weights are cast to it)."""
        name: str = getattr(self, "_mixed_compute", None) or self.dtype.name
        return name

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer's weights are kept in (``layer.dtype`` as a name)."""
        name: str = self.dtype.name
        return name

    def reseed(self, rng: np.random.Generator) -> None:
        """Use ``rng`` for the initial weights (a model with a seed gives each layer a stream)."""
        if self.built:
            raise ValueError(f"layer {self.name!r} is already built; its weights are drawn")
        self._rng = rng

    # --- building -----------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.params is not None

    @property
    def built_params(self) -> dict[str, Any]:
        """``params`` of a built layer, for code that runs only once the layer is built."""
        if self.params is None:
            raise ValueError(f"layer {self.name!r} is not built yet, so it has no weights")
        return self.params

    def build(self, input_shape: tuple[Any, ...], dtype: Any = None) -> None:
        """Create the weights for inputs shaped ``input_shape`` (batch axis included, may be None).

        ``dtype`` is the input's dtype: a float64 input makes a layer built without an explicit
        ``dtype`` float64.
        """
        # before int() below turns 2.5, '5' or True into a dimension
        check_dimensions(input_shape, f"{type(self).__name__} {self.name!r}: input_shape")
        input_shape = _normalize_shape(input_shape)
        self.validate_input_shape(input_shape)
        if self.built:
            return
        if self._dtype_from_input and dtype is not None and np.dtype(dtype) == np.float64:
            self.dtype = np.dtype(np.float64)
        params, state = self.initialize(input_shape, self._rng)
        self.params, self.state = params, state
        self.input_shape = _batchless(input_shape)

    def initialize(self, input_shape: tuple[Any, ...],
                   rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(params, state)`` for ``input_shape``; a layer without weights has neither."""
        return {}, {}

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        """Raise ``ValueError`` if the layer cannot take inputs of this shape."""

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return input_shape

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs (Keras' propagation): passed on by layers that support masks."""
        return mask if self.supports_masking else None

    # --- weights ------------------------------------------------------------------------------
    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{what} needs the layer {self.name!r} to be built; call it on data first "
                "or pass input_shape=(time_steps, features)"
            )

    def _weight_slots(self) -> list[tuple[str, str]]:
        """``(tree, key)`` for every weight, in Keras' order (trainable first, then state)."""
        params = self.built_params
        slots = [("params", k) for k in self.weight_names if k in params]
        return slots + [("state", k) for k in self.state_names if k in self.state]

    def weight_leaves(self) -> list[tuple[Layer, str, str]]:
        """``(layer, "params" | "state", key)`` for every weight, in `get_weights` order."""
        return [(self, tree, key) for tree, key in self._weight_slots()] if self.built else []

    def trainable_paths(self, prefix: str = "") -> set[str]:
        """The ``prefix + weight`` paths that training may change (none when frozen)."""
        return {f"{prefix}{k}" for k in self.params} if self.trainable and self.params else set()

    def get_weights(self) -> list[NDArray[Any]]:
        """The weights as a list of NumPy arrays, in Keras' order (copies)."""
        self._require_built("get_weights")
        return [getattr(self, tree)[k].copy() for tree, k in self._weight_slots()]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Set the weights from a list in the order of `get_weights`; all are checked first."""
        self._require_built("set_weights")
        slots = self._weight_slots()
        weights = list(weights)
        if len(weights) != len(slots):
            raise ValueError(
                f"layer {self.name!r} expects {len(slots)} weight arrays {[k for _, k in slots]}, got {len(weights)}"
            )
        new = {"params": dict(self.built_params), "state": dict(self.state)}
        for (tree, key), value in zip(slots, weights):
            new[tree][key] = self.checked_weight(key, getattr(self, tree)[key].shape, value)
        self.params, self.state = new["params"], new["state"]

    def checked_weight(self, key: str, shape: tuple[Any, ...], value: Any) -> NDArray[Any]:
        """``value`` as this layer's dtype, after checking its shape, kind and finiteness."""
        value = np.array(value)  # a copy: never the caller's array
        if value.dtype.kind not in "fiu":
            raise ValueError(f"weight {key!r} of layer {self.name!r} must be a real number array, got dtype {value.dtype}")
        check_shape(value, shape, f"weight {key!r} of layer {self.name!r}")
        # checked after the cast: 1e39 passes a float64 check and becomes inf in float32
        return check_representable(value, self.dtype, f"weight {key!r} of layer {self.name!r}")

    @property
    def weights(self) -> list[NDArray[Any]]:
        return self.get_weights() if self.built else []

    @property
    def trainable_weights(self) -> list[NDArray[Any]]:
        if not self.built or not self.trainable:
            return []
        params = self.built_params
        return [params[k].copy() for k in self.weight_names if k in params]

    @property
    def non_trainable_weights(self) -> list[NDArray[Any]]:
        if not self.built:
            return []
        params = self.built_params
        frozen = [] if self.trainable else [params[k].copy() for k in self.weight_names if k in params]
        return frozen + [self.state[k].copy() for k in self.state_names if k in self.state]

    def count_params(self) -> int:
        self._require_built("count_params")
        return int(sum(np.size(w) for w in self.get_weights()))

    # --- regularizers and constraints ---------------------------------------------------------
    def set_regularization(self, arguments: dict[str, tuple[Any, tuple[str, ...]]],
                           activity_regularizer: Any = _NO_ARGUMENT) -> None:
        """Take Keras' regularizer and constraint arguments (called by a layer's ``__init__``).

        Args:
            arguments: ``{argument name: (value, weight names)}``, e.g.
                ``{"kernel_regularizer": ("l2", ("kernel",)), "bias_constraint": (None, ("bias",))}``.
                A ``*_regularizer`` takes what `scratchlstm.regularizers.get` accepts, a
                ``*_constraint`` what `scratchlstm.constraints.get` accepts.
            activity_regularizer: the penalty on the layer's outputs; leave it out for a layer
                whose constructor has no such argument.

        Each argument becomes an attribute holding the object (or ``None``); ``weight_regularizers``
        and ``weight_constraints`` map weight names to them. A weight the layer does not have
        (``bias`` with ``use_bias=False``) is ignored, as in Keras.

        Raises:
            ValueError: for an identifier the modules do not know, naming the argument.
        """
        penalties: dict[str, Any] = {}
        projections: dict[str, Any] = {}
        for argument, (value, weights) in arguments.items():
            module, target = (regularizers, penalties) if argument.endswith("_regularizer") else (constraints, projections)
            try:
                resolved = module.get(value)
            except ValueError as error:
                raise ValueError(f"{type(self).__name__}({argument}=...): {error}") from None
            setattr(self, argument, resolved)
            if resolved is not None:
                target.update({weight: resolved for weight in weights})
        self.weight_regularizers, self.weight_constraints = penalties, projections
        self._regularization_arguments = tuple(arguments)
        self._has_activity_argument = activity_regularizer is not _NO_ARGUMENT
        if self._has_activity_argument:
            self.activity_regularizer = activity_regularizer

    def regularization_config(self) -> dict[str, Any]:
        """The regularizer and constraint arguments, serialized as Keras writes them."""
        config: dict[str, Any] = {}
        for argument in getattr(self, "_regularization_arguments", ()):
            module = regularizers if argument.endswith("_regularizer") else constraints
            config[argument] = module.serialize(getattr(self, argument))
        if self._has_activity_argument:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @property
    def activity_regularizer(self) -> Any:
        """Penalizes the layer's outputs: ``regularizer(y) / batch_size`` for each output ``y``
        of each call, added to the loss (Keras' rule). Settable on the layers whose constructor
        takes it."""
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value: Any) -> None:
        value = regularizers.get(value)
        if value is not None and not self._has_activity_argument:
            raise NotImplementedError(
                f"{type(self).__name__} takes no activity_regularizer here; it is implemented for Dense, Conv1D, "
                "Embedding, LSTM, GRU and SimpleRNN"
            )
        self._activity_regularizer = value

    def regularized_weights(self) -> list[tuple[Layer, str, Any]]:
        """``(layer, weight name, regularizer)`` for each regularized trainable weight (a wrapper's
        and a model's inner layers included), in `get_weights` order."""
        if not self.trainable:
            return []
        return [
            (layer, key, layer.weight_regularizers[key])
            for layer, tree, key in self.weight_leaves()
            if tree == "params" and layer.trainable and key in layer.weight_regularizers
        ]

    def activity_losses(self, outputs: Any, cache: Any) -> list[float]:
        """The activity penalties of one call on data that returned ``outputs`` (floats)."""
        regularizer = self.activity_regularizer
        if regularizer is None:
            return []
        return [float(regularizers.activity_penalty(regularizer, y)) for y in (outputs if isinstance(outputs, list) else [outputs])]

    @property
    def losses(self) -> list[float]:
        """Keras' ``layer.losses``: the activity penalties of the last call on data, then the
        current penalty of each regularized trainable weight, as floats."""
        # regularized_weights lists built layers only
        return list(self._call_losses) + [
            float(reg(layer.built_params[key])) for layer, key, reg in self.regularized_weights()]

    # --- calling ------------------------------------------------------------------------------
    def gather_inputs(self, inputs: Any, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """``(inputs, options)`` from a call's arguments.

        Tensors among the arguments join ``inputs`` (an RNN's ``initial_state``: ``[x, h0, c0]``);
        everything else that changes what the call computes goes into ``options``, a dict of
        JSON-able values (e.g. an attention layer's ``return_attention_scores``). A graph node
        keeps the options, passes them to ``compute_output_shape`` and to both backends'
        ``layer_forward`` as keywords, and saves them with the model; calling the layer again
        with ``(inputs, **options)`` must give the same call. Default: no extra arguments.
        """
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected call arguments "
                f"{[type(a).__name__ for a in args] + sorted(kwargs)}"
            )
        return inputs, {}

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None, mask: Any = None, **kwargs: Any) -> Any:
        """On symbolic tensors: record a node and return symbolic outputs. On arrays: run NumPy."""
        inputs, options = self.gather_inputs(inputs, *args, **kwargs)
        if is_symbolic(inputs):
            return self._call_symbolic(inputs, options)
        return self._call_eager(inputs, training=bool(training), mask=mask, options=options)

    def _call_symbolic(self, inputs: Any, options: dict[str, Any] | None = None) -> Any:
        leaves = flatten_structure(inputs)
        for position, leaf in enumerate(leaves):
            if not isinstance(leaf, SymbolicTensor):
                raise ValueError(
                    f"layer {self.name!r} got a mix of symbolic tensors and data; input {position} is "
                    f"{type(leaf).__name__}. Wrap constants in a layer or pass them as a model Input"
                )
        takes_list = isinstance(inputs, (list, tuple))
        shapes: Any = [t.shape for t in leaves] if takes_list else leaves[0].shape
        self.build(shapes, leaves[0].dtype)
        options = dict(options or {})
        output_shapes = self.compute_output_shape(shapes, **options)
        node = Node(self, leaves, takes_list, options)
        several = node.returns_list = isinstance(output_shapes, list)
        for index, shape in enumerate(output_shapes if several else [output_shapes]):
            node.outputs.append(SymbolicTensor(shape, self.dtype, node, index))
        self._inbound_nodes.append(node)
        return list(node.outputs) if several else node.outputs[0]

    def check_model_input(self, array: NDArray[Any], what: str) -> None:
        """Checks on a whole model input that this layer reads directly, run by ``fit``,
        ``evaluate`` and ``predict`` before the first batch: a value only this layer can judge
        (a token id beyond `Embedding`'s vocabulary) is refused before anything trains, on
        both backends (inside ``jax.jit`` it could not raise). Most layers need none."""

    def prepare_input(self, value: Any, position: int | None = None) -> NDArray[Any]:
        """One eager input as a finite float array (integer data becomes float32)."""
        what = f"input to {type(self).__name__} {self.name!r}" + ("" if position is None else f" (input {position})")
        array = as_float_array(value, what)
        check_finite(array, what)
        return array

    def _call_eager(self, inputs: Any, *, training: bool, mask: Any, options: dict[str, Any] | None = None) -> Any:
        refuse_half_precision(self, "a call on arrays")
        arrays: list[NDArray[Any]] | NDArray[Any]
        shapes: Any
        if isinstance(inputs, (list, tuple)):
            arrays = [self.prepare_input(v, k) for k, v in enumerate(inputs)]
            shapes, first = [a.shape for a in arrays], arrays[0]
        else:
            arrays = first = self.prepare_input(inputs)
            shapes = arrays.shape
        self.build(shapes, first.dtype)
        cast = [a.astype(self.dtype, copy=False) for a in arrays] if isinstance(arrays, list) else arrays.astype(
            self.dtype, copy=False)
        outputs, new_state, cache = numpy_ops(self).layer_forward(
            self, self.params, self.state, cast, training=training, rng=self._rng, mask=mask, **(options or {})
        )
        self._call_losses = tuple(self.activity_losses(outputs, cache))
        # Layers whose state only moves in training (BatchNormalization) return it unchanged in
        # inference; a stateful RNN carries its states in both, as in Keras.
        self.state = new_state
        # Outputs may be read-only views into a cache (the LSTM's); hand the caller its own arrays.
        owned = [o if o.flags.writeable else o.copy() for o in (outputs if isinstance(outputs, list) else [outputs])]
        return owned if isinstance(outputs, list) else owned[0]

    # --- configuration ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The arguments that rebuild this layer (unbuilt) with `from_config`."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name}
        if isinstance(self.seed, (int, np.integer)):
            config["seed"] = int(self.seed)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        config = dict(config)
        config.pop("class_name", None)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def half_precision_layers(layer: Layer) -> list[Layer]:
    """``layer`` and the layers inside it (a model's, a wrapper's) whose dtype policy computes
    in bfloat16 or float16, in the order found."""
    found: list[Layer] = []
    stack: list[Any] = [layer]
    seen: set[int] = set()
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.compute_dtype in dtype_policies.HALF_DTYPES and not current.is_input_layer:
            found.append(current)
        inner = list(current._weight_layers()) if hasattr(current, "_weight_layers") else []
        stack += inner + [value for value in vars(current).values() if isinstance(value, Layer)]
    return found


def refuse_half_precision(layer: Layer, what: str) -> None:
    """Raise ``ValueError`` if ``layer`` (or a layer inside it) computes in half precision:
    NumPy has no bfloat16 and the NumPy backend computes in float32 or float64 only."""
    found = half_precision_layers(layer)
    if found:
        first = found[0]
        raise ValueError(
            f"{what}: the NumPy backend computes in float32 or float64 only, but "
            f"{type(first).__name__} {first.name!r} has dtype policy {first.dtype_policy.name!r} "
            f"({first.compute_dtype} math). Half precision runs on the JAX backend: "
            "model.compile(..., backend='jax'); or use dtype='float32'"
        )


def _normalize_shape(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_normalize_shape(s) for s in shape]
    return tuple(None if d is None else int(d) for d in shape)


def _batchless(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_batchless(s) for s in shape]
    return (None, *shape[1:])
