"""The pooling functions as layers: max, average, adaptive and power-average (``LPPool``) in
1-D, 2-D and 3-D, and max-unpooling in 1-D and 2-D."""

from __future__ import annotations

from collections.abc import Sequence

from tinynet.nn import functional as F
from tinynet.nn.modules.module import Module
from tinynet.ops.conv import pair, single
from tinynet.tensor import Tensor

Size2 = int | tuple[int, int]


class MaxPool2d(Module):
    """Max over each window; ``stride`` defaults to ``kernel_size``. Input (N, C, H, W) or
    (C, H, W); the arguments are those of ``F.max_pool2d``.

    >>> nn.MaxPool2d(2)(tn.randn(1, 3, 8, 8)).shape
    tinynet.Size([1, 3, 4, 4])
    """

    def __init__(self, kernel_size: Size2, stride: Size2 | None = None, padding: Size2 = 0,
                 dilation: Size2 = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    pool = staticmethod(F.max_pool2d)

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return self.pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                         self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxUnpool2d(Module):
    """Puts each value back where ``MaxPool2d(..., return_indices=True)`` found it, zeros
    elsewhere; the arguments are those of ``F.max_unpool2d``.

    >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    >>> unpool(*pool(tn.randn(1, 3, 8, 8))).shape
    tinynet.Size([1, 3, 8, 8])
    """

    unpool = staticmethod(F.max_unpool2d)

    def __init__(self, kernel_size: Size2, stride: Size2 | None = None,
                 padding: Size2 = 0) -> None:
        super().__init__()  # pairs (1-tuples in 1-D), as PyTorch keeps and prints them
        self.kernel_size = self.sizes(kernel_size)
        self.stride = self.sizes(kernel_size if stride is None else stride)
        self.padding = self.sizes(padding)

    @staticmethod
    def sizes(value: Size2) -> tuple[int, ...]:
        """A size as this layer keeps it: a pair."""
        return pair(value, "MaxUnpool2d: sizes")

    def forward(self, input: Tensor, indices: Tensor,
                output_size: Sequence[int] | None = None) -> Tensor:
        return self.unpool(input, indices, self.kernel_size, self.stride, self.padding,
                           output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over each window (zero padding counts towards the mean unless
    ``count_include_pad=False``); the arguments are those of ``F.avg_pool2d``."""

    def __init__(self, kernel_size: Size2, stride: Size2 | None = None, padding: Size2 = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` whatever the input's (an int, a pair, None
    keeps that side): ``AdaptiveAvgPool2d(1)`` is global average pooling.

    >>> nn.AdaptiveAvgPool2d((2, 3))(tn.randn(4, 8, 7, 9)).shape
    tinynet.Size([4, 8, 2, 3])
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class MaxPool1d(MaxPool2d):
    """Max over each window of a sequence (N, C, L) or (C, L); the arguments are those of
    ``F.max_pool1d``.

    >>> nn.MaxPool1d(2)(tn.randn(1, 3, 8)).shape
    tinynet.Size([1, 3, 4])
    """

    pool = staticmethod(F.max_pool1d)


class MaxUnpool1d(MaxUnpool2d):
    """Puts each value of a sequence back where ``MaxPool1d(..., return_indices=True)`` found
    it, zeros elsewhere; the arguments are those of ``F.max_unpool1d``."""

    unpool = staticmethod(F.max_unpool1d)

    @staticmethod
    def sizes(value: int | tuple[int]) -> tuple[int, ...]:
        """A size as this layer keeps it: a 1-tuple."""
        return _one(value, "MaxUnpool1d")


class AvgPool1d(AvgPool2d):
    """Mean over each window of a sequence (N, C, L) or (C, L); the arguments are those of
    ``F.avg_pool1d``, each size kept as a 1-tuple, as PyTorch prints them."""

    def __init__(self, kernel_size: int | tuple[int], stride: int | tuple[int] | None = None,
                 padding: int | tuple[int] = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        stride = None if stride is None else _one(stride, "AvgPool1d")
        super().__init__(_one(kernel_size, "AvgPool1d"), stride, _one(padding, "AvgPool1d"),
                         ceil_mode, count_include_pad)

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


def _one(value: int | tuple[int], layer: str) -> tuple[int]:
    return (single(value, f"{layer}: sizes"),)


class AdaptiveAvgPool1d(Module):
    """Average pooling of (N, C, L) or (C, L) to ``output_size`` steps whatever L is.

    >>> nn.AdaptiveAvgPool1d(4)(tn.randn(2, 3, 10)).shape
    tinynet.Size([2, 3, 4])
    """

    def __init__(self, output_size: int) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed ``output_size`` whatever the input's (an int, a pair, None keeps
    that side); ``return_indices=True`` also returns the positions of the maxima.

    >>> nn.AdaptiveMaxPool2d((2, 3))(tn.randn(4, 8, 7, 9)).shape
    tinynet.Size([4, 8, 2, 3])
    """

    def __init__(self, output_size: int | tuple[int | None, int | None],
                 return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` steps whatever L is."""

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class LPPool2d(Module):
    """The ``norm_type``-norm of each window, (Σ xᵖ)^(1/p): ``F.lp_pool2d`` as a layer.

    >>> nn.LPPool2d(2, kernel_size=3, stride=2)(tn.randn(8, 16, 28, 28)).shape
    tinynet.Size([8, 16, 13, 13])
    """

    def __init__(self, norm_type: float, kernel_size: Size2, stride: Size2 | None = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(LPPool2d):
    """The ``norm_type``-norm of each window of a sequence: ``F.lp_pool1d`` as a layer."""

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class MaxPool3d(MaxPool2d):
    """Max over each window of an (N, C, D, H, W) or (C, D, H, W) volume; the arguments are
    those of ``F.max_pool3d``."""

    pool = staticmethod(F.max_pool3d)


class AvgPool3d(AvgPool2d):
    """Mean over each window of an (N, C, D, H, W) or (C, D, H, W) volume; the arguments are
    those of ``F.avg_pool3d``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size`` (an int, a triple,
    None keeps that side) whatever the input's size."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size`` whatever the input's
    size; ``return_indices=True`` also returns the positions of the maxima."""

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class LPPool3d(LPPool2d):
    """The ``norm_type``-norm of each window of a volume: ``F.lp_pool3d`` as a layer."""

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool3d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)
