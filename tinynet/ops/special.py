"""Special functions, and the smooth activations built on them (gelu, silu, mish).

The error functions (erf, erfc, erfinv), the gamma family (lgamma, digamma, polygamma), the
modified Bessel function i0, sinc, logit, xlogy and ``torch.special``'s entr, ndtr, ndtri and
log_ndtr. Those without a closed form in array ops come from SciPy on the CPU and CuPy's
``cupyx.scipy.special`` on the GPU, through ``backend.special_functions``. Each backward is
written in tinynet ops, often the next function of the family (lgamma' = digamma, digamma' =
polygamma(1, ·), i0' = i1), so derivatives of every order come for free. Integer and bool
inputs are computed in the default float dtype, as PyTorch computes them.

gelu, silu and mish are compositions of differentiable ops.
"""

from __future__ import annotations

import math
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.dtypes import finfo, result_type
from tinynet.ops.activation import in_place, sigmoid, softplus, tanh
from tinynet.ops.arithmetic import promoted, write_out
from tinynet.ops.elementwise import where
from tinynet.ops.arguments import require_tensor
from tinynet.ops.more_math import float_operand
from tinynet.ops.shape import sum_to
from tinynet.tensor import Tensor

_APPROXIMATIONS = ("none", "tanh")
_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)


def _special(name: str, x: Any, *args: Any) -> Any:
    """The special function ``name`` of the array ``x`` (after the arguments ``args``, as
    ``polygamma(n, x)``) from ``x``'s device, in ``x``'s dtype: SciPy has no float16 loops, and
    its polygamma answers in float64."""
    out = getattr(backend.special_functions(x), name)(*args, x)
    return out.astype(x.dtype, copy=False)


class Erf(Op):
    """erf(x) = 2/√π ∫₀ˣ exp(-t²) dt; its derivative is 2/√π · exp(-x²)."""

    preserves_layout = True

    def forward(self, x):
        return _special("erf", x)

    def backward(self, g):
        x = self.inputs[0]
        return (g * (2 / _SQRT_PI) * (-(x * x)).exp(),)


class Erfc(Op):
    """erfc(x) = 1 - erf(x), accurate where erf(x) is close to 1; derivative -2/√π · exp(-x²)."""

    preserves_layout = True

    def forward(self, x):
        return _special("erfc", x)

    def backward(self, g):
        x = self.inputs[0]
        return (g * (-2 / _SQRT_PI) * (-(x * x)).exp(),)


class Erfinv(Op):
    """The inverse of erf on (-1, 1); derivative √π/2 · exp(erfinv(x)²), erfinv(x) computed again
    from the input, as PyTorch's (which saves the input, not the output: the output may be
    changed in place before the backward)."""

    preserves_layout = True

    def forward(self, x):
        return _special("erfinv", x)

    def backward(self, g):
        y = Erfinv.apply(self.inputs[0])
        return (g * (_SQRT_PI / 2) * (y * y).exp(),)


class Lgamma(Op):
    """log|Γ(x)|, +inf at the poles and at ±inf (as PyTorch); derivative digamma(x)."""

    preserves_layout = True

    def forward(self, x):
        out = _special("gammaln", x)
        return backend.get_array_module(x).where(x == -math.inf, x.dtype.type(math.inf), out)

    def backward(self, g):
        return (g * Digamma.apply(self.inputs[0]),)


class Digamma(Op):
    """ψ(x) = Γ'(x)/Γ(x); derivative polygamma(1, x). -inf at +0 and +inf at -0, NaN at the
    negative integers, as PyTorch (and SciPy)."""

    preserves_layout = True

    def forward(self, x):
        return _special("digamma", x)

    def backward(self, g):
        return (g * Polygamma.apply(self.inputs[0], n=1),)


class Polygamma(Op):
    """ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n >= 1 here; n = 0 is Digamma); derivative
    ψ⁽ⁿ⁺¹⁾(x). NaN where PyTorch's is: at +inf for n >= 2 and at -inf for n = 1. At the
    negative integers (poles) it is ±inf, where PyTorch's trigamma (n = 1) gives large finite
    numbers of rounding (sin(πx) is not exactly 0 there)."""

    preserves_layout = True

    def forward(self, x):
        xp = backend.get_array_module(x)
        # n as an array of x's device: CuPy's polygamma broadcasts its arguments as arrays
        n = backend.scalar_array(xp, self.n, "int64")
        out = _special("polygamma", x, n)
        return xp.where(x == (-math.inf if self.n == 1 else math.inf), x.dtype.type(math.nan), out)

    def backward(self, g):
        return (g * Polygamma.apply(self.inputs[0], n=self.n + 1),)


