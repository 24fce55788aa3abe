"""take, masked_scatter, index_put, scatter_reduce (and their in-place forms) and linalg.cross:
through the op factory (first and second order in float64, against NumPy references), and
against torch: values, dtypes, gradients, in-place identity and version, and error types."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tinynet.testing import (InplaceSpec, OpSpec, away_from_zero, check_inplace, check_op,
                             distinct, op_settings, shapes, unchanged)

import tinynet as tn
from test_pytorch_parity import run_both
from torch_oracle import assert_matches_torch

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


# --------------------------------------------------------------------------- strategies
@st.composite
def take_cases(draw):
    shape = draw(shapes())
    n = int(np.prod(shape))
    index = draw(hnp.arrays(np.int64, draw(shapes(max_dims=2, min_side=0, max_side=3)),
                            elements=st.integers(-n, n - 1)))
    return (shape,), {"index": index}


def np_take(a, index):
    return np.take(a.ravel(), index)


@st.composite
def masked_scatter_cases(draw):
    """An input and a mask that broadcast together (either may be the larger), and a source
    with at least as many elements as the mask selects (flat, or 2-D)."""
    input_shape, mask_shape = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                                     max_side=3)).input_shapes
    mask = draw(hnp.arrays(np.bool_, mask_shape))
    count = int(np.broadcast_to(mask, np.broadcast_shapes(input_shape, mask_shape)).sum())
    size = count + draw(st.integers(0, 2))
    source_shape = draw(st.sampled_from([(size,), (2, -(-size // 2))]))
    return (input_shape, source_shape), {"mask": mask}


def np_masked_scatter(a, source, mask):
    shape = np.broadcast_shapes(a.shape, mask.shape)
    out, selected = np.broadcast_to(a, shape).copy(), np.broadcast_to(mask, shape)
    out[selected] = source.ravel()[:selected.sum()]
    return out


def _suffix_of(draw, shape):
    """A shape that expands to ``shape``: a suffix of it with some sides set to 1."""
    start = draw(st.integers(0, len(shape)))
    return tuple(draw(st.sampled_from([n, 1])) for n in shape[start:])


@st.composite
def index_put_cases(draw, accumulate):
    """Leading dims indexed by int positions (distinct places unless ``accumulate``, some
    negative; broadcast together when accumulating) or by one bool mask; values that expand to
    the indexed shape."""
    shape = draw(shapes(min_dims=1))
    k = draw(st.integers(1, len(shape)))
    if draw(st.booleans()):
        indices = (draw(hnp.arrays(np.bool_, shape[:k])),)
    elif accumulate:
        common = draw(shapes(max_dims=2, max_side=3))
        indices = tuple(draw(hnp.arrays(np.int64, _suffix_of(draw, common),
                                        elements=st.integers(-n, n - 1))) for n in shape[:k])
    else:
        places = int(np.prod(shape[:k]))
        flat = draw(st.permutations(range(places)))[:draw(st.integers(0, min(places, 4)))]
        indices = tuple(i - draw(st.sampled_from([0, n])) for i, n in
                        zip(np.unravel_index(np.array(flat, dtype=np.int64), shape[:k]), shape[:k]))
    result_shape = np.zeros(shape)[indices].shape
    values_shape = _suffix_of(draw, result_shape)
    return (shape, values_shape), {"indices": indices, "accumulate": accumulate}


def np_index_put(a, values, indices, accumulate):
    out = a.copy()
    if accumulate:
        np.add.at(out, indices, np.broadcast_to(values, out[indices].shape))
    else:
        out[indices] = values
    return out


@st.composite
def scatter_reduce_cases(draw, reduce, unique=False):
    """self, src and index of PyTorch's rules (0-d self too), repeated targets allowed."""
    shape = draw(shapes())
    if not shape:
        size = draw(st.integers(1, 3))
        index = np.zeros(size if size > 1 or draw(st.booleans()) else (), dtype=np.int64)
        src_shape = index.shape if draw(st.booleans()) else (size + 1,)
        return ((), src_shape), {"dim": draw(st.sampled_from([0, -1])), "index": index,
                                 "reduce": reduce, "include_self": draw(st.booleans())}
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if d == dim % len(shape)
                        else draw(st.integers(1, n)) for d, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    src_shape = tuple(n + draw(st.integers(0, 1)) for n in index_shape)
    return (shape, src_shape), {"dim": dim, "index": index, "reduce": reduce,
                                "include_self": draw(st.booleans())}


def np_scatter_reduce(a, src, dim, index, reduce, include_self):
    scalar = a.ndim == 0
    a, src, index = (x.reshape(1) if x.ndim == 0 else x for x in (a, src, index))
    src = src[tuple(slice(0, n) for n in index.shape)]
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    grid = tuple(grid)
    out = a.copy()
    if not include_self:
        out[grid] = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
    ufunc = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
             "amin": np.minimum}[reduce]
    ufunc.at(out, grid, src)
    if reduce == "mean":
        count = np.full(a.shape, int(include_self))
        np.add.at(count, grid, 1)
        out = out / np.maximum(count, 1)
    return out.reshape(()) if scalar else out


