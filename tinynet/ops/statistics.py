"""Statistics PyTorch names separately: ``quantile`` and ``nanquantile`` (with its five
interpolations), ``cov`` and ``corrcoef``, ``aminmax``, ``dist``, and ``renorm`` with its
in-place form ``renorm_``.

Each is a composition of differentiable ops, written as PyTorch computes it, so the values,
dtypes and gradients of every order are PyTorch's:

* a quantile sorts the values along ``dim`` (a gather), reads the two sorted values around the
  quantile's rank and interpolates between them with ``lerp``'s formula. Its gradient goes to
  the elements it read; with ``interpolation='linear'`` a tensor ``q`` gets one too (the slope
  between the two values), as in PyTorch;
* ``cov`` centres the observations (weighted by ``fweights``/``aweights``) and multiplies them,
  so ``input`` and ``aweights`` both get gradients; ``corrcoef`` divides by the deviations;
* ``aminmax`` is ``(amin, amax)``: tied extremes share the gradient evenly;
* ``renorm`` scales each slice whose norm is above ``maxnorm`` by ``maxnorm / (norm + 1e-7)``.

>>> tn.quantile(tn.tensor([1.0, 2.0, 4.0, 8.0]), 0.5)
tensor(3.)
>>> tn.aminmax(tn.tensor([[3, 1], [2, 5]]), dim=1)
aminmax(min=tensor([1, 2]), max=tensor([3, 5]))
"""

from __future__ import annotations

import warnings
from collections import namedtuple
from typing import Any

from tinynet.ops.arguments import require_tensor
from tinynet.ops.arithmetic import matmul
from tinynet.ops.elementwise import clamp, sqrt, where
from tinynet.ops.indexing import gather
from tinynet.ops.inplace import inplace
from tinynet.ops.linalg import vector_norm
from tinynet.ops.matrix import diagonal
from tinynet.ops.products import Conj
from tinynet.ops.ordering import sort
from tinynet.ops.reduction import amax, amin
from tinynet.ops.shape import _normalize_dim, movedim, reshape, unsqueeze
from tinynet.tensor import Tensor

AminMax = namedtuple("aminmax", ["min", "max"])

INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")



def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- quantile
def quantile(input: Tensor, q: float | Tensor, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles of ``input`` (all of it flattened, or along ``dim``), as
    ``torch.quantile``. ``q`` is a number in [0, 1] or a 0-d/1-D tensor of them with
    ``input``'s dtype (float32 or float64); a 1-D ``q`` puts one quantile per entry in a new
    first dim. A quantile whose rank ``q·(n-1)`` falls between two sorted values i < j is found
    by ``interpolation``: ``'linear'`` (i + (j-i)·fraction), ``'lower'`` (i), ``'higher'`` (j),
    ``'midpoint'`` ((i+j)/2) or ``'nearest'`` (the nearer, halves to the even rank). A NaN
    along the reduced values makes the quantile NaN (see ``nanquantile``).

    >>> x = tn.tensor([[0.0, 1.0, 2.0, 3.0], [4.0, 8.0, 6.0, 5.0]])
    >>> tn.quantile(x, tn.tensor([0.25, 0.5]), dim=1)
    tensor([[0.7500, 4.7500],
            [1.5000, 5.5000]])
    >>> tn.quantile(x, 0.5, dim=1, interpolation='lower')
    tensor([1., 5.])
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Tensor, q: float | Tensor, dim: int | None = None, keepdim: bool = False,
                *, interpolation: str = "linear") -> Tensor:
    """``quantile`` of the values that are not NaN, as ``torch.nanquantile``: the ranks count
    only those values, and a quantile is NaN only where all of them are.

    >>> tn.nanquantile(tn.tensor([1.0, float("nan"), 3.0]), 0.5)
    tensor(2.)
    """
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


