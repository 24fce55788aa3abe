"""tn.linalg (vector_norm, matrix_norm, norm, eigh, eigvalsh, solve, inv, svdvals) and tn.norm:
through the op factory to second order, at the edges (zero vectors, huge values, singular
matrices) and against torch."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import (OpSpec, away_from_zero, check_case, check_op, dims, numpy_axis,
                             op_settings, positive, shapes)

import tinynet as tn
from torch_oracle import assert_matches_torch


@st.composite
def vector_norm_cases(draw, ords):
    shape = draw(shapes(min_dims=1))
    return (shape,), {"ord": draw(st.sampled_from(ords)), "dim": draw(dims(len(shape))),
                      "keepdim": draw(st.booleans())}


def np_vector_norm(a, ord, dim, keepdim):
    magnitudes = np.abs(a)
    axis = numpy_axis(dim, a.ndim)
    if ord == math.inf:
        return magnitudes.max(axis=axis, keepdims=keepdim)
    if ord == -math.inf:
        return magnitudes.min(axis=axis, keepdims=keepdim)
    return (magnitudes ** ord).sum(axis=axis, keepdims=keepdim) ** (1 / ord)


def spread_apart(arrays):
    """Every element moved off zero, then a diagonal of 10, 30, 50… added to the last two dims:
    for side <= 3 the singular values, eigenvalues, column and row sums can't meet."""
    out = []
    for a in away_from_zero(0.1)(arrays):
        rows, cols = a.shape[-2:]
        boost = np.zeros((rows, cols))
        k = np.arange(min(rows, cols))
        boost[k, k] = 10 + 20 * k
        out.append(a + boost)
    return out


def symmetric_spread(arrays):
    return [a + np.swapaxes(a, -1, -2) for a in spread_apart(arrays)]


def symmetric_part(a):
    return (a + a.mT) / 2


def reconstructed(result):
    """V diag(λ) Vᵀ from eigh's result."""
    return result.eigenvectors @ (result.eigenvalues.unsqueeze(-1) * result.eigenvectors.mT)


def square_shapes(min_side=1, batch=True):
    side = st.integers(min_side, 3)
    lead = shapes(max_dims=1 if batch else 0, max_side=2)
    return st.tuples(lead, side).map(lambda p: p[0] + (p[1], p[1]))


def matrix_shapes():
    lead = shapes(max_dims=1, max_side=2)
    return st.tuples(lead, st.integers(1, 3), st.integers(1, 3)).map(lambda p: p[0] + (p[1], p[2]))


MATRIX_ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@st.composite
def matrix_norm_cases(draw):
    return (draw(matrix_shapes()),), {"ord": draw(st.sampled_from(MATRIX_ORDS)),
                                      "keepdim": draw(st.booleans())}


def np_matrix_norm(a, ord, keepdim):
    out = np.linalg.norm(a, ord=ord, axis=(-2, -1), keepdims=keepdim)
    return out


@st.composite
def solve_cases(draw):
    n = draw(st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,)]))
    kind = draw(st.sampled_from(["vector", "matrix", "batch_of_vectors", "broadcast"]))
    if kind == "vector":
        return (batch + (n, n), (n,)), {}
    if kind == "batch_of_vectors":
        return ((2, n, n), (2, n)), {}
    if kind == "broadcast":
        return ((n, n), (2, n, draw(st.integers(1, 2)))), {}
    return (batch + (n, n), batch + (n, draw(st.integers(1, 3)))), {}


def np_solve(a, b):
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    out = np.linalg.solve(a, b[..., None] if vector else b)
    return out[..., 0] if vector else out


def well_conditioned(arrays):
    a, *rest = arrays
    return [a + 10 * np.eye(a.shape[-1])] + rest


