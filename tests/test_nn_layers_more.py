"""More of torch.nn: the remaining activations, transposed convolution layers, instance norm
(and batch norm's functional form), padding layers, pixel and channel shuffles, and the
adaptive max and 1-D pools. Each function goes through the op factory (forward against NumPy,
gradients of first and second order in float64, inputs not mutated, graph freed), then against
PyTorch: values and gradients at kinks, extremes and NaN, printing, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.nn.activations import SELU_ALPHA, SELU_SCALE
from tinynet.testing import (OpSpec, away_from, away_from_zero, cases, check_op, distinct,
                             op_settings, per_input, shapes, unchanged)
from torch_oracle import assert_matches_torch


# --------------------------------------------------------------------------- NumPy references
def np_softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def np_glu(x, dim):
    a, b = np.split(x, 2, axis=dim)
    return a / (1 + np.exp(-b))


def np_prelu(x, w):
    if w.size > 1:
        w = w.reshape((-1,) + (1,) * (x.ndim - 2))
    return np.where(x > 0, x, w * x)


def np_norm(x, dims, weight=None, bias=None, eps=1e-5):
    mean = x.mean(axis=dims, keepdims=True)
    var = x.var(axis=dims, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = y if weight is None else y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def np_pixel_shuffle(x, r):
    *lead, c, h, w = x.shape
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    return y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2).reshape(*lead, c // (r * r),
                                                                           h * r, w * r)


def np_adaptive_max(x, size):
    (h, w), (th, tw) = x.shape[-2:], size
    out = np.empty(x.shape[:-2] + (th, tw))
    for i in range(th):
        for j in range(tw):
            window = x[..., i * h // th:-(-(i + 1) * h // th), j * w // tw:-(-(j + 1) * w // tw)]
            out[..., i, j] = window.max(axis=(-2, -1))
    return out


def np_conv_transpose1d(x, w, stride, padding, groups):
    n, _, length = x.shape
    c_in, c_out, k = w.shape[0] // groups, w.shape[1], w.shape[2]
    full = np.zeros((n, c_out * groups, (length - 1) * stride + k))
    for g in range(groups):
        for i in range(length):
            full[:, g * c_out:(g + 1) * c_out, i * stride:i * stride + k] += np.einsum(
                "nc,cok->nok", x[:, g * c_in:(g + 1) * c_in, i], w[g * c_in:(g + 1) * c_in])
    return full[:, :, padding:full.shape[2] - padding]


# --------------------------------------------------------------------------- op factory cases
@st.composite
def glu_cases(draw):
    shape = list(draw(shapes(min_dims=1)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    shape[dim] = 2 * draw(st.integers(1, 2))
    return (tuple(shape),), {"dim": dim}


@st.composite
def prelu_cases(draw):
    shape = draw(shapes(min_dims=2, max_dims=4))
    return (shape, (draw(st.sampled_from([1, shape[1]])),)), {}


@st.composite
def norm_cases(draw, per_sample):
    shape = draw(shapes(min_dims=2 if not per_sample else 3, max_dims=4, min_side=2))
    affine = draw(st.booleans())
    inputs = (shape, (shape[1],), (shape[1],)) if affine else (shape,)
    return inputs, {}


@st.composite
def shuffle_cases(draw):
    r = draw(st.integers(1, 2))
    lead = draw(shapes(min_dims=0, max_dims=2, max_side=2))
    return (lead + (draw(st.integers(1, 2)) * r * r, draw(st.integers(1, 3)),
                    draw(st.integers(1, 3))),), {"r": r}


@st.composite
def adaptive_max_cases(draw):
    shape = draw(shapes(min_dims=4, max_dims=4, max_side=5))
    return (shape,), {"size": (draw(st.integers(1, shape[2])), draw(st.integers(1, shape[3])))}


@st.composite
def conv_transpose1d_cases(draw):
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, stride = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    length = draw(st.integers(1, 4))
    padding = draw(st.integers(0, ((length - 1) * stride + k - 1) // 2))
    return ((2, c_in, length), (c_in, c_out, k)), {"stride": stride, "padding": padding,
                                                    "groups": groups}


def _norm(fn):
    """F.batch_norm / F.instance_norm with the input's statistics and an optional affine map."""
    return lambda x, *affine: fn(x, *affine) if affine else fn(x)


