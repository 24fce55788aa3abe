"""Matrix decompositions and solvers of ``tn.linalg``: svd, qr, cholesky, slogdet, pinv, lstsq,
solve_triangular, matrix_exp, the ``_ex`` variants that report failures in ``info``, and the two
built on them, matrix_rank and cond; then the top-level names PyTorch keeps for some of them
(``tn.svd``, ``tn.qr``, ``tn.cholesky``, ``tn.inverse``, ``tn.pinverse``, ``tn.slogdet``,
``tn.logdet``, ``tn.matrix_exp``).

Forwards are LAPACK's: NumPy's (CuPy's) ``linalg``, and SciPy's for solve_triangular, expm and
lstsq, taken from ``backend.linalg_functions`` (``cupyx.scipy.linalg`` on the GPU). Backwards are
PyTorch's formulas written in tinynet ops, so they differentiate again (Hessian-vector products):

* ``svd``: PyTorch's ``svd_backward``, with E = σⱼ² - σᵢ²; well defined for distinct singular
  values (and, for the vectors of a non-square matrix, full rank), and for losses that do not
  depend on the signs of the singular vectors. With ``full_matrices=True`` the columns of U and
  rows of Vh past min(m, n) get no gradient, as in PyTorch.
* ``qr`` (m >= n): gA = (gQ + Q copyltu(M)) R⁻ᵀ with M = R gRᵀ - gQᵀ Q; a wide A = [X | Y] is
  X = QR₁ and Y = QR₂, so gY = Q gR₂ and X takes the square formula with gQ + Y gR₂ᵀ.
* ``cholesky``: gA = L⁻ᵀ Φ L⁻¹, Φ = ½(P + tril(P, -1)ᵀ) with P = tril(Lᵀ gL): symmetric, since
  only the lower triangle of A is read.
* ``slogdet``: d logabsdet / dA = A⁻ᵀ; the sign carries no gradient (real inputs).
* ``pinv``: Golub and Pereyra's derivative (it assumes the rank does not change nearby).
* ``lstsq``: the solution's gradient is that of pinv(A) B, as PyTorch's.
* ``solve_triangular``: gB = A⁻ᵀ G (another triangular solve) and gA = -gB Xᵀ kept to A's
  triangle (without the diagonal when it is taken as ones).
* ``matrix_exp``: gA is the top right block of exp([[Aᵀ, G], [0, Aᵀ]]).

Several results from one LAPACK call: a factorisation with several outputs (svd, qr, slogdet)
runs once, and a ``Factorization`` node holds its results packed along one last axis. Each result
the caller sees is a ``FactorResult`` node of its own, so a gradient that reaches only some of
them takes only their terms, as PyTorch's undefined gradients do: ``svd(A).S.sum()`` of a matrix
with repeated singular values has a finite gradient. Their backwards read the other results from
the packed node, through which second derivatives then flow.
"""

from __future__ import annotations

import itertools
import math
from collections import namedtuple
from typing import Any

from tinynet import backend
from tinynet.autograd import Op, is_grad_enabled
from tinynet.ops.det import Det, cofactors
from tinynet.ops.elementwise import where
from tinynet.ops.linalg import LinAlgError, _lapack, inv, matrix_norm, solve, svdvals
from tinynet.ops.matrix import tril, triu
from tinynet.ops.more_math import nan_to_num
from tinynet.ops.shape import cat, sum_to
from tinynet.tensor import Tensor

SvdResult = namedtuple("linalg_svd", ["U", "S", "Vh"])
QrResult = namedtuple("linalg_qr", ["Q", "R"])
SlogdetResult = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
LstsqResult = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
InvExResult = namedtuple("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])
SolveExResult = namedtuple("linalg_solve_ex", ["result", "info"])
# the top-level functions' results, as torch.return_types names them
SvdLegacyResult = namedtuple("svd", ["U", "S", "V"])
QrLegacyResult = namedtuple("qr", ["Q", "R"])
SlogdetLegacyResult = namedtuple("slogdet", ["sign", "logabsdet"])

LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


# --------------------------------------------------------------------------- argument checks
def _check_float(op: str, A: Tensor, name: str = "A") -> None:
    """float32 or float64, as PyTorch's CPU LAPACK kernels take (tinynet's are real only)."""
    if A.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point tensor as {name}, got dtype {A.dtype}")
    if A.dtype.kind == "c" or A.dtype.itemsize < 4:
        raise NotImplementedError(f"{op}: tinynet's linear algebra takes float32 and float64 "
                                  f"tensors, got {name} of dtype {A.dtype}")


def _check_matrix(op: str, A: Tensor, name: str = "A", square: bool = False) -> None:
    _check_float(op, A, name)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions, got "
                           f"shape {tuple(A.shape)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices (shape {tuple(A.shape)})")


def _batch_element(op: str, info: Any) -> tuple[str, int]:
    """The prefix PyTorch puts before a failure in a batch, and the failing matrix's info."""
    flat = backend.to_numpy(info).reshape(-1)
    first = int((flat > 0).argmax())
    return (f"{op}: (Batch element {first}): " if info.ndim else f"{op}: "), int(flat[first])


def _eye_like(A: Tensor) -> Tensor:
    """Identity matrices of ``A``'s shape and dtype (a constant)."""
    xp = A.xp
    return Tensor(xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape))


def _matrices(xp: Any, *arrays: Any) -> tuple[tuple[int, ...], list[Any]]:
    """The batch shape of ``arrays`` (matrices broadcast over their leading dims), and each
    broadcast to it."""
    batch = tuple(xp.broadcast_shapes(*(a.shape[:-2] for a in arrays)))
    return batch, [xp.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]


