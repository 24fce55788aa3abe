"""Ops that move elements around without changing them: reshape, permute, broadcast, index, cat, pad.

Their backwards are the same kind of op run the other way (reshape back, inverse permutation,
sum over the broadcast dims, scatter into zeros), so every order of derivative comes for free.
"""

from __future__ import annotations

import functools
import numbers
import operator
import warnings
from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet import strides as strides_module
from tinynet.autograd import Op
from tinynet.dtypes import promote_types
from tinynet.ops.small_kernels import sum_leading
from tinynet.tensor import Tensor, as_tensor


def _normalize_dim(dim: int, ndim: int, op: str) -> int:
    rank = ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    if not -rank <= dim < rank:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} dims")
    return dim % rank


class Reshape(Op):
    node_name = "ViewBackward0"
    saves_inputs = False
    is_view = True

    def forward(self, a):
        self.in_shape = a.shape
        return a.reshape(self.shape)

    def backward(self, g):
        return (g.reshape(self.in_shape),)

    @staticmethod
    def view_strides(params, shape, strides, new_shape):
        """A view's strides where PyTorch's reshape views, else a copy's (tinynet.strides)."""
        return strides_module.view_strides(shape, strides, new_shape) or \
            strides_module.contiguous_strides(new_shape)


class Permute(Op):
    saves_inputs = False
    is_view = True

    def forward(self, a):
        return a.transpose(self.dims)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (g.permute(tuple(inverse)),)


class BroadcastTo(Op):
    node_name = "ExpandBackward0"
    saves_inputs = False
    is_view = True

    def forward(self, a):
        if a.shape == self.shape:  # nothing broadcast: a writable view, as PyTorch's
            return a[...]
        return backend.get_array_module(a).broadcast_to(a, self.shape)

    def backward(self, g):
        return (sum_to(g, self.inputs[0].shape),)


class SumTo(Op):
    """Sum a broadcast result back down to ``shape``: the adjoint of BroadcastTo."""

    node_name = "SumBackward1"
    saves_inputs = False

    def forward(self, a):
        lead = a.ndim - len(self.shape)
        if a.shape[lead:] == self.shape:  # only leading dims added (a bias): no reshape needed
            return sum_leading(a, lead)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and a.shape[lead + i] != 1)
        out = a.sum(axis=axes, keepdims=True) if axes else a
        return out.reshape(self.shape)

    def backward(self, g):
        return (broadcast_to(g, self.inputs[0].shape),)


class GetItem(Op):
    node_name = "IndexBackward0"
    saves_inputs = False

    def forward(self, a):
        first, rest = _selects_first(self.index)
        return a[first][rest]

    def backward(self, g):
        return (IndexScatter.apply(g, index=self.index, shape=self.inputs[0].shape),)


class Slice(GetItem):
    """``a[index]`` with ints, slices, None and Ellipsis only: NumPy returns a view."""

    node_name = "SliceBackward0"
    is_view = True

    def forward(self, a):
        # with ints alone NumPy returns a scalar, a copy; an Ellipsis makes it a 0-d view, so
        # that x[0, 1].add_(1) changes x as in PyTorch
        index = self.index  # basic items only, so ``in`` compares nothing elementwise
        return a[index if Ellipsis in index else index + (Ellipsis,)]

    @staticmethod
    def view_strides(params, shape, strides, new_shape):
        """NumPy's strides of the slice (``tinynet.strides``), except that a dim made by None has
        PyTorch's unsqueeze stride (the next dim's extent) where NumPy gives 0."""
        found = list(strides_module.probe_strides(Slice, params, shape, strides))
        for d in range(len(found) - 1, -1, -1):
            if new_shape[d] == 1 and found[d] == 0:
                found[d] = new_shape[d + 1] * found[d + 1] if d + 1 < len(found) else 1
        return tuple(found)

    def name(self) -> str:
        """PyTorch's name for the node: that of the last step its indexing applies (an int
        selects, a slice slices, None unsqueezes; full slices and ``...`` apply nothing, and
        an index that applies nothing makes an alias). Worked out when asked, from the index
        and the input's shape, which the node keeps until backward frees it. (The index is
        kept as a tuple, so ``a[(slice(None),)]`` is named as ``a[:]``, a slice.)"""
        index, inputs = self.__dict__.get("index"), self.__dict__.get("inputs")
        if index is None or inputs is None:
            return self.node_name
        if len(index) == 1:  # a lone index applies its step even when it is a full slice
            return "AliasBackward0" if index[0] is Ellipsis else _step_name(index[0])
        shape, dim, last = inputs[0].shape, 0, "AliasBackward0"
        for item in index:
            if item is Ellipsis:
                dim += len(shape) - sum(i is not None and i is not Ellipsis for i in index)
            elif item is None:
                last = _step_name(item)
            else:
                if not (isinstance(item, slice) and item.indices(shape[dim]) == (0, shape[dim], 1)):
                    last = _step_name(item)
                dim += 1
        return last


