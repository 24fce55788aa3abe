"""Shape ops and indexing through the op factory: reshape/view, permute, transpose, .T, .mT,
flatten, squeeze, unsqueeze, expand, cat, stack, pad, and __getitem__ in all its forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tinynet.testing import OpSpec, cases, check_case, check_op, op_settings, shapes

import tinynet as tn
import tinynet.nn.functional as F


def _with(shape_strategy, kwargs_of):
    """Cases whose keyword arguments depend on the drawn shape."""
    return shape_strategy.flatmap(lambda s: st.tuples(st.just((s,)), kwargs_of(s)))


def reshape_targets(shape):
    size = int(np.prod(shape))
    options = [(size,), tuple(reversed(shape)), shape + (1,), (1,) + shape, (-1,)]
    if len(shape) >= 2:
        options.append((-1,) + shape[2:] + (1,))
        options.append((shape[0], -1))
    return st.fixed_dictionaries({"target": st.sampled_from(options)})


def _normalized(dim, ndim):
    return dim % ndim


def flatten_dims(shape):
    n = len(shape)
    return st.tuples(st.integers(-n, n - 1), st.integers(-n, n - 1)).filter(
        lambda d: _normalized(d[0], n) <= _normalized(d[1], n)).map(
        lambda d: {"start": d[0], "end": d[1]})


def np_flatten(a, start, end):
    start, end = start % a.ndim, end % a.ndim
    return a.reshape(a.shape[:start] + (-1,) + a.shape[end + 1:])


@st.composite
def expand_cases(draw):
    shape = draw(shapes(max_dims=3, max_side=3))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    sizes = [draw(st.sampled_from([-1, 1, 2, 3]) if n == 1 else st.sampled_from([-1, n]))
             for n in shape]
    return (shape,), {"sizes": tuple(lead) + tuple(sizes)}


def np_expand(a, sizes):
    lead = len(sizes) - a.ndim
    target = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return np.broadcast_to(a, target)


@st.composite
def cat_cases(draw):
    base = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    dim = draw(st.integers(-len(base), len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    input_shapes = tuple(base[:dim % len(base)] + (n,) + base[dim % len(base) + 1:] for n in sizes)
    return input_shapes, {"dim": dim}


@st.composite
def stack_cases(draw):
    shape = draw(shapes(max_dims=3, max_side=3))
    count = draw(st.integers(1, 3))
    return (shape,) * count, {"dim": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def pad_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    padded_dims = draw(st.integers(1, len(shape)))
    widths = draw(st.lists(st.integers(0, 2), min_size=2 * padded_dims, max_size=2 * padded_dims))
    return (shape,), {"pad": tuple(widths), "value": draw(st.sampled_from([0.0, -1.5]))}


def np_pad(a, pad, value):
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return np.pad(a, widths, constant_values=value)


@st.composite
def repeated_index_cases(draw):
    """An integer array along one axis, with at least one index repeated (and negatives)."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    picks = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
    picks = np.array(picks + [picks[0]], dtype=np.int64)
    return (shape,), {"index": (slice(None),) * axis + (picks,)}


