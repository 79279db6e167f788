"""What every layer shares: configuration, lazy build from the first input shape, weights."""

from __future__ import annotations

import numpy as np

from .._checks import check_shape


def resolve_dtype(dtype) -> np.dtype:
    if dtype is None:
        return np.dtype(np.float32)
    resolved = np.dtype(dtype)
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return resolved


def make_rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
        raise ValueError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(seed)


def check_units(units) -> None:
    """``units`` must be a positive integer (``bool`` is refused although it is an ``int``)."""
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
        raise ValueError(f"units must be a positive integer, got {units!r}")


def reject_unsupported(layer: str, **options) -> None:
    """Raise for Keras arguments that are accepted by name but not implemented yet."""
    for name, (value, default) in options.items():
        if value != default:
            raise NotImplementedError(
                f"{layer}({name}={value!r}) is not implemented yet; only {name}={default!r} is supported"
            )


class Layer:
    """Base class: holds ``params`` (a dict of NumPy arrays) and configuration; no math.

    Subclasses define ``param_shapes(input_shape)``, ``initialize(input_shape, rng)``,
    ``compute_output_shape(input_shape)``, ``forward``/``backward`` (calling the pure functions)
    and ``get_config``.
    """

    weight_names: tuple = ()

    def __init__(self, name=None, dtype=None, seed=None, input_shape=None):
        self.name = name or type(self).__name__.lower()
        self.dtype = resolve_dtype(dtype)
        self._dtype_from_input = dtype is None  # float32 unless the first input is float64
        self.seed = seed
        self._rng = make_rng(seed)
        self.params: dict | None = None
        self.input_shape: tuple | None = None
        if input_shape is not None:
            self.build((None, *tuple(input_shape)))

    def reseed(self, rng: np.random.Generator) -> None:
        """Use ``rng`` for the initial weights (a model with a seed gives each layer a stream)."""
        if self.built:
            raise ValueError(f"layer {self.name!r} is already built; its weights are drawn")
        self._rng = rng

    @property
    def built(self) -> bool:
        return self.params is not None

    def build(self, input_shape, dtype=None) -> None:
        """Create the weights for inputs shaped ``input_shape`` (batch axis included, may be None).

        ``dtype`` is the input's dtype: a float64 input makes a layer built without an explicit
        ``dtype`` float64.
        """
        input_shape = tuple(input_shape)
        if self._dtype_from_input and dtype is not None and np.dtype(dtype) == np.float64:
            self.dtype = np.dtype(np.float64)
        self.validate_input_shape(input_shape)
        self.params = self.initialize(input_shape, self._rng)
        self.input_shape = (None, *input_shape[1:])

    def validate_input_shape(self, input_shape) -> None:  # overridden
        pass

    # --- weights ----------------------------------------------------------------------------
    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{what} needs the layer {self.name!r} to be built; call it on data first "
                "or pass input_shape=(time_steps, features)"
            )

    def get_weights(self) -> list:
        """The weights as a list of NumPy arrays, in Keras' order (copies)."""
        self._require_built("get_weights")
        return [self.params[k].copy() for k in self.weight_names if k in self.params]

    def set_weights(self, weights) -> None:
        """Set the weights from a list in the order of `get_weights`; all are checked first."""
        self._require_built("set_weights")
        names = [k for k in self.weight_names if k in self.params]
        weights = list(weights)
        if len(weights) != len(names):
            raise ValueError(
                f"layer {self.name!r} expects {len(names)} weight arrays {names}, got {len(weights)}"
            )
        new = {}
        for key, value in zip(names, weights):
            value = np.asarray(value)
            check_shape(value, self.params[key].shape, f"weight {key!r} of layer {self.name!r}")
            if not np.isfinite(value).all():
                raise ValueError(f"weight {key!r} of layer {self.name!r} must be finite")
            new[key] = value.astype(self.dtype, copy=True)
        self.params = new

    def count_params(self) -> int:
        self._require_built("count_params")
        return int(sum(v.size for v in self.params.values()))

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("class_name", None)
        return cls(**config)