def _batch_norm(x, weight=None, bias=None):
    return F.batch_norm(x, None, None, weight, bias, training=True)


def _instance_norm(x, weight=None, bias=None):
    return F.instance_norm(x, weight=weight, bias=bias)


SPECS = [
    OpSpec("hardtanh", F.hardtanh, cases(shapes(), min_val=-1.0, max_val=st.sampled_from([0.5, 1.0])),
           lambda x, min_val, max_val: np.clip(x, min_val, max_val),
           values=away_from([-1.0, 0.5, 1.0])),
    OpSpec("relu6", F.relu6, cases(shapes()), lambda x: np.clip(x, 0, 6),
           values=away_from([0.0, 6.0]), low=-2, high=8),
    OpSpec("hardsigmoid", F.hardsigmoid, cases(shapes()), lambda x: np.clip(x + 3, 0, 6) / 6,
           values=away_from([-3.0, 3.0]), low=-5, high=5),
    OpSpec("hardswish", F.hardswish, cases(shapes()), lambda x: x * np.clip(x + 3, 0, 6) / 6,
           values=away_from([-3.0, 3.0]), low=-5, high=5),
    OpSpec("selu", F.selu, cases(shapes()),
           lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
           values=away_from_zero()),
    OpSpec("celu", F.celu, cases(shapes(), alpha=st.sampled_from([1.0, 0.5, 2.0])),
           lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
           values=away_from_zero()),
    OpSpec("logsigmoid", F.logsigmoid, cases(shapes()), lambda x: -np.logaddexp(0, -x),
           low=-8, high=8),
    OpSpec("softsign", F.softsign, cases(shapes()), lambda x: x / (1 + np.abs(x)),
           values=away_from_zero()),
    OpSpec("tanhshrink", F.tanhshrink, cases(shapes()), lambda x: x - np.tanh(x)),
    OpSpec("softshrink", F.softshrink, cases(shapes(), lambd=st.sampled_from([0.0, 0.5])),
           lambda x, lambd: np.where(np.abs(x) <= lambd, 0, x - np.sign(x) * lambd),
           values=away_from([-0.5, 0.0, 0.5])),
    OpSpec("hardshrink", F.hardshrink, cases(shapes(), lambd=st.sampled_from([0.0, 0.5])),
           lambda x, lambd: np.where(np.abs(x) > lambd, x, 0), values=away_from([-0.5, 0.0, 0.5])),
    OpSpec("threshold", F.threshold, cases(shapes(), threshold=0.2, value=st.sampled_from([-1.0, 3.0])),
           lambda x, threshold, value: np.where(x > threshold, x, value), values=away_from([0.2])),
    OpSpec("glu", F.glu, glu_cases(), np_glu),
    OpSpec("softmin", F.softmin, cases(shapes(min_dims=1), dim=-1),
           lambda x, dim: np_softmax(-x, dim)),
    OpSpec("prelu", F.prelu, prelu_cases(), np_prelu,
           values=per_input(away_from_zero(), unchanged)),
    OpSpec("rrelu (eval)", F.rrelu, cases(shapes()), lambda x: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2),
           values=away_from_zero()),
    OpSpec("batch_norm", _batch_norm, norm_cases(per_sample=False),
           lambda x, *affine: np_norm(x, (0,) + tuple(range(2, x.ndim)), *affine)),
    OpSpec("instance_norm", _instance_norm, norm_cases(per_sample=True),
           lambda x, *affine: np_norm(x, tuple(range(2, x.ndim)), *affine)),
    OpSpec("pixel_shuffle", lambda x, r: F.pixel_shuffle(x, r), shuffle_cases(), np_pixel_shuffle),
    OpSpec("pixel_unshuffle of pixel_shuffle",
           lambda x, r: F.pixel_unshuffle(F.pixel_shuffle(x, r), r), shuffle_cases(),
           lambda x, r: x),
    OpSpec("channel_shuffle", lambda x: F.channel_shuffle(x, 2),
           cases(st.tuples(st.integers(1, 2), st.sampled_from([2, 4, 6]), st.integers(1, 3))),
           lambda x: x.reshape(x.shape[0], 2, -1, x.shape[2]).swapaxes(1, 2).reshape(x.shape)),
    OpSpec("adaptive_max_pool2d", lambda x, size: F.adaptive_max_pool2d(x, size),
           adaptive_max_cases(), np_adaptive_max, values=distinct()),
    OpSpec("adaptive_max_pool1d", lambda x, size: F.adaptive_max_pool1d(x, size),
           cases(st.tuples(st.just(2), st.just(2), st.integers(1, 6)), size=st.integers(1, 4)),
           lambda x, size: np_adaptive_max(x[:, :, None], (1, size))[:, :, 0],
           values=distinct()),
    OpSpec("conv_transpose1d", F.conv_transpose1d, conv_transpose1d_cases(), np_conv_transpose1d),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- against PyTorch
