"""Running and whole products and sums (cumsum, cumprod, prod), ordering (sort, argsort, topk,
unique) and the moves (flip, roll, repeat, movedim): through the op factory, with zeros and
ties, and against torch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import (OpSpec, away_from_zero, check_case, check_op, distinct, op_settings,
                             shapes)

import tinynet as tn
from torch_oracle import assert_matches_torch


def with_zeros(arrays):
    """Small entries become exact zeros, so rows with none, one and several zeros are all drawn."""
    return [np.where(np.abs(a) < 0.6, 0.0, a) for a in arrays]


@st.composite
def along_a_dim(draw, min_dims=1, **extra):
    shape = draw(shapes(min_dims=min_dims))
    kwargs = {"dim": draw(st.integers(-len(shape), len(shape) - 1))} if shape else {"dim": 0}
    kwargs.update({k: draw(v) for k, v in extra.items()})
    return (shape,), kwargs


@st.composite
def topk_cases(draw):
    (shape,), kwargs = draw(along_a_dim(largest=st.booleans()))
    kwargs["k"] = draw(st.integers(0, shape[kwargs["dim"]]))
    return (shape,), kwargs


@st.composite
def prod_cases(draw):
    shape = draw(shapes())
    dim = draw(st.one_of(st.none(), st.integers(-max(len(shape), 1), max(len(shape), 1) - 1)))
    return (shape,), {"dim": dim, "keepdim": draw(st.booleans())}


def np_prod(a, dim, keepdim):
    if dim is None:
        return np.prod(a)
    return np.prod(a, axis=dim if a.ndim else None, keepdims=keepdim and a.ndim > 0)


def np_sort(a, dim, descending):
    out = np.sort(a, axis=dim)
    return np.flip(out, axis=dim) if descending else out


def np_topk(a, dim, largest, k):
    return np.take(np_sort(a, dim, largest), np.arange(k), axis=dim)


@st.composite
def roll_cases(draw):
    shape = draw(shapes(min_dims=1))
    dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    shifts = draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    return (shape,), {"shifts": tuple(shifts), "dims": tuple(dims)}


@st.composite
def repeat_cases(draw):
    shape = draw(shapes(max_dims=2, max_side=3))
    extra = draw(st.integers(0, 1))
    return (shape,), {"sizes": tuple(draw(st.lists(st.integers(0, 3), min_size=len(shape) + extra,
                                                    max_size=len(shape) + extra)))}


@st.composite
def movedim_cases(draw):
    shape = draw(shapes(min_dims=1))
    n = len(shape)
    source = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    destination = draw(st.permutations(range(n)).map(lambda p: p[:len(source)]))
    return (shape,), {"source": tuple(source), "destination": tuple(destination)}


SPECS = [
    OpSpec("cumsum", lambda a, dim: a.cumsum(dim), along_a_dim(min_dims=0),
           lambda a, dim: np.cumsum(a, axis=dim) if a.ndim else a),
    # without zeros the backward divides by the input (as PyTorch's does), so inputs many orders
    # of magnitude below the others lose precision in the second derivative: keep them apart
    OpSpec("cumprod", lambda a, dim: tn.cumprod(a, dim), along_a_dim(min_dims=0),
           lambda a, dim: np.cumprod(a, axis=dim) if a.ndim else a, values=away_from_zero(0.1)),
    OpSpec("cumprod_with_zeros", lambda a, dim: a.cumprod(dim), along_a_dim(),
           lambda a, dim: np.cumprod(a, axis=dim), values=with_zeros),
    OpSpec("prod", lambda a, dim, keepdim: a.prod(dim, keepdim), prod_cases(), np_prod,
           values=away_from_zero(0.1)),
    OpSpec("prod_with_zeros", lambda a, dim, keepdim: tn.prod(a, dim, keepdim), prod_cases(),
           np_prod, values=with_zeros),
    OpSpec("sort", lambda a, dim, descending: a.sort(dim, descending).values,
           along_a_dim(descending=st.booleans()), np_sort, values=distinct()),
    OpSpec("topk", lambda a, dim, largest, k: tn.topk(a, k, dim, largest).values, topk_cases(),
           np_topk, values=distinct()),
    OpSpec("flip", lambda a, dim: a.flip(dim), along_a_dim(), lambda a, dim: np.flip(a, dim)),
    OpSpec("roll", lambda a, shifts, dims: tn.roll(a, shifts, dims), roll_cases(),
           lambda a, shifts, dims: np.roll(a, shifts, dims)),
    OpSpec("roll_flat", lambda a, dim: a.roll(dim), along_a_dim(min_dims=0),
           lambda a, dim: np.roll(a, dim)),
    OpSpec("repeat", lambda a, sizes: a.repeat(*sizes), repeat_cases(),
           lambda a, sizes: np.tile(a, sizes)),
    OpSpec("movedim", lambda a, source, destination: a.movedim(source, destination),
           movedim_cases(), lambda a, source, destination: np.moveaxis(a, source, destination)),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- zeros, exactly
def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = tn.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]], requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])
    spec = OpSpec("prod_with_zeros", lambda a: a.prod(1), None, lambda a: np.prod(a, axis=1))
    check_case(spec, [x.detach().numpy().astype(np.float64)])  # second order at the zeros too


def test_prod_and_cumprod_with_zeros_match_torch_to_second_order():
    torch = pytest.importorskip("torch")
    data = np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 0.5, 0.0, 2.0], [1.0, 2.0, 4.0, 0.0]])
    upstream = np.arange(12.0).reshape(3, 4) / 7
    for tn_fn, torch_fn in [(lambda t: t.prod(), lambda t: t.prod()),
                            (lambda t: t.prod(0), lambda t: t.prod(0)),
                            (lambda t: t.cumprod(1) * tn.tensor(upstream),
                             lambda t: t.cumprod(1) * torch.tensor(upstream))]:
        x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        g, = tn.grad(tn_fn(x).sum(), x, create_graph=True)
        tg, = torch.autograd.grad(torch_fn(tx).sum(), tx, create_graph=True)
        np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy())
        (g * g).sum().backward()
        (tg * tg).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)


def test_integer_sums_and_products_are_int64():
    x = tn.tensor([1, 2, 3], dtype=tn.int32)
    assert x.cumsum(0).dtype == np.int64 and x.prod().dtype == np.int64
    assert tn.tensor([True, True]).cumprod(0).dtype == np.int64
    assert x.cumsum(0, dtype=tn.float64).dtype == np.float64
    with pytest.raises(TypeError, match="one dim"):
        tn.prod(tn.ones(2, 2), dim=(0, 1))


# --------------------------------------------------------------------------- ordering and ties
def test_sort_is_stable_and_ties_send_the_gradient_to_the_element_they_came_from():
    x = tn.tensor([3.0, 1.0, 3.0, 2.0], requires_grad=True)
    values, indices = x.sort()
    assert values.tolist() == [1.0, 2.0, 3.0, 3.0] and indices.tolist() == [1, 3, 0, 2]
    assert x.sort(descending=True).indices.tolist() == [0, 2, 3, 1]  # ties keep their order
    (values * tn.tensor([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 1000.0, 10.0]
    assert tn.argsort(x, descending=True).tolist() == [0, 2, 3, 1]


def test_nan_sorts_as_the_largest_value():
    x = tn.tensor([1.0, float("nan"), 3.0])
    assert x.sort().indices.tolist() == [0, 2, 1]
    assert x.sort(descending=True).indices.tolist() == [1, 2, 0]
    assert x.topk(2).indices.tolist() == [1, 2] and x.topk(2, largest=False).indices.tolist() == [0, 2]


def test_topk_refuses_k_beyond_the_dimension():
    with pytest.raises(RuntimeError, match="k=4"):
        tn.ones(2, 3).topk(4)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_topk_match_torch_with_ties(descending):
    torch = pytest.importorskip("torch")
    data = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.5, 0.5, -1.0, 4.0, 0.5]])
    x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    values, indices = x.sort(1, descending=descending)
    t_values, t_indices = tx.sort(stable=True, dim=1, descending=descending)
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    weights = np.arange(1.0, 11.0).reshape(2, 5)
    (values * tn.tensor(weights)).sum().backward()
    (t_values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    distinct_data = np.random.default_rng(0).standard_normal((3, 6))
    top, t_top = tn.tensor(distinct_data).topk(3, 1), torch.tensor(distinct_data).topk(3, 1)
    np.testing.assert_array_equal(top.values.numpy(), t_top.values.numpy())
    np.testing.assert_array_equal(top.indices.numpy(), t_top.indices.numpy())


def test_unique_with_inverse_and_counts_matches_torch():
    torch = pytest.importorskip("torch")
    data = np.array([[3, 1, 3], [2, 1, 3]])
    ours = tn.unique(tn.tensor(data), return_inverse=True, return_counts=True)
    theirs = torch.unique(torch.tensor(data), return_inverse=True, return_counts=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_cumsum_flip_roll_repeat_movedim_match_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(2).standard_normal((2, 3, 4))
    for tn_fn, torch_fn in [(lambda t: t.cumsum(-1), lambda t: t.cumsum(-1)),
                            (lambda t: t.flip(0, 2), lambda t: t.flip(0, 2)),
                            (lambda t: t.roll((1, -2), (0, 2)), lambda t: t.roll((1, -2), (0, 2))),
                            (lambda t: t.roll(3), lambda t: t.roll(3)),
                            (lambda t: t.repeat(2, 1, 1, 2), lambda t: t.repeat(2, 1, 1, 2)),
                            (lambda t: t.movedim((0, 1), (2, 0)), lambda t: t.movedim((0, 1), (2, 0)))]:
        assert_matches_torch(torch, tn_fn, torch_fn, data)
