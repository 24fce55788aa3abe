"""Elementwise functions of two tensors: logaddexp, logaddexp2, hypot, fmax, fmin, copysign,
heaviside and float_power, with broadcasting and PyTorch's dtypes and errors.

``logaddexp``/``logaddexp2`` take the larger input out first, so they are exact at ±1000, and
their gradients are sigmoids of the difference, stable to every order. ``hypot`` never squares
its inputs (no overflow at 1e200). ``fmax``/``fmin`` ignore a NaN where ``maximum``/``minimum``
propagate it, and send the whole gradient to the value they return (``input`` at a tie), as
PyTorch. ``heaviside`` has no derivative, as in PyTorch; ``float_power`` computes in float64.
"""

from __future__ import annotations

import math
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.dtypes import complex128, float64, result_type
from tinynet.ops.activation import sigmoid
from tinynet.ops.arithmetic import Masked, pow, promoted, write_out
from tinynet.ops.indexing import no_derivative
from tinynet.ops.arguments import require_tensor
from tinynet.ops.shape import sum_to
from tinynet.tensor import Tensor


def _apply(op: type[Op], name: str, a: Tensor, b: Tensor, **params: Any) -> Tensor:
    """``op`` on two tensors of one dtype, naming the op and the shapes when they can't
    broadcast (PyTorch's RuntimeError)."""
    try:
        return op.apply(a, b, **params)
    except ValueError as err:
        if "broadcast" not in str(err):
            raise
        raise RuntimeError(f"{name}: the shapes of input {tuple(a.shape)} and other "
                           f"{tuple(b.shape)} cannot be broadcast together") from None


