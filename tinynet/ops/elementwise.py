"""Elementwise math: exp, log, sqrt, abs, clamp, maximum, minimum, where, casts, comparisons."""

from __future__ import annotations

from typing import Any

from tinynet import backend, strides
from tinynet.dtypes import result_type
from tinynet.autograd import Op
from tinynet.ops.arithmetic import Masked, binary, promoted
from tinynet.ops.shape import sum_to
from tinynet.tensor import Tensor, as_tensor


def unary(op: type[Op], a: Any) -> Tensor:
    """Apply a float op to ``a``; integer and bool tensors are computed in the default float
    dtype, as in PyTorch (``tn.sin(tn.arange(3))`` is float32)."""
    a = as_tensor(a)
    if a.dtype.kind in "biu":
        a = a.to(backend.default_float)
    return op.apply(a)


def _constant(array: Any, like: Tensor) -> Tensor:
    """A mask or weight array as a graph constant of ``like``'s dtype."""
    return Tensor(array.astype(like.dtype, copy=False))


class Exp(Op):
    preserves_layout = True

    def forward(self, a):
        self.out = backend.get_array_module(a).exp(a)
        return self.out

    def backward(self, g):
        return (g * self.output(self.out),)


class Log(Op):
    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).log(a)

    def backward(self, g):
        return (g / self.inputs[0],)


class Sqrt(Op):
    preserves_layout = True

    def forward(self, a):
        self.out = backend.get_array_module(a).sqrt(a)
        return self.out

    def backward(self, g):
        return (g / (2 * self.output(self.out)),)


class Abs(Op):
    """|a|; the gradient at 0 is 0, as in PyTorch."""

    preserves_layout = True

    def forward(self, a):
        return backend.get_array_module(a).abs(a)

    def backward(self, g):
        (a,) = self.inputs
        return (g * _constant(a.xp.sign(a.array), a),)


class Clamp(Op):
    """Gradient 1 where min <= a <= max (bounds included, as PyTorch), else 0."""

    preserves_layout = True
    node_name = "ClampBackward1"

    def forward(self, a):
        xp = backend.get_array_module(a)
        return xp.clip(a, self.min, self.max)

    def backward(self, g):
        (a,) = self.inputs
        inside = a.array == a.array  # all True (False only at NaN)
        if self.min is not None:
            inside &= a.array >= self.min
        if self.max is not None:
            inside &= a.array <= self.max
        return (Masked.apply(g, factor=inside),)


class Maximum(Op):
    """Elementwise max of two tensors. As in PyTorch, at ties each side gets half the gradient,
    the losing side none, and where either is NaN both get all of it."""

    preserves_layout = True
    largest = True

    def forward(self, a, b):
        xp = backend.get_array_module(a)
        return xp.maximum(a, b) if self.largest else xp.minimum(a, b)

    def backward(self, g):
        a, b = self.inputs
        below, above = a.array < b.array, a.array > b.array
        a_loses, b_loses = (below, above) if self.largest else (above, below)
        half_each = 0.5 * (a.array == b.array)
        ga = Masked.apply(g, factor=(1 - a_loses - half_each).astype(g.dtype))
        gb = Masked.apply(g, factor=(1 - b_loses - half_each).astype(g.dtype))
        return sum_to(ga, a.shape), sum_to(gb, b.shape)


class Minimum(Maximum):
    """Elementwise min of two tensors, with the same tie rule as Maximum."""

    largest = False

class Where(Op):
    preserves_layout = True
    saves_inputs = False

    def forward(self, a, b):
        return backend.get_array_module(a).where(self.condition, a, b)

    def backward(self, g):
        a, b = self.inputs
        return (sum_to(Masked.apply(g, factor=self.condition), a.shape),
                sum_to(Masked.apply(g, factor=~self.condition), b.shape))


class Cast(Op):
    preserves_layout = True
    node_name = "ToCopyBackward0"
    saves_inputs = False

    def forward(self, a):
        return a.astype(self.dtype)

    def backward(self, g):
        return (cast(g, self.inputs[0].dtype),)


class Clone(Op):
    preserves_layout = True
    saves_inputs = False

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return (g,)


class ToDevice(Op):
    node_name = "ToCopyBackward0"
    saves_inputs = False

    def forward(self, a):
        return backend.to_device(a, self.device)

    def backward(self, g):
        return (to_device(g, self.inputs[0].device),)


def exp(a: Tensor) -> Tensor:
    """Elementwise e**a."""
    return unary(Exp, a)


def log(a: Tensor) -> Tensor:
    """Elementwise natural logarithm; -inf at 0 and NaN below, as in PyTorch."""
    return unary(Log, a)


def sqrt(a: Tensor) -> Tensor:
    """Elementwise square root; NaN below 0."""
    return unary(Sqrt, a)


def abs(a: Tensor) -> Tensor:
    """``|a|`` elementwise; the gradient at 0 is 0, as in PyTorch."""
    return Abs.apply(a)


def clamp(a: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """``a`` limited to [min, max] (either may be None); gradient 1 inside, bounds included."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):  # tensor bounds: differentiable too
        # where, not maximum/minimum: at a tie the gradient goes to ``a``, as in PyTorch
        out = a if min is None else where(a < min, min, a)
        return out if max is None else where(out > max, max, out)
    dtype = result_type(a, *(bound for bound in (min, max) if bound is not None))
    return Clamp.apply(a if a.dtype == dtype else cast(a, dtype), min=min, max=max)


def maximum(a: Any, b: Any) -> Tensor:
    """The larger of ``a`` and ``b`` elementwise; ties share the gradient."""
    return binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """The smaller of ``a`` and ``b`` elementwise; ties share the gradient."""
    return binary(Minimum, a, b)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (all three broadcast)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor(a)
    a, b = promoted(a, b)  # PyTorch's dtype for the two branches
    cond = condition.array if isinstance(condition, Tensor) else condition
    xp = a.xp
    if backend.is_array(cond) and cond.dtype != bool:
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got {cond.dtype}; "
                        "compare it first (cond != 0) or convert it with .bool()")
    cond = xp.asarray(cond, dtype=bool)
    try:
        shape = xp.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {tuple(cond.shape)} (condition), {tuple(a.shape)} and "
                         f"{tuple(b.shape)} cannot be broadcast together") from None
    return Where.apply(a, b, condition=xp.broadcast_to(cond, shape))


def cast(a: Tensor, dtype: Any) -> Tensor:
    if a.dtype == dtype:
        return a
    if dtype.kind not in "fc":  # integer and bool results carry no gradient
        return strides.laid_out_like(Tensor(a.array.astype(dtype)), a)
    return Cast.apply(a, dtype=dtype)


def clone(a: Tensor) -> Tensor:
    """A copy of ``a`` with its own memory that stays in the graph (gradient flows through)."""
    return Clone.apply(a)


def to_device(a: Tensor, device: str) -> Tensor:
    return a if a.device == device else ToDevice.apply(a, device=device)


_COMPARISONS = {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
                "eq": "equal", "ne": "not_equal"}


def compare(name: str, a: Any, b: Any) -> Tensor:
    """Elementwise comparison; the result is a bool tensor with no gradient."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor(a)
    a, b = promoted(a, b)  # compared in PyTorch's common dtype (uint8 == 300 wraps first)
    if a.device != b.device:
        raise RuntimeError(f"{name}: tensors on different devices: {a.device} and {b.device}")
    try:
        return strides.laid_out_like(Tensor(getattr(a.xp, _COMPARISONS[name])(a.array, b.array)),
                                     a, b)
    except ValueError:
        raise ValueError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         "broadcast together") from None
