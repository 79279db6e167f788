"""The demo's forecast-versus-actual figure (the ``plot`` extra: matplotlib, loaded only here)."""

from __future__ import annotations

from ._errors import CLIError

MATPLOTLIB_HINT = 'plotting needs matplotlib; install it with: pip install "scratchlstm[plot]"'


def require_matplotlib() -> None:
    """Fail early, before any training, when the plot extra is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CLIError(MATPLOTLIB_HINT) from None


def plot_forecast(path, dates, actual, forecasts: dict, title: str, unit: str) -> None:
    """Draw ``actual`` and each forecast against ``dates`` and save the figure to ``path``."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure on the Agg canvas: no pyplot, so no GUI backend and no global state.
    figure = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(dates, actual, color="black", linewidth=1.5, label="actual")
    for (name, values), style in zip(forecasts.items(), ("-", ":")):
        axes.plot(dates, values, linestyle=style, linewidth=1.2, label=name)
    axes.set_title(title)
    axes.set_ylabel(unit)
    axes.legend()
    axes.grid(alpha=0.3)
    try:
        figure.savefig(path, dpi=110)
    except (OSError, ValueError) as error:
        raise CLIError(f"{path}: cannot save the plot: {' '.join(str(error).split())}") from None
