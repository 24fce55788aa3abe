"""Powers and logarithms beyond exp/log/sqrt: square, reciprocal, rsqrt, log1p, expm1, log2,
log10, exp2.

``log1p`` and ``expm1`` keep their precision near 0, where ``log(1 + x)`` and ``exp(x) - 1`` lose
it. Backwards that can reuse the output do (d exp2 = exp2 · ln 2).
"""

from __future__ import annotations

import math
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import pow
from tinynet.ops.elementwise import unary
from tinynet.tensor import Tensor


class Reciprocal(Op):
    preserves_layout = True

    def forward(self, a):
        self.out = 1 / a
        return self.out

    def backward(self, g):
        y = self.output(self.out)
        return (-g * y * y,)


class Rsqrt(Op):
    """1 / sqrt(a); d/da = -out³ / 2."""

    preserves_layout = True

    def forward(self, a):
        self.out = 1 / backend.get_array_module(a).sqrt(a)
        return self.out

    def backward(self, g):
        y = self.output(self.out)
        return (-0.5 * g * y * y * y,)


class Log1p(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).log1p(a)

    def backward(self, g):
        return (g / (1 + self.inputs[0]),)


class Expm1(Op):
    preserves_layout = True

    def forward(self, a):
        self.out = backend.get_array_module(a).expm1(a)
        return self.out

    def backward(self, g):
        return (g * (self.output(self.out) + 1),)


class Log2(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).log2(a)

    def backward(self, g):
        return (g / (self.inputs[0] * math.log(2)),)


class Log10(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).log10(a)

    def backward(self, g):
        return (g / (self.inputs[0] * math.log(10)),)


class Exp2(Op):
    preserves_layout = True

    def forward(self, a):
        self.out = backend.get_array_module(a).exp2(a)
        return self.out

    def backward(self, g):
        return (g * self.output(self.out) * math.log(2),)


def square(input: Any) -> Tensor:
    """Elementwise input²."""
    return pow(input, 2)


def reciprocal(input: Any) -> Tensor:
    """Elementwise 1 / input (integers give the default float dtype)."""
    return unary(Reciprocal, input)


def rsqrt(input: Any) -> Tensor:
    """Elementwise 1 / sqrt(input)."""
    return unary(Rsqrt, input)


def log1p(input: Any) -> Tensor:
    """Elementwise log(1 + input), accurate for small inputs."""
    return unary(Log1p, input)


def expm1(input: Any) -> Tensor:
    """Elementwise exp(input) - 1, accurate for small inputs."""
    return unary(Expm1, input)


def log2(input: Any) -> Tensor:
    """Elementwise base-2 logarithm."""
    return unary(Log2, input)


def log10(input: Any) -> Tensor:
    """Elementwise base-10 logarithm."""
    return unary(Log10, input)


def exp2(input: Any) -> Tensor:
    """Elementwise 2**input."""
    return unary(Exp2, input)
