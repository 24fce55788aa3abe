"""``MultiheadAttention``, as PyTorch's: queries attend to keys in ``num_heads`` heads of
``embed_dim // num_heads`` features each, and the heads' outputs are projected back together.

Parameter names, shapes and initialisation are PyTorch's (``in_proj_weight`` stacks the query,
key and value projections, Xavier-uniform; biases start at zero; ``out_proj`` is a Linear), so
a ``state_dict`` moves between the two. The computation is PyTorch's math path written in
tinynet ops: masks become -inf scores, the softmax runs over the keys, and dropout falls on
the attention weights while training.

>>> attention = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
>>> x = tn.randn(2, 5, 16)                              # (batch, length, features)
>>> output, weights = attention(x, x, x)
>>> output.shape, weights.shape
(tinynet.Size([2, 5, 16]), tinynet.Size([2, 5, 5]))
"""

from __future__ import annotations

import math
from typing import Any

from tinynet.dtypes import bool_
from tinynet.factories import zeros
from tinynet.nn import functional as F
from tinynet.nn import init
from tinynet.nn.modules.linear import Linear, check_size, empty_parameter, to_chosen_device
from tinynet.nn.modules.module import Module
from tinynet.ops import cat
from tinynet.tensor import Tensor

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives ``MultiheadAttention.out_proj`` (it marks the layer
    for its quantisation tools, which tinynet doesn't have), so that the two print alike."""


class MultiheadAttention(Module):
    """Attention from ``query`` (L, N, E) to ``key`` (S, N, kdim) and ``value`` (S, N, vdim)
    (``batch_first``: N first; unbatched: no N). Returns the output (L, N, E) and, with
    ``need_weights``, the attention weights (N, L, S), averaged over the heads unless
    ``average_attn_weights=False``.

    ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N·num_heads, L, S) keep keys out:
    True where boolean, or added to the scores where float. ``is_causal`` is PyTorch's hint
    that ``attn_mask`` is the causal mask, which must then be given. ``add_bias_kv`` appends
    a learned key and value (``bias_k``, ``bias_v``) to every sequence's, ``add_zero_attn`` a
    key and value of zeros to every head's; the weights then have one column more for each.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        check_size("MultiheadAttention", embed_dim=embed_dim, num_heads=num_heads)
        if num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, float(dropout)
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self.head_dim, self.batch_first = embed_dim // num_heads, batch_first
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty_parameter((3 * embed_dim, embed_dim), dtype)
            for key in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(key, None)
        else:
            self.register_parameter("in_proj_weight", None)
            for key, size in (("q_proj_weight", embed_dim), ("k_proj_weight", self.kdim),
                              ("v_proj_weight", self.vdim)):
                self.register_parameter(key, empty_parameter((embed_dim, size), dtype))
        self.register_parameter("in_proj_bias",
                                empty_parameter((3 * embed_dim,), dtype) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:  # one more key and value, learned, that every query can attend to
            self.bias_k = empty_parameter((1, 1, embed_dim), dtype)
            self.bias_v = empty_parameter((1, 1, embed_dim), dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self.reset_parameters()
        to_chosen_device(self, device)

    def reset_parameters(self) -> None:
        """PyTorch's start: Xavier-uniform projections, zero biases, Xavier-normal ``bias_k``
        and ``bias_v`` (``out_proj.weight`` keeps Linear's initialisation)."""
        for key in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            if self._parameters[key] is not None:
                init.xavier_uniform_(self._parameters[key])
        for bias in (self.in_proj_bias, self.out_proj.bias):
            if bias is not None:
                init.constant_(bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint: pass the causal "
                               "mask too, e.g. tn.full((L, L), float('-inf')).triu(1)")
        if query.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: query should be unbatched 2D or batched 3D "
                             f"tensor but received {query.ndim}-D query tensor")
        batched = query.ndim == 3
        if not batched:  # one sequence: a batch of one along dim 1
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            key_padding_mask = None if key_padding_mask is None else key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        length, batch, embed = query.shape
        if embed != self.embed_dim:
            raise RuntimeError(f"MultiheadAttention: was expecting embedding dimension of "
                               f"{self.embed_dim}, but got {embed}")
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != (batch, key.shape[0]):
            raise RuntimeError(f"MultiheadAttention: expected key_padding_mask of shape "
                               f"{(batch, key.shape[0])}, got {tuple(key_padding_mask.shape)}")
        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:  # the learned key and value, after every sequence's keys
            k = cat([k, self.bias_k.expand(1, batch, embed)])
            v = cat([v, self.bias_v.expand(1, batch, embed)])
            attn_mask, key_padding_mask = _one_more_key(attn_mask), _one_more_key(key_padding_mask)
        heads = batch * self.num_heads
        q, k, v = (t.reshape(t.shape[0], heads, self.head_dim).transpose(0, 1) for t in (q, k, v))
        if self.add_zero_attn:  # a key and value of zeros, after every other key
            nothing = zeros(heads, 1, self.head_dim, dtype=k.dtype, device=k.device)
            k, v = cat([k, nothing], 1), cat([v, nothing], 1)
            attn_mask, key_padding_mask = _one_more_key(attn_mask), _one_more_key(key_padding_mask)
        scores = (q * (1 / math.sqrt(self.head_dim))) @ k.transpose(1, 2)  # (heads, L, S)
        scores = self._masked(scores, attn_mask, key_padding_mask, batch)
        weights = F.softmax(scores, -1)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout)
        output = (weights @ v).transpose(0, 1).reshape(length, batch, embed)
        output = self.out_proj(output)
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        weights = weights.reshape(batch, self.num_heads, length, -1)
        if average_attn_weights:
            weights = weights.mean(1)
        return output, (weights if batched else weights.squeeze(0))

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> list[Tensor]:
        """The query, key and value, each through its part of the input projection."""
        e, bias = self.embed_dim, self.in_proj_bias
        weights = ([self.in_proj_weight[i * e:(i + 1) * e] for i in range(3)]
                   if self._qkv_same_embed_dim else
                   [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight])
        return [F.linear(x, w, None if bias is None else bias[i * e:(i + 1) * e])
                for i, (x, w) in enumerate(zip((query, key, value), weights))]

    def _masked(self, scores: Tensor, attn_mask: Tensor | None,
                key_padding_mask: Tensor | None, batch: int) -> Tensor:
        """``scores`` with the masked keys at -inf (boolean masks) or shifted (float masks)."""
        if attn_mask is not None:
            if attn_mask.ndim == 3:
                attn_mask = attn_mask.reshape(batch * self.num_heads, *attn_mask.shape[1:])
            scores = _apply(scores, attn_mask)
        if key_padding_mask is not None:
            per_head = key_padding_mask.reshape(batch, 1, 1, -1)
            scores = _apply(scores.reshape(batch, self.num_heads, *scores.shape[1:]), per_head)
            scores = scores.reshape(batch * self.num_heads, *scores.shape[2:])
        return scores


def _one_more_key(mask: Tensor | None) -> Tensor | None:
    """``mask`` with a column for one more key, which it leaves unmasked (False, or 0)."""
    if mask is None:
        return None
    return cat([mask, zeros(*mask.shape[:-1], 1, dtype=mask.dtype, device=mask.device)], -1)


def _apply(scores: Tensor, mask: Tensor) -> Tensor:
    """A boolean mask sets the scores where it is True to -inf; a float mask is added."""
    return scores.masked_fill(mask, -math.inf) if mask.dtype == bool_ else scores + mask
