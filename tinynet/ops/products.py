"""Products PyTorch names separately, each a composition of ops (so their gradients, of every
order, come for free): ``kron``, ``cross``; the scaled sums ``addmm``, ``addmv``, ``addr``,
``baddbmm`` and ``addbmm`` (``beta·input + alpha·product``) with their in-place forms
``addmm_``…``addbmm_``; ``vdot`` and ``ger`` (``outer``); ``cdist``, the distances between two
sets of points; and ``diff``, the differences along a dim.

>>> tn.kron(tn.eye(2), tn.ones(2, 2)).shape
tinynet.Size([4, 4])
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from tinynet.autograd import Op
from tinynet.dtypes import result_type
from tinynet.ops.arithmetic import check_same_dtype, matmul
from tinynet.ops.inplace import inplace
from tinynet.ops.layout import broadcast_tensors
from tinynet.ops.linalg import vector_norm
from tinynet.ops.matrix import outer
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
    beta = 0 ``input`` is ignored, NaN and all, as in PyTorch. The three have one dtype."""
    _check_products("addmm", "expected the same dtype for input, mat1 and mat2", input=input,
                    mat1=mat1, mat2=mat2)
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"addmm: expected 2-D matrices, got mat1 {tuple(mat1.shape)} and mat2 "
                           f"{tuple(mat2.shape)}")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    shape = (mat1.shape[0], mat2.shape[1])
    _check_broadcast("addmm", input, shape)
    return _scaled_sum("addmm", input, mat1 @ mat2, beta, alpha)


def _check_broadcast(op: str, input: Tensor, shape: tuple[int, ...]) -> None:
    """``input`` must expand to the product's ``shape`` (not merely broadcast with it)."""
    try:
        fits = tuple(input.xp.broadcast_shapes(tuple(input.shape), shape)) == shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: input of shape {tuple(input.shape)} does not broadcast to the "
                           f"product's shape {shape}")


def _scaled_sum(op: str, input: Tensor, product: Tensor, beta: Any, alpha: Any,
                refuse_floats: bool = False) -> Tensor:
    """``beta·input + alpha·product``, ``input`` broadcast to the product's shape, as PyTorch's
    add-product ops compute it: with beta = 0 ``input`` is not read (its NaN and inf vanish,
    its gradient is 0); for an integer result a float ``beta``/``alpha`` is truncated
    (addmm, addmv, baddbmm, addbmm) or, with ``refuse_floats`` (addr), refused."""
    beta, alpha = (s.item() if isinstance(s, Tensor) else s for s in (beta, alpha))
    if result_type(input, product).kind in "biu":
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, float) and refuse_floats:
                raise RuntimeError(f"{op}: For integral input tensors, argument {name} must not "
                                   f"be a floating point number (got {name}={value}).")
        beta, alpha = int(beta), int(alpha)
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # input's values are not read; its gradient is 0, as in PyTorch
        return product + input.masked_fill(True, 0)
    return product + (input if beta == 1 else input * beta)


