"""``BatchNorm1d`` and ``BatchNorm2d``: normalise each channel over the batch.

Training: y = (x - mean) / sqrt(var + eps) · weight + bias with the batch's mean and biased
variance, and the running statistics move towards the batch's (with the unbiased variance):
running = (1 - momentum) · running + momentum · batch. Evaluation: the running statistics take
the batch's place. The computation is ``F.batch_norm`` (``tinynet/nn/norms.py``).
"""

from __future__ import annotations

from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd.engine import bump_version
from tinynet.nn import functional as F
from tinynet.nn.modules.linear import check_size, to_chosen_device
from tinynet.nn.modules.module import Module, Parameter
from tinynet.tensor import Tensor


class _BatchNorm(Module):
    """What the batch and instance norms share: the per-channel ``weight`` and ``bias``, the
    running statistics, their bookkeeping, and the checks of the input."""

    _dims: tuple[int, ...]  # the input ranks this layer accepts
    normalise = staticmethod(F.batch_norm)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: str | None = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        check_size(type(self).__name__, num_features=num_features)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = numpy.dtype(dtype or backend.default_float)
        self.register_parameter("weight", Parameter(numpy.ones(self.num_features, dtype=dtype))
                                if affine else None)
        self.register_parameter("bias", Parameter(numpy.zeros(self.num_features, dtype=dtype))
                                if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(numpy.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(numpy.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(numpy.array(0, dtype=numpy.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        to_chosen_device(self, device)

    def reset_running_stats(self) -> None:
        """Back to mean 0, variance 1 and no batches seen."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.ndim not in self._dims:
            ranks = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{name}: expected {ranks} input, got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels in dim 1, got input "
                             f"of shape {tuple(input.shape)}")

    def _momentum(self) -> Any:
        """The momentum of this training step's update of the running statistics, counting
        the step; ``momentum=None``: 1 / steps so far, a plain average of every batch."""
        if not (self.training and self.track_running_stats):
            return self.momentum
        self.num_batches_tracked.array += 1
        bump_version(self.num_batches_tracked)
        if self.momentum is not None:
            return self.momentum
        # kept an array: reading the counter would be a sync per step on a GPU
        return (1.0 / self.num_batches_tracked.array).astype(self.running_mean.dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        # batch statistics while training, and always without running ones, as PyTorch
        use_input_stats = self.training or self.running_mean is None
        return self.normalise(input, self.running_mean, self.running_var, self.weight, self.bias,
                              use_input_stats, self._momentum(), self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input, per channel C.

    >>> bn = nn.BatchNorm1d(16)
    >>> bn(tn.randn(32, 16)).shape   # each column now has mean 0, variance ~1
    tinynet.Size([32, 16])
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input, per channel C (over N, H and W)."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) input, per channel C (over N, D, H and W)."""

    _dims = (5,)
