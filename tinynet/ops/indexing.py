"""Indexing along a dimension: gather, scatter (and its reduce='add'/'multiply'), scatter_add,
index_select, index_add, index_fill, index_copy, masked_fill, masked_select, the splits (chunk,
split, unbind, narrow, select), nonzero, argwhere and the one-argument ``where``.

``gather`` and scatter-add into zeros are each other's adjoint, so each one's backward is the
other and every order of derivative comes for free. Index tensors follow PyTorch's rules: integer,
the input's number of dims, in range (negative indices are refused, as PyTorch does).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from tinynet import backend, strides
from tinynet.autograd import Op
from tinynet.ops import elementwise
from tinynet.ops.elementwise import where as _where
from tinynet.ops.shape import _normalize_dim, along, getitem, index_put
from tinynet.tensor import Tensor, as_tensor


def _grid(index: Any, dim: int) -> tuple:
    """The full index tuple that puts ``index``'s values on axis ``dim`` and each element's own
    position on every other axis (broadcasting ranges, no copies)."""
    xp = backend.get_array_module(index)
    axes = [xp.arange(n).reshape([-1 if k == d else 1 for k in range(index.ndim)])
            for d, n in enumerate(index.shape)]
    axes[dim] = index
    return tuple(axes)


class Gather(Op):
    """``out[i][j] = a[index[i][j]][j]`` along ``dim`` (index has a's shape here)."""

    saves_inputs = False

    def forward(self, a):
        return a[_grid(self.index, self.dim)]

    def backward(self, g):
        return (ScatterAddInto.apply(g, index=self.index, dim=self.dim,
                                     shape=self.inputs[0].shape),)


class ScatterAddInto(Op):
    """Zeros of ``shape`` plus ``src`` added at ``index`` along ``dim`` (repeats add up)."""

    saves_inputs = False
    node_name = "ScatterAddBackward0"

    def forward(self, src):
        out = backend.get_array_module(src).zeros(self.shape, dtype=src.dtype)
        backend.scatter_add(out, _grid(self.index, self.dim), src)
        return out

    def backward(self, g):
        return (Gather.apply(g, index=self.index, dim=self.dim),)


class Scatter(Op):
    """A copy of ``a`` with ``src`` written at ``index`` along ``dim``."""

    saves_inputs = False

    def forward(self, a, src):
        out = a.copy()
        out[_grid(self.index, self.dim)] = src
        return out

    def backward(self, g):
        a, src = self.inputs
        ga = gsrc = None
        if self.needs_input_grad[0]:  # the overwritten places get nothing
            ga = Scatter.apply(g, Tensor(g.xp.zeros(src.shape, g.dtype)), index=self.index,
                               dim=self.dim)
        if self.needs_input_grad[1]:
            gsrc = Gather.apply(g, index=self.index, dim=self.dim)
        return ga, gsrc


class NoDerivative(Op):
    """``compute(*arrays)``, an op PyTorch gives no derivative (scatter with ``reduce``, bincount
    with weights): its result requires grad when an input does, and backward raises PyTorch's
    error naming ``what``, as PyTorch's ``NotImplemented`` node does."""

    saves_inputs = False
    node_name = "NotImplemented"

    def forward(self, *arrays):
        return self.compute(*arrays)

    def backward(self, g):
        raise RuntimeError(f"derivative for {self.what} is not implemented")


def no_derivative(what: str, compute: Callable[..., Any], *inputs: Tensor) -> Tensor:
    """Apply ``compute`` to the inputs' arrays as a node whose backward raises (see NoDerivative)."""
    return NoDerivative.apply(*inputs, compute=compute, what=what)


def _check_index(op: str, input: Tensor, dim: int, index: Any, same_ndim: bool = True) -> Any:
    """``index`` as an in-range integer array on ``input``'s device, or a clear error."""
    index = as_tensor(index)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected an integer (int64) index, got dtype {index.dtype}")
    if index.device != input.device:
        raise RuntimeError(f"{op}: index is on {index.device} but the input is on {input.device}")
    if same_ndim and index.ndim != max(input.ndim, 1):
        raise RuntimeError(f"{op}: index has {index.ndim} dims but the input has {input.ndim} "
                           f"(shapes {tuple(index.shape)} and {tuple(input.shape)}); they must match")
    size = input.shape[dim] if input.ndim else 1
    bad = (index.array < 0) | (index.array >= size)
    if bad.any():
        raise RuntimeError(f"{op}: index {int(index.array[bad].ravel()[0])} is out of bounds for "
                           f"dimension {dim} with size {size}")
    return index.array


def _fits(op: str, index: Any, target: Tensor, dim: int, what: str) -> None:
    for d, (n, m) in enumerate(zip(index.shape, target.shape)):
        if d != dim and n > m:
            raise RuntimeError(f"{op}: index of shape {tuple(index.shape)} is larger than {what} "
                               f"of shape {tuple(target.shape)} in dimension {d}")


def _crop(t: Tensor, shape: Sequence[int]) -> Tensor:
    """The leading ``shape`` block of ``t`` (a view); ``t`` itself when it already fits."""
    if tuple(t.shape) == tuple(shape):
        return t
    return getitem(t, tuple(slice(0, n) for n in shape))


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    """Values of ``input`` picked along ``dim`` by ``index``: for dim 1,
    ``out[i][j] = input[i][index[i][j]]``. The output has ``index``'s shape."""
    dim = _normalize_dim(dim, input.ndim, "gather")
    index = _check_index("gather", input, dim, index)
    _fits("gather", index, input, dim, "the input")
    cropped = _crop(input, [n if d != dim else input.shape[d] for d, n in enumerate(index.shape)])
    return Gather.apply(cropped, index=index, dim=dim)


def _source(op: str, input: Tensor, index: Any, dim: int, src: Any) -> Tensor:
    if isinstance(src, Tensor):
        _fits(op, index, src, -1, "src")
        if src.ndim != index.ndim:
            raise RuntimeError(f"{op}: src has {src.ndim} dims, index {index.ndim}; they must match")
        if src.dtype != input.dtype:  # as PyTorch: no silent cast of a tensor source
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got "
                               f"{input.dtype} and {src.dtype})")
        return _crop(src, index.shape)
    return Tensor(input.xp.full(index.shape, src, dtype=input.dtype))


