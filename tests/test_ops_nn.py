"""tinynet.nn.functional through the op factory: linear, conv2d, conv_transpose2d, pools,
activations, softmax/log_softmax, losses, dropout; and an HVP through a small conv net."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tinynet.testing import (OpSpec, away_from, away_from_zero, broadcast_cases, cases, check_case,
                             check_op, distinct, numpy_axis, op_settings, per_input, shapes,
                             unchanged)

import tinynet as tn
import tinynet.nn.functional as F
from torch_oracle import assert_matches_torch

REDUCTIONS = ["mean", "sum", "none"]


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# --------------------------------------------------------------------------- NumPy references
def np_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if x.ndim == 3:  # unbatched
        return np_conv2d(x[None], w, b, stride, padding, dilation, groups)[0]
    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    kh, kw = w.shape[2:]
    if padding == "same":  # PyTorch's split: the odd row/column after
        th, tw = dh * (kh - 1), dw * (kw - 1)
        x = np.pad(x, ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    elif padding != "valid":
        ph, pw = pair(padding)
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    c_in, c_out = w.shape[1], w.shape[0] // groups  # per group
    for g in range(groups):
        xg, wg = x[:, g * c_in:(g + 1) * c_in], w[g * c_out:(g + 1) * c_out]
        for i in range(ho):
            for j in range(wo):
                patch = xg[:, :, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
                out[:, g * c_out:(g + 1) * c_out, i, j] = np.einsum("nckl,ockl->no", patch, wg)
    return out if b is None else out + b[None, :, None, None]


def np_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    if x.ndim == 3:
        return np_conv_transpose2d(x[None], w, b, stride, padding, output_padding, groups, dilation)[0]
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    oph, opw = pair(output_padding)
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    c_in, c_out = w.shape[0] // groups, w.shape[1]  # per group
    full = np.zeros((n, c_out * groups, (h - 1) * sh + dh * (kh - 1) + 1 + oph,
                     (wd - 1) * sw + dw * (kw - 1) + 1 + opw))
    for g in range(groups):
        xg, wg = x[:, g * c_in:(g + 1) * c_in], w[g * c_in:(g + 1) * c_in]
        for i in range(h):
            for j in range(wd):
                full[:, g * c_out:(g + 1) * c_out, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                     j * sw:j * sw + dw * (kw - 1) + 1:dw] += np.einsum("nc,cokl->nokl", xg[:, :, i, j], wg)
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    return out if b is None else out + b[None, :, None, None]


def np_pool_length(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output length, as its pooling_output_shape computes it."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    length = numerator // stride + 1
    return length - 1 if ceil_mode and (length - 1) * stride >= size + padding else length


def np_pool(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, kind="max",
            count_include_pad=True, divisor_override=None):
    """PyTorch's pooling loop: each window clipped to the input; an average divides by the
    window clipped to the padded input (count_include_pad) or to the input."""
    if x.ndim == 3:
        return np_pool(x[None], kernel_size, stride, padding, dilation, ceil_mode, kind,
                       count_include_pad, divisor_override)[0]
    (kh, kw), (ph, pw), (dh, dw) = pair(kernel_size), pair(padding), pair(dilation)
    sh, sw = pair(kernel_size if stride is None else stride)
    h, w = x.shape[2:]
    out = np.zeros(x.shape[:2] + (np_pool_length(h, kh, sh, ph, dh, ceil_mode),
                                   np_pool_length(w, kw, sw, pw, dw, ceil_mode)))
    for i, rows in enumerate(_pool_windows(h, kh, sh, ph, dh, ceil_mode)):
        for j, cols in enumerate(_pool_windows(w, kw, sw, pw, dw, ceil_mode)):
            window = x[:, :, rows][:, :, :, cols]
            if kind == "max":
                out[:, :, i, j] = window.max(axis=(2, 3))
                continue
            padded_rows = min(i * sh - ph + kh, h + ph) - (i * sh - ph)
            padded_cols = min(j * sw - pw + kw, w + pw) - (j * sw - pw)
            divisor = divisor_override or (padded_rows * padded_cols if count_include_pad
                                           else len(rows) * len(cols))
            out[:, :, i, j] = window.sum(axis=(2, 3)) / divisor
    return out


def _pool_windows(size, kernel, stride, padding, dilation, ceil_mode):
    """The input positions each window of one axis covers (a list per window)."""
    return [[r for r in range(i * stride - padding, i * stride - padding + dilation * (kernel - 1) + 1,
                              dilation) if 0 <= r < size]
            for i in range(np_pool_length(size, kernel, stride, padding, dilation, ceil_mode))]


def np_adaptive_avg_pool(x, output_size):
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    h, w = x.shape[-2:]
    oh, ow = oh or h, ow or w
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * h // oh, -(-(i + 1) * h // oh))
            cols = slice(j * w // ow, -(-(j + 1) * w // ow))
            out[..., i, j] = x[..., rows, cols].mean(axis=(-2, -1))
    return out


def np_log_softmax(x, dim):
    axis = numpy_axis(dim, x.ndim)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)


def np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.logaddexp(0.0, x * beta) / beta)


# --------------------------------------------------------------------------- cases
@st.composite
def linear_cases(draw):
    batch = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    input_shapes = (batch + (n_in,), (n_out, n_in))
    return input_shapes + (((n_out,),) if draw(st.booleans()) else ()), {}


def _fitting_size(draw, kernel, stride, padding, dilation):
    """A spatial size the (dilated) kernel fits into once padded."""
    span = dilation * (kernel - 1) + 1
    smallest = max(1, span - 2 * padding)
    return draw(st.integers(smallest, smallest + 2 * stride))


def _batch(draw, n, channels, hw):
    """An input shape, unbatched (C, H, W) one time in four."""
    return (channels,) + hw if draw(st.integers(0, 3)) == 0 else (n, channels) + hw


@st.composite
def conv_cases(draw):
    n, groups = draw(st.integers(1, 2)), draw(st.sampled_from([1, 1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([1, 2, (1, 2)]))
    padding = draw(st.sampled_from([0, 1, (1, 0)] + (["same", "valid"] if stride == 1 else [])))
    dilation = draw(st.sampled_from([1, 2, (2, 1)]))
    pads = (0, 0) if isinstance(padding, str) else pair(padding)
    hw = tuple(_fitting_size(draw, kernel[i], pair(stride)[i], pads[i], pair(dilation)[i])
               for i in range(2))
    input_shapes = (_batch(draw, n, c_in, hw), (c_out, c_in // groups) + kernel)
    if draw(st.booleans()):
        input_shapes += ((c_out,),)
    return input_shapes, {"stride": stride, "padding": padding, "dilation": dilation,
                          "groups": groups}


@st.composite
def conv_transpose_cases(draw):
    n, groups = draw(st.integers(1, 2)), draw(st.sampled_from([1, 1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))  # c_out per group
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([1, 2, (2, 1)]))
    dilation = draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from([0, 1]))
    # smaller than the stride (PyTorch also allows up to the dilation; tinynet refuses that)
    output_padding = draw(st.integers(0, min(pair(stride)) - 1))
    hw = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = [(hw[i] - 1) * pair(stride)[i] - 2 * padding + dilation * (kernel[i] - 1) + 1
            for i in range(2)]
    if min(size) + output_padding < 1:  # nothing left once padding is cropped
        padding = 0
    input_shapes = (_batch(draw, n, c_in, hw), (c_in, c_out) + kernel)
    if draw(st.booleans()):
        input_shapes += ((c_out * groups,),)
    return input_shapes, {"stride": stride, "padding": padding, "output_padding": output_padding,
                          "groups": groups, "dilation": dilation}


@st.composite
def pool_cases(draw, kind="max", unbatched=True):
    kernel = draw(st.sampled_from([1, 2, 3, (2, 1), (1, 3)]))
    stride = draw(st.sampled_from([None, 1, 2, (1, 2)]))
    padding = draw(st.sampled_from([0, (pair(kernel)[0] // 2, pair(kernel)[1] // 2)]))
    dilation = draw(st.sampled_from([1, 2, (1, 2)])) if kind == "max" else 1
    strides = pair(kernel if stride is None else stride)
    hw = tuple(_fitting_size(draw, pair(kernel)[i], strides[i], pair(padding)[i], pair(dilation)[i])
               for i in range(2))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    shape = _batch(draw, n, c, hw) if unbatched else (n, c) + hw
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": padding,
              "ceil_mode": draw(st.booleans())}
    # a dilated window can fall wholly in the padding: PyTorch gives -inf there, which finite
    # differences can't check (test_conv_blocked.py checks it against PyTorch)
    assume(all(all(_pool_windows(hw[i], pair(kernel)[i], strides[i], pair(padding)[i],
                                 pair(dilation)[i], kwargs["ceil_mode"])) for i in range(2)))
    if kind == "max":
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
    return (shape,), kwargs


@st.composite
def adaptive_pool_cases(draw):
    hw = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    size = tuple(draw(st.one_of(st.none(), st.integers(1, side + 1))) for side in hw)
    shape = _batch(draw, draw(st.integers(1, 2)), draw(st.integers(1, 2)), hw)
    return (shape,), {"output_size": size[0] if size[0] == size[1] and size[0] else size}


@st.composite
def softmax_cases(draw):
    shape = draw(shapes(max_dims=3))
    rank = max(len(shape), 1)
    return (shape,), {"dim": draw(st.integers(-rank, rank - 1))}


@st.composite
def class_cases(draw):
    n, classes = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    target = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    return ((n, classes),), {"target": target, "reduction": draw(st.sampled_from(REDUCTIONS))}


def same_shape_pair_cases():
    return shapes(max_dims=3).flatmap(lambda s: st.tuples(
        st.just((s, s)), st.fixed_dictionaries({"reduction": st.sampled_from(REDUCTIONS)})))


@st.composite
def pad_mode_cases(draw):
    dims = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(2, 3)) for _ in range(draw(st.integers(dims + 1, dims + 2))))
    mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    most = {"reflect": 1, "replicate": 2, "circular": 2}[mode]  # reflect needs pad < size
    pads = tuple(draw(st.integers(0, most)) for _ in range(2 * dims))
    return (shape,), {"pad": pads, "mode": mode}


def np_pad_mode(x, pad, mode):
    widths = [(0, 0)] * (x.ndim - len(pad) // 2) + \
        [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(len(pad) // 2))]
    return np.pad(x, widths, mode={"reflect": "reflect", "replicate": "edge",
                                   "circular": "wrap"}[mode])


@st.composite
def conv1d_cases(draw):
    n, groups = draw(st.integers(1, 2)), draw(st.sampled_from([1, 1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, stride, dilation = draw(st.integers(1, 3)), draw(st.sampled_from([1, 2])), \
        draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from([0, 1] + (["same", "valid"] if stride == 1 else [])))
    length = _fitting_size(draw, kernel, stride, 0 if isinstance(padding, str) else padding,
                           dilation)
    input_shapes = (_batch(draw, n, c_in, (length,)), (c_out, c_in // groups, kernel))
    if draw(st.booleans()):
        input_shapes += ((c_out,),)
    return input_shapes, {"stride": stride, "padding": padding, "dilation": dilation,
                          "groups": groups}


def np_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The 2-D reference over a height of one."""
    lifted = padding if isinstance(padding, str) else (0, padding)
    return np_conv2d(x[..., None, :], w[:, :, None, :], b, (1, stride), lifted, (1, dilation),
                     groups)[..., 0, :]


