"""tn.linalg's decompositions and solvers (svd, qr, cholesky, slogdet, pinv, lstsq,
solve_triangular, matrix_exp, the _ex variants, matrix_rank, cond) and the composites (matrix_power,
multi_dot, vecdot, vander, diagonal), with the top-level names (tn.svd, tn.qr, tn.inverse…):
through the op factory to second order against NumPy, at the edges, and against torch (values up
to the singular vectors' signs, gradients of sign-invariant losses, dtypes, result types, errors)."""

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, away_from_zero, check_op, op_settings, shapes

import tinynet as tn
from tinynet import backend
from test_pytorch_parity import run_both
from torch_oracle import assert_matches_torch


# --------------------------------------------------------------------------- inputs
def square_shapes(max_side=3):
    return st.tuples(shapes(max_dims=1, max_side=2), st.integers(1, max_side)).map(
        lambda p: p[0] + (p[1], p[1]))


def matrix_shapes(tall=None):
    """(batch..., m, n); ``tall`` True keeps m >= n, False m <= n."""
    def shape(p):
        lead, m, n = p
        if tall is not None and (m >= n) != tall:
            m, n = n, m
        return lead + (m, n)
    return st.tuples(shapes(max_dims=1, max_side=2), st.integers(1, 3), st.integers(1, 3)).map(shape)


def one_input(shape_strategy, **kwargs):
    return st.tuples(st.tuples(shape_strategy), st.fixed_dictionaries(
        {k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in kwargs.items()}))


def spread_apart(arrays):
    """The first input moved off zero and given a diagonal of 10, 30, 50…: singular values far
    apart and far from zero (full rank, distinct), a well-conditioned R and LU."""
    a, *rest = arrays
    a = away_from_zero(0.1)([a])[0]
    rows, cols = a.shape[-2:]
    boost = np.zeros((rows, cols))
    k = np.arange(min(rows, cols))
    boost[k, k] = 10 + 20 * k
    return [a + boost] + rest


def positive_definite(arrays):
    a, *rest = arrays
    n = a.shape[-1]
    return [a @ np.swapaxes(a, -1, -2) + n * np.eye(n)] + rest


def symmetric_part(a):
    return (a + a.mT) / 2


def np_triangle(a, upper, unit):
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        t = t - t * np.eye(a.shape[-1]) + np.eye(a.shape[-1])
    return t


def svd_parts(a, full_matrices=False):
    """The factors with the singular vectors' signs removed (the first nonzero-ish entry of each
    left vector made positive), so two SVDs compare."""
    U, S, Vh = np.linalg.svd(a, full_matrices=full_matrices)
    k = S.shape[-1]
    signs = np.sign(np.take_along_axis(U[..., :k], np.abs(U[..., :k]).argmax(-2)[..., None, :], -2))
    return U[..., :k] * signs, S, Vh[..., :k, :] * np.swapaxes(signs, -1, -2)


def reconstructed(L):
    def f(a, full_matrices=False):
        U, S, Vh = L.linalg.svd(a, full_matrices=full_matrices)
        k = S.shape[-1]
        return (U[..., :k] * S.unsqueeze(-2)) @ Vh[..., :k, :]
    return f


def svd_mix(a, full_matrices=False):
    """A loss of U, S and Vh together that the singular vectors' signs don't change."""
    U, S, Vh = tn.linalg.svd(a, full_matrices=full_matrices)
    (m, n), k = a.shape[-2:], S.shape[-1]
    rows, columns = tn.arange(1.0, m + 1, dtype=a.dtype), tn.arange(1.0, n + 1, dtype=a.dtype)
    return (U[..., :k] ** 2 * rows.unsqueeze(-1)).sum(-2) * S + (Vh[..., :k, :] ** 2 * columns).sum(-1)


def np_svd_mix(a, full_matrices=False):
    U, S, Vh = svd_parts(a)
    m, n = a.shape[-2:]
    return (U ** 2 * np.arange(1, m + 1)[:, None]).sum(-2) * S + (Vh ** 2 * np.arange(1, n + 1)).sum(-1)


@st.composite
def triangular_cases(draw):
    n = draw(st.integers(1, 3))
    left = draw(st.booleans())
    k = draw(st.integers(1, 2))
    a_batch, b_batch = draw(st.sampled_from([((), ()), ((2,), ()), ((), (2,)), ((2,), (2,)),
                                             ((2, 1), (3,))]))
    b = (n, k) if left else (k, n)
    return (a_batch + (n, n), b_batch + b), {"upper": draw(st.booleans()), "left": left,
                                             "unitriangular": draw(st.booleans())}


def np_solve_triangular(a, b, upper, left, unitriangular):
    t = np_triangle(a, upper, unitriangular)
    if left:
        return np.linalg.solve(t, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)


def well_conditioned_triangle(arrays):
    a, b = arrays
    return [a + 4 * np.eye(a.shape[-1]) * np.sign(np.diagonal(a, 0, -2, -1) + 0.5)[..., None], b]


@st.composite
def lstsq_cases(draw, driver):
    m = draw(st.integers(1, 4))
    n = draw(st.integers(1, 3))
    if driver == "gelsd":
        m = n + draw(st.integers(1, 2))  # residuals need m > n
    batch = draw(st.sampled_from([(), (2,)]))
    return (batch + (m, n), batch + (m, draw(st.integers(1, 2)))), {"driver": driver}


def np_lstsq(a, b, driver=None):
    return np.linalg.pinv(a) @ b


def np_residuals(a, b, driver=None):
    x = np.linalg.pinv(a) @ b
    return ((a @ x - b) ** 2).sum(-2)


