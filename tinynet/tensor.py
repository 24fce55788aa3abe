"""The Tensor: an array (NumPy or CuPy), plus what autograd needs to know about it.

A Tensor holds four things: ``array`` (the raw NumPy/CuPy array), ``requires_grad``, ``grad``
(filled by backward) and ``grad_fn`` (the op that produced it, ``None`` for a leaf). As in
PyTorch, ``.data`` is the same storage as a detached Tensor. This file has the Tensor's state,
autograd, conversions and printing; the methods that compute something (``x + y``, ``x.sin()``,
``x.sum()``, ``x.view(…)``, ``x.add_(…)``…) are one-line calls into ``tinynet.ops``, inherited
from ``tensor_methods.TensorMethods``.

Each tensor carries a version counter, shared with its views, that every in-place change bumps.
An op that needs an input's values in its backward remembers the version it saw, and the backward
walk refuses to run on values changed since (PyTorch's rule).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy

from tinynet import backend, printing, strides
from tinynet.devices import CPU, CUDA, device
from tinynet.dtypes import parse_tensor_type_name, tensor_type_name
from tinynet.tensor_methods import TensorMethods

MinMax = namedtuple("MinMax", ["values", "indices"])


class Size(tuple):
    """A tensor's shape: a tuple (``x.shape == (2, 3)`` holds) that prints as ``tinynet.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"tinynet.Size({list(self)})"

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other: tuple) -> Size:
        return Size(super().__add__(other))

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        count = 1
        for n in self:
            count *= n
        return count


def check_can_require_grad(dtype: Any, what: str = "Tensor") -> None:
    """Only floating-point tensors can require grad: an integer gradient would be truncated."""
    if dtype.kind not in "fc":
        raise RuntimeError(f"only Tensors of floating point and complex dtype can require "
                           f"gradients; this {what} has dtype {dtype}. Convert it first, for "
                           "example with .float()")


