"""Reductions over ``dim`` (an int, a tuple, or None for all): sum, mean, max, min, var, logsumexp."""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any

from tinynet import backend
from tinynet.autograd import Op, no_grad
from tinynet.ops.arithmetic import Masked
from tinynet.ops.elementwise import maximum, minimum, where
from tinynet.ops.shape import IndexScatter, broadcast_to
from tinynet.tensor import MinMax, Tensor


def _axes(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) or dim is None else tuple(dim)
    if dim is None or not dims:  # an empty list of dims reduces them all, as in PyTorch
        return tuple(range(ndim))
    rank = ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
    axes = sorted({d % rank for d in dims})
    if len(axes) < len(dims):
        raise RuntimeError(f"{op}: a dim appears more than once in dim={tuple(dims)}")
    return tuple(axes) if ndim else ()


def _keepdim_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _quiet(a: Any) -> Any:
    """No NumPy warning for an inf - inf or an overflow in a reduction: NumPy's reductions warn
    from its own Python code, which tinynet's warning filter (see backend) cannot name."""
    return backend.errstate(backend.get_array_module(a), invalid="ignore", over="ignore")


class Sum(Op):
    """The sum over ``axes``; PyTorch names its node SumBackward0 over all dims, else 1."""

    saves_inputs = False
    node_name = "SumBackward0"

    def forward(self, a):
        with _quiet(a):
            return a.sum(axis=self.axes, keepdims=self.keepdim)

    def backward(self, g):
        shape = self.inputs[0].shape
        return (broadcast_to(g.reshape(_keepdim_shape(shape, self.axes)), shape),)


class Mean(Op):
    """The mean over ``axes`` (one node, as PyTorch's MeanBackward0 or, over some dims, 1)."""

    saves_inputs = False
    node_name = "MeanBackward0"

    def forward(self, a):
        with _quiet(a):
            return a.mean(axis=self.axes, keepdims=self.keepdim)

    def backward(self, g):
        shape = self.inputs[0].shape
        count = 1
        for d in self.axes:
            count *= shape[d]
        return (broadcast_to((g / count).reshape(_keepdim_shape(shape, self.axes)), shape),)


def _node_name(op: str, dim: Any) -> dict[str, str]:
    """PyTorch's node name for a reduction: ``op``Backward0 over all dims, 1 over given ones."""
    return {} if dim is None else {"node_name": f"{op}Backward1"}


class Extreme(Op):
    """max (``largest``) or min over ``axes``. At ties the gradient is split evenly between the
    tied elements, as PyTorch does for ``amax``/``amin`` and for ``max()`` with no dim.

    ``selects`` (``max``/``min``) gives the gradient to the chosen elements only, as PyTorch
    fills it in: a NaN maximum's gradient goes to the NaN elements, the others get exactly 0.
    Without it (``amax``/``amin``) it is a product with the tie shares, as in PyTorch, so a NaN
    maximum or an inf gradient makes every element's gradient NaN."""

    def forward(self, a):
        out = a.max(axis=self.axes, keepdims=True) if self.largest else \
            a.min(axis=self.axes, keepdims=True)
        self.out = out
        return out if self.keepdim else out.reshape(
            tuple(n for i, n in enumerate(a.shape) if i not in self.axes))

    def backward(self, g):
        a = self.inputs[0].array
        hits = a == self.out
        if self.selects:
            xp = backend.get_array_module(a)
            hits |= xp.isnan(a) & xp.isnan(self.out)
        with backend.errstate(backend.get_array_module(a), invalid="ignore"):  # NaN max: 0/0
            share = (hits / hits.sum(axis=self.axes, keepdims=True)).astype(g.dtype, copy=False)
        g = broadcast_to(g.reshape(_keepdim_shape(a.shape, self.axes)), a.shape)
        return (Masked.apply(g, factor=share) if self.selects else g * Tensor(share),)


