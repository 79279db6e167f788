"""Per-column scalers (MinMaxScaler, StandardScaler) with a pickle-free state dict.

Statistics are kept in float64 whatever the input dtype; outputs take the input's
float dtype (float32/float64 kept, anything else becomes float32).

One validation layer, `_Scaler._install`, guards every way statistics arrive (`fit`,
`from_state`, `subset`): they must be finite, consistent (variance >= 0, min <= max, one
length) and give finite derived scales, or a ValueError names the column and the value and
the scaler keeps its old state. `transform` and `inverse_transform` refuse results that do
not fit the output dtype instead of returning inf.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from ._arrays import float_dtype, is_dataframe, is_series, pandas_numeric_values, require_pandas

_STATE_HINT = "is the state from get_state() of a fitted scaler?"

# `label(i)` names column `i` in error messages (see `_labeller`).
_Label = Callable[[int], str]


class NotFittedError(ValueError):
    """A scaler was used before `fit` (or restored from a state without statistics)."""


def _string_labels(labels: Iterable[Any]) -> list[str] | None:
    """The column labels as a list when they are all strings, else None (no names)."""
    labels = list(labels)
    return labels if labels and all(isinstance(label, str) for label in labels) else None


def _labeller(names: Sequence[str] | None) -> _Label:
    """`label(i)`: "column i", with its name when the scaler has names, for messages."""
    def label(i: int) -> str:
        i = int(i)
        return f"column {i}" if names is None else f"column {i} ({names[i]!r})"
    return label


def _describe(stats: dict[str, NDArray[Any]], i: int) -> str:
    return ", ".join(f"{key} {value[i]:.6g}" for key, value in stats.items())


def _plain(value: Any) -> Any:
    """A config value from a state (a list, a 0-d or 1-d array) as plain Python values."""
    return value.tolist() if isinstance(value, np.ndarray) else value


def _statistic(value: Any, key: str, where: str) -> NDArray[Any]:
    """One stored statistic as a float64 `(F,)` array (a 0-d value is one column).

    Only integers and real floats count as numbers: a cast to float64 would drop the imaginary
    part of complex values and turn booleans into 0 and 1 without a word.
    """
    try:
        given = np.asarray(value)
    except (TypeError, ValueError):  # ragged nesting
        given = np.asarray(None, dtype=object)
    if given.dtype.kind not in "iuf":
        raise ValueError(f"{where}: {key} must be numbers, got {value!r:.80}; {_STATE_HINT}")
    array = given.astype(np.float64)
    if array.ndim > 1:
        raise ValueError(f"{where}: {key} must be 1-D (one value per column), got shape {array.shape}")
    return array.reshape(-1)


def _sample_count(value: Any, where: str) -> int:
    array = np.asarray(value)
    if array.ndim == 0 and array.dtype.kind in "iu":
        count = int(array)
    elif array.ndim == 0 and array.dtype.kind == "f" and np.isfinite(array) and float(array).is_integer():
        count = int(array)
    else:
        count = 0
    if count < 1:
        raise ValueError(f"{where}: n_samples_seen_ must be an integer >= 1, got {value!r:.80}")
    return count


def _read(x: Any, what: str) -> tuple[NDArray[Any], list[str] | None, Callable[[NDArray[Any]], Any]]:
    """Split `x` into a float array with features on the last axis, its column names
    (or None) and a function that puts a result back into `x`'s shape and type."""
    if is_dataframe(x):
        values = pandas_numeric_values(x)
        names = _string_labels(x.columns)

        def wrap(out: NDArray[Any]) -> Any:
            return require_pandas().DataFrame(out, index=x.index, columns=x.columns)
    elif is_series(x):
        values = pandas_numeric_values(x).reshape(-1, 1)
        names = _string_labels([x.name])

        def wrap(out: NDArray[Any]) -> Any:
            return require_pandas().Series(out[:, 0], index=x.index, name=x.name)
    else:
        values = np.asarray(x)
        names = None
        if values.ndim == 0:
            raise ValueError(f"{what} expects an array with a feature axis, got a scalar {values!r}")
        shape = values.shape
        if values.ndim == 1:  # a 1-D array is one column
            values = values.reshape(-1, 1)

        def wrap(out: NDArray[Any]) -> Any:
            return out.reshape(shape)
    if values.dtype.kind not in "biuf":  # booleans, integers, floats; not complex
        raise ValueError(f"{what} expects numeric data, got dtype {values.dtype}")
    return values, names, wrap


