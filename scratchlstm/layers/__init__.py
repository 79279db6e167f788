"""Keras-style layers: thin objects holding configuration and weights; the math is in ``_numpy``
and ``jax_backend``, found through the registry (`register`)."""

from __future__ import annotations

from typing import Any, cast

from ._base import Layer
from ._registry import LAYER_CLASSES, register
from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .convolutional import Conv1D
from .core.dense import Dense
from .core.embedding import Embedding
from .core.masking import Masking
from .core.input_layer import Input, InputLayer
from .merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (
    AveragePooling1D,
    AvgPool1D,
    GlobalAveragePooling1D,
    GlobalAvgPool1D,
    GlobalMaxPool1D,
    GlobalMaxPooling1D,
    MaxPool1D,
    MaxPooling1D,
)
from .regularization import Dropout, GaussianNoise, SpatialDropout1D
from .reshaping import Flatten, Permute, RepeatVector, Reshape
from .rnn.bidirectional import Bidirectional
from .rnn.gru import GRU
from .rnn.lstm import LSTM
from .rnn.rnn import RNN, RNNCell
from .rnn.simple_rnn import SimpleRNN
from .rnn.time_distributed import TimeDistributed


def deserialize(config: dict[str, Any]) -> Layer:
    """Rebuild an (unbuilt) layer from ``{"class_name": ..., "config": {...}}`` or a flat config."""
    from ._registry import layer_class

    if not isinstance(config, dict):
        raise ValueError(f"a layer config must be a dict, got {type(config).__name__}")
    inner = config.get("config", {k: v for k, v in config.items() if k != "class_name"})
    # a missing class_name reaches layer_class, whose error names it
    return layer_class(cast(str, config.get("class_name"))).from_config(inner)


def serialize(layer: Layer) -> dict[str, Any]:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


__all__ = [
    "Add",
    "AdditiveAttention",
    "Attention",
    "Average",
    "AveragePooling1D",
    "AvgPool1D",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Dense",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAvgPool1D",
    "GlobalMaxPool1D",
    "GlobalMaxPooling1D",
    "Input",
    "InputLayer",
    "LAYER_CLASSES",
    "LSTM",
    "Layer",
    "LayerNormalization",
    "Masking",
    "MaxPool1D",
    "MaxPooling1D",
    "Maximum",
    "Minimum",
    "MultiHeadAttention",
    "Multiply",
    "Permute",
    "RNN",
    "RNNCell",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "SpatialDropout1D",
    "Subtract",
    "TimeDistributed",
    "add",
    "average",
    "concatenate",
    "deserialize",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "register",
    "serialize",
    "subtract",
]
