"""PyTorch's dtype names (``tn.float``, ``tn.long``…), the default float dtype, and legacy type names.

tinynet's dtypes are NumPy's: ``tn.float32`` is ``numpy.float32``, and a tensor's ``.dtype`` is a
``numpy.dtype``, so ``x.dtype == tn.float`` and ``numpy.zeros(2, dtype=tn.long)`` both work.
NumPy has no bfloat16, so tinynet has none either.
"""

from __future__ import annotations

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
_TENSOR_TYPE_NAMES = {numpy.dtype(dtype): name for dtype, name in [
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
    name = _TENSOR_TYPE_NAMES.get(numpy.dtype(dtype))
    if name is None:
        raise TypeError(f"type(): tensors of dtype {dtype} have no legacy type name")
    return ("torch.cuda." if device == "cuda" else "torch.") + name


def parse_tensor_type_name(name: str) -> tuple[numpy.dtype, str]:
    """The dtype and device of a legacy type name (``'torch.cuda.FloatTensor'``; the prefix may
    also be ``tinynet.``)."""
    parts = name.split(".")
    device = "cuda" if len(parts) == 3 and parts[1] == "cuda" else "cpu"
    if parts[0] in ("torch", "tinynet") and len(parts) in (2, 3):
        for dtype, type_name in _TENSOR_TYPE_NAMES.items():
            if type_name == parts[-1]:
                return dtype, device
    known = ", ".join(sorted(_TENSOR_TYPE_NAMES.values()))
    raise ValueError(f"type(): invalid type {name!r}; expected 'torch.<Name>' or "
                     f"'torch.cuda.<Name>' with <Name> one of {known}")
