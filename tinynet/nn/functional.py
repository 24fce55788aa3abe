"""``tinynet.nn.functional``: layers and losses as plain functions, as ``torch.nn.functional``.

The layer functions are the ops themselves; the losses (``tinynet/nn/losses.py``) and the
functions written here are compositions of ops, so their gradients (and second derivatives)
come from the ops they are built from.

>>> import tinynet.nn.functional as F
>>> loss = F.cross_entropy(logits, labels)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy

from tinynet import backend, strides
from tinynet.ops import (adaptive_avg_pool2d, avg_pool1d, avg_pool2d, broadcast_tensors, conv1d,
                         conv2d, conv_transpose2d, elu, leaky_relu, linear, log_softmax,
                         max_pool1d, max_pool2d, max_unpool1d,
                         max_unpool2d, pad, relu, sigmoid, softmax, softplus, tanh)
from tinynet.dtypes import bool_
from tinynet.factories import ones, zeros
from tinynet.ops import cat, einsum
from tinynet.tensor import Tensor
from tinynet.nn.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                               cross_entropy, gaussian_nll_loss, huber_loss, kl_div, l1_loss,
                               mse_loss, nll_loss, poisson_nll_loss, smooth_l1_loss)
from tinynet.nn.losses_margin import (cosine_embedding_loss, hinge_embedding_loss,
                                      margin_ranking_loss, multi_margin_loss,
                                      multilabel_margin_loss, multilabel_soft_margin_loss,
                                      soft_margin_loss, triplet_margin_loss)
from tinynet.ops.activation import in_place
from tinynet.ops.arithmetic import write_out
from tinynet.ops.embedding import embedding
from tinynet.ops.grid_sample import affine_grid, grid_sample
from tinynet.ops.interpolate import interpolate
from tinynet.ops.conv3d import (adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, conv3d,
                                 conv_transpose3d, max_pool3d)
from tinynet.ops.embedding_bag import embedding_bag
from tinynet.ops.lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from tinynet.ops.linalg import vector_norm
from tinynet.ops.special import gelu, mish, silu
from tinynet.ops.activation import hardsigmoid, hardswish, hardtanh, relu6
from tinynet.ops.conv1d import conv_transpose1d
from tinynet.nn.norms import batch_norm, instance_norm
from tinynet.ops.conv1d import adaptive_avg_pool1d, adaptive_max_pool1d
from tinynet.ops.layout import channel_shuffle, pixel_shuffle, pixel_unshuffle
from tinynet.ops.pool import adaptive_max_pool2d
from tinynet.ops.fold import fold, unfold
from tinynet.nn.activations import (celu, glu, hardshrink, logsigmoid, prelu, rrelu, selu, softmin,
                                    softshrink, softsign, tanhshrink, threshold)

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "adaptive_max_pool3d", "affine_grid", "alpha_dropout", "avg_pool1d",
    "avg_pool2d", "avg_pool3d", "batch_norm", "bilinear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "channel_shuffle", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cosine_embedding_loss",
    "cosine_similarity", "cross_entropy", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu",
    "embedding", "embedding_bag", "feature_alpha_dropout", "fold", "gaussian_nll_loss", "gelu",
    "glu", "grid_sample", "group_norm", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "hinge_embedding_loss", "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss",
    "layer_norm", "leaky_relu", "linear", "local_response_norm", "log_softmax", "logsigmoid",
    "lp_pool1d", "lp_pool2d", "lp_pool3d", "margin_ranking_loss", "max_pool1d", "max_pool2d",
    "max_pool3d", "max_unpool1d", "max_unpool2d", "mish", "mse_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss", "normalize", "one_hot",
    "pad", "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu",
    "relu", "relu6", "rms_norm", "rrelu", "scaled_dot_product_attention", "selu", "sigmoid",
    "silu", "smooth_l1_loss", "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink",
    "softsign", "tanh", "tanhshrink", "threshold", "triplet_margin_loss", "unfold",
]


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only)."""
    return _dropout(input, p, training, inplace, input.shape, "dropout")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: each (sample, channel) plane of an (N, C, H, W) input with
    probability ``p``, the rest scaled by 1/(1-p). A 3-D input is read as (N, C, L) and a 2-D
    one as (N, C), with PyTorch's warnings."""
    if input.ndim not in (2, 3, 4):
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.", UserWarning, stacklevel=2)
    elif input.ndim == 2:
        warnings.warn("dropout2d: Received a 2-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence "
                      "this warning, please use dropout instead. Note that dropout2d exists to "
                      "provide channel-wise dropout on inputs with 2 spatial dimensions, a channel "
                      "dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
                      UserWarning, stacklevel=2)
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _dropout(input, p, training, inplace, mask_shape, "dropout2d")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, L) or (C, L) input with probability ``p``, the rest
    scaled by 1/(1-p)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an optional "
                           "batch dimension (i.e. 2D or 3D inputs).")
    return _channel_dropout(input, p, training, inplace, input.ndim == 3, "dropout1d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability ``p``,
    the rest scaled by 1/(1-p)."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
                      "or 5D inputs).", UserWarning, stacklevel=2)
    return _channel_dropout(input, p, training, inplace, input.ndim == 5, "dropout3d")


