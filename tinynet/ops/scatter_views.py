"""Views PyTorch names separately, and the scatters that write them back.

* Views and layouts: ``diag_embed`` and ``diagflat`` (vectors onto a diagonal), ``hsplit``,
  ``vsplit`` and ``dsplit`` (``tensor_split`` along dim 1, 0 and 2, with NumPy's rules),
  ``split_with_sizes`` and the method ``sum_to_size`` (the adjoint of ``expand``).
* Their scatters, out of place: ``slice_scatter``, ``select_scatter`` and
  ``diagonal_scatter`` (a copy of ``input`` with ``src`` written where ``input[slice]``,
  ``input.select(dim, index)`` or ``input.diagonal(...)`` reads), ``put`` (flat positions) and
  ``index_reduce`` (``prod``, ``mean``, ``amax``, ``amin`` of the slices given to each index);
  in place: ``put_`` and ``index_reduce_``.

Every one is differentiable with PyTorch's gradients, of every order: a scatter's gradient is
the incoming one with the written places zeroed (for ``input``) and read there (for ``src``).
``index_reduce`` is ``scatter_reduce`` with the index spread over each slice, so its gradients
are PyTorch's ``index_reduce`` ones (``mean`` divides by the counts, ``amax``/``amin`` share
among ties, ``prod`` is exact at zeros).

>>> tn.slice_scatter(tn.zeros(4), tn.ones(2), start=1, end=3)
tensor([0., 1., 1., 0.])
>>> tn.diag_embed(tn.tensor([1, 2]))
tensor([[1, 0],
        [0, 2]])
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arguments import require_tensor, same_device
from tinynet.ops.elementwise import clone
from tinynet.ops.index_writes import ScatterReduce, flat_positions
from tinynet.ops.indexing import split
from tinynet.ops.inplace import inplace
from tinynet.ops.layout import tensor_split
from tinynet.ops.matrix import Diagonal, DiagonalBackward, _diagonal_view
from tinynet.ops.shape import IndexPut, IndexScatter, _normalize_dim, along, reshape, sum_to
from tinynet.tensor import Size, Tensor




def _diagonal_dims(op: str, ndim: int, dim1: int, dim2: int) -> tuple[int, int]:
    d1, d2 = _normalize_dim(dim1, ndim, op), _normalize_dim(dim2, ndim, op)
    if d1 == d2:
        raise RuntimeError(f"{op}(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


# --------------------------------------------------------------------------- diagonals
class DiagEmbed(DiagonalBackward):
    """Zeros of ``shape`` with the input on the diagonal over ``dim1`` and ``dim2`` (its last
    dim running along the diagonal); the gradient is the incoming one's diagonal."""

    node_name = "DiagEmbedBackward0"


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensors whose diagonals (over the new dims ``dim1`` and ``dim2``, ``offset`` above the
    main one) hold the last dim of ``input``, zeros elsewhere, as ``torch.diag_embed``: the
    output has one dim more, and ``out.diagonal(offset, dim1, dim2)`` is ``input``.

    >>> tn.diag_embed(tn.tensor([[1.0, 2.0], [3.0, 4.0]])).shape      # two 2x2 matrices
    tinynet.Size([2, 2, 2])
    """
    require_tensor("diag_embed", input, "input", 0)
    offset = int(offset)
    ndim = input.ndim + 1
    d1, d2 = _diagonal_dims("diag_embed", ndim, dim1, dim2)
    size = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(size if d in (d1, d2) else next(rest) for d in range(ndim))
    return DiagEmbed.apply(input, offset=offset, dim1=d1, dim2=d2, shape=shape)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the elements of ``input`` (flattened) on its diagonal ``offset``
    above the main one (below for a negative ``offset``), zeros elsewhere, as ``torch.diagflat``.

    >>> tn.diagflat(tn.tensor([[1, 2], [3, 4]]))
    tensor([[1, 0, 0, 0],
            [0, 2, 0, 0],
            [0, 0, 3, 0],
            [0, 0, 0, 4]])
    """
    require_tensor("diagflat", input, "input", 0)
    return diag_embed(reshape(input, (-1,)), offset)