def sum(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (all dims when None). Booleans, ints and uint8 sum to int64, as in PyTorch."""
    if a.dtype.kind in "bi" or a.dtype == "uint8":
        a = Tensor(a.array.astype("int64"))
    return Sum.apply(a, axes=_axes(dim, a.ndim, "sum"), keepdim=keepdim, **_node_name("Sum", dim))


def mean(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The mean over ``dim`` (all dims when None) of a floating tensor."""
    if a.dtype.kind not in "fc":
        raise TypeError(f"mean: expected a floating point tensor, got {a.dtype}")
    return Mean.apply(a, axes=_axes(dim, a.ndim, "mean"), keepdim=keepdim,
                      **_node_name("Mean", dim))


class Var(Op):
    """The variance over ``axes`` with ``dof`` degrees of freedom, one node as PyTorch's
    VarBackward0. Its gradient is PyTorch's 2/dof · g · (a - mean a), so an infinite ``g``
    gives ±inf where a composition of mean and subtraction would give inf - inf = NaN."""

    def forward(self, a):
        with _quiet(a), backend.errstate(backend.get_array_module(a), divide="ignore"):
            centered = a - a.mean(axis=self.axes, keepdims=True)
            squares = (centered * centered).sum(axis=self.axes, keepdims=self.keepdim)
            return squares / self.dof  # dof 0 is warned about in var()

    def backward(self, g):
        a = self.inputs[0]
        g = g.reshape(_keepdim_shape(a.shape, self.axes))
        with backend.errstate(a.xp, invalid="ignore"):  # at dof 0: inf · 0, NaN as in PyTorch
            return ((g * (2 / self.dof if self.dof else math.inf)) * (a - mean(a, self.axes, True)),)


def var(a: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """Variance; ``correction=1`` (``unbiased=True``, the default) divides by n - 1.

    >>> tn.tensor([1.0, 2.0, 4.0]).var()
    tensor(2.3333)
    """
    return _variance(a, dim, unbiased, keepdim, correction, "var")


def _variance(a: Tensor, dim: Any, unbiased: bool, keepdim: bool, correction: int | None,
              op: str) -> Tensor:
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: std and var only support floating point and complex dtypes, "
                           f"got {a.dtype}")
    correction = (1 if unbiased else 0) if correction is None else correction
    axes = _axes(dim, a.ndim, op)
    count = 1
    for d in axes:
        count *= a.shape[d]
    dof = builtins.max(count - correction, 0)
    if dof == 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0: correction {correction} is not less "
                      f"than the {count} elements reduced, so the result is inf or NaN",
                      UserWarning, stacklevel=4)
    return Var.apply(a, axes=axes, keepdim=keepdim, dof=dof)


class StdFromVar(Op):
    """The square root of a variance, with gradient 0 where it is 0, as PyTorch's std: values
    that are all equal have no direction to spread in, where a plain sqrt's infinite slope
    would make their gradients NaN."""

    node_name = "StdBackward0"

    def forward(self, v):
        self.out = backend.get_array_module(v).sqrt(v)
        return self.out

    def backward(self, g):
        zero = self.out == 0
        return (Masked.apply(g / (2 * where(zero, 1.0, self.output(self.out))), factor=~zero),)


