"""``tn.special``, as ``torch.special``: the error functions, the gamma family (gammaln, digamma
or psi, polygamma), i0, sinc, expit and logit, xlogy, entr, the normal CDF ndtr with its
inverse ndtri and its log log_ndtr, and ``torch.special``'s names for tinynet ops that live
elsewhere (log1p, expm1, exp2, logsumexp, softmax, log_softmax, round).

The special functions and their backwards are in ``tinynet/ops/special.py``; the rest are thin
wrappers with ``torch.special``'s signatures. Only names ``torch.special`` has are here.
"""

from __future__ import annotations

from typing import Any

from tinynet.ops.activation import log_softmax as _log_softmax
from tinynet.ops.activation import sigmoid as _sigmoid
from tinynet.ops.activation import softmax as _softmax
from tinynet.ops.arithmetic import write_out
from tinynet.ops.arguments import require_tensor
from tinynet.ops.more_math import float_operand
from tinynet.ops.powers import exp2 as _exp2
from tinynet.ops.powers import expm1 as _expm1
from tinynet.ops.powers import log1p as _log1p
from tinynet.ops.reduction import logsumexp as _logsumexp
from tinynet.ops.rounding import round as _round
from tinynet.ops.special import (digamma, entr, erf, erfc, erfinv, i0, log_ndtr, logit, ndtr,
                                 ndtri, polygamma, sinc, xlogy)
from tinynet.ops.special import lgamma as _lgamma
from tinynet.tensor import Tensor

psi = digamma  # torch.special's other name for it


def expit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The logistic sigmoid 1 / (1 + exp(-x)), elementwise (``tn.sigmoid``; logit's inverse)."""
    x = float_operand("special.expit", require_tensor("special.expit", input))
    return write_out("special.expit", _sigmoid(x), out)


def gammaln(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log|Γ(x)| elementwise (``tn.lgamma``)."""
    return _lgamma(input, out=out)


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(1 + x) elementwise, accurate near 0 (``tn.log1p``)."""
    x = float_operand("special.log1p", require_tensor("special.log1p", input))
    return write_out("special.log1p", _log1p(x), out)


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(x) - 1 elementwise, accurate near 0 (``tn.expm1``)."""
    x = float_operand("special.expm1", require_tensor("special.expm1", input))
    return write_out("special.expm1", _expm1(x), out)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """2**x elementwise (``tn.exp2``)."""
    x = float_operand("special.exp2", require_tensor("special.exp2", input))
    return write_out("special.exp2", _exp2(x), out)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False, *,
              out: Tensor | None = None) -> Tensor:
    """log(sum(exp(input))) over ``dim`` (an int or a tuple), without overflow
    (``tn.logsumexp``); integer inputs give the default float dtype."""
    x = float_operand("special.logsumexp", require_tensor("special.logsumexp", input))
    return write_out("special.logsumexp", _logsumexp(x, dim, keepdim), out)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """exp(x) normalised to sum to 1 along ``dim`` (``tn.softmax``); ``dtype`` casts the input
    first."""
    return _softmax(require_tensor("special.softmax", input), dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x) (``tn.log_softmax``);
    ``dtype`` casts the input first."""
    return _log_softmax(require_tensor("special.log_softmax", input), dim, dtype=dtype)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Each element rounded to ``decimals`` places, halves to even (``tn.round``; gradient
    zero)."""
    x = require_tensor("special.round", input)
    return write_out("special.round", _round(x, decimals=decimals), out)


__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0",
           "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri", "polygamma",
           "psi", "round", "sinc", "softmax", "xlogy"]
