"""Strides as PyTorch reports them: ``stride()``, ``is_contiguous()``, ``contiguous()`` and the
views that ``view`` refuses, for every view op and chains of them, against PyTorch where it is
installed and against known values where it is not."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn.functional as F

CHAINS = {
    "base": lambda x: x,
    "transpose": lambda x: x.transpose(0, 1),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute then reshape (a copy)": lambda x: x.permute(2, 0, 1).reshape(4, 6),
    "contiguous": lambda x: x.transpose(1, 2).contiguous(),
    "select": lambda x: x[:, 1],
    "step slice": lambda x: x[:, :, ::2],
    "int and slices": lambda x: x[0, :, 1:3],
    "None first": lambda x: x[None],
    "None last": lambda x: x[..., None],
    "None inside": lambda x: x[:, None, :],
    "size-1 slice": lambda x: x[:, 1:2],
    "expand": lambda x: x.unsqueeze(0).expand(5, 2, 3, 4),
    "expand a size-1 dim": lambda x: x[:, :1].expand(2, 3, 4),
    "view": lambda x: x.view(6, 4),
    "flatten tail": lambda x: x.flatten(1),
    "transpose then flatten (a copy)": lambda x: x.transpose(0, 1).flatten(),
    "transpose then flatten(0, 1)": lambda x: x.transpose(1, 2).flatten(0, 1),
    "permute then flatten tail": lambda x: x.permute(1, 0, 2).flatten(1),
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "diagonal with offset": lambda x: x.diagonal(1, 0, 2),
    "unfold": lambda x: x.unfold(2, 2, 1),
    "unfold with step": lambda x: x.unfold(1, 2, 2),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "select method": lambda x: x.select(1, 2),
    "split": lambda x: x.split(2, dim=2)[1],
    "chunk": lambda x: x.chunk(2, 0)[1],
    "unbind": lambda x: x.unbind(1)[0],
    "squeeze": lambda x: x[:, :1].squeeze(1),
    "unsqueeze a transpose": lambda x: x.transpose(0, 2).unsqueeze(1),
    "mT": lambda x: x.mT,
    "movedim": lambda x: x.movedim(0, 2),
    "swapaxes": lambda x: x.swapaxes(0, 2),
    "detach keeps them": lambda x: x.transpose(0, 1).detach(),
    "t": lambda x: x[0].t(),
    "T": lambda x: x[1].T,
    "t twice": lambda x: x[0].t().t(),
    "slice of a transpose": lambda x: x.transpose(0, 2)[1:3],
    "transpose of a slice": lambda x: x[:, :, 1:3].transpose(0, 1),
    "slice of an expand": lambda x: x.unsqueeze(1).expand(2, 5, 3, 4)[:, 1:4],
    "reshape to the same shape": lambda x: x.reshape(2, 3, 4),
    "reshape a transpose (a copy)": lambda x: x.transpose(0, 1).reshape(3, 2, 4),
    "view that splits a transposed dim": lambda x: x.transpose(0, 2).view(2, 2, 3, 2),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "view_as": lambda x: x.view_as(x.new_zeros(4, 6)),
}
VIEW_SHAPES = [(-1,), (2, -1), (-1, 2)]


def layout(lib, t):
    """Shape, strides, contiguity, and which of VIEW_SHAPES (that fit) ``view`` allows."""
    views = []
    for shape in VIEW_SHAPES:
        if t.numel() % 2 and 2 in shape:
            continue
        try:
            t.view(*shape)
            views.append(True)
        except RuntimeError:
            views.append(False)
    return tuple(t.shape), tuple(t.stride()), t.is_contiguous(), views


@pytest.mark.parametrize("name", list(CHAINS))
def test_view_ops_report_pytorchs_strides(name):
    torch = pytest.importorskip("torch")
    chain = CHAINS[name]
    ours = layout(tn, chain(tn.arange(24.0).reshape(2, 3, 4)))
    theirs = layout(torch, chain(torch.arange(24.0).reshape(2, 3, 4)))
    assert ours == theirs


@st.composite
def view_chains(draw):
    """A shape and up to four view steps: permutes, slices (start, stop, step), unsqueezes,
    expands of size-1 dims and reshapes."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    steps = []
    ndim = len(shape)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["permute", "slice", "unsqueeze", "reshape", "expand"]))
        if kind == "permute":
            steps.append(("permute", tuple(draw(st.permutations(range(ndim))))))
        elif kind == "slice":
            dim = draw(st.integers(0, ndim - 1))
            steps.append(("slice", dim, draw(st.integers(0, 2)), draw(st.integers(1, 3))))
        elif kind == "unsqueeze":
            steps.append(("unsqueeze", draw(st.integers(0, ndim))))
            ndim += 1
        elif kind == "expand":
            steps.append(("expand", draw(st.integers(2, 3))))
        else:
            steps.append(("reshape", draw(st.sampled_from([(-1,), (1, -1), (-1, 1)]))))
            ndim = len(steps[-1][1])
    return shape, steps