@st.composite
def pool1d_cases(draw, kind="max"):
    kernel, stride = draw(st.integers(1, 3)), draw(st.sampled_from([None, 1, 2]))
    padding = draw(st.sampled_from([0, kernel // 2]))
    dilation = draw(st.sampled_from([1, 2])) if kind == "max" else 1
    step = kernel if stride is None else stride
    length = _fitting_size(draw, kernel, step, padding, dilation)
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": padding,
              "ceil_mode": draw(st.booleans())}
    assume(all(_pool_windows(length, kernel, step, padding, dilation, kwargs["ceil_mode"])))
    if kind == "max":
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
    return (_batch(draw, draw(st.integers(1, 2)), draw(st.integers(1, 2)), (length,)),), kwargs


def np_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, **kwargs):
    return np_pool(x[..., None, :], (1, kernel_size), None if stride is None else (1, stride),
                   (0, padding), (1, dilation), **kwargs)[..., 0, :]


@st.composite
def normalize_cases(draw):
    shape = draw(shapes(min_dims=1))
    return (shape,), {"p": draw(st.sampled_from([1.0, 2.0, 3.0])),
                      "dim": draw(st.integers(-len(shape), len(shape) - 1))}


def np_normalize(x, p, dim):
    norm = (np.abs(x) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
    return x / np.maximum(norm, 1e-12)


@st.composite
def cosine_cases(draw):
    (a, b), _ = draw(broadcast_cases(2, min_dims=1))
    ndim = max(len(a), len(b))
    return (a, b), {"dim": draw(st.integers(-ndim, ndim - 1))}


def np_cosine_similarity(a, b, dim):
    a, b = np.broadcast_arrays(a, b)
    unit = [x / np.maximum(np.sqrt((x * x).sum(axis=dim, keepdims=True)), 1e-8) for x in (a, b)]
    return (unit[0] * unit[1]).sum(axis=dim)


def _identity_conv(x):
    """``x`` again, through a depthwise 1×1 conv: laid out in memory as conv2d returns."""
    return F.conv2d(x, tn.ones(x.shape[1], 1, 1, 1).to(x.dtype), groups=x.shape[1])


def _optional_bias(fn):
    return lambda x, w, *bias, **kw: fn(x, w, bias[0] if bias else None, **kw)


def np_cross_entropy(x, target, reduction):
    return np_reduce(-np_log_softmax(x, 1)[np.arange(len(target)), target], reduction)


def np_nll(x, target, reduction):
    return np_reduce(-x[np.arange(len(target)), target], reduction)


def np_bce_with_logits(x, y, reduction):
    return np_reduce(np.logaddexp(0.0, x) - x * y, reduction)


def seeded_dropout(x, p):
    tn.manual_seed(1234)  # the same mask at every call, so finite differences see one function
    return F.dropout(x, p)


SOFTPLUS_SETTINGS = [(1.0, 20.0), (2.0, 1.0), (0.5, 0.5)]  # kinks at threshold/beta: 20, .5, 1

SPECS = [
    OpSpec("linear", _optional_bias(F.linear), linear_cases(),
           lambda x, w, *b: x @ w.T + (b[0] if b else 0.0)),
    OpSpec("conv2d", _optional_bias(F.conv2d), conv_cases(), np_conv2d),
    OpSpec("conv_transpose2d", _optional_bias(F.conv_transpose2d), conv_transpose_cases(),
           np_conv_transpose2d),
    OpSpec("max_pool2d", F.max_pool2d, pool_cases(), np_pool, values=distinct()),
    OpSpec("avg_pool2d", F.avg_pool2d, pool_cases("avg"),
           lambda x, **kw: np_pool(x, kind="avg", **kw)),
    # pools of a channel-major view (C before N in memory), and of a conv's output
    OpSpec("max_pool2d_channel_major", lambda x, **kw: F.max_pool2d(x.permute(1, 0, 2, 3), **kw),
           pool_cases(unbatched=False), lambda x, **kw: np_pool(x.transpose(1, 0, 2, 3), **kw),
           values=distinct()),
    OpSpec("avg_pool2d_channel_major", lambda x, **kw: F.avg_pool2d(x.permute(1, 0, 2, 3), **kw),
           pool_cases("avg", unbatched=False),
           lambda x, **kw: np_pool(x.transpose(1, 0, 2, 3), kind="avg", **kw)),
    OpSpec("max_pool2d_of_conv", lambda x, **kw: F.max_pool2d(_identity_conv(x), **kw),
           pool_cases(unbatched=False), np_pool, values=distinct()),
    OpSpec("adaptive_avg_pool2d", F.adaptive_avg_pool2d, adaptive_pool_cases(),
           np_adaptive_avg_pool),
    OpSpec("relu", F.relu, cases(shapes()), lambda x: np.maximum(x, 0), values=away_from_zero()),
    OpSpec("tn.relu", tn.relu, cases(shapes()), lambda x: np.maximum(x, 0),
           values=away_from_zero()),
    OpSpec("leaky_relu", F.leaky_relu,
           cases(shapes(), negative_slope=st.sampled_from([0.01, 0.2, 0.0, -0.5, 1.5])),
           lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
           values=away_from_zero()),
    OpSpec("elu", F.elu, cases(shapes(), alpha=st.sampled_from([1.0, 0.5])),
           lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)), values=away_from_zero()),
    OpSpec("sigmoid", F.sigmoid, cases(shapes()), lambda x: 1 / (1 + np.exp(-x)), low=-6, high=6),
    OpSpec("tanh", tn.tanh, cases(shapes()), np.tanh),
    OpSpec("softplus", lambda x, setting: F.softplus(x, *setting),
           cases(shapes(), setting=st.sampled_from(SOFTPLUS_SETTINGS)),
           lambda x, setting: np_softplus(x, *setting), values=away_from([0.5, 1.0]), low=-3,
           high=3),
    OpSpec("softmax", F.softmax, softmax_cases(),
           lambda x, dim: np.exp(np_log_softmax(x, dim))),
    OpSpec("log_softmax", F.log_softmax, softmax_cases(), np_log_softmax),
    OpSpec("tn.log_softmax", tn.log_softmax, softmax_cases(), np_log_softmax),
    OpSpec("cross_entropy", lambda x, target, reduction: F.cross_entropy(
        x, tn.tensor(target), reduction=reduction), class_cases(), np_cross_entropy),
    OpSpec("nll_loss", lambda x, target, reduction: F.nll_loss(
        x, tn.tensor(target), reduction=reduction), class_cases(), np_nll),
    OpSpec("mse_loss", F.mse_loss, same_shape_pair_cases(),
           lambda x, y, reduction: np_reduce((x - y) ** 2, reduction)),
    OpSpec("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
           same_shape_pair_cases(), np_bce_with_logits, low=-4, high=4,
           values=per_input(unchanged, lambda arrays: [np.abs(a) / 4 for a in arrays])),
    OpSpec("pad (reflect, replicate, circular)", F.pad, pad_mode_cases(), np_pad_mode),
    OpSpec("conv1d", _optional_bias(F.conv1d), conv1d_cases(), np_conv1d),
    OpSpec("max_pool1d", F.max_pool1d, pool1d_cases(), np_pool1d, values=distinct()),
    OpSpec("avg_pool1d", F.avg_pool1d, pool1d_cases("avg"),
           lambda x, **kw: np_pool1d(x, kind="avg", **kw)),
    OpSpec("normalize", F.normalize, normalize_cases(), np_normalize, values=away_from_zero()),
    OpSpec("cosine_similarity", F.cosine_similarity, cosine_cases(), np_cosine_similarity,
           values=away_from_zero()),
    OpSpec("dropout", seeded_dropout, cases(shapes(), p=st.sampled_from([0.0, 0.3, 0.5]))),
    OpSpec("dropout_eval", lambda x: F.dropout(x, 0.5, training=False), cases(shapes()),
           lambda x: x),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=1), lambda nn: nn.Conv1d(4, 4, 3, padding="same",
                                                                              groups=2, bias=False),
    lambda nn: nn.MaxPool1d(3, 2, padding=1), lambda nn: nn.AvgPool1d(3, 2, count_include_pad=False)])
