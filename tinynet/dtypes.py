"""PyTorch's dtype names (``tn.float``, ``tn.long``…), the default float dtype, and legacy type names.

tinynet's dtypes are NumPy's: ``tn.float32`` is ``numpy.float32``, and a tensor's ``.dtype`` is a
``numpy.dtype``, so ``x.dtype == tn.float`` and ``numpy.zeros(2, dtype=tn.long)`` both work.
NumPy has no bfloat16, so tinynet has none either.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy

from tinynet import backend

float16 = half = numpy.float16
float32 = float = numpy.float32  # PyTorch's names shadow the builtins here only
float64 = double = numpy.float64
complex64 = cfloat = numpy.complex64
complex128 = cdouble = numpy.complex128
uint8 = numpy.uint8
int8 = numpy.int8
int16 = short = numpy.int16
int32 = int = numpy.int32
int64 = long = numpy.int64
bool = bool_ = numpy.bool_
dtype = numpy.dtype  # a tensor's .dtype is one: isinstance(x.dtype, tn.dtype) holds
finfo, iinfo = numpy.finfo, numpy.iinfo  # tn.finfo(tn.float32).eps, as PyTorch's

# The legacy names of ``Tensor.type()``: 'torch.FloatTensor' for float32 on the CPU.
TENSOR_TYPE_NAMES = {numpy.dtype(dtype): name for dtype, name in [
    (float32, "FloatTensor"), (float64, "DoubleTensor"), (float16, "HalfTensor"),
    (uint8, "ByteTensor"), (int8, "CharTensor"), (int16, "ShortTensor"), (int32, "IntTensor"),
    (int64, "LongTensor"), (bool_, "BoolTensor"), (complex64, "ComplexFloatTensor"),
    (complex128, "ComplexDoubleTensor")]}


def get_default_dtype() -> Any:
    """The dtype Python floats and float factories (``randn``, ``linspace``…) produce: float32
    unless ``set_default_dtype`` changed it."""
    return backend.default_float.type


def set_default_dtype(d: Any) -> None:
    """Make Python floats and float factories produce dtype ``d`` (float32 or float64, as
    PyTorch; the argument keeps PyTorch's name).

    >>> tn.set_default_dtype(tn.float64)
    >>> tn.tensor([1.0]).dtype
    dtype('float64')
    """
    resolved = numpy.dtype(d)
    if resolved.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {resolved}")
    backend.default_float = resolved


def tensor_type_name(dtype: numpy.dtype, device: str) -> str:
    """PyTorch's legacy name of a tensor type: ``'torch.FloatTensor'``, ``'torch.cuda.LongTensor'``.

    The ``torch.`` prefix is kept because programs compare these strings with PyTorch's literals.
    """
    name = TENSOR_TYPE_NAMES.get(numpy.dtype(dtype))
    if name is None:
        raise TypeError(f"type(): tensors of dtype {dtype} have no legacy type name")
    return ("torch.cuda." if device == "cuda" else "torch.") + name


def parse_tensor_type_name(name: str) -> tuple[numpy.dtype, str]:
    """The dtype and device of a legacy type name (``'torch.cuda.FloatTensor'``; the prefix may
    also be ``tinynet.``)."""
    parts = name.split(".")
    device = "cuda" if len(parts) == 3 and parts[1] == "cuda" else "cpu"
    if parts[0] in ("torch", "tinynet") and len(parts) in (2, 3):
        for dtype, type_name in TENSOR_TYPE_NAMES.items():
            if type_name == parts[-1]:
                return dtype, device
    known = ", ".join(sorted(TENSOR_TYPE_NAMES.values()))
    raise ValueError(f"type(): invalid type {name!r}; expected 'torch.<Name>' or "
                     f"'torch.cuda.<Name>' with <Name> one of {known}")


# ----------------------------------------------------------------------------- type promotion
def promote_types(type1: Any, type2: Any) -> numpy.dtype:
    """The smallest dtype both convert to, by PyTorch's table: where NumPy widens an integer
    next to a float (int64 with float32 is float64 there), PyTorch keeps the float's type.

    >>> tn.promote_types(tn.int64, tn.float32)
    dtype('float32')
    """
    a, b = numpy.dtype(type1), numpy.dtype(type2)
    if a == b:
        return a
    if a.kind == "b" or (a.kind in "iu" and b.kind in "fc"):
        return b
    if b.kind == "b" or (b.kind in "iu" and a.kind in "fc"):
        return a
    return numpy.promote_types(a, b)


def _category(dtype: numpy.dtype) -> int:
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[dtype.kind]


def _scalar_dtype(value: Any) -> numpy.dtype:
    """The dtype PyTorch gives a Python number in arithmetic: bool, int64, or the defaults."""
    if isinstance(value, (builtins.bool, numpy.bool_)):
        return numpy.dtype(numpy.bool_)
    if isinstance(value, (builtins.int, numpy.integer)):
        return numpy.dtype(numpy.int64)
    if isinstance(value, (builtins.float, numpy.floating)):
        return numpy.dtype(backend.default_float)
    return numpy.dtype(numpy.complex128 if backend.default_float == numpy.float64
                       else numpy.complex64)


def result_type(*operands: Any) -> numpy.dtype:
    """The dtype of an elementwise op on ``operands`` (tensors and Python numbers), by
    PyTorch's rule: a category (bool < integer < float < complex) is decided by the highest
    operand, but the exact type by the tensors with dims when they reach that category, else by
    the 0-d tensors, else by the numbers. So float32 · (a 0-d float64) stays float32, int32 + 5
    stays int32, and an int tensor times 2.5 is float32.

    >>> tn.result_type(tn.ones(2, dtype=tn.int32), 5)
    dtype('int32')
    """
    tiers: list[numpy.dtype | None] = [None, None, None]  # dims, 0-d, numbers
    for operand in operands:
        dtype = getattr(operand, "dtype", None)
        if dtype is None or (isinstance(operand, numpy.generic) and operand.ndim == 0
                             and not hasattr(operand, "grad")):
            tier, dtype = 2, _scalar_dtype(operand)
        else:
            tier, dtype = (1 if operand.ndim == 0 else 0), numpy.dtype(dtype)
        tiers[tier] = dtype if tiers[tier] is None else promote_types(tiers[tier], dtype)
    return _combine(tiers[0], _combine(tiers[1], tiers[2]))


def _combine(higher: numpy.dtype | None, lower: numpy.dtype | None) -> numpy.dtype | None:
    """The result of a higher-priority group's dtype next to a lower one's (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is None or _category(higher) >= _category(lower):
        return higher if higher.kind != "b" or lower is None else promote_types(higher, lower)
    if lower.kind == "c" and higher.kind == "f":  # a complex number keeps a float's precision
        return numpy.dtype(numpy.complex64 if higher.itemsize <= 4 else numpy.complex128)
    return promote_types(higher, lower)
