"""Activations and (log-)softmax, each stable by construction at extreme inputs.

* sigmoid never exponentiates a positive number, so it can't overflow at ±1000;
* softplus is ``max(x, 0) + log1p(exp(-|x|))``;
* log_softmax subtracts the row max before ``exp`` (log-sum-exp), so logits of ±1e4 stay finite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import Masked, Mul, masked_product
from tinynet.ops.elementwise import where
from tinynet.tensor import Tensor


class ReLU(Op):
    preserves_layout = True
    node_name = "ReluBackward0"

    def forward(self, x):
        return backend.get_array_module(x).maximum(x, 0)

    def backward(self, g):
        # PyTorch passes the gradient where not x <= 0 (so at NaN too) and gives exactly 0
        # elsewhere, even from an inf gradient: Masked, not a product. The mask stays boolean:
        # NumPy multiplies float by bool directly, a third faster than converting the mask
        # first, and without a float copy of it (6 MB per ReLU of the MNIST CNN)
        return (Masked.apply(g, factor=self._passes()),)

    def backward_arrays(self, g):  # ``backward`` on arrays (see ``Op``)
        return (masked_product(g, self._passes()),)

    def _passes(self):
        x = self.inputs[0].array
        xp = backend.get_array_module(x)
        # laid out like x (a conv's output is batch-innermost), and an array even at 0-d
        passes = xp.less_equal(x, 0, out=xp.empty_like(x, dtype=bool))
        xp.logical_not(passes, out=passes)
        return passes


class LeakyReLU(Op):
    preserves_layout = True
    node_name = "LeakyReluBackward0"

    def forward(self, x):
        xp, slope = backend.get_array_module(x), self.negative_slope
        if 0 < slope <= 1:  # max(x, slope·x): two array passes where `where` takes three
            return xp.maximum(x, x * x.dtype.type(slope))
        return xp.where(x > 0, x, x * slope)

    def backward(self, g):
        # one Mul of same-shaped arrays (no number lifting or broadcast checks), a product as in
        # PyTorch: at slope 0 an inf gradient at x <= 0 gives NaN there too
        return (Mul.apply(g, Tensor(self._factor())),)  # the factor has x's dtype, which is g's

    def backward_arrays(self, g):  # ``backward`` on arrays (see ``Op``)
        return (g * self._factor(),)

    def _factor(self):
        x, slope = self.inputs[0].array, self.negative_slope
        xp = backend.get_array_module(x)
        if 0 < slope <= 1:  # max(1 or 0, slope): a cast and a pass, where `where` costs more
            return xp.maximum((x > 0).astype(x.dtype), x.dtype.type(slope))
        return xp.where(x > 0, x.dtype.type(1), x.dtype.type(slope))


class ELU(Op):
    """x for x > 0, alpha·(exp(x) - 1) otherwise. The slope there is alpha·exp(x), computed
    from x, not as out + alpha, which cancels to 0 far below 0; at NaN it is 1, as PyTorch's."""

    preserves_layout = True
    node_name = "EluBackward0"

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, g):
        x = self.inputs[0]
        below = x.array <= 0
        # exp of x only where x <= 0, so that no inf from above 0 meets a zero gradient
        return (g * where(below, where(below, x, 0.0).exp() * self.alpha, 1.0),)


class Hardtanh(Op):
    """x clipped to [min_val, max_val]; the gradient passes strictly inside, and at NaN
    (PyTorch's rule: 0 where x <= min_val or x >= max_val)."""

    preserves_layout = True
    node_name = "HardtanhBackward0"

    def forward(self, x):
        return backend.get_array_module(x).clip(x, self.min_val, self.max_val)

    def backward(self, g):
        x = self.inputs[0].array
        return (Masked.apply(g, factor=~((x <= self.min_val) | (x >= self.max_val))),)


