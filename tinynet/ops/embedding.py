"""``embedding``: rows of a weight matrix picked by integer indices (a lookup table).

The forward is ``weight[input]``; the backward adds each output row's gradient into the row it
came from (rows picked twice get both), except at ``padding_idx``, whose row gets none, and
divided by how often each index occurs with ``scale_grad_by_freq``.
"""

from __future__ import annotations

from tinynet.autograd import Op, no_grad
from tinynet.ops.arithmetic import Masked
from tinynet.ops.shape import IndexScatter
from tinynet.tensor import Tensor


class Embedding(Op):
    saves_inputs = False  # backward needs the indices (kept here), not the weight's values

    def forward(self, weight):
        return weight[self.indices]

    def backward(self, g):
        scale = self.scale
        if scale is not None:  # masked: the padding row gets exactly 0 even from an inf gradient
            g = Masked.apply(g, factor=scale.astype(g.dtype, copy=False))
        return (IndexScatter.apply(g, index=(self.indices,), shape=self.inputs[0].shape),)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``weight[input]`` for integer ``input`` of any shape; the result has shape
    ``input.shape + (embedding_dim,)``.

    ``max_norm`` renormalises, in place and outside the graph, each looked-up row whose
    ``norm_type``-norm exceeds it, as PyTorch does.
    """
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"embedding: indices must be an integer tensor, got {kind}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(weight.shape)}")
    if sparse:
        raise NotImplementedError("embedding: tinynet has no sparse gradients; with sparse=False "
                                  "the gradient has the same values, stored dense")
    if input.device != weight.device:
        raise RuntimeError(f"embedding: indices are on {input.device} but weight on {weight.device}")
    rows = weight.shape[0]
    indices = input.array
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= rows):
        # negative indices too, as PyTorch (NumPy would count them from the end)
        raise IndexError(f"embedding: indices in [{int(indices.min())}, {int(indices.max())}] are "
                         f"out of range for a weight of {rows} rows (expected 0 to {rows - 1})")
    if max_norm is not None:
        _renorm_(weight, indices, max_norm, norm_type)
    scale = None
    if scale_grad_by_freq or padding_idx is not None:
        xp = weight.xp
        scale = xp.ones(indices.shape, dtype=weight.dtype)
        if scale_grad_by_freq:
            counts = xp.bincount(indices.reshape(-1), minlength=rows)
            scale = scale / counts[indices]
        if padding_idx is not None:
            scale = scale * (indices != padding_idx % rows)
        scale = scale[..., None]
    return Embedding.apply(weight, indices=indices, scale=scale)


def _renorm_(weight: Tensor, indices, max_norm: float, norm_type: float) -> None:
    from tinynet.autograd.engine import bump_version

    xp = weight.xp
    with no_grad():
        used = xp.unique(indices.reshape(-1))
        picked = weight.array[used]
        norms = (xp.abs(picked) ** norm_type).sum(axis=1) ** (1 / norm_type)
        over = norms > max_norm
        if bool(over.any()):
            factor = max_norm / (norms[over] + 1e-7)
            weight.array[used[over]] = picked[over] * factor[:, None].astype(weight.dtype)
            bump_version(weight)