@st.composite
def chain_cases(draw):
    count = draw(st.integers(2, 4))
    dims = draw(st.lists(st.integers(1, 3), min_size=count + 1, max_size=count + 1))
    shapes_ = [(dims[i], dims[i + 1]) for i in range(count)]
    if draw(st.booleans()):
        shapes_[0] = (dims[1],)
    if draw(st.booleans()):
        shapes_[-1] = (dims[-2],)
    return tuple(shapes_), {}


def well_conditioned(arrays):
    a, *rest = arrays
    return [a + 10 * np.eye(a.shape[-1])] + rest


def _per_matrix(fn):
    def apply(a):
        return fn(a) if a.ndim == 2 else np.stack([apply(m) for m in a])
    return apply


NEEDS_SCIPY_LINALG = {"cholesky", "cholesky_upper", "cholesky_ex", "qr_reduced", "qr_complete",
                      "qr_mix", "solve_triangular", "matrix_exp", "tn.qr"}

SPECS = [
    OpSpec("svd_reconstructs", reconstructed(tn), one_input(matrix_shapes(),
                                                           full_matrices=st.booleans()),
           lambda a, full_matrices: a, values=spread_apart),
    OpSpec("svd_S", lambda a: tn.linalg.svd(a).S, one_input(matrix_shapes()),
           lambda a: np.linalg.svd(a, compute_uv=False), values=spread_apart),
    OpSpec("svd_mix", svd_mix, one_input(matrix_shapes(), full_matrices=st.booleans()), np_svd_mix,
           values=spread_apart),
    OpSpec("svd_U_squared", lambda a: tn.linalg.svd(a, False).U ** 2, one_input(matrix_shapes()),
           lambda a: svd_parts(a)[0] ** 2, values=spread_apart),
    OpSpec("svd_Vh_squared", lambda a: tn.linalg.svd(a, False).Vh ** 2, one_input(matrix_shapes()),
           lambda a: svd_parts(a)[2] ** 2, values=spread_apart),
    OpSpec("tn.svd", lambda a: (lambda r: (r.U * r.S.unsqueeze(-2)) @ r.V.mT)(tn.svd(a)),
           one_input(matrix_shapes()), lambda a: a, values=spread_apart),
    OpSpec("qr_reduced", lambda a: tn.cat([t.flatten(-2) for t in tn.linalg.qr(a)], -1),
           one_input(matrix_shapes()),
           lambda a: np.concatenate([t.reshape(t.shape[:-2] + (-1,)) for t in np.linalg.qr(a)], -1),
           values=spread_apart),
    OpSpec("qr_complete", lambda a: tn.linalg.qr(a, "complete").Q @ tn.linalg.qr(a, "complete").R
           + tn.linalg.qr(a, "complete").Q.sum(-1, keepdim=True),
           one_input(matrix_shapes(tall=False)),
           lambda a: a + np.linalg.qr(a, "complete")[0].sum(-1, keepdims=True), values=spread_apart),
    OpSpec("tn.qr", lambda a: tn.qr(a).R, one_input(matrix_shapes()),
           lambda a: np.linalg.qr(a)[1], values=spread_apart),
    OpSpec("cholesky", lambda a: tn.linalg.cholesky(symmetric_part(a)), one_input(square_shapes()),
           np.linalg.cholesky, values=positive_definite),
    OpSpec("cholesky_upper", lambda a: tn.linalg.cholesky(symmetric_part(a), upper=True),
           one_input(square_shapes()), lambda a: np.swapaxes(np.linalg.cholesky(a), -1, -2),
           values=positive_definite),
    OpSpec("cholesky_ex", lambda a: tn.linalg.cholesky_ex(symmetric_part(a)).L,
           one_input(square_shapes()), np.linalg.cholesky, values=positive_definite),
    OpSpec("slogdet", lambda a: tn.linalg.slogdet(a).logabsdet * tn.linalg.slogdet(a).sign,
           one_input(square_shapes()), lambda a: np.prod(np.linalg.slogdet(a), axis=0),
           values=spread_apart),
    OpSpec("logdet", tn.logdet, one_input(square_shapes()), lambda a: np.linalg.slogdet(a)[1],
           values=positive_definite),
    OpSpec("pinv", tn.linalg.pinv, one_input(matrix_shapes()), np.linalg.pinv, values=spread_apart),
    OpSpec("pinv_hermitian", lambda a: tn.linalg.pinv(symmetric_part(a), hermitian=True),
           one_input(square_shapes()), np.linalg.pinv, values=positive_definite),
    OpSpec("matrix_exp", tn.linalg.matrix_exp, one_input(square_shapes()), _per_matrix(scipy.linalg.expm),
           low=-1.0, high=1.0),
    OpSpec("solve_triangular", tn.linalg.solve_triangular, triangular_cases(), np_solve_triangular,
           values=well_conditioned_triangle),
    OpSpec("lstsq", lambda a, b, driver: tn.linalg.lstsq(a, b, driver=driver).solution,
           lstsq_cases(None), np_lstsq, values=spread_apart),
    OpSpec("lstsq_residuals", lambda a, b, driver: tn.linalg.lstsq(a, b, driver=driver).residuals,
           lstsq_cases("gelsd"), np_residuals, values=spread_apart),
    OpSpec("inv_ex", lambda a: tn.linalg.inv_ex(a).inverse, one_input(square_shapes()),
           np.linalg.inv, values=well_conditioned),
    OpSpec("solve_ex", lambda a, b: tn.linalg.solve_ex(a, b).result,
           st.tuples(square_shapes().map(lambda s: (s, s[:-1] + (2,))), st.just({})),
           np.linalg.solve, values=well_conditioned),
    OpSpec("cond", tn.linalg.cond, one_input(matrix_shapes(), p=st.sampled_from([None, -2])),
           lambda a, p: np.linalg.cond(a, p), values=spread_apart),
    OpSpec("cond_square", tn.linalg.cond, one_input(square_shapes(), p=st.sampled_from(["fro", "nuc"])),
           lambda a, p: np.linalg.cond(a, p), values=spread_apart),
    OpSpec("matrix_power", tn.linalg.matrix_power, one_input(square_shapes(),
                                                             n=st.integers(-2, 3)),
           np.linalg.matrix_power, values=well_conditioned, low=-0.5, high=0.5),
    OpSpec("multi_dot", lambda *ts: tn.linalg.multi_dot(ts), chain_cases(),
           lambda *arrays: np.linalg.multi_dot(arrays)),
    OpSpec("vecdot", lambda x, y, dim: tn.linalg.vecdot(x, y, dim=dim),
           st.tuples(st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4))]),
                     st.fixed_dictionaries({"dim": st.sampled_from([-1, 0])})),
           lambda x, y, dim: (x * y).sum(dim)),
    OpSpec("vander", lambda x, N: tn.linalg.vander(x, N=N),
           one_input(shapes(min_dims=1, max_dims=2, min_side=2), N=st.sampled_from([None, 2, 4])),
           lambda x, N: x[..., None] ** np.arange(x.shape[-1] if N is None else N),
           values=away_from_zero(0.1)),  # cumprod's higher derivatives lose precision near 0
    OpSpec("linalg.diagonal", lambda a, offset: tn.linalg.diagonal(a, offset=offset),
           one_input(shapes(min_dims=2), offset=st.integers(-1, 1)),
           lambda a, offset: np.diagonal(a, offset, -2, -1)),
]


