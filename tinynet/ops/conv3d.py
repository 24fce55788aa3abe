"""3-D convolution and pooling over (N, C, D, H, W) volumes, as PyTorch's ``conv3d``,
``conv_transpose3d``, ``max_pool3d``, ``avg_pool3d``, ``adaptive_avg_pool3d`` and ``adaptive_max_pool3d``.

Each runs on its 2-D op, one depth tap at a time. A kernel of depth k reads, for every output
depth, k input planes; the planes that tap j reads for all output depths are one strided slice
of the (padded) input. So:

- ``conv3d`` lays the k slices side by side as channels and makes one ``conv2d`` of the
  output depths as a batch, with the weight's depth folded into its input channels: one GEMM.
- ``max_pool3d`` max-pools each slice in 2-D and takes the max over the k results;
  ``avg_pool3d`` sums them and divides by each window's count.

The 2-D ops carry every order of gradient, so these do too.

>>> F.conv3d(tn.randn(2, 4, 8, 16, 16), tn.randn(6, 4, 3, 3, 3), padding=1).shape
tinynet.Size([2, 6, 8, 16, 16])
"""

from __future__ import annotations

import math
from typing import Any

from tinynet import strides
from tinynet.ops.conv import conv2d, conv_transpose2d, ints
from tinynet.ops.indexing import gather
from tinynet.ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from tinynet.ops.shape import IndexScatter, cat, pad, stack
from tinynet.tensor import Tensor


def triple(value: Any, name: str) -> tuple[int, int, int]:
    """``3`` → ``(3, 3, 3)``; a triple stays a triple (``pair``'s errors, for three dims)."""
    return ints(value, 3, name)  # type: ignore[return-value]


def _volume(op: str, input: Tensor) -> tuple[Tensor, bool]:
    """(N, C, D, H, W) as it is, (C, D, H, W) as a batch of one; and whether it was unbatched."""
    if input.ndim == 5:
        return input, False
    if input.ndim == 4:
        return input.unsqueeze(0), True
    raise RuntimeError(f"{op}: Expected 4D (unbatched) or 5D (batched) input to {op}, but got "
                       f"input of size: {list(input.shape)}")


def _taps(x: Tensor, kernel: int, stride: int, dilation: int, out_depth: int) -> list[Tensor]:
    """For each depth tap j, the planes it reads for every output depth, as a batch of images:
    (N·D_out, C, H, W), output depth varying fastest."""
    n, c, _, h, w = x.shape
    taps = []
    for j in range(kernel):
        start = j * dilation
        planes = x[:, :, start:start + (out_depth - 1) * stride + 1:stride]  # (N, C, D_out, H, W)
        taps.append(planes.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, h, w))
    return taps


