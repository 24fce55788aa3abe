"""``lp_pool1d``, ``lp_pool2d`` and ``lp_pool3d``: the p-norm of each window, (Σ xᵖ)^(1/p), as PyTorch's
power-average pools. p = 1 sums the window, p = 2 is its Euclidean norm and p = ±inf the
largest (smallest) absolute value.

Each is PyTorch's composition of ops already built: the mean of xᵖ over the window (an
average pool), times the window's size, to the power 1/p. A window whose xᵖ sum to 0 or less
gives 0 (its gradient goes through PyTorch's sign · relu(|·|) and is 0 there, or NaN where
1/p's slope at 0 is infinite, as in PyTorch).

>>> F.lp_pool2d(tn.ones(1, 1, 4, 4), norm_type=2, kernel_size=2)   # √4 = 2 in each window
tensor([[[[2., 2.],
          [2., 2.]]]])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tinynet.ops.activation import relu
from tinynet.ops.conv import pair, single
from tinynet.ops.conv1d import avg_pool1d, max_pool1d
from tinynet.ops.conv3d import avg_pool3d, max_pool3d, triple
from tinynet.ops.pool import avg_pool2d, max_pool2d
from tinynet.ops.rounding import sign
from tinynet.tensor import Tensor


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each window of ``kernel_size`` steps of an (N, C, L) or (C, L)
    input; ``stride`` defaults to the kernel size, and there is no padding."""
    window = single(kernel_size, "lp_pool1d: kernel_size")
    return _lp_pool(input, norm_type, kernel_size, window, stride, ceil_mode, avg_pool1d,
                    max_pool1d)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each ``kernel_size`` window of an (N, C, H, W) or (C, H, W)
    input; ``stride`` defaults to the kernel size, and there is no padding."""
    window = math.prod(pair(kernel_size, "lp_pool2d: kernel_size"))
    return _lp_pool(input, norm_type, kernel_size, window, stride, ceil_mode, avg_pool2d,
                    max_pool2d)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each ``kernel_size`` window of an (N, C, D, H, W) or
    (C, D, H, W) input; ``stride`` defaults to the kernel size, and there is no padding."""
    window = math.prod(triple(kernel_size, "lp_pool3d: kernel_size"))
    return _lp_pool(input, norm_type, kernel_size, window, stride, ceil_mode, avg_pool3d,
                    max_pool3d)


def _lp_pool(input: Tensor, norm_type: float, kernel_size: Any, window: int, stride: Any,
             ceil_mode: bool, avg_pool: Callable[..., Tensor],
             max_pool: Callable[..., Tensor]) -> Tensor:
    if norm_type == math.inf:
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    mean = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (sign(mean) * relu(mean.abs()) * window).pow(1.0 / norm_type)
