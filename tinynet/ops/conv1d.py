"""1-D convolution and pooling over (N, C, L) sequences, as PyTorch's ``conv1d``,
``conv_transpose1d``, ``max_pool1d``, ``avg_pool1d`` and the adaptive pools.

Each is its 2-D op over a height of one: the sequence becomes (N, C, 1, L) and the kernel
(1, k), so the 1-D ops share the 2-D kernels, their gradients of every order and their
checks. (An error found by the 2-D op names the 1-D one and shows the height-one shapes.)

>>> F.conv1d(tn.randn(8, 4, 50), tn.randn(16, 4, 5), padding=2).shape
tinynet.Size([8, 16, 50])
"""

from __future__ import annotations

from typing import Any

from tinynet.ops.conv import convolve, single, transposed_convolve
from tinynet.ops.pool import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool,
                              check_unpool_indices, max_pool, max_unpool, unpool_size)
from tinynet.tensor import Tensor


def _as_image(op: str, input: Tensor) -> Tensor:
    """(N, C, L) or (C, L) as (N, C, 1, L) or (C, 1, L)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D (unbatched) or 3D (batched) input to {op}, but "
                           f"got input of size: {list(input.shape)}")
    return input.unsqueeze(-2)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation: input (N, C_in, L) or (C_in, L), ``weight`` (C_out, C_in/groups,
    k); ``padding`` an int, ``'same'`` or ``'valid'``."""
    op = "conv1d"
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be (C_out, C_in/groups, k), got "
                         f"{tuple(weight.shape)}")
    padding = padding if isinstance(padding, str) else (0, single(padding, f"{op}: padding"))
    out = convolve(op, _as_image(op, input), weight.unsqueeze(-2), bias,
                   (1, single(stride, f"{op}: stride")), padding,
                   (1, single(dilation, f"{op}: dilation")), groups)
    return out.squeeze(-2)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The adjoint of ``conv1d``: input (N, C_in, L) or (C_in, L), ``weight`` (C_in,
    C_out/groups, k), the tensor a conv1d from C_out to C_in would use."""
    op = "conv_transpose1d"
    if weight.ndim != 3:
        raise ValueError(f"{op}: weight must be (C_in, C_out/groups, k), got "
                         f"{tuple(weight.shape)}")
    out = transposed_convolve(op, _as_image(op, input), weight.unsqueeze(-2), bias,
                              (1, single(stride, f"{op}: stride")),
                              (0, single(padding, f"{op}: padding")),
                              (0, single(output_padding, f"{op}: output_padding")), groups,
                              (1, single(dilation, f"{op}: dilation")))
    return out.squeeze(-2)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each window of ``kernel_size`` steps; ``stride`` defaults to the kernel size
    (ties, NaN and ``return_indices`` as ``max_pool2d``; an index is a step along the length)."""
    op = "max_pool1d"
    kernel = single(kernel_size, f"{op}: kernel_size")
    stride = kernel if stride is None or stride == [] else single(stride, f"{op}: stride")
    out = max_pool(op, _as_image(op, input), (1, kernel), (1, stride),
                   (0, single(padding, f"{op}: padding")), (1, single(dilation, f"{op}: dilation")),
                   ceil_mode, return_indices)
    return tuple(r.squeeze(-2) for r in out) if return_indices else out.squeeze(-2)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of ``max_pool1d``, as ``max_unpool2d`` along a length: the output's length is
    (L - 1)·stride - 2·padding + kernel_size unless ``output_size`` (ending in it) gives it."""
    op = "max_unpool1d"
    check_unpool_indices(op, input, indices)
    kernel = single(kernel_size, f"{op}: kernel_size")
    stride = kernel if stride is None or stride == [] else single(stride, f"{op}: stride")
    size = unpool_size(op, output_size, 1)
    out = max_unpool(op, _as_image(op, input), indices.unsqueeze(-2), (1, kernel), (1, stride),
                     (0, single(padding, f"{op}: padding")), None if size is None else (1, *size))
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over each window of ``kernel_size`` steps (padding as ``avg_pool2d``)."""
    op = "avg_pool1d"
    kernel = single(kernel_size, f"{op}: kernel_size")
    stride = kernel if stride is None or stride == [] else single(stride, f"{op}: stride")
    out = avg_pool(op, _as_image(op, input), (1, kernel), (1, stride),
                   (0, single(padding, f"{op}: padding")), ceil_mode, count_include_pad, None)
    return out.squeeze(-2)


def _adaptive_length(op: str, output_size: Any) -> tuple[int, int]:
    """An adaptive 1-D pool's output length as a (1, length) size of the 2-D pool."""
    return (1, single(output_size, f"{op}: output_size"))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, L) or (C, L) to ``output_size`` steps (windows as
    ``adaptive_avg_pool2d``'s)."""
    op = "adaptive_avg_pool1d"
    return adaptive_avg_pool2d(_as_image(op, input), _adaptive_length(op, output_size)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size: Any,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of (N, C, L) or (C, L) to ``output_size`` steps (windows, ties, NaN and
    ``return_indices`` as ``adaptive_max_pool2d``'s; an index is a step along the length)."""
    op = "adaptive_max_pool1d"
    out = adaptive_max_pool2d(_as_image(op, input), _adaptive_length(op, output_size),
                              return_indices)
    return tuple(r.squeeze(-2) for r in out) if return_indices else out.squeeze(-2)
