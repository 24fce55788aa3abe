"""F.lp_pool1d, F.lp_pool2d and their layers: through the op factory to second order against a
NumPy p-norm of each window, then against PyTorch's values and gradients for every norm
(negative inputs, infinite norms, ceil_mode) and its printing."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, check_op, op_settings

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from torch_oracle import assert_matches_torch


def np_lp_pool2d(x, norm_type, kernel_size, stride=None):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    sh, sw = (kh, kw) if stride is None else (stride, stride)
    rows, cols = (x.shape[-2] - kh) // sh + 1, (x.shape[-1] - kw) // sw + 1
    out = np.empty(x.shape[:-2] + (rows, cols))
    for i in range(rows):
        for j in range(cols):
            window = x[..., i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[..., i, j] = (window ** norm_type).sum(axis=(-2, -1)) ** (1 / norm_type)
    return out


@st.composite
def lp_cases(draw, dims):
    norm_type = draw(st.sampled_from([1, 2, 3, 1.5]))
    kernel = draw(st.integers(1, 3)) if dims == 1 else (draw(st.integers(1, 3)),
                                                        draw(st.integers(1, 3)))
    sides = [kernel] if dims == 1 else list(kernel)
    spatial = tuple(k + draw(st.integers(0, 3)) for k in sides)
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial
    return (shape,), {"norm_type": norm_type, "kernel_size": kernel,
                      "stride": draw(st.sampled_from([None, 1, 2]))}


def positive(arrays):  # a fractional power of a negative number is NaN, of 0 infinitely steep
    return [np.abs(a) + 0.25 for a in arrays]


LP_POOL2D = OpSpec("lp_pool2d", F.lp_pool2d, lp_cases(2), reference=np_lp_pool2d, values=positive)
LP_POOL1D = OpSpec("lp_pool1d", F.lp_pool1d, lp_cases(1), values=positive,
                   reference=lambda x, kernel_size, stride=None, **kw: np_lp_pool2d(
                       x[..., None, :], kernel_size=(1, kernel_size), stride=stride, **kw)[..., 0, :])


@op_settings
@given(data=st.data())
def test_lp_pool2d_through_the_op_factory(data):
    check_op(LP_POOL2D, data)


@op_settings
@given(data=st.data())
def test_lp_pool1d_through_the_op_factory(data):
    check_op(LP_POOL1D, data)


@pytest.mark.parametrize("norm_type", [1, 2, 3, 1.5, float("inf"), -float("inf")])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_lp_pools_match_pytorch(norm_type, ceil_mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    for kernel_size, stride in ((2, None), ((3, 2), 2)):
        assert_matches_torch(torch, lambda t, k=kernel_size, s=stride: F.lp_pool2d(
                                 t, norm_type, k, s, ceil_mode),
                             lambda t, k=kernel_size, s=stride: torch.nn.functional.lp_pool2d(
                                 t, norm_type, k, s, ceil_mode), x, rtol=1e-12)
    assert_matches_torch(torch, lambda t: F.lp_pool1d(t[0], norm_type, 3, 2, ceil_mode),
                         lambda t: torch.nn.functional.lp_pool1d(t[0], norm_type, 3, 2, ceil_mode),
                         x, rtol=1e-12)


def test_lp_pool_layers_print_and_compute_as_pytorchs():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8))
    for make in (lambda lib: lib.nn.LPPool2d(2, 3, stride=2),
                 lambda lib: lib.nn.LPPool2d(1.5, (2, 3), ceil_mode=True)):
        ours, theirs = make(tn), make(torch)
        assert repr(ours) == repr(theirs)
        assert_matches_torch(torch, ours, theirs, np.abs(x), rtol=1e-12)
    ours, theirs = nn.LPPool1d(3, 2), torch.nn.LPPool1d(3, 2)
    assert repr(ours) == repr(theirs)
    assert_matches_torch(torch, ours, theirs, x[:, :, 0], rtol=1e-12)


def test_lp_pool_errors_name_the_function():
    with pytest.raises(ValueError, match="lp_pool2d: kernel_size"):
        F.lp_pool2d(tn.ones(1, 1, 4, 4), 2, (1, 2, 3))
    with pytest.raises(RuntimeError, match="avg_pool1d"):
        F.lp_pool1d(tn.ones(1, 1, 1, 4), 2, 2)
