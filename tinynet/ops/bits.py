"""Integer ops, none differentiable: the bitwise functions by name (and behind ``& | ^ ~ << >>``),
the shifts, gcd and lcm, with PyTorch's dtypes, shift rules and errors.

The operands take PyTorch's common dtype (an int32 tensor & 3 stays int32, uint8 << 1 stays
uint8 and wraps). A shift by a negative count or by the dtype's width or more gives 0 to the
left and the sign (0 or -1) to the right, as PyTorch defines it (C leaves it undefined).
Floating-point operands raise PyTorch's NotImplementedError.
"""

from __future__ import annotations

from typing import Any

from tinynet import strides
from tinynet.ops.arithmetic import promoted, write_out
from tinynet.ops.arguments import require_tensor
from tinynet.tensor import Tensor


class IntegerDtypeError(NotImplementedError, TypeError):
    """A bitwise op, shift, gcd or lcm of floating-point tensors: PyTorch's NotImplementedError
    (and a TypeError, as tinynet's ``&`` has always raised for floats)."""


def _operands(name: str, input: Any, other: Any, kinds: str) -> tuple[Tensor, Tensor]:
    """The two operands (one may be a Python number) in PyTorch's common dtype, which must be of
    one of ``kinds`` (NumPy's dtype kinds)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor among input and other, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    a, b = promoted(input, other)
    if a.dtype.kind not in kinds:
        what = "integer tensors" if "b" not in kinds else "bool and integer tensors"
        raise IntegerDtypeError(f"{name}: not implemented for dtype {a.dtype} (input "
                                f"{_dtype(input)}, other {_dtype(other)}); it takes {what}. For "
                                "conditions on floats compare first, e.g. (x > 0) & (x < 1)")
    if a.device != b.device:
        raise RuntimeError(f"{name}: expected both operands on the same device, got {a.device} "
                           f"and {b.device}")
    return a, b


def _dtype(value: Any) -> str:
    return str(value.dtype) if isinstance(value, Tensor) else type(value).__name__


def _elementwise(name: str, function: Any, a: Tensor, b: Tensor) -> Tensor:
    try:
        return strides.laid_out_like(Tensor(function(a.array, b.array)), a, b)
    except ValueError:
        raise RuntimeError(f"{name}: the shapes of input {tuple(a.shape)} and other "
                           f"{tuple(b.shape)} cannot be broadcast together") from None


def _bitwise(op: str, input: Any, other: Any, out: Tensor | None) -> Tensor:
    name = f"bitwise_{op}"
    a, b = _operands(name, input, other, "biu")
    return write_out(name, _elementwise(name, getattr(a.xp, name), a, b), out)


def bitwise_and(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input & other`` elementwise, with broadcasting: logical and of bool tensors, bitwise
    and of integer ones (either may be a Python number)."""
    return _bitwise("and", input, other, out)


def bitwise_or(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input | other`` elementwise, with broadcasting (bool or integer tensors)."""
    return _bitwise("or", input, other, out)


def bitwise_xor(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input ^ other`` elementwise, with broadcasting (bool or integer tensors)."""
    return _bitwise("xor", input, other, out)


def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``~input``: logical not of a bool tensor, two's complement of an integer one."""
    x = require_tensor("bitwise_not", input)
    if x.dtype.kind not in "biu":
        raise IntegerDtypeError(f"bitwise_not: not implemented for dtype {x.dtype}; it takes "
                                "bool and integer tensors (for a mask of floats compare first, "
                                "e.g. ~(x > 0))")
    return write_out("bitwise_not", strides.laid_out_like(Tensor(x.xp.invert(x.array)), x), out)


def _shift(name: str, left: bool, input: Any, other: Any, out: Tensor | None) -> Tensor:
    a, b = _operands(name, input, other, "iu")
    xp = a.xp
    bits = a.dtype.itemsize * 8

    def shift(x: Any, n: Any) -> Any:
        defined = (n >= 0) & (n < bits)
        n = xp.where(defined, n, 0).astype(x.dtype)
        if left:
            return xp.where(defined, xp.left_shift(x, n), 0).astype(x.dtype)
        # what shifting out every bit leaves: the sign, -1 or 0 (always 0 unsigned)
        beyond = x >> x.dtype.type(bits - 1) if x.dtype.kind == "i" else xp.zeros_like(x)
        return xp.where(defined, xp.right_shift(x, n), beyond).astype(x.dtype)

    return write_out(name, _elementwise(name, shift, a, b), out)


def bitwise_left_shift(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input << other`` elementwise, with broadcasting, for integer tensors: bits shifted past
    the top are lost (the value wraps), and a count that is negative or at least the dtype's
    width gives 0, as PyTorch. Either may be a Python number."""
    return _shift("bitwise_left_shift", True, input, other, out)


def bitwise_right_shift(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input >> other`` elementwise, with broadcasting, for integer tensors: an arithmetic
    shift (a negative value stays negative); a count that is negative or at least the dtype's
    width gives 0 or -1 by the sign, as PyTorch. Either may be a Python number."""
    return _shift("bitwise_right_shift", False, input, other, out)


def _integer_pair(name: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    require_tensor(name, input)
    require_tensor(name, other, "other", 2)
    return _operands(name, input, other, "iu")


def gcd(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The greatest common divisor of each pair of elements (non-negative; gcd(0, 0) = 0), with
    broadcasting, for integer tensors."""
    a, b = _integer_pair("gcd", input, other)
    return write_out("gcd", _elementwise("gcd", a.xp.gcd, a, b), out)


def lcm(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The least common multiple of each pair of elements (non-negative; 0 where either is 0),
    with broadcasting, for integer tensors."""
    a, b = _integer_pair("lcm", input, other)
    return write_out("lcm", _elementwise("lcm", a.xp.lcm, a, b), out)