def _each_matrix(batch: tuple[int, ...]) -> Any:
    """The index of every matrix of a batch (one empty index when there is no batch)."""
    return itertools.product(*(range(n) for n in batch))


# --------------------------------------------------------------------------- several results
class Factorization(Op):
    """A factorisation's results (given as ``results``, computed once by the caller) packed along
    one last axis. Only second derivatives reach this node, through the results its
    ``FactorResult`` nodes read from it; ``gradient`` is the factorisation's backward."""

    saves_inputs = False

    def forward(self, a):
        xp = backend.get_array_module(a)
        batch = a.shape[:-2]
        self.shapes = [r.shape[len(batch):] for r in self.results]
        self.out = xp.concatenate([r.reshape(batch + (math.prod(s),))
                                   for r, s in zip(self.results, self.shapes)], axis=-1)
        del self.results
        return self.out

    def unpack(self, packed: Tensor) -> list[Tensor]:
        """The results, as slices of the packed tensor (graph nodes when it is one)."""
        batch, start, out = tuple(packed.shape[:-1]), 0, []
        for shape in self.shapes:
            size = math.prod(shape)
            out.append(packed[..., start:start + size].reshape(batch + shape))
            start += size
        return out

    def backward(self, g):
        results = self.unpack(self.output(self.out))
        return (self.gradient(self.inputs[0], results, self.unpack(g)),)

    def release(self) -> None:
        """Free the packed results and the input, but keep the results' shapes and the
        factorisation's parameters: a walk of second derivatives reaches this node and the
        ``FactorResult`` nodes in no set order, and those read them (with their own ``whole``)
        after this node has been walked."""
        kept = {key: value for key, value in self.__dict__.items() if key not in ("inputs", "out")}
        super().release()
        self.__dict__.update(kept)

    def gradient(self, a: Tensor, results: list[Tensor], grads: list[Tensor | None]) -> Tensor | None:
        """The input's gradient from the results' gradients (None where a result has none)."""
        raise NotImplementedError


class FactorResult(Op):
    """Result ``index`` of the factorisation packed in ``whole``, as a node of its own whose
    input is the factorised matrix: its backward is the factorisation's with this result's
    gradient alone."""

    def forward(self, a):
        return self.value

    def backward(self, g):
        factor = self.whole.grad_fn  # released or not, it keeps what unpack and gradient read
        results = factor.unpack(self.whole)
        results[self.index] = self.output(self.value)
        grads: list[Tensor | None] = [None] * len(results)
        grads[self.index] = g
        return (factor.gradient(self.inputs[0], results, grads),)


def _factorize(cls: type[Factorization], A: Tensor, results: tuple, **params: Any) -> list[Tensor]:
    """Tensors of a factorisation's ``results`` (arrays), each a node of its own when A needs a
    gradient."""
    if not (is_grad_enabled() and A.requires_grad):
        return [Tensor(r) for r in results]
    whole = cls.apply(A, results=results, **params)
    return [FactorResult.apply(A, whole=whole, index=i, value=r, node_name=cls.node_name,
                               saves_inputs=cls.saves_inputs) for i, r in enumerate(results)]


# --------------------------------------------------------------------------- svd
def svd_backward(U: Tensor, S: Tensor, Vh: Tensor, gU: Tensor | None, gS: Tensor | None,
                 gVh: Tensor | None, full_matrices: bool) -> Tensor | None:
    """PyTorch's ``svd_backward`` for real matrices; U, Vh are the reduced factors unless
    ``full_matrices``, whose extra columns of U and rows of Vh get no gradient."""
    if gU is None and gS is None and gVh is None:
        return None
    k = S.shape[-1]
    m, n = U.shape[-2], Vh.shape[-1]
    if k == 0:
        return Tensor(S.xp.zeros(tuple(S.shape[:-1]) + (m, n), dtype=S.dtype))
    if full_matrices:
        U, Vh = U[..., :k], Vh[..., :k, :]
        gU = None if gU is None else gU[..., :k]
        gVh = None if gVh is None else gVh[..., :k, :]
    if gU is None and gVh is None:  # the singular values alone: U diag(gS) Vh
        return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
    eye = S.xp.eye(k, dtype=bool)
    squares = S * S
    gaps = where(eye, 1.0, squares.unsqueeze(-2) - squares.unsqueeze(-1))  # σⱼ² - σᵢ²
    if gU is not None:
        UtgU = U.mT @ gU
        UtgU = UtgU - UtgU.mT
    if gVh is not None:
        VtgV = Vh @ gVh.mT
        VtgV = VtgV - VtgV.mT
    if gU is not None and gVh is not None:
        inner = (UtgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VtgV) / gaps
    elif gVh is None:
        inner = UtgU / gaps * S.unsqueeze(-2)
    else:
        inner = S.unsqueeze(-1) * (VtgV / gaps)
    if gS is not None:
        inner = inner + gS.unsqueeze(-1) * Tensor(eye.astype(S.dtype))
    if m > n and gU is not None:  # U's columns span only part of the space: (I - UUᵀ) gU S⁻¹
        gA = U @ inner
        gU_over_S = gU / S.unsqueeze(-2)
        return (gA + gU_over_S - U @ (U.mT @ gU_over_S)) @ Vh
    if m < n and gVh is not None:
        gA = inner @ Vh
        gVh_over_S = gVh / S.unsqueeze(-1)
        return U @ (gA + gVh_over_S - (gVh_over_S @ Vh.mT) @ Vh)
    return U @ (inner @ Vh) if m >= n else (U @ inner) @ Vh


