"""Indexing along a dimension: gather, scatter, scatter_add, index_select, masked_fill,
masked_select, and the splits (chunk, split, unbind, narrow, select), plus nonzero.

``gather`` and scatter-add into zeros are each other's adjoint, so each one's backward is the
other and every order of derivative comes for free. Index tensors follow PyTorch's rules: integer,
the input's number of dims, in range (negative indices are refused, as PyTorch does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.elementwise import where
from tinynet.ops.shape import _normalize_dim, along, getitem
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
        src = _crop(src, index.shape)
        return src if src.dtype == input.dtype else src.to(input.dtype)
    return Tensor(input.xp.full(index.shape, src, dtype=input.dtype))


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written at ``index``
    along ``dim``: for dim 0, ``out[index[i][j]][j] = src[i][j]``."""
    if reduce is not None:
        raise NotImplementedError("scatter: reduce= is not supported; use scatter_add for 'add'")
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src and value")
    dim = _normalize_dim(dim, input.ndim, "scatter")
    index = _check_index("scatter", input, dim, index)
    _fits("scatter", index, input, dim, "the input")
    source = _source("scatter", input, index, dim, value if src is None else src)
    return Scatter.apply(input, source, index=index, dim=dim)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``; repeated indices add up."""
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
    return where(mask, value if value.dtype == input.dtype else value.to(input.dtype), input)


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
    size = input.shape[_normalize_dim(dim, input.ndim, "chunk")]
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
    ``as_tuple=True`` one 1-D tensor per dim (usable as an index)."""
    found = input.xp.nonzero(input.array if input.ndim else input.array.reshape(1))
    if as_tuple:
        return tuple(Tensor(i.astype("int64")) for i in found)
    return Tensor(input.xp.stack(found, axis=1).astype("int64") if found else
                  input.xp.zeros((0, 0), dtype="int64"))