def _multiply_at(out: Any, grid: tuple, values: Any) -> None:
    """``out[grid] *= values`` where repeated indices multiply up (unbuffered)."""
    try:
        backend.get_array_module(out).multiply.at(out, grid, values)
    except (AttributeError, NotImplementedError, TypeError, ValueError):  # no multiply.at: host
        host = backend.to_numpy(out)
        host_grid = tuple(backend.to_numpy(g) for g in grid)
        backend.get_array_module(host).multiply.at(host, host_grid, backend.to_numpy(values))
        out[...] = backend.to_device(host, backend.device_of(out))


def _scatter_reduce(input: Tensor, source: Tensor, index: Any, dim: int, reduce: str,
                    what: str) -> Tensor:
    """scatter with ``reduce``: combine ``source`` into a copy of ``input`` by adding or
    multiplying. PyTorch gives this no derivative; neither does tinynet (backward raises)."""
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
    grid = _grid(index, dim)

    def compute(a: Any, src: Any) -> Any:
        out = a.copy()
        if reduce == "add":
            backend.scatter_add(out, grid, src)
        else:
            _multiply_at(out, grid, src)
        return out
    return no_derivative(what, compute, input, source)


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written at ``index``
    along ``dim``: for dim 0, ``out[index[i][j]][j] = src[i][j]``. A tensor ``src`` must have
    ``input``'s dtype. ``reduce='add'`` or ``'multiply'`` combines instead of writing (not
    differentiable, as in PyTorch; with a tensor ``src`` PyTorch's deprecation warning is given).
    """
    return _scatter("scatter", input, dim, index, src, value, reduce)


def _scatter(op: str, input: Tensor, dim: int, index: Any, src: Any, value: Any,
             reduce: str | None) -> Tensor:
    if (src is None) == (value is None):
        raise TypeError(f"{op}: give exactly one of src and value")
    dim = _normalize_dim(dim, input.ndim, op)
    index = _check_index(op, input, dim, index)
    _fits(op, index, input, dim, "the input")
    source = _source(op, input, index, dim, value if src is None else src)
    if reduce is not None:
        if isinstance(src, Tensor):
            warnings.warn(f"The reduce argument of {op} with Tensor src is deprecated and will be "
                          "removed in a future PyTorch release. Use scatter_reduce instead for "
                          "more reduction options.", UserWarning, stacklevel=_caller_level())
        return _scatter_reduce(input, source, index, dim, reduce, f"aten::{op}")
    return Scatter.apply(input, source, index=index, dim=dim)


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside tinynet, for a warning given here."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tinynet."):
        frame, level = frame.f_back, level + 1
    return level


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``; repeated indices add up.
    ``src`` must be a tensor of ``input``'s dtype."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not "
                        f"{type(src).__name__}")
    dim = _normalize_dim(dim, input.ndim, "scatter_add")
    index = _check_index("scatter_add", input, dim, index)
    _fits("scatter_add", index, input, dim, "the input")
    source = _source("scatter_add", input, index, dim, src)
    return input + ScatterAddInto.apply(source, index=index, dim=dim, shape=input.shape)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    """The slices of ``input`` at the positions of the 1-D ``index`` along ``dim``."""
    dim = _normalize_dim(dim, input.ndim, "index_select")
    index = _check_index("index_select", input, dim, index, same_ndim=False)
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be a vector (0-d or 1-D), got shape "
                         f"{tuple(index.shape)}")
    return getitem(input, along(dim, index.reshape(-1)))


def _index_vector(op: str, input: Tensor, dim: int, index: Any, *, dtypes: str,
                  dtype_error: type, ndim_error: type, range_error: type,
                  negative: bool = False) -> Any:
    """The 0-d or 1-D integer ``index`` of an ``index_*`` op as a 1-D array of non-negative
    positions along ``dim``, with the error types PyTorch raises for each op: ``dtypes`` is
    'int64' or 'int32/int64'; ``negative`` lets -size..-1 count from the end (index_fill)."""
    index = as_tensor(index)
    if index.device != input.device:
        raise RuntimeError(f"{op}: index is on {index.device} but the input is on {input.device}")
    if str(index.dtype) not in dtypes.split("/"):
        raise dtype_error(f"{op}: expected dtype {dtypes} for index, got {index.dtype}")
    if index.ndim > 1:
        raise ndim_error(f"{op}: index is supposed to be a vector (0-d or 1-D), got shape "
                         f"{tuple(index.shape)}")
    positions = index.array.reshape(-1)
    size = input.shape[dim] if input.ndim else 1
    low = -size if negative else 0
    bad = (positions < low) | (positions >= size)
    if bad.any():
        raise range_error(f"{op}: index {int(positions[bad][0])} is out of bounds for dimension "
                          f"{dim} with size {size}")
    return positions % size if negative and size else positions


class IndexAdd(Op):
    """A copy of ``a`` with ``alpha · src`` added at ``index`` (an ``along`` tuple); repeats add up."""

    saves_inputs = False
    node_name = "IndexAddBackward0"

    def forward(self, a, src):
        out = a.copy()
        backend.scatter_add(out, self.index, src if self.alpha == 1 else src * self.alpha)
        return out

    def backward(self, g):
        gsrc = None
        if self.needs_input_grad[1]:
            gsrc = getitem(g, self.index)
            gsrc = gsrc if self.alpha == 1 else gsrc * self.alpha
        return (g if self.needs_input_grad[0] else None), gsrc


def _scalar_as_vector(input: Tensor, *tensors: Tensor) -> tuple[Tensor, ...]:
    """A 0-d ``input`` (and its source) as one-element vectors, so that dim 0 indexes them."""
    return (input.reshape(1),) + tuple(t.reshape(1) if t.ndim == 0 else t for t in tensors)


def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at the positions ``index`` along ``dim``
    (repeated positions add up): for dim 0, ``out[index[i]] += alpha * source[i]``. ``source``
    has ``input``'s dtype and shape, with ``len(index)`` along ``dim``."""
    dim = _normalize_dim(dim, input.ndim, "index_add")
    positions = _index_vector("index_add_()", input, dim, index, dtypes="int32/int64",
                              dtype_error=RuntimeError, ndim_error=IndexError,
                              range_error=RuntimeError)
    source = as_tensor(source)
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype}) and source ({source.dtype}) must "
                           "have the same scalar type")
    n = len(positions)
    if source.ndim > dim and source.shape[dim] != n:
        raise RuntimeError(f"index_add_(): Number of indices ({n}) should be equal to "
                           f"source.size(dim): ({source.shape[dim]}), for dim: {dim}")
    expected = tuple(n if d == dim else m for d, m in enumerate(input.shape))
    if tuple(source.shape) != expected and not (input.ndim == 0 and n == 1 and source.ndim == 0):
        raise RuntimeError("index_add_(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = "
                           f"{list(input.shape)} source.shape = {list(source.shape)}")
    alpha = alpha.item() if isinstance(alpha, Tensor) else alpha
    if input.dtype.kind in "iu":
        alpha = int(alpha)  # as PyTorch: alpha takes the integer dtype (2.5 adds 2 times)
    if input.ndim == 0:
        flat, flat_source = _scalar_as_vector(input, source)
        return IndexAdd.apply(flat, flat_source, index=along(0, positions), alpha=alpha).reshape(())
    return IndexAdd.apply(input, source, index=along(dim, positions), alpha=alpha)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of ``input`` with every slice at the positions ``index`` along ``dim`` set to
    ``value`` (a number, or a 0-d tensor that then receives the gradient of what it fills);
    negative positions count from the end. The dtype stays ``input``'s."""
    dim = _normalize_dim(dim, input.ndim, "index_fill")
    positions = _index_vector("index_fill_()", input, dim, index, dtypes="int64",
                              dtype_error=IndexError, ndim_error=RuntimeError,
                              range_error=IndexError, negative=True)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    xp = input.xp
    mask = xp.zeros(input.shape[dim] if input.ndim else 1, dtype=bool)
    mask[positions] = True
    shape = [-1 if d == dim else 1 for d in range(input.ndim)]
    return masked_fill(input, Tensor(mask.reshape(shape) if input.ndim else mask.reshape(())),
                       value)


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` written at the positions ``index``
    along ``dim``: for dim 0, ``out[index[i]] = source[i]``. ``source`` has ``input``'s dtype
    and shape, with ``len(index)`` along ``dim`` (a repeated position keeps one of its
    slices, unspecified which, as in PyTorch)."""
    dim = _normalize_dim(dim, input.ndim, "index_copy")
    index_t = as_tensor(index)
    if index_t.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index_t.ndim})")
    positions = _index_vector("index_copy_()", input, dim, index_t, dtypes="int64",
                              dtype_error=RuntimeError, ndim_error=IndexError,
                              range_error=IndexError)
    source = as_tensor(source)
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {input.dtype} and (source) {source.dtype}")
    if source.ndim != input.ndim and source.ndim and input.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.ndim}), "
                         f"destination dimensionality ({input.ndim})")
    n = len(positions)
    count = source.shape[dim] if source.ndim > dim else 1
    if n != count:
        raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to "
                         f"source.size(dim) ({count})")
    if input.ndim <= 1 and source.ndim <= 1:
        flat, flat_source = _scalar_as_vector(input, source) if input.ndim == 0 else \
            (input, source.reshape(n))
        out = index_put(flat, along(0, positions), flat_source)
        return out.reshape(()) if input.ndim == 0 else out
    expected = tuple(n if d == dim else m for d, m in enumerate(input.shape))
    if tuple(source.shape) != expected:
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                           f"shapes: source {tuple(source.shape)}, expected {expected} "
                           f"(the input's shape {tuple(input.shape)} with {n} along dim {dim})")
    return index_put(input, along(dim, positions), source)


def _bool_mask(op: str, mask: Any) -> Any:
    mask = as_tensor(mask)
    if mask.dtype.kind != "b":
        raise RuntimeError(f"{op}: only boolean masks are supported, got a mask of dtype {mask.dtype}")
    return mask.array


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    """``input`` with ``value`` where the boolean ``mask`` (broadcast) is True; the dtype stays
    ``input``'s. A 0-d tensor ``value`` receives the gradient of the places it fills."""
    mask = _bool_mask("masked_fill", mask)
    value = as_tensor(value, input)
    if value.ndim:
        raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                           f"{tuple(value.shape)}")
    result = _where(mask, value if value.dtype == input.dtype else value.to(input.dtype), input)
    strides.make_contiguous(result)  # PyTorch fills a contiguous copy
    return result


def masked_select(input: Tensor, mask: Any) -> Tensor:
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor."""
    mask = _bool_mask("masked_select", mask)
    xp = input.xp
    shape = xp.broadcast_shapes(mask.shape, input.shape)
    return getitem(input.expand(shape), xp.broadcast_to(mask, shape))


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Views of ``tensor`` along ``dim``: pieces of ``split_size`` (the last may be smaller), or
    of the listed sizes, which must add up to the dimension."""
    dim = _normalize_dim(dim, tensor.ndim, "split")
    total = tensor.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and total:
            raise RuntimeError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, total - start) for start in range(0, total, step)] if total else [0]
    else:
        sizes = [int(n) for n in split_size_or_sections]
        if sum(sizes) != total or any(n < 0 for n in sizes):
            raise RuntimeError(f"split: sizes {sizes} must be non-negative and add up to "
                               f"{total}, the size of dimension {dim} of shape {tuple(tensor.shape)}")
    pieces, start = [], 0
    for n in sizes:
        pieces.append(narrow(tensor, dim, start, n))
        start += n
    return tuple(pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunks`` views of (nearly) equal size along ``dim``; fewer when the size doesn't allow."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be greater than 0, got {chunks}")
    dim = _normalize_dim(dim, input.ndim, "chunk")
    size = input.shape[dim]
    if size == 0:  # PyTorch gives ``chunks`` empty pieces
        return tuple(getitem(input, along(dim, slice(0, 0))) for _ in range(chunks))
    return split(input, max(1, -(-size // chunks)), dim)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view of ``length`` elements from ``start`` along ``dim``."""
    dim = _normalize_dim(dim, input.ndim, "narrow")
    size = input.shape[dim]
    start = start + size if start < 0 else start
    if not (0 <= start and length >= 0 and start + length <= size):
        raise IndexError(f"narrow: start {start} and length {length} don't fit dimension {dim} "
                         f"of size {size}")
    return getitem(input, along(dim, slice(start, start + length)))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, which is removed (``x.select(0, i)`` is ``x[i]``)."""
    dim = _normalize_dim(dim, input.ndim, "select")
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} is out of range for dimension {dim} of size {size}")
    return getitem(input, along(dim, int(index)))


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """Every slice along ``dim``, as a tuple (the dimension removed)."""
    dim = _normalize_dim(dim, input.ndim, "unbind")
    return tuple(select(input, dim, i) for i in range(input.shape[dim]))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple:
    """The indices of the non-zero elements: an int64 (count, ndim) tensor, or with
    ``as_tuple=True`` one 1-D tensor per dim (usable as an index). A 0-d input gives a
    (count, 0) tensor, or as a tuple the positions in its one-element vector, as PyTorch's."""
    found = input.xp.nonzero(input.array if input.ndim else input.array.reshape(1))
    if as_tuple:
        return tuple(Tensor(i.astype("int64")) for i in found)
    if input.ndim == 0:
        return Tensor(input.xp.zeros((len(found[0]), 0), dtype="int64"))
    return Tensor(input.xp.stack(found, axis=1).astype("int64"))


def argwhere(input: Tensor) -> Tensor:
    """The indices of the non-zero elements as an int64 (count, ndim) tensor: ``nonzero(input)``."""
    return nonzero(as_tensor(input))


_MISSING: Any = object()


def where(condition: Any, input: Any = _MISSING, other: Any = _MISSING) -> Tensor | tuple:
    """``where(condition, input, other)``: elements of ``input`` where ``condition`` holds, else
    of ``other`` (all three broadcast). ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``."""
    if input is _MISSING and other is _MISSING:
        return nonzero(as_tensor(condition), as_tuple=True)
    if input is _MISSING or other is _MISSING:
        raise TypeError("where() takes the condition alone, or the condition, input and other")
    return elementwise.where(condition, input, other)
