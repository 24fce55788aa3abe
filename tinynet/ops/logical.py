"""Tests and logic, none differentiable: comparisons by name (eq, lt…), isnan/isinf/isfinite,
isclose/allclose/equal, logical_and/or/xor/not, and the bitwise operators ``& | ^ ~``."""

from __future__ import annotations

from typing import Any

from tinynet import strides
from tinynet.ops.elementwise import compare
from tinynet.tensor import Tensor, as_tensor


def eq(input: Any, other: Any) -> Tensor:
    """``input == other`` elementwise, as a bool tensor."""
    return compare("eq", input, other)


def ne(input: Any, other: Any) -> Tensor:
    """``input != other`` elementwise."""
    return compare("ne", input, other)


def lt(input: Any, other: Any) -> Tensor:
    """``input < other`` elementwise."""
    return compare("lt", input, other)


def le(input: Any, other: Any) -> Tensor:
    """``input <= other`` elementwise."""
    return compare("le", input, other)


def gt(input: Any, other: Any) -> Tensor:
    """``input > other`` elementwise."""
    return compare("gt", input, other)


def ge(input: Any, other: Any) -> Tensor:
    """``input >= other`` elementwise."""
    return compare("ge", input, other)


def isnan(input: Tensor) -> Tensor:
    """True where an element is NaN."""
    return strides.laid_out_like(Tensor(input.xp.isnan(input.array)), input)


def isinf(input: Tensor) -> Tensor:
    """True where an element is +inf or -inf."""
    return strides.laid_out_like(Tensor(input.xp.isinf(input.array)), input)


def isfinite(input: Tensor) -> Tensor:
    """True where an element is neither infinite nor NaN."""
    return strides.laid_out_like(Tensor(input.xp.isfinite(input.array)), input)


def _pair(op: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    like = input if isinstance(input, Tensor) else other
    a, b = as_tensor(input, like), as_tensor(other, like)
    if a.device != b.device:
        raise RuntimeError(f"{op}: tensors on different devices: {a.device} and {b.device}")
    return a, b


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """True where ``|input - other| <= atol + rtol·|other|`` (NaNs equal only with ``equal_nan``)."""
    a, b = _pair("isclose", input, other)
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if tolerance < 0:
            raise RuntimeError(f"isclose: {name} must be greater than or equal to zero, but got "
                               f"{tolerance}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"isclose: {a.dtype} did not match {b.dtype}; convert one first")
    return strides.laid_out_like(
        Tensor(a.xp.isclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan)), a, b)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element is ``isclose`` (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both have the same shape and elements (a Python bool; dtypes may differ)."""
    a, b = _pair("equal", input, other)
    return tuple(a.shape) == tuple(b.shape) and bool((a.array == b.array).all())


def _logical(op: str, function: str, input: Any, other: Any) -> Tensor:
    a, b = _pair(op, input, other)
    return strides.laid_out_like(Tensor(getattr(a.xp, function)(a.array, b.array)), a, b)


def logical_and(input: Any, other: Any) -> Tensor:
    """True where both are non-zero."""
    return _logical("logical_and", "logical_and", input, other)


def logical_or(input: Any, other: Any) -> Tensor:
    """True where either is non-zero."""
    return _logical("logical_or", "logical_or", input, other)


def logical_xor(input: Any, other: Any) -> Tensor:
    """True where exactly one is non-zero."""
    return _logical("logical_xor", "logical_xor", input, other)


def logical_not(input: Tensor) -> Tensor:
    """True where the element is zero."""
    return strides.laid_out_like(Tensor(input.xp.logical_not(input.array)), input)
