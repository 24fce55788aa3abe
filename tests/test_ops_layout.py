"""einsum, the layout helpers (hstack, vstack, column_stack, broadcast_tensors, tile, unflatten,
ravel, fliplr, flipud, repeat_interleave, rot90, tensor_split, take_along_dim), lerp, inner,
median, nanmedian and nan_to_num: through the op factory and against torch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, broadcast_cases, cases, check_op, distinct, op_settings, shapes

import tinynet as tn
from torch_oracle import assert_matches_torch

EQUATIONS = [  # (equation, operand shapes)
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("i,i", [(3,), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("...ij->...ji", [(2, 3, 4)]), ("ji", [(2, 3)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]), ("i,j->ij", [(2,), (3,)]), ("...i,...i->...", [(2, 3), (3,)]),
    ("iij->j", [(2, 2, 3)]), ("ij->", [(2, 3)]), ("ijk,k->ij", [(2, 3, 4), (4,)]),
    ("ij,kj->ik", [(2, 3), (4, 3)]), ("a,a,a->", [(3,), (3,), (3,)]), ("ij->j", [(3, 2)]),
]


def einsum_cases():
    return st.sampled_from(EQUATIONS).map(lambda e: (tuple(e[1]), {"equation": e[0]}))


def hstack_cases():
    return st.sampled_from([[(3,), (2,)], [(2, 1), (2, 3)], [(2, 3, 1), (2, 1, 1)]]).map(
        lambda s: (tuple(s), {}))


@st.composite
def repeat_interleave_cases(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.one_of(st.none(), st.integers(0, len(shape) - 1)))
    size = int(np.prod(shape)) if dim is None else shape[dim]
    repeats = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=size,
                                                         max_size=size)))
    return (shape,), {"repeats": repeats, "dim": dim}


def np_repeat_interleave(a, repeats, dim):
    return np.repeat(a, repeats, axis=dim)


SPECS = [
    OpSpec("einsum", lambda *xs, equation: tn.einsum(equation, *xs), einsum_cases(),
           lambda *xs, equation: np.einsum(equation, *xs)),
    OpSpec("hstack", lambda *xs: tn.hstack(xs), hstack_cases(), lambda *xs: np.hstack(xs)),
    OpSpec("vstack", lambda a, b: tn.vstack([a, b]), cases(st.just((3,)), st.just((2, 3))),
           lambda a, b: np.vstack([a, b])),
    OpSpec("column_stack", lambda a, b: tn.column_stack([a, b]), cases(st.just((3,)), st.just((3, 2))),
           lambda a, b: np.column_stack([a, b])),
    OpSpec("broadcast_tensors", lambda a, b: sum(tn.broadcast_tensors(a, b)),
           cases(st.just((3,)), st.just((2, 1))), lambda a, b: sum(np.broadcast_arrays(a, b))),
    OpSpec("tile", lambda a, dims: a.tile(dims), cases(shapes(max_dims=2, max_side=3),
                                                        dims=st.sampled_from([(2,), (1, 2), (2, 1, 3)])),
           lambda a, dims: np.tile(a, dims)),
    OpSpec("unflatten", lambda a: a.unflatten(-1, (2, -1)), cases(st.just((3, 4))),
           lambda a: a.reshape(3, 2, 2)),
    OpSpec("ravel_fliplr_flipud", lambda a: tn.fliplr(a).flipud().ravel(), cases(shapes(min_dims=2)),
           lambda a: np.flipud(np.fliplr(a)).ravel()),
    OpSpec("repeat_interleave", lambda a, repeats, dim: a.repeat_interleave(
        tn.tensor(repeats) if isinstance(repeats, list) else repeats, dim),
           repeat_interleave_cases(), np_repeat_interleave),
    OpSpec("lerp", lambda a, b, w: tn.lerp(a, b, w), broadcast_cases(3),
           lambda a, b, w: a + w * (b - a)),
    OpSpec("inner", tn.inner, cases(st.just((2, 3)), st.just((4, 3))), np.inner),
    OpSpec("median", lambda a: a.median(), cases(shapes(min_dims=1)), lambda a: np.sort(
        a.ravel())[(a.size - 1) // 2], values=distinct()),
    OpSpec("median_dim", lambda a: tn.median(a, 0, keepdim=True).values, cases(shapes(min_dims=1)),
           lambda a: np.take(np.sort(a, axis=0), [(a.shape[0] - 1) // 2], axis=0), values=distinct()),
    OpSpec("nanmedian", lambda a: a.nanmedian(), cases(shapes(min_dims=1)), lambda a: np.sort(
        a.ravel())[(a.size - 1) // 2], values=distinct()),
    OpSpec("nanmedian_dim", lambda a: tn.nanmedian(a, -1).values, cases(shapes(min_dims=1)),
           lambda a: np.take(np.sort(a, axis=-1), (a.shape[-1] - 1) // 2, axis=-1),
           values=distinct()),
    OpSpec("rot90", lambda a, k, dims: tn.rot90(a, k, dims),
           cases(shapes(min_dims=2), k=st.integers(-5, 5), dims=st.sampled_from([(0, 1), (1, 0), (0, -1)])),
           lambda a, k, dims: np.rot90(a, k, dims)),
    OpSpec("tensor_split", lambda a, sections, dim: tn.cat(
        [p * (i + 1) for i, p in enumerate(a.tensor_split(sections, dim))], dim),
           cases(shapes(min_dims=1), sections=st.sampled_from([1, 2, 3, [1], [0, 2], [-1, 5]]),
                 dim=st.just(-1)),
           lambda a, sections, dim: np.concatenate([p * (i + 1) for i, p in enumerate(
               np.array_split(a, sections, axis=dim))], axis=dim)),
    OpSpec("take_along_dim", lambda a, dim: tn.take_along_dim(a, tn.tensor(_picks(a.shape, dim)), dim),
           cases(shapes(min_dims=1), dim=st.sampled_from([0, -1, None])),
           lambda a, dim: np.take_along_axis(a.ravel() if dim is None else a, _picks(a.shape, dim),
                                             0 if dim is None else dim)),
    OpSpec("nan_to_num", lambda a: tn.nan_to_num(a, nan=1.0), cases(shapes()), np.nan_to_num),
]


def _picks(shape, dim):
    """Indices for take_along_dim: each position, then the first twice (repeats add gradients);
    along a dim of the same rank, broadcast over the others from size 1."""
    if dim is None:
        size = int(np.prod(shape))
        return np.array(list(range(size)) + [0, 0])
    picks = np.array(list(range(shape[dim])) + [0, 0])
    index_shape = [1] * len(shape)
    index_shape[dim] = picks.size
    return picks.reshape(index_shape)


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


def test_einsum_errors_name_the_equation():
    with pytest.raises(ValueError, match="2 operands"):
        tn.einsum("ij,jk->ik", tn.ones(2, 2))
    with pytest.raises(ValueError, match="does not fit"):
        tn.einsum("ijk->i", tn.ones(2, 2))
    with pytest.raises(ValueError, match="sizes 2 and 3"):
        tn.einsum("ij,ij->i", tn.ones(2, 2), tn.ones(2, 3))
    with pytest.raises(ValueError, match="distinct letters"):
        tn.einsum("ij->ik", tn.ones(2, 2))
    assert tn.einsum("i,j->ij", [tn.ones(2), tn.ones(3)]).shape == (2, 3)  # a list of operands


def test_median_with_nan_and_ties_matches_torch():
    torch = pytest.importorskip("torch")
    for data in [np.array([1.0, float("nan"), 3.0]), np.array([[1.0, float("nan"), 3.0], [3.0, 1.0, 2.0]]),
                 np.array([1.0, 2.0, 3.0, 4.0]), np.array([[4.0, 1.0, 3.0, 2.0], [2.0, 2.0, 1.0, 5.0]])]:
        np.testing.assert_array_equal(tn.tensor(data).median().numpy(), torch.tensor(data).median().numpy())
        ours, theirs = tn.tensor(data).median(-1, keepdim=True), torch.tensor(data).median(-1, keepdim=True)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        if not np.isnan(data).any():
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert np.isnan(tn.zeros(0).median().item())


def test_nanmedian_skips_nan_and_matches_torch_with_its_gradients():
    torch = pytest.importorskip("torch")
    nan = float("nan")
    for data in [np.array([[nan, nan, nan], [3.0, nan, 1.0], [2.0, 2.0, nan]]),
                 np.array([4.0, nan, 1.0, 3.0, 2.0]), np.array([[1.0, 2.0], [2.0, 1.0]]),
                 np.array([nan, nan])]:
        for call in (lambda lib, t: lib.nanmedian(t), lambda lib, t: t.nanmedian(-1).values,
                     lambda lib, t: lib.nanmedian(t, 0, keepdim=True).values):
            results = []
            for lib in (tn, torch):
                t = lib.tensor(data, requires_grad=True)
                out = call(lib, t)
                out.sum().backward()
                results.append((out.detach().numpy(), t.grad.numpy()))
            for ours, theirs in zip(*results):
                np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(tn.tensor(data).nanmedian(-1).indices.numpy(),
                                      torch.tensor(data).nanmedian(-1).indices.numpy())
    assert tn.nanmedian(tn.tensor([3, 1, 2])).item() == 2
    assert np.isnan(tn.zeros(0).nanmedian().item())


def test_layouts_and_einsum_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    for tn_fn, torch_fn in [
            (lambda x, y: tn.einsum("ij,jk->ik", x, y), lambda x, y: torch.einsum("ij,jk->ik", x, y)),
            (lambda x, y: tn.einsum("ij,jk", x, y).trace(), lambda x, y: torch.einsum("ij,jk", x, y).trace()),
            (lambda x, y: tn.hstack([x, y.T[:2]]), lambda x, y: torch.hstack([x, y.T[:2]])),
            (lambda x, y: tn.vstack([x, y[:, :3]]), lambda x, y: torch.vstack([x, y[:, :3]])),
            (lambda x, y: x.repeat_interleave(2, dim=0) @ y, lambda x, y: x.repeat_interleave(2, dim=0) @ y),
            (lambda x, y: x.tile(2) * y.sum(), lambda x, y: x.tile(2) * y.sum()),
            (lambda x, y: tn.lerp(x, y[:2, :3], 0.25), lambda x, y: torch.lerp(x, y[:2, :3], 0.25)),
            (lambda x, y: tn.inner(x, y.T), lambda x, y: torch.inner(x, y.T))]:
        assert_matches_torch(torch, tn_fn, torch_fn, a, b)
