"""``Model``: a graph of layers from ``Input`` tensors to outputs (the functional API, DESIGN §8).

A model is a layer too (it registers the graph walks of ``_numpy/graph.py`` and
``jax_backend/graph.py`` as its math), so it can be called on symbolic tensors inside another
model, or on arrays. Its weights are its layers' weights: ``model.params`` is
``{layer_name: layer.params}``, nested for nested models. Training lives in ``_trainer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._graph import Graph, flatten_structure
from .._random import make_rng
from .._tree import flatten_paths
from ..layers._base import Layer, unique_name
from ..layers._registry import register
from ._trainer import Trainer

if TYPE_CHECKING:
    from .._graph import SymbolicTensor


def _structure_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, (list, tuple)):
        return "list"
    return "single"


@register(numpy="scratchlstm._numpy.graph", jax="scratchlstm.jax_backend.graph")
class Model(Trainer, Layer):
    """A model from its inputs and outputs: ``Model(inputs, outputs, name=None)``.

    Args:
        inputs: an ``Input`` tensor, a list of them, or a dict ``{name: Input(...)}``.
        outputs: a tensor computed from ``inputs`` by calling layers, a list, or a dict.
        name: the model's name.
        trainable: ``False`` freezes every layer.
        seed: int: makes shuffling reproducible.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm import Input, Model
        >>> from scratchlstm.layers import LSTM, Dense
        >>> series = Input(shape=(25, 1))
        >>> hidden = LSTM(8, return_sequences=True, seed=0)(series)
        >>> model = Model(series, [Dense(1, seed=0)(hidden), LSTM(2, seed=0)(hidden)])
        >>> [y.shape for y in model.predict(np.zeros((4, 25, 1)))]
        [(4, 25, 1), (4, 2)]
    """

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None, trainable: bool = True,
                 seed: int | None = None) -> None:
        if inputs is None or outputs is None:
            raise ValueError(
                "Model needs inputs and outputs: Model(inputs=Input(...), outputs=...); subclassing "
                "Model with a call() method is not supported"
            )
        self._init_model(name if name is not None else unique_name("functional"), trainable, seed)
        self._set_graph(inputs, outputs)

    def _init_model(self, name: str | None, trainable: bool, seed: int | None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        # no graph until _set_graph (an unbuilt Sequential: until built); every reader runs after it
        self._graph: Graph = None  # type: ignore[assignment]  # None until _set_graph
        self._trainable = bool(trainable)
        Layer.__init__(self, name=name, seed=seed, trainable=trainable)
        # Shuffling draws from its own stream, so it does not shift the layers' initial weights.
        self._shuffle_rng = make_rng(None) if seed is None else np.random.default_rng([int(seed), 0])
        Trainer.__init__(self)

    def _set_graph(self, inputs: Any, outputs: Any) -> None:
        graph = Graph(flatten_structure(inputs), flatten_structure(outputs))
        self._input_kind, self._output_kind = _structure_kind(inputs), _structure_kind(outputs)
        self._input_keys: list[str] | None = list(inputs) if isinstance(inputs, dict) else None
        self._output_keys: list[str] | None = list(outputs) if isinstance(outputs, dict) else None
        self._graph = graph
        float64 = any(t.dtype == np.float64 for t in graph.inputs)
        self.dtype = np.dtype(np.float64 if float64 else np.float32)
        for layer in self._weight_layers():
            if not self._trainable:
                layer.trainable = False

    # --- structure ----------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def layers(self) -> list[Layer]:
        """The layers in execution order (a functional model lists its ``InputLayer`` s, as Keras)."""
        return list(self._graph.layers) if self._graph else []

    def _weight_layers(self) -> list[Layer]:
        return [layer for layer in (self._graph.layers if self._graph else []) if not layer.is_input_layer]

    @property
    def takes_list(self) -> bool:
        return self._input_kind != "single"

    @property
    def returns_list(self) -> bool:
        return self._output_kind != "single"

    @property
    def inputs(self) -> list[SymbolicTensor]:
        return list(self._graph.inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return list(self._graph.outputs)

    @property
    def input(self) -> Any:
        return self.inputs if self.takes_list else self.inputs[0]

    @property
    def output(self) -> Any:
        return self.outputs if self.returns_list else self.outputs[0]

    @property
    def input_names(self) -> list[str]:
        return self._input_keys or [t.node.layer.name for t in self._graph.inputs]

    @property
    def output_names(self) -> list[str]:
        return self._output_keys or [t.name for t in self._graph.outputs]

    @property
    def input_shape(self) -> Any:
        self._require_built("input_shape")
        shapes = [t.shape for t in self._graph.inputs]
        return shapes if self.takes_list else shapes[0]

    @input_shape.setter
    def input_shape(self, value: Any) -> None:  # set by Layer.__init__; derived from the graph here
        pass

    @property
    def output_shape(self) -> Any:
        self._require_built("output_shape")
        shapes = [t.shape for t in self._graph.outputs]
        return shapes if self.returns_list else shapes[0]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by position in `layers`."""
        if (name is None) == (index is None):
            raise ValueError("get_layer needs exactly one of name=... or index=...")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index must be an int in [0, {len(self.layers)}), got {index!r}")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are {[layer.name for layer in self.layers]}")

    # --- the layer protocol -------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self._graph is not None and all(layer.built for layer in self._weight_layers())

    def build(self, input_shape: Any = None, dtype: Any = None) -> None:
        if input_shape is not None:
            self.validate_input_shape(input_shape if self.takes_list else input_shape)

    def validate_input_shape(self, input_shape: Any) -> None:
        shapes = input_shape if self.takes_list else [input_shape]
        if not isinstance(shapes, list) or len(shapes) != len(self._graph.inputs):
            raise ValueError(f"model {self.name!r} takes {len(self._graph.inputs)} input(s), got {input_shape}")
        for tensor, shape in zip(self._graph.inputs, shapes):
            tensor.node.layer.validate_input_shape(tuple(shape))

    def compute_output_shape(self, input_shape: Any) -> Any:
        batch = (input_shape[0] if self.takes_list else input_shape)[0]
        shapes = [(batch, *t.shape[1:]) for t in self._graph.outputs]
        return shapes if self.returns_list else shapes[0]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: Any) -> None:
        """Setting it sets every layer's, as Keras does."""
        self._trainable = bool(value)
        for layer in self._weight_layers():
            layer.trainable = bool(value)

    @property
    def params(self) -> dict[str, Any]:
        """``{layer_name: params}`` of the layers with weights (not copies)."""
        return {layer.name: layer.params for layer in self._weight_layers() if layer.params}

    @params.setter
    def params(self, value: Any) -> None:
        if value is None:
            return
        for layer in self._weight_layers():
            if layer.name in value:
                new = value[layer.name]
                current = layer.built_params
                order = list(current) if set(current) == set(new) else list(new)
                layer.params = {key: new[key] for key in order}  # keep Keras' weight order

    @property
    def state(self) -> dict[str, Any]:
        return {layer.name: layer.state for layer in self._weight_layers() if layer.state}

    @state.setter
    def state(self, value: Any) -> None:
        for layer in self._weight_layers():
            if layer.name in (value or {}):
                layer.state = value[layer.name]

    def trainable_paths(self, prefix: str = "") -> set[str]:
        """The ``"layer/weight"`` paths (as in `flatten_paths`) that training may change."""
        if not self.trainable:
            return set()
        return set().union(*(layer.trainable_paths(f"{prefix}{layer.name}/") for layer in self._weight_layers()))

    def weight_leaves(self) -> list[tuple[Layer, str, str]]:
        return [leaf for layer in self._weight_layers() for leaf in layer.weight_leaves()]

    # --- regularizers and constraints -------------------------------------------------------------
    def weight_regularization(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """``({path: regularizer}, {path: constraint})`` of the trainable weights, what the
        backends add to the loss and apply after each update.

        Paths are those of `flatten_paths` over ``params`` (``"lstm/kernel"``,
        ``"bidirectional/forward/kernel"``); the objects are the layers' ``weight_regularizers``
        and ``weight_constraints``, a wrapped layer's (``Bidirectional``, ``TimeDistributed``)
        and a nested model's included. Frozen weights have neither, as in Keras.

        Raises:
            NotImplementedError: for an ``activity_regularizer`` on a layer inside a wrapper
                (only the layers of a model's graph, nested models' included, apply theirs).
        """
        self._check_activity_regularizers()
        trainable = self.trainable_paths()
        paths_of: dict[int, list[str]] = {}
        for path, value in flatten_paths(self.params).items():
            paths_of.setdefault(id(value), []).append(path)
        found: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
        for layer, tree, key in self.weight_leaves():
            if tree != "params":
                continue
            for target, objects in zip(found, (layer.weight_regularizers, layer.weight_constraints)):
                if objects.get(key) is None:
                    continue
                # the leaf's path: the params tree holds the layer's own arrays, not copies
                paths = paths_of.get(id(layer.built_params[key]), [])
                if len(paths) != 1:
                    raise ValueError(
                        f"weight {key!r} of layer {layer.name!r} appears {len(paths)} times in model {self.name!r}'s "
                        "params; give each weight its own array (set_weights copies)"
                    )
                if paths[0] in trainable:
                    target[paths[0]] = objects[key]
        return found

    def _graph_layers(self) -> list[Layer]:
        """The layers that run as nodes of this graph or of a nested model's graph."""
        found: list[Layer] = []
        for layer in self._weight_layers():
            found.append(layer)
            if getattr(layer, "graph", None) is not None:
                found += cast(Model, layer)._graph_layers()  # a nested model
        return found

    def _check_activity_regularizers(self) -> None:
        nodes = {id(layer) for layer in self._graph_layers()}
        for layer, _, _ in self.weight_leaves():
            if layer.activity_regularizer is not None and id(layer) not in nodes:
                raise NotImplementedError(
                    f"layer {layer.name!r} has an activity_regularizer but runs inside a wrapper "
                    "(Bidirectional, TimeDistributed), where it is not applied yet; remove it, or set one on a "
                    "layer of the model itself"
                )

    def activity_losses(self, outputs: Any, cache: Any) -> list[float]:
        """The activity penalties of every node of the last call on data (the graph walk's)."""
        return list(cache["activity_losses"])

    # --- weights ------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        return self.params

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def get_variables(self) -> dict[str, Any]:
        """``{"params": ..., "state": ...}``: what the backends read and write."""
        return {"params": self.params, "state": self.state}

    def set_variables(self, variables: Any) -> None:
        self.params, self.state = variables["params"], variables["state"]

    def get_weights(self) -> list[NDArray[Any]]:
        """All weights, layer by layer in `layers` order, each layer in Keras' order."""
        self._require_built("get_weights")
        return [w for layer in self._weight_layers() for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Set all weights from a list shaped like `get_weights`; all are checked before any is set."""
        self._require_built("set_weights")
        weights = list(weights)
        leaves = self.weight_leaves()
        if len(weights) != len(leaves):
            raise ValueError(f"model {self.name!r} has {len(leaves)} weight arrays, got {len(weights)}")
        checked = [layer.checked_weight(key, getattr(layer, tree)[key].shape, value)
                   for (layer, tree, key), value in zip(leaves, weights)]
        layers = list({id(layer): layer for layer, _, _ in leaves}.values())
        saved = [(layer.params, layer.state) for layer in layers]
        try:
            for (layer, tree, key), value in zip(leaves, checked):
                updated = dict(getattr(layer, tree))
                updated[key] = value
                setattr(layer, tree, updated)
        except BaseException:
            # a setter that fails part way (a wrapper's, an interrupt) leaves the old weights everywhere
            for layer, (params, state) in zip(layers, saved):
                layer.params, layer.state = params, state
            raise

    @property
    def trainable_weights(self) -> list[NDArray[Any]]:
        return [w for layer in self._weight_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[NDArray[Any]]:
        return [w for layer in self._weight_layers() for w in layer.non_trainable_weights]

    def count_params(self) -> int:
        self._require_built("count_params")
        return int(sum(np.size(w) for w in flatten_paths(self.params).values())) + int(
            sum(np.size(w) for w in flatten_paths(self.state).values()))

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{what} needs a built model; call fit/predict on data, model.build((None, "
                "time_steps, features)) or give the first layer input_shape=(time_steps, features)"
            )

    # --- configuration ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        from ._graph_config import graph_config

        return {"name": self.name, "trainable": self.trainable, **graph_config(self)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        from ._graph_config import graph_from_config

        inputs, outputs = graph_from_config(config)
        return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))

    summary_shows_connections = True  # a graph's summary has Keras' "Connected to" column

    @property
    def stateful(self) -> bool:
        """Whether a layer (or a nested model's layer) carries states between batches."""
        return any(getattr(layer, "stateful", False) for layer in self._weight_layers())

    def check_stateful_batches(self, batch_size: int, samples: int) -> None:
        """A stateful model takes only whole batches of its layers' fixed size (else ``ValueError``).

        Checked before ``fit``/``predict``/``evaluate`` touch anything, because the JAX backend
        pads a last partial batch, which would carry padding rows into the states.
        """
        fixed = {getattr(layer, "_state_batch", None) for layer in self._weight_layers() if getattr(layer, "stateful", False)}
        fixed.discard(None)
        for size in fixed:
            if min(batch_size, samples) != size or samples % size:  # every batch must hold `size` rows
                raise ValueError(
                    f"model {self.name!r} has stateful layers built for batches of {size}; got batch_size={batch_size} "
                    f"and {samples} samples. Pass batch_size={size} and a multiple of {size} samples"
                )

    def reset_states(self) -> None:
        """Set the carried states of every stateful layer to zeros (Keras' ``model.reset_states()``)."""
        for layer in self._weight_layers():
            if getattr(layer, "stateful", False):
                layer.reset_states()  # type: ignore[attr-defined]  # stateful layers (recurrent, nested models) have it

    reset_state = reset_states

    def summary(self, print_fn: Callable[[str], object] = print) -> None:
        """Print layers, output shapes, parameter counts and (for graphs) connections, as Keras."""
        from ._summary import summary_text

        print_fn(summary_text(self))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} layers={len(self.layers)}>"


__all__ = ["Model"]
