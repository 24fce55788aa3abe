"""The margin and embedding losses of ``tinynet.nn.functional``, with PyTorch's signatures,
defaults and checks.

Each one is a composition of differentiable ops (clamp, relu, softplus, indexing, norms…), so its
gradient and its second derivative come from those ops. At a hinge's kink the gradient is
PyTorch's: the losses PyTorch composes of ``clamp_min`` (margin ranking, hinge embedding, cosine
embedding, triplet) pass the gradient on there, its multi-class kernels (``multi_margin_loss``,
``multilabel_margin_loss``) do not.

Reductions: ``'mean'`` (the default), ``'sum'`` or ``'none'``, and the deprecated
``size_average``/``reduce`` pair with PyTorch's warning. Where PyTorch broadcasts the arguments
(every loss here but the class-index ones) so does tinynet, and arguments that don't broadcast
raise PyTorch's RuntimeError naming the function and the shapes.
"""

from __future__ import annotations

import numpy

from tinynet import backend
from tinynet.nn.activations import logsigmoid
from tinynet.nn.losses import _broadcastable, _check_reduction, _named, _reduce, legacy_reduction
from tinynet.ops import clamp, gather, minimum, relu, softplus, where
from tinynet.ops.linalg import vector_norm
from tinynet.tensor import Tensor

__all__ = ["cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
           "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
           "soft_margin_loss", "triplet_margin_loss"]

# PyTorch's cosine_embedding_loss adds 1e-12 to each squared norm, as a float32 constant: the
# value here is that float32, so a zero vector gets PyTorch's gradient to the last digits.
_EPSILON = float(numpy.float32(1e-12))


class TargetDtypeError(TypeError, RuntimeError):
    """Class indices given as a non-integer tensor: a RuntimeError as in PyTorch (and a
    TypeError, as tinynet's ``nll_loss`` raises for the same mistake)."""


