"""quantile, nanquantile, cov, corrcoef, aminmax, dist, renorm; addmv, addr, baddbmm, addbmm, vdot,
ger and the in-place add-products; diag_embed, diagflat, hsplit/vsplit/dsplit, split_with_sizes,
sum_to_size, slice_scatter, select_scatter, diagonal_scatter, put and index_reduce.

First every differentiable one through the op factory (float64 against a NumPy reference, first
and second order, with ``values=`` keeping ties away where the gradient has a kink), and every
in-place one through ``check_inplace``; then against PyTorch: values, dtypes and gradients on the
same inputs (``assert_matches_torch``), and small programs run on both libraries (``run_both``)
for dtypes, errors, edge cases (0-d, empty, NaN, integers) and in-place identity."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import (InplaceSpec, OpSpec, away_from_zero, broadcast_cases, cases,
                             check_inplace, check_op, distinct, numpy_axis, op_settings,
                             per_input, positive, shapes, unchanged)

import tinynet as tn
from test_pytorch_parity import run_both
from torch_oracle import assert_matches_torch

INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


# --------------------------------------------------------------------------- statistics
@st.composite
def quantile_cases(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    rank = max(len(shape), 1)
    return (shape,), {"q": draw(st.sampled_from([0.0, 0.3, 0.5, 1.0, [0.1, 0.75], [1.0, 0.0, 0.5]])),
                      "dim": draw(st.one_of(st.none(), st.integers(-rank, rank - 1))),
                      "keepdim": draw(st.booleans()),
                      "interpolation": draw(st.sampled_from(INTERPOLATIONS))}


def tn_quantile(a, q, dim, keepdim, interpolation, fn=tn.quantile):
    q = tn.tensor(q, dtype=tn.float64) if isinstance(q, list) else q
    return fn(a, q, dim, keepdim, interpolation=interpolation)


def np_quantile(a, q, dim, keepdim, interpolation):
    return np.quantile(a, q, axis=numpy_axis(dim, a.ndim), keepdims=keepdim, method=interpolation)


def q_between_ranks(arrays):
    """Values distinct, and each q in (0, 1) with q·4 (the rank among 5 values) at least 0.1 from
    a whole number, where the linear quantile's slope in q jumps."""
    a, q = arrays
    u = np.abs(q) % 1.0 * 4
    whole = np.floor(u)
    return [distinct()([a])[0], (whole + 0.1 + 0.8 * (u - whole)) / 4]


@st.composite
def cov_cases(draw, weights=False):
    variables = draw(st.sampled_from([None, 1, 2, 3]))
    observations = draw(st.integers(3, 5))
    shape = (observations,) if variables is None else (variables, observations)
    shapes_ = (shape, (observations,)) if weights else (shape,)
    # weighted, a correction of 2 can leave no degrees of freedom (PyTorch and NumPy differ there)
    return shapes_, {"correction": draw(st.sampled_from([0, 1] if weights else [0, 1, 2]))}


@st.composite
def reduce_dim_cases(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    rank = max(len(shape), 1)
    return (shape,), {"dim": draw(st.one_of(st.none(), st.integers(-rank, rank - 1))),
                      "keepdim": draw(st.booleans())}


def np_aminmax(a, dim, keepdim):
    axis = numpy_axis(dim, a.ndim)
    return np.min(a, axis=axis, keepdims=keepdim) + 2 * np.max(a, axis=axis, keepdims=keepdim)


def jittered(arrays):
    """Fixed noise added: no row constant (0/0) or exactly correlated with another (clipped at
    ±1, a kink), which drawn values like all ones would give."""
    return [a + np.random.default_rng(0).standard_normal(a.shape) for a in arrays]


def np_corrcoef(a):
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant row: NaN, as PyTorch
        return np.corrcoef(a)


def np_renorm(a, p, dim, maxnorm):
    axes = tuple(d for d in range(a.ndim) if d != dim % a.ndim)
    norm = np.sum(np.abs(a) ** p, axis=axes, keepdims=True) ** (1 / p)
    return a * np.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)


# --------------------------------------------------------------------------- products
@st.composite
def product_cases(draw, kind):
    b, n, m, p = (draw(st.integers(1, 3)) for _ in range(4))
    operands = {"addmv": [(n, m), (m,)], "addr": [(n,), (m,)], "baddbmm": [(b, n, m), (b, m, p)],
                "addbmm": [(b, n, m), (b, m, p)], "addmm": [(n, m), (m, p)]}[kind]
    result = {"addmv": (n,), "addr": (n, m), "baddbmm": (b, n, p), "addbmm": (n, p),
              "addmm": (n, p)}[kind]
    broadcastable = [result, result[-1:], (1,) * len(result), ()]
    if kind == "baddbmm":
        broadcastable.append(result[1:])
    target = draw(st.sampled_from(broadcastable))
    return (target, *operands), {"beta": draw(st.sampled_from([1, 0.5, 0])),
                                 "alpha": draw(st.sampled_from([1, -2.0]))}


def np_add_product(kind):
    def product(x, y):
        if kind == "addr":
            return np.outer(x, y)
        out = x @ y
        return out.sum(0) if kind == "addbmm" else out

    return lambda i, x, y, beta, alpha: beta * i + alpha * product(x, y)


def tn_add_product(kind):
    return lambda i, x, y, beta, alpha: getattr(tn, kind)(i, x, y, beta=beta, alpha=alpha)


@st.composite
def inplace_product_cases(draw, kind):
    (_, *operands), kwargs = draw(product_cases(kind))
    result = {"addmv": lambda: operands[0][:1], "addr": lambda: (operands[0][0], operands[1][0]),
              "baddbmm": lambda: operands[0][:2] + operands[1][2:],
              "addbmm": lambda: operands[0][1:2] + operands[1][2:],
              "addmm": lambda: (operands[0][0], operands[1][1])}[kind]()
    return (result, *operands), kwargs


# --------------------------------------------------------------------------- layout and scatters
@st.composite
def diag_embed_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    ndim = len(shape) + 1
    dim1, dim2 = draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2, unique=True))
    dim1, dim2 = (draw(st.sampled_from([d, d - ndim])) for d in (dim1, dim2))
    return (shape,), {"offset": draw(st.integers(-2, 2)), "dim1": dim1, "dim2": dim2}


def np_diag_embed(a, offset, dim1, dim2):
    n = a.shape[-1]
    size = n + abs(offset)
    out = np.zeros(a.shape[:-1] + (size, size))
    steps = np.arange(n)
    out[..., steps + max(-offset, 0), steps + max(offset, 0)] = a
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


@st.composite
def slice_scatter_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    start = draw(st.one_of(st.none(), st.integers(-5, 5)))
    end = draw(st.one_of(st.none(), st.integers(-5, 5)))
    step = draw(st.integers(1, 3))
    length = len(range(*slice(start, end, step).indices(shape[dim])))
    src = tuple(length if d == dim % len(shape) else n for d, n in enumerate(shape))
    return (shape, src), {"dim": dim, "start": start, "end": end, "step": step}


def np_slice_scatter(a, src, dim, start, end, step):
    out = a.copy()
    out[(slice(None),) * (dim % a.ndim) + (slice(start, end, step),)] = src
    return out


