"""Scans and searches along a dim: the running extremes ``cummax``/``cummin`` and
``logcumsumexp``; the order statistics ``kthvalue``, ``mode`` and ``msort``; the binary searches
``searchsorted`` and ``bucketize``; ``unique_consecutive``; and the histogram ``histc``.

Every value an op here picks from its input (running extremes, k-th values, modes, sorted values)
is ``gather(input, dim, indices)``, so its gradient goes to the element it came from, to every
order. ``logcumsumexp`` is its own op, stable at any magnitude, with a backward in tinynet ops
that is linear in the incoming gradient. Index results, ``searchsorted``, ``bucketize``,
``unique_consecutive`` and ``histc`` are not differentiable, as in PyTorch.

NumPy accumulates any ufunc along an axis (``maximum.accumulate``, ``logaddexp.accumulate``);
CuPy accumulates only sums and products, so on the GPU ``_running`` scans in ⌈log2 n⌉ steps.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections import namedtuple
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.dtypes import result_type
from tinynet.ops.elementwise import exp, where
from tinynet.ops.indexing import NoDerivative, gather
from tinynet.ops.ordering import _argsort, sort
from tinynet.ops.shape import _normalize_dim, movedim, pad, reshape, squeeze
from tinynet.tensor import Tensor

Cummax = namedtuple("cummax", ["values", "indices"])
Cummin = namedtuple("cummin", ["values", "indices"])
Kthvalue = namedtuple("kthvalue", ["values", "indices"])
Mode = namedtuple("mode", ["values", "indices"])


# --------------------------------------------------------------------------- helpers
def _running(name: str, a: Any, axis: int) -> Any:
    """``xp.<name>.accumulate(a, axis=axis)`` for the associative ufunc ``name`` (maximum,
    minimum, logaddexp). CuPy's ufuncs accumulate only add and multiply, so on the GPU this is a
    Hillis–Steele scan: step k combines every element with the one 2^k before it."""
    xp = backend.get_array_module(a)
    ufunc = getattr(xp, name)
    if backend.device_of(a) == "cpu":
        return ufunc.accumulate(a, axis=axis)
    out = xp.moveaxis(a, axis, -1).copy()
    n, shift = out.shape[-1], 1
    while shift < n:
        out[..., shift:] = ufunc(out[..., shift:], out[..., :-shift])
        shift *= 2
    return xp.moveaxis(out, -1, axis)


def _int(op: str, name: str, position: int, value: Any) -> int:
    """``value`` as an int, refusing bools, floats and None with PyTorch's TypeError."""
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{op}(): argument '{name}' (position {position}) must be int, not "
                    f"{type(value).__name__}")


def _refuse_dtypes(op: str, input: Tensor, kinds: str) -> None:
    """PyTorch's NotImplementedError for a dtype its kernel has no loop for."""
    if input.dtype.kind in kinds:
        raise NotImplementedError(f"{op}: not implemented for dtype {input.dtype} (input of shape "
                                  f"{tuple(input.shape)}), as in PyTorch")


def _as_1d(input: Tensor, dim: Any, op: str) -> tuple[Tensor, int]:
    """``input`` with at least one dim (a 0-d tensor becomes shape (1,)) and ``dim`` checked
    and made non-negative."""
    dim = _normalize_dim(_int(op, "dim", 2, dim), input.ndim, op)
    return (input if input.ndim else reshape(input, (1,))), dim


def _named(out: Tensor, node_name: str) -> Tensor:
    """``out`` with its last node named as PyTorch names its one node for this op."""
    if out.grad_fn is not None:
        out.grad_fn.node_name = node_name
    return out