class Svd(Factorization):
    """U, S and Vh of ``linalg.svd``."""

    node_name = "LinalgSvdBackward0"

    def gradient(self, a, results, grads):
        return svd_backward(*results, *grads, full_matrices=self.full_matrices)


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> SvdResult:
    """The singular value decomposition A = U diag(S) Vh of a matrix or a batch (..., m, n): S
    descending, U (..., m, m) and Vh (..., n, n), or (..., m, k) and (..., k, n) with
    ``full_matrices=False`` (k = min(m, n)). The singular vectors are defined up to sign.

    Differentiable where the singular values are distinct, for losses that don't depend on the
    vectors' signs (``U @ diag(S) @ Vh``, ``U.abs()``, S); ``driver`` is for CUDA in PyTorch.

    >>> U, S, Vh = tn.linalg.svd(tn.tensor([[3.0, 0.0], [0.0, 2.0]]))
    >>> S
    tensor([3., 2.])
    """
    _check_matrix("linalg.svd", A)
    if driver is not None and backend.device_of(A.array) != "cuda":
        raise RuntimeError("linalg.svd: keyword argument `driver=` is only supported on CUDA inputs")
    xp = A.xp
    u, s, vh = _lapack("svd", "the SVD did not converge",
                       lambda a: xp.linalg.svd(a, full_matrices=bool(full_matrices)), A.array)
    return SvdResult(*_factorize(Svd, A, (u, s, vh), full_matrices=bool(full_matrices)))


# --------------------------------------------------------------------------- qr
def _qr_backward_tall(Q: Tensor, R: Tensor, gQ: Tensor, gR: Tensor) -> Tensor:
    """gA = (gQ + Q copyltu(M)) R⁻ᵀ, M = R gRᵀ - gQᵀ Q, for Q (m, n), R (n, n), m >= n."""
    M = R @ gR.mT - gQ.mT @ Q
    M = tril(M) + tril(M, -1).mT  # the lower triangle copied to the upper
    return solve_triangular(R.mT, gQ + Q @ M, upper=False, left=False)


class Qr(Factorization):
    """Q and R of ``linalg.qr`` (mode 'reduced' or 'complete')."""

    node_name = "LinalgQrBackward0"

    def gradient(self, a, results, grads):
        Q, R = results
        gQ, gR = grads
        if gQ is None and gR is None:
            return None
        m, n = Q.shape[-2], R.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        gQ = Tensor(Q.xp.zeros(Q.shape, dtype=Q.dtype)) if gQ is None else gQ
        gR = Tensor(R.xp.zeros(R.shape, dtype=R.dtype)) if gR is None else gR
        if m >= n:
            return _qr_backward_tall(Q, R, gQ, gR)
        # A = [X | Y] with X = Q R₁ (square) and Y = Q R₂
        R1, R2, gR1, gR2 = R[..., :m], R[..., m:], gR[..., :m], gR[..., m:]
        gX = _qr_backward_tall(Q, R1, gQ + (Q @ R2) @ gR2.mT, gR1)
        return cat([gX, Q @ gR2], -1)


class QrROnly(Op):
    """R of ``qr(A, mode='r')``: PyTorch's gradient needs Q, which that mode does not make."""

    node_name = "LinalgQrBackward0"
    saves_inputs = False

    def forward(self, a):
        return self.value

    def backward(self, g):
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                           "differentiate through linalg.qr.")


