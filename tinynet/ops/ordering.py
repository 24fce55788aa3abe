"""Running and whole products and sums along a dim (cumsum, cumprod, prod) and ordering (sort,
argsort, topk, median; unique lives in unique.py).

Sorted values are ``gather(input, indices)``, so their gradient goes to the elements they came
from. ``prod`` and ``cumprod`` are exact at zeros and to every order of derivative: their backward
divides by the input only where it is non-zero, and takes each zero out by recursion (see
``cumprod_backward``).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.elementwise import where
from tinynet.ops.indexing import gather
from tinynet.ops.reduction import _axes, _keepdim_shape
from tinynet.ops.shape import _normalize_dim, broadcast_to, flip, pad, permute
from tinynet.tensor import Tensor

Sorted = namedtuple("sort", ["values", "indices"])
TopK = namedtuple("topk", ["values", "indices"])
Median = namedtuple("median", ["values", "indices"])


class CumSum(Op):
    node_name = "CumsumBackward0"
    saves_inputs = False

    def forward(self, a):
        return backend.get_array_module(a).cumsum(a, axis=self.dim)

    def backward(self, g):
        return (reverse_cumsum(g, self.dim),)


class CumProd(Op):
    node_name = "CumprodBackward0"

    def forward(self, a):
        self.out = backend.get_array_module(a).cumprod(a, axis=self.dim)
        return self.out

    def backward(self, g):
        return (cumprod_backward(self.inputs[0], g, self.dim, self.output(self.out)),)


class Prod(Op):
    """The product over ``axes``; its gradient is the product of all the other elements."""

    def forward(self, a):
        self.out = a.prod(axis=self.axes, keepdims=True)
        return self.out if self.keepdim else self.out.reshape(
            tuple(n for i, n in enumerate(a.shape) if i not in self.axes))

    def backward(self, g):
        (a,) = self.inputs
        g = g.reshape(_keepdim_shape(a.shape, self.axes))
        if not (a.array == 0).any():
            return (broadcast_to(g * self.output(self.out), a.shape) / a,)
        # With zeros: the product over the reduced elements, flattened into one last dim, is the
        # last entry of their cumprod, so its gradient is cumprod's with g at that entry only.
        kept = [d for d in range(a.ndim) if d not in self.axes]
        kept_shape = tuple(a.shape[d] for d in kept)
        n = _count(tuple(a.shape[d] for d in self.axes))
        rows = permute(a, kept + list(self.axes)).reshape(kept_shape + (n,))
        upstream = pad(permute(g, kept + list(self.axes)).reshape(kept_shape + (1,)), (n - 1, 0))
        grad = cumprod_backward(rows, upstream, len(kept_shape))
        grad = grad.reshape(kept_shape + tuple(a.shape[d] for d in self.axes))
        inverse = [0] * a.ndim
        for i, d in enumerate(kept + list(self.axes)):
            inverse[d] = i
        return (permute(grad, inverse),)


def _count(shape: tuple[int, ...]) -> int:
    total = 1
    for n in shape:
        total *= n
    return total


def reverse_cumsum(t: Tensor, dim: int) -> Tensor:
    """``out[i] = t[i] + t[i+1] + …`` along ``dim``: the adjoint of cumsum."""
    return flip(cumsum(flip(t, dim), dim), dim)


def cumprod_backward(x: Tensor, g: Tensor, dim: int, y: Tensor | None = None) -> Tensor:
    """The gradient of ``sum(g * cumprod(x, dim))`` with respect to ``x``, in tinynet ops.

    Before the first zero of a row it is ``reverse_cumsum(g * y) / x``. At the first zero it is
    the same gradient for ``x`` with that zero replaced by one (found by recursion, one zero
    fewer each time); past it, that gradient times the zero. Every piece is an exact polynomial
    in ``x`` where it is used, so derivatives of every order are right too. As in PyTorch, the
    division loses precision in higher derivatives at inputs many orders of magnitude smaller
    than the others.
    """
    y = cumprod(x, dim) if y is None else y
    total = reverse_cumsum(g * y, dim)
    zero = x.array == 0
    if not zero.any():
        return total / x
    xp, n = x.xp, x.shape[dim]
    position = xp.arange(n).reshape([-1 if d == dim else 1 for d in range(x.ndim)])
    first = xp.where(zero.any(axis=dim, keepdims=True), zero.argmax(axis=dim, keepdims=True), n)
    before = position < first
    without_first_zero = cumprod_backward(where(position == first, 1.0, x), g, dim)
    first_zero = gather(x, dim, xp.minimum(first, n - 1))  # 0, but a graph node for higher orders
    past = where(position > first, first_zero, 1.0)
    return where(before, total / where(before, x, 1.0), without_first_zero * past)


def _integers_as_int64(input: Tensor) -> Tensor:
    """Sums and products of integers or bools are int64, as in PyTorch."""
    return Tensor(input.array.astype("int64")) if input.dtype.kind in "biu" else input


def _with_dtype(input: Tensor, dtype: Any) -> Tensor:
    return _integers_as_int64(input) if dtype is None else input.to(dtype)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along ``dim`` (integers accumulate in int64)."""
    dim = _normalize_dim(dim, input.ndim, "cumsum")
    input = _with_dtype(input, dtype)
    return CumSum.apply(input, dim=dim) if input.ndim else input


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along ``dim`` (integers accumulate in int64)."""
    dim = _normalize_dim(dim, input.ndim, "cumprod")
    input = _with_dtype(input, dtype)
    return CumProd.apply(input, dim=dim) if input.ndim else input


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The product of all elements, or along ``dim`` (integers multiply in int64)."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod: dim must be an int or None, got {dim!r} (PyTorch reduces one dim)")
    input = _with_dtype(input, dtype)
    return Prod.apply(input, axes=_axes(dim, input.ndim, "prod"), keepdim=keepdim and dim is not None)


def _argsort(a: Any, dim: int, descending: bool) -> Any:
    """Stable sorting indices along ``dim``; NaN counts as the largest value, as in PyTorch."""
    xp = backend.get_array_module(a)
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable")
    key = -(a.astype("int64") if a.dtype.kind in "bu" else a)
    order = xp.argsort(key, axis=dim, kind="stable")
    if a.dtype.kind == "f":  # -NaN is still NaN, which argsort puts last: move it first
        is_nan = xp.isnan(xp.take_along_axis(a, order, axis=dim))
        order = xp.take_along_axis(order, xp.argsort(~is_nan, axis=dim, kind="stable"), axis=dim)
    return order


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Sorted:
    """``(values, indices)`` sorted along ``dim``. tinynet always sorts stably (equal elements
    keep their order), which ``stable=True`` asks of PyTorch."""
    if input.ndim == 0:
        return Sorted(input, Tensor(input.xp.zeros((), dtype="int64")))
    dim = _normalize_dim(dim, input.ndim, "sort")
    indices = _argsort(input.array, dim, descending)
    return Sorted(gather(input, dim, indices), Tensor(indices))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (stably)."""
    return sort(input, dim, descending, stable=stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopK:
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, in order."""
    dim = _normalize_dim(dim, input.ndim, "topk")
    size = input.shape[dim] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size {size}")
    if input.ndim == 0:
        return TopK(input, Tensor(input.xp.zeros((), dtype="int64")))
    order = _argsort(input.array, dim, descending=largest)
    indices = order[(slice(None),) * dim + (slice(0, k),)]
    return TopK(gather(input, dim, indices), Tensor(indices))


class MedianOfAll(Op):
    """The median of all elements, found beforehand (``value``): as PyTorch's median() without
    a dim, elements tied with it (or, for a NaN median, every NaN) share its gradient evenly."""

    saves_inputs = False
    node_name = "MedianBackward0"

    def forward(self, a):
        return self.value.copy()  # the output may be changed in place; backward reads value

    def backward(self, g):
        a = self.inputs[0].array
        xp = backend.get_array_module(a)
        hits = xp.isnan(a) if xp.isnan(self.value) else a == self.value
        share = (hits / hits.sum()).astype(a.dtype, copy=False)
        return (g * Tensor(share),)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | Median:
    """The lower of the two middle values (of all elements, or along ``dim`` with its index); a
    NaN anywhere makes the median NaN, as in PyTorch. With ``dim`` the gradient goes to the
    chosen element; without, the elements equal to the median share it, as in PyTorch."""
    return _median(input, dim, keepdim, "median")


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | Median:
    """``median`` of the values that are not NaN, as ``torch.nanmedian``: NaN only where every
    value is (along ``dim``: index 0 then).

    >>> tn.nanmedian(tn.tensor([3.0, float("nan"), 1.0, 2.0]))
    tensor(2.)
    """
    return _median(input, dim, keepdim, "nanmedian")


def _median(input: Tensor, dim: int | None, keepdim: bool, name: str) -> Tensor | Median:
    if dim is None:
        if input.numel() == 0:
            return Tensor(input.xp.asarray(float("nan"), dtype=input.dtype))
        chosen = _median(input.detach().reshape(-1), 0, False, name).values.array
        node = "MedianBackward0" if name == "median" else "NanmedianBackward0"
        return MedianOfAll.apply(input, value=chosen, node_name=node)
    dim = _normalize_dim(dim, input.ndim, name)
    xp, n = input.xp, input.shape[dim] if input.ndim else 1
    if input.ndim == 0:
        return Median(input, Tensor(xp.zeros((), dtype="int64")))
    order = _argsort(input.array, dim, descending=False)  # NaNs last
    nan_count = xp.isnan(input.array).sum(axis=dim, keepdims=True) if input.dtype.kind == "f" else 0
    if name == "median":
        position = xp.where(nan_count > 0, n - nan_count, (n - 1) // 2)  # the first NaN, if any
    else:  # the middle of the values before the NaNs; the first NaN when all are
        position = xp.maximum((n - nan_count - 1) // 2, 0)
    shape = order.shape[:dim] + (1,) + order.shape[dim + 1:]
    indices = xp.take_along_axis(order, xp.broadcast_to(position, shape), axis=dim)
    values = gather(input, dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return Median(values, Tensor(indices))