def _step_name(item: Any) -> str:
    """PyTorch's node for one item of a basic index: None, a slice, or an integer."""
    return "UnsqueezeBackward0" if item is None else \
        "SliceBackward0" if isinstance(item, slice) else "SelectBackward0"


class IndexScatter(Op):
    """Zeros of ``shape`` with ``g`` added at ``index``; repeated integer indices add up."""

    saves_inputs = False

    def forward(self, g):
        xp = backend.get_array_module(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            out[self.index] = g
        else:
            first, rest = _selects_first(self.index)
            backend.scatter_add(out[first], rest, g)  # into a view of out
        return out

    def backward(self, gg):
        return (gg[self.index],)


class IndexPut(Op):
    """A copy of ``a`` with ``a[index] = b``: the out-of-place form of item assignment."""

    saves_inputs = False

    def forward(self, a, b):
        out = a.copy()
        first, rest = _selects_first(self.index)
        out[first][rest] = b  # into a view of out
        return out

    def backward(self, g):
        a, b = self.inputs
        ga = IndexPut.apply(g, Tensor(g.xp.zeros((), g.dtype)), index=self.index) \
            if self.needs_input_grad[0] else None
        gb = sum_to(g[self.index], b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Cat(Op):
    saves_inputs = False

    def forward(self, *arrays):
        self.sizes = [a.shape[self.dim] for a in arrays]
        return backend.get_array_module(arrays[0]).concatenate(arrays, axis=self.dim)

    def backward(self, g):
        grads, start = [], 0
        lead = (slice(None),) * self.dim
        for size in self.sizes:
            grads.append(g[lead + (slice(start, start + size),)])
            start += size
        return tuple(grads)


class Pad(Op):
    """Constant padding; ``widths`` is one (before, after) pair per dimension."""

    node_name = "ConstantPadNdBackward0"
    saves_inputs = False

    def forward(self, a):
        xp = backend.get_array_module(a)
        return xp.pad(a, self.widths, mode="constant", constant_values=self.value)

    def backward(self, g):
        index = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(self.widths))
        return (g[index],)


class Flip(Op):
    """Reverse the order along ``dims``; its own adjoint."""

    saves_inputs = False

    def forward(self, a):
        return backend.get_array_module(a).flip(a, self.dims)

    def backward(self, g):
        return (Flip.apply(g, dims=self.dims),)


class Roll(Op):
    """Shift elements along ``dims`` by ``shifts``, wrapping around; undone by the opposite shift."""

    saves_inputs = False

    def forward(self, a):
        return backend.get_array_module(a).roll(a, self.shifts, self.dims)

    def backward(self, g):
        return (Roll.apply(g, shifts=tuple(-n for n in self.shifts), dims=self.dims),)


class Repeat(Op):
    """Tile ``sizes[i]`` copies along dim i; the gradient sums the copies."""

    saves_inputs = False

    def forward(self, a):
        self.shape = (1,) * (len(self.sizes) - a.ndim) + a.shape
        return backend.get_array_module(a).tile(a, self.sizes)

    def backward(self, g):
        copies = g.reshape(tuple(d for r, n in zip(self.sizes, self.shape) for d in (r, n)))
        summed = copies.sum(tuple(range(0, 2 * len(self.shape), 2)))
        return (summed.reshape(self.inputs[0].shape),)


def _is_basic(index: tuple) -> bool:
    """True when ``index`` uses only ints, slices, None and Ellipsis (so no element repeats)."""
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in index)


