"""The Tensor's long tail of methods: operators, math, reductions, shapes, indexing, in place.

Each is one line calling the op of the same name in ``tinynet.ops`` (where the op is written and
documented: ``help(x.sin)`` shows ``tn.sin``'s docstring). ``Tensor`` inherits them from
``TensorMethods``, which keeps ``tensor.py`` to the Tensor's state, autograd and conversions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinynet.tensor import MinMax, Tensor

# tinynet.ops and tinynet.factories import the Tensor, which is built on this class, so ``bind``
# sets them once all exist (at the end of tensor.py).
ops: Any = None
factories: Any = None


def _sizes(args: tuple) -> Any:
    """``x.view(2, 3)`` and ``x.view((2, 3))`` mean the same."""
    return args[0] if len(args) == 1 and not isinstance(args[0], int) else args


class TensorMethods:
    """The methods that name an op: ``x.sin()`` is ``tn.sin(x)``, ``x + y`` is ``tn.add(x, y)``."""

    __slots__ = ()
    __hash__ = object.__hash__  # == is elementwise, identity is the hash

    # ----------------------------------------------------------------- operators
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

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return ops.remainder(other, self)

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

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __and__(self, other: Any) -> Tensor:
        return ops.bitwise("and", self, other)

    def __rand__(self, other: Any) -> Tensor:
        return ops.bitwise("and", other, self)

    def __or__(self, other: Any) -> Tensor:
        return ops.bitwise("or", self, other)

    def __ror__(self, other: Any) -> Tensor:
        return ops.bitwise("or", other, self)

    def __xor__(self, other: Any) -> Tensor:
        return ops.bitwise("xor", self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return ops.bitwise("xor", other, self)

    def __invert__(self) -> Tensor:
        return ops.bitwise_not(self)

    def __lt__(self, other: Any) -> Tensor:
        return ops.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.ge(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.ne(self, other)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    def __contains__(self, element: Any) -> bool:
        return bool(ops.eq(self, element).array.any())

    # ----------------------------------------------------------------- named arithmetic
    def add(self, other: Any, *, alpha: float = 1) -> Tensor:
        return ops.add(self, other, alpha=alpha)

    def sub(self, other: Any, *, alpha: float = 1) -> Tensor:
        return ops.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    multiply = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return ops.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def neg(self) -> Tensor:
        return ops.neg(self)

    negative = neg

    def pow(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def remainder(self, other: Any) -> Tensor:
        return ops.remainder(self, other)

    def floor_divide(self, other: Any) -> Tensor:
        return ops.floor_divide(self, other)

    def matmul(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def mm(self, mat2: Tensor) -> Tensor:
        return ops.mm(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        return ops.bmm(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        return ops.mv(self, vec)

    def dot(self, other: Tensor) -> Tensor:
        return ops.dot(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        return ops.outer(self, vec2)

    def inner(self, other: Tensor) -> Tensor:
        return ops.inner(self, other)

    def t(self) -> Tensor:
        return ops.t(self)

    # ----------------------------------------------------------------- comparisons and tests
    def eq(self, other: Any) -> Tensor:
        return ops.eq(self, other)

    def ne(self, other: Any) -> Tensor:
        return ops.ne(self, other)

    def lt(self, other: Any) -> Tensor:
        return ops.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return ops.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return ops.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return ops.ge(self, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other: Tensor) -> bool:
        return ops.equal(self, other)

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return ops.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        return ops.isclose(self, other, rtol, atol, equal_nan)

    def isnan(self) -> Tensor:
        return ops.isnan(self)

    def isinf(self) -> Tensor:
        return ops.isinf(self)

    def isfinite(self) -> Tensor:
        return ops.isfinite(self)

    def logical_and(self, other: Any) -> Tensor:
        return ops.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return ops.logical_or(self, other)

    def logical_xor(self, other: Any) -> Tensor:
        return ops.logical_xor(self, other)

    def logical_not(self) -> Tensor:
        return ops.logical_not(self)

    def bitwise_and(self, other: Any) -> Tensor:
        """``self & other`` (bool or integer tensors)."""
        return ops.bitwise("and", self, other)

    def bitwise_or(self, other: Any) -> Tensor:
        """``self | other`` (bool or integer tensors)."""
        return ops.bitwise("or", self, other)

    def bitwise_xor(self, other: Any) -> Tensor:
        """``self ^ other`` (bool or integer tensors)."""
        return ops.bitwise("xor", self, other)

    def bitwise_not(self) -> Tensor:
        return ops.bitwise_not(self)

    # ----------------------------------------------------------------- elementwise math
    def exp(self) -> Tensor:
        return ops.exp(self)

    def exp2(self) -> Tensor:
        return ops.exp2(self)

    def expm1(self) -> Tensor:
        return ops.expm1(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def log2(self) -> Tensor:
        return ops.log2(self)

    def log10(self) -> Tensor:
        return ops.log10(self)

    def log1p(self) -> Tensor:
        return ops.log1p(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def rsqrt(self) -> Tensor:
        return ops.rsqrt(self)

    def square(self) -> Tensor:
        return ops.square(self)

    def reciprocal(self) -> Tensor:
        return ops.reciprocal(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    absolute = abs

    def sign(self) -> Tensor:
        return ops.sign(self)

    def floor(self) -> Tensor:
        return ops.floor(self)

    def ceil(self) -> Tensor:
        return ops.ceil(self)

    def round(self, *, decimals: int = 0) -> Tensor:
        return ops.round(self, decimals=decimals)

    def trunc(self) -> Tensor:
        return ops.trunc(self)

    def frac(self) -> Tensor:
        return ops.frac(self)

    def sin(self) -> Tensor:
        return ops.sin(self)

    def cos(self) -> Tensor:
        return ops.cos(self)

    def tan(self) -> Tensor:
        return ops.tan(self)

    def asin(self) -> Tensor:
        return ops.asin(self)

    def acos(self) -> Tensor:
        return ops.acos(self)

    def atan(self) -> Tensor:
        return ops.atan(self)

    def sinh(self) -> Tensor:
        return ops.sinh(self)

    def cosh(self) -> Tensor:
        return ops.cosh(self)

    def asinh(self) -> Tensor:
        return ops.asinh(self)

    def acosh(self) -> Tensor:
        return ops.acosh(self)

    def atanh(self) -> Tensor:
        return ops.atanh(self)

    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    sgn, fix = sign, trunc

    def atan2(self, other: Any) -> Tensor:
        return ops.atan2(self, other)

    arctan2 = atan2

    def lerp(self, end: Any, weight: Any) -> Tensor:
        return ops.lerp(self, end, weight)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        return ops.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:
        """``clamp(min=min)``."""
        return ops.clamp(self, min, None)

    def clamp_max(self, max: Any) -> Tensor:
        """``clamp(max=max)``."""
        return ops.clamp(self, None, max)

    def maximum(self, other: Any) -> Tensor:
        return ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return ops.minimum(self, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        """``tn.where(condition, self, other)``."""
        return ops.where(condition, self, other)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return ops.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return ops.log_softmax(self, dim, dtype=dtype)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return ops.sum(self if dtype is None else self.to(dtype), dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return ops.mean(self if dtype is None else self.to(dtype), dim, keepdim)

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return ops.prod(self, dim, keepdim, dtype=dtype)

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        return ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        return ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim: Any = None, keepdim: bool = False) -> Tensor | MinMax:
        return ops.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: bool = False) -> Tensor | MinMax:
        return ops.min(self, dim, keepdim)

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.amax(self, dim, keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.amin(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.argmin(self, dim, keepdim)

    def nansum(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.nansum(self, dim, keepdim)

    def nanmean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.nanmean(self, dim, keepdim)

    def diff(self, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
             append: Tensor | None = None) -> Tensor:
        return ops.diff(self, n, dim, prepend, append)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        return ops.cross(self, other, dim)

    def kron(self, other: Tensor) -> Tensor:
        return ops.kron(self, other)

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        return ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return ops.logsumexp(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.any(self, dim, keepdim)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.all(self, dim, keepdim)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return ops.count_nonzero(self, dim)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False,
             dtype: Any = None) -> Tensor:
        return ops.norm(self, p, dim, keepdim, dtype)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return ops.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        return ops.cumprod(self, dim, dtype=dtype)

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        return ops.sort(self, dim, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        return ops.argsort(self, dim, descending, stable=stable)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return ops.median(self, dim, keepdim)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return ops.nanmedian(self, dim, keepdim)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return ops.topk(self, k, dim, largest, sorted)

    def unique(self, sorted: bool = True, return_inverse: bool = False,
               return_counts: bool = False, dim: int | None = None) -> Any:
        return ops.unique(self, sorted, return_inverse, return_counts, dim)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, _sizes(shape))

    view = reshape

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return ops.reshape(self, other.shape)

    view_as = reshape_as

    def expand(self, *sizes: Any) -> Tensor:
        return ops.expand(self, _sizes(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        """Broadcast to ``other``'s shape (a view)."""
        return ops.expand(self, other.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        return ops.repeat(self, _sizes(sizes))

    def tile(self, *dims: Any) -> Tensor:
        return ops.tile(self, _sizes(dims))

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> Tensor:
        return ops.repeat_interleave(self, repeats, dim)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """Expanded to ``shape`` by broadcasting (a view)."""
        return ops.broadcast_to(self, shape)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def permute(self, *dims: Any) -> Tensor:
        return ops.permute(self, _sizes(dims))

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return ops.movedim(self, source, destination)

    moveaxis = movedim

    @property
    def T(self) -> Tensor:
        """The dims in reverse order (the transpose of a matrix)."""
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        """The transpose of the last two dims (of each matrix in a batch)."""
        return ops.transpose(self, -2, -1)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return ops.flatten(self, start_dim, end_dim)

    def ravel(self) -> Tensor:
        return ops.ravel(self)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        return ops.unflatten(self, dim, sizes)

    def squeeze(self, dim: Any = None) -> Tensor:
        return ops.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return ops.unsqueeze(self, dim)

    def flip(self, *dims: Any) -> Tensor:
        return ops.flip(self, _sizes(dims))

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return ops.roll(self, shifts, dims)

    def fliplr(self) -> Tensor:
        return ops.fliplr(self)

    def rot90(self, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
        return ops.rot90(self, k, dims)

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return ops.tensor_split(self, indices_or_sections, dim)

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        return ops.take_along_dim(self, indices, dim)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        return ops.nan_to_num(self, nan, posinf, neginf)

    def nan_to_num_(self, nan: float = 0.0, posinf: float | None = None,
                    neginf: float | None = None) -> Tensor:
        """In place: ``self`` holds ``self.nan_to_num(...)``."""
        return ops.inplace.inplace("nan_to_num_", self,
                                   lambda a: ops.nan_to_num(a, nan, posinf, neginf))

    def flipud(self) -> Tensor:
        return ops.flipud(self)

    def contiguous(self) -> Tensor:
        """``self``: NumPy arrays need no contiguous copy for any tinynet op."""
        return self

    def is_contiguous(self) -> bool:
        """True: tinynet has no strided layouts to ask about."""
        return True

    def tril(self, diagonal: int = 0) -> Tensor:
        return ops.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return ops.triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        return ops.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return ops.diagonal(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        return ops.trace(self)

    # ----------------------------------------------------------------- indexing
    def gather(self, dim: int, index: Any) -> Tensor:
        return ops.gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                reduce: str | None = None) -> Tensor:
        return ops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        return ops.scatter_add(self, dim, index, src)

    def index_select(self, dim: int, index: Any) -> Tensor:
        return ops.index_select(self, dim, index)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return ops.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Tensor:
        return ops.masked_select(self, mask)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        return ops.nonzero(self, as_tuple=as_tuple)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        return ops.chunk(self, chunks, dim)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple:
        return ops.split(self, split_size, dim)

    def unbind(self, dim: int = 0) -> tuple:
        return ops.unbind(self, dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return ops.narrow(self, dim, start, length)

    def select(self, dim: int, index: int) -> Tensor:
        return ops.select(self, dim, index)

    def index_add(self, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
        return ops.index_add(self, dim, index, source, alpha=alpha)

    def index_fill(self, dim: int, index: Any, value: Any) -> Tensor:
        return ops.index_fill(self, dim, index, value)

    def index_copy(self, dim: int, index: Any, source: Tensor) -> Tensor:
        return ops.index_copy(self, dim, index, source)

    def argwhere(self) -> Tensor:
        return ops.argwhere(self)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        return ops.unfold(self, dimension, size, step)

    # ----------------------------------------------------------------- more math and sampling
    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return ops.addcdiv(self, tensor1, tensor2, value=value)

    def fmod(self, other: Any) -> Tensor:
        return ops.fmod(self, other)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        return ops.bincount(self, weights, minlength)

    def det(self) -> Tensor:
        return ops.det(self)

    def bernoulli(self, p: float | None = None, *, generator: Any = None) -> Tensor:
        return ops.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> Tensor:
        return ops.multinomial(self, num_samples, replacement, generator=generator)

    # ----------------------------------------------------------------- new tensors like this one
    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        """A tensor from ``data`` with this tensor's dtype and device (unless given)."""
        return factories.tensor(data, dtype or self.dtype, device or self.device, requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        """Zeros of ``size`` with this tensor's dtype and device (unless given)."""
        return factories.zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                               requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """Ones of ``size`` with this tensor's dtype and device (unless given)."""
        return factories.ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                              requires_grad=requires_grad)

    new_empty = new_zeros

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """``fill_value`` in ``size`` with this tensor's dtype and device (unless given)."""
        return factories.full(size, fill_value, dtype=dtype or self.dtype,
                              device=device or self.device, requires_grad=requires_grad)

    # ----------------------------------------------------------------- in place (ops/inplace.py)
    def __setitem__(self, index: Any, value: Any) -> None:
        ops.inplace.setitem(self, index, value)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """In place: ``self += alpha * other``."""
        return ops.inplace.add_(self, other, alpha)

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """In place: ``self -= alpha * other``."""
        return ops.inplace.sub_(self, other, alpha)

    def mul_(self, other: Any) -> Tensor:
        """In place: ``self *= other``."""
        return ops.inplace.mul_(self, other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """In place: ``self /= other`` (``rounding_mode`` as ``div``'s)."""
        return ops.inplace.div_(self, other, rounding_mode=rounding_mode)

    def remainder_(self, other: Any) -> Tensor:
        """In place: ``self %= other``."""
        return ops.inplace.remainder_(self, other)

    def floor_divide_(self, other: Any) -> Tensor:
        """In place: ``self //= other``."""
        return ops.inplace.floor_divide_(self, other)

    def pow_(self, exponent: Any) -> Tensor:
        """In place: ``self **= exponent``."""
        return ops.inplace.pow_(self, exponent)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """In place: ``self`` limited to [min, max]."""
        return ops.inplace.clamp_(self, min, max)

    clip_ = clamp_

    def zero_(self) -> Tensor:
        """In place: fill with zeros."""
        return ops.inplace.zero_(self)

    def fill_(self, value: Any) -> Tensor:
        """In place: fill with ``value``."""
        return ops.inplace.fill_(self, value)

    def copy_(self, src: Any) -> Tensor:
        return ops.inplace.copy_(self, src)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return ops.inplace.masked_fill_(self, mask, value)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        return ops.inplace.uniform_(self, a, b)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        return ops.inplace.normal_(self, mean, std)

    def scatter_(self, dim: int, index: Any, src: Any = None, *, value: Any = None,
                 reduce: str | None = None) -> Tensor:
        """In place: ``self.scatter(dim, index, src or value, reduce=reduce)``."""
        return ops.inplace_more.scatter_(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add_(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """In place: ``self.scatter_add(dim, index, src)``."""
        return ops.inplace_more.scatter_add_(self, dim, index, src)

    def index_add_(self, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
        """In place: ``self.index_add(dim, index, source, alpha=alpha)``."""
        return ops.inplace_more.index_add_(self, dim, index, source, alpha=alpha)

    def index_fill_(self, dim: int, index: Any, value: Any) -> Tensor:
        """In place: ``self.index_fill(dim, index, value)``."""
        return ops.inplace_more.index_fill_(self, dim, index, value)

    def index_copy_(self, dim: int, index: Any, source: Tensor) -> Tensor:
        """In place: ``self.index_copy(dim, index, source)``."""
        return ops.inplace_more.index_copy_(self, dim, index, source)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """In place: ``self += value * tensor1 * tensor2``."""
        return ops.inplace_more.addcmul_(self, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """In place: ``self += value * tensor1 / tensor2``."""
        return ops.inplace_more.addcdiv_(self, tensor1, tensor2, value=value)

    def fmod_(self, other: Any) -> Tensor:
        """In place: ``self = self.fmod(other)``."""
        return ops.inplace_more.fmod_(self, other)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """In place: fill with 0s and 1s, each 1 with probability ``p`` (a number or a tensor)."""
        return ops.sampling.bernoulli_(self, p, generator=generator)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_
    __imod__ = remainder_
    __ifloordiv__ = floor_divide_

    def __iand__(self, other: Any) -> Tensor:
        return ops.inplace.inplace("bitwise_and_", self, lambda a, b: ops.bitwise("and", a, b), other)

    def __ior__(self, other: Any) -> Tensor:
        return ops.inplace.inplace("bitwise_or_", self, lambda a, b: ops.bitwise("or", a, b), other)

    def __ixor__(self, other: Any) -> Tensor:
        return ops.inplace.inplace("bitwise_xor_", self, lambda a, b: ops.bitwise("xor", a, b), other)

    def __imatmul__(self, other: Any) -> Tensor:
        return ops.inplace.matmul_(self, other)


# The unary ops whose in-place form PyTorch's Tensor has (``x.relu_()``, ``x.exp_()``…): each
# makes ``x`` hold ``x.op()``, recorded in the graph as the other in-place ops are.
IN_PLACE_UNARY = ("neg", "abs", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt",
                  "square", "reciprocal", "sign", "floor", "ceil", "trunc", "frac", "sin", "cos",
                  "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu")


def _in_place_unary(name: str) -> Any:
    def method(self: Tensor) -> Tensor:
        return ops.inplace.inplace(f"{name}_", self, lambda a: getattr(a, name)())

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In place: ``self`` holds ``self.{name}()``."
    return method


for _name in IN_PLACE_UNARY:
    if not hasattr(TensorMethods, f"{_name}_"):
        setattr(TensorMethods, f"{_name}_", _in_place_unary(_name))


def bind(ops_module: Any, factories_module: Any) -> None:
    """Bind ``tinynet.ops`` and ``tinynet.factories`` for the methods above, and give each method
    without a docstring the docstring of the op it calls."""
    global ops, factories
    ops, factories = ops_module, factories_module
    for name, method in vars(TensorMethods).items():
        if callable(method) and not name.startswith("_") and not method.__doc__:
            op = getattr(ops_module, name, None) or getattr(ops_module.inplace, name, None)
            if op is not None and op.__doc__:
                method.__doc__ = op.__doc__