class DiagonalScatter(Op):
    """A copy of ``a`` with ``src`` written on its diagonal over ``dim1`` and ``dim2``."""

    saves_inputs = False
    node_name = "DiagonalScatterBackward0"

    def forward(self, a, src):
        out = a.copy()
        _diagonal_view(out, self.offset, self.dim1, self.dim2)[...] = src
        return out

    def backward(self, g):
        src = self.inputs[1]
        ga = gsrc = None
        if self.needs_input_grad[0]:  # the overwritten diagonal gets nothing
            ga = DiagonalScatter.apply(g, Tensor(g.xp.zeros(src.shape, g.dtype)),
                                       offset=self.offset, dim1=self.dim1, dim2=self.dim2)
        if self.needs_input_grad[1]:
            gsrc = clone(Diagonal.apply(g, offset=self.offset, dim1=self.dim1, dim2=self.dim2))
        return ga, gsrc


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written on the diagonal that
    ``input.diagonal(offset, dim1, dim2)`` reads (``src`` has exactly that diagonal's shape,
    and is converted to ``input``'s dtype), as ``torch.diagonal_scatter``.

    >>> tn.diagonal_scatter(tn.zeros(2, 3), tn.ones(2), 1)
    tensor([[0., 1., 0.],
            [0., 0., 1.]])
    """
    require_tensor("diagonal_scatter", input, "input", 0)
    require_tensor("diagonal_scatter", src, "src", 1)
    offset = int(offset)
    d1, d2 = _diagonal_dims("diagonal_scatter", input.ndim, dim1, dim2)
    rows, cols = input.shape[d1], input.shape[d2]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    expected = tuple(n for d, n in enumerate(input.shape) if d not in (d1, d2)) + (length,)
    src = _fitting_src("diagonal_scatter", input, src, expected)
    return DiagonalScatter.apply(input, src, offset=offset, dim1=d1, dim2=d2)


def _fitting_src(op: str, input: Tensor, src: Tensor, expected: tuple[int, ...]) -> Tensor:
    """``src`` checked to have exactly the written part's shape (no broadcasting, as PyTorch),
    in ``input``'s dtype."""
    if tuple(src.shape) != expected:
        raise RuntimeError(f"{op}(): expected src to have a size equal to the slice of self. src "
                           f"size = {list(src.shape)}, slice size = {list(expected)}")
    same_device(op, input, "src", src)
    return src if src.dtype == input.dtype else src.to(input.dtype)


# --------------------------------------------------------------------------- slices
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written where ``input[start:end:step]`` along ``dim``
    reads (``src`` has exactly that slice's shape, and is converted to ``input``'s dtype), as
    ``torch.slice_scatter``. ``start`` and ``end`` follow Python's slices (negative ones count
    from the end, both are clipped); ``step`` is positive.

    >>> tn.slice_scatter(tn.zeros(2, 4), tn.ones(2, 2), dim=1, start=0, step=2)
    tensor([[1., 0., 1., 0.],
            [1., 0., 1., 0.]])
    """
    require_tensor("slice_scatter", input, "input", 0)
    require_tensor("slice_scatter", src, "src", 1)
    if input.ndim == 0:
        raise IndexError("slice_scatter(): slice() cannot be applied to a 0-dim tensor.")
    dim = _normalize_dim(dim, input.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError(f"slice_scatter(): slice step must be positive, got {step}")
    bounds = slice(start, end, step).indices(input.shape[dim])
    expected = tuple(len(range(*bounds)) if d == dim else n for d, n in enumerate(input.shape))
    src = _fitting_src("slice_scatter", input, src, expected)
    return IndexPut.apply(input, src, index=along(dim, slice(*bounds)),
                          node_name="SliceScatterBackward0")


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` written where ``input.select(dim, index)`` reads
    (``src`` has that slice's shape, and is converted to ``input``'s dtype), as
    ``torch.select_scatter``; a negative ``index`` counts from the end.

    >>> tn.select_scatter(tn.zeros(2, 2), tn.ones(2), 0, -1)
    tensor([[0., 0.],
            [1., 1.]])
    """
    require_tensor("select_scatter", input, "input", 0)
    require_tensor("select_scatter", src, "src", 1)
    if input.ndim == 0:
        raise IndexError("select_scatter(): select() cannot be applied to a 0-dim tensor.")
    dim = _normalize_dim(dim, input.ndim, "select_scatter")
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    expected = tuple(n for d, n in enumerate(input.shape) if d != dim)
    src = _fitting_src("select_scatter", input, src, expected)
    return IndexPut.apply(input, src, index=along(dim, int(index) % size),
                          node_name="SelectScatterBackward0")


