"""Reductions (sum, mean, var, std, max, min, amax, logsumexp) through the op factory, and ties."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, check_op, dims, distinct, numpy_axis, op_settings, shapes

import tinynet as tn
from tinynet.ops import amax


@st.composite
def reduction_cases(draw, allow_none=True, allow_tuple=True, max_dims=3):
    shape = draw(shapes(max_dims=max_dims))
    dim = draw(dims(len(shape), allow_none=allow_none, allow_tuple=allow_tuple))
    return (shape,), {"dim": dim, "keepdim": draw(st.booleans())}


@st.composite
def var_cases(draw):
    (shape,), kwargs = draw(reduction_cases())
    axes = range(len(shape)) if kwargs["dim"] is None else np.atleast_1d(kwargs["dim"])
    count = int(np.prod([shape[d] for d in axes])) if shape else 1
    kwargs["correction"] = draw(st.sampled_from([0, 1] if count > 1 else [0]))
    return (shape,), kwargs


def np_logsumexp(a, dim, keepdim):
    axis = numpy_axis(dim, a.ndim)
    top = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdim or a.ndim == 0 else np.squeeze(out, axis=axis)


def np_reduce(name):
    return lambda a, dim, keepdim: getattr(np, name)(a, axis=numpy_axis(dim, a.ndim),
                                                     keepdims=keepdim)


SPECS = [
    OpSpec("sum", lambda a, dim, keepdim: a.sum(dim, keepdim), reduction_cases(), np_reduce("sum")),
    OpSpec("tn.sum", lambda a, dim, keepdim: tn.sum(a, dim=dim, keepdim=keepdim), reduction_cases(),
           np_reduce("sum")),
    OpSpec("mean", lambda a, dim, keepdim: a.mean(dim, keepdim), reduction_cases(),
           np_reduce("mean")),
    OpSpec("var", lambda a, dim, keepdim, correction: a.var(dim, keepdim=keepdim,
                                                             correction=correction),
           var_cases(),
           lambda a, dim, keepdim, correction: np.var(a, axis=numpy_axis(dim, a.ndim),
                                                      keepdims=keepdim, ddof=correction)),
    OpSpec("std", lambda a: a.std(), st.tuples(st.tuples(shapes(min_dims=1)).filter(
        lambda s: np.prod(s[0]) > 1), st.just({})), lambda a: np.std(a, ddof=1), values=distinct()),
    OpSpec("max", lambda a: a.max(), st.tuples(st.tuples(shapes()), st.just({})), np.max,
           values=distinct()),
    OpSpec("min", lambda a: tn.min(a), st.tuples(st.tuples(shapes()), st.just({})), np.min,
           values=distinct()),
    OpSpec("max_dim", lambda a, dim, keepdim: a.max(dim, keepdim).values,
           reduction_cases(allow_none=False, allow_tuple=False), np_reduce("max"),
           values=distinct()),
    OpSpec("min_dim", lambda a, dim, keepdim: a.min(dim, keepdim=keepdim).values,
           reduction_cases(allow_none=False, allow_tuple=False), np_reduce("min"),
           values=distinct()),
    OpSpec("amax", lambda a, dim, keepdim: amax(a, dim, keepdim), reduction_cases(),
           np_reduce("max"), values=distinct()),
    OpSpec("logsumexp", lambda a, dim, keepdim: a.logsumexp(dim, keepdim),
           reduction_cases(allow_none=False), np_logsumexp),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- indices, dtypes
def test_max_min_with_dim_return_values_and_indices_like_pytorch():
    x = tn.tensor([[1.0, 5.0, 3.0], [7.0, 0.0, 7.0]])
    values, indices = x.max(1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])  # first of the tied maxima
    assert indices.dtype == np.int64
    values, indices = tn.min(x, dim=0, keepdim=True)
    assert values.shape == (1, 3) and indices.shape == (1, 3)
    np.testing.assert_array_equal(indices.numpy(), [[0, 1, 0]])
    np.testing.assert_array_equal(x.argmax(1).numpy(), [1, 0])
    np.testing.assert_array_equal(tn.argmin(x, 1, keepdim=True).numpy(), [[0], [1]])
    scalar = tn.tensor(3.0)  # a 0-d tensor takes dim 0 and stays 0-d, as in PyTorch
    assert scalar.max(0, keepdim=True).values.shape == () == scalar.max(-1, True).indices.shape


def test_sum_of_bools_and_ints_is_int64_and_mean_of_ints_is_refused():
    flags = tn.tensor([True, False, True])
    assert flags.sum().dtype == np.int64 and flags.sum().item() == 2
    assert tn.tensor([1, 2], dtype=tn.int32).sum().dtype == np.int64
    with pytest.raises(TypeError, match="mean"):
        tn.tensor([1, 2]).mean()


def test_reduction_dim_out_of_range_names_the_op():
    x = tn.ones(2, 3)
    for call, name in [(lambda: x.sum(2), "sum"), (lambda: x.mean((0, -3)), "mean"),
                       (lambda: x.max(5), "max"), (lambda: x.logsumexp(-3), "logsumexp")]:
        with pytest.raises(IndexError, match=name):
            call()


def test_max_of_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match="max"):
        tn.zeros(0).max()


# --------------------------------------------------------------------------- ties
def test_max_without_dim_splits_ties_evenly_like_pytorch():
    """As torch.max() with no dim (and torch.amax): the gradient is shared by the tied maxima."""
    x = tn.tensor([1.0, 3.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / 3, 1 / 3, 1 / 3])
    y = tn.tensor([[2.0, -1.0], [-1.0, 2.0]], requires_grad=True)
    tn.min(y).backward()
    np.testing.assert_allclose(y.grad.numpy(), [[0.0, 0.5], [0.5, 0.0]])


def test_max_and_min_with_dim_send_the_gradient_to_the_returned_index_like_pytorch():
    """torch.max(dim)/min(dim) give a tie's gradient to the index they return (the first), not
    shared as max() and amax share it; NaN is the max and takes it; names survive backward."""
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 4.0, 4.0], [2.0, 0.0, 0.0], [np.nan, 3.0, np.nan]])
    for call in (lambda t: t.max(1).values, lambda t: t.min(1, keepdim=True).values,
                 lambda t: t.max(0).values, lambda t: t.min(-2).values, lambda t: t[0, 1].max(0)[0]):
        x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        out, t_out = call(x), call(tx)
        weights = np.arange(1.0, out.numel() + 1).reshape(out.shape)
        (out * tn.tensor(weights)).sum().backward()
        (t_out * torch.tensor(weights)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
        np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
        assert out.grad_fn.name() == t_out.grad_fn.name()
    x = tn.tensor([[1.0, 4.0, 3.0]], dtype=tn.float64, requires_grad=True)
    assert tn.gradgradcheck(lambda t: t.max(1).values ** 2, (x,))
    with pytest.raises(TypeError, match="max: dim must be an int"):
        x.max((0, 1))


def test_ties_match_pytorch_where_pytorch_splits():
    torch = pytest.importorskip("torch")
    data = np.array([[1.0, 4.0, 4.0], [4.0, 0.0, 4.0]])
    for tn_fn, torch_fn in [(lambda t: t.max(), lambda t: t.max()),
                            (lambda t: t.min(), lambda t: t.min()),
                            (lambda t: amax(t, 1).sum(), lambda t: t.amax(1).sum()),
                            (lambda t: amax(t, (0, 1)), lambda t: t.amax((0, 1)))]:
        x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        tn_fn(x).backward()
        torch_fn(tx).backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    # with dim: the values and the index of the first maximum agree with PyTorch
    values, indices = tn.tensor(data).max(1)
    t_values, t_indices = torch.tensor(data).max(1)
    np.testing.assert_array_equal(values.numpy(), t_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())


def test_logsumexp_is_finite_at_extreme_values():
    x = tn.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warning
        out = x.logsumexp(1)
        out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), [1e4, -1e4 + np.log(3.0)])
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_sums_means_and_variances_of_infinities_warn_nothing():
    """inf - inf and overflow give NaN and inf silently, as in PyTorch (NumPy's reductions warn
    from NumPy's own code, which tinynet's warning filter does not cover)."""
    x = tn.tensor([np.inf, -np.inf, 1e308, 1e308], dtype=tn.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [x.sum(), x.mean(), x.var(), x[2:].sum(), x[2:].mean(dim=0), x[2:].var(0)]
        results[0].backward()
    values = [r.item() for r in results]
    np.testing.assert_array_equal(values, [np.nan] * 3 + [np.inf] * 3)


def test_std_of_equal_values_has_gradient_zero_as_in_pytorch():
    """std is 0 there, and a plain sqrt's infinite slope would make the gradient NaN."""
    data = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    x = tn.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero or invalid-value warning
        x.std(1).backward(tn.tensor([np.inf, 1.0]))  # masked: even an inf gradient gives 0
    np.testing.assert_array_equal(x.grad.numpy()[0], [0.0, 0.0, 0.0])
    centered = data[1] - data[1].mean()
    np.testing.assert_allclose(x.grad.numpy()[1], centered / (2 * np.std(data[1], ddof=1)))
    assert x.std().grad_fn.name() == "StdBackward0"


