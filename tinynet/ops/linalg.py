"""Linear algebra for ``tn.linalg``: eigh, solve, inv, singular values and the norms.

Backwards follow PyTorch's formulas, written with tinynet ops so they differentiate again:

* ``solve``: X = A⁻¹B gives dB = A⁻ᵀG and dA = -dB Xᵀ;
* ``inv``: dA = -Yᵀ G Yᵀ;
* ``eigh``: dA = V (diag(dλ) + skew(VᵀdV) / (λⱼ - λᵢ)) Vᵀ, which is symmetric, as PyTorch's;
  it needs distinct eigenvalues (equal ones make the eigenvectors, and their gradient, undefined);
* singular values: dσᵢ = uᵢᵀ dA vᵢ, with u, v from the eigenvectors of the smaller Gram matrix.

An op produces one array, so ``eigh`` returns its eigenvectors with the eigenvalues as one extra
row, and the caller slices the two apart.

The last part holds what is built from other ops, so differentiable as they are: matrix_power,
multi_dot, vecdot, vander and linalg's own ``diagonal``. The decompositions (svd, qr, cholesky…)
are in ``tinynet/ops/decompositions.py``.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import matmul
from tinynet.ops.elementwise import abs, where
from tinynet.ops.matrix import diagonal as _diagonal
from tinynet.ops.ordering import cumprod
from tinynet.ops.reduction import _axes, amax, amin, sum
from tinynet.ops.rounding import sign
from tinynet.ops.shape import cat, flip, movedim, sum_to
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
        norm = scale * total ** (1 / self.ord)
        self.kept_shape = norm.shape
        # backward reuses the output as returned, so that the second-order gradients reaching it
        # there and through the output itself add up (a keepdim copy would broadcast against it)
        self.out = norm if self.keepdim else norm.reshape(
            tuple(n for i, n in enumerate(a.shape) if i not in self.axes))
        return self.out

    def backward(self, g):
        (x,) = self.inputs
        norm = self.output(self.out).reshape(self.kept_shape)
        g = g.reshape(self.kept_shape)
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


# --------------------------------------------------------------------------- built from other ops
def matrix_power(A: Tensor, n: int) -> Tensor:
    """A square matrix (or a batch) to the integer power ``n``, by repeated squaring; n = 0 gives
    the identity (with gradient 0), a negative n the power of ``inv(A)``. Integer matrices take
    n >= 0.

    >>> tn.linalg.matrix_power(tn.tensor([[1, 1], [0, 1]]), 3)
    tensor([[1, 3],
            [0, 1]])
    """
    if isinstance(n, bool) or not isinstance(n, int) and not hasattr(n, "__index__"):
        raise TypeError(f"linalg.matrix_power: argument 'n' must be int, not {type(n).__name__}")
    n = int(n)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, got shape "
                           f"{tuple(A.shape)}")
    if n == 0:  # the identity, still in the graph, with gradient exactly 0 (even where A is inf)
        xp = A.xp
        eye = xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape)
        return where(xp.ones(A.shape, dtype=bool), Tensor(eye), A)
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return A.clone()
    result = square = None  # binary powering, in PyTorch's order of products
    while n:
        square = A if square is None else square @ square
        if n & 1:
            result = square if result is None else result @ square
        n >>= 1
    return result


def _chain_order(dims: list[int]) -> list[list[int]]:
    """The cheapest parenthesisation of a chain of matrices (dims[i] x dims[i + 1]): split[i][j]
    is where the product of matrices i..j splits (the classic dynamic programme)."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(matrices: list[Tensor]) -> Tensor:
    if len(matrices) == 2:
        return matmul(*matrices)
    dims = [matrices[0].shape[0]] + [m.shape[1] for m in matrices]
    if len(matrices) == 3:  # PyTorch compares the two orders directly
        a, b, c, d = dims
        if (a * c) * (b + d) > (b * d) * (a + c):
            return matmul(matrices[0], matmul(matrices[1], matrices[2]))
        return matmul(matmul(matrices[0], matrices[1]), matrices[2])
    return _split_product(matrices, _chain_order(dims), 0, len(matrices) - 1)


