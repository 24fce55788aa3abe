"""``tn.autograd.functional`` (vjp, jvp, vhp, hvp, jacobian, hessian): against closed forms here,
against ``torch.autograd.functional`` where torch is installed, and PyTorch's strict-mode and
argument errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn
import tinynet.autograd.functional as AF

RNG = np.random.default_rng(0)
A, B, V = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)


def scalar_fn(x, y):
    return (x.exp() * y).sum() + (x * x).sum() * y.sum()


def pair_fn(x, y):
    return x.tanh() * y, (x * x).sum()


def cube_sum(x):
    return (x * x * x).sum()


def tensors(lib, *arrays):
    return tuple(lib.tensor(a) for a in arrays)


def assert_same(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    else:
        assert isinstance(ours, tn.Tensor) and tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def calls(lib):
    """name -> the same call on ``lib`` (tinynet or torch)."""
    F = lib.autograd.functional
    return {
        "vjp": lambda: F.vjp(pair_fn, tensors(lib, A, B), tensors(lib, V, np.array(0.7))),
        "vjp_scalar_no_v": lambda: F.vjp(cube_sum, lib.tensor(A)),
        "jvp": lambda: F.jvp(pair_fn, tensors(lib, A, B), tensors(lib, V, V[::-1].copy())),
        "vhp": lambda: F.vhp(scalar_fn, tensors(lib, A, B), tensors(lib, V, V)),
        "hvp": lambda: F.hvp(scalar_fn, tensors(lib, A, B), tensors(lib, V, V)),
        "hvp_single": lambda: F.hvp(cube_sum, lib.tensor(A), lib.tensor(V)),
        "jacobian": lambda: F.jacobian(pair_fn, tensors(lib, A, B)),
        "jacobian_single": lambda: F.jacobian(lambda x: x.tanh().reshape(3, 1), lib.tensor(A)),
        "jacobian_vectorize": lambda: F.jacobian(lambda x: x.exp(), lib.tensor(A), vectorize=True),
        "hessian": lambda: F.hessian(scalar_fn, tensors(lib, A, B)),
        "hessian_single": lambda: F.hessian(cube_sum, lib.tensor(A)),
        "jacobian_unused_input": lambda: F.jacobian(lambda x, y: x * 2, tensors(lib, A, B)),
    }


@pytest.mark.parametrize("name", list(calls(tn)))
def test_functional_matches_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = calls(tn)[name](), calls(torch)[name]()
    assert_same(ours, theirs)


def test_closed_forms_without_torch():
    x = tn.tensor(A)
    _, hv = AF.hvp(cube_sum, x, tn.tensor(V))
    np.testing.assert_allclose(hv.numpy(), 6 * A * V)
    np.testing.assert_allclose(AF.hessian(cube_sum, x).numpy(), np.diag(6 * A))
    jac = AF.jacobian(lambda t: t * t, x)
    np.testing.assert_allclose(jac.numpy(), np.diag(2 * A))
    out, jv = AF.jvp(lambda t: t.exp(), x, tn.tensor(V))
    np.testing.assert_allclose(jv.numpy(), np.exp(A) * V)
    assert not out.requires_grad and not jv.requires_grad


def test_results_are_detached_unless_create_graph():
    x = tn.tensor(A, requires_grad=True)
    _, hv = AF.hvp(cube_sum, x, tn.tensor(V))
    assert not hv.requires_grad
    _, hv = AF.hvp(cube_sum, x, tn.tensor(V), create_graph=True)
    (third,) = tn.grad(hv.sum(), [x])  # d/dx of 6·x·v summed: 6·v
    np.testing.assert_allclose(third.numpy(), 6 * V)
    h = AF.hessian(cube_sum, x, create_graph=True)
    (third,) = tn.grad(h.sum(), [x])
    np.testing.assert_allclose(third.numpy(), np.full(3, 6.0))


def test_create_graph_matches_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tn, torch):
        x = lib.tensor(A, requires_grad=True)
        _, vj = lib.autograd.functional.vjp(lambda t: t.tanh() * t, x, lib.tensor(V),
                                            create_graph=True)
        results.append(lib.autograd.grad(vj.sum(), x)[0].numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_strict_mode_and_argument_errors_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda F, lib: F.vjp(lambda x, y: x * 2, tensors(lib, A, B), lib.tensor(V), strict=True),
        lambda F, lib: F.jacobian(lambda x, y: x * 2, tensors(lib, A, B), strict=True),
        lambda F, lib: F.hessian(lambda x: x.sum(), lib.tensor(A), strict=True),
        lambda F, lib: F.vjp(lambda x: x * 2, lib.tensor(A)),
        lambda F, lib: F.hvp(lambda x: x * 2, lib.tensor(A), lib.tensor(A)),
        lambda F, lib: F.vjp(lambda x: x * 2, lib.tensor(A), lib.tensor(B[:2])),
        lambda F, lib: F.jacobian(lambda x: x, lib.tensor(A), strategy="forward-mode"),
        lambda F, lib: F.jacobian(lambda x: x, lib.tensor(A), strict=True, vectorize=True),
        lambda F, lib: F.vjp(lambda x: x, [1.0]),
    ]
    for i, case in enumerate(cases):
        errors = []
        for lib in (tn, torch):
            with pytest.raises(Exception) as info:
                case(lib.autograd.functional, lib)
            errors.append(info.value)
        ours, theirs = errors
        assert type(ours) is type(theirs), f"case {i}: {ours!r} vs {theirs!r}"
        # PyTorch's wording (up to the shapes, which tinynet prints as tuples)
        assert str(ours)[:30] == str(theirs)[:30], f"case {i}: {ours} vs {theirs}"


def test_strict_mode_errors_without_torch():
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda x, y: x * 2, (tn.tensor(A), tn.tensor(B)), strict=True)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function"):
        AF.hessian(lambda x: x.sum(), tn.tensor(A), strict=True)
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        AF.vjp(lambda x: x * 2, tn.tensor(A))
    # PyTorch asserts here (AssertionError); a bad argument value is a ValueError in tinynet
    with pytest.raises(ValueError, match="Expected strategy to be either"):
        AF.jacobian(lambda x: x, tn.tensor(A), strategy="sideways")
