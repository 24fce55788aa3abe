"""A strict stand-in for CuPy on the CPU, for tests: device arrays that fail where CuPy fails.

On a GPU, host and device memory are apart, and CuPy refuses to blur them: ``numpy.asarray`` of a
CuPy array raises ``TypeError``, so does an operation mixing a CuPy array with a ``numpy.ndarray``.
Every read of device data into Python (``item()``, ``float()``, ``bool()``, ``tolist()``,
``.get()``, ``cupy.asnumpy``, a boolean-mask index, whose result size the host must learn) waits
for the GPU: a *sync*. Every array made from host data (``cupy.asarray`` of a list, a NumPy array or
a Python number, an index list) is an *upload*. Python and NumPy scalars next to an array are
neither: CuPy passes them to the kernel as arguments.

``StrictArray`` wraps a NumPy array and behaves that way; this module, used as ``cupy``, makes and
takes ``StrictArray``s, and ``COUNTS`` records every sync and upload with the line that caused it.
``install(monkeypatch)`` plugs the module into ``tinynet.backend`` as the 'cuda' array module, so
that tinynet's CUDA path runs, strictly, on a machine without a GPU. It models CuPy's host/device
boundary only: it says nothing about CuPy's speed or its numerics (it computes with NumPy, with
NumPy's floating-point warnings off, as CuPy's kernels give none), and it lacks only the NumPy
functions listed in ``_NOT_IN_CUPY``, so it complements a run on a real GPU and never replaces
one.
"""

from __future__ import annotations

import contextlib
import operator
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import numpy

__version__ = "strict-stand-in"
_HERE = os.path.abspath(__file__)


@dataclass
class Counts:
    """What happened since the last ``reset``: one line per event, naming where it came from."""

    syncs: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    draws: list[tuple[str, str]] = field(default_factory=list)  # (method, dtype) of random draws

    def reset(self) -> None:
        self.syncs.clear()
        self.uploads.clear()
        self.draws.clear()

    def report(self) -> str:
        lines = [f"{len(self.syncs)} device->host syncs:"] + [f"  {s}" for s in self.syncs]
        lines += [f"{len(self.uploads)} host->device uploads:"] + [f"  {u}" for u in self.uploads]
        return "\n".join(lines)


COUNTS = Counts()  # what happens outside a ``counting()`` block


@contextlib.contextmanager
def counting():
    """Count syncs and uploads of the block alone: ``with counting() as counts: ...``; the counts
    stop at the end of the block."""
    global COUNTS
    outer, COUNTS = COUNTS, Counts()
    try:
        yield COUNTS
    finally:
        COUNTS = outer


def _caller() -> str:
    """The innermost frame outside this file: the line that crossed the host/device boundary,
    followed by up to two of its callers."""
    frame, where = sys._getframe(1), []
    while frame is not None and len(where) < 3:
        path = os.path.abspath(frame.f_code.co_filename)
        if path != _HERE and "/_pytest/" not in path and "/pluggy/" not in path:
            where.append(f"{os.path.relpath(path)}:{frame.f_lineno} ({frame.f_code.co_name})")
        frame = frame.f_back
    return " <- ".join(where)


def _sync(what: str) -> None:
    COUNTS.syncs.append(f"{what} at {_caller()}")


def _upload(what: str) -> None:
    COUNTS.uploads.append(f"{what} at {_caller()}")


def _mixing(name: str) -> TypeError:
    return TypeError(f"Unsupported type <class 'numpy.ndarray'> in {name}: CuPy does not mix host "
                     "(NumPy) and device arrays; move it with cupy.asarray first (strict stand-in)")


_SCALARS = (bool, int, float, complex, numpy.generic)


def _unwrap(x: Any, name: str) -> Any:
    """Raw NumPy arrays of StrictArrays (also inside lists and tuples); refuse host arrays."""
    if isinstance(x, StrictArray):
        return x._a
    if isinstance(x, numpy.ndarray):
        raise _mixing(name)
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(i, name) for i in x)
    return x


def _wrap(x: Any, outs: dict[int, StrictArray] | None = None) -> Any:
    """NumPy results as device arrays; NumPy scalars become 0-d arrays, as CuPy returns them."""
    if isinstance(x, numpy.ndarray):
        if outs and id(x) in outs:
            return outs[id(x)]
        return StrictArray(x)
    if isinstance(x, numpy.generic):
        return StrictArray(numpy.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(i, outs) for i in x)
    if isinstance(x, list):
        return [_wrap(i, outs) for i in x]
    return x