def test_one_dimensional_layers_match_pytorch(make):
    """Printing, outputs and gradients, batched and unbatched, with the same weights."""
    torch = pytest.importorskip("torch")
    ours, theirs = make(tn.nn).double(), make(torch.nn).double()
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: tn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    data = np.random.default_rng(0).standard_normal((2, 4, 9))
    for x in (data, data[0]):
        assert_matches_torch(torch, ours, theirs, x, rtol=1e-10)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_modes_and_conv_padding_modes_match_pytorch(mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    assert_matches_torch(torch, lambda t: F.pad(t, (2, 1, 0, 3), mode=mode),
                         lambda t: torch.nn.functional.pad(t, (2, 1, 0, 3), mode=mode), x)
    for padding in (1, "same"):
        layers = [lib.nn.Conv2d(3, 2, (3, 2), padding=padding, padding_mode=mode).double()
                  for lib in (tn, torch)]
        layers[0].load_state_dict({k: tn.tensor(v.detach().numpy())
                                   for k, v in layers[1].state_dict().items()})
        assert repr(layers[0]) == repr(layers[1])
        assert_matches_torch(torch, layers[0], layers[1], x, rtol=1e-10)


@st.composite
def interpolate_cases(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "area", "linear", "bilinear",
                                 "bicubic", "trilinear"]))
    spatial = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(
        mode, draw(st.integers(1, 3)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + \
        tuple(draw(st.integers(1, 4)) for _ in range(spatial))
    kwargs = {"mode": mode}
    if draw(st.booleans()):
        kwargs["size"] = tuple(draw(st.integers(1, 5)) for _ in range(spatial))
    else:
        kwargs["scale_factor"] = draw(st.sampled_from([0.5, 1.5, 2.0, 2.5]))
        assume(all(int(n * kwargs["scale_factor"]) > 0 for n in shape[2:]))
    if mode not in ("nearest", "nearest-exact", "area"):
        kwargs["align_corners"] = draw(st.booleans())
    return shape, kwargs


@op_settings
@given(case=interpolate_cases())
def test_interpolate_matches_pytorch_to_second_order(case):
    """Every mode through gradcheck and gradgradcheck in float64, then against PyTorch's
    values and gradients."""
    shape, kwargs = case
    x = np.random.default_rng(0).standard_normal(shape)
    assert tn.gradcheck(lambda t: F.interpolate(t, **kwargs), (tn.tensor(x, requires_grad=True),))
    assert tn.gradgradcheck(lambda t: F.interpolate(t, **kwargs),
                            (tn.tensor(x, requires_grad=True),))
    torch = pytest.importorskip("torch")
    assert_matches_torch(torch, lambda t: F.interpolate(t, **kwargs),
                         lambda t: torch.nn.functional.interpolate(t, **kwargs), x, rtol=1e-10)


def test_upsample_prints_as_pytorch_and_interpolate_errors():
    torch = pytest.importorskip("torch")
    for kwargs in ({"scale_factor": 2}, {"size": (4, 5), "mode": "bilinear", "align_corners": True}):
        assert repr(tn.nn.Upsample(**kwargs)) == repr(torch.nn.Upsample(**kwargs))
    x = tn.zeros(1, 1, 2, 3)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set with the"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="mode 'box' is not built in tinynet"):
        F.interpolate(x, scale_factor=2, mode="box")
    with pytest.raises(NotImplementedError, match="Got 3D input, but bicubic mode needs 4D input"):
        F.interpolate(x[0], scale_factor=2, mode="bicubic")


def test_pad_mode_errors_say_what_is_expected():
    with pytest.raises(RuntimeError, match=r"padding \(3, 0\) of dim 2 should be less than its "
                                           r"size 3 to reflect"):
        F.pad(tn.zeros(1, 1, 3), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="pads the last 1, 2 or 3 dims"):
        F.pad(tn.zeros(5), (1, 1), mode="replicate")
    with pytest.raises(ValueError, match="mode must be 'constant', 'reflect', 'replicate' or "
                                         "'circular', got 'edge'"):
        F.pad(tn.zeros(1, 5), (1, 1), mode="edge")


def test_one_dimensional_errors_name_the_op_and_the_shapes():
    with pytest.raises(RuntimeError, match=r"conv1d: Expected 2D \(unbatched\) or 3D \(batched\) "
                                           r"input to conv1d, but got input of size: \[2, 4, 5, 5\]"):
        F.conv1d(tn.zeros(2, 4, 5, 5), tn.zeros(6, 4, 3))
    with pytest.raises(ValueError, match=r"conv1d: weight must be \(C_out, C_in/groups, k\), got "
                                         r"\(6, 4, 3, 3\)"):
        F.conv1d(tn.zeros(2, 4, 5), tn.zeros(6, 4, 3, 3))
    with pytest.raises(ValueError, match="conv1d: input .* has 3 channels but weight"):
        F.conv1d(tn.zeros(2, 3, 5), tn.zeros(6, 4, 3))
    with pytest.raises(ValueError, match=r"max_pool1d: kernel_size must be an int or a tuple of "
                                         r"one int, got \(2, 2\)"):
        F.max_pool1d(tn.zeros(2, 4, 5), (2, 2))
    with pytest.raises(ValueError, match="Conv1d: padding='same' is not supported for strided"):
        tn.nn.Conv1d(2, 2, 3, stride=2, padding="same")


def test_normalize_and_cosine_similarity_match_pytorch_down_to_vectors_shorter_than_eps():
    """Both clamp the norm at eps; cosine_similarity's clamp passes the norm's gradient on
    (PyTorch clamps it unrecorded), normalize's clamp masks it: both as in PyTorch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for scale in (1.0, 1e-10):
        a, b = rng.standard_normal((3, 4)) * scale, rng.standard_normal((3, 4))
        assert_matches_torch(torch, lambda x, y: F.cosine_similarity(x, y),
                             lambda x, y: torch.nn.functional.cosine_similarity(x, y), a, b,
                             rtol=1e-6)
        assert_matches_torch(torch, lambda x: F.normalize(x, dim=0),
                             lambda x: torch.nn.functional.normalize(x, dim=0), a, rtol=1e-6)
    a, b = rng.standard_normal((2, 1, 4)), rng.standard_normal((3, 4))  # broadcast together
    assert_matches_torch(torch, lambda x, y: F.cosine_similarity(x, y, dim=-1),
                         lambda x, y: torch.nn.functional.cosine_similarity(x, y, dim=-1), a, b)
    out = tn.empty(3, 4, dtype=tn.float64)
    assert F.normalize(tn.tensor(b), p=1, out=out) is out
    np.testing.assert_allclose(out.numpy(), b / np.abs(b).sum(1, keepdims=True))


@pytest.mark.parametrize("p, keepdim", [(2.0, False), (1.0, True), (3.0, False),
                                        (float("inf"), False)])
def test_pairwise_distance_and_its_layers_match_pytorch(p, keepdim):
    """Values and gradients, broadcast and 1-D inputs, equal vectors (eps keeps the gradient
    finite); the layers and their printing as PyTorch's; second order by gradgradcheck."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    a[2] = b[0]
    for x1, x2 in [(a, b), (a[0], b[0])]:
        assert_matches_torch(torch, lambda x, y: F.pairwise_distance(x, y, p, keepdim=keepdim),
                             lambda x, y: torch.nn.functional.pairwise_distance(
                                 x, y, p, keepdim=keepdim), x1, x2, rtol=1e-9)
    assert_matches_torch(torch, tn.nn.PairwiseDistance(p, 1e-3, keepdim),
                         torch.nn.PairwiseDistance(p, 1e-3, keepdim), a, b, rtol=1e-9)
    assert_matches_torch(torch, tn.nn.CosineSimilarity(0), torch.nn.CosineSimilarity(0), a, b)
    assert repr(tn.nn.PairwiseDistance()) == repr(torch.nn.PairwiseDistance())
    assert repr(tn.nn.CosineSimilarity()) == repr(torch.nn.CosineSimilarity())
    if p != float("inf"):  # the max norm has kinks where finite differences fail
        assert tn.gradgradcheck(lambda x: F.pairwise_distance(x, tn.tensor(b), p),
                                (tn.tensor(a + 0.5, requires_grad=True),))


# --------------------------------------------------------------------------- HVP through a conv net
def test_hvp_through_conv_elu_maxpool_matches_finite_difference_of_gradients():
    """The issue's acceptance check: H·v for conv2d → elu → max_pool2d → sum, w.r.t. the weight."""
    rng = np.random.default_rng(0)
    x = tn.tensor(rng.standard_normal((2, 3, 8, 8)))
    w = tn.tensor(rng.standard_normal((4, 3, 3, 3)) * 0.5, requires_grad=True)
    v = tn.tensor(rng.standard_normal((4, 3, 3, 3)))

    def loss_of(weight):
        return F.max_pool2d(F.elu(F.conv2d(x, weight, padding=1)), 2).sum()

    def gradient_at(weight_array):
        weight = tn.tensor(weight_array, requires_grad=True)
        (g,) = tn.grad(loss_of(weight), [weight])
        return g.numpy()

    (g,) = tn.grad(loss_of(w), [w], create_graph=True)
    (hv,) = tn.grad((g * v).sum(), [w])
    eps = 1e-6
    w0, v0 = w.detach().numpy(), v.numpy()
    numeric = (gradient_at(w0 + eps * v0) - gradient_at(w0 - eps * v0)) / (2 * eps)
    assert np.abs(numeric).max() > 1e-2  # a real curvature, not zero on both sides
    np.testing.assert_allclose(hv.numpy(), numeric, rtol=1e-5, atol=1e-6)


def test_gradgradcheck_through_a_small_conv_net():
    rng = np.random.default_rng(1)
    x = tn.tensor(rng.standard_normal((1, 2, 5, 5)))
    w = tn.tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    b = tn.tensor(rng.standard_normal(2), requires_grad=True)
    assert tn.gradgradcheck(
        lambda w, b: F.avg_pool2d(F.softplus(F.conv2d(x, w, b, padding=1)), 2).sum(), (w, b))


# --------------------------------------------------------------------------- ties in max pooling
def test_max_pool_ties_give_the_gradient_to_the_first_element_as_documented():
    """Documented in MaxPool2d: at ties the first offset (row-major) gets the gradient."""
    x = tn.tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1.0
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_max_pool_ties_match_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([[[[1.0, 2.0, 2.0, 0.0], [2.0, 0.0, 1.0, 1.0], [3.0, 3.0, 1.0, 1.0],
                       [3.0, 3.0, 1.0, 0.0]]]])
    for kernel, stride, padding in [(2, None, 0), (3, 1, 1), (2, 1, 0)]:
        x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        F.max_pool2d(x, kernel, stride, padding).sum().backward()
        torch.nn.functional.max_pool2d(tx, kernel, stride, padding).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


# --------------------------------------------------------------------------- PyTorch (optional)
@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), ((1, 2), (2, 0), 2)])
def test_conv_and_pools_match_pytorch(stride, padding, dilation):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    rng = np.random.default_rng(2)
    x_data, w_data = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2))
    b_data = rng.standard_normal(4)
    x, w, b = (tn.tensor(a, requires_grad=True) for a in (x_data, w_data, b_data))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x_data, w_data, b_data))
    out = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    t_out = tF.conv2d(tx, tw, tb, stride=stride, padding=padding, dilation=dilation)
    u_data = rng.standard_normal(out.shape)
    out.backward(tn.tensor(u_data))
    t_out.backward(torch.tensor(u_data))
    for mine, theirs in [(out, t_out), (x.grad, tx.grad), (w.grad, tw.grad), (b.grad, tb.grad)]:
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), atol=1e-10)

    wt_data = rng.standard_normal((3, 2, 2, 3))
    out_t = F.conv_transpose2d(tn.tensor(x_data), tn.tensor(wt_data), stride=stride,
                               padding=padding, dilation=dilation)
    t_out_t = tF.conv_transpose2d(torch.tensor(x_data), torch.tensor(wt_data), stride=stride,
                                  padding=padding, dilation=dilation)
    np.testing.assert_allclose(out_t.numpy(), t_out_t.numpy(), atol=1e-10)

    pool_padding = tuple(min(p, 1) for p in pair(padding))
    for name in ("max_pool2d", "avg_pool2d"):
        mine = getattr(F, name)(tn.tensor(x_data), 3, stride, pool_padding)
        theirs = getattr(tF, name)(torch.tensor(x_data), 3, stride, pool_padding)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)


