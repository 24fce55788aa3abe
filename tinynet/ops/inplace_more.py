"""More in-place ops: ``scatter_``, ``scatter_add_``, ``index_add_``, ``index_fill_``,
``index_copy_``, ``addcmul_``, ``addcdiv_``, ``fmod_``, ``tril_``, ``triu_``, ``cumsum_``,
``cumprod_``, ``lerp_``, ``fill_diagonal_``, the random fills
``random_``, ``exponential_``, ``cauchy_``, ``log_normal_`` and ``geometric_``
(``bernoulli_`` is in ``sampling.py``), and ``apply_`` and ``map_``. (In-place shape changes,
``unsqueeze_``, ``t_``, ``resize_``…, are in ``inplace_shape.py``.)

Each is its out-of-place op run through ``inplace.inplace``, so it follows tinynet's in-place
rules exactly as ``add_`` does: the tensor's memory is written (its views see the change), its
version goes up by one, a leaf that requires grad refuses under grad mode, and under grad mode
the tensor takes the result's ``grad_fn`` (so the op is differentiable where the out-of-place
op is). Tensor arguments that require grad are passed on to ``inplace`` so that it records them.
The exceptions are PyTorch's: ``apply_`` and ``map_`` call a Python function per element, refuse
tensors that require grad and write without a version bump.
"""

from __future__ import annotations

import builtins
import math
import numbers
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy

from tinynet import backend
from tinynet.generator import numpy_generator
from tinynet.ops import arithmetic, elementwise, indexing, matrix, more_math, ordering
from tinynet.ops.inplace import _replace, inplace
from tinynet.tensor import Tensor