class Tensor(TensorMethods):
    """An n-dimensional array that records the ops applied to it when it requires grad.

    Make one with ``tn.tensor``, ``tn.zeros``, ``tn.randn``…. The constructor wraps an array as
    it is; given Python data it acts as PyTorch's legacy ``torch.Tensor``: ``Tensor(2, 3)`` is a
    (2, 3) float tensor (of zeros), ``Tensor([1, 2])`` the default float dtype.

    >>> x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # _view_record: how a strided tensor was made (None for a contiguous one, tinynet.strides).
    # Set only when they apply: _is_view (by view ops), _replaced_grad_fns (by in-place ops),
    # _tensor_hooks (by a leaf's register_hook).
    __slots__ = ("array", "_requires_grad", "_grad", "grad_fn", "_version_counter", "_is_view",
                 "_view_record", "_replaced_grad_fns", "_tensor_hooks", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected method

    def __init__(self, data: Any = None, *sizes: int, requires_grad: bool = False,
                 grad_fn: Any = None) -> None:
        if not isinstance(data, backend.array_types):
            if isinstance(data, Tensor):
                data = data.array
            elif isinstance(data, numpy.generic) and not sizes:
                data = numpy.asarray(data)  # a NumPy scalar alone is data, as an array is
            else:
                data = legacy_array(data, sizes, backend.default_float, "Tensor")
        elif sizes:
            raise TypeError(f"Tensor: an array comes alone, got sizes {sizes} after it")
        if requires_grad and grad_fn is None:
            check_can_require_grad(data.dtype)
        self.array = data
        self._requires_grad = requires_grad
        self._grad: Tensor | None = None
        self.grad_fn = grad_fn
        # [version, in-place clock at the last change]: a list, so views and detach() share it
        self._version_counter = [0, 0]
        self._view_record = None

    # ----------------------------------------------------------------- autograd state
    @property
    def grad(self) -> Tensor | None:
        """The gradient backward accumulated here (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:  # PyTorch's checks: a gradient must fit what it is the gradient of
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.array.shape != self.array.shape:
                raise RuntimeError(f"assigned grad has data of a different size: grad "
                                   f"{tuple(value.shape)}, tensor {tuple(self.shape)}")
            if value.array.dtype != self.array.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: grad "
                                   f"{value.dtype}, tensor {self.dtype}")
            if type(value.array) is not type(self.array) and value.device != self.device:
                raise RuntimeError(f"assigned grad has data located on a different device: grad "
                                   f"on {value.device}, tensor on {self.device}")
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if value:
            check_can_require_grad(self.dtype)
        self._requires_grad = bool(value)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen (PyTorch's ``_version``)."""
        return self._version_counter[0]

    @property
    def data(self) -> Tensor:
        """The same storage as a detached Tensor whose in-place changes autograd does not check.

        >>> with tn.no_grad():
        ...     w.data.mul_(0.5)     # or, equally, w.mul_(0.5)
        """
        out = Tensor(self.array)
        strides.take_strides(out, self)
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        if (value.shape, value.dtype, value.device) != (self.shape, self.dtype, self.device):
            raise RuntimeError(
                f"Tensor.data = value: expected a tensor of shape {tuple(self.shape)}, dtype "
                f"{self.dtype} on {self.device}, got shape {tuple(value.shape)}, dtype "
                f"{value.dtype} on {value.device}; tinynet only swaps storage of the same kind")
        self.array = value.array
        strides.take_strides(self, value)

    # ----------------------------------------------------------------- what it is
    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    @property
    def dtype(self) -> numpy.dtype:
        return self.array.dtype

    @property
    def device(self) -> device:
        return CUDA if backend.device_of(self.array) == "cuda" else CPU

    @property
    def is_cuda(self) -> bool:
        """True when the data is on the GPU (CuPy)."""
        return self.device == "cuda"

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def xp(self) -> Any:
        """The array module of this tensor's data: ``numpy`` or ``cupy``."""
        return backend.get_array_module(self.array)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def size(self, dim: int | None = None) -> Size | int:
        """The shape, or with ``dim`` the size of that dimension."""
        return self.shape if dim is None else self.array.shape[dim]

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.array.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements."""
        return int(self.array.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self.array.itemsize

    itemsize = property(element_size)

    @property
    def nbytes(self) -> int:
        """Bytes of all the elements."""
        return int(self.array.nbytes)

    @property
    def is_cpu(self) -> bool:
        """True when the data is in host memory (NumPy)."""
        return self.device == "cpu"

    def get_device(self) -> int:
        """The GPU's number, or -1 on the CPU (PyTorch's convention)."""
        return 0 if self.is_cuda else -1

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors."""
        return self.dtype.kind == "f"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return printing.tensor_repr(self)

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self.ndim == 0:
            return format(self.item(), format_spec)
        if format_spec:
            raise TypeError(f"unsupported format string {format_spec!r} passed to Tensor.__format__: "
                            f"only 0-d tensors format as numbers, this one has shape "
                            f"{tuple(self.shape)}; format x.item() or x.tolist() instead")
        return repr(self)

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        The graph is freed afterwards unless ``retain_graph=True``.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` each time backward has the gradient with respect to this tensor;
        a hook that returns a tensor replaces the gradient. Returns a handle whose
        ``remove()`` takes the hook off.

        >>> y = x * 2
        >>> y.register_hook(lambda g: g * 10)   # x.grad will be 20, not 2
        """
        return autograd.hooks.register_hook(self, hook)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` when backward runs (leaves always
        keep theirs)."""
        autograd.hooks.retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose ``retain_grad()`` was called."""
        return autograd.hooks.retains_grad(self)

    def clone(self) -> Tensor:
        """A copy with its own memory; unlike ``detach`` it stays in the graph."""
        return ops.clone(self)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no copy; in-place changes still count as its own)."""
        out = Tensor(self.array)
        out._version_counter = self._version_counter
        strides.take_strides(out, self)
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only) and return ``self``."""
        self.requires_grad = requires_grad
        return self

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> numpy.ndarray:
        """The data as a NumPy array (a copy from the GPU; shared memory on the CPU)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a tensor that requires grad; "
                               "use tensor.detach().numpy()")
        return backend.to_numpy(self.array)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(f"item(): only one-element tensors convert to a Python number, "
                             f"got shape {tuple(self.shape)}")
        return backend.to_numpy(self.array.reshape(())).item()

    def tolist(self) -> Any:
        """The elements as (nested) Python lists of numbers."""
        return backend.to_numpy(self.array).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """One-element integer tensors index Python sequences (``items[tn.tensor(2)]``)."""
        if self.array.size != 1 or self.dtype.kind not in "biu":
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index; got dtype {self.dtype} and shape {tuple(self.shape)}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {tuple(self.shape)} is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> numpy.ndarray:
        """NumPy's view of the tensor (``numpy.asarray(x)``, matplotlib), as ``numpy()``."""
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def to(self, *args: Any, device: Any = None, dtype: Any = None, non_blocking: bool = False,
           copy: bool = False) -> Tensor:
        """Move to a device and/or cast to a dtype; differentiable. As in PyTorch:
        ``to('cuda')``, ``to(tn.float64)``, ``to('cpu', tn.float64)``, ``to(other_tensor)`` or
        by keyword. Returns ``self`` when nothing changes (unless ``copy=True``)."""
        device, dtype = to_arguments(args, device, dtype)
        out = self
        if device is not None:
            out = ops.to_device(out, backend.check_device(device))
        if dtype is not None:
            out = ops.cast(out, numpy.dtype(dtype))
        return ops.clone(out) if copy and out is self else out

    def cpu(self) -> Tensor:
        """``to('cpu')``."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Tensor:
        """``to('cuda')``."""
        return self.to("cuda" if device is None else device)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> str | Tensor:
        """With no argument, PyTorch's name of the tensor type (``'torch.FloatTensor'``); with a
        dtype or such a name, the tensor converted to it."""
        if dtype is None:
            return tensor_type_name(self.dtype, self.device)
        if isinstance(dtype, str):
            dtype, target = parse_tensor_type_name(dtype)
            return self.to(target, dtype)
        if isinstance(getattr(dtype, "device", None), str):  # tn.FloatTensor, tn.cuda.LongTensor…
            return self.to(dtype.device, dtype.dtype)
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to ``other``'s dtype."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """``to(tn.float32)``."""
        return self.to(numpy.float32)

    def double(self) -> Tensor:
        """``to(tn.float64)``."""
        return self.to(numpy.float64)

    def half(self) -> Tensor:
        """``to(tn.float16)``."""
        return self.to(numpy.float16)

    def bfloat16(self) -> Tensor:
        """Refused: NumPy, and so tinynet, has no bfloat16."""
        raise TypeError("bfloat16: tinynet has no bfloat16 dtype (NumPy has none); use half() "
                        "for float16 or float() for float32")

    def long(self) -> Tensor:
        """``to(tn.int64)`` (no gradient: integers carry none)."""
        return self.to(numpy.int64)

    def int(self) -> Tensor:
        """``to(tn.int32)``."""
        return self.to(numpy.int32)

    def short(self) -> Tensor:
        """``to(tn.int16)``."""
        return self.to(numpy.int16)

    def byte(self) -> Tensor:
        """``to(tn.uint8)``."""
        return self.to(numpy.uint8)

    def bool(self) -> Tensor:
        """``to(tn.bool)``."""
        return self.to(numpy.bool_)


def legacy_array(data: Any, sizes: tuple, dtype: Any, name: str) -> numpy.ndarray:
    """PyTorch's legacy constructors (``torch.Tensor(...)``, ``torch.LongTensor(...)``, named
    ``name`` in errors) on Python data: sizes (ints or a Size) give zeros of ``dtype``, a
    sequence its values in that dtype, nothing an empty tensor."""
    if data is None and not sizes:
        return numpy.empty((0,), dtype=dtype)
    if isinstance(data, Size) or _is_size(data):
        shape = tuple(data) if isinstance(data, Size) else (data, *sizes)
        if not all(_is_size(n) and n >= 0 for n in shape):
            raise TypeError(f"{name}: sizes must be non-negative ints, got {shape}")
        return numpy.zeros(tuple(int(n) for n in shape), dtype=dtype)
    if sizes or not isinstance(data, (list, tuple)):
        raise TypeError(f"{name}: expected sizes (ints) or a sequence of numbers, got "
                        f"{type(data).__name__}{' and more' if sizes else ''}; use tn.tensor(data) "
                        "for a number")
    return numpy.asarray(data, dtype=dtype)


def _is_size(value: Any) -> bool:
    """An int or a NumPy integer, not a bool: what may stand for a size."""
    return isinstance(value, (int, numpy.integer)) and not isinstance(value, (bool, numpy.bool_))


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor. A Python number next to a Tensor takes that Tensor's dtype and
    device, as PyTorch's scalars do (an int tensor next to a float becomes float32)."""
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor(value)
    if like is None:
        return Tensor(_host_array(value))
    xp = like.xp
    if isinstance(value, (bool, int, float)) and like.dtype.kind in "fc":
        return Tensor(backend.scalar_array(xp, value, like.dtype))
    if isinstance(value, float) and like.dtype.kind in "biu":
        return Tensor(backend.scalar_array(xp, value, backend.default_float))
    if isinstance(value, (bool, int)):
        return Tensor(backend.scalar_array(xp, value, _host_array(value).dtype))
    return Tensor(xp.asarray(_host_array(value)))