class I0(Op):
    """The modified Bessel function of the first kind of order 0; derivative i1(x)."""

    preserves_layout = True

    def forward(self, x):
        return _special("i0", x)

    def backward(self, g):
        return (g * I1.apply(self.inputs[0]),)


class I1(Op):
    """The modified Bessel function of the first kind of order 1 (i0's derivative); derivative
    i0(x) - i1(x)/x, and 1/2 where |x| is below the dtype's eps, as PyTorch's."""

    preserves_layout = True

    def forward(self, x):
        return _special("i1", x)

    def backward(self, g):
        (x,) = self.inputs
        eps = float(finfo(x.dtype).eps)
        big = x.xp.abs(x.array) > eps
        safe = where(big, x, eps)  # no 0/0 in the branch where() discards
        return (g * where(big, I0.apply(safe) - I1.apply(safe) / safe, 0.5),)


def _sinc_cutoff(dtype: Any) -> float:
    """Below this |x| sinc's derivatives come from their Taylor series: there the closed forms
    lose digits to cancellation faster than the series' truncation error grows."""
    return float(finfo(dtype).eps) ** 0.125


class Sinc(Op):
    """sin(πx)/(πx), 1 at 0; its derivative is ``SincGrad``."""

    preserves_layout = True

    def forward(self, x):
        xp = backend.get_array_module(x)
        zero = x == 0
        px = xp.where(zero, x.dtype.type(1), x) * math.pi  # no 0/0 where the answer is 1
        return xp.where(zero, x.dtype.type(1), xp.sin(px) / px)

    def backward(self, g):
        return (g * SincGrad.apply(self.inputs[0]),)


class SincGrad(Op):
    """sinc'(x) = (cos(πx) - sinc(x)) / x, by its Taylor series -π²x/3 + π⁴x³/30 - π⁶x⁵/840
    near 0 (exactly 0 there, as PyTorch). Its derivative, sinc'' = -π²·sinc - 2·sinc'/x
    (-π²/3 + π⁴x²/10 - π⁶x⁴/168 near 0), is written in tinynet ops, so sinc has a finite second
    derivative at 0 too (-π²/3; PyTorch gives NaN there)."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        small = xp.abs(x) < _sinc_cutoff(x.dtype)
        safe = xp.where(small, x.dtype.type(1), x)
        p2 = math.pi ** 2
        closed = (xp.cos(safe * math.pi) - xp.sin(safe * math.pi) / (safe * math.pi)) / safe
        x2 = x * x
        series = x * (-p2 / 3 + x2 * (p2 ** 2 / 30 - x2 * (p2 ** 3 / 840)))
        return xp.where(small, series, closed)

    def backward(self, g):
        (x,) = self.inputs
        p2 = math.pi ** 2
        small = x.xp.abs(x.array) < _sinc_cutoff(x.dtype)
        safe = where(small, 1.0, x)
        x2 = x * x
        series = -p2 / 3 + x2 * (p2 ** 2 / 10 - x2 * (p2 ** 3 / 168))
        closed = -p2 * Sinc.apply(safe) - 2 * SincGrad.apply(safe) / safe
        return (g * where(small, series, closed),)


class Logit(Op):
    """log(x / (1 - x)), with x first clamped to [eps, 1 - eps] when ``eps`` is given.

    The derivative is 1 / (x(1 - x)): with ``eps``, 0 where x lies outside [eps, 1 - eps]
    (the clamp is flat there); without, NaN outside [0, 1], as PyTorch's."""

    preserves_layout = True

    def forward(self, x):
        xp = backend.get_array_module(x)
        if self.eps is not None:
            lo = x.dtype.type(self.eps)
            x = xp.clip(x, lo, x.dtype.type(1) - lo)
        return xp.log(x / (1 - x))

    def backward(self, g):
        (x,) = self.inputs
        a = x.array
        if self.eps is None:
            outside = (a < 0) | (a > 1)
            return (where(outside, float("nan"), g / (x * (1 - x))),)
        lo = a.dtype.type(self.eps)
        inside = (a >= lo) & (a <= a.dtype.type(1) - lo)
        safe = where(inside, x, 0.5)  # no 1/0 in the branch where() discards
        return (where(inside, g / (safe * (1 - safe)), 0.0),)


