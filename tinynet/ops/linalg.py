"""Linear algebra for ``tn.linalg``: eigh, solve, inv, singular values and the norms.

Backwards follow PyTorch's formulas, written with tinynet ops so they differentiate again:

* ``solve``: X = A⁻¹B gives dB = A⁻ᵀG and dA = -dB Xᵀ;
* ``inv``: dA = -Yᵀ G Yᵀ;
* ``eigh``: dA = V (diag(dλ) + skew(VᵀdV) / (λⱼ - λᵢ)) Vᵀ, which is symmetric, as PyTorch's;
  it needs distinct eigenvalues (equal ones make the eigenvectors, and their gradient, undefined);
* singular values: dσᵢ = uᵢᵀ dA vᵢ, with u, v from the eigenvectors of the smaller Gram matrix.

An op produces one array, so ``eigh`` returns its eigenvectors with the eigenvalues as one extra
row, and the caller slices the two apart.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.elementwise import abs, where
from tinynet.ops.reduction import _axes, amax, amin, sum
from tinynet.ops.rounding import sign
from tinynet.ops.shape import flip, movedim, sum_to
from tinynet.tensor import Tensor

EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])


class LinAlgError(RuntimeError):
    """A matrix that the operation can't handle (singular for ``solve``/``inv``), as PyTorch's
    ``torch.linalg.LinAlgError``."""


def _lapack(op: str, what: str, function: Any, *arrays: Any) -> Any:
    """Call a NumPy/CuPy linalg routine; its LinAlgError becomes tinynet's, naming the op."""
    try:
        return function(*arrays)
    except backend.get_array_module(arrays[0]).linalg.LinAlgError as err:
        shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
        raise LinAlgError(f"linalg.{op}: {what} (input shapes {shapes}; {err})") from None


class Eigh(Op):
    """Eigenvectors (columns) stacked over one row of eigenvalues: shape (..., n + 1, n)."""

    node_name = "LinalgEighBackward0"

    def forward(self, a):
        xp = backend.get_array_module(a)
        values, vectors = _lapack("eigh", "the eigenvalue algorithm did not converge",
                                  lambda m: xp.linalg.eigh(m, UPLO=self.uplo), a)
        self.out = xp.concatenate([vectors, values[..., None, :]], axis=-2)
        return self.out

    def backward(self, g):
        n = g.shape[-1]
        packed = self.output(self.out)
        vectors, values = packed[..., :n, :], packed[..., n, :]
        g_vectors, g_values = g[..., :n, :], g[..., n, :]
        eye = g.xp.eye(n, dtype=bool)
        projected = vectors.mT @ g_vectors
        gaps = where(eye, 1.0, values.unsqueeze(-2) - values.unsqueeze(-1))  # λⱼ - λᵢ
        inner = (projected - projected.mT) * 0.5 / gaps + g_values.unsqueeze(-1) * Tensor(
            eye.astype(g.dtype))
        return (vectors @ inner @ vectors.mT,)


class Solve(Op):
    node_name = "LinalgSolveExBackward0"

    def forward(self, a, b):
        xp = backend.get_array_module(a)
        self.out = _lapack("solve", "the matrix A is singular", xp.linalg.solve, a, b)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        gb = solve_matrix(a.mT, g)
        ga = sum_to(-gb @ self.output(self.out).mT, a.shape) if self.needs_input_grad[0] else None
        return ga, sum_to(gb, b.shape) if self.needs_input_grad[1] else None


class Inv(Op):
    node_name = "LinalgInvExBackward0"
    saves_inputs = False

    def forward(self, a):
        xp = backend.get_array_module(a)
        self.out = _lapack("inv", "the matrix is singular", xp.linalg.inv, a)
        return self.out

    def backward(self, g):
        y = self.output(self.out).mT
        return (-(y @ g @ y),)


class SingularValues(Op):
    """Singular values in descending order (the forward is LAPACK's SVD)."""

    node_name = "LinalgSvdBackward0"

    def forward(self, a):
        xp = backend.get_array_module(a)
        return _lapack("svdvals", "the SVD did not converge",
                       lambda m: xp.linalg.svd(m, compute_uv=False), a)

    def backward(self, g):
        (a,) = self.inputs
        tall = a.shape[-2] >= a.shape[-1]  # use the smaller Gram matrix, AᵀA or AAᵀ
        gram = a.mT @ a if tall else a @ a.mT
        values, vectors = eigh(gram)
        values, vectors = flip(values, -1), flip(vectors, -1)  # descending, as the forward
        sigma = values.clamp(min=0).sqrt()
        # dσᵢ = uᵢᵀ dA vᵢ with u = Av/σ (or v = Aᵀu/σ); a zero σ contributes nothing
        weights = g / where(sigma.array == 0, 1.0, sigma)
        scaled = vectors * weights.unsqueeze(-2)
        return ((a @ scaled @ vectors.mT) if tall else (scaled @ vectors.mT @ a),)


class VectorNorm(Op):
    """The p-norm over ``axes`` for finite p not in {0, 1}; computed as m·‖x/m‖ with m the largest
    magnitude, so large and tiny entries neither overflow nor underflow."""

    node_name = "LinalgVectorNormBackward0"

    def forward(self, a):
        xp = backend.get_array_module(a)
        magnitudes = xp.abs(a)
        largest = magnitudes.max(axis=self.axes, keepdims=True)
        scale = xp.where((largest > 0) & xp.isfinite(largest), largest, 1).astype(a.dtype)
        total = ((magnitudes / scale) ** self.ord).sum(axis=self.axes, keepdims=True)
        self.out = scale * total ** (1 / self.ord)
        return self.out if self.keepdim else self.out.reshape(
            tuple(n for i, n in enumerate(a.shape) if i not in self.axes))

    def backward(self, g):
        (x,) = self.inputs
        norm = self.output(self.out)
        g = g.reshape(norm.shape)
        safe = where(norm.array == 0, 1.0, norm)  # a zero norm means x = 0 there: gradient 0
        if self.ord == 2:
            return (g * x / safe,)
        scaled = sign(x) * (abs(x) / safe) ** (self.ord - 1)
        if self.ord < 1:  # |x|^(p-1) is infinite at 0; PyTorch gives those entries 0
            scaled = where(x.array == 0, 0.0, scaled)
        return (g * scaled,)


