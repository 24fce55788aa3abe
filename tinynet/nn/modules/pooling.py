"""``MaxPool2d`` and ``AvgPool2d``: the pooling functions as layers."""

from __future__ import annotations

from tinynet.nn import functional as F
from tinynet.nn.modules.module import Module
from tinynet.tensor import Tensor

Size2 = int | tuple[int, int]


class _Pool2d(Module):
    def __init__(self, kernel_size: Size2, stride: Size2 | None = None, padding: Size2 = 0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over each window; ``stride`` defaults to ``kernel_size``.

    >>> nn.MaxPool2d(2)(tn.randn(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over each window (zero padding counts towards the mean, as in PyTorch)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding)
