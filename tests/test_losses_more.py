"""The margin, embedding and likelihood losses of ``tinynet.nn.functional`` and their layers:
values and gradients against PyTorch in float64 for drawn shapes, values (kinks hit exactly) and
settings, second derivatives by ``gradgradcheck``, stability at large magnitudes, PyTorch's
error types with messages that name the function, and the layers' arguments and printing."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from torch_oracle import assert_matches_torch

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.testing import op_settings, shapes

REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- drawn cases
# Each case draws its shapes, settings and values and returns ``call(lib, *tensors)``, which runs
# the loss in either library (constant tensors, such as ±1 labels, are made inside it), and the
# float64 arrays whose gradients are compared.
def values(data, shape, scale=1.0):
    """Normal values, or half-integers so that hinges sit exactly on their kinks."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    if data.draw(st.booleans(), label="on the grid"):
        return rng.integers(-4, 5, shape) / 2.0
    return rng.standard_normal(shape) * scale


def labels(data, shape, choices=(-1.0, 1.0)):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="label seed"))
    return rng.choice(np.array(choices), shape)


def squashed(data, shape):
    """``shape`` with some dims set to 1: an argument that broadcasts against the others."""
    return tuple(1 if data.draw(st.booleans(), label="squash") else side for side in shape)


def margin_ranking_case(data):
    shape = data.draw(shapes(max_dims=3))
    kw = {"margin": data.draw(st.sampled_from([0.0, 0.5, 1.0])),
          "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    x1, x2 = values(data, shape), values(data, squashed(data, shape))
    y = labels(data, shape)
    return (lambda lib, a, b, t: lib.nn.functional.margin_ranking_loss(a, b, t, **kw)), (x1, x2, y)


def hinge_embedding_case(data):
    shape = data.draw(shapes(max_dims=3))
    kw = {"margin": data.draw(st.sampled_from([1.0, 0.5, 2.0])),
          "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    y = labels(data, squashed(data, shape), (-1.0, 1.0, 1.0, -1.0, 0.0))
    return (lambda lib, x: lib.nn.functional.hinge_embedding_loss(x, lib.tensor(y), **kw)), \
        (values(data, shape, 2.0),)


def soft_margin_case(data):
    shape = data.draw(shapes(max_dims=3))
    kw = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    y = labels(data, squashed(data, shape))  # PyTorch takes no gradient for the target
    return (lambda lib, x: lib.nn.functional.soft_margin_loss(x, lib.tensor(y), **kw)), \
        (values(data, shape, 3.0),)


def multilabel_soft_margin_case(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    kw = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    arrays = (values(data, shape, 3.0), rng.uniform(0, 1, shape))
    if data.draw(st.booleans(), label="weight"):
        arrays += (rng.uniform(0.2, 2.0, shape[-1]),)
        return (lambda lib, x, t, w: lib.nn.functional.multilabel_soft_margin_loss(
            x, t, weight=w, **kw)), arrays
    return (lambda lib, x, t: lib.nn.functional.multilabel_soft_margin_loss(x, t, **kw)), arrays


def cosine_embedding_case(data):
    batched = data.draw(st.booleans(), label="batched")
    n, d = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    shape = (n, d) if batched else (d,)
    kw = {"margin": data.draw(st.sampled_from([0.0, 0.3, -0.2])),
          "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    x1, x2 = values(data, shape), values(data, shape)
    if data.draw(st.booleans(), label="a zero vector"):
        x1[..., :] = 0.0  # cosine 0, through PyTorch's 1e-12 on each squared norm
    y = labels(data, shape[:-1], (-1.0, 1.0, 1.0, -1.0, 0.0))
    return (lambda lib, a, b: lib.nn.functional.cosine_embedding_loss(a, b, lib.tensor(y), **kw)), \
        (x1, x2)


def triplet_case(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    kw = {"margin": data.draw(st.sampled_from([1.0, 0.5, 3.0])),
          "p": data.draw(st.sampled_from([2, 1, 3, 1.5])),
          "eps": data.draw(st.sampled_from([1e-6, 0.1])), "swap": data.draw(st.booleans()),
          "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    arrays = (values(data, shape), values(data, squashed(data, shape)), values(data, shape) * 1.5)
    return (lambda lib, a, p, n: lib.nn.functional.triplet_margin_loss(a, p, n, **kw)), arrays


def poisson_case(data):
    shape = data.draw(shapes(max_dims=3))
    kw = {"log_input": data.draw(st.booleans()), "full": data.draw(st.booleans()),
          "eps": data.draw(st.sampled_from([1e-8, 0.1])),
          "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.standard_normal(shape) if kw["log_input"] else rng.uniform(0.1, 3.0, shape)
    # targets around the Stirling term's cut at 1, 1 itself included (0 is tested apart: there
    # PyTorch's target gradient is NaN)
    y = rng.choice(np.array([0.5, 1.0, 2.0, 3.5, 7.0]), shape) + \
        rng.uniform(0, 1, shape) * rng.integers(0, 2, shape)
    return (lambda lib, a, b: lib.nn.functional.poisson_nll_loss(a, b, **kw)), (x, y)


def gaussian_case(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    kw = {"full": data.draw(st.booleans()), "eps": data.draw(st.sampled_from([1e-6, 0.5])),
          "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    layout = data.draw(st.sampled_from(["same", "no last dim", "one dim 1", "number"]))
    var_shape = {"same": shape, "no last dim": shape[:-1], "number": shape}.get(
        layout, tuple(1 if i == len(shape) - 1 else s for i, s in enumerate(shape)))
    # variances on both sides of eps (the clamped ones get PyTorch's unclamped gradient)
    var = rng.choice(np.array([1e-8, 0.1, 0.7, 2.0]), var_shape) * rng.uniform(0.5, 1.5, var_shape)
    x, y = values(data, shape), values(data, squashed(data, shape))
    if layout == "number":
        number = float(var.flat[0])
        return (lambda lib, a, b: lib.nn.functional.gaussian_nll_loss(a, b, number, **kw)), (x, y)
    return (lambda lib, a, b, v: lib.nn.functional.gaussian_nll_loss(a, b, v, **kw)), (x, y, var)


def multi_margin_case(data):
    classes = data.draw(st.integers(1, 5))
    layout = data.draw(st.sampled_from(["batch", "vector"]))
    n = data.draw(st.integers(1, 4))
    shape, target_shape = ((n, classes), (n,)) if layout == "batch" else ((classes,), ())
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    target = rng.integers(0, classes, target_shape)
    kw = {"p": data.draw(st.sampled_from([1, 2])),
          "margin": data.draw(st.sampled_from([1.0, 0.5, 0.0])),
          "reduction": data.draw(st.sampled_from(REDUCTIONS))}
    weight = rng.uniform(0.2, 2.0, classes) if data.draw(st.booleans(), label="weight") else None

    def call(lib, x):
        w = None if weight is None else lib.tensor(weight)
        return lib.nn.functional.multi_margin_loss(x, lib.tensor(target), weight=w, **kw)
    return call, (values(data, shape),)


def multilabel_margin_case(data):
    classes = data.draw(st.integers(1, 5))
    batched = data.draw(st.booleans(), label="batched")
    n = data.draw(st.integers(1, 4)) if batched else 1
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    target = rng.integers(-1, classes, (n, classes))  # listed classes (repeats too), -1, junk
    kw = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    if not batched:
        target = target[0]
    shape = target.shape
    return (lambda lib, x: lib.nn.functional.multilabel_margin_loss(x, lib.tensor(target), **kw)), \
        (values(data, shape),)


CASES = {
    "margin_ranking_loss": margin_ranking_case,
    "hinge_embedding_loss": hinge_embedding_case,
    "soft_margin_loss": soft_margin_case,
    "multilabel_soft_margin_loss": multilabel_soft_margin_case,
    "cosine_embedding_loss": cosine_embedding_case,
    "triplet_margin_loss": triplet_case,
    "poisson_nll_loss": poisson_case,
    "gaussian_nll_loss": gaussian_case,
    "multi_margin_loss": multi_margin_case,
    "multilabel_margin_loss": multilabel_margin_case,
}


@pytest.mark.parametrize("name", CASES)
@op_settings
@given(data=st.data())
def test_losses_match_torch(torch, name, data):
    call, arrays = CASES[name](data)
    assert_matches_torch(torch, lambda *xs: call(tn, *xs), lambda *xs: call(torch, *xs), *arrays,
                         rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
@op_settings
@given(data=st.data())
def test_second_derivatives(name, data):
    call, arrays = CASES[name](data)
    rng = np.random.default_rng(1)
    # off the grid: finite differences need the kinks out of their reach
    arrays = [a + rng.uniform(0.01, 0.02, np.shape(a)) for a in arrays]
    if name == "gaussian_nll_loss" and len(arrays) == 3:
        arrays[2] = arrays[2] + 1.0  # above eps: the clamp's gradient is PyTorch's, not the true one
    inputs = [tn.tensor(a, dtype=tn.float64, requires_grad=True) for a in arrays]
    assert tn.gradgradcheck(lambda *xs: call(tn, *xs), inputs)


# Hinges exactly on their kinks, where PyTorch's composite losses (clamp_min) pass the gradient
# on and its multi-class kernels don't; the triplet's kink is 0 only in PyTorch's order of sums.
KINKS = {
    "margin_ranking_loss": (lambda lib, a, b: lib.nn.functional.margin_ranking_loss(
        a, b, lib.tensor([-1.0, 1.0, 1.0]), margin=0.5), ([0.5, 1.0, 0.0], [0.0, 0.5, 0.0])),
    "hinge_embedding_loss": (lambda lib, x: lib.nn.functional.hinge_embedding_loss(
        x, lib.tensor([-1.0, -1.0, 1.0])), ([1.0, 0.5, 0.0],)),
    "cosine_embedding_loss": (lambda lib, a, b: lib.nn.functional.cosine_embedding_loss(
        a, b, lib.tensor([-1.0, 1.0])), ([[0.0, 0.0], [1.0, 2.0]], [[1.0, 2.0], [0.0, 0.0]])),
    "triplet_margin_loss": (lambda lib, a, p, n: lib.nn.functional.triplet_margin_loss(
        a, p, n, margin=0.5, eps=0.1, reduction="none"), ([[-1.0], [-2.0]], [[-1.5], [-2.0]],
                                                          [[-2.0], [-0.5]])),
    "multi_margin_loss": (lambda lib, x: lib.nn.functional.multi_margin_loss(
        x, lib.tensor([1, 2])), ([[0.0, 1.0, 0.5], [0.5, 0.0, 1.5]],)),
    "multi_margin_loss p=2": (lambda lib, x: lib.nn.functional.multi_margin_loss(
        x, lib.tensor([1, 2]), p=2), ([[0.0, 1.0, 0.5], [0.5, 0.0, 1.5]],)),
    "multilabel_margin_loss": (lambda lib, x: lib.nn.functional.multilabel_margin_loss(
        x, lib.tensor([[1, -1, 0], [2, 1, -1]])), ([[0.0, 1.0, 0.5], [0.5, 0.0, 1.5]],)),
}


@pytest.mark.parametrize("name", KINKS)
def test_gradients_at_the_kinks_are_pytorchs(torch, name):
    call, arrays = KINKS[name]
    arrays = [np.array(a) for a in arrays]
    assert_matches_torch(torch, lambda *xs: call(tn, *xs), lambda *xs: call(torch, *xs), *arrays,
                         rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- special values
def test_soft_margin_is_finite_at_large_magnitudes():
    x = tn.tensor([-1e3, 1e3, -1e4, 1e4, 0.0], dtype=tn.float64, requires_grad=True)
    y = tn.tensor([1.0, -1.0, -1.0, 1.0, 1.0], dtype=tn.float64)
    loss = F.soft_margin_loss(x, y, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), [1e3, 1e3, 0.0, 0.0, math.log(2)],
                               rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0, 0.0, 0.0, -0.5], rtol=1e-15)
    x32 = tn.tensor([-1e3, 100.0, -100.0], requires_grad=True)  # float32 overflows at ~88
    total = F.soft_margin_loss(x32, tn.tensor([1.0, -1.0, -1.0]), reduction="sum")
    total.backward()
    assert total.item() == pytest.approx(1100.0, rel=1e-6)
    assert np.isfinite(x32.grad.numpy()).all()


def test_multilabel_soft_margin_is_finite_at_large_magnitudes():
    x = tn.tensor([[-1e3, 1e3, 5e2]], dtype=tn.float64, requires_grad=True)
    loss = F.multilabel_soft_margin_loss(x, tn.tensor([[1.0, 0.0, 1.0]], dtype=tn.float64))
    loss.backward()
    assert loss.item() == pytest.approx(2e3 / 3, rel=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [[-1 / 3, 1 / 3, 0.0]], atol=1e-15)


def test_poisson_stirling_term_at_zero_target_matches_torch_values(torch):
    x, y = np.array([0.5, 1.5, 2.0]), np.array([0.0, 0.0, 3.0])
    for log_input in (True, False):
        ours = tn.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        a = F.poisson_nll_loss(ours, tn.tensor(y), log_input=log_input, full=True, reduction="none")
        b = torch.nn.functional.poisson_nll_loss(theirs, torch.tensor(y), log_input=log_input,
                                                 full=True, reduction="none")
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
        a.sum().backward()
        b.sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    target = tn.tensor(y, requires_grad=True)  # PyTorch: NaN at y = 0; here 0 (and finite)
    F.poisson_nll_loss(tn.tensor(x), target, full=True, reduction="sum").backward()
    assert np.isfinite(target.grad.numpy()).all()


def test_gaussian_nll_clamps_var_without_a_gradient_through_the_clamp(torch):
    x, y, var = np.array([0.3, -1.0, 2.0]), np.array([0.0, 0.5, 2.5]), np.array([0.0, 1e-9, 0.4])
    results = []
    for lib in (tn, torch):
        v = lib.tensor(var, requires_grad=True)
        loss = lib.nn.functional.gaussian_nll_loss(lib.tensor(x), lib.tensor(y), v, eps=1e-6)
        loss.backward()
        results.append((loss.item(), v.grad.numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    assert results[0][1][0] != 0.0  # clamped, and still a gradient, as PyTorch


def test_multilabel_margin_reads_classes_up_to_the_first_minus_one():
    x = tn.tensor([[0.1, 0.2, 0.4, 0.8]], dtype=tn.float64)
    one = F.multilabel_margin_loss(x, tn.tensor([[3, -1, 0, 1]])).item()
    assert one == pytest.approx(((1 - 0.7) + (1 - 0.6) + (1 - 0.4)) / 4)
    assert F.multilabel_margin_loss(x, tn.tensor([[3, 3, -1, 0]])).item() == pytest.approx(2 * one)
    assert F.multilabel_margin_loss(x, tn.tensor([[-1, 3, 0, 1]])).item() == 0.0


def test_multi_margin_weight_multiplies_after_the_power(torch):
    x, target, weight = np.array([[0.2, 1.0, -0.3]]), np.array([2]), np.array([1.0, 1.0, 3.0])
    ours = F.multi_margin_loss(tn.tensor(x), tn.tensor(target), p=2, weight=tn.tensor(weight))
    expected = 3.0 * ((1 + 0.3 + 0.2) ** 2 + (1 + 0.3 + 1.0) ** 2) / 3
    assert ours.item() == pytest.approx(expected, rel=1e-12)
    theirs = torch.nn.functional.multi_margin_loss(torch.tensor(x), torch.tensor(target), p=2,
                                                   weight=torch.tensor(weight))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


@pytest.mark.parametrize("name", ["soft_margin_loss", "multi_margin_loss",
                                  "multilabel_margin_loss"])
def test_kernel_losses_print_pytorchs_node(torch, name):
    x = np.array([[0.3, -0.2, 1.0]])
    target = {"soft_margin_loss": lambda lib: lib.tensor([[1.0, -1.0, 1.0]]),
              "multi_margin_loss": lambda lib: lib.tensor([2]),
              "multilabel_margin_loss": lambda lib: lib.tensor([[2, -1, 0]])}[name]
    nodes = [getattr(lib.nn.functional, name)(lib.tensor(x, requires_grad=True),
                                              target(lib)).grad_fn.name() for lib in (tn, torch)]
    assert nodes[0] == nodes[1]


# --------------------------------------------------------------------------- legacy reduction
@pytest.mark.parametrize("legacy", [{"size_average": False}, {"reduce": False},
                                    {"size_average": True, "reduce": True}])
def test_legacy_reduction_arguments_map_as_in_pytorch(torch, legacy):
    x, y = np.array([[0.3, -1.2], [2.0, 0.1]]), np.array([[1.0, -1.0], [-1.0, 1.0]])
    calls = {
        "margin_ranking_loss": lambda lib: (lib.tensor(x), lib.tensor(-x), lib.tensor(y)),
        "hinge_embedding_loss": lambda lib: (lib.tensor(x), lib.tensor(y)),
        "soft_margin_loss": lambda lib: (lib.tensor(x), lib.tensor(y)),
        "multilabel_soft_margin_loss": lambda lib: (lib.tensor(x), lib.tensor(np.abs(y))),
        "cosine_embedding_loss": lambda lib: (lib.tensor(x), lib.tensor(y), lib.tensor(y[0])),
        "triplet_margin_loss": lambda lib: (lib.tensor(x), lib.tensor(y), lib.tensor(-x)),
        "poisson_nll_loss": lambda lib: (lib.tensor(x), lib.tensor(np.abs(y))),
        "multi_margin_loss": lambda lib: (lib.tensor(x), lib.tensor([1, 0])),
        "multilabel_margin_loss": lambda lib: (lib.tensor(x), lib.tensor([[1, -1], [0, 1]])),
    }
    for name, arguments in calls.items():
        results = []
        for lib in (tn, torch):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = getattr(lib.nn.functional, name)(*arguments(lib), **legacy)
            results.append((out.numpy(), sorted({str(w.message)[:40] for w in caught})))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, err_msg=name)
        assert results[0][1] == results[1][1], name


# --------------------------------------------------------------------------- errors
def _f(lib):
    return lib.nn.functional


ERRORS = {
    # mismatched shapes
    "margin_ranking dims": (lambda lib: _f(lib).margin_ranking_loss(
        lib.ones(3, 1), lib.ones(3), lib.ones(3)), r"margin_ranking_loss.*\(3, 1\).*\(3,\)"),
    "margin_ranking shapes": (lambda lib: _f(lib).margin_ranking_loss(
        lib.ones(3), lib.ones(2), lib.ones(3)), r"margin_ranking_loss.*input2 \(2,\)"),
    "hinge shapes": (lambda lib: _f(lib).hinge_embedding_loss(lib.ones(3), lib.ones(2)),
                     r"hinge_embedding_loss.*input \(3,\).*target \(2,\)"),
    "soft_margin shapes": (lambda lib: _f(lib).soft_margin_loss(lib.ones(2, 3), lib.ones(2)),
                           r"soft_margin_loss.*\(2, 3\).*\(2,\)"),
    "multilabel_soft_margin shapes": (lambda lib: _f(lib).multilabel_soft_margin_loss(
        lib.ones(3, 2), lib.ones(3)), r"multilabel_soft_margin_loss.*\(3, 2\).*\(3,\)"),
    "multilabel_soft_margin 0-d": (lambda lib: _f(lib).multilabel_soft_margin_loss(
        lib.tensor(1.0), lib.tensor(1.0)), "multilabel_soft_margin_loss.*0-d"),
    "cosine_embedding target 2-d": (lambda lib: _f(lib).cosine_embedding_loss(
        lib.ones(3, 4), lib.ones(3, 4), lib.ones(3, 1)), r"cosine_embedding_loss.*\(3, 1\)"),
    "cosine_embedding input dims": (lambda lib: _f(lib).cosine_embedding_loss(
        lib.ones(2, 3), lib.ones(3), lib.ones(2)), r"cosine_embedding_loss.*2D input.*\(3,\)"),
    "cosine_embedding shapes": (lambda lib: _f(lib).cosine_embedding_loss(
        lib.ones(3, 4), lib.ones(3, 5), lib.ones(3)), r"cosine_embedding_loss.*\(3, 4\).*\(3, 5\)"),
    "cosine_embedding target size": (lambda lib: _f(lib).cosine_embedding_loss(
        lib.ones(3, 4), lib.ones(3, 4), lib.ones(2)), r"cosine_embedding_loss.*\(2,\).*\(3,\)"),
    "triplet dims": (lambda lib: _f(lib).triplet_margin_loss(
        lib.ones(3, 4), lib.ones(4), lib.ones(3, 4)), r"triplet_margin_loss.*positive \(4,\)"),
    "triplet shapes": (lambda lib: _f(lib).triplet_margin_loss(
        lib.ones(3, 4), lib.ones(3, 5), lib.ones(3, 4)), r"triplet_margin_loss.*\(3, 5\)"),
    "triplet margin": (lambda lib: _f(lib).triplet_margin_loss(
        lib.ones(3, 4), lib.ones(3, 4), lib.ones(3, 4), margin=0.0), "triplet_margin_loss.*margin"),
    "poisson shapes": (lambda lib: _f(lib).poisson_nll_loss(lib.ones(3), lib.ones(2)),
                       r"poisson_nll_loss.*\(3,\).*\(2,\)"),
    "gaussian shapes": (lambda lib: _f(lib).gaussian_nll_loss(
        lib.ones(3, 2), lib.ones(3), lib.ones(3, 2)), r"gaussian_nll_loss.*\(3, 2\).*\(3,\)"),
    "gaussian negative var": (lambda lib: _f(lib).gaussian_nll_loss(
        lib.ones(3), lib.ones(3), lib.tensor([1.0, -0.5, 1.0])), "gaussian_nll_loss.*negative"),
    "gaussian negative number": (lambda lib: _f(lib).gaussian_nll_loss(
        lib.ones(3), lib.ones(3), -1.0), "gaussian_nll_loss.*negative"),
    "gaussian var size": (lambda lib: _f(lib).gaussian_nll_loss(
        lib.ones(3, 2), lib.ones(3, 2), lib.ones(2)), r"gaussian_nll_loss.*var \(2,\).*\(3, 2\)"),
    "gaussian var two dims of 1": (lambda lib: _f(lib).gaussian_nll_loss(
        lib.ones(3, 2), lib.ones(3, 2), lib.ones(1, 1)), "gaussian_nll_loss: var is of incorrect"),
    # class-index targets
    "multi_margin float target": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(3, 4), lib.tensor([0.0, 1.0, 2.0])), "multi_margin_loss.*integer"),
    "multi_margin p": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(3, 4), lib.tensor([0, 1, 2]), p=3), "multi_margin_loss.*p=3"),
    "multi_margin target shape": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(3, 4), lib.tensor([0, 1])), r"multi_margin_loss.*\(3,\).*\(2,\)"),
    "multi_margin target range": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(3, 4), lib.tensor([0, 1, 4])), r"multi_margin_loss: target out of range"),
    "multi_margin negative target": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(3, 4), lib.tensor([0, -1, 2])), "multi_margin_loss.*out of range"),
    "multi_margin weight dims": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(3, 4), lib.tensor([0, 1, 2]), weight=lib.ones(2, 2)), "multi_margin_loss.*weight"),
    "multi_margin weight size": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(3, 4), lib.tensor([0, 1, 2]), weight=lib.ones(3)), "multi_margin_loss.*weight"),
    "multi_margin 3-d": (lambda lib: _f(lib).multi_margin_loss(
        lib.ones(2, 3, 4), lib.tensor([0, 1])), r"multi_margin_loss.*\(2, 3, 4\)"),
    "multilabel_margin float target": (lambda lib: _f(lib).multilabel_margin_loss(
        lib.ones(3, 4), lib.zeros(3, 4)), "multilabel_margin_loss.*integer"),
    "multilabel_margin target shape": (lambda lib: _f(lib).multilabel_margin_loss(
        lib.ones(3, 4), lib.tensor([[0, 1, -1, 2]])), r"multilabel_margin_loss.*\(1, 4\)"),
    "multilabel_margin target range": (lambda lib: _f(lib).multilabel_margin_loss(
        lib.ones(1, 4), lib.tensor([[0, -1, 7, 2]])), "multilabel_margin_loss.*out of range"),
    "multilabel_margin empty": (lambda lib: _f(lib).multilabel_margin_loss(
        lib.ones(0), lib.ones(0).long()), "multilabel_margin_loss.*non-empty"),
    # reductions
    "reduction": (lambda lib: _f(lib).soft_margin_loss(lib.ones(2), lib.ones(2), reduction="avg"),
                  "soft_margin_loss.*reduction"),
    "reduction poisson": (lambda lib: _f(lib).poisson_nll_loss(
        lib.ones(2), lib.ones(2), reduction="avg"), "poisson_nll_loss.*reduction"),
    "reduction gaussian": (lambda lib: _f(lib).gaussian_nll_loss(
        lib.ones(2), lib.ones(2), lib.ones(2), reduction="avg"), "gaussian_nll_loss.*reduction"),
    "reduction multilabel_soft_margin": (lambda lib: _f(lib).multilabel_soft_margin_loss(
        lib.ones(2), lib.ones(2), reduction="avg"), "multilabel_soft_margin_loss.*reduction"),
    # layers
    "MultiMarginLoss p": (lambda lib: lib.nn.MultiMarginLoss(p=3), "MultiMarginLoss.*p"),
    "MultiMarginLoss weight": (lambda lib: lib.nn.MultiMarginLoss(weight=lib.ones(2, 2)),
                               "MultiMarginLoss.*1D"),
    "TripletMarginLoss margin": (lambda lib: lib.nn.TripletMarginLoss(margin=-1.0),
                                 "TripletMarginLoss.*greater than 0"),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_have_pytorch_types_and_say_what_is_wrong(torch, name):
    make, message = ERRORS[name]
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value), match=message):
        out = make(tn)
        if isinstance(out, tn.Tensor):  # a GPU reports a bad class index at the next read
            out.sum().item()


