"""The 3-D ops (conv3d, max_pool3d, avg_pool3d, the adaptive pools, lp_pool3d) and layers
(Conv3d, MaxPool3d, AvgPool3d, AdaptiveAvg/MaxPool3d, LPPool3d, BatchNorm3d, InstanceNorm3d):
through the op factory to second order (conv3d against a NumPy loop over the kernel), then
against PyTorch's values, gradients, indices (ties and NaN included) and printing."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, check_op, distinct, op_settings

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from torch_oracle import assert_matches_torch


def np_conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation as a sum over the kernel's taps of strided slices times weights."""
    s, p, d = ((v,) * 3 if isinstance(v, int) else v for v in (stride, padding, dilation))
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p))
    kernel = w.shape[2:]
    out_sizes = [(x.shape[2 + i] - d[i] * (kernel[i] - 1) - 1) // s[i] + 1 for i in range(3)]
    c_in, c_out = w.shape[1], w.shape[0] // groups
    out = np.zeros((x.shape[0], w.shape[0], *out_sizes))
    for g in range(groups):
        xs = x[:, g * c_in:(g + 1) * c_in]
        for i, j, k in itertools.product(*(range(n) for n in kernel)):
            window = xs[:, :, i * d[0]::s[0], j * d[1]::s[1], k * d[2]::s[2]]
            window = window[:, :, :out_sizes[0], :out_sizes[1], :out_sizes[2]]
            out[:, g * c_out:(g + 1) * c_out] += np.einsum(
                "ncdhw,oc->nodhw", window, w[g * c_out:(g + 1) * c_out, :, i, j, k])
    return out if b is None else out + b[None, :, None, None, None]


def np_conv_transpose3d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                        dilation=1):
    """Each input voxel's channels times the kernel, added into the output at its place."""
    s, p, o, d = ((v,) * 3 if isinstance(v, int) else v
                  for v in (stride, padding, output_padding, dilation))
    kernel = w.shape[2:]
    full = [(x.shape[2 + i] - 1) * s[i] + d[i] * (kernel[i] - 1) + 1 + o[i] for i in range(3)]
    c_in, c_out = x.shape[1] // groups, w.shape[1]
    out = np.zeros((x.shape[0], c_out * groups, *full))
    for g in range(groups):
        xs, ws = x[:, g * c_in:(g + 1) * c_in], w[g * c_in:(g + 1) * c_in]
        for i, j, k in itertools.product(*(range(n) for n in kernel)):
            contribution = np.einsum("ncdhw,co->nodhw", xs, ws[:, :, i, j, k])
            out[:, g * c_out:(g + 1) * c_out,
                i * d[0]:i * d[0] + (x.shape[2] - 1) * s[0] + 1:s[0],
                j * d[1]:j * d[1] + (x.shape[3] - 1) * s[1] + 1:s[1],
                k * d[2]:k * d[2] + (x.shape[4] - 1) * s[2] + 1:s[2]] += contribution
    out = out[:, :, p[0]:full[0] - p[0], p[1]:full[1] - p[1], p[2]:full[2] - p[2]]
    return out if b is None else out + b[None, :, None, None, None]


