"""2-D max and average pooling over strided views, with no argmax and no loop over pixels.

A kh×kw pool visits the input through kh·kw strided views, one per kernel offset: view (i, j)
holds the element at offset (i, j) of every window. Pooling combines those views; its gradient
adds the output gradient back through the same views.

``WindowGather`` (views → output) and ``WindowScatter`` (output → views) are adjoint ops, each
the other's backward. Their ``winner`` says which offset each output element takes: for max
pooling, an int8 array of offsets, or, where the windows tile the input (kernel = stride, the
2×2 pool of every CNN), one boolean mask per offset; for average pooling None (every offset).

Max pooling follows PyTorch: at ties the first offset (row-major) wins; a NaN in a window
makes the output NaN, and the last NaN (row-major) takes the gradient. The other elements of
a window get exactly 0, even from an inf or NaN output gradient.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from tinynet import backend, parallel
from tinynet.autograd import Op
from tinynet.ops.conv import batched, check_window, pair
from tinynet.ops.arithmetic import known_finite, masked_product
from tinynet.ops.indexing import scatter
from tinynet.ops.shape import cat, stack
from tinynet.tensor import Tensor


class Window(NamedTuple):
    """Where the windows of a pool lie: ``extra`` is the padding past the bottom/right edge
    that ``ceil_mode`` windows reach (beyond ``padding``)."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out_hw: tuple[int, int]
    extra: tuple[int, int]

    @property
    def tiles(self) -> bool:
        """Windows that tile the input without overlap or padding (each element in at most one)."""
        return self.kernel == self.stride and self.dilation == (1, 1) and \
            self.padding == (0, 0) and self.extra == (0, 0)


def _memory_order(x: Any) -> tuple[int, ...]:
    """The axes of ``x`` from the outermost in memory to the innermost (largest stride first;
    ties, as size-1 axes give, in NCHW order). A conv's output gives (C, H, W, N), see ops/conv.py;
    views and slices keep the order of what they view, so what a pool allocates can follow it."""
    return tuple(sorted(range(x.ndim), key=lambda axis: -abs(x.strides[axis])))


def _empty(xp: Any, shape: tuple[int, ...], order: tuple[int, ...], dtype: Any) -> Any:
    """An uninitialised array of ``shape`` laid out in memory in ``order``."""
    inverse = tuple(order.index(axis) for axis in range(len(order)))
    return xp.empty(tuple(shape[axis] for axis in order), dtype=dtype).transpose(inverse)


def _in_order(a: Any, order: tuple[int, ...]) -> Any:
    """``a``, or a copy of it laid out in ``order`` when it is not: elementwise products of
    arrays laid out differently run several times slower than of aligned ones."""
    if _memory_order(a) == order:
        return a
    out = _empty(backend.get_array_module(a), a.shape, order, a.dtype)
    out[...] = a
    return out


