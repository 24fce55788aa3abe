"""Products PyTorch names separately, each a composition of ops (so their gradients, of every
order, come for free): ``kron``, ``cross``, ``addmm``; ``cdist``, the distances between two
sets of points; and ``diff``, the differences along a dim.

>>> tn.kron(tn.eye(2), tn.ones(2, 2)).shape
tinynet.Size([4, 4])
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from tinynet.ops.arithmetic import check_same_dtype
from tinynet.ops.layout import broadcast_tensors
from tinynet.ops.linalg import vector_norm
from tinynet.ops.shape import _normalize_dim, along, cat, getitem, reshape
from tinynet.tensor import Tensor


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every element of ``input`` times the whole of ``other``, in
    blocks (the shorter shape gets leading 1s)."""
    ndim = max(input.ndim, other.ndim)
    a = reshape(input, (1,) * (ndim - input.ndim) + tuple(input.shape))
    b = reshape(other, (1,) * (ndim - other.ndim) + tuple(other.shape))
    interleaved = reshape(a, tuple(n for size in a.shape for n in (size, 1))) * \
        reshape(b, tuple(n for size in b.shape for n in (1, size)))
    return reshape(interleaved, tuple(p * q for p, q in zip(a.shape, b.shape)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcast together). Without ``dim``,
    the first dim of size 3, with PyTorch's deprecation warning."""
    if input.ndim != other.ndim:
        raise RuntimeError(f"cross: inputs must have the same number of dimensions, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    check_same_dtype("cross", input=input, other=other)
    input, other = broadcast_tensors(input, other)
    if dim is None:
        sizes = [d for d, n in enumerate(input.shape) if n == 3]
        if not sizes:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape "
                               f"{tuple(input.shape)}")
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please "
                      "either pass the dim explicitly or simply use torch.linalg.cross. The "
                      "default value of dim will change to agree with that of linalg.cross in "
                      "a future release.", UserWarning, stacklevel=2)
        dim = sizes[0]
    dim = _normalize_dim(dim, input.ndim, "cross")
    if input.shape[dim] != 3:
        raise RuntimeError(f"cross: dimension {dim} does not have size 3: input of shape "
                           f"{tuple(input.shape)}")
    a = [getitem(input, along(dim, slice(i, i + 1))) for i in range(3)]
    b = [getitem(other, along(dim, slice(i, i + 1))) for i in range(3)]
    return cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]],
               dim)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """beta·input + alpha·(mat1 @ mat2), ``input`` broadcast to the product's shape; with
    beta = 0 ``input`` is ignored, NaN and all, as in PyTorch."""
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: expected 2-D matrices, got mat1 {tuple(mat1.shape)} and mat2 "
                           f"{tuple(mat2.shape)}")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    shape = (mat1.shape[0], mat2.shape[1])
    try:
        input.xp.broadcast_shapes(tuple(input.shape), shape)
    except ValueError:
        raise RuntimeError(f"addmm: input of shape {tuple(input.shape)} does not broadcast to the "
                           f"product's shape {shape}") from None
    product = mat1 @ mat2 if alpha == 1 else (mat1 @ mat2) * alpha
    if beta == 0:  # input's values are not read; its gradient is 0, as in PyTorch
        return product + input.masked_fill(True, 0.0)
    return product + (input if beta == 1 else input * beta)


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                 "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The ``p``-norm distance between every row of ``x1`` (..., P, M) and every row of ``x2``
    (..., R, M): a (..., P, R) tensor, the batch dims broadcast, as ``torch.cdist``.

    tinynet always takes the norm of the differences, exact for every ``p``; PyTorch may use
    a matrix product for p = 2 (faster, slightly less exact), which ``compute_mode`` chooses
    there and tinynet accepts but does not need. At a distance 0 the gradient is 0.

    >>> tn.cdist(tn.tensor([[0.0, 0.0]]), tn.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    for name, x in (("x1", x1), ("x2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist: {name} must have at least 2 dims (..., points, "
                               f"coordinates), got shape {tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise RuntimeError(f"cdist: only floating-point inputs are supported, {name} is "
                               f"{x.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: x1 and x2 must have the same number of columns, got x1 "
                           f"{tuple(x1.shape)} and x2 {tuple(x2.shape)}")
    if not p >= 0:
        raise RuntimeError(f"cdist: p must be a non-negative number, got {p}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"cdist: {compute_mode!r} is not a valid compute_mode; expected one "
                         f"of {', '.join(_CDIST_MODES)}")
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., P, R, M)
    return vector_norm(differences, p, dim=-1)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim``: out[i] = x[i+1] - x[i], repeated ``n``
    times, after ``prepend`` and ``append`` are joined on either side."""
    dim = _normalize_dim(dim, input.ndim, "diff")
    if n < 0:
        raise RuntimeError(f"diff expects n to be non-negative, got {n}")
    parts = [t for t in (prepend, input, append) if t is not None]
    out = cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        out = getitem(out, along(dim, slice(1, None))) - getitem(out, along(dim, slice(None, -1)))
    return out


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum of products over ``dims``, as ``torch.tensordot``: an int n contracts the last n dims
    of ``a`` with the first n of ``b``; a pair of lists names the dims of each. One matmul of the
    two reshaped into matrices.

    >>> tn.tensordot(tn.ones(2, 3, 4), tn.ones(3, 4, 5)).shape   # dims=2
    tinynet.Size([2, 5])
    """
    check_same_dtype("tensordot", a=a, b=b)
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims must be in [0, {min(a.ndim, b.ndim)}] for shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)}, got {dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [_normalize_dim(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [_normalize_dim(d, b.ndim, "tensordot") for d in dims_b]
    if len(dims_a) != len(dims_b) or any(a.shape[i] != b.shape[j] for i, j in zip(dims_a, dims_b)):
        raise RuntimeError(f"tensordot: contracted dims {dims_a} of {tuple(a.shape)} and {dims_b} "
                           f"of {tuple(b.shape)} must match in number and size")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = reshape(a.permute(free_a + dims_a), (-1, size))
    right = reshape(b.permute(dims_b + free_b), (size, -1))
    return reshape(left @ right, [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])