class Xlogy(Op):
    """x · log(y), 0 where x = 0 (even at y = 0 or inf), NaN where y is NaN.

    The gradients are PyTorch's: xlogy(g, y) for x, except 0 where x = 0 and y <= 0, and
    g · x / y for y (NaN at x = y = 0, as PyTorch's)."""

    preserves_layout = True

    def forward(self, x, y):
        xp = backend.get_array_module(x)
        with backend.errstate(xp, divide="ignore", invalid="ignore"):  # 0 · log 0, replaced
            out = xp.where(x == 0, x.dtype.type(0), x * xp.log(y))
        return xp.where(xp.isnan(y), y, out)

    def backward(self, g):
        x, y = self.inputs
        gx = gy = None
        if self.needs_input_grad[0]:
            flat = (x.array == 0) & (y.array <= 0)
            gx = sum_to(where(flat, 0.0, Xlogy.apply(g, y)), x.shape)
        if self.needs_input_grad[1]:
            gy = sum_to(g * x / y, y.shape)
        return gx, gy


class Entr(Op):
    """-x · log(x) for x > 0, 0 at 0, -inf below; derivative -(1 + log x)."""

    preserves_layout = True
    node_name = "SpecialEntrBackward0"

    def forward(self, x):
        return _special("entr", x)

    def backward(self, g):
        return (g * -(1 + self.inputs[0].log()),)


class Ndtri(Op):
    """The inverse of the standard normal CDF; derivative √(2π) · exp(ndtri(x)²/2)."""

    preserves_layout = True
    node_name = "SpecialNdtriBackward0"

    def forward(self, x):
        self.out = _special("ndtri", x)
        return self.out

    def backward(self, g):
        y = self.output(self.out)
        return (g * _SQRT_2PI * (y * y * 0.5).exp(),)


class LogNdtr(Op):
    """log Φ(x), accurate far into both tails; derivative exp(-(log Φ(x) + x²/2)) / √(2π),
    finite where Φ(x) underflows."""

    preserves_layout = True
    node_name = "SpecialLogNdtrBackward0"

    def forward(self, x):
        self.out = _special("log_ndtr", x)
        return self.out

    def backward(self, g):
        (x,) = self.inputs
        y = self.output(self.out)
        return (g * (-(y + x * x * 0.5)).exp() * (1 / _SQRT_2PI),)


def _float_unary(op: type[Op], name: str, input: Any, out: Tensor | None) -> Tensor:
    """A float function of one tensor: PyTorch's TypeError for a non-tensor, ints and bools in
    the default float dtype, and ``out=``."""
    x = float_operand(name, require_tensor(name, input))
    return write_out(name, op.apply(x), out)