def _padded(x: Any, window: Window, value: float) -> Any:
    """``x`` with ``value`` around it (and past the bottom/right edge for ceil_mode), in its
    own memory order."""
    (ph, pw), (eh, ew) = window.padding, window.extra
    if not (ph or pw or eh or ew):
        return x
    n, c, h, w = x.shape
    out = _empty(backend.get_array_module(x), (n, c, h + 2 * ph + eh, w + 2 * pw + ew),
                 _memory_order(x), x.dtype)
    out[...] = value
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _views(padded: Any, window: Window):
    """(offset index, view) for every kernel offset of a padded (N, C, H, W) array."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = window.kernel, window.stride, window.dilation, \
        window.out_hw
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            yield i * kw + j, padded[:, :, top:top + sh * (ho - 1) + 1:sh,
                                     left:left + sw * (wo - 1) + 1:sw]


def _needs_nan_pass(out: Any) -> bool:
    """Whether a pool output may hold NaN: checked on the CPU, assumed on a GPU (where the
    check would wait for the device)."""
    return backend.device_of(out) != "cpu" or bool(backend.get_array_module(out).isnan(out).any())


def _max_and_winner(planes: list[Any]) -> tuple[Any, Any]:
    """Elementwise max over same-shaped arrays (a new array), and the offset that holds it:
    the first maximal one, or the last NaN."""
    xp = backend.get_array_module(planes[0])
    index = xp.int8 if len(planes) <= 127 else xp.int16
    best, winner = planes[0], xp.zeros(planes[0].shape, dtype=index)
    if len(planes) == 1:  # a 1×1 pool: the output must not share the input's memory
        best = best.copy(order="K")
    for k, plane in enumerate(planes[1:], 1):
        better = plane > best  # strictly: at a tie the earlier plane keeps it
        best = xp.maximum(best, plane)
        # every winner so far is below k, so a maximum sets k exactly where `better` holds;
        # 25x faster than xp.where(better, k, winner) or winner[better] = k on int8 here
        winner = xp.maximum(winner, better.astype(index) * index(k))
    if _needs_nan_pass(best):
        for k, plane in enumerate(planes):
            winner = xp.where(xp.isnan(plane), index(k), winner)
    return best, winner


def _max_and_masks(planes: list[Any], best: Any, masks: list[Any]) -> None:
    """Into ``best`` and ``masks``: the elementwise max over same-shaped arrays, and one boolean
    mask per array, true where it holds the first maximum (in list order), or the last NaN.

    Each array is compared with the running max of those before it, strictly, so that a tie
    keeps the earlier one: the last array to beat all before it holds the first maximum. No
    pass compares with the final max, and ties need no second look."""
    xp = backend.get_array_module(planes[0])
    if len(planes) == 1:
        best[...] = planes[0]
        masks[0][...] = True
        return
    xp.greater(planes[1], planes[0], out=masks[1])  # masks[k]: plane k beats all before it
    xp.maximum(planes[0], planes[1], out=best)
    for plane, mask in zip(planes[2:], masks[2:]):
        xp.greater(plane, best, out=mask)
        xp.maximum(best, plane, out=best)
    taken = masks[-1].copy(order="K")  # where a later plane beat all before it (same layout)
    for mask in reversed(masks[1:-1]):
        xp.greater(mask, taken, out=mask)  # for booleans: mask and not taken
        taken |= mask
    xp.logical_not(taken, out=masks[0])
    if _needs_nan_pass(best):  # NaN beats nothing and propagates: the last NaN takes it
        nan_windows, taken = xp.isnan(best), None
        for k in reversed(range(len(planes))):
            nan = xp.isnan(planes[k])
            if taken is not None:
                xp.greater(nan, taken, out=nan)
            xp.greater(masks[k], nan_windows, out=masks[k])
            masks[k] |= nan
            taken = nan if taken is None else taken | nan


def _in_parts(arrays: list[Any], order: tuple[int, ...], work: Any) -> None:
    """``work(parts)`` for slices of ``arrays`` (same-shaped (N, C, H, W) arrays) along their
    outermost axis in memory, run on the pool's threads (see ``tinynet.parallel``; NumPy
    releases the GIL in its loops). A slice spans at most about ``_PART_BYTES`` of all the
    arrays together, so that what ``work`` makes of one stays in cache and its temporary arrays
    reuse freed memory instead of mapping fresh pages. On a GPU, or when that axis is a spatial
    one, ``work(arrays)`` once."""
    axis, size = order[0], arrays[0].shape[order[0]]
    if backend.device_of(arrays[0]) != "cpu" or axis > 1 or size < 2:
        work(arrays)
        return
    threads = parallel.get_num_threads()
    rounds = math.ceil(sum(a.nbytes for a in arrays) / (_PART_BYTES * threads))
    count = min(size, threads * max(rounds, 2 if threads > 1 else 1))
    bounds = [round(i * size / count) for i in range(count + 1)]

    def run(take: Any) -> None:
        while (part := take()) is not None:
            index = [slice(None)] * 4
            index[axis] = slice(*part)
            work([a[tuple(index)] for a in arrays])

    parallel.share(list(zip(bounds[:-1], bounds[1:])), run)


# Measured on a 2-core AMD EPYC (512 KiB L2) with the 2x2 pool of 64x32x28x28: 1-4 MiB slices ran
# alike, 0.5 and 8 MiB ones slower; one slice of all 10 MB paged its copies in afresh on every
# call (about 1,000 page faults) and was slowest
_PART_BYTES = 2 << 20


def _contiguous_copies(views: list[Any], order: tuple[int, ...]) -> list[Any]:
    """Each view copied into memory laid out in ``order``. Where the width is the innermost
    axis in memory (an NCHW batch), a window offset's view steps over every other element, and
    NumPy's max and compare loops run several times faster on contiguous arrays than on such
    views, more than paying for one copy of each; views whose innermost run is the batch (a
    conv's output) are compared as they are."""
    xp = backend.get_array_module(views[0])
    copies = _empty(xp, (len(views), *views[0].shape), (0, *(a + 1 for a in order)),
                    views[0].dtype)
    for view, copy in zip(views, copies):
        copy[...] = view
    return list(copies)


def _chosen(winner: Any, k: int) -> Any:
    """Where offset ``k`` won: a boolean array."""
    return winner[k] if isinstance(winner, tuple) else winner == k


class MaxPool2d(Op):
    """Max over each window (see the module docstring for ties and NaN)."""

    node_name = "MaxPool2DWithIndicesBackward0"
    saves_inputs = False  # the window winners are kept from the forward

    def forward(self, x):
        window, self.order = self.window, _memory_order(x)
        planes = [view for _, view in _views(_padded(x, window, -math.inf), window)]
        if window.tiles and x.size:  # one mask per offset, made in parts on the pool's threads
            xp, order = backend.get_array_module(x), self.order
            out = _empty(xp, planes[0].shape, order, x.dtype)
            masks = [_empty(xp, out.shape, order, bool) for _ in planes]
            n, copy = len(planes), order[-1] == 3 and window.kernel[1] > 1
            _in_parts([*planes, out, *masks], order, lambda a: _max_and_masks(
                _contiguous_copies(a[:n], order) if copy else a[:n], a[n], a[n + 1:]))
            self.winner = tuple(masks)
        else:
            out, self.winner = _max_and_winner(planes)
        return out

    def backward(self, g):
        return (WindowScatter.apply(g, winner=self.winner, image_shape=self.inputs[0].shape,
                                    window=self.window, order=self.order),)


class WindowGather(Op):
    """Sum over the kernel offsets of each window (only the winner's, when ``winner`` is set)."""

    saves_inputs = False  # the window winners are kept from the forward

    def forward(self, x):
        out, self.order = None, _memory_order(x)
        finite = self.winner is None or known_finite(x)
        for k, view in _views(_padded(x, self.window, 0), self.window):
            term = view if self.winner is None else \
                masked_product(view, _chosen(self.winner, k), finite=finite)
            if out is None:
                out = term.copy(order="K") if term is view else term  # not the input's memory
            else:
                out += term
        return out

    def backward(self, g):
        return (WindowScatter.apply(g, winner=self.winner, image_shape=self.inputs[0].shape,
                                    window=self.window, order=self.order),)


class WindowScatter(Op):
    """Add each output gradient back onto its window (onto the winner only, when set).

    The image is laid out in memory in ``order``, the pool's input's, as PyTorch lays out a
    gradient like its input: a conv's batch-innermost output gets its gradient so, and the
    conv's backward then reads it without a copy."""

    saves_inputs = False  # the window winners are kept from the forward

    def forward(self, g):
        xp = backend.get_array_module(g)
        window, (n, c, h, w) = self.window, self.image_shape
        (ph, pw), (eh, ew) = window.padding, window.extra
        image = _empty(xp, (n, c, h + 2 * ph + eh, w + 2 * pw + ew), self.order, g.dtype)
        g = _in_order(g, self.order)
        if window.tiles:  # every element in at most one view: write, don't add
            (kh, kw), (ho, wo) = window.kernel, window.out_hw
            image[:, :, ho * kh:] = 0
            image[:, :, :, wo * kw:] = 0
            views = [view for _, view in _views(image, window)]
            if self.winner is None:
                for view in views:
                    view[...] = g
            else:  # the masks of a max pool: in parts on the pool's threads
                n, finite = len(views), known_finite(g)
                _in_parts([g, *self.winner, *views], self.order,
                          lambda a: [masked_product(a[0], mask, out=view, finite=finite)
                                     for mask, view in zip(a[1:n + 1], a[n + 1:])])
            return image
        image[...] = 0
        finite = self.winner is None or known_finite(g)
        for k, view in _views(image, window):
            view += g if self.winner is None else \
                masked_product(g, _chosen(self.winner, k), finite=finite)
        return image[:, :, ph:ph + h, pw:pw + w]

    def backward(self, gg):
        return (WindowGather.apply(gg, winner=self.winner, window=self.window),)


def _out_length(size: int, kernel: int, stride: int, padding: int, dilation: int,
                ceil_mode: bool) -> int:
    """PyTorch's pooling output length; with ceil_mode the last window must start inside the
    input or its left padding."""
    span = dilation * (kernel - 1) + 1
    length = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (length - 1) * stride >= size + padding:
        length -= 1
    return length


def _window(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
            ceil_mode: bool) -> Window:
    kernel = pair(kernel_size, f"{op}: kernel_size")
    stride = kernel if stride is None or stride == [] else pair(stride, f"{op}: stride")
    padding, dilation = pair(padding, f"{op}: padding"), pair(dilation, f"{op}: dilation")
    check_window(op, x, kernel, stride, padding, dilation)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    out_hw = tuple(_out_length(x.shape[2 + i], kernel[i], stride[i], padding[i], dilation[i],
                               bool(ceil_mode)) for i in range(2))
    extra = tuple(max(0, (out_hw[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
                      - x.shape[2 + i] - 2 * padding[i]) for i in range(2))
    return Window(kernel, stride, padding, dilation, out_hw, extra)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over each ``kernel_size`` window; ``stride`` defaults to the kernel size.

    As ``torch.nn.functional.max_pool2d``: input (N, C, H, W) or (C, H, W), ``dilation``
    spreads the window, ``ceil_mode`` keeps a last partial window. At ties the first element
    (row-major) takes the gradient; NaN propagates, and the last NaN takes it.
    ``return_indices=True`` returns ``(output, indices)``, each max's position h·W + w in its
    input plane (int64, no gradient).

    >>> F.max_pool2d(tn.randn(1, 1, 4, 4), 2).shape
    tinynet.Size([1, 1, 2, 2])
    """
    return max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                    return_indices)


def max_pool(op: str, input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
             ceil_mode: bool, return_indices: bool) -> Tensor | tuple[Tensor, Tensor]:
    """``max_pool2d``, its errors headed by ``op`` (``max_pool1d`` pools a height of one)."""
    x, unbatched = batched(op, input)
    window = _window(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    out = MaxPool2d.apply(x, window=window)
    if return_indices:
        indices = Tensor(_flat_indices(x.array, window))
        return (out.squeeze(0), indices.squeeze(0)) if unbatched else (out, indices)
    return out.squeeze(0) if unbatched else out


def _flat_indices(x: Any, window: Window) -> Any:
    """(N, C, Ho, Wo) int64: where each window's max lies in its (H, W) plane, as h·W + w (what
    PyTorch's ``return_indices`` gives). A second pass over the input, made only when asked."""
    xp, w = backend.get_array_module(x), x.shape[3]
    _, winner = _max_and_winner([view for _, view in _views(_padded(x, window, -math.inf), window)])
    offset_row, offset_col = xp.divmod(winner.astype(xp.int64), window.kernel[1])
    (ho, wo), (sh, sw), (ph, pw), (dh, dw) = window.out_hw, window.stride, window.padding, \
        window.dilation
    rows = (xp.arange(ho) * sh - ph)[:, None] + offset_row * dh
    cols = xp.arange(wo) * sw - pw + offset_col * dw
    return rows * w + cols


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The inverse of ``max_pool2d``: each value of ``input`` put back where ``indices`` (from
    ``max_pool2d(..., return_indices=True)``) says, zeros elsewhere, as
    ``torch.nn.functional.max_unpool2d``. The output's height and width are
    (size - 1)·stride - 2·padding + kernel_size unless ``output_size`` gives them.

    >>> out, indices = F.max_pool2d(tn.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2, return_indices=True)
    >>> F.max_unpool2d(out, indices, 2)
    tensor([[[[0., 0.],
              [4., 0.]]]])
    """
    op = "max_unpool2d"
    check_unpool_indices(op, input, indices)
    kernel = pair(kernel_size, f"{op}: kernel_size")
    stride = kernel if stride is None or stride == [] else pair(stride, f"{op}: stride")
    return max_unpool(op, input, indices, kernel, stride, pair(padding, f"{op}: padding"),
                      unpool_size(op, output_size, 2))


def unpool_size(op: str, output_size: Any, dims: int) -> tuple[int, ...] | None:
    """The last ``dims`` sizes of an unpool's ``output_size`` (which may also name the batch
    and channels, as PyTorch allows), or None."""
    if output_size is None:
        return None
    if len(output_size) not in range(dims, dims + 3):
        raise ValueError(f"{op}: output_size must end in the {dims} spatial sizes, after at most "
                         f"batch and channels, got {output_size!r}")
    return tuple(int(length) for length in tuple(output_size)[-dims:])


def check_unpool_indices(op: str, input: Tensor, indices: Any) -> None:
    """That ``indices`` are integers with the shape of ``input``, as a max pool returned them."""
    if not isinstance(indices, Tensor) or indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer tensor (from the max pool's "
                        f"return_indices), got {getattr(indices, 'dtype', type(indices).__name__)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices {tuple(indices.shape)} must have the input's shape "
                         f"{tuple(input.shape)}")


def max_unpool(op: str, input: Tensor, indices: Tensor, kernel: tuple[int, int],
               stride: tuple[int, int], padding: tuple[int, int],
               size: tuple[int, int] | None) -> Tensor:
    """``max_unpool2d`` of checked arguments, its errors headed by ``op`` (``max_unpool1d``
    unpools a height of one)."""
    x, unbatched = batched(op, input)
    n, c, h, w = x.shape
    if size is None:
        size = tuple((length - 1) * stride[i] - 2 * padding[i] + kernel[i]
                     for i, length in enumerate((h, w)))
    flat = indices.reshape(n, c, h * w)
    if flat.numel() and not (0 <= int(flat.min()) and int(flat.max()) < size[0] * size[1]):
        raise RuntimeError(f"{op}: indices range {int(flat.min())}..{int(flat.max())} does not "
                           f"fit the output's {size[0]}×{size[1]} = {size[0] * size[1]} positions")
    plane = Tensor(x.xp.zeros((n, c, size[0] * size[1]), dtype=x.dtype))
    out = scatter(plane, 2, flat, x.reshape(n, c, h * w)).reshape(n, c, *size)
    return out.squeeze(0) if unbatched else out


def _divisors(xp: Any, size: tuple[int, int], window: Window, count_include_pad: bool) -> Any:
    """(Ho, Wo): how many elements PyTorch divides each window's sum by: the window clipped to
    the padded input, or, without ``count_include_pad``, to the input itself."""
    counts = []
    for i in range(2):
        start = xp.arange(window.out_hw[i]) * window.stride[i] - window.padding[i]
        end = xp.minimum(start + window.kernel[i], size[i] + window.padding[i])
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, size[i])
        counts.append(end - start)
    return counts[0][:, None] * counts[1][None, :]


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each window, as ``torch.nn.functional.avg_pool2d``.

    Zero padding counts towards the mean unless ``count_include_pad=False``; with
    ``ceil_mode`` a last partial window averages what it covers; ``divisor_override`` divides
    every sum by that number instead.
    """
    return avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                    count_include_pad, divisor_override)


def avg_pool(op: str, input: Tensor, kernel_size: Any, stride: Any, padding: Any,
             ceil_mode: bool, count_include_pad: bool, divisor_override: int | None) -> Tensor:
    """``avg_pool2d``, its errors headed by ``op`` (``avg_pool1d`` pools a height of one)."""
    x, unbatched = batched(op, input)
    window = _window(op, x, kernel_size, stride, padding, 1, ceil_mode)
    total = WindowGather.apply(x, winner=None, window=window)
    if divisor_override is not None:
        if int(divisor_override) != divisor_override or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        out = total / int(divisor_override)
    elif count_include_pad and window.extra == (0, 0):
        out = total / (window.kernel[0] * window.kernel[1])
    else:
        divisors = _divisors(x.xp, x.shape[2:], window, count_include_pad)
        out = total * Tensor((1 / divisors).astype(x.dtype))
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed ``output_size`` (an int, a pair, None keeps that side), as
    ``torch.nn.functional.adaptive_avg_pool2d``: window i of a side of length L covers
    floor(i·L/out) up to ceil((i+1)·L/out).

    >>> F.adaptive_avg_pool2d(tn.randn(2, 8, 7, 9), 1).shape
    tinynet.Size([2, 8, 1, 1])
    """
    op = "adaptive_avg_pool2d"
    x, unbatched = batched(op, input)
    target = _adaptive_target(op, x, output_size)
    h, w = x.shape[2:]
    if h % target[0] == 0 and w % target[1] == 0:  # equal windows: a plain average pool
        out = avg_pool2d(x, (h // target[0], w // target[1]))
    else:  # windows of unequal sizes: the mean of each, one side at a time (a product with an
        # averaging matrix would be shorter, but 0 · NaN would carry a NaN into every window)
        rows = stack([x[:, :, top:bottom].mean(dim=2) for top, bottom in _adaptive_windows(h, target[0])],
                     dim=2)
        out = stack([rows[..., left:right].mean(dim=3) for left, right in _adaptive_windows(w, target[1])],
                    dim=3)
    return out.squeeze(0) if unbatched else out


def _adaptive_target(op: str, x: Tensor, output_size: Any) -> tuple[int, int]:
    """An adaptive pool's output height and width (None keeps the input's), checked."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    target = pair(tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(sizes)),
                  f"{op}: output_size")
    if min(target) < 1 or min(x.shape[2:]) < 1:
        raise ValueError(f"{op}: output_size {target} must be positive and the input "
                         f"{tuple(x.shape)} non-empty in height and width")
    return target