def _call(fn: Any, name: str, args: tuple, kwargs: dict) -> Any:
    outs = {}
    out = kwargs.get("out")
    for o in (out if isinstance(out, tuple) else (out,)):
        if isinstance(o, StrictArray):
            outs[id(o._a)] = o
    with numpy.errstate(all="ignore"):  # CuPy's kernels never warn
        result = fn(*_unwrap(args, name), **{k: _unwrap(v, name) for k, v in kwargs.items()})
    return _wrap(result, outs)


def _operand(x: Any, name: str) -> Any:
    if isinstance(x, StrictArray):
        return x._a
    if isinstance(x, numpy.ndarray):
        raise _mixing(name)
    if isinstance(x, _SCALARS):
        return x
    return NotImplemented


def _binary(fn: Any, name: str, reflected: bool = False):
    def method(self: StrictArray, other: Any) -> Any:
        b = _operand(other, name)
        if b is NotImplemented:
            return NotImplemented
        with numpy.errstate(all="ignore"):  # CuPy's kernels never warn
            return _wrap(fn(b, self._a) if reflected else fn(self._a, b))
    method.__name__ = name
    return method


def _inplace(fn: Any, name: str):
    def method(self: StrictArray, other: Any) -> StrictArray:
        b = _operand(other, name)
        if b is NotImplemented:
            return NotImplemented
        with numpy.errstate(all="ignore"):  # CuPy's kernels never warn
            fn(self._a, b)
        return self
    method.__name__ = name
    return method