def _split_sections(op: str, input: Tensor, indices_or_sections: Any, dim: int,
                    min_dims: int) -> tuple[Tensor, ...]:
    """``tensor_split`` along ``dim``, with NumPy's rules for ``hsplit``/``vsplit``/``dsplit``:
    a number of sections must divide the dim exactly."""
    require_tensor(op, input, "input", 0)
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {input.ndim} dimensions!")
    sections = indices_or_sections
    if isinstance(sections, Tensor):
        if sections.ndim or sections.dtype.kind not in "iu":
            raise TypeError(f"{op}(): indices_or_sections must be an int, a 0-d integer tensor, "
                            f"or a list or tuple of ints, not a tensor of shape "
                            f"{tuple(sections.shape)} and dtype {sections.dtype}")
        sections = int(sections.item())
    if isinstance(sections, numbers.Integral) and not isinstance(sections, bool):
        sections = int(sections)
        size = input.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {size} is not divisible by the split_size "
                               f"{sections}!")
    elif not isinstance(sections, (list, tuple)):
        raise TypeError(f"{op}(): indices_or_sections must be an int or a list or tuple of ints, "
                        f"not {type(sections).__name__}")
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Views of ``input`` split along dim 1 (dim 0 for a 1-D tensor), as ``torch.hsplit``: an
    int n makes n equal pieces (it must divide the dim), a list of indices cuts before each.

    >>> [p.shape for p in tn.hsplit(tn.zeros(2, 6), [1, 4])]
    [tinynet.Size([2, 1]), tinynet.Size([2, 3]), tinynet.Size([2, 2])]
    """
    dim = 0 if isinstance(input, Tensor) and input.ndim == 1 else 1
    return _split_sections("hsplit", input, indices_or_sections, dim, 1)


def vsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Views of a tensor of at least 2 dims split along dim 0, as ``torch.vsplit`` (``hsplit``'s
    arguments)."""
    return _split_sections("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Views of a tensor of at least 3 dims split along dim 2, as ``torch.dsplit`` (``hsplit``'s
    arguments)."""
    return _split_sections("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Views of ``input`` along ``dim`` of the listed sizes, which are non-negative and add up
    to the dim, as ``torch.split_with_sizes``.

    >>> [p.shape for p in tn.zeros(5, 2).split_with_sizes([1, 4])]
    [tinynet.Size([1, 2]), tinynet.Size([4, 2])]
    """
    require_tensor("split_with_sizes", input, "input", 0)
    if not isinstance(split_sizes, (list, tuple)):
        raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 1) must be tuple "
                        f"of ints, not {type(split_sizes).__name__}")
    dim = _normalize_dim(dim, input.ndim, "split_with_sizes")
    sizes = [int(n) for n in split_sizes]
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, "
                           f"but got split_sizes={sizes}")
    if sum(sizes) != input.shape[dim]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[dim]} (input tensor's size at dimension {dim}), but got "
                           f"split_sizes={sizes}")
    return split(input, sizes, dim)


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """``input`` summed down to ``size`` (given as ints or as one sequence), which must expand
    to ``input``'s shape, as ``Tensor.sum_to_size``: the adjoint of ``expand``. Integers and
    bools sum to int64; ``input`` itself comes back when nothing is summed.

    >>> tn.ones(2, 3).sum_to_size(1, 3)
    tensor([[2., 2., 2.]])
    """
    require_tensor("sum_to_size", input, "input", 0)
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (list, tuple, Size)):
        size = tuple(size[0])
    shape = tuple(int(n) for n in size)
    target = tuple(input.shape)
    if len(shape) > len(target) or any(n not in (1, m) for n, m in
                                       zip(reversed(shape), reversed(target))):
        raise RuntimeError(f"sum_to_size: size {{{list(shape)}}} is not expandable to size "
                           f"{{{list(target)}}}.")
    if shape == target:
        return input
    if input.dtype.kind in "biu":  # integers and bools sum to int64, as sum does
        input = Tensor(input.array.astype("int64"))
    return sum_to(input, shape)


