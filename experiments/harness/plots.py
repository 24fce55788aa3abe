"""One look for every figure: matplotlib without a screen, readable sizes, a shared palette, and
the axis and legend helpers the studies share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

from experiments.harness.files import atomic_write_bytes  # noqa: E402

STYLE = {
    "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10, "axes.titlesize": 11,
    "axes.labelsize": 10, "legend.fontsize": 8, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False, "lines.linewidth": 1.5,
}


def new_figure(nrows: int = 1, ncols: int = 1, width: float = 6.0, height: float = 4.0,
               **kwargs: Any) -> tuple[Any, Any]:
    with plt.rc_context(STYLE):
        return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                            squeeze=True, **kwargs)


def save(fig: Any, path: Path) -> None:
    """Save as PNG atomically and close the figure (figures are never kept in memory)."""
    import io

    buffer = io.BytesIO()
    with plt.rc_context(STYLE):
        fig.tight_layout()
        fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def axes_list(axes: Any) -> list[Any]:
    """``plt.subplots``' axes as a list, whether it made one axis or an array of them."""
    return list(numpy.ravel(axes)) if isinstance(axes, numpy.ndarray) else [axes]


def plain_log_ticks(axis: Any) -> None:
    """Label a log axis at 1, 2, 3 and 5 × 10ⁿ with plain numbers (0.2, not 2×10⁻¹)."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


def readable_log_ticks(axis: Any) -> None:
    """On a log axis spanning less than three decades, ticks at 1, 2, 5 × 10^k in plain numbers
    (matplotlib's default labels such short ranges with crowded '2×10⁻¹'-style minor ticks)."""
    low, high = axis.get_view_interval()
    if axis.get_scale() != "log" or not 0 < low < high or high / low >= 1000:
        return
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def thousands_axis(axis: Any) -> None:
    """Label a logarithmic parameter-count axis 1k, 2k, 5k, 10k… instead of crowded powers of ten."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:g}k"))
    axis.set_minor_formatter(NullFormatter())


def legend_below(ax: Any, handles: list[Any] | None = None, ncol: int = 3) -> None:
    """A legend under the axes, where it cannot cover the lines."""
    handles = handles if handles is not None else ax.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper center", ncol=ncol,
              bbox_to_anchor=(0.5, -0.16), frameon=False)
