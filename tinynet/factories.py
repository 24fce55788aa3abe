"""Ways to make a Tensor: from data, filled with a constant, a range, or random numbers.

Defaults follow PyTorch: Python floats give the default dtype (float32 unless
``tn.set_default_dtype`` changed it), Python ints give int64, a NumPy array keeps its dtype, and
tensors go to the default device (``tn.set_default_device``). Sizes may be given as ``zeros(2, 3)``,
``zeros((2, 3))``, ``zeros([2, 3])``, ``zeros(x.shape)`` or ``zeros(size=(2, 3))``. Random
numbers come from the generator that ``tn.manual_seed`` seeds; they are drawn on the CPU and then
moved, so one seed gives the same numbers on every device.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy

from tinynet import backend, strides
from tinynet.generator import numpy_generator
from tinynet.tensor import Tensor, _host_array


def _size(size: tuple, keyword: Any = None) -> tuple[int, ...]:
    """``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros(size=(2, 3))`` all mean shape (2, 3)."""
    if keyword is not None:
        if size:
            raise TypeError("give the size either as arguments or as size=, not both")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, (int, numpy.integer)) and n >= 0 for n in size):
        raise ValueError(f"sizes must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


def _finish(array: numpy.ndarray | Any, device: str | None, requires_grad: bool) -> Tensor:
    """Move to ``device`` (the default device when None) and wrap; the Tensor refuses
    requires_grad on integers."""
    device = _device(device)
    return Tensor(backend.to_device(array, device), requires_grad=requires_grad)


def _device(device: str | None) -> str:
    """``device``, checked, or the default device when None."""
    return backend.check_device(device or backend.default_device)


def _float_dtype(dtype: Any) -> numpy.dtype:
    return numpy.dtype(dtype or backend.default_float)


def tensor(data: Any, dtype: Any = None, device: str | None = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor (a copy) from a list, a number, a NumPy/CuPy array or a Tensor.

    >>> tn.tensor([[1.0, 2.0]]).dtype
    dtype('float32')
    >>> tn.tensor([2]).dtype
    dtype('int64')
    """
    if isinstance(data, Tensor):  # as in PyTorch, a Tensor keeps its device, other data takes
        device = device or data.device  # the default device
        data = data.array
    if backend.is_array(data):
        array = data.astype(dtype or data.dtype, copy=True)
    else:
        array = _host_array(data, dtype)
    return _finish(array, device, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can: a Tensor or NumPy/CuPy array already of
    that dtype and device comes back without a copy."""
    if isinstance(data, Tensor):
        return data.to(device or data.device, dtype)
    if backend.is_array(data):
        same_dtype = dtype is None or numpy.dtype(dtype) == data.dtype
        if same_dtype and (device is None or backend.check_device(device) == backend.device_of(data)):
            return Tensor(data)
    return tensor(data, dtype, device)


def from_numpy(array: numpy.ndarray) -> Tensor:
    """A tensor that shares memory with a NumPy array (no copy, dtype kept)."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*size: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False,
          **keywords: Any) -> Tensor:
    """A tensor of zeros (the default float dtype unless ``dtype``)."""
    return full(_size(size, keywords.pop("size", None)), 0.0, dtype=dtype, device=device,
                requires_grad=requires_grad, **keywords)


def ones(*size: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False,
         **keywords: Any) -> Tensor:
    """A tensor of ones (the default float dtype unless ``dtype``)."""
    return full(_size(size, keywords.pop("size", None)), 1.0, dtype=dtype, device=device,
                requires_grad=requires_grad, **keywords)


def empty(*size: Any, dtype: Any = None, device: str | None = None, requires_grad: bool = False,
          **keywords: Any) -> Tensor:
    """A tensor to be filled in. PyTorch leaves its memory uninitialised; tinynet fills it with
    zeros, so a program that reads it before writing gets zeros rather than garbage."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad, **keywords)


def full(size: Any, fill_value: float | int | bool, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False, **keywords: Any) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype inferred as PyTorch does)."""
    _no_unknown("full", keywords)
    size = _size((size,) if isinstance(size, int) else tuple(size))
    dtype = dtype or _host_array(fill_value).dtype
    device = _device(device)
    # made where it lives: on a GPU the fill value goes in as a kernel argument, nothing is uploaded
    array = backend.xp_of(device).full(size, fill_value, dtype=dtype)
    return Tensor(array, requires_grad=requires_grad)


