"""The one table of differences between our layers and Keras 3's, read by every conversion.

Our layers take Keras' argument names and keep Keras' weight order (DESIGN §2, §7), so an entry
records only what differs:

- ``keras_class``: Keras' class name where it is not ours (our ``Model`` is Keras' ``Functional``);
- ``keras_only``: arguments Keras writes that we do not have, with the one value we implement;
  another value is refused by name (``seed`` is shared: Keras' seeds dropout, ours also the
  initial weights, which a loaded file replaces);
- ``ours_only``: our arguments Keras does not have, with the value that needs no argument there;
- ``initial_only``: our arguments Keras does not have that only decide the initial weights
  (``seed``), which the file stores anyway: left out of what Keras reads;
- ``groups``: where the layer's weights (``get_weights()``, Keras' order) live under its HDF5
  group: a tuple of ``(subpath, count)`` parts, or a function of the layer giving them
  (``"cell"`` for recurrent layers, ``query_dense``... for ``MultiHeadAttention``);
- ``sublayers``: ``(HDF5 attribute, our attribute)`` of wrapped layers, saved under the
  wrapper's group (``Bidirectional``'s ``forward_layer``, ``TimeDistributed``'s ``layer``);
- ``call``: how a functional node passes its inputs (see ``_config``): ``"single"`` (one tensor),
  ``"list"`` (merge and attention layers take one list), ``"rnn"`` (the input, then
  ``initial_state=[...]``), ``"positional"`` (``MultiHeadAttention(query, value, key)``),
  ``"model"`` (a nested model, as its inputs are structured).

A new layer adds one `LayerMapping` line here (and nothing else) to travel in Keras files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..layers._base import Layer
    from ..layers.attention.multi_head_attention import MultiHeadAttention


def _all_own(layer: Layer) -> tuple[tuple[str, int], ...]:
    return (("", len(layer.get_weights())),)


def _cell(layer: Layer) -> tuple[tuple[str, int], ...]:
    return (("cell", len(layer.get_weights())),)


def _dense_parts(layer: MultiHeadAttention) -> tuple[tuple[str, int], ...]:
    per_dense = 2 if layer.use_bias else 1
    return tuple((name, per_dense) for name in ("query_dense", "key_dense", "value_dense", "output_dense"))


@dataclass(frozen=True)
class LayerMapping:
    """How one of our layer classes appears in a Keras 3 file (see the module docstring)."""

    class_name: str
    keras_class: str = ""
    module: str = "keras.layers"
    keras_only: dict[str, Any] = field(default_factory=dict)
    ours_only: dict[str, Any] = field(default_factory=dict)
    initial_only: tuple[str, ...] = ()
    groups: Callable[[Any], tuple[tuple[str, int], ...]] = _all_own  # called with the layer
    sublayers: tuple[tuple[str, str], ...] = ()
    call: str = "single"

    @property
    def keras_name(self) -> str:
        return self.keras_class or self.class_name


_MERGE: dict[str, Any] = dict(call="list")
_SEED = ("seed",)  # Keras' class has no seed: ours seeds only the initial weights

MAPPINGS = {m.class_name: m for m in (
    # recurrent
    LayerMapping("LSTM", groups=_cell, call="rnn"),
    LayerMapping("GRU", groups=_cell, call="rnn"),
    LayerMapping("SimpleRNN", groups=_cell, call="rnn"),
    LayerMapping("Bidirectional", groups=lambda layer: (), initial_only=_SEED,
                 sublayers=(("forward_layer", "forward_layer"), ("backward_layer", "backward_layer")), call="rnn"),
    LayerMapping("TimeDistributed", groups=lambda layer: (), sublayers=(("layer", "layer"),)),
    # core
    LayerMapping("InputLayer", keras_only={"sparse": False, "ragged": False, "optional": False}),
    LayerMapping("Dense", keras_only={"quantization_config": None}, ours_only={"activity_regularizer": None},
                 initial_only=_SEED),
    LayerMapping("Embedding", keras_only={"quantization_config": None}, initial_only=_SEED),
    LayerMapping("Masking"),
    # normalisation
    LayerMapping("BatchNormalization", keras_only={"renorm": False, "renorm_clipping": None,
                                                   "renorm_momentum": 0.99, "synchronized": False},
                 initial_only=_SEED),
    LayerMapping("LayerNormalization", keras_only={"rms_scaling": False}, initial_only=_SEED),
    # convolution and pooling
    LayerMapping("Conv1D", initial_only=_SEED),
    LayerMapping("MaxPooling1D"),
    LayerMapping("AveragePooling1D"),
    LayerMapping("GlobalAveragePooling1D"),
    LayerMapping("GlobalMaxPooling1D"),
    # regularisation
    LayerMapping("Dropout"),
    LayerMapping("GaussianNoise"),
    LayerMapping("SpatialDropout1D", ours_only={"trainable": True}),
    # reshaping
    LayerMapping("Flatten"),
    LayerMapping("Reshape"),
    LayerMapping("Permute"),
    LayerMapping("RepeatVector"),
    # attention
    LayerMapping("Attention", call="list"),
    LayerMapping("AdditiveAttention", call="list"),
    LayerMapping("MultiHeadAttention", groups=_dense_parts, call="positional",
                 keras_only={"use_gate": False, "sliding_window": None, "activity_regularizer": None}),
    # merging
    *(LayerMapping(name, **_MERGE) for name in
      ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot")),
    # models inside models
    LayerMapping("Sequential", module="keras", groups=lambda layer: (), call="model"),
    LayerMapping("Model", keras_class="Functional", module="keras.src.models.functional",
                 groups=lambda layer: (), call="model"),
)}

BY_KERAS_NAME = {m.keras_name: m for m in MAPPINGS.values()}


def mapping_for_ours(class_name: str) -> LayerMapping:
    """The entry of our layer class ``class_name`` (``ValueError`` naming it if Keras has none)."""
    if class_name not in MAPPINGS:
        raise ValueError(
            f"the layer class {class_name!r} has no Keras 3 counterpart that scratchlstm knows; save "
            f"this model as .npz instead (Keras files hold {sorted(MAPPINGS)})"
        )
    return MAPPINGS[class_name]


def mapping_for_keras(class_name: Any) -> LayerMapping:
    """The entry of Keras' class ``class_name`` (``ValueError`` naming it if we have none)."""
    if class_name in ("Lambda", "__lambda__"):
        raise ValueError(
            f"the file holds a {class_name} layer, i.e. Python code; scratchlstm never runs code from "
            "a file (Keras' safe_mode refuses it too)"
        )
    if class_name not in BY_KERAS_NAME:
        raise ValueError(
            f"the Keras layer class {class_name!r} has no scratchlstm counterpart; the layers that "
            f"load are {sorted(BY_KERAS_NAME)}"
        )
    return BY_KERAS_NAME[class_name]
