"""kron, cross, addmm, diff, tensordot, nansum and nanmean through the op factory (float64 finite
differences, first and second order) and against PyTorch."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, broadcast_cases, cases, check_op, op_settings, shapes

import tinynet as tn
from torch_oracle import assert_matches_torch


@st.composite
def cross_cases(draw):
    (a, b), _ = draw(broadcast_cases(2, min_dims=1, max_dims=3))
    a, b = a or (1,), b or (1,)
    ndim = max(len(a), len(b))
    dim = draw(st.integers(-ndim, ndim - 1))
    a, b = [(1,) * (ndim - len(s)) + tuple(s) for s in (a, b)]
    a, b = [tuple(3 if i == dim % ndim else n for i, n in enumerate(s)) for s in (a, b)]
    return (a, b), {"dim": dim}


@st.composite
def addmm_cases(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    bias = draw(st.sampled_from([(n, m), (m,), (1, m), (n, 1), ()]))
    return (bias, (n, k), (k, m)), {"beta": draw(st.sampled_from([1, 0.5])),
                                    "alpha": draw(st.sampled_from([1, -2.0]))}


@st.composite
def diff_cases(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return (shape,), {"n": draw(st.integers(0, 2)), "dim": dim}


@st.composite
def cdist_cases(draw):
    (batch_1, batch_2), _ = draw(broadcast_cases(2, max_dims=2, max_side=3))
    points_1, points_2, coordinates = (draw(st.integers(1, 3)) for _ in range(3))
    return ((*batch_1, points_1, coordinates), (*batch_2, points_2, coordinates)), \
        {"p": draw(st.sampled_from([2.0, 3.0]))}


def np_cdist(x1, x2, p):
    differences = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    return (differences ** p).sum(-1) ** (1 / p)


def apart(arrays):
    """x2's first coordinate moved past x1's: no two points meet, where a norm has its kink."""
    x1, x2 = arrays
    x2 = x2.copy()
    x2[..., 0] += 5.0
    return [x1, x2]


def np_nansum(x, dim, keepdim):
    return np.nansum(x, axis=dim, keepdims=keepdim)


def with_nans(arrays):
    """Every third element NaN: the NaN-skipping reductions have something to skip."""
    out = []
    for a in arrays:
        a = a.copy()
        a.reshape(-1)[::3] = np.nan
        out.append(a)
    return out


@st.composite
def tensordot_cases(draw):
    """Shapes whose last n dims of a match the first n of b, with dims n, or a pair of dim lists."""
    free_a = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    shared = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    free_b = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    a, b = free_a + shared, shared + free_b
    if draw(st.booleans()) or not shared:
        return (a, b), {"dims": len(shared)}
    return (a, b), {"dims": ([len(free_a) + i for i in range(len(shared))],
                             list(range(len(shared))))}


SPECS = [
    OpSpec("kron", tn.kron, cases(shapes(max_dims=3, max_side=3), shapes(max_dims=3, max_side=3)),
           np.kron),
    OpSpec("cross", tn.cross, cross_cases(), lambda a, b, dim: np.cross(a, b, axis=dim)),
    OpSpec("addmm", lambda i, a, b, beta, alpha: tn.addmm(i, a, b, beta=beta, alpha=alpha),
           addmm_cases(), lambda i, a, b, beta, alpha: beta * i + alpha * (a @ b)),
    OpSpec("cdist", tn.cdist, cdist_cases(), np_cdist, values=apart),
    OpSpec("diff", tn.diff, diff_cases(), lambda x, n, dim: np.diff(x, n=n, axis=dim)),
    OpSpec("nansum", lambda x, dim, keepdim: tn.nansum(x, dim, keepdim),
           cases(shapes(min_dims=1), dim=st.sampled_from([None, 0, -1]),
                 keepdim=st.booleans()), np_nansum, values=with_nans),
    OpSpec("tensordot", lambda a, b, dims: tn.tensordot(a, b, dims), tensordot_cases(),
           lambda a, b, dims: np.tensordot(a, b, dims)),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


def test_products_and_nan_reductions_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 3))
    with_nan = a.copy()
    with_nan[0, 1] = with_nan[2, 0] = np.nan
    for tn_fn, torch_fn, arrays in [
            (lambda x, y: tn.kron(x, y), lambda x, y: torch.kron(x, y), (a, b)),
            (lambda x, y: x.cross(y, dim=1), lambda x, y: x.cross(y, dim=1),
             (rng.standard_normal((4, 3)), rng.standard_normal((1, 3)))),
            (lambda i, x, y: i.addmm(x, y, beta=0.5, alpha=2),
             lambda i, x, y: i.addmm(x, y, beta=0.5, alpha=2),
             (rng.standard_normal(5), a, rng.standard_normal((4, 5)))),
            (lambda x, p: x.diff(n=2, dim=1, prepend=p), lambda x, p: x.diff(n=2, dim=1, prepend=p),
             (a, rng.standard_normal((3, 2)))),
            (lambda x: x.nansum(1), lambda x: x.nansum(1), (with_nan,)),
            (lambda x: x.nanmean(0, keepdim=True), lambda x: x.nanmean(0, keepdim=True),
             (with_nan,))]:
        assert_matches_torch(torch, tn_fn, torch_fn, *arrays, rtol=1e-12)


def test_edge_rules_follow_pytorch():
    x = tn.tensor([np.nan, 1.0], requires_grad=True)
    out = tn.addmm(x, tn.ones(3, 2), tn.ones(2, 2), beta=0)  # input not read: no NaN, grad 0
    out.sum().backward()
    assert out.tolist() == [[2.0, 2.0]] * 3 and x.grad.tolist() == [0.0, 0.0]
    assert np.isnan(tn.tensor([[np.nan, np.nan], [1.0, 3.0]]).nanmean(1).numpy()[0])
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        tn.cross(tn.ones(2, 3), tn.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"addmm: mat1 and mat2 shapes cannot be multiplied "
                                           r"\(3x2 and 3x2\)"):
        tn.addmm(tn.zeros(2), tn.zeros(3, 2), tn.zeros(3, 2))
    with pytest.raises(RuntimeError, match="cross: dimension 1 does not have size 3"):
        tn.cross(tn.ones(3, 2), tn.ones(3, 2), dim=1)
    with pytest.raises(RuntimeError, match="nanmean.* floating point"):
        tn.tensor([1, 2]).nanmean()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tn.nansum(tn.tensor([np.nan, np.inf]))  # no NumPy warning


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.5, float("inf")])
def test_cdist_matches_pytorch(p):
    """Values and gradients, batch dims broadcast, one pair of points equal (a distance 0,
    where PyTorch's gradient is 0)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((2, 1, 4, 3)), rng.standard_normal((3, 5, 3))
    x2[1, 2] = x1[0, 0, 3]
    assert_matches_torch(torch, lambda a, b: tn.cdist(a, b, p),
                         lambda a, b: torch.cdist(a, b, p, "donot_use_mm_for_euclid_dist"),
                         x1, x2, rtol=1e-10)


def test_cdist_errors_name_the_argument_and_shapes():
    with pytest.raises(RuntimeError, match=r"cdist: x1 must have at least 2 dims .*\(3,\)"):
        tn.cdist(tn.ones(3), tn.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"same number of columns.*\(2, 3\).*\(2, 4\)"):
        tn.cdist(tn.ones(2, 3), tn.ones(2, 4))
    with pytest.raises(RuntimeError, match="cdist: only floating-point inputs.*x2 is int64"):
        tn.cdist(tn.ones(2, 3), tn.tensor([[1, 2, 3]]))
    with pytest.raises(RuntimeError, match="cdist: p must be a non-negative number, got -1"):
        tn.cdist(tn.ones(2, 3), tn.ones(2, 3), p=-1)
    with pytest.raises(ValueError, match="'fast' is not a valid compute_mode"):
        tn.cdist(tn.ones(2, 3), tn.ones(2, 3), compute_mode="fast")