@st.composite
def select_scatter_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = draw(st.integers(-shape[dim], shape[dim] - 1))
    src = tuple(n for d, n in enumerate(shape) if d != dim % len(shape))
    return (shape, src), {"dim": dim, "index": index}


def np_select_scatter(a, src, dim, index):
    out = a.copy()
    out[(slice(None),) * (dim % a.ndim) + (index,)] = src
    return out


@st.composite
def diagonal_scatter_cases(draw):
    shape = draw(shapes(min_dims=2, max_dims=3))
    ndim = len(shape)
    dim1, dim2 = draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2, unique=True))
    offset = draw(st.integers(-2, 2))
    src = np.diagonal(np.zeros(shape), offset, dim1, dim2).shape
    return (shape, src), {"offset": offset, "dim1": dim1 - draw(st.sampled_from([0, ndim])),
                          "dim2": dim2}


def np_diagonal_scatter(a, src, offset, dim1, dim2):
    out = a.copy()
    view = np.moveaxis(out, (dim1, dim2), (-2, -1))
    steps = np.arange(src.shape[-1])
    view[..., steps + max(-offset, 0), steps + max(offset, 0)] = src
    return out


@st.composite
def put_cases(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    n = int(np.prod(shape))
    accumulate = draw(st.booleans())
    if accumulate:
        positions = draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=6))
    else:  # one value per place: with repeats, which one stays is unspecified
        positions = draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=n, unique=True))
        positions = [p - n * draw(st.booleans()) for p in positions]
    index = np.array(positions, dtype=np.int64)
    index_shape = draw(st.sampled_from([(len(positions),), (1, len(positions))]))
    source_shape = draw(st.sampled_from([(len(positions),), (len(positions), 1)]))
    return (shape, source_shape), {"index": index.reshape(index_shape), "accumulate": accumulate}


def np_put(a, source, index, accumulate):
    out = a.copy().reshape(-1)
    positions = index.reshape(-1) % max(out.size, 1)
    if accumulate:
        np.add.at(out, positions, source.reshape(-1))
    else:
        out[positions] = source.reshape(-1)
    return out.reshape(a.shape)