@st.composite
def conv_transpose3d_cases(draw):
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(3))
    stride = draw(st.sampled_from([1, 2, (2, 1, 2)]))
    strides = (stride,) * 3 if isinstance(stride, int) else stride
    kwargs = {"stride": stride, "padding": draw(st.sampled_from([0, (1, 0, 0)])),
              "output_padding": tuple(draw(st.integers(0, s - 1)) for s in strides),
              "groups": groups, "dilation": draw(st.sampled_from([1, (2, 1, 1)]))}
    # a depth of 2 or more leaves an output whatever the padding
    shapes = [(draw(st.integers(1, 2)), c_in) + tuple(draw(st.integers(2 - (d > 0), 3))
                                                      for d in range(3)),
              (c_in, c_out // groups) + kernel]
    if draw(st.booleans()):
        shapes.append((c_out,))
    return tuple(shapes), kwargs


@st.composite
def conv3d_cases(draw):
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(3))
    kwargs = {"stride": draw(st.sampled_from([1, 2, (1, 2, 1)])),
              "padding": draw(st.sampled_from([0, 1, (1, 0, 1)])),
              "dilation": draw(st.sampled_from([1, (2, 1, 1)])), "groups": groups}
    dilation = (kwargs["dilation"],) * 3 if isinstance(kwargs["dilation"], int) else kwargs["dilation"]
    spatial = tuple(dilation[i] * (kernel[i] - 1) + 1 + draw(st.integers(0, 2)) for i in range(3))
    shapes = [(draw(st.integers(1, 2)), c_in) + spatial, (c_out, c_in // groups) + kernel]
    if draw(st.booleans()):
        shapes.append((c_out,))
    return tuple(shapes), kwargs


@st.composite
def pool3d_cases(draw, pool):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(3))
    kwargs = {"kernel_size": kernel, "stride": draw(st.sampled_from([None, 1, 2])),
              "padding": tuple(draw(st.integers(0, k // 2)) for k in kernel),
              "ceil_mode": draw(st.booleans())}
    if pool == "avg":
        kwargs["count_include_pad"] = draw(st.booleans())
    spatial = tuple(k + draw(st.integers(0, 2)) for k in kernel)
    return ((draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial,), kwargs


SPECS = [
    OpSpec("conv3d", F.conv3d, conv3d_cases(), reference=np_conv3d),
    OpSpec("conv_transpose3d", F.conv_transpose3d, conv_transpose3d_cases(),
           reference=np_conv_transpose3d),
    OpSpec("max_pool3d", F.max_pool3d, pool3d_cases("max"), values=distinct()),
    OpSpec("avg_pool3d", F.avg_pool3d, pool3d_cases("avg")),
    OpSpec("adaptive_avg_pool3d", F.adaptive_avg_pool3d,
           st.tuples(st.tuples(st.just((1, 1, 3, 3, 4))),
                     st.fixed_dictionaries({"output_size": st.sampled_from([2, (1, 2, None)])}))),
    OpSpec("adaptive_max_pool3d", F.adaptive_max_pool3d,
           st.tuples(st.tuples(st.just((1, 1, 3, 3, 4))),
                     st.fixed_dictionaries({"output_size": st.sampled_from([2, (1, 2, None)])})),
           values=distinct()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_3d_ops_through_the_op_factory(spec, data):
    check_op(spec, data)


CONV_ARGUMENTS = [{}, {"stride": 2}, {"padding": 1}, {"groups": 2},
                  {"padding": (2, 0, 1), "dilation": (2, 1, 2), "stride": (1, 2, 3)},
                  {"padding": "same", "dilation": 2}, {"padding": "valid"}]


@pytest.mark.parametrize("kwargs", CONV_ARGUMENTS)
def test_conv3d_matches_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 6, 7))
    w = rng.standard_normal((6, 4 // kwargs.get("groups", 1), 3, 2, 3))
    b = rng.standard_normal(6)
    assert_matches_torch(torch, lambda *t: F.conv3d(*t, **kwargs),
                         lambda *t: torch.nn.functional.conv3d(*t, **kwargs), x, w, b, rtol=1e-10)
    assert_matches_torch(torch, lambda a, ww: F.conv3d(a[0], ww, **kwargs),  # unbatched
                         lambda a, ww: torch.nn.functional.conv3d(a[0], ww, **kwargs), x, w,
                         rtol=1e-10)


TRANSPOSE_ARGUMENTS = [{}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
                       {"groups": 2}, {"stride": (2, 1, 3), "padding": (1, 0, 1),
                                       "dilation": (2, 1, 2), "output_padding": (1, 0, 2)}]


@pytest.mark.parametrize("kwargs", TRANSPOSE_ARGUMENTS)
def test_conv_transpose3d_matches_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 3, 4, 5))
    groups = kwargs.get("groups", 1)
    w, b = rng.standard_normal((4, 6 // groups, 3, 2, 3)), rng.standard_normal(6)
    assert_matches_torch(torch, lambda *t: F.conv_transpose3d(*t, **kwargs),
                         lambda *t: torch.nn.functional.conv_transpose3d(*t, **kwargs), x, w, b,
                         rtol=1e-10)
    assert_matches_torch(torch, lambda a, ww: F.conv_transpose3d(a[0], ww, **kwargs),
                         lambda a, ww: torch.nn.functional.conv_transpose3d(a[0], ww, **kwargs),
                         x, w, rtol=1e-10)


POOL_ARGUMENTS = [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                  {"kernel_size": (3, 2, 2), "stride": (2, 1, 2), "ceil_mode": True},
                  {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}]


@pytest.mark.parametrize("kwargs", POOL_ARGUMENTS)
def test_pools_match_pytorch_with_ties_and_nan(kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 6, 7))
    ties = np.maximum(x, 0)  # ReLU's zeros: whole windows of ties
    ties[:, :, :, :3] = 0
    with_nan = x.copy()
    with_nan[0, 0, 1, 2, 3] = with_nan[1, 2, 4, 0, 0] = np.nan
    with_nan[0, 0, 0, 2, 2] = with_nan[0, 0, 2, 3, 3] = np.nan  # NaNs at several depths of a window
    for data in (x, ties, with_nan):
        assert_matches_torch(torch, lambda t: F.max_pool3d(t, **kwargs),
                             lambda t: torch.nn.functional.max_pool3d(t, **kwargs), data, rtol=1e-12)
        ours = F.max_pool3d(tn.tensor(data), return_indices=True, **kwargs)[1]
        theirs = torch.nn.functional.max_pool3d(torch.tensor(data), return_indices=True, **kwargs)[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for include in (True, False):
        assert_matches_torch(torch, lambda t, c=include: F.avg_pool3d(t, count_include_pad=c,
                                                                      **kwargs),
                             lambda t, c=include: torch.nn.functional.avg_pool3d(
                                 t, count_include_pad=c, **kwargs), x, rtol=1e-12)
    args = (2, kwargs["kernel_size"], kwargs.get("stride"), kwargs.get("ceil_mode", False))
    assert_matches_torch(torch, lambda t: F.lp_pool3d(t, *args),
                         lambda t: torch.nn.functional.lp_pool3d(t, *args), np.abs(x), rtol=1e-12)
    dilated = {"kernel_size": 2, "dilation": 2, "stride": 1, "padding": 1}
    assert_matches_torch(torch, lambda t: F.max_pool3d(t, **dilated),
                         lambda t: torch.nn.functional.max_pool3d(t, **dilated), x, rtol=1e-12)
    assert_matches_torch(torch, lambda t: F.avg_pool3d(t, 2, divisor_override=3),
                         lambda t: torch.nn.functional.avg_pool3d(t, 2, divisor_override=3), x)


@pytest.mark.parametrize("size", [(2, 3, 4), 3, (None, 2, 5), (5, 6, 7), (1, 1, 1)])
def test_adaptive_pools_match_pytorch(size):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 6, 7))
    ties = np.maximum(x, 0)
    with_nan = x.copy()
    with_nan[0, 0, 0, 0, 0] = with_nan[0, 0, 1, 0, 1] = with_nan[1, 2, 3, 2, 2] = np.nan
    for data in (x, ties, with_nan):
        assert_matches_torch(torch, lambda t: F.adaptive_avg_pool3d(t, size),
                             lambda t: torch.nn.functional.adaptive_avg_pool3d(t, size), data,
                             rtol=1e-12)
        assert_matches_torch(torch, lambda t: F.adaptive_max_pool3d(t, size),
                             lambda t: torch.nn.functional.adaptive_max_pool3d(t, size), data,
                             rtol=1e-12)
        ours = F.adaptive_max_pool3d(tn.tensor(data[0]), size, return_indices=True)[1]
        theirs = torch.nn.functional.adaptive_max_pool3d(torch.tensor(data[0]), size, True)[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_3d_layers_print_and_compute_as_pytorchs():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 4, 5, 6, 7))
    makers = [lambda lib: lib.nn.Conv3d(4, 6, (1, 2, 3), padding="same", padding_mode="circular"),
              lambda lib: lib.nn.Conv3d(4, 2, 3, stride=2, padding=1, padding_mode="reflect",
                                        bias=False),
              lambda lib: lib.nn.Conv3d(4, 4, 2, groups=4, dilation=(1, 2, 1),
                                        padding_mode="replicate", padding=(1, 0, 1)),
              lambda lib: lib.nn.ConvTranspose3d(4, 6, (2, 1, 3), stride=2, output_padding=1,
                                                 groups=2, bias=False),
              lambda lib: lib.nn.MaxPool3d(2), lambda lib: lib.nn.MaxPool3d(3, 2, 1, ceil_mode=True),
              lambda lib: lib.nn.AvgPool3d(2), lambda lib: lib.nn.AvgPool3d(3, 1, 1, False, False),
              lambda lib: lib.nn.AdaptiveAvgPool3d((1, None, 2)),
              lambda lib: lib.nn.AdaptiveMaxPool3d(2), lambda lib: lib.nn.LPPool3d(2, 2),
              lambda lib: lib.nn.BatchNorm3d(4), lambda lib: lib.nn.InstanceNorm3d(4, affine=True)]
    for make in makers:
        ours, theirs = make(tn).double(), make(torch).double()
        assert repr(ours) == repr(theirs)
        ours.load_state_dict({k: tn.tensor(v.detach().numpy())
                              for k, v in theirs.state_dict().items()})
        data = np.abs(x) if isinstance(ours, nn.LPPool3d) else x
        assert_matches_torch(torch, ours, theirs, data, rtol=1e-10)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10)
        for ours_buffer, theirs_buffer in zip(ours.buffers(), theirs.buffers()):
            np.testing.assert_allclose(ours_buffer.numpy(), theirs_buffer.numpy(), rtol=1e-10)


def test_conv_transpose3d_layer_picks_output_padding_for_output_size():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((1, 2, 3, 3, 3))
    ours = nn.ConvTranspose3d(2, 3, 3, stride=2).double()
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=2).double()
    ours.load_state_dict({k: tn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert_matches_torch(torch, lambda t: ours(t, output_size=(8, 7, 8)),
                         lambda t: theirs(t, output_size=(8, 7, 8)), x, rtol=1e-10)


def test_3d_errors_say_what_is_expected():
    with pytest.raises(RuntimeError, match="conv3d: Expected 4D \\(unbatched\\) or 5D \\(batched\\) "
                                           "input to conv3d, but got input of size: \\[2, 3\\]"):
        F.conv3d(tn.ones(2, 3), tn.ones(1, 3, 1, 1, 1))
    with pytest.raises(ValueError, match="conv3d: weight must be \\(C_out, C_in/groups, kd, kh, kw\\)"):
        F.conv3d(tn.ones(1, 3, 2, 2, 2), tn.ones(1, 3, 1, 1))
    with pytest.raises(ValueError, match="has 3 channels but weight \\(1, 2, 1, 1, 1\\) with groups=1 "
                                         "expects 2"):
        F.conv3d(tn.ones(1, 3, 2, 2, 2), tn.ones(1, 2, 1, 1, 1))
    with pytest.raises(ValueError, match="does not fit the depth of input"):
        F.conv3d(tn.ones(1, 1, 2, 4, 4), tn.ones(1, 1, 3, 1, 1))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv3d(tn.ones(1, 1, 4, 4, 4), tn.ones(1, 1, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="max_pool3d: pad should be at most half of effective "
                                           "kernel size"):
        F.max_pool3d(tn.ones(1, 1, 4, 4, 4), 2, padding=(2, 0, 0))
    with pytest.raises(ValueError, match="avg_pool3d: kernel_size must be an int or a tuple of 3 ints"):
        F.avg_pool3d(tn.ones(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(ValueError, match="adaptive_avg_pool3d: output_size must be an int or a "
                                         "triple"):
        F.adaptive_avg_pool3d(tn.ones(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(ValueError, match="BatchNorm3d: expected 5D input"):
        nn.BatchNorm3d(1)(tn.ones(1, 1, 4, 4))


def test_an_empty_batch_gives_empty_results():
    assert F.max_pool3d(tn.zeros(0, 2, 4, 4, 4), 2).shape == (0, 2, 2, 2, 2)
    assert F.avg_pool3d(tn.zeros(0, 2, 4, 4, 4), 2).shape == (0, 2, 2, 2, 2)
    assert F.conv3d(tn.zeros(0, 2, 4, 4, 4), tn.zeros(3, 2, 2, 2, 2)).shape == (0, 3, 3, 3, 3)
    assert F.grid_sample(tn.zeros(0, 2, 3, 3), tn.zeros(0, 2, 2, 2),
                         align_corners=False).shape == (0, 2, 2, 2)