def test_losses_and_activations_match_pytorch():
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4)) * 3
    target = np.array([0, 3, 3, 1, 2])
    probs = rng.random((5, 4))
    losses = [
        lambda m, x: m.cross_entropy(x, lib_tensor(m, target)),
        lambda m, x: m.cross_entropy(x, lib_tensor(m, target), reduction="sum"),
        lambda m, x: m.nll_loss(m.log_softmax(x, 1), lib_tensor(m, target)),
        lambda m, x: m.binary_cross_entropy_with_logits(x, lib_tensor(m, probs)),
        lambda m, x: m.mse_loss(x, lib_tensor(m, probs), reduction="none").sum(),
        lambda m, x: (m.softplus(x, 2.0, 1.0) * lib_tensor(m, probs)).sum(),
        lambda m, x: (m.elu(x, 0.5) * lib_tensor(m, probs)).sum(),
        lambda m, x: (m.leaky_relu(x, 0.1) * lib_tensor(m, probs)).sum(),
        lambda m, x: (m.softmax(x, 0) * lib_tensor(m, probs)).sum(),
    ]
    for loss_of in losses:
        x, tx = tn.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
        mine, theirs = loss_of(F, x), loss_of(tF, tx)
        mine.backward()
        theirs.backward()
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def lib_tensor(module, array):
    """A constant tensor of whichever library ``module`` (F or torch's F) belongs to."""
    if module is F:
        return tn.tensor(array)
    import torch
    return torch.tensor(array)


