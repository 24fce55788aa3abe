"""``Linear``: y = x Wᵀ + b, with PyTorch's default initialisation."""

from __future__ import annotations

import math
from typing import Any

import numpy

from tinynet import backend
from tinynet.nn import functional as F
from tinynet.nn import init
from tinynet.nn.modules.module import Module, Parameter
from tinynet.tensor import Tensor


def check_size(layer: str, **sizes: Any) -> None:
    """Layer sizes are non-negative ints; say which one is not."""
    for name, value in sizes.items():
        if not isinstance(value, (int, numpy.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{layer}: {name} must be a non-negative int, got {value!r}")


def empty_parameter(shape: tuple[int, ...], dtype: Any) -> Parameter:
    """An uninitialised CPU parameter; layers fill it with ``nn.init`` then move it."""
    return Parameter(numpy.empty(shape, dtype=numpy.dtype(dtype or backend.default_float)))


def to_chosen_device(layer: Module, device: str | None) -> None:
    """Move a layer whose parameters were made on the CPU to ``device``, or, as in PyTorch, to
    the default device (``tn.set_default_device``) when none is given."""
    if (device or backend.default_device) != "cpu":
        layer.to(device or backend.default_device)


def reset_fan_in_uniform(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv: weight by kaiming_uniform_(a=sqrt(5)), which is
    U(±1/sqrt(fan_in)), and bias by U(±1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


def add_weight_and_bias(layer: Module, weight_shape: tuple[int, ...], bias: bool, dtype: Any,
                        device: str | None, bias_size: int | None = None) -> None:
    """Register ``weight`` (and ``bias``, of length ``bias_size``, by default ``weight_shape[0]``,
    or None), draw PyTorch's default initial values on the CPU, then move to ``device``: Linear
    and the convolutions share this."""
    layer.weight = empty_parameter(weight_shape, dtype)
    if bias:
        layer.bias = empty_parameter((weight_shape[0] if bias_size is None else bias_size,), dtype)
    else:
        layer.register_parameter("bias", None)
    layer.reset_parameters()
    to_chosen_device(layer, device)


class Linear(Module):
    """Fully connected layer: input (..., in_features) → output (..., out_features).

    ``weight`` is (out_features, in_features) and, like ``bias``, starts uniform in
    ±1/sqrt(in_features), as in PyTorch.

    >>> layer = nn.Linear(3, 2)
    >>> layer(tn.randn(8, 3)).shape
    tinynet.Size([8, 2])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        check_size("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        add_weight_and_bias(self, (self.out_features, self.in_features), bias, dtype, device)

    def reset_parameters(self) -> None:
        """Draw fresh initial values (from the generator ``tn.manual_seed`` seeds)."""
        reset_fan_in_uniform(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        # The registry, not self.weight: a registered name is found only after the normal
        # attribute lookup fails, through Module.__getattr__, and every layer runs every step.
        params = self._parameters
        return F.linear(input, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y = x1ᵀ A x2 + b for each of ``out_features`` outputs, from inputs (…, in1_features)
    and (…, in2_features); ``weight`` (out, in1, in2) and ``bias`` start uniform in
    ±1/sqrt(in1_features), as in PyTorch.

    >>> nn.Bilinear(3, 4, 5)(tn.randn(8, 3), tn.randn(8, 4)).shape
    tinynet.Size([8, 5])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        check_size("Bilinear", in1_features=in1_features, in2_features=in2_features,
                   out_features=out_features)
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        add_weight_and_bias(self, (self.out_features, self.in1_features, self.in2_features),
                            bias, dtype, device)

    def reset_parameters(self) -> None:
        """Weight and bias uniform in ±1/sqrt(in1_features)."""
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        params = self._parameters
        return F.bilinear(input1, input2, params["weight"], params["bias"])

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