def _as_volume(images: Tensor, batch: int, depth: int) -> Tensor:
    """(N·D, C, H, W) back to (N, C, D, H, W)."""
    _, c, h, w = images.shape
    return images.reshape(batch, depth, c, h, w).permute(0, 2, 1, 3, 4)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation, as ``torch.nn.functional.conv3d``: input (N, C_in, D, H, W) or
    (C_in, D, H, W), ``weight`` (C_out, C_in/groups, kd, kh, kw); ``stride``, ``padding`` and
    ``dilation`` an int or a triple, ``padding`` also ``'same'`` or ``'valid'``."""
    op = "conv3d"
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be (C_out, C_in/groups, kd, kh, kw), got "
                         f"{tuple(weight.shape)}")
    x, unbatched = _volume(op, input)
    stride, dilation = triple(stride, f"{op}: stride"), triple(dilation, f"{op}: dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{op}: padding must be an int, a triple of ints, 'same' or 'valid', "
                             f"got {padding!r}")
        if padding == "same" and stride != (1, 1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride {stride})")
        total = dilation[0] * (kernel[0] - 1) if padding == "same" else 0
        depth_pads, plane_padding = (total // 2, total - total // 2), padding
    else:
        pd, ph, pw = triple(padding, f"{op}: padding")
        depth_pads, plane_padding = (pd, pd), (ph, pw)
    groups = int(groups)
    if groups < 1 or x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(f"{op}: input {tuple(input.shape)} has {x.shape[1]} channels but weight "
                         f"{tuple(weight.shape)} with groups={groups} expects "
                         f"{weight.shape[1] * groups} (and groups to divide its "
                         f"{weight.shape[0]} output channels)")
    if any(depth_pads):
        x = pad(x, (0, 0, 0, 0) + depth_pads)
    span = dilation[0] * (kernel[0] - 1) + 1
    if span > x.shape[2] or min(stride + dilation + kernel) < 1 or min(depth_pads) < 0:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}, stride {stride}) does not "
                         f"fit the depth of input {tuple(input.shape)} padded by {depth_pads}")
    out_depth = (x.shape[2] - span) // stride[0] + 1
    taps = _taps(x, kernel[0], stride[0], dilation[0], out_depth)
    # the taps as channels, each group's together: (N·D_out, groups · kd · C_in/groups, H, W)
    per_group = x.shape[1] // groups
    images = taps[0].shape[0]
    grouped = [t.reshape(images, groups, 1, per_group, *t.shape[2:]) for t in taps]
    channels = cat(grouped, dim=2).reshape(images, groups * kernel[0] * per_group,
                                           *taps[0].shape[2:])
    planar_weight = weight.permute(0, 2, 1, 3, 4).reshape(weight.shape[0], -1, *kernel[1:])
    out = conv2d(channels, planar_weight, bias, stride[1:], plane_padding, dilation[1:], groups)
    out = _as_volume(out, x.shape[0], out_depth)
    return out.squeeze(0) if unbatched else out


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """The adjoint of ``conv3d``, as ``torch.nn.functional.conv_transpose3d``: input
    (N, C_in, D, H, W) or (C_in, D, H, W), ``weight`` (C_in, C_out/groups, kd, kh, kw).

    One ``conv_transpose2d`` makes every depth tap's planes at once (the taps folded into its
    output channels); each input depth i and tap j then adds into output depth
    i·stride + j·dilation, a scatter whose gradient is the matching gather.
    """
    op = "conv_transpose3d"
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must be (C_in, C_out/groups, kd, kh, kw), got "
                         f"{tuple(weight.shape)}")
    x, unbatched = _volume(op, input)
    stride, padding = triple(stride, f"{op}: stride"), triple(padding, f"{op}: padding")
    dilation = triple(dilation, f"{op}: dilation")
    output_padding = triple(output_padding, f"{op}: output_padding")
    groups = int(groups)
    if groups < 1 or x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ValueError(f"{op}: input {tuple(input.shape)} needs C_in = weight.shape[0] channels, "
                         f"divisible by groups={groups}; weight is {tuple(weight.shape)}")
    batch, _, depth, height, width = x.shape
    kernel, per_group = weight.shape[2], weight.shape[1]
    if not 0 <= output_padding[0] < max(stride[0], dilation[0]) or padding[0] < 0:
        raise ValueError(f"{op}: output_padding {output_padding} must be >= 0 and smaller than "
                         f"stride {stride} or dilation {dilation}, padding {padding} >= 0")
    full_depth = (depth - 1) * stride[0] + dilation[0] * (kernel - 1) + 1 + output_padding[0]
    out_depth = full_depth - 2 * padding[0]
    if out_depth < 1:
        raise ValueError(f"{op}: input {tuple(input.shape)} with weight {tuple(weight.shape)}, "
                         f"stride {stride}, padding {padding} and dilation {dilation} gives an "
                         f"output depth of {out_depth}: reduce the padding")
    planes = x.permute(0, 2, 1, 3, 4).reshape(batch * depth, x.shape[1], height, width)
    planar_weight = weight.permute(0, 2, 1, 3, 4).reshape(weight.shape[0], kernel * per_group,
                                                          *weight.shape[3:])
    taps = conv_transpose2d(planes, planar_weight, None, stride[1:], padding[1:],
                            output_padding[1:], groups, dilation[1:])
    h_out, w_out = taps.shape[2:]
    # (N·D, groups·kd·C_out/groups, H', W') → (N, C_out, kd, D, H', W')
    taps = taps.reshape(batch, depth, groups, kernel, per_group, h_out, w_out)
    taps = taps.permute(0, 2, 4, 3, 1, 5, 6).reshape(batch, groups * per_group, kernel, depth,
                                                     h_out, w_out)
    xp = x.xp
    target = xp.arange(kernel)[:, None] * dilation[0] + xp.arange(depth)[None] * stride[0]
    out = IndexScatter.apply(taps, index=(slice(None), slice(None), target),
                             shape=(batch, groups * per_group, full_depth, h_out, w_out))
    if padding[0] or output_padding[0]:
        out = out[:, :, padding[0]:padding[0] + out_depth]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out.squeeze(0) if unbatched else out


def _pool_depth(op: str, x: Tensor, kernel: int, stride: int, padding: int, dilation: int,
                ceil_mode: bool, fill: float) -> tuple[Tensor, int]:
    """The input padded in depth with ``fill`` (and, for a last partial window, past it), and
    the output depth, by PyTorch's rule: a last window must start inside the input or the
    left padding."""
    depth = x.shape[2]
    if padding * 2 > kernel:
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                           f"pad={padding}, kernel_size={kernel} and dilation={dilation}")
    span = dilation * (kernel - 1) + 1
    room = depth + 2 * padding - span
    if room < 0:
        raise RuntimeError(f"{op}: the window {kernel} (dilation {dilation}) is larger than the "
                           f"input's depth {depth} padded by {padding}")
    out_depth = (math.ceil(room / stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out_depth - 1) * stride >= depth + padding:
        out_depth -= 1
    after = padding + max(0, (out_depth - 1) * stride + span - (depth + 2 * padding))
    if padding or after:
        x = pad(x, (0, 0, 0, 0, padding, after), value=fill)
    return x, out_depth


def _pool_args(op: str, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any = 1) -> tuple[tuple[int, int, int], ...]:
    kernel = triple(kernel_size, f"{op}: kernel_size")
    stride = kernel if stride is None or stride == [] else triple(stride, f"{op}: stride")
    return kernel, stride, triple(padding, f"{op}: padding"), triple(dilation, f"{op}: dilation")


@strides.contiguous_result
def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each ``kernel_size`` window of an (N, C, D, H, W) or (C, D, H, W) volume, as
    ``torch.nn.functional.max_pool3d``; ``return_indices`` gives each max's position
    (d·H + h)·W + w in its input volume too. At ties the first element (d, then h, then w)
    takes the gradient."""
    op = "max_pool3d"
    x, unbatched = _volume(op, input)
    kernel, stride, padding, dilation = _pool_args(op, kernel_size, stride, padding, dilation)
    batch, _, depth, height, width = x.shape
    x, out_depth = _pool_depth(op, x, kernel[0], stride[0], padding[0], dilation[0], ceil_mode,
                               -math.inf)
    pooled = [max_pool2d(t, kernel[1:], stride[1:], padding[1:], dilation[1:], ceil_mode,
                         return_indices=return_indices)
              for t in _taps(x, kernel[0], stride[0], dilation[0], out_depth)]
    values = [p[0] for p in pooled] if return_indices else pooled
    best, tap = _best_tap(stack(values), 0)
    out = _as_volume(best, batch, out_depth)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    xp = x.xp
    plane = xp.stack([p[1].array for p in pooled])  # h·W + w, per tap
    in_plane = xp.take_along_axis(plane, tap[None], axis=0)[0]
    starts = xp.arange(out_depth) * stride[0] - padding[0]
    rows = (xp.tile(starts, batch)[:, None, None, None] + tap * dilation[0])
    indices = _as_volume(Tensor(rows * (height * width) + in_plane), batch, out_depth)
    indices = Tensor(xp.ascontiguousarray(indices.array))
    return (out.squeeze(0), indices.squeeze(0)) if unbatched else (out, indices)