def _selects_first(index: tuple) -> tuple[tuple, tuple]:
    """``index`` as two steps, ``a[first][rest]``: the ints first, then the arrays.

    PyTorch applies an index's ints as selects before its index tensors; NumPy counts them among
    the advanced indices, which moves the result's dims when a slice stands between an int and
    an array: ``x[0, :, idx]`` of a (2, 3, 4) tensor is (3, len(idx)) in PyTorch, (len(idx), 3)
    in NumPy. Without ints or without arrays, ``first`` applies nothing."""
    if not any(_is_int(i) for i in index) or _is_basic(index):
        return (Ellipsis,), index
    first, rest = [], []
    for i in index:
        if _is_int(i):
            first.append(i)
        elif backend.is_array(i):
            first += [slice(None)] * (i.ndim if i.dtype == bool else 1)
            rest.append(i)
        else:  # a slice, None or Ellipsis: applied in the first step, its dims kept after
            first.append(i)
            rest.append(i if i is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


def _is_int(item: Any) -> bool:
    return isinstance(item, int) and not isinstance(item, bool)  # True indexes as a mask


def _as_index(index: Any, device: str) -> tuple:
    if isinstance(index, list) and any(isinstance(i, (list, tuple, slice, Tensor)) or i is None
                                       or i is Ellipsis or backend.is_array(i) for i in index):
        index = tuple(index)  # PyTorch (as NumPy once did) reads such a list as a tuple
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; "
                      "use x[tuple(seq)] instead of x[seq] (PyTorch gives the same warning)",
                      UserWarning, stacklevel=3)
    items = index if isinstance(index, tuple) else (index,)
    xp = backend.xp_of(device)
    out = []
    for i in items:
        if isinstance(i, numbers.Integral) and not isinstance(i, (bool, int)):
            i = int(i)  # a NumPy integer indexes as an int does: a view, as in PyTorch
        if isinstance(i, Tensor):
            # a 0-d integer tensor indexes as its int does: a view, as in PyTorch
            i = int(i.array) if i.ndim == 0 and i.dtype.kind in "iu" else i.array
        if isinstance(i, slice) and i.step is not None and operator.index(i.step) <= 0:
            raise ValueError(f"getitem: step must be greater than zero, got {i.step} in {i}; "
                             "flip the tensor to reverse it (x.flip(0))")
        if isinstance(i, list) or backend.is_array(i):
            i = xp.asarray(backend.to_device(i, device) if backend.is_array(i) else i,
                           dtype="int64" if isinstance(i, list) and not i else None)
            if i.dtype.kind not in "biu":
                raise IndexError(f"getitem: index arrays must be integer or bool, got {i.dtype}")
            if i.dtype == "uint8":  # a mask in PyTorch, with its deprecation warning
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a "
                              "dtype torch.bool instead.", UserWarning, stacklevel=3)
                i = i.astype(bool)
        out.append(i)
    return tuple(out)


def along(dim: int, index: Any) -> tuple:
    """An index that applies ``index`` to dim ``dim`` and keeps the dims before it whole:
    ``a[along(1, 0)]`` is ``a[:, 0]``."""
    return (slice(None),) * dim + (index,)


def getitem(a: Tensor, index: Any) -> Tensor:
    """``a[index]`` with ints, slices, None, Ellipsis, and integer or boolean arrays."""
    index = _as_index(index, a.device)
    try:
        return (Slice if _is_basic(index) else GetItem).apply(a, index=index)
    except IndexError as err:
        raise IndexError(f"getitem: index {index!r} does not fit shape {tuple(a.shape)}: {err}") \
            from None


def index_put(a: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of ``a`` with ``value`` (broadcast) written at ``index``; ``t[index] = value``
    is its in-place form."""
    index = _as_index(index, a.device)
    if isinstance(value, Tensor) and value.dtype != a.dtype and not _is_basic(index):
        raise RuntimeError(f"setitem: index put requires the source and destination dtypes "
                           f"match, got {value.dtype} for a {a.dtype} tensor; convert the value "
                           f"with .to({a.dtype})")
    value = as_tensor(value, a)
    if value.dtype != a.dtype:
        value = value.to(a.dtype)
    try:
        return IndexPut.apply(a, value, index=index)
    except (IndexError, ValueError) as err:
        raise type(err)(f"setitem: can't assign a value of shape {tuple(value.shape)} at index "
                        f"{index!r} of a tensor of shape {tuple(a.shape)}: {err}") from None


def reshape(a: Tensor, shape: Sequence[int] | int) -> Tensor:
    """The same elements in ``shape`` (one entry may be -1); a view where NumPy can give one.
    Always a new tensor, as PyTorch's, even in the same shape: a hook, ``retain_grad`` or
    ``requires_grad_`` on it must not reach ``a``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    try:
        return Reshape.apply(a, shape=shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(a.shape)} "
                         f"({a.numel()} elements) into {shape}") from None