def tn_scatter_reduce(a, src, dim, index, reduce, include_self):
    return a.scatter_reduce(dim, tn.tensor(index), src, reduce, include_self=include_self)


@st.composite
def cross_cases(draw):
    """Same-ndim inputs with size 3 at ``dim`` that broadcast over the other dims."""
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    ndim = max(len(s) for s in batch.input_shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in batch.input_shapes]
    position = draw(st.integers(0, ndim))
    shapes_ = tuple(s[:position] + (3,) + s[position:] for s in padded)
    dim = draw(st.sampled_from([position, position - ndim - 1] + [None] * (position == ndim)))
    return shapes_, {"dim": dim}


def tn_linalg_cross(a, b, dim):
    return tn.linalg.cross(a, b) if dim is None else tn.linalg.cross(a, b, dim=dim)


def np_cross(a, b, dim):
    return np.cross(a, b, axis=-1 if dim is None else dim)


SPECS = [
    OpSpec("take", lambda a, index: tn.take(a, tn.tensor(index)), take_cases(), np_take),
    OpSpec("take_method", lambda a, index: a.take(tn.tensor(index)), take_cases(), np_take),
    OpSpec("masked_scatter", lambda a, s, mask: a.masked_scatter(tn.tensor(mask), s),
           masked_scatter_cases(), np_masked_scatter),
    OpSpec("index_put", lambda a, v, indices, accumulate: tn.index_put(
        a, tuple(tn.tensor(i) for i in indices), v, accumulate), index_put_cases(False),
        np_index_put),
    OpSpec("index_put_accumulate", lambda a, v, indices, accumulate: a.index_put(
        [tn.tensor(i) for i in indices], v, accumulate=accumulate), index_put_cases(True),
        np_index_put),
    *[OpSpec(f"scatter_reduce_{reduce}", tn_scatter_reduce, scatter_reduce_cases(reduce),
             np_scatter_reduce,
             values=distinct() if reduce in ("amax", "amin") else
             away_from_zero(0.5) if reduce == "prod" else unchanged)
      for reduce in REDUCTIONS],
    OpSpec("linalg_cross", tn_linalg_cross, cross_cases(), np_cross),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


def _mask(shape):
    return (np.arange(int(np.prod(shape))).reshape(shape) % 3) == 1


@st.composite
def index_put_inplace_cases(draw):
    (shape, values_shape), kwargs = draw(index_put_cases(draw(st.booleans())))
    return (shape, values_shape), kwargs


INPLACE_SPECS = [
    InplaceSpec("masked_scatter_", lambda t, s: t.masked_scatter_(tn.tensor(_mask(t.shape)), s),
                shapes().map(lambda s: ((s, (int(np.prod(s)) + 1,)), {})),
                lambda a, s: np_masked_scatter(a, s, _mask(a.shape))),
    InplaceSpec("index_put_", lambda t, v, indices, accumulate: t.index_put_(
        tuple(tn.tensor(i) for i in indices), v, accumulate), index_put_inplace_cases(),
        np_index_put),
    *[InplaceSpec(f"scatter_reduce_{reduce}_",
                  lambda t, s, dim, index, reduce, include_self: t.scatter_reduce_(
                      dim, tn.tensor(index), s, reduce, include_self=include_self),
                  scatter_reduce_cases(reduce), np_scatter_reduce,
                  values=distinct() if reduce in ("amax", "amin") else
                  away_from_zero(0.5) if reduce == "prod" else unchanged)
      for reduce in REDUCTIONS],
]


@pytest.mark.parametrize("spec", INPLACE_SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_inplace_op(spec, data):
    check_inplace(spec, data)


# --------------------------------------------------------------------------- against torch
def test_values_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    src = rng.standard_normal((3, 4))
    mask = rng.standard_normal(4) > 0
    rows, dup = np.array([[0, 2, 1, 0], [2, 2, 0, 1]]), np.array([2, 0, 2, -1])
    cases_ = [
        (lambda L, t: L.take(t, L.tensor([[0, 11, -1], [5, 5, -12]]))),
        (lambda L, t: t.take(L.tensor(7))),
        (lambda L, t: t.masked_scatter(L.tensor(mask), t[1:] * 2)),
        (lambda L, t: t[0].masked_scatter(L.tensor(a > 0), t * 3)),  # mask broadcasts t[0]
        (lambda L, t: t.index_put((L.tensor(dup),), t[0] * 2, accumulate=True)),
        (lambda L, t: t.index_put((L.tensor([2, 0]), L.tensor([[1], [-1]])), t[0, :2] * 5)),
        (lambda L, t: t.index_put((L.tensor(a > 0),), t[a > 0] ** 2)),
        (lambda L, t: t.index_put((L.tensor([[1], [1], [2]]), L.tensor(mask)), t[0, 0] * 4,
                                  accumulate=True)),
        (lambda L, t: L.linalg.cross(t[:, :3], t[:, 1:])),
        (lambda L, t: L.linalg.cross(t[:, :1], t[:, 1:2].expand(3, 2), dim=0)),
    ]
    for reduce in REDUCTIONS:
        for include_self in (True, False):
            for dim, index in ((0, rows), (1, rows[:, :3])):
                cases_.append(lambda L, t, r=reduce, i=include_self, d=dim, x=index:
                              t.scatter_reduce(d, L.tensor(x), t.flip(0)[:2, :x.shape[1]] * 1.5,
                                               r, include_self=i))
    for case in cases_:
        assert_matches_torch(torch, lambda t, c=case: c(tn, t), lambda t, c=case: c(torch, t), a)
    for case in [lambda L, t, s: t.masked_scatter(L.tensor(mask), s),
                 lambda L, t, s: t.index_put((L.tensor([1, 0]),), s[:2], accumulate=True)]:
        assert_matches_torch(torch, lambda t, s, c=case: c(tn, t, s),
                             lambda t, s, c=case: c(torch, t, s), a, src)


def _reduce_with_ties(reduce, include_self):
    """A program sending the gradient through amax/amin ties (self with src, src with src)."""
    def program(L):
        x = L.tensor([5.0, 1.0, 2.0, -3.0], requires_grad=True)
        s = L.tensor([5.0, 5.0, 1.0, 2.0, -3.0, -3.0], requires_grad=True)
        y = x.scatter_reduce(0, L.tensor([0, 0, 1, 1, 3, 3]), s, reduce, include_self=include_self)
        (y * L.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return [y, x.grad, s.grad]
    return program


def _prod_with_zeros(include_self):
    def program(L):
        x = L.tensor([0.0, 2.0, 3.0, 0.0, 1.5], requires_grad=True)
        s = L.tensor([0.0, 5.0, 0.0, 0.0, 4.0, 2.0, 0.5], requires_grad=True)
        y = x.scatter_reduce(0, L.tensor([0, 1, 2, 2, 3, 1, 4]), s, "prod",
                             include_self=include_self)
        (y * L.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
        return [y, x.grad, s.grad]
    return program


def _prod_double_backward(zeros):
    def program(L):
        x = L.tensor([2.0, 3.0], requires_grad=True)
        s = L.tensor([zeros[0], 4.0, zeros[1]], requires_grad=True)
        y = x.scatter_reduce(0, L.tensor([0, 1, 0]), s, "prod")
        gx, gs = L.autograd.grad((y * L.tensor([1.0, 2.0])).sum(), [x, s], create_graph=True)
        return list(L.autograd.grad((gx * gx).sum() + (gs * gs).sum(), [x, s]))
    return program


def _inplace(method, *args, **kwargs):
    """The method on a fresh tensor: the same object back, its version one up, its values."""
    def program(L):
        t = L.arange(6.0).reshape(2, 3).clone()
        view, before = t[0], t._version
        out = getattr(t, method)(*[a(L) if callable(a) else a for a in args], **kwargs)
        return [out is t, t._version - before, t, view]
    return program


def _inplace_recorded(method, *args, **kwargs):
    """The method on a non-leaf under grad mode: the gradient reaches the input and the args."""
    def program(L):
        x = L.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        others = [a(L) if callable(a) else a for a in args]
        t = x * 1.0
        getattr(t, method)(*others, **kwargs)
        (t * L.arange(6.0).reshape(2, 3)).sum().backward()
        return [t, x.grad] + [o.grad for o in others if isinstance(o, L.Tensor) and o.requires_grad]
    return program


def _float_src(L, n=3, requires_grad=False):
    return L.arange(10.0, 10.0 + n).requires_grad_(requires_grad)


PROGRAMS = {
    # take
    "take_0d": lambda L: [L.tensor(5.0).take(L.tensor([0, 0, -1])), L.tensor(5.0).take(L.tensor(0))],
    "take_int_and_empty": lambda L: [L.tensor([[1, 2], [3, 4]]).take(L.tensor([[3, -4]])),
                                     L.ones(2, 3).take(L.tensor([], dtype=L.long)),
                                     L.zeros(0).take(L.zeros(0, 2, dtype=L.long))],
    "take_repeats_add_up": lambda L: (lambda x: [x.take(L.tensor([[0, 0], [5, -1]])).sum()
                                                 .backward(), x.grad][1])(
        L.ones(2, 3, requires_grad=True)),
    "take_out_of_range": lambda L: L.ones(2, 3).take(L.tensor([6])),
    "take_negative_out_of_range": lambda L: L.ones(2, 3).take(L.tensor([-7])),
    "take_float_index": lambda L: L.ones(3).take(L.tensor([1.0])),
    "take_int32_index": lambda L: L.ones(3).take(L.tensor([1], dtype=L.int32)),
    "take_list_index": lambda L: L.ones(3).take([1]),
    "take_from_empty": lambda L: L.zeros(0).take(L.tensor([0])),
    # masked_scatter
    "masked_scatter_broadcasts_input": lambda L: L.tensor([1.0, 2.0, 3.0]).masked_scatter(
        L.tensor([[True, False, True], [False, True, False]]), L.arange(10.0, 16.0)),
    "masked_scatter_0d": lambda L: [L.tensor(1.0).masked_scatter(L.tensor(True), L.tensor([5.0, 6.0])),
                                    L.tensor(1.0).masked_scatter(L.tensor(False), L.zeros(0)),
                                    L.tensor(1.0).masked_scatter(L.tensor(True), L.tensor(7.0))],
    "masked_scatter_int_and_bool": lambda L: [
        L.zeros(2, 3, dtype=L.long).masked_scatter(L.tensor([False, True, True]), L.arange(1, 9)),
        L.zeros(3, dtype=L.bool).masked_scatter(L.tensor([True, False, True]),
                                                L.tensor([True, True]))],
    "masked_scatter_grads": lambda L: (lambda x, s: [
        (x.masked_scatter(L.tensor([True, False, True]), s) * L.arange(6.0).reshape(2, 3)).sum()
        .backward(), x.grad, s.grad][1:])(L.ones(2, 3, requires_grad=True),
                                          L.ones(2, 4, requires_grad=True)),
    "masked_scatter_broadcast_grads": lambda L: (lambda x, s: [
        (x.masked_scatter(L.tensor([[True], [False]]), s) * L.arange(6.0).reshape(2, 3)).sum()
        .backward(), x.grad, s.grad][1:])(L.ones(3, requires_grad=True),
                                          L.ones(4, requires_grad=True)),
    "masked_scatter_source_too_small": lambda L: L.zeros(2, 3).masked_scatter(
        L.tensor([True, False, True]), L.arange(3.0)),
    "masked_scatter_long_mask": lambda L: L.zeros(3).masked_scatter(L.tensor([1, 0, 1]),
                                                                    L.arange(3.0)),
    "masked_scatter_dtype": lambda L: L.zeros(3).masked_scatter(L.tensor([True, False, True]),
                                                                L.arange(3.0).double()),
    "masked_scatter_number_source": lambda L: L.zeros(3).masked_scatter(
        L.tensor([True, False, True]), 1.0),
    "masked_scatter_bool_mask_arg": lambda L: L.zeros(3).masked_scatter(True, L.arange(3.0)),
    "masked_scatter_mask_shape": lambda L: L.zeros(2, 3).masked_scatter(
        L.ones(4, dtype=L.bool), L.arange(12.0)),
    "masked_scatter_": _inplace("masked_scatter_", lambda L: L.tensor([True, False, True]),
                                lambda L: L.arange(10.0, 16.0)),
    "masked_scatter_recorded": _inplace_recorded(
        "masked_scatter_", lambda L: L.tensor([[True, False, True], [False, False, True]]),
        lambda L: _float_src(L, 4, True)),
    "masked_scatter_mask_larger": lambda L: L.zeros(3).masked_scatter_(
        L.ones(2, 3, dtype=L.bool), L.arange(6.0)),
    "masked_scatter_leaf": lambda L: L.zeros(3, requires_grad=True).masked_scatter_(
        L.tensor([True, False, True]), L.arange(3.0)),
    # index_put
    "index_put_forms": lambda L: [
        L.index_put(L.zeros(3, 4), (L.tensor([0, 2]),), L.tensor(1.0)),
        L.zeros(3, 4).index_put([L.tensor([0, 2]), L.tensor([1, -1])], L.tensor([1.0, 2.0])),
        L.zeros(3, 4).index_put((L.tensor([[0], [2]]), L.tensor([1, 3])), L.tensor([[1.0, 2.0]])),
        L.zeros(3, 4).index_put((L.tensor(1), L.tensor(2)), L.tensor(9.0)),
        L.zeros(3, 4).index_put((L.tensor(1),), L.arange(4.0)),
        L.zeros(3, 4).index_put((L.tensor([0, 2], dtype=L.int32),), L.tensor(1.0)),
        L.zeros(3, 4).index_put((L.tensor([], dtype=L.long),), L.tensor(1.0)),
        L.zeros(3, 4).index_put((L.tensor([True, False, True]),), L.arange(4.0)),
        L.zeros(3, 4).index_put((L.arange(12).reshape(3, 4) % 3 == 0,), L.arange(4.0)),
        L.zeros(3, 4).index_put((L.tensor([1, 2]), L.tensor([True, False, True, False])),
                                L.tensor([5.0, 6.0]))],
    "index_put_accumulate": lambda L: [
        L.zeros(3, 4).index_put((L.tensor([0, 0]), L.tensor([1, 1])), L.tensor([1.0, 2.0]),
                                accumulate=True),
        L.zeros(3, 4).index_put((L.tensor([0, 0, -3]),), L.arange(4.0), accumulate=True),
        L.zeros(3, 4).index_put((L.tensor([[0, 1], [2, 0]]),), L.tensor(1.0), accumulate=True),
        L.zeros(3, 4).index_put((L.tensor([True, False, True]),), L.arange(4.0), accumulate=True),
        L.tensor([1, 2, 3]).index_put((L.tensor([0, 0]),), L.tensor([5, 7]), accumulate=True),
        L.tensor([1, 2, 3], dtype=L.uint8).index_put((L.tensor([0, 0]),),
                                                     L.tensor([200, 100], dtype=L.uint8), True),
        L.tensor([True, False, False]).index_put((L.tensor([0, 1, 1]),),
                                                 L.tensor([True, True, False]), accumulate=True)],
    "index_put_grads": lambda L: (lambda x, v: [
        (x.index_put((L.tensor([0, 2, 0]),), v, accumulate=True) * L.arange(12.0).reshape(3, 4))
        .sum().backward(), x.grad, v.grad][1:])(L.ones(3, 4, requires_grad=True),
                                                L.ones(4, requires_grad=True)),
    "index_put_grads_no_accumulate": lambda L: (lambda x, v: [
        (x.index_put((L.tensor([0, 2]), L.tensor([-1, 1])), v) * L.arange(12.0).reshape(3, 4))
        .sum().backward(), x.grad, v.grad][1:])(L.ones(3, 4, requires_grad=True),
                                                L.ones((), requires_grad=True)),
    "index_put_": _inplace("index_put_", (lambda L: L.tensor([1, 1]), lambda L: L.tensor([0, 2])),
                           lambda L: L.tensor([5.0, 6.0]), accumulate=True),
    "index_put_recorded": _inplace_recorded("index_put_", (lambda L: L.tensor([1, 0]),),
                                            lambda L: _float_src(L, 3, True)),
    "index_put_recorded_accumulate": _inplace_recorded(
        "index_put_", (lambda L: L.tensor([1, 1]),), lambda L: _float_src(L, 3, True),
        accumulate=True),
    "index_put_int_inplace": lambda L: L.zeros(3, dtype=L.int32).index_put_(
        (L.tensor([0]),), L.tensor([2], dtype=L.int32)),
    "index_put_out_of_range": lambda L: L.zeros(3, 4).index_put((L.tensor([3]),), L.tensor(1.0)),
    "index_put_negative_out_of_range": lambda L: L.zeros(3, 4).index_put(
        (L.tensor([0]), L.tensor([-5])), L.tensor(1.0)),
    "index_put_not_a_tuple": lambda L: L.zeros(3).index_put(L.tensor([0]), L.tensor(1.0)),
    "index_put_int_element": lambda L: L.zeros(3).index_put((0,), L.tensor(1.0)),
    "index_put_none_element": lambda L: L.zeros(3, 4).index_put((None, L.tensor([0])),
                                                                L.tensor(1.0)),
    "index_put_number_values": lambda L: L.zeros(3).index_put((L.tensor([0]),), 1.0),
    "index_put_values_dtype": lambda L: L.zeros(3).index_put((L.tensor([0]),), L.tensor(1)),
    "index_put_float_index": lambda L: L.zeros(3).index_put((L.tensor([0.0]),), L.tensor(1.0)),
    "index_put_int16_index": lambda L: L.zeros(3).index_put((L.tensor([0], dtype=L.int16),),
                                                            L.tensor(1.0)),
    "index_put_uint8_index": lambda L: L.zeros(3).index_put((L.tensor([1, 0, 1], dtype=L.uint8),),
                                                            L.tensor(1.0)),
    "index_put_too_many": lambda L: L.zeros(3, 4).index_put(
        (L.tensor([0]), L.tensor([0]), L.tensor([0])), L.tensor(1.0)),
    "index_put_too_many_0d": lambda L: L.tensor(3.0).index_put((L.tensor(0),), L.tensor(9.0)),
    "index_put_mask_shape": lambda L: L.zeros(3, 4).index_put((L.tensor([True, False]),),
                                                              L.tensor(1.0)),
    "index_put_mask_shape_later": lambda L: L.zeros(3, 4).index_put(
        (L.tensor([0, 1]), L.tensor([[True, False, True, False]] * 2)), L.tensor(1.0)),
    "index_put_indices_broadcast": lambda L: L.zeros(3, 4).index_put(
        (L.tensor([0, 1]), L.tensor([0, 1, 2])), L.tensor(1.0)),
    "index_put_values_shape": lambda L: L.zeros(3, 4).index_put((L.tensor([0, 1]),),
                                                                L.tensor([1.0, 2.0, 3.0])),
    "index_put_values_extra_dim": lambda L: L.zeros(3).index_put((L.tensor([0, 1]),),
                                                                 L.tensor([[1.0, 2.0]])),
    "index_put_values_extra_dim_accumulate": lambda L: L.zeros(3).index_put(
        (L.tensor([0, 1]),), L.tensor([[1.0], [2.0]]), accumulate=True),
    "index_put_inplace_values_shape": lambda L: L.zeros(3).index_put_((L.tensor([0]),),
                                                                      L.tensor([1.0, 2.0])),
    "index_put_leaf": lambda L: L.zeros(3, requires_grad=True).index_put_((L.tensor([0]),),
                                                                          L.tensor(1.0)),
    # scatter_reduce
    "scatter_reduce_int_mean_floors": lambda L: [
        L.tensor(x).scatter_reduce(0, L.tensor([0, 0, 2, 2, 2]), L.tensor(s), "mean",
                                   include_self=i)
        for x, s in (([1, 2, 3, 4], [5, 6, 7, 8, 10]), ([-1, -2, -3, -4], [-5, -6, -7, -8, -10]))
        for i in (True, False)],
    "scatter_reduce_uint8_mean_wraps": lambda L: L.tensor([1, 2], dtype=L.uint8).scatter_reduce(
        0, L.tensor([0, 0]), L.tensor([200, 200], dtype=L.uint8), "mean"),
    "scatter_reduce_int": lambda L: [
        L.tensor([1, -2, 3, 4], dtype=L.int32).scatter_reduce(
            0, L.tensor([0, 0, 2, 1, 1]), L.tensor([5, -6, 7, 8, 2], dtype=L.int32), r,
            include_self=i) for r in REDUCTIONS for i in (True, False)],
    "scatter_reduce_bool": lambda L: [
        L.tensor([True, False, False]).scatter_reduce(
            0, L.tensor([0, 1, 1]), L.tensor([False, True, False]), r, include_self=i)
        for r in ("sum", "prod", "amax", "amin") for i in (True, False)],
    "scatter_reduce_bool_mean": lambda L: L.tensor([True, False]).scatter_reduce(
        0, L.tensor([0, 1]), L.tensor([False, True]), "mean"),
    "scatter_reduce_nan": lambda L: [
        L.tensor([float("nan"), 2.0, 0.0]).scatter_reduce(
            0, L.tensor([0, 1, 1]), L.tensor([1.0, float("nan"), 3.0]), r, include_self=i)
        for r in ("amax", "amin", "sum") for i in (True, False)],
    "scatter_reduce_2d": lambda L: [
        L.arange(6.0).reshape(2, 3).scatter_reduce(d, L.tensor(ix), L.ones(2, 4) * 3, r,
                                                   include_self=i)
        for d, ix in ((0, [[1, 0]]), (1, [[1, 0, 0, 2]]), (-1, [[2], [2]]))
        for r in REDUCTIONS for i in (True, False)],
    "scatter_reduce_0d": lambda L: [
        L.tensor(2.0).scatter_reduce(0, L.tensor(0), L.tensor(5.0), "sum"),
        L.tensor(2.0).scatter_reduce(-1, L.tensor([0, 0]), L.tensor([5.0, 1.0]), "prod"),
        L.tensor([2.0]).scatter_reduce(0, L.tensor(0), L.tensor(5.0), "amin"),
        L.scatter_reduce(L.tensor(2.0), 0, L.tensor([0, 0]), L.tensor([5.0, 1.0]), "mean",
                         include_self=False)],
    "scatter_reduce_empty_index": lambda L: [
        L.ones(2, 3).scatter_reduce(0, L.zeros(0, dtype=L.long), L.ones(2, 3), "prod"),
        L.ones(2, 3).scatter_reduce(1, L.zeros(0, 5, dtype=L.long), L.ones(2, 3), "amax",
                                    include_self=False)],
    "scatter_reduce_keywords": lambda L: L.scatter_reduce(
        L.zeros(3), dim=0, index=L.tensor([0, 0]), src=L.tensor([1.0, 2.0]), reduce="sum",
        include_self=False),
    **{f"scatter_reduce_{r}_ties_{i}": _reduce_with_ties(r, i)
       for r in ("amax", "amin") for i in (True, False)},
    **{f"scatter_reduce_prod_zeros_{i}": _prod_with_zeros(i) for i in (True, False)},
    "scatter_reduce_prod_double_backward": _prod_double_backward((0.5, 2.0)),
    "scatter_reduce_prod_double_backward_one_zero": _prod_double_backward((0.0, 2.0)),
    "scatter_reduce_prod_double_backward_two_zeros": _prod_double_backward((0.0, 0.0)),
    "scatter_reduce_": _inplace("scatter_reduce_", 1, lambda L: L.tensor([[0, 0, 2], [1, 1, 1]]),
                                lambda L: L.ones(2, 3) * 7, "amax", include_self=False),
    **{f"scatter_reduce_recorded_{r}": _inplace_recorded(
        "scatter_reduce_", 0, lambda L: L.tensor([[1, 0, 1], [1, 0, 0]]),
        lambda L: (L.arange(6.0).reshape(2, 3) - 2.5).requires_grad_(), r) for r in REDUCTIONS},
    "scatter_reduce_bad_reduce": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0]), L.ones(1), "add"),
    "scatter_reduce_dtype": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0]), L.ones(1).double(), "sum"),
    "scatter_reduce_float_index": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0.0]), L.ones(1), "sum"),
    "scatter_reduce_int16_index": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0], dtype=L.int16), L.ones(1), "sum"),
    "scatter_reduce_int32_index": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0, 0], dtype=L.int32), L.ones(2), "sum"),
    "scatter_reduce_list_index": lambda L: L.zeros(3).scatter_reduce(0, [0], L.ones(1), "sum"),
    "scatter_reduce_number_src": lambda L: L.zeros(3).scatter_reduce(0, L.tensor([0]), 1.0, "sum"),
    "scatter_reduce_include_self_int": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([0]), L.ones(1), "sum", include_self=1),
    "scatter_reduce_out_of_range": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([3]), L.ones(1), "sum"),
    "scatter_reduce_negative": lambda L: L.zeros(3).scatter_reduce(
        0, L.tensor([-1]), L.ones(1), "sum"),
    "scatter_reduce_dim_out_of_range": lambda L: L.zeros(2, 3).scatter_reduce(
        2, L.tensor([[0]]), L.ones(1, 1), "sum"),
    "scatter_reduce_index_ndim": lambda L: L.zeros(2, 3).scatter_reduce(
        0, L.tensor([0, 1]), L.ones(2), "sum"),
    "scatter_reduce_src_0d": lambda L: L.zeros(2, 3).scatter_reduce(
        0, L.zeros(1, 1, dtype=L.long), L.ones(()), "sum"),
    "scatter_reduce_src_fewer_dims": lambda L: L.zeros(2, 3).scatter_reduce(
        0, L.zeros(1, 1, dtype=L.long), L.ones(1), "sum"),
    "scatter_reduce_src_more_dims": lambda L: L.zeros(2, 3).scatter_reduce(
        0, L.zeros(1, 3, dtype=L.long), L.ones(2, 3, 1), "sum"),
    "scatter_reduce_index_larger_than_self": lambda L: L.zeros(2, 3).scatter_reduce(
        0, L.zeros(1, 4, dtype=L.long), L.ones(2, 4), "sum"),
    "scatter_reduce_index_larger_than_src": lambda L: L.zeros(2, 3).scatter_reduce(
        0, L.zeros(3, 1, dtype=L.long), L.ones(2, 1), "sum"),
    "scatter_reduce_0d_index_too_long": lambda L: L.tensor(2.0).scatter_reduce(
        0, L.tensor([0, 0]), L.tensor(5.0), "sum"),
    "scatter_reduce_leaf": lambda L: L.zeros(3, requires_grad=True).scatter_reduce_(
        0, L.tensor([0]), L.ones(1), "sum"),
    # linalg.cross
    "linalg_cross": lambda L: [L.linalg.cross(L.tensor([1, 2, 3]), L.tensor([1, 0, 3])),
                               L.linalg.cross(L.eye(3), L.ones(1, 3)),
                               L.linalg.cross(L.eye(3), L.ones(3, 1), dim=0)],
    "linalg_cross_grads": lambda L: (lambda a, b: [
        (L.linalg.cross(a, b) * L.arange(6.0).reshape(2, 3)).sum().backward(), a.grad, b.grad][1:])(
        L.arange(6.0).reshape(2, 3).requires_grad_(), L.tensor([[1.0, -2.0, 0.5]], requires_grad=True)),
    "linalg_cross_ndim": lambda L: L.linalg.cross(L.ones(2, 3), L.ones(3)),
    "linalg_cross_size": lambda L: L.linalg.cross(L.ones(3, 2), L.ones(3, 1)),
    "linalg_cross_size_before_broadcast": lambda L: L.linalg.cross(L.ones(2, 1), L.ones(2, 3)),
    "linalg_cross_dtype": lambda L: L.linalg.cross(L.ones(3), L.ones(3).double()),
    "linalg_cross_dim": lambda L: L.linalg.cross(L.ones(3), L.ones(3), dim=1),
    "linalg_cross_0d": lambda L: L.linalg.cross(L.tensor(1.0), L.tensor(2.0)),
    "linalg_cross_positional_dim": lambda L: L.linalg.cross(L.ones(3), L.ones(3), 0),
    "linalg_cross_broadcast": lambda L: L.linalg.cross(L.ones(2, 3), L.ones(4, 3)),
    "linalg_cross_empty": lambda L: L.linalg.cross(L.ones(0, 3), L.ones(1, 3)),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_agrees_with_pytorch(name):
    run_both(PROGRAMS[name])