@pytest.mark.parametrize("reduce", ["var", "std"])
@pytest.mark.parametrize("data, grad", [([1.0, 3.0], np.inf), ([1.0, 3.0, 2.0], -np.inf),
                                        ([2.0, 2.0], np.inf), ([5.0], 1.0)])
def test_var_and_std_gradients_match_pytorch_at_inf_gradients_and_no_degrees_of_freedom(
        reduce, data, grad):
    """var's gradient is PyTorch's one product 2/dof · g · (x - mean), so an inf gradient gives
    ±inf (a sum of ops would subtract inf from inf); with one value and correction 1 the result
    is NaN, with PyTorch's warning and none from NumPy."""
    torch = pytest.importorskip("torch")
    x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(x, reduce)()
        out.backward(tn.tensor(grad))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own degrees-of-freedom warning
        t_out = getattr(tx, reduce)()
        t_out.backward(torch.tensor(grad))
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    assert out.grad_fn.name() == t_out.grad_fn.name()
    messages = [str(w.message) for w in caught]
    if len(data) > 1:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith(f"{reduce}(): degrees of freedom")
        assert caught[0].category is UserWarning


def test_var_of_integers_raises_as_pytorch():
    with pytest.raises(RuntimeError, match="var: std and var only support floating point.*int64"):
        tn.tensor([1, 2]).var()


