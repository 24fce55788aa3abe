"""Layouts PyTorch names separately, each a composition of the shape and indexing ops (so their
gradients come for free): hstack, vstack, column_stack, broadcast_tensors, tile, unflatten,
ravel, fliplr, flipud, repeat_interleave."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.ops.indexing import index_select
from tinynet.ops.shape import _normalize_dim, broadcast_to, cat, flip, repeat, reshape
from tinynet.tensor import Tensor, as_tensor


def _at_least(t: Tensor, ndim: int) -> Tensor:
    """``t`` with leading size-1 dims up to ``ndim`` (a 1-D tensor becomes a row)."""
    return reshape(t, (1,) * (ndim - t.ndim) + tuple(t.shape)) if t.ndim < ndim else t


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1, or dim 0 for 1-D tensors (NumPy's hstack)."""
    tensors = [_at_least(t, 1) for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0, 1-D tensors becoming rows."""
    return cat([_at_least(t, 2) for t in tensors], 0)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join as columns: 0-d and 1-D tensors become columns, the rest join along dim 1."""
    return cat([reshape(t, (-1, 1)) if t.ndim < 2 else t for t in tensors], 1)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views)."""
    shape = tensors[0].xp.broadcast_shapes(*[tuple(t.shape) for t in tensors]) if tensors else ()
    return tuple(broadcast_to(t, shape) for t in tensors)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """``repeat``, with fewer ``dims`` than the tensor has meaning ones in front (NumPy's tile)."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dim ``dim`` split into ``sizes`` (one of them may be -1)."""
    dim = _normalize_dim(dim, input.ndim, "unflatten")
    return reshape(input, tuple(input.shape[:dim]) + tuple(sizes) + tuple(input.shape[dim + 1:]))


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor."""
    return reshape(input, (-1,))


def fliplr(input: Tensor) -> Tensor:
    """Columns (dim 1) in reverse order."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: expected at least 2 dims, got shape {tuple(input.shape)}")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Rows (dim 0) in reverse order."""
    if input.ndim < 1:
        raise RuntimeError("flipud: expected at least 1 dim, got a 0-d tensor")
    return flip(input, 0)


def repeat_interleave(input: Tensor, repeats: Any, dim: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place: [a, b] -> [a, a,
    b, b]. ``repeats`` is an int or one count per slice; without ``dim`` the input is flattened."""
    if dim is None:
        input, dim = ravel(input), 0
    dim = _normalize_dim(dim, input.ndim, "repeat_interleave")
    counts = backend.to_numpy(as_tensor(repeats).array)  # sizes: read on the host, as CuPy does
    size = input.shape[dim]
    if counts.ndim and counts.shape != (size,):
        raise RuntimeError(f"repeat_interleave: {counts.shape[0]} repeats for dimension {dim} of size "
                           f"{size}; give one per slice or a single int")
    if (counts < 0).any():
        raise RuntimeError("repeat_interleave: repeats must be non-negative")
    xp = input.xp
    return index_select(input, dim, xp.repeat(xp.arange(size), counts.tolist()))