def qr(A: Tensor, mode: str = "reduced") -> QrResult:
    """The QR decomposition A = QR of a matrix or a batch (..., m, n): Q with orthonormal
    columns, R upper triangular. ``mode``: 'reduced' (Q (..., m, k), R (..., k, n), k = min(m, n)),
    'complete' (Q (..., m, m), R (..., m, n)) or 'r' (R alone; Q is an empty tensor).

    Differentiable ('complete' only when m <= n), where R's diagonal has no zero.

    >>> Q, R = tn.linalg.qr(tn.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> (Q @ R).allclose(tn.tensor([[3.0, 1.0], [4.0, 2.0]]), atol=1e-6)
    True
    """
    _check_matrix("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: received unrecognized mode {mode!r} but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    xp = A.xp
    if mode == "r":
        r = _lapack("qr", "the factorization failed", lambda a: xp.linalg.qr(a, mode="r"), A.array)
        return QrResult(Tensor(xp.zeros((0,), dtype=A.dtype)), QrROnly.apply(A, value=r))
    q, r = _lapack("qr", "the factorization failed", lambda a: xp.linalg.qr(a, mode=mode), A.array)
    return QrResult(*_factorize(Qr, A, (q, r), mode=mode))


# --------------------------------------------------------------------------- cholesky
def _unblocked_cholesky(a: Any) -> tuple[Any, Any]:
    """LAPACK's unblocked Cholesky (potf2) on every matrix of a batch at once, stopping at the
    first pivot that is not positive: (L, info), info the order of the first leading minor that is
    not positive-definite (0 for none). A failed matrix keeps the failing pivot on its diagonal and
    the input's lower triangle below it, as LAPACK leaves it."""
    xp = backend.get_array_module(a)
    L = xp.tril(a)
    info = xp.zeros(a.shape[:-2], dtype=xp.int32)
    going = xp.ones(a.shape[:-2], dtype=bool)
    for j in range(a.shape[-1]):
        row = L[..., j, :j]
        pivot = L[..., j, j] - (row * row).sum(-1)
        failed = going & ~(pivot > 0)  # a NaN pivot fails too
        going = going & ~failed
        info = xp.where(failed, j + 1, info)
        root = xp.sqrt(xp.where(going, pivot, 1))
        L[..., j, j] = xp.where(going, root, xp.where(failed, pivot, L[..., j, j]))
        below = (L[..., j + 1:, j] - (L[..., j + 1:, :j] @ row[..., :, None])[..., 0]) / root[..., None]
        L[..., j + 1:, j] = xp.where(going[..., None], below, L[..., j + 1:, j])
    return L, info


def _not_positive_definite(op: str, info: Any) -> LinAlgError:
    prefix, order = _batch_element(op, info)
    return LinAlgError(f"{prefix}The factorization could not be completed because the input is not "
                       f"positive-definite (the leading minor of order {order} is not "
                       "positive-definite).")


class Cholesky(Op):
    """The lower Cholesky factor L (A = L Lᵀ), from A's lower triangle."""

    node_name = "LinalgCholeskyExBackward0"
    saves_inputs = False

    def forward(self, a):
        xp = backend.get_array_module(a)
        try:
            self.out = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            raise _not_positive_definite(self.op, _unblocked_cholesky(a)[1]) from None
        return self.out

    def backward(self, g):
        L = self.output(self.out)
        P = tril(L.mT @ g)
        phi = (P + tril(P, -1).mT) * 0.5
        return (solve_triangular(L, solve_triangular(L.mT, phi, upper=True), upper=False,
                                 left=False),)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of a symmetric positive-definite matrix (or a batch): L lower
    triangular with A = L Lᵀ, or U = Lᵀ with ``upper=True``. Only A's lower triangle is read (its
    upper one with ``upper=True``), and the gradient is symmetric, as PyTorch's; ``LinAlgError``
    when A is not positive-definite.

    >>> tn.linalg.cholesky(tn.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
    """
    _check_matrix("linalg.cholesky", A, square=True)
    if upper:  # LAPACK's upper factor reads the upper triangle: the lower one of Aᵀ
        return Cholesky.apply(A.mT, op="linalg.cholesky").mT
    return Cholesky.apply(A, op="linalg.cholesky")


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """``cholesky`` that reports failure instead of raising: (L, info), info an int32 tensor per
    matrix, 0 where the factorisation succeeded, else the order of the first leading minor that is
    not positive-definite (L is then LAPACK's partial factor, and carries no gradient).
    ``check_errors=True`` raises as ``cholesky`` does."""
    _check_matrix("linalg.cholesky_ex", A, square=True)
    xp = A.xp
    A = A.mT if upper else A  # the upper factor reads the upper triangle: the lower one of Aᵀ
    try:
        L = Cholesky.apply(A, op="linalg.cholesky_ex")
        info = xp.zeros(A.shape[:-2], dtype=xp.int32)
    except LinAlgError:
        partial, info = _unblocked_cholesky(A.array)
        if check_errors:
            raise _not_positive_definite("linalg.cholesky_ex", info) from None
        failed = Tensor((info > 0)[..., None, None])
        L = where(failed, Tensor(partial), Cholesky.apply(where(failed, _eye_like(A), A),
                                                          op="linalg.cholesky_ex"))
    return CholeskyExResult(L.mT if upper else L, Tensor(info))


# --------------------------------------------------------------------------- inv_ex, solve_ex
def _lu_info(a: Any) -> Any:
    """LAPACK getrf's info for each matrix: 1 + the index of the first exactly zero pivot of its
    LU factorisation with partial pivoting, 0 when there is none (the matrix is invertible)."""
    xp = backend.get_array_module(a)
    n = a.shape[-1]
    u = a.copy()
    info = xp.zeros(a.shape[:-2], dtype=xp.int32)
    rows = xp.arange(n)
    for j in range(n):
        pivot_at = xp.argmax(xp.abs(u[..., j:, j]), axis=-1) + j  # the largest below the diagonal
        pivot_row = xp.take_along_axis(u, xp.broadcast_to(pivot_at[..., None, None],
                                                          a.shape[:-2] + (1, n)), axis=-2)
        row_j = u[..., j:j + 1, :]
        u = xp.where((rows == j)[:, None], pivot_row,
                     xp.where((rows == pivot_at[..., None])[..., None], row_j, u))
        pivot = u[..., j, j]
        zero = pivot == 0
        info = xp.where((info == 0) & zero, j + 1, info)
        factors = xp.where(zero[..., None], 0, u[..., j + 1:, j] / xp.where(zero, 1, pivot)[..., None])
        u[..., j + 1:, :] = u[..., j + 1:, :] - factors[..., None] * u[..., j:j + 1, :]
    return info


def _invertible_part(A: Tensor, compute: Any) -> tuple[Tensor, Any, Any]:
    """``compute(A)`` (an inverse or a solve), LU's info per matrix, and a mask of the singular
    matrices (None when there are none): those are replaced by the identity for ``compute``, so
    the others keep their gradients."""
    xp = A.xp
    if backend.device_of(A.array) != "cuda":
        try:
            return compute(A), xp.zeros(A.shape[:-2], dtype=xp.int32), None
        except LinAlgError:
            pass
    info = _lu_info(A.array)  # CuPy's solvers report no singular matrix: always look
    failed = info > 0
    if not bool(failed.any()):
        return compute(A), info, None
    return compute(where(Tensor(failed[..., None, None]), _eye_like(A), A)), info, failed


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """``inv`` that reports singular matrices instead of raising: (inverse, info), info an int32
    tensor per matrix, 0 where A is invertible, else 1 + the index of the zero pivot of its LU
    factorisation. A singular matrix's inverse is not meaningful (tinynet fills it with NaN).
    ``check_errors=True`` raises ``LinAlgError`` instead."""
    _check_matrix("linalg.inv_ex", A, square=True)
    inverse, info, failed = _invertible_part(A, inv)
    if failed is not None:
        if check_errors:
            prefix, pivot = _batch_element("linalg.inv_ex", info)
            raise LinAlgError(f"{prefix}The diagonal element {pivot} is zero, the inversion could "
                              "not be completed because the input matrix is singular.")
        inverse = where(Tensor(failed[..., None, None]), math.nan, inverse)
    return InvExResult(inverse, Tensor(info))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """``solve`` that reports singular matrices instead of raising: (result, info), info an int32
    tensor per matrix of A as ``inv_ex``'s. A singular matrix's solution is not meaningful
    (tinynet fills it with NaN); ``check_errors=True`` raises ``LinAlgError`` instead."""
    _check_matrix("linalg.solve_ex", A, square=True)
    result, info, failed = _invertible_part(A, lambda M: solve(M, B, left=left))
    if failed is not None:
        if check_errors:
            prefix, pivot = _batch_element("linalg.solve_ex", info)
            raise LinAlgError(f"{prefix}The solver failed because the input matrix is singular "
                              f"(the diagonal element {pivot} of its LU factorization is zero).")
        batch = failed.ndim
        mask = failed.reshape(failed.shape + (1,) * (result.ndim - batch))
        result = where(Tensor(mask), math.nan, result)
    return SolveExResult(result, Tensor(info))


# --------------------------------------------------------------------------- slogdet, logdet
def _inverse_transpose(A: Tensor) -> Tensor:
    """A⁻ᵀ, differentiable; for a singular A, its cofactors over det(A) = 0 (±inf or NaN, as
    PyTorch's gradient of logabsdet there)."""
    try:
        return inv(A).mT
    except LinAlgError:
        return cofactors(A) / Det.apply(A).unsqueeze(-1).unsqueeze(-1)


class Slogdet(Factorization):
    """sign and logabsdet of ``linalg.slogdet``."""

    node_name = "LinalgSlogdetBackward0"
    saves_inputs = True

    def gradient(self, a, results, grads):
        g = grads[1]  # the sign of a real determinant is piecewise constant: no gradient
        return None if g is None else g.unsqueeze(-1).unsqueeze(-1) * _inverse_transpose(a)


def slogdet(A: Tensor) -> SlogdetResult:
    """The sign (-1, 0 or 1) and the log of the absolute value of the determinant of a square
    matrix (or a batch), which neither overflows nor underflows where ``det`` would. A singular
    matrix gives sign 0 and logabsdet -inf. logabsdet's gradient is A⁻ᵀ.

    >>> tn.linalg.slogdet(tn.tensor([[-2.0, 0.0], [0.0, 3.0]]))
    linalg_slogdet(sign=tensor(-1.), logabsdet=tensor(1.7918))
    """
    _check_matrix("linalg.slogdet", A, square=True)
    xp = A.xp
    sign, logabsdet = xp.linalg.slogdet(A.array)
    return SlogdetResult(*_factorize(Slogdet, A, (xp.asarray(sign), xp.asarray(logabsdet))))


def logdet(input: Tensor) -> Tensor:
    """The log of the determinant of a square matrix (or a batch): NaN where the determinant is
    negative, -inf where it is 0, as ``torch.logdet``; its gradient is A⁻ᵀ (0 where NaN)."""
    _check_matrix("logdet", input, square=True)
    sign, logabsdet = slogdet(input)
    return where(sign.array == -1, math.nan, logabsdet)


# --------------------------------------------------------------------------- pinv, matrix_rank
def _tolerance_value(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else float(value)


def _tolerances(A: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's tolerances: atol 0 and rtol eps·max(m, n) by default; rtol 0 when only a
    positive atol is given."""
    xp = A.xp
    default = float(xp.finfo(A.dtype).eps) * max(A.shape[-2], A.shape[-1])
    atol_value = 0.0 if atol is None else _tolerance_value(atol)
    if rtol is not None:
        return atol_value, _tolerance_value(rtol)
    if atol is None:
        return atol_value, default
    if isinstance(atol_value, float):
        return atol_value, 0.0 if atol_value > 0 else default
    return atol_value, xp.where(atol_value > 0, 0.0, default)


def _kept(magnitudes: Any, largest: Any, atol: Any, rtol: Any) -> Any:
    """Where the singular values (or |eigenvalues|) exceed max(atol, rtol · the largest)."""
    xp = backend.get_array_module(magnitudes)
    atol, rtol = (t[..., None] if backend.is_array(t) else t for t in (atol, rtol))
    return magnitudes > xp.maximum(atol, rtol * largest)


def _pinv_array(a: Any, atol: Any, rtol: Any, hermitian: bool) -> Any:
    xp = backend.get_array_module(a)
    m, n = a.shape[-2:]
    if a.size == 0:
        return xp.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    if hermitian:
        values, vectors = _lapack("pinv", "the eigenvalue algorithm did not converge",
                                  xp.linalg.eigh, a)
        magnitudes = xp.abs(values)
        kept = _kept(magnitudes, magnitudes.max(-1, keepdims=True), atol, rtol)
        inverse = xp.where(kept, 1 / xp.where(kept, values, 1), 0).astype(a.dtype)
        return (vectors * inverse[..., None, :]) @ vectors.mT
    u, s, vh = _lapack("pinv", "the SVD did not converge",
                       lambda x: xp.linalg.svd(x, full_matrices=False), a)
    kept = _kept(s, s[..., :1], atol, rtol)
    inverse = xp.where(kept, 1 / xp.where(kept, s, 1), 0).astype(a.dtype)
    return (vh.mT * inverse[..., None, :]) @ u.mT


def pinv_backward(g: Tensor, pinvA: Tensor, A: Tensor) -> Tensor:
    """PyTorch's gradient of the pseudo-inverse (Golub and Pereyra), in tinynet ops."""
    m, n = A.shape[-2], A.shape[-1]
    pinvAt, gt = pinvA.mT, g.mT
    if m <= n:
        K = gt @ pinvA
        KpinvAt = K @ pinvAt
        return (-(pinvA @ K).mT + KpinvAt - (A @ pinvA) @ KpinvAt
                + (pinvAt @ pinvA) @ (gt - K @ A))
    K = pinvA @ gt
    pinvAtK = pinvAt @ K
    return -(K @ pinvA).mT + (gt - A @ K) @ pinvA @ pinvAt + pinvAtK - pinvAtK @ pinvA @ A


class Pinv(Op):
    """The pseudo-inverse, from the SVD (or eigh) with the tolerances ``atol``/``rtol``."""

    node_name = "LinalgPinvBackward0"

    def forward(self, a):
        self.out = _pinv_array(a, self.atol, self.rtol, self.hermitian)
        return self.out

    def backward(self, g):
        (a,) = self.inputs
        return (pinv_backward(g, self.output(self.out), a),)


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of a matrix (or a batch) (..., m, n) -> (..., n, m), from
    its SVD (its eigendecomposition with ``hermitian=True``, reading the lower triangle). Singular
    values at most max(atol, rtol · σ₁) count as zero; by default atol = 0 and
    rtol = eps · max(m, n) (rtol = 0 when only a positive atol is given). ``atol``/``rtol`` may be
    numbers or tensors (one per matrix). Differentiable where the rank does not change nearby.

    >>> tn.linalg.pinv(tn.tensor([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    if A.dtype.kind != "f" or A.dtype.itemsize < 4 or A.ndim < 2:
        raise RuntimeError(f"linalg.pinv: expected a tensor with 2 or more dimensions of float32 "
                           f"or float64, got {A.dtype} of shape {tuple(A.shape)}")
    if hermitian:
        _check_matrix("linalg.pinv(hermitian=True)", A, square=True)
    atol, rtol = _tolerances(A, atol, rtol)
    return Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The rank of a matrix (or of each of a batch), int64: the number of singular values above
    max(atol, rtol · σ₁), with ``pinv``'s defaults (eigenvalues' magnitudes with
    ``hermitian=True``).

    >>> tn.linalg.matrix_rank(tn.tensor([[1.0, 2.0], [2.0, 4.0]]))
    tensor(1)
    """
    _check_matrix("linalg.matrix_rank", A, square=hermitian)
    xp, a = A.xp, A.array
    if min(a.shape[-2:]) == 0:
        return Tensor(xp.zeros(a.shape[:-2], dtype=xp.int64))
    if hermitian:
        magnitudes = xp.abs(_lapack("matrix_rank", "the eigenvalue algorithm did not converge",
                                    xp.linalg.eigvalsh, a))
        largest = magnitudes.max(-1, keepdims=True)
    else:
        magnitudes = _lapack("matrix_rank", "the SVD did not converge",
                             lambda x: xp.linalg.svd(x, compute_uv=False), a)
        largest = magnitudes[..., :1]
    atol, rtol = _tolerances(A, atol, rtol)
    return Tensor(_kept(magnitudes, largest, atol, rtol).sum(-1).astype(xp.int64))


# --------------------------------------------------------------------------- cond
COND_ORDS = (None, 2, -2, 1, -1, math.inf, -math.inf, "fro", "nuc")


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number of a matrix (or of each of a batch) in the norm ``p``: None or 2
    (σ₁/σₙ, any shape), -2 (σₙ/σ₁), or for square matrices 'fro', 'nuc', 1, -1, inf, -inf
    (‖A‖·‖A⁻¹‖, inf for a singular matrix). Differentiable.

    >>> tn.linalg.cond(tn.tensor([[2.0, 0.0], [0.0, 0.5]]))
    tensor(4.)
    """
    if not (p in ("fro", "nuc") if isinstance(p, str) else p is None or p in COND_ORDS[1:7]):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p!r}; expected one of None, "
                           "2, -2, 1, -1, inf, -inf, 'fro' or 'nuc'")
    _check_matrix("linalg.cond", A)
    if A.numel() == 0:  # as NumPy and PyTorch: 0 for empty matrices
        return Tensor(A.xp.zeros(A.shape[:-2], dtype=A.dtype))
    if p is None or p in (2, -2):
        values = svdvals(A)
        largest, smallest = values[..., 0], values[..., -1]
        return smallest / largest if p == -2 else largest / smallest
    _check_matrix(f"linalg.cond(p={p!r})", A, square=True)
    inverse, info = inv_ex(A)
    inverse = where(Tensor((info.array > 0)[..., None, None]), math.inf, inverse)
    return nan_to_num(matrix_norm(A, p) * matrix_norm(inverse, p), math.inf, math.inf, -math.inf)


# --------------------------------------------------------------------------- solve_triangular
def _substitute(a: Any, b: Any, lower: bool, unit: bool) -> Any:
    """x with a x = b by forward (``lower``) or back substitution, reading one triangle of the
    2-D ``a``: a zero on the diagonal gives inf or NaN, as BLAS's trsm (SciPy refuses)."""
    xp = backend.get_array_module(a)
    n = a.shape[-1]
    x = xp.zeros(b.shape, dtype=a.dtype)
    for i in (range(n) if lower else range(n - 1, -1, -1)):
        known = slice(0, i) if lower else slice(i + 1, n)
        rest = b[i] - a[i, known] @ x[known]
        x[i] = rest if unit else rest / a[i, i]
    return x


def _triangular_solve(a: Any, b: Any, upper: bool, left: bool, unit: bool) -> Any:
    """X with AX = B (or XA = B), A triangular, batch dims broadcast; SciPy's (CuPy's) solver
    on each matrix of the batch."""
    xp = backend.get_array_module(a)
    if not left:  # X A = B  <=>  Aᵀ Xᵀ = Bᵀ
        return _triangular_solve(a.mT, b.mT, not upper, True, unit).mT
    batch, (a, b) = _matrices(xp, a, b)
    out = xp.zeros(batch + b.shape[-2:], dtype=a.dtype)
    if out.size == 0:
        return out
    linalg = backend.linalg_functions(a)
    for index in _each_matrix(batch):
        try:
            out[index] = linalg.solve_triangular(a[index], b[index], lower=not upper,
                                                 unit_diagonal=unit, check_finite=False)
        except xp.linalg.LinAlgError:  # a zero on the diagonal: SciPy refuses, trsm divides
            out[index] = _substitute(a[index], b[index], not upper, unit)
    return out


class SolveTriangular(Op):
    """X with AX = B (XA = B when not ``left``), A triangular."""

    node_name = "LinalgSolveTriangularBackward0"

    def forward(self, a, b):
        self.out = _triangular_solve(a, b, self.upper, self.left, self.unitriangular)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        gb = solve_triangular(a.mT, g, upper=not self.upper, left=self.left,
                              unitriangular=self.unitriangular)
        ga = None
        if self.needs_input_grad[0]:
            x = self.output(self.out)
            ga = -(gb @ x.mT) if self.left else -(x.mT @ gb)
            unit = int(self.unitriangular)
            ga = sum_to(triu(ga, unit) if self.upper else tril(ga, -unit), a.shape)
        return ga, sum_to(gb, b.shape) if self.needs_input_grad[1] else None


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with AX = B (``left=False``: XA = B) for a triangular A (..., n, n), reading only its
    upper (``upper=True``) or lower triangle, and taking its diagonal as ones with
    ``unitriangular=True``. B is (..., n, k) (``left=False``: (..., k, n)); batch dims broadcast.
    A zero on A's diagonal gives inf/NaN, as in PyTorch (no error). Differentiable in A (its
    triangle) and B.

    >>> tn.linalg.solve_triangular(tn.tensor([[2.0, 0.0], [1.0, 1.0]]), tn.ones(2, 1), upper=False)
    tensor([[0.5000],
            [0.5000]])
    """
    op = "linalg.solve_triangular"
    _check_matrix(op, A, square=True)
    _check_matrix(op, B, name="B")
    if A.dtype != B.dtype:
        raise RuntimeError(f"{op}: expected A and B of the same dtype, got {A.dtype} and {B.dtype}")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation {equation} "
                           f"({A.shape[-2]}x{n} and {B.shape[-2]}x{B.shape[-1]}; shapes "
                           f"{tuple(A.shape)} and {tuple(B.shape)})")
    try:
        A.xp.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of A {tuple(A.shape)} and B {tuple(B.shape)} "
                           "cannot be broadcast together") from None
    return SolveTriangular.apply(A, B, upper=bool(upper), left=bool(left),
                                 unitriangular=bool(unitriangular))


# --------------------------------------------------------------------------- matrix_exp
def _expm(a: Any) -> Any:
    """SciPy's (CuPy's) matrix exponential of each matrix of a batch."""
    xp = backend.get_array_module(a)
    if a.size == 0:
        return a.copy()
    expm = backend.linalg_functions(a).expm
    if a.ndim == 2:
        return expm(a).astype(a.dtype, copy=False)
    out = xp.empty_like(a)
    for index in _each_matrix(a.shape[:-2]):
        out[index] = expm(a[index])
    return out


class MatrixExp(Op):
    """exp(A) of each matrix; its gradient is a matrix exponential too (twice the size)."""

    node_name = "LinalgMatrixExpBackward0"

    def forward(self, a):
        return _expm(a)

    def backward(self, g):
        (a,) = self.inputs
        n = a.shape[-1]
        at = a.mT
        zeros = Tensor(g.xp.zeros(tuple(g.shape), dtype=g.dtype))
        block = cat([cat([at, g], -1), cat([zeros, at], -1)], -2)  # [[Aᵀ, G], [0, Aᵀ]]
        return (MatrixExp.apply(block)[..., :n, n:],)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential exp(A) = Σ Aᵏ/k! of a square matrix (or a batch). Differentiable
    to any order.

    >>> tn.linalg.matrix_exp(tn.zeros(2, 2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    _check_matrix("linalg.matrix_exp", A, square=True)
    return MatrixExp.apply(A)


# --------------------------------------------------------------------------- lstsq
def _lstsq_arrays(a: Any, b: Any, rcond: float, driver: str) -> tuple[Any, Any, Any]:
    """(solution, rank, singular values) of each least-squares problem of a batch: SciPy's
    LAPACK driver on the CPU; on the GPU (CuPy has no such driver) from the SVD, as gelsd."""
    xp = backend.get_array_module(a)
    batch, (a, b) = _matrices(xp, a, b)
    m, n = a.shape[-2:]
    x = xp.zeros(batch + (n, b.shape[-1]), dtype=a.dtype)
    rank = xp.zeros(batch, dtype=xp.int64)
    values = xp.zeros(batch + (min(m, n),), dtype=a.dtype)
    if min(m, n) == 0 or x.size == 0:
        return x, rank, values
    if backend.device_of(a) == "cuda":  # CuPy has no LAPACK least-squares driver
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        kept = s > rcond * s[..., :1]
        inverse = xp.where(kept, 1 / xp.where(kept, s, 1), 0).astype(a.dtype)
        return (vh.mT * inverse[..., None, :]) @ (u.mT @ b), kept.sum(-1).astype(xp.int64), s
    lstsq, scipy_driver = backend.linalg_functions(a).lstsq, "gelsy" if driver == "gels" else driver
    for index in _each_matrix(batch):
        solution, _, r, s = lstsq(a[index], b[index], cond=rcond, lapack_driver=scipy_driver,
                                  check_finite=False)
        x[index], rank[index] = solution, r
        if s is not None:
            values[index] = s
    return x, rank, values


class Lstsq(Op):
    """The least-squares solution, computed by the caller (``value``); its gradient is that of
    pinv(A) B, as PyTorch's."""

    node_name = "LinalgLstsqBackward0"

    def forward(self, a, b):
        return self.value

    def backward(self, g):
        a, b = self.inputs
        pinv_a = pinv(a)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(pinv_backward(g @ b.mT, pinv_a, a), a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(pinv_a.mT @ g, b.shape)
        return ga, gb


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *,
          driver: str | None = None) -> LstsqResult:
    """The least-squares solution X minimising ‖AX - B‖ for A (..., m, n) and B (..., m, k) (or
    (..., m), A's batch of vectors), batch dims broadcast; the minimum-norm one where A is rank
    deficient, singular values below ``rcond`` · σ₁ counting as zero (rcond defaults to
    eps · max(m, n)).

    Returns (solution, residuals, rank, singular_values) as PyTorch's CPU drivers fill them:
    ``driver`` 'gelsy' (the default) gives the rank; 'gelsd' and 'gelss' the rank and singular
    values; 'gels' neither. residuals, ‖AX - B‖² per column, come when m > n, the driver is not
    'gelsy', and (for 'gelsd'/'gelss') every A has full rank; otherwise empty. The solution and
    residuals are differentiable (the solution as pinv(A) B).

    >>> A, B = tn.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), tn.tensor([[2.0], [3.0], [5.0]])
    >>> tn.linalg.lstsq(A, B, driver="gelsd")
    linalg_lstsq(solution=tensor([[2.],
            [3.]]), residuals=tensor([25.]), rank=tensor(2), singular_values=tensor([1., 1.]))
    """
    op = "linalg.lstsq"
    _check_matrix(op, A, name="input")
    _check_float(op, B, name="other")
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(f"{op}: input.dim() must be greater or equal to other.dim() and "
                           f"(input.dim() - other.dim()) <= 1, got shapes {tuple(A.shape)} and "
                           f"{tuple(B.shape)}")
    if A.dtype != B.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    vector = B.ndim == A.ndim - 1
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size({-1 if vector else -2}), "
                           f"got shapes {tuple(A.shape)} and {tuple(B.shape)}")
    driver = "gelsy" if driver is None else driver
    if driver not in LSTSQ_DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss), got {driver!r}")
    m, n = A.shape[-2], A.shape[-1]
    if rcond is None:
        rcond = float(A.xp.finfo(A.dtype).eps) * max(m, n)
    xp = A.xp
    try:
        x, rank, values = _lstsq_arrays(A.array, rhs.array, float(rcond), driver)
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of input {tuple(A.shape)} and other "
                           f"{tuple(B.shape)} cannot be broadcast together") from None
    solution = Lstsq.apply(A, rhs, value=x)
    empty = Tensor(xp.zeros((0,), dtype=A.dtype))
    residuals = empty
    if m > n and driver != "gelsy" and (driver == "gels" or bool((rank == n).all())):
        residuals = ((A @ solution - rhs) ** 2).sum(-2)
    return LstsqResult(solution.squeeze(-1) if vector else solution, residuals,
                       Tensor(rank) if driver != "gels" else Tensor(xp.zeros((0,), dtype=xp.int64)),
                       Tensor(values) if driver in ("gelsd", "gelss") else empty)


