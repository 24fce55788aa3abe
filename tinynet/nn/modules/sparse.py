"""``Embedding``: a learnable lookup table from integer ids to vectors, and ``EmbeddingBag``,
which reduces bags of them."""

from __future__ import annotations

from typing import Any

from tinynet.autograd import no_grad
from tinynet.nn import functional as F
from tinynet.nn import init
from tinynet.nn.modules.linear import check_size, empty_parameter, to_chosen_device
from tinynet.nn.modules.module import Module, Parameter
from tinynet.tensor import Tensor


class Embedding(Module):
    """``num_embeddings`` vectors of size ``embedding_dim``; ``layer(ids)`` has shape
    ``ids.shape + (embedding_dim,)``.

    The weight starts N(0, 1), as in PyTorch. The row at ``padding_idx`` starts at zero and never
    receives a gradient, so it stays whatever it is set to.

    >>> embed = nn.Embedding(1000, 16, padding_idx=0)
    >>> embed(tn.tensor([[5, 3, 0]])).shape
    tinynet.Size([1, 3, 16])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False, device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        _set_table(self, num_embeddings, embedding_dim, padding_idx, _weight, _freeze, device,
                   dtype)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse

    def reset_parameters(self) -> None:
        """N(0, 1) entries, and zeros in the padding row."""
        _reset_table(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        padding = [] if self.padding_idx is None else [f"padding_idx={self.padding_idx}"]
        return ", ".join([f"{self.num_embeddings}, {self.embedding_dim}"] + padding
                         + _norm_options(self)
                         + (["sparse=True"] if self.sparse else []))

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (same memory), frozen unless
        ``freeze=False``; the padding row keeps its given values."""
        rows, cols = _check_pretrained(embeddings)
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq,
                   sparse=sparse)


def _set_table(layer: Embedding | EmbeddingBag, num_embeddings: int, embedding_dim: int,
               padding_idx: int | None, weight: Tensor | None, freeze: bool, device: str | None,
               dtype: Any) -> None:
    """The lookup table's sizes, padding row and weight (given, or drawn N(0, 1))."""
    name = type(layer).__name__
    check_size(name, num_embeddings=num_embeddings, embedding_dim=embedding_dim)
    layer.num_embeddings, layer.embedding_dim = int(num_embeddings), int(embedding_dim)
    if padding_idx is not None:
        if not -layer.num_embeddings <= padding_idx < layer.num_embeddings:
            raise ValueError(f"{name}: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({layer.num_embeddings})")
        padding_idx %= layer.num_embeddings
    layer.padding_idx = padding_idx
    if weight is None:
        layer.weight = empty_parameter((layer.num_embeddings, layer.embedding_dim), dtype)
        layer.weight.requires_grad_(not freeze)
        layer.reset_parameters()
        to_chosen_device(layer, device)
    else:
        if tuple(weight.shape) != (layer.num_embeddings, layer.embedding_dim):
            raise ValueError(f"{name}: shape of weight {tuple(weight.shape)} does not match "
                             f"num_embeddings and embedding_dim ({layer.num_embeddings}, "
                             f"{layer.embedding_dim})")
        layer.weight = Parameter(weight, requires_grad=not freeze)


def _reset_table(layer: Embedding | EmbeddingBag) -> None:
    """N(0, 1) entries, and zeros in the padding row."""
    init.normal_(layer.weight)
    if layer.padding_idx is not None:
        with no_grad():
            layer.weight[layer.padding_idx].fill_(0)


def _norm_options(layer: Embedding | EmbeddingBag) -> list[str]:
    """The max_norm, norm_type and scale_grad_by_freq parts of a table's repr, where not default."""
    return ([] if layer.max_norm is None else [f"max_norm={layer.max_norm}"]) \
        + ([] if layer.norm_type == 2 else [f"norm_type={layer.norm_type}"]) \
        + (["scale_grad_by_freq=True"] if layer.scale_grad_by_freq else [])


def _check_pretrained(embeddings: Any) -> tuple[int, int]:
    if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
        shape = tuple(embeddings.shape) if isinstance(embeddings, Tensor) else None
        raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got {shape}")
    return embeddings.shape


class EmbeddingBag(Module):
    """Sums, means or maxes of bags of embeddings, without the per-index rows in between:
    ``F.embedding_bag`` with a learnable ``weight`` (N(0, 1), the padding row 0, as PyTorch).

    ``layer(input, offsets=None, per_sample_weights=None)``: ``input`` (bags, length), or 1-D
    with ``offsets`` the start of each bag; gives (bags, embedding_dim).

    >>> bag = nn.EmbeddingBag(1000, 16, mode="sum")
    >>> bag(tn.tensor([4, 8, 15, 16, 23]), offsets=tn.tensor([0, 2])).shape
    tinynet.Size([2, 16])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        _set_table(self, num_embeddings, embedding_dim, padding_idx, _weight, False, device,
                   dtype)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, \
            scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def reset_parameters(self) -> None:
        """N(0, 1) entries, and zeros in the padding row."""
        _reset_table(self)

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        padding = [] if self.padding_idx is None else [f"padding_idx={self.padding_idx}"]
        return ", ".join([f"{self.num_embeddings}, {self.embedding_dim}"] + _norm_options(self)
                         + [f"mode={self.mode!r}"] + padding)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (same memory), frozen unless
        ``freeze=False``."""
        rows, cols = _check_pretrained(embeddings)
        layer = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                    include_last_offset, padding_idx)
        layer.weight.requires_grad_(not freeze)
        return layer