def _best_tap(candidates: Tensor, dim: int) -> tuple[Tensor, Any]:
    """The max over ``dim`` and where it was, in PyTorch's scan order: the first of tied maxima
    (the least depth), but the last NaN, as its pools take them; the gradient goes there only."""
    xp = candidates.xp
    values = candidates.array
    tap = values.argmax(axis=dim)  # NaN counts as the max, its first occurrence
    if values.dtype.kind == "f":
        nan = xp.isnan(values)
        last_nan = values.shape[dim] - 1 - xp.flip(nan, axis=dim).argmax(axis=dim)
        tap = xp.where(nan.any(axis=dim), last_nan, tap)
    best = gather(candidates, dim, xp.expand_dims(tap, dim)).squeeze(dim)
    return best, tap


@strides.contiguous_result
def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each ``kernel_size`` window of an (N, C, D, H, W) or (C, D, H, W) volume, as
    ``torch.nn.functional.avg_pool3d``: zero padding counts towards the mean unless
    ``count_include_pad=False``; ``divisor_override`` divides every sum by that number."""
    op = "avg_pool3d"
    x, unbatched = _volume(op, input)
    kernel, stride, padding, _ = _pool_args(op, kernel_size, stride, padding)
    sizes = x.shape[2:]
    x, out_depth = _pool_depth(op, x, kernel[0], stride[0], padding[0], 1, ceil_mode, 0.0)
    sums = [avg_pool2d(t, kernel[1:], stride[1:], padding[1:], ceil_mode, divisor_override=1)
            for t in _taps(x, kernel[0], stride[0], 1, out_depth)]
    total = _as_volume(stack(sums).sum(dim=0), x.shape[0], out_depth)
    if divisor_override is not None:
        out = total / divisor_override
    else:
        out = total / Tensor(_window_counts(x.xp, sizes, total.shape[2:], kernel, stride, padding,
                                            count_include_pad).astype(total.dtype))
    return out.squeeze(0) if unbatched else out


def _window_counts(xp: Any, sizes: Any, out_sizes: Any, kernel: Any, stride: Any, padding: Any,
                   count_include_pad: bool) -> Any:
    """Each window's divisor: its cells inside the padded input (clipped at its right edge),
    or only those inside the input; PyTorch's rule, a product over the three dims."""
    counts = None
    for n, out, k, s, p in zip(sizes, out_sizes, kernel, stride, padding):
        start = xp.arange(out) * s - p
        end = xp.minimum(start + k, n + p)
        along = end - start if count_include_pad else \
            xp.minimum(end, n) - xp.maximum(start, 0)
        counts = along if counts is None else counts[..., None] * along
    return counts