def _require_scipy_linalg():
    """The GPU's SciPy functions come from cupyx.scipy.linalg, which the strict CuPy stand-in
    of ``--device strict`` does not have."""
    if backend.default_device == "cuda":
        try:
            functions = backend.linalg_functions(tn.zeros(1).array)
        except (AttributeError, ImportError):
            functions = None
        if not hasattr(functions, "solve_triangular"):
            pytest.skip("this CuPy has no cupyx.scipy.linalg")


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    if spec.name in NEEDS_SCIPY_LINALG:
        _require_scipy_linalg()
    check_op(spec, data)


# --------------------------------------------------------------------------- edges
def test_singular_values_that_repeat_still_give_the_gradient_of_S_alone():
    a = tn.eye(3, dtype=tn.float64, requires_grad=True)
    tn.linalg.svd(a).S.sum().backward()  # U and Vh get no gradient: no 1 / (σⱼ² - σᵢ²) of 0
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3))
    b = tn.eye(3, dtype=tn.float64, requires_grad=True)
    tn.linalg.slogdet(b).sign.sum().backward()  # the sign has no gradient: none reaches b
    assert b.grad is None


def test_hessian_vector_products_through_the_decompositions():
    """tn.autograd.functional.hvp of losses through svd, qr, cholesky, matrix_exp and lstsq, against
    finite differences of their gradients."""
    _require_scipy_linalg()
    rng = np.random.default_rng(0)
    a = spread_apart([rng.standard_normal((3, 2))])[0]
    spd = positive_definite([rng.standard_normal((3, 3))])[0]
    b = rng.standard_normal((3, 2))
    losses = [(lambda t: (reconstructed(tn)(t) ** 3).sum(), a),
              (lambda t: svd_mix(t).sum() + tn.linalg.svd(t).U.abs()[:, :2].sum(), a),
              (lambda t: tn.linalg.qr(t).Q.sin().sum() + tn.linalg.qr(t).R.cos().sum(), a),
              (lambda t: tn.linalg.cholesky(symmetric_part(t)).sin().sum(), spd),
              (lambda t: tn.linalg.matrix_exp(t * 0.3).sin().sum(), spd),
              (lambda t: tn.linalg.lstsq(t, tn.tensor(b)).solution.sin().sum(), a),
              (lambda t: tn.linalg.pinv(t).sin().sum(), a),
              (lambda t: tn.linalg.slogdet(t).logabsdet ** 2, spd)]
    for loss, x in losses:
        v = rng.standard_normal(x.shape)
        _, hv = tn.autograd.functional.hvp(loss, tn.tensor(x), tn.tensor(v))

        def gradient(point, loss=loss):
            t = tn.tensor(point, requires_grad=True)
            loss(t).backward()
            return t.grad.numpy()
        eps = 1e-6
        numeric = (gradient(x + eps * v) - gradient(x - eps * v)) / (2 * eps)
        np.testing.assert_allclose(hv.numpy(), numeric, rtol=1e-5, atol=1e-6)