@st.composite
def index_reduce_cases(draw, reduce):
    shape = draw(shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = draw(st.lists(st.integers(0, shape[dim] - 1), min_size=0, max_size=5))
    source = tuple(len(index) if d == dim % len(shape) else n for d, n in enumerate(shape))
    return (shape, source), {"dim": dim, "index": np.array(index, dtype=np.int64),
                             "reduce": reduce, "include_self": draw(st.booleans())}


def np_index_reduce(a, source, dim, index, reduce, include_self):
    out = a.copy()
    rows, slices = np.moveaxis(out, dim, 0), np.moveaxis(source, dim, 0)
    combine = {"prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
    for place in np.unique(index):
        values = slices[index == place]
        if include_self:
            values = np.concatenate([rows[place][None], values])
        rows[place] = combine(values, axis=0)
    return out


def tn_index_reduce(a, source, dim, index, reduce, include_self):
    return a.index_reduce(dim, tn.tensor(index), source, reduce, include_self=include_self)


@st.composite
def hsplit_cases(draw, name, min_dims):
    shape = list(draw(shapes(min_dims=min_dims, max_dims=min_dims + 1)))
    dim = {"hsplit": 0 if len(shape) == 1 else 1, "vsplit": 0, "dsplit": 2}[name]
    sections = draw(st.sampled_from([1, 2, [1], [0, 2], [-1, 5]]))
    if isinstance(sections, int):
        shape[dim] = sections * draw(st.integers(1, 2))
    return (tuple(shape),), {"sections": sections}


def weighted_pieces(lib_cat, pieces, dim):
    return lib_cat([p * (i + 1) for i, p in enumerate(pieces)], dim)


def split_spec(name, min_dims):
    dim = {"hsplit": lambda a: 0 if a.ndim == 1 else 1, "vsplit": lambda a: 0,
           "dsplit": lambda a: 2}[name]
    return OpSpec(name, lambda a, sections: weighted_pieces(
        tn.cat, getattr(tn, name)(a, sections), dim(a)), hsplit_cases(name, min_dims),
        lambda a, sections: weighted_pieces(np.concatenate, getattr(np, name)(a, sections), dim(a)))


@st.composite
def split_with_sizes_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    cuts = sorted(draw(st.lists(st.integers(0, shape[dim]), max_size=3)))
    sizes = np.diff([0, *cuts, shape[dim]]).tolist()
    return (shape,), {"sizes": sizes, "dim": dim}


@st.composite
def sum_to_size_cases(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    keep = draw(st.integers(0, len(shape)))
    size = tuple(n if draw(st.booleans()) else 1 for n in shape[len(shape) - keep:])
    return (shape,), {"size": size}


def np_sum_to_size(a, size):
    lead = a.ndim - len(size)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(size) if n == 1)
    return a.sum(axis=axes, keepdims=True).reshape(size) if axes else a


SPECS = [
    OpSpec("quantile", tn_quantile, quantile_cases(), np_quantile, values=distinct()),
    OpSpec("nanquantile", lambda a, **kw: tn_quantile(a, **kw, fn=tn.nanquantile),
           quantile_cases(), np_quantile, values=distinct()),
    OpSpec("quantile_q", lambda a, q: tn.quantile(a, q, -1),
           cases(st.sampled_from([(5,), (2, 5), (3, 1, 5)]), st.sampled_from([(), (1,), (3,)])),
           lambda a, q: np.quantile(a, q, axis=-1), values=q_between_ranks),
    OpSpec("nanquantile_q", lambda a, q: tn.nanquantile(a, q, -1, keepdim=True),
           cases(st.sampled_from([(5,), (2, 5)]), st.sampled_from([(), (2,)])),
           lambda a, q: np.quantile(a, q, axis=-1, keepdims=True), values=q_between_ranks),
    OpSpec("cov", lambda a, correction: tn.cov(a, correction=correction), cov_cases(),
           lambda a, correction: np.cov(a, ddof=correction)),
    OpSpec("cov_aweights", lambda a, w, correction: a.cov(correction=correction, aweights=w),
           cov_cases(weights=True),
           lambda a, w, correction: np.cov(a, ddof=correction, aweights=w),
           values=per_input(unchanged, positive(0.2))),
    OpSpec("corrcoef", tn.corrcoef, cases(st.sampled_from([(4,), (1, 5), (2, 4), (3, 5)])),
           np_corrcoef, values=jittered),
    OpSpec("aminmax", lambda a, dim, keepdim: (lambda r: r.min + 2 * r.max)(
        a.aminmax(dim=dim, keepdim=keepdim)), reduce_dim_cases(), np_aminmax, values=distinct()),
    OpSpec("dist", lambda a, b, p: tn.dist(a, b, p), broadcast_cases(2, p=st.sampled_from([1, 2, 3.5])),
           lambda a, b, p: np.linalg.norm(np.ravel(a - b), ord=p),
           values=per_input(lambda arrays: [arrays[0] + 5], unchanged)),
    OpSpec("renorm", lambda a, p, dim, maxnorm: a.renorm(p, dim, maxnorm),
           cases(shapes(min_dims=2, max_dims=3), p=st.sampled_from([2, 3]),
                 dim=st.integers(-2, 1), maxnorm=st.sampled_from([0.7, 1.7, 2.9])), np_renorm),
    *[OpSpec(kind, tn_add_product(kind), product_cases(kind), np_add_product(kind))
      for kind in ("addmv", "addr", "baddbmm", "addbmm")],
    OpSpec("vdot", tn.vdot, st.integers(1, 4).map(lambda n: (((n,), (n,)), {})), np.vdot),
    OpSpec("ger", lambda a, b: a.ger(b), cases(shapes(1, 1), shapes(1, 1)), np.outer),
    OpSpec("diag_embed", lambda a, **kw: a.diag_embed(**kw), diag_embed_cases(), np_diag_embed),
    OpSpec("diagflat", lambda a, offset: tn.diagflat(a, offset),
           cases(shapes(0, 2, max_side=3), offset=st.integers(-2, 2)),
           lambda a, offset: np.diagflat(a, offset)),
    OpSpec("slice_scatter", lambda a, s, **kw: tn.slice_scatter(a, s, **kw), slice_scatter_cases(),
           np_slice_scatter),
    OpSpec("select_scatter", lambda a, s, dim, index: a.select_scatter(s, dim, index),
           select_scatter_cases(), np_select_scatter),
    OpSpec("diagonal_scatter", lambda a, s, **kw: tn.diagonal_scatter(a, s, **kw),
           diagonal_scatter_cases(), np_diagonal_scatter),
    OpSpec("put", lambda a, s, index, accumulate: a.put(tn.tensor(index), s, accumulate),
           put_cases(), np_put),
    OpSpec("index_reduce_mean", tn_index_reduce, index_reduce_cases("mean"), np_index_reduce),
    OpSpec("index_reduce_prod", tn_index_reduce, index_reduce_cases("prod"), np_index_reduce,
           values=away_from_zero(0.3)),
    OpSpec("index_reduce_amax", tn_index_reduce, index_reduce_cases("amax"), np_index_reduce,
           values=distinct()),
    OpSpec("index_reduce_amin", tn_index_reduce, index_reduce_cases("amin"), np_index_reduce,
           values=distinct()),
    split_spec("hsplit", 1), split_spec("vsplit", 2), split_spec("dsplit", 3),
    OpSpec("split_with_sizes", lambda a, sizes, dim: weighted_pieces(
        tn.cat, a.split_with_sizes(sizes, dim), dim), split_with_sizes_cases(),
        lambda a, sizes, dim: weighted_pieces(np.concatenate, np.split(
            a, np.cumsum(sizes)[:-1], axis=dim), dim)),
    OpSpec("sum_to_size", lambda a, size: a.sum_to_size(size) * 1.0, sum_to_size_cases(),
           np_sum_to_size),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


def method_of(name):
    return lambda t, x, y, beta, alpha: getattr(t, name)(x, y, beta=beta, alpha=alpha)


INPLACE_SPECS = [
    *[InplaceSpec(f"{kind}_", method_of(f"{kind}_"), inplace_product_cases(kind),
                  np_add_product(kind)) for kind in ("addmm", "addmv", "addr", "baddbmm", "addbmm")],
    InplaceSpec("renorm_", lambda t, p, dim, maxnorm: t.renorm_(p, dim, maxnorm),
                cases(shapes(min_dims=2, max_dims=3), p=st.sampled_from([2, 3]),
                      dim=st.integers(-2, 1), maxnorm=st.just(1.7)), np_renorm),
    InplaceSpec("put_", lambda t, s, index, accumulate: t.put_(tn.tensor(index), s, accumulate),
                put_cases(), np_put),
    InplaceSpec("index_reduce_", lambda t, s, **kw: t.index_reduce_(
        kw["dim"], tn.tensor(kw["index"]), s, kw["reduce"], include_self=kw["include_self"]),
                index_reduce_cases("mean"), np_index_reduce),
]


@pytest.mark.parametrize("spec", INPLACE_SPECS, ids=str)
@given(data=st.data())
def test_inplace_op(spec, data):
    check_inplace(spec, data)


# --------------------------------------------------------------------------- against torch
NAN = float("nan")


def test_values_and_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((4, 2, 3))
    ties = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0]])
    with_nan = np.array([[1.0, NAN, 3.0, 0.5], [NAN, NAN, NAN, NAN], [4.0, 2.0, 1.0, 3.0]])
    q = np.array([0.05, 0.5, 0.9, 1.0])
    programs = []
    for i in INTERPOLATIONS:
        programs += [
            (lambda L, a, i=i: L.quantile(a, L.tensor([0.2, 0.5, 0.75], dtype=a.dtype), dim=1,
                                          keepdim=True, interpolation=i), (x,)),
            (lambda L, a, i=i: L.quantile(a, 0.4, interpolation=i), (y,)),
            (lambda L, a, i=i: L.nanquantile(a, L.tensor([0.3, 0.6], dtype=a.dtype), dim=-1,
                                             interpolation=i), (with_nan,)),
            (lambda L, a, i=i: L.quantile(a, 0.3, dim=0, interpolation=i), (with_nan,))]
    programs += [
        (lambda L, a, q: L.quantile(a, q, dim=1), (x, q)),  # q gets a gradient too
        (lambda L, a, q: L.nanquantile(a, q, dim=1), (with_nan, q)),
        (lambda L, a, q: L.quantile(a, q, dim=1, keepdim=True), (with_nan, q)),
        (lambda L, a, q: L.quantile(a, q), (ties, q)),
        (lambda L, a: L.cov(a), (x,)),
        (lambda L, a: L.cov(a, correction=0, fweights=L.tensor([1, 0, 3, 2, 1])), (x,)),
        (lambda L, a, w: L.cov(a, correction=2, fweights=L.tensor([1, 2, 3, 2, 1]), aweights=w),
         (x, rng.uniform(0.1, 1.0, 5))),
        (lambda L, a, w: L.cov(a, aweights=w), (x[0], rng.uniform(0.1, 1.0, 5))),
        (lambda L, a: L.corrcoef(a), (x,)),
        (lambda L, a: L.corrcoef(a), (np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [3.0, 1.0, 2.0]]),)),
        (lambda L, a: L.corrcoef(a[0]), (x,)),
        (lambda L, a: (lambda r: L.stack([r.min, r.max]))(L.aminmax(a)), (ties,)),
        (lambda L, a: (lambda r: r.min * 2 + r.max)(L.aminmax(a, dim=1, keepdim=True)), (ties,)),
        (lambda L, a: (lambda r: r.min - r.max)(L.aminmax(a, dim=0)), (ties,)),
        (lambda L, a: L.renorm(a, 2, 0, 1.5), (x,)),
        (lambda L, a: L.renorm(a, 1, -1, 2.0), (y,)),
        (lambda L, a: L.renorm(a, float("inf"), 1, 0.5), (y,)),
        (lambda L, a: a.renorm(3, 0, 100.0), (x,)),
        (lambda L, i, m, v: L.addmv(i, m, v, beta=0.5, alpha=-2), (x[:, 0], x, y[0, 0, :2].repeat(3)[:5])),
        (lambda L, i, a, b: L.addr(i, a, b, beta=2, alpha=0.5), (x, x[:, 1], x[0])),
        (lambda L, i, a, b: L.baddbmm(i, a, b, beta=0.5), (y[:, :, :2], y, y.swapaxes(1, 2)[:, :, :2])),
        (lambda L, i, a, b: L.addbmm(i, a, b, alpha=3), (y[0, :, :2], y, y.swapaxes(1, 2)[:, :, :2])),
        (lambda L, i, a, b: L.addbmm(i, a, b, beta=0), (np.full((2, 2), NAN), y, y.swapaxes(1, 2)[:, :, :2])),
        (lambda L, i, a, b: L.addr(i, a, b, beta=0), (np.full((3, 5), NAN), x[:, 1], x[0])),
        (lambda L, a, b: L.vdot(a, b), (x[0], x[1])),
        (lambda L, a, b: L.ger(a, b), (x[0], y[0, 0])),
        (lambda L, a: L.diag_embed(a, 1, 0, 2), (y,)),
        (lambda L, a: L.diagflat(a, -2), (x[:2],)),
        (lambda L, a, s: L.slice_scatter(a, s, 1, -4, None, 2), (x, x[:, :2] * 3)),
        (lambda L, a, s: L.select_scatter(a, s, 0, -1), (x, x[0] * 2)),
        (lambda L, a, s: L.diagonal_scatter(a, s, -1, 1, 0), (x, x[0, :3] * 2)),
        (lambda L, a, s: a.put(L.tensor([[0, -1], [4, 0]]), s, accumulate=True), (x, x[:2, :2])),
        (lambda L, a, s: a.put(L.tensor([0, -1, 3, 7]), s), (x, x[1, :4])),
    ]
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            programs.append((lambda L, a, s, r=reduce, inc=include_self: a.index_reduce(
                1, L.tensor([0, 3, 0, 0]), s, r, include_self=inc),
                (ties, np.array([[1.0, 3.0, 0.0, 3.0], [2.0, 2.0, 5.0, -2.0]]))))
    programs.append((lambda L, a, s: a.index_reduce(0, L.tensor([2, 2, 0]), s, "prod"),
                     (np.array([[0.0, 2.0], [3.0, 0.0], [1.0, 2.0]]),
                      np.array([[2.0, 0.0], [0.0, 1.0], [5.0, 3.0]]))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "index_reduce() is in beta"
        for program, arrays in programs:
            assert_matches_torch(torch, lambda *t, p=program: p(tn, *t),
                                 lambda *t, p=program: p(torch, *t), *arrays, rtol=1e-10)


def test_second_derivatives_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 5)), rng.uniform(0.2, 1.0, 5)
    for program, arrays in [
            (lambda L, a, w: L.cov(a, aweights=w).square().sum(), (x, w)),
            (lambda L, a: L.corrcoef(a).square().sum(), (x,)),
            (lambda L, a: L.quantile(a.square(), L.tensor([0.3, 0.6], dtype=a.dtype), dim=1).sum(), (x,)),
            (lambda L, a: L.renorm(a, 3, 0, 1.0).pow(3).sum(), (x,)),
            (lambda L, a: L.dist(a, a.flip(0) * 0.5, 3).square(), (x,))]:
        results = []
        for lib in (tn, torch):
            inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
            grads = lib.autograd.grad(program(lib, *inputs), inputs, create_graph=True)
            total = sum((g * lib.tensor(np.cos(a))).sum() for g, a in zip(grads, arrays))
            results.append([g.detach().numpy() for g in lib.autograd.grad(total, inputs)])
        for ours, theirs in zip(*results):
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def _inplace(name, shape, *args, **kwargs):
    """The tensor an in-place method changed (``args``: shapes become ones, lists tensors),
    whether it came back as itself, and its values."""
    def program(L):
        t = L.arange(float(np.prod(shape))).reshape(shape)
        made = [L.ones(a) if isinstance(a, tuple) else L.tensor(a) if isinstance(a, list) else a
                for a in args]
        returned = getattr(t, name)(*made, **kwargs)
        return [returned is t, t]
    return program


