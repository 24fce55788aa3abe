"""The Tensor: an array (NumPy or CuPy), plus what autograd needs to know about it.

A Tensor holds four things: ``array`` (the raw NumPy/CuPy array), ``requires_grad``, ``grad``
(filled by backward) and ``grad_fn`` (the op that produced it, ``None`` for a leaf). As in
PyTorch, ``.data`` is the same storage as a detached Tensor. Every method below that computes
something is a one-line call into ``tinynet.ops``, where each op is written; in-place methods
(``add_``, ``t[i] = v``…) live in ``tinynet/ops/inplace.py``.

Each tensor carries a version counter, shared with its views, that every in-place change bumps.
An op that needs an input's values in its backward remembers the version it saw, and the backward
walk refuses to run on values changed since (PyTorch's rule).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy

from tinynet import backend

MinMax = namedtuple("MinMax", ["values", "indices"])


def check_can_require_grad(dtype: Any, what: str = "Tensor") -> None:
    """Only floating-point tensors can require grad: an integer gradient would be truncated."""
    if dtype.kind not in "fc":
        raise RuntimeError(f"only Tensors of floating point and complex dtype can require "
                           f"gradients; this {what} has dtype {dtype}. Convert it first, for "
                           "example with .float()")


class Tensor:
    """An n-dimensional array that records the ops applied to it when it requires grad.

    Make one with ``tn.tensor``, ``tn.zeros``, ``tn.randn``…; the constructor is for arrays.

    >>> x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # Set only when they apply: _is_view (by view ops), _replaced_grad_fns (by in-place ops).
    __slots__ = ("array", "_requires_grad", "grad", "grad_fn", "_version_counter", "_is_view",
                 "_replaced_grad_fns", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected method
    __hash__ = object.__hash__  # == is elementwise, identity is the hash

    def __init__(self, data: Any, requires_grad: bool = False, grad_fn: Any = None) -> None:
        if not isinstance(data, backend.array_types):
            data = data.array if isinstance(data, Tensor) else numpy.asarray(data)
        if requires_grad and grad_fn is None:
            check_can_require_grad(data.dtype)
        self.array = data
        self._requires_grad = requires_grad
        self.grad: Tensor | None = None
        self.grad_fn = grad_fn
        # [version, in-place clock at the last change]: a list, so views and detach() share it
        self._version_counter = [0, 0]

    # ----------------------------------------------------------------- autograd state
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
        return Tensor(self.array)

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

    # ----------------------------------------------------------------- what it is
    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def dtype(self) -> numpy.dtype:
        return self.array.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.array)

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

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        body = numpy.array2string(backend.to_numpy(self.array), separator=", ", prefix="tensor(")
        extras = []
        if self.dtype not in (backend.default_float, numpy.dtype(numpy.int64),
                              numpy.dtype(numpy.bool_)):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        The graph is freed afterwards unless ``retain_graph=True``.
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def clone(self) -> Tensor:
        """A copy with its own memory; unlike ``detach`` it stays in the graph."""
        return ops.clone(self)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no copy; in-place changes still count as its own)."""
        out = Tensor(self.array)
        out._version_counter = self._version_counter
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
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
        if self.array.size != 1:
            raise ValueError(f"item(): only one-element tensors convert to a Python number, "
                             f"got shape {tuple(self.shape)}")
        return self.array.reshape(()).item()

    def tolist(self) -> Any:
        return backend.to_numpy(self.array).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {tuple(self.shape)} is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def to(self, device_or_dtype: Any = None, dtype: Any = None) -> Tensor:
        """Move to a device (``'cpu'``/``'cuda'``) and/or cast to a dtype; differentiable."""
        out = self
        if isinstance(device_or_dtype, str):
            out = ops.to_device(out, backend.check_device(device_or_dtype))
        elif device_or_dtype is not None:
            dtype = device_or_dtype
        return ops.cast(out, numpy.dtype(dtype)) if dtype is not None else out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(numpy.float32)

    def double(self) -> Tensor:
        return self.to(numpy.float64)

    def long(self) -> Tensor:
        return self.to(numpy.int64)

    def int(self) -> Tensor:
        return self.to(numpy.int32)

    def bool(self) -> Tensor:
        return self.to(numpy.bool_)

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __lt__(self, other: Any) -> Tensor:
        return ops.compare("lt", self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.compare("le", self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.compare("gt", self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.compare("ge", self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.compare("eq", self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.compare("ne", self, other)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # ----------------------------------------------------------------- in place (ops/inplace.py)
    def __setitem__(self, index: Any, value: Any) -> None:
        ops.inplace.setitem(self, index, value)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        return ops.inplace.add_(self, other, alpha)

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        return ops.inplace.sub_(self, other, alpha)

    def mul_(self, other: Any) -> Tensor:
        return ops.inplace.mul_(self, other)

    def div_(self, other: Any) -> Tensor:
        return ops.inplace.div_(self, other)

    def pow_(self, exponent: Any) -> Tensor:
        return ops.inplace.pow_(self, exponent)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        return ops.inplace.clamp_(self, min, max)

    clip_ = clamp_

    def zero_(self) -> Tensor:
        return ops.inplace.zero_(self)

    def fill_(self, value: Any) -> Tensor:
        return ops.inplace.fill_(self, value)

    def copy_(self, src: Any) -> Tensor:
        return ops.inplace.copy_(self, src)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return ops.inplace.masked_fill_(self, mask, value)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        return ops.inplace.uniform_(self, a, b)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        return ops.inplace.normal_(self, mean, std)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_

    def __imatmul__(self, other: Any) -> Tensor:
        return ops.inplace.matmul_(self, other)

    # ----------------------------------------------------------------- math methods
    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        return ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return ops.minimum(self, other)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def softmax(self, dim: int) -> Tensor:
        return ops.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return ops.log_softmax(self, dim)

    def sum(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.sum(self, dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.mean(self, dim, keepdim)

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        return ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False) -> Tensor:
        return ops.sqrt(ops.var(self, dim, unbiased, keepdim))

    def max(self, dim: int | None = None, keepdim: bool = False) -> Tensor | MinMax:
        return ops.max(self, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Tensor | MinMax:
        return ops.min(self, dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return ops.logsumexp(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.argmin(self, dim, keepdim)

    def any(self) -> Tensor:
        return Tensor(self.xp.asarray(self.array.any()))

    def all(self) -> Tensor:
        return Tensor(self.xp.asarray(self.array.all()))

    # ----------------------------------------------------------------- shape methods
    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    view = reshape

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return ops.permute(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)

    @property
    def T(self) -> Tensor:
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        return ops.transpose(self, -2, -1)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return ops.flatten(self, start_dim, end_dim)

    def squeeze(self, dim: int | None = None) -> Tensor:
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return ops.unsqueeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        return ops.expand(self, sizes[0] if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes)

    def contiguous(self) -> Tensor:
        return self


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
        return Tensor(xp.asarray(value, dtype=like.dtype))
    if isinstance(value, float) and like.dtype.kind in "biu":
        return Tensor(xp.asarray(value, dtype=backend.default_float))
    return Tensor(xp.asarray(_host_array(value)))


def _host_array(data: Any, dtype: Any = None) -> numpy.ndarray:
    """A NumPy array from Python data, with PyTorch's defaults: floats become float32."""
    array = numpy.asarray(data, dtype=dtype)
    if dtype is None and array.dtype == numpy.float64 and not isinstance(data, numpy.generic):
        array = array.astype(backend.default_float)
    return array


# Imported last: both modules use Tensor, which must exist before they load.
from tinynet import autograd, ops  # noqa: E402