def _two_tensors(name: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    """Both arguments, which must be Tensors, in their common dtype by PyTorch's rule."""
    require_tensor(name, input)
    require_tensor(name, other, "other", 2)
    return promoted(input, other)


def _floating_pair(name: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    """Two tensors for a function PyTorch defines on floating dtypes only (logaddexp, hypot):
    an int or bool pair raises its NotImplementedError, an int next to a float is promoted."""
    a, b = _two_tensors(name, input, other)
    if a.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for dtype {a.dtype} (input "
                                  f"{input.dtype}, other {other.dtype}); convert to a floating "
                                  "point dtype first, e.g. with .float()")
    return a, b


class Logaddexp(Op):
    """log(exp(a) + exp(b)) as max(a, b) + log1p(exp(-|a - b|)) (base 2 with ``base2``): never
    overflows, and equal infinities give themselves (not inf - inf = NaN). The gradient of
    ``a`` is sigmoid(a - b) (scaled by ln 2 in base 2), of ``b`` sigmoid(b - a)."""

    preserves_layout = True
    base2 = False

    def forward(self, a, b):
        xp = backend.get_array_module(a)
        gap = -xp.abs(a - b)
        if self.base2:
            out = xp.maximum(a, b) + xp.log1p(xp.exp2(gap)) * (1 / math.log(2))
        else:
            out = xp.maximum(a, b) + xp.log1p(xp.exp(gap))
        return xp.where(xp.isinf(a) & (a == b), a, out)

    def backward(self, g):
        a, b = self.inputs
        d = (a - b) * math.log(2) if self.base2 else a - b
        ga = sum_to(g * sigmoid(d), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(g * sigmoid(-d), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Logaddexp2(Logaddexp):
    """log2(2**a + 2**b), as ``Logaddexp`` in base 2."""

    base2 = True


class Hypot(Op):
    """√(a² + b²) without overflow; the gradients are a / hypot and b / hypot (NaN at the
    origin, as PyTorch's)."""

    preserves_layout = True

    def forward(self, a, b):
        self.out = backend.get_array_module(a).hypot(a, b)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        r = self.output(self.out)
        ga = sum_to(g * a / r, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(g * b / r, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Fmax(Op):
    """The larger of a and b, or the one that is not NaN. The gradient goes whole to the input
    returned: to ``a`` where a >= b or b is NaN (so at a tie), else to ``b``, as PyTorch's."""

    preserves_layout = True
    largest = True

    def forward(self, a, b):
        xp = backend.get_array_module(a)
        return xp.fmax(a, b) if self.largest else xp.fmin(a, b)

    def backward(self, g):
        a, b = self.inputs
        xp = a.xp
        wins = a.array >= b.array if self.largest else a.array <= b.array
        to_a = xp.broadcast_to(wins | xp.isnan(b.array), g.shape)
        ga = sum_to(Masked.apply(g, factor=to_a), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(Masked.apply(g, factor=~to_a), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Fmin(Fmax):
    """The smaller of a and b, or the one that is not NaN; gradient as ``Fmax``'s."""

    largest = False


class Copysign(Op):
    """|a| with the sign of b (of its sign bit: -0.0 counts as negative). The gradient of
    ``a`` is copysign(a, b) / a, 0 where a = 0 (PyTorch's formula); of ``b``, zero."""

    preserves_layout = True

    def forward(self, a, b):
        self.out = backend.get_array_module(a).copysign(a, b)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        ga = gb = None
        if self.needs_input_grad[0]:
            xp, zero = a.xp, a.array == 0
            out = self.output(self.out).array  # raises if it was changed in place, as PyTorch
            ratio = xp.where(zero, a.dtype.type(0), out / xp.where(zero, 1, a.array))
            ga = sum_to(g * Tensor(ratio), a.shape)
        if self.needs_input_grad[1]:
            gb = Tensor(b.xp.zeros_like(b.array))
        return ga, gb


def logaddexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(exp(input) + exp(other)) elementwise with broadcasting, exact where the exponentials
    would overflow (``logaddexp(1000, 1000)`` is 1000 + log 2). Floating tensors only, as in
    PyTorch; the gradients are sigmoid(input - other) and sigmoid(other - input)."""
    a, b = _floating_pair("logaddexp", input, other)
    return write_out("logaddexp", _apply(Logaddexp, "logaddexp", a, b), out)


def logaddexp2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log2(2**input + 2**other) elementwise with broadcasting, exact where the powers would
    overflow. Floating tensors only, as in PyTorch."""
    a, b = _floating_pair("logaddexp2", input, other)
    return write_out("logaddexp2", _apply(Logaddexp2, "logaddexp2", a, b), out)


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """√(input² + other²) elementwise with broadcasting, without the overflow of squaring
    (``hypot(1e200, 1e200)`` is 1.414e200). Floating tensors only, as in PyTorch."""
    a, b = _floating_pair("hypot", input, other)
    return write_out("hypot", _apply(Hypot, "hypot", a, b), out)


def fmax(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise maximum, ignoring NaN: where one input is NaN the other is returned (NaN
    only where both are), unlike ``maximum``, which propagates it. The whole gradient goes to
    the input returned (``input`` at a tie)."""
    a, b = _two_tensors("fmax", input, other)
    return write_out("fmax", _apply(Fmax, "fmax", a, b), out)


def fmin(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise minimum, ignoring NaN: where one input is NaN the other is returned (NaN
    only where both are), unlike ``minimum``, which propagates it. The whole gradient goes to
    the input returned (``input`` at a tie)."""
    a, b = _two_tensors("fmin", input, other)
    return write_out("fmin", _apply(Fmin, "fmin", a, b), out)


def copysign(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
    """|input| with the sign (bit) of ``other`` elementwise, with broadcasting; ``other`` may be
    a Python number. Integer operands give the default float dtype; the gradient of ``input``
    is ±1 (0 at 0), of ``other`` 0."""
    require_tensor("copysign", input)
    a, b = promoted(input, other)
    if a.dtype.kind in "biu":
        a, b = a.to(backend.default_float), b.to(backend.default_float)
    elif a.dtype.kind == "c":
        raise NotImplementedError(f"copysign: not implemented for complex tensors (dtype "
                                  f"{a.dtype})")
    return write_out("copysign", _apply(Copysign, "copysign", a, b), out)


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Heaviside step elementwise, with broadcasting: 0 where ``input`` < 0, ``values``
    where it is 0, 1 where it is > 0 (and 0 at NaN, as PyTorch). Both tensors must have the
    same dtype, as in PyTorch. Not differentiable: a backward through it raises."""
    require_tensor("heaviside", input)
    require_tensor("heaviside", values, "values", 2)
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes "
                           f"(input {input.dtype}, values {values.dtype})")
    if input.dtype.kind == "c":
        raise RuntimeError(f"heaviside is not yet implemented for complex tensors (dtype "
                           f"{input.dtype})")

    def step(x: Any, v: Any) -> Any:
        xp = backend.get_array_module(x)
        return xp.where(x == 0, v, (x > 0).astype(x.dtype))

    try:
        result = no_derivative("aten::heaviside", step, input, values)
    except ValueError:
        raise RuntimeError(f"heaviside: the shapes of input {tuple(input.shape)} and values "
                           f"{tuple(values.shape)} cannot be broadcast together") from None
    return write_out("heaviside", result, out)


def float_power(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:
    """``input ** exponent`` computed in double precision: the result is float64 (complex128
    for complex operands) whatever the inputs' dtypes, and the gradients come back in each
    input's own dtype. Either may be a Python number (not both)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power(): expected at least one Tensor among input and exponent, "
                        f"got {type(input).__name__} and {type(exponent).__name__}")
    complex_ = result_type(input, exponent).kind == "c"
    dtype = complex128 if complex_ else float64

    def double(value: Any) -> Any:
        if isinstance(value, Tensor):
            return value if value.dtype == dtype else value.to(dtype)
        return complex(value) if complex_ else float(value)

    base, power = double(input), double(exponent)
    try:
        result = pow(base, power)
    except ValueError:
        raise RuntimeError(f"float_power: the shapes of input {tuple(base.shape)} and exponent "
                           f"{tuple(power.shape)} cannot be broadcast together") from None
    return write_out("float_power", result, out)
