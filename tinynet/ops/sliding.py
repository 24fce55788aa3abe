"""``Tensor.unfold(dimension, size, step)``: every window of ``size`` elements along a dimension,
``step`` apart, as a new last dimension.

As in PyTorch the result is a view: a strided view of the input's memory (no copy), which shares
the input's version counter, so that an in-place change of either is seen by the other and by
autograd's version check. Under grad mode, changing the view in place follows tinynet's rule for
views of tensors that require grad: it raises.

Windows overlap when ``step < size``: then several elements of the view are one element of
memory, and PyTorch's in-place ops on such a view give results that depend on the order of the
writes (``add_`` adds once per window). tinynet refuses them instead, with the error PyTorch gives
for an ``expand``-ed view ("more than one element of the written-to tensor refers to a single
memory location"): the overlapping view is read-only (on the CPU; CuPy has no read-only arrays).
Windows ``step >= size`` apart are written as in PyTorch.

The gradient of the windows adds each window's gradient back at its place (``UnfoldBackward``),
whose own gradient is unfold again, so every order of derivative comes for free.
"""

from __future__ import annotations

from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.shape import _normalize_dim
from tinynet.tensor import Tensor


def _windows(a: Any, dim: int, size: int, step: int) -> Any:
    """The strided view of ``a``'s windows along ``dim`` (a new last axis of ``size``)."""
    count = (a.shape[dim] - size) // step + 1
    shape = a.shape[:dim] + (count,) + a.shape[dim + 1:] + (size,)
    strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + (a.strides[dim],)
    view = backend.get_array_module(a).lib.stride_tricks.as_strided(a, shape, strides)
    if step < size:  # overlapping windows: read-only, as an expanded view is
        try:
            view.flags.writeable = False
        except (AttributeError, ValueError, TypeError):  # CuPy arrays have no such flag
            pass
    return view


class Unfold(Op):
    """The windows of ``size`` elements, ``step`` apart, along ``dim``: a view of the input."""

    saves_inputs = False
    is_view = True

    def forward(self, a):
        self.in_shape = a.shape
        return _windows(a, self.dim, self.size, self.step)

    def backward(self, g):
        return (UnfoldBackward.apply(g, dim=self.dim, size=self.size, step=self.step,
                                     shape=self.in_shape),)


class UnfoldBackward(Op):
    """Zeros of ``shape`` with each window of ``g`` added back at its place (overlaps add up):
    the adjoint of Unfold."""

    saves_inputs = False

    def forward(self, g):
        xp = backend.get_array_module(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        count = g.shape[self.dim]
        lead = (slice(None),) * self.dim
        for k in range(self.size):  # element k of every window: one strided slice, no repeats
            out[lead + (slice(k, k + self.step * (count - 1) + 1, self.step),)] += g[..., k]
        return out

    def backward(self, gg):
        return (Unfold.apply(gg, dim=self.dim, size=self.size, step=self.step),)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A view of every window of ``size`` elements along ``dimension``, ``step`` apart: the
    dimension becomes the number of windows, ``(n - size) // step + 1``, and a last dimension of
    ``size`` is added (a 0-d input is one element: shape ``(size,)``). In-place changes of the
    view reach ``input``, as in PyTorch; where windows overlap (``step < size``) they raise
    instead (see the module's docstring)."""
    dim = _normalize_dim(dimension, input.ndim, "unfold")
    length = input.shape[dim] if input.ndim else 1
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    if size > length:
        raise RuntimeError(f"unfold: maximum size for tensor at dimension {dim} is {length} but "
                           f"size is {size}")
    if input.ndim == 0:
        return Unfold.apply(input.reshape(1), dim=0, size=size, step=step).reshape(size)
    return Unfold.apply(input, dim=dim, size=size, step=step)
