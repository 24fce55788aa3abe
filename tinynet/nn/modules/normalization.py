"""``LayerNorm``: normalise each sample over its last dimensions; ``RMSNorm``: divide by their
root mean square; ``GroupNorm``: normalise over groups of its channels (none uses batch
statistics)."""

from __future__ import annotations

from typing import Any

import numpy

from tinynet import backend
from tinynet.nn import functional as F
from tinynet.nn.modules.linear import to_chosen_device
from tinynet.nn.modules.module import Module, Parameter
from tinynet.tensor import Tensor


class _AffineNorm(Module):
    """What LayerNorm and GroupNorm share: an optional ``weight`` starting at ones and
    ``bias`` at zeros, that scale and shift what they normalised."""

    def _add_affine(self, shape: tuple[int, ...], affine: bool, bias: bool, dtype: Any,
                    device: str | None) -> None:
        dtype = numpy.dtype(dtype or backend.default_float)
        self.register_parameter("weight", Parameter(numpy.ones(shape, dtype)) if affine else None)
        self.register_parameter("bias", Parameter(numpy.zeros(shape, dtype)) if affine and bias
                                else None)
        to_chosen_device(self, device)

    def reset_parameters(self) -> None:
        """Weight to ones, bias to zeros."""
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0


def _normalized_shape(layer: str, normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple of ints, checked."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or any(not isinstance(n, (int, numpy.integer)) or n < 0 for n in shape):
        raise ValueError(f"{layer}: normalized_shape must be a non-empty tuple of non-negative "
                         f"ints, got {normalized_shape!r}")
    return tuple(int(n) for n in shape)


class LayerNorm(_AffineNorm):
    """y = (x - mean) / sqrt(var + eps) · weight + bias over the last ``len(normalized_shape)``
    dims of each sample; ``weight`` starts at ones and ``bias`` at zeros, both of
    ``normalized_shape`` (none with ``elementwise_affine=False``; no bias with ``bias=False``).

    >>> norm = nn.LayerNorm(16)
    >>> norm(tn.randn(8, 10, 16)).shape
    tinynet.Size([8, 10, 16])
    """

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._add_affine(self.normalized_shape, elementwise_affine, bias, dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(_AffineNorm):
    """y = x / sqrt(mean(x²) + eps) · weight over the last ``len(normalized_shape)`` dims of
    each sample (no centring, no bias); ``weight`` starts at ones (none with
    ``elementwise_affine=False``); ``eps=None`` is the machine epsilon of the input's dtype.

    >>> nn.RMSNorm(16)(tn.randn(8, 10, 16)).shape
    tinynet.Size([8, 10, 16])
    """

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int],
                 eps: float | None = None, elementwise_affine: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape("RMSNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self._add_affine(self.normalized_shape, elementwise_affine, False, dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(_AffineNorm):
    """Normalise each sample over groups of ``num_channels // num_groups`` channels (and all
    positions), then scale and shift each channel: ``weight`` starts at ones and ``bias`` at
    zeros, both of ``num_channels`` (none with ``affine=False``; no bias with ``bias=False``).

    >>> norm = nn.GroupNorm(num_groups=4, num_channels=32)
    >>> norm(tn.randn(8, 32, 7, 7)).shape
    tinynet.Size([8, 32, 7, 7])
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device: str | None = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        if not isinstance(num_groups, int) or num_groups < 1:
            raise ValueError(f"GroupNorm: num_groups must be a positive int, got {num_groups!r}")
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = \
            num_groups, num_channels, eps, affine
        self._add_affine((num_channels,), affine, bias, dtype, device)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """AlexNet's normalisation across ``size`` neighbouring channels (``F.local_response_norm``).

    >>> nn.LocalResponseNorm(5)(tn.randn(2, 16, 8, 8)).shape
    tinynet.Size([2, 16, 8, 8])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
