"""2-D max and average pooling over strided views, with no argmax and no loop over pixels.

A k×k pool visits the input through k·k strided views, one per kernel offset: view (i, j)
holds the element at offset (i, j) of every window. Pooling combines those views;
its gradient adds the output gradient back through the same views.

``WindowGather`` (views → output) and ``WindowScatter`` (output → views) are adjoint ops, each
the other's backward. ``winner`` picks one offset per output element (max pooling) or is
None (average pooling: every offset, weight 1).
"""

from __future__ import annotations

from typing import Any

from tinynet import backend
from tinynet.autograd import Function
from tinynet.ops.conv import check_window, output_size, pair
from tinynet.tensor import Tensor


def _views(padded: Any, kernel, stride, out_hw):
    """Yield (offset index, view) for every kernel offset of a padded (N, C, H, W) array."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, padded[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


def _pad(x: Any, padding, value: float) -> Any:
    ph, pw = padding
    if not (ph or pw):
        return x
    xp = backend.get_array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


class MaxPool2d(Function):
    """Max over each window. At ties the first offset (row-major) takes the gradient."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        views = _views(_pad(x, self.padding, -xp.inf), self.kernel, self.stride, self.out_hw)
        _, out = next(views)
        out = out.copy()
        self.winner = xp.zeros(out.shape, dtype=xp.int16)
        for k, view in views:
            better = view > out
            xp.maximum(out, view, out=out)
            self.winner[better] = k
        return out

    def backward(self, g):
        return (WindowScatter.apply(g, winner=self.winner, image_shape=self.inputs[0].shape,
                                    kernel=self.kernel, stride=self.stride, padding=self.padding),)


class WindowGather(Function):
    """Sum over the kernel offsets of each window (only the winner's, when ``winner`` is set)."""

    def forward(self, x):
        ho_wo = output_size(x.shape[2:], self.kernel, self.stride, self.padding)
        xp = backend.get_array_module(x)
        out = xp.zeros(x.shape[:2] + ho_wo, dtype=x.dtype)
        for k, view in _views(_pad(x, self.padding, 0), self.kernel, self.stride, ho_wo):
            out += view if self.winner is None else view * (self.winner == k)
        return out

    def backward(self, g):
        return (WindowScatter.apply(g, winner=self.winner, image_shape=self.inputs[0].shape,
                                    kernel=self.kernel, stride=self.stride, padding=self.padding),)


class WindowScatter(Function):
    """Add each output gradient back onto its window (onto the winner only, when set)."""

    def forward(self, g):
        xp = backend.get_array_module(g)
        n, c, h, w = self.image_shape
        (ph, pw) = self.padding
        image = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=g.dtype)
        for k, view in _views(image, self.kernel, self.stride, g.shape[2:]):
            view += g if self.winner is None else g * (self.winner == k)
        return image[:, :, ph:ph + h, pw:pw + w]

    def backward(self, gg):
        return (WindowGather.apply(gg, winner=self.winner, kernel=self.kernel, stride=self.stride,
                                   padding=self.padding),)


def _pool_args(op: str, input: Tensor, kernel_size: Any, stride: Any, padding: Any):
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    check_window(op, input, kernel, stride, padding, (1, 1))
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    return kernel, stride, padding


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max over each ``kernel_size`` window; ``stride`` defaults to the kernel size.

    >>> F.max_pool2d(tn.randn(1, 1, 4, 4), 2).shape
    (1, 1, 2, 2)
    """
    kernel, stride, padding = _pool_args("max_pool2d", input, kernel_size, stride, padding)
    out_hw = output_size(input.shape[2:], kernel, stride, padding)
    return MaxPool2d.apply(input, kernel=kernel, stride=stride, padding=padding, out_hw=out_hw)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Mean over each window; zero padding counts towards the mean (PyTorch's default)."""
    kernel, stride, padding = _pool_args("avg_pool2d", input, kernel_size, stride, padding)
    total = WindowGather.apply(input, winner=None, kernel=kernel, stride=stride, padding=padding)
    return total / (kernel[0] * kernel[1])