class Hardsigmoid(Op):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (slope 1/6 strictly inside)."""

    preserves_layout = True
    node_name = "HardsigmoidBackward0"

    def forward(self, x):
        return backend.get_array_module(x).clip(x + 3, 0, 6) / 6

    def backward(self, g):
        x = self.inputs[0].array
        return (Masked.apply(g, factor=(x > -3) & (x < 3)) / 6,)


class Hardswish(Op):
    """x · relu6(x + 3) / 6. Its slope is PyTorch's: 0 up to -3, x/3 + 1/2 strictly between
    -3 and 3, 1 from 3 on (and at NaN); written in ops of x, so that the second derivative
    (1/3 inside) comes from them."""

    preserves_layout = True
    node_name = "HardswishBackward0"

    def forward(self, x):
        return x * backend.get_array_module(x).clip(x + 3, 0, 6) / 6

    def backward(self, g):
        x = self.inputs[0]
        raw = x.array
        return (g * where(raw <= -3, 0.0, where(raw < 3, x / 3 + 0.5, 1.0)),)


class Sigmoid(Op):
    preserves_layout = True

    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
        self.out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, g):
        y = self.output(self.out)
        return (g * y * (1 - y),)


class Tanh(Op):
    preserves_layout = True

    def forward(self, x):
        self.out = backend.get_array_module(x).tanh(x)
        return self.out

    def backward(self, g):
        y = self.output(self.out)
        return (g * (1 - y * y),)


class Softplus(Op):
    """log(1 + exp(beta·x)) / beta, linear above ``threshold`` as PyTorch; slope sigmoid(beta·x)
    (1 in the linear part, as the forward there is x)."""

    preserves_layout = True

    def forward(self, x):
        xp = backend.get_array_module(x)
        bx = x * self.beta
        soft = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / self.beta
        return xp.where(bx > self.threshold, x, soft)

    def backward(self, g):
        x = self.inputs[0]
        linear_part = x.array * self.beta > self.threshold
        return (g * where(linear_part, 1.0, sigmoid(x * self.beta)),)


class LogSoftmax(Op):
    def forward(self, x):
        xp = backend.get_array_module(x)
        shifted = x - x.max(axis=self.dim, keepdims=True)
        self.out = shifted - xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        return self.out

    def backward(self, g):
        softmax = self.output(self.out).exp()
        return (g - softmax * g.sum(self.dim, keepdim=True),)


class Softmax(Op):
    def forward(self, x):
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=self.dim, keepdims=True))
        self.out = e / e.sum(axis=self.dim, keepdims=True)
        return self.out

    def backward(self, g):
        y = self.output(self.out)
        return (y * (g - (g * y).sum(self.dim, keepdim=True)),)


def _float_input(x: Tensor, op: str) -> None:
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got {x.dtype}")


def in_place(op: str, x: Tensor, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """``inplace=True`` of an activation: ``x`` itself takes the result, with PyTorch's in-place
    rules (a version bump; a leaf that requires grad refuses), as ``x.add_()`` does."""
    from tinynet.ops.inplace import inplace

    return inplace(op, x, compute)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise."""
    if inplace:
        return in_place("relu_", input, ReLU.apply)
    return ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope``·x (with ``inplace``, written into x)."""
    if inplace:
        return in_place("leaky_relu_", input, lambda t: leaky_relu(t, negative_slope))
    return LeakyReLU.apply(input, negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``alpha``·(exp(x) - 1) (with ``inplace``, written into x)."""
    if inplace:
        return in_place("elu_", input, lambda t: elu(t, alpha))
    return ELU.apply(input, alpha=alpha)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``input`` clipped to [``min_val``, ``max_val``] (with ``inplace``, written into it)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val="
                         f"{min_val} and max_val={max_val}")
    if inplace:
        return in_place("hardtanh_", input, lambda t: hardtanh(t, min_val, max_val))
    _float_input(input, "hardtanh")
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): ``hardtanh`` between 0 and 6, as in PyTorch."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6, a piecewise-linear sigmoid (with ``inplace``, written into x)."""
    if inplace:
        return in_place("hardsigmoid_", input, hardsigmoid)
    _float_input(input, "hardsigmoid")
    return Hardsigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6, MobileNetV3's activation (with ``inplace``, written into x)."""
    if inplace:
        return in_place("hardswish_", input, hardswish)
    _float_input(input, "hardswish")
    return Hardswish.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow."""
    _float_input(input, "sigmoid")
    return Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent, elementwise."""
    _float_input(input, "tanh")
    return Tanh.apply(input)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta·x)) / beta, computed without overflow; x itself where beta·x is above
    ``threshold``, as in PyTorch."""
    _float_input(x, "softplus")
    return Softplus.apply(x, beta=beta, threshold=threshold)


def _softmax_dim(x: Tensor, dim: int, op: str) -> int:
    _float_input(x, op)
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for shape {tuple(x.shape)}")
    return dim % max(x.ndim, 1) if x.ndim else None


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Tensor:
    """log(softmax(x)) computed as x - logsumexp(x): finite for any finite logits. ``dtype``
    casts the input first; ``dim`` must be given (see ``softmax``)."""
    input, dim = _softmax_input(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(input, dim=dim)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """exp(x) normalised to sum to 1 along ``dim`` (the max is subtracted first); ``dtype``
    casts the input first. ``dim`` must be given: PyTorch's guess of it without one is
    deprecated, and a guess hides bugs, so tinynet refuses with a TypeError."""
    input, dim = _softmax_input(input, dim, dtype, "softmax")
    return Softmax.apply(input, dim=dim)


def _softmax_input(input: Tensor, dim: int | None, dtype: Any, op: str) -> tuple[Tensor, Any]:
    """The input, cast to ``dtype``, and the checked dim of a softmax-like op."""
    if dim is None:
        raise TypeError(f"{op}: pass the dim to normalise over, e.g. {op}(x, dim=1) for (N, C) "
                        "scores (PyTorch's guess of it without one is deprecated)")
    if dtype is not None:
        input = input.to(dtype)
    return input, _softmax_dim(input, dim, op)
