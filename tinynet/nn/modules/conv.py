"""``Conv2d``: 2-D cross-correlation over NCHW images, with PyTorch's default initialisation."""

from __future__ import annotations

from typing import Any

from tinynet.nn import functional as F
from tinynet.nn.modules.linear import add_weight_and_bias, check_size, reset_fan_in_uniform
from tinynet.nn.modules.module import Module
from tinynet.ops.conv import pair
from tinynet.tensor import Tensor


class Conv2d(Module):
    """2-D convolution: (N, in_channels, H, W) or (in_channels, H, W) → (…, out_channels, H_out, W_out).

    ``weight`` is (out_channels, in_channels/groups, kh, kw); weight and bias start uniform in
    ±1/sqrt(in_channels/groups·kh·kw), as in PyTorch. ``kernel_size``, ``stride``, ``padding``
    and ``dilation`` take an int or a pair; ``padding`` also ``'same'`` or ``'valid'``. With
    ``groups`` > 1 the channels split into that many independent convolutions.

    >>> conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
    >>> conv(tn.randn(4, 1, 28, 28)).shape
    (4, 8, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 dilation: int | tuple[int, int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        check_size("Conv2d", in_channels=in_channels, out_channels=out_channels, groups=groups)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "Conv2d: kernel_size")
        self.stride = pair(stride, "Conv2d: stride")
        self.padding = padding if isinstance(padding, str) else pair(padding, "Conv2d: padding")
        self.dilation = pair(dilation, "Conv2d: dilation")
        self.groups = int(groups)
        for name, values, least in (("kernel_size", self.kernel_size, 1), ("stride", self.stride, 1),
                                    ("padding", (0,) if isinstance(padding, str) else self.padding, 0),
                                    ("dilation", self.dilation, 1), ("groups", (self.groups,), 1)):
            if min(values) < least:
                raise ValueError(f"Conv2d: {name} must be >= {least}, got {values}")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"Conv2d: in_channels {self.in_channels} and out_channels "
                             f"{self.out_channels} must both be divisible by groups={self.groups}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Conv2d: padding must be an int, a pair, 'same' or 'valid', got "
                             f"{padding!r}")
        if padding == "same" and self.stride != (1, 1):
            raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported by tinynet, got "
                             f"{padding_mode!r}; pad the input with F.pad first")
        self.padding_mode = padding_mode
        add_weight_and_bias(self, (self.out_channels, self.in_channels // self.groups)
                            + self.kernel_size, bias, dtype, device)

    def reset_parameters(self) -> None:
        """Draw fresh initial values (from the generator ``tn.manual_seed`` seeds)."""
        reset_fan_in_uniform(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        params = self._parameters  # not self.weight: see Linear.forward
        return F.conv2d(input, params["weight"], params["bias"], self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