def _quantile(op: str, input: Tensor, q: Any, dim: int | None, keepdim: bool,
              interpolation: str, ignore_nan: bool) -> Tensor:
    require_tensor(op, input, "input", 0)
    if _is_number(q):
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
    elif not isinstance(q, Tensor):
        raise TypeError(f"{op}(): argument 'q' (position 1) must be a float or a Tensor, not "
                        f"{type(q).__name__}")
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
        raise TypeError(f"{op}(): argument 'dim' must be an int or None, not {type(dim).__name__}")
    if interpolation not in INTERPOLATIONS:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, midpoint "
                           f"or nearest, but got {interpolation}")
    if input.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty (got shape "
                           f"{tuple(input.shape)})")
    if isinstance(q, Tensor) and q.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape {tuple(q.shape)}")
    if input.dtype.kind != "f" or input.dtype.itemsize < 4:
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype, got "
                           f"{input.dtype}")
    xp = input.xp
    if isinstance(q, Tensor):
        if q.dtype != input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor: input "
                               f"is {input.dtype}, q is {q.dtype}")
        if q.device != input.device:
            raise RuntimeError(f"{op}() q tensor must be on the same device as the input tensor: "
                               f"input is on {input.device}, q on {q.device}")
        if not bool(((q.array >= 0) & (q.array <= 1)).all()):
            raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
        q_vector, scalar_q = reshape(q, (-1,)), q.ndim == 0
    else:
        q_vector, scalar_q = Tensor(xp.asarray([q], dtype=input.dtype)), True

    # the values to reduce, sorted along a last dim (NaN sorts last)
    if dim is None:
        values = reshape(input, (-1,))
    else:
        dim = _normalize_dim(dim, input.ndim, op)
        values = movedim(input, dim, -1) if input.ndim else reshape(input, (1,))
    ordered = sort(values, -1).values
    n = ordered.shape[-1]

    # each quantile's rank in [0, n-1], a tensor so that q gets its gradient (linear only)
    nan = xp.isnan(ordered.array)
    if ignore_nan:  # ranks among the non-NaN values; all NaN: rank 0, so the quantile is NaN
        count = (~nan).sum(axis=-1, keepdims=True).astype(input.dtype)
        ranks = q_vector * Tensor(count - 1)
        ranks = where(ranks.array < 0, 0.0, ranks)
    else:  # a NaN anywhere: the last rank, which holds a NaN
        ranks = where(nan.any(axis=-1, keepdims=True), float(n - 1), q_vector * (n - 1))
    rank = ranks.array
    if interpolation == "lower":
        rank = xp.floor(rank)
    elif interpolation == "higher":
        rank = xp.ceil(rank)
    elif interpolation == "nearest":
        rank = xp.round(rank)  # halves to even, as PyTorch's round
    below_index = rank.astype("int64")
    out = gather(ordered, -1, below_index)
    if interpolation in ("linear", "midpoint"):
        above = gather(ordered, -1, xp.ceil(rank).astype("int64"))
        if interpolation == "midpoint":
            weight: Any = Tensor(xp.full(rank.shape, 0.5, dtype=input.dtype))
        else:
            weight = ranks - Tensor(below_index.astype(input.dtype))
        out = _lerp(out, above, weight)

    # out is (reduced dims..., quantiles): PyTorch's layout puts the quantiles first
    if keepdim:
        if dim is None:
            out = reshape(out, (1,) * input.ndim + (out.shape[-1],))
        elif input.ndim:
            out = unsqueeze(out, dim)
    return reshape(out, tuple(out.shape[:-1])) if scalar_q else movedim(out, -1, 0)


def _lerp(start: Tensor, end: Tensor, weight: Tensor) -> Tensor:
    """PyTorch's lerp formula, exact at both ends: ``start + w·(end - start)`` for |w| < 0.5,
    ``end - (end - start)·(1 - w)`` otherwise (so its rounding matches PyTorch's too)."""
    difference = end - start
    small = start.xp.abs(weight.array) < 0.5
    return where(small, start + weight * difference, end - difference * (1 - weight))


# --------------------------------------------------------------------------- cov, corrcoef
def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (a 2-D tensor: one
    variable per row, one observation per column; a 0-d or 1-D tensor is a single variable, whose
    variance comes back as a 0-d tensor), as ``torch.cov``.

    ``correction`` is subtracted from the number of observations (1: the unbiased estimate, 0:
    the maximum-likelihood one). ``fweights`` (integers) counts how often each observation
    occurs; ``aweights`` (floating point) weighs each observation. Both are 1-D with one entry
    per observation and non-negative. Integer inputs give the default float dtype.

    >>> tn.cov(tn.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    require_tensor("cov", input, "input", 0)
    if not isinstance(correction, int):
        raise TypeError(f"cov(): argument 'correction' must be int, not "
                        f"{type(correction).__name__}")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions (shape {tuple(input.shape)})")
    if input.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = reshape(input, (1, -1)) if input.ndim < 2 else input
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        _check_weights("fweights", fweights, observations, "iu", "integral")
        weights = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, observations, "f", "floating point")
        weights = aweights if weights is None else weights * aweights
    if weights is not None:
        weights = reshape(weights, (-1,))
        total: Any = weights.sum()
        if not bool((total.array != 0).all()):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    else:
        total = observations
    weighted = x if weights is None else x * weights
    mean = weighted.sum(1) / total
    if weights is not None and aweights is not None and correction != 0:
        norm_factor: Any = total - correction * (weights * reshape(aweights, (-1,))).sum() / total
    else:
        norm_factor = total - correction
    if bool((norm_factor.array if isinstance(norm_factor, Tensor) else norm_factor) <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      f"than the number of observations ({observations}, correction "
                      f"{correction}).", UserWarning, stacklevel=3)
        norm_factor = norm_factor * 0 if isinstance(norm_factor, Tensor) else 0
    centred = x - unsqueeze(mean, 1)
    other = centred if weights is None else centred * weights
    if other.dtype.kind == "c":  # the conjugate transpose, as PyTorch
        other = Conj.apply(other)
    products = matmul(centred, other.mT)
    return (products / norm_factor).squeeze()


