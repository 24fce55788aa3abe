"""The blocked convolution on raw arrays: the three products a conv layer needs.

``forward`` (the output), ``input_grad`` (the gradient of the input, a transposed
convolution) and ``weight_grad`` are each the product of a weight matrix with the im2col
*columns* of the input (every kernel-sized window laid out as one column, see docs/conv.md).
Building all the columns at once makes a matrix kh·kw times the size of the input, 14-38 MB
in the benchmark's layers: it evicts every cache and the products that stream it run far
below the GEMM's peak. So the work goes block by block. A block is a few output rows (or part
of one row) of the whole batch, sized to the L2 cache (a few times it: ``BLOCK_L2_MULTIPLE``),
so that its columns and its output are still in cache when the next step reads them. For each
block:

* ``forward``: copy its columns into a reused buffer, one GEMM into the output; the bias rides
  in that GEMM as one more column of the weight against a row of ones under the columns (a
  separate pass adding it onto the block's strided output cost 5-10% of the forward);
* ``input_grad``: one GEMM ``weightᵀ @ grad`` into the buffer, then add each kernel offset's
  rows back onto the image (col2im, but of one block, in cache);
* ``weight_grad``: copy its columns, accumulate ``columns @ gradᵀ``.

Layout: images are batch-innermost, (C, H, W, N), so a window row is a run of W·N numbers
(stride 1) and a block's output, a range of (row, column) positions of the whole batch, is
one strided matrix (C_out, positions·N) that BLAS writes straight into. Groups split the
channels into independent products, batched by ``matmul``.

Threads (see ``tinynet.parallel``): each thread runs BLAS on one thread and takes the next
block as soon as it is free (the input gradient: the next band of rows, every other band first,
as neighbouring blocks add onto the same image rows). Nothing here imports NumPy: arrays are
handled through their own module, so the same code runs on CuPy, where the whole problem is
one block (a GPU has no L2 to fit, and each block would cost a kernel launch).
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from tinynet import backend, parallel


class Geometry(NamedTuple):
    """The shapes of one convolution, its input already padded: (C, Hp, Wp, N) → (C_out, Ho, Wo, N)."""

    channels: int
    out_channels: int
    groups: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    in_hw: tuple[int, int]  # the padded input's height and width
    out_hw: tuple[int, int]
    batch: int

    @property
    def rows(self) -> int:
        """Rows of the column matrix: C·kh·kw."""
        return self.channels * self.kernel[0] * self.kernel[1]


def out_size(in_hw: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
             dilation: tuple[int, int]) -> tuple[int, int]:
    """Output height and width of a convolution over an already padded input."""
    return tuple((in_hw[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2))


@lru_cache(maxsize=1)
def l2_bytes() -> int:
    """The L2 cache of one core (Linux sysfs), or 1 MiB where it can't be read."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    try:
        for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
            if (index / "level").read_text().strip() == "2":
                size = (index / "size").read_text().strip()
                return int(size.rstrip("KMG")) * units.get(size[-1], 1)
    except (OSError, ValueError):
        pass
    return 1 << 20


