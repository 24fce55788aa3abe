"""Writes at given places, as PyTorch's: ``take`` (flat indexing, the read that these writes
undo), ``masked_scatter``, ``index_put`` (with ``accumulate``) and ``scatter_reduce`` (``sum``,
``prod``, ``mean``, ``amax``, ``amin``, with ``include_self``), and the in-place forms
``masked_scatter_``, ``index_put_`` and ``scatter_reduce_``.

``take``, ``masked_scatter`` and ``index_put`` are compositions of the indexing ops of
``shape.py`` (a read's adjoint is a scatter-add into zeros, a write's is a read), so their
gradients of every order come for free. ``scatter_reduce`` is one op whose backward is
PyTorch's formula written in tinynet ops: ``mean`` divides by each place's count, ``amax``/
``amin`` share the gradient evenly among the tied elements, ``prod`` is exact at zeros (as
PyTorch's, its double backward refuses when two zeros of ``src`` meet at one place).

The in-place forms run the out-of-place op through ``inplace.inplace``, as ``scatter_`` and
``index_add_`` do: the tensor's memory is written, its version goes up, and under grad mode the
change is recorded.

>>> x = tn.zeros(5)
>>> x.scatter_reduce(0, tn.tensor([0, 0, 3]), tn.tensor([2.0, 4.0, 1.0]), "mean",
...                  include_self=False)
tensor([3., 0., 0., 1., 0.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.dtypes import iinfo
from tinynet.ops.arguments import require_tensor, same_device
from tinynet.ops.elementwise import where
from tinynet.ops.indexing import Gather, Scatter, _crop, _grid
from tinynet.ops.inplace import inplace
from tinynet.ops.shape import (IndexPut, IndexScatter, _normalize_dim, broadcast_to, getitem,
                               reshape)
from tinynet.tensor import Tensor

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")




# --------------------------------------------------------------------------- take
def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of ``input`` read as a flat (row-major) vector at the int64 positions
    ``index``; the result has ``index``'s shape. Negative positions count from the end. The
    gradient adds up where a position repeats.

    >>> tn.take(tn.tensor([[1, 2], [3, 4]]), tn.tensor([[0, -1]]))
    tensor([[1, 4]])
    """
    require_tensor("take", index, "index", 1)
    if index.dtype != "int64":
        raise RuntimeError(f"take(): expected a long (int64) tensor for index, got {index.dtype}")
    same_device("take", input, "index", index)
    return getitem(reshape(input, (-1,)), (flat_positions("take", input, index.array),))


def flat_positions(op: str, input: Tensor, positions: Any) -> Any:
    """The int array ``positions`` as places in ``input`` read flat (row-major), negative ones
    counted from the end; IndexError for any place outside it (``take``, ``put``)."""
    n = input.numel()
    if positions.size:
        if n == 0:
            raise IndexError(f"{op}(): tried to index an empty tensor (shape {tuple(input.shape)}) "
                             f"at {positions.size} positions")
        bad = (positions < -n) | (positions >= n)
        if bad.any():
            raise IndexError(f"{op}(): index {int(positions[bad].ravel()[0])} is out of range for "
                             f"a tensor of {n} elements (shape {tuple(input.shape)})")
        positions = positions % n
    return positions


