"""The determinant (``tn.det``, ``tn.linalg.det``, ``Tensor.det``) and its gradient.

The gradient of det(A) is its cofactor matrix, det(A) · A⁻ᵀ where A is invertible, written
with tinynet ops (the determinant node itself and ``inv``) so it differentiates again. For a
singular matrix (det exactly 0, where LAPACK's inverse fails) the cofactors are computed as they
are defined, signed determinants of the (n-1)×(n-1) minors, all in one batched determinant:
the gradient stays exact there too (for a matrix of rank n-1 it is not zero), as PyTorch's
``create_graph=True`` path gives it.
"""

from __future__ import annotations

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.linalg import LinAlgError, inv
from tinynet.ops.shape import getitem
from tinynet.tensor import Tensor


class Det(Op):
    """The determinant of each (..., n, n) matrix, by LU (LAPACK)."""

    node_name = "LinalgDetBackward0"

    def forward(self, a):
        xp = backend.get_array_module(a)
        self.out = xp.asarray(xp.linalg.det(a))
        return self.out

    def backward(self, g):
        (a,) = self.inputs
        n = a.shape[-1]
        if n == 0:
            return (Tensor(g.xp.zeros(a.shape, dtype=g.dtype)),)
        if bool((self.out != 0).all()):
            try:
                scale = (g * self.output(self.out)).unsqueeze(-1).unsqueeze(-1)
                return (scale * inv(a).mT,)
            except LinAlgError:
                pass
        return (g.unsqueeze(-1).unsqueeze(-1) * cofactors(a),)


def cofactors(a: Tensor) -> Tensor:
    """The cofactor matrix of each (..., n, n) matrix: ``C[i, j] = (-1)^(i+j) det(minor(i, j))``,
    with every minor taken at once (one (..., n, n, n-1, n-1) gather and one determinant)."""
    n = a.shape[-1]
    xp = a.xp
    if n == 1:
        return Tensor(xp.ones(a.shape, dtype=a.dtype))
    keep = xp.arange(n - 1)
    others = keep[None, :] + (keep[None, :] >= xp.arange(n)[:, None])  # row i: 0..n-1 without i
    rows = others[:, None, :, None]  # (n, 1, n-1, 1): the rows of minor (i, j)
    cols = others[None, :, None, :]  # (1, n, 1, n-1): its columns
    minors = getitem(a, (Ellipsis, rows, cols))
    signs = 1 - 2 * ((xp.arange(n)[:, None] + xp.arange(n)[None, :]) % 2)
    return Det.apply(minors) * Tensor(signs.astype(a.dtype))


def det(A: Tensor) -> Tensor:
    """The determinant of a square matrix, or of each matrix of a batch (..., n, n).
    Differentiable to any order, singular matrices included (see the module's docstring)."""
    if A.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.det: Expected a floating point or complex tensor as input. "
                           f"Got {A.dtype}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.det: The input tensor A must have at least 2 dimensions "
                           f"(got shape {tuple(A.shape)}).")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.det: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    return Det.apply(A)