def _blocks(geo: Geometry, batch: int, itemsize: int, budget: float) -> list[tuple[int, ...]]:
    """(h0, h1, w0, w1) output blocks whose columns and outputs fill about ``budget`` bytes:
    whole rows when one row fits, else pieces of one row. Equal sizes, so no tiny tail."""
    (ho, wo), per_position = geo.out_hw, (geo.rows + geo.out_channels) * batch * itemsize
    if wo * per_position <= budget:
        count = math.ceil(ho / max(1, int(budget // (wo * per_position))))
        step = math.ceil(ho / count)
        return [(h, min(h + step, ho), 0, wo) for h in range(0, ho, step)]
    count = math.ceil(wo / max(1, int(budget // per_position)))
    step = math.ceil(wo / count)
    return [(h, h + 1, w, min(w + step, wo)) for h in range(ho) for w in range(0, wo, step)]


# A block's columns and output fill this many times the L2 cache. Measured on a 2-core EPYC
# (512 KiB L2, 32 MiB L3), the forward and both gradients of the benchmark's five layers,
# alternating budgets in one process: 1× L2 took 8-30% longer than 4× (twice as many blocks,
# each paying a dozen array calls), and one block for the whole batch 5-25% longer on the
# 32→64 and 64→128-channel layers (14 and 38 MB of columns that no cache holds).
BLOCK_L2_MULTIPLE = 4

_buffers = threading.local()


def _buffer(xp: Any, size: int, dtype: Any, device: str) -> Any:
    """A flat scratch array of ``size`` elements, reused by this thread from call to call on
    the CPU (a fresh one would page-fault its memory in on every call)."""
    if device != "cpu":
        return xp.empty(size, dtype=dtype)
    key = ("buffer", dtype)
    flat = getattr(_buffers, "arrays", {}).get(key)
    if flat is None or flat.size < size:
        flat = xp.empty(size, dtype=dtype)
        _buffers.arrays = {**getattr(_buffers, "arrays", {}), key: flat}
    return flat[:size]


def is_batch_inner(a: Any) -> bool:
    """Whether an (N, C, H, W) array is laid out as the kernels read it: each channel's
    (H, W, N) values contiguous, the channels any distance apart (a convolution's output
    leaves a gap between them, see ``_channels_apart``)."""
    channel = a.transpose(1, 2, 3, 0)[0] if a.shape[1] else a.transpose(1, 2, 3, 0)
    return channel.flags.c_contiguous


def batch_inner(a: Any, out: Any | None = None) -> Any:
    """The values of an (N, C, H, W) array laid out (C, H, W, N) in memory: into ``out`` (a
    (C, H, W, N) array or view), else a new contiguous array (``a``'s own memory when it is
    laid out so already, ``is_batch_inner``).

    The copy runs along the batch, one sample's element after another's. When the samples lie
    a multiple of 2 or 4 KiB apart (an NCHW batch of 16×16 or 32×32 images with a power-of-two
    channel count), those elements all fall into the same few cache sets and evict each other:
    the samples are then first copied, contiguously, into rows 64 bytes longer. Measured on a
    2-core EPYC: (64, 64, 16, 16) in 1.5 ms instead of 5.9, (64, 3, 32, 32) in 0.19 instead of 0.77.
    """
    xp = backend.get_array_module(a)
    source = a.transpose(1, 2, 3, 0)
    if out is None:
        if is_batch_inner(a):
            return source
        out = xp.empty(source.shape, dtype=a.dtype)
    n, step = a.shape[0], abs(a.strides[0])
    if backend.device_of(a) == "cpu" and n > 8 and a.flags.c_contiguous and _same_sets(step):
        rows = a.reshape(n, -1)
        pad = max(1, 64 // a.itemsize)
        staged = _buffer(xp, n * (rows.shape[1] + pad), a.dtype, "cpu")
        staged = staged.reshape(n, -1)[:, :rows.shape[1]]
        staged[...] = rows
        source = staged.reshape(a.shape).transpose(1, 2, 3, 0)
    out[...] = source
    return out


def _same_sets(step: int) -> bool:
    """Whether addresses ``step`` bytes apart fall into fewer than 8 of the 64 sets of a 4 KiB
    cache way (eight or more samples then share a set)."""
    return 4096 // math.gcd(step % 4096, 4096) < 8


def _channels_apart(xp: Any, shape: tuple[int, ...], dtype: Any, device: str) -> Any:
    """An empty (C, H, W, N) array whose channels lie a cache line further apart than H·W·N
    when that length would put them in the same few cache sets (as ``batch_inner``'s samples).

    A product writes its output's rows, one per channel, side by side; rows a multiple of 4 KiB
    apart evict each other from the L1 cache. Measured on a 2-core EPYC: the forward of the
    3→64-channel layer (32×32 images, 256 KiB per channel) in 1.8 ms instead of 2.9, and of
    the 1→32-channel one (28×28) in 0.30 instead of 0.84."""
    c, rest, itemsize = shape[0], math.prod(shape[1:]), dtype.itemsize
    if device != "cpu" or c < 2 or not _same_sets(rest * itemsize):
        return xp.empty(shape, dtype=dtype)
    return xp.empty((c, rest + 64 // itemsize), dtype=dtype)[:, :rest].reshape(shape)


def _windows(x: Any, geo: Geometry) -> Any:
    """(C, kh, kw, Ho, Wo, N): every window of the padded (C, Hp, Wp, N) input, a view."""
    xp = backend.get_array_module(x)
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    s = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, (geo.channels, kh, kw, ho, wo, x.shape[3]),
        (s[0], dh * s[1], dw * s[2], sh * s[1], sw * s[2], s[3]))


def _blocks_of(geo: Geometry, dtype: Any, device: str,
               small_products: bool = False) -> list[tuple[int, ...]]:
    """The output blocks: one on a GPU, L2-sized on the CPU; with ``small_products``, whole
    rows keeping each weight-gradient product within ``SMALL_PRODUCT`` when a row allows."""
    if device != "cpu":
        return [(0, geo.out_hw[0], 0, geo.out_hw[1])]
    budget = BLOCK_L2_MULTIPLE * l2_bytes()
    per_position = (geo.rows + geo.out_channels) * geo.batch * dtype.itemsize
    if small_products and per_position:
        wo, product = geo.out_hw[1], geo.rows * geo.out_channels * geo.batch // geo.groups ** 2
        positions = SMALL_PRODUCT // max(1, product)  # of each group's product
        if positions >= wo:
            budget = min(budget, positions // wo * wo * per_position)
    return _blocks(geo, geo.batch, dtype.itemsize, budget)


def _share(items: list[Any], work: Any, device: str, threaded: bool = True) -> list[Any]:
    """``work(take)`` on the pool's threads with one-thread BLAS on the CPU (on the calling
    thread alone unless ``threaded``); on a GPU once."""
    if device != "cpu":
        return [work(iter(items + [None]).__next__)]
    with parallel.single_threaded_blas():
        if not threaded:
            return [work(iter(items + [None]).__next__)]
        return parallel.share(items, work)


def _matrix(a: Any, block: tuple[int, ...], groups: int) -> Any:
    """Block ``block`` of a (C, Ho, Wo, N) array as (groups, C/groups, positions·N), a view: a
    block is whole rows or a piece of one row, so its positions are consecutive in memory."""
    h0, h1, w0, w1 = block
    c, ho, wo, n = a.shape
    start, count = (h0 * wo + w0) * n, (h1 - h0) * (w1 - w0) * n
    return a.reshape(c, ho * wo * n)[:, start:start + count].reshape(groups, -1, count)


def _gather(windows: Any, block: tuple[int, ...], geo: Geometry, ones_row: bool = False) -> Any:
    """The block's columns, copied into this thread's buffer: (groups, C·kh·kw/groups, positions),
    with one more row of ones under each group's columns when ``ones_row`` (for the bias)."""
    h0, h1, w0, w1 = block
    source = windows[:, :, :, h0:h1, w0:w1, :]
    xp = backend.get_array_module(source)
    g, rows, positions = geo.groups, geo.rows // geo.groups, source.size // geo.rows
    height = rows + 1 if ones_row else rows
    cols = _buffer(xp, g * height * positions, source.dtype,
                   backend.device_of(source)).reshape(g, height, positions)
    if ones_row:
        cols[:, rows] = 1
    # Splitting axes of the (strided) rows is always a view, so this copy lands in the buffer.
    by_group = (g, geo.channels // g) + source.shape[1:]
    cols[:, :rows].reshape(by_group)[...] = source.reshape(by_group)
    return cols


def forward(x: Any, weight: Any, bias: Any | None, geo: Geometry) -> Any:
    """The convolution of the padded batch-innermost input: (C, Hp, Wp, N) → (C_out, Ho, Wo, N)."""
    xp, device = backend.get_array_module(x), backend.device_of(x)
    (ho, wo), g = geo.out_hw, geo.groups
    out = _channels_apart(xp, (geo.out_channels, ho, wo, geo.batch), x.dtype, device)
    if out.size == 0 or geo.rows == 0:
        out[...] = 0 if bias is None else bias[:, None, None, None]
        return out
    w = weight.reshape(g, geo.out_channels // g, -1)
    if bias is not None:  # one more column of the weight, against a row of ones in the columns
        w = xp.concatenate([w, bias.reshape(g, -1, 1)], axis=2)
    windows = _windows(x, geo)

    def work(take: Any) -> None:
        while (block := take()) is not None:
            cols = _gather(windows, block, geo, ones_row=bias is not None)
            xp.matmul(w, cols, out=_matrix(out, block, g))  # into a view of the output

    _share(_blocks_of(geo, x.dtype, device), work, device)
    return out


def input_grad(grad: Any, weight: Any, geo: Geometry) -> Any:
    """The gradient of the padded input, (C_out, Ho, Wo, N) → (C, Hp, Wp, N): col2im of
    ``weightᵀ @ grad``, block by block.

    Neighbouring blocks add onto overlapping rows of the image, so the blocks go in bands of
    output rows (``_bands``), in two rounds: first every other band, whose image rows never
    overlap, shared among the threads; then the bands between them. Each image row receives
    its sums in the same order on any number of threads, so the gradient is the same floats.
    Measured on a 2-core EPYC, 2 threads: the 3→64, 32→64 and 64→128-channel layers' input
    gradients in 2.1, 2.0 and 8.3 ms, against 4.3, 2.4 and 10.1 when the threads split the input
    channels instead (each thread's product then had a fraction of the rows, and read all of
    the gradient). The adds read the image rows in place (``backend.unbuffered_ufuncs``) when
    their runs are long: 2.6 ms against 3.0 for the 32→64-channel layer on one thread.
    """
    xp, device = backend.get_array_module(grad), backend.device_of(grad)
    (kh, kw), (sh, sw), (dh, dw), g = geo.kernel, geo.stride, geo.dilation, geo.groups
    image = xp.zeros((geo.channels,) + geo.in_hw + (geo.batch,), dtype=grad.dtype)
    if grad.size == 0 or geo.rows == 0:
        return image
    w_t = weight.reshape(g, geo.out_channels // g, -1).transpose(0, 2, 1)  # (g, C/g·kh·kw, C_out/g)
    target = image.reshape((g, geo.channels // g) + image.shape[1:])  # (g, C/g, Hp, Wp, N)

    def work(take: Any) -> None:
        while (band := take()) is not None:
            for block in band:
                run = geo.batch * ((block[3] - block[2]) if sw == 1 else 1)  # of an image row
                with backend.unbuffered_ufuncs(xp, run):
                    add_block(block)

    def add_block(block: tuple[int, ...]) -> None:
        h0, h1, w0, w1 = block
        g_block = _matrix(grad, block, g)
        cols = _buffer(xp, g * w_t.shape[1] * g_block.shape[2], grad.dtype, device)
        xp.matmul(w_t, g_block, out=cols.reshape(g, w_t.shape[1], -1))
        cols = cols.reshape(g, geo.channels // g, kh, kw, h1 - h0, w1 - w0, geo.batch)
        for i in range(kh):
            top = h0 * sh + i * dh
            for j in range(kw):
                left = w0 * sw + j * dw
                target[:, :, top:top + (h1 - h0 - 1) * sh + 1:sh,
                       left:left + (w1 - w0 - 1) * sw + 1:sw] += cols[:, :, i, j]

    bands = _bands(geo, grad.dtype, device)
    _share(bands[0::2], work, device)
    _share(bands[1::2], work, device)
    return image


def _bands(geo: Geometry, dtype: Any, device: str) -> list[list[tuple[int, ...]]]:
    """The output's blocks grouped in bands of whole rows: each band is high enough that the
    image rows of the bands on either side of it never overlap, so every other band can run at
    once. A band is one block when its columns fit a few times the cache budget, else its rows'
    pieces (``_blocks``); on a GPU the whole output is one band of one block."""
    if device != "cpu":
        return [_blocks_of(geo, dtype, device)]
    (kh, _), (sh, _), (dh, _), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    budget = BLOCK_L2_MULTIPLE * l2_bytes()
    per_row = wo * (geo.rows + geo.out_channels) * geo.batch * dtype.itemsize
    least = max(1, ((kh - 1) * dh - sh) // sh + 1)  # rows r with r·sh > (kh-1)·dh - sh
    rows = max(least, int(budget // per_row))
    step = max(least, -(-ho // -(-ho // rows)))  # equal bands, no thin tail
    if step * per_row <= 2 * budget:  # a band is one block
        return [[(h, min(h + step, ho), 0, wo)] for h in range(0, ho, step)]
    pieces = [b[2:] for b in _blocks(geo._replace(out_hw=(1, wo)), geo.batch, dtype.itemsize,
                                     budget)]  # of one row: the whole row when it fits
    return [[(r, r + 1, w0, w1) for r in range(h, min(h + step, ho)) for w0, w1 in pieces]
            for h in range(0, ho, step)]


# The weight gradient of a layer with one input channel per group (a first layer on a grey image)
# is computed on one thread: its products stream long, thin matrices, and two threads took
# 25-40% longer than one on a quiet 2-core EPYC (k3 and k5 layers) and no less on a 2-core Xeon.
# From three channels on (an RGB image) two threads were faster on the Xeon: the 3->64-channel
# layer's fwd+bwd 13.1 ms against 15.6.

# The weight gradient of a layer with few rows of columns and few output channels (a first
# layer: 9 or 25 rows, 16 or 32 channels) goes in blocks of whole rows that hold each product to
# this many multiply-adds when one row allows it: OpenBLAS's small-matrix kernels take products
# up to about 1M of them. Measured on a 2-core EPYC (OpenBLAS 0.3.31), alternating: the weight
# gradients of the 1→32 (k3) and 1→16 (k5) layers took 0.40 and 0.33 ms instead of 0.90 and
# 0.48 with the SkylakeX kernel; the Haswell kernel, which has no such path, took 0.76 and 0.56
# instead of 0.66 and 0.49 (more blocks, each with its array calls). The forward keeps its
# larger blocks: on two threads, one-row blocks (about 13 µs of work each) took 0.55 ms
# instead of 0.35.
SMALL_PRODUCT = 1_000_000

# The weight gradient sums the blocks' products in this many fixed parts (runs of consecutive
# blocks), one partial sum each, added in order at the end: whichever thread computes a part, the
# sum is the same float for float, from run to run and for any thread count (a resumed training
# run repeats the numbers of an uninterrupted one). Up to 8 threads share it; more parts than
# threads lets a thread slowed by other load take fewer of them.
WEIGHT_GRAD_PARTS = 8


def weight_grad(x: Any, grad: Any, geo: Geometry) -> Any:
    """The gradient of the weight, (C_out, C/groups, kh, kw), from the padded input and the
    output gradient: the sum over blocks of ``columns @ gradᵀ``, in ``WEIGHT_GRAD_PARTS``
    partial sums of consecutive blocks."""
    xp, device = backend.get_array_module(x), backend.device_of(x)
    g = geo.groups
    shape = (geo.out_channels, geo.channels // g) + geo.kernel
    if grad.size == 0 or geo.rows == 0:
        return xp.zeros(shape, dtype=x.dtype)
    windows = _windows(x, geo)
    blocks = _blocks_of(geo, x.dtype, device, small_products=True)
    count = min(len(blocks), WEIGHT_GRAD_PARTS)
    bounds = [round(i * len(blocks) / count) for i in range(count + 1)]
    partials: list[Any] = [None] * count

    def work(take: Any) -> None:
        while (part := take()) is not None:
            index, first, last = part
            total = None  # (g, C/g·kh·kw, C_out/g)
            for block in blocks[first:last]:
                cols = _gather(windows, block, geo)
                product = xp.matmul(cols, _matrix(grad, block, g).transpose(0, 2, 1))
                if total is None:
                    total = product
                else:
                    total += product
            partials[index] = total

    _share([(i, bounds[i], bounds[i + 1]) for i in range(count)], work, device,
           threaded=geo.channels // g > 1)
    total = partials[0]
    for part in partials[1:]:
        total += part
    return total.transpose(0, 2, 1).reshape(shape)