def _index(index: Any, name: str, setting: bool = False) -> Any:
    """An index for the raw array; index data from the host is an upload, a boolean device mask
    a sync (CuPy must count its True elements to size the result)."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, StrictArray):
            if i.dtype == bool:
                _sync(f"boolean-mask {'assignment' if setting else 'index'} ({name})")
            i = i._a
        elif isinstance(i, (list, numpy.ndarray)) or isinstance(i, numpy.bool_):
            _upload(f"index from host data in {name}")
            i = numpy.asarray(i)
        out.append(i)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, numpy.integer, slice))
               for i in items)


class StrictArray:
    """A device array: a NumPy array behind CuPy's rules (see the module's docstring)."""

    __slots__ = ("_a", "__weakref__")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, array: numpy.ndarray) -> None:
        if not isinstance(array, numpy.ndarray):
            raise TypeError(f"StrictArray wraps a numpy.ndarray, got {type(array).__name__}")
        self._a = array

    # ---------------------------------------------------------------- host conversion: refused
    def __array__(self, dtype: Any = None, copy: Any = None) -> numpy.ndarray:
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
                        "to construct a NumPy array explicitly. (strict CuPy stand-in)")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # numpy.exp(device array) runs on the device, as CuPy's does; a host operand is refused.
        return _call(getattr(ufunc, method), f"numpy.{ufunc.__name__}", inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        return _call(func, f"numpy.{func.__name__}", args, kwargs)

    # ---------------------------------------------------------------- reads: syncs
    def get(self, stream: Any = None, order: str = "C", out: Any = None,
            blocking: bool = True) -> numpy.ndarray:
        """The data on the host (a copy): a sync."""
        _sync("get()")
        return self._a.copy(order=order)

    def item(self, *args: Any) -> Any:
        _sync("item()")
        return self._a.item(*args)

    def tolist(self) -> Any:
        _sync("tolist()")
        return self._a.tolist()

    def __float__(self) -> float:
        _sync("float()")
        return float(self._a)

    def __int__(self) -> int:
        _sync("int()")
        return int(self._a)

    def __complex__(self) -> complex:
        _sync("complex()")
        return complex(self._a)

    def __bool__(self) -> bool:
        _sync("bool()")
        return bool(self._a)

    def __index__(self) -> int:
        _sync("__index__()")
        return operator.index(self._a)

    def __repr__(self) -> str:
        _sync("repr()")
        return repr(self._a).replace("array(", "strict_array(", 1)

    def __str__(self) -> str:
        _sync("str()")
        return str(self._a)

    def __format__(self, spec: str) -> str:
        _sync("format()")
        return format(self._a, spec)

    def __reduce__(self) -> Any:
        _sync("pickle")
        return (StrictArray, (self._a.copy(),))

    # ---------------------------------------------------------------- what it is
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: StrictArray(self._a.T))
    mT = property(lambda self: StrictArray(self._a.mT))
    real = property(lambda self: StrictArray(self._a.real))
    imag = property(lambda self: StrictArray(self._a.imag))

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (StrictArray(numpy.asarray(self._a[i])) for i in range(len(self._a)))

    def __copy__(self) -> StrictArray:
        return StrictArray(self._a.copy())

    def __deepcopy__(self, memo: dict) -> StrictArray:
        return StrictArray(self._a.copy())

    def __getattr__(self, name: str) -> Any:
        # Methods (sum, reshape, astype, transpose…) run on the raw array and return device arrays;
        # NumPy's protocols (__array_interface__…) are not forwarded: they would let NumPy read it.
        if name.startswith("__") or name == "_a":
            raise AttributeError(name)
        value = getattr(self._a, name)
        if callable(value):
            return lambda *args, **kwargs: _call(value, f"ndarray.{name}", args, kwargs)
        return _wrap(value)

    def fill(self, value: Any) -> None:
        if isinstance(value, numpy.ndarray):
            raise _mixing("ndarray.fill")
        self._a.fill(_operand(value, "ndarray.fill"))

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index: Any) -> StrictArray:
        result = self._a[_index(index, "getitem")]
        return StrictArray(numpy.asarray(result)) if not isinstance(result, numpy.ndarray) \
            else StrictArray(result)

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(value, numpy.ndarray):
            raise _mixing("setitem")
        if isinstance(value, _SCALARS) and not _is_basic(index):
            _upload("a scalar assigned through an array index (CuPy makes an array of it)")
        raw = _index(index, "setitem", setting=True)
        self._a[raw] = value._a if isinstance(value, StrictArray) else value

    def __neg__(self) -> StrictArray:
        return _wrap(-self._a)

    def __pos__(self) -> StrictArray:
        return _wrap(+self._a)

    def __abs__(self) -> StrictArray:
        return _wrap(abs(self._a))

    def __invert__(self) -> StrictArray:
        return _wrap(~self._a)


# Arithmetic operators, reflected and in place: (method name, CuPy's name, operator, in place).
_ARITHMETIC = [("add", "add", operator.add, operator.iadd),
               ("sub", "subtract", operator.sub, operator.isub),
               ("mul", "multiply", operator.mul, operator.imul),
               ("truediv", "divide", operator.truediv, operator.itruediv),
               ("floordiv", "floor_divide", operator.floordiv, operator.ifloordiv),
               ("mod", "remainder", operator.mod, operator.imod),
               ("pow", "power", operator.pow, operator.ipow),
               ("matmul", "matmul", operator.matmul, None),
               ("and", "bitwise_and", operator.and_, operator.iand),
               ("or", "bitwise_or", operator.or_, operator.ior),
               ("xor", "bitwise_xor", operator.xor, operator.ixor)]
for _short, _name, _fn, _in_place in _ARITHMETIC:
    setattr(StrictArray, f"__{_short}__", _binary(_fn, _name))
    setattr(StrictArray, f"__r{_short}__", _binary(_fn, _name, reflected=True))
    if _in_place is not None:
        setattr(StrictArray, f"__i{_short}__", _inplace(_in_place, _name))
for _short, _name in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
                      ("gt", "greater"), ("ge", "greater_equal")):
    setattr(StrictArray, f"__{_short}__", _binary(getattr(operator, _short), _name))


# -------------------------------------------------------------------- the ``cupy`` namespace
def _from_host(data: Any, name: str) -> bool:
    """True when making an array of ``data`` copies host memory to the device."""
    if isinstance(data, StrictArray):
        return False
    if isinstance(data, (list, tuple)) and data and all(isinstance(i, StrictArray) for i in data):
        return False
    return True


def _constructor(fn: Any, name: str):
    def make(data: Any, *args: Any, **kwargs: Any) -> StrictArray:
        if isinstance(data, StrictArray):
            return _wrap(fn(data._a, *args, **kwargs))
        _upload(f"cupy.{name} of host data ({type(data).__name__})")
        raw = data.get() if hasattr(data, "__cuda_array_interface__") else data
        return StrictArray(numpy.array(fn(raw, *args, **kwargs), copy=True))
    make.__name__ = name
    return make


def asnumpy(a: Any, stream: Any = None, order: str = "C", out: Any = None,
            blocking: bool = True) -> numpy.ndarray:
    """cupy.asnumpy: a device array (a sync) or host data, as a NumPy array."""
    if isinstance(a, StrictArray):
        return a.get(order=order)
    return numpy.asarray(a, order=order)


def get_array_module(*arrays: Any) -> Any:
    return sys.modules[__name__] if any(isinstance(a, StrictArray) for a in arrays) else numpy


def _sliding_window_view(x: StrictArray, window_shape: Any, axis: Any = None, **kwargs: Any):
    # CuPy's version uploads the window shape and reads back a check of it (cupy/lib/stride_tricks)
    _upload("cupy.lib.stride_tricks.sliding_window_view's window shape")
    _sync("cupy.lib.stride_tricks.sliding_window_view's window check")
    return _call(numpy.lib.stride_tricks.sliding_window_view, "sliding_window_view",
                 (x, window_shape), dict(axis=axis, **kwargs))


class _Namespace(types.ModuleType):
    """A NumPy (sub)module seen as CuPy: functions take and return device arrays."""

    def __init__(self, name: str, target: Any, overrides: dict[str, Any]) -> None:
        super().__init__(name)
        self._target, self._overrides = target, overrides

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._overrides:
            return self._overrides[name]
        if self._target is numpy and name in _NOT_IN_CUPY:
            raise AttributeError(f"module 'cupy' has no attribute '{name}'")
        value = getattr(self._target, name)
        if isinstance(value, types.ModuleType):
            return _Namespace(f"{self.__name__}.{name}", value, {})
        if isinstance(value, numpy.ufunc):
            return _Ufunc(value)
        if isinstance(value, type) or not callable(value):
            return value
        return lambda *args, **kwargs: _call(value, f"cupy.{name}", args, kwargs)


class _Ufunc:
    def __init__(self, ufunc: numpy.ufunc) -> None:
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _call(self._ufunc, f"cupy.{self.__name__}", args, kwargs)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._ufunc, name)
        if not callable(method):
            return method
        return lambda *args, **kwargs: _call(method, f"cupy.{self.__name__}.{name}", args, kwargs)


# ---------------------------------------------------------------- random
class Generator:
    """cupy.random.Generator's methods that tinynet may call, drawing on the device."""

    def __init__(self, seed: Any = None) -> None:
        self._rng = numpy.random.default_rng(seed)

    def _record(self, method: str, dtype: Any) -> None:
        COUNTS.draws.append((method, numpy.dtype(dtype).name))

    def random(self, size: Any = None, dtype: Any = numpy.float64, out: Any = None) -> StrictArray:
        self._record("random", dtype)
        return StrictArray(numpy.asarray(self._rng.random(size, dtype=dtype)))

    def standard_normal(self, size: Any = None, dtype: Any = numpy.float64,
                        out: Any = None) -> StrictArray:
        self._record("standard_normal", dtype)
        return StrictArray(numpy.asarray(self._rng.standard_normal(size, dtype=dtype)))

    def integers(self, low: int, high: int | None = None, size: Any = None,
                 dtype: Any = numpy.int64, endpoint: bool = False) -> StrictArray:
        self._record("integers", dtype)
        return StrictArray(numpy.asarray(self._rng.integers(low, high, size, dtype=dtype,
                                                            endpoint=endpoint)))

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None,
                dtype: Any = numpy.float64) -> StrictArray:
        _upload("cupy.random.Generator.uniform's bounds (CuPy makes arrays of low and high)")
        self._record("uniform", dtype)
        return StrictArray(numpy.asarray(self._rng.uniform(low, high, size)).astype(dtype))


