"""One look for every figure: matplotlib without a screen, readable sizes, a shared palette."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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