def apply_chain(t, steps):
    for step in steps:
        if step[0] == "permute":
            t = t.permute(*step[1])
        elif step[0] == "slice":
            _, dim, start, stride = step
            t = t[(slice(None),) * dim + (slice(start, None, stride),)]
        elif step[0] == "unsqueeze":
            t = t.unsqueeze(step[1])
        elif step[0] == "expand":  # every size-1 dim stretched
            t = t.expand(*[step[1] if n == 1 else n for n in t.shape])
        else:
            t = t.reshape(*step[1])
    return t


@settings(max_examples=200, deadline=None)
@given(view_chains())
def test_chains_of_views_match_pytorch(case):
    torch = pytest.importorskip("torch")
    shape, steps = case
    n = int(np.prod(shape))
    ours = apply_chain(tn.arange(float(n)).reshape(*shape), steps)
    theirs = apply_chain(torch.arange(float(n)).reshape(*shape), steps)
    if 0 in theirs.shape:  # an empty tensor's strides are arbitrary; both call it contiguous
        assert ours.is_contiguous() and theirs.is_contiguous()
        return
    # a size-1 dim's stride is arbitrary (it never moves): NumPy's slices pick another one
    mine, expected = layout(tn, ours), layout(torch, theirs)
    assert [s for s, n in zip(mine[1], mine[0]) if n != 1] == \
        [s for s, n in zip(expected[1], expected[0]) if n != 1], steps
    assert (mine[0], mine[2], mine[3]) == (expected[0], expected[2], expected[3]), steps


def test_known_strides_without_pytorch():
    x = tn.zeros(2, 3, 4)
    assert x.stride() == (12, 4, 1) and x.stride(0) == 12 and x.stride(-1) == 1
    assert x.transpose(0, 2).stride() == (1, 4, 12)
    assert x[:, ::2].stride() == (12, 8, 1) and not x[:, ::2].is_contiguous()
    assert x.expand(5, 2, 3, 4).stride() == (0, 12, 4, 1)
    assert x.diagonal(0, 1, 2).stride() == (12, 5)
    assert tn.zeros(()).stride() == ()
    with pytest.raises(IndexError, match="stride: dimension 3 is out of range"):
        x.stride(3)


def test_view_refuses_what_no_view_can_show_and_says_what_to_do():
    t = tn.zeros(2, 3).t()
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*\(3, 2\).*\(1, 3\).*"
                                           r"reshape"):
        t.view(-1)
    assert t.reshape(-1).shape == (6,)
    assert t.contiguous().view(-1).shape == (6,)
    with pytest.raises(ValueError, match="reshape"):  # a wrong size still says so first
        t.view(4)


def test_contiguous_is_the_tensor_itself_or_a_copy_with_its_gradient():
    x = tn.arange(6.0).reshape(2, 3).requires_grad_()
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y is not x
    np.testing.assert_array_equal(y.detach().numpy(), np.arange(6.0).reshape(2, 3).T)
    (y * tn.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)


def test_a_convolutions_output_is_contiguous_whatever_tinynet_stores():
    """tinynet stores a conv's output batch-innermost; PyTorch's model sees it contiguous, and
    its views (the flatten before a Linear) work as there."""
    out = F.conv2d(tn.randn(4, 3, 8, 8), tn.randn(5, 3, 3, 3), padding=1)
    assert out.is_contiguous() and out.stride() == (320, 64, 8, 1)
    assert out.view(4, -1).shape == (4, 320)
    assert F.relu(out).view(4, -1).is_contiguous()


def test_detach_and_data_keep_a_views_strides():
    t = tn.zeros(2, 3).t()
    assert t.detach().stride() == (1, 3) and t.data.stride() == (1, 3)
    assert not t.detach().is_contiguous()