def _split_product(matrices: list[Tensor], split: list[list[int]], i: int, j: int) -> Tensor:
    """The product of matrices i..j in the order ``split`` says."""
    if i == j:
        return matrices[i]
    k = split[i][j]
    return matmul(_split_product(matrices, split, i, k), _split_product(matrices, split, k + 1, j))


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of two or more matrices, multiplied in the cheapest order; the first may be a
    row vector (1-D) and the last a column vector (1-D), whose dims are then dropped.

    >>> tn.linalg.multi_dot([tn.ones(3), tn.ones(3, 2), tn.ones(2)])
    tensor(6.)
    """
    tensors = list(tensors)
    count = len(tensors)
    if count < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {count}")
    for i, t in enumerate(tensors):
        where_ = "the first tensor" if i == 0 else "the last tensor" if i == count - 1 else None
        if where_ is not None and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): {where_} must be 1D or 2D but got {t.ndim}D "
                               f"(shape {tuple(t.shape)})")
        if where_ is None and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D (shape "
                               f"{tuple(t.shape)})")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have the same dtype, but tensor 0 "
                               f"is {tensors[0].dtype} and tensor {i} {t.dtype}")
    row, column = tensors[0].ndim == 1, tensors[-1].ndim == 1
    matrices = ([tensors[0].unsqueeze(0)] if row else tensors[:1]) + tensors[1:-1] + \
        ([tensors[-1].unsqueeze(-1)] if column else tensors[-1:])
    for i in range(count - 1):
        if matrices[i].shape[1] != matrices[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} cannot "
                               "be multiplied")
    out = _chain_product(matrices)
    if row:
        out = out.squeeze(0)
    return out.squeeze(-1) if column else out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of the vectors along ``dim`` (the last by default), batch dims
    broadcast: ``(x * y).sum(dim)``.

    >>> tn.linalg.vecdot(tn.tensor([[1.0, 2.0], [3.0, 4.0]]), tn.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    for t in (x, y):
        if t.dtype.kind not in "fc":
            raise RuntimeError(f"linalg.vecdot: Expected a floating point tensor as input, got "
                               f"dtype {t.dtype}")
        if t.dtype.kind == "c":  # PyTorch conjugates x
            raise NotImplementedError("linalg.vecdot: complex tensors are not supported")
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {x.dtype} and y of type {y.dtype} instead")
    return sum(x * y, dim)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of ``x`` (..., n): columns of increasing powers x⁰, x¹, …, x^(N-1)
    (N = n by default), shape (..., n, N); integer inputs give int64, as PyTorch's.

    >>> tn.linalg.vander(tn.tensor([1.0, 2.0, 3.0]))
    tensor([[1., 1., 1.],
            [1., 2., 4.],
            [1., 3., 9.]])
    """
    if x.dtype.kind == "b" or (x.dtype.kind == "f" and x.dtype.itemsize < 4):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, "
                           f"but got {x.dtype}")
    x = x.unsqueeze(-1) if x.ndim == 0 else x
    columns = x.shape[-1] if N is None else int(N)
    if columns <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1, got {columns}")
    powers = cumprod(x.unsqueeze(-1).expand(tuple(x.shape) + (columns - 1,)), -1)
    ones = Tensor(x.xp.ones(tuple(x.shape) + (1,), dtype=powers.dtype))
    return cat([ones, powers], -1)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``linalg.diagonal``: ``tn.diagonal`` over the last two dims by default, a view.

    >>> tn.linalg.diagonal(tn.eye(3), offset=1)
    tensor([0., 0.])
    """
    return _diagonal(A, offset, dim1, dim2)
