"""Indexing along a dim (gather, scatter, scatter_add, index_select, masked_fill/select, the
splits), triangles and diagonals, the strict matrix products (mm, bmm, mv, dot, outer, t) and
meshgrid: through the op factory, their errors, and against torch."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tinynet.testing import OpSpec, cases, check_op, op_settings, shapes

import tinynet as tn
from torch_oracle import assert_matches_torch


@st.composite
def gather_cases(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if d == dim else draw(st.integers(1, n))
                        for d, n in enumerate(shape))
    index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return (shape,), {"dim": dim, "index": index}


def np_gather(a, dim, index):
    cropped = a[tuple(slice(0, n) if d != dim else slice(None) for d, n in enumerate(index.shape))]
    return np.take_along_axis(cropped, index, axis=dim)


@st.composite
def scatter_cases(draw, unique=True):
    """An index with distinct targets along ``dim`` (scatter of repeats is order-dependent)."""
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    rows = draw(st.integers(1, shape[dim]))
    index_shape = tuple(rows if d == dim else draw(st.integers(1, n)) for d, n in enumerate(shape))
    columns = [draw(st.permutations(range(shape[dim])))[:rows]
               for _ in range(int(np.prod(index_shape)) // rows)]
    index = np.moveaxis(np.array(columns).T.reshape((rows,) + tuple(
        n for d, n in enumerate(index_shape) if d != dim)), 0, dim)
    if not unique:
        index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return (shape, index_shape), {"dim": dim, "index": np.ascontiguousarray(index)}


def np_scatter(a, src, dim, index, add=False):
    out = a.copy()
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    if add:
        np.add.at(out, tuple(grid), src)
    else:
        out[tuple(grid)] = src
    return out


@st.composite
def index_select_cases(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index = draw(hnp.arrays(np.int64, draw(st.integers(0, 4)),
                            elements=st.integers(0, shape[dim] - 1)))
    return (shape,), {"dim": dim, "index": index}


@st.composite
def mask_cases(draw):
    shape = draw(shapes())
    mask_shape = draw(hnp.broadcastable_shapes(shape, max_dims=len(shape)))
    return (shape,), {"mask": draw(hnp.arrays(np.bool_, mask_shape))}


@st.composite
def split_cases(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    sizes = draw(st.one_of(st.integers(1, n + 1),
                           st.lists(st.integers(0, n), min_size=1, max_size=3).filter(
                               lambda s: sum(s) <= n).map(lambda s: s + [n - sum(s)])))
    return (shape,), {"dim": dim, "sizes": sizes, "piece": draw(st.integers(0, 10))}


def np_split(a, dim, sizes, piece):
    n = a.shape[dim]
    if isinstance(sizes, int):
        sizes = [min(sizes, n - start) for start in range(0, n, sizes)]
    pieces = np.split(a, np.cumsum(sizes)[:-1], axis=dim)
    return pieces[piece % len(pieces)]


def tn_split(a, dim, sizes, piece):
    pieces = a.split(sizes, dim)
    return pieces[piece % len(pieces)]


@st.composite
def chunk_cases(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    return (shape,), {"dim": dim, "chunks": draw(st.integers(1, 5)), "piece": draw(st.integers(0, 5))}


def np_chunk(a, dim, chunks, piece):
    step = -(-a.shape[dim] // chunks)
    return np_split(a, dim, step, piece)


def tn_chunk(a, dim, chunks, piece):
    pieces = tn.chunk(a, chunks, dim)
    return pieces[piece % len(pieces)]


def matrices(min_dims=2, max_dims=3):
    return shapes(min_dims=min_dims, max_dims=max_dims)


@st.composite
def diagonal_cases(draw):
    shape = draw(shapes(min_dims=2))
    d1, d2 = draw(st.permutations(range(len(shape))))[:2]
    return (shape,), {"offset": draw(st.integers(-3, 3)), "dim1": d1, "dim2": d2}


def product_cases(signature):
    return hnp.mutually_broadcastable_shapes(signature=signature, max_dims=0, max_side=3).map(
        lambda b: (b.input_shapes, {}))


@st.composite
def bmm_cases(draw):
    b, n, m, p = (draw(st.integers(1, 3)) for _ in range(4))
    return ((b, n, m), (b, m, p)), {}


@st.composite
def meshgrid_cases(draw):
    count = draw(st.integers(1, 3))
    return tuple((draw(st.integers(1, 3)),) for _ in range(count)), {
        "indexing": draw(st.sampled_from(["ij", "xy"]))}


def tn_meshgrid(*vectors, indexing):
    """The grids weighted 1, 2, 3… and added, so every input's gradient is checked."""
    return sum((i + 1) * g for i, g in enumerate(tn.meshgrid(*vectors, indexing=indexing)))


def np_meshgrid(*vectors, indexing):
    return sum((i + 1) * g for i, g in enumerate(np.meshgrid(*vectors, indexing=indexing)))


