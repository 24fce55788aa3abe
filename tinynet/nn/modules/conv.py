"""``Conv2d``, ``Conv1d`` and ``Conv3d``: cross-correlation over NCHW images, NCL sequences and
NCDHW volumes; their adjoints ``ConvTranspose1d/2d/3d``; PyTorch's default
initialisation."""

from __future__ import annotations

from typing import Any

from tinynet.nn import functional as F
from tinynet.nn.modules.linear import add_weight_and_bias, check_size, reset_fan_in_uniform
from tinynet.nn.modules.module import Module
from tinynet.ops.conv import ints
from tinynet.tensor import Tensor


class _ConvNd(Module):
    """What the convolutions share: their arguments, checked, and the parameters; a subclass
    says how many spatial dims it has and which function convolves."""

    dims = 2
    convolve = staticmethod(F.conv2d)
    transposed = False  # weight (in, out/groups, k…) instead of (out, in/groups, k…)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 device: str | None, dtype: Any) -> None:
        super().__init__()
        name = type(self).__name__
        check_size(name, in_channels=in_channels, out_channels=out_channels, groups=groups)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = self._tuple(kernel_size, f"{name}: kernel_size")
        self.stride = self._tuple(stride, f"{name}: stride")
        self.padding = padding if isinstance(padding, str) else \
            self._tuple(padding, f"{name}: padding")
        self.dilation = self._tuple(dilation, f"{name}: dilation")
        self.groups = int(groups)
        for key, values, least in (("kernel_size", self.kernel_size, 1), ("stride", self.stride, 1),
                                   ("padding", (0,) if isinstance(padding, str) else self.padding, 0),
                                   ("dilation", self.dilation, 1), ("groups", (self.groups,), 1)):
            if min(values) < least:
                raise ValueError(f"{name}: {key} must be >= {least}, got {values}")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: in_channels {self.in_channels} and out_channels "
                             f"{self.out_channels} must both be divisible by groups={self.groups}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', got "
                             f"{padding!r}")
        if padding == "same" and self.stride != (1,) * self.dims:
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or "
                             f"'circular', got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.output_padding = (0,) * self.dims
        channels = (self.in_channels, self.out_channels // self.groups) if self.transposed else \
            (self.out_channels, self.in_channels // self.groups)
        add_weight_and_bias(self, channels + self.kernel_size, bias, dtype, device,
                            bias_size=self.out_channels)

    def _tuple(self, value: Any, name: str) -> tuple[int, ...]:
        return ints(value, self.dims, name)

    def reset_parameters(self) -> None:
        """Draw fresh initial values (from the generator ``tn.manual_seed`` seeds)."""
        reset_fan_in_uniform(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters  # not self.weight: see Linear.forward
        padding = self.padding
        if self.padding_mode != "zeros" and padding != "valid":  # pad first, as PyTorch does
            input = F.pad(input, self._pad_pairs(), mode=self.padding_mode)
            padding = 0
        return self.convolve(input, params["weight"], params["bias"], self.stride, padding,
                             self.dilation, self.groups)

    def _pad_pairs(self) -> tuple[int, ...]:
        """F.pad's (before, after) pairs, last dim first, for this layer's padding."""
        pairs: list[int] = []
        for i in reversed(range(self.dims)):
            if self.padding == "same":  # PyTorch's split: an odd total puts the extra after
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                pairs += [total // 2, total - total // 2]
            else:
                pairs += [self.padding[i]] * 2
        return tuple(pairs)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution: (N, in_channels, H, W) or (in_channels, H, W) → (…, out_channels, H_out, W_out).

    ``weight`` is (out_channels, in_channels/groups, kh, kw); weight and bias start uniform in
    ±1/sqrt(in_channels/groups·kh·kw), as in PyTorch. ``kernel_size``, ``stride``, ``padding``
    and ``dilation`` take an int or a pair; ``padding`` also ``'same'`` or ``'valid'``. With
    ``groups`` > 1 the channels split into that many independent convolutions.

    >>> conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
    >>> conv(tn.randn(4, 1, 28, 28)).shape
    tinynet.Size([4, 8, 28, 28])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)


class Conv1d(_ConvNd):
    """1-D convolution: (N, in_channels, L) or (in_channels, L) → (…, out_channels, L_out).

    ``weight`` is (out_channels, in_channels/groups, k), initialised as Conv2d's; the other
    arguments are Conv2d's with one number each (an int or a 1-tuple).

    >>> conv = nn.Conv1d(4, 16, kernel_size=5, padding=2)
    >>> conv(tn.randn(8, 4, 50)).shape
    tinynet.Size([8, 16, 50])
    """

    dims = 1
    convolve = staticmethod(F.conv1d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] | str = 0,
                 dilation: int | tuple[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)


class Conv3d(_ConvNd):
    """3-D convolution: (N, in_channels, D, H, W) or (in_channels, D, H, W) →
    (…, out_channels, D_out, H_out, W_out).

    ``weight`` is (out_channels, in_channels/groups, kd, kh, kw), initialised as Conv2d's; the
    other arguments are Conv2d's with three numbers each (an int or a triple).

    >>> conv = nn.Conv3d(1, 8, kernel_size=3, padding=1)
    >>> conv(tn.randn(2, 1, 8, 16, 16)).shape
    tinynet.Size([2, 8, 8, 16, 16])
    """

    dims = 3
    convolve = staticmethod(F.conv3d)

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int, int], stride: int | tuple[int, int, int] = 1,
                 padding: int | tuple[int, int, int] | str = 0,
                 dilation: int | tuple[int, int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: ``output_padding``, and ``output_size``
    in ``forward`` to pick it."""

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, output_padding: Any, groups: int, bias: bool, dilation: Any,
                 padding_mode: str, device: str | None, dtype: Any) -> None:
        name = type(self).__name__
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r} "
                             "(a transposed convolution has no 'same' or 'valid' padding)")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)
        self.output_padding = self._tuple(output_padding, f"{name}: output_padding")

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        params = self._parameters
        return self.convolve(input, params["weight"], params["bias"], self.stride, self.padding,
                             self._output_padding(input, output_size), self.groups, self.dilation)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:
        """``output_padding``, or the one that gives ``output_size`` (its spatial sizes, or the
        whole shape), as PyTorch chooses it."""
        if output_size is None:
            return self.output_padding
        sizes = [int(n) for n in output_size]
        leading = input.ndim - self.dims
        if len(sizes) == leading + self.dims:
            sizes = sizes[leading:]
        if len(sizes) != self.dims:
            raise ValueError(f"ConvTranspose{self.dims}D: for {input.ndim}D input, output_size "
                             f"must have {self.dims} or {leading + self.dims} elements (got "
                             f"{len(sizes)})")
        smallest = [(input.shape[leading + d] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(self.dims)]
        largest = [n + self.stride[d] - 1 for d, n in enumerate(smallest)]
        if any(not low <= n <= high for n, low, high in zip(sizes, smallest, largest)):
            raise ValueError(f"requested an output size of {sizes}, but valid sizes range from "
                             f"{smallest} to {largest} (for an input of "
                             f"{list(input.shape[leading:])})")
        return tuple(n - low for n, low in zip(sizes, smallest))


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of a 2-D convolution (a "deconvolution"): upsamples (N, in_channels, H, W)
    or (in_channels, H, W) to (…, out_channels, H_out, W_out) with H_out = (H - 1)·stride -
    2·padding + dilation·(kh - 1) + output_padding + 1.

    ``weight`` is (in_channels, out_channels/groups, kh, kw), initialised as Conv2d's from its
    fan-in (out_channels/groups·kh·kw); ``forward(input, output_size)`` picks the
    ``output_padding`` that gives ``output_size``, as PyTorch does.

    >>> up = nn.ConvTranspose2d(16, 8, kernel_size=4, stride=2, padding=1)
    >>> up(tn.randn(2, 16, 7, 7)).shape
    tinynet.Size([2, 8, 14, 14])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 output_padding: int | tuple[int, int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int, int] = 1, padding_mode: str = "zeros",
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         groups, bias, dilation, padding_mode, device, dtype)

    convolve = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """The adjoint of a 1-D convolution: (N, in_channels, L) or (in_channels, L) → (…,
    out_channels, L_out), L_out = (L - 1)·stride - 2·padding + dilation·(k - 1) +
    output_padding + 1; the other arguments are ConvTranspose2d's with one number each.

    >>> nn.ConvTranspose1d(4, 2, kernel_size=3, stride=2)(tn.randn(8, 4, 10)).shape
    tinynet.Size([8, 2, 21])
    """

    dims = 1
    convolve = staticmethod(F.conv_transpose1d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int],
                 stride: int | tuple[int] = 1, padding: int | tuple[int] = 0,
                 output_padding: int | tuple[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | tuple[int] = 1, padding_mode: str = "zeros",
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         groups, bias, dilation, padding_mode, device, dtype)


class ConvTranspose3d(_ConvTransposeNd):
    """The adjoint of a 3-D convolution: (N, in_channels, D, H, W) or (in_channels, D, H, W)
    → (…, out_channels, D_out, H_out, W_out), each size as ConvTranspose2d's; the arguments are
    ConvTranspose2d's with three numbers each.

    >>> nn.ConvTranspose3d(8, 4, kernel_size=2, stride=2)(tn.randn(1, 8, 3, 4, 4)).shape
    tinynet.Size([1, 4, 6, 8, 8])
    """

    dims = 3
    convolve = staticmethod(F.conv_transpose3d)

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | tuple[int, int, int], stride: int | tuple[int, int, int] = 1,
                 padding: int | tuple[int, int, int] = 0,
                 output_padding: int | tuple[int, int, int] = 0, groups: int = 1,
                 bias: bool = True, dilation: int | tuple[int, int, int] = 1,
                 padding_mode: str = "zeros", device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         groups, bias, dilation, padding_mode, device, dtype)