def _channel_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool,
                     op: str) -> Tensor:
    """One draw per channel of each sample (the first two dims, or the first of an unbatched
    input), broadcast over the rest."""
    lead = 2 if batched else 1
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _dropout(input, p, training, inplace, mask_shape, op)


# scale · alpha of SELU: its negative saturation is -SELU_SATURATION, where alpha dropout moves
# the dropped elements (before its affine map)
SELU_SATURATION = 1.7580993408473766


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: each element is dropped with probability ``p`` to SELU's
    negative saturation, then an affine map restores the mean 0 and variance 1 of a standard
    normal input (training only)."""
    return _alpha_dropout(input, p, training, inplace, tuple(input.shape), "alpha_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels (dim 1) of an (N, C, …) input."""
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, inplace, mask_shape, "feature_alpha_dropout")


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool,
                   mask_shape: tuple[int, ...], op: str) -> Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        scale, shift = Tensor(input.xp.zeros(mask_shape, dtype=input.dtype)), 0.0
    else:
        keep = backend.generator(input.device).random(mask_shape) >= p
        # a·x for kept elements and a·(-s) for dropped ones, plus a·s·p: mean and variance kept
        a, s = 1 / math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p)), SELU_SATURATION
        scale = Tensor((keep * a).astype(input.dtype))
        shift = Tensor(((keep - 1.0) * s * a + s * a * p).astype(input.dtype))
    if inplace:
        return in_place(op + "_", input, lambda t: t * scale + shift)
    return input * scale + shift


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, mask_shape: tuple[int, ...],
             op: str) -> Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        scale = Tensor(input.xp.zeros(mask_shape, dtype=input.dtype))
    else:
        # On a GPU, drawn in the input's precision (float32 for half): float64 costs twice the
        # time there. The CPU keeps its float64 stream, so that seeded CPU runs stay as they were.
        draw = numpy.float64
        if input.is_cuda and input.dtype != numpy.float64:
            draw = numpy.float32
        keep = backend.generator(input.device).random(mask_shape, dtype=draw) >= p
        scale = Tensor(keep.astype(input.dtype) / (1 - p))
    if inplace:
        return in_place(op + "_", input, lambda t: t * scale)
    return input * scale