@st.composite
def array_index_cases(draw):
    """Integer arrays on every dimension (broadcast together), as NumPy's advanced indexing."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    index = draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2,
                                                                                 max_side=4)))
    return (shape,), {"index": index}


@st.composite
def mask_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    masked_dims = draw(st.integers(1, len(shape)))
    mask = draw(hnp.arrays(np.bool_, shape[:masked_dims]))
    return (shape,), {"index": mask}


@st.composite
def basic_index_cases(draw):
    shape = draw(shapes(min_dims=0, max_dims=3, max_side=4))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(
        _forward_steps))  # PyTorch refuses a negative step (flip reverses)
    return (shape,), {"index": index}


def _forward_steps(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(not isinstance(i, slice) or i.step is None or i.step > 0 for i in items)


def take(a, index):
    return a[index]


SPECS = [
    OpSpec("reshape", lambda a, target: a.reshape(target), _with(shapes(), reshape_targets),
           lambda a, target: a.reshape(target)),
    OpSpec("view", lambda a, target: a.view(*target), _with(shapes(), reshape_targets),
           lambda a, target: a.reshape(target)),
    OpSpec("tn.reshape", lambda a, target: tn.reshape(a, target), _with(shapes(), reshape_targets),
           lambda a, target: a.reshape(target)),
    OpSpec("permute", lambda a, dims: a.permute(*dims),
           _with(shapes(min_dims=1), lambda s: st.fixed_dictionaries(
               {"dims": st.permutations(range(len(s))).map(tuple)})),
           lambda a, dims: a.transpose(dims)),
    OpSpec("tn.permute", lambda a, dims: tn.permute(a, dims),
           _with(shapes(min_dims=1), lambda s: st.fixed_dictionaries(
               {"dims": st.permutations(range(-len(s), 0)).map(tuple)})),
           lambda a, dims: a.transpose(dims)),
    OpSpec("transpose", lambda a, d0, d1: a.transpose(d0, d1),
           _with(shapes(min_dims=1), lambda s: st.fixed_dictionaries(
               {"d0": st.integers(-len(s), len(s) - 1), "d1": st.integers(-len(s), len(s) - 1)})),
           lambda a, d0, d1: np.swapaxes(a, d0, d1)),
    OpSpec(".T", lambda a: a.T, cases(shapes()), lambda a: a.T),
    OpSpec(".mT", lambda a: a.mT, cases(shapes(min_dims=2)), lambda a: np.swapaxes(a, -1, -2)),
    OpSpec("flatten", lambda a, start, end: a.flatten(start, end),
           _with(shapes(min_dims=1), flatten_dims), np_flatten),
    OpSpec("flatten_0d", tn.flatten, cases(shapes(max_dims=0)), lambda a: a.reshape(1)),
    OpSpec("squeeze", lambda a, dim: a.squeeze(dim),
           _with(shapes(max_side=2), lambda s: st.fixed_dictionaries({"dim": st.one_of(
               st.none(), st.integers(-max(len(s), 1), max(len(s), 1) - 1))})),
           lambda a, dim: np.squeeze(a) if dim is None else
           np.squeeze(a, dim) if a.ndim and a.shape[dim] == 1 else a),
    OpSpec("unsqueeze", lambda a, dim: tn.unsqueeze(a, dim),
           _with(shapes(), lambda s: st.fixed_dictionaries(
               {"dim": st.integers(-len(s) - 1, len(s))})),
           lambda a, dim: np.expand_dims(a, dim)),
    OpSpec("expand", lambda a, sizes: a.expand(*sizes), expand_cases(), np_expand),
    OpSpec("cat", lambda *xs, dim: tn.cat(xs, dim), cat_cases(),
           lambda *xs, dim: np.concatenate(xs, axis=dim)),
    OpSpec("stack", lambda *xs, dim: tn.stack(list(xs), dim=dim), stack_cases(),
           lambda *xs, dim: np.stack(xs, axis=dim)),
    OpSpec("pad", lambda a, pad, value: F.pad(a, pad, value=value), pad_cases(), np_pad),
    OpSpec("getitem_basic", take, basic_index_cases(), take),
    OpSpec("getitem_repeated_indices", take, repeated_index_cases(), take),
    OpSpec("getitem_integer_arrays", take, array_index_cases(), take),
    OpSpec("getitem_bool_mask", take, mask_cases(), take),
    OpSpec("getitem_tensor_index", lambda a, index: a[tn.tensor(index)],
           repeated_index_cases().filter(lambda c: len(c[1]["index"]) == 1).map(
               lambda c: (c[0], {"index": c[1]["index"][0]})),
           lambda a, index: a[index]),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- fixed examples
def test_repeated_indices_add_up_in_backward():
    x = tn.tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[tn.tensor([0, 2, 0, 0])]
    (y * tn.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 0.0, 2.0])


def test_indexing_with_lists_ints_none_and_ellipsis():
    data = np.arange(24.0).reshape(2, 3, 4)
    x = tn.tensor(data, requires_grad=True)
    for index in [1, -1, (0, 2), (slice(None), 1), (Ellipsis, 2), (None, 1, Ellipsis, None),
                  (slice(None, None, 2),), ([0, 0, 1],),
                  (slice(None), [2, 2], [3, 0]), (data[..., 0] > 5,), (1, [0, 2], slice(1, None))]:
        check_case(OpSpec("getitem", take, cases(), take), [data], {"index": index})
        assert x[index].shape == data[index].shape


@pytest.mark.parametrize("index", [(0, slice(None), [1, 2]), (slice(None), 1, [0, 3]),
                                   (1, slice(1, None), [0, 3]), (None, 1, Ellipsis, [2, 0]),
                                   (0, [True, False, True], 2), (1, slice(None), [[0, 1], [3, 3]])],
                         ids=str)
def test_ints_select_before_index_tensors_as_in_pytorch(index):
    """NumPy would count the ints among the advanced indices and move the result's dims when a
    slice stands between an int and a list; PyTorch selects first."""
    torch = pytest.importorskip("torch")
    data = np.arange(24.0).reshape(2, 3, 4)

    def as_lib(lib):
        return tuple(lib.tensor(i) if isinstance(i, list) else i for i in index)

    x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, tout = x[as_lib(tn)], tx[as_lib(torch)]
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    upstream = np.arange(1.0, tout.numel() + 1).reshape(tuple(tout.shape))
    out.backward(tn.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    y, ty = tn.zeros(2, 3, 4, dtype=tn.float64), torch.zeros(2, 3, 4, dtype=torch.float64)
    y[as_lib(tn)] = tn.tensor(upstream)
    ty[as_lib(torch)] = torch.tensor(upstream)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_an_element_picked_by_ints_is_a_view_as_in_pytorch():
    b = tn.arange(6.0).reshape(2, 3)
    b[0, 0].fill_(42)
    b[1][2].add_(100)
    assert b.tolist() == [[42.0, 1.0, 2.0], [3.0, 4.0, 105.0]]
    element = b[0, 1]
    b.zero_()
    assert b[0, 0].ndim == 0 and element.item() == 0
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    with tn.no_grad():
        x[0].mul_(5)
    assert x.tolist() == [5.0, 2.0]


def test_integer_index_backward_matches_pytorch():
    torch = pytest.importorskip("torch")
    data = np.arange(12.0).reshape(3, 4)
    rows, cols = np.array([0, 2, 0, 0]), np.array([1, 1, 1, 3])
    upstream = np.arange(1.0, 5.0)
    x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    x[rows, cols].backward(tn.tensor(upstream, dtype=tn.float64))
    tx[torch.tensor(rows), torch.tensor(cols)].backward(torch.tensor(upstream))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_shape_methods_and_properties():
    x = tn.randn(2, 3, 4)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.unsqueeze(0).squeeze().shape == (2, 3, 4)
    assert x[:, :1].squeeze(1).shape == (2, 4) and x.squeeze(0).shape == (2, 3, 4)
    assert x.view(6, 4).shape == (6, 4) and x.reshape(-1, 2).shape == (12, 2)
    assert x[:, :1].expand(-1, 5, -1).shape == (2, 5, 4)
    assert tn.stack([x, x], dim=-1).shape == (2, 3, 4, 2)
    assert tn.cat([x, x], dim=1).shape == (2, 6, 4)
    assert F.pad(x, (1, 1, 2, 0)).shape == (2, 5, 6)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.transpose(0, 2).shape == (4, 3, 2)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.dim() == 3 and x.numel() == 24
    assert len(x) == 2 and [t.shape for t in x] == [(3, 4), (3, 4)]