def _float_input(op: str, input: Tensor) -> None:
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.{op}: expected a floating point tensor, got dtype {input.dtype}")


def _square(op: str, input: Tensor) -> None:
    _float_input(op, input)
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.{op}: expected a square matrix or a batch of them (..., n, n), "
                           f"got shape {tuple(input.shape)}")


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, reading only its
    lower (``UPLO='L'``) or upper triangle. Differentiable where the eigenvalues are distinct; the
    gradient is symmetric, as PyTorch's."""
    _square("eigh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    n = A.shape[-1]
    packed = Eigh.apply(A, uplo=UPLO)
    return EighResult(packed[..., n, :], packed[..., :n, :])


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of a symmetric matrix, ascending."""
    return eigh(A, UPLO).eigenvalues


def solve_matrix(A: Tensor, B: Tensor) -> Tensor:
    """X with A X = B for a matrix right-hand side (..., n, k), batch dims broadcast."""
    return Solve.apply(A, B)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B. ``B`` is a vector (or a batch of them) when its shape is (n,) or A's shape
    without the last dim; otherwise (..., n, k). ``left=False`` solves X A = B."""
    _square("solve", A)
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.ndim < 2 or rhs.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: A of shape {tuple(A.shape)} does not fit B of shape "
                           f"{tuple(B.shape)}: expected B (n,), A's batch of vectors, or (..., n, k) "
                           f"with n = {A.shape[-1]}")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: expected A and B of the same dtype, got {A.dtype} and "
                           f"{B.dtype}")
    out = solve_matrix(A, rhs)
    return out.squeeze(-1) if vector else out


def inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or a batch); ``LinAlgError`` when it is singular."""
    _square("inv", A)
    return Inv.apply(A)


def svdvals(A: Tensor) -> Tensor:
    """The singular values of a matrix (or a batch), descending. Differentiable where they are
    distinct; a zero singular value gets no gradient."""
    _float_input("svdvals", A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: expected a matrix, got shape {tuple(A.shape)}")
    return SingularValues.apply(A)


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """The ``ord``-norm of ``x`` flattened, or over ``dim``: ``(Σ|x|^ord)^(1/ord)``; ``inf`` is the
    largest magnitude, ``-inf`` the smallest, 0 the number of non-zeros."""
    _float_input("vector_norm", x)
    x = x if dtype is None else x.to(dtype)
    axes = _axes(dim, x.ndim, "linalg.vector_norm")
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if any(x.shape[d] == 0 for d in axes) or (x.ndim and x.numel() == 0):
        if ord < 0:
            raise RuntimeError(f"linalg.vector_norm: ord={ord} of an empty tensor is undefined")
        return sum(abs(x), axes, keepdim)  # 0, of the right shape
    if ord == math.inf:
        return amax(abs(x), axes, keepdim)
    if ord == -math.inf:
        return amin(abs(x), axes, keepdim)
    if ord == 0:  # the number of non-zeros; sign keeps it in the graph with gradient zero
        return sum(sign(abs(x)), axes, keepdim)
    if ord == 1:
        return sum(abs(x), axes, keepdim)
    return VectorNorm.apply(x, ord=ord, axes=axes, keepdim=keepdim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: Sequence[int] = (-2, -1), keepdim: bool = False,
                *, dtype: Any = None) -> Tensor:
    """A matrix norm over the two dims ``dim``: 'fro' (default), 'nuc' (sum of singular values),
    2 / -2 (largest / smallest singular value), 1 / -1 (max / min column sum of |A|), inf / -inf
    (max / min row sum)."""
    _float_input("matrix_norm", A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: expected at least 2 dims, got shape {tuple(A.shape)}")
    A = A if dtype is None else A.to(dtype)
    rows, cols = (d % A.ndim for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dim must name two different dims, got {tuple(dim)}")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        values = svdvals(movedim(A, (rows, cols), (-2, -1)))
        out = values.sum(-1) if ord == "nuc" else values[..., 0 if ord == 2 else -1]
        if keepdim:
            for d in sorted((rows, cols)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, math.inf, -math.inf):
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
        out = (amax if ord > 0 else amin)(sum(abs(A), summed, keepdim=True), over, keepdim=True)
        return out if keepdim else out.squeeze(max(rows, cols)).squeeze(min(rows, cols))
    raise RuntimeError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, inf or -inf, "
                       f"got {ord!r}")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """``linalg.norm``: a vector norm when ``dim`` is an int (or A is 1-D), a matrix norm when
    ``dim`` is a pair (or A is 2-D and ``ord`` is given); with neither, the 2-norm of A flattened."""
    if dim is None and ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: if dim is not given but ord is, the input must be "
                               f"1-D or 2-D, got shape {tuple(A.shape)}")
        dim = tuple(range(A.ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) == 1:
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: dim must be an int or a pair, got {dim!r}")


def torch_norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False,
               dtype: Any = None) -> Tensor:
    """``tn.norm`` / ``Tensor.norm`` (PyTorch's older function): the ``p``-norm of all elements
    or over ``dim``; 'fro' is the 2-norm of the elements, 'nuc' the nuclear norm of a matrix."""
    if p == "nuc":
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p == "fro" else p, dim, keepdim, dtype=dtype)