def to_arguments(args: tuple, device: Any = None, dtype: Any = None) -> tuple[Any, Any]:
    """(device, dtype) from the positional arguments of PyTorch's ``to``: a device, a dtype, a
    tensor (its device and dtype) or a bool (``non_blocking``, which changes nothing here)."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, str):  # a tn.device is a str too
            device = arg
        elif arg is not None and not isinstance(arg, bool):
            dtype = arg
    return device, dtype


def _host_array(data: Any, dtype: Any = None) -> numpy.ndarray:
    """A NumPy array from Python data, with PyTorch's defaults: floats become float32, complex
    numbers complex64 (with the default float dtype float32)."""
    array = numpy.asarray(data, dtype=dtype)
    if dtype is None and not isinstance(data, numpy.generic):
        if array.dtype == numpy.uint64 or array.dtype == object:  # an int past int64's range
            raise ValueError("tensor: Overflow when unpacking long long: a Python int outside "
                             "int64's range [-2**63, 2**63 - 1]; pass a float, or dtype=tn.uint64")
        if array.dtype == numpy.float64:
            array = array.astype(backend.default_float)
        elif array.dtype == numpy.complex128 and backend.default_float == numpy.float32:
            array = array.astype(numpy.complex64)
    return array


# Imported last: these modules use Tensor, which must exist before they load.
from tinynet import autograd, factories, ops, tensor_methods  # noqa: E402

tensor_methods.bind(ops, factories)