SPECS = [
    OpSpec("vector_norm", tn.linalg.vector_norm, vector_norm_cases([2, 1, 3, 1.5, -1, 0.5]),
           np_vector_norm, values=away_from_zero(0.2)),
    OpSpec("vector_norm_inf", tn.linalg.vector_norm, vector_norm_cases([math.inf, -math.inf]),
           np_vector_norm, values=lambda arrays: positive(0.2)(distinct_magnitudes(arrays))),
    OpSpec("tn.norm", lambda a, ord, dim, keepdim: tn.norm(a, ord, dim, keepdim),
           vector_norm_cases([2, 1, 3]), np_vector_norm, values=away_from_zero(0.2)),
    OpSpec("Tensor.norm_fro", lambda a: a.norm(), st.tuples(st.tuples(shapes()), st.just({})),
           lambda a: np.sqrt((a * a).sum()), values=away_from_zero(0.2)),
    OpSpec("matrix_norm", tn.linalg.matrix_norm, matrix_norm_cases(), np_matrix_norm,
           values=spread_apart),
    OpSpec("svdvals", tn.linalg.svdvals, st.tuples(st.tuples(matrix_shapes()), st.just({})),
           lambda a: np.linalg.svd(a, compute_uv=False), values=spread_apart),
    # eigh reads one triangle while its gradient is symmetric (as PyTorch's): the functions
    # checked take a symmetric part first, so finite differences see the same function
    OpSpec("eigvalsh", lambda a: tn.linalg.eigvalsh(symmetric_part(a)),
           st.tuples(st.tuples(square_shapes()), st.just({})), np.linalg.eigvalsh,
           values=symmetric_spread),
    # eigenvectors are defined up to sign: their squares are not
    OpSpec("eigh_vectors", lambda a: tn.linalg.eigh(symmetric_part(a)).eigenvectors ** 2,
           st.tuples(st.tuples(square_shapes()), st.just({})),
           lambda a: np.linalg.eigh(a)[1] ** 2, values=symmetric_spread),
    OpSpec("eigh_reconstructs", lambda a: reconstructed(tn.linalg.eigh(symmetric_part(a), UPLO="U")),
           st.tuples(st.tuples(square_shapes()), st.just({})), lambda a: a, values=symmetric_spread),
    OpSpec("solve", tn.linalg.solve, solve_cases(), np_solve, values=well_conditioned),
    OpSpec("inv", tn.linalg.inv, st.tuples(st.tuples(square_shapes()), st.just({})),
           np.linalg.inv, values=well_conditioned),
]


def distinct_magnitudes(arrays):
    """Magnitudes at least 0.1 apart, so the largest and smallest |x| are never tied."""
    out = []
    for a in arrays:
        ranks = np.empty(a.size)
        ranks[np.argsort(np.abs(a).ravel(), kind="stable")] = np.arange(a.size)
        out.append(np.abs(a) + 0.1 * ranks.reshape(a.shape))
    return out


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- edges
def test_norm_of_a_zero_vector_has_zero_gradient():
    x = tn.zeros(3, dtype=tn.float64, requires_grad=True)
    tn.linalg.vector_norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    y = tn.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    y.norm(dim=1).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [[0.0, 0.0], [0.6, 0.8]])


def test_vector_norm_neither_overflows_nor_underflows_in_float32():
    big = tn.tensor([3e30, 4e30])
    tiny = tn.tensor([3e-30, 4e-30])
    np.testing.assert_allclose(tn.linalg.vector_norm(big).item(), 5e30, rtol=1e-6)
    np.testing.assert_allclose(tn.linalg.vector_norm(tiny).item(), 5e-30, rtol=1e-6)
    assert tn.linalg.vector_norm(tn.tensor([float("inf"), 1.0])).item() == math.inf
    assert math.isnan(tn.linalg.vector_norm(tn.tensor([float("nan"), 1.0])).item())


def test_norm_of_an_empty_tensor_is_zero_and_integers_are_refused():
    assert tn.linalg.vector_norm(tn.zeros(0)).item() == 0.0
    with pytest.raises(RuntimeError, match="floating point"):
        tn.linalg.vector_norm(tn.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="1-D or 2-D"):
        tn.linalg.norm(tn.ones(2, 2, 2), ord=2)
    with pytest.raises(RuntimeError, match="ord"):
        tn.linalg.matrix_norm(tn.ones(2, 2), ord=3)


def test_singular_matrices_raise_linalg_errors_naming_the_op():
    singular = tn.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(tn.linalg.LinAlgError, match="linalg.inv.*singular"):
        tn.linalg.inv(singular)
    with pytest.raises(tn.linalg.LinAlgError, match="linalg.solve.*singular"):
        tn.linalg.solve(singular, tn.ones(2))
    assert issubclass(tn.linalg.LinAlgError, RuntimeError)  # as PyTorch's
    with pytest.raises(RuntimeError, match=r"square.*\(2, 3\)"):
        tn.linalg.inv(tn.ones(2, 3))
    with pytest.raises(RuntimeError, match="does not fit"):
        tn.linalg.solve(tn.eye(2), tn.ones(3))


