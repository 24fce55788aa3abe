"""Arithmetic with broadcasting: + - * / ** unary minus, matmul and linear, and the masked
product through which gradients are masked (``Masked``).

Each backward returns gradients in the inputs' shapes: where an input was broadcast, its
gradient is summed back (``sum_to``).
"""

from __future__ import annotations

from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import Op
from tinynet.dtypes import result_type
from tinynet.ops.shape import sum_to
from tinynet.ops.small_kernels import sum_leading
from tinynet.tensor import Tensor, as_tensor


def binary(op: type[Op], a: Any, b: Any) -> Tensor:
    """Lift Python numbers next to a Tensor, and name the op and shapes when they can't broadcast."""
    a, b = promoted(a, b)
    try:
        return op.apply(a, b)
    except ValueError as err:
        if "broadcast" not in str(err):
            raise
        raise ValueError(f"{op.__name__.lower()}: shapes {tuple(a.shape)} and {tuple(b.shape)} "
                         "cannot be broadcast together") from None


def promoted(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """``a`` and ``b`` as Tensors of the dtype PyTorch's rule gives a binary op on them
    (``dtypes.result_type``): a float tensor keeps its dtype next to a number or a 0-d tensor,
    an int32 tensor stays int32 next to 5, an int tensor times 2.5 becomes float32. A float
    input changes dtype through a Cast op, so its gradient comes back in its own dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.array.dtype is b.array.dtype or a.dtype == b.dtype:  # the common case, first
            return a, b
    elif isinstance(a, Tensor) and a.dtype.kind == "f" and isinstance(b, (int, float)):
        return a, as_tensor(b, a)  # a number takes a float tensor's dtype
    elif isinstance(b, Tensor) and b.dtype.kind == "f" and isinstance(a, (int, float)):
        return as_tensor(a, b), b
    like = a if isinstance(a, Tensor) else b
    dtype = result_type(a, b)
    return _operand(a, dtype, like), _operand(b, dtype, like)


def _operand(value: Any, dtype: Any, like: Tensor) -> Tensor:
    """``value`` (a tensor, array or number) as a tensor of ``dtype`` on ``like``'s device; an
    integer out of the dtype's range wraps around, as PyTorch's does."""
    if isinstance(value, Tensor):
        return value if value.dtype == dtype else value.to(dtype)
    if backend.is_array(value):
        return Tensor(value.astype(dtype, copy=False))
    if dtype.kind in "iu" and isinstance(value, int) and not isinstance(value, bool):
        info = numpy.iinfo(dtype)
        if not info.min <= value <= info.max:
            value = int(numpy.asarray(value % 2 ** 64, dtype=numpy.uint64).astype(dtype))
    return Tensor(backend.scalar_array(like.xp, value, dtype))


class Add(Op):
    preserves_layout = True
    saves_inputs = False  # its backward needs only shapes

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        a, b = self.inputs
        return (sum_to(g, a.array.shape) if self.needs_input_grad[0] else None,
                sum_to(g, b.array.shape) if self.needs_input_grad[1] else None)


class Sub(Op):
    preserves_layout = True
    saves_inputs = False  # its backward needs only shapes

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        a, b = self.inputs
        return (sum_to(g, a.array.shape) if self.needs_input_grad[0] else None,
                sum_to(-g, b.array.shape) if self.needs_input_grad[1] else None)


class Mul(Op):
    preserves_layout = True

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g * b, a.array.shape) if self.needs_input_grad[0] else None
        gb = sum_to(g * a, b.array.shape) if self.needs_input_grad[1] else None
        return ga, gb


def known_finite(a: Any) -> bool:
    """Whether ``a`` is known to hold no inf or NaN: checked on the CPU, never assumed on a GPU
    (where the check would wait for the device). For float32/64 in contiguous memory (in any
    axis order) one BLAS dot of ``a`` with itself tells, faster than ``isfinite``; a square
    overflowing to inf answers False, which only sends the caller down its slower exact path."""
    if backend.device_of(a) != "cpu":
        return False
    xp = backend.get_array_module(a)
    if a.dtype.kind != "f" or a.dtype.itemsize < 4:
        return bool(xp.isfinite(a).all())
    if 0 in a.strides:  # a broadcast view (max()'s gradient): its distinct elements suffice
        a = a[tuple(slice(None) if step else slice(0, 1) for step in a.strides)]
    flat = a.ravel(order="K")
    return bool(xp.isfinite(xp.dot(flat, flat)))


def masked_product(g: Any, factor: Any, out: Any = None, finite: bool | None = None) -> Any:
    """``g · factor`` for raw arrays (``factor`` boolean, or of ``g``'s dtype), exactly 0
    wherever ``factor`` is 0, even where ``g`` is inf or NaN, as ``where(factor != 0, g, 0) ·
    factor``. This is how PyTorch masks the gradients of ReLU, clamp, maximum, where and max
    pooling: a product alone would turn an inf gradient at a masked place into NaN (inf · 0).

    The plain product runs when ``g`` is ``known_finite`` (the usual case on the CPU), the
    ``where`` only when it is not; ``finite`` passes that answer in when the caller already
    has it (one check of a gradient that several masks multiply)."""
    xp = backend.get_array_module(g)
    if known_finite(g) if finite is None else finite:
        return xp.multiply(g, factor, out=out)
    keep = factor if factor.dtype.kind == "b" else factor != 0
    return xp.multiply(xp.where(keep, g, g.dtype.type(0)), factor, out=out)


class Masked(Op):
    """``g · factor`` with exact zeros where the constant ``factor`` is 0 (see
    ``masked_product``): the gradient mask of ReLU, clamp, maximum, where and ``max()``.
    Linear in ``g`` and diagonal, so it is its own backward."""

    preserves_layout = True
    saves_inputs = False

    def forward(self, g):
        return masked_product(g, self.factor)

    def backward(self, gg):
        return (Masked.apply(gg, factor=self.factor),)


class Div(Op):
    preserves_layout = True

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g / b, a.array.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-g * a / (b * b), b.array.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Op):
    preserves_layout = True
    saves_inputs = False  # its backward needs only shapes

    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class PowScalar(Op):
    """``a ** exponent`` for a Python number ``exponent`` (the common case: x**2, x**0.5)."""

    preserves_layout = True
    node_name = "PowBackward0"

    def forward(self, a):
        return a ** self.exponent

    def backward(self, g):
        (a,) = self.inputs
        if self.exponent == 0:  # PyTorch's zeros: 0 · a⁻¹ would be NaN at a = 0
            return (Tensor(a.xp.zeros_like(a.array)),)
        if self.exponent == 2:
            return (g * 2 * a,)
        return (g * self.exponent * a ** (self.exponent - 1),)


def _integer_power(a: Any, b: Any) -> Any:
    """Integers to integer powers, negative ones too, as PyTorch computes them (NumPy refuses):
    1 and -1 stay on the unit circle, every other base (0 included) gives 0."""
    xp = backend.get_array_module(a)
    positive = a ** xp.maximum(b, 0)
    odd = (b % 2) != 0
    reciprocal = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0)).astype(positive.dtype)
    return xp.where(b >= 0, positive, reciprocal)


class Pow(Op):
    """``a ** b`` for two Tensors; d/db = a**b · log a, defined for a > 0.

    As in PyTorch, d/da is 0 where a = b = 0 (even for an inf gradient) and d/db is 0 where
    a = 0 and b >= 0, where b · a^(b-1) and a^b · log a would be 0 · inf. Where only b = 0,
    d/da is the product b · a^(b-1) · g = 0, so that its own derivative in b (1/a) stays right
    for second order; PyTorch masks it there too, which also zeroes an inf gradient."""

    preserves_layout = True
    node_name = "PowBackward1"

    def forward(self, a, b):
        if b.dtype.kind in "iu" and a.dtype.kind in "iu" and (b < 0).any():
            self.out = _integer_power(a, b)
        else:
            self.out = a ** b
        return self.out

    def backward(self, g):
        a, b = self.inputs
        ga = gb = None
        if self.needs_input_grad[0]:
            both_zero = (a.array == 0) & (b.array == 0)  # exponent b there: 0^0 = 1, no 0^-1
            slope = b * a ** (b - 1 + Tensor(both_zero.astype(b.dtype)))
            ga = sum_to(Masked.apply(g * slope, factor=~both_zero), a.array.shape)
        if self.needs_input_grad[1]:  # a product with g, as PyTorch's: inf there gives NaN
            flat = (a.array == 0) & (b.array >= 0)  # log of a + 1 there: 0, no log 0
            log_a = (a + Tensor(flat.astype(a.dtype))).log()
            gb = sum_to(g * self.output(self.out) * log_a, b.array.shape)
        return ga, gb


class MatMul(Op):
    """Batched matrix product of two tensors with ndim >= 2; batch dims broadcast.

    With ``ta``/``tb`` it multiplies by the transpose (of the last two axes) of a or b, which
    BLAS does without a copy: a backward's ``gᵀ @ x`` is then one node, not a transpose and a
    product. The gradients are products of the same kind, so any order of derivative works.
    """

    node_name = "MmBackward0"
    ta = tb = False  # apply(a, b, ta=True) computes aᵀ @ b

    def forward(self, a, b):
        return (a.swapaxes(-1, -2) if self.ta else a) @ (b.swapaxes(-1, -2) if self.tb else b)

    def backward(self, g):
        # C = A'B' with A' = Aᵀ when ta: dA' = g B'ᵀ and dB' = A'ᵀ g, transposed back when the
        # operand was transposed.
        a, b = self.inputs
        ta, tb = self.ta, self.tb
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = MatMul.apply(b, g, ta=tb, tb=True) if ta else MatMul.apply(g, b, tb=not tb)
            ga = sum_to(ga, a.array.shape)
        if self.needs_input_grad[1]:
            gb = MatMul.apply(g, a, ta=True, tb=ta) if tb else MatMul.apply(a, g, ta=not ta)
            gb = sum_to(gb, b.array.shape)
        return ga, gb


class Linear(Op):
    """``x @ weight.T + bias`` in one op: the layer every MLP runs thousands of times.

    Fused so that a training step walks one node per layer instead of three.
    """

    node_name = "AddmmBackward0"

    def forward(self, x, weight, bias=None):
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, g):
        # The shapes fit by construction, so the ops are applied directly, without the checks of
        # the ``matmul``/``transpose`` wrappers (a tenth of a small MLP's training step).
        x, weight = self.inputs[:2]
        shape = x.array.shape
        folded = len(shape) != 2
        if folded:  # fold batch dims (or a lone sample) into the rows of a matrix
            g, x = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
        gx = None
        if self.needs_input_grad[0]:
            gx = MatMul.apply(g, weight)
            gx = gx.reshape(shape) if folded else gx  # a node less per layer when x is a matrix
        gw = MatMul.apply(g, x, ta=True) if self.needs_input_grad[1] else None
        gb = None
        if len(self.inputs) == 3 and self.needs_input_grad[2]:
            gb = sum_to(g, self.inputs[2].array.shape)
        return gx, gw, gb

    def backward_arrays(self, g):
        # ``backward`` on arrays, for a backward that builds no graph (see ``Op``): three ops
        # fewer per layer of a small MLP's training step
        x, weight = self.inputs[0].array, self.inputs[1].array
        needs = self.needs_input_grad
        gx = g @ weight if needs[0] else None
        gw = None
        if needs[1]:
            rows = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
            gw = rows.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))
        gb = sum_leading(g, g.ndim - 1) if len(needs) == 3 and needs[2] else None
        return gx, gw, gb


def check_same_dtype(op: str, **tensors: Tensor | None) -> None:
    """Products (matmul, linear, conv) don't promote, as in PyTorch: name both dtypes."""
    named = [(name, t.dtype) for name, t in tensors.items() if t is not None]
    if any(dtype != named[0][1] for _, dtype in named):
        found = ", ".join(f"{name} {dtype}" for name, dtype in named)
        raise RuntimeError(f"{op}: expected the same dtype for all operands, got {found}; "
                           "convert one with .to(dtype), .float() or .double()")


def write_out(op: str, result: Tensor, out: Tensor | None) -> Tensor:
    """PyTorch's ``out=``: ``result`` copied into ``out`` (of the same shape), which is returned."""
    if out is None:
        return result
    if result.requires_grad:
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad")
    if tuple(out.shape) != tuple(result.shape):
        raise RuntimeError(f"{op}(): out has shape {tuple(out.shape)} but the result has shape "
                           f"{tuple(result.shape)}; tinynet does not resize out tensors")
    from tinynet.ops import inplace  # in-place ops build on these

    return inplace.copy_(out, result)


def _times(b: Any, alpha: float) -> Any:
    """``alpha * b`` for ``add``/``sub``'s ``alpha`` (nothing to do for the default 1)."""
    return b if alpha == 1 else mul(b, alpha) if isinstance(b, Tensor) else b * alpha


def add(a: Any, b: Any, *, alpha: float = 1, out: Tensor | None = None) -> Tensor:
    """``a + alpha * b`` elementwise, with broadcasting (``out=`` receives the result)."""
    result = binary(Add, a, _times(b, alpha))
    return result if out is None else write_out("add", result, out)


def sub(a: Any, b: Any, *, alpha: float = 1, out: Tensor | None = None) -> Tensor:
    """``a - alpha * b`` elementwise, with broadcasting (``out=`` receives the result)."""
    if any(isinstance(t, Tensor) and t.dtype.kind == "b" for t in (a, b)):
        raise RuntimeError("sub: subtracting with a bool tensor is not supported, as in PyTorch; "
                           "use ^ or logical_xor() for two masks, ~ or logical_not() to invert one")
    result = binary(Sub, a, _times(b, alpha))
    return result if out is None else write_out("sub", result, out)


def mul(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor:
    """``a * b`` elementwise, with broadcasting (``out=`` receives the result)."""
    result = binary(Mul, a, b)
    return result if out is None else write_out("mul", result, out)


def div(a: Any, b: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """True division: integer operands give the default float dtype, as in PyTorch.

    ``rounding_mode='floor'`` rounds the quotient down (``//``), ``'trunc'`` towards zero; both
    keep integer operands integer. ``out=`` receives the result.
    """
    if rounding_mode is not None:
        from tinynet.ops import rounding  # rounding builds on div
        return write_out("div", rounding.rounded_div(a, b, rounding_mode), out)
    if result_type(a, b).kind in "biu":  # integers divide into the default float dtype
        like = a if isinstance(a, Tensor) else b
        a, b = (_operand(v, numpy.dtype(backend.default_float), like) for v in (a, b))
    result = binary(Div, a, b)
    return result if out is None else write_out("div", result, out)


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    """``input + weight * (end - input)``: linear interpolation (the moving averages of EMA).
    Of floating tensors of one dtype, as in PyTorch (a weight may also be a number)."""
    if input.dtype.kind not in "fc":
        raise NotImplementedError(f"lerp: expected a floating point input, got {input.dtype}")
    check_same_dtype("lerp", input=input, end=end,
                     weight=weight if isinstance(weight, Tensor) else None)
    return add(input, mul(weight, sub(end, input)))


def neg(a: Tensor) -> Tensor:
    """``-a``."""
    if a.dtype.kind == "b":
        raise RuntimeError("neg: negating a bool tensor is not supported, as in PyTorch; use ~ or "
                           "logical_not() to invert a mask")
    return Neg.apply(a)


def pow(a: Any, b: Any) -> Tensor:
    """``a ** b``; a Python-number exponent uses the simpler PowScalar op."""
    if isinstance(a, Tensor) and isinstance(b, (int, float)):
        dtype = result_type(a, b)  # PyTorch's: bool ** 2 is int64, int ** 2.5 float32
        if dtype.kind == "b":  # bool ** bool: True keeps the mask, False gives all True
            return a.clone() if b else Tensor(a.xp.ones_like(a.array))
        if dtype.kind in "iu" and b < 0:
            raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
        if dtype != a.dtype:
            a = a.to(dtype)
        return PowScalar.apply(a, exponent=b)
    return binary(Pow, a, b)


def matmul(a: Any, b: Any, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are promoted, batch dims broadcast
    (``out=`` receives the result).

    >>> tn.randn(10, 3, 4) @ tn.randn(4, 5)   # shape (10, 3, 5)
    """
    if out is not None:
        return write_out("matmul", matmul(a, b), out)
    a, b = as_tensor(a), as_tensor(b)
    check_same_dtype("matmul", input=a, other=b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned: "
                         f"{a.shape[-1]} (last dim of the first) != "
                         f"{b.shape[-2 if b.ndim > 1 else 0]} (rows of the second)")
    if a.ndim == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2 if b.ndim > 1 else 0)
    if b.ndim == 1:
        return matmul(a, b.unsqueeze(-1)).squeeze(-1)
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} "
                         "cannot be broadcast together") from None


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, with weight of shape (out_features, in_features)."""
    # raw shapes: every layer of every step comes through here, and Tensor.shape builds a Size
    in_shape, w_shape = input.array.shape, weight.array.shape
    if len(w_shape) != 2 or not in_shape or in_shape[-1] != w_shape[1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not fit weight of "
                         f"shape {tuple(weight.shape)}: expected input (..., {weight.shape[-1]})")
    if input.array.dtype is not weight.array.dtype or (
            bias is not None and bias.array.dtype is not weight.array.dtype):
        check_same_dtype("linear", input=input, weight=weight, bias=bias)
    if bias is not None and bias.array.shape != w_shape[:1]:
        raise ValueError(f"linear: bias has shape {tuple(bias.shape)}, expected "
                         f"({weight.shape[0]},) for weight {tuple(weight.shape)}")
    if bias is not None and len(in_shape) == 2:
        return Linear.apply(input, weight, bias)
    args = (input, weight) if bias is None else (input, weight, bias)
    return Linear.apply(*args, node_name=_LINEAR_NODE_NAMES[bias is None, min(len(in_shape), 3)])


# What PyTorch names the node of F.linear: (bias missing, input dims up to 3) -> name; it reshapes
# inputs that are not matrices around its addmm/mm, and that reshape is the node it shows
_LINEAR_NODE_NAMES = {(False, 1): "ViewBackward0", (False, 3): "ViewBackward0",
                      (True, 1): "SqueezeBackward4", (True, 2): "MmBackward0",
                      (True, 3): "UnsafeViewBackward0"}