_ScalerT = TypeVar("_ScalerT", bound="_Scaler")


class _Scaler:
    """Shared machinery. Subclasses define `_stat_names` (the per-column float64 arrays
    that make up the fitted state), `_config`, `_compute`, `_check`, `_derived`,
    `_forward` and `_backward`."""

    _stat_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.n_features_in_: int | None = None
        self.feature_names_: list[str] | None = None
        self.n_samples_seen_: int | None = None

    # -- subclass hooks -----------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {}

    def _compute(self, rows: NDArray[Any], label: _Label) -> dict[str, NDArray[Any]]:
        # rows: (n, F) float64, all finite
        raise NotImplementedError

    def _check(self, stats: dict[str, NDArray[Any]], label: _Label) -> None:
        """Raise ValueError when finite `stats` are inconsistent (e.g. a negative variance);
        `label(i)` names column `i` in the message."""

    def _derived(self, stats: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        """The attributes that follow from `stats` (e.g. `scale_`), computed without side effects."""
        return {}

    def _forward(self, x: NDArray[Any], cols: list[int]) -> NDArray[Any]:
        raise NotImplementedError

    def _backward(self, x: NDArray[Any], cols: list[int]) -> NDArray[Any]:
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------
    def fit(self: _ScalerT, x: Any) -> _ScalerT:
        """Learn per-column statistics from `x`.

        Arguments:
            x: `(N,)` (one column), `(N, F)` or `(..., F)` array, a Series or a
                DataFrame; statistics reduce over every axis but the last. A DataFrame
                with string column labels stores them in `feature_names_`.

        Returns:
            `self`.

        Raises:
            ValueError: no rows, non-numeric data, or NaN/inf values. The scaler is
                left as it was.
        """
        values, names, _ = _read(x, "fit")
        rows = values.reshape(-1, values.shape[-1]).astype(np.float64)
        if rows.shape[0] == 0 or rows.shape[1] == 0:
            raise ValueError(f"fit needs at least one row and one column, got shape {values.shape}")
        finite = np.isfinite(rows)
        if not finite.all():
            bad_columns = np.flatnonzero(~finite.all(axis=0)).tolist()
            raise ValueError(
                f"fit data contains {int((~finite).sum())} NaN/inf value(s), in column(s) "
                f"{bad_columns if names is None else [names[i] for i in bad_columns]}"
            )
        label = _labeller(names)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by the checks
            stats = self._compute(rows, label)
        return self._install(stats, names, rows.shape[0], "fit")

    def _install(self: _ScalerT, stats: dict[str, NDArray[Any]], names: list[str] | None, n_samples: int,
                 where: str) -> _ScalerT:
        """Validate `stats` (float64 `(F,)` arrays) and what follows from them, then set them;
        the one place statistics enter a scaler, so a failure leaves the old state as it was."""
        label = _labeller(names)
        sizes = {key: value.shape[0] for key, value in stats.items()}
        n_features = sizes[self._stat_names[0]]
        if len(set(sizes.values())) != 1 or (names is not None and len(names) != n_features):
            raise ValueError(
                f"{where}: the statistics disagree on the column count: {sizes}, names {names}"
            )
        if n_features == 0:
            raise ValueError(f"{where}: the statistics must cover at least one column, got none")
        for key, value in stats.items():
            bad = np.flatnonzero(~np.isfinite(value))
            if len(bad):
                raise ValueError(f"{where}: {key} must be finite, got {value[bad[0]]} in {label(bad[0])}")
        try:
            self._check(stats, label)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            derived = self._derived(stats)
        for key, value in derived.items():
            bad = np.flatnonzero(~np.isfinite(value))
            if len(bad):
                raise ValueError(
                    f"{where}: the statistics of {label(bad[0])} ({_describe(stats, bad[0])}) give {key} = "
                    f"{value[bad[0]]}, which float64 cannot represent"
                )
        for key, value in {**stats, **derived}.items():
            setattr(self, key, value)
        self.n_features_in_ = n_features
        self.feature_names_ = names
        self.n_samples_seen_ = n_samples
        return self

    def transform(self, x: Any, columns: Any = None) -> Any:
        """Scale `x` with the fitted statistics.

        Arguments:
            x: `(..., F)` array (or `(N,)`, one column), a Series or a DataFrame.
            columns: which fitted columns the last axis of `x` holds: integer indices,
                or names when fit on a DataFrame; a single one means one column.
                Default all `n_features_in_` columns, or, for a DataFrame and a scaler
                that has names, the DataFrame's own column names.

        Returns:
            The scaled values, same shape and type as `x` (arrays, Series, DataFrame).

        Raises:
            NotFittedError: before `fit`.
            ValueError: the last axis of `x` does not match the number of columns.
        """
        return self._apply(x, columns, self._forward, "transform")

    def inverse_transform(self, x: Any, columns: Any = None) -> Any:
        """Map scaled values back to original units; arguments as in `transform`.

        Use `columns` for model outputs that hold only the target columns, e.g.
        `scaler.inverse_transform(y_pred, columns=["temp_max"])` for `y_pred` of shape
        `(samples, 1)` or `(samples, horizon, 1)`.
        """
        return self._apply(x, columns, self._backward, "inverse_transform")

    def fit_transform(self, x: Any) -> Any:
        """`fit(x)` then `transform(x)`."""
        return self.fit(x).transform(x)

    def subset(self: _ScalerT, columns: Any) -> _ScalerT:
        """A new fitted scaler of the same kind that holds only `columns`.

        Arguments:
            columns: integer indices or fitted names, as in `transform`.
        """
        self._check_fitted("subset")
        cols = self._positions(columns)
        new = type(self)(**self._config())
        stats = {key: getattr(self, key)[cols].copy() for key in self._stat_names}
        names = None if self.feature_names_ is None else [self.feature_names_[i] for i in cols]
        return new._install(stats, names, cast(int, self.n_samples_seen_), "subset")  # fitted: checked above

    def get_state(self) -> dict[str, Any]:
        """The configuration and statistics as a dict of strings, numbers and float64
        arrays, e.g. for `np.savez(path, **state)` without pickle; see `from_state`."""
        state: dict[str, Any] = {"class": type(self).__name__}
        state.update({key: np.asarray(value, dtype=np.float64) for key, value in self._config().items()})
        if self.n_features_in_ is not None:
            for key in self._stat_names:
                state[key] = getattr(self, key).copy()
            state["n_samples_seen_"] = int(cast(int, self.n_samples_seen_))  # set with n_features_in_
            if self.feature_names_ is not None:
                state["feature_names_"] = list(self.feature_names_)
        return state

    @classmethod
    def from_state(cls: type[_ScalerT], state: dict[str, Any]) -> _ScalerT:
        """Rebuild a scaler from `get_state()`; values may also be 0-d or string arrays,
        as `np.load` returns them, or lists, as JSON returns them.

        Raises:
            ValueError: a state that is not a dict, is for another class, misses a
                statistic, or holds statistics that are not finite numbers, disagree in
                length, or contradict each other (a negative variance, `data_min_ >
                data_max_`); the message names the key and the column.
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"scaler state must be a dict (from get_state()), got {type(state).__name__}")
        kind = str(np.asarray(state.get("class", cls.__name__)))
        if kind != cls.__name__:
            raise ValueError(f"state is for {kind}, not {cls.__name__}")
        config = {key: _plain(state[key]) for key in cls()._config() if key in state}
        scaler = cls(**config)
        present = [key for key in cls._stat_names if key in state]
        if not present and "n_samples_seen_" not in state:
            return scaler  # saved before fit (a fitted state always has n_samples_seen_)
        missing = [key for key in cls._stat_names + ("n_samples_seen_",) if key not in state]
        if missing:
            raise ValueError(f"{cls.__name__} state is missing {missing}")
        where = f"{cls.__name__} state"
        stats = {key: _statistic(state[key], key, where) for key in cls._stat_names}
        names = state.get("feature_names_")
        if names is not None:
            try:
                names = [str(name) for name in np.asarray(names, dtype=object).reshape(-1).tolist()]
            except ValueError:
                raise ValueError(f"{where}: feature_names_ must be a list of strings, got {names!r:.80}") from None
        n_samples = _sample_count(state["n_samples_seen_"], where)
        return scaler._install(stats, names, n_samples, where)

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self._config().items())
        return f"{type(self).__name__}({args})"

    # -- helpers ------------------------------------------------------------------
    def _check_fitted(self, what: str) -> None:
        if self.n_features_in_ is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(train_data) before {what}")

    def _positions(self, columns: Any) -> list[int]:
        """Integer positions of `columns` (indices or fitted names) among the fitted columns."""
        n = cast(int, self.n_features_in_)  # callers check that the scaler is fitted
        if isinstance(columns, (str, bytes)) or not np.iterable(columns):
            columns = [columns]
        positions: list[int] = []
        for key in list(columns):
            if isinstance(key, str):
                if self.feature_names_ is None:
                    raise ValueError(f"column {key!r} given by name, but this scaler was fit without column names; use integer indices")
                if key not in self.feature_names_:
                    raise ValueError(f"no fitted column {key!r}; the columns are {self.feature_names_}")
                positions.append(self.feature_names_.index(key))
            elif isinstance(key, numbers.Integral) and not isinstance(key, bool) and -n <= int(key) < n:
                positions.append(int(key) % n)
            else:
                raise ValueError(f"column {key!r} is not an index in range({-n}, {n}) or a fitted column name")
        if not positions:
            raise ValueError("columns must name at least one column, got an empty list")
        return positions

    def _apply(self, x: Any, columns: Any, function: Callable[[NDArray[Any], list[int]], NDArray[Any]],
               what: str) -> Any:
        self._check_fitted(what)
        values, names, wrap = _read(x, what)
        if columns is None and names is not None and self.feature_names_ is not None:
            columns = names  # a DataFrame is matched to the fitted columns by name
        cols = list(range(cast(int, self.n_features_in_))) if columns is None else self._positions(columns)
        if values.shape[-1] != len(cols):
            raise ValueError(
                f"{what} expected {len(cols)} feature column(s) on the last axis, "
                f"got {values.shape[-1]} (input shape {values.shape})"
            )
        dtype = float_dtype(values.dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, by column
            out = function(values.astype(np.float64), cols).astype(dtype, copy=False)
        finite = np.isfinite(out)
        if not finite.all():
            # NaN that arrived stays NaN (as in make_windows); inf made here is refused.
            made = (~finite & np.isfinite(values)).reshape(-1, values.shape[-1])
            if made.any():
                row, column = np.argwhere(made)[0]
                raise ValueError(
                    f"{what}: {int(made.sum())} finite value(s) in {_labeller(self.feature_names_)(cols[column])} "
                    f"fall outside the {dtype} range after scaling (the first: "
                    f"{values.reshape(-1, values.shape[-1])[row, column]!r}); they lie too far from the "
                    f"fitted statistics ({_describe(self._stats(), cols[column])})"
                )
        return wrap(out)

    def _stats(self) -> dict[str, NDArray[Any]]:
        return {key: getattr(self, key) for key in self._stat_names}


def _safe_scale(spread: NDArray[Any], constant: NDArray[Any]) -> NDArray[Any]:
    """`spread` with constant columns set to 1, so they are shifted but never divided by 0."""
    return np.where(constant, 1.0, spread)


class MinMaxScaler(_Scaler):
    """Scale each column linearly so that the fit data spans `feature_range`.

    `x_scaled = (x - data_min_) / data_range_ * (hi - lo) + lo`, per column (last axis).
    A constant column uses a range of 1 (it maps to `lo`), as in scikit-learn.

    Fitted attributes: `data_min_`, `data_max_`, `data_range_` (0 for a constant
    column), and scikit-learn's `scale_`, `min_` with `x_scaled = x * scale_ + min_`;
    each of shape `(n_features_in_,)`. Also `n_features_in_`, `n_samples_seen_` and
    `feature_names_` (a list of str when fit on a DataFrame, else None).

    Arguments:
        feature_range: `(lo, hi)` with `lo < hi`.

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.data import MinMaxScaler
        >>> scaler = MinMaxScaler().fit(np.array([[0.0, 10.0], [5.0, 30.0]]))
        >>> scaler.transform(np.array([[5.0, 20.0]]))
        array([[1. , 0.5]])
        >>> scaler.inverse_transform(np.array([[0.5]]), columns=[1])
        array([[20.]])
    """

    _stat_names = ("data_min_", "data_max_")
    # set by `_install` from the statistics and `_derived`
    data_min_: NDArray[Any]
    data_max_: NDArray[Any]
    data_range_: NDArray[Any]
    _range: NDArray[Any]
    scale_: NDArray[Any]
    min_: NDArray[Any]

    def __init__(self, feature_range: tuple[float, float] = (0, 1)) -> None:
        super().__init__()
        try:
            lo, hi = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            raise ValueError(f"feature_range must be a pair (lo, hi), got {feature_range!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"feature_range must satisfy lo < hi (both finite), got {feature_range!r}")
        self.feature_range = (lo, hi)

    def _config(self) -> dict[str, Any]:
        return {"feature_range": self.feature_range}

    def _compute(self, rows: NDArray[Any], label: _Label) -> dict[str, NDArray[Any]]:
        return {"data_min_": rows.min(axis=0), "data_max_": rows.max(axis=0)}

    def _check(self, stats: dict[str, NDArray[Any]], label: _Label) -> None:
        low, high = stats["data_min_"], stats["data_max_"]
        flipped = np.flatnonzero(low > high)
        if len(flipped):
            i = flipped[0]
            raise ValueError(f"data_min_ must be <= data_max_, got {low[i]} > {high[i]} in {label(i)}")
        with np.errstate(over="ignore"):
            overflow = np.flatnonzero(~np.isfinite(high - low))
        if len(overflow):
            i = overflow[0]
            raise ValueError(
                f"the range of {label(i)} (max - min = {high[i]} - {low[i]}) overflows float64; "
                "divide the column by a large constant first"
            )

    def _derived(self, stats: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        lo, hi = self.feature_range
        data_range = stats["data_max_"] - stats["data_min_"]
        spread = _safe_scale(data_range, data_range == 0)
        scale = (hi - lo) / spread
        return {"data_range_": data_range, "_range": spread, "scale_": scale, "min_": lo - stats["data_min_"] * scale}

    def _forward(self, x: NDArray[Any], cols: list[int]) -> NDArray[Any]:
        lo, hi = self.feature_range
        # Dividing by the range (not multiplying by scale_) maps the fit min and max exactly to lo and hi.
        scaled: NDArray[Any] = (x - self.data_min_[cols]) / self._range[cols] * (hi - lo) + lo
        return scaled

    def _backward(self, x: NDArray[Any], cols: list[int]) -> NDArray[Any]:
        lo, hi = self.feature_range
        restored: NDArray[Any] = (x - lo) / (hi - lo) * self._range[cols] + self.data_min_[cols]
        return restored


class StandardScaler(_Scaler):
    """Scale each column to zero mean and unit variance on the fit data.

    `x_scaled = (x - mean_) / scale_` per column (last axis), with `scale_` the
    population standard deviation (ddof=0); a constant column gets `scale_ = 1`.

    Fitted attributes: `mean_`, `var_`, `scale_`, each `(n_features_in_,)`; also
    `n_features_in_`, `n_samples_seen_` and `feature_names_` (as in `MinMaxScaler`).

    Examples:
        >>> import numpy as np
        >>> from scratchlstm.data import StandardScaler
        >>> StandardScaler().fit_transform(np.array([1.0, 3.0]))
        array([-1.,  1.])
    """

    _stat_names = ("mean_", "var_")
    # set by `_install` from the statistics and `_derived`
    mean_: NDArray[Any]
    var_: NDArray[Any]
    scale_: NDArray[Any]

    def _compute(self, rows: NDArray[Any], label: _Label) -> dict[str, NDArray[Any]]:
        # Divide each column by a power of two near its largest magnitude: exact in binary
        # floating point, so ordinary data gets bit for bit the plain mean and variance, while
        # sums and squares of values near the float64 limit no longer overflow on the way.
        low, high = rows.min(axis=0), rows.max(axis=0)
        _, exponent = np.frexp(np.maximum(np.abs(low), np.abs(high)))
        unit = np.ldexp(1.0, exponent)  # (F,) powers of two, 1 for an all-zero column
        unit[unit == 0] = 1.0
        scaled = rows / unit  # (N, F), magnitudes below 1
        mean, scaled_var = scaled.mean(axis=0) * unit, scaled.var(axis=0)
        var = scaled_var * unit * unit
        overflow = np.flatnonzero(~np.isfinite(var))
        if len(overflow):
            i = overflow[0]
            raise ValueError(
                f"the variance of {label(i)} (standard deviation {np.sqrt(scaled_var[i]) * unit[i]:.4g}) "
                "overflows float64; "
                "divide the column by a large constant first"
            )
        # Exact constant test: the summed mean and var of a constant column can be off by
        # rounding; pinning them makes such a column transform to exactly 0.
        constant = low == high
        underflow = np.flatnonzero((var == 0) & ~constant)
        if len(underflow):  # a spread below 1e-154 squares to 0: it would pass as constant
            i = underflow[0]
            raise ValueError(
                f"the variance of {label(i)} (standard deviation {np.sqrt(scaled_var[i]) * unit[i]:.4g}) "
                "underflows float64 to 0; multiply the column by a large constant first"
            )
        mean[constant], var[constant] = low[constant], 0.0
        return {"mean_": mean, "var_": var}

    def _check(self, stats: dict[str, NDArray[Any]], label: _Label) -> None:
        negative = np.flatnonzero(stats["var_"] < 0)
        if len(negative):
            i = negative[0]
            raise ValueError(f"var_ must be >= 0, got {stats['var_'][i]} in {label(i)}")

    def _derived(self, stats: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
        var = stats["var_"]
        return {"scale_": _safe_scale(np.sqrt(var), var == 0)}

    def _forward(self, x: NDArray[Any], cols: list[int]) -> NDArray[Any]:
        scaled: NDArray[Any] = (x - self.mean_[cols]) / self.scale_[cols]
        return scaled

    def _backward(self, x: NDArray[Any], cols: list[int]) -> NDArray[Any]:
        restored: NDArray[Any] = x * self.scale_[cols] + self.mean_[cols]
        return restored


_SCALERS = {cls.__name__: cls for cls in (MinMaxScaler, StandardScaler)}


def scaler_from_state(state: dict[str, Any]) -> MinMaxScaler | StandardScaler:
    """Rebuild whichever scaler `state` (from `get_state()`) describes, by its "class" key.

    The statistics are validated as `from_state` describes: finite, one length, a variance
    >= 0, `data_min_ <= data_max_`; anything else raises ValueError naming the key.
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"scaler state must be a dict (from get_state()), got {type(state).__name__}")
    if "class" not in state:
        raise ValueError("scaler state has no 'class' key")
    kind = str(np.asarray(state["class"]))
    if kind not in _SCALERS:
        raise ValueError(f"unknown scaler class {kind!r}; expected one of {sorted(_SCALERS)}")
    return _SCALERS[kind].from_state(state)