# --------------------------------------------------------------------------- put
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with the elements of ``source`` written at the int64 flat (row-major)
    positions ``index`` (negative ones count from the end), as ``torch.put``; ``source`` has
    ``input``'s dtype and ``index``'s number of elements. With ``accumulate=True`` they are
    added, repeated positions adding up; without, which of the values for a repeated position
    stays is unspecified, as in PyTorch.

    >>> tn.zeros(2, 2).put(tn.tensor([0, -1]), tn.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    return _put("put", input, index, source, accumulate)


def _put(op: str, input: Tensor, index: Tensor, source: Tensor, accumulate: bool) -> Tensor:
    require_tensor(op, input, "input", 0)
    require_tensor(op, index, "index", 1)
    require_tensor(op, source, "source", 2)
    if index.dtype != "int64":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {index.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {input.dtype} and source.dtype = {source.dtype}")
    same_device(op, input, "index", index)
    same_device(op, input, "source", source)
    if source.numel() != index.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, index.numel() = "
                         f"{index.numel()}")
    positions = flat_positions("put_", input, index.array.reshape(-1))
    values = reshape(source, (-1,))
    if input.ndim == 0:  # one place: work on it as a one-element vector
        return reshape(_put(op, reshape(input, (1,)), index, source, accumulate), ())
    places = tuple(input.xp.unravel_index(positions, tuple(input.shape)))
    if accumulate:
        return input + IndexScatter.apply(values, index=places, shape=tuple(input.shape))
    return IndexPut.apply(input, values, index=places, node_name="PutBackward0")


def put_(t: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """In place: ``t`` holds ``t.put(index, source, accumulate)``."""
    return inplace("put_", t, lambda a, s: _put("put_", a, index, s, accumulate), source)


# --------------------------------------------------------------------------- index_reduce
INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` where each slice ``input.select(dim, index[i])`` is combined with
    ``source.select(dim, i)`` by ``reduce`` (``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``),
    as ``torch.index_reduce``; repeated positions combine all their slices. With
    ``include_self=False`` the places written start from the slices of ``source`` alone.
    ``mean`` divides by the number of values combined (floor division for integers, as
    PyTorch). ``index`` is 0-d or 1-D int64/int32 with one entry per slice of ``source``, whose
    shape is ``input``'s apart from ``dim``; ``source`` has ``input``'s dtype. Differentiable
    in ``input`` and ``source`` with PyTorch's gradients for every ``reduce``.

    >>> x = tn.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.index_reduce(0, tn.tensor([0, 0]), tn.tensor([[5.0, 0.0], [2.0, 9.0]]), "amax")
    tensor([[5., 9.],
            [3., 4.]])
    """
    return _index_reduce("index_reduce", input, dim, index, source, reduce, include_self)


def _index_reduce(op: str, input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str,
                  include_self: bool) -> Tensor:
    require_tensor(op, input, "input", 0)
    require_tensor(op, index, "index", 2)
    require_tensor(op, source, "source", 3)
    if not isinstance(include_self, bool):
        raise TypeError(f"{op}(): argument 'include_self' must be bool, not "
                        f"{type(include_self).__name__}")
    if reduce not in INDEX_REDUCTIONS:
        raise RuntimeError(f"{op}(): Expected reduce to be one of prod, mean, amax or amin but "
                           f"got {reduce}.")
    dim = _normalize_dim(dim, input.ndim, op)
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {index.ndim} "
                         f"with type: {index.dtype} and size: {list(index.shape)}")
    if index.dtype not in ("int64", "int32"):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index but got: {index.dtype}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"{op}(): self ({input.dtype}) and source ({source.dtype}) must have "
                           "the same scalar type")
    same_device(op, input, "index", index)
    same_device(op, input, "source", source)
    positions = index.array.reshape(-1)
    count = positions.size
    slices = source.shape[dim] if source.ndim > dim else 1
    if count != slices:
        raise RuntimeError(f"{op}(): Number of indices ({count}) should be equal to "
                           f"source.size(dim): ({slices}), for dim: {dim}")
    if source.ndim != input.ndim or any(n != m for d, (n, m) in enumerate(
            zip(source.shape, input.shape)) if d != dim):
        raise RuntimeError(f"{op}(): source tensor shape must match self tensor shape, excluding "
                           f"the specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    if input.dtype.kind == "b":
        raise NotImplementedError(f"{op}(): not implemented for bool tensors (reduce={reduce!r})")
    size = input.shape[dim] if input.ndim else 1
    bad = (positions < 0) | (positions >= size)
    if bad.any():
        raise IndexError(f"{op}(): index {int(positions[bad][0])} out of range in self "
                         f"(dimension {dim} of size {size})")
    target = input if input.ndim else reshape(input, (1,))
    values = source if source.ndim else reshape(source, (1,))
    xp = backend.get_array_module(positions)
    spread = xp.broadcast_to(positions.reshape([-1 if d == dim else 1 for d in range(values.ndim)]),
                             tuple(values.shape)).copy()  # one index per element of source
    out = ScatterReduce.apply(target, values, index=spread, dim=dim, reduce=reduce,
                              include_self=include_self, shape=tuple(target.shape),
                              node_name="IndexReduceBackward0")
    return reshape(out, ()) if input.ndim == 0 else out


def index_reduce_(t: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                  include_self: bool = True) -> Tensor:
    """In place: ``t`` holds ``t.index_reduce(dim, index, source, reduce, include_self=...)``."""
    return inplace("index_reduce_", t, lambda a, s: _index_reduce(
        "index_reduce_", a, dim, index, s, reduce, include_self), source)