# --------------------------------------------------------------------------- dropout
def test_dropout_zeroes_about_p_and_scales_the_rest():
    tn.manual_seed(0)
    x = tn.ones(200, 50, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = y.detach().numpy() != 0
    assert abs(1 - kept.mean() - 0.3) < 0.02
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # same mask, same scale


def test_dropout_edge_cases():
    x = tn.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros((4, 5)))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout"):
            F.dropout(x, bad)


def test_dropout_is_reproducible_with_manual_seed():
    x = tn.ones(10, 10)
    tn.manual_seed(5)
    first = F.dropout(x, 0.5).numpy()
    tn.manual_seed(5)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)


# --------------------------------------------------------------------------- layout checks
def test_conv2d_output_shapes_and_a_fixed_example():
    x = tn.randn(8, 3, 32, 32)
    assert F.conv2d(x, tn.randn(16, 3, 3, 3), padding=1).shape == (8, 16, 32, 32)
    assert F.conv2d(x, tn.randn(4, 3, 5, 5), stride=2).shape == (8, 4, 14, 14)
    assert F.conv2d(x, tn.randn(4, 3, 3, 3), dilation=(2, 1)).shape == (8, 4, 28, 30)
    assert F.max_pool2d(x, 2).shape == (8, 3, 16, 16)
    assert F.avg_pool2d(x, 3, stride=2, padding=1).shape == (8, 3, 16, 16)
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    box = np.ones((1, 1, 2, 2))
    check_case(OpSpec("conv2d", F.conv2d, cases(), np_conv2d), [image, box])
    np.testing.assert_array_equal(F.conv2d(tn.tensor(image), tn.tensor(box)).numpy()[0, 0],
                                  [[10, 14, 18], [26, 30, 34], [42, 46, 50]])


def test_float32_network_stays_float32_and_warning_free():
    tn.manual_seed(0)
    x = tn.randn(2, 1, 6, 6)
    w = tn.randn(2, 1, 3, 3, requires_grad=True)
    lin = tn.randn(3, 8, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 3).flatten(1)
        loss = F.cross_entropy(F.linear(h, lin), tn.tensor([0, 2]))
        loss.backward()
    assert loss.dtype == np.float32 and w.grad.dtype == np.float32 and lin.grad.dtype == np.float32