SPECIAL = np.array([-np.inf, -1e4, -30.0, -7.0, -6.0, -3.0, -1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0,
                    3.0, 6.0, 7.0, 30.0, 1e4, np.inf, np.nan])

ACTIVATIONS = [  # (name of the layer, constructor arguments); the same function in F and torch
    ("Hardtanh", {}), ("Hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("ReLU6", {}),
    ("Hardsigmoid", {}), ("Hardswish", {}), ("SELU", {}), ("CELU", {"alpha": 0.5}),
    ("LogSigmoid", {}), ("Softsign", {}), ("Tanhshrink", {}), ("Softshrink", {"lambd": 0.5}),
    ("Hardshrink", {"lambd": 0.5}), ("Threshold", {"threshold": 0.2, "value": -4.0}),
    ("RReLU", {"lower": 0.1, "upper": 0.3}),
]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=str)
def test_activations_match_pytorch_at_kinks_extremes_and_nan(name, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(**kwargs).eval(), getattr(torch.nn, name)(**kwargs).eval()
    assert repr(ours) == repr(theirs)
    # softsign's gradient, x / (1 + |x|) differentiated as a quotient in both, cancels at 1e4;
    # PyTorch's hardsigmoid gradient multiplies by 1/6 rounded to float32 even in float64
    rtol = {"Softsign": 1e-8, "Hardsigmoid": 1e-7}.get(name, 1e-12)
    assert_matches_torch(torch, ours, theirs, SPECIAL, rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name", ["ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "SELU", "CELU",
                                  "Threshold", "RReLU"])
def test_in_place_activations_write_into_their_input(name):
    torch = pytest.importorskip("torch")
    args = (0.2, -4.0) if name == "Threshold" else ()
    x = np.linspace(-5, 5, 11)
    ours, theirs = tn.tensor(x), torch.tensor(x)
    out = getattr(nn, name)(*args, inplace=True).eval()(ours)
    getattr(torch.nn, name)(*args, inplace=True).eval()(theirs)
    assert out is ours and ours._version == 1
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)
    assert repr(getattr(nn, name)(*args, inplace=True)) == \
        repr(getattr(torch.nn, name)(*args, inplace=True))


def test_layers_with_a_dim_or_parameters_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 2))
    for make in (lambda lib: lib.nn.GLU(1), lambda lib: lib.nn.Softmin(dim=-1),
                 lambda lib: lib.nn.PReLU(), lambda lib: lib.nn.PReLU(4, init=0.1)):
        ours, theirs = make(tn).double(), make(torch).double()
        assert repr(ours) == repr(theirs)
        assert_matches_torch(torch, ours, theirs, x, rtol=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters()):  # PReLU's slopes learn alike
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
    assert [n for n, _ in nn.PReLU(3).named_parameters()] == ["weight"]


def test_rrelu_draws_a_slope_per_element_while_training():
    tn.manual_seed(0)
    x = tn.full((10000,), -1.0, dtype=tn.float64, requires_grad=True)
    out = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -out.detach().numpy()
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.005
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), slopes)  # each element's own slope
    np.testing.assert_array_equal(F.rrelu(tn.ones(3), training=True).numpy(), np.ones(3))