# ---------------------------------------------------------------------------- pairs
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, -y·(x1 - x2) + margin): ``target`` y = 1 ranks ``input1`` first, y = -1
    ``input2``. The three tensors have the same number of dims and broadcast together."""
    op = "margin_ranking_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"{op}: all input tensors should have the same number of dims, got "
                           f"input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)} and "
                           f"target {tuple(target.shape)}")
    _broadcastable(op, input1=input1, input2=input2, target=target)
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0.0), reduction, op)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """x where ``target`` y = 1, max(0, margin - x) where y = -1 (for distances x between
    pairs said to be similar or not). As in PyTorch's kernel, any other y counts both terms."""
    op = "hinge_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    _broadcastable(op, input=input, target=target)
    y = target.array
    loss = where(y != 1, clamp(margin - input, min=0.0), 0.0) + where(y != -1, input, 0.0)
    return _reduce(loss, reduction, op)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y·x)) for labels y = ±1, as softplus(-y·x): finite for any x (PyTorch's
    kernel overflows to inf once -y·x passes ~710 in float64, ~88 in float32)."""
    op = "soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    _broadcastable(op, input=input, target=target)
    loss = softplus(-input * target, threshold=float("inf"))
    return _named(_reduce(loss, reduction, op), "SoftMarginLossBackward0")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where ``target`` y = 1, max(0, cos(x1, x2) - margin) where y = -1 (0
    for any other y). Vectors (D,) with a 0-d target or batches (N, D) with a (N,) target.

    As in PyTorch, cos = x1·x2 / sqrt((|x1|² + ε)·(|x2|² + ε)) with ε = 1e-12, so a zero vector has
    cosine 0 and finite gradients.
    """
    op = "cosine_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if target.ndim not in (0, 1):
        raise RuntimeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported; "
                           f"got target {tuple(target.shape)}")
    dims = target.ndim + 1
    if input1.ndim != dims or input2.ndim != dims:
        raise RuntimeError(f"{op}: {target.ndim}D target tensor expects {dims}D input tensors, "
                           f"but found input1 {tuple(input1.shape)} and input2 "
                           f"{tuple(input2.shape)}")
    _broadcastable(op, input1=input1, input2=input2)
    dim = target.ndim
    squared1 = (input1 * input1).sum(dim) + _EPSILON
    squared2 = (input2 * input2).sum(dim) + _EPSILON
    cos = (input1 * input2).sum(dim) / (squared1 * squared2).sqrt()
    _broadcastable(op, target=target, cosine=cos)
    y = target.array
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, clamp(cos - margin, min=0.0), 0.0)
    return _reduce(loss, reduction, op)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d(u, v) = ‖u - v + eps‖_p over the last dim (as
    ``pairwise_distance``); ``swap`` uses min(d(a, n), d(p, n)) for the negative distance. The
    three tensors have the same number of dims and broadcast together; ``margin`` > 0."""
    op = "triplet_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{op}: the anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got anchor "
                           f"{tuple(anchor.shape)}, positive {tuple(positive.shape)} and "
                           f"negative {tuple(negative.shape)}")
    _broadcastable(op, anchor=anchor, positive=positive, negative=negative)

    def distance(u: Tensor, v: Tensor) -> Tensor:
        difference = u - v + eps
        return vector_norm(difference.reshape(1) if difference.ndim == 0 else difference, p, -1)

    negative_distance = distance(anchor, negative)
    if swap:
        negative_distance = minimum(negative_distance, distance(positive, negative))
    loss = clamp(margin + distance(anchor, positive) - negative_distance, min=0.0)  # PyTorch's order
    return _reduce(loss, reduction, op)


# ---------------------------------------------------------------------------- multi-label
def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross entropy on logits, averaged over the C classes (the last dim) of each sample:
    -(1/C)·Σ_c w_c·(y_c·log σ(x_c) + (1 - y_c)·log σ(-x_c)), finite for any x. One loss per
    sample: an (N, C) input gives N of them, a (C,) input one."""
    op = "multilabel_soft_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if input.ndim == 0:
        raise IndexError(f"{op}: expected an input of shape (C,) or (N, C), got a 0-d tensor")
    _broadcastable(op, input=input, target=target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        _broadcastable(op, loss=loss, weight=weight)
        loss = loss * weight
    classes = input.shape[-1]
    return _reduce(loss.sum(loss.ndim - 1) / classes, reduction, op)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                           reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class multi-label hinge loss: Σ_j Σ_{i ∉ targets} max(0, 1 - (x[y_j] - x[i])) / C.

    ``input`` is (C,) or (N, C); ``target`` (integer, the input's shape) lists each sample's
    classes y_j, ended by the first -1 (what follows it is ignored, but must be in [-1, C) as
    well). A class listed twice counts twice, as in PyTorch.
    """
    op = "multilabel_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    rows = _score_rows(input, op)
    _integer_target(target, op)
    count, classes = rows.shape
    if input.ndim == 2:
        fits = tuple(target.shape) == tuple(input.shape)
    else:  # a vector (or a 0-d score): a target of C entries, as PyTorch's kernel accepts
        fits = target.ndim <= 1 and target.numel() == classes
    if not fits:
        raise RuntimeError(f"{op}: inconsistent target size: target {tuple(target.shape)} for "
                           f"input {tuple(input.shape)}; expected the input's shape")
    labels = target.array.reshape(count, classes)
    _check_classes(labels, -1, classes, op)
    xp = rows.xp
    listed = xp.cumprod(labels != -1, axis=1).astype(bool)  # before the first -1
    safe = xp.where(listed, labels, 0).clip(0, classes - 1)  # on a GPU, until checked
    is_target = (listed[:, :, None] & (safe[:, :, None] == xp.arange(classes))).any(1)  # [n, i]
    picked = gather(rows, 1, Tensor(safe))  # x[y_j], (count, classes)
    hinge = relu(1 - picked.unsqueeze(2) + rows.unsqueeze(1))  # [n, j, i]: 1 - x[y_j] + x[i]
    keep = Tensor((listed[:, :, None] & ~is_target[:, None, :]).astype(rows.dtype))
    loss = (hinge * keep).sum((1, 2)) / classes
    if reduction == "none" and input.ndim < 2:
        loss = loss.reshape(())
    return _named(_reduce(loss, reduction, op), "MultilabelMarginLossBackward0")


# ---------------------------------------------------------------------------- multi-class
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss of scores x against class indices y:
    Σ_{i ≠ y} w[y]·max(0, margin - x[y] + x[i])^p / C, with ``p`` 1 or 2.

    ``input`` is (C,) or (N, C), ``target`` integer of shape () or (N,). The class weight
    multiplies the hinge after the power, as PyTorch's kernel computes it (its documentation
    puts it inside the power).
    """
    op = "multi_margin_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"{op}: weight must be one-dimensional, got weight "
                         f"{tuple(weight.shape)}")
    rows = _score_rows(input, op)
    count, classes = rows.shape
    _integer_target(target, op)
    if target.ndim > 1 or target.numel() != count:
        raise RuntimeError(f"{op}: target tensor should be 1-D with size equal to the number of "
                           f"input samples (batch size); expected target ({count},), got "
                           f"{tuple(target.shape)} for input {tuple(input.shape)}")
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"{op}: inconsistent weight size, expected {classes} but got "
                           f"{tuple(weight.shape)}")
    labels = target.array.reshape(count)
    _check_classes(labels, 0, classes, op)
    xp = rows.xp
    labels = labels.clip(0, classes - 1)  # in range already on the CPU; on a GPU, until checked
    picked = gather(rows, 1, Tensor(labels.reshape(count, 1)))  # x[y], (count, 1)
    hinge = relu(margin - picked + rows)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        weight = weight if weight.dtype == rows.dtype else weight.to(rows.dtype)
        hinge = hinge * weight[labels].reshape(count, 1)
    others = Tensor((labels[:, None] != xp.arange(classes)).astype(rows.dtype))
    loss = (hinge * others).sum(1) / classes
    if reduction == "none" and target.ndim == 0:
        loss = loss.reshape(())
    return _named(_reduce(loss, reduction, op), "MultiMarginLossBackward0")


