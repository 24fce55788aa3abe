"""The scans and searches of tinynet/ops/scans.py (cummax, cummin, logcumsumexp, kthvalue, mode,
msort, searchsorted, bucketize, unique_consecutive, histc): the differentiable ones through the op
factory, everything against torch (values, dtypes, indices, gradients, errors) at ties, NaN, ±inf,
0-d and empty inputs, and the CuPy path (its own scan) on the strict stand-in."""

import numpy as np
import pytest
import strict_cupy
from hypothesis import given
from hypothesis import strategies as st
from test_pytorch_parity import run_both
from tinynet.testing import OpSpec, check_case, check_op, distinct, op_settings, shapes

import tinynet as tn
from torch_oracle import assert_matches_torch

nan, inf = float("nan"), float("inf")


# --------------------------------------------------------------------------- the op factory
@st.composite
def along_a_dim(draw, min_dims=0, k=False, keepdim=False):
    shape = draw(shapes(min_dims=min_dims))
    rank = max(len(shape), 1)
    kwargs = {"dim": draw(st.integers(-rank, rank - 1))}
    if k:
        kwargs["k"] = draw(st.integers(1, shape[kwargs["dim"]] if shape else 1))
    if keepdim:
        kwargs["keepdim"] = draw(st.booleans())
    return (shape,), kwargs


def _reduced(out, a, dim, keepdim):
    return out if keepdim else np.squeeze(out, dim)


def np_kthvalue(a, dim, k, keepdim):
    if a.ndim == 0:
        return a
    return _reduced(np.take(np.sort(a, axis=dim), [k - 1], axis=dim), a, dim, keepdim)


def np_mode_of_distinct(a, dim, keepdim):  # every value occurs once: the smallest wins
    return a if a.ndim == 0 else np.min(a, axis=dim, keepdims=keepdim)


def along(ufunc):
    return lambda a, dim: ufunc.accumulate(a, axis=dim) if a.ndim else a