# --------------------------------------------------------------------------- top-level names
def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SvdLegacyResult:
    """``tn.svd`` / ``Tensor.svd`` (PyTorch's older function): (U, S, V) with A = U diag(S) Vᵀ,
    V itself rather than ``linalg.svd``'s Vh; ``some=False`` gives the full U and V. With
    ``compute_uv=False`` U and V are zero matrices (..., m, m) and (..., n, n)."""
    if not compute_uv:
        _check_matrix("svd", input)
        xp, (m, n) = input.xp, input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return SvdLegacyResult(Tensor(xp.zeros(batch + (m, m), dtype=input.dtype)), svdvals(input),
                               Tensor(xp.zeros(batch + (n, n), dtype=input.dtype)))
    U, S, Vh = svd(input, full_matrices=not some)
    return SvdLegacyResult(U, S, Vh.mT)


def torch_qr(input: Tensor, some: bool = True) -> QrLegacyResult:
    """``tn.qr`` / ``Tensor.qr`` (PyTorch's older function): ``linalg.qr`` with mode 'reduced'
    (``some=True``) or 'complete'."""
    return QrLegacyResult(*qr(input, "reduced" if some else "complete"))


def torch_cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """``tn.cholesky`` / ``Tensor.cholesky`` (PyTorch's older function): ``linalg.cholesky``."""
    return cholesky(input, upper=upper)


def torch_slogdet(input: Tensor) -> SlogdetLegacyResult:
    """``tn.slogdet`` / ``Tensor.slogdet``: ``linalg.slogdet``'s (sign, logabsdet)."""
    return SlogdetLegacyResult(*slogdet(input))


def inverse(input: Tensor) -> Tensor:
    """``tn.inverse`` / ``Tensor.inverse``: ``linalg.inv``."""
    return inv(input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """``tn.pinverse`` / ``Tensor.pinverse``: ``linalg.pinv`` with singular values at most
    ``rcond`` · σ₁ counted as zero."""
    return pinv(input, atol=0.0, rtol=rcond)
