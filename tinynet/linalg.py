"""``tn.linalg``, as ``torch.linalg``: norms, symmetric eigendecomposition, solve, inverse,
singular values, determinant, cross product. The ops and their backwards are in
``tinynet/ops/linalg.py`` (``cross`` is ``tn.cross``'s, in ``tinynet/ops/products.py``); the
decompositions and solvers (svd, qr, cholesky, slogdet, pinv, lstsq, solve_triangular, matrix_exp,
the ``_ex`` variants, matrix_rank, cond) in ``tinynet/ops/decompositions.py``."""

from tinynet.ops.det import det
from tinynet.ops.linalg import (LinAlgError, eigh, eigvalsh, inv, matrix_norm, norm, solve,
                                svdvals, vector_norm)
from tinynet.ops.arithmetic import matmul
from tinynet.ops.decompositions import (cholesky, cholesky_ex, cond, inv_ex, lstsq, matrix_exp,
                                        matrix_rank, pinv, qr, slogdet, solve_ex, solve_triangular,
                                        svd)
from tinynet.ops.linalg import diagonal, matrix_power, multi_dot, vander, vecdot
from tinynet.ops.products import cross as _cross
from tinynet.tensor import Tensor


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of the 3-vectors along ``dim`` (the last by default, unlike
    ``tn.cross``), as ``torch.linalg.cross``: both inputs have the same number of dims, size 3
    along ``dim``, and broadcast over the others.

    >>> tn.linalg.cross(tn.tensor([1.0, 0.0, 0.0]), tn.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got "
                           f"shapes {tuple(input.shape)} and {tuple(other.shape)}")
    if input.ndim == 0:
        raise IndexError(f"linalg.cross: dimension {dim} is out of range for 0-d inputs")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"linalg.cross: dimension {dim} is out of range for inputs with "
                         f"{input.ndim} dims")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3, got "
                           f"{input.shape[dim]} and {other.shape[dim]} (shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)})")
    return _cross(input, other, dim)


__all__ = ["LinAlgError", "cross", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "norm", "solve",
           "svdvals", "vector_norm",
           "cholesky", "cholesky_ex", "cond", "diagonal", "inv_ex", "lstsq", "matmul", "matrix_exp",
           "matrix_power", "matrix_rank", "multi_dot", "pinv", "qr", "slogdet", "solve_ex",
           "solve_triangular", "svd", "vander", "vecdot"]
