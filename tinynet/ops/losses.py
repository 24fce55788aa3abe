"""Ops that losses need beyond compositions: binary cross entropy on probabilities, and the
squared error as one node.

The squared error ``(x - y)²`` with its reduction is one op, as PyTorch's ``MseLossBackward0``:
a regression step then walks one node for its loss instead of four (subtract, square, sum,
divide). Its backward, ``2·(x - y)·g`` (over n for the mean), is written in tinynet ops.

PyTorch clamps both logs of binary cross entropy at -100, so the loss stays finite at x = 0 and
x = 1, and computes the gradient as (x - y) / max(x·(1 - x), 1e-12), which stays finite there
too. A composition of clamp and log would give a zero gradient at those points instead, so the
loss is an op of its own whose backward (in tinynet ops) is PyTorch's formula. The gradient with
respect to the target, log(1 - x) - log(x), uses the clamped logs: at x = 0 or 1 it is ±100
where PyTorch's is ±inf.
"""

from __future__ import annotations

import numpy

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import promoted
from tinynet.ops.elementwise import clamp, log, where
from tinynet.tensor import Tensor

_LOG_FLOOR = -100.0
_EPSILON = float(numpy.float32(1e-12))  # PyTorch's constant, a float32


class BinaryCrossEntropy(Op):
    """-(y·log x + (1 - y)·log(1 - x)) elementwise, each log clamped at -100; inputs (x, y)."""

    node_name = "BinaryCrossEntropyBackward0"

    def forward(self, x, y):
        xp = backend.get_array_module(x)
        with backend.errstate(xp, divide="ignore"):  # log(0) = -inf, then clamped
            log_x = xp.maximum(xp.log(x), _LOG_FLOOR)
            log_not_x = xp.maximum(xp.log1p(-x), _LOG_FLOOR)
        return -(y * log_x + (1 - y) * log_not_x)

    def backward(self, g):
        x, y = self.inputs
        gx = g * (x - y) / clamp(x * (1 - x), min=_EPSILON) if self.needs_input_grad[0] else None
        gy = g * (_clamped_log(1 - x) - _clamped_log(x)) if self.needs_input_grad[1] else None
        return gx, gy


def _clamped_log(x):
    """max(log x, -100) as ops, without taking the log of 0."""
    positive = x.array > 0
    return clamp(where(positive, log(where(positive, x, 1.0)), _LOG_FLOOR), min=_LOG_FLOOR)


def binary_cross_entropy(x, y):
    """The unreduced loss of ``BinaryCrossEntropy``; shapes and ranges are checked by the caller."""
    return BinaryCrossEntropy.apply(x, y)


class MseLoss(Op):
    """(x - y)² elementwise, then ``reduction`` ('mean', 'sum' or 'none'); inputs (x, y) of one
    shape and dtype."""

    node_name = "MseLossBackward0"

    def forward(self, x, y):
        diff = x - y
        squared = diff * diff
        if self.reduction == "none":
            return squared
        total = squared.sum()
        return total / squared.size if self.reduction == "mean" else total

    def backward(self, g):
        x, y = self.inputs
        scale = 2 / x.array.size if self.reduction == "mean" else 2
        grad = (x - y) * (g * scale)
        return (grad if self.needs_input_grad[0] else None,
                -grad if self.needs_input_grad[1] else None)

    def backward_arrays(self, g):  # ``backward`` on arrays (see ``Op``)
        x, y = self.inputs[0].array, self.inputs[1].array
        scale = 2 / x.size if self.reduction == "mean" else 2
        grad = (x - y) * (g * scale)
        return (grad if self.needs_input_grad[0] else None,
                -grad if self.needs_input_grad[1] else None)


def squared_error(x: Tensor, y: Tensor, reduction: str) -> Tensor:
    """``(x - y)²`` reduced by ``reduction``, the dtypes promoted as for ``x - y``; the shapes
    and the reduction are checked by the caller."""
    return MseLoss.apply(*promoted(x, y), reduction=reduction)
