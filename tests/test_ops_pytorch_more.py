"""Ops found missing when PyTorch's tutorials ran under tinynet: scatter_ (and reduce=),
scatter_add_, index_add/index_fill/index_copy (and in place), addcmul/addcdiv (and in place),
fmod, bernoulli, multinomial, Tensor.unfold, one-argument where, argwhere, bincount,
atleast_1d/2d/3d, cartesian_prod, unique(dim=) and det.

Every differentiable op runs through the op factory (first and second order in float64, drawn
shapes), every in-place op through ``check_inplace`` (the in-place rules); then the same programs
run on tinynet and torch (``lib`` is either module) and must agree in values, gradients, dtypes
and the type of every error.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import (InplaceSpec, OpSpec, away_from_zero, broadcast_cases, cases,
                             check_inplace, check_op, op_settings, per_input, shapes, unchanged)

import tinynet as tn
from test_ops_indexing import np_scatter, scatter_cases
from torch_oracle import assert_matches_torch


# --------------------------------------------------------------------------- strategies
@st.composite
def index_cases(draw, unique=False, negative=False, with_source=True, min_dims=1, **extra):
    """A shape, a dim, a 1-D index along it (repeats unless ``unique``; negative positions
    when ``negative``), and the source's shape (the input's with len(index) along dim);
    ``extra`` keyword arguments are drawn from the strategies given."""
    shape = draw(shapes(min_dims=min_dims, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    if unique:
        index = draw(st.permutations(range(size)))[:draw(st.integers(1, size))]
    else:
        low = -size if negative else 0
        index = draw(st.lists(st.integers(low, size - 1), min_size=1, max_size=4))
    index = np.array(index, dtype=np.int64)
    source = tuple(len(index) if d == dim % len(shape) else n for d, n in enumerate(shape))
    kwargs = {"dim": dim, "index": index, **{k: draw(v) for k, v in extra.items()}}
    return ((shape, source) if with_source else (shape,)), kwargs


def np_index_add(a, src, dim, index, alpha=1):
    out = a.copy()
    np.add.at(out, (slice(None),) * (dim % a.ndim) + (index,), alpha * src)
    return out


def np_index_copy(a, src, dim, index):
    out = a.copy()
    out[(slice(None),) * (dim % a.ndim) + (index,)] = src
    return out


def np_index_fill(a, dim, index, value):
    out = a.copy()
    out[(slice(None),) * (dim % a.ndim) + (index,)] = value
    return out


@st.composite
def unfold_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    size = draw(st.integers(1, shape[dim]))
    return (shape,), {"dimension": dim, "size": size, "step": draw(st.integers(1, 3))}


def np_unfold(a, dimension, size, step):
    axis = dimension % a.ndim
    windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=axis)
    return windows[(slice(None),) * axis + (slice(None, None, step),)]


def target_and_others(count):
    """A target shape and ``count`` shapes that broadcast to it (for the in-place ops)."""
    def broadcastable(target):
        start = st.integers(0, len(target))
        return start.flatmap(lambda s: st.tuples(*[st.sampled_from([n, 1]) for n in target[s:]]))
    return shapes(0, 3).flatmap(lambda target: st.tuples(
        st.tuples(st.just(target), *[broadcastable(target) for _ in range(count)]), st.just({})))


def fmod_values(arrays):
    """A divisor at least 0.5 from zero and a quotient at least 0.15 from every integer, where
    fmod jumps (a and b have the same shape here)."""
    a, b = arrays
    b = np.where(b >= 0, b + 0.5, b - 0.5)
    q = a / b
    whole = np.trunc(q)
    fraction = np.where(q >= 0, 1.0, -1.0) * (0.15 + 0.7 * np.abs(q - whole))
    return [(whole + fraction) * b, b]


def away_from_multiples(step):
    """Elements whose quotient by ``step`` is at least 0.15 from every integer."""
    def move(arrays):
        moved = []
        for a in arrays:
            q = a / step
            whole = np.trunc(q)
            moved.append((whole + np.where(q >= 0, 1.0, -1.0) * (0.15 + 0.7 * np.abs(q - whole)))
                         * step)
        return moved
    return move


def well_conditioned(arrays):
    """Square matrices made comfortably invertible (3·I added)."""
    return [a + 3 * np.eye(a.shape[-1]) for a in arrays]


matrices = st.tuples(st.lists(st.integers(1, 2), max_size=1), st.integers(1, 3)).map(
    lambda bn: (tuple(bn[0]) + (bn[1], bn[1]),))


def np_cartesian_prod(*arrays):
    return np.array(list(itertools.product(*arrays))).reshape(-1, len(arrays))


# --------------------------------------------------------------------------- the op factory
OP_SPECS = [
    OpSpec("index_add", lambda a, src, dim, index, alpha: tn.index_add(
        a, dim, tn.tensor(index), src, alpha=alpha),
        index_cases(alpha=st.sampled_from([1, -2.5])), np_index_add),
    OpSpec("index_fill", lambda a, dim, index: a.index_fill(dim, tn.tensor(index), -0.75),
           index_cases(negative=True, with_source=False),
           lambda a, dim, index: np_index_fill(a, dim, index, -0.75)),
    OpSpec("index_fill_tensor_value", lambda a, v, dim, index: a.index_fill(dim, tn.tensor(index), v),
           index_cases(negative=True, with_source=False).map(
               lambda c: ((c[0][0], ()), c[1])),
           lambda a, v, dim, index: np_index_fill(a, dim, index, v)),
    OpSpec("index_copy", lambda a, src, dim, index: a.index_copy(dim, tn.tensor(index), src),
           index_cases(unique=True), np_index_copy),
    OpSpec("addcmul", lambda a, b, c, value: tn.addcmul(a, b, c, value=value),
           broadcast_cases(3, value=st.sampled_from([1, 0.5, -2.0])),
           lambda a, b, c, value: a + value * b * c),
    OpSpec("addcdiv", lambda a, b, c, value: a.addcdiv(b, c, value=value),
           broadcast_cases(3, value=st.sampled_from([1, 0.5, -2.0])),
           lambda a, b, c, value: a + value * b / c,
           values=per_input(unchanged, unchanged, away_from_zero(0.5))),
    OpSpec("fmod", tn.fmod, shapes().flatmap(lambda s: cases(st.just(s), st.just(s))),
           np.fmod, values=fmod_values),
    OpSpec("fmod_number", lambda a: a.fmod(-1.25), cases(shapes()), lambda a: np.fmod(a, -1.25),
           values=away_from_multiples(-1.25)),
    OpSpec("unfold", lambda a, dimension, size, step: a.unfold(dimension, size, step),
           unfold_cases(), np_unfold),
    OpSpec("atleast_1d", tn.atleast_1d, cases(shapes(0, 3)), np.atleast_1d),
    OpSpec("atleast_2d", tn.atleast_2d, cases(shapes(0, 3)), np.atleast_2d),
    OpSpec("atleast_3d", tn.atleast_3d, cases(shapes(0, 4)), np.atleast_3d),
    OpSpec("cartesian_prod", tn.cartesian_prod,
           st.lists(shapes(1, 1), min_size=2, max_size=3).map(lambda s: (tuple(s), {})),
           np_cartesian_prod),
    OpSpec("det", tn.det, matrices.map(lambda s: (s, {})), np.linalg.det, values=well_conditioned),
    OpSpec("linalg.det", lambda a: tn.linalg.det(a).exp(), matrices.map(lambda s: (s, {})),
           lambda a: np.exp(np.linalg.det(a)), values=lambda arrays: [
               0.5 * x for x in well_conditioned(arrays)]),
]


@pytest.mark.parametrize("spec", OP_SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


INPLACE_SPECS = [
    InplaceSpec("scatter_", lambda t, src, dim, index: t.scatter_(dim, tn.tensor(index), src),
                scatter_cases(), np_scatter),
    InplaceSpec("scatter_value", lambda t, dim, index: t.scatter_(dim, tn.tensor(index), 0.5),
                scatter_cases().map(lambda c: (c[0][:1], c[1])), lambda a, dim, index: np_scatter(
                    a, np.full(index.shape, 0.5), dim, index)),
    InplaceSpec("scatter_add_", lambda t, src, dim, index: t.scatter_add_(dim, tn.tensor(index), src),
                scatter_cases(unique=False),
                lambda a, src, dim, index: np_scatter(a, src, dim, index, add=True)),
    InplaceSpec("index_add_", lambda t, src, dim, index: t.index_add_(
        dim, tn.tensor(index), src, alpha=-1.5), index_cases(),
        lambda a, src, dim, index: np_index_add(a, src, dim, index, -1.5)),
    InplaceSpec("index_fill_", lambda t, dim, index: t.index_fill_(dim, tn.tensor(index), 2.0),
                index_cases(negative=True, with_source=False),
                lambda a, dim, index: np_index_fill(a, dim, index, 2.0)),
    InplaceSpec("index_copy_", lambda t, src, dim, index: t.index_copy_(dim, tn.tensor(index), src),
                index_cases(unique=True), np_index_copy),
    InplaceSpec("addcmul_", lambda t, b, c: t.addcmul_(b, c, value=0.5), target_and_others(2),
                lambda a, b, c: a + 0.5 * b * c),
    InplaceSpec("addcdiv_", lambda t, b, c: t.addcdiv_(b, c, value=-2), target_and_others(2),
                lambda a, b, c: a - 2 * b / c,
                values=per_input(unchanged, unchanged, away_from_zero(0.5))),
    InplaceSpec("fmod_", lambda t: t.fmod_(1.25), cases(shapes()), lambda a: np.fmod(a, 1.25),
                values=away_from_multiples(1.25)),
]


@pytest.mark.parametrize("spec", INPLACE_SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_inplace_op(spec, data):
    check_inplace(spec, data)


# --------------------------------------------------------------------------- against torch
def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def run_both(torch, program):
    """``program(lib)`` on tinynet and on torch: both results, or both exceptions."""
    results = []
    for lib in (tn, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(program(lib))
        except Exception as err:  # noqa: BLE001 (the type is what's compared)
            results.append(err)
    return results


def assert_same(ours, theirs, what=""):
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"{what}: torch raised {theirs!r}, tinynet gave {ours!r}"
        assert type(ours) is type(theirs) or isinstance(ours, type(theirs)), \
            f"{what}: tinynet raised {type(ours).__name__} ({ours}), torch {type(theirs).__name__}"
        return
    assert not isinstance(ours, Exception), f"{what}: tinynet raised {ours!r}, torch gave {theirs!r}"
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), what
        for a, b in zip(ours, theirs):
            assert_same(a, b, what)
        return
    if hasattr(theirs, "numpy"):
        assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: {ours.shape} != {theirs.shape}"
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], \
            f"{what}: dtype {ours.dtype} != {theirs.dtype}"
        np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=1e-6, atol=1e-7,
                                   equal_nan=True, err_msg=what)
    elif "dtype" in type(theirs).__name__:
        assert str(ours).split(".")[-1] == str(theirs).split(".")[-1], f"{what}: {ours} != {theirs}"
    else:
        assert ours == theirs, f"{what}: {ours!r} != {theirs!r}"


# Deterministic programs, each written once for both libraries: results (values, shapes,
# dtypes) or the type of the error must agree.
PROGRAMS = {
    # index_add: alpha, dtypes, index checks, shapes
    "index_add": lambda m: m.zeros(3, 2).index_add(0, m.tensor([0, 0, 2]), m.ones(3, 2), alpha=2),
    "index_add_int_alpha": lambda m: m.zeros(3, dtype=m.long).index_add(
        0, m.tensor([0]), m.ones(1, dtype=m.long), alpha=2.5),
    "index_add_int32_index": lambda m: m.zeros(3, 2).index_add(
        0, m.tensor([0, 0, 1], dtype=m.int32), m.ones(3, 2)),
    "index_add_dim1": lambda m: m.zeros(3, 2).index_add(-1, m.tensor([1]), m.ones(3, 1)),
    "index_add_0d": lambda m: m.zeros(()).index_add(0, m.tensor([0]), m.ones(())),
    "index_add_0d_index": lambda m: m.zeros(3, 2).index_add(0, m.tensor(1), m.ones(1, 2)),
    "index_add_dtype": lambda m: m.zeros(3, 2).index_add(0, m.tensor([0]), m.ones(1, 2).double()),
    "index_add_count": lambda m: m.zeros(3, 2).index_add(0, m.tensor([0, 0, 2]), m.ones(2, 2)),
    "index_add_shape": lambda m: m.zeros(3, 2).index_add(0, m.tensor([0, 0, 1]), m.ones(3, 3)),
    "index_add_range": lambda m: m.zeros(3, 2).index_add(0, m.tensor([0, 3]), m.ones(2, 2)),
    "index_add_negative": lambda m: m.zeros(3, 2).index_add(0, m.tensor([-1]), m.ones(1, 2)),
    "index_add_float_index": lambda m: m.zeros(3).index_add(0, m.tensor([0.0]), m.ones(1)),
    "index_add_matrix_index": lambda m: m.zeros(3).index_add(0, m.tensor([[0]]), m.ones(1)),
    "index_add_dim_range": lambda m: m.zeros(3, 2).index_add(2, m.tensor([1]), m.ones(1, 2)),
    "index_add_0d_source": lambda m: m.zeros(3).index_add(0, m.tensor([1]), m.tensor(5.0)),
    # index_fill
    "index_fill": lambda m: m.zeros(3, 2).index_fill(1, m.tensor([1, 1]), 5),
    "index_fill_negative": lambda m: m.zeros(3, 2).index_fill(1, m.tensor([-1]), 5),
    "index_fill_tensor": lambda m: m.zeros(3, 2).index_fill(0, m.tensor([2]), m.tensor(5.0).double()),
    "index_fill_int": lambda m: m.zeros(3, 2, dtype=m.long).index_fill(1, m.tensor([1]), 2.5),
    "index_fill_bool": lambda m: m.zeros(3, dtype=m.bool).index_fill(0, m.tensor([0]), 2),
    "index_fill_0d": lambda m: m.zeros(()).index_fill(0, m.tensor([0, 0]), 3),
    "index_fill_1d_value": lambda m: m.zeros(3).index_fill(0, m.tensor([1]), m.tensor([5.0])),
    "index_fill_matrix_index": lambda m: m.zeros(3, 2).index_fill(1, m.tensor([[1]]), 5),
    "index_fill_range": lambda m: m.zeros(3, 2).index_fill(1, m.tensor([2]), 5),
    "index_fill_range_negative": lambda m: m.zeros(3, 2).index_fill(1, m.tensor([-3]), 5),
    "index_fill_int32_index": lambda m: m.zeros(3).index_fill(0, m.tensor([1], dtype=m.int32), 5),
    # index_copy
    "index_copy": lambda m: m.zeros(3, 2).index_copy(0, m.tensor([2, 0]), m.ones(2, 2)),
    "index_copy_dim1": lambda m: m.zeros(3, 2).index_copy(1, m.tensor([1]), m.full((3, 1), 4.0)),
    "index_copy_0d": lambda m: m.zeros(()).index_copy(0, m.tensor(0), m.tensor(5.0)),
    "index_copy_0d_source": lambda m: m.zeros(3).index_copy(0, m.tensor([1]), m.tensor(5.0)),
    "index_copy_dtype": lambda m: m.zeros(3).index_copy(0, m.tensor([1]), m.ones(1).double()),
    "index_copy_count": lambda m: m.zeros(3, 2).index_copy(0, m.tensor([2, 0]), m.ones(3, 2)),
    "index_copy_range": lambda m: m.zeros(3, 2).index_copy(0, m.tensor([3]), m.ones(1, 2)),
    "index_copy_negative": lambda m: m.zeros(3, 2).index_copy(0, m.tensor([-1]), m.ones(1, 2)),
    "index_copy_int32_index": lambda m: m.zeros(3).index_copy(0, m.tensor([1], dtype=m.int32),
                                                             m.ones(1)),
    "index_copy_ndim": lambda m: m.zeros(3, 2).index_copy(0, m.tensor(1), m.ones(2)),
    "index_copy_slices": lambda m: m.zeros(3, 2).index_copy(1, m.tensor([1]), m.ones(2, 1)),
    # scatter: dtypes, reduce
    "scatter_dtype": lambda m: m.zeros(3).scatter(0, m.tensor([0]), m.ones(1).double()),
    "scatter_add_dtype": lambda m: m.zeros(3).scatter_add(0, m.tensor([0]), m.ones(1).double()),
    "scatter_add_number": lambda m: m.ones(3).scatter_add_(0, m.tensor([0]), 1.0),
    "scatter_int_value": lambda m: m.ones(3, dtype=m.long).scatter(0, m.tensor([0]), 1.5),
    "scatter_int32_index": lambda m: m.zeros(3).scatter_(0, m.tensor([2], dtype=m.int32), 1.0),
    "scatter_reduce_add": lambda m: m.ones(2, 3).scatter(
        1, m.tensor([[0, 0], [2, 1]]), m.tensor([[2.0, 3.0], [4.0, 5.0]]), reduce="add"),
    "scatter_reduce_multiply": lambda m: m.ones(2, 3).scatter(
        1, m.tensor([[0, 0], [2, 1]]), m.tensor([[2.0, 3.0], [4.0, 5.0]]), reduce="multiply"),
    "scatter_value_reduce": lambda m: m.full((3,), 2.0).scatter_(
        0, m.tensor([0, 0, 2]), 3.0, reduce="multiply"),
    "scatter_reduce_bad": lambda m: m.ones(3).scatter_(0, m.tensor([0]), 2.0, reduce="mean"),
    # addcmul / addcdiv
    "addcmul": lambda m: m.addcmul(m.ones(1), m.arange(3.0).reshape(3, 1), m.ones(2), value=2),
    "addcmul_positional_value": lambda m: m.addcmul(m.ones(2), m.ones(2), m.ones(2), 2),
    "addcmul_number_tensor1": lambda m: m.addcmul(m.ones(2), 2.0, m.ones(2)),
    "addcmul_int": lambda m: m.addcmul(m.ones(2, dtype=m.long), m.ones(2, dtype=m.long),
                                       m.ones(2, dtype=m.long), value=2.5),
    "addcmul_float_int": lambda m: m.addcmul(m.ones(2), m.ones(2, dtype=m.long),
                                             m.ones(2, dtype=m.long), value=2.5),
    "addcmul_half_int": lambda m: m.addcmul(m.ones(2, dtype=m.float16), m.ones(2, dtype=m.long),
                                            m.ones(2, dtype=m.long)),
    "addcmul_promote": lambda m: m.addcmul(m.ones(2, dtype=m.long), m.ones(2).double(), m.ones(2)),
    "addcmul_tensor_value": lambda m: m.ones(2).addcmul(m.ones(2), m.ones(2), value=m.tensor(2.0)),
    "addcmul_inplace_shape": lambda m: m.ones(1).addcmul_(m.ones(3, 1), m.ones(2)),
    "addcmul_inplace_cast": lambda m: m.ones(2).addcmul_(m.ones(2).double(), m.ones(2) * 3),
    "addcmul_inplace_int": lambda m: m.ones(2, dtype=m.long).addcmul_(m.ones(2), m.ones(2)),
    "addcdiv": lambda m: m.addcdiv(m.ones(2), m.tensor([1.0, 3.0]), m.tensor([4.0, -2.0]), value=3),
    "addcdiv_ints": lambda m: m.addcdiv(m.ones(2), m.ones(2, dtype=m.long), m.ones(2, dtype=m.long)),
    "addcdiv_int_input": lambda m: m.ones(2, dtype=m.long).addcdiv(m.ones(2), m.ones(2) * 4),
    "addcdiv_by_zero": lambda m: m.ones(2).addcdiv_(m.ones(2), m.zeros(2)),
    "addcdiv_inplace_int": lambda m: m.ones(2, dtype=m.long).addcdiv_(m.ones(2), m.ones(2)),
    # fmod
    "fmod": lambda m: m.fmod(m.tensor([-3.5, 3.5, -0.5, 7.0]), m.tensor([2.0, -2.0, 3.0, 0.0])),
    "fmod_number": lambda m: m.tensor([-3.0, 3.0]).fmod(2),
    "fmod_int": lambda m: m.fmod(m.tensor([-5, 5]), m.tensor([3, 3], dtype=m.int32)),
    "fmod_int_float": lambda m: m.fmod(m.tensor([-3, 3]), 2.5),
    "fmod_int_zero": lambda m: m.fmod(m.tensor([-3, 3]), 0),
    "fmod_number_input": lambda m: m.fmod(5, m.tensor([2.0])),
    "fmod_inplace": lambda m: m.tensor([-3.0, 3.0]).fmod_(2.5),
    "fmod_inplace_int": lambda m: m.tensor([-3, 3]).fmod_(2.5),
    # where / argwhere / nonzero
    "where_one": lambda m: m.where(m.tensor([[1, 0], [0, 2]])),
    "where_one_0d": lambda m: m.where(m.tensor(3.0)),
    "where_two": lambda m: m.where(m.tensor([True]), m.ones(1)),
    "where_three": lambda m: m.where(m.tensor([True, False]), m.ones(2), m.zeros(2)),
    "argwhere": lambda m: m.argwhere(m.tensor([[1, 0], [0, 2]])),
    "argwhere_nan": lambda m: m.tensor([0.5, float("nan"), 0.0]).argwhere(),
    "argwhere_0d": lambda m: m.argwhere(m.tensor(3.0)),
    "argwhere_0d_zero": lambda m: m.argwhere(m.tensor(0.0)),
    "nonzero_0d": lambda m: m.nonzero(m.tensor(3.0)),
    "nonzero_0d_tuple": lambda m: m.nonzero(m.tensor(3.0), as_tuple=True),
    # bincount
    "bincount": lambda m: m.bincount(m.tensor([1, 1, 3])),
    "bincount_minlength": lambda m: m.tensor([1, 1, 3]).bincount(minlength=6),
    "bincount_float_weights": lambda m: m.bincount(m.tensor([1, 1, 3]), m.tensor([0.5, 0.5, 1.0])),
    "bincount_double_weights": lambda m: m.bincount(m.tensor([0, 2]), m.tensor([0.5, 1.0]).double()),
    "bincount_int_weights": lambda m: m.bincount(m.tensor([1, 1, 3]), weights=m.tensor([1, 2, 3])),
    "bincount_half_weights": lambda m: m.bincount(m.tensor([1]), m.tensor([0.5], dtype=m.float16)),
    "bincount_uint8": lambda m: m.bincount(m.tensor([1, 4], dtype=m.uint8)),
    "bincount_empty": lambda m: m.bincount(m.tensor([], dtype=m.long), minlength=3),
    "bincount_weights_length": lambda m: m.bincount(m.tensor([1, 1, 3]), m.tensor([0.5, 0.5])),
    "bincount_negative": lambda m: m.bincount(m.tensor([1, -1, 3])),
    "bincount_float": lambda m: m.bincount(m.tensor([1.0, 3.0])),
    "bincount_bool": lambda m: m.bincount(m.tensor([True, False])),
    "bincount_2d": lambda m: m.bincount(m.tensor([[1, 1]])),
    "bincount_0d": lambda m: m.bincount(m.tensor(1)),
    "bincount_minlength_negative": lambda m: m.bincount(m.tensor([1]), minlength=-1),
    # atleast_nd, cartesian_prod
    "atleast_1d": lambda m: m.atleast_1d(m.tensor(1.0)),
    "atleast_2d": lambda m: (m.atleast_2d(m.tensor(1.0)), m.atleast_2d(m.ones(2))),
    "atleast_3d": lambda m: tuple(m.atleast_3d(m.ones(s)).shape for s in [(), (2,), (2, 3),
                                                                             (2, 3, 4, 5)]),
    "atleast_several": lambda m: m.atleast_1d(m.tensor(1.0), m.ones(2)),
    "atleast_list": lambda m: m.atleast_2d([m.tensor(1.0)]),
    "atleast_none": lambda m: m.atleast_3d(),
    "atleast_number": lambda m: m.atleast_1d(1.0),
    "cartesian_prod": lambda m: m.cartesian_prod(m.tensor([1, 2]), m.tensor([3, 4, 5]),
                                                 m.tensor([6, 7])),
    "cartesian_prod_one": lambda m: m.cartesian_prod(m.tensor([1, 2])),
    "cartesian_prod_empty": lambda m: m.cartesian_prod(m.tensor([]), m.tensor([1.0])),
    "cartesian_prod_dtypes": lambda m: m.cartesian_prod(m.tensor([1, 2]), m.tensor([3.0])),
    "cartesian_prod_2d": lambda m: m.cartesian_prod(m.tensor([[1, 2]])),
    "cartesian_prod_0d": lambda m: m.cartesian_prod(m.tensor(1), m.tensor([1, 2])),
    "cartesian_prod_none": lambda m: m.cartesian_prod(),
    # unique with dim
    "unique_dim0": lambda m: m.unique(m.tensor([[1, 2], [3, 4], [1, 2], [0, 9]]), dim=0,
                                      return_inverse=True, return_counts=True),
    "unique_dim1": lambda m: m.unique(m.tensor([[1, 2, 1], [3, 4, 3]]), dim=1,
                                      return_inverse=True, return_counts=True),
    "unique_dim_negative": lambda m: m.tensor([[1, 2], [1, 2]]).unique(dim=-2, return_inverse=True),
    "unique_dim_3d": lambda m: [m.unique(m.tensor([[[1, 2], [1, 2]], [[0, 1], [1, 2]],
                                                    [[1, 2], [1, 2]]]), dim=d, return_inverse=True,
                                          return_counts=True) for d in range(3)],
    "unique_dim_bool": lambda m: m.unique(m.tensor([[True, False], [True, False]]), dim=0),
    "unique_dim_nan": lambda m: m.unique(m.tensor([[float("nan"), 1.0], [float("nan"), 1.0]]),
                                         dim=0, return_counts=True),
    "unique_nan": lambda m: m.unique(m.tensor([float("nan"), 2.0, float("nan"), 1.0]),
                                     return_counts=True),
    "unique_flat": lambda m: m.unique(m.tensor([[3, 1], [2, 1]]), return_inverse=True,
                                      return_counts=True),
    "unique_0d": lambda m: m.unique(m.tensor(3.0), return_inverse=True),
    "unique_0d_dim": lambda m: m.unique(m.tensor(3.0), dim=0),
    "unique_dim_range": lambda m: m.unique(m.ones(2, 2), dim=2),
    "unique_empty_dim": lambda m: m.unique(m.ones(0, 3), dim=0, return_inverse=True,
                                           return_counts=True),
    "unique_zero_sized_other": lambda m: m.unique(m.ones(2, 0), dim=0),
    # det
    "det": lambda m: m.det(m.tensor([[1.0, 2.0], [3.0, 4.0]])),
    "det_batch": lambda m: m.linalg.det(m.tensor([[[1.0, 2.0], [3.0, 4.0]], [[2.0, 0], [0, 2.0]]])),
    "det_method": lambda m: m.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]]).det(),
    "det_empty": lambda m: (m.det(m.ones(0, 0)), m.det(m.ones(3, 0, 0))),
    "det_not_square": lambda m: m.det(m.ones(2, 3)),
    "det_int": lambda m: m.det(m.ones(2, 2, dtype=m.long)),
    "det_vector": lambda m: m.det(m.ones(2)),
    # unfold
    "unfold": lambda m: m.arange(24.0).reshape(2, 3, 4).unfold(-1, 2, 1),
    "unfold_step": lambda m: m.arange(24.0).reshape(2, 3, 4).unfold(1, 2, 2),
    "unfold_size0": lambda m: m.arange(6.0).unfold(0, 0, 1),
    "unfold_0d": lambda m: (m.tensor(3.0).unfold(0, 1, 1), m.tensor(3.0).unfold(-1, 0, 2)),
    "unfold_step0": lambda m: m.arange(6.0).unfold(0, 2, 0),
    "unfold_size_negative": lambda m: m.arange(6.0).unfold(0, -1, 1),
    "unfold_too_big": lambda m: m.arange(6.0).unfold(0, 7, 1),
    "unfold_0d_too_big": lambda m: m.tensor(3.0).unfold(0, 2, 1),
    "unfold_dim": lambda m: m.arange(6.0).unfold(1, 1, 1),
    # random ops' deterministic corners and errors
    "bernoulli_certain": lambda m: (m.bernoulli(m.tensor([0.0, 1.0, 1.0, 0.0])),
                                    m.bernoulli(m.ones(3), 0.0), m.ones(2, 2).bernoulli(1.0)),
    "bernoulli_p_range": lambda m: m.bernoulli(m.full((3,), 1.5)),
    "bernoulli_nan": lambda m: m.bernoulli(m.full((3,), float("nan"))),
    "bernoulli_int": lambda m: m.bernoulli(m.ones(3, dtype=m.long)),
    "bernoulli_int_method": lambda m: m.ones(3, dtype=m.long).bernoulli(),
    "bernoulli__certain": lambda m: (m.ones(3).bernoulli_(0.0), m.ones(3, dtype=m.long).bernoulli_(1),
                                     m.ones(3, dtype=m.bool).bernoulli_(0.0),
                                     m.ones(3).double().bernoulli_(m.tensor([0.0, 1.0, 1.0])),
                                     m.zeros(2, 3).bernoulli_(m.tensor([1.0, 0.0, 1.0]))),
    "bernoulli__p_range": lambda m: m.ones(3).bernoulli_(1.5),
    "bernoulli__tensor_p_range": lambda m: m.ones(3).bernoulli_(m.tensor([0.0, 1.0, 1.5])),
    "bernoulli__p_shape": lambda m: m.ones(3).bernoulli_(m.tensor([[0.0, 1.0, 1.0]])),
    "multinomial_certain": lambda m: (m.multinomial(m.tensor([0.0, 1.0]), 3, replacement=True),
                                      m.multinomial(m.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0]]), 1)),
    "multinomial_too_many": lambda m: m.multinomial(m.tensor([0.0, 1.0]), 3),
    "multinomial_zero_sum": lambda m: m.multinomial(m.tensor([0.0, 0.0]), 1),
    "multinomial_zero_row": lambda m: m.multinomial(m.tensor([[1.0, 1.0], [0.0, 0.0]]), 1),
    "multinomial_negative": lambda m: m.multinomial(m.tensor([-1.0, 1.0]), 1),
    "multinomial_nan": lambda m: m.multinomial(m.tensor([float("nan"), 1.0]), 1),
    "multinomial_inf": lambda m: m.multinomial(m.tensor([float("inf"), 1.0]), 1),
    "multinomial_int": lambda m: m.multinomial(m.tensor([1, 1]), 1),
    "multinomial_0d": lambda m: m.multinomial(m.tensor(1.0), 1),
    "multinomial_3d": lambda m: m.multinomial(m.ones(2, 2, 2), 1),
    "multinomial_no_samples": lambda m: m.multinomial(m.ones(2), 0),
    "multinomial_negative_samples": lambda m: m.multinomial(m.ones(2), -1),
    "multinomial_float_samples": lambda m: m.multinomial(m.ones(3), 2.0),
    "multinomial_bool_samples": lambda m: m.multinomial(m.ones(3), True),
    "multinomial_no_categories": lambda m: m.multinomial(m.ones(0), 1),
    "multinomial_no_rows": lambda m: m.multinomial(m.ones(0, 2), 1),
    "multinomial_shapes": lambda m: (m.multinomial(m.ones(2, 3), 2).shape,
                                     m.ones(3).multinomial(5, True).shape,
                                     m.multinomial(m.ones(3, 2, dtype=m.float64), 3, True).dtype),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = run_both(torch, PROGRAMS[name])
    assert_same(ours, theirs, name)


def test_differentiable_ops_match_torchs_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3))
    b = rng.standard_normal((4, 3))
    c = np.abs(rng.standard_normal((4, 3))) + 0.5
    rows = np.array([3, 0, 3])
    anchor = [lambda x, y, z: (x + y + z).sum() * 0, lambda x, y, z: (x + y + z).sum() * 0]
    for ours, theirs in [
            (lambda x, y, z: tn.index_add(x, 0, tn.tensor(rows), y[:3], alpha=-2),
             lambda x, y, z: torch.index_add(x, 0, torch.tensor(rows), y[:3], alpha=-2)),
            (lambda x, y, z: x.index_fill(1, tn.tensor([2, -3]), 1.5) * y,
             lambda x, y, z: x.index_fill(1, torch.tensor([2, -3]), 1.5) * y),
            (lambda x, y, z: x.index_fill(0, tn.tensor([1]), z[0, 0]) * y,
             lambda x, y, z: x.index_fill(0, torch.tensor([1]), z[0, 0]) * y),
            (lambda x, y, z: x.index_copy(1, tn.tensor([2, 0]), y[:, :2]),
             lambda x, y, z: x.index_copy(1, torch.tensor([2, 0]), y[:, :2])),
            (lambda x, y, z: tn.addcmul(x, y, z, value=-0.5), lambda x, y, z: torch.addcmul(
                x, y, z, value=-0.5)),
            (lambda x, y, z: tn.addcdiv(x, y, z, value=3), lambda x, y, z: torch.addcdiv(
                x, y, z, value=3)),
            (lambda x, y, z: tn.fmod(x * 3, z), lambda x, y, z: torch.fmod(x * 3, z)),
            (lambda x, y, z: tn.fmod(x * 3, 0.7), lambda x, y, z: torch.fmod(x * 3, 0.7)),
            (lambda x, y, z: x.unfold(0, 2, 1) * y.unfold(0, 2, 1),
             lambda x, y, z: x.unfold(0, 2, 1) * y.unfold(0, 2, 1)),
            (lambda x, y, z: x.unfold(1, 2, 2).sin(), lambda x, y, z: x.unfold(1, 2, 2).sin()),
            (lambda x, y, z: tn.cartesian_prod(x[0], y[1]).prod(1),
             lambda x, y, z: torch.cartesian_prod(x[0], y[1]).prod(1)),
            (lambda x, y, z: tn.atleast_3d(x[0]) * 2, lambda x, y, z: torch.atleast_3d(x[0]) * 2),
            (lambda x, y, z: tn.det(x[:3] + 2 * z[:3]), lambda x, y, z: torch.det(x[:3] + 2 * z[:3])),
            (lambda x, y, z: tn.linalg.det(tn.stack([x[:3], y[:3]])),
             lambda x, y, z: torch.linalg.det(torch.stack([x[:3], y[:3]]))),
            (lambda x, y, z: x.scatter(0, tn.tensor([[1, 2, 0]]), y[:1]),
             lambda x, y, z: x.scatter(0, torch.tensor([[1, 2, 0]]), y[:1]))]:
        # every input joins the graph (adding 0), so each gets a gradient, zero or not
        assert_matches_torch(torch, lambda *xs, f=ours: f(*xs) + anchor[0](*xs),
                             lambda *xs, f=theirs: f(*xs) + anchor[1](*xs), a, b, c)


def test_in_place_ops_match_torch_and_follow_the_in_place_rules():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    base, other = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    programs = [
        lambda t, o, m: t.scatter_(0, m.tensor([[1, 2, 0]]), o[:1]),
        lambda t, o, m: t.scatter_(1, m.tensor([[0], [2], [1], [0]]), -1.0),
        lambda t, o, m: t.scatter_(0, m.tensor([[1, 1, 0]]), o[:1], reduce="add"),
        lambda t, o, m: t.scatter_(0, m.tensor([[1, 1, 0]]), 2.0, reduce="multiply"),
        lambda t, o, m: t.scatter_add_(0, m.tensor([[1, 1, 0], [1, 3, 3]]), o[:2]),
        lambda t, o, m: t.index_add_(0, m.tensor([3, 3, 0]), o[:3], alpha=0.5),
        lambda t, o, m: t.index_fill_(1, m.tensor([0, -1]), 7.0),
        lambda t, o, m: t.index_copy_(0, m.tensor([2, 0]), o[:2]),
        lambda t, o, m: t.addcmul_(o, o[0], value=2),
        lambda t, o, m: t.addcdiv_(o, o.abs() + 1, value=-1),
        lambda t, o, m: t.fmod_(0.3),
        lambda t, o, m: t.fmod_(o.abs() + 0.1)]
    for i, program in enumerate(programs):
        ours, theirs = tn.tensor(base), torch.tensor(base)
        view = ours[1:]  # a view sees the change
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            returned = program(ours, tn.tensor(other), tn)
            program(theirs, torch.tensor(other), torch)
        assert returned is ours and ours._version == theirs._version == 1, i
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=str(i))
        np.testing.assert_array_equal(view.numpy(), ours.numpy()[1:])
        leaf, torch_leaf = tn.tensor(base, requires_grad=True), torch.tensor(base, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            program(leaf, tn.tensor(other), tn)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            program(torch_leaf, torch.tensor(other), torch)
        with tn.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program(leaf, tn.tensor(other), tn)
        assert leaf.is_leaf and leaf._version == 1


def test_in_place_ops_are_differentiable_through_their_other_arguments():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    base, other = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    programs = [
        lambda t, o, m: t.index_add_(0, m.tensor([3, 3, 0]), o[:3] * o[:3], alpha=2),
        lambda t, o, m: t.index_copy_(1, m.tensor([2]), o[:, :1].exp()),
        lambda t, o, m: t.index_fill_(0, m.tensor([1, 2]), o[0, 0] * 3),
        lambda t, o, m: t.scatter_(1, m.tensor([[2], [0], [1], [1]]), o[:, :1] ** 2),
        lambda t, o, m: t.scatter_add_(1, m.tensor([[2], [0], [1], [1]]), o[:, 1:2].sin()),
        lambda t, o, m: t.addcmul_(o, o.cos()),
        lambda t, o, m: t.addcdiv_(o, o * o + 1, value=0.5)]
    for i, program in enumerate(programs):
        grads = []
        for lib in (tn, torch):
            x = lib.tensor(base, requires_grad=True)
            o = lib.tensor(other, requires_grad=True)
            t = x * 2
            program(t, o, lib)
            (t * t).sum().backward()
            grads.append((x.grad.numpy(), o.grad.numpy(), t.detach().numpy()))
        for ours, theirs in zip(*grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=str(i))


def test_scatter_reduce_has_no_derivative_and_warns_with_a_tensor_src():
    x = tn.ones(3, requires_grad=True)
    with pytest.warns(UserWarning, match="reduce argument") as caught:
        y = x.scatter(0, tn.tensor([0, 0]), tn.tensor([2.0, 3.0]), reduce="multiply")
    assert caught[0].filename == __file__  # it points at the caller's line
    assert y.tolist() == [6.0, 1.0, 1.0] and y.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        y.sum().backward()
    z = x * 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for a number src
        z.scatter_(0, tn.tensor([1]), 2.0, reduce="add")
    with pytest.raises(RuntimeError, match="derivative for aten::scatter_ is not implemented"):
        z.sum().backward()
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::bincount is not implemented"):
        tn.bincount(tn.tensor([0, 2]), w).sum().backward()


def test_index_fill_value_tensor_receives_the_gradient_of_what_it_fills():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        v = lib.tensor(2.0, requires_grad=True)
        lib.zeros(3, 2).index_fill(1, lib.tensor([1, 1]), v).sum().backward()
        assert v.grad.item() == 3.0


# --------------------------------------------------------------------------- Tensor.unfold is a view
def test_unfold_is_a_view_whose_in_place_changes_reach_the_base():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        x = lib.arange(6.0)
        windows = x.unfold(0, 2, 2)
        windows.add_(1)  # windows apart: every element once
        assert x.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] and x._version == windows._version == 1
        x.mul_(2)  # and the other way round
        assert windows.tolist() == [[2.0, 4.0], [6.0, 8.0], [10.0, 12.0]]
        windows.data[0] = -1.0
        assert x.tolist() == [-1.0, -1.0, 6.0, 8.0, 10.0, 12.0]


def test_overlapping_windows_refuse_in_place_writes_where_pytorchs_depend_on_the_order():
    torch = pytest.importorskip("torch")
    x = torch.zeros(4)
    x.unfold(0, 2, 1).add_(1)  # torch: each element gets one add per window that holds it
    assert x.tolist() == [1.0, 2.0, 2.0, 1.0]
    y = tn.zeros(4)
    with pytest.raises(RuntimeError, match="refers to a single memory location"):
        y.unfold(0, 2, 1).add_(1)
    assert y.tolist() == [0.0] * 4 and y._version == 0
    assert (y.unfold(0, 2, 1) * 2).shape == (3, 2)  # reading them is fine


def test_unfold_view_changed_in_place_under_grad_mode_raises_as_other_views_do():
    x = tn.arange(6.0, requires_grad=True) * 1
    windows = x.unfold(0, 2, 1)
    with pytest.raises(RuntimeError, match="view of another tensor"):
        windows.mul_(2)
    loss = (windows * windows).sum()
    x.add_(1)  # the base changed after its windows were saved for backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


# --------------------------------------------------------------------------- det
@pytest.mark.parametrize("matrix", [
    [[1.0, 2.0], [2.0, 4.0]],  # rank 1
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]],  # rank 2
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],  # rank 1
    [[0.0, 0.0], [0.0, 0.0]],
    [[5.0]],
])
def test_det_gradient_is_exact_at_singular_matrices(matrix):
    torch = pytest.importorskip("torch")
    a = np.array(matrix)
    x = tn.tensor(a, requires_grad=True)
    (grad,) = tn.grad(tn.det(x), [x])
    t = torch.tensor(a, requires_grad=True)
    (expected,) = torch.autograd.grad(torch.det(t), t, create_graph=True)  # torch's exact path
    np.testing.assert_allclose(grad.numpy(), expected.detach().numpy(), atol=1e-12)
    assert tn.gradcheck(tn.det, [x]) and tn.gradgradcheck(tn.det, [x])
    batch = tn.tensor(np.stack([a, a + np.eye(len(a))]), requires_grad=True)  # mixed batch
    assert tn.gradcheck(tn.det, [batch]) and tn.gradgradcheck(tn.det, [batch])


def test_det_matches_torch_on_a_batch_with_second_order():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((2, 3, 3))
    hessians = []
    for lib in (tn, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = (tn.grad if lib is tn else torch.autograd.grad)(lib.det(x).sum(), [x],
                                                               create_graph=True)
        (h,) = (tn.grad if lib is tn else torch.autograd.grad)((g * g).sum(), [x])
        hessians.append((g.detach().numpy(), h.numpy()))
    for ours, theirs in zip(*hessians):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert tn.det(tn.ones(2, 2, requires_grad=True)).grad_fn.name() == "LinalgDetBackward0"


# --------------------------------------------------------------------------- bernoulli
def test_bernoulli_follows_the_seed_and_its_probabilities():
    p = tn.linspace(0.0, 1.0, 11).expand(4000, 11)
    tn.manual_seed(7)
    first = tn.bernoulli(p)
    tn.manual_seed(7)
    again = p.bernoulli()
    assert first.dtype == tn.float32 and first.shape == (4000, 11)
    assert first.tolist() == again.tolist()
    assert set(np.unique(first.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(first.mean(0).numpy(), np.linspace(0, 1, 11), atol=0.03)
    assert first[:, 0].sum().item() == 0 and first[:, -1].sum().item() == 4000
    tn.manual_seed(8)
    assert tn.bernoulli(p).tolist() != first.tolist()
    fixed = tn.zeros(20000, dtype=tn.float64).bernoulli(0.25)
    assert fixed.dtype == tn.float64 and abs(fixed.mean().item() - 0.25) < 0.015


def test_bernoulli_has_a_zero_gradient_as_pytorchs():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        p = lib.full((5,), 0.5, requires_grad=True)
        out = lib.bernoulli(p)
        assert out.requires_grad and out.grad_fn.name() == "BernoulliBackward0"
        (out * 3).sum().backward()
        assert p.grad.tolist() == [0.0] * 5
    x = tn.tensor([0.3, 0.6], dtype=tn.float64, requires_grad=True)
    (g,) = tn.grad((tn.bernoulli(x) * x).sum(), [x], create_graph=True)  # d(b·x)/dx = b
    (gg,) = tn.grad((g * x).sum(), [x])
    assert gg.tolist() == g.tolist()  # b has no gradient: d(g·x)/dx = g


def test_bernoulli_in_place_follows_the_rules_the_seed_and_p():
    tn.manual_seed(3)
    t = tn.zeros(10000)
    view = t[:10]
    assert t.bernoulli_(0.7) is t and t._version == 1
    assert abs(t.mean().item() - 0.7) < 0.02 and view.tolist() == t[:10].tolist()
    tn.manual_seed(3)
    assert tn.zeros(10000).bernoulli_().tolist() != t.tolist()  # default p = 0.5
    tn.manual_seed(3)
    assert tn.ones(10000).bernoulli_(0.7).tolist() == t.tolist()
    rows = tn.zeros(5000, 3).bernoulli_(tn.tensor([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(rows.mean(0).numpy(), [0.1, 0.5, 0.9], atol=0.03)
    ints = tn.zeros(1000, dtype=tn.int64).bernoulli_(0.5)
    assert ints.dtype == tn.int64 and set(ints.tolist()) == {0, 1}
    leaf = tn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.bernoulli_(0.5)
    p = tn.full((3,), 0.5, requires_grad=True)
    hidden = tn.ones(3, requires_grad=True) * 2
    hidden.bernoulli_(p)
    (hidden * 5).sum().backward()  # as PyTorch's BernoulliBackward2: zero for both
    assert p.grad.tolist() == [0.0] * 3
    with pytest.raises(TypeError, match="generator"):
        tn.zeros(2).bernoulli_(0.5, generator=object())


def test_sampling_draws_from_a_generator_when_given_one():
    tn.manual_seed(0)
    shared = tn.rand(3)
    p = tn.full((50,), 0.5)
    weights = tn.ones(2, 10)
    draws = [(tn.bernoulli(p, generator=g), tn.zeros(50).bernoulli_(0.5, generator=g),
              tn.multinomial(weights, 4, generator=g), weights.multinomial(4, True, generator=g))
             for g in (tn.Generator().manual_seed(9), tn.Generator().manual_seed(9))]
    for ours, again in zip(*draws):
        assert ours.tolist() == again.tolist()
    tn.manual_seed(0)
    assert tn.rand(3).tolist() == shared.tolist()  # the shared generator was not used


# --------------------------------------------------------------------------- multinomial
def test_multinomial_with_replacement_draws_in_proportion_and_follows_the_seed():
    weights = tn.tensor([[1.0, 0.0, 3.0, 6.0], [5.0, 5.0, 0.0, 0.0]])
    tn.manual_seed(11)
    draws = tn.multinomial(weights, 20000, replacement=True)
    tn.manual_seed(11)
    assert weights.multinomial(20000, True).tolist() == draws.tolist()
    assert draws.dtype == tn.int64 and draws.shape == (2, 20000)
    for row, w in zip(draws.numpy(), weights.numpy()):
        frequencies = np.bincount(row, minlength=4) / row.size
        np.testing.assert_allclose(frequencies, w / w.sum(), atol=0.015)
        assert frequencies[w == 0].sum() == 0  # never a category of weight zero
    single = tn.multinomial(tn.tensor([0.2, 0.8], dtype=tn.float64), 10000, True)
    assert single.shape == (10000,) and abs(single.float().mean().item() - 0.8) < 0.02


def test_multinomial_without_replacement_draws_distinct_categories():
    tn.manual_seed(5)
    weights = tn.tensor([1.0, 2.0, 0.0, 7.0, 0.0])
    draws = tn.stack([tn.multinomial(weights, 3) for _ in range(3000)])
    for row in draws.tolist():
        assert len(set(row)) == 3 and sorted(row[:3]) == [0, 1, 3]  # positive weights first
    first = np.bincount(draws[:, 0].numpy(), minlength=5) / 3000
    np.testing.assert_allclose(first, [0.1, 0.2, 0.0, 0.7, 0.0], atol=0.03)
    everything = tn.multinomial(weights, 5)
    assert sorted(everything.tolist()) == [0, 1, 2, 3, 4] and set(everything[3:].tolist()) == {2, 4}
    tn.manual_seed(5)
    assert tn.multinomial(weights, 3).tolist() == draws[0].tolist()
    batch = tn.multinomial(tn.ones(4, 6), 6)
    assert all(sorted(r) == list(range(6)) for r in batch.tolist())


# --------------------------------------------------------------------------- small checks
def test_atleast_returns_the_tensor_itself_when_it_has_the_dims():
    x, v = tn.ones(2, 3), tn.ones(3)
    assert tn.atleast_1d(x) is x and tn.atleast_2d(x) is x and tn.atleast_3d(x) is not x
    assert tn.cartesian_prod(v) is v
    assert tn.atleast_1d() == () and isinstance(tn.atleast_1d([x]), tuple)


def test_unique_with_dim_agrees_with_torch_on_drawn_integer_tensors():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for _ in range(20):
        shape = tuple(rng.integers(1, 4, size=rng.integers(1, 4)))
        a = rng.integers(0, 2, size=shape)
        dim = int(rng.integers(-len(shape), len(shape)))
        ours = tn.unique(tn.tensor(a), dim=dim, return_inverse=True, return_counts=True)
        theirs = torch.unique(torch.tensor(a), dim=dim, return_inverse=True, return_counts=True)
        assert_same(ours, theirs, f"shape {shape} dim {dim}")


def test_one_argument_where_is_nonzero_as_a_tuple_usable_as_an_index():
    x = tn.tensor([[0.5, 0.0, -1.0], [0.0, 2.0, 0.0]])
    rows, cols = tn.where(x != 0)
    assert rows.tolist() == [0, 0, 1] and cols.tolist() == [0, 2, 1]
    assert x[tn.where(x > 0)].tolist() == [0.5, 2.0]
    assert tn.argwhere(x).tolist() == x.nonzero().tolist() == [[0, 0], [0, 2], [1, 1]]
    assert tn.where(x > 0, x, 0.0).tolist() == [[0.5, 0.0, 0.0], [0.0, 2.0, 0.0]]
