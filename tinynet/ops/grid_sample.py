"""``affine_grid`` and ``grid_sample``: sample an image at arbitrary points, as PyTorch's
functions of the same names (the two halves of a spatial transformer network).

``affine_grid`` maps every output pixel's normalised position through an affine matrix θ;
``grid_sample`` reads the input at the positions a grid gives, where -1 and 1 are the edges
(``align_corners=False``: the outer edges of the corner pixels; ``True``: their centres).

Both are compositions of ops already built: a product with θ, then for each sampled point a
gather of its neighbours mixed by weights that are polynomials of the point's position. So
the gradient reaches the input (the gather's backward adds up) and the grid (through the
weights), and every higher order comes from the same ops.

>>> theta = tn.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])    # the identity
>>> grid = F.affine_grid(theta, (1, 1, 2, 2), align_corners=False)
>>> F.grid_sample(tn.arange(4.0).reshape(1, 1, 2, 2), grid, align_corners=False)
tensor([[[[0., 1.],
          [2., 3.]]]])
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.ops.elementwise import where
from tinynet.ops.indexing import gather
from tinynet.ops.interpolate import _cubic_weights
from tinynet.tensor import Tensor

_MODES = ("bilinear", "nearest", "bicubic")
_PADDING_MODES = ("zeros", "border", "reflection")
_DEFAULT_CHANGED = ("Default grid_sample and affine_grid behavior has changed to "
                    "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                    "old behavior is desired. See the documentation of grid_sample for details.")


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta``: (N, 2, 3) for a 4-D ``size``
    (N, C, H, W), giving an (N, H, W, 2) grid, or (N, 3, 4) for a 5-D one, giving
    (N, D, H, W, 3). Each point is θ · (x, y[, z], 1) for its pixel's normalised position."""
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(n) for n in size)
    if len(size) not in (4, 5):
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    spatial = size[2:]
    dims = len(spatial)
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (dims, dims + 1):
        kind = "Nx2x3" if dims == 2 else "Nx3x4"
        raise ValueError(f"Expected a batch of {dims}D affine matrices of shape {kind} for size "
                         f"{size}. Got {tuple(theta.shape)}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    xp = theta.xp
    # the base grid: every pixel's (x, y[, z], 1), x running along the last dim
    axes = [_positions(xp, n, align_corners, theta.dtype) for n in reversed(spatial)]
    base = xp.ones(spatial + (dims + 1,), dtype=theta.dtype)
    for i, positions in enumerate(axes):
        base[..., i] = positions.reshape([-1 if d == dims - 1 - i else 1 for d in range(dims)])
    points = Tensor(base.reshape(1, -1, dims + 1)) @ theta.transpose(1, 2)
    return points.reshape((size[0],) + spatial + (dims,))


def _positions(xp: Any, n: int, align_corners: bool, dtype: Any) -> Any:
    """The normalised positions of ``n`` pixels' centres in [-1, 1], in ``dtype``, to the last
    bit as PyTorch makes them (that bit decides which pixel a point on a pixel centre reads):
    its linspace steps up from -1 to the middle and down from 1 after it, each value one
    fused multiply-add, which the exact fractions here round as it does."""
    if n <= 1:
        return xp.zeros(n, dtype=dtype)
    as_dtype = xp.dtype(dtype).type
    step = Fraction(float(as_dtype(2.0 / (n - 1))))
    values = [Fraction(-1) + step * i if i < n // 2 else Fraction(1) - step * (n - 1 - i)
              for i in range(n)]
    positions = xp.asarray([float(v) for v in values], dtype=dtype)
    return positions if align_corners else positions * (n - 1) / n


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """``input`` (N, C, H, W) or (N, C, D, H, W) read at the points of ``grid``
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), whose last dim holds (x, y[, z]) in
    [-1, 1]: x indexes the width. Gives (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out).

    ``mode``: ``'bilinear'`` (trilinear on 5-D input), ``'nearest'`` (ties to even, no
    gradient to the grid) or ``'bicubic'`` (4-D, Keys' kernel with a = -0.75).
    ``padding_mode`` says what lies outside: ``'zeros'``, the ``'border'`` value, or the image's
    ``'reflection'`` about its edges (for bicubic the four neighbours are padded each).
    """
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                         f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDING_MODES:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=2)
        align_corners = False
    _check_shapes(input, grid, mode)
    xp = input.xp
    batch, channels, *spatial = input.shape
    dims = len(spatial)
    points = grid.shape[1:-1]
    # per input dim, the grid's coordinate in pixels (the grid lists x first: reversed dims)
    coords = [_unnormalize(grid[..., dims - 1 - d], n, align_corners, dims)
              for d, n in enumerate(spatial)]
    flat = input.reshape(batch, channels, math.prod(spatial))
    flat_points = math.prod(points)

    def read(indices: list[Any]) -> Tensor:
        """The input at integer positions (one array per dim, the grid's shape); 0 outside."""
        inside = xp.ones(indices[0].shape, dtype=bool)
        linear = xp.zeros(indices[0].shape, dtype=xp.int64)
        for index, n in zip(indices, spatial):
            inside &= (index >= 0) & (index < n)
            linear = linear * n + xp.clip(index, 0, n - 1)
        linear = xp.broadcast_to(linear.reshape(batch, 1, flat_points),
                                 (batch, channels, flat_points))
        values = gather(flat, 2, linear).reshape((batch, channels) + points)
        return values * Tensor(inside[:, None].astype(input.dtype))

    if mode == "bicubic":  # the neighbours are padded, not the point
        starts = [xp.floor(c.array) for c in coords]
        weights = [_cubic_weights(c - Tensor(s)) for c, s in zip(coords, starts)]
        out = None
        for i in range(4):
            for j in range(4):
                rows = _pad_index(xp, starts[0].astype(xp.int64) + i - 1, spatial[0], padding_mode,
                                  align_corners)
                cols = _pad_index(xp, starts[1].astype(xp.int64) + j - 1, spatial[1], padding_mode,
                                  align_corners)
                term = read([rows, cols]) * (weights[0][i] * weights[1][j]).unsqueeze(1)
                out = term if out is None else out + term
        return out
    coords = [_pad_coordinate(c, n, padding_mode, align_corners) for c, n in zip(coords, spatial)]
    if mode == "nearest":
        out = read([xp.rint(c.array).astype(xp.int64) for c in coords])
        if grid.requires_grad:  # PyTorch's grid gets a zero gradient, not none
            out = out * where(Tensor(xp.ones(points, dtype=bool)), 1.0, coords[0]).unsqueeze(1)
        return out
    lows = [xp.floor(c.array) for c in coords]
    fractions = [c - Tensor(low) for c, low in zip(coords, lows)]
    out = None
    for corner in range(2 ** dims):  # each corner's weight is the product over the dims
        offsets = [(corner >> (dims - 1 - d)) & 1 for d in range(dims)]
        weight = None
        for fraction, offset in zip(fractions, offsets):
            factor = fraction if offset else 1 - fraction
            weight = factor if weight is None else weight * factor
        indices = [low.astype(xp.int64) + offset for low, offset in zip(lows, offsets)]
        term = read(indices) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _check_shapes(input: Tensor, grid: Tensor, mode: str) -> None:
    if input.ndim not in (4, 5):
        raise RuntimeError("grid_sampler(): expected a 4-D (N, C, H, W) or 5-D (N, C, D, H, W) "
                           f"input, but got input with sizes {list(input.shape)}")
    dims = input.ndim - 2
    if grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected grid to have {input.ndim} dims like the "
                           f"input, but got grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != dims:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {dims} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    for d in range(2, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but "
                           f"got input {input.dtype} and grid {grid.dtype}")
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid on one device, but got "
                           f"input on {input.device} and grid on {grid.device}")


