"""2-D convolution as three ops that are each other's derivatives.

A convolution ``y = conv(x, w)`` is linear in each argument, so its gradients are two more
linear maps of the same shapes:

* ``Convolution(x, w)``: the forward;
* ``ConvolutionInputGrad(g, w)``: the gradient of x, a transposed convolution (what
  ``conv_transpose2d`` computes);
* ``ConvolutionWeightGrad(x, g)``: the gradient of w, a correlation of x with g.

The backward of each is written in the other two (the derivative of a bilinear map is the map
itself with one argument swapped), so gradients of any order, Hessian-vector products through
conv weights and inputs included, come out of the same three kernels. The kernels work block
by block in the L2 cache (``conv_kernels.py``); docs/conv.md builds the same convolution the
plain way, im2col + one GEMM, as the teaching version, and the tests check the two agree.

The input is first zero-padded into the memory layout the kernels read, batch-innermost
(C, Hp, Wp, N) (``ConvolutionInput``), and the graph keeps that padded input for the weight
gradient, never the kh·kw times larger columns. Outputs are (C_out, Ho, Wo, N) in memory, seen
as NCHW: a *view*, which elementwise ops, pools and the next conv keep or read without a copy.
"""

from __future__ import annotations

import operator
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops import conv_kernels
from tinynet.ops.arithmetic import check_same_dtype
from tinynet.ops.conv_kernels import Geometry, batch_inner, out_size
from tinynet.tensor import Tensor


def pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """``3`` → ``(3, 3)``; a pair stays a pair. ``name`` (``'conv2d: padding'``) heads the
    errors: TypeError for what is not an integer (``1.5``), ValueError for a wrong length."""
    return ints(value, 2, name)  # type: ignore[return-value]


def single(value: int | tuple[int], name: str) -> int:
    """``3`` or ``(3,)`` → 3, with ``pair``'s errors: the sizes of a 1-D conv or pool."""
    return ints(value, 1, name)[0]


def ints(value: Any, count: int, name: str) -> tuple[int, ...]:
    """An int repeated ``count`` times, or a sequence of ``count`` ints, as a tuple."""
    wanted = {1: "a tuple of one int", 2: "a pair of ints"}.get(count, f"a tuple of {count} ints")
    try:
        items = (operator.index(value),) * count
    except TypeError:
        try:
            items = tuple(value)
        except TypeError:
            raise TypeError(f"{name} must be an int or {wanted}, got {value!r} "
                            f"({type(value).__name__})") from None
    if len(items) != count:
        raise ValueError(f"{name} must be an int or {wanted}, got {value!r}")
    try:
        return tuple(operator.index(item) for item in items)
    except TypeError:
        raise TypeError(f"{name} must be an int or {wanted}, got {value!r} with "
                        f"{', '.join(type(v).__name__ for v in items)} items") from None


def check_arguments(op: str, kernel: tuple[int, int], stride: tuple[int, int],
                    padding: tuple[int, ...], dilation: tuple[int, int]) -> None:
    """ValueError unless stride, dilation and kernel are >= 1 and padding >= 0."""
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(kernel) < 1:
        raise ValueError(f"{op}: stride {stride} and dilation {dilation} must be >= 1, kernel "
                         f"{kernel} >= 1 and padding {padding} >= 0")


def check_window(op: str, input: Tensor, kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, ...], dilation: tuple[int, int]) -> None:
    """The arguments' ranges, then that the (dilated) kernel fits the padded input.

    ``padding`` is (ph, pw), on both sides, or (top, bottom, left, right)."""
    check_arguments(op, kernel, stride, padding, dilation)
    sides = padding if len(padding) == 4 else (padding[0], padding[0], padding[1], padding[1])
    for i, axis in enumerate(("height", "width")):
        span = dilation[i] * (kernel[i] - 1) + 1
        if span > input.shape[-2 + i] + sides[2 * i] + sides[2 * i + 1]:
            raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) spans {span} in "
                             f"{axis}, larger than the padded input {tuple(input.shape)} with "
                             f"padding {padding}")


def batched(op: str, input: Tensor) -> tuple[Tensor, bool]:
    """(N, C, H, W) as it is, (C, H, W) as a batch of one; and whether it was unbatched."""
    if input.ndim == 4:
        return input, False
    if input.ndim == 3:
        return input.unsqueeze(0), True
    raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got "
                     f"{tuple(input.shape)}")


def _geometry(op: Op, in_shape: tuple[int, ...], out_channels: int,
              kernel: tuple[int, int]) -> Geometry:
    n, c, hp, wp = in_shape
    return Geometry(c, out_channels, op.groups, tuple(kernel), op.stride, op.dilation, (hp, wp),
                    out_size((hp, wp), kernel, op.stride, op.dilation), n)