def default_rng(seed: Any = None) -> Generator:
    return Generator(seed)


# ---------------------------------------------------------------- cupy.cuda
class _Runtime:
    device_count = 1

    def getDeviceCount(self) -> int:  # noqa: N802 (CuPy's name)
        return self.device_count


_current_device = [0]


class Device:
    """cupy.cuda.Device: ``Device(n).use()`` makes GPU n the current one."""

    def __init__(self, device: int | None = None) -> None:
        self.id = _current_device[0] if device is None else int(device)
        if not 0 <= self.id < _runtime.device_count:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")

    def use(self) -> None:
        _current_device[0] = self.id

    def synchronize(self) -> None:
        _sync("Device.synchronize()")

    def __enter__(self) -> Device:
        self._previous = _current_device[0]
        self.use()
        return self

    def __exit__(self, *exc: Any) -> None:
        _current_device[0] = self._previous


_runtime = _Runtime()
cuda = types.SimpleNamespace(runtime=_runtime, Device=Device)

# ---------------------------------------------------------------- assembling the modules
# NumPy's floating-point error settings: CuPy's kernels raise no such warnings and it has none
_NOT_IN_CUPY = {"errstate", "seterr", "geterr", "seterrcall", "geterrcall"}
ndarray = StrictArray
_OVERRIDES = {
    "ndarray": StrictArray, "asnumpy": asnumpy, "get_array_module": get_array_module,
    "cuda": cuda, "__version__": __version__,
    "asarray": _constructor(numpy.asarray, "asarray"),
    "array": _constructor(numpy.array, "array"),
    "asanyarray": _constructor(numpy.asarray, "asanyarray"),
    "ascontiguousarray": _constructor(numpy.ascontiguousarray, "ascontiguousarray"),
    "random": _Namespace("strict_cupy.random", numpy.random,
                         {"default_rng": default_rng, "Generator": Generator}),
    "lib": _Namespace("strict_cupy.lib", numpy.lib, {
        "stride_tricks": _Namespace("strict_cupy.lib.stride_tricks", numpy.lib.stride_tricks,
                                    {"sliding_window_view": _sliding_window_view})}),
}
module = _Namespace("strict_cupy", numpy, _OVERRIDES)