@strides.contiguous_result
def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims (mean 0, biased variance 1, plus
    ``eps``), then scale by ``weight`` and shift by ``bias`` (both of ``normalized_shape``)."""
    dims = _last_dims("layer_norm", input, normalized_shape)
    centered = input - input.mean(dims, keepdim=True)
    variance = (centered * centered).mean(dims, keepdim=True)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@strides.contiguous_result
def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Divide by the root mean square over the last ``len(normalized_shape)`` dims (no
    centring), then scale by ``weight``; ``eps`` defaults to the machine epsilon of the
    input's dtype, as PyTorch's.

    >>> F.rms_norm(tn.tensor([[3.0, 4.0]]), [2])
    tensor([[0.8485, 1.1314]])
    """
    dims = _last_dims("rms_norm", input, normalized_shape)
    if eps is None:
        eps = float(numpy.finfo(input.dtype).eps)
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def _last_dims(op: str, input: Tensor, normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """The input's last dims, which must be ``normalized_shape``."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise RuntimeError(f"{op}: Given normalized_shape={list(shape)}, expected input with "
                           f"shape [*, {', '.join(map(str, shape))}], but got input of size "
                           f"{list(input.shape)}")
    return tuple(range(input.ndim - len(shape), input.ndim))


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """AlexNet's normalisation across channels: x / (k + alpha · mean of x² over ``size``
    neighbouring channels)^beta, the channels past either end counted as zeros."""
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got "
                         f"{input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    squares = input * input
    before, after = size // 2, (size - 1) // 2
    edge = tuple(input.shape[:1]) + tuple(input.shape[2:])
    padded = cat([zeros(edge[0], before, *edge[1:], dtype=input.dtype, device=input.device),
                  squares,
                  zeros(edge[0], after, *edge[1:], dtype=input.dtype, device=input.device)], 1)
    channels = input.shape[1]
    window = padded[:, :channels]
    for i in range(1, size):
        window = window + padded[:, i:i + channels]
    return input / ((window / size) * alpha + k) ** beta


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x1ᵀ A x2 + b for every output feature: ``weight`` (out, in1, in2), inputs
    (…, in1) and (…, in2)."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or \
            input2.shape[-1] != weight.shape[2] or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: inputs {tuple(input1.shape)} and {tuple(input2.shape)} do "
                           f"not fit weight {tuple(weight.shape)}: expected (…, in1) and (…, in2) "
                           "with the same leading dims, and weight (out, in1, in2)")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input`` divided by its ``p``-norm along ``dim``, the norm clamped below at ``eps``:
    unit vectors, and zero vectors left at zero.

    >>> F.normalize(tn.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor([[0.6000, 0.8000],
            [0.0000, 0.0000]])
    """
    return write_out("normalize", input / vector_norm(input, p, dim, keepdim=True).clamp(min=eps),
                     out)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` (broadcast together) along ``dim``.

    As PyTorch, each vector is divided by its norm clamped below at ``eps``, and the clamp
    passes the norm's gradient on unchanged (PyTorch clamps without recording it), so that
    vectors shorter than ``eps`` get the same gradients as in PyTorch.

    >>> F.cosine_similarity(tn.tensor([[1.0, 0.0]]), tn.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    def unit(x: Tensor) -> Tensor:
        norm = vector_norm(x, 2, dim, keepdim=True)
        return x / (norm + (norm.clamp(min=eps) - norm).detach())

    x1, x2 = broadcast_tensors(x1, x2)
    return (unit(x1) * unit(x2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The ``p``-norm of ``x1 - x2 + eps`` (broadcast together) along the last dim, as PyTorch:
    ``eps`` keeps the norm's gradient finite where the two vectors are equal.

    >>> F.pairwise_distance(tn.tensor([[0.0, 0.0]]), tn.tensor([[3.0, 4.0]]))
    tensor([5.0000])
    """
    return vector_norm(x1 - x2 + eps, p, -1, keepdim)


@strides.contiguous_result
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the channels (dim 1) of each sample into ``num_groups`` groups and normalise each
    group over its channels and positions (mean 0, biased variance 1, plus ``eps``), then scale
    by ``weight`` and shift by ``bias`` (one per channel). Needs no batch statistics.

    >>> F.group_norm(tn.randn(8, 6, 5, 5), num_groups=3).shape
    tinynet.Size([8, 6, 5, 5])
    """
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but "
                           f"received {input.ndim}")
    if not isinstance(num_groups, int) or num_groups < 1 or input.shape[1] % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    n, channels = input.shape[:2]
    groups = input.reshape(n, num_groups, -1)
    centered = groups - groups.mean(2, keepdim=True)
    variance = (centered * centered).mean(2, keepdim=True)
    out = (centered / (variance + eps).sqrt()).reshape(input.shape)
    per_channel = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query·keyᵀ·scale + mask)·value over the last two dims, the leading ones batched
    (``scale`` defaults to 1/sqrt(query.size(-1))). A boolean ``attn_mask`` says which pairs
    take part (True) and a float one is added to the scores; ``is_causal`` lets each query see
    only the keys up to its own position. As PyTorch's math path, composed of ops.

    >>> q = k = v = tn.randn(2, 4, 5, 8)               # (batch, heads, length, features)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    tinynet.Size([2, 4, 5, 8])
    """
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa=True (grouped-query "
                                  "attention) is not built in tinynet; repeat the key and value "
                                  "heads instead")
    scores = query @ key.transpose(-2, -1) * (1 / math.sqrt(query.shape[-1]) if scale is None
                                              else scale)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: Explicit attn_mask should not be set "
                               "when is_causal=True")
        attn_mask = ones(query.shape[-2], key.shape[-2], dtype=bool_, device=query.device).tril()
    if attn_mask is not None:
        scores = scores.masked_fill(attn_mask.logical_not(), -math.inf) \
            if attn_mask.dtype == bool_ else scores + attn_mask
    weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices of any shape as one-hot int64 vectors along a new last dim of size
    ``num_classes`` (the largest index + 1 when -1)."""
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        kind = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise RuntimeError(f"one_hot is only applicable to index tensor, got {kind}")
    xp, labels = tensor.xp, tensor.array
    if labels.size and int(labels.min()) < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if not labels.size:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(labels.max()) + 1
    elif labels.size and int(labels.max()) >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes, got "
                           f"{int(labels.max())} for num_classes={num_classes}.")
    return Tensor((labels[..., None] == xp.arange(num_classes)).astype(xp.int64))
