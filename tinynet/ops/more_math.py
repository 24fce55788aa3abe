"""Small math ops from PyTorch's tutorials: addcmul, addcdiv, fmod, bincount, atleast_1d/2d/3d,
cartesian_prod and nan_to_num; deg2rad, rad2deg, sgn, fix, positive, clamp_min and clamp_max;
the tests signbit, isposinf, isneginf and isreal (bool results, no gradient).

All but ``fmod`` and ``bincount`` are compositions of differentiable ops. ``fmod`` is one op: its
result is ``a - trunc(a / b) · b``, so the gradient is 1 for ``a`` and ``-trunc(a / b)`` for
``b`` (PyTorch's formula), written in tinynet ops. ``bincount`` counts (or sums weights) and,
as in PyTorch, has no derivative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import Op
from tinynet.dtypes import result_type
from tinynet.ops.arguments import require_tensor
from tinynet.ops.arithmetic import binary, write_out
from tinynet.ops.elementwise import clamp, where
from tinynet.ops.indexing import no_derivative
from tinynet.ops.rounding import _integer_operands, sign, trunc
from tinynet.ops.shape import stack, sum_to
from tinynet.tensor import Tensor


def check_tensors(op: str, tensor1: Any, tensor2: Any) -> None:
    """``tensor1`` and ``tensor2`` must be Tensors (PyTorch's TypeError otherwise)."""
    for position, (name, t) in enumerate((("tensor1", tensor1), ("tensor2", tensor2)), 2):
        require_tensor(op, t, name, position)


def float_operand(op: str, input: Tensor) -> Tensor:
    """``input`` as the operand of a floating-point function: integer and bool tensors in the
    default float dtype, as PyTorch computes them (``tn.erf(tn.arange(3))`` is float32);
    complex tensors are refused with PyTorch's NotImplementedError."""
    if input.dtype.kind == "c":
        raise NotImplementedError(f"{op}: not implemented for complex tensors (dtype "
                                  f"{input.dtype}, shape {tuple(input.shape)})")
    return input if input.dtype.kind == "f" else input.to(backend.default_float)


def _scalar(value: Any, dtype: numpy.dtype) -> Any:
    """A ``value`` argument (a number or a 0-d tensor) as a Python number of ``dtype``'s kind:
    an integer result takes it truncated, as PyTorch casts the scalar to the result dtype."""
    value = value.item() if isinstance(value, Tensor) else value
    return int(value) if dtype.kind in "biu" else value


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2`` elementwise, with broadcasting; the result dtype is
    that of the three tensors together (``value`` is cast to it)."""
    check_tensors("addcmul", tensor1, tensor2)
    dtype = result_type(input, tensor1, tensor2)
    a, b, c = (t if t.dtype == dtype else t.to(dtype) for t in (input, tensor1, tensor2))
    value = _scalar(value, dtype)
    return a + (b * c if value == 1 else value * b * c)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2`` elementwise, with broadcasting. Two integer
    tensors are refused, as PyTorch refuses them (its historic integer division)."""
    check_tensors("addcdiv", tensor1, tensor2)
    if tensor1.dtype.kind in "biu" and tensor2.dtype.kind in "biu":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    dtype = result_type(input, tensor1, tensor2)
    a, b, c = (t if t.dtype == dtype else t.to(dtype) for t in (input, tensor1, tensor2))
    value = _scalar(value, dtype)
    return a + (b / c if value == 1 else value * b / c)


class Fmod(Op):
    """C's ``fmod``: ``a - trunc(a / b) · b``, with the sign of the dividend ``a``."""

    preserves_layout = True
    node_name = "FmodBackward1"

    def forward(self, a, b):
        return backend.get_array_module(a).fmod(a, b)

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-g * trunc(a / b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def fmod(input: Tensor, other: Any) -> Tensor:
    """The remainder of ``input / other`` with the sign of ``input`` (C's ``fmod``; ``%`` and
    ``remainder`` take the sign of ``other``). Integer tensors stay integer and refuse a zero
    divisor; a float zero divisor gives NaN. The gradient is 1 for ``input`` and
    ``-trunc(input / other)`` for ``other``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    a, b, integers = _integer_operands("fmod", input, other)
    if integers:
        return Tensor(a.xp.fmod(a.array, b.array))
    return binary(Fmod, a, b)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0..max occurs in the 1-D non-negative integer ``input`` (at least
    ``minlength`` bins), or with ``weights`` the sum of the weights of each value's positions.
    The dtype is int64 without weights, float32/float64 for weights of those dtypes, else
    float64. Not differentiable, as in PyTorch (a backward through the weights raises)."""
    if input.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount: not implemented for dtype {input.dtype}; the input "
                                  "must be an integer tensor")
    if input.ndim != 1 or (input.numel() and bool((input.array < 0).any())):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    xp = input.xp
    if weights is None:
        return Tensor(xp.bincount(input.array, minlength=minlength).astype("int64"))
    if weights.ndim != 1 or weights.shape[0] != input.shape[0]:
        raise RuntimeError(f"weights should be 1-d and have the same length as input (got weights "
                           f"of shape {tuple(weights.shape)} for an input of {input.shape[0]})")
    dtype = weights.dtype if weights.dtype in (numpy.float32, numpy.float64) else numpy.float64
    counts = input.array

    def compute(w: Any) -> Any:
        return backend.get_array_module(w).bincount(counts, w, minlength=minlength).astype(dtype)
    return no_derivative("aten::bincount", compute, weights)


def _atleast(name: str, rank: int, tensors: tuple) -> Tensor | tuple:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(name, rank, (t,)) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(_atleast(name, rank, (t,)) for t in tensors)
    t = tensors[0]
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}() expects a Tensor or a sequence of them, got "
                        f"{type(t).__name__}")
    if t.ndim >= rank:
        return t
    if rank == 3 and t.ndim == 2:
        return t.unsqueeze(-1)
    if rank == 3 and t.ndim == 1:
        return t.reshape(1, t.shape[0], 1)
    return t.reshape((1,) * (rank - t.ndim) + tuple(t.shape))


