"""The error function and the smooth activations built on it and its kin: gelu, silu, mish.

``Erf`` is an op of its own (SciPy's erf on the CPU, CuPy's on the GPU); gelu, silu and mish
are compositions of differentiable ops, so they have gradients of every order for free.
"""

from __future__ import annotations

import math

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.activation import in_place, sigmoid, softplus, tanh
from tinynet.tensor import Tensor

_APPROXIMATIONS = ("none", "tanh")


class Erf(Op):
    """erf(x) = 2/√π ∫₀ˣ exp(-t²) dt; its derivative is 2/√π · exp(-x²)."""

    def forward(self, x):
        return backend.erf(x)

    def backward(self, g):
        x = self.inputs[0]
        return (g * (2 / math.sqrt(math.pi)) * (-(x * x)).exp(),)


def _float_input(x: Tensor, op: str) -> None:
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        kind = x.dtype if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"{op}: expected a floating point tensor, got {kind}")


def erf(input: Tensor) -> Tensor:
    """The Gauss error function, elementwise."""
    _float_input(input, "erf")
    return Erf.apply(input)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF: 0.5·x·(1 + erf(x/√2)); with ``approximate='tanh'``,
    0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as PyTorch."""
    _float_input(input, "gelu")
    if approximate == "none":
        return input * 0.5 * (1 + erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = (input + 0.044715 * input * input * input) * math.sqrt(2 / math.pi)
        return input * 0.5 * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate must be one of {_APPROXIMATIONS}, got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·sigmoid(x) (the swish)."""
    _float_input(input, "silu")
    if inplace:
        return in_place("silu_", input, silu)
    return input * sigmoid(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x))."""
    _float_input(input, "mish")
    if inplace:
        return in_place("mish_", input, mish)
    return input * tanh(softplus(input))
