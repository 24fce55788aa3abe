"""The activations of ``tinynet.nn.functional`` that are compositions of other ops (SELU, CELU,
log-sigmoid, the shrinks, GLU, PReLU, RReLU…), with PyTorch's signatures and defaults.

Each is written in differentiable ops, so its gradient and second derivative come from them;
where PyTorch's gradient has a rule of its own at a kink or at NaN (threshold, the shrinks), the
composition is chosen to follow it. The piecewise-linear ones with such rules inside a single
op (``hardtanh``, ``relu6``, ``hardsigmoid``, ``hardswish``) are ops in ``tinynet/ops``.

>>> F.selu(tn.tensor([-1.0, 0.0, 2.0]))
tensor([-1.1113,  0.0000,  2.1014])
"""

from __future__ import annotations

from typing import Any

from tinynet import strides
from tinynet.factories import rand
from tinynet.ops import chunk, elu, leaky_relu, softmax, softplus, tanh, where
from tinynet.ops.activation import in_place, sigmoid
from tinynet.tensor import Tensor

__all__ = ["celu", "glu", "hardshrink", "logsigmoid", "prelu", "rrelu", "selu", "softmin",
           "softshrink", "softsign", "tanhshrink", "threshold"]

# SELU's constants (Klambauer et al., 2017), PyTorch's digits
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale · elu(x, alpha) with the self-normalising constants ``SELU_ALPHA`` and
    ``SELU_SCALE`` (with ``inplace``, written into x)."""
    if inplace:
        return in_place("selu_", input, selu)
    return elu(input, SELU_ALPHA) * SELU_SCALE


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha · (exp(x / alpha) - 1)): an ELU whose slope at 0 is 1 for any
    ``alpha`` (with ``inplace``, written into x)."""
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    if inplace:
        return in_place("celu_", input, lambda t: celu(t, alpha))
    return elu(input / alpha, 1.0) * alpha


@strides.contiguous_result
def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for any x (never the log of an underflowed 0)."""
    return -softplus(-input, threshold=float("inf"))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above ``lambd``, x + lambd below -lambd, 0 between (NaN stays NaN and passes
    its gradient, as PyTorch)."""
    if not lambd >= 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf), but found {lambd}")
    raw = input.array
    inside = (raw >= -lambd) & (raw <= lambd)
    return where(inside, 0.0, where(raw > lambd, input - lambd, input + lambd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > ``lambd``, else 0 (NaN stays NaN, as PyTorch)."""
    raw = input.array
    return where((raw >= -lambd) & (raw <= lambd), 0.0, input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > ``threshold``, else ``value`` (with ``inplace``, written into x)."""
    if inplace:
        return in_place("threshold_", input, lambda t: _threshold(t, threshold, value))
    return _threshold(input, threshold, value)


def _threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    return where(input.array <= threshold, value, input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: a · sigmoid(b), where a and b are the two halves of ``input``
    along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for shape {tuple(input.shape)}")
    if input.shape[dim] % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension "
                           f"{dim % input.ndim} is size {input.shape[dim]}")
    a, b = chunk(input, 2, dim)
    return a * sigmoid(b)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``: weights that favour the smallest entries. ``dim`` must be
    given (PyTorch's guess of it without one is deprecated; guessing hides bugs)."""
    if dim is None:
        raise TypeError("softmin: pass the dim to normalise over, e.g. softmin(x, dim=1) for "
                        "(N, C) scores (PyTorch's guess of it without one is deprecated)")
    return softmax(-input, dim, dtype=dtype)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else weight · x, with one learned slope for all channels or one per
    channel (dim 1 of ``input``)."""
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = {channels}.")
    weight = weight.reshape(()) if weight.numel() == 1 else \
        weight.reshape((channels,) + (1,) * (input.ndim - 2))
    return where(input.array > 0, input, weight * input)


@strides.contiguous_result
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """The randomised leaky ReLU: x where x > 0, else a·x, with a drawn uniformly from
    [``lower``, ``upper``] for every element while ``training`` and (lower + upper) / 2
    otherwise (with ``inplace``, written into x)."""
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper bound, "
                           f"got lower={lower} and upper={upper}")
    if inplace:
        return in_place("rrelu_", input, lambda t: rrelu(t, lower, upper, training))
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    slopes = rand(*input.shape, dtype=input.dtype, device=input.device) * (upper - lower) + lower
    return where(input.array > 0, input, slopes * input)