class ConvolutionInput(Op):
    """(N, C, H, W) in any memory order → zero-padded by ``padding`` (top, bottom, left, right),
    laid out (C, Hp, Wp, N) in memory, the layout the kernels read."""

    saves_inputs = False

    def forward(self, x):
        xp = backend.get_array_module(x)
        top, bottom, left, right = self.padding
        n, c, h, w = x.shape
        out = xp.empty((c, h + top + bottom, w + left + right, n), dtype=x.dtype)
        for border in (out[:, :top], out[:, top + h:], out[:, top:top + h, :left],
                       out[:, top:top + h, left + w:]):
            border[...] = 0
        batch_inner(x, out=out[:, top:top + h, left:left + w])
        return out.transpose(3, 0, 1, 2)

    def backward(self, g):
        top, bottom, left, right = self.padding
        return (g[:, :, top:g.shape[2] - bottom, left:g.shape[3] - right],)


class BatchInner(Op):
    """The same values, stored batch-innermost ((C, H, W, N) in memory) under their (N, C, H, W)
    shape; no copy when they already are. Both gradients of a convolution read that layout, so a
    gradient arriving in another (a loss's NCHW seed, a pool's gradient) is copied once, not
    once per gradient. The gradient of a change of layout is the identity."""

    saves_inputs = False
    is_view = True  # it may share the input's memory: the two share a version counter

    def forward(self, a):
        return batch_inner(a).transpose(3, 0, 1, 2)

    def backward(self, g):
        return (g,)

    @staticmethod
    def view_strides(params, shape, strides, new_shape):
        """The same tensor in PyTorch's eyes (the layout is tinynet's own): the same strides."""
        return strides


class Convolution(Op):
    """(N, C, Hp, Wp) padded input, (C_out, C/groups, kh, kw) weight[, bias] → (N, C_out, Ho, Wo)."""

    def forward(self, x, weight, bias=None):
        geo = _geometry(self, x.shape, weight.shape[0], weight.shape[2:])
        return conv_kernels.forward(batch_inner(x), weight, bias, geo).transpose(3, 0, 1, 2)

    def backward(self, g):
        x, weight = self.inputs[:2]
        args = dict(stride=self.stride, dilation=self.dilation, groups=self.groups)
        if self.needs_input_grad[0] and self.needs_input_grad[1]:
            g = BatchInner.apply(g)
        gx = ConvolutionInputGrad.apply(g, weight, in_hw=tuple(x.shape[2:]), **args) \
            if self.needs_input_grad[0] else None
        gw = ConvolutionWeightGrad.apply(x, g, kernel=tuple(weight.shape[2:]), **args) \
            if self.needs_input_grad[1] else None
        gb = g.sum((0, 2, 3)) if len(self.inputs) == 3 and self.needs_input_grad[2] else None
        return gx, gw, gb


class ConvolutionInputGrad(Op):
    """(N, C_out, Ho, Wo) gradient, (C_out, C/groups, kh, kw) weight → (N, C, Hp, Wp): the
    gradient of a convolution's padded input (``in_hw``), a transposed convolution."""

    node_name = "ConvolutionBackward0"  # PyTorch's name for conv_transpose2d's node too

    def forward(self, g, weight):
        n, c = g.shape[0], weight.shape[1] * self.groups
        geo = _geometry(self, (n, c) + self.in_hw, weight.shape[0], weight.shape[2:])
        return conv_kernels.input_grad(batch_inner(g), weight, geo).transpose(3, 0, 1, 2)

    def backward(self, gg):
        g, weight = self.inputs
        args = dict(stride=self.stride, dilation=self.dilation, groups=self.groups)
        dg = Convolution.apply(gg, weight, **args) if self.needs_input_grad[0] else None
        dw = ConvolutionWeightGrad.apply(gg, g, kernel=tuple(weight.shape[2:]), **args) \
            if self.needs_input_grad[1] else None
        return dg, dw


class ConvolutionWeightGrad(Op):
    """(N, C, Hp, Wp) padded input, (N, C_out, Ho, Wo) gradient → (C_out, C/groups, kh, kw):
    the gradient of a convolution's weight."""

    def forward(self, x, g):
        geo = _geometry(self, x.shape, g.shape[1], self.kernel)
        return conv_kernels.weight_grad(batch_inner(x), batch_inner(g), geo)

    def backward(self, gw):
        x, g = self.inputs
        args = dict(stride=self.stride, dilation=self.dilation, groups=self.groups)
        dx = ConvolutionInputGrad.apply(g, gw, in_hw=tuple(x.shape[2:]), **args) \
            if self.needs_input_grad[0] else None
        dg = Convolution.apply(x, gw, **args) if self.needs_input_grad[1] else None
        return dx, dg


def _groups(op: str, groups: Any) -> int:
    try:
        groups = operator.index(groups)
    except TypeError:
        raise TypeError(f"{op}: groups must be an int, got {groups!r} "
                        f"({type(groups).__name__})") from None
    if groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups}")
    return groups