def test_eigh_reads_one_triangle_as_uplo_says():
    a = np.array([[2.0, 100.0], [1.0, 3.0]])
    lower = tn.linalg.eigvalsh(tn.tensor(a))
    upper = tn.linalg.eigvalsh(tn.tensor(a), UPLO="U")
    np.testing.assert_allclose(lower.numpy(), np.linalg.eigvalsh(a, UPLO="L"))
    np.testing.assert_allclose(upper.numpy(), np.linalg.eigvalsh(a, UPLO="U"))


def test_solve_left_false_solves_x_a_equals_b():
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x = tn.linalg.solve(tn.tensor(a), tn.tensor(b), left=False)
    np.testing.assert_allclose(x.numpy() @ a, b)
    spec = OpSpec("solve_right", lambda p, q: tn.linalg.solve(p, q, left=False), None,
                  lambda p, q: q @ np.linalg.inv(p))
    check_case(spec, [a, b])


# --------------------------------------------------------------------------- against torch
@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, -1, 0, math.inf, -math.inf])
def test_vector_norm_matches_torch(ord):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((3, 4))
    assert_matches_torch(torch, lambda t: tn.linalg.vector_norm(t, ord, dim=1),
                   lambda t: torch.linalg.vector_norm(t, ord, dim=1), data)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_matches_torch(ord):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(2).standard_normal((2, 3, 4))
    assert_matches_torch(torch, lambda t: tn.linalg.matrix_norm(t, ord),
                   lambda t: torch.linalg.matrix_norm(t, ord), data)
    assert_matches_torch(torch, lambda t: tn.linalg.norm(t, ord, dim=(0, 2), keepdim=True),
                   lambda t: torch.linalg.norm(t, ord, dim=(0, 2), keepdim=True), data)


def test_eigh_solve_inv_svdvals_and_norms_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    symmetric, invertible = a + a.T, a + 4 * np.eye(4)
    assert_matches_torch(torch, tn.linalg.eigvalsh, torch.linalg.eigvalsh, symmetric)
    assert_matches_torch(torch, lambda t: tn.linalg.eigh(t).eigenvectors.abs(),
                   lambda t: torch.linalg.eigh(t).eigenvectors.abs(), symmetric)
    assert_matches_torch(torch, tn.linalg.solve, torch.linalg.solve, invertible, rng.standard_normal((4, 2)))
    assert_matches_torch(torch, tn.linalg.solve, torch.linalg.solve, invertible, rng.standard_normal(4))
    assert_matches_torch(torch, tn.linalg.inv, torch.linalg.inv, invertible)
    assert_matches_torch(torch, tn.linalg.svdvals, torch.linalg.svdvals, rng.standard_normal((3, 5)))
    assert_matches_torch(torch, lambda t: t.norm(), lambda t: t.norm(), a)
    assert_matches_torch(torch, lambda t: tn.norm(t, p="nuc"), lambda t: torch.norm(t, p="nuc"), a)
    assert_matches_torch(torch, lambda t: tn.linalg.norm(t), lambda t: torch.linalg.norm(t), a)


def test_eigh_gradient_is_symmetric_like_torch_for_an_unsymmetric_input():
    """eigh reads only the lower triangle, yet PyTorch (and tinynet) return a symmetric gradient."""
    torch = pytest.importorskip("torch")
    a = np.array([[2.0, 7.0, 0.5], [1.0, 3.0, -1.0], [0.2, 0.4, 5.0]])
    assert_matches_torch(torch, tn.linalg.eigvalsh, torch.linalg.eigvalsh, a)


def test_diagonal_is_a_view_and_diag_of_a_matrix_a_copy_as_in_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        a = lib.zeros(3, 4)
        a.diagonal(1).fill_(1)
        b = lib.zeros(3, 3)
        lib.diag(b).fill_(1)
        c = lib.zeros(2, 3, 3)
        c.diagonal(0, 1, 2).add_(2)
        np.testing.assert_array_equal(a.numpy(), np.eye(3, 4, 1))
        assert b.sum().item() == 0 and c.sum().item() == 12
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for offset, dim1, dim2 in [(0, 0, 1), (1, 1, 2), (-1, 2, 0), (5, 1, 2)]:
        def take(t, arguments=(offset, dim1, dim2)):
            return t.diagonal(*arguments)
        assert_matches_torch(torch, take, take, x)
    assert tn.gradgradcheck(lambda t: t.diagonal(1, 1, 2) ** 2, (tn.tensor(x, requires_grad=True),))