def test_errors_without_torch():
    with pytest.raises(ValueError, match="gaussian_nll_loss.*negative"):
        F.gaussian_nll_loss(tn.ones(2), tn.ones(2), tn.tensor([0.5, -1e-9]))
    with pytest.raises(RuntimeError, match=r"soft_margin_loss.*input \(2, 3\), target \(3, 2\)"):
        F.soft_margin_loss(tn.ones(2, 3), tn.ones(3, 2))
    with pytest.raises(TypeError):  # an integer target given as floats is a TypeError too
        F.multi_margin_loss(tn.ones(2, 3), tn.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        nn.SoftMarginLoss(reduction="average")


# --------------------------------------------------------------------------- layers
X = np.random.default_rng(0).standard_normal((3, 4))
LAYERS = [
    ("MarginRankingLoss", {}, lambda lib: (lib.tensor(X[0]), lib.tensor(X[1]),
                                           lib.tensor([1.0, -1.0, 1.0, -1.0]))),
    ("MarginRankingLoss", {"margin": 0.5, "reduction": "sum"},
     lambda lib: (lib.tensor(X[0]), lib.tensor(X[1]), lib.tensor([1.0, -1.0, 1.0, -1.0]))),
    ("HingeEmbeddingLoss", {"margin": 2.0, "reduction": "none"},
     lambda lib: (lib.tensor(X), lib.tensor(np.sign(X)))),
    ("SoftMarginLoss", {}, lambda lib: (lib.tensor(X), lib.tensor(np.sign(X[::-1].copy())))),
    ("MultiLabelSoftMarginLoss", {"weight": ("t", np.array([1.0, 2.0, 0.5, 1.0]))},
     lambda lib: (lib.tensor(X), lib.tensor((X > 0).astype(float)))),
    ("CosineEmbeddingLoss", {"margin": 0.2}, lambda lib: (lib.tensor(X), lib.tensor(X[::-1].copy()),
                                                          lib.tensor([1.0, -1.0, -1.0]))),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "eps": 1e-3, "swap": True},
     lambda lib: (lib.tensor(X), lib.tensor(X[::-1].copy()), lib.tensor(X * 2))),
    ("PoissonNLLLoss", {"log_input": False, "full": True, "eps": 1e-4},
     lambda lib: (lib.tensor(np.abs(X)), lib.tensor(np.abs(X) * 3))),
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3},
     lambda lib: (lib.tensor(X), lib.tensor(X[::-1].copy()), lib.tensor(np.abs(X[:, 0])))),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": ("t", np.array([1.0, 2.0, 0.5, 1.0]))},
     lambda lib: (lib.tensor(X), lib.tensor([3, 0, 1]))),
    ("MultiLabelMarginLoss", {}, lambda lib: (lib.tensor(X), lib.tensor([[3, 0, -1, 1]] * 3))),
]


