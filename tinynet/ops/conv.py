"""2-D convolution as im2col + one GEMM, built from two adjoint ops.

``Im2Col`` copies every kernel-sized window of the input into a column, giving
(C·kh·kw, Ho·Wo·N); ``Col2Im`` adds columns back onto the image. Each is the other's
backward. A convolution is then ``weight (Cout, C·kh·kw) @ columns``, an ordinary matmul, so

* the input gradient is ``col2im(weight.T @ grad)``, a transposed convolution;
* the weight gradient is ``grad @ columns.T``, a correlation;

and because all of these are tinynet ops, the gradient is differentiable again (HVPs through
conv weights work).

Layout, chosen for speed (all figures measured on the shared 2-core CPU, in one process, the
variants alternating, one BLAS thread unless said otherwise):

* The columns of the whole batch sit side by side, so each of the three products is ONE large
  GEMM. The per-sample layout (N, C·kh·kw, Ho·Wo) it replaced made NumPy call BLAS once per
  sample, 64 small calls per product: conv-b (32→64, 14×14, N=64) forward+backward went from
  96 to 78 ms (conv-d: 292 to 264 ms), and from 982 to 295 ms with two BLAS threads while
  other jobs loaded the machine, where every small call waits for the second thread.
* Columns and images are batch-innermost, (C, H, W, N). A window row then spans Wo·N
  contiguous numbers instead of Wo (14 in conv-b), so im2col's copy and col2im's adds run
  over long stretches of memory: conv-b 28.5 → 25.7 ms, conv-d 116 → 108 ms and the MNIST
  CNN training step 55 → 49 ms, against channel-major (C, N, H, W).
* The product comes out (Cout, Ho, Wo, N); the result is that array seen through a
  permutation, an NCHW *view*, not a copy. Elementwise ops keep that memory order, so the next
  conv or pool, and every backward, finds its data where it wants it without copying.
"""

from __future__ import annotations

import operator
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import check_same_dtype
from tinynet.tensor import Tensor


def pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """``3`` → ``(3, 3)``; a pair stays a pair. ``name`` (``'conv2d: padding'``) heads the
    errors: TypeError for what is not an integer (``1.5``), ValueError for a wrong length."""
    try:
        items = (operator.index(value),) * 2
    except TypeError:
        try:
            items = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} "
                            f"({type(value).__name__})") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    try:
        return operator.index(items[0]), operator.index(items[1])
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} with "
                        f"{', '.join(type(v).__name__ for v in items)} items") from None


class Im2Col(Op):
    """(N, C, H, W) → (C·kh·kw, Ho·Wo·N): one column per output pixel of the whole batch."""

    saves_inputs = False

    def forward(self, x):
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel, self.stride, self.padding, self.dilation
        xp = backend.get_array_module(x)
        c = x.shape[1]
        x = x.transpose(1, 2, 3, 0)  # batch-innermost: (C, H, W, N), copied below if not yet so
        x = xp.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0))) if ph or pw else xp.ascontiguousarray(x)
        span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
        windows = backend.sliding_window_view(x, span, axis=(1, 2))[:, ::sh, ::sw, :, ::dh, ::dw]
        return windows.transpose(0, 4, 5, 1, 2, 3).reshape(c * kh * kw, -1)

    def backward(self, g):
        return (Col2Im.apply(g, image_shape=self.inputs[0].shape, kernel=self.kernel,
                             stride=self.stride, padding=self.padding, dilation=self.dilation),)


class Col2Im(Op):
    """(C·kh·kw, Ho·Wo·N) → (N, C, H, W), adding overlapping windows: the adjoint of Im2Col.

    One strided slice-add per kernel offset (kh·kw of them): on a 2-core CPU this measured
    1.5-3.4x faster than a single ``np.add.at`` scatter. The image is built batch-innermost,
    (C, H, W, N), and returned as an NCHW view of it.
    """

    saves_inputs = False

    def forward(self, cols):
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel, self.stride, self.padding, self.dilation
        n, c, h, w = self.image_shape
        ho, wo = output_size((h, w), self.kernel, self.stride, self.padding, self.dilation)
        cols = cols.reshape(c, kh, kw, ho, wo, n)
        xp = backend.get_array_module(cols)
        image = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                top, left = i * dh, j * dw
                image[:, top:top + sh * (ho - 1) + 1:sh, left:left + sw * (wo - 1) + 1:sw] += \
                    cols[:, i, j]
        return image[:, ph:ph + h, pw:pw + w].transpose(3, 0, 1, 2)

    def backward(self, g):
        return (Im2Col.apply(g, kernel=self.kernel, stride=self.stride, padding=self.padding,
                             dilation=self.dilation),)


