"""Layouts PyTorch names separately, each a composition of the shape and indexing ops (so their
gradients come for free): hstack, vstack, column_stack, broadcast_tensors, tile, unflatten,
ravel, fliplr, flipud, repeat_interleave, pixel_shuffle, pixel_unshuffle, channel_shuffle, rot90,
tensor_split, take_along_dim."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinynet import backend, strides
from tinynet.ops.indexing import gather, index_select
from tinynet.ops.shape import _normalize_dim, along, broadcast_to, cat, flip, getitem, repeat, reshape
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


def _named_last(out: Tensor, node_name: str) -> Tensor:
    """``out`` with its last node named as PyTorch names its one node for this layout."""
    if out.grad_fn is not None:
        out.grad_fn.node_name = node_name
    return out


@strides.contiguous_result
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r), r = ``upscale_factor``: each group of r² channels
    becomes an r×r block of pixels (sub-pixel convolution's upsampling).

    >>> F.pixel_shuffle(tn.randn(1, 8, 3, 3), 2).shape
    tinynet.Size([1, 2, 6, 6])
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if r < 1 or c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    n = len(lead)
    blocks = input.reshape(*lead, c // (r * r), r, r, h, w)
    order = tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2)  # (…, C, H, r, W, r)
    return _named_last(blocks.permute(order).reshape(*lead, c // (r * r), h * r, w * r),
                       "PixelShuffleBackward0")


@strides.contiguous_result
def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of ``pixel_shuffle``."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if r < 1 or size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({dim})={size} is not "
                               f"divisible by {r}")
    n = len(lead)
    pixels = input.reshape(*lead, c, h // r, r, w // r, r)
    order = tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3)  # (…, C, r, r, H, W)
    return _named_last(pixels.permute(order).reshape(*lead, c * r * r, h // r, w // r),
                       "PixelUnshuffleBackward0")


@strides.contiguous_result
def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, C, *) with the channels of ``groups`` groups interleaved: channel g·(C/groups) + i
    moves to i·groups + g (ShuffleNet's mixing of grouped convolutions)."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    n, c, *rest = input.shape
    if groups < 1 or c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    mixed = input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)
    return _named_last(mixed, "ChannelShuffleBackward0")


@strides.contiguous_result
def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """``input`` turned by 90° ``k`` times in the plane of ``dims``, from the first dim towards
    the second, as ``torch.rot90`` (a flip and a transpose; k = 2 flips both dims).

    >>> tn.rot90(tn.tensor([[1, 2], [3, 4]])).tolist()
    [[2, 4], [1, 3]]
    """
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, got {len(dims)} ({dims})")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, got a tensor of shape "
                           f"{tuple(input.shape)}")
    first, second = (_normalize_dim(d, input.ndim, "rot90") for d in dims)
    if first == second:
        raise RuntimeError(f"rot90: expected two different rotation dims, got {tuple(dims)}")
    k %= 4
    if k == 0:
        return input.clone()
    if k == 2:
        return flip(input, [first, second])
    return flip(input, [second if k == 1 else first]).transpose(first, second)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of ``input`` along ``dim``, as ``torch.tensor_split``: an int n makes n pieces
    (the first ``size % n`` one longer), a list of indices cuts before each of them.

    >>> [t.tolist() for t in tn.tensor_split(tn.arange(5), 2)]
    [[0, 1, 2], [3, 4]]
    """
    dim = _normalize_dim(dim, input.ndim, "tensor_split")
    size = input.shape[dim]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                               f"{sections}")
        longer, length = size % sections, size // sections
        cuts = [i * length + min(i, longer) for i in range(1, sections)]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0] + [min(max(c + size if c < 0 else c, 0), size) for c in cuts] + [size]
    return tuple(getitem(input, along(dim, slice(start, max(start, end))))
                 for start, end in zip(bounds[:-1], bounds[1:]))


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Values of ``input`` picked by ``indices`` along ``dim`` (the two broadcast in the other
    dims), as ``torch.take_along_dim``; without ``dim`` both are flattened. The companion of
    ``argsort``/``argmax(keepdim=True)``: ``x.take_along_dim(x.argsort(1), 1)`` sorts rows."""
    if not isinstance(indices, Tensor) or indices.dtype.kind not in "iu":
        raise RuntimeError(f"take_along_dim: indices must be an integer tensor, got "
                           f"{getattr(indices, 'dtype', type(indices).__name__)}")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if input.ndim != indices.ndim:
        raise RuntimeError(f"take_along_dim: input {tuple(input.shape)} and indices "
                           f"{tuple(indices.shape)} should have the same number of dimensions")
    dim = _normalize_dim(dim, input.ndim, "take_along_dim")
    shape = list(input.xp.broadcast_shapes(
        *(tuple(1 if i == dim else n for i, n in enumerate(t.shape)) for t in (input, indices))))
    input = broadcast_to(input, shape[:dim] + [input.shape[dim]] + shape[dim + 1:])
    indices = broadcast_to(indices, shape[:dim] + [indices.shape[dim]] + shape[dim + 1:])
    return gather(input, dim, indices)
