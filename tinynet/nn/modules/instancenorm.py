"""``InstanceNorm1d`` and ``InstanceNorm2d``: normalise each channel of each sample over its
positions (``F.instance_norm``), as style transfer does; by default with no learned affine
map and no running statistics, as PyTorch."""

from __future__ import annotations

import warnings
from typing import Any

from tinynet.nn import functional as F
from tinynet.nn.modules.batchnorm import _BatchNorm
from tinynet.tensor import Tensor


class _InstanceNorm(_BatchNorm):
    """The batch norms' parameters and running statistics, with the instance norm's defaults
    and computation; an unbatched input (no N) is one sample."""

    normalise = staticmethod(F.instance_norm)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: str | None = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.ndim not in self._dims:
            ranks = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{name}: expected {ranks} input (got {input.ndim}D input of shape "
                             f"{tuple(input.shape)})")
        channels = input.shape[1]
        if channels == self.num_features:
            return
        if self.affine or self.track_running_stats:
            raise ValueError(f"{name}: expected input's size at dim=1 to match num_features "
                             f"({self.num_features}), but got: {channels}.")
        warnings.warn(f"{name}: input's size at dim=1 ({channels}) does not match num_features "
                      f"({self.num_features}); num_features is not used because affine=False "
                      "and track_running_stats=False", UserWarning, stacklevel=3)

    def _momentum(self) -> float:
        """PyTorch's: the instance norms count no batches, and momentum=None moves nothing."""
        return 0.0 if self.momentum is None else self.momentum

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim == min(self._dims) - 1:  # unbatched: one sample
            return self.forward(input.unsqueeze(0)).squeeze(0)
        return super().forward(input)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) input: each (sample, channel) over L.

    >>> nn.InstanceNorm1d(4)(tn.randn(2, 4, 10)).shape
    tinynet.Size([2, 4, 10])
    """

    _dims = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) input: each (sample, channel) over
    H and W.

    >>> nn.InstanceNorm2d(3, affine=True)(tn.randn(2, 3, 8, 8)).shape
    tinynet.Size([2, 3, 8, 8])
    """

    _dims = (4,)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) input: each (sample, channel)
    over D, H and W."""

    _dims = (5,)