# --------------------------------------------------------------------------- masked_scatter
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the places where the bool ``mask`` holds filled, in row-major
    order, with the first elements of ``source`` (read flat; it needs at least as many as
    ``mask`` has Trues). ``mask`` and ``input`` broadcast together; ``source`` has ``input``'s
    dtype. Both ``input`` and ``source`` get gradients (``source``'s unused elements get 0).

    >>> tn.zeros(2, 3).masked_scatter(tn.tensor([True, False, True]), tn.arange(1.0, 7.0))
    tensor([[1., 0., 2.],
            [3., 0., 4.]])
    """
    return _masked_scatter("masked_scatter", input, mask, source)


def _masked_scatter(op: str, input: Tensor, mask: Tensor, source: Tensor,
                    in_place: bool = False) -> Tensor:
    require_tensor(op, mask, "mask", 1)
    require_tensor(op, source, "source", 2)
    if mask.dtype != "bool":
        raise RuntimeError(f"{op}(): only boolean masks are supported, got a mask of dtype "
                           f"{mask.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"{op}(): expected self and source to have the same dtype, got "
                           f"{input.dtype} and {source.dtype}")
    same_device(op, input, "mask", mask)
    same_device(op, input, "source", source)
    xp = input.xp
    try:
        shape = tuple(xp.broadcast_shapes(tuple(input.shape), tuple(mask.shape)))
    except ValueError:
        raise RuntimeError(f"{op}(): the mask of shape {tuple(mask.shape)} does not broadcast "
                           f"with the input of shape {tuple(input.shape)}") from None
    if in_place and shape != tuple(input.shape):
        raise RuntimeError(f"{op}(): the mask of shape {tuple(mask.shape)} must broadcast to the "
                           f"shape {tuple(input.shape)} of the tensor changed in place")
    positions = xp.flatnonzero(xp.broadcast_to(mask.array, shape))
    count = int(positions.size)
    if source.numel() < count:
        raise RuntimeError(f"{op}(): the source has {source.numel()} elements (shape "
                           f"{tuple(source.shape)}), fewer than the {count} places the mask of "
                           f"shape {tuple(mask.shape)} selects in the input of shape "
                           f"{tuple(input.shape)}")
    values = getitem(reshape(source, (-1,)), (slice(0, count),))
    spread = input if shape == tuple(input.shape) else broadcast_to(input, shape)
    return reshape(IndexPut.apply(reshape(spread, (-1,)), values, index=(positions,)), shape)


def masked_scatter_(t: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In place: ``t.masked_scatter(mask, source)``; ``mask`` must broadcast to ``t``'s shape."""
    return inplace("masked_scatter_", t,
                   lambda a, s: _masked_scatter("masked_scatter_", a, mask, s, in_place=True),
                   source)


# --------------------------------------------------------------------------- index_put
def index_put(input: Tensor, indices: Sequence[Tensor], values: Tensor,
              accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` (broadcast) written at ``input[indices]``, where
    ``indices`` is a tuple of int64/int32 position tensors (broadcast together; negative ones
    count from the end) or bool masks, one per leading dim (a mask covers as many dims as it
    has). With ``accumulate=True`` the values are added, and repeated positions add up; without
    it, which of the values written at a repeated position stays is unspecified, as in PyTorch.
    ``values`` is a tensor of ``input``'s dtype; both get gradients.

    >>> x = tn.zeros(3)
    >>> x.index_put((tn.tensor([0, 0, 2]),), tn.tensor([1.0, 2.0, 5.0]), accumulate=True)
    tensor([3., 0., 5.])
    """
    return _index_put("index_put", input, indices, values, accumulate)


def _index_arrays(op: str, input: Tensor, indices: Any) -> tuple[tuple, tuple[int, ...]]:
    """``indices`` as a tuple of integer position arrays (each mask as its nonzero positions,
    as PyTorch converts it), and the shape of ``input[indices]``."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for k, item in enumerate(indices):
        if not isinstance(item, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {k} in argument 'indices', but "
                            f"got {type(item).__name__}")
    if not indices:
        raise RuntimeError(f"{op}(): indices is empty; give at least one index tensor")
    used = sum(max(t.ndim, 1) if t.dtype == "bool" else 1 for t in indices)
    if used > input.ndim:
        raise IndexError(f"{op}(): too many indices for tensor of dimension {input.ndim} (got "
                         f"{used}): indices of shapes {[tuple(t.shape) for t in indices]} for a "
                         f"tensor of shape {tuple(input.shape)}")
    arrays: list[Any] = []
    dim = 0
    for k, item in enumerate(indices):
        array = backend.to_device(item.array, input.device)
        if item.dtype == "bool":
            if item.ndim == 0:
                raise IndexError(f"{op}(): a 0-d bool index (element {k}) is not supported; "
                                 "index with a bool mask of the dims it selects in")
            covered = tuple(input.shape[dim:dim + item.ndim])
            if tuple(item.shape) != covered:
                raise IndexError(f"{op}(): the shape {list(item.shape)} of the mask at element "
                                 f"{k} does not match the shape {list(covered)} of the indexed "
                                 f"tensor's dims {dim} to {dim + item.ndim - 1} (tensor of shape "
                                 f"{tuple(input.shape)})")
            arrays.extend(input.xp.nonzero(array))
            dim += item.ndim
        elif item.dtype in ("int64", "int32"):
            size = input.shape[dim]
            bad = (array < -size) | (array >= size)
            if bad.any():
                raise IndexError(f"{op}(): index {int(array[bad].ravel()[0])} is out of bounds "
                                 f"for dimension {dim} with size {size}")
            arrays.append(array % size if size else array)
            dim += 1
        elif item.dtype == "uint8":
            raise RuntimeError(f"{op}(): uint8 index tensors (element {k}) are not supported; "
                               "use a bool mask (mask.bool()) or int64 positions")
        else:
            raise IndexError(f"{op}(): tensors used as indices must be long, int or bool "
                             f"tensors, got {item.dtype} at element {k}")
    try:
        shape = tuple(input.xp.broadcast_shapes(*(a.shape for a in arrays)))
    except ValueError:
        raise IndexError(f"{op}(): shape mismatch: indexing tensors could not be broadcast "
                         f"together with shapes {[list(a.shape) for a in arrays]}") from None
    return tuple(arrays), shape + tuple(input.shape[dim:])


def _expands(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """True when ``shape`` expands to ``target`` (no more dims; each size 1 or the same)."""
    return len(shape) <= len(target) and all(
        n in (1, m) for n, m in zip(reversed(shape), reversed(target)))


def _index_put(op: str, input: Tensor, indices: Any, values: Tensor, accumulate: bool) -> Tensor:
    index, result_shape = _index_arrays(op, input, indices)
    require_tensor(op, values, "values", 2)
    if values.dtype != input.dtype:
        raise RuntimeError(f"{op}(): index put requires the source and destination dtypes "
                           f"match, got {input.dtype} for the destination and {values.dtype} for "
                           "the source")
    same_device(op, input, "values", values)
    if not _expands(tuple(values.shape), result_shape):
        raise RuntimeError(f"{op}(): shape mismatch: value tensor of shape {list(values.shape)} "
                           f"cannot be broadcast to indexing result of shape {list(result_shape)}")
    if not accumulate:
        return IndexPut.apply(input, values, index=index)
    spread = values if tuple(values.shape) == result_shape else broadcast_to(values, result_shape)
    return input + IndexScatter.apply(spread, index=index, shape=tuple(input.shape))


def index_put_(t: Tensor, indices: Sequence[Tensor], values: Tensor,
               accumulate: bool = False) -> Tensor:
    """In place: ``t.index_put(indices, values, accumulate)``."""
    return inplace("index_put_", t,
                   lambda a, v: _index_put("index_put_", a, indices, v, accumulate), values)


# --------------------------------------------------------------------------- scatter_reduce
def _reduce_at(name: str, out: Any, grid: tuple, values: Any) -> None:
    """``out[grid] = name(out[grid], values)`` where repeated positions combine one by one
    (``name`` a ufunc: add, multiply, maximum, minimum); on the host where the device's array
    module has no ``ufunc.at`` for it."""
    if name == "add":
        backend.scatter_add(out, grid, values)
        return
    try:
        getattr(backend.get_array_module(out), name).at(out, grid, values)
    except (AttributeError, NotImplementedError, TypeError, ValueError):
        host = backend.to_numpy(out)
        host_grid = tuple(backend.to_numpy(g) for g in grid)
        getattr(backend.get_array_module(host), name).at(host, host_grid,
                                                         backend.to_numpy(values))
        out[...] = backend.to_device(host, backend.device_of(out))


def _identity(reduce: str, dtype: Any) -> Any:
    """The value that ``reduce`` leaves unchanged, for places that don't include self."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "b":
        return reduce == "amin"
    if dtype.kind in "iu":
        return iinfo(dtype).min if reduce == "amax" else iinfo(dtype).max
    return float("-inf") if reduce == "amax" else float("inf")


_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


class ScatterReduce(Op):
    """A copy of ``a`` with ``src`` combined in at ``index`` along ``dim`` by ``reduce``
    (``include_self``: whether ``a``'s own value takes part at the places written; ``shape``:
    ``a``'s shape)."""

    node_name = "ScatterReduceBackward0"

    def forward(self, a, src):
        xp = backend.get_array_module(a)
        grid = _grid(self.index, self.dim)
        out = a.copy()
        if not self.include_self:
            out[grid] = _identity(self.reduce, a.dtype)
        _reduce_at(_UFUNCS[self.reduce], out, grid, src)
        if self.reduce == "mean":
            count = self._count(xp, "int64")
            if out.dtype.kind in "fc":
                out = out / count.astype(out.dtype)
            else:  # PyTorch floors the (wrapped) integer sum
                out = (out.astype("int64") // count).astype(out.dtype)
        self.out = out
        return out

    def _count(self, xp: Any, dtype: Any) -> Any:
        """How many values were combined at each place (at least 1)."""
        count = xp.full(self.shape, int(self.include_self), dtype=dtype)
        backend.scatter_add(count, _grid(self.index, self.dim), xp.ones(self.index.shape, dtype))
        return xp.maximum(count, 1)

    def _again(self, a: Tensor, src: Tensor) -> Tensor:
        return ScatterReduce.apply(a, src, index=self.index, dim=self.dim, reduce=self.reduce,
                                   include_self=self.include_self, shape=self.shape)

    def backward(self, g):
        a, src = self.inputs
        xp, index, dim = g.xp, self.index, self.dim
        grid = _grid(index, dim)

        def gather(t: Tensor) -> Tensor:
            return Gather.apply(t, index=index, dim=dim)

        if self.reduce == "sum":
            ga, gsrc = g, gather(g)
        elif self.reduce == "mean":
            count = self._count(xp, g.dtype)
            ga, gsrc = g / Tensor(count), gather(g) / Tensor(count[grid])
        elif self.reduce == "prod":
            ga, gsrc = self._prod_grads(g, a, src, gather, *self.needs_input_grad)
        else:  # amax, amin: the gradient shared evenly among the elements equal to the result
            result = self.output(self.out).array
            self_is = a.array == result
            src_is = src.array == result[grid]
            ties = self_is.astype(g.dtype)
            backend.scatter_add(ties, grid, src_is.astype(g.dtype))
            shared = g / Tensor(ties)
            ga = Tensor(self_is.astype(g.dtype)) * shared
            gsrc = Tensor(src_is.astype(g.dtype)) * gather(shared)
        if not self.needs_input_grad[0]:
            ga = None
        elif not self.include_self:  # the places written got no part of a
            ga = Scatter.apply(ga, Tensor(xp.zeros(index.shape, g.dtype)), index=index, dim=dim)
        return ga, (gsrc if self.needs_input_grad[1] else None)

    def _prod_grads(self, g: Tensor, a: Tensor, src: Tensor, gather: Any, need_a: bool,
                    need_src: bool) -> tuple:
        """PyTorch's gradient of the product, exact where an element is 0: each element's
        gradient is the product of the others."""
        ga = gsrc = None
        if need_a:
            masked_self = where(a.array == 0, 1, a)
            ga = g * self._again(masked_self, src) / masked_self
        if need_src:
            xp, grid = g.xp, _grid(self.index, self.dim)
            src_zero = src.array == 0
            zeros_at = xp.zeros(self.shape, g.dtype)
            backend.scatter_add(zeros_at, grid, src_zero.astype(g.dtype))
            zeros_there = zeros_at[grid]
            single_zero = src_zero & (zeros_there == 1)
            others = gather(g * self._again(a, where(single_zero, 1, src)))
            gsrc = where(single_zero, others,
                         gather(g * self.output(self.out)) / where(src_zero, 1, src))
            if (zeros_there > 1).any():
                gsrc = DelayedError.apply(gsrc, message=(
                    "scatter_reduce(): Double backward is unsupported for src when >1 zeros in "
                    "src are scattered to the same position in self"))
        return ga, gsrc


class DelayedError(Op):
    """The identity, whose backward raises ``message``: a gradient that is right but whose
    own derivative is not implemented (PyTorch's ``DelayedError`` node)."""

    saves_inputs = False

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        raise RuntimeError(self.message)


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` with the elements of ``src`` combined in at ``index`` along ``dim``
    (for dim 0, ``out[index[i][j]][j] = reduce(out[index[i][j]][j], src[i][j])``), ``reduce``
    being ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``. With
    ``include_self=False`` the places written start from ``src``'s values alone (``input``'s
    value there is not combined). ``mean`` divides by the number of values combined (floor
    division for integer dtypes, as PyTorch). ``index`` is int64/int32 with ``input``'s number
    of dims and no larger than ``src`` (nor than ``input`` outside ``dim``); ``src`` has
    ``input``'s dtype. Differentiable in ``input`` and ``src`` for every ``reduce``, with
    PyTorch's gradients (``amax``/``amin`` share it evenly among ties).

    >>> tn.tensor([1.0, 2.0]).scatter_reduce(0, tn.tensor([0, 0]), tn.tensor([5.0, 3.0]), "amax")
    tensor([5., 2.])
    """
    return _scatter_reduce("scatter_reduce", input, dim, index, src, reduce, include_self)


def _scatter_reduce(op: str, input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str,
                    include_self: bool) -> Tensor:
    require_tensor(op, index, "index", 2)
    require_tensor(op, src, "src", 3)
    if not isinstance(reduce, str):
        raise TypeError(f"{op}(): argument 'reduce' (position 4) must be str, not "
                        f"{type(reduce).__name__}")
    if not isinstance(include_self, bool):
        raise TypeError(f"{op}(): argument 'include_self' must be bool, not "
                        f"{type(include_self).__name__}")
    dim = _normalize_dim(dim, input.ndim, op)
    if index.dtype not in ("int64", "int32"):
        raise RuntimeError(f"{op}(): expected dtype int32/int64 for index, got {index.dtype}")
    if src.dtype != input.dtype:
        raise RuntimeError(f"{op}(): expected self.dtype to be equal to src.dtype, got "
                           f"{input.dtype} and {src.dtype}")
    if reduce not in REDUCTIONS:
        raise RuntimeError(f"{op}(): reduce argument must be either sum, prod, mean, amax or "
                           f"amin, got {reduce!r}")
    if reduce == "mean" and input.dtype == "bool":
        raise NotImplementedError(f"{op}(): reduce='mean' is not implemented for bool tensors")
    same_device(op, input, "index", index)
    same_device(op, input, "src", src)
    if index.numel() == 0:  # nothing is written, and PyTorch checks no shapes
        return input.clone()
    _check_scatter_shapes(op, input, dim, index, src)
    positions = index.array.reshape(-1) if index.ndim == 0 else index.array
    size = input.shape[dim] if input.ndim else 1
    bad = (positions < 0) | (positions >= size)
    if bad.any():
        raise RuntimeError(f"{op}(): index {int(positions[bad].ravel()[0])} is out of bounds for "
                           f"dimension {dim} with size {size}")
    target = reshape(input, (1,)) if input.ndim == 0 else input
    source = _crop(reshape(src, (1,)) if src.ndim == 0 else src, positions.shape)
    out = ScatterReduce.apply(target, source, index=positions, dim=dim, reduce=reduce,
                              include_self=include_self, shape=tuple(target.shape))
    return reshape(out, ()) if input.ndim == 0 else out


def _check_scatter_shapes(op: str, input: Tensor, dim: int, index: Tensor, src: Tensor) -> None:
    """PyTorch's shape rules for a scatter (0-d counts as 1-D), with its error types."""
    rank = max(index.ndim, 1)
    if max(input.ndim, 1) != rank:
        raise RuntimeError(f"{op}(): index tensor must have the same number of dimensions as "
                           f"self tensor: index of shape {tuple(index.shape)}, self of shape "
                           f"{tuple(input.shape)}")
    if max(src.ndim, 1) != rank:
        # PyTorch reads src's sizes along index's dims first: too few dims is an IndexError there
        error = IndexError if 0 < src.ndim < index.ndim else RuntimeError
        raise error(f"{op}(): index tensor must have the same number of dimensions as src "
                    f"tensor: index of shape {tuple(index.shape)}, src of shape "
                    f"{tuple(src.shape)}")

    def sizes(t: Tensor) -> tuple[int, ...]:
        return tuple(t.shape) if t.ndim else (1,)
    for d, (n, s, m) in enumerate(zip(sizes(index), sizes(src), sizes(input))):
        if n > s or (d != dim and n > m):
            raise RuntimeError(f"{op}(): expected index {list(index.shape)} to be no larger than "
                               f"self {list(input.shape)} apart from dimension {dim} and to be "
                               f"no larger than src {list(src.shape)}")


def scatter_reduce_(t: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    """In place: ``t.scatter_reduce(dim, index, src, reduce, include_self=include_self)``."""
    return inplace("scatter_reduce_", t, lambda a, s: _scatter_reduce(
        "scatter_reduce_", a, dim, index, s, reduce, include_self), src)