IN_PLACE = {
    "t_": lambda x: x.t_(),
    "transpose_ of a transpose": lambda x: x.t().transpose_(0, 1),
    "unsqueeze_ of a transpose": lambda x: x.t().unsqueeze_(0),
    "squeeze_ of a slice": lambda x: x[:1].t().squeeze_(1),
    "resize_ of a transpose": lambda x: x.t().resize_(6),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_in_place_shape_changes_carry_strides_as_in_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = IN_PLACE[name](tn.zeros(2, 3)), IN_PLACE[name](torch.zeros(2, 3))
    assert layout(tn, ours) == layout(torch, theirs)


def test_setting_data_takes_the_new_tensors_strides():
    x = tn.zeros(3, 2)
    x.data = tn.zeros(2, 3).t()
    assert x.stride() == (1, 3) and not x.is_contiguous()
    x.data = tn.ones(3, 2)
    assert x.is_contiguous()


def test_a_chain_of_thousands_of_views_still_has_strides():
    x = tn.zeros(3000, 2)
    for _ in range(2500):
        x = x[1:].t().t()
    assert x.shape == (500, 2) and x.stride() == (2, 1) and x.is_contiguous()


ELEMENTWISE = {
    "times a number": lambda lib, t, other: t * 2,
    "exp": lambda lib, t, other: t.exp(),
    "relu": lambda lib, t, other: lib.relu(t),
    "negated then sigmoid": lambda lib, t, other: lib.sigmoid(-t),
    "clone": lambda lib, t, other: t.clone(),
    "contiguous": lambda lib, t, other: t.contiguous(),
    "plus a contiguous tensor": lambda lib, t, other: t + other,
    "a contiguous tensor plus": lambda lib, t, other: other + t,
    "plus its last row": lambda lib, t, other: t + other[-1:],
    "maximum": lambda lib, t, other: lib.maximum(t, other),
    "cast": lambda lib, t, other: t.double(),
    "where": lambda lib, t, other: lib.where(t > 0, t, other),
    "comparison": lambda lib, t, other: t > 3,
    "isnan": lambda lib, t, other: lib.isnan(t),
    "logical_not": lambda lib, t, other: t.logical_not(),
    "zeros_like": lambda lib, t, other: lib.zeros_like(t),
    "randn_like": lambda lib, t, other: lib.randn_like(t),
    "masked_fill (a contiguous copy)": lambda lib, t, other: t.masked_fill(t > 3, 0.0),
}


@settings(max_examples=150, deadline=None)
@given(view_chains(), st.sampled_from(list(ELEMENTWISE)))
def test_elementwise_results_are_laid_out_as_in_pytorch(case, name):
    """PyTorch lays an elementwise result out like its inputs (the first input that orders two
    dims decides): a transpose's exp is strided as the transpose, and views of it follow."""
    torch = pytest.importorskip("torch")
    shape, steps = case
    n = int(np.prod(shape))
    results = []
    for lib in (tn, torch):
        t = apply_chain(lib.arange(float(n)).reshape(*shape), steps)
        other = lib.ones(tuple(t.shape))
        results.append(ELEMENTWISE[name](lib, t, other))
    ours, theirs = results
    if 0 in theirs.shape:
        return
    mine, expected = layout(tn, ours), layout(torch, theirs)
    assert [s for s, k in zip(mine[1], mine[0]) if k != 1] == \
        [s for s, k in zip(expected[1], expected[0]) if k != 1], (steps, name)
    assert (mine[0], mine[2], mine[3]) == (expected[0], expected[2], expected[3]), (steps, name)


def test_a_leafs_gradient_is_strided_as_the_leaf():
    """PyTorch's gradient layout contract: whatever the backward made, ``.grad`` has its
    leaf's strides."""
    x = tn.randn(2, 3, 4, requires_grad=True)
    (x.transpose(0, 2) * 2).sum().backward()
    assert x.grad.is_contiguous() and x.grad.stride() == (12, 4, 1)
    w = tn.randn(3, 4).t().detach().requires_grad_()
    (w * 3).sum().backward()
    assert w.grad.stride() == (1, 4)


def test_a_long_chain_of_elementwise_results_of_a_view_keeps_its_layout():
    x = tn.zeros(3, 4).t()
    for _ in range(200):
        x = x * 1.0 + 1.0
    assert x.stride() == (1, 4) and not x.is_contiguous()
    assert x.contiguous().stride() == (3, 1)


def test_no_function_reports_a_strided_result_where_pytorch_returns_a_contiguous_one():
    """Every function of ``tn`` and ``tn.nn.functional`` that PyTorch has too, given a
    transposed 2-D or 4-D input (and 0 or 1 as a second argument where that fits): where
    PyTorch's result is contiguous, tinynet's is too, so a ``view`` that works there works here.
    (The other way, a strided result where PyTorch's is contiguous, is allowed: ``flip`` and
    ``sort`` copy in tinynet.)"""
    torch = pytest.importorskip("torch")
    import inspect
    import warnings

    def transposed(lib, shape):
        base = torch.rand(*reversed(shape), generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
        t = tn.tensor(base.numpy()) if lib is tn else base
        return t.permute(*reversed(range(len(shape))))

    checked, wrong = 0, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ours_module, theirs_module in ((F, torch.nn.functional), (tn, torch)):
            for name in sorted(dir(theirs_module)):
                ours, theirs = getattr(ours_module, name, None), getattr(theirs_module, name)
                if name.startswith(("_", "set_", "manual_seed", "seed", "use_")) \
                        or not callable(ours) or inspect.isclass(theirs):
                    continue  # not a computation, or one that changes global settings
                for shape in ((3, 4), (2, 3, 4, 5)):
                    for args in ((), (0,), (1,)):
                        try:
                            expected = theirs(transposed(torch, shape), *args)
                            if not isinstance(expected, torch.Tensor) or expected.dim() == 0:
                                continue
                            got = ours(transposed(tn, shape), *args)
                        except Exception:  # not callable so, on one side or both
                            continue
                        if not isinstance(got, tn.Tensor):
                            continue
                        checked += 1
                        if expected.is_contiguous() and not got.is_contiguous():
                            wrong.append(f"{name}{shape}{args}: {got.stride()}")
                        break
    assert checked > 300 and not wrong, wrong