def test_float32_in_float32_out_and_batches_of_any_rank():
    _require_scipy_linalg()
    rng = np.random.default_rng(1)
    a = tn.tensor(spread_apart([rng.standard_normal((2, 1, 3, 3))])[0], dtype=tn.float32)
    spd = tn.tensor(positive_definite([rng.standard_normal((2, 1, 3, 3))])[0], dtype=tn.float32)
    outputs = [*tn.linalg.svd(a), *tn.linalg.qr(a), tn.linalg.cholesky(spd), *tn.linalg.slogdet(a),
               tn.linalg.pinv(a), tn.linalg.matrix_exp(a), tn.linalg.matrix_power(a, -2),
               tn.linalg.solve_triangular(a, a, upper=True), tn.linalg.lstsq(a, a).solution,
               tn.linalg.cond(a), tn.linalg.inv_ex(a).inverse, tn.linalg.cholesky_ex(spd).L,
               tn.linalg.solve_ex(a, a).result, tn.logdet(spd), tn.pinverse(a)]
    for out in outputs:
        assert out.dtype == tn.float32 and tuple(out.shape[:2]) == (2, 1), (out.dtype, out.shape)
    assert tn.linalg.matrix_rank(a).dtype == tn.int64 and tn.linalg.matrix_rank(a).tolist() == [[3], [3]]
    assert tn.linalg.inv_ex(a).info.dtype == tn.int32 and tn.linalg.inv_ex(a).info.shape == (2, 1)


def test_singular_and_indefinite_matrices_report_where_they_fail():
    singular = tn.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])
    result = tn.linalg.inv_ex(singular)
    assert result.info.tolist() == [0, 2] and result.info.dtype == tn.int32
    assert np.isnan(result.inverse[1].numpy()).all()
    np.testing.assert_array_equal(result.inverse[0].numpy(), np.eye(2))
    assert tn.linalg.solve_ex(singular, tn.ones(2, 2)).info.tolist() == [0, 2]
    with pytest.raises(tn.linalg.LinAlgError, match=r"inv_ex: \(Batch element 1\).*element 2"):
        tn.linalg.inv_ex(singular, check_errors=True)
    with pytest.raises(tn.linalg.LinAlgError, match=r"solve_ex.*singular"):
        tn.linalg.solve_ex(singular[1], tn.ones(2), check_errors=True)
    with pytest.raises(tn.linalg.LinAlgError, match="linalg.inv"):
        tn.linalg.matrix_power(singular, -1)
    indefinite = tn.tensor(np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 2.0], [0.0, 2.0, 1.0]], -np.eye(3)]))
    with pytest.raises(tn.linalg.LinAlgError, match=r"cholesky: \(Batch element 0\).*order 3"):
        tn.linalg.cholesky(indefinite)
    L, info = tn.linalg.cholesky_ex(indefinite)
    assert info.tolist() == [3, 1]
    np.testing.assert_array_equal(L.numpy(), [[[1, 0, 0], [0, 1, 0], [0, 2, -3]], -np.eye(3)])
    # the invertible matrices of a batch keep their gradients
    x = tn.tensor(singular.numpy(), requires_grad=True)
    tn.linalg.inv_ex(x).inverse[0].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-np.ones((2, 2)), np.zeros((2, 2))])


def test_slogdet_and_logdet_of_singular_and_negative_determinants():
    s, logabsdet = tn.linalg.slogdet(tn.tensor([[1.0, 2.0], [2.0, 4.0]]))
    assert s.item() == 0 and logabsdet.item() == -math.inf
    x = tn.tensor([[1.0, 2.0], [2.0, 1.0]], requires_grad=True)
    out = tn.logdet(x)
    assert math.isnan(out.item())
    out.backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]  # as PyTorch: where() masks it


def test_a_norm_used_twice_differentiates_twice():
    """vector_norm's backward reuses its output: the second-order gradients reaching it there and
    through the output itself add up (cond('fro') is ‖A‖·‖A⁻¹‖, whose Hessian needs both)."""
    a = tn.tensor(np.full((2, 1, 1), 1.5), requires_grad=True)
    v = tn.ones(2, dtype=tn.float64, requires_grad=True)
    assert tn.gradgradcheck(lambda t: tn.linalg.vector_norm(t, 3, dim=(1, 2)) ** 2, [a],
                            grad_outputs=[v])
    assert tn.gradgradcheck(lambda t: tn.linalg.cond(t, "fro"), [a], grad_outputs=[v])