def atleast_1d(*tensors: Any) -> Tensor | tuple:
    """Each tensor with at least one dim (a 0-d one becomes shape (1,)); tensors that already
    have one come back as they are. One tensor gives a tensor, several (or a list) a tuple."""
    return _atleast("atleast_1d", 1, tensors)


def atleast_2d(*tensors: Any) -> Tensor | tuple:
    """Each tensor with at least two dims: () becomes (1, 1), (n,) becomes (1, n)."""
    return _atleast("atleast_2d", 2, tensors)


def atleast_3d(*tensors: Any) -> Tensor | tuple:
    """Each tensor with at least three dims: () becomes (1, 1, 1), (n,) becomes (1, n, 1) and
    (m, n) becomes (m, n, 1), as PyTorch (and NumPy) do."""
    return _atleast("atleast_3d", 3, tensors)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element of each 1-D tensor, as the rows of a (count, k) tensor
    (``itertools.product`` order); one tensor comes back as it is."""
    if not tensors:
        raise RuntimeError("cartesian_prod: meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: Expect a 1D vector, but got shape {list(t.shape)}")
    if any(t.dtype != tensors[0].dtype for t in tensors):
        raise RuntimeError(f"cartesian_prod: meshgrid expects all tensors to have the same dtype, "
                           f"got {[str(t.dtype) for t in tensors]}")
    if len(tensors) == 1:
        return tensors[0]
    sizes = tuple(t.shape[0] for t in tensors)
    columns: Sequence[Tensor] = [
        t.reshape(tuple(-1 if j == i else 1 for j in range(len(tensors)))).expand(sizes).reshape(-1)
        for i, t in enumerate(tensors)]
    return stack(columns, 1)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """``input`` with NaN, +inf and -inf replaced: by ``nan`` (0), ``posinf`` and ``neginf``
    (the dtype's largest and lowest finite values by default), as ``torch.nan_to_num``. The
    gradient passes where the value was finite and is 0 where it was replaced.

    >>> tn.nan_to_num(tn.tensor([float('nan'), 1.0, float('inf')])).tolist()
    [0.0, 1.0, 3.4028234663852886e+38]
    """
    if input.dtype.kind not in "fc":  # nothing to replace in an int or bool tensor
        return input.clone()
    array = input.array
    finfo = numpy.finfo(input.dtype)
    posinf = float(finfo.max) if posinf is None else posinf
    neginf = float(finfo.min) if neginf is None else neginf
    out = where(Tensor(array != array), nan, input)
    out = where(Tensor(array == numpy.inf), posinf, out)
    return where(Tensor(array == -numpy.inf), neginf, out)


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Angles in degrees converted to radians (times π/180), elementwise; integer and bool
    inputs give the default float dtype."""
    x = float_operand("deg2rad", require_tensor("deg2rad", input))
    return write_out("deg2rad", x * (math.pi / 180), out)


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Angles in radians converted to degrees (times 180/π), elementwise; integer and bool
    inputs give the default float dtype."""
    x = float_operand("rad2deg", require_tensor("rad2deg", input))
    return write_out("rad2deg", x * (180 / math.pi), out)


def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The sign of each element: -1, 0 or 1 for real tensors (0 at NaN, as PyTorch; gradient
    zero; a bool tensor comes back as a copy), ``x / |x|`` (0 at 0) for complex ones (no
    gradient)."""
    x = require_tensor("sgn", input)
    xp, a = x.xp, x.array
    if x.dtype.kind == "b":
        result = Tensor(a.copy())
    elif x.dtype.kind == "c":
        size = xp.abs(a)
        result = Tensor(xp.where(size == 0, a.dtype.type(0), a / xp.where(size == 0, 1, size)))
    elif x.dtype.kind == "f":
        result = where(Tensor(xp.isnan(a)), 0.0, sign(x))
    else:
        result = sign(x)
    return write_out("sgn", result, out)


def fix(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Each element rounded towards zero: ``trunc`` by NumPy's name (gradient zero); integer
    tensors come back as a copy, bool tensors raise, as in PyTorch."""
    x = require_tensor("fix", input)
    if x.dtype.kind == "b":
        raise NotImplementedError(f"fix: not implemented for dtype bool (shape {tuple(x.shape)})")
    return write_out("fix", trunc(x), out)


def positive(input: Tensor) -> Tensor:
    """``+input``: ``input`` itself (the same tensor, as PyTorch returns it); a bool tensor
    raises, as in PyTorch."""
    x = require_tensor("positive", input)
    if x.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported (positive of a "
                           f"bool tensor of shape {tuple(x.shape)}).")
    return x


def clamp_min(input: Tensor, min: Any) -> Tensor:
    """``clamp(input, min=min)``: each element at least ``min`` (a number or a tensor)."""
    return clamp(require_tensor("clamp_min", input), min, None)


def clamp_max(input: Tensor, max: Any) -> Tensor:
    """``clamp(input, max=max)``: each element at most ``max`` (a number or a tensor)."""
    return clamp(require_tensor("clamp_max", input), None, max)


def _real_test(op: str, input: Tensor) -> Tensor:
    x = require_tensor(op, input)
    if x.dtype.kind == "c":  # PyTorch: NotImplementedError for signbit, RuntimeError for the rest
        error = NotImplementedError if op == "signbit" else RuntimeError
        raise error(f"{op} is not implemented for complex tensors (dtype {x.dtype}).")
    return x


def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where the sign bit is set: negative numbers, -0.0 and a NaN with its sign bit set
    (a bool tensor, no gradient)."""
    x = _real_test("signbit", input)
    xp, a = x.xp, x.array
    result = xp.signbit(a) if a.dtype.kind == "f" else (a < 0) if a.dtype.kind == "i" else \
        xp.zeros(a.shape, dtype=bool)
    return write_out("signbit", Tensor(result), out)


def isposinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where an element is +inf (never for integer and bool tensors)."""
    x = _real_test("isposinf", input)
    a = x.array
    result = a == numpy.inf if a.dtype.kind == "f" else x.xp.zeros(a.shape, dtype=bool)
    return write_out("isposinf", Tensor(result), out)


def isneginf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """True where an element is -inf (never for integer and bool tensors)."""
    x = _real_test("isneginf", input)
    a = x.array
    result = a == -numpy.inf if a.dtype.kind == "f" else x.xp.zeros(a.shape, dtype=bool)
    return write_out("isneginf", Tensor(result), out)


def isreal(input: Tensor) -> Tensor:
    """True where an element is real: everywhere for a real dtype, where the imaginary part is 0
    for a complex one."""
    x = require_tensor("isreal", input)
    a = x.array
    return Tensor(a.imag == 0 if a.dtype.kind == "c" else x.xp.ones(a.shape, dtype=bool))