SPECS = [
    # ties and NaN have no derivative (the picked element jumps): distinct values
    OpSpec("cummax", lambda a, dim: a.cummax(dim).values, along_a_dim(), along(np.maximum),
           values=distinct()),
    OpSpec("cummin", lambda a, dim: tn.cummin(a, dim)[0], along_a_dim(), along(np.minimum),
           values=distinct()),
    OpSpec("logcumsumexp", lambda a, dim: a.logcumsumexp(dim), along_a_dim(), along(np.logaddexp)),
    OpSpec("logcumsumexp_wide", lambda a, dim: tn.logcumsumexp(a, dim), along_a_dim(min_dims=1),
           along(np.logaddexp), low=-60.0, high=60.0),
    OpSpec("kthvalue", lambda a, dim, k, keepdim: a.kthvalue(k, dim, keepdim).values,
           along_a_dim(k=True, keepdim=True), np_kthvalue, values=distinct()),
    OpSpec("mode", lambda a, dim, keepdim: tn.mode(a, dim, keepdim).values,
           along_a_dim(keepdim=True), np_mode_of_distinct, values=distinct()),
    OpSpec("msort", lambda a: a.msort(), st.tuples(st.tuples(shapes()), st.just({})),
           lambda a: np.sort(a, axis=0) if a.ndim else a, values=distinct()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- logcumsumexp's edges
def test_logcumsumexp_is_exact_at_extreme_values_without_warnings():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        out = tn.logcumsumexp(tn.tensor([[-1000.0, 0.0], [1000.0, 1000.0]], dtype=tn.float64), 1)
        np.testing.assert_allclose(out.numpy(), [[-1000.0, 0.0], [1000.0, 1000.0 + np.log(2)]],
                                   rtol=1e-15)
        tiny = tn.logcumsumexp(tn.tensor([-1000.0, -1000.0, -2000.0], dtype=tn.float64), 0)
        np.testing.assert_allclose(tiny.numpy(), [-1000.0, -1000.0 + np.log(2), -1000.0 + np.log(2)],
                                   rtol=1e-15)
    assert tn.logcumsumexp(tn.tensor([-inf, -inf, 0.0]), 0).tolist() == [-inf, -inf, 0.0]


def _grads(values, upstream, weights):
    """First and second derivatives of logcumsumexp, the second also in the upstream gradient."""
    x = tn.tensor(values, dtype=tn.float64, requires_grad=True)
    v = tn.tensor(upstream, dtype=tn.float64, requires_grad=True)
    gx, = tn.grad(tn.logcumsumexp(x, 0), x, v, create_graph=True)
    (gx * tn.tensor(weights, dtype=tn.float64)).sum().backward()
    return gx.detach().numpy(), x.grad.numpy(), v.grad.numpy()


def test_logcumsumexp_gradient_is_zero_not_nan_at_minus_inf_and_at_zero_upstream():
    gx, gxx, gxv = _grads([-inf, -inf, 0.0, 1.0], [1.0, 0.0, 1.0, -0.5], [1.0, 2.0, 3.0, 4.0])
    assert np.isfinite(gx).all() and np.isfinite(gxx).all() and np.isfinite(gxv).all()
    assert gx[:2].tolist() == [0.0, 0.0] and gxx[:2].tolist() == [0.0, 0.0]
    # where the result is -inf the upstream reaches nothing; elsewhere it is linear in it:
    # d gx[j] / d v[i] = exp(x[j] - y[i]) for j <= i, exact at v[i] = 0 too
    y = np.logaddexp.accumulate([-inf, -inf, 0.0, 1.0])
    expected = [0.0, 0.0, 3 * np.exp(0.0 - y[2]),
                3 * np.exp(0.0 - y[3]) + 4 * np.exp(1.0 - y[3])]
    np.testing.assert_allclose(gxv, expected, rtol=1e-14)
    assert _grads([-inf, -inf], [1.0, -1.0], [1.0, 1.0])[0].tolist() == [0.0, 0.0]


def test_logcumsumexp_derivatives_at_zero_upstream_pass_the_factory_checks():
    spec = OpSpec("logcumsumexp", lambda a: tn.logcumsumexp(a, -1), None,
                  lambda a: np.logaddexp.accumulate(a, axis=-1))
    data = np.array([[0.5, -2.0, 3.0, 1.0], [40.0, -30.0, 2.0, 2.0]])
    check_case(spec, [data], upstream=np.array([[1.0, 0.0, -0.5, 0.0], [0.0, 0.0, 0.0, 2.0]]))
    check_case(spec, [data], upstream=np.zeros((2, 4)))


def test_logcumsumexp_gradients_match_torch_where_torch_is_finite():
    torch = pytest.importorskip("torch")
    for values, upstream in [([-1000.0, 0.0], [1.0, 1.0]), ([1000.0, 1000.0], [1.0, -2.0]),
                             ([0.5, -2.0, 3.0], [1.0, -2.0, 0.5]), ([-inf, 0.5, 1.0], [1.0, 0.5, -0.5])]:
        x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
        v = torch.tensor(upstream, dtype=torch.float64, requires_grad=True)
        gx, = torch.autograd.grad(torch.logcumsumexp(x, 0), x, v, create_graph=True)
        (gx * torch.arange(1.0, len(values) + 1, dtype=torch.float64)).sum().backward()
        ours = _grads(values, upstream, np.arange(1.0, len(values) + 1))
        for a, b in zip(ours, (gx.detach().numpy(), x.grad.numpy(), v.grad.numpy())):
            finite = np.isfinite(b)  # torch's NaN at -inf is where ours is 0
            np.testing.assert_allclose(a[finite], b[finite], rtol=1e-12, atol=1e-12)
            assert (a[~finite] == 0).all()
    assert_matches_torch(torch, lambda t: t.logcumsumexp(-1), lambda t: t.logcumsumexp(-1),
                         np.random.default_rng(0).standard_normal((3, 5)) * 30)


# --------------------------------------------------------------------------- against torch
def _cummax_gradient(L):
    x = L.tensor([1.0, 3.0, 3.0, nan, 2.0, nan, 0.5], requires_grad=True)
    values, indices = L.cummax(x, 0)
    (values * L.arange(1.0, 8.0)).sum().backward()
    y = L.tensor([[2.0, -1.0, -1.0], [0.0, 5.0, -3.0]], requires_grad=True)
    low = y.cummin(-1)
    (low.values * L.tensor([[1.0, 10.0, 100.0], [1.0, 10.0, 100.0]])).sum().backward()
    return [values, indices, x.grad, low.values, low.indices, y.grad]


def _kthvalue_gradient(L):
    x = L.tensor([[3.0, 1.0, 2.0, -1.0], [0.5, 4.0, -2.0, 8.0]], requires_grad=True)
    out = x.kthvalue(2, dim=1, keepdim=True)
    (out.values * L.tensor([[1.0], [10.0]])).sum().backward()
    return [out.values, out.indices, x.grad]


def _mode_gradient(L):
    x = L.tensor([[3.0, 1.0, 3.0, 1.0, 2.0], [5.0, 5.0, 4.0, 4.0, 4.0]], requires_grad=True)
    out = L.mode(x, 1)
    (out.values * L.tensor([1.0, 10.0])).sum().backward()
    return [out.values, out.indices, x.grad]


def _msort_gradient(L):
    x = L.tensor([[3.0, 1.0], [1.0, nan], [2.0, 0.0]], requires_grad=True)
    out = L.msort(x)
    (out * L.arange(6.0).reshape(3, 2)).sum().backward()
    return [out, x.grad]


def _logcumsumexp_gradient(L):
    x = L.tensor([[-1000.0, 0.0, 3.0], [1000.0, 1000.0, 999.0]], dtype=L.float64, requires_grad=True)
    out = L.logcumsumexp(x, dim=1)
    (out * L.tensor([1.0, -2.0, 0.5], dtype=L.float64)).sum().backward()
    return [out, x.grad]


def _return_types(L):
    x = L.tensor([[1.0, 2.0], [2.0, 1.0]])
    return [[type(r).__name__, len(r), r.values, r.indices] for r in
            (L.cummax(x, 0), L.cummin(x, 0), L.kthvalue(x, 1), L.mode(x))]


def _node_names(L):
    x = L.tensor([[1.0, 2.0], [2.0, 1.0]], requires_grad=True)
    outputs = [L.cummax(x, 0).values, L.cummin(x, 0).values, L.logcumsumexp(x, 0),
               L.kthvalue(x, 1).values, L.mode(x).values, L.kthvalue(x, 1, 0, True).values,
               L.cummax(x[0, 0], 0).values, L.logcumsumexp(x[0, 0], 0), L.mode(x[0, 0]).values]
    return [type(o.grad_fn).__name__ if L is not tn else o.grad_fn.name() for o in outputs]


def _searchsorted_sorter(L):
    seq = L.tensor([3.0, 1.0, 2.0, 2.0])
    sorter = L.tensor([1, 2, 3, 0])
    rows = L.tensor([[5, 1, 3], [0, 9, 4]])
    return [L.searchsorted(seq, L.tensor([2.0, 0.0, 9.0]), sorter=sorter),
            L.searchsorted(seq, L.tensor([2.0, 0.0, 9.0]), side="right", sorter=sorter),
            L.searchsorted(rows, L.tensor([[3, 6], [4, 0]]), sorter=L.tensor([[1, 2, 0], [0, 2, 1]]))]


def _searchsorted_unsorted_matches_the_binary_search(L):
    data = np.random.default_rng(3).integers(-3, 4, (6, 9)).astype(np.float64)
    data[data == 3] = nan  # duplicates, NaNs and no order at all: what PyTorch's search gives
    seq, values = L.tensor(data), L.tensor(data[::-1].copy())
    flat = L.tensor(data[0])
    return [L.searchsorted(seq, values), L.searchsorted(seq, values, right=True),
            L.searchsorted(flat, values), L.searchsorted(flat, values, side="right"),
            L.searchsorted(L.sort(seq).values, values, right=True)]


SEQ = [1.0, 3.0, 3.0, 5.0]
PROGRAMS = {
    # cummax / cummin
    "cummax: ties take the last index, NaN is largest and each NaN takes over":
        lambda L: L.cummax(L.tensor([1.0, 3.0, 3.0, 2.0, 3.0, nan, 1.0, nan]), 0),
    "cummin: ties take the last index, NaN propagates":
        lambda L: L.cummin(L.tensor([3.0, 1.0, 1.0, 2.0, nan, 1.0, nan, 0.0]), 0),
    "cummax/cummin along a negative dim of a 3-d tensor": lambda L: [
        L.cummax(L.tensor([[[1.0, 0.0], [0.0, 2.0]], [[2.0, 2.0], [-1.0, 3.0]]]), -1),
        L.tensor([[[1.0, 0.0], [0.0, 2.0]], [[2.0, 2.0], [-1.0, 3.0]]]).cummin(-3)],
    "cummax/cummin of int, bool and float16 tensors": lambda L: [
        L.cummax(L.tensor([1, 3, 2, 3], dtype=L.int32), 0), L.cummin(L.tensor([4, 1, 1, 2]), 0),
        L.cummax(L.tensor([True, False, True]), 0), L.cummin(L.tensor([False, True, False]), 0),
        L.cummax(L.tensor([1.0, 2.0, 2.0], dtype=L.float16), 0)],
    "cummax/cummin at ±inf": lambda L: [L.cummax(L.tensor([-inf, -inf, 1.0, inf, inf]), 0),
                                         L.cummin(L.tensor([inf, inf, -inf, -inf]), 0)],
    "cummax/cummin of 0-d and empty tensors": lambda L: [
        L.cummax(L.tensor(2.0), 0), L.tensor(2.0).cummin(-1), L.cummax(L.zeros(2, 0), 1),
        L.zeros(0, 3).cummin(0), L.cummax(L.zeros(0), -1)],
    "cummax refuses a dim out of range": lambda L: L.cummax(L.ones(2, 3), 2),
    "cummin refuses dim 1 of a 0-d tensor": lambda L: L.cummin(L.tensor(1.0), 1),
    "cummax refuses dim=None": lambda L: L.cummax(L.ones(3), None),
    "cummax/cummin send the gradient to the index, ties and NaN included": _cummax_gradient,
    # logcumsumexp
    "logcumsumexp at extreme values, ±inf and NaN": lambda L: [
        L.logcumsumexp(L.tensor([[-1000.0, 0.0], [1000.0, 1000.0]]), 1),
        L.logcumsumexp(L.tensor([-inf, -inf, 0.0, inf, 1.0], dtype=L.float64), 0),
        L.logcumsumexp(L.tensor([1.0, nan, 2.0]), -1)],
    "logcumsumexp of float16, 0-d and empty tensors": lambda L: [
        L.logcumsumexp(L.tensor([1.0, 2.0, -3.0], dtype=L.float16), 0),
        L.tensor(2.0).logcumsumexp(0), L.logcumsumexp(L.zeros(2, 0), 1), L.zeros(0).logcumsumexp(0)],
    "logcumsumexp refuses int tensors": lambda L: L.logcumsumexp(L.tensor([1, 2]), 0),
    "logcumsumexp refuses bool tensors": lambda L: L.logcumsumexp(L.tensor([True]), 0),
    "logcumsumexp refuses a dim out of range": lambda L: L.logcumsumexp(L.zeros(2), 2),
    "logcumsumexp's gradient at extreme values": _logcumsumexp_gradient,
    # kthvalue
    "kthvalue along dims, keepdim, negative dim, ints": lambda L: [
        L.kthvalue(L.tensor([[3, 1, 2], [0, 5, 4]]), 2, 1, True),
        L.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]).kthvalue(1, dim=0),
        L.kthvalue(L.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]), k=3, dim=-1, keepdim=False)],
    "kthvalue counts NaN as the largest value":
        lambda L: [L.kthvalue(L.tensor([3.0, nan, 1.0, 2.0]), 4), L.kthvalue(L.tensor([3.0, nan, 1.0]), 2)],
    "kthvalue of 0-d and of empty non-reduced dims": lambda L: [
        L.kthvalue(L.tensor(5.0), 1), L.kthvalue(L.tensor(5.0), 1, 0, True),
        L.kthvalue(L.zeros(2, 0), 1, 0), L.kthvalue(L.zeros(0, 3), 2, 1, True)],
    "kthvalue refuses k beyond the dim": lambda L: L.kthvalue(L.ones(2, 3), 4),
    "kthvalue refuses k=0": lambda L: L.kthvalue(L.ones(3), 0),
    "kthvalue refuses k=2 of a 0-d tensor": lambda L: L.kthvalue(L.tensor(1.0), 2),
    "kthvalue refuses a reduced dim of size 0": lambda L: L.kthvalue(L.zeros(2, 0), 1, 1),
    "kthvalue refuses a float k": lambda L: L.kthvalue(L.ones(3), 1.5),
    "kthvalue refuses a bool k": lambda L: L.kthvalue(L.ones(3), True),
    "kthvalue refuses a bool tensor": lambda L: L.kthvalue(L.tensor([True, False]), 1),
    "kthvalue refuses dim=None": lambda L: L.kthvalue(L.ones(3), 1, None),
    "kthvalue sends the gradient to the index": _kthvalue_gradient,
    # mode
    "mode: the smallest of the most frequent values, at its last occurrence": lambda L: [
        L.mode(L.tensor([3.0, 1.0, 2.0, 1.0, 3.0, 2.0])), L.mode(L.tensor([5.0, 4.0, 4.0, 5.0, 5.0, 4.0])),
        L.mode(L.tensor([3, 3, 1, 1, 1, 2, 3])), L.mode(L.tensor([1.0, 2.0, 3.0])),
        L.tensor([True, False, True]).mode()],
    "mode along dims with keepdim": lambda L: [
        L.mode(L.tensor([[1.0, 2.0, 2.0], [3.0, 3.0, 1.0]]), 0),
        L.tensor([[1.0, 2.0, 2.0], [3.0, 3.0, 1.0]]).mode(1, True),
        L.mode(L.tensor([[1.0, 2.0, 2.0], [3.0, 3.0, 1.0]]), dim=-2, keepdim=True)],
    "mode: every NaN a value of its own, sorted last": lambda L: [
        L.mode(L.tensor([1.0, nan, nan, 2.0])), L.mode(L.tensor([1.0, nan, nan, 2.0, 2.0])),
        L.mode(L.tensor([nan, nan, nan, 2.0, 2.0])), L.mode(L.tensor([nan, nan]))],
    "mode of -0.0 and 0.0 returns the element at its index": lambda L: [
        L.mode(L.tensor([-0.0, 0.0, 1.0])), L.mode(L.tensor([0.0, -0.0, 1.0]))],
    "mode of 0-d and of empty non-reduced dims": lambda L: [
        L.mode(L.tensor(4.0)), L.mode(L.zeros(2, 0), 0), L.mode(L.zeros(0, 3), 1, True)],
    "mode refuses a reduced dim of size 0": lambda L: L.mode(L.zeros(2, 0), 1),
    "mode refuses a dim out of range": lambda L: L.mode(L.tensor(4.0), 1),
    "mode sends the gradient to the index": _mode_gradient,
    # msort
    "msort sorts dim 0, NaN last, any dtype": lambda L: [
        L.msort(L.tensor([[3.0, 1.0], [1.0, nan], [2.0, 0.0]])), L.msort(L.tensor(3.0)),
        L.tensor([3, 1, 2]).msort(), L.msort(L.tensor([True, False])), L.msort(L.zeros(0, 2))],
    "msort sends the gradient to the element each value came from": _msort_gradient,
    # searchsorted
    "searchsorted left and right, with side, NaN in the sequence and in the values": lambda L: [
        L.searchsorted(L.tensor(SEQ + [nan]), L.tensor([0.0, 1.0, 3.0, 4.0, 5.0, 6.0, nan])),
        L.searchsorted(L.tensor(SEQ + [nan]), L.tensor([0.0, 1.0, 3.0, 4.0, 5.0, 6.0, nan]), right=True),
        L.searchsorted(L.tensor(SEQ), L.tensor([0.0, 1.0, 3.0, 4.0, 5.0, 6.0, nan]), side="right"),
        L.searchsorted(L.tensor(SEQ), L.tensor([[3.0, 4.0], [5.0, 0.0]]), side="right", right=True),
        L.searchsorted(L.tensor(SEQ), L.tensor([[3.0, 4.0], [5.0, 0.0]]), side="left")],
    "searchsorted of Python numbers gives a 0-d tensor": lambda L: [
        L.searchsorted(L.tensor(SEQ), 3.0), L.searchsorted(L.tensor(SEQ), 3, right=True),
        L.searchsorted(L.tensor([1, 3, 5]), 3.5), L.searchsorted(L.tensor([1.0, 2.0, 3.0]), True),
        L.searchsorted(L.tensor(SEQ), L.tensor(3.0)), L.searchsorted(L.tensor(SEQ), 4.0, out_int32=True)],
    "searchsorted compares in the promoted dtype": lambda L: [
        L.searchsorted(L.tensor([1, 3, 5]), L.tensor([3.5])),
        L.searchsorted(L.tensor([1.0, 3.0, 5.0]), L.tensor([3])),
        L.searchsorted(L.tensor([0.1]), L.tensor([0.1], dtype=L.float64), right=True),
        L.searchsorted(L.tensor([0.1]), L.tensor(0.1, dtype=L.float64), right=True),
        L.searchsorted(L.tensor([0.1]), 0.1, right=True),
        L.searchsorted(L.tensor([1, 2, 3], dtype=L.uint8), L.tensor([-1, 300])),
        L.searchsorted(L.tensor([1.0, 2.0]), L.tensor([True]))],
    "searchsorted with one sequence per row, and out_int32": lambda L: [
        L.searchsorted(L.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]), L.tensor([[2.0, 5.0], [2.0, 5.0]])),
        L.searchsorted(L.tensor([[[1, 2], [3, 4]]]), L.tensor([[[2, 0, 5], [3, 4, 4]]]), right=True,
                       out_int32=True)],
    "searchsorted with a sorter": _searchsorted_sorter,
    "searchsorted of unsorted sequences is PyTorch's binary search":
        _searchsorted_unsorted_matches_the_binary_search,
    "searchsorted of empty sequences and empty values": lambda L: [
        L.searchsorted(L.tensor([]), L.tensor([2.0, 0.0])),
        L.searchsorted(L.tensor([1.0, 2.0]), L.tensor([])),
        L.searchsorted(L.zeros(2, 0), L.zeros(2, 3)), L.searchsorted(L.zeros(0, 3), L.zeros(0, 3))],
    "searchsorted refuses an unknown side": lambda L: L.searchsorted(L.tensor(SEQ), 1.0, side="middle"),
    "searchsorted refuses side='left' with right=True":
        lambda L: L.searchsorted(L.tensor(SEQ), 1.0, side="left", right=True),
    "searchsorted refuses rows that do not match":
        lambda L: L.searchsorted(L.ones(2, 3), L.ones(1, 3)),
    "searchsorted refuses 1-d values for 2-d sequences": lambda L: L.searchsorted(L.ones(2, 3), L.ones(2)),
    "searchsorted refuses a number for 2-d sequences": lambda L: L.searchsorted(L.ones(2, 3), 2.0),
    "searchsorted refuses a 0-d sequence": lambda L: L.searchsorted(L.tensor(2.0), L.tensor([2.0])),
    "searchsorted refuses a sorter of another size":
        lambda L: L.searchsorted(L.tensor([3.0, 1.0, 2.0]), L.tensor([2.0]), sorter=L.tensor([1, 2])),
    "searchsorted refuses a sorter out of range":
        lambda L: L.searchsorted(L.tensor([3.0, 1.0, 2.0]), L.tensor([2.0]), sorter=L.tensor([1, 2, 5])),
    "searchsorted refuses an int32 sorter": lambda L: L.searchsorted(
        L.tensor([3.0, 1.0, 2.0]), L.tensor([2.0]), sorter=L.tensor([1, 2, 0], dtype=L.int32)),
    "searchsorted refuses bool tensors": lambda L: L.searchsorted(L.tensor([False, True]), L.tensor([True])),
    "searchsorted refuses a list": lambda L: L.searchsorted(L.tensor(SEQ), [2.0]),
    "searchsorted and bucketize are no Tensor methods":
        lambda L: [hasattr(L.Tensor, "searchsorted"), hasattr(L.Tensor, "bucketize")],
    # bucketize
    "bucketize's right is searchsorted's right": lambda L: [
        L.bucketize(L.tensor([0.0, 1.0, 2.0, 3.0, 5.0, 6.0, nan]), L.tensor([1.0, 3.0, 5.0])),
        L.bucketize(L.tensor([0.0, 1.0, 2.0, 3.0, 5.0, 6.0]), L.tensor([1.0, 3.0, 5.0]), right=True),
        L.searchsorted(L.tensor([1.0, 3.0, 5.0]), L.tensor([0.0, 1.0, 2.0, 3.0, 5.0, 6.0]), right=True)],
    "bucketize of numbers, 0-d, 2-d, int and bool input, out_int32": lambda L: [
        L.bucketize(3.0, L.tensor([1.0, 3.0, 5.0])),
        L.bucketize(3, L.tensor([1.0, 3.0, 5.0]), out_int32=True),
        L.bucketize(L.tensor(3.0), L.tensor([1.0, 3.0, 5.0]), right=True),
        L.bucketize(L.tensor([[3.0, 0.0], [6.0, 1.0]]), L.tensor([1.0, 3.0, 5.0])),
        L.bucketize(L.tensor([1, 4]), L.tensor([1.0, 3.0, 5.0])),
        L.bucketize(L.tensor([True]), L.tensor([1.0, 3.0])), L.bucketize(L.tensor([1.0]), L.tensor([]))],
    "bucketize refuses 2-d boundaries": lambda L: L.bucketize(L.ones(3), L.tensor([[1.0, 2.0]])),
    "bucketize refuses 0-d boundaries": lambda L: L.bucketize(L.ones(3), L.tensor(1.0)),
    "bucketize takes no side": lambda L: L.bucketize(L.ones(3), L.tensor([1.0]), side="left"),
    # unique_consecutive
    "unique_consecutive with inverse and counts": lambda L: [
        L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2])),
        L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True),
        L.unique_consecutive(L.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_counts=True),
        L.tensor([[1, 1], [2, 3]]).unique_consecutive(return_inverse=True)],
    "unique_consecutive along a dim": lambda L: [
        L.unique_consecutive(L.tensor([[1, 1], [1, 1], [2, 3], [1, 1]]), True, True, 0),
        L.unique_consecutive(L.tensor([[1, 1], [1, 1], [2, 3], [1, 1]]), return_inverse=True,
                             return_counts=True, dim=1),
        L.tensor([[1.0, 1.0], [2.0, 2.0]]).unique_consecutive(dim=-1, return_counts=True)],
    "unique_consecutive: NaNs never merge, -0.0 and 0.0 do": lambda L: [
        L.unique_consecutive(L.tensor([nan, nan, 1.0, 1.0])),
        L.unique_consecutive(L.tensor([[nan], [nan]]), dim=0), L.unique_consecutive(L.tensor([-0.0, 0.0])),
        L.unique_consecutive(L.tensor([True, True, False]))],
    "unique_consecutive of 0-d and empty tensors": lambda L: [
        L.unique_consecutive(L.tensor(3.0), return_inverse=True, return_counts=True),
        L.unique_consecutive(L.tensor([]), return_inverse=True, return_counts=True),
        L.unique_consecutive(L.zeros(0, 2), return_inverse=True, return_counts=True, dim=0),
        L.unique_consecutive(L.zeros(2, 0), return_inverse=True, return_counts=True, dim=1)],
    "unique_consecutive refuses a dim of a 0-d tensor": lambda L: L.unique_consecutive(L.tensor(3.0), dim=0),
    "unique_consecutive refuses unselected empty dims":
        lambda L: L.unique_consecutive(L.zeros(2, 0), dim=0),
    "unique_consecutive refuses a dim out of range": lambda L: L.unique_consecutive(L.zeros(2, 3), dim=2),
    "unique_consecutive has no derivative": lambda L: L.unique_consecutive(
        L.tensor([1.0, 1.0, 2.0], requires_grad=True)).sum().backward(),
    # histc
    "histc over the data's range and over a given one": lambda L: [
        L.histc(L.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 1.0])),
        L.histc(L.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 1.0]), bins=4),
        L.histc(L.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 1.0]), bins=4, min=1, max=3),
        L.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 1.0]).histc(3, 0, 3),
        L.histc(L.tensor([0.0, 1.0, 2.0]), bins=2, max=1), L.histc(L.tensor([0.0, 1.0, 2.0]), bins=2, max=0)],
    "histc widens an empty range by one either side": lambda L: [
        L.histc(L.tensor([1.0, 1.0]), bins=4), L.histc(L.tensor([]), bins=4),
        L.histc(L.tensor([2.0]), bins=4, min=2, max=2),
        L.histc(L.tensor([0.0, 1.0, 2.0]), bins=2, min=1, max=1),
        L.histc(L.tensor([0.0, 5.0, 9.0]), bins=3, min=5, max=5), L.histc(L.tensor(2.5), bins=2)],
    "histc skips NaN and elements out of range; the last bin holds its right edge": lambda L: [
        L.histc(L.tensor([1.0, nan, 2.0]), bins=3, min=0, max=3),
        L.histc(L.tensor([1.0, inf, -inf, 2.0]), bins=3, min=0, max=3),
        L.histc(L.tensor([0.1, 0.2, 0.3, 0.7, 1.0, 0.9999999, 1.0000001]), bins=10, min=0, max=1)],
    "histc of float64, float16 and 2-d input": lambda L: [
        L.histc(L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float64), bins=3),
        L.histc(L.tensor([1.0, 2.0], dtype=L.float16), bins=2),
        L.histc(L.tensor([1.0, 2.0], requires_grad=True), bins=2)],
    "histc refuses int tensors": lambda L: L.histc(L.tensor([1, 2, 3]), bins=3),
    "histc refuses bool tensors": lambda L: L.histc(L.tensor([True]), bins=3),
    "histc refuses a NaN range": lambda L: L.histc(L.tensor([1.0, nan, 2.0]), bins=3),
    "histc refuses an infinite range": lambda L: L.histc(L.tensor([1.0, inf]), bins=3),
    "histc refuses an infinite max": lambda L: L.histc(L.tensor([1.0, 2.0]), bins=3, min=0, max=inf),
    "histc refuses max below min": lambda L: L.histc(L.tensor([0.0, 1.0]), bins=4, min=3, max=1),
    "histc refuses min=1 with the default max": lambda L: L.histc(L.tensor([0.0, 1.0]), bins=2, min=1),
    "histc refuses 0 bins": lambda L: L.histc(L.tensor([0.0, 1.0]), bins=0),
    "histc refuses a float bins": lambda L: L.histc(L.tensor([0.0, 1.0]), bins=2.5),
    "histc has no gradient":
        lambda L: L.histc(L.tensor([1.0, 2.0], requires_grad=True), bins=2).sum().backward(),
    # the API
    "the result types are PyTorch's named tuples": _return_types,
    "the gradient nodes carry PyTorch's names": _node_names,
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_agrees_with_pytorch(name):
    run_both(PROGRAMS[name])