# --------------------------------------------------------------------------- errors and details
def test_errors_name_the_op_and_the_shapes():
    x = tn.zeros(2, 3)
    with pytest.raises(IndexError, match=r"take\(\): index 6 is out of range for a tensor of 6"):
        x.take(tn.tensor([6]))
    with pytest.raises(RuntimeError, match=r"masked_scatter\(\): the source has 1 elements .*"
                                           r"fewer than the 4 places .* input of shape \(2, 3\)"):
        x.masked_scatter(tn.tensor([True, False, True]), tn.ones(1))
    with pytest.raises(RuntimeError, match=r"masked_scatter_\(\): the mask of shape \(2, 3\) must "
                                           r"broadcast to the shape \(3,\)"):
        tn.zeros(3).masked_scatter_(tn.ones(2, 3, dtype=tn.bool), tn.ones(6))
    with pytest.raises(IndexError, match=r"index_put\(\): index 2 is out of bounds for dimension 0 "
                                         r"with size 2"):
        x.index_put((tn.tensor([2]),), tn.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"index_put_\(\): shape mismatch: value tensor of shape "
                                           r"\[2\] cannot be broadcast to indexing result of shape "
                                           r"\[1, 3\]"):
        x.index_put_((tn.tensor([0]),), tn.ones(2))
    with pytest.raises(IndexError, match=r"index_put\(\): a 0-d bool index"):
        x.index_put((tn.tensor(True),), tn.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"scatter_reduce\(\): reduce argument must be either "
                                           r"sum, prod, mean, amax or amin, got 'max'"):
        x.scatter_reduce(0, tn.tensor([[0]]), tn.ones(1, 1), "max")
    with pytest.raises(RuntimeError, match=r"scatter_reduce_\(\): expected index \[1, 4\] to be no "
                                           r"larger than self \[2, 3\] apart from dimension 0"):
        x.scatter_reduce_(0, tn.zeros(1, 4, dtype=tn.long), tn.ones(1, 4), "sum")
    with pytest.raises(NotImplementedError, match="mean"):
        tn.zeros(2, dtype=tn.bool).scatter_reduce(0, tn.tensor([0]), tn.ones(1, dtype=tn.bool),
                                                  "mean")
    with pytest.raises(RuntimeError, match=r"linalg.cross: inputs dimension -1 must have length 3, "
                                           r"got 2 and 2"):
        tn.linalg.cross(tn.ones(2), tn.ones(2))