def _score_rows(input: Tensor, op: str) -> Tensor:
    """Scores (), (C,) or (N, C) as (N, C) rows, refusing what PyTorch's kernels refuse."""
    if input.ndim > 2 or (input.ndim == 1 and input.shape[0] == 0) or \
            (input.ndim == 2 and input.shape[1] == 0):
        raise RuntimeError(f"{op}: expected a non-empty vector (C,) or matrix (N, C) with optional "
                           f"0-dim batch size, got input {tuple(input.shape)}")
    return input.reshape(1, -1) if input.ndim < 2 else input


def _integer_target(target: Tensor, op: str) -> None:
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        kind = target.dtype if isinstance(target, Tensor) else type(target).__name__
        raise TargetDtypeError(f"{op}: target must be a tensor of integer class indices, got "
                               f"{kind}")


def _check_classes(labels: object, low: int, classes: int, op: str) -> None:
    """Every entry of ``labels`` (a backend array) in [low, classes): at once on the CPU; on a
    GPU without a sync, reported at the next read of a value."""
    if backend.device_of(labels) == "cpu":
        if labels.size and (int(labels.min()) < low or int(labels.max()) >= classes):
            raise RuntimeError(f"{op}: target out of range: it holds values in "
                               f"[{int(labels.min())}, {int(labels.max())}] but must be in "
                               f"[{low}, {classes}) for input with {classes} classes")
        return
    backend.check_later(((labels < low) | (labels >= classes)).any(), f"{op}:{low}:{classes}",
                        lambda: RuntimeError(f"{op}: target out of range: values outside "
                                             f"[{low}, {classes}) (input has {classes} classes); "
                                             "checked on the GPU without a sync, so reported at "
                                             "the first read of a value after that call"))