@pytest.mark.parametrize("name, settings, inputs", LAYERS, ids=[c[0] for c in LAYERS])
def test_loss_layers_match_torch(torch, name, settings, inputs):
    results = []
    for lib in (tn, torch):
        kwargs = {k: lib.tensor(v[1]) if isinstance(v, tuple) else v for k, v in settings.items()}
        layer = getattr(lib.nn, name)(**kwargs)
        attributes = {a: getattr(layer, a, None) for a in ("reduction", "margin", "p", "eps",
                                                           "swap", "log_input", "full")}
        results.append((layer(*inputs(lib)).numpy(), repr(layer), sorted(layer.state_dict()),
                        attributes))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    assert results[0][1:] == results[1][1:]


def test_loss_layers_defaults_match_torch(torch):
    for name in ["MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
                 "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
                 "PoissonNLLLoss", "GaussianNLLLoss", "MultiMarginLoss", "MultiLabelMarginLoss"]:
        ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
        assert repr(ours) == repr(theirs)
        for attribute in ("reduction", "margin", "p", "eps", "swap", "log_input", "full",
                          "weight"):
            assert getattr(ours, attribute, None) == getattr(theirs, attribute, None), \
                f"{name}.{attribute}"
    with pytest.raises(TypeError):  # keyword-only, as in PyTorch
        nn.GaussianNLLLoss(True)