def _float_input(x: Tensor, op: str) -> None:
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        kind = x.dtype if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"{op}: expected a floating point tensor, got {kind}")


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Gauss error function 2/√π ∫₀ˣ exp(-t²) dt, elementwise (integer inputs give the
    default float dtype)."""
    return _float_unary(Erf, "erf", input, out)


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complementary error function 1 - erf(x), elementwise, accurate where erf(x) is near 1
    (``erfc(10)`` is 2.1e-45, not 0)."""
    return _float_unary(Erfc, "erfc", input, out)


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse error function, elementwise: ±inf at ±1, NaN outside [-1, 1]."""
    return _float_unary(Erfinv, "erfinv", input, out)


def lgamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log|Γ(x)| elementwise (inf at 0 and the negative integers); gradient digamma(x)."""
    return _float_unary(Lgamma, "lgamma", input, out)


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The digamma function ψ(x) = d/dx log Γ(x), elementwise: -inf at 0, NaN at the negative
    integers, as PyTorch; gradient polygamma(1, x)."""
    return _float_unary(Digamma, "digamma", input, out)


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """ψ⁽ⁿ⁾(x), the ``n``-th derivative of the digamma function, elementwise (``n`` a
    non-negative int; ``polygamma(0, x)`` is ``digamma(x)``); gradient polygamma(n + 1, x).
    NaN at ±inf where PyTorch's is; ±inf at the poles (the negative integers), where PyTorch's
    trigamma gives large finite numbers of rounding."""
    if isinstance(n, Tensor) and n.numel() == 1 and n.dtype.kind in "iu":
        n = int(n.item())
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n={n}).")
    x = float_operand("polygamma", require_tensor("polygamma", input, "input", 2))
    result = Digamma.apply(x) if n == 0 else Polygamma.apply(x, n=n)
    return write_out("polygamma", result, out)


def i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind of order 0, elementwise; gradient i1(x)."""
    return _float_unary(I0, "i0", input, out)


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The normalised sinc function sin(πx)/(πx), elementwise (1 at 0); its derivatives are
    finite at 0 too (0 and -π²/3)."""
    return _float_unary(Sinc, "sinc", input, out)


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """log(x / (1 - x)) elementwise, the inverse of sigmoid. With ``eps`` the input is first
    clamped to [eps, 1 - eps], so 0 and 1 give finite values (and a zero gradient outside that
    range); without (or with a negative ``eps``) 0 and 1 give ∓inf and values outside [0, 1]
    NaN, as PyTorch."""
    x = float_operand("logit", require_tensor("logit", input))
    if eps is not None and not isinstance(eps, (int, float)):
        raise TypeError(f"logit(): argument 'eps' (position 2) must be float, not "
                        f"{type(eps).__name__}")
    eps = None if eps is None or eps < 0 else float(eps)
    return write_out("logit", Logit.apply(x, eps=eps), out)


def xlogy(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """``input · log(other)`` elementwise with broadcasting, 0 where ``input`` is 0 (even where
    ``other`` is 0) and NaN where ``other`` is NaN. Either may be a Python number (not both);
    integer operands give the default float dtype."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"xlogy(): expected at least one Tensor among input and other, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    x, y = promoted(input, other)
    if result_type(x, y).kind in "biu":
        x, y = x.to(backend.default_float), y.to(backend.default_float)
    float_operand("xlogy", x)
    try:
        result = Xlogy.apply(x, y)
    except ValueError:
        raise RuntimeError(f"xlogy: shapes {tuple(x.shape)} (input) and {tuple(y.shape)} "
                           "(other) cannot be broadcast together") from None
    return write_out("xlogy", result, out)


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The entropy term -x·log(x) elementwise: 0 at 0, -inf for x < 0 (``torch.special.entr``)."""
    return _float_unary(Entr, "entr", input, out)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal CDF Φ(x) = (1 + erf(x/√2))/2, computed as erfc(-x/√2)/2 (accurate in
    the lower tail), as ``torch.special.ndtr``."""
    x = float_operand("ndtr", require_tensor("ndtr", input))
    return write_out("ndtr", Erfc.apply(x * -math.sqrt(0.5)) * 0.5, out)


def ndtri(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of the standard normal CDF (the normal quantile function): ±inf at 1 and 0,
    NaN outside [0, 1] (``torch.special.ndtri``)."""
    return _float_unary(Ndtri, "ndtri", input, out)


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log Φ(x), the log of the standard normal CDF, accurate far into the lower tail where Φ
    underflows (``torch.special.log_ndtr``)."""
    return _float_unary(LogNdtr, "log_ndtr", input, out)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF: 0.5·x·(1 + erf(x/√2)); with ``approximate='tanh'``,
    0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as PyTorch."""
    _float_input(input, "gelu")
    if approximate == "none":
        return input * 0.5 * (1 + erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = (input + 0.044715 * input * input * input) * math.sqrt(2 / math.pi)
        return input * 0.5 * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate must be one of {_APPROXIMATIONS}, got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·sigmoid(x) (the swish)."""
    _float_input(input, "silu")
    if inplace:
        return in_place("silu_", input, silu)
    return input * sigmoid(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x))."""
    _float_input(input, "mish")
    if inplace:
        return in_place("mish_", input, mish)
    return input * tanh(softplus(input))
