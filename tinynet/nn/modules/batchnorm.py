"""``BatchNorm1d`` and ``BatchNorm2d``: normalise each channel over the batch.

Training: y = (x - mean) / sqrt(var + eps) · weight + bias with the batch's mean and biased
variance, and the running statistics move towards the batch's (with the unbiased variance):
running = (1 - momentum) · running + momentum · batch. Evaluation: the running statistics take
the batch's place. Everything on the gradient path is tinynet ops, so double backward works.
"""

from __future__ import annotations

from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd.engine import bump_version
from tinynet.nn.modules.linear import check_size, to_chosen_device
from tinynet.nn.modules.module import Module, Parameter
from tinynet.tensor import Tensor


class _BatchNorm(Module):
    _dims: tuple[int, ...]  # the input ranks this layer accepts

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        check_size(type(self).__name__, num_features=num_features)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = numpy.dtype(dtype or backend.default_float)
        if affine:
            self.weight = Parameter(numpy.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(numpy.zeros(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
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

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        channel_shape = (1, self.num_features) + (1,) * (input.ndim - 2)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            dims = (0,) + tuple(range(2, input.ndim))
            count = input.numel() // max(self.num_features, 1)
            if self.training and count <= 1:
                raise ValueError(f"{type(self).__name__}: expected more than 1 value per channel "
                                 f"when training, got input of shape {tuple(input.shape)}")
            mean = input.mean(dims, keepdim=True)
            centered = input - mean
            var = (centered * centered).mean(dims, keepdim=True)  # biased, as PyTorch normalises
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.array.reshape(-1), var.array.reshape(-1), count)
            inv_std = (var + self.eps) ** -0.5
        else:
            centered = input - self.running_mean.reshape(channel_shape)
            inv_std = ((self.running_var + self.eps) ** -0.5).reshape(channel_shape)
        if not self.affine:
            return centered * inv_std
        # weight · inv_std is (1, C, 1…): folding it first saves a full-size multiply.
        return centered * (inv_std * self.weight.reshape(channel_shape)) + \
            self.bias.reshape(channel_shape)

    def _update_running_stats(self, mean: Any, biased_var: Any, count: int) -> None:
        """running ← (1 - m)·running + m·batch, on the raw arrays (no graph)."""
        self.num_batches_tracked.array += 1
        factor = self.momentum
        if factor is None:  # momentum=None: a plain average over every batch so far
            # kept an array: reading the counter would be a sync per step on a GPU
            factor = (1.0 / self.num_batches_tracked.array).astype(mean.dtype)
        unbiased_var = biased_var * (count / (count - 1))
        for running, batch in ((self.running_mean.array, mean), (self.running_var.array, unbiased_var)):
            running *= 1 - factor
            running += factor * batch
        bump_version(self.running_mean, self.running_var, self.num_batches_tracked)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input, per channel C.

    >>> bn = nn.BatchNorm1d(16)
    >>> bn(tn.randn(32, 16)).shape   # each column now has mean 0, variance ~1
    (32, 16)
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input, per channel C (over N, H and W)."""

    _dims = (4,)
