"""The loss functions of ``tinynet.nn.functional``, with PyTorch's signatures and defaults.

Every loss is a composition of differentiable ops (log_softmax, indexing, where, abs…), so its
gradient and its second derivative come from those ops. Reductions: ``'mean'`` (the default),
``'sum'`` or ``'none'``; the deprecated ``size_average``/``reduce`` arguments still map onto them
with PyTorch's warning. Unlike PyTorch, the regression losses refuse an input and target of
different shapes instead of broadcasting them (a (N, 1) output against a (N,) target would
silently give an (N, N) loss).

Class losses (``cross_entropy``, ``nll_loss``) take scores of shape (C,), (N, C) or
(N, C, d1, ..., dk) with integer targets of shape (), (N,) or (N, d1, ..., dk), class
``weight``, ``ignore_index`` and (cross entropy) ``label_smoothing`` and class-probability
targets.

The likelihood losses ``poisson_nll_loss`` and ``gaussian_nll_loss`` broadcast their arguments
as PyTorch does (arguments that do not broadcast raise PyTorch's RuntimeError); the margin and
embedding losses are in ``tinynet/nn/losses_margin.py``.
"""

from __future__ import annotations

import math
import warnings
from numbers import Real

import numpy

from tinynet import backend
from tinynet.ops import abs, exp, log, log_softmax, softplus, where
from tinynet.ops.losses import binary_cross_entropy as _binary_cross_entropy
from tinynet.ops.losses import squared_error
from tinynet.tensor import Tensor

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "gaussian_nll_loss", "huber_loss", "kl_div", "l1_loss", "mse_loss", "nll_loss",
           "poisson_nll_loss", "smooth_l1_loss"]

_REDUCTIONS = ("mean", "sum", "none")


class TargetOutOfRangeError(IndexError, ValueError):
    """A class index outside [0, C): an IndexError as in PyTorch (and a ValueError, as before)."""


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's legacy ``size_average``/``reduce`` pair as a ``reduction`` (with its warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{legacy}' instead.", UserWarning, stacklevel=3)
    return legacy


def _check_reduction(reduction: str, op: str, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    _check_reduction(reduction, op)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _named(loss: Tensor, node_name: str) -> Tensor:
    """``loss`` with its last node named as PyTorch names the one node of this loss, which
    tinynet composes of several ops: ``loss.grad_fn`` then prints as it does in PyTorch."""
    if loss.grad_fn is not None:
        loss.grad_fn.node_name = node_name
    return loss


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: input shape {tuple(input.shape)} and target shape "
                         f"{tuple(target.shape)} differ")


def _broadcastable(op: str, **tensors: Tensor) -> tuple[int, ...]:
    """The shape the named tensors broadcast to, as PyTorch broadcasts them in the losses that
    do; a RuntimeError (PyTorch's type) naming ``op`` and every argument's shape if they don't."""
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    try:
        return tuple(numpy.broadcast_shapes(*shapes.values()))
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise RuntimeError(f"{op}: the shapes of {listed} do not broadcast together") from None


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str, op: str,
              mean_over_weights: bool) -> Tensor:
    """``loss`` times an elementwise ``weight`` of the input's shape, reduced as PyTorch does:
    'mean' is Σ w·l / Σ w for l1/mse and the plain mean of w·l for huber."""
    if weight is None:
        return _reduce(loss, reduction, op)
    _check_reduction(reduction, op)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(f"{op}: Weights and input must have the same size, got weight "
                         f"{tuple(weight.shape)} for input {tuple(loss.shape)}")
    loss = loss * weight
    if reduction == "mean" and mean_over_weights:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction, op)