SPECS = [
    OpSpec("gather", lambda a, dim, index: a.gather(dim, tn.tensor(index)), gather_cases(),
           np_gather),
    OpSpec("scatter", lambda a, src, dim, index: tn.scatter(a, dim, tn.tensor(index), src),
           scatter_cases(), np_scatter),
    OpSpec("scatter_value", lambda a, src, dim, index: a.scatter(dim, tn.tensor(index), value=0.5) * 1
           + 0 * src.sum(), scatter_cases(),
           lambda a, src, dim, index: np_scatter(a, np.full(index.shape, 0.5), dim, index)),
    OpSpec("scatter_add", lambda a, src, dim, index: a.scatter_add(dim, tn.tensor(index), src),
           scatter_cases(unique=False), lambda a, src, dim, index: np_scatter(a, src, dim, index, True)),
    OpSpec("index_select", lambda a, dim, index: tn.index_select(a, dim, tn.tensor(index)),
           index_select_cases(), lambda a, dim, index: np.take(a, index, axis=dim)),
    OpSpec("masked_fill", lambda a, mask: a.masked_fill(tn.tensor(mask), -3.0), mask_cases(),
           lambda a, mask: np.where(mask, -3.0, a)),
    OpSpec("masked_fill_tensor_value", lambda a, v, mask: a.masked_fill(tn.tensor(mask), v.sum()),
           mask_cases().map(lambda c: ((c[0][0], ()), c[1])),
           lambda a, v, mask: np.where(mask, v, a)),
    OpSpec("masked_select", lambda a, mask: a.masked_select(tn.tensor(mask)), mask_cases(),
           lambda a, mask: a[np.broadcast_to(mask, np.broadcast_shapes(mask.shape, a.shape))]
           if a.ndim >= mask.ndim else np.broadcast_to(a, mask.shape)[mask]),
    OpSpec("split", tn_split, split_cases(), np_split),
    OpSpec("chunk", tn_chunk, chunk_cases(), np_chunk),
    OpSpec("narrow", lambda a, dim: a.narrow(dim, 0, 1), cases(shapes(min_dims=1), dim=0),
           lambda a, dim: a[:1]),
    OpSpec("select_unbind", lambda a: a.unbind(-1)[-1] + a.select(-1, 0),
           cases(shapes(min_dims=1)), lambda a: a[..., -1] + a[..., 0]),
    OpSpec("tril", lambda a, k: a.tril(k), cases(matrices(), k=st.integers(-3, 3)),
           lambda a, k: np.tril(a, k)),
    OpSpec("triu", lambda a, k: tn.triu(a, k), cases(matrices(), k=st.integers(-3, 3)),
           lambda a, k: np.triu(a, k)),
    OpSpec("diagonal", lambda a, offset, dim1, dim2: a.diagonal(offset, dim1, dim2),
           diagonal_cases(), lambda a, offset, dim1, dim2: np.diagonal(a, offset, dim1, dim2)),
    OpSpec("diag", lambda a, k: tn.diag(a, k), cases(shapes(min_dims=1, max_dims=2), k=st.integers(-2, 2)),
           lambda a, k: np.diag(a, k)),
    OpSpec("trace", lambda a: a.trace(), cases(matrices(max_dims=2)), np.trace),
    OpSpec("mm", lambda a, b: a.mm(b), product_cases("(m,n),(n,p)->(m,p)"), np.matmul),
    OpSpec("bmm", tn.bmm, bmm_cases(), np.matmul),
    OpSpec("mv", tn.mv, product_cases("(m,n),(n)->(m)"), np.matmul),
    OpSpec("dot", lambda a, b: a.dot(b), product_cases("(n),(n)->()"), np.dot),
    OpSpec("outer", tn.outer, product_cases("(n),(m)->(n,m)"), np.outer),
    OpSpec("t", lambda a: a.t(), cases(shapes(max_dims=2)), lambda a: a.T),
    OpSpec("meshgrid", tn_meshgrid, meshgrid_cases(), np_meshgrid),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- errors
def test_index_arguments_are_checked_like_pytorch():
    x = tn.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 1 with size 3"):
        x.gather(1, tn.tensor([[0, 5]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        x.gather(1, tn.tensor([[-1, 0]]))
    with pytest.raises(RuntimeError, match="integer"):
        x.gather(1, tn.tensor([[0.0, 1.0]]))
    with pytest.raises(RuntimeError, match="dims"):
        x.gather(1, tn.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="boolean"):
        x.masked_fill(tn.tensor([1, 0, 1]), 0.0)
    with pytest.raises(IndexError, match="vector"):
        x.index_select(1, tn.tensor([[0]]))
    with pytest.raises(RuntimeError, match="add up to 3"):
        x.split([1, 1], 1)
    with pytest.raises(RuntimeError, match="greater than 0"):
        x.chunk(0)
    with pytest.raises(TypeError, match="exactly one"):
        x.scatter(0, tn.tensor([[0]]))


def test_matrix_products_name_their_shapes():
    with pytest.raises(RuntimeError, match=r"mm: .*\(3,\)"):
        tn.mm(tn.ones(3), tn.ones(3, 2))
    with pytest.raises(RuntimeError, match=r"mm: shapes \(2, 3\) and \(4, 2\)"):
        tn.mm(tn.ones(2, 3), tn.ones(4, 2))
    with pytest.raises(RuntimeError, match="bmm"):
        tn.bmm(tn.ones(2, 2, 3), tn.ones(3, 3, 2))
    with pytest.raises(RuntimeError, match="dot"):
        tn.dot(tn.ones(3), tn.ones(4))
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        tn.ones(2, 3, 4).t()
    with pytest.raises(RuntimeError, match="mv"):
        tn.mv(tn.ones(2, 3), tn.ones(2))


def test_masked_fill_keeps_the_dtype_and_chunk_may_return_fewer_pieces():
    assert tn.tensor([1, 2]).masked_fill(tn.tensor([True, False]), 2.7).tolist() == [2, 2]
    assert [p.tolist() for p in tn.arange(5).chunk(3)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in tn.arange(6).chunk(4)] == [[0, 1], [2, 3], [4, 5]]
    assert [p.tolist() for p in tn.arange(5).split(2)] == [[0, 1], [2, 3], [4]]


def test_meshgrid_warns_like_pytorch_when_indexing_is_not_given():
    a, b = tn.tensor([1, 2]), tn.tensor([3, 4, 5])
    with pytest.warns(UserWarning, match="indexing"):
        x, y = tn.meshgrid(a, b)
    assert x.shape == (2, 3) and x.tolist() == [[1, 1, 1], [2, 2, 2]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, y = tn.meshgrid([a, b], indexing="xy")
    assert x.shape == (3, 2) and y.tolist() == [[3, 3], [4, 4], [5, 5]]


# --------------------------------------------------------------------------- against torch
def test_indexing_and_products_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    index = np.array([[0, 2, 1], [1, 1, 0]])
    rows = np.array([[0, 2, 1, 0]])
    mask = a > 0
    for tn_fn, torch_fn in [
            (lambda t: t.gather(1, tn.tensor(index)), lambda t: t.gather(1, torch.tensor(index))),
            (lambda t: t.scatter(0, tn.tensor(rows), t[:1] * 2),
             lambda t: t.scatter(0, torch.tensor(rows), t[:1] * 2)),
            (lambda t: t.scatter_add(1, tn.tensor(index), t[:2, :3]),
             lambda t: t.scatter_add(1, torch.tensor(index), t[:2, :3])),
            (lambda t: t.index_select(1, tn.tensor([3, 0, 3])),
             lambda t: t.index_select(1, torch.tensor([3, 0, 3]))),
            (lambda t: t.masked_fill(tn.tensor(mask), -1.0),
             lambda t: t.masked_fill(torch.tensor(mask), -1.0)),
            (lambda t: t.masked_select(tn.tensor(mask)), lambda t: t.masked_select(torch.tensor(mask))),
            (lambda t: t.chunk(3, 1)[1], lambda t: t.chunk(3, 1)[1]),
            (lambda t: t.split([1, 3], 1)[1], lambda t: t.split([1, 3], 1)[1]),
            (lambda t: t.tril(1) + t.triu(-1), lambda t: t.tril(1) + t.triu(-1)),
            (lambda t: tn.diag(t, 1), lambda t: torch.diag(t, 1)),
            (lambda t: tn.diag(t[0], -1), lambda t: torch.diag(t[0], -1)),
            (lambda t: t.diagonal(-1), lambda t: t.diagonal(-1)),
            (lambda t: t.trace() * t.mm(t.t()), lambda t: t.trace() * t.mm(t.t())),
            (lambda t: tn.mv(t, t[0]) + tn.dot(t[1], t[2]),
             lambda t: torch.mv(t, t[0]) + torch.dot(t[1], t[2])),
            (lambda t: tn.outer(t[0], t[1]), lambda t: torch.outer(t[0], t[1])),
            (lambda t: tn.bmm(t[None], t.T[None]), lambda t: torch.bmm(t[None], t.T[None]))]:
        assert_matches_torch(torch, tn_fn, torch_fn, a)


def test_a_zero_dim_integer_tensor_indexes_as_its_int_a_view():
    """PyTorch treats x[torch.tensor(1)] as x[1]: a view that writes through."""
    x = tn.zeros(3, 2)
    row = x[tn.tensor(1)]
    row += 1
    assert row.shape == (2,)
    np.testing.assert_array_equal(x.numpy(), [[0, 0], [1, 1], [0, 0]])
    y = tn.arange(6.0, requires_grad=True)
    y.reshape(2, 3)[tn.tensor(1), tn.tensor(0)].backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 0, 0, 1, 0, 0])
    mask = tn.tensor([True])  # a boolean index stays a mask
    assert tn.ones(1)[mask].shape == (1,)