def test_qr_gradients_that_pytorch_refuses():
    a = tn.randn(4, 3, dtype=tn.float64, requires_grad=True)
    Q, R = tn.linalg.qr(a, mode="r")
    assert Q.shape == (0,) and R.shape == (3, 3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        R.sum().backward()
    with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
        tn.linalg.qr(a, mode="complete").Q.sum().backward()


def test_matrix_power_zero_is_the_identity_with_a_zero_gradient():
    a = tn.tensor([[math.inf, 2.0], [3.0, 4.0]], requires_grad=True)
    out = tn.linalg.matrix_power(a, 0)
    assert out.tolist() == [[1.0, 0.0], [0.0, 1.0]] and out.requires_grad
    out.sum().backward()
    assert a.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert tn.linalg.matrix_power(tn.tensor([[1, 1], [0, 1]]), 5).tolist() == [[1, 5], [0, 1]]


def test_solve_triangular_reads_one_triangle_and_divides_by_a_zero_diagonal():
    _require_scipy_linalg()
    a = np.array([[2.0, 100.0], [1.0, 4.0]])
    b = np.ones((2, 1))
    singular = np.array([[0.0, 0.0], [1.0, 1.0]])
    lower = tn.linalg.solve_triangular(tn.tensor(a), tn.tensor(b), upper=False)
    unit = tn.linalg.solve_triangular(tn.tensor(a), tn.tensor(b), upper=False, unitriangular=True)
    np.testing.assert_allclose(lower.numpy(), np.linalg.solve(np.tril(a), b))
    np.testing.assert_allclose(unit.numpy(), [[1.0], [0.0]])
    zero = tn.linalg.solve_triangular(tn.tensor(singular), tn.tensor(b), upper=False)
    assert np.isinf(zero.numpy()).all()


def test_lstsq_of_a_rank_deficient_matrix_is_the_minimum_norm_solution():
    a = np.array([[1.0, 2.0, 2.0], [2.0, 4.0, 4.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    b = np.array([[1.0], [2.0], [3.0], [4.0]])
    for driver in (None, "gelsd", "gelss"):
        result = tn.linalg.lstsq(tn.tensor(a), tn.tensor(b), driver=driver)
        np.testing.assert_allclose(result.solution.numpy(), np.linalg.pinv(a) @ b, atol=1e-12)
        assert result.rank.item() == 2
        assert result.residuals.shape == (0,)  # rank deficient: no residuals
    vector = tn.linalg.lstsq(tn.tensor(a), tn.tensor(b[:, 0]))
    assert vector.solution.shape == (3,)


def test_errors_name_the_op_and_what_was_expected():
    with pytest.raises(RuntimeError, match=r"linalg.svd.*floating point.*int64"):
        tn.linalg.svd(tn.tensor([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match=r"linalg.cholesky.*square.*2 by 3"):
        tn.linalg.cholesky(tn.ones(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tn.linalg.qr(tn.ones(3))
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        tn.linalg.qr(tn.ones(2, 2), mode="full")
    with pytest.raises(RuntimeError, match=r"Incompatible shapes.*AX = B"):
        tn.linalg.solve_triangular(tn.eye(2), tn.ones(3, 1), upper=True)
    with pytest.raises(TypeError):
        tn.linalg.solve_triangular(tn.eye(2), tn.ones(2, 1))  # upper is required
    with pytest.raises(RuntimeError, match="driver"):
        tn.linalg.lstsq(tn.eye(2), tn.ones(2, 1), driver="gesv")
    with pytest.raises(RuntimeError, match="same dtype"):
        tn.linalg.lstsq(tn.eye(2), tn.ones(2, 1, dtype=tn.float64))
    with pytest.raises(RuntimeError, match="invalid norm type"):
        tn.linalg.cond(tn.eye(2), 3)
    with pytest.raises(RuntimeError, match=r"tensors 0 and 1 with shapes \[2, 2\] and \[3, 2\]"):
        tn.linalg.multi_dot([tn.eye(2), tn.ones(3, 2)])
    with pytest.raises(RuntimeError, match="at least 2 tensors"):
        tn.linalg.multi_dot([tn.eye(2)])
    with pytest.raises(TypeError, match="must be int"):
        tn.linalg.matrix_power(tn.eye(2), 2.0)
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        tn.linalg.vander(tn.tensor([1.0]))
    with pytest.raises(NotImplementedError, match="float32 and float64"):
        tn.linalg.svd(tn.eye(2, dtype=tn.float16))


def test_tensor_methods_and_top_level_names():
    rng = np.random.default_rng(2)
    a = tn.tensor(spread_apart([rng.standard_normal((4, 3))])[0])
    square = tn.tensor(positive_definite([rng.standard_normal((3, 3))])[0])
    U, S, V = a.svd()
    np.testing.assert_allclose(((U * S) @ V.mT).numpy(), a.numpy(), rtol=1e-5, atol=1e-5)
    assert a.svd(some=False).U.shape == (4, 4)
    no_uv = tn.svd(a, compute_uv=False)
    assert no_uv.U.abs().sum().item() == 0 and no_uv.V.shape == (3, 3)
    assert a.qr(some=False).Q.shape == (4, 4) and a.qr().Q.shape == (4, 3)
    np.testing.assert_allclose(square.inverse().numpy(), np.linalg.inv(square.numpy()), rtol=1e-5)
    np.testing.assert_allclose(a.pinverse().numpy(), np.linalg.pinv(a.numpy()), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(square.logdet().item(), np.linalg.slogdet(square.numpy())[1], rtol=1e-5)
    assert type(square.slogdet()).__name__ == "slogdet"
    np.testing.assert_allclose(square.matrix_power(2).numpy(), square.numpy() @ square.numpy(),
                               rtol=1e-5)
    if backend.default_device != "cuda":
        np.testing.assert_allclose(square.cholesky().numpy(), np.linalg.cholesky(square.numpy()),
                                   rtol=1e-5)
        np.testing.assert_allclose((square * 0.1).matrix_exp().numpy(),
                                   scipy.linalg.expm(square.numpy() * 0.1), rtol=1e-5)


# --------------------------------------------------------------------------- against torch
def _torch():
    if backend.default_device == "cuda":
        pytest.skip("the torch comparisons run on the CPU")
    return pytest.importorskip("torch")


def _sign_free(L, shape):
    """A loss of U, S and Vh of ``shape``'s SVD that the vectors' signs don't change."""
    k = min(shape[-2:])

    def f(t):
        U, S, Vh = L.linalg.svd(t)
        return (U[..., :k].abs() * S.unsqueeze(-2)).sum(-2) + (Vh[..., :k, :].abs() * S.unsqueeze(-1)).sum(-1)
    return f


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_svd_qr_pinv_lstsq_and_cond_match_torch(shape):
    torch = _torch()
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape)
    b = rng.standard_normal(shape[:-1] + (2,))
    k = min(shape[-2:])
    assert_matches_torch(torch, _sign_free(tn, shape), _sign_free(torch, shape), a)
    assert_matches_torch(torch, reconstructed(tn), reconstructed(torch), a)
    for full in (True, False):
        assert_matches_torch(torch, lambda t, full=full: tn.linalg.svd(t, full).U[..., :k].abs(),
                             lambda t, full=full: torch.linalg.svd(t, full).U[..., :k].abs(), a)
    modes = ["reduced"] + (["complete"] if shape[-2] <= shape[-1] else [])
    for mode in modes:
        def flat_qr(L, mode=mode):
            return lambda t: L.cat([f.flatten(-2) for f in L.linalg.qr(t, mode)], -1)
        assert_matches_torch(torch, flat_qr(tn), flat_qr(torch), a)
        assert_matches_torch(torch, lambda t, mode=mode: tn.linalg.qr(t, mode).R,
                             lambda t, mode=mode: torch.linalg.qr(t, mode).R, a)
    assert_matches_torch(torch, tn.linalg.pinv, torch.linalg.pinv, a)
    for driver in (None, "gelsd", "gelss") + (("gels",) if shape[-2] >= shape[-1] else ()):
        assert_matches_torch(torch, lambda p, q, d=driver: tn.linalg.lstsq(p, q, driver=d).solution,
                             lambda p, q, d=driver: torch.linalg.lstsq(p, q, driver=d).solution, a, b)
        ours = tn.linalg.lstsq(tn.tensor(a), tn.tensor(b), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        for x, y in zip(ours, theirs):
            assert tuple(x.shape) == tuple(y.shape)
            assert str(x.dtype).split(".")[-1] == str(y.dtype).split(".")[-1]
            np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-7, atol=1e-10)
    if shape[-2] > shape[-1]:
        assert_matches_torch(torch, lambda p, q: tn.linalg.lstsq(p, q, driver="gelsd").residuals,
                             lambda p, q: torch.linalg.lstsq(p, q, driver="gelsd").residuals, a, b)
    for p in (None, 2, -2):
        assert_matches_torch(torch, lambda t, p=p: tn.linalg.cond(t, p),
                             lambda t, p=p: torch.linalg.cond(t, p), a)


def test_square_matrix_functions_match_torch():
    torch = _torch()
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 3))
    spd = positive_definite([a])[0]
    unsymmetric = spd + np.triu(np.ones((3, 3)), 1)  # cholesky reads the lower triangle
    for upper in (False, True):
        assert_matches_torch(torch, lambda t, u=upper: tn.linalg.cholesky(t, upper=u),
                             lambda t, u=upper: torch.linalg.cholesky(t, upper=u), unsymmetric)
        assert_matches_torch(torch, lambda t, u=upper: tn.linalg.cholesky_ex(t, upper=u).L,
                             lambda t, u=upper: torch.linalg.cholesky_ex(t, upper=u).L, unsymmetric)
    assert_matches_torch(torch, lambda t: tn.linalg.slogdet(t).logabsdet * tn.linalg.slogdet(t).sign,
                         lambda t: torch.linalg.slogdet(t).logabsdet * torch.linalg.slogdet(t).sign, a)
    assert_matches_torch(torch, tn.logdet, torch.logdet, spd)
    assert_matches_torch(torch, tn.linalg.matrix_exp, torch.linalg.matrix_exp, a)
    assert_matches_torch(torch, lambda t: tn.linalg.pinv(t, hermitian=True),
                         lambda t: torch.linalg.pinv(t, hermitian=True), spd)
    for n in (-3, -1, 0, 1, 2, 5):
        assert_matches_torch(torch, lambda t, n=n: tn.linalg.matrix_power(t, n),
                             lambda t, n=n: torch.linalg.matrix_power(t, n), a + 2 * np.eye(3))
    assert_matches_torch(torch, lambda t: tn.linalg.inv_ex(t).inverse,
                         lambda t: torch.linalg.inv_ex(t).inverse, a)
    assert_matches_torch(torch, lambda p, q: tn.linalg.solve_ex(p, q).result,
                         lambda p, q: torch.linalg.solve_ex(p, q).result, a, rng.standard_normal((2, 3)))
    for p in ("fro", "nuc", 1, -1, math.inf, -math.inf):  # PyTorch has no gradient for most of these
        np.testing.assert_allclose(tn.linalg.cond(tn.tensor(a), p).numpy(),
                                   torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-10)
    tri = np.tril(a) + 3 * np.eye(3)
    for upper, left, unit in [(False, True, False), (True, False, False), (False, False, True)]:
        A = np.swapaxes(tri, -1, -2) if upper else tri
        B = rng.standard_normal((4, 1, 3, 2) if left else (4, 1, 2, 3))
        flags = {"upper": upper, "left": left, "unitriangular": unit}
        assert_matches_torch(torch, lambda p, q, f=flags: tn.linalg.solve_triangular(p, q, **f),
                             lambda p, q, f=flags: torch.linalg.solve_triangular(p, q, **f), A, B)


def test_composites_match_torch():
    torch = _torch()
    rng = np.random.default_rng(5)
    chain = [rng.standard_normal(3), rng.standard_normal((3, 5)), rng.standard_normal((5, 2)),
             rng.standard_normal((2, 4)), rng.standard_normal(4)]
    assert_matches_torch(torch, lambda *ts: tn.linalg.multi_dot(ts),
                         lambda *ts: torch.linalg.multi_dot(ts), *chain)
    assert_matches_torch(torch, lambda *ts: tn.linalg.multi_dot(ts),
                         lambda *ts: torch.linalg.multi_dot(ts), *chain[1:4])
    assert_matches_torch(torch, lambda x, y: tn.linalg.vecdot(x, y, dim=0),
                         lambda x, y: torch.linalg.vecdot(x, y, dim=0),
                         rng.standard_normal((3, 4)), rng.standard_normal((3, 1)))
    assert_matches_torch(torch, lambda x: tn.linalg.vander(x, N=4),
                         lambda x: torch.linalg.vander(x, N=4), rng.standard_normal((2, 3)))
    assert_matches_torch(torch, lambda x: tn.linalg.diagonal(x, offset=-1, dim1=0),
                         lambda x: torch.linalg.diagonal(x, offset=-1, dim1=0),
                         rng.standard_normal((3, 2, 4)))
    assert_matches_torch(torch, tn.linalg.matmul, torch.linalg.matmul,
                         rng.standard_normal((2, 3)), rng.standard_normal(3))
    ints = np.array([[1, 2], [3, 4]])
    assert tn.linalg.vander(tn.tensor([1, 2], dtype=tn.int32)).dtype == tn.int64
    assert tn.linalg.matrix_power(tn.tensor(ints), 3).tolist() == \
        torch.linalg.matrix_power(torch.tensor(ints), 3).tolist()


def test_hessian_vector_products_match_torch():
    torch = _torch()
    rng = np.random.default_rng(6)
    a = spread_apart([rng.standard_normal((3, 3))])[0]
    spd = positive_definite([rng.standard_normal((3, 3))])[0]
    v = rng.standard_normal((3, 3))

    def losses(L):
        return [(lambda t: _sign_free(L, (3, 3))(t).sin().sum(), a),
                (lambda t: L.linalg.qr(t).Q.sin().sum() + L.linalg.qr(t).R.cos().sum(), a),
                (lambda t: L.linalg.cholesky(t).sin().sum(), spd),
                (lambda t: L.linalg.matrix_exp(t).sin().sum(), v.T),  # a small norm: SciPy's
                # expm and PyTorch's agree to 1e-12 (relative) at large ones, not to 1e-15
                (lambda t: L.linalg.pinv(t).sin().sum(), a),
                (lambda t: L.linalg.slogdet(t).logabsdet ** 2, a),
                (lambda t: L.linalg.solve_triangular(t, t.sin(), upper=True).sum(), a)]
    for (ours, x), (theirs, _) in zip(losses(tn), losses(torch)):
        _, hv = tn.autograd.functional.hvp(ours, tn.tensor(x), tn.tensor(v))
        _, t_hv = torch.autograd.functional.hvp(theirs, torch.tensor(x), torch.tensor(v))
        np.testing.assert_allclose(hv.numpy(), t_hv.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.filterwarnings("ignore:torch.qr is deprecated")
def test_result_types_dtypes_and_infos_match_torch():
    torch = _torch()
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 4, 3)).astype(np.float32)
    sq = rng.standard_normal((2, 3, 3)).astype(np.float32)
    spd = positive_definite([sq.astype(np.float64)])[0].astype(np.float32)

    def calls(L):
        return {"linalg.svd": lambda: L.linalg.svd(L.tensor(a)),
                "linalg.qr": lambda: L.linalg.qr(L.tensor(a)),
                "linalg.slogdet": lambda: L.linalg.slogdet(L.tensor(sq)),
                "linalg.lstsq": lambda: L.linalg.lstsq(L.tensor(a), L.tensor(a[..., :2])),
                "linalg.inv_ex": lambda: L.linalg.inv_ex(L.tensor(sq)),
                "linalg.cholesky_ex": lambda: L.linalg.cholesky_ex(L.tensor(spd)),
                "linalg.solve_ex": lambda: L.linalg.solve_ex(L.tensor(sq), L.tensor(sq)),
                "svd": lambda: L.svd(L.tensor(a)), "qr": lambda: L.qr(L.tensor(a), some=False),
                "slogdet": lambda: L.slogdet(L.tensor(sq)),
                "linalg.eigh": lambda: L.linalg.eigh(L.tensor(spd))}
    for name, ours, theirs in zip(calls(tn), calls(tn).values(), calls(torch).values()):
        x, y = ours(), theirs()
        assert type(x).__name__ == type(y).__name__ and len(x) == len(y), name
        for i, field in enumerate(x._fields):  # the same names, in the same order
            assert getattr(y, field) is y[i], (name, field)
            ours_t, theirs_t = getattr(x, field), getattr(y, field)
            assert tuple(ours_t.shape) == tuple(theirs_t.shape), (name, field)
            assert str(ours_t.dtype).split(".")[-1] == str(theirs_t.dtype).split(".")[-1], (name, field)
    assert tn.linalg.matrix_rank(tn.tensor(sq)).dtype == tn.int64
    for atol, rtol, hermitian in [(None, None, False), (1.0, None, False), (None, 0.5, True)]:
        ours = tn.linalg.matrix_rank(tn.tensor(spd), atol=atol, rtol=rtol, hermitian=hermitian)
        theirs = torch.linalg.matrix_rank(torch.tensor(spd), atol=atol, rtol=rtol, hermitian=hermitian)
        assert ours.tolist() == theirs.tolist()
    tolerances = torch.tensor([0.5, 100.0], dtype=torch.float64)
    assert tn.linalg.matrix_rank(tn.tensor(sq), atol=tn.tensor(tolerances.numpy())).tolist() == \
        torch.linalg.matrix_rank(torch.tensor(sq), atol=tolerances).tolist()
    # the infos and partial factors of failures, element for element
    bad = np.array([np.eye(3), -np.eye(3), [[1, 0, 0], [0, 1, 2], [0, 2, 1]]], dtype=np.float32)
    for upper in (False, True):
        ours, theirs = tn.linalg.cholesky_ex(tn.tensor(bad), upper=upper), \
            torch.linalg.cholesky_ex(torch.tensor(bad), upper=upper)
        assert ours.info.tolist() == theirs.info.tolist()
        np.testing.assert_array_equal(ours.L.numpy(), theirs.L.numpy())
    singular = np.array([np.eye(3), [[1, 0, 0], [0, 0, 0], [0, 0, 1]], [[1, 2, 3], [2, 4, 6], [1, 1, 1]]],
                        dtype=np.float64)
    assert tn.linalg.inv_ex(tn.tensor(singular)).info.tolist() == \
        torch.linalg.inv_ex(torch.tensor(singular)).info.tolist()
    rank_deficient = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    for driver in (None, "gelsd"):
        ours = tn.linalg.lstsq(tn.tensor(rank_deficient), tn.ones(3, 1, dtype=tn.float64), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(rank_deficient), torch.ones(3, 1, dtype=torch.float64),
                                    driver=driver)
        assert ours.rank.item() == theirs.rank.item()
        np.testing.assert_allclose(ours.solution.numpy(), theirs.solution.numpy(), rtol=1e-10)


def _outcome(program):
    try:
        result = program()
    except Exception as err:  # noqa: BLE001 - the type is what is compared
        return type(err)
    if isinstance(result, tuple):
        return tuple(tuple(t.shape) for t in result)
    return tuple(result.shape)


@pytest.mark.parametrize("case", [
    "svd(ints)", "svd(vector)", "svd(empty)", "qr(ints)", "qr(wide, 'complete')", "qr(m, 'x')",
    "cholesky(rect)", "cholesky(ints)", "cholesky(indefinite)", "slogdet(rect)", "slogdet(ints)",
    "matrix_power(ints, -1)", "matrix_power(rect, 2)", "matrix_exp(vector)", "matrix_exp(rect)",
    "matrix_exp(empty_square)", "pinv(ints)", "pinv(vector)", "pinv(empty)", "matrix_rank(vector)",
    "cond(rect, 1)", "cond(m, 3)", "cond(empty_square)", "lstsq(m, vector_b)", "lstsq(m, ones4)",
    "lstsq(vector, vector)", "lstsq(m, rect_b)", "solve_triangular(m, vector)",
    "solve_triangular(m, rect_b)", "solve_triangular(empty_square, empty_b)", "inv_ex(singular)",
    "vander(bools)", "vander(scalar)", "vecdot(ints, ints)", "vecdot(m, m64)",
    "multi_dot([m])", "multi_dot([cube, m])", "multi_dot([m, vector, vector])", "inverse(singular)",
])
def test_errors_and_shapes_match_torch(case):
    torch = _torch()
    outcomes = []
    for L in (tn, torch):
        values = {
            "ints": L.tensor([[1, 2], [3, 4]]), "vector": L.ones(3), "empty": L.ones(0, 3),
            "wide": L.ones(2, 3), "m": L.tensor([[2.0, 1.0], [1.0, 3.0]]), "rect": L.ones(2, 3),
            "indefinite": L.tensor([[1.0, 2.0], [2.0, 1.0]]), "empty_square": L.ones(0, 0),
            "vector_b": L.ones(2), "ones4": L.ones(2, 2, 2, 2), "rect_b": L.ones(3, 1),
            "empty_b": L.ones(0, 2), "singular": L.tensor([[1.0, 2.0], [2.0, 4.0]]),
            "bools": L.tensor([True, False]), "scalar": L.tensor(2.0), "m64": L.eye(2, dtype=L.float64),
            "cube": L.ones(2, 2, 2)}
        namespace = {**values, **{name: getattr(L.linalg, name, None) or getattr(L, name)
                                  for name in ("svd", "qr", "cholesky", "slogdet", "matrix_power",
                                               "matrix_exp", "pinv", "matrix_rank", "cond", "lstsq",
                                               "solve_triangular", "inv_ex", "vander", "vecdot",
                                               "multi_dot")}}
        namespace["inverse"] = L.inverse
        code = case[:-1] + ", upper=True)" if case.startswith("solve_triangular") else case
        outcomes.append(_outcome(lambda code=code, namespace=namespace: eval(code, namespace)))
    ours, theirs = outcomes
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, RuntimeError if theirs is not TypeError
                                                     else TypeError), (ours, theirs)
        if theirs.__name__ == "_LinAlgError":
            assert ours is tn.linalg.LinAlgError
    else:
        assert ours == theirs


# --------------------------------------------------------------------------- regressions
def _second_derivative_through_several_results(L, factorize):
    """A loss of two or more results of one factorisation, differentiated twice: the second walk
    reaches the packed node and each result's node in no set order (it once freed the packed
    node before a result's node read it, and raised 'backward through the graph a second
    time')."""
    a = L.tensor([[1.0, 2.0], [3.0, 4.5], [0.5, -1.0]], dtype=L.float64, requires_grad=True)
    results = factorize(L, a)
    loss = sum(((i + 1) * r).sin().sum() for i, r in enumerate(results))
    g, = L.autograd.grad(loss, a, create_graph=True)
    gg, = L.autograd.grad((g * g).sum(), a)
    return [g, gg]


@pytest.mark.parametrize("factorize", [
    lambda L, a: L.linalg.svd(a, full_matrices=False),
    lambda L, a: [r.abs() for r in L.linalg.svd(a, full_matrices=False)],
    lambda L, a: L.linalg.qr(a),
    lambda L, a: [L.linalg.slogdet(a[:2]).logabsdet, L.linalg.svd(a[:2])[1]],
], ids=["svd", "svd abs", "qr", "slogdet and svd"])
def test_second_derivatives_through_several_results_of_one_factorisation(factorize):
    run_both(lambda L: _second_derivative_through_several_results(L, factorize))
