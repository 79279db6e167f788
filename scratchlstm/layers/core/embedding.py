"""The Keras-style ``Embedding`` layer: token ids to dense vectors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ... import initializers
from ..._numpy.core.embedding import check_indices
from .._base import Layer, reject_unsupported
from .._registry import register


def _check_dim(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r} (of type {type(value).__name__})"
        )
    return int(value)


@register(numpy="scratchlstm._numpy.core.embedding", jax="scratchlstm.jax_backend.core.embedding")
class Embedding(Layer):
    """Turns token ids (integers in ``[0, input_dim)``) into vectors: ``(B, ...) -> (B, ..., D)``.

    Args:
        input_dim: the vocabulary size ``V`` (largest id + 1).
        output_dim: ``D``, the size of each vector.
        embeddings_initializer: for ``embeddings (V, D)``; default ``"uniform"``
            (``RandomUniform(-0.05, 0.05)``, as Keras).
        embeddings_regularizer: penalty on ``embeddings`` (`scratchlstm.regularizers`), added
            to the training loss; it is applied to the whole table, as in Keras.
        embeddings_constraint: projection of ``embeddings`` after each update
            (`scratchlstm.constraints`).
        activity_regularizer: penalty on the output, divided by the batch size.
        mask_zero: id 0 is padding: the layer's output mask is ``ids != 0`` (so ``input_dim``
            should be the vocabulary size + 1).
        weights: an initial ``(V, D)`` table (or a one-element list holding it); the layer is
            built at once.
        lora_rank, lora_alpha, quantization_config: only ``None``.
        input_length: deprecated in Keras, ignored with a warning.
        seed, dtype, name, trainable, input_shape: as for `Layer`.

    Inputs are integers, or floats holding whole numbers (models cast float data); anything
    else (a fraction, a negative id, an id >= ``input_dim``) raises ``ValueError``. The ids get
    no gradient (zero). Weights (Keras' order): ``embeddings (V, D)``.

    Examples:
        >>> import numpy as np
        >>> Embedding(1000, 64, seed=0)(np.random.default_rng(0).integers(1000, size=(32, 10))).shape
        (32, 10, 64)
    """

    weight_names = ("embeddings",)
    integer_inputs = True  # its inputs are token ids in [0, input_dim): their gradient is zero

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None, mask_zero: bool = False,
                 weights: list[Any] | None = None, lora_rank: int | None = None, lora_alpha: float | None = None,
                 quantization_config: Any = None, activity_regularizer: Any = None, input_length: int | None = None,
                 seed: int | None = None, dtype: Any = None, name: str | None = None, trainable: bool = True,
                 input_shape: tuple[Any, ...] | None = None) -> None:
        self.input_dim = _check_dim("input_dim", input_dim)
        self.output_dim = _check_dim("output_dim", output_dim)
        initializers.get(embeddings_initializer)
        reject_unsupported(
            "Embedding",
            lora_rank=(lora_rank, None),
            lora_alpha=(lora_alpha, None),
            quantization_config=(quantization_config, None),
        )
        self.set_regularization(
            {
                "embeddings_regularizer": (embeddings_regularizer, ("embeddings",)),
                "embeddings_constraint": (embeddings_constraint, ("embeddings",)),
            },
            activity_regularizer,
        )
        if input_length is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        self.embeddings_initializer = embeddings_initializer
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero  # as Keras
        super().__init__(name=name, dtype=dtype, seed=seed, trainable=trainable, input_shape=input_shape)
        if weights is not None:
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            if not self.built:
                self.params, self.state = self.initialize(None, self._rng)
                self._dtype_from_input = False
            self.set_weights(weights)

    def build(self, input_shape: tuple[Any, ...], dtype: Any = None) -> None:
        super().build(input_shape, dtype)
        if self.input_shape is None:  # built at construction from `weights`
            self.input_shape = (None, *tuple(input_shape)[1:])

    def validate_input_shape(self, input_shape: tuple[Any, ...]) -> None:
        if not isinstance(input_shape, tuple) or len(input_shape) < 1:
            raise ValueError(
                f"Embedding {self.name!r} expects one input of integer ids shaped (batch, ...), got {input_shape}"
            )

    def check_model_input(self, array: NDArray[Any], what: str) -> None:
        """Every id of the whole input below ``input_dim``: the JAX backend's gather would clamp
        an id beyond the table silently, and the NumPy one refuse it only in its batch."""
        check_indices(array, self.input_dim, f"{what} (token ids read by Embedding {self.name!r})")

    def prepare_input(self, value: Any, position: int | None = None) -> NDArray[Any]:
        """Eager inputs: checked as token ids first, then handed on as floats (exact below 2**24)."""
        check_indices(value, self.input_dim, f"inputs to Embedding {self.name!r}")
        return super().prepare_input(value, position)

    def initialize(self, input_shape: tuple[Any, ...] | None,
                   rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        shape = (self.input_dim, self.output_dim)
        return {"embeddings": initializers.get(self.embeddings_initializer)(shape, rng, self.dtype)}, {}

    def compute_output_shape(self, input_shape: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*input_shape, self.output_dim)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """``inputs != 0`` with ``mask_zero`` (NumPy or JAX, as the inputs are), else ``None``."""
        if not self.mask_zero:
            return None
        return inputs != 0

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "mask_zero": self.mask_zero,
            **self.regularization_config(),
        }