def _scatter_add(a: StrictArray, slices: Any, value: Any) -> None:
    numpy.add.at(a._a, _index(slices, "cupyx.scatter_add"),
                 value._a if isinstance(value, StrictArray) else _operand(value, "scatter_add"))


def _special(name: str):
    import scipy.special

    fn = getattr(scipy.special, name)
    return lambda *args, **kwargs: _call(fn, f"cupyx.scipy.special.{name}", args, kwargs)


class LinearOperator:
    """cupyx.scipy.sparse.linalg.LinearOperator: ``matvec`` takes and returns device vectors."""

    def __init__(self, shape: tuple[int, int], matvec: Any, dtype: Any = None, **kwargs: Any) -> None:
        self.shape, self.matvec, self.dtype = tuple(shape), matvec, numpy.dtype(dtype)


def eigsh(a: LinearOperator, k: int = 6, *, which: str = "LM", v0: Any = None, ncv: Any = None,
          maxiter: Any = None, tol: float = 0, return_eigenvectors: bool = True) -> Any:
    """cupyx.scipy.sparse.linalg.eigsh as the caller sees it: device vectors in and out (the
    solver itself is SciPy's, on the raw arrays; CuPy's internal transfers are not modelled)."""
    import scipy.sparse.linalg

    def matvec(v: numpy.ndarray) -> numpy.ndarray:
        out = a.matvec(StrictArray(numpy.asarray(v, dtype=a.dtype).ravel()))
        if not isinstance(out, StrictArray):
            raise TypeError(f"eigsh: matvec returned {type(out).__name__}, not a device array")
        return out._a

    if v0 is not None and not isinstance(v0, StrictArray):
        raise _mixing("eigsh's v0") if isinstance(v0, numpy.ndarray) else TypeError("eigsh: v0")
    operator = scipy.sparse.linalg.LinearOperator(a.shape, matvec=matvec, dtype=a.dtype)
    result = scipy.sparse.linalg.eigsh(operator, k=k, which=which, ncv=ncv, maxiter=maxiter,
                                       tol=tol, v0=None if v0 is None else v0._a,
                                       return_eigenvectors=return_eigenvectors)
    return _wrap(result)


cupyx = types.SimpleNamespace(
    scatter_add=_scatter_add,
    scipy=types.SimpleNamespace(
        special=types.SimpleNamespace(erf=_special("erf")),
        sparse=types.SimpleNamespace(linalg=types.SimpleNamespace(
            LinearOperator=LinearOperator, eigsh=eigsh))),
)


def install(monkeypatch: Any, device_count: int = 1) -> types.ModuleType:
    """Make this module tinynet's CUDA array module for one test (pytest's ``monkeypatch``
    undoes it afterwards); returns the ``cupy`` stand-in."""
    from tinynet import backend

    monkeypatch.setattr(_runtime, "device_count", device_count)
    monkeypatch.setattr(backend, "cupy", module)
    monkeypatch.setattr(backend, "cupyx", cupyx)
    monkeypatch.setattr(backend, "array_types", (numpy.ndarray, StrictArray))
    monkeypatch.setattr(backend, "_cuda_ok", True)
    monkeypatch.setattr(backend, "_generators", dict(backend._generators))
    monkeypatch.setattr(backend, "_pending_checks", {})
    backend._generators["cuda"] = default_rng(0)
    return module
