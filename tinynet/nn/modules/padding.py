"""Padding layers, as PyTorch's: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``,
``ReplicationPad`` and ``CircularPad``, each in 1-, 2- and 3-D forms; ``F.pad`` as a layer.

``padding`` is an int (every side of every padded dim) or a tuple of (before, after) pairs
starting from the last dim, as ``F.pad`` takes it.

>>> nn.ZeroPad2d((1, 1, 2, 0))(tn.ones(1, 1, 2, 2)).shape
tinynet.Size([1, 1, 4, 4])
"""

from __future__ import annotations


from tinynet.nn import functional as F
from tinynet.nn.modules.module import Module
from tinynet.tensor import Tensor


class _PadNd(Module):
    """A padding layer: ``dims`` padded dims, ``mode`` as F.pad's."""

    dims = 2
    mode = "constant"

    def __init__(self, padding: int | tuple[int, ...], value: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.dims)
        padding = tuple(padding)
        if len(padding) != 2 * self.dims or not all(isinstance(p, int) for p in padding):
            raise ValueError(f"{name}: padding must be an int or a tuple of {2 * self.dims} ints "
                             f"(before and after, from the last dim), got {padding!r}")
        self.padding, self.value = padding, float(value)

    def forward(self, input: Tensor) -> Tensor:
        if self.mode == "constant":
            return F.pad(input, self.padding, value=self.value)
        return F.pad(input, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__(padding, 0.0)


class _ReflectionPadNd(_ZeroPadNd):
    mode = "reflect"


class _ReplicationPadNd(_ZeroPadNd):
    mode = "replicate"


class _CircularPadNd(_ZeroPadNd):
    mode = "circular"


class ZeroPad1d(_ZeroPadNd):
    """Zeros around the input's last 1 dim."""

    dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Zeros around the input's last 2 dims."""

    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Zeros around the input's last 3 dims."""

    dims = 3


class ConstantPad1d(_ConstantPadNd):
    """``value`` around the input's last 1 dim."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """``value`` around the input's last 2 dims."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """``value`` around the input's last 3 dims."""

    dims = 3


class ReflectionPad1d(_ReflectionPadNd):
    """The input's last 1 dim mirrored at the edges (the edge not repeated)."""

    dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    """The input's last 2 dims mirrored at the edges (the edge not repeated)."""

    dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """The input's last 3 dims mirrored at the edges (the edge not repeated)."""

    dims = 3


class ReplicationPad1d(_ReplicationPadNd):
    """The input's last 1 dim padded with copies of the edge."""

    dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    """The input's last 2 dims padded with copies of the edge."""

    dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """The input's last 3 dims padded with copies of the edge."""

    dims = 3


class CircularPad1d(_CircularPadNd):
    """The input's last 1 dim wrapped around."""

    dims = 1


class CircularPad2d(_CircularPadNd):
    """The input's last 2 dims wrapped around."""

    dims = 2


class CircularPad3d(_CircularPadNd):
    """The input's last 3 dims wrapped around."""

    dims = 3