def _check_weights(name: str, weights: Any, observations: int, kinds: str, kind_name: str) -> None:
    require_tensor("cov", weights, name, 0)
    if weights.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {weights.ndim} dimensions")
    if weights.dtype.kind not in kinds:
        raise RuntimeError(f"cov(): expected {name} to have {kind_name} dtype but got {name} "
                           f"with {weights.dtype} dtype")
    if weights.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {weights.numel()} != "
                           f"{observations}")
    if observations and not bool((weights.array >= 0).all()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of ``input`` (as
    ``cov``'s input), as ``torch.corrcoef``: the covariance matrix divided by the deviations
    of both variables, clipped to [-1, 1]. A variable that never changes gives NaN.

    >>> tn.corrcoef(tn.tensor([[0.0, 1.0, 2.0], [0.0, 2.0, 1.0]]))
    tensor([[1.0000, 0.5000],
            [0.5000, 1.0000]])
    """
    require_tensor("corrcoef", input, "input", 0)
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions (shape {tuple(input.shape)})")
    if input.dtype.kind == "c":
        raise NotImplementedError("corrcoef(): complex inputs are not supported by tinynet (the "
                                  "clipping of real and imaginary parts is not implemented); "
                                  "use cov() and divide by the deviations")
    c = cov(input)
    if c.ndim == 0:  # a single variable: 1, or NaN when its variance is 0, inf or NaN
        return c / c
    deviations = sqrt(diagonal(c))
    c = c / reshape(deviations, (-1, 1))
    c = c / reshape(deviations, (1, -1))
    return clamp(c, -1, 1)


# --------------------------------------------------------------------------- aminmax, dist, renorm
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> AminMax:
    """The smallest and the largest values together, ``(min, max)``, of all elements or along
    ``dim``, as ``torch.aminmax``: ``amin`` and ``amax`` in one call (tied extremes share the
    gradient evenly; a NaN makes both NaN).

    >>> tn.aminmax(tn.tensor([3.0, -1.0, 2.0]))
    aminmax(min=tensor(-1.), max=tensor(3.))
    """
    require_tensor("aminmax", input, "input", 0)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
    elif not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {type(dim).__name__}")
    else:
        dim = _normalize_dim(dim, input.ndim, "aminmax")
        if input.ndim and input.shape[dim] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size (input "
                             f"of shape {tuple(input.shape)}).")
    return AminMax(amin(input, dim, keepdim), amax(input, dim, keepdim))


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast together), as ``torch.dist``: 2 is the
    Euclidean distance, 1 the sum of absolute differences, ``inf`` the largest one, 0 the
    number of differing elements. Floating-point tensors only.

    >>> tn.dist(tn.tensor([0.0, 0.0]), tn.tensor([3.0, 4.0]))
    tensor(5.)
    """
    require_tensor("dist", input, "input", 0)
    require_tensor("dist", other, "other", 1)
    p = p.item() if isinstance(p, Tensor) else p
    difference = input - other
    if difference.dtype.kind not in "fc":
        raise RuntimeError(f"dist(): input dtype should be either floating point or complex, got "
                           f"input {input.dtype} and other {other.dtype}")
    return vector_norm(difference, p)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """``input`` with each slice along ``dim`` (``input.select(dim, i)``) whose ``p``-norm is
    above ``maxnorm`` scaled down to norm ``maxnorm`` (times ``maxnorm / (norm + 1e-7)``, as
    PyTorch), as ``torch.renorm``; the other slices are unchanged. A tensor of at least 2 dims.

    >>> tn.renorm(tn.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    require_tensor("renorm", input, "input", 0)
    if not p > 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (got p={p})")
    if not maxnorm >= 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           f"dimensions (shape {tuple(input.shape)})")
    dim = _normalize_dim(dim, input.ndim, "renorm")
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"renorm: expected a floating point or complex tensor as input, got "
                           f"{input.dtype}")
    norm = vector_norm(input, p, tuple(d for d in range(input.ndim) if d != dim), keepdim=True)
    factor = where(norm.array > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor


def renorm_(t: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """In place: ``t`` holds ``t.renorm(p, dim, maxnorm)``."""
    return inplace("renorm_", t, lambda a: renorm(a, p, dim, maxnorm))