PROGRAMS = {
    # quantile and nanquantile: shapes, dtypes, NaN, errors
    "quantile_float32": lambda L: L.quantile(L.tensor([[1.0, 5.0, 2.0], [8.0, 3.0, 9.0]]),
                                             L.tensor([0.25, 0.5]), dim=0, keepdim=True),
    "quantile_keepdim_all": lambda L: L.quantile(L.arange(12.0).reshape(3, 4), 0.5, keepdim=True),
    "quantile_0d": lambda L: [L.quantile(L.tensor(3.0), 0.5),
                              L.quantile(L.tensor(3.0), L.tensor([0.5]), dim=0, keepdim=True)],
    "quantile_0d_q": lambda L: L.quantile(L.arange(8.0).reshape(2, 4), L.tensor(0.3), dim=-1),
    "quantile_int_q": lambda L: L.quantile(L.arange(6.0).reshape(2, 3), 1, dim=1),
    "quantile_nan": lambda L: [L.quantile(L.tensor([1.0, NAN, 3.0]), 0.5),
                               L.nanquantile(L.tensor([[1.0, NAN, 3.0], [NAN, NAN, NAN]]), 0.5, 1)],
    "quantile_nearest_halves": lambda L: L.quantile(
        L.tensor([1.0, 2.0, 4.0, 8.0, 10.0]), L.tensor([0.125, 0.375, 0.625]),
        interpolation="nearest"),
    "quantile_method": lambda L: L.arange(5.0).quantile(0.5, interpolation="higher"),
    "quantile_empty": lambda L: L.quantile(L.zeros(2, 0), 0.5, dim=0),
    "quantile_int_input": lambda L: L.quantile(L.arange(3), 0.5),
    "quantile_q_range": lambda L: L.quantile(L.arange(3.0), 1.5),
    "quantile_q_tensor_range": lambda L: L.quantile(L.arange(3.0), L.tensor([0.5, -0.1])),
    "quantile_q_dtype": lambda L: L.quantile(L.arange(3.0), L.tensor([0.5], dtype=L.float64)),
    "quantile_q_2d": lambda L: L.quantile(L.arange(3.0), L.tensor([[0.5]])),
    "quantile_bad_interpolation": lambda L: L.quantile(L.arange(3.0), 0.5, interpolation="mean"),
    "quantile_dim_out_of_range": lambda L: L.quantile(L.arange(3.0), 0.5, dim=1),
    "quantile_dim_tuple": lambda L: L.quantile(L.arange(3.0), 0.5, dim=(0,)),
    "quantile_q_list": lambda L: L.quantile(L.arange(3.0), [0.5]),
    # cov and corrcoef
    "cov_int": lambda L: L.cov(L.tensor([[1, 2, 4], [3, 1, 0]])),
    "cov_fweights_int": lambda L: L.cov(L.tensor([[1, 2, 4], [3, 1, 0]]),
                                        fweights=L.tensor([1, 2, 1])),
    "cov_aweights_dtypes": lambda L: [
        L.cov(L.ones(2, 3), aweights=L.tensor([1.0, 2.0, 0.5], dtype=L.float64)),
        L.cov(L.ones(2, 3, dtype=L.float64), aweights=L.tensor([1.0, 2.0, 0.5])),
        L.cov(L.tensor([[1, 2, 4], [3, 1, 0]]), aweights=L.tensor([1.0, 2.0, 1.0],
                                                                    dtype=L.float64))],
    "cov_both_weights": lambda L: L.cov(L.tensor([[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]]),
                                        correction=1, fweights=L.tensor([1, 2, 1]),
                                        aweights=L.tensor([1.0, 2.0, 0.5])),
    "cov_single_row": lambda L: [L.cov(L.tensor([[1.0, 2.0, 4.0]])), L.cov(L.tensor(2.0)),
                                 L.cov(L.tensor([[1.0], [2.0]]))],
    "cov_no_dof": lambda L: L.cov(L.tensor([[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]]), correction=3),
    "cov_empty": lambda L: [L.cov(L.zeros(0, 3)), L.cov(L.zeros(2, 0))],
    "cov_complex": lambda L: [L.cov(L.tensor([[1 + 2j, 3 - 1j, 0.5j], [2, 1j, -1 + 0j]])),
                              L.cov(L.tensor([[1 + 2j, 3 - 1j, 0.5j], [2, 1j, -1 + 0j]]),
                                    aweights=L.tensor([1.0, 2.0, 3.0]))],
    "cov_3d": lambda L: L.cov(L.zeros(2, 2, 2)),
    "cov_bool": lambda L: L.cov(L.tensor([True, False])),
    "cov_fweights_float": lambda L: L.cov(L.ones(2, 3), fweights=L.ones(3)),
    "cov_fweights_negative": lambda L: L.cov(L.ones(2, 3), fweights=L.tensor([1, -1, 1])),
    "cov_fweights_count": lambda L: L.cov(L.ones(2, 3), fweights=L.tensor([1, 1])),
    "cov_fweights_2d": lambda L: L.cov(L.ones(2, 3), fweights=L.ones(1, 3, dtype=L.long)),
    "cov_aweights_int": lambda L: L.cov(L.ones(2, 3), aweights=L.tensor([1, 1, 1])),
    "cov_aweights_zero": lambda L: L.cov(L.ones(2, 3), aweights=L.zeros(3)),
    "cov_correction_float": lambda L: L.cov(L.ones(2, 3), correction=0.5),
    "corrcoef_cases": lambda L: [L.corrcoef(L.tensor([[1, 2, 4], [3, 1, 0]])),
                                 L.corrcoef(L.tensor([1.0, 2.0, 4.0])),
                                 L.corrcoef(L.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]))],
    "corrcoef_3d": lambda L: L.corrcoef(L.zeros(2, 2, 2)),
    # aminmax
    "aminmax_types": lambda L: [list(L.aminmax(L.tensor([True, False]))),
                                list(L.aminmax(L.tensor([[3, 1], [2, 5]], dtype=L.int32), dim=-1)),
                                list(L.aminmax(L.tensor(3.0), dim=0, keepdim=True)),
                                list(L.aminmax(L.tensor([1.0, NAN]))),
                                list(L.aminmax(L.zeros(2, 0), dim=0))],
    "aminmax_fields": lambda L: [type(L.aminmax(L.ones(2))).__name__,
                                 L.aminmax(L.arange(4.0).reshape(2, 2), keepdim=True).max],
    "aminmax_empty": lambda L: L.aminmax(L.zeros(0)),
    "aminmax_empty_dim": lambda L: L.aminmax(L.zeros(2, 0), dim=1),
    "aminmax_dim_tuple": lambda L: L.aminmax(L.ones(2, 2), dim=(0, 1)),
    # dist and renorm
    "dist_ps": lambda L: [L.dist(L.tensor([[1.0, 2.0], [3.0, 4.0]]), L.tensor([1.0, 0.0]), p)
                          for p in (2, 1, 0, 3.5, math.inf, -math.inf, -1, 0.5)],
    "dist_dtypes": lambda L: [L.dist(L.ones(2), L.zeros(2, dtype=L.float64)),
                              L.dist(L.tensor(2.0), L.tensor(5.0)), L.dist(L.zeros(0), L.zeros(0))],
    "dist_int": lambda L: L.dist(L.tensor([1, 2]), L.tensor([1, 0])),
    "dist_shapes": lambda L: L.dist(L.zeros(2), L.zeros(3)),
    "dist_empty_min": lambda L: L.dist(L.zeros(0), L.zeros(0), -math.inf),
    "renorm_empty": lambda L: L.renorm(L.zeros(0, 3), 2, 0, 1.0),
    "renorm_1d": lambda L: L.renorm(L.ones(3), 2, 0, 1.0),
    "renorm_p0": lambda L: L.renorm(L.ones(2, 3), 0, 0, 1.0),
    "renorm_negative_maxnorm": lambda L: L.renorm(L.ones(2, 3), 2, 0, -1.0),
    "renorm_int": lambda L: L.renorm(L.ones(2, 3, dtype=L.long), 2, 0, 1.0),
    "renorm_dim": lambda L: L.renorm(L.ones(2, 3), 2, 2, 1.0),
    # the add-products: beta = 0, integers, bools, dtypes and shapes
    "addmv_beta0": lambda L: [L.addmv(L.tensor([NAN, 1.0]), L.ones(2, 3), L.ones(3), beta=0),
                              L.addmv(L.tensor(1.0), L.ones(2, 3), L.ones(3)),
                              L.addmv(L.tensor([1.0, 2.0]), L.ones(2, 0), L.ones(0), beta=2)],
    "addmv_int": lambda L: [L.addmv(L.tensor([1, 2]), L.ones(2, 3, dtype=L.long),
                                    L.ones(3, dtype=L.long), alpha=2.5, beta=s) for s in (1, 0.5)],
    "addmv_sizes": lambda L: L.addmv(L.ones(3), L.ones(2, 3), L.ones(3)),
    "addmv_vec_2d": lambda L: L.addmv(L.ones(2), L.ones(2, 3), L.ones(3, 1)),
    "addmv_dtypes": lambda L: L.addmv(L.ones(2, dtype=L.float64), L.ones(2, 3), L.ones(3)),
    "addr_promotes": lambda L: [L.addr(L.zeros(2, 3, dtype=L.float64), L.ones(2), L.ones(3)),
                                L.addr(L.ones(2, 2, dtype=L.long), L.ones(2), L.ones(2), beta=1.5),
                                L.addr(L.ones(2, 2, dtype=L.bool), L.ones(2, dtype=L.long),
                                       L.ones(2, dtype=L.long)),
                                L.addr(L.zeros(3), L.ones(2), L.ones(3))],
    "addr_bool": lambda L: [L.addr(L.tensor([[True, False]]), L.tensor([True]),
                                   L.tensor([False, True]), beta=b, alpha=a)
                            for b, a in ((False, True), (True, True), (2, 0), (0, 1))],
    "addr_int_alpha_float": lambda L: L.addr(L.zeros(2, 3, dtype=L.long), L.ones(2, dtype=L.long),
                                             L.ones(3, dtype=L.long), alpha=1.5),
    "addr_vec_2d": lambda L: L.addr(L.zeros(2, 3), L.ones(2, 1), L.ones(3)),
    "addr_input_shape": lambda L: L.addr(L.zeros(3, 3), L.ones(2), L.ones(3)),
    "baddbmm_cases": lambda L: [L.baddbmm(L.zeros(2, 1, 3), L.ones(2, 2, 4), L.ones(2, 4, 3),
                                          beta=0.5, alpha=2),
                                L.baddbmm(L.full((2, 2, 3), NAN), L.ones(2, 2, 4), L.ones(2, 4, 3),
                                          beta=0),
                                L.baddbmm(L.ones(1, 2, 2, dtype=L.long),
                                          L.ones(1, 2, 3, dtype=L.long),
                                          L.ones(1, 3, 2, dtype=L.long), alpha=2.5, beta=1.5)],
    "baddbmm_batches": lambda L: L.baddbmm(L.zeros(2, 2, 3), L.ones(2, 2, 4), L.ones(3, 4, 3)),
    "baddbmm_input": lambda L: L.baddbmm(L.zeros(3, 2, 3), L.ones(2, 2, 4), L.ones(2, 4, 3)),
    "baddbmm_dtypes": lambda L: L.baddbmm(L.zeros(2, 2, 3, dtype=L.float64), L.ones(2, 2, 4),
                                          L.ones(2, 4, 3)),
    "addbmm_cases": lambda L: [L.addbmm(L.zeros(3), L.ones(5, 2, 4), L.ones(5, 4, 3)),
                               L.addbmm(L.ones(2, 3), L.ones(0, 2, 4), L.ones(0, 4, 3), beta=2),
                               L.addbmm(L.ones(2, 2, dtype=L.long), L.ones(1, 2, 3, dtype=L.long),
                                        L.ones(1, 3, 2, dtype=L.long), alpha=2.5, beta=1.5)],
    "addbmm_batches": lambda L: L.addbmm(L.zeros(2, 3), L.ones(5, 2, 4), L.ones(4, 4, 3)),
    "addbmm_sizes": lambda L: L.addbmm(L.zeros(2, 3), L.ones(5, 2, 4), L.ones(5, 3, 3)),
    "addbmm_2d": lambda L: L.addbmm(L.zeros(2, 3), L.ones(2, 4), L.ones(5, 4, 3)),
    "addmm_dtypes": lambda L: L.addmm(L.ones(2, 2, dtype=L.float64), L.ones(2, 3), L.ones(3, 2)),
    "addmm_int": lambda L: L.addmm(L.ones(2, 2, dtype=L.long), L.ones(2, 3, dtype=L.long),
                                   L.ones(3, 2, dtype=L.long), alpha=2.5, beta=1.5),
    "vdot_cases": lambda L: [L.vdot(L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])),
                             L.vdot(L.tensor([1, 2]), L.tensor([3, 4])),
                             L.vdot(L.tensor([1 + 2j, 3j]), L.tensor([1 + 1j, 2 + 0j]))],
    "vdot_2d": lambda L: L.vdot(L.ones(2, 2), L.ones(2)),
    "vdot_sizes": lambda L: L.vdot(L.ones(3), L.ones(2)),
    "vdot_dtypes": lambda L: L.vdot(L.ones(3), L.ones(3, dtype=L.float64)),
    "ger_2d": lambda L: L.ger(L.ones(2, 1), L.ones(3)),
    # in place: the same tensor comes back, changed; the tensor is not broadcast
    "addmm_": _inplace("addmm_", (2, 3), (2, 4), (4, 3), beta=0.5, alpha=2),
    "addmv_": _inplace("addmv_", (2,), (2, 3), (3,), beta=2),
    "addr_": _inplace("addr_", (2, 3), [1.0, 2.0], [3.0, 4.0, 5.0], alpha=-1),
    "baddbmm_": _inplace("baddbmm_", (2, 2, 3), (2, 2, 4), (2, 4, 3), beta=0),
    "addbmm_": _inplace("addbmm_", (2, 3), (5, 2, 4), (5, 4, 3)),
    "renorm_": _inplace("renorm_", (2, 3), 2, 0, 2.0),
    "put_": _inplace("put_", (2, 3), [0, -1, 0], [1.0, 2.0, 3.0], accumulate=True),
    "index_reduce_": _inplace("index_reduce_", (2, 3), 1, [0, 2, 2],
                              [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "amax", include_self=False),
    "addmv_broadcast_self": lambda L: L.tensor(1.0).addmv_(L.ones(2, 3), L.ones(3)),
    "addmm_broadcast_self": lambda L: L.ones(2).addmm_(L.ones(2, 3), L.ones(3, 2)),
    # diag_embed, diagflat
    "diag_embed_cases": lambda L: [L.diag_embed(L.tensor([1, 2]), 1),
                                   L.diag_embed(L.arange(6.0).reshape(2, 3), -1, 0, 2),
                                   L.diag_embed(L.arange(6.0).reshape(2, 3), 1, 2, 0),
                                   L.diag_embed(L.zeros(2, 0), 2)],
    "diag_embed_same_dims": lambda L: L.diag_embed(L.ones(2, 3), 0, -1, 2),
    "diag_embed_dim_range": lambda L: L.diag_embed(L.ones(2, 3), 0, 3, 1),
    "diag_embed_0d": lambda L: L.diag_embed(L.tensor(1.0)),
    "diagflat_cases": lambda L: [L.diagflat(L.tensor(3.0)), L.diagflat(L.zeros(0), 1),
                                 L.diagflat(L.tensor([[True, False]]), -1)],
    # hsplit, vsplit, dsplit, split_with_sizes, sum_to_size
    "hsplit_cases": lambda L: [list(L.hsplit(L.arange(12.0).reshape(2, 6), 3)),
                               list(L.hsplit(L.arange(12.0).reshape(2, 6), [1, 4])),
                               list(L.hsplit(L.arange(12.0).reshape(2, 6), (1, 4))),
                               list(L.hsplit(L.arange(6), 2)),
                               list(L.hsplit(L.arange(12.0).reshape(2, 6), L.tensor(3)))],
    "hsplit_not_divisible": lambda L: L.hsplit(L.zeros(2, 6), 4),
    "hsplit_zero": lambda L: L.hsplit(L.zeros(2, 6), 0),
    "hsplit_negative": lambda L: L.hsplit(L.zeros(2, 6), -2),
    "hsplit_0d": lambda L: L.hsplit(L.tensor(1), 1),
    "hsplit_tensor_list": lambda L: L.hsplit(L.zeros(2, 6), L.tensor([1, 4])),
    "vsplit_cases": lambda L: [list(L.vsplit(L.arange(12.0).reshape(4, 3), 2)),
                               list(L.zeros(2, 6).vsplit([1]))],
    "vsplit_1d": lambda L: L.vsplit(L.arange(6), 2),
    "dsplit_cases": lambda L: [list(L.dsplit(L.arange(8.0).reshape(1, 2, 4), 2)),
                               list(L.zeros(1, 2, 4).dsplit([3, 3]))],
    "dsplit_2d": lambda L: L.dsplit(L.zeros(2, 6), 2),
    "dsplit_not_divisible": lambda L: L.dsplit(L.zeros(1, 2, 4), 3),
    "split_with_sizes_cases": lambda L: [list(L.arange(12.0).reshape(2, 6).split_with_sizes([2, 4], 1)),
                                         list(L.split_with_sizes(L.arange(4), [0, 3, 1])),
                                         list(L.zeros(2, 6).split_with_sizes((2, 4), dim=-1))],
    "split_with_sizes_sum": lambda L: L.zeros(2, 6).split_with_sizes([2, 3], 1),
    "split_with_sizes_negative": lambda L: L.zeros(2, 6).split_with_sizes([-1, 7], 1),
    "split_with_sizes_int": lambda L: L.zeros(2, 6).split_with_sizes(2, 1),
    "split_with_sizes_dim": lambda L: L.zeros(2, 6).split_with_sizes([1, 1], 2),
    "sum_to_size_cases": lambda L: [L.arange(12.0).reshape(2, 6).sum_to_size(1, 6),
                                    L.arange(12.0).reshape(2, 6).sum_to_size((2, 1)),
                                    L.arange(12.0).reshape(2, 6).sum_to_size(6),
                                    L.arange(12.0).reshape(2, 6).sum_to_size([1, 1]),
                                    L.tensor([[1, 2], [3, 4]], dtype=L.int32).sum_to_size(2),
                                    L.tensor([[True, False], [True, True]]).sum_to_size(1, 2),
                                    L.ones(2, 3, dtype=L.int32).sum_to_size(2, 3)],
    "sum_to_size_same_tensor": lambda L: (lambda t: t.sum_to_size(2, 6) is t)(L.zeros(2, 6)),
    "sum_to_size_bad": lambda L: L.zeros(2, 6).sum_to_size(3),
    "sum_to_size_more_dims": lambda L: L.zeros(2, 6).sum_to_size(1, 2, 6),
    "sum_to_size_nothing": lambda L: L.zeros(2, 6).sum_to_size(),
    # slice_scatter, select_scatter, diagonal_scatter
    "slice_scatter_cases": lambda L: [
        L.slice_scatter(L.zeros(4, 3), L.ones(2, 3), start=2),
        L.slice_scatter(L.zeros(4, 3), L.ones(4, 2), dim=1, step=2),
        L.slice_scatter(L.zeros(4, 3), L.ones(2, 3), start=1, end=-1),
        L.slice_scatter(L.zeros(4, 3), L.ones(4, 3), start=-10, end=100),
        L.slice_scatter(L.zeros(4, 3), L.ones(0, 3), start=3, end=1),
        L.slice_scatter(L.zeros(4, 3), L.ones(4, 1, dtype=L.long), dim=-1, start=1, end=2),
        L.zeros(4, 3).slice_scatter(L.ones(2, 3, dtype=L.float64), 0, 2)],
    "slice_scatter_shape": lambda L: L.slice_scatter(L.zeros(4, 3), L.ones(3, 3), start=2),
    "slice_scatter_broadcast": lambda L: L.slice_scatter(L.zeros(4, 3), L.ones(3), start=2),
    "slice_scatter_step": lambda L: L.slice_scatter(L.zeros(4, 3), L.ones(0, 3), step=0),
    "slice_scatter_0d": lambda L: L.slice_scatter(L.tensor(1.0), L.tensor(2.0)),
    "slice_scatter_dim": lambda L: L.slice_scatter(L.zeros(4, 3), L.zeros(4, 3), dim=2),
    "select_scatter_cases": lambda L: [
        L.select_scatter(L.zeros(4, 3), L.ones(3), 0, 1),
        L.select_scatter(L.zeros(4, 3), L.ones(4, dtype=L.float64), 1, -1),
        L.select_scatter(L.zeros(3), L.tensor(2.0), 0, 1)],
    "select_scatter_index": lambda L: L.select_scatter(L.zeros(4, 3), L.ones(3), 0, 4),
    "select_scatter_negative_index": lambda L: L.select_scatter(L.zeros(4, 3), L.ones(3), 0, -5),
    "select_scatter_shape": lambda L: L.select_scatter(L.zeros(4, 3), L.ones(1), 0, 1),
    "select_scatter_0d": lambda L: L.select_scatter(L.tensor(1.0), L.tensor(2.0), 0, 0),
    "diagonal_scatter_cases": lambda L: [
        L.diagonal_scatter(L.zeros(4, 3), L.ones(2), 1),
        L.diagonal_scatter(L.zeros(4, 3), L.ones(3), -1),
        L.diagonal_scatter(L.zeros(2, 3, 4), L.ones(3, 2), 0, 0, 2),
        L.diagonal_scatter(L.zeros(3, 4), L.ones(2), 1, 1, 0),
        L.diagonal_scatter(L.zeros(4, 3), L.ones(0), 5),
        L.diagonal_scatter(L.zeros(3, 3, dtype=L.long), L.ones(3))],
    "diagonal_scatter_shape": lambda L: L.diagonal_scatter(L.zeros(4, 3), L.ones(3), 1),
    "diagonal_scatter_same_dims": lambda L: L.diagonal_scatter(L.zeros(4, 3), L.ones(3), 0, 1, 1),
    "diagonal_scatter_1d": lambda L: L.diagonal_scatter(L.zeros(3), L.ones(3)),
    # put
    "put_cases": lambda L: [
        L.zeros(2, 3).put(L.tensor([0, -1]), L.tensor([1.0, 2.0])),
        L.zeros(2, 3).put(L.tensor([0, 0, 1]), L.tensor([1.0, 2.0, 3.0]), accumulate=True),
        L.put(L.zeros(2, 3), L.tensor([[0, 5]]), L.tensor([[1.0], [2.0]]), True),
        L.tensor(1.0).put(L.tensor(0), L.tensor(5.0)),
        L.zeros(3, dtype=L.long).put(L.tensor([1, 1]), L.tensor([2, 3]), accumulate=True),
        L.zeros(0).put(L.tensor([], dtype=L.long), L.tensor([]))],
    "put_int32_index": lambda L: L.zeros(3).put(L.tensor([0], dtype=L.int32), L.ones(1)),
    "put_float_index": lambda L: L.zeros(3).put(L.tensor([0.0]), L.ones(1)),
    "put_out_of_range": lambda L: L.zeros(2, 3).put(L.tensor([6]), L.ones(1)),
    "put_out_of_range_negative": lambda L: L.zeros(2, 3).put(L.tensor([-7]), L.ones(1)),
    "put_counts": lambda L: L.zeros(3).put(L.tensor([0, 1]), L.ones(3)),
    "put_dtypes": lambda L: L.zeros(3).put(L.tensor([0]), L.ones(1, dtype=L.float64)),
    "put_into_empty": lambda L: L.zeros(0).put(L.tensor([0]), L.ones(1)),
    "put_number": lambda L: L.zeros(3).put(L.tensor([0]), 1.0),
    # index_reduce
    "index_reduce_cases": lambda L: [
        L.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).index_reduce(
            0, L.tensor([0, 2, 0]), L.tensor([[2.0, 3.0], [4.0, 1.0], [0.5, 7.0]]), r,
            include_self=s) for r in ("prod", "mean", "amax", "amin") for s in (True, False)],
    "index_reduce_more": lambda L: [
        L.tensor([1, 2, 7]).index_reduce(0, L.tensor([0, 0, 2]), L.tensor([2, 4, 4]), "mean"),
        L.tensor([-1, 2, 7]).index_reduce(0, L.tensor([0, 0, 2]), L.tensor([-2, -4, 4]), "mean"),
        L.tensor([[1.0, 2.0, 3.0]]).index_reduce(1, L.tensor([1, 1, 0], dtype=L.int32),
                                                 L.ones(1, 3), "amax", include_self=False),
        L.tensor(2.0).index_reduce(0, L.tensor(0), L.tensor(3.0), "prod"),
        L.tensor(2.0).index_reduce(0, L.tensor([0]), L.tensor(3.0), "prod"),
        L.tensor([2.0, 1.0]).index_reduce(0, L.tensor(1), L.tensor([3.0]), "prod"),
        L.ones(3, 2).index_reduce(0, L.tensor([], dtype=L.long), L.ones(0, 2), "amax"),
        L.tensor([1.0, 2.0]).index_reduce(0, L.tensor([0, 0]), L.tensor([NAN, 3.0]), "amax"),
        L.index_reduce(L.ones(2), 0, L.tensor([1]), L.tensor([5.0]), "amin", include_self=False)],
    "index_reduce_sum": lambda L: L.ones(3).index_reduce(0, L.tensor([0]), L.ones(1), "sum"),
    "index_reduce_index_2d": lambda L: L.ones(3).index_reduce(0, L.tensor([[0]]), L.ones(1), "mean"),
    "index_reduce_index_float": lambda L: L.ones(3).index_reduce(0, L.tensor([0.0]), L.ones(1),
                                                                 "mean"),
    "index_reduce_index_range": lambda L: L.ones(3).index_reduce(0, L.tensor([3]), L.ones(1),
                                                                 "mean"),
    "index_reduce_index_negative": lambda L: L.ones(3).index_reduce(0, L.tensor([-1]), L.ones(1),
                                                                    "mean"),
    "index_reduce_count": lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0, 1]), L.ones(3, 2),
                                                              "mean"),
    "index_reduce_shape": lambda L: L.ones(3, 2).index_reduce(0, L.tensor([0, 1, 0]),
                                                              L.ones(3, 3), "mean"),
    "index_reduce_0d_self": lambda L: L.tensor(2.0).index_reduce(0, L.tensor([0]), L.ones(1),
                                                                 "prod"),
    "index_reduce_dtypes": lambda L: L.ones(3).index_reduce(0, L.tensor([0]),
                                                            L.ones(1, dtype=L.float64), "mean"),
    "index_reduce_bool": lambda L: L.tensor([True, False]).index_reduce(
        0, L.tensor([0]), L.tensor([False]), "amax"),
    "index_reduce_include_self_int": lambda L: L.ones(2).index_reduce(
        0, L.tensor([0]), L.ones(1), "prod", include_self=1),
    "index_reduce_index_list": lambda L: L.ones(2).index_reduce(0, [0], L.ones(1), "prod"),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
