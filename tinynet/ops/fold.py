"""``unfold`` (im2col) and ``fold`` (col2im), as PyTorch's: every kernel-sized window of an
image laid out as one column, and the columns added back onto an image.

The two are adjoint linear maps, each the other's backward, so gradients of every order come
from the pair. ``unfold`` copies each kernel offset's strided view of the padded image;
``fold`` adds each offset's rows back onto such a view. (docs/conv.md builds a convolution on
exactly this pair.)

>>> F.unfold(tn.randn(1, 3, 4, 4), kernel_size=2).shape     # 3·2·2 rows, 3·3 windows
tinynet.Size([1, 12, 9])
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.conv import pair
from tinynet.tensor import Tensor


class Sliding(NamedTuple):
    """Where the windows lie: the arguments of unfold/fold, each a pair."""

    kernel: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int]
    stride: tuple[int, int]

    def blocks(self, size: tuple[int, int]) -> tuple[int, int]:
        """How many windows fit along each side of an image of ``size``."""
        return tuple((size[i] + 2 * self.padding[i] - self.dilation[i] * (self.kernel[i] - 1) - 1)
                     // self.stride[i] + 1 for i in range(2))

    def views(self, padded: Any, blocks: tuple[int, int]):
        """(kernel offset, strided view of the padded (N, C, Hp, Wp) image) for every offset."""
        (kh, kw), (dh, dw), (sh, sw), (bh, bw) = self.kernel, self.dilation, self.stride, blocks
        for i in range(kh):
            for j in range(kw):
                yield i * kw + j, padded[:, :, i * dh:i * dh + sh * (bh - 1) + 1:sh,
                                         j * dw:j * dw + sw * (bw - 1) + 1:sw]


class Im2Col(Op):
    """(N, C, H, W) → (N, C·kh·kw, L): row c·kh·kw + offset holds that offset of every window."""

    saves_inputs = False  # linear: the backward needs only the shapes

    def forward(self, x):
        xp, sliding = backend.get_array_module(x), self.sliding
        n, c, h, w = x.shape
        self.size = (h, w)  # for the backward: the inputs are not kept
        (ph, pw), blocks = sliding.padding, sliding.blocks((h, w))
        padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype) if ph or pw else x
        if ph or pw:
            padded[:, :, ph:ph + h, pw:pw + w] = x
        columns = xp.empty((n, c, sliding.kernel[0] * sliding.kernel[1]) + blocks, dtype=x.dtype)
        for k, view in sliding.views(padded, blocks):
            columns[:, :, k] = view
        return columns.reshape(n, -1, blocks[0] * blocks[1])

    def backward(self, g):
        return (Col2Im.apply(g, size=self.size, sliding=self.sliding),)


class Col2Im(Op):
    """(N, C·kh·kw, L) → (N, C, H, W), H and W from ``size``: each column added back onto
    its window (overlapping windows add up)."""

    saves_inputs = False

    def forward(self, columns):
        xp, sliding, (h, w) = backend.get_array_module(columns), self.sliding, self.size
        (ph, pw), blocks = sliding.padding, sliding.blocks(self.size)
        n, offsets = columns.shape[0], sliding.kernel[0] * sliding.kernel[1]
        columns = columns.reshape((n, -1, offsets) + blocks)
        padded = xp.zeros((n, columns.shape[1], h + 2 * ph, w + 2 * pw), dtype=columns.dtype)
        for k, view in sliding.views(padded, blocks):
            view += columns[:, :, k]
        return padded[:, :, ph:ph + h, pw:pw + w]

    def backward(self, g):
        return (Im2Col.apply(g, sliding=self.sliding),)


def _sliding(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> Sliding:
    sliding = Sliding(pair(kernel_size, f"{op}: kernel_size"), pair(dilation, f"{op}: dilation"),
                      pair(padding, f"{op}: padding"), pair(stride, f"{op}: stride"))
    for name, values, least in (("kernel_size", sliding.kernel, 1), ("dilation", sliding.dilation, 1),
                                ("padding", sliding.padding, 0), ("stride", sliding.stride, 1)):
        if min(values) < least:
            raise ValueError(f"{op}: {name} must be >= {least}, got {values}")
    return sliding


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Every ``kernel_size`` window of (N, C, H, W) (or unbatched (C, H, W)) input as a column:
    (N, C·kh·kw, L), L the number of windows."""
    op = "unfold"
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: Input Error: Only 3D or 4D input Tensors are supported (got "
                           f"{input.ndim}D)")
    sliding = _sliding(op, kernel_size, dilation, padding, stride)
    x = input if input.ndim == 4 else input.unsqueeze(0)
    if min(sliding.blocks(tuple(x.shape[2:]))) < 1:
        raise RuntimeError(f"{op}: no {sliding.kernel} window (dilation {sliding.dilation}) fits "
                           f"in the input of shape {tuple(input.shape)} padded by "
                           f"{sliding.padding}")
    out = Im2Col.apply(x, sliding=sliding)
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """The columns of (N, C·kh·kw, L) (or unbatched (C·kh·kw, L)) added back onto an image of
    ``output_size``: (N, C, H, W). ``fold(unfold(x))`` counts each pixel once per window
    holding it."""
    op = "fold"
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Input Error: Only unbatched (2D) or batched (3D) input Tensors "
                           f"are supported (got {input.ndim}D)")
    sliding = _sliding(op, kernel_size, dilation, padding, stride)
    size = pair(output_size, f"{op}: output_size")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    offsets = sliding.kernel[0] * sliding.kernel[1]
    if x.shape[1] % offsets:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={sliding.kernel}.")
    blocks = sliding.blocks(size)
    if min(blocks) < 1 or x.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={sliding.kernel}, dilation="
                           f"{sliding.dilation}, padding={sliding.padding}, stride="
                           f"{sliding.stride}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={x.shape[2]}.")
    out = Col2Im.apply(x, size=size, sliding=sliding)
    return out if input.ndim == 3 else out.squeeze(0)