def test_amax_of_nan_gives_nan_gradients_without_a_numpy_warning():
    x = tn.tensor([1.0, np.nan], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        amax(x).backward()
    assert np.isnan(x.grad.numpy()).all()  # PyTorch's amax gives NaN to every element too


@pytest.mark.parametrize("reduce", ["var_mean", "std_mean"])
@pytest.mark.parametrize("dim, keepdim, kwargs", [(None, False, {}), (1, True, {}),
                                                  ((0, 2), False, {"correction": 0}),
                                                  (-1, False, {"unbiased": False})])
def test_var_mean_and_std_mean_match_pytorch(reduce, dim, keepdim, kwargs):
    """Both results and the gradients of a loss that uses both, against PyTorch; second order
    by gradgradcheck."""
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((3, 4, 5))
    x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    spread, centre = getattr(tn, reduce)(x, dim, keepdim=keepdim, **kwargs)
    t_spread, t_centre = getattr(torch, reduce)(tx, dim, keepdim=keepdim, **kwargs)
    for ours, theirs in [(spread, t_spread), (centre, t_centre)]:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    (spread * centre).sum().backward()
    (t_spread * t_centre).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert tn.gradgradcheck(lambda a: getattr(tn, reduce)(a, dim, keepdim=keepdim, **kwargs),
                            (tn.tensor(data, requires_grad=True),))


def test_var_mean_names_itself_in_its_errors_and_warnings():
    with pytest.raises(RuntimeError, match="var_mean: std and var only support floating"):
        tn.var_mean(tn.tensor([1, 2]))
    with pytest.warns(UserWarning, match=r"std_mean\(\): degrees of freedom"):
        tn.std_mean(tn.tensor([1.0]))
