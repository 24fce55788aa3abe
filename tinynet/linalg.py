"""``tn.linalg``, as ``torch.linalg``: norms, symmetric eigendecomposition, solve, inverse,
singular values, determinant. The ops and their backwards are in ``tinynet/ops/linalg.py``."""

from tinynet.ops.det import det
from tinynet.ops.linalg import (LinAlgError, eigh, eigvalsh, inv, matrix_norm, norm, solve,
                                svdvals, vector_norm)

__all__ = ["LinAlgError", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "norm", "solve", "svdvals",
           "vector_norm"]