# ---------------------------------------------------------------------------- regression
def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
             reduce: bool | None = None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error (x - y)² between tensors of the same shape."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_shape(input, target, "mse_loss")
    if weight is None:
        _check_reduction(reduction, "mse_loss")
        return squared_error(input, target, reduction)
    return _weighted(squared_error(input, target, "none"), weight, reduction, "mse_loss",
                     mean_over_weights=True)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
            reduce: bool | None = None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error |x - y| (gradient 0 where x = y, as PyTorch)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_shape(input, target, "l1_loss")
    return _weighted(abs(input - target), weight, reduction, "l1_loss", mean_over_weights=True)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (d = x - y); beta = 0 is l1_loss."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    _same_shape(input, target, "smooth_l1_loss")
    diff = input - target
    size = abs(diff)
    if beta == 0:
        return _reduce(size, reduction, "smooth_l1_loss")  # l1_loss, as PyTorch computes it
    loss = where(size.array < beta, diff * diff * (0.5 / beta), size - 0.5 * beta)
    return _named(_reduce(loss, reduction, "smooth_l1_loss"), "SmoothL1LossBackward0")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta): smooth_l1_loss times delta."""
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got {delta}")
    _same_shape(input, target, "huber_loss")
    diff = input - target
    size = abs(diff)
    loss = where(size.array < delta, diff * diff * 0.5, (size - 0.5 * delta) * delta)
    return _named(_weighted(loss, weight, reduction, "huber_loss", mean_over_weights=False),
                  "HuberLossBackward0")


# ---------------------------------------------------------------------------- binary
def _fits_input(input: Tensor, op: str, **weights: Tensor | None) -> None:
    """Each weight broadcasts to the input's shape without growing it (PyTorch writes the
    product into a tensor of the input's shape)."""
    for name, weight in weights.items():
        if weight is not None and _broadcastable(op, input=input, **{name: weight}) != input.shape:
            raise RuntimeError(f"{op}: {name} of shape {tuple(weight.shape)} does not broadcast "
                               f"to the input's shape {tuple(input.shape)}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """-(y·log x + (1 - y)·log(1 - x)) for probabilities x, each log clamped at -100 as in
    PyTorch (so x = 0 or 1 gives a finite loss). For logits use the stabler
    ``binary_cross_entropy_with_logits``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_shape(input, target, "binary_cross_entropy")
    for name, t in (("input", input), ("target", target)):
        if t.numel() and (float(t.array.min()) < 0 or float(t.array.max()) > 1):
            raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between "
                               f"0 and 1, got values in [{float(t.array.min())}, "
                               f"{float(t.array.max())}]")
    _fits_input(input, "binary_cross_entropy", weight=weight)
    loss = _binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _named(_reduce(loss, reduction, "binary_cross_entropy"), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy on logits, stable for any x: softplus(x) - x·y, and with
    ``pos_weight`` p: (1 - y)·x + (1 + (p - 1)·y)·softplus(-x)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    _fits_input(input, "binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    if pos_weight is None:
        loss = softplus(input, threshold=float("inf")) - input * target
    else:
        loss = (1 - target) * input + \
            (1 + (pos_weight - 1) * target) * softplus(-input, threshold=float("inf"))
    if weight is not None:
        loss = loss * weight
    return _named(_reduce(loss, reduction, "binary_cross_entropy_with_logits"),
                  "BinaryCrossEntropyWithLogitsBackward0")


# ---------------------------------------------------------------------------- distributions
def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target ‖ q) pointwise, with ``input`` = log q: target·(log target - input), 0 where
    target = 0 and NaN where it is negative, as in PyTorch (where target = 0 the gradient with
    respect to the target is taken as -input; PyTorch's is NaN); with ``log_target=True`` the
    target is given as log-probabilities too.

    'batchmean' (sum / batch size) is the KL divergence; 'mean' divides by every element, and
    warns as PyTorch does.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    _check_reduction(reduction, "kl_div", _REDUCTIONS + ("batchmean",))
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        zero = target.array == 0  # 0·log 0 counts as 0; a negative target gives NaN, as in PyTorch
        loss = where(zero, 0.0, target * log(where(zero, 1.0, target))) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction, "kl_div")


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8,
                     reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` counts under a Poisson distribution of rate λ:
    exp(x) - y·x with ``log_input=True`` (``input`` x = log λ), else x - y·log(x + eps).

    ``full`` adds the Stirling approximation of log(y!), y·log y - y + ½·log(2π·y), for
    targets y > 1 (0 for the others; there its gradient with respect to the target is 0 where
    PyTorch's is NaN at y = 0). Input and target broadcast together.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "poisson_nll_loss")
    _broadcastable("poisson_nll_loss", input=input, target=target)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        above = target.array > 1
        y = where(above, target, 1.0)  # log(y) only where y > 1: finite gradients everywhere
        stirling = y * log(y) - y + 0.5 * log(y * (2 * math.pi))
        loss = loss + where(above, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and variance
    ``var``: ½·(log max(var, eps) + (x - y)² / max(var, eps)), plus ½·log(2π) with ``full``.

    ``var`` (non-negative) is a number, a tensor of the input's shape, of its shape without
    the last dim (one variance per vector), or of its shape with one dim of size 1 (shared
    along that dim). As in PyTorch the clamp at ``eps`` is not differentiated: the gradient
    with respect to ``var`` is taken at the clamped value as if nothing were clamped.
    """
    op = "gaussian_nll_loss"
    if isinstance(var, Tensor):
        if var.numel() and bool((var.array < 0).any()):
            raise ValueError(f"{op}: var has negative entry/entries (smallest "
                             f"{float(var.array.min())}); a variance must be >= 0")
        shape, var_shape = tuple(input.shape), tuple(var.shape)
        if var_shape != shape:
            if shape[:-1] == var_shape:  # one variance per vector: shared along the last dim
                var = var.unsqueeze(-1)
            elif not (len(var_shape) == len(shape) and
                      sum(v for i, v in zip(shape, var_shape) if i != v) == 1):
                raise ValueError(f"{op}: var is of incorrect size: got var {var_shape} for input "
                                 f"{shape}; expected {shape}, {shape[:-1]} or {shape} with one "
                                 "dim of size 1")
    elif isinstance(var, Real) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries, got var={var}")
    else:
        raise TypeError(f"{op}: var must be a tensor or a number, got {type(var).__name__}")
    _check_reduction(reduction, op)
    _broadcastable(op, input=input, target=target)
    if isinstance(var, Tensor):
        var = var + (var.clamp(min=eps) - var).detach()  # clamped, the gradient passed on as is
        log_var = log(var)
    else:
        var = max(float(var), eps)
        log_var = math.log(var)
    diff = input - target
    loss = (log_var + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, op)


# ---------------------------------------------------------------------------- classes
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood -input[target] of class indices under log-probabilities."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _named(_class_loss(input, target, weight, ignore_index, reduction, 0.0, "nll_loss"),
                  _nll_node(input))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross entropy of scores against class indices or class probabilities.

    Scores (C,), (N, C) or (N, C, d1, ...); the target holds class indices (shape (), (N,) or
    (N, d1, ...), entries equal to ``ignore_index`` are skipped) or, with the input's shape,
    probabilities. With ``label_smoothing`` ε the target is mixed with the uniform
    distribution: (1 - ε)·target + ε/C. Finite for any finite scores, ±1e4 included.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    _check_scores(input, "cross_entropy")
    log_probs = log_softmax(input, 1 if input.ndim > 1 else 0)
    if isinstance(target, Tensor) and target.dtype.kind == "f" and target.shape == input.shape:
        return _probability_loss(log_probs, target, weight, ignore_index, reduction,
                                 label_smoothing)
    loss = _class_loss(log_probs, target, weight, ignore_index, reduction, label_smoothing,
                       "cross_entropy")
    return loss if label_smoothing else _named(loss, _nll_node(input))


def _nll_node(scores: Tensor) -> str:
    """PyTorch's node for a negative log-likelihood: its 2-D kernel's past (N, C) scores."""
    return "NllLoss2DBackward0" if scores.ndim > 2 else "NllLossBackward0"


def _check_scores(scores: Tensor, op: str) -> None:
    if scores.ndim == 0:
        raise ValueError(f"{op}: expected scores of shape (C,), (N, C) or (N, C, d1, ...), got a "
                         "0-d tensor")


def _class_weights(weight: Tensor | None, classes: int, like: Tensor, op: str) -> Tensor | None:
    if weight is None:
        return None
    if weight.ndim != 1 or weight.shape[0] != classes:
        raise RuntimeError(f"{op}: weight tensor should be defined either for all {classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    if weight.dtype != like.dtype:
        raise RuntimeError(f"{op}: weight is {weight.dtype} but the input is {like.dtype}; "
                           "give both one dtype (.to(input.dtype))")
    return weight


def _rows(log_probs: Tensor) -> Tensor:
    """Scores as (M, C): the class dimension last, every other one flattened into M rows."""
    if log_probs.ndim == 1:
        return log_probs.reshape(1, -1)
    if log_probs.ndim == 2:
        return log_probs
    order = (0,) + tuple(range(2, log_probs.ndim)) + (1,)
    return log_probs.permute(order).reshape(-1, log_probs.shape[1])


def _class_loss(log_probs: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                reduction: str, label_smoothing: float, op: str) -> Tensor:
    """-log_probs[target] per element (and, smoothed, the mean over classes), reduced; errors
    name ``op``, the function the user called."""
    _check_scores(log_probs, op)
    _check_reduction(reduction, op)
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        kind = target.dtype if isinstance(target, Tensor) else type(target).__name__
        raise TypeError(f"{op}: target must be a tensor of integer class indices (or, for "
                        f"cross_entropy, of probabilities shaped like the input "
                        f"{tuple(log_probs.shape)}), got {kind}")
    if target.dtype not in ("int64", "uint8"):
        raise RuntimeError(f"{op}: class indices must be int64 (or uint8), as in PyTorch, got "
                           f"{target.dtype}; convert them with .long()")
    classes = log_probs.shape[0 if log_probs.ndim == 1 else 1]
    expected = () if log_probs.ndim == 1 else (log_probs.shape[0],) + tuple(log_probs.shape[2:])
    if tuple(target.shape) != expected:
        raise ValueError(f"{op}: target of shape {tuple(target.shape)} does not match input "
                         f"{tuple(log_probs.shape)}: expected {expected}")
    if target.device != log_probs.device:
        raise RuntimeError(f"{op}: input is on {log_probs.device} but target on {target.device}")
    weight = _class_weights(weight, classes, log_probs, op)
    rows = _rows(log_probs)
    xp = rows.xp
    labels = target.array.reshape(-1).astype("int64", copy=False)  # uint8 ones index as ints
    keep = labels != ignore_index
    # Reading the labels is free on the CPU; on a GPU every read is a sync, so there nothing is
    # read: ignored entries are assumed, and the range check waits for the next read anyway.
    on_host = backend.device_of(labels) == "cpu"
    everything = on_host and bool(keep.all())
    if not everything:
        labels = xp.where(keep, labels, 0)
    if on_host:
        valid = labels[keep] if not everything else labels
        if valid.size and (int(valid.min()) < 0 or int(valid.max()) >= classes):
            raise TargetOutOfRangeError(f"{op}: target holds class indices in [{int(valid.min())}, "
                                        f"{int(valid.max())}] but input has {classes} classes")
    else:
        backend.check_later(((labels < 0) | (labels >= classes)).any(), f"{op}:{classes}",
                            lambda: TargetOutOfRangeError(
                                f"{op}: target holds class indices outside [0, {classes}) (input "
                                f"has {classes} classes); checked on the GPU without a sync, so "
                                "reported at the first read of a value after that call"))
        labels = labels.clip(0, classes - 1)  # meanwhile, no read outside the scores
    picked = -rows[xp.arange(rows.shape[0]), labels]
    # per-element weights: the class weight of the target, 0 where ignored; None when all are 1
    element_weight = None
    if weight is not None:
        element_weight = weight.array[labels] * keep
    elif not everything:
        element_weight = keep.astype(rows.dtype)
    if element_weight is not None:
        picked = picked * Tensor(element_weight.astype(rows.dtype, copy=False))
    loss = picked
    if label_smoothing:
        scaled = rows if weight is None else rows * weight
        smooth = -scaled.sum(1)
        if not everything:
            smooth = smooth * Tensor(keep.astype(rows.dtype))
        loss = picked * (1 - label_smoothing) + smooth * (label_smoothing / classes)
    if reduction == "none":
        return loss.reshape(tuple(target.shape))
    if reduction == "sum":
        return loss.sum()
    if element_weight is None:
        return loss.mean()
    # Divided on the device (no read of the total): every target ignored gives 0/0, a NaN loss
    # with zero gradients, as in PyTorch.
    total = element_weight.sum()
    none = total == 0
    return (loss.sum() / Tensor(xp.where(none, 1, total).astype(rows.dtype))
            + Tensor(xp.where(none, math.nan, 0).astype(rows.dtype)))


def _probability_loss(log_probs: Tensor, target: Tensor, weight: Tensor | None,
                      ignore_index: int, reduction: str, label_smoothing: float) -> Tensor:
    """-Σ_c w_c·target_c·log p_c per sample, for targets that are class probabilities."""
    _check_reduction(reduction, "cross_entropy")
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for floating point "
                           "target")
    class_dim = 1 if log_probs.ndim > 1 else 0
    classes = log_probs.shape[class_dim]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    weight = _class_weights(weight, classes, log_probs, "cross_entropy")
    scaled = log_probs * target
    if weight is not None:
        shape = [1] * log_probs.ndim
        shape[class_dim] = classes
        scaled = scaled * weight.reshape(tuple(shape))
    loss = -scaled.sum(class_dim)
    return _reduce(loss, reduction, "cross_entropy")