def test_prod_double_backward_refuses_two_zeros_at_one_place_with_pytorchs_message():
    x = tn.tensor([2.0, 3.0], requires_grad=True)
    s = tn.tensor([0.0, 4.0, 0.0], requires_grad=True)
    y = x.scatter_reduce(0, tn.tensor([0, 1, 0]), s, "prod")
    _, gs = tn.autograd.grad(y.sum(), [x, s], create_graph=True)
    np.testing.assert_array_equal(gs.detach().numpy(), [0.0, 3.0, 0.0])
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
        tn.autograd.grad(gs.sum(), [x, s])


def test_src_larger_than_index_gets_zero_gradient_beyond_it():
    """PyTorch's backward refuses this case ("invalid gradient"); tinynet pads with zeros."""
    x = tn.zeros(2, 3, requires_grad=True)
    s = tn.ones(3, 4, requires_grad=True)
    x.scatter_reduce(0, tn.tensor([[0, 0], [1, 0]]), s, "mean").sum().backward()
    expected = np.zeros((3, 4))
    expected[:2, :2] = [[0.5, 1 / 3], [0.5, 1 / 3]]
    np.testing.assert_allclose(s.grad.numpy(), expected)


def test_the_in_place_forms_change_views_and_keep_the_dtype():
    x = tn.zeros(2, 3, dtype=tn.int64)
    row = x[1]
    x.masked_scatter_(tn.tensor([False, True, True]), tn.arange(1, 5))
    x.index_put_((tn.tensor([1]), tn.tensor([0])), tn.tensor(9), accumulate=True)
    x.scatter_reduce_(1, tn.tensor([[0], [0]]), tn.tensor([[5], [5]]), "amax")
    assert row.tolist() == [9, 3, 4] and x.tolist() == [[5, 1, 2], [9, 3, 4]]
    assert x.dtype == tn.int64 and x._version == 3


def test_docs_examples_and_methods():
    assert tn.take(tn.tensor([[1, 2], [3, 4]]), tn.tensor([[0, -1]])).tolist() == [[1, 4]]
    assert tn.Tensor.take.__doc__ == tn.take.__doc__
    assert tn.Tensor.scatter_reduce.__doc__ == tn.scatter_reduce.__doc__
    for name in ("take", "masked_scatter", "index_put", "scatter_reduce"):
        assert name in tn.__all__ and callable(getattr(tn, name))
    assert "cross" in tn.linalg.__all__