def _check_products(op: str, message: str, **tensors: Tensor) -> None:
    """Products don't promote: every operand has the first one's dtype, as in PyTorch."""
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    dtypes = [t.dtype for t in tensors.values()]
    if any(d != dtypes[0] for d in dtypes):
        found = ", ".join(f"{name} {t.dtype}" for name, t in tensors.items())
        raise RuntimeError(f"{op}: {message} ({found}); convert them with .to(dtype)")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """beta·input + alpha·(mat @ vec) for a matrix (n, m) and a vector (m,), ``input`` (0-d or
    1-D) broadcast to (n,), as ``torch.addmv``; beta = 0 ignores ``input`` (NaN included).

    >>> tn.addmv(tn.tensor([1.0, 1.0]), tn.ones(2, 3), tn.tensor([1.0, 2.0, 3.0]), beta=2)
    tensor([8., 8.])
    """
    _check_products("addmv", "input tensors must have the same dtype", input=input, mat=mat,
                    vec=vec)
    if input.ndim > 1 or mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"addmv: vector + matrix @ vector expected, got input of "
                           f"{input.ndim} dims, mat of {mat.ndim} and vec of {vec.ndim} (shapes "
                           f"{tuple(input.shape)}, {tuple(mat.shape)} and {tuple(vec.shape)})")
    if mat.shape[1] != vec.shape[0] or input.numel() not in (1, mat.shape[0]):
        raise RuntimeError(f"addmv: size mismatch, got input {tuple(input.shape)}, mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _scaled_sum("addmv", input, matmul(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1,
         alpha: float = 1) -> Tensor:
    """beta·input + alpha·outer(vec1, vec2), ``input`` broadcast to (len(vec1), len(vec2)), as
    ``torch.addr``; the dtypes promote. beta = 0 ignores ``input`` (NaN included); integer
    results take integer ``beta``/``alpha`` only; for bools it is ``(beta and input) or
    (alpha and vec1[i] and vec2[j])``.

    >>> tn.addr(tn.zeros(2, 2), tn.tensor([1.0, 2.0]), tn.tensor([3.0, 4.0]), alpha=0.5)
    tensor([[1.5000, 2.0000],
            [3.0000, 4.0000]])
    """
    for name, t in (("input", input), ("vec1", vec1), ("vec2", vec2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"addr(): argument '{name}' must be Tensor, not {type(t).__name__}")
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t.ndim}-D (shape "
                               f"{tuple(t.shape)})")
    shape = (vec1.shape[0], vec2.shape[0])
    _check_broadcast("addr", input, shape)
    dtype = result_type(input, vec1, vec2)
    vec1, vec2 = (t if t.dtype == dtype else t.to(dtype) for t in (vec1, vec2))
    if dtype.kind == "b":
        beta, alpha = (s.item() if isinstance(s, Tensor) else s for s in (beta, alpha))
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, float):
                raise RuntimeError(f"addr: For integral input tensors, argument {name} must not "
                                   f"be a floating point number (got {name}={value}).")
        xp = input.xp
        product = vec1.array[:, None] & vec2.array[None, :] if alpha else xp.zeros(shape, bool)
        kept = xp.broadcast_to(input.array, shape) if beta else xp.zeros(shape, bool)
        return Tensor(kept | product)
    return _scaled_sum("addr", input, outer(vec1, vec2), beta, alpha, refuse_floats=True)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """beta·input + alpha·(batch1 @ batch2) for batches of matrices (b, n, m) and (b, m, p),
    ``input`` broadcast to (b, n, p), as ``torch.baddbmm``; beta = 0 ignores ``input``.

    >>> tn.baddbmm(tn.zeros(1, 2, 2), tn.ones(4, 2, 3), tn.ones(4, 3, 2)).shape
    tinynet.Size([4, 2, 2])
    """
    _check_products("baddbmm", "Input dtypes must be the same", input=input, batch1=batch1,
                    batch2=batch2)
    _check_batches("baddbmm", batch1, batch2)
    b, n, m = batch1.shape
    if tuple(batch2.shape[:2]) != (b, m):
        raise RuntimeError(f"baddbmm: Expected size for first two dimensions of batch2 tensor to "
                           f"be: [{b}, {m}] but got: [{batch2.shape[0]}, {batch2.shape[1]}] "
                           f"(batch1 {tuple(batch1.shape)}, batch2 {tuple(batch2.shape)}).")
    _check_broadcast("baddbmm", input, (b, n, batch2.shape[2]))
    return _scaled_sum("baddbmm", input, matmul(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
           alpha: float = 1) -> Tensor:
    """beta·input + alpha·Σᵢ batch1[i] @ batch2[i]: the products of batches of matrices
    (b, n, m) and (b, m, p) added up, ``input`` broadcast to (n, p), as ``torch.addbmm``;
    beta = 0 ignores ``input``.

    >>> tn.addbmm(tn.zeros(2, 2), tn.ones(4, 2, 3), tn.ones(4, 3, 2))
    tensor([[12., 12.],
            [12., 12.]])
    """
    _check_products("addbmm", "expected the same dtype for input, batch1 and batch2",
                    input=input, batch1=batch1, batch2=batch2)
    _check_batches("addbmm", batch1, batch2)
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"addbmm: batch1 and batch2 must have same number of batches, got "
                           f"{batch1.shape[0]} and {batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"addbmm: Incompatible matrix sizes for bmm ({batch1.shape[1]}x"
                           f"{batch1.shape[2]} and {batch2.shape[1]}x{batch2.shape[2]})")
    _check_broadcast("addbmm", input, (batch1.shape[1], batch2.shape[2]))
    return _scaled_sum("addbmm", input, matmul(batch1, batch2).sum(0), beta, alpha)


def _check_batches(op: str, batch1: Tensor, batch2: Tensor) -> None:
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t.ndim != 3:
            raise RuntimeError(f"{op}: {name} must be a 3D tensor (batch, rows, columns), got "
                               f"shape {tuple(t.shape)}")


def _add_product_(op: str, compute: Any, t: Tensor, first: Tensor, second: Tensor, beta: Any,
                  alpha: Any) -> Tensor:
    """``t`` holds ``compute(t, first, second, beta=beta, alpha=alpha)``, in place (the result
    must have ``t``'s shape: ``t`` itself is not broadcast)."""
    return inplace(op, t, lambda a, x, y: compute(a, x, y, beta=beta, alpha=alpha), first, second)


def addmm_(t: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """In place: ``t`` holds ``addmm(t, mat1, mat2, beta=beta, alpha=alpha)``."""
    return _add_product_("addmm_", addmm, t, mat1, mat2, beta, alpha)


def addmv_(t: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """In place: ``t`` holds ``addmv(t, mat, vec, beta=beta, alpha=alpha)``."""
    return _add_product_("addmv_", addmv, t, mat, vec, beta, alpha)


def addr_(t: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """In place: ``t`` holds ``addr(t, vec1, vec2, beta=beta, alpha=alpha)``."""
    return _add_product_("addr_", addr, t, vec1, vec2, beta, alpha)


def baddbmm_(t: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
             alpha: float = 1) -> Tensor:
    """In place: ``t`` holds ``baddbmm(t, batch1, batch2, beta=beta, alpha=alpha)``."""
    return _add_product_("baddbmm_", baddbmm, t, batch1, batch2, beta, alpha)


def addbmm_(t: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """In place: ``t`` holds ``addbmm(t, batch1, batch2, beta=beta, alpha=alpha)``."""
    return _add_product_("addbmm_", addbmm, t, batch1, batch2, beta, alpha)


class Conj(Op):
    """The complex conjugate (a copy); its gradient is the conjugate of the incoming one."""

    saves_inputs = False
    node_name = "ConjBackward0"

    def forward(self, a):
        return a.conj()

    def backward(self, g):
        return (Conj.apply(g),)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors of the same length and dtype, the first one
    conjugated (for real tensors, ``dot``), as ``torch.vdot``.

    >>> tn.vdot(tn.tensor([1.0, 2.0]), tn.tensor([3.0, 4.0]))
    tensor(11.)
    """
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"vdot(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"vdot: 1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           f"tensors (shapes {tuple(input.shape)} and {tuple(other.shape)})")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"vdot: inconsistent tensor size, expected tensors of the same number "
                           f"of elements, but got {input.shape[0]} and {other.shape[0]}")
    if input.dtype != other.dtype:
        raise RuntimeError(f"vdot: expected both vectors to have same dtype, but found "
                           f"{input.dtype} and {other.dtype}")
    if input.dtype.kind == "c":
        input = Conj.apply(input)
    return matmul(input, other)


ger = outer  # PyTorch's older name for outer


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