def _reduced(input: Tensor, values: Tensor, indices: Any, dim: int, keepdim: bool,
             node_name: str) -> tuple:
    """(values, indices) of a reduction along ``dim`` that kept it as size 1: squeezed unless
    ``keepdim``, and 0-d for a 0-d input; the last node of ``values`` named ``node_name``."""
    indices = Tensor(indices)
    if input.ndim == 0:
        values, indices = reshape(values, ()), reshape(indices, ())
    elif not keepdim:
        values, indices = squeeze(values, dim), squeeze(indices, dim)
    return _named(values, node_name), indices


def _nonempty(op: str, input: Tensor, dim: int) -> None:
    if input.ndim and input.shape[dim] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {dim} to have non-zero size (input of "
                         f"shape {tuple(input.shape)})")


# --------------------------------------------------------------------------- running extremes
def _cumulative_extreme(input: Tensor, dim: int, largest: bool) -> tuple[Tensor, Tensor]:
    op = "cummax" if largest else "cummin"
    _refuse_dtypes(op, input, "c")
    x, dim = _as_1d(input, dim, op)
    xp, a = x.xp, x.array
    running = _running("maximum" if largest else "minimum", a, dim)  # NaN propagates
    holds = a == running  # the element is (tied with) the extreme so far
    if a.dtype.kind == "f":
        holds |= xp.isnan(a)  # a NaN takes over from everything, and each NaN from the last one
    position = xp.arange(x.shape[dim], dtype="int64").reshape(
        [-1 if d == dim else 1 for d in range(x.ndim)])
    # the last holder so far: a tie moves the index on, as PyTorch's >= (<=) does
    indices = _running("maximum", xp.where(holds, position, 0), dim)
    values, indices = gather(x, dim, indices), Tensor(indices)
    if input.ndim == 0:
        values, indices = reshape(values, ()), reshape(indices, ())
    return _named(values, "CummaxBackward0" if largest else "CumminBackward0"), indices


def cummax(input: Tensor, dim: int) -> Cummax:
    """``(values, indices)``: the running maximum along ``dim`` and where it is. As in PyTorch,
    an element equal to the maximum so far takes over (the index is the last of tied ones), and
    NaN counts as the largest value. The gradient of ``values`` goes to ``indices``.

    >>> tn.cummax(tn.tensor([1.0, 3.0, 2.0, 3.0]), 0)
    cummax(values=tensor([1., 3., 3., 3.]), indices=tensor([0, 1, 1, 3]))
    """
    return Cummax(*_cumulative_extreme(input, dim, largest=True))


def cummin(input: Tensor, dim: int) -> Cummin:
    """``(values, indices)``: the running minimum along ``dim`` and where it is; ties take the
    last index and NaN propagates, as in PyTorch (see ``cummax``).

    >>> tn.cummin(tn.tensor([3.0, 1.0, 2.0, 1.0]), 0).indices
    tensor([0, 1, 1, 3])
    """
    return Cummin(*_cumulative_extreme(input, dim, largest=False))


# --------------------------------------------------------------------------- logcumsumexp
class LogCumSumExp(Op):
    """``y[i] = log(exp(x[0]) + … + exp(x[i]))`` along ``dim``, by ``logaddexp`` steps (never
    through ``exp``, so it neither overflows nor underflows)."""

    node_name = "LogcumsumexpBackward0"

    def forward(self, a):
        self.out = _running("logaddexp", a, self.dim)
        return self.out

    def backward(self, g):
        return (logcumsumexp_backward(self.inputs[0], g, self.output(self.out), self.dim),)


