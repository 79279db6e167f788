"""Forecast-versus-actual figures for ``--plot`` (the ``plot`` extra: matplotlib, loaded only here)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ._errors import CLIError

MATPLOTLIB_HINT = 'plotting needs matplotlib; install it with: pip install "scratchlstm[plot]"'


def require_matplotlib() -> None:
    """Fail early, before any training, when the plot extra is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError(MATPLOTLIB_HINT) from None


def plot_lines(path: str | os.PathLike[str], lines: Iterable[tuple[str, Any, Any, dict[str, Any]]], title: str,
               unit: str = "", xlabel: str = "") -> None:
    """Draw each of ``lines`` and save the figure to ``path``.

    Args:
        path: where the PNG (or any format matplotlib knows by the suffix) goes.
        lines: ``(label, x, y, style)`` tuples; ``style`` is a dict of matplotlib line options.
        title: the figure's title.
        unit: the y axis label.
        xlabel: the x axis label.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure on the Agg canvas: no pyplot, so no GUI backend and no global state.
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for label, x, y, style in lines:
        axes.plot(x, y, label=label, **style)
    axes.set_title(title)
    axes.set_ylabel(unit)
    axes.set_xlabel(xlabel)
    axes.legend()
    axes.grid(alpha=0.3)
    try:
        figure.savefig(path, dpi=110)
    except (OSError, ValueError) as error:
        raise CLIError(f"{path}: cannot save the plot: {' '.join(str(error).split())}") from None


def plot_forecast(path: str | os.PathLike[str], dates: Any, actual: Any, forecasts: dict[str, Any], title: str,
                  unit: str, xlabel: str = "") -> None:
    """Draw ``actual`` and each forecast against the same ``dates`` and save the figure to ``path``."""
    lines: list[tuple[str, Any, Any, dict[str, Any]]] = [
        ("actual", dates, actual, {"color": "black", "linewidth": 1.5})]
    for (name, values), style in zip(forecasts.items(), ("-", ":", "--")):
        lines.append((name, dates, values, {"linestyle": style, "linewidth": 1.2}))
    plot_lines(path, lines, title, unit, xlabel)
