"""Rounding and sign (floor, ceil, round, trunc, sign, frac), floor division and remainder.

The rounding functions are piecewise constant, so their gradient is zero wherever it exists and
tinynet, like PyTorch, returns zero everywhere. ``frac`` and ``remainder`` differ from their
input by a piecewise constant, so gradient 1 passes through them.
"""

from __future__ import annotations

from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import binary, div, promoted
from tinynet.ops.shape import sum_to
from tinynet.tensor import Tensor, as_tensor


class PiecewiseConstant(Op):
    """An elementwise function that is constant between jumps: its gradient is zero."""

    preserves_layout = True
    saves_inputs = False
    function = ""  # the array module's name for it

    def forward(self, a):
        return getattr(backend.get_array_module(a), self.function)(a)

    def backward(self, g):
        return (Tensor(g.xp.zeros_like(g.array)),)


class Floor(PiecewiseConstant):
    function = "floor"


class Ceil(PiecewiseConstant):
    function = "ceil"


class Trunc(PiecewiseConstant):
    function = "trunc"


class Sign(PiecewiseConstant):
    """-1, 0 or 1; 0 at NaN, as PyTorch (NumPy's sign gives NaN there)."""

    def forward(self, a):
        xp = backend.get_array_module(a)
        return xp.where(xp.isnan(a), a.dtype.type(0), xp.sign(a))


class Round(PiecewiseConstant):
    """Round half to even (``round(0.5) == 0``, ``round(1.5) == 2``), as PyTorch and NumPy."""

    def forward(self, a):
        return backend.get_array_module(a).round(a, self.decimals)


class Remainder(Op):
    """``a - floor(a / b) · b``: the sign of ``b``, as Python's ``%``."""

    preserves_layout = True

    def forward(self, a, b):
        return backend.get_array_module(a).remainder(a, b)

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-g * floor(a / b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def _rounded(op: type[PiecewiseConstant], input: Any, **params: Any) -> Tensor:
    input = as_tensor(input)
    if input.dtype.kind in "biu":  # integers are already whole: PyTorch returns a copy
        if op is Sign and input.dtype.kind != "b":  # a bool is its own sign
            return Tensor(input.xp.sign(input.array))
        return Tensor(input.array.copy())
    return op.apply(input, **params)


def floor(input: Any) -> Tensor:
    """The largest whole number <= each element (gradient zero)."""
    return _rounded(Floor, input)


def ceil(input: Any) -> Tensor:
    """The smallest whole number >= each element (gradient zero)."""
    return _rounded(Ceil, input)


def trunc(input: Any) -> Tensor:
    """Each element rounded towards zero (gradient zero)."""
    return _rounded(Trunc, input)


def sign(input: Any) -> Tensor:
    """-1, 0 or 1 by the sign of each element (gradient zero)."""
    return _rounded(Sign, input)


def round(input: Any, *, decimals: int = 0) -> Tensor:
    """Each element rounded to ``decimals`` places, halves to even (gradient zero)."""
    return _rounded(Round, input, decimals=decimals)


def frac(input: Any) -> Tensor:
    """The fractional part, ``input - trunc(input)`` (gradient 1)."""
    input = as_tensor(input)
    return input - trunc(input)


def _integer_operands(op: str, input: Any, other: Any) -> tuple[Tensor, Tensor, bool]:
    """Both operands as Tensors, and whether both are integers (then a zero divisor raises the
    RuntimeError PyTorch raises, not NumPy's warning and a 0)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor(input)
    a, b = promoted(input, other)  # PyTorch's dtype: int8 % 3 stays int8, uint8 wraps first
    integers = a.dtype.kind in "biu" and b.dtype.kind in "biu"
    if integers and (b.array == 0).any():
        raise RuntimeError(f"ZeroDivisionError: {op}: integer division by zero")
    return a, b, integers


def remainder(input: Any, other: Any) -> Tensor:
    """Python's ``%`` elementwise: the result takes the sign of ``other``."""
    a, b, integers = _integer_operands("remainder", input, other)
    return Tensor(a.xp.remainder(a.array, b.array)) if integers else binary(Remainder, a, b)


def floor_divide(input: Any, other: Any) -> Tensor:
    """Python's ``//`` elementwise: the quotient rounded down (integers stay integers)."""
    a, b, integers = _integer_operands("floor_divide", input, other)
    return Tensor(a.xp.floor_divide(a.array, b.array)) if integers else floor(div(a, b))


def rounded_div(input: Any, other: Any, rounding_mode: str) -> Tensor:
    """``div`` with ``rounding_mode`` 'floor' or 'trunc'."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode != "trunc":
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b, integers = _integer_operands("div", input, other)
    if integers:
        xp = a.xp
        return Tensor(xp.abs(a.array) // xp.abs(b.array) * xp.sign(a.array) * xp.sign(b.array))
    return trunc(div(a, b))