def _unnormalize(coordinate: Tensor, n: int, align_corners: bool, dims: int) -> Tensor:
    """[-1, 1] to pixels: the centres of the corner pixels, or their outer edges. Rounded as
    PyTorch's CPU kernels round it (the 2-D one and the 3-D one differ), so that a grid on the
    pixel centres, such as an identity affine_grid's, picks the same pixels."""
    if dims == 2:
        if align_corners:
            return (coordinate + 1) * ((n - 1) / 2)
        shifted = coordinate + 1
        pixels = shifted * (n / 2) - 0.5
        # PyTorch's compiled kernel fuses this multiply and subtract, rounding once
        fused = _fused_multiply_add(shifted.array, n / 2, -0.5)
        return pixels + Tensor(fused - pixels.array)
    if align_corners:
        return (coordinate + 1) / 2 * (n - 1)
    return ((coordinate + 1) * n - 1) / 2


def _pad_coordinate(coordinate: Tensor, n: int, padding_mode: str, align_corners: bool) -> Tensor:
    """A pixel coordinate moved inside the image by ``padding_mode``. Clipping and reflecting
    are piecewise linear, so the result is slope · c + offset with the slope (0 or ±1) and the
    offset read off the values: the gradient is PyTorch's (0 where clipped, even on the edge)."""
    if padding_mode == "zeros":
        return coordinate
    xp = coordinate.xp
    value = coordinate.array
    slope = xp.ones_like(value)
    if padding_mode == "reflection":
        value, slope = _reflect(xp, value, n, align_corners)
    clipped = xp.clip(value, 0, n - 1)
    slope = xp.where((value > 0) & (value < n - 1), slope, 0.0).astype(value.dtype, copy=False)
    offset = (clipped - slope * coordinate.array).astype(value.dtype, copy=False)
    return coordinate * Tensor(slope) + Tensor(offset)