def output_size(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    return tuple((size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
                 for i in range(2))


def check_arguments(op: str, kernel: tuple[int, int], stride: tuple[int, int],
                    padding: tuple[int, int], dilation: tuple[int, int]) -> None:
    """ValueError unless stride, dilation and kernel are >= 1 and padding >= 0."""
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(kernel) < 1:
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be >= 1, kernel "
                         f"{kernel} >= 1 and padding {padding} >= 0")


def check_window(op: str, input: Tensor, kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int]) -> None:
    if input.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W), got {tuple(input.shape)}")
    check_arguments(op, kernel, stride, padding, dilation)
    for i, axis in enumerate(("height", "width")):
        span = dilation[i] * (kernel[i] - 1) + 1
        if span > input.shape[2 + i] + 2 * padding[i]:
            raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) spans {span} in "
                             f"{axis}, larger than the padded input {tuple(input.shape)} with "
                             f"padding {padding}")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1) -> Tensor:
    """2-D cross-correlation over NCHW input, as ``torch.nn.functional.conv2d`` (groups=1).

    >>> x = tn.randn(8, 3, 32, 32); w = tn.randn(16, 3, 3, 3)
    >>> F.conv2d(x, w, padding=1).shape
    (8, 16, 32, 32)
    """
    stride, padding, dilation = pair(stride, "conv2d: stride"), pair(padding, "conv2d: padding"), \
        pair(dilation, "conv2d: dilation")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be (C_out, C_in, kh, kw), got {tuple(weight.shape)}")
    kernel = tuple(weight.shape[2:])
    check_window("conv2d", input, kernel, stride, padding, dilation)
    check_same_dtype("conv2d", input=input, weight=weight, bias=bias)
    if input.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: input {tuple(input.shape)} has {input.shape[1]} channels but "
                         f"weight {tuple(weight.shape)} expects {weight.shape[1]}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"conv2d: bias has shape {tuple(bias.shape)}, expected "
                         f"({weight.shape[0]},) for weight {tuple(weight.shape)}")
    n, (ho, wo) = input.shape[0], output_size(input.shape[2:], kernel, stride, padding, dilation)
    c_out = weight.shape[0]
    cols = Im2Col.apply(input, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    out = (weight.reshape(c_out, -1) @ cols).reshape(c_out, ho, wo, n).permute(3, 0, 1, 2)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, dilation: Any = 1) -> Tensor:
    """The adjoint of ``conv2d``, as ``torch.nn.functional.conv_transpose2d`` (groups=1).

    ``weight`` is (C_in, C_out, kh, kw): the same tensor a conv2d from C_out to C_in would use.
    """
    op = "conv_transpose2d"
    stride, padding = pair(stride, f"{op}: stride"), pair(padding, f"{op}: padding")
    dilation = pair(dilation, f"{op}: dilation")
    output_padding = pair(output_padding, f"{op}: output_padding")
    if input.ndim != 4 or weight.ndim != 4 or input.shape[1] != weight.shape[0]:
        raise ValueError(f"{op}: input {tuple(input.shape)} needs shape (N, C_in, H, W) "
                         f"with C_in = weight.shape[0], weight is {tuple(weight.shape)}")
    n, c_in, h, w = input.shape
    c_out, kh, kw = weight.shape[1:]
    check_arguments(op, (kh, kw), stride, padding, dilation)
    check_same_dtype(op, input=input, weight=weight, bias=bias)
    if not all(0 <= extra < step for extra, step in zip(output_padding, stride)):
        raise ValueError(f"{op}: output_padding {output_padding} must be >= 0 and smaller "
                         f"than stride {stride}")
    size = tuple((s - 1) * stride[i] - 2 * padding[i] + dilation[i] * ((kh, kw)[i] - 1)
                 + output_padding[i] + 1 for i, s in enumerate((h, w)))
    if min(size) < 1:
        raise ValueError(f"{op}: input {tuple(input.shape)} with weight {tuple(weight.shape)}, stride "
                         f"{stride}, padding {padding} and dilation {dilation} gives an output of "
                         f"{size[0]}x{size[1]}, too small: reduce the padding")
    # one GEMM over the whole batch, the columns in Col2Im's (C_out·kh·kw, H·W·N) layout
    cols = weight.reshape(c_in, -1).mT @ input.permute(1, 2, 3, 0).reshape(c_in, h * w * n)
    out = Col2Im.apply(cols, image_shape=(n, c_out) + size, kernel=(kh, kw), stride=stride,
                       padding=padding, dilation=dilation)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)
