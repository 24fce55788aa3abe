"""The Transformer of "Attention Is All You Need", as PyTorch's ``nn.Transformer`` and its
parts: ``TransformerEncoderLayer`` (self-attention, then a feed-forward block),
``TransformerDecoderLayer`` (self-attention, attention to the encoder's output, then the
feed-forward block), the stacks ``TransformerEncoder`` and ``TransformerDecoder``, and
``Transformer``, an encoder and a decoder with a final LayerNorm each.

Every block has dropout, a residual connection and a LayerNorm, after the block or, with
``norm_first``, before it. Submodule names are PyTorch's, so a ``state_dict`` moves between
the two.

>>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True)
>>> encoder = nn.TransformerEncoder(layer, num_layers=2)
>>> encoder(tn.randn(2, 5, 16)).shape
tinynet.Size([2, 5, 16])
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tinynet.factories import full
from tinynet.nn import functional as F
from tinynet.nn import init
from tinynet.nn.modules.attention import MultiheadAttention
from tinynet.nn.modules.container import ModuleList
from tinynet.nn.modules.dropout import Dropout
from tinynet.nn.modules.linear import Linear
from tinynet.nn.modules.module import Module
from tinynet.nn.modules.normalization import LayerNorm
from tinynet.tensor import Tensor

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer"]

Activation = str | Callable[[Tensor], Tensor]


class _TransformerLayer(Module):
    """What encoder and decoder layers share: their attentions (named ``attentions``), the
    feed-forward block linear1 → activation → dropout → linear2, and one LayerNorm and one
    dropout per block, registered in PyTorch's order."""

    def __init__(self, attentions: tuple[str, ...], d_model: int, nhead: int,
                 dim_feedforward: int, dropout: float, activation: Activation,
                 layer_norm_eps: float, batch_first: bool, norm_first: bool, bias: bool,
                 device: str | None, dtype: Any) -> None:
        super().__init__()
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise RuntimeError(f"activation should be relu/gelu, not {activation}")
            activation = F.relu if activation == "relu" else F.gelu
        kw = {"device": device, "dtype": dtype}
        for name in attentions:
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                   batch_first=batch_first, **kw))
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.blocks = len(attentions) + 1
        for i in range(1, self.blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        for i in range(1, self.blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = activation

    def _residual(self, x: Tensor, block: int, compute: Callable[[Tensor], Tensor]) -> Tensor:
        """x plus block ``block``'s output, normalised after (or, ``norm_first``, before)."""
        norm = self._modules[f"norm{block}"]
        return x + compute(norm(x)) if self.norm_first else norm(x + compute(x))

    def _attend(self, block: int, attention: MultiheadAttention, x: Tensor, memory: Tensor | None,
                mask: Tensor | None, padding: Tensor | None, is_causal: bool) -> Tensor:
        keys = x if memory is None else memory
        out = attention(x, keys, keys, attn_mask=mask, key_padding_mask=padding,
                        need_weights=False, is_causal=is_causal)[0]
        return self._modules[f"dropout{block}"](out)

    def _feed_forward(self, x: Tensor) -> Tensor:
        out = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self._modules[f"dropout{self.blocks}"](out)


class TransformerEncoderLayer(_TransformerLayer):
    """One encoder layer: self-attention, then the feed-forward block (``activation`` is
    ``"relu"``, ``"gelu"`` or a function)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(("self_attn",), d_model, nhead, dim_feedforward, dropout, activation,
                         layer_norm_eps, batch_first, norm_first, bias, device, dtype)

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        x = self._residual(src, 1, lambda x: self._attend(1, self.self_attn, x, None, src_mask,
                                                          src_key_padding_mask, is_causal))
        return self._residual(x, 2, self._feed_forward)


class TransformerDecoderLayer(_TransformerLayer):
    """One decoder layer: self-attention over the target, attention from the target to
    ``memory`` (the encoder's output), then the feed-forward block."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Activation = F.relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(("self_attn", "multihead_attn"), d_model, nhead, dim_feedforward,
                         dropout, activation, layer_norm_eps, batch_first, norm_first, bias,
                         device, dtype)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        x = self._residual(tgt, 1, lambda x: self._attend(1, self.self_attn, x, None, tgt_mask,
                                                          tgt_key_padding_mask, tgt_is_causal))
        x = self._residual(x, 2, lambda x: self._attend(2, self.multihead_attn, x, memory,
                                                        memory_mask, memory_key_padding_mask,
                                                        memory_is_causal))
        return self._residual(x, 3, self._feed_forward)


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` one after another (each its own parameters),
    then ``norm`` if given. ``mask`` and ``src_key_padding_mask`` reach every layer."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer``, each attending to the same ``memory``, then
    ``norm`` if given."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                      memory_key_padding_mask, bool(tgt_is_causal), memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """An encoder of ``num_encoder_layers`` layers and a decoder of ``num_decoder_layers``,
    each closed by a LayerNorm; every weight matrix starts Xavier-uniform, as in PyTorch.

    >>> model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
    ...                        dim_feedforward=32)
    >>> src, tgt = tn.randn(10, 3, 16), tn.randn(7, 3, 16)     # (length, batch, features)
    >>> mask = nn.Transformer.generate_square_subsequent_mask(7)
    >>> model(src, tgt, tgt_mask=mask).shape
    tinynet.Size([7, 3, 16])
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Activation = F.relu, custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        settings = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                    batch_first, norm_first, bias, device, dtype)
        kw = {"eps": layer_norm_eps, "bias": bias, "device": device, "dtype": dtype}
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*settings), num_encoder_layers, LayerNorm(d_model, **kw))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*settings), num_decoder_layers, LayerNorm(d_model, **kw))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: str | None = None,
                                        dtype: Any = None) -> Tensor:
        """The causal mask for ``sz`` positions: 0 where a query may see a key (at or before
        it), -inf after it."""
        return full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(1)
