"""``Sequential``: a chain of layers, built as a graph once the input shape is known."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import check_dimensions
from .._graph import SymbolicTensor
from ..layers._base import Layer, unique_name
from ..layers.core.input_layer import Input, InputLayer
from ..layers._registry import register
from ._model import Model


@register(numpy="scratchlstm._numpy.graph", jax="scratchlstm.jax_backend.graph")
class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: list of layers (e.g. ``[LSTM(20), Dense(1)]``), optionally starting with
            ``Input(shape)``; or ``None`` and use `add`.
        seed: makes initial weights (for layers without their own seed) and shuffling
            reproducible; ``None`` draws fresh entropy (or from ``utils.set_random_seed``).
        name: the model's name.
        trainable: ``False`` freezes every layer.

    The input shape comes from ``Input(shape)`` first in the list, from ``input_shape=`` on the
    first layer, from `build`, or from the first data given to ``fit``/``predict``.

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

    summary_shows_connections = False  # a chain's summary lists layers only, as Keras

    def __init__(self, layers: Sequence[Layer | SymbolicTensor] | None = None, name: str | None = None,
                 trainable: bool = True, seed: int | None = None) -> None:
        self._chain: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._init_model(name if name is not None else unique_name("sequential"), trainable, seed)
        self.seed = seed
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise ValueError(f"Sequential takes a list of layers, got {type(layers).__name__}")
        for layer in layers or []:
            self.add(layer)

    # --- structure ----------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers, without the input layer (as Keras)."""
        return list(self._chain)

    def _weight_layers(self) -> list[Layer]:
        return list(self._chain)

    def add(self, layer: Layer | SymbolicTensor) -> None:
        """Append a layer (or start with ``Input(shape)``)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._chain or self._input_layer is not None:
                raise ValueError("Sequential: an Input can only come first")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add expects a layer, got {type(layer).__name__}: {layer!r}")
        if getattr(layer, "return_state", False):
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r} has return_state=True, which a Sequential model "
                "cannot pass on; use the functional API (Model(inputs, outputs)) or call the layer directly"
            )
        if any(existing.name == layer.name for existing in self._chain):
            raise ValueError(
                f"Sequential: a layer named {layer.name!r} is already in the model; layer names must be unique"
            )
        if self.seed is not None and layer.seed is None and not layer.built:
            layer.reseed(np.random.default_rng([self.seed, len(self._chain) + 1]))
        self._chain.append(layer)
        if not self._trainable:
            layer.trainable = False
        shape = self._known_input_shape()
        if shape is not None:
            try:
                self._connect(shape, self._chain[0].dtype if self._input_layer is None else self._input_layer.dtype)
            except ValueError:
                self._chain.pop()
                raise

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._chain:
            raise ValueError("Sequential.pop: the model has no layers")
        layer = self._chain.pop()
        self._graph = None  # type: ignore[assignment]  # unbuilt again (Model._graph: None until a graph is set)
        shape = self._known_input_shape()
        if shape is not None and self._chain:
            self._connect(shape, self.dtype)
        return layer

    def _known_input_shape(self) -> Any:
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        first = self._chain[0] if self._chain else None
        if first is not None and getattr(first, "batch_input_shape", None) is not None:
            return first.batch_input_shape  # type: ignore[attr-defined]  # the getattr above found it
        if first is not None and first.built and not isinstance(first.input_shape, list):
            return first.input_shape
        if self._graph is not None:
            return self._graph.inputs[0].shape
        return None

    def _connect(self, input_shape: Any, dtype: Any = None) -> None:
        """(Re)build the chain as a graph on an input of ``input_shape`` (batch axis included)."""
        if not self._chain:
            return
        shape = tuple(input_shape)  # a fixed batch size (a stateful RNN's) is kept
        check_dimensions(shape, f"model {self.name!r}: input_shape")  # before any layer compares them
        check = shape
        for layer in self._chain:  # all checks first: a failed build changes nothing
            layer.validate_input_shape(check)
            check = layer.compute_output_shape(check)
        if self._input_layer is not None:
            tensor = self._input_layer.output
        else:
            tensor = Input(batch_shape=shape, dtype=dtype or self._chain[0].dtype, name=f"{self.name}_input")
        inputs = tensor
        for layer in self._chain:
            tensor = layer(tensor)
        self._set_graph(inputs, tensor)

    def build(self, input_shape: Any = None, dtype: Any = None) -> None:
        """Create every layer's weights for inputs shaped ``input_shape`` (batch axis included)."""
        if not self._chain:
            raise ValueError("the model has no layers; add an LSTM or Dense first")
        if input_shape is None:
            input_shape = self._known_input_shape()
            if input_shape is None:
                raise ValueError("Sequential.build needs input_shape=(None, time_steps, features)")
        if self._graph is not None:
            self.validate_input_shape(tuple(input_shape))
            return
        self._connect(input_shape, dtype)

    @property
    def built(self) -> bool:
        return self._graph is not None and bool(self._chain) and all(layer.built for layer in self._chain)

    def _build_for_data(self, xs: list[NDArray[Any]]) -> Callable[[], None]:
        if self.built:
            return lambda: None
        if not self._chain:
            raise ValueError("the model has no layers; add an LSTM or Dense first")
        was_built = [layer.built for layer in self._chain]
        saved = [(layer.params, layer.state, layer.input_shape, layer.dtype) for layer in self._chain]
        self.build((None, *xs[0].shape[1:]), xs[0].dtype)

        def undo() -> None:
            for layer, built, (params, state, input_shape, dtype) in zip(self._chain, was_built, saved):
                if not built:
                    layer.params, layer.state, layer.input_shape, layer.dtype = params, state, input_shape, dtype
            self._graph = None  # type: ignore[assignment]  # unbuilt again (Model._graph: None until a graph is set)

        return undo

    def _output_names_for_compile(self) -> list[str]:
        if self._graph is not None:
            return self.output_names
        if not self._chain:
            raise ValueError("compile needs a model with layers")
        return [self._chain[-1].name]

    # --- configuration ------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        from ..layers import serialize

        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable,
                                  "layers": [serialize(layer) for layer in self._chain]}
        if isinstance(self.seed, (int, np.integer)):
            config["seed"] = int(self.seed)
        shape = self._known_input_shape()
        if shape is not None:
            config["build_input_shape"] = list(shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        from ..layers import deserialize

        model = cls([deserialize(c) for c in config.get("layers", [])], name=config.get("name"),
                    trainable=config.get("trainable", True))
        model.seed = config.get("seed")
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model
