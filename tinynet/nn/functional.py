"""``tinynet.nn.functional``: layers and losses as plain functions, as ``torch.nn.functional``.

The layer functions are the ops themselves; the losses are compositions of ops, so their
gradients (and second derivatives) come from the ops they are built from.

>>> import tinynet.nn.functional as F
>>> loss = F.cross_entropy(logits, labels)
"""

from __future__ import annotations

from tinynet import backend
from tinynet.ops import (avg_pool2d, conv2d, conv_transpose2d, elu, leaky_relu, linear,
                         log_softmax, max_pool2d, pad, relu, sigmoid, softmax, softplus, tanh)
from tinynet.tensor import Tensor

__all__ = [
    "avg_pool2d", "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d",
    "cross_entropy", "dropout", "elu", "leaky_relu", "linear", "log_softmax", "max_pool2d",
    "mse_loss", "nll_loss", "pad", "relu", "sigmoid", "softmax", "softplus", "tanh",
]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def nll_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices ``target`` (N,) under log-probabilities (N, C)."""
    return _class_loss(input, target, reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Softmax cross entropy of logits (N, C) against class indices (N,), via log_softmax.

    Finite for any finite logits, ±1e4 included.
    """
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got "
                         f"{tuple(input.shape)}")
    return _class_loss(log_softmax(input, 1), target, reduction, "cross_entropy")


def _class_loss(log_probs: Tensor, target: Tensor, reduction: str, op: str) -> Tensor:
    """-log_probs[i, target[i]], reduced; errors name ``op``, the function the user called."""
    if log_probs.ndim != 2:
        raise ValueError(f"{op}: expected log-probabilities of shape (N, C), got "
                         f"{tuple(log_probs.shape)}")
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        kind = target.dtype if isinstance(target, Tensor) else type(target).__name__
        raise TypeError(f"{op}: target must be a tensor of integer class indices, got {kind}; "
                        "for probabilities or float labels use a different loss")
    n, classes = log_probs.shape
    if tuple(target.shape) != (n,):
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} does not match input "
                         f"{tuple(log_probs.shape)}: expected ({n},)")
    if target.device != log_probs.device:
        raise RuntimeError(f"{op}: input is on {log_probs.device} but target on {target.device}")
    if n and (int(target.array.min()) < 0 or int(target.array.max()) >= classes):
        raise ValueError(f"{op}: target holds class indices in [{int(target.array.min())}, "
                         f"{int(target.array.max())}] but input has {classes} classes")
    rows = log_probs.xp.arange(n)
    return _reduce(-log_probs[rows, target.array], reduction, op)


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(target.shape)} differ")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error between tensors of the same shape."""
    _same_shape(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     reduction: str = "mean") -> Tensor:
    """Binary cross entropy on logits: softplus(x) - x·y, stable for any x."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    return _reduce(softplus(input, threshold=float("inf")) - input * target, reduction,
                   "binary_cross_entropy_with_logits")


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = backend.generator(input.device).random(input.shape) >= p
    return input * Tensor(keep.astype(input.dtype) / (1 - p))
