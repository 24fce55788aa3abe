"""The losses of ``tinynet.nn.functional`` and their layers: every differentiable one through the
op factory (forward against NumPy, gradients of both orders, no mutation, graph freed), then
against PyTorch (values and gradients, defaults, warnings and error types), then the layers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.testing import OpSpec, away_from, check_op, op_settings, shapes

REDUCTIONS = ["mean", "sum", "none"]


# --------------------------------------------------------------------------- NumPy references
def np_reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)


def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def np_smooth_l1(x, y, reduction, beta):
    d = np.abs(x - y)
    return np_reduce(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def np_huber(x, y, reduction, delta):
    d = np.abs(x - y)
    return np_reduce(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def np_bce(x, y, reduction, weight=None):
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return np_reduce(loss * (1 if weight is None else weight), reduction)


def np_kl_div(x, y, reduction, log_target):
    loss = np.exp(y) * (y - x) if log_target else \
        np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0) - y * x
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return np_reduce(loss, reduction)


def np_class_loss(log_probs, target, reduction, weight=None, ignore_index=-100, smoothing=0.0):
    """PyTorch's nll_loss / cross_entropy on log-probabilities, written out: class weights,
    ignored targets, label smoothing, any number of extra dims, and unbatched (C,) input."""
    unbatched = log_probs.ndim == 1
    if unbatched:
        log_probs, target = log_probs[None], np.asarray(target)[None]
    classes = log_probs.shape[1]
    lp = np.moveaxis(log_probs, 1, -1)  # (N, d..., C)
    keep = target != ignore_index
    t = np.where(keep, target, 0)
    w = np.ones(classes) if weight is None else weight
    nll = -np.take_along_axis(lp, t[..., None], -1)[..., 0] * w[t] * keep
    smooth = -(lp * w).sum(-1) * keep
    if reduction == "none":
        loss = (1 - smoothing) * nll + smoothing / classes * smooth
        return loss[0] if unbatched else loss
    total = (1 - smoothing) * nll.sum() + smoothing / classes * smooth.sum()
    with np.errstate(invalid="ignore"):  # every target ignored: 0/0 = NaN, as PyTorch gives
        return total if reduction == "sum" else total / (w[t] * keep).sum()


def np_probability_loss(x, target, reduction, weight=None, smoothing=0.0):
    axis = 1 if x.ndim > 1 else 0
    classes = x.shape[axis]
    target = target * (1 - smoothing) + smoothing / classes
    w = 1 if weight is None else weight.reshape([-1 if i == axis else 1 for i in range(x.ndim)])
    return np_reduce(-(np_log_softmax(x, axis) * target * w).sum(axis), reduction)


# --------------------------------------------------------------------------- cases and values
def pair_cases(**extra):
    kw = {k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in extra.items()}
    return shapes(max_dims=3).flatmap(lambda s: st.tuples(
        st.just((s, s)), st.fixed_dictionaries({"reduction": st.sampled_from(REDUCTIONS), **kw})))


def differences_away_from(points, margin=0.05):
    """Move the target so that input - target keeps ``margin`` from each kink in ``points``."""
    move = away_from(points, margin)
    return lambda arrays: [arrays[0], arrays[0] - move([arrays[0] - arrays[1]])[0]]


def probabilities(arrays):
    """Input in [0.1, 0.9] (away from log's poles), target in [0.05, 0.95] (finite differences
    step a little past it, and a target outside [0, 1] is an error)."""
    x, y = arrays
    return [0.1 + 0.2 * (x + 2), 0.05 + 0.225 * (y + 2)]


@st.composite
def class_cases(draw, probabilities_target=False, smoothing=True, allow_unbatched=True):
    """Scores (C,), (N, C) or (N, C, d1[, d2]), targets with some ignored, optional weights."""
    classes = draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["unbatched", "2d", "kd"] if allow_unbatched else ["2d", "kd"]))
    if layout == "unbatched":
        shape, target_shape = (classes,), ()
    else:
        n = draw(st.integers(1, 3))
        extra = () if layout == "2d" else tuple(draw(st.lists(st.integers(1, 3), min_size=1,
                                                              max_size=2)))
        shape, target_shape = (n, classes) + extra, (n,) + extra
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if draw(st.booleans()):
        kwargs["weight"] = np.array(draw(st.lists(st.floats(0.2, 2.0), min_size=classes,
                                                  max_size=classes)))
    if smoothing:
        kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.4]))
    if probabilities_target:
        return (shape, shape), kwargs
    size = int(np.prod(target_shape, dtype=int))
    labels = draw(st.lists(st.integers(0, classes - 1), min_size=size, max_size=size))
    ignore_index = draw(st.sampled_from([-100, 0, classes - 1]))
    ignored = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    ignored[0] = False  # at least one target counts, or 'mean' is 0/0
    target = np.array([ignore_index if skip and ignore_index == -100 else label
                       for label, skip in zip(labels, ignored)], dtype=np.int64)
    kwargs["target"] = target.reshape(target_shape)
    kwargs["ignore_index"] = ignore_index
    return (shape,), kwargs


def _tensor_or_none(array):
    return None if array is None else tn.tensor(array)


def cross_entropy_with(x, target, weight=None, **kw):
    return F.cross_entropy(x, tn.tensor(target), weight=_tensor_or_none(weight), **kw)


def nll_with(x, target, weight=None, **kw):
    return F.nll_loss(x, tn.tensor(target), weight=_tensor_or_none(weight), **kw)


def kl_div_quietly(x, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns, as in PyTorch
        return F.kl_div(x, y, **kw)


KINKS = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]

SPECS = [
    OpSpec("l1_loss", F.l1_loss, pair_cases(),
           lambda x, y, reduction: np_reduce(np.abs(x - y), reduction),
           values=differences_away_from([0.0], 0.1)),
    OpSpec("smooth_l1_loss", F.smooth_l1_loss, pair_cases(beta=st.sampled_from([0.5, 1.0, 2.0])),
           np_smooth_l1, values=differences_away_from(KINKS)),
    OpSpec("huber_loss", F.huber_loss, pair_cases(delta=st.sampled_from([0.5, 1.0, 2.0])),
           np_huber, values=differences_away_from(KINKS)),
    OpSpec("mse_loss", F.mse_loss, pair_cases(),
           lambda x, y, reduction: np_reduce((x - y) ** 2, reduction)),
    OpSpec("mse_loss weighted", lambda x, y, w, reduction: F.mse_loss(x, y, reduction=reduction,
                                                                       weight=w),
           shapes(max_dims=2).flatmap(lambda s: st.tuples(st.just((s, s, s)), st.fixed_dictionaries(
               {"reduction": st.sampled_from(REDUCTIONS)}))),
           lambda x, y, w, reduction: (((x - y) ** 2 * w).sum() / w.sum()) if reduction == "mean"
           else np_reduce((x - y) ** 2 * w, reduction),
           values=lambda arrays: arrays[:2] + [np.abs(arrays[2]) + 0.5]),
    OpSpec("binary_cross_entropy", F.binary_cross_entropy, pair_cases(), np_bce,
           values=probabilities),
    OpSpec("binary_cross_entropy weighted",
           lambda x, y, weight, reduction: F.binary_cross_entropy(x, y, tn.tensor(weight),
                                                                  reduction=reduction),
           shapes(min_dims=1, max_dims=2).flatmap(lambda s: st.tuples(
               st.just((s, s)), st.fixed_dictionaries({
                   "reduction": st.sampled_from(REDUCTIONS),
                   "weight": st.just(np.linspace(0.5, 1.5, s[-1]))}))),
           np_bce, values=probabilities),
    OpSpec("binary_cross_entropy_with_logits pos_weight",
           lambda x, y, pos_weight, reduction: F.binary_cross_entropy_with_logits(
               x, y, reduction=reduction, pos_weight=tn.tensor(pos_weight)),
           shapes(min_dims=1, max_dims=2).flatmap(lambda s: st.tuples(
               st.just((s, s)), st.fixed_dictionaries({
                   "reduction": st.sampled_from(REDUCTIONS),
                   "pos_weight": st.just(np.linspace(0.5, 3.0, s[-1]))}))),
           lambda x, y, pos_weight, reduction: np_reduce(
               (1 - y) * x + (1 + (pos_weight - 1) * y) * np.logaddexp(0, -x), reduction),
           values=lambda arrays: [arrays[0], (arrays[1] + 2) / 4]),
    OpSpec("kl_div", kl_div_quietly,
           pair_cases(reduction=st.sampled_from(REDUCTIONS + ["batchmean"]), log_target=False),
           np_kl_div, values=lambda arrays: [arrays[0], np.abs(arrays[1]) + 0.1]),
    OpSpec("kl_div log_target", kl_div_quietly,
           pair_cases(reduction=st.sampled_from(REDUCTIONS + ["batchmean"]), log_target=True),
           np_kl_div),
    OpSpec("cross_entropy classes", cross_entropy_with, class_cases(),
           lambda x, target, **kw: np_class_loss(
               np_log_softmax(x, 1 if x.ndim > 1 else 0), target, kw["reduction"],
               kw.get("weight"), kw["ignore_index"], kw["label_smoothing"])),
    OpSpec("cross_entropy probabilities",
           lambda x, t, weight=None, **kw: F.cross_entropy(x, t, weight=_tensor_or_none(weight),
                                                           **kw),
           class_cases(probabilities_target=True),
           lambda x, t, weight=None, **kw: np_probability_loss(
               x, t, kw["reduction"], weight, kw["label_smoothing"]),
           values=lambda arrays: [arrays[0], np.abs(arrays[1]) / 2]),
    OpSpec("nll_loss", nll_with, class_cases(smoothing=False),
           lambda x, target, **kw: np_class_loss(x, target, kw["reduction"], kw.get("weight"),
                                                 kw["ignore_index"])),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_loss(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- against PyTorch
RNG = np.random.default_rng(0)
X23, Y23 = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
P23, T23 = RNG.uniform(0.05, 0.95, (2, 3)), RNG.uniform(0, 1, (2, 3))
SCORES = RNG.standard_normal((3, 4, 2, 2))
LABELS = np.array([[[0, 3], [1, -100]], [[2, 2], [3, 0]], [[1, -100], [0, 1]]])
PROBS = RNG.uniform(0, 1, (3, 4))

# name -> (function name, differentiable inputs, fixed keyword arguments); tensors given as
# ("t", array) are built as tensors of either library.
TORCH_CASES = {
    "l1_loss": ("l1_loss", (X23, Y23), {}),
    "l1_loss weighted mean": ("l1_loss", (X23, Y23), {"weight": ("t", np.abs(Y23) + 0.1)}),
    "smooth_l1_loss beta 0.5": ("smooth_l1_loss", (X23, Y23), {"beta": 0.5, "reduction": "sum"}),
    "smooth_l1_loss beta 0": ("smooth_l1_loss", (X23, Y23), {"beta": 0.0}),
    "huber_loss": ("huber_loss", (X23, Y23), {"delta": 0.7, "reduction": "none"}),
    "huber_loss weighted": ("huber_loss", (X23, Y23), {"weight": ("t", np.abs(Y23))}),
    "mse_loss": ("mse_loss", (X23, Y23), {}),
    "mse_loss sum": ("mse_loss", (X23, Y23), {"reduction": "sum"}),
    "mse_loss none": ("mse_loss", (X23, Y23), {"reduction": "none"}),
    "mse_loss weighted": ("mse_loss", (X23, Y23), {"weight": ("t", np.abs(X23) + 0.2)}),
    "binary_cross_entropy": ("binary_cross_entropy", (P23, T23), {}),
    "binary_cross_entropy weight": ("binary_cross_entropy", (P23, T23),
                                    {"weight": ("t", np.array([1.0, 2.0, 0.5])),
                                     "reduction": "sum"}),
    "binary_cross_entropy at 0 and 1": ("binary_cross_entropy", (np.array([0.0, 1.0, 0.5]),),
                                        {"target": ("t", np.array([1.0, 0.0, 1.0]))}),
    "bce_with_logits pos_weight": ("binary_cross_entropy_with_logits", (X23, T23),
                                   {"pos_weight": ("t", np.array([1.0, 3.0, 0.2])),
                                    "weight": ("t", np.array([0.5, 1.0, 2.0]))}),
    "kl_div batchmean": ("kl_div", (np_log_softmax(X23, 1), np.exp(np_log_softmax(Y23, 1))),
                         {"reduction": "batchmean"}),
    "kl_div log_target": ("kl_div", (X23, Y23), {"reduction": "sum", "log_target": True}),
    "kl_div zero target": ("kl_div", (X23,), {  # the target's gradient there: ours finite, NaN
        "target": ("t", np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])), "reduction": "none"}),
    "cross_entropy 4-d": ("cross_entropy", (SCORES,), {"target": ("t", LABELS)}),
    "cross_entropy 4-d smoothing weight": ("cross_entropy", (SCORES,), {
        "target": ("t", LABELS), "label_smoothing": 0.2,
        "weight": ("t", np.array([1.0, 0.5, 2.0, 1.5]))}),
    "cross_entropy 4-d none": ("cross_entropy", (SCORES,), {
        "target": ("t", LABELS), "reduction": "none", "label_smoothing": 0.1}),
    "cross_entropy ignore_index": ("cross_entropy", (SCORES[:, :, 0, 0],), {
        "target": ("t", np.array([2, 1, 2])), "ignore_index": 2}),
    "cross_entropy unbatched": ("cross_entropy", (SCORES[0, :, 0, 0],), {
        "target": ("t", np.array(3)), "label_smoothing": 0.3}),
    "cross_entropy probabilities": ("cross_entropy", (SCORES[:, :, 0, 0], PROBS), {
        "label_smoothing": 0.1, "weight": ("t", np.array([1.0, 0.5, 2.0, 1.5]))}),
    "cross_entropy probabilities 4-d": ("cross_entropy", (SCORES, np.abs(SCORES)), {
        "reduction": "sum"}),
    "nll_loss weight ignore": ("nll_loss", (np_log_softmax(SCORES, 1),), {
        "target": ("t", LABELS), "weight": ("t", np.array([1.0, 0.5, 2.0, 1.5]))}),
    "nll_loss all ignored": ("nll_loss", (SCORES[:, :, 0, 0],), {
        "target": ("t", np.array([-100, -100, -100]))}),
}


def run_loss(lib, case):
    name, inputs, kwargs = case
    tensors = [lib.tensor(a, requires_grad=True) for a in inputs]
    kwargs = {k: lib.tensor(v[1]) if isinstance(v, tuple) and v[:1] == ("t",) else v
              for k, v in kwargs.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(lib.nn.functional, name)(*tensors, **kwargs)
    seed = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
    grads = lib.autograd.grad(out, tensors, seed)
    return out.detach().numpy(), [g.numpy() for g in grads], sorted({str(w.message)[:40]
                                                                     for w in caught})


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_losses_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = run_loss(tn, TORCH_CASES[name]), run_loss(torch, TORCH_CASES[name])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12, err_msg="value")
    for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"gradient {i}")
    assert ours[2] == theirs[2], "warnings"


def test_binary_cross_entropy_is_finite_at_0_and_1():
    x = tn.tensor([0.0, 1.0, 0.5], requires_grad=True)
    y = tn.tensor([1.0, 0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(x, y, reduction="sum")
        loss.backward()
    assert loss.item() == pytest.approx(200 + np.log(2))
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(y.grad.numpy(), [100.0, -100.0, 0.0], atol=1e-9)  # PyTorch: ±inf


def test_kl_div_mean_warns_and_legacy_reduction_arguments_map_as_in_pytorch():
    x, y = tn.tensor(X23), tn.tensor(np.abs(Y23))
    with pytest.warns(UserWarning, match="'mean' divides the total loss"):
        F.kl_div(x, y)
    with pytest.warns(UserWarning, match="reduction='sum' instead"):
        total = F.mse_loss(x, y, size_average=False)
    assert total.item() == pytest.approx(((X23 - np.abs(Y23)) ** 2).sum())
    with pytest.warns(UserWarning, match="reduction='none' instead"):
        assert F.l1_loss(x, y, reduce=False).shape == (2, 3)


LOSS_ERRORS = [
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.tensor([0.5, 1.5]), lib.tensor([0.0, 1.0])),
    lambda lib: lib.nn.functional.binary_cross_entropy(lib.tensor([0.5, 0.5]), lib.tensor([0.0, 2.0])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 5])),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1, 2]),
                                                weight=lib.ones(3)),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.rand(3, 4), ignore_index=1),
    lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1.0),
    lambda lib: lib.nn.functional.huber_loss(lib.ones(2), lib.ones(2), delta=0.0),
    lambda lib: lib.nn.functional.l1_loss(lib.ones(2), lib.ones(2), reduction="avg"),
    lambda lib: lib.nn.functional.cross_entropy(lib.randn(3, 4), lib.tensor([0, 1])),
]


@pytest.mark.parametrize("index", range(len(LOSS_ERRORS)))
def test_loss_errors_have_pytorch_types(index):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as ours:
        LOSS_ERRORS[index](tn).item()  # a GPU reports a bad target at the next read
    with pytest.raises(Exception) as theirs:
        LOSS_ERRORS[index](torch)
    assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


def test_loss_errors_name_the_function_and_shapes():
    with pytest.raises(ValueError, match=r"cross_entropy.*\(2, 3\).*\(2, 5\)"):
        F.cross_entropy(tn.randn(2, 4, 5), tn.tensor([[0, 1, 2], [0, 1, 2]]))
    with pytest.raises(ValueError, match=r"cross_entropy: target of shape \(2,\).*\(4,\): expected \(\)"):
        F.cross_entropy(tn.randn(4), tn.tensor([0, 1]))
    with pytest.raises(IndexError, match="target holds class indices in \\[0, 5\\]"):
        F.nll_loss(tn.randn(2, 4, device="cpu"), tn.tensor([0, 5], device="cpu"))  # at once
    with pytest.raises(ValueError, match="l1_loss.*Weights and input"):
        F.l1_loss(tn.ones(2), tn.ones(2), weight=tn.ones(3))
    with pytest.raises(ValueError, match=r"kl_div.*\(2, 3\).*\(3,\)"):
        F.kl_div(tn.tensor(X23), tn.ones(3), reduction="sum")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(tn.randn(2, 3), tn.tensor([0, 1]), label_smoothing=1.5)


def test_cross_entropy_common_case_is_unchanged():
    """The (N, C) path every training step takes: no weights, nothing ignored."""
    # on the CPU: a GPU can't tell without a sync that nothing is ignored, so it always weights
    logits = tn.tensor(SCORES[:, :, 0, 0], device="cpu", requires_grad=True)
    labels = tn.tensor([0, 3, 1], device="cpu")
    loss = F.cross_entropy(logits, labels)
    expected = -np_log_softmax(SCORES[:, :, 0, 0], 1)[np.arange(3), [0, 3, 1]].mean()
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert all(fn.name() != "MulBackward0" for fn in tn.autograd.graph_nodes(loss))  # no weights


# --------------------------------------------------------------------------- layers
LAYERS = [
    ("L1Loss", {}, (X23, Y23)),
    ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}, (X23, Y23)),
    ("HuberLoss", {"delta": 2.0}, (X23, Y23)),
    ("BCELoss", {"weight": ("t", np.array([1.0, 2.0, 3.0]))}, (P23, T23)),
    ("BCEWithLogitsLoss", {"pos_weight": ("t", np.array([1.0, 2.0, 3.0]))}, (X23, T23)),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, (X23, Y23)),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1,
                          "weight": ("t", np.array([1.0, 0.5, 2.0, 1.5]))}, (SCORES,)),
    ("NLLLoss", {"weight": ("t", np.array([1.0, 0.5, 2.0, 1.5]))}, (SCORES,)),
    ("MSELoss", {"reduction": "none"}, (X23, Y23)),
]


@pytest.mark.parametrize("name, settings, inputs", LAYERS, ids=[c[0] for c in LAYERS])
def test_loss_layers_match_torch(name, settings, inputs):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tn, torch):
        kwargs = {k: lib.tensor(v[1]) if isinstance(v, tuple) else v for k, v in settings.items()}
        layer = getattr(lib.nn, name)(**kwargs)
        args = [lib.tensor(a) for a in inputs]
        if name in ("CrossEntropyLoss", "NLLLoss"):
            args.append(lib.tensor(np.abs(LABELS) % 4))
        results.append((layer(*args).numpy(), repr(layer), sorted(layer.state_dict()),
                        layer.reduction))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    assert results[0][1:] == results[1][1:]


def test_loss_layers_defaults_match_torch():
    torch = pytest.importorskip("torch")
    for name in ["L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "KLDivLoss", "CrossEntropyLoss",
                 "NLLLoss", "MSELoss", "BCEWithLogitsLoss"]:
        ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
        for attribute in ("reduction", "beta", "delta", "log_target", "ignore_index",
                          "label_smoothing"):
            assert getattr(ours, attribute, None) == getattr(theirs, attribute, None), \
                f"{name}.{attribute}"
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="average")