def _adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """Window i of an adaptive pool over ``size`` positions: floor(i·size/out) up to
    ceil((i+1)·size/out)."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_max_pool2d(input: Tensor, output_size: Any,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max pooling to a fixed ``output_size`` (an int, a pair, None keeps that side), as
    ``torch.nn.functional.adaptive_max_pool2d``, with ``max_pool2d``'s ties, NaN and
    ``return_indices``: window i of a side of length L covers floor(i·L/out) up to
    ceil((i+1)·L/out).

    >>> F.adaptive_max_pool2d(tn.randn(2, 8, 7, 9), (2, 3)).shape
    tinynet.Size([2, 8, 2, 3])
    """
    op = "adaptive_max_pool2d"
    x, unbatched = batched(op, input)
    (th, tw), (h, w) = _adaptive_target(op, x, output_size), x.shape[2:]
    if h % th == 0 and w % tw == 0:  # equal windows: a plain max pool
        result = max_pool(op, x, (h // th, w // tw), (h // th, w // tw), 0, 1, False,
                          return_indices)
    else:  # windows of unequal sizes: one max pool per window, then the windows put together
        rows, columns = [], []
        for top, bottom in _adaptive_windows(h, th):
            row, row_indices = [], []
            for left, right in _adaptive_windows(w, tw):
                size = (bottom - top, right - left)
                value, local = max_pool(op, x[:, :, top:bottom, left:right], size, size, 0, 1,
                                        False, True)
                row.append(value)
                # a position in the window → one in the input plane
                row_indices.append((local // size[1] + top) * w + local % size[1] + left)
            rows.append(cat(row, 3))
            columns.append(cat(row_indices, 3))
        result = (cat(rows, 2), cat(columns, 2)) if return_indices else cat(rows, 2)
    if unbatched:
        return tuple(r.squeeze(0) for r in result) if return_indices else result.squeeze(0)
    return result
