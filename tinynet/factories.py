"""Ways to make a Tensor: from data, filled with a constant, a range, or random numbers.

Defaults follow PyTorch: Python floats give float32, Python ints give int64, a NumPy array keeps
its dtype. Random numbers come from the generator that ``tn.manual_seed`` seeds; they are drawn
on the CPU and then moved, so one seed gives the same numbers on every device.
"""

from __future__ import annotations

from typing import Any

import numpy

from tinynet import backend
from tinynet.tensor import Tensor, _host_array

float32, float64, float16 = numpy.float32, numpy.float64, numpy.float16
int64, int32, int8, uint8, bool_ = numpy.int64, numpy.int32, numpy.int8, numpy.uint8, numpy.bool_


def _size(size: tuple) -> tuple[int, ...]:
    """``zeros(2, 3)`` and ``zeros((2, 3))`` both mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, (int, numpy.integer)) and n >= 0 for n in size):
        raise ValueError(f"sizes must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


def _finish(array: numpy.ndarray | Any, device: str | None, requires_grad: bool) -> Tensor:
    """Move to ``device`` and wrap (the Tensor refuses requires_grad on integers)."""
    device = backend.check_device(device or "cpu")
    return Tensor(backend.to_device(array, device), requires_grad=requires_grad)


def tensor(data: Any, dtype: Any = None, device: str | None = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor (a copy) from a list, a number, a NumPy/CuPy array or a Tensor.

    >>> tn.tensor([[1.0, 2.0]]).dtype
    dtype('float32')
    >>> tn.tensor([2]).dtype
    dtype('int64')
    """
    if isinstance(data, Tensor):
        data = data.array
    if backend.is_array(data):
        array = data.astype(dtype or data.dtype, copy=True)
        device = device or backend.device_of(data)
    else:
        array = _host_array(data, dtype)
    return _finish(array, device, requires_grad)


def from_numpy(array: numpy.ndarray) -> Tensor:
    """A tensor that shares memory with a NumPy array (no copy, dtype kept)."""
    return Tensor(array)


def zeros(*size: Any, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    return full(_size(size), 0.0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    return full(_size(size), 1.0, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size: Any, fill_value: float | int | bool, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype inferred as PyTorch does)."""
    size = _size((size,) if isinstance(size, int) else tuple(size))
    dtype = dtype or _host_array(fill_value).dtype
    return _finish(numpy.full(size, fill_value, dtype=dtype), device, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    return full(t.shape, 0, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, 1, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``; ``arange(5)`` is 0..4 as int64."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    integral = all(isinstance(v, int) for v in (start, end, step))
    dtype = dtype or (numpy.int64 if integral else backend.default_float)
    return _finish(numpy.arange(start, end, step, dtype=dtype), device, requires_grad)


def randn(*size: Any, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples of the given size."""
    dtype = numpy.dtype(dtype or backend.default_float)
    array = backend.generator("cpu").standard_normal(_size(size), dtype=numpy.float64)
    return _finish(array.astype(dtype), device, requires_grad)


def rand(*size: Any, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    dtype = numpy.dtype(dtype or backend.default_float)
    array = backend.generator("cpu").random(_size(size), dtype=numpy.float64)
    return _finish(array.astype(dtype), device, requires_grad)


def randint(low: int, high: int, size: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """Integers in [low, high) as int64."""
    array = backend.generator("cpu").integers(low, high, size=_size(tuple(size)))
    return _finish(array.astype(dtype or numpy.int64), device, False)


def randperm(n: int, device: str | None = None) -> Tensor:
    """A random permutation of 0..n-1 as int64."""
    return _finish(backend.generator("cpu").permutation(n).astype(numpy.int64), device, False)


manual_seed = backend.manual_seed