def std(a: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """Standard deviation, the square root of ``var`` (same arguments). Where all the values
    are equal it is 0 and so is its gradient, as in PyTorch.

    >>> tn.tensor([[1.0, 1.0], [1.0, 3.0]]).std(1)
    tensor([0.0000, 1.4142])
    """
    return StdFromVar.apply(_variance(a, dim, unbiased, keepdim, correction, "std"))


def var_mean(a: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over the same dims, as ``torch.var_mean`` (``var``'s arguments).

    >>> tn.var_mean(tn.tensor([1.0, 2.0, 3.0]))
    (tensor(1.), tensor(2.))
    """
    return (_variance(a, dim, unbiased, keepdim, correction, "var_mean"),
            mean(a, dim, keepdim))


def std_mean(a: Tensor, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
             correction: int | None = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over the same dims, as ``torch.std_mean`` (``std``'s arguments).

    >>> tn.std_mean(tn.tensor([[1.0, 1.0], [1.0, 3.0]]), 1)
    (tensor([0.0000, 1.4142]), tensor([1., 2.]))
    """
    return (StdFromVar.apply(_variance(a, dim, unbiased, keepdim, correction, "std_mean")),
            mean(a, dim, keepdim))


def any(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` (all dims when None) is non-zero."""
    return Tensor(a.xp.asarray(a.array.any(axis=_axes(dim, a.ndim, "any"), keepdims=keepdim)))


def all(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` (all dims when None) is non-zero."""
    return Tensor(a.xp.asarray(a.array.all(axis=_axes(dim, a.ndim, "all"), keepdims=keepdim)))


def count_nonzero(a: Tensor, dim: Any = None) -> Tensor:
    """How many elements over ``dim`` (all when None) are non-zero, as int64."""
    return Tensor(a.xp.asarray(a.array != 0).sum(axis=_axes(dim, a.ndim, "count_nonzero"))
                  .astype("int64"))


def _extreme(a: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Tensor | MinMax:
    name = "max" if largest else "min"
    if isinstance(dim, Tensor):  # max(a, b) is PyTorch's other spelling of maximum(a, b)
        return (maximum if largest else minimum)(a, dim)
    axes = _axes(dim, a.ndim, name)
    if a.numel() == 0 and (dim is None or a.shape[axes[0]] == 0):  # other dims may be empty
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {tuple(a.shape)}"
                         + ("" if dim is None else f" over its dim {dim} of size 0"))
    if dim is None:
        return Extreme.apply(a, axes=axes, keepdim=keepdim, largest=largest, selects=True,
                             node_name=f"{name.capitalize()}Backward1")
    if len(axes) > 1 or not isinstance(dim, int):
        raise TypeError(f"{name}: dim must be an int, got {dim!r} (amax/amin reduce over several)")
    indices = (argmax if largest else argmin)(a, dim, keepdim)
    values = Selected.apply(a, select=_selection(indices.array, a.ndim, axes, keepdim),
                            node_name=f"{name.capitalize()}Backward0")
    return MinMax(values, indices)


def _selection(index: Any, ndim: int, axes: tuple[int, ...], keepdim: bool) -> tuple:
    """The advanced index that reads, at each position of ``index``'s shape, the element that
    ``index`` names along the reduced axis (nothing to choose in a 0-d tensor)."""
    if not axes:
        return ()
    xp = backend.get_array_module(index)
    axis = axes[0]
    out_axes = list(range(ndim)) if keepdim else [d for d in range(ndim) if d != axis]
    select = []
    for d in range(ndim):
        if d == axis:
            select.append(index)
            continue
        position = out_axes.index(d)
        select.append(xp.arange(index.shape[position]).reshape(
            [-1 if k == position else 1 for k in range(index.ndim)]))
    return tuple(select)


class Selected(Op):
    """The elements at ``select`` (max/min along a dim at their returned indices): the gradient
    goes to those elements alone, even where others tie with them, as in PyTorch."""

    saves_inputs = False

    def forward(self, a):
        return a[self.select]

    def backward(self, g):
        return (IndexScatter.apply(g, index=self.select, shape=self.inputs[0].shape),)


def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | MinMax:
    """Largest element; with ``dim``, a ``(values, indices)`` pair as in PyTorch; with a tensor
    in place of ``dim``, the elementwise ``maximum``.

    At ties the gradient is split evenly between the tied elements, as ``torch.max()`` and
    ``torch.amax`` do; with ``dim`` it all goes to the returned index, as ``torch.max(dim)``.
    """
    return _extreme(a, dim, keepdim, largest=True)


def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | MinMax:
    """Smallest element; with ``dim``, a ``(values, indices)`` pair as in PyTorch; with a tensor
    in place of ``dim``, the elementwise ``minimum``.

    Ties share the gradient as in ``max``: evenly, or with ``dim`` all to the returned index.
    """
    return _extreme(a, dim, keepdim, largest=False)


def amax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The largest values over ``dim`` (ties share the gradient evenly)."""
    return Extreme.apply(a, axes=_axes(dim, a.ndim, "amax"), keepdim=keepdim, largest=True,
                         selects=False, node_name="AmaxBackward0")


def amin(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The smallest values over ``dim`` (ties share the gradient evenly)."""
    return Extreme.apply(a, axes=_axes(dim, a.ndim, "amin"), keepdim=keepdim, largest=False,
                         selects=False, node_name="AminBackward0")


def argmax(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the largest element (of the flattened tensor, or along ``dim``), int64."""
    out = a.array.argmax(axis=dim)
    return Tensor(a.xp.expand_dims(out, dim) if keepdim and dim is not None and a.ndim else out)


def argmin(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the smallest element (of the flattened tensor, or along ``dim``), int64."""
    out = a.array.argmin(axis=dim)
    return Tensor(a.xp.expand_dims(out, dim) if keepdim and dim is not None and a.ndim else out)


def nansum(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """``sum`` with NaN counted as 0; NaN elements get gradient 0, as in PyTorch."""
    if a.dtype.kind not in "fc":  # no NaN to skip: an int tensor sums to int64
        return sum(a, dim, keepdim)
    return sum(where(a != a, 0.0, a), dim, keepdim)


def nanmean(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """``mean`` over the elements that are not NaN (NaN where every one is)."""
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {a.dtype}")
    present = Tensor((a.array == a.array).astype(a.array.dtype))  # 1 where not NaN
    return nansum(a, dim, keepdim) / sum(present, dim, keepdim)


def logsumexp(a: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(a))) without overflow: the max is taken out first, as a constant shift."""
    axes = _axes(dim, a.ndim, "logsumexp")
    if builtins.any(a.shape[d] == 0 for d in axes):  # no terms: log(0) = -inf, as in PyTorch
        return sum(a, axes, keepdim) + float("-inf")
    with no_grad():
        shift = amax(a, axes, keepdim=True)
    xp = backend.get_array_module(shift.array)
    shift = Tensor(xp.where(xp.isfinite(shift.array), shift.array, 0))
    out = sum((a - shift).exp(), axes, keepdim=True).log() + shift
    return out if keepdim else out.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axes))