def logcumsumexp_backward(x: Tensor, g: Tensor, y: Tensor, dim: int) -> Tensor:
    """The gradient of ``sum(g * y)``, ``y = logcumsumexp(x, dim)``, with respect to ``x``, in
    tinynet ops: ``exp(x[j] − y[j]) · T[j]`` with ``T[j] = Σ_{i≥j} g[i] · exp(y[j] − y[i])``.

    ``y`` never decreases, so every weight is at most 1 and nothing overflows at any magnitude.
    ``T`` is a log-step scan: after the step of shift k, ``T[j]`` sums the 2k terms from j on,
    adding ``exp(y[j] − y[j+k]) · T[j+k]``. It is linear in ``g``, so derivatives in ``g`` are
    exact even where ``g`` is 0 (PyTorch's backward takes ``log|g|`` and gives NaN there).
    Where ``y`` is −inf (every input so far is −inf) the gradient is 0, not PyTorch's NaN: the
    ``where`` masks the argument of ``exp``, so no branch computes ``−inf − (−inf)``.
    """
    x, g, y = (movedim(t, dim, -1) for t in (x, g, y))
    live = y.array != -math.inf  # NaN stays live, so it propagates as in PyTorch
    # a term of a +inf output weighs exp(y[j] - inf) = 0, also where y[j] is +inf too (no
    # inf - inf = NaN in T, which x[j] < inf would read as 0 · NaN): PyTorch's 0 there
    finite_after = y.array != math.inf
    y = where(live & finite_after, y, 0.0)  # a finite stand-in; every weight that reads it is masked
    total, n, k = g, g.shape[-1], 1
    while k < n:
        weight = exp(where(live[..., :-k] & finite_after[..., k:], y[..., :-k] - y[..., k:],
                           -math.inf))
        total = total + pad(weight * total[..., k:], (0, k))
        k *= 2
    # exp(x[j] - y[j]); where y[j] is +inf, 0 for x[j] < inf and NaN for x[j] = +inf, as PyTorch
    scale = where(finite_after, where(live, x, -math.inf) - y, x - math.inf)
    return movedim(exp(scale) * total, -1, dim)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input), dim))``, computed stably (a running ``logaddexp``): exact for
    inputs of any size, −inf for a prefix of −infs. Floating-point input only, as in PyTorch.
    Its gradient is 0 (not PyTorch's NaN) at inputs of −inf.

    >>> tn.logcumsumexp(tn.tensor([1000.0, 1000.0]), 0)
    tensor([1000.0000, 1000.6932])
    """
    _refuse_dtypes("logcumsumexp", input, "biuc")
    x, dim = _as_1d(input, dim, "logcumsumexp")
    out = LogCumSumExp.apply(x, dim=dim)
    return _named(reshape(out, ()), LogCumSumExp.node_name) if input.ndim == 0 else out


# --------------------------------------------------------------------------- order statistics
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Kthvalue:
    """``(values, indices)`` of the ``k``-th smallest element along ``dim`` (k from 1; NaN
    counts as the largest value). Among equal elements the index is the k-th in a stable sort
    (PyTorch's, a quickselect, may pick another of them). The gradient goes to ``indices``.

    >>> tn.kthvalue(tn.tensor([3.0, 1.0, 2.0]), 2)
    kthvalue(values=tensor(2.), indices=tensor(2))
    """
    k = _int("kthvalue", "k", 2, k)
    _refuse_dtypes("kthvalue", input, "bc")
    x, dim = _as_1d(input, dim, "kthvalue")
    _nonempty("kthvalue", input, dim)
    size = x.shape[dim]
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {dim} "
                           f"of size {size} (input of shape {tuple(input.shape)})")
    order = _argsort(x.array, dim, descending=False)
    indices = order[(slice(None),) * dim + (slice(k - 1, k),)]
    return Kthvalue(*_reduced(input, gather(x, dim, indices), indices, dim, keepdim,
                              "KthvalueBackward0"))


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Mode:
    """``(values, indices)``: the most frequent value along ``dim`` and where it occurs. As in
    PyTorch, the smallest of equally frequent values wins, the index is its last occurrence
    (which PyTorch guarantees for dims of up to 16 elements) and every NaN is a value of its
    own. The gradient goes to ``indices``.

    >>> tn.mode(tn.tensor([2, 1, 2, 1, 3]))
    mode(values=tensor(1), indices=tensor(3))
    """
    _refuse_dtypes("mode", input, "c")
    x, dim = _as_1d(input, dim, "mode")
    _nonempty("mode", input, dim)
    xp, n = x.xp, x.shape[dim]
    order = xp.moveaxis(_argsort(x.array, dim, descending=False), dim, -1)  # equal runs, NaN last
    ordered = xp.take_along_axis(xp.moveaxis(x.array, dim, -1), order, axis=-1)
    position = xp.arange(n, dtype="int64")
    starts = xp.ones(ordered.shape, dtype=bool)
    starts[..., 1:] = ordered[..., 1:] != ordered[..., :-1]  # NaN != NaN: each NaN stands alone
    ends = xp.ones(ordered.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = _running("maximum", xp.where(starts, position, 0), -1)
    last = xp.flip(_running("minimum", xp.flip(xp.where(ends, position, n - 1), -1), -1), -1)
    best = xp.argmax(last - first, axis=-1)[..., None]  # the first (smallest) longest run
    chosen = xp.take_along_axis(order, xp.take_along_axis(last, best, axis=-1), axis=-1)
    indices = xp.moveaxis(chosen, -1, dim)
    return Mode(*_reduced(input, gather(x, dim, indices), indices, dim, keepdim, "ModeBackward0"))


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along dim 0 (values only; NaN last), as ``torch.msort``; the gradient
    goes to the element each value came from.

    >>> tn.msort(tn.tensor([[3.0, 1.0], [1.0, 2.0]]))
    tensor([[1., 1.],
            [3., 2.]])
    """
    return sort(input, 0).values


# --------------------------------------------------------------------------- binary searches
def _binary_search(boundaries: Any, values: Any, sorter: Any, right: bool) -> Any:
    """PyTorch's lower (upper) bound of each row of ``values`` (R, m) in the row of
    ``boundaries`` (R or 1, n), every search at once, one halving of all intervals per step, with
    PyTorch's comparisons, so a NaN or an unsorted sequence gives what PyTorch gives too."""
    xp = backend.get_array_module(values)
    n = boundaries.shape[-1]
    start = xp.zeros(values.shape, dtype="int64")
    if n == 0:
        return start
    end = xp.full(values.shape, n, dtype="int64")
    rows = xp.broadcast_to(boundaries, values.shape[:-1] + (n,))
    if sorter is not None:
        sorter = xp.broadcast_to(sorter, rows.shape)
    for _ in range(n.bit_length()):  # an interval of n halves to nothing in that many steps
        active = start < end
        mid = start + (end - start) // 2
        probe = xp.minimum(mid, n - 1)
        if sorter is not None:
            probe = xp.take_along_axis(sorter, probe, axis=-1)
        pivot = xp.take_along_axis(rows, probe, axis=-1)
        onwards = ~(pivot > values) if right else ~(pivot >= values)
        start = xp.where(active & onwards, mid + 1, start)
        end = xp.where(active & ~onwards, mid, end)
    return start


def searchsorted(sorted_sequence: Tensor, input: Tensor | float, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Where each element of ``input`` would be inserted into ``sorted_sequence`` (along its last
    dim) to keep it sorted: the first index whose value is ``>=`` the element, or ``>`` with
    ``right=True`` / ``side='right'``. ``sorted_sequence`` is 1-D, or has ``input``'s leading
    dims (one sequence per row); ``input`` may be a Python number. ``sorter`` sorts an unsorted
    sequence (``argsort``'s indices). int64 indices, int32 with ``out_int32``; not
    differentiable.

    >>> tn.searchsorted(tn.tensor([1, 3, 5]), tn.tensor([3, 6]))
    tensor([1, 3])
    >>> tn.searchsorted(tn.tensor([1, 3, 5]), 3, right=True)
    tensor(2)
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted(): side can only be 'left' or 'right' but got "
                               f"{side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    if not isinstance(sorted_sequence, Tensor):
        raise TypeError(f"searchsorted(): argument 'sorted_sequence' must be Tensor, not "
                        f"{type(sorted_sequence).__name__}")
    number = not isinstance(input, Tensor)
    if number and not isinstance(input, numbers.Number):
        raise TypeError(f"searchsorted(): argument 'input' must be a Tensor or a number, not "
                        f"{type(input).__name__}")
    xp, shape = sorted_sequence.xp, tuple(sorted_sequence.shape)
    values_shape = () if number else tuple(input.shape)
    if not number and input.device != sorted_sequence.device:
        raise RuntimeError(f"searchsorted(): boundaries and input value tensors should be on "
                           f"the same device, got {sorted_sequence.device} and {input.device}")
    if sorter is not None:
        if not isinstance(sorter, Tensor) or tuple(sorter.shape) != shape:
            raise RuntimeError(f"searchsorted(): boundary and sorter must have the same size, "
                               f"but got boundary tensor {list(shape)} and got sorter tensor "
                               f"{list(getattr(sorter, 'shape', ()))}")
    if not values_shape and len(shape) != 1:
        raise RuntimeError(f"searchsorted(): input value can be a scalar only when "
                           f"boundaries tensor dimension is 1, but we got boundaries tensor "
                           f"dim({len(shape)}) and input value's dim(0)")
    if not shape:
        raise RuntimeError("searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if len(shape) != 1 and (len(values_shape) != len(shape) or values_shape[:-1] != shape[:-1]):
        raise RuntimeError(f"searchsorted(): boundaries tensor should be 1 dimension or the "
                           f"first N-1 dimensions of boundaries tensor and input value tensor "
                           f"must match, but we got boundaries tensor {list(shape)} and input "
                           f"value tensor {list(values_shape)}")
    if sorter is not None:
        if sorter.dtype != "int64":
            raise RuntimeError(f"searchsorted(): sorter must be a tensor of long dtype but "
                               f"got dtype {sorter.dtype}")
        if sorter.numel() and bool(((sorter.array < 0) | (sorter.array >= shape[-1])).any()):
            raise RuntimeError("searchsorted(): sorter index out of range")
    dtype = result_type(sorted_sequence, input)
    if dtype.kind in "bc":
        raise NotImplementedError(f"searchsorted: not implemented for dtype {dtype} (sequence "
                                  f"{sorted_sequence.dtype}, input "
                                  f"{type(input).__name__ if number else input.dtype})")
    boundaries = sorted_sequence.array.astype(dtype, copy=False)
    values = (backend.scalar_array(xp, input, dtype) if number else
              input.array.astype(dtype, copy=False))
    if len(shape) == 1:  # one sequence for every value
        found = _binary_search(boundaries[None], values.reshape(1, -1),
                               None if sorter is None else sorter.array[None], right)
    else:
        found = _binary_search(boundaries, values, None if sorter is None else sorter.array, right)
    return Tensor(found.reshape(values_shape).astype("int32" if out_int32 else "int64"))


def bucketize(input: Tensor | float, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each element of ``input`` among the 1-D sorted ``boundaries``: index ``i``
    with ``boundaries[i-1] < x <= boundaries[i]``, or ``boundaries[i-1] <= x < boundaries[i]``
    with ``right=True`` — the same as ``searchsorted(boundaries, input, right=right)``.
    ``input`` may be a Python number; not differentiable.

    >>> tn.bucketize(tn.tensor([0.5, 1.0, 4.0]), tn.tensor([1.0, 3.0]))
    tensor([0, 0, 2])
    """
    if not isinstance(boundaries, Tensor):
        raise TypeError(f"bucketize(): argument 'boundaries' must be Tensor, not "
                        f"{type(boundaries).__name__}")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries.ndim}) (shape {tuple(boundaries.shape)})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# --------------------------------------------------------------------------- unique_consecutive
class _NotDifferentiable(NoDerivative):
    """A node whose backward raises PyTorch's NotImplementedError (as its node of that name)."""

    def backward(self, g):
        raise NotImplementedError(f"the derivative for '{self.what}' is not implemented.")


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Tensor | tuple:
    """Each run of equal consecutive elements (or, with ``dim``, slices along ``dim``) kept
    once, in order; optionally (``return_inverse``) the run each element or slice belongs to,
    and (``return_counts``) each run's length. NaNs never equal each other, as in PyTorch. Not
    differentiable: as in PyTorch, a backward through the values raises NotImplementedError.

    >>> tn.unique_consecutive(tn.tensor([1, 1, 2, 2, 3, 1]), return_counts=True)
    (tensor([1, 2, 3, 1]), tensor([2, 2, 1, 1]))
    """
    xp, a = input.xp, input.array
    if dim is None:
        rows, inverse_shape = a.reshape(-1, 1), tuple(input.shape)
    else:
        if input.ndim == 0:
            raise IndexError(f"unique_consecutive: dimension specified as {dim} but tensor has no "
                             "dimensions")
        dim = _normalize_dim(_int("unique_consecutive", "dim", 4, dim), input.ndim,
                             "unique_consecutive")
        moved = xp.moveaxis(a, dim, 0)
        if moved.shape[0] and 0 in moved.shape[1:]:
            raise RuntimeError(f"unique_consecutive: there are 0 sized dimensions, and they aren't "
                               f"selected (shape {tuple(input.shape)}, dim {dim}), so unique "
                               "cannot be applied")
        rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
        inverse_shape = (moved.shape[0],)
    n = rows.shape[0]
    starts = xp.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)  # != : NaN never equals NaN
    first = xp.flatnonzero(starts)

    def compute(array: Any) -> Any:
        if dim is None:
            return array.reshape(-1)[first]
        return xp.ascontiguousarray(xp.take(array, first, axis=dim))

    values = _NotDifferentiable.apply(input, compute=compute, what="unique_consecutive",
                                      node_name="UniqueConsecutiveBackward0")
    result = [values]
    if return_inverse:
        result.append(Tensor((xp.cumsum(starts) - 1).astype("int64").reshape(inverse_shape)))
    if return_counts:
        ends = xp.concatenate([first[1:], xp.full(1, n, dtype=first.dtype)]) if n else first
        result.append(Tensor((ends - first).astype("int64")))
    return result[0] if len(result) == 1 else tuple(result)


# --------------------------------------------------------------------------- histc
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of ``input``'s elements in ``bins`` equal bins from ``min`` to ``max`` (when
    they are equal, from the smallest to the largest element; when those are equal too, one
    either side). Elements outside the range, and NaNs, are not counted; the last bin includes
    its right edge. Float input only, and a float result of its dtype, as in PyTorch; not
    differentiable.

    >>> tn.histc(tn.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    bins = _int("histc", "bins", 2, bins)
    _refuse_dtypes("histc", input, "biuc")
    xp, a = input.xp, input.array.reshape(-1)
    low, high = float(min), float(max)
    if low == high and a.size:  # the data's range (a NaN in it makes the range NaN)
        low, high = float(a.min()), float(a.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"histc: range of [{low}, {high}] is not finite (input of shape "
                           f"{tuple(input.shape)})")
    if not low < high:
        raise RuntimeError(f"histc: max must be larger than min (got min={low}, max={high})")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
    # PyTorch's bin: int((x - low) * bins / (high - low)), each step rounded to the input's
    # dtype (not a search of the edges), the top edge in the last bin
    number = a.dtype.type
    low, high = number(low), number(high)
    inside = (a >= low) & (a <= high)  # False for NaN
    at = ((xp.where(inside, a, low) - low) * number(bins)) / (high - low)
    bin_of = xp.clip(xp.floor(at).astype("int64"), 0, bins - 1)
    counts = xp.bincount(bin_of, weights=inside.astype(a.dtype), minlength=bins)
    return Tensor(counts.astype(a.dtype))
