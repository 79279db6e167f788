"""The Keras-style ``Bidirectional`` wrapper: a recurrent layer run forwards and backwards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._base import Layer
from .._registry import register
from ._recurrent import Recurrent

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _copy_layer(layer: Recurrent, name: str, **changes: Any) -> Recurrent:
    """A fresh, unbuilt layer from ``layer``'s config (Keras recreates both directions)."""
    from .. import deserialize, serialize

    config = serialize(layer)
    config["config"] = {**config["config"], "name": name, **changes}
    config["config"].pop("batch_input_shape", None)
    if layer._dtype_from_input:  # follow the input's dtype, as the wrapped layer would
        config["config"].pop("dtype", None)
    return cast(Recurrent, deserialize(config))  # the same class as ``layer``


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


@register(numpy="scratchlstm._numpy.rnn.bidirectional", jax="scratchlstm.jax_backend.rnn.bidirectional")
class Bidirectional(Layer):
    """Runs a recurrent layer over the sequence forwards and a copy of it backwards, and merges them.

    Args:
        layer: an ``LSTM``, ``GRU``, ``SimpleRNN`` or ``RNN`` instance (its config is copied:
            the forward layer is named ``forward_<name>``).
        merge_mode: how the two outputs combine: ``"concat"`` (default, on the last axis, so
            ``2H`` features), ``"sum"``, ``"mul"``, ``"ave"``, or ``None`` for the list
            ``[forward_output, backward_output]``.
        backward_layer: optional recurrent layer for the backward direction; by default a copy
            of ``layer`` with ``go_backwards=True`` named ``backward_<name>``. It must have
            the opposite ``go_backwards`` and the same ``stateful``, ``return_sequences`` and
            ``return_state`` as ``layer``.
        name, dtype, trainable, input_shape: as for `Layer`.

    With ``return_sequences`` the backward outputs are flipped back in time before merging, so
    step ``t`` of the output sees the whole sequence: ``x_1..x_t`` forwards and ``x_T..x_t``
    backwards. Both directions get ``zero_output_for_mask = return_sequences`` (as Keras), so
    masked steps output zeros. With ``return_state`` the outputs are ``[output, *forward_states,
    *backward_states]`` (``[y_forward, y_backward, *states]`` for ``merge_mode=None``);
    ``initial_state`` takes the forward states then the backward ones.

    The weights are the forward layer's then the backward layer's (Keras' order):
    ``get_weights()`` of a ``Bidirectional(LSTM)`` is ``[kernel, recurrent_kernel, bias] * 2``.
    ``params`` is ``{"forward": ..., "backward": ...}``.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.layers import LSTM
        >>> x = np.zeros((4, 7, 3), dtype=np.float32)
        >>> Bidirectional(LSTM(5, return_sequences=True, seed=0))(x).shape
        (4, 7, 10)
        >>> len(Bidirectional(LSTM(5, seed=0), merge_mode="sum")(x, ).shape)
        2
    """

    supports_masking = True

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", backward_layer: Layer | None = None,
                 name: str | None = None, dtype: Any = None, trainable: bool = True,
                 input_shape: tuple[Any, ...] | None = None,
                 seed: int | None = None) -> None:
        if not isinstance(layer, Recurrent):
            raise ValueError(
                "Bidirectional wraps a recurrent layer (LSTM, GRU, SimpleRNN or RNN); received "
                f"{type(layer).__name__} {getattr(layer, 'name', layer)!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Recurrent):
            raise ValueError(
                f"Bidirectional backward_layer must be a recurrent layer, received {type(backward_layer).__name__}"
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional merge_mode must be one of {MERGE_MODES}, received {merge_mode!r}")
        forward = _copy_layer(layer, f"forward_{_strip(layer.name, 'forward_')}")
        if backward_layer is None:
            backward = _copy_layer(layer, f"backward_{_strip(layer.name, 'backward_')}", go_backwards=True)
        else:
            backward = backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Bidirectional: the forward and backward layers need different go_backwards, got "
                f"{forward.go_backwards} for both"
            )
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attribute) != getattr(backward, attribute):
                raise ValueError(
                    f"Bidirectional: the forward and backward layers need the same {attribute}, got "
                    f"{getattr(forward, attribute)} and {getattr(backward, attribute)}"
                )
        for direction in (forward, backward):
            direction.zero_output_for_mask = direction.return_sequences
        self.forward_layer, self.backward_layer = forward, backward
        self._backward_given = backward_layer is not None
        self.merge_mode = merge_mode
        self.stateful = forward.stateful
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        kept = [(d.dtype, d._dtype_from_input) for d in (forward, backward)]
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=None)
        for direction, (kept_dtype, from_input) in zip((forward, backward), kept):  # undo Layer.__init__'s writes
            direction.dtype, direction._dtype_from_input = kept_dtype, from_input
            if dtype is not None:  # a policy name too ("mixed_bfloat16"): the setter resolves it
                direction.dtype_policy = dtype
        if layer.batch_input_shape is not None and input_shape is None:
            self.build(layer.batch_input_shape)
        elif input_shape is not None:
            self.build((None, *tuple(input_shape)))

    # --- the two directions hold the weights ------------------------------------------------
    @property
    def directions(self) -> tuple[Recurrent, Recurrent]:
        return self.forward_layer, self.backward_layer

    @property
    def params(self) -> dict[str, Any] | None:
        if not self.forward_layer.built:
            return None
        return {"forward": self.forward_layer.params, "backward": self.backward_layer.params}

    @params.setter
    def params(self, value: Any) -> None:
        if value is None:
            return
        self.forward_layer.params, self.backward_layer.params = value["forward"], value["backward"]

    @property
    def state(self) -> dict[str, Any]:
        if not self.stateful or not self.forward_layer.built:
            return {}
        return {"forward": self.forward_layer.state, "backward": self.backward_layer.state}

    @state.setter
    def state(self, value: Any) -> None:
        if value:
            self.forward_layer.state, self.backward_layer.state = value["forward"], value["backward"]

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.forward_layer.dtype

    @dtype.setter
    def dtype(self, value: Any) -> None:
        for direction in self.directions:
            direction.dtype = np.dtype(value)

    @property
    def _dtype_from_input(self) -> bool:
        return self.forward_layer._dtype_from_input

    @_dtype_from_input.setter
    def _dtype_from_input(self, value: Any) -> None:
        for direction in self.directions:
            direction._dtype_from_input = value

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: Any) -> None:
        self._trainable = bool(value)
        for direction in self.directions:
            direction.trainable = bool(value)

    def reseed(self, rng: np.random.Generator) -> None:
        super().reseed(rng)
        for direction in self.directions:
            direction.reseed(rng)

    def weight_leaves(self) -> list[tuple[Layer, str, str]]:
        return self.forward_layer.weight_leaves() + self.backward_layer.weight_leaves()

    def trainable_paths(self, prefix: str = "") -> set[str]:
        if not self.trainable:
            return set()
        return self.forward_layer.trainable_paths(f"{prefix}forward/") | self.backward_layer.trainable_paths(
            f"{prefix}backward/"
        )

    def get_weights(self) -> list[NDArray[Any]]:
        self._require_built("get_weights")
        return self.forward_layer.get_weights() + self.backward_layer.get_weights()

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """The forward layer's weights then the backward layer's; all are checked before any is set."""
        self._require_built("set_weights")
        weights = list(weights)
        count = len(self.forward_layer.get_weights())
        if len(weights) != 2 * count:
            raise ValueError(f"Bidirectional {self.name!r} expects {2 * count} weight arrays, got {len(weights)}")
        checked = [
            [direction.checked_weight(key, getattr(direction, tree)[key].shape, value)
             for (_, tree, key), value in zip(direction.weight_leaves(), part)]
            for direction, part in zip(self.directions, (weights[:count], weights[count:]))
        ]
        for direction, values in zip(self.directions, checked):
            direction.set_weights(values)

    def checked_weight(self, key: str, shape: tuple[Any, ...], value: Any) -> NDArray[Any]:
        return self.forward_layer.checked_weight(key, shape, value)

    @property
    def trainable_weights(self) -> list[NDArray[Any]]:
        return [w for d in self.directions for w in d.trainable_weights] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[NDArray[Any]]:
        return [w for d in self.directions for w in d.non_trainable_weights]

    def count_params(self) -> int:
        self._require_built("count_params")
        return sum(d.count_params() for d in self.directions)

    # --- stateful ---------------------------------------------------------------------------
    @property
    def _state_batch(self) -> int | None:
        return self.forward_layer._state_batch

    @property
    def states(self) -> list[Any]:
        return self.forward_layer.states + self.backward_layer.states

    def reset_states(self, states: Any = None) -> None:
        """Reset both directions (``states``: the forward ones, then the backward ones)."""
        if not self.stateful:
            raise ValueError(f"Bidirectional {self.name!r} is not stateful: reset_states() needs stateful=True")
        if states is None:
            halves = (None, None)
        else:
            states = list(states)
            half = len(states) // 2
            halves = (states[:half], states[half:])
        before = [d.state for d in self.directions]
        try:
            for direction, part in zip(self.directions, halves):
                direction.reset_states(part)
        except ValueError:
            for direction, kept in zip(self.directions, before):
                direction.state = kept
            raise

    reset_state = reset_states

    # --- shapes ---------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        return self.forward_layer.built and self.backward_layer.built

    def build(self, input_shape: Any, dtype: Any = None) -> None:
        self.validate_input_shape(input_shape)
        halves = self._split_shapes(input_shape)
        for direction, shape in zip(self.directions, halves):
            direction.build(shape, dtype)
        if self.input_shape is None:
            x_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
            self.input_shape = (None, *tuple(x_shape)[1:])

    def _split_shapes(self, input_shape: Any) -> tuple[Any, Any]:
        if not isinstance(input_shape, list):
            return input_shape, input_shape
        x_shape, states = input_shape[0], input_shape[1:]
        half = len(states) // 2
        return [x_shape, *states[:half]], [x_shape, *states[half:]]

    def validate_input_shape(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            count = len(self.forward_layer.cell_state_names)
            if len(input_shape) != 1 + 2 * count:
                raise ValueError(
                    f"Bidirectional {self.name!r} takes [x, *forward_states, *backward_states] ({1 + 2 * count} "
                    f"inputs) when given a list, got {len(input_shape)}"
                )
        for direction, shape in zip(self.directions, self._split_shapes(input_shape)):
            direction.validate_input_shape(shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        forward = self.forward_layer.compute_output_shape(self._split_shapes(input_shape)[0])
        states = []
        if self.return_state:
            forward, states = forward[0], forward[1:]
        if self.merge_mode == "concat":
            output = [(*forward[:-1], 2 * forward[-1])]
        elif self.merge_mode is None:
            output = [forward, forward]
        else:
            output = [forward]
        shapes = output + states + states
        return shapes if len(shapes) > 1 else shapes[0]

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            masks += [None] * (2 * len(self.forward_layer.cell_state_names))
        return masks if len(masks) > 1 else masks[0]

    # --- calling ---------------------------------------------------------------------------
    def gather_inputs(self, inputs: Any, initial_state: Any = None) -> tuple[Any, ...]:
        """``layer(x, initial_state=[*forward_states, *backward_states])`` runs on one list."""
        if initial_state is None:
            return inputs, {}
        if isinstance(inputs, (list, tuple)):
            raise ValueError(f"Bidirectional {self.name!r}: pass the initial state in the input list or as initial_state, not both")
        return [inputs, *list(initial_state)], {}

    def get_config(self) -> dict[str, Any]:
        from .. import serialize

        config = {
            **super().get_config(),
            "layer": serialize(self.forward_layer),
            "merge_mode": self.merge_mode,
        }
        if self._backward_given:
            config["backward_layer"] = serialize(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        from .. import deserialize

        config = dict(config)
        config.pop("class_name", None)
        config["layer"] = deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)


def merge(mode: str | None, forward: NDArray[Any], backward: NDArray[Any], xp: Any = np) -> Any:
    """Combine the two directions' outputs as ``merge_mode`` says (``xp``: numpy or jax.numpy)."""
    if mode == "concat":
        return xp.concatenate([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "ave":
        return (forward + backward) / 2
    if mode == "mul":
        return forward * backward
    return [forward, backward]