def test_mode_matches_torch_on_random_ties_of_dims_up_to_16():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for shape, dim in [((40, 16), 1), ((16, 30), 0), ((50, 7), -1), ((3, 5, 9), 1)]:
        data = rng.integers(0, 4, shape)
        for array in (data, data.astype(np.float32)):
            ours, theirs = tn.mode(tn.tensor(array), dim), torch.mode(torch.tensor(array), dim)
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_mode_and_kthvalue_values_match_torch_where_its_index_among_ties_is_unspecified():
    """Past 16 elements PyTorch's mode sorts unstably, and kthvalue is a quickselect: the values
    agree, and tinynet's index (the last occurrence; the k-th in a stable sort) holds the value."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    data = rng.integers(0, 5, (20, 40)).astype(np.float64)  # (NaN there: PyTorch's sort is UB)
    for dim in (0, 1):
        ours, theirs = tn.mode(tn.tensor(data), dim), torch.mode(torch.tensor(data), dim)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        picked = np.take_along_axis(data, np.expand_dims(ours.indices.numpy(), dim), dim)
        np.testing.assert_array_equal(np.squeeze(picked, dim), ours.values.numpy())
        for k in (1, 7, 20):
            ours, theirs = tn.kthvalue(tn.tensor(data), k, dim), torch.kthvalue(torch.tensor(data), k, dim)
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            picked = np.take_along_axis(data, np.expand_dims(ours.indices.numpy(), dim), dim)
            np.testing.assert_array_equal(np.squeeze(picked, dim), ours.values.numpy())
    row = data[0]
    value, index = tn.mode(tn.tensor(row))
    assert index.item() == np.flatnonzero(row == value.item())[-1]


def test_kthvalue_takes_the_kth_of_a_stable_sort_among_ties():
    x = tn.tensor([1.0, 2.0, 2.0, 2.0, 0.0])
    picks = [(v.item(), i.item()) for v, i in (x.kthvalue(k) for k in (1, 2, 3, 4))]
    assert picks == [(0.0, 4), (1.0, 0), (2.0, 1), (2.0, 2)]


def test_searchsorted_and_histc_match_torch_on_random_data():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64):
        seq = np.sort(rng.standard_normal(50)).astype(dtype)
        values = np.concatenate([rng.standard_normal(200), seq[::3]]).astype(dtype)
        for right in (False, True):
            np.testing.assert_array_equal(
                tn.searchsorted(tn.tensor(seq), tn.tensor(values), right=right).numpy(),
                torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right).numpy())
            np.testing.assert_array_equal(
                tn.bucketize(tn.tensor(values), tn.tensor(seq), right=right).numpy(),
                torch.bucketize(torch.tensor(values), torch.tensor(seq), right=right).numpy())
        grid = np.arange(0, 1.0001, 0.05).astype(dtype)  # elements on the bin edges
        normal = rng.standard_normal(1000).astype(dtype)
        for data, bins, low, high in [(grid, 20, 0, 1), (grid, 7, 0, 0), (values, 13, -1, 1.5),
                                      (values, 100, 0, 0), (normal, 3, 0, 0)]:
            np.testing.assert_array_equal(tn.histc(tn.tensor(data), bins, low, high).numpy(),
                                          torch.histc(torch.tensor(data), bins, low, high).numpy())


def test_the_functions_and_methods_are_exported():
    names = ["cummax", "cummin", "logcumsumexp", "kthvalue", "mode", "msort", "searchsorted",
             "bucketize", "unique_consecutive", "histc"]
    for name in names:
        assert name in tn.__all__ and name in tn.ops.__all__ and getattr(tn, name).__doc__
        assert hasattr(tn.Tensor, name) == (name not in ("searchsorted", "bucketize"))  # as torch
    assert tn.Tensor.kthvalue.__doc__ == tn.kthvalue.__doc__


# --------------------------------------------------------------------------- CuPy's path
def test_the_scans_run_on_the_strict_cupy_stand_in_as_on_the_cpu(monkeypatch):
    """CuPy accumulates only sums and products: on the device the running max/min/logaddexp is
    the log-step scan, which must agree with NumPy's accumulate; nothing may mix host arrays in."""
    rng = np.random.default_rng(5)
    data = rng.integers(0, 6, (3, 37)).astype(np.float64)
    data[0, 5], data[1, 20] = nan, -inf
    smooth = rng.standard_normal((3, 37)) * 50
    smooth[2, :4] = -inf
    upstream = rng.standard_normal((3, 37))
    upstream[:, ::3] = 0.0

    def run():
        x = tn.tensor(data)
        s = tn.tensor(smooth, requires_grad=True)
        out = tn.logcumsumexp(s, 1)
        g, = tn.grad(out, s, tn.tensor(upstream), create_graph=True)
        (g * g).sum().backward()
        results = [out, g, s.grad, *tn.cummax(x, 1), *tn.cummin(x, 0), *tn.mode(x, 1),
                   *tn.kthvalue(x, 5, 1), tn.msort(x),
                   tn.searchsorted(tn.sort(x).values, tn.flip(x, [0]), right=True),
                   tn.bucketize(2.5, tn.tensor([1.0, 2.0, 3.0])),
                   *tn.unique_consecutive(x.reshape(-1), return_inverse=True, return_counts=True),
                   tn.unique_consecutive(x, dim=1), tn.histc(x, 4, 0, 5)]
        return [backend_numpy(r) for r in results]

    on_cpu = run()
    strict_cupy.install(monkeypatch)
    monkeypatch.setattr(tn.backend, "default_device", "cuda")
    on_device = run()
    for a, b in zip(on_cpu, on_device):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def backend_numpy(t):
    return tn.backend.to_numpy(t.detach().array)


def _logcumsumexp_past_plus_inf(L, values, dim):
    x = L.tensor(values, dtype=L.float64, requires_grad=True)
    y = L.logcumsumexp(x, dim)
    (y * L.arange(1.0, y.numel() + 1, dtype=L.float64).reshape(y.shape)).sum().backward()
    return [y, x.grad]


@pytest.mark.parametrize("values, dim", [
    ([[1.0, inf, -inf, 2.0], [0.5, 0.0, inf, inf]], 1),
    ([[1.0, inf, 3.0], [inf, -inf, 2.0]], 0),
    ([0.5, 1.0, inf, 2.0], 0),
])
def test_logcumsumexp_gradient_before_and_after_a_plus_inf_is_torchs_zero(values, dim):
    """Where the result is +inf its terms weigh 0 (the gradient of a finite input there is 0),
    not NaN from inf - inf spreading back along the scan; at a +inf input it is NaN, as
    PyTorch's."""
    run_both(lambda L: _logcumsumexp_past_plus_inf(L, values, dim))