def _no_unknown(op: str, keywords: dict[str, Any]) -> None:
    """PyTorch's layout/pin_memory/memory_format take their defaults here; anything else is refused."""
    unknown = {k: v for k, v in keywords.items()
               if k not in ("layout", "pin_memory", "memory_format", "out") or
               (k == "out" and v is not None) or (k == "pin_memory" and v)}
    if unknown:
        raise TypeError(f"{op}: unsupported arguments {sorted(unknown)}")


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: str | None = None,
        requires_grad: bool = False) -> Tensor:
    """The n×m (default n×n) identity matrix."""
    return _finish(numpy.eye(n, m, dtype=_float_dtype(dtype)), device, requires_grad)


def _like(input: Tensor, dtype: Any, device: Any) -> tuple[Any, Any]:
    return dtype or input.dtype, device or input.device


def zeros_like(input: Tensor, dtype: Any = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros of ``input``'s shape, dtype and device."""
    return full_like(input, 0, dtype, device, requires_grad)


def ones_like(input: Tensor, dtype: Any = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    """Ones of ``input``'s shape, dtype and device."""
    return full_like(input, 1, dtype, device, requires_grad)


def empty_like(input: Tensor, dtype: Any = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    """``empty`` of ``input``'s shape, dtype and device (zeros in tinynet)."""
    return full_like(input, 0, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value: Any, dtype: Any = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``input``'s shape, dtype and device."""
    dtype, device = _like(input, dtype, device)
    return strides.laid_out_like(
        full(input.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad), input)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``; ``arange(5)`` is 0..4 as int64."""
    if end is None:
        start, end = 0, start
    bounds = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    integral = all(isinstance(v, (int, numpy.integer)) for v in bounds)
    dtype = numpy.dtype(dtype or (numpy.int64 if integral else backend.default_float))
    if bounds[2] == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype.kind in "iu":  # PyTorch counts in the integer type: the bounds are truncated
        bounds = [int(v) for v in bounds]
        if bounds[2] == 0:
            raise ValueError(f"arange: step must be nonzero, and step {step} truncates to 0 in "
                             f"{dtype}")
    start, end, step = bounds
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start {start}, end {end}, step {step})")
    # float values as PyTorch computes them: start + i·step in float64, then rounded
    values = numpy.arange(start, end, step, dtype=dtype if dtype.kind in "iub" else numpy.float64)
    return _finish(values.astype(dtype, copy=False), device, requires_grad)


def _linspace64(start: float, end: float, steps: int, dtype: numpy.dtype) -> numpy.ndarray:
    """PyTorch's linspace: the first half counts up from ``start``, the second down from ``end``,
    each point one fused multiply-add of a step of the output's precision. Computing that in
    float64 reproduces PyTorch's float32 values exactly."""
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    precision = dtype if dtype.kind == "f" and dtype.itemsize < 8 else numpy.dtype(numpy.float64)
    first, last = (numpy.float64(precision.type(v)) for v in (start, end))
    if steps == 1:
        return numpy.array([first])
    step = numpy.float64(precision.type((precision.type(last) - precision.type(first)) /
                                        precision.type(max(steps - 1, 1))))
    index = numpy.arange(steps, dtype=numpy.float64)
    return numpy.where(index < steps // 2, first + step * index, last - step * (steps - 1 - index))


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: str | None = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    dtype = _float_dtype(dtype)
    values = _linspace64(float(start), float(end), int(steps), dtype)
    return _finish(values.astype(dtype), device, requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: str | None = None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)`` (computed in float64, as PyTorch)."""
    dtype = _float_dtype(dtype)
    exponents = _linspace64(float(start), float(end), int(steps), numpy.dtype(numpy.float64))
    return _finish((float(base) ** exponents).astype(dtype), device, requires_grad)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` (PyTorch's default) output i
    varies along dim i; with ``'xy'`` the first two dims are swapped, as NumPy's default.

    Like PyTorch, it warns when ``indexing`` is not given, because the two libraries' defaults
    differ. The grids are expanded views, so gradients flow back to the inputs.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: pass indexing='ij' (the default, as PyTorch) or 'xy' (NumPy's "
                      "default); a future PyTorch will require it", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(not isinstance(t, Tensor) or t.ndim > 1 for t in tensors):
        found = [tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__ for t in tensors]
        raise RuntimeError(f"meshgrid: expected 0-d or 1-D tensors, got {found}")
    vectors = [t.reshape(-1) for t in tensors]
    shape = tuple(v.shape[0] for v in vectors)
    grids = [v.reshape([-1 if d == i else 1 for d in range(len(vectors))]).expand(shape)
             for i, v in enumerate(vectors)]
    if indexing == "xy" and len(grids) >= 2:
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


# --------------------------------------------------------------------------- random
def _standard_normal(size: tuple[int, ...], dtype: Any, rng: Any = None) -> numpy.ndarray:
    rng = backend.generator("cpu") if rng is None else rng
    return rng.standard_normal(size, dtype=numpy.float64).astype(dtype)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: str | None = None,
          requires_grad: bool = False, **keywords: Any) -> Tensor:
    """Standard normal samples of the given size (drawn from ``generator``, a tn.Generator, when
    given)."""
    dtype = _float_dtype(dtype)
    array = _standard_normal(_size(size, keywords.pop("size", None)), dtype,
                             numpy_generator(generator, "randn"))
    _no_unknown("randn", keywords)
    return _finish(array, device, requires_grad)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: str | None = None,
         requires_grad: bool = False, **keywords: Any) -> Tensor:
    """Uniform samples on [0, 1) (drawn from ``generator``, a tn.Generator, when given)."""
    dtype = _float_dtype(dtype)
    shape = _size(size, keywords.pop("size", None))
    _no_unknown("rand", keywords)
    array = numpy_generator(generator, "rand").random(shape, dtype=numpy.float64)
    return _finish(array.astype(dtype), device, requires_grad)


def randint(*args: Any, size: Any = None, generator: Any = None, dtype: Any = None,
            device: str | None = None, requires_grad: bool = False, low: int | None = None,
            high: int | None = None) -> Tensor:
    """Integers in [low, high) as int64: ``randint(high, size)`` or ``randint(low, high, size)``
    (or the same by keyword), as PyTorch."""
    positional = list(args)
    if size is None and positional and isinstance(positional[-1], (tuple, list)):
        size = positional.pop()
    if high is None and positional:
        high = positional.pop()
    if low is None:
        low = positional.pop() if positional else 0
    if positional or high is None or size is None:
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {args} "
                        f"with low={low}, high={high}, size={size}")
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    array = numpy_generator(generator, "randint").integers(low, high, size=_size(tuple(size)))
    return _finish(array.astype(dtype or numpy.int64), device, requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: str | None = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 as int64 (drawn from ``generator`` when given)."""
    array = numpy_generator(generator, "randperm").permutation(n).astype(dtype or numpy.int64)
    return _finish(array, device, requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Sequence[int] | None = None, *,
           dtype: Any = None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std²): ``mean`` and ``std`` are numbers (then ``size`` is needed) or
    tensors, broadcast together. The samples carry no gradient to mean or std."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    mean_a, std_a = (backend.to_numpy(v.array) if isinstance(v, Tensor) else
                     numpy.asarray(v, dtype=numpy.float64) for v in (mean, std))
    if tensors:
        shape = numpy.broadcast_shapes(mean_a.shape, std_a.shape)
        dtype = dtype or numpy.result_type(*[t.dtype for t in tensors])
        device = device or tensors[0].device
    elif size is None:
        raise TypeError("normal: with a number mean and std, give size")
    else:
        shape, dtype = _size(tuple(size)), _float_dtype(dtype)
    if (std_a < 0).any():
        raise RuntimeError(f"normal: std must be non-negative, got {std_a.min()}")
    values = mean_a + std_a * _standard_normal(shape, numpy.float64)
    return _finish(values.astype(dtype), device, requires_grad)


def rand_like(input: Tensor, dtype: Any = None, device: str | None = None,
              requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) of ``input``'s shape, dtype and device."""
    dtype, device = _like(input, dtype, device)
    return strides.laid_out_like(rand(input.shape, dtype=_floating("rand_like", dtype),
                                      device=device, requires_grad=requires_grad), input)


def randn_like(input: Tensor, dtype: Any = None, device: str | None = None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``input``'s shape, dtype and device."""
    dtype, device = _like(input, dtype, device)
    return strides.laid_out_like(randn(input.shape, dtype=_floating("randn_like", dtype),
                                       device=device, requires_grad=requires_grad), input)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None,
                 device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Integers in [low, high) of ``input``'s shape, dtype and device: ``randint_like(x, high)``
    or ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    dtype, device = _like(input, dtype, device)
    return strides.laid_out_like(randint(low, high, tuple(input.shape), dtype=dtype,
                                         device=device, requires_grad=requires_grad), input)


def _floating(op: str, dtype: Any) -> numpy.dtype:
    if numpy.dtype(dtype).kind != "f":
        raise TypeError(f"{op}: expected a floating point dtype, got {numpy.dtype(dtype)}")
    return numpy.dtype(dtype)


manual_seed = backend.manual_seed
