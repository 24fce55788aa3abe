"""2-D max and average pooling over strided views, with no argmax and no loop over pixels.

A k×k pool visits the input through k·k strided views, one per kernel offset: view (i, j)
holds the element at offset (i, j) of every window. Pooling combines those views;
its gradient adds the output gradient back through the same views.

``WindowGather`` (views → output) and ``WindowScatter`` (output → views) are adjoint ops, each
the other's backward. ``winner`` picks one offset per output element (max pooling) or is
None (average pooling: every offset, weight 1).

Max pooling over non-overlapping tiles (stride = kernel, no padding: the 2×2 pool of every CNN)
takes a faster path, ``_tile_max``: its winner is a ``TileWinner``, see there.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tinynet import backend
from tinynet.autograd import Function
from tinynet.ops.conv import check_window, output_size, pair
from tinynet.tensor import Tensor


def _views(padded: Any, kernel, stride, out_hw):
    """Yield (offset index, view) for every kernel offset of a padded (N, C, H, W) array."""
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, padded[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


def _pad(x: Any, padding, value: float) -> Any:
    ph, pw = padding
    if not (ph or pw):
        return x
    xp = backend.get_array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


class TileWinner(NamedTuple):
    """Where each maximum of a non-overlapping max pool came from, found in two passes.

    The pool runs first along W, over the kw elements of each row of a tile, then along H, over
    the kh row maxima of the tile: ``col`` holds the winning column of every tile row and
    ``row`` the winning row of every tile. ``order`` is the permutation that puts the N and C
    axes in memory order (conv outputs are channel-major), so every array here is flat.

    Why: the general path compares k·k strided views whose rows are only Wo long; the two
    passes work on long contiguous runs instead. On the benchmark's (64, 32, 28, 28) 2×2 pool,
    forward+backward went from 23.7 ms to 10.0 ms (PyTorch: 12.8 ms), old, new and PyTorch
    alternating in one process on the busy 2-core CPU. First the W pass, then the H pass
    keeps PyTorch's tie rule: the first maximum in row-major order wins.
    """

    col: Any
    row: Any
    order: tuple[int, ...]


def _memory_order(x: Any) -> tuple[int, ...]:
    """(1, 0, 2, 3) when x is channel-major in memory (C before N), else (0, 1, 2, 3)."""
    return (1, 0, 2, 3) if x.strides[1] > x.strides[0] and x.shape[0] > 1 else (0, 1, 2, 3)


def _max_and_winner(planes: list[Any]) -> tuple[Any, Any]:
    """Elementwise max over same-shaped arrays (a new array), and the index of the first array
    that holds it."""
    xp = backend.get_array_module(planes[0])
    index = xp.int8 if len(planes) <= 127 else xp.int16
    best, winner = planes[0], xp.zeros(planes[0].shape, dtype=index)
    if len(planes) == 1:  # a 1×1 pool: the output must not share the input's memory
        best = best.copy()
    for k, plane in enumerate(planes[1:], 1):
        better = plane > best  # strictly: at a tie the earlier plane keeps it
        best = xp.maximum(best, plane)
        # every winner so far is below k, so a maximum sets k exactly where `better` holds;
        # 25x faster than xp.where(better, k, winner) or winner[better] = k on int8 here
        winner = xp.maximum(winner, better.astype(index) * index(k))
    return best, winner


def _tile_max(x: Any, kernel: tuple[int, int], out_hw: tuple[int, int]) -> tuple[Any, TileWinner]:
    (kh, kw), (ho, wo) = kernel, out_hw
    xp = backend.get_array_module(x)
    order = _memory_order(x)
    x = x.transpose(order)[:, :, :ho * kh, :wo * kw]
    tile_rows = xp.ascontiguousarray(x.reshape(-1, kw).T)  # (kw, N·C·H·Wo): one row per column
    row_max, col = _max_and_winner(list(tile_rows))
    tiles = row_max.reshape(-1, kh, wo).transpose(1, 0, 2)  # (kh, N·C·Ho, Wo)
    out, row = _max_and_winner(list(xp.ascontiguousarray(tiles)))  # copied: 1/3 faster
    return out.reshape(x.shape[:2] + (ho, wo)).transpose(order), TileWinner(col, row, order)


def _tile_scatter(g: Any, winner: TileWinner, kernel: tuple[int, int], image_shape) -> Any:
    """Each output gradient onto the winning element of its tile; zeros elsewhere."""
    (kh, kw), order = kernel, winner.order
    xp = backend.get_array_module(g)
    g = g.transpose(order)
    lead, (ho, wo) = g.shape[:2], g.shape[2:]
    g = g.reshape(-1, wo)
    rows = xp.empty((g.shape[0], kh, wo), dtype=g.dtype)
    for i in range(kh):
        xp.multiply(g, winner.row == i, out=rows[:, i])
    rows = rows.reshape(-1)
    image = xp.empty((rows.size, kw), dtype=g.dtype)
    for j in range(kw):
        xp.multiply(rows, winner.col == j, out=image[:, j])
    image = image.reshape(lead + (ho * kh, wo * kw))
    h, w = (image_shape[i] for i in (2, 3))
    if (h, w) != image.shape[2:]:  # rows and columns past the last whole tile get no gradient
        full = xp.zeros(lead + (h, w), dtype=g.dtype)
        full[:, :, :ho * kh, :wo * kw] = image
        image = full
    return image.transpose(order)


def _tile_gather(image: Any, winner: TileWinner, kernel: tuple[int, int], out_hw) -> Any:
    """The winning element of every tile: the adjoint of ``_tile_scatter``."""
    (kh, kw), (ho, wo), order = kernel, out_hw, winner.order
    image = image.transpose(order)
    lead = image.shape[:2]
    tile_rows = image[:, :, :ho * kh, :wo * kw].reshape(-1, kw)
    row_values = sum(tile_rows[:, j] * (winner.col == j) for j in range(kw))
    tiles = row_values.reshape(-1, kh, wo)
    out = sum(tiles[:, i] * (winner.row == i) for i in range(kh))
    return out.reshape(lead + (ho, wo)).transpose(order)


class MaxPool2d(Function):
    """Max over each window. At ties the first offset (row-major) takes the gradient."""

    def forward(self, x):
        if self.kernel == self.stride and self.padding == (0, 0):
            out, self.winner = _tile_max(x, self.kernel, self.out_hw)
            return out
        padded = _pad(x, self.padding, -backend.get_array_module(x).inf)
        views = [view for _, view in _views(padded, self.kernel, self.stride, self.out_hw)]
        out, self.winner = _max_and_winner(views)
        return out

    def backward(self, g):
        return (WindowScatter.apply(g, winner=self.winner, image_shape=self.inputs[0].shape,
                                    kernel=self.kernel, stride=self.stride, padding=self.padding),)


class WindowGather(Function):
    """Sum over the kernel offsets of each window (only the winner's, when ``winner`` is set)."""

    def forward(self, x):
        ho_wo = output_size(x.shape[2:], self.kernel, self.stride, self.padding)
        if isinstance(self.winner, TileWinner):
            return _tile_gather(x, self.winner, self.kernel, ho_wo)
        xp = backend.get_array_module(x)
        out = xp.zeros(x.shape[:2] + ho_wo, dtype=x.dtype)
        for k, view in _views(_pad(x, self.padding, 0), self.kernel, self.stride, ho_wo):
            out += view if self.winner is None else view * (self.winner == k)
        return out

    def backward(self, g):
        return (WindowScatter.apply(g, winner=self.winner, image_shape=self.inputs[0].shape,
                                    kernel=self.kernel, stride=self.stride, padding=self.padding),)


class WindowScatter(Function):
    """Add each output gradient back onto its window (onto the winner only, when set)."""

    def forward(self, g):
        if isinstance(self.winner, TileWinner):
            return _tile_scatter(g, self.winner, self.kernel, self.image_shape)
        xp = backend.get_array_module(g)
        n, c, h, w = self.image_shape
        (ph, pw) = self.padding
        image = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=g.dtype)
        for k, view in _views(image, self.kernel, self.stride, g.shape[2:]):
            view += g if self.winner is None else g * (self.winner == k)
        return image[:, :, ph:ph + h, pw:pw + w]

    def backward(self, gg):
        return (WindowGather.apply(gg, winner=self.winner, kernel=self.kernel, stride=self.stride,
                                   padding=self.padding),)


def _pool_args(op: str, input: Tensor, kernel_size: Any, stride: Any, padding: Any):
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    check_window(op, input, kernel, stride, padding, (1, 1))
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel {kernel}")
    return kernel, stride, padding


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max over each ``kernel_size`` window; ``stride`` defaults to the kernel size.

    >>> F.max_pool2d(tn.randn(1, 1, 4, 4), 2).shape
    (1, 1, 2, 2)
    """
    kernel, stride, padding = _pool_args("max_pool2d", input, kernel_size, stride, padding)
    out_hw = output_size(input.shape[2:], kernel, stride, padding)
    return MaxPool2d.apply(input, kernel=kernel, stride=stride, padding=padding, out_hw=out_hw)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Mean over each window; zero padding counts towards the mean (PyTorch's default)."""
    kernel, stride, padding = _pool_args("avg_pool2d", input, kernel_size, stride, padding)
    total = WindowGather.apply(input, winner=None, kernel=kernel, stride=stride, padding=padding)
    return total / (kernel[0] * kernel[1])
