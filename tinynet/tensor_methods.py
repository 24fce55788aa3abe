"""The Tensor's long tail of methods: operators, math, reductions, shapes, indexing, in place.

Each is one line calling the op of the same name in ``tinynet.ops`` (where the op is written and
documented: ``help(x.sin)`` shows ``tn.sin``'s docstring). ``Tensor`` inherits them from
``TensorMethods``, which keeps ``tensor.py`` to the Tensor's state, autograd and conversions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tinynet import strides

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
        return ops.positive(self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __and__(self, other: Any) -> Tensor:
        return ops.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Tensor:
        return ops.bitwise_and(other, self)

    def __or__(self, other: Any) -> Tensor:
        return ops.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Tensor:
        return ops.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Tensor:
        return ops.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return ops.bitwise_xor(other, self)

    def __invert__(self) -> Tensor:
        return ops.bitwise_not(self)

    def __lshift__(self, other: Any) -> Tensor:
        return ops.bitwise_left_shift(self, other)

    def __rlshift__(self, other: Any) -> Tensor:
        return ops.bitwise_left_shift(other, self)

    def __rshift__(self, other: Any) -> Tensor:
        return ops.bitwise_right_shift(self, other)

    def __rrshift__(self, other: Any) -> Tensor:
        return ops.bitwise_right_shift(other, self)

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
        return ops.bitwise_and(self, other)

    def bitwise_or(self, other: Any) -> Tensor:
        """``self | other`` (bool or integer tensors)."""
        return ops.bitwise_or(self, other)

    def bitwise_xor(self, other: Any) -> Tensor:
        """``self ^ other`` (bool or integer tensors)."""
        return ops.bitwise_xor(self, other)

    def bitwise_not(self) -> Tensor:
        return ops.bitwise_not(self)

    def bitwise_left_shift(self, other: Any) -> Tensor:
        return ops.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other: Any) -> Tensor:
        return ops.bitwise_right_shift(self, other)

    def signbit(self) -> Tensor:
        return ops.signbit(self)

    def isposinf(self) -> Tensor:
        return ops.isposinf(self)

    def isneginf(self) -> Tensor:
        return ops.isneginf(self)

    def isreal(self) -> Tensor:
        return ops.isreal(self)

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

    def sgn(self) -> Tensor:
        return ops.sgn(self)

    def fix(self) -> Tensor:
        return ops.fix(self)

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

    # ----------------------------------------------------------------- special functions
    def erf(self) -> Tensor:
        return ops.erf(self)

    def erfc(self) -> Tensor:
        return ops.erfc(self)

    def erfinv(self) -> Tensor:
        return ops.erfinv(self)

    def lgamma(self) -> Tensor:
        return ops.lgamma(self)

    def digamma(self) -> Tensor:
        return ops.digamma(self)

    def polygamma(self, n: int) -> Tensor:
        return ops.polygamma(n, self)

    def i0(self) -> Tensor:
        return ops.i0(self)

    def sinc(self) -> Tensor:
        return ops.sinc(self)

    def logit(self, eps: float | None = None) -> Tensor:
        return ops.logit(self, eps)

    def xlogy(self, other: Any) -> Tensor:
        return ops.xlogy(self, other)

    def logaddexp(self, other: Tensor) -> Tensor:
        return ops.logaddexp(self, other)

    def logaddexp2(self, other: Tensor) -> Tensor:
        return ops.logaddexp2(self, other)

    def hypot(self, other: Tensor) -> Tensor:
        return ops.hypot(self, other)

    def fmax(self, other: Tensor) -> Tensor:
        return ops.fmax(self, other)

    def fmin(self, other: Tensor) -> Tensor:
        return ops.fmin(self, other)

    def copysign(self, other: Any) -> Tensor:
        return ops.copysign(self, other)

    def heaviside(self, values: Tensor) -> Tensor:
        return ops.heaviside(self, values)

    def float_power(self, exponent: Any) -> Tensor:
        return ops.float_power(self, exponent)

    def deg2rad(self) -> Tensor:
        return ops.deg2rad(self)

    def rad2deg(self) -> Tensor:
        return ops.rad2deg(self)

    def positive(self) -> Tensor:
        return ops.positive(self)

    def gcd(self, other: Tensor) -> Tensor:
        return ops.gcd(self, other)

    def lcm(self, other: Tensor) -> Tensor:
        return ops.lcm(self, other)

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

    # ----------------------------------------------------------------- statistics, products,
    # views and scatters (ops/statistics.py, ops/products.py, ops/scatter_views.py)
    def quantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                 interpolation: str = "linear") -> Tensor:
        return ops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q: Any, dim: int | None = None, keepdim: bool = False, *,
                    interpolation: str = "linear") -> Tensor:
        return ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def cov(self, *, correction: int = 1, fweights: Tensor | None = None,
            aweights: Tensor | None = None) -> Tensor:
        return ops.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self) -> Tensor:
        return ops.corrcoef(self)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> Any:
        return ops.aminmax(self, dim=dim, keepdim=keepdim)

    def dist(self, other: Tensor, p: float = 2) -> Tensor:
        return ops.dist(self, other, p)

    def renorm(self, p: float, dim: int, maxnorm: float) -> Tensor:
        return ops.renorm(self, p, dim, maxnorm)

    def addmv(self, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        return ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1: Tensor, vec2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        return ops.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
                alpha: float = 1) -> Tensor:
        return ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
               alpha: float = 1) -> Tensor:
        return ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def vdot(self, other: Tensor) -> Tensor:
        return ops.vdot(self, other)

    def ger(self, vec2: Tensor) -> Tensor:
        return ops.ger(self, vec2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        return ops.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset: int = 0) -> Tensor:
        return ops.diagflat(self, offset)

    def hsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return ops.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return ops.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return ops.dsplit(self, indices_or_sections)

    def split_with_sizes(self, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        return ops.split_with_sizes(self, split_sizes, dim)

    def sum_to_size(self, *size: Any) -> Tensor:
        return ops.sum_to_size(self, *size)

    def slice_scatter(self, src: Tensor, dim: int = 0, start: int | None = None,
                      end: int | None = None, step: int = 1) -> Tensor:
        return ops.slice_scatter(self, src, dim, start, end, step)

    def select_scatter(self, src: Tensor, dim: int, index: int) -> Tensor:
        return ops.select_scatter(self, src, dim, index)

    def diagonal_scatter(self, src: Tensor, offset: int = 0, dim1: int = 0,
                         dim2: int = 1) -> Tensor:
        return ops.diagonal_scatter(self, src, offset, dim1, dim2)

    def put(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        return ops.put(self, index, source, accumulate)

    def index_reduce(self, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                     include_self: bool = True) -> Tensor:
        return ops.index_reduce(self, dim, index, source, reduce, include_self=include_self)

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

    def unique_consecutive(self, return_inverse: bool = False, return_counts: bool = False,
                           dim: int | None = None) -> Any:
        return ops.unique_consecutive(self, return_inverse, return_counts, dim)

    def cummax(self, dim: int) -> Any:
        return ops.cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        return ops.cummin(self, dim)

    def logcumsumexp(self, dim: int) -> Tensor:
        return ops.logcumsumexp(self, dim)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        return ops.kthvalue(self, k, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        return ops.mode(self, dim, keepdim)

    def msort(self) -> Tensor:
        return ops.msort(self)

    def histc(self, bins: int = 100, min: Any = 0, max: Any = 0) -> Tensor:
        return ops.histc(self, bins, min, max)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, _sizes(shape))

    def view(self, *shape: Any) -> Tensor:
        """The same elements in ``shape`` (one entry may be -1), sharing memory. As in PyTorch it
        raises where the strides allow no view (a transpose flattened, say): ``reshape`` copies
        there, or call ``contiguous()`` first."""
        result = ops.reshape(self, _sizes(shape))  # which says what is wrong with the sizes
        found = strides.strides_of(self)
        if strides.view_strides(tuple(self.array.shape), found, tuple(result.array.shape)) is None:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (at least one "
                f"dimension spans across two contiguous subspaces): shape {tuple(self.shape)} "
                f"with strides {found} can't be seen as {tuple(result.shape)}. Use "
                ".reshape(...) instead, or .contiguous() first.")
        return result

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return ops.reshape(self, other.shape)

    def view_as(self, other: Tensor) -> Tensor:
        """``view(other.shape)``."""
        return self.view(tuple(other.shape))

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
        """``self`` when it is contiguous, else a contiguous copy, as PyTorch's."""
        if self.is_contiguous():
            return self
        out = self.clone()  # laid out like self, as PyTorch's clone: then row-major
        strides.make_contiguous(out)
        return out

    def is_contiguous(self) -> bool:
        """Whether the elements lie in row-major order in PyTorch's model (``tinynet.strides``):
        True for what an op makes, False for a transpose, a strided slice or an expand of it.

        >>> x = tn.zeros(2, 3)
        >>> x.is_contiguous(), x.t().is_contiguous(), x.t().contiguous().is_contiguous()
        (True, False, True)
        """
        return strides.is_contiguous(tuple(self.array.shape), strides.strides_of(self))

    def stride(self, dim: int | None = None) -> Any:
        """The step in elements between neighbours along each dim (or along ``dim``), as PyTorch
        reports it: a view's strides follow from its input's, a new tensor's are row-major.

        >>> tn.zeros(2, 3).stride(), tn.zeros(2, 3).t().stride(1)
        ((3, 1), 3)
        """
        found = strides.strides_of(self)
        if dim is None:
            return found
        if not -len(found) <= dim < len(found) or not found:
            raise IndexError(f"stride: dimension {dim} is out of range for a tensor with "
                             f"{len(found)} dims")
        return found[dim]

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

    def take(self, index: Tensor) -> Tensor:
        return ops.take(self, index)

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        return ops.masked_scatter(self, mask, source)

    def index_put(self, indices: Sequence[Tensor], values: Tensor,
                  accumulate: bool = False) -> Tensor:
        return ops.index_put(self, indices, values, accumulate)

    def scatter_reduce(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        return ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

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

    def logdet(self) -> Tensor:
        return ops.logdet(self)

    def slogdet(self) -> Any:
        return ops.slogdet(self)

    def inverse(self) -> Tensor:
        return ops.inverse(self)

    def pinverse(self, rcond: float = 1e-15) -> Tensor:
        return ops.pinverse(self, rcond)

    def matrix_power(self, n: int) -> Tensor:
        return ops.matrix_power(self, n)

    def matrix_exp(self) -> Tensor:
        return ops.matrix_exp(self)

    def cholesky(self, upper: bool = False) -> Tensor:
        return ops.cholesky(self, upper)

    def svd(self, some: bool = True, compute_uv: bool = True) -> Any:
        return ops.svd(self, some, compute_uv)

    def qr(self, some: bool = True) -> Any:
        return ops.qr(self, some)

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

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        """In place: ``self.masked_scatter(mask, source)``; ``mask`` broadcasts to ``self``."""
        return ops.index_writes.masked_scatter_(self, mask, source)

    def index_put_(self, indices: Sequence[Tensor], values: Tensor,
                   accumulate: bool = False) -> Tensor:
        """In place: ``self.index_put(indices, values, accumulate)``."""
        return ops.index_writes.index_put_(self, indices, values, accumulate)

    def scatter_reduce_(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        """In place: ``self.scatter_reduce(dim, index, src, reduce, include_self=...)``."""
        return ops.index_writes.scatter_reduce_(self, dim, index, src, reduce,
                                                include_self=include_self)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """In place: ``self += value * tensor1 * tensor2``."""
        return ops.inplace_more.addcmul_(self, tensor1, tensor2, value=value)

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """In place: ``self += value * tensor1 / tensor2``."""
        return ops.inplace_more.addcdiv_(self, tensor1, tensor2, value=value)

    def fmod_(self, other: Any) -> Tensor:
        """In place: ``self = self.fmod(other)``."""
        return ops.inplace_more.fmod_(self, other)

    def logit_(self, eps: float | None = None) -> Tensor:
        """In place: ``self`` holds ``self.logit(eps)``."""
        return ops.inplace.inplace("logit_", self, lambda a: ops.logit(a, eps))

    def polygamma_(self, n: int) -> Tensor:
        """In place: ``self`` holds ``self.polygamma(n)``."""
        return ops.inplace.inplace("polygamma_", self, lambda a: ops.polygamma(n, a))

    def xlogy_(self, other: Any) -> Tensor:
        """In place: ``self`` holds ``self.xlogy(other)``."""
        return ops.inplace.inplace("xlogy_", self, ops.xlogy, other)

    def hypot_(self, other: Tensor) -> Tensor:
        """In place: ``self`` holds ``self.hypot(other)``."""
        return ops.inplace.inplace("hypot_", self, ops.hypot, other)

    def copysign_(self, other: Any) -> Tensor:
        """In place: ``self`` holds ``self.copysign(other)`` (``self`` must be floating)."""
        return ops.inplace.inplace("copysign_", self, ops.copysign, other)

    def heaviside_(self, values: Tensor) -> Tensor:
        """In place: ``self`` holds ``self.heaviside(values)``."""
        return ops.inplace.inplace("heaviside_", self, ops.heaviside, values)

    def float_power_(self, exponent: Any) -> Tensor:
        """In place: ``self`` holds ``self.float_power(exponent)``; as in PyTorch ``self`` must
        already have the dtype float_power computes in (float64, or complex128)."""
        complex_ = self.dtype.kind == "c" or isinstance(exponent, complex) or (
            hasattr(exponent, "dtype") and exponent.dtype.kind == "c")
        needed = "complex128" if complex_ else "float64"
        if str(self.dtype) != needed:
            raise RuntimeError(f"float_power_: the base given to float_power_ has dtype "
                               f"{self.dtype} but the operation's result requires dtype {needed}")
        return ops.inplace.inplace("float_power_", self, ops.float_power, exponent)

    def clamp_min_(self, min: Any) -> Tensor:
        """In place: ``self`` limited below by ``min``."""
        return ops.inplace.inplace("clamp_min_", self, ops.clamp_min, min)

    def clamp_max_(self, max: Any) -> Tensor:
        """In place: ``self`` limited above by ``max``."""
        return ops.inplace.inplace("clamp_max_", self, ops.clamp_max, max)

    def atan2_(self, other: Any) -> Tensor:
        """In place: ``self`` holds ``self.atan2(other)``."""
        return ops.inplace.inplace("atan2_", self, ops.atan2, other)

    arctan2_ = atan2_

    def gcd_(self, other: Tensor) -> Tensor:
        """In place: ``self`` holds ``self.gcd(other)``."""
        return ops.inplace.inplace("gcd_", self, ops.gcd, other)

    def lcm_(self, other: Tensor) -> Tensor:
        """In place: ``self`` holds ``self.lcm(other)``."""
        return ops.inplace.inplace("lcm_", self, ops.lcm, other)

    def bitwise_and_(self, other: Any) -> Tensor:
        """In place: ``self &= other``."""
        return ops.inplace.inplace("bitwise_and_", self, ops.bitwise_and, other)

    def bitwise_or_(self, other: Any) -> Tensor:
        """In place: ``self |= other``."""
        return ops.inplace.inplace("bitwise_or_", self, ops.bitwise_or, other)

    def bitwise_xor_(self, other: Any) -> Tensor:
        """In place: ``self ^= other``."""
        return ops.inplace.inplace("bitwise_xor_", self, ops.bitwise_xor, other)

    def bitwise_left_shift_(self, other: Any) -> Tensor:
        """In place: ``self <<= other``."""
        return ops.inplace.inplace("bitwise_left_shift_", self, ops.bitwise_left_shift, other)

    def bitwise_right_shift_(self, other: Any) -> Tensor:
        """In place: ``self >>= other``."""
        return ops.inplace.inplace("bitwise_right_shift_", self, ops.bitwise_right_shift, other)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """In place: fill with 0s and 1s, each 1 with probability ``p`` (a number or a tensor)."""
        return ops.sampling.bernoulli_(self, p, generator=generator)

    def renorm_(self, p: float, dim: int, maxnorm: float) -> Tensor:
        """In place: ``self`` holds ``self.renorm(p, dim, maxnorm)``."""
        return ops.statistics.renorm_(self, p, dim, maxnorm)

    def addmm_(self, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """In place: ``self`` holds ``self.addmm(mat1, mat2, beta=beta, alpha=alpha)``."""
        return ops.products.addmm_(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv_(self, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """In place: ``self`` holds ``self.addmv(mat, vec, beta=beta, alpha=alpha)``."""
        return ops.products.addmv_(self, mat, vec, beta=beta, alpha=alpha)

    def addr_(self, vec1: Tensor, vec2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """In place: ``self`` holds ``self.addr(vec1, vec2, beta=beta, alpha=alpha)``."""
        return ops.products.addr_(self, vec1, vec2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
                 alpha: float = 1) -> Tensor:
        """In place: ``self`` holds ``self.baddbmm(batch1, batch2, beta=beta, alpha=alpha)``."""
        return ops.products.baddbmm_(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
                alpha: float = 1) -> Tensor:
        """In place: ``self`` holds ``self.addbmm(batch1, batch2, beta=beta, alpha=alpha)``."""
        return ops.products.addbmm_(self, batch1, batch2, beta=beta, alpha=alpha)

    def put_(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """In place: ``self.put(index, source, accumulate)``."""
        return ops.scatter_views.put_(self, index, source, accumulate)

    def index_reduce_(self, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                      include_self: bool = True) -> Tensor:
        """In place: ``self.index_reduce(dim, index, source, reduce, include_self=...)``."""
        return ops.scatter_views.index_reduce_(self, dim, index, source, reduce,
                                               include_self=include_self)

    # ----------------------------------------------------------------- in place: shape, graph
    # (ops/inplace_shape.py), triangles, scans, random fills (ops/inplace_more.py); queries
    def unsqueeze_(self, dim: int) -> Tensor:
        """In place: ``self`` becomes ``self.unsqueeze(dim)`` (see ``tinynet.ops.inplace_shape``)."""
        return ops.inplace_shape.unsqueeze_(self, dim)

    def squeeze_(self, dim: Any = None) -> Tensor:
        """In place: ``self`` becomes ``self.squeeze(dim)`` (``dim``: None, an int or a tuple)."""
        return ops.inplace_shape.squeeze_(self, dim)

    def t_(self) -> Tensor:
        """In place: ``self`` becomes ``self.t()``."""
        return ops.inplace_shape.t_(self)

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """In place: ``self`` becomes ``self.transpose(dim0, dim1)``."""
        return ops.inplace_shape.transpose_(self, dim0, dim1)

    swapaxes_ = swapdims_ = transpose_

    def resize_(self, *sizes: Any, memory_format: Any = None) -> Tensor:
        """In place: ``self`` takes the shape ``sizes`` whatever its number of elements (new
        elements are zeros; see ``tinynet.ops.inplace_shape.resize_``)."""
        return ops.inplace_shape.resize_(self, *sizes, memory_format=memory_format)

    def resize_as_(self, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
        """In place: ``self.resize_(the_template.shape)``."""
        return ops.inplace_shape.resize_as_(self, the_template, memory_format=memory_format)

    def detach_(self) -> Tensor:
        """In place: ``self`` becomes a leaf that doesn't require grad (not for views)."""
        return ops.inplace_shape.detach_(self)

    def tril_(self, diagonal: int = 0) -> Tensor:
        """In place: ``self`` holds ``self.tril(diagonal)``."""
        return ops.inplace_more.tril_(self, diagonal)

    def triu_(self, diagonal: int = 0) -> Tensor:
        """In place: ``self`` holds ``self.triu(diagonal)``."""
        return ops.inplace_more.triu_(self, diagonal)

    def cumsum_(self, dim: int, *, dtype: Any = None) -> Tensor:
        """In place: ``self`` holds ``self.cumsum(dim)``, in its own dtype."""
        return ops.inplace_more.cumsum_(self, dim, dtype=dtype)

    def cumprod_(self, dim: int, *, dtype: Any = None) -> Tensor:
        """In place: ``self`` holds ``self.cumprod(dim)``, in its own dtype."""
        return ops.inplace_more.cumprod_(self, dim, dtype=dtype)

    def lerp_(self, end: Tensor, weight: Any) -> Tensor:
        """In place: ``self`` holds ``self.lerp(end, weight)``."""
        return ops.inplace_more.lerp_(self, end, weight)

    def fill_diagonal_(self, fill_value: Any, wrap: bool = False) -> Tensor:
        """In place: the main diagonal set to ``fill_value`` (``wrap``: NumPy's, for tall
        matrices)."""
        return ops.inplace_more.fill_diagonal_(self, fill_value, wrap)

    def apply_(self, callable: Any) -> Tensor:
        """In place: each element ``v`` replaced by ``callable(v)`` (CPU, no autograd)."""
        return ops.inplace_more.apply_(self, callable)

    def map_(self, tensor: Tensor, callable: Any) -> Tensor:
        """In place: each element ``a`` replaced by ``callable(a, b)``, ``b`` from ``tensor``."""
        return ops.inplace_more.map_(self, tensor, callable)

    def random_(self, *args: Any, to: Any = None, generator: Any = None) -> Tensor:
        """In place: integers drawn uniformly: ``random_()``, ``random_(to)``,
        ``random_(from, to)`` (see ``tinynet.ops.inplace_more.random_``)."""
        return ops.inplace_more.random_(self, *args, to=to, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """In place: draws from the exponential distribution of rate ``lambd``."""
        return ops.inplace_more.exponential_(self, lambd, generator=generator)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
        """In place: draws from the Cauchy distribution (``median``, ``sigma``)."""
        return ops.inplace_more.cauchy_(self, median, sigma, generator=generator)

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
        """In place: draws whose logarithm is N(``mean``, ``std``²)."""
        return ops.inplace_more.log_normal_(self, mean, std, generator=generator)

    def geometric_(self, p: float, *, generator: Any = None) -> Tensor:
        """In place: draws from the geometric distribution (trials to the first success)."""
        return ops.inplace_more.geometric_(self, p, generator=generator)

    def new(self, *args: Any, device: Any = None) -> Tensor:
        """PyTorch's legacy constructor: ``x.new(2, 3)`` (zeros), ``x.new([1, 2])``, ``x.new()``,
        in this tensor's dtype and device (see ``tinynet.ops.tensor_queries.new``)."""
        return ops.tensor_queries.new(self, *args, device=device)

    def is_complex(self) -> bool:
        """True for a complex dtype."""
        return ops.tensor_queries.is_complex(self)

    def is_signed(self) -> bool:
        """True for a dtype that holds negative numbers (not bool, nor uint8)."""
        return ops.tensor_queries.is_signed(self)

    def is_nonzero(self) -> bool:
        """Whether the one element is not zero (other sizes: RuntimeError)."""
        return ops.tensor_queries.is_nonzero(self)

    def is_same_size(self, other: Tensor) -> bool:
        """Whether ``other`` has this tensor's shape."""
        return ops.tensor_queries.is_same_size(self, other)

    def is_inference(self) -> bool:
        """False: tinynet makes no inference tensors (``inference_mode`` is ``no_grad``)."""
        return ops.tensor_queries.is_inference(self)

    @property
    def output_nr(self) -> int:
        """Which output of its ``grad_fn`` this tensor is (0 for a leaf and for most ops; the
        index among the outputs of an ``autograd.Function``)."""
        return 0 if self.grad_fn is None else getattr(self.grad_fn, "output_nr", 0)

    def register_post_accumulate_grad_hook(self, hook: Any) -> Any:
        """Call ``hook(self)`` each time ``backward`` has accumulated a gradient into this leaf's
        ``.grad``; returns a handle whose ``remove()`` takes it off. Leaves only."""
        from tinynet.autograd import hooks  # tinynet.autograd imports the Tensor: looked up now

        return hooks.register_post_accumulate_grad_hook(self, hook)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_
    __imod__ = remainder_
    __ifloordiv__ = floor_divide_

    __iand__ = bitwise_and_
    __ior__ = bitwise_or_
    __ixor__ = bitwise_xor_
    __ilshift__ = bitwise_left_shift_
    __irshift__ = bitwise_right_shift_

    def __imatmul__(self, other: Any) -> Tensor:
        return ops.inplace.matmul_(self, other)


# The unary ops whose in-place form PyTorch's Tensor has (``x.relu_()``, ``x.exp_()``…): each
# makes ``x`` hold ``x.op()``, recorded in the graph as the other in-place ops are.
IN_PLACE_UNARY = ("neg", "abs", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt",
                  "square", "reciprocal", "sign", "floor", "ceil", "trunc", "frac", "sin", "cos",
                  "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu",
                  "erf", "erfc", "erfinv", "lgamma", "digamma", "i0", "sinc", "deg2rad", "rad2deg",
                  "fix")
# More unary in-place forms: the inverse hyperbolics, which PyTorch refuses to differentiate
# in place ("the derivative for 'inplace version of asinh' is not implemented") and tinynet
# differentiates as their out-of-place forms; sgn_ (whose zero gradient PyTorch gives as a
# tensor without storage); bitwise_not_ (integer and bool tensors).
IN_PLACE_UNARY_MORE = ("asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "sgn",
                       "bitwise_not")


def _in_place_unary(name: str) -> Any:
    def method(self: Tensor) -> Tensor:
        return ops.inplace.inplace(f"{name}_", self, lambda a: getattr(a, name)())

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In place: ``self`` holds ``self.{name}()``."
    return method


for _name in IN_PLACE_UNARY + IN_PLACE_UNARY_MORE:
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