@pytest.mark.parametrize("make", [
    lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    lambda nn: nn.ConvTranspose2d(3, 2, (3, 2), dilation=2, bias=False),
    lambda nn: nn.ConvTranspose1d(4, 2, 3, stride=2, padding=1),
    lambda nn: nn.ConvTranspose1d(2, 4, 4, stride=3, output_padding=2, groups=2, dilation=1),
], ids=range(4))
def test_transposed_convolution_layers_match_pytorch(make):
    torch = pytest.importorskip("torch")
    ours, theirs = make(nn).double(), make(torch.nn).double()
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    ours.load_state_dict({k: tn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    spatial = (5, 4) if isinstance(ours, nn.ConvTranspose2d) else (5,)
    x = np.random.default_rng(0).standard_normal((2, ours.in_channels) + spatial)
    assert_matches_torch(torch, ours, theirs, x, rtol=1e-12)
    assert_matches_torch(torch, ours, theirs, x[0], rtol=1e-12)  # unbatched
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_transposed_convolution_output_size_and_errors():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1), \
        torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    x = np.zeros((1, 4, 5, 5), np.float32)
    for size in ([9, 10], [1, 6, 10, 9]):
        assert tuple(ours(tn.tensor(x), output_size=size).shape) == \
            tuple(theirs(torch.tensor(x), output_size=size).shape)
    with pytest.raises(ValueError, match=r"requested an output size of \[12, 12\], but valid "
                                         r"sizes range from \[9, 9\] to \[10, 10\]"):
        ours(tn.tensor(x), output_size=[12, 12])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        ours(tn.tensor(x), output_size=[10])
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         "ConvTranspose2d"):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="ConvTranspose1d: padding must be an int"):
        nn.ConvTranspose1d(4, 6, 3, padding="same")
    with pytest.raises(ValueError, match=r"conv_transpose1d: weight must be \(C_in, C_out/groups, "
                                         r"k\), got \(4, 2, 3, 3\)"):
        F.conv_transpose1d(tn.zeros(1, 4, 5), tn.zeros(4, 2, 3, 3))


@pytest.mark.parametrize("kind", ["InstanceNorm1d", "InstanceNorm2d"])
@pytest.mark.parametrize("settings", [{}, {"affine": True}, {"affine": True, "bias": False},
                                      {"track_running_stats": True, "momentum": 0.3},
                                      {"affine": True, "track_running_stats": True,
                                       "momentum": None}], ids=str)
def test_instance_norm_matches_pytorch_in_training_and_eval(kind, settings):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, kind)(3, **settings).double(), \
        getattr(torch.nn, kind)(3, **settings).double()
    assert repr(ours) == repr(theirs)
    spatial = (5,) if kind == "InstanceNorm1d" else (4, 3)
    rng = np.random.default_rng(0)
    for training in (True, True, False):
        ours.train(training)
        theirs.train(training)
        x = rng.standard_normal((2, 3) + spatial) * 3 + 1
        assert_matches_torch(torch, ours, theirs, x, rtol=1e-10)
        assert_matches_torch(torch, ours, theirs, x[0], rtol=1e-10)  # unbatched
        for name, buffer in theirs.named_buffers():
            np.testing.assert_allclose(getattr(ours, name).numpy(), buffer.numpy(), rtol=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10)


def test_batch_norm_bias_flag_and_functional_form_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(3, bias=False).double(), \
        torch.nn.BatchNorm1d(3, bias=False).double()
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = np.random.default_rng(1).standard_normal((6, 3, 2))
    assert_matches_torch(torch, ours, theirs, x, rtol=1e-10)
    means = [lib.zeros(3, dtype=lib.float64) for lib in (tn, torch)]
    variances = [lib.ones(3, dtype=lib.float64) for lib in (tn, torch)]
    for training in (True, False):
        assert_matches_torch(
            torch, lambda t, training=training: F.batch_norm(t, means[0], variances[0],
                                                             training=training, momentum=0.2),
            lambda t, training=training: torch.nn.functional.batch_norm(
                t, means[1], variances[1], training=training, momentum=0.2), x, rtol=1e-10)
        np.testing.assert_allclose(means[0].numpy(), means[1].numpy(), rtol=1e-12)
        np.testing.assert_allclose(variances[0].numpy(), variances[1].numpy(), rtol=1e-12)