def scatter_(t: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    """In place: ``t.scatter(dim, index, src or value, reduce=reduce)`` (see ``tn.scatter``)."""
    if (src is None) == (value is None):
        raise TypeError("scatter_: give exactly one of src and value")
    if isinstance(src, Tensor):
        return inplace("scatter_", t, lambda a, s: indexing._scatter(
            "scatter_", a, dim, index, s, None, reduce), src)
    number = value if src is None else src
    return inplace("scatter_", t, lambda a: indexing._scatter(
        "scatter_", a, dim, index, None, number, reduce))


def scatter_add_(t: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """In place: ``t.scatter_add(dim, index, src)``; repeated indices add up."""
    return inplace("scatter_add_", t, lambda a, s: indexing.scatter_add(a, dim, index, s), src)


def index_add_(t: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """In place: ``t.index_add(dim, index, source, alpha=alpha)``."""
    return inplace("index_add_", t, lambda a, s: indexing.index_add(a, dim, index, s, alpha=alpha),
                   source)


def index_fill_(t: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """In place: ``t.index_fill(dim, index, value)``."""
    return inplace("index_fill_", t, lambda a, v: indexing.index_fill(a, dim, index, v), value)


def index_copy_(t: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """In place: ``t.index_copy(dim, index, source)``."""
    return inplace("index_copy_", t, lambda a, s: indexing.index_copy(a, dim, index, s), source)


def addcmul_(t: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In place: ``t += value * tensor1 * tensor2``."""
    more_math.check_tensors("addcmul_", tensor1, tensor2)
    return inplace("addcmul_", t, lambda a, b, c: more_math.addcmul(a, b, c, value=value),
                   tensor1, tensor2)


def addcdiv_(t: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In place: ``t += value * tensor1 / tensor2``."""
    more_math.check_tensors("addcdiv_", tensor1, tensor2)
    return inplace("addcdiv_", t, lambda a, b, c: more_math.addcdiv(a, b, c, value=value),
                   tensor1, tensor2)


def fmod_(t: Tensor, other: Any) -> Tensor:
    """In place: ``t = fmod(t, other)``."""
    return inplace("fmod_", t, more_math.fmod, other)


# ----------------------------------------------------------------- triangles, scans, lerp, diagonal
def tril_(t: Tensor, diagonal: int = 0) -> Tensor:
    """In place: ``t = t.tril(diagonal)`` (the rest of the last two dims zeroed)."""
    diagonal = _int("tril_", "diagonal", diagonal)
    return inplace("tril_", t, lambda a: matrix.tril(a, diagonal))


def triu_(t: Tensor, diagonal: int = 0) -> Tensor:
    """In place: ``t = t.triu(diagonal)``."""
    diagonal = _int("triu_", "diagonal", diagonal)
    return inplace("triu_", t, lambda a: matrix.triu(a, diagonal))


def _scan_(op: str, scan: Callable[..., Tensor], t: Tensor, dim: int, dtype: Any) -> Tensor:
    if dtype is not None and numpy.dtype(dtype) != t.dtype:
        raise RuntimeError(f"{op}: Bad in-place call: input tensor dtype {t.dtype} and output "
                           f"tensor dtype {numpy.dtype(dtype)} should match")
    if t.dtype.kind == "b":
        raise NotImplementedError(f"{op}: not implemented for a bool tensor; convert it first "
                                  "(for example .long())")
    dim = _int(op, "dim", dim)
    # integers add up in int64, then wrap round to t's dtype (uint8: 200 + 200 is 144)
    return inplace(op, t, lambda a: scan(a, dim).to(a.dtype))


def cumsum_(t: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """In place: ``t = t.cumsum(dim)``, in ``t``'s dtype (``dtype``, if given, must be it)."""
    return _scan_("cumsum_", ordering.cumsum, t, dim, dtype)


def cumprod_(t: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """In place: ``t = t.cumprod(dim)``, in ``t``'s dtype (``dtype``, if given, must be it)."""
    return _scan_("cumprod_", ordering.cumprod, t, dim, dtype)


def lerp_(t: Tensor, end: Tensor, weight: Any) -> Tensor:
    """In place: ``t = t + weight * (end - t)``; ``end`` a tensor of ``t``'s dtype that
    broadcasts to ``t``'s shape, ``weight`` a number or such a tensor."""
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp_(): argument 'end' (position 1) must be Tensor, not "
                        f"{type(end).__name__}")
    if isinstance(weight, Tensor):
        return inplace("lerp_", t, arithmetic.lerp, end, weight)
    return inplace("lerp_", t, lambda a, e: arithmetic.lerp(a, e, weight), end)


def fill_diagonal_(t: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """In place: the main diagonal of ``t`` set to the number ``fill_value`` (converted to
    ``t``'s dtype, as PyTorch: 2.7 in an int tensor is 2). ``t`` has 2 dims, or more of one
    size (the diagonal is then ``t[i, i, …, i]``). With ``wrap=True`` the diagonal of a tall
    matrix starts again after every ``width + 1`` rows, as NumPy's ``fill_diagonal``; that second
    part is a second write, so the version goes up by 2, as in PyTorch. The gradient of the old
    value is zero on the diagonal."""
    if isinstance(fill_value, Tensor) and fill_value.ndim == 0 and not fill_value.requires_grad:
        fill_value = fill_value.item()  # PyTorch takes a 0-d tensor as its number
    if isinstance(fill_value, Tensor) or not isinstance(fill_value, (int, float, complex,
                                                                     numpy.generic)):
        raise TypeError(f"fill_diagonal_(): argument 'fill_value' (position 1) must be Number, "
                        f"not {type(fill_value).__name__}")
    if t.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got shape "
                           f"{tuple(t.shape)}")
    height, width = t.shape[0], t.shape[1]
    if t.ndim > 2 and any(n != height for n in t.shape):
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, got "
                           f"shape {tuple(t.shape)}")
    # the diagonal in the elements in order (row-major): every ``step``-th one from the first
    step = sum(math.prod(t.shape[i + 1:]) for i in range(t.ndim))
    size = min(height, width)
    _fill_flat("fill_diagonal_", t, fill_value, 0, size, step)
    if wrap and t.ndim == 2 and height > width + 1:
        _fill_flat("fill_diagonal_", t, fill_value, size, -(-t.numel() // step), step)
    return t


def _fill_flat(op: str, t: Tensor, value: Any, first: int, stop: int, step: int) -> None:
    """In place: the elements ``k * step`` (in row-major order) for ``first <= k < stop`` set to
    ``value``."""
    xp = t.xp
    mask = xp.zeros(t.numel(), dtype=bool)
    mask[first * step:stop * step:step] = True
    mask = mask.reshape(t.shape)

    def fill(a: Tensor) -> Tensor:
        return elementwise.where(mask, Tensor(backend.scalar_array(xp, value, a.dtype)), a)
    inplace(op, t, fill)


def _int(op: str, name: str, value: Any) -> int:
    """``value`` as an int (a NumPy integer too); a float or a bool is PyTorch's TypeError."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return operator.index(value)


# ----------------------------------------------------------------- random fills
# Each draws on the CPU from tinynet's generator (``tn.manual_seed``) or the ``tn.Generator``
# given, as ``uniform_`` and ``bernoulli_`` do, and is moved to the tensor's device: one seed,
# the same numbers on any device (not PyTorch's numbers; the same distributions). The old value
# gets a zero gradient, as PyTorch's ``RandomBackward0`` and the like give it.
def _fill_random(op: str, t: Tensor, generator: Any, draw: Callable[[Any, tuple], Any]) -> Tensor:
    rng = numpy_generator(generator, op)

    def fill(old: Tensor) -> Tensor:
        values = draw(rng, tuple(old.shape))
        return _replace(old, Tensor(backend.to_device(values.astype(old.dtype), old.device)))
    return inplace(op, t, fill)


def _need_float(op: str, t: Tensor, what: str) -> None:
    if t.dtype.kind != "f":
        raise RuntimeError(f"{op}: {what} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {t.dtype}")


def random_(t: Tensor, *args: Any, to: Any = None, generator: Any = None) -> Tensor:
    """In place: fill with integers drawn uniformly, PyTorch's three forms: ``random_()`` over
    [0, 2**mantissa] for a float dtype (2**24 for float32, 2**53 for float64), [0, max] for an
    integer one and {0, 1} for bool; ``random_(to)`` (or ``random_(to=to)``) over [0, to);
    ``random_(from, to)`` over [from, to), and ``random_(from, None)`` from ``from`` to the top
    of the first form. Bounds outside an integer dtype, or a float dtype's finite range, are
    errors; outside a float dtype's exact integers, a warning (PyTorch's). ``generator``: a
    ``tn.Generator`` to draw from."""
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ('from' and 'to') but "
                        f"{len(args)} were given")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1 and to is not None:
        low, high = args[0], to
    elif len(args) == 1:
        if args[0] is None:
            raise TypeError("random_(): argument 'to' must be int, not NoneType")
        low, high = 0, args[0]
    else:
        low, high = 0, to
    low = _int("random_", "from", low)
    high = None if high is None else _int("random_", "to", high)
    dtype = t.dtype
    if dtype.kind == "f":
        top = 2 ** (numpy.finfo(dtype).nmant + 1)
        bottom = -top
    elif dtype.kind == "b":
        bottom, top = 0, 1
    else:
        info = numpy.iinfo(dtype)
        bottom, top = int(info.min), int(info.max)
    if high is None:
        high = top + 1  # the top itself is drawn too
        if low > top:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                               f">= to={top}")
    elif low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    if dtype.kind == "f":
        largest = float(numpy.finfo(dtype).max)  # past it, a draw would be inf: PyTorch refuses
        if not -largest <= low <= largest:
            raise RuntimeError(f"random_: from={low} is out of bounds for {dtype}")
        if not -largest <= high - 1 <= largest:
            raise RuntimeError(f"random_: to - 1 = {high - 1} is out of bounds for {dtype}")
        if not bottom <= low <= top or not bottom <= high - 1 <= top:
            warnings.warn(f"random_: the range [{low}, {high}) goes beyond [-(2^{top.bit_length() - 1}), "
                          f"2^{top.bit_length() - 1}], where {dtype} holds every integer exactly; "
                          "draws out there are rounded", UserWarning, stacklevel=3)
    else:
        if not bottom <= low <= top:
            raise RuntimeError(f"random_: from={low} is out of bounds for {dtype}")
        if not bottom <= high - 1 <= top:
            raise RuntimeError(f"random_: to - 1 = {high - 1} is out of bounds for {dtype}")
    return _fill_random("random_", t, generator, lambda rng, shape: rng.integers(
        low, high, size=shape, dtype=numpy.int64 if high <= 2 ** 63 else numpy.uint64))


def exponential_(t: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """In place: fill with draws from the exponential distribution of rate ``lambd`` (> 0; mean
    1 / lambd). Float tensors only."""
    _need_float("exponential_", t, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill_random("exponential_", t, generator,
                        lambda rng, shape: rng.exponential(1.0 / lambd, size=shape))


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    """In place: fill with draws from the Cauchy distribution of location ``median`` and scale
    ``sigma`` (> 0). Float tensors only."""
    _need_float("cauchy_", t, "Cauchy")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill_random("cauchy_", t, generator,
                        lambda rng, shape: median + sigma * rng.standard_cauchy(size=shape))


def log_normal_(t: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    """In place: fill with draws from the log-normal distribution whose logarithm is
    N(``mean``, ``std``²) (``std`` > 0). Float tensors only."""
    if t.dtype.kind != "f":
        raise NotImplementedError(f"log_normal_: not implemented for dtype {t.dtype}; use a float "
                                  "tensor")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill_random("log_normal_", t, generator,
                        lambda rng, shape: rng.lognormal(mean, std, size=shape))


def geometric_(t: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """In place: fill with draws from the geometric distribution of success probability ``p``
    (in (0, 1)): the number of trials up to the first success, 1, 2, 3…. Float and integer
    tensors."""
    if t.dtype.kind == "b":
        raise NotImplementedError("geometric_: not implemented for a bool tensor")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill_random("geometric_", t, generator, lambda rng, shape: rng.geometric(p, size=shape))


# ----------------------------------------------------------------- Python callables, element by element
def _refuse_grad(op: str, *tensors: Tensor) -> None:
    for x in tensors:
        if x.requires_grad:
            raise RuntimeError(f"Can't call {op}() on Variable that requires grad. Use "
                               f"var.detach().{op}() instead.")
    if any(x.is_cuda for x in tensors):
        raise TypeError(f"{op} is only implemented on CPU tensors")


def _number(value: Any) -> Any:
    if isinstance(value, complex) or not isinstance(value, numbers.Real):
        raise TypeError(f"must be real number, not {type(value).__name__}")
    return value


def _write_values(op: str, t: Tensor, values: list) -> None:
    xp = t.xp
    try:
        t.array[...] = xp.asarray(values, dtype=t.dtype).reshape(t.shape)
    except ValueError:  # a read-only broadcast view (expand)
        raise RuntimeError(f"{op}: the tensor (shape {tuple(t.shape)}) is a broadcast view whose "
                           "elements share memory; clone() it first") from None


def apply_(t: Tensor, callable: Callable[[Any], Any]) -> Tensor:
    """In place: each element ``v`` of ``t`` (a Python number) replaced by ``callable(v)``,
    converted to ``t``'s dtype. Slow (a Python call per element), CPU only and outside autograd,
    as in PyTorch: a tensor that requires grad refuses, and, as PyTorch, the version is not
    bumped."""
    _refuse_grad("apply_", t)
    if not builtins.callable(callable):
        raise TypeError(f"'{type(callable).__name__}' object is not callable")
    values = [_number(callable(v)) for v in t.array.reshape(-1).tolist()]
    _write_values("apply_", t, values)
    return t


def map_(t: Tensor, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
    """In place: each element ``a`` of ``t`` replaced by ``callable(a, b)``, ``b`` the matching
    element of ``tensor`` (of ``t``'s dtype, broadcast to ``t``'s shape). As ``apply_``: CPU
    only, outside autograd, no version bump (PyTorch's)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"map_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}")
    _refuse_grad("map_", t, tensor)
    if tensor.dtype != t.dtype:
        raise TypeError(f"map_: expected a tensor of dtype {t.dtype} for 'other', got "
                        f"{tensor.dtype}")
    if not builtins.callable(callable):
        raise TypeError(f"'{type(callable).__name__}' object is not callable")
    try:
        other = tensor.xp.broadcast_to(tensor.array, t.array.shape)
    except ValueError:
        raise RuntimeError(f"map_: 'other' of shape {tuple(tensor.shape)} can't be expanded to the "
                           f"tensor's shape {tuple(t.shape)}") from None
    values = [_number(callable(a, b)) for a, b in zip(t.array.reshape(-1).tolist(),
                                                       other.reshape(-1).tolist())]
    _write_values("map_", t, values)
    return t
