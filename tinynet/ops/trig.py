"""Trigonometric and hyperbolic functions and their inverses, plus ``atan2``.

Each backward is the textbook derivative written with tinynet ops (so it differentiates again);
``tan`` reuses its output (d tan = 1 + tan²). Integer inputs are computed in the default float
dtype, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import binary
from tinynet.ops.elementwise import unary, where
from tinynet.ops.shape import sum_to
from tinynet.tensor import Tensor, as_tensor


class Sin(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).sin(a)

    def backward(self, g):
        return (g * cos(self.inputs[0]),)


class Cos(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).cos(a)

    def backward(self, g):
        return (-g * sin(self.inputs[0]),)


class Tan(Op):
    preserves_layout = True

    def forward(self, a):
        self.out = backend.get_array_module(a).tan(a)
        return self.out

    def backward(self, g):
        y = self.output(self.out)
        return (g * (1 + y * y),)


class Asin(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).arcsin(a)

    def backward(self, g):
        (a,) = self.inputs
        return (g / (1 - a * a).sqrt(),)


class Acos(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).arccos(a)

    def backward(self, g):
        (a,) = self.inputs
        return (-g / (1 - a * a).sqrt(),)


class Atan(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).arctan(a)

    def backward(self, g):
        (a,) = self.inputs
        return (g / (1 + a * a),)


class Sinh(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).sinh(a)

    def backward(self, g):
        return (g * cosh(self.inputs[0]),)


class Cosh(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).cosh(a)

    def backward(self, g):
        return (g * sinh(self.inputs[0]),)


class Asinh(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).arcsinh(a)

    def backward(self, g):
        (a,) = self.inputs
        return (g / (a * a + 1).sqrt(),)


class Acosh(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).arccosh(a)

    def backward(self, g):
        (a,) = self.inputs
        return (g / (a * a - 1).sqrt(),)


class Atanh(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).arctanh(a)

    def backward(self, g):
        (a,) = self.inputs
        return (g / (1 - a * a),)


class Atan2(Op):
    """The angle of the point (x, y): d/dy = x / r², d/dx = -y / r² (0 at the origin)."""

    preserves_layout = True

    def forward(self, y, x):
        return backend.get_array_module(y).arctan2(y, x)

    def backward(self, g):
        y, x = self.inputs
        squared = x * x + y * y
        # at the origin the slope is undefined: 0, as PyTorch gives (not 0/0 = NaN)
        scale = g * where(squared == 0, 0.0, 1 / squared)
        gy = sum_to(scale * x, y.shape) if self.needs_input_grad[0] else None
        gx = sum_to(-scale * y, x.shape) if self.needs_input_grad[1] else None
        return gy, gx


def sin(input: Any) -> Tensor:
    """Elementwise sine (radians)."""
    return unary(Sin, input)


def cos(input: Any) -> Tensor:
    """Elementwise cosine (radians)."""
    return unary(Cos, input)


def tan(input: Any) -> Tensor:
    """Elementwise tangent (radians)."""
    return unary(Tan, input)


def asin(input: Any) -> Tensor:
    """Elementwise arcsine; NaN outside [-1, 1]."""
    return unary(Asin, input)


def acos(input: Any) -> Tensor:
    """Elementwise arccosine; NaN outside [-1, 1]."""
    return unary(Acos, input)


def atan(input: Any) -> Tensor:
    """Elementwise arctangent."""
    return unary(Atan, input)


def sinh(input: Any) -> Tensor:
    """Elementwise hyperbolic sine."""
    return unary(Sinh, input)


def cosh(input: Any) -> Tensor:
    """Elementwise hyperbolic cosine."""
    return unary(Cosh, input)


def asinh(input: Any) -> Tensor:
    """Elementwise inverse hyperbolic sine."""
    return unary(Asinh, input)


def acosh(input: Any) -> Tensor:
    """Elementwise inverse hyperbolic cosine; NaN below 1."""
    return unary(Acosh, input)


def atanh(input: Any) -> Tensor:
    """Elementwise inverse hyperbolic tangent; NaN outside [-1, 1]."""
    return unary(Atanh, input)


def atan2(input: Any, other: Any) -> Tensor:
    """The angle of (other, input) in (-pi, pi], elementwise with broadcasting: ``atan2(y, x)``."""
    like = input if isinstance(input, Tensor) else other
    y, x = as_tensor(input, like), as_tensor(other, like)
    if y.dtype.kind in "biu" and x.dtype.kind in "biu":
        y, x = y.to(backend.default_float), x.to(backend.default_float)
    return binary(Atan2, y, x)
