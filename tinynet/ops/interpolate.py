"""``interpolate``: resize the spatial dims of (N, C, ...) inputs, as PyTorch's
``F.interpolate``, by ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (3-D inputs),
``'bilinear'``, ``'bicubic'`` (4-D) or ``'trilinear'`` (5-D).

Each spatial dim is resized in turn: nearest modes gather the source index of every output
position; linear modes gather the two neighbours and mix them by the position's fraction;
bicubic gathers four neighbours (clamped at the edges) and mixes them with Keys' cubic
convolution weights (a = -0.75, as PyTorch).
Both are ops already (a gather, products, a sum), so the gradient, and its gradient, come
from them: a gather's backward adds up where one source fed several outputs.

>>> F.interpolate(tn.arange(4.0).reshape(1, 1, 2, 2), scale_factor=2).shape
tinynet.Size([1, 1, 4, 4])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tinynet.ops.conv1d import adaptive_avg_pool1d
from tinynet.ops.conv3d import adaptive_avg_pool3d
from tinynet.ops.pool import adaptive_avg_pool2d
from tinynet.ops.shape import along, getitem
from tinynet.tensor import Tensor

# the input dims each interpolating mode takes
_LINEAR = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
CUBIC_A = -0.75  # the cubic convolution's parameter, PyTorch's


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """``input`` (N, C, *spatial) resized to ``size`` or by ``scale_factor`` (one of them).

    ``align_corners`` (linear modes only) maps the corner pixels' centres onto each other;
    by default, as in PyTorch, pixels are areas and the output's centres map into the input.
    """
    spatial = input.ndim - 2
    if mode not in ("nearest", "nearest-exact", "area") and mode not in _LINEAR:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not built in tinynet; use "
                                  "'nearest', 'nearest-exact', 'area', 'linear', 'bilinear', "
                                  "'bicubic' or 'trilinear'")
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode]}D input")
    if spatial < 1:
        raise ValueError(f"interpolate: expected input (N, C, *spatial), got shape "
                         f"{tuple(input.shape)}")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not built in tinynet")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined"
                         if size is not None else "either size or scale_factor should be defined")
    sizes_in = input.shape[2:]
    if size is not None:
        sizes = _per_dim(size, spatial, "size")
        scales: list[float | None] = [None] * spatial
    else:
        factors = _per_dim(scale_factor, spatial, "scale_factor")
        sizes = [math.floor(n * f) for n, f in zip(sizes_in, factors)]
        scales = [None if recompute_scale_factor else 1 / f for f in factors]
    if any(n_out <= 0 for n_out in sizes):
        raise ValueError(f"interpolate: output size {tuple(sizes)} must be positive")
    if mode == "area":  # PyTorch's: each output the mean of its adaptive pooling window
        pooling = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d,
                   3: adaptive_avg_pool3d}.get(spatial)
        if pooling is None:
            raise NotImplementedError(f"interpolate: mode 'area' takes 3-D, 4-D or 5-D input, "
                                      f"got shape {tuple(input.shape)}")
        return pooling(input, tuple(int(n) for n in sizes))
    out = input
    for i, (n_in, n_out, scale) in enumerate(zip(sizes_in, sizes, scales)):
        out = _resize(out, 2 + i, n_in, int(n_out), scale, mode, bool(align_corners))
    return out


def _per_dim(value: Any, spatial: int, name: str) -> list[Any]:
    values = list(value) if isinstance(value, (tuple, list)) else [value] * spatial
    if len(values) != spatial:
        raise ValueError(f"interpolate: {name} {value!r} gives {len(values)} values for "
                         f"{spatial} spatial dims")
    return values


def _resize(x: Tensor, dim: int, n_in: int, n_out: int, scale: float | None, mode: str,
            align_corners: bool) -> Tensor:
    """``x`` resized from ``n_in`` to ``n_out`` along ``dim``; ``scale`` is in/out unless the
    caller's scale_factor fixes it."""
    xp = x.xp
    positions = xp.arange(n_out, dtype=xp.float64)
    if mode in ("nearest", "nearest-exact"):
        step = n_in / n_out if scale is None else scale
        shift = 0.5 if mode == "nearest-exact" else 0.0
        source = xp.minimum(xp.floor((positions + shift) * step).astype(xp.int64), n_in - 1)
        return getitem(x, along(dim, source))
    if align_corners:
        source = positions * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:  # pixel centres; bicubic, unlike linear, reads left of the first one
        step = n_in / n_out if scale is None else scale
        source = (positions + 0.5) * step - 0.5
        source = source if mode == "bicubic" else xp.maximum(source, 0.0)
    along_dim = (n_out,) + (1,) * (x.ndim - dim - 1)
    if mode == "bicubic":
        start = xp.floor(source)
        out = None
        for offset, weight in zip((-1, 0, 1, 2), _cubic_weights(source - start)):
            index = xp.clip(start.astype(xp.int64) + offset, 0, n_in - 1)
            term = getitem(x, along(dim, index)) * Tensor(weight.astype(x.dtype).reshape(along_dim))
            out = term if out is None else out + term
        return out
    below = xp.minimum(xp.floor(source).astype(xp.int64), n_in - 1)
    above = xp.minimum(below + 1, n_in - 1)
    weight = Tensor((source - below).astype(x.dtype).reshape(along_dim))
    return getitem(x, along(dim, below)) * (1 - weight) + getitem(x, along(dim, above)) * weight


def _cubic_weights(t: Any) -> list[Any]:
    """The weights of the four neighbours at -1, 0, 1 and 2 of a position ``t`` in [0, 1) past
    the second one: Keys' cubic convolution kernel at distances t + 1, t, 1 - t and 2 - t."""
    a = CUBIC_A

    def near(d: Any) -> Any:  # distance up to 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: Any) -> Any:  # distance between 1 and 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]