def _reflect(xp: Any, value: Any, n: int, align_corners: bool) -> tuple[Any, Any]:
    """``value`` reflected about the image's edges (pixel centres with align_corners, else the
    outer edges) until it lies between them, and the sign of d(reflected)/d(value)."""
    low, span = (0.0, n - 1.0) if align_corners else (-0.5, float(n))
    if span <= 0:  # one pixel, corners aligned: every point is that pixel
        return xp.zeros_like(value), xp.zeros_like(value)
    distance = xp.abs(value - low)
    sign = xp.where(value - low < 0, -1.0, 1.0)
    flips = xp.floor(distance / span)
    extra = xp.fmod(distance, span)
    even = flips % 2 == 0
    dtype = value.dtype
    return (xp.where(even, extra + low, span - extra + low).astype(dtype, copy=False),
            xp.where(even, sign, -sign).astype(dtype, copy=False))


def _pad_index(xp: Any, index: Any, n: int, padding_mode: str, align_corners: bool) -> Any:
    """An integer neighbour's index moved inside by ``padding_mode`` (bicubic's padding)."""
    if padding_mode == "zeros":
        return index
    if padding_mode == "reflection":
        index = _reflect(xp, index.astype(xp.float64), n, align_corners)[0]
    return xp.clip(index, 0, n - 1).astype(xp.int64)


def _fused_multiply_add(a: Any, b: float, c: float) -> Any:
    """a · b + c rounded once, as a fused multiply-add, in a's float dtype: the product is
    split exactly into a rounded part and its error (Dekker's two-product), the sum likewise
    (Knuth's two-sum), and the errors added back last."""
    xp = backend.get_array_module(a)
    dtype = a.dtype.type
    b, c = dtype(b), dtype(c)
    splitter = dtype(2.0 ** 27 + 1 if a.dtype.itemsize == 8 else 2.0 ** 12 + 1)

    def halves(x: Any) -> tuple[Any, Any]:
        scaled = splitter * x
        high = scaled - (scaled - x)
        return high, x - high

    product = a * b
    (a_high, a_low), (b_high, b_low) = halves(a), halves(xp.asarray(b))
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    back = total - product
    sum_error = (product - (total - back)) + (c - back)
    return total + (sum_error + product_error)