def _padding(op: str, padding: Any, kernel: tuple[int, int], stride: tuple[int, int],
             dilation: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, 'valid' (none) or 'same' (the output as
    large as the input; PyTorch's split: an odd total puts the extra row/column after)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair of ints, 'same' or 'valid', "
                             f"got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride {stride})")
        totals = [dilation[i] * (kernel[i] - 1) for i in range(2)]
        return totals[0] // 2, totals[0] - totals[0] // 2, totals[1] // 2, totals[1] - totals[1] // 2
    ph, pw = pair(padding, f"{op}: padding")
    return ph, ph, pw, pw


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    ``input`` is (N, C_in, H, W) or unbatched (C_in, H, W); ``weight`` (C_out, C_in/groups,
    kh, kw); ``padding`` an int, a pair, ``'same'`` or ``'valid'``. With ``groups`` > 1 the
    channels split into that many independent convolutions.

    >>> x = tn.randn(8, 3, 32, 32); w = tn.randn(16, 3, 3, 3)
    >>> F.conv2d(x, w, padding=1).shape
    tinynet.Size([8, 16, 32, 32])
    """
    return convolve("conv2d", input, weight, bias, stride, padding, dilation, groups)


def convolve(op: str, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,
             padding: Any, dilation: Any, groups: Any) -> Tensor:
    """``conv2d``, its errors headed by ``op`` (``conv1d`` runs as a conv2d of height one)."""
    stride, dilation = pair(stride, f"{op}: stride"), pair(dilation, f"{op}: dilation")
    groups = _groups(op, groups)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be (C_out, C_in/groups, kh, kw), got "
                         f"{tuple(weight.shape)}")
    kernel = tuple(weight.shape[2:])
    x, unbatched = batched(op, input)
    pads = _padding(op, padding, kernel, stride, dilation)
    shown = pads if isinstance(padding, str) else (pads[0], pads[2])
    check_window(op, x, kernel, stride, shown, dilation)
    check_same_dtype(op, input=input, weight=weight, bias=bias)
    c_out = weight.shape[0]
    if c_out % groups:
        raise ValueError(f"{op}: weight {tuple(weight.shape)} has {c_out} output channels, "
                         f"which groups={groups} does not divide")
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(f"{op}: input {tuple(input.shape)} has {x.shape[1]} channels but weight "
                         f"{tuple(weight.shape)} with groups={groups} expects "
                         f"{weight.shape[1] * groups}")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{op}: bias has shape {tuple(bias.shape)}, expected ({c_out},) for "
                         f"weight {tuple(weight.shape)}")
    if any(pads) or not conv_kernels.is_batch_inner(x.array):
        x = ConvolutionInput.apply(x, padding=pads)
    args = (x, weight) if bias is None else (x, weight, bias)
    out = Convolution.apply(*args, stride=stride, dilation=dilation, groups=groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The adjoint of ``conv2d``, as ``torch.nn.functional.conv_transpose2d``.

    ``weight`` is (C_in, C_out/groups, kh, kw): the same tensor a conv2d from C_out to C_in
    would use. ``input`` is (N, C_in, H, W) or unbatched (C_in, H, W).
    """
    return transposed_convolve("conv_transpose2d", input, weight, bias, stride, padding,
                               output_padding, groups, dilation)


def transposed_convolve(op: str, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,
                        padding: Any, output_padding: Any, groups: Any, dilation: Any) -> Tensor:
    """``conv_transpose2d``, its errors headed by ``op`` (``conv_transpose1d`` runs as one of
    height one)."""
    stride, padding = pair(stride, f"{op}: stride"), pair(padding, f"{op}: padding")
    dilation = pair(dilation, f"{op}: dilation")
    output_padding = pair(output_padding, f"{op}: output_padding")
    groups = _groups(op, groups)
    if input.ndim not in (3, 4) or weight.ndim != 4 or input.shape[-3] != weight.shape[0]:
        raise ValueError(f"{op}: input {tuple(input.shape)} needs shape (N, C_in, H, W) or "
                         f"(C_in, H, W) with C_in = weight.shape[0], weight is "
                         f"{tuple(weight.shape)}")
    if weight.shape[0] % groups:
        raise ValueError(f"{op}: weight {tuple(weight.shape)} has {weight.shape[0]} input "
                         f"channels, which groups={groups} does not divide")
    x, unbatched = batched(op, input)
    h, w = x.shape[2:]
    kernel = tuple(weight.shape[2:])
    check_arguments(op, kernel, stride, padding, dilation)
    check_same_dtype(op, input=input, weight=weight, bias=bias)
    c_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"{op}: bias has shape {tuple(bias.shape)}, expected ({c_out},) for "
                         f"weight {tuple(weight.shape)} with groups={groups}")
    if not all(0 <= extra < step for extra, step in zip(output_padding, stride)):
        raise ValueError(f"{op}: output_padding {output_padding} must be >= 0 and smaller "
                         f"than stride {stride}")
    full = tuple((s - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 + output_padding[i]
                 for i, s in enumerate((h, w)))
    size = tuple(full[i] - 2 * padding[i] for i in range(2))
    if min(size) < 1:
        raise ValueError(f"{op}: input {tuple(input.shape)} with weight {tuple(weight.shape)}, stride "
                         f"{stride}, padding {padding} and dilation {dilation} gives an output of "
                         f"{size[0]}x{size[1]}, too small: reduce the padding")
    out = ConvolutionInputGrad.apply(x, weight, in_hw=full, stride=stride, dilation=dilation,
                                     groups=groups)
    if padding != (0, 0):
        out = out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out