def _depth_windows(depth: int, out_depth: int) -> list[tuple[int, int]]:
    """Each output depth's input planes [start, end): PyTorch's floor and ceil bounds."""
    return [((d * depth) // out_depth, -(-((d + 1) * depth) // out_depth))
            for d in range(out_depth)]


def _adaptive_size(op: str, input: Tensor, output_size: Any) -> tuple[int, int, int]:
    sizes = (output_size,) * 3 if isinstance(output_size, int) or output_size is None else \
        tuple(output_size)
    if len(sizes) != 3:
        raise ValueError(f"{op}: output_size must be an int or a triple, got {output_size!r}")
    size = tuple(n if s is None else int(s) for n, s in zip(input.shape[-3:], sizes))
    if min(size) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return size  # type: ignore[return-value]


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size`` (an int, a
    triple; ``None`` keeps a dim) whatever the input's size."""
    op = "adaptive_avg_pool3d"
    x, unbatched = _volume(op, input)
    size = _adaptive_size(op, x, output_size)
    planes = stack([x[:, :, start:end].mean(dim=2)
                    for start, end in _depth_windows(x.shape[2], size[0])], dim=2)
    n, c, d, h, w = planes.shape
    out = adaptive_avg_pool2d(planes.reshape(n, c * d, h, w), size[1:]).reshape(n, c, *size)
    return out.squeeze(0) if unbatched else out


def adaptive_max_pool3d(input: Tensor, output_size: Any,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size`` (an int, a triple;
    ``None`` keeps a dim) whatever the input's size; ``max_pool3d``'s ties and indices."""
    op = "adaptive_max_pool3d"
    x, unbatched = _volume(op, input)
    size = _adaptive_size(op, x, output_size)
    n, c, depth, height, width = x.shape
    # each plane pooled first, so that the max over depth keeps the least depth at ties
    pooled, plane_index = adaptive_max_pool2d(x.reshape(n, c * depth, height, width), size[1:],
                                              return_indices=True)
    pooled = pooled.reshape(n, c, depth, *size[1:])
    plane_index = plane_index.array.reshape(n, c, depth, *size[1:])
    values, indices = [], []
    for start, end in _depth_windows(depth, size[0]):
        best, tap = _best_tap(pooled[:, :, start:end], 2)
        values.append(best)
        in_plane = x.xp.take_along_axis(plane_index[:, :, start:end], tap[:, :, None], axis=2)
        indices.append((start + tap) * (height * width) + in_plane[:, :, 0])
    out = stack(values, dim=2)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    index = Tensor(x.xp.stack(indices, axis=2))
    return (out.squeeze(0), index.squeeze(0)) if unbatched else (out, index)
