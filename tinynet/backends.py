"""``tn.backends``: the flags PyTorch programs set or query, with their meaning on NumPy/CuPy.

tinynet has no MPS (Apple GPU) backend and does not use cuDNN; the cuDNN flags are accepted so that
programs setting them for reproducibility run unchanged (NumPy's and CuPy's results do not depend
on them).
"""

from __future__ import annotations


class mps:
    """Apple's Metal backend: never available in tinynet."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class cudnn:
    """cuDNN's flags, kept for programs that set them; tinynet's convolutions don't use cuDNN."""

    enabled = True
    benchmark = False
    deterministic = False

    @staticmethod
    def is_available() -> bool:
        return False