def permute(a: Tensor, dims: Sequence[int]) -> Tensor:
    """The dims reordered: output dim i is input dim ``dims[i]``."""
    dims = tuple(_normalize_dim(d, a.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(a.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {a.ndim} dims "
                         f"of shape {tuple(a.shape)}")
    return Permute.apply(a, dims=dims)


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """``dim0`` and ``dim1`` swapped."""
    dims = list(range(a.ndim))
    d0, d1 = _normalize_dim(dim0, a.ndim, "transpose"), _normalize_dim(dim1, a.ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(a, dims=tuple(dims))


def broadcast_to(a: Tensor, shape: Sequence[int]) -> Tensor:
    """``a`` seen with ``shape`` by NumPy's broadcasting rules (a view; its gradient sums back
    over the broadcast dims)."""
    shape = tuple(shape)
    try:
        return BroadcastTo.apply(a, shape=shape)
    except ValueError:
        raise ValueError(f"expand: shape {tuple(a.shape)} cannot be broadcast to {shape}") \
            from None


def expand(a: Tensor, sizes: Sequence[int]) -> Tensor:
    """PyTorch's ``expand``: -1 keeps a dimension's size."""
    sizes = tuple(sizes)
    lead = len(sizes) - a.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                           f"number of dims of the tensor of shape {tuple(a.shape)}")
    if -1 in sizes[:lead]:
        raise RuntimeError(f"expand: -1 is not allowed in a new leading dim (sizes {sizes} for "
                           f"a tensor of shape {tuple(a.shape)})")
    shape = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(a, shape)


def sum_to(a: Tensor, shape: Sequence[int]) -> Tensor:
    """Sum ``a`` over the dims that broadcasting added or stretched, to get back ``shape``."""
    shape = tuple(shape)
    return a if a.array.shape == shape else SumTo.apply(a, shape=shape)


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim`` to ``end_dim`` merged into one."""
    if a.ndim == 0:
        return reshape(a, (1,))
    start = _normalize_dim(start_dim, a.ndim, "flatten")
    end = _normalize_dim(end_dim, a.ndim, "flatten")
    if start == end:  # nothing to merge: PyTorch hands back the tensor itself
        return a
    middle = 1
    for n in a.shape[start:end + 1]:
        middle *= n
    return reshape(a, a.shape[:start] + (middle,) + a.shape[end + 1:])


def squeeze(a: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Size-1 dims removed: all of them, or those of ``dim`` (an int or a tuple) that have size 1."""
    if dim is None:
        return reshape(a, tuple(n for n in a.shape if n != 1))
    if not isinstance(dim, int):
        drop = {_normalize_dim(d, a.ndim, "squeeze") for d in dim}
        return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in drop or n != 1))
    dim = _normalize_dim(dim, a.ndim, "squeeze")
    if a.ndim == 0 or a.shape[dim] != 1:
        return reshape(a, a.shape)
    return reshape(a, a.shape[:dim] + a.shape[dim + 1:])


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """A size-1 dim inserted at ``dim``."""
    dim = _normalize_dim(dim, a.ndim + 1, "unsqueeze")
    return reshape(a, a.shape[:dim] + (1,) + a.shape[dim:])


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated; stack them, or unsqueeze it first")
    dtype = functools.reduce(promote_types, (t.dtype for t in tensors))
    tensors = [t if t.dtype == dtype else t.to(dtype) for t in tensors]  # PyTorch's promotion
    if any(t.ndim > 1 for t in tensors):  # PyTorch skips the legacy empty tensor of shape (0,)
        tensors = [t for t in tensors if tuple(t.shape) != (0,)] or tensors
    dim = _normalize_dim(dim, tensors[0].ndim, "cat")
    first = tensors[0].shape
    for t in tensors[1:]:
        if t.ndim != len(first) or any(
                i != dim and n != m for i, (n, m) in enumerate(zip(t.shape, first))):
            raise ValueError(f"cat: shapes {[tuple(t.shape) for t in tensors]} differ outside "
                             f"dimension {dim}")
    return Cat.apply(*tensors, dim=dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    if len({tuple(t.shape) for t in tensors}) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got "
                         f"{[tuple(t.shape) for t in tensors]}")
    dim = _normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) pairs starting from the LAST dimension.

    ``mode`` ``'constant'`` fills with ``value`` (0 by default); ``'reflect'`` mirrors the
    input without repeating its edge, ``'replicate'`` repeats the edge, ``'circular'`` wraps
    around. These three pad the last 1, 2 or 3 dims of a (batch and) channels input, as in
    PyTorch, and are one gather per padded dim, so their gradients add up where a value was
    copied.

    >>> F.pad(x, (1, 1, 2, 0))   # last dim: 1 before, 1 after; dim -2: 2 before
    """
    if mode not in _PAD_INDEX and mode != "constant":
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected pairs for at most {input.ndim} dims, got {tuple(pad)}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return Pad.apply(input, widths=tuple(widths), value=0.0 if value is None else value)
    padded = len(pad) // 2
    if not 1 <= padded <= 3 or input.ndim not in (padded + 1, padded + 2):
        raise NotImplementedError(f"pad: mode={mode!r} pads the last 1, 2 or 3 dims of an input "
                                  f"with a channel dim (and maybe a batch dim) before them; got "
                                  f"{padded} dims of an input of shape {tuple(input.shape)}")
    if value:
        raise ValueError(f"pad: value={value} is only used by mode='constant', not {mode!r}")
    out = input
    for dim, (before, after) in enumerate(widths):
        if before or after:
            positions = _PAD_INDEX[mode](input.xp.arange(-before, input.shape[dim] + after),
                                         input.shape[dim], before, after, dim)
            out = getitem(out, along(dim, positions))
    return out


def _reflected(positions: Any, size: int, before: int, after: int, dim: int) -> Any:
    if max(before, after) >= size:
        raise RuntimeError(f"pad: padding ({before}, {after}) of dim {dim} should be less than "
                           f"its size {size} to reflect")
    xp = backend.get_array_module(positions)
    positions = xp.abs(positions)
    return xp.where(positions >= size, 2 * (size - 1) - positions, positions)


def _replicated(positions: Any, size: int, before: int, after: int, dim: int) -> Any:
    if size == 0:
        raise RuntimeError(f"pad: dim {dim} is empty, so it has no edge to replicate")
    return backend.get_array_module(positions).clip(positions, 0, size - 1)


def _wrapped(positions: Any, size: int, before: int, after: int, dim: int) -> Any:
    if max(before, after) > size:
        raise RuntimeError(f"pad: padding ({before}, {after}) of dim {dim} would wrap around its "
                           f"size {size} more than once")
    return positions % size


# a padded dim's positions -size_before … size+after-1 → the input positions they copy
_PAD_INDEX = {"reflect": _reflected, "replicate": _replicated, "circular": _wrapped}


def _dims(dims: int | Sequence[int], ndim: int, op: str) -> tuple[int, ...]:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    found = tuple(_normalize_dim(d, ndim, op) for d in dims)
    if len(set(found)) != len(found):
        raise RuntimeError(f"{op}: dims {dims} repeat a dimension")
    return found


def flip(input: Tensor, dims: int | Sequence[int]) -> Tensor:
    """The elements in reverse order along ``dims`` (a copy, as in PyTorch)."""
    return Flip.apply(input, dims=_dims(dims, input.ndim, "flip")) if input.ndim else input


def roll(input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Elements shifted by ``shifts`` along ``dims``, wrapping around; with no dims, over the
    flattened tensor."""
    if dims is None:
        return roll(input.flatten(), shifts, 0).reshape(input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = _dims(dims, input.ndim, "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: {len(shifts)} shifts for {len(dims)} dims; give one per dim")
    return Roll.apply(input, shifts=shifts, dims=dims)


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """The dims ``source`` moved to the positions ``destination``, the others keeping their order."""
    source = _dims(source, input.ndim, "movedim")
    destination = _dims(destination, input.ndim, "movedim")
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: {len(source)} source dims but {len(destination)} destinations")
    rest = iter(d for d in range(input.ndim) if d not in source)
    placed = dict(zip(destination, source))
    return permute(input, [placed[i] if i in placed else next(rest) for i in range(input.ndim)])


def repeat(input: Tensor, sizes: Sequence[int]) -> Tensor:
    """The tensor tiled ``sizes[i]`` times along dim i (leading sizes add new dims), as
    ``Tensor.repeat``."""
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat: {len(sizes)} sizes for a tensor with {input.ndim} dims; give "
                           "at least one per dim")
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"repeat: sizes must be non-negative, got {sizes}")
    return Repeat.apply(input, sizes=sizes)
