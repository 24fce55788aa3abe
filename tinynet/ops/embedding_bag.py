"""``embedding_bag``: the sum, mean or max of the embeddings of each bag of indices, without
making the (indices, embedding_dim) rows a caller would reduce (PyTorch's ``F.embedding_bag``).

The bags are the rows of a 2-D input, or the runs of a 1-D input that ``offsets`` starts.
The rows are looked up with ``embedding`` and added into their bag by one scatter, whose
backward is the gather of each bag's gradient; ``max`` lays each bag out in a padded
(bags, longest bag, dim) block and takes its max. Entries equal to ``padding_idx`` are left
out of their bag, and an empty bag gives zeros.

>>> weight = tn.arange(12.0).reshape(6, 2)
>>> F.embedding_bag(tn.tensor([1, 2, 4, 5]), weight, tn.tensor([0, 2]), mode="sum")
tensor([[ 6.,  8.],
        [18., 20.]])
"""

from __future__ import annotations

from typing import Any

from tinynet.ops.elementwise import where
from tinynet.ops.embedding import embedding
from tinynet.ops.shape import IndexScatter
from tinynet.tensor import Tensor

_MODES = ("sum", "mean", "max")


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2.0,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The ``mode`` ('sum', 'mean' or 'max') of each bag's rows of ``weight``: (bags,
    embedding_dim).

    ``input`` is (bags, length), one bag per row (``offsets`` None), or 1-D with ``offsets``
    the start of each bag (the first 0; with ``include_last_offset`` one more, the end of the
    last). ``per_sample_weights`` (``input``'s shape, mode 'sum') scales each row first.
    ``max_norm``, ``norm_type``, ``scale_grad_by_freq`` and ``padding_idx`` are ``embedding``'s.
    """
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}')")
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"embedding_bag: indices must be an integer tensor, got {kind}")
    if per_sample_weights is not None and per_sample_weights.shape != input.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)})"
                         f" is not None, then it must have the same shape as the input "
                         f"({tuple(input.shape)})")
    xp = weight.xp
    bag_of, bags = _bags(input, offsets, include_last_offset, xp)
    indices = input.array.reshape(-1)
    kept = None
    if padding_idx is not None:
        rows = weight.shape[0]
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding_bag: padding_idx {padding_idx} must be within the "
                             f"{rows} rows of weight")
        kept = xp.nonzero(indices != padding_idx % rows)[0]
        indices, bag_of = indices[kept], bag_of[kept]
    vectors = embedding(Tensor(indices), weight, None, max_norm, norm_type, scale_grad_by_freq,
                        sparse)
    dim = weight.shape[1]
    counts = xp.bincount(bag_of, minlength=bags)
    if mode == "max":
        return _bag_max(vectors, bag_of, counts, bags)
    if per_sample_weights is not None:
        sample_weights = per_sample_weights.reshape(-1)
        if kept is not None:
            sample_weights = sample_weights[Tensor(kept)]
        vectors = vectors * sample_weights.unsqueeze(1)
    total = IndexScatter.apply(vectors, index=(bag_of,), shape=(bags, dim))
    if mode == "sum":
        return total
    return total / Tensor(xp.maximum(counts, 1).astype(weight.dtype)[:, None])


def _bags(input: Tensor, offsets: Tensor | None, include_last_offset: bool,
          xp: Any) -> tuple[Any, int]:
    """The bag of each entry of ``input`` (flattened), and the number of bags."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets).__name__}")
        bags, length = input.shape
        return xp.repeat(xp.arange(bags), length), bags
    if input.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None or offsets.ndim != 1:
        got = "None" if offsets is None else f"a {offsets.ndim}-D tensor"
        raise ValueError(f"offsets has to be a 1D Tensor but got {got}")
    if offsets.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: offsets must be an integer tensor, got {offsets.dtype}")
    starts = offsets.array
    length = input.shape[0]
    if starts.size == 0 or int(starts[0]) != 0:
        first = "nothing" if starts.size == 0 else int(starts[0])
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {first}")
    if int(starts[-1]) > length:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} but got "
                           f"offsets[-1] of {int(starts[-1])}")
    if starts.size > 1 and bool((starts[1:] < starts[:-1]).any()):
        raise RuntimeError(f"embedding_bag: offsets must not decrease, got {starts.tolist()}")
    bags = starts.size - 1 if include_last_offset else starts.size
    # the last bag runs to the input's end, even past a last offset (as PyTorch's)
    return xp.searchsorted(starts[1:bags], xp.arange(length), side="right"), bags


def _bag_max(vectors: Tensor, bag_of: Any, counts: Any, bags: int) -> Tensor:
    """Each bag's elementwise max, 0 for an empty bag: the rows laid out in a padded block
    (bags, longest bag, dim), the padding -inf, its max over the bag's axis."""
    xp = vectors.xp
    longest = int(counts.max()) if counts.size else 0
    if longest == 0:
        return vectors.new_zeros((bags, vectors.shape[1]))
    starts = xp.concatenate([xp.zeros(1, dtype=counts.dtype), xp.cumsum(counts)[:-1]])
    slot = xp.arange(bag_of.size) - starts[bag_of]  # each row's place in its bag (rows in order)
    padded = IndexScatter.apply(vectors, index=(bag_of, slot), shape=(bags, longest,
                                                                       vectors.shape[1]))
    filled = xp.zeros((bags, longest, 1), dtype=bool)
    filled[bag_of, slot] = True
    largest = where(Tensor(filled), padded, -float("inf")).max(dim=1).values
    return where(Tensor(counts[:, None] > 0), largest, 0.0)