def test_normalisation_errors_say_what_is_expected():
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(tn.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(tn.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"to match num_features \(3\), but got: 4"):
        nn.InstanceNorm1d(3, affine=True)(tn.zeros(2, 4, 5))
    with pytest.warns(UserWarning, match=r"does not match num_features \(3\)"):
        nn.InstanceNorm1d(3)(tn.randn(2, 4, 5))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 4D input \(got 2D input"):
        nn.InstanceNorm2d(3)(tn.zeros(3, 4))
    with pytest.raises(RuntimeError, match="weight should have 3 elements"):
        F.batch_norm(tn.zeros(4, 3), None, None, weight=tn.ones(2), training=True)


PADS = [("ZeroPad1d", (2,)), ("ZeroPad2d", ((1, 2, 0, 3),)), ("ZeroPad3d", (1,)),
        ("ConstantPad1d", ((1, 2), 3.5)), ("ConstantPad2d", (1, -1.0)), ("ConstantPad3d", (1, 2.0)),
        ("ReflectionPad1d", (2,)), ("ReflectionPad2d", ((1, 0, 2, 1),)), ("ReflectionPad3d", (1,)),
        ("ReplicationPad1d", (3,)), ("ReplicationPad2d", (2,)), ("ReplicationPad3d", ((1, 0, 0, 1, 2, 0),)),
        ("CircularPad1d", (2,)), ("CircularPad2d", ((1, 1, 2, 0),)), ("CircularPad3d", (1,))]


@pytest.mark.parametrize("name, args", PADS, ids=str)
def test_padding_layers_match_pytorch(name, args):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    dims = int(name[-2])
    x = np.random.default_rng(0).standard_normal((2, 3) + (4, 3, 5)[:dims])
    assert_matches_torch(torch, ours, theirs, x, rtol=1e-12)


def test_shuffle_layers_match_pytorch_and_explain_bad_shapes():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 8, 4, 6))
    for make in (lambda lib: lib.nn.PixelShuffle(2), lambda lib: lib.nn.PixelUnshuffle(2),
                 lambda lib: lib.nn.ChannelShuffle(4)):
        ours, theirs = make(tn), make(torch)
        assert repr(ours) == repr(theirs)
        assert_matches_torch(torch, ours, theirs, x, rtol=1e-15)
        assert ours(tn.tensor(x, requires_grad=True)).grad_fn.name() == \
            theirs(torch.tensor(x, requires_grad=True)).grad_fn.name().rstrip("0123456789") + "0"
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=5 is not divisible by 4"):
        F.pixel_shuffle(tn.zeros(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match=r"expects height to be divisible by downscale_factor, "
                                           r"but input.size\(-2\)=3"):
        F.pixel_unshuffle(tn.zeros(1, 5, 3, 2), 2)
    with pytest.raises(RuntimeError, match="Got 5 channels and 2 groups"):
        F.channel_shuffle(tn.zeros(1, 5, 2), 2)


@pytest.mark.parametrize("make, shape", [
    (lambda nn: nn.AdaptiveMaxPool2d((2, 3), return_indices=True), (2, 3, 7, 9)),
    (lambda nn: nn.AdaptiveMaxPool2d(2, return_indices=True), (2, 3, 6, 4)),  # equal windows
    (lambda nn: nn.AdaptiveMaxPool2d((None, 4)), (3, 5, 7)),
    (lambda nn: nn.AdaptiveMaxPool1d(4, return_indices=True), (2, 3, 10)),
    (lambda nn: nn.AdaptiveAvgPool1d(3), (2, 3, 7)),
], ids=range(5))
def test_adaptive_pools_match_pytorch_with_ties(make, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = np.round(np.random.default_rng(0).standard_normal(shape) * 2) / 2  # many ties

    def first(fn):
        return lambda t: fn(t)[0] if isinstance(fn(t), tuple) else fn(t)

    assert_matches_torch(torch, first(ours), first(theirs), x, rtol=1e-15)
    if getattr(ours, "return_indices", False):
        np.testing.assert_array_equal(ours(tn.tensor(x))[1].numpy(), theirs(torch.tensor(x))[1].numpy())


# --------------------------------------------------------------------------- a second batch
def np_rms_norm(x, dims, weight=None, eps=None):
    eps = np.finfo(x.dtype).eps if eps is None else eps
    y = x / np.sqrt((x * x).mean(axis=dims, keepdims=True) + eps)
    return y if weight is None else y * weight


def np_local_response_norm(x, size, alpha, beta, k):
    squares = np.pad(x * x, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    window = sum(squares[:, i:i + x.shape[1]] for i in range(size)) / size
    return x / (k + alpha * window) ** beta


@st.composite
def rms_norm_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    last = draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - last:]
    inputs = (shape, normalized) if draw(st.booleans()) else (shape,)
    return inputs, {"normalized_shape": normalized, "eps": draw(st.sampled_from([None, 1e-3]))}


@st.composite
def bilinear_cases(draw):
    lead = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    in1, in2, out = (draw(st.integers(1, 3)) for _ in range(3))
    return (lead + (in1,), lead + (in2,), (out, in1, in2), (out,)), {}


def _rms_norm(x, *weight, normalized_shape, eps):
    return F.rms_norm(x, normalized_shape, *weight, eps=eps)


def _np_rms_norm(x, *weight, normalized_shape, eps):
    return np_rms_norm(x, tuple(range(x.ndim - len(normalized_shape), x.ndim)), *weight, eps=eps)


SECOND = [
    # away from 0: at a root mean square near 0 the slope is 1/sqrt(eps), beyond finite differences
    OpSpec("rms_norm", _rms_norm, rms_norm_cases(), _np_rms_norm, values=away_from_zero()),
    OpSpec("local_response_norm", F.local_response_norm,
           cases(shapes(min_dims=3, max_dims=4, max_side=4), size=st.integers(1, 4),
                 alpha=st.sampled_from([1e-4, 0.5]), beta=0.75, k=1.0),
           np_local_response_norm),
    OpSpec("bilinear", F.bilinear, bilinear_cases(),
           lambda a, b, w, bias: np.einsum("...i,oij,...j->...o", a, w, b) + bias),
]


@pytest.mark.parametrize("spec", SECOND, ids=str)
@op_settings
@given(data=st.data())
def test_second_batch_op(spec, data):
    check_op(spec, data)


@pytest.mark.parametrize("make, inputs", [
    (lambda lib: lib.nn.RMSNorm(4), [(2, 3, 4)]),
    (lambda lib: lib.nn.RMSNorm((3, 4), eps=1e-3, elementwise_affine=False), [(2, 3, 4)]),
    (lambda lib: lib.nn.LocalResponseNorm(3, alpha=0.3), [(2, 6, 4, 3)]),
    (lambda lib: lib.nn.LocalResponseNorm(2), [(2, 5, 7)]),
    (lambda lib: lib.nn.Bilinear(3, 4, 5), [(6, 3), (6, 4)]),
    (lambda lib: lib.nn.Bilinear(3, 2, 1, bias=False), [(2, 3), (2, 2)]),
    (lambda lib: lib.nn.Softmax2d(), [(2, 3, 4, 5)]),
    (lambda lib: lib.nn.UpsamplingNearest2d(scale_factor=2), [(1, 2, 3, 3)]),
    (lambda lib: lib.nn.UpsamplingBilinear2d(size=(5, 7)), [(1, 2, 3, 3)]),
], ids=range(9))
def test_second_batch_layers_match_pytorch(make, inputs):
    torch = pytest.importorskip("torch")
    ours, theirs = make(tn).double(), make(torch).double()
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    ours.load_state_dict({k: tn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in inputs]
    assert_matches_torch(torch, ours, theirs, *arrays, rtol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, shape, per_channel", [
    ("Dropout1d", (50, 40, 3), True), ("Dropout1d", (40, 3), True), ("Dropout3d", (20, 30, 2, 2, 2), True),
    ("AlphaDropout", (400, 50), False), ("FeatureAlphaDropout", (200, 50, 3), True)])
def test_channel_and_alpha_dropout_keep_their_statistics(name, shape, per_channel):
    torch = pytest.importorskip("torch")
    assert repr(getattr(nn, name)(0.3)) == repr(getattr(torch.nn, name)(0.3))
    tn.manual_seed(0)
    layer = getattr(nn, name)(0.3)
    x = tn.randn(*shape, dtype=tn.float64)
    out = layer(x).numpy()
    if "Alpha" in name:  # dropped elements share one value; mean 0 and variance 1 are kept
        _, counts = np.unique(out, return_counts=True)
        assert 0.2 * out.size < counts.max() < 0.4 * out.size
        assert abs(out.mean()) < 0.05 and abs(out.std() - 1) < 0.05
    else:  # whole channels are zero, the rest scaled by 1/(1-p)
        dropped = (out == 0).reshape(*shape[:-3 if name == "Dropout3d" else -1], -1).all(-1)
        assert 0.2 < dropped.mean() < 0.4
        kept = out != 0
        np.testing.assert_allclose(out[kept], x.numpy()[kept] / 0.7)
    assert layer.eval()(x) is x


def test_second_batch_errors_say_what_is_expected():
    with pytest.raises(RuntimeError, match=r"dropout1d: Expected 2D or 3D input, but received a 4D"):
        F.dropout1d(tn.zeros(1, 2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(tn.zeros(2, 3, 4), training=False)
    with pytest.raises(RuntimeError, match=r"rms_norm: Given normalized_shape=\[4\], expected input "
                                           r"with shape \[\*, 4\]"):
        F.rms_norm(tn.zeros(2, 3), [4])
    with pytest.raises(RuntimeError, match=r"bilinear: inputs \(2, 3\) and \(2, 5\) do not fit "
                                           r"weight \(4, 3, 2\)"):
        F.bilinear(tn.zeros(2, 3), tn.zeros(2, 5), tn.zeros(4, 3, 2))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality input"):
        F.local_response_norm(tn.zeros(2, 3), 2)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(tn.zeros(3, 4))


# --------------------------------------------------------------------------- unfold and fold
def np_unfold(x, kernel, dilation, padding, stride):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
    x = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    n, c, h, w = x.shape
    bh, bw = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    columns = np.empty((n, c, kh, kw, bh, bw))
    for i in range(kh):
        for j in range(kw):
            columns[:, :, i, j] = x[:, :, i * dh:i * dh + sh * (bh - 1) + 1:sh,
                                    j * dw:j * dw + sw * (bw - 1) + 1:sw]
    return columns.reshape(n, c * kh * kw, bh * bw)


@st.composite
def unfold_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = tuple(draw(st.integers(max(1, dilation[i] * (kernel[i] - 1) + 1 - 2 * padding[i]), 5))
                 for i in range(2))
    return ((draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size,), {
        "kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}


def _fold_of_unfold_shape(x, **kw):
    """fold applied to columns shaped like unfold's output of ``x`` (fold's own input)."""
    return F.fold(F.unfold(x, **kw), tuple(x.shape[2:]), **kw)


def _np_fold_of_unfold(x, kernel_size, dilation, padding, stride):
    """Each pixel times the number of windows that hold it: unfold a numbering of the pixels
    (padding numbered 0) and count each number's appearances."""
    numbers = np.arange(1, x.size + 1, dtype=float).reshape(x.shape)
    columns = np_unfold(numbers, kernel_size, dilation, padding, stride)
    counts = np.bincount(columns.ravel().astype(int), minlength=x.size + 1)[1:]
    return x * counts.reshape(x.shape)


FOLDS = [
    OpSpec("unfold", F.unfold, unfold_cases(),
           lambda x, **kw: np_unfold(x, kw["kernel_size"], kw["dilation"], kw["padding"],
                                     kw["stride"])),
    OpSpec("fold of unfold", _fold_of_unfold_shape, unfold_cases(), _np_fold_of_unfold),
]


@pytest.mark.parametrize("spec", FOLDS, ids=str)
@op_settings
@given(data=st.data())
def test_fold_op(spec, data):
    check_op(spec, data)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": (2, 3), "dilation": (2, 1),
                                                         "padding": (1, 0), "stride": (2, 3)},
                                    {"kernel_size": 3, "padding": 2, "stride": 2}], ids=str)
def test_unfold_and_fold_match_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7))
    assert_matches_torch(torch, lambda t: F.unfold(t, **kwargs),
                         lambda t: torch.nn.functional.unfold(t, **kwargs), x, rtol=1e-15)
    columns = torch.nn.functional.unfold(torch.tensor(x), **kwargs).numpy()
    assert_matches_torch(torch, lambda t: F.fold(t, (6, 7), **kwargs),
                         lambda t: torch.nn.functional.fold(t, (6, 7), **kwargs), columns,
                         rtol=1e-14)
    assert_matches_torch(torch, lambda t: F.fold(t, (6, 7), **kwargs),  # unbatched
                         lambda t: torch.nn.functional.fold(t, (6, 7), **kwargs), columns[0],
                         rtol=1e-14)
    assert repr(nn.Unfold(**kwargs)) == repr(torch.nn.Unfold(**kwargs))
    assert repr(nn.Fold((6, 7), **kwargs)) == repr(torch.nn.Fold((6, 7), **kwargs))
    x_t = tn.tensor(x, requires_grad=True)
    assert F.unfold(x_t, **kwargs).grad_fn.name() == "Im2ColBackward0"
    assert F.fold(F.unfold(x_t, **kwargs), (6, 7), **kwargs).grad_fn.name() == "Col2ImBackward0"


def test_fold_errors_say_what_is_expected():
    with pytest.raises(RuntimeError, match="Only 3D or 4D input Tensors are supported"):
        F.unfold(tn.zeros(2, 3), 2)
    with pytest.raises(RuntimeError, match=r"input.size\(1\)=13 and kernel_size=\(2, 2\)"):
        F.fold(tn.zeros(2, 13, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match=r"calculated number of sliding blocks 3 \* 3 = 9, but got "
                                           r"input.size\(2\)=5"):
        F.fold(tn.zeros(2, 12, 5), (4, 4), 2)
    with pytest.raises(RuntimeError, match=r"no \(5, 5\) window"):
        F.unfold(tn.zeros(1, 1, 3, 3), 5)


def test_functional_and_layer_signatures_are_pytorchs():
    """Every F function and nn layer takes PyTorch's arguments in PyTorch's order with its
    defaults, so keyword and positional calls carry over (PyTorch's dispatching wrappers that
    show only *args are skipped; tinynet's tensors stand in for its default modules)."""
    torch = pytest.importorskip("torch")
    import inspect

    def described(fn):
        try:
            parameters = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            return None
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
            return None
        return [(p.name, p.kind, p.default if not callable(p.default) else p.default.__name__)
                for p in parameters if not p.name.startswith("_")]

    mismatches = []
    pairs = [(f"F.{name}", getattr(tn.nn.functional, name),
              getattr(torch.nn.functional, name, None)) for name in tn.nn.functional.__all__]
    pairs += [(f"nn.{name}", getattr(tn.nn, name).__init__, getattr(torch.nn, name).__init__)
              for name in tn.nn.__all__ if inspect.isclass(getattr(torch.nn, name, None))]
    for name, ours, theirs in pairs:
        expected = None if theirs is None else described(theirs)
        if expected is not None and described(ours) != expected:
            mismatches.append(name)
    assert mismatches == ["nn.Hardtanh"]  # PyTorch's deprecated min_value/max_value aliases


@pytest.mark.parametrize("size", [3, (2, 4), (4, 3)])
def test_adaptive_avg_pool_keeps_a_nan_in_its_own_windows(size):
    """Unequal windows are averaged one by one: an averaging matrix would spread 0 · NaN."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    x[0, 0, 0, 0] = np.nan
    assert_matches_torch(torch, lambda t: F.adaptive_avg_pool2d(t, size),
                         lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size), x, rtol=1e-12)