def test_program_agrees_with_pytorch(name):
    run_both(PROGRAMS[name])


def test_errors_name_the_op_and_what_was_expected():
    with pytest.raises(RuntimeError, match=r"quantile\(\) q must be in the range \[0, 1\] but got 2"):
        tn.quantile(tn.ones(3), 2)
    with pytest.raises(RuntimeError, match="nanquantile.*float or double.*int64"):
        tn.nanquantile(tn.arange(3), 0.5)
    with pytest.raises(RuntimeError, match=r"cov\(\): expected fweights to have integral dtype"):
        tn.cov(tn.ones(2, 3), fweights=tn.ones(3))
    with pytest.raises(RuntimeError, match=r"addmv: size mismatch, got input \(3,\), mat \(2x3\)"):
        tn.addmv(tn.ones(3), tn.ones(2, 3), tn.ones(3))
    with pytest.raises(RuntimeError, match="baddbmm: Input dtypes must be the same.*input float64"):
        tn.baddbmm(tn.ones(1, 2, 2, dtype=tn.float64), tn.ones(1, 2, 3), tn.ones(1, 3, 2))
    with pytest.raises(RuntimeError, match=r"slice_scatter\(\): expected src to have a size equal "
                                           r"to the slice of self. src size = \[3\], slice size "
                                           r"= \[2, 3\]"):
        tn.slice_scatter(tn.zeros(4, 3), tn.ones(3), start=2)
    with pytest.raises(IndexError, match=r"put_\(\): index 6 is out of range for a tensor of 6 "
                                         "elements"):
        tn.zeros(2, 3).put(tn.tensor([6]), tn.ones(1))
    with pytest.raises(RuntimeError, match=r"index_reduce\(\): Expected reduce to be one of prod, "
                                           "mean, amax or amin but got sum"):
        tn.ones(3).index_reduce(0, tn.tensor([0]), tn.ones(1), "sum")
    with pytest.raises(RuntimeError, match=r"torch.hsplit attempted to split along dimension 1, "
                                           "but the size of the dimension 6 is not divisible"):
        tn.hsplit(tn.zeros(2, 6), 4)
    with pytest.raises(RuntimeError, match=r"sum_to_size: size \{\[3\]\} is not expandable to "
                                           r"size \{\[2, 6\]\}"):
        tn.zeros(2, 6).sum_to_size(3)
    with pytest.raises(RuntimeError, match="renorm: non-positive-norm not supported"):
        tn.renorm(tn.ones(2, 2), 0, 0, 1.0)
    with pytest.raises(NotImplementedError, match="corrcoef.*complex"):
        tn.corrcoef(tn.tensor([1j, 2.0, 3.0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        assert np.isnan(tn.cov(tn.tensor(2.0)).item())
    assert any("cov(): degrees of freedom is <= 0" in str(w.message) for w in caught)


def test_views_share_memory_and_gradients_reach_their_source():
    x = tn.arange(12.0).reshape(2, 6)
    pieces = tn.hsplit(x, 3)
    pieces[1][0, 0] = 100.0  # a view: the change shows in x, as in PyTorch
    assert x[0, 2].item() == 100.0
    assert [p.shape for p in x.split_with_sizes([1, 1])] == [(1, 6), (1, 6)]
    a = tn.ones(2, 3, requires_grad=True)
    (a.sum_to_size(3) * tn.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert a.grad.tolist() == [[1.0, 2.0, 3.0]] * 2
    b = tn.tensor([1.0, 2.0], requires_grad=True)
    out = tn.diag_embed(b)
    assert out.grad_fn.name() == "DiagEmbedBackward0"
    assert tn.put(tn.zeros(2, requires_grad=True), tn.tensor([0]), tn.ones(1)).grad_fn.name() == \
        "PutBackward0"


def test_index_reduce_prod_double_backward_refuses_two_zeros_at_one_place():
    a = tn.ones(2, 2)
    source = tn.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, 0.0]], requires_grad=True)
    out = a.index_reduce(0, tn.tensor([0, 0, 0]), source, "prod")
    (grad,) = tn.grad(out.sum(), source, create_graph=True)
    with pytest.raises(RuntimeError, match="Double backward is unsupported"):
        tn.grad(grad.sum(), source)
