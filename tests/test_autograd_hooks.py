"""Tensor hooks and retain_grad: the same programs run on tinynet and PyTorch give the same
gradients, hook calls, .grad contents and errors."""

import numpy as np
import pytest

import tinynet as tn


def run_both(program):
    """program(lib, calls) -> list of arrays; run on both libraries, compare, return ours."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tn, torch):
        calls = []
        out = program(lib, calls)
        results.append(([np.asarray(a.detach().numpy() if hasattr(a, "detach") else a)
                         for a in out], [np.asarray(c) for c in calls]))
    (ours, our_calls), (theirs, their_calls) = results
    assert len(ours) == len(theirs) and len(our_calls) == len(their_calls)
    for a, b in zip(ours + our_calls, theirs + their_calls):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    return ours


def test_a_hook_on_a_non_leaf_sees_and_replaces_its_gradient():
    def program(lib, calls):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x * x
        y.register_hook(lambda g: calls.append(g.detach().numpy().copy()))
        y.register_hook(lambda g: g * 10)
        (y * lib.tensor([1.0, -1.0, 2.0], dtype=lib.float64)).sum().backward()
        return [x.grad]
    run_both(program)


def test_a_leaf_hook_changes_what_backward_and_grad_give():
    def program(lib, calls):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        handle = x.register_hook(lambda g: g + 1)
        (x * x).sum().backward()
        first = x.grad.clone()
        (found,) = lib.autograd.grad((x * x).sum(), x)
        handle.remove()
        (x * x).sum().backward()  # no hook now: adds 2x to the 2x + 1 there
        return [first, found, x.grad]
    run_both(program)


def test_retain_grad_keeps_and_adds_up_a_non_leaf_gradient_after_other_hooks():
    def program(lib, calls):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)  # registered later, runs before retain_grad's
        z = y * y
        z.sum().backward(retain_graph=True)
        first = y.grad.clone()
        z.sum().backward()
        calls.append([y.retains_grad, x.retains_grad, y.is_leaf])
        return [first, y.grad, x.grad]
    run_both(program)


def test_a_tensor_used_twice_calls_its_hook_once_with_the_summed_gradient():
    def program(lib, calls):
        x = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        y = x.exp()
        y.register_hook(lambda g: calls.append(g.detach().numpy().copy()))
        (y * 2 + y * y).sum().backward()
        return [x.grad]
    run_both(program)


def test_hooks_take_part_in_double_backward():
    def program(lib, calls):
        x = lib.tensor([0.3, 0.7], dtype=lib.float64, requires_grad=True)
        y = x ** 3
        y.register_hook(lambda g: g * x)  # a hook that is itself a function of x
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return [g, gg]
    run_both(program)


def test_hook_errors_are_pytorchs():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                               "require gradient"):
            lib.ones(2).register_hook(lambda g: g)
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                               "requires_grad=False"):
            lib.ones(2).retain_grad()
    x = tn.ones(2, requires_grad=True)
    y = x * 1
    y.register_hook(lambda g: tn.ones(3))
    with pytest.raises(RuntimeError, match="hook: a hook returned a gradient of shape \\(3,\\) for "
                                           "one of shape \\(2,\\)"):
        y.sum().backward()


def test_a_handle_removes_its_hook_in_a_with_block():
    x = tn.ones(2, requires_grad=True)
    calls = []
    with x.register_hook(lambda g: calls.append(1)):
        (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert calls == [1]


def test_grad_runs_the_hooks_of_the_inputs_asked_for_only():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        w.register_hook(lambda g, seen=calls: seen.append("w"))
        x.register_hook(lambda g, seen=calls: seen.append("x"))
        lib.autograd.grad((x * w).sum(), x)
        assert calls == ["x"]


def test_retain_grad_follows_an_in_place_change_to_the_new_value():
    def program(lib, calls):
        x = lib.tensor([0.5, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y ** 2).sum().backward()
        calls.append([y.retains_grad])
        return [y.grad, x.grad]
    run_both(program)


@pytest.mark.parametrize("same_shape", [
    lambda x: x.view(2, 3), lambda x: x.reshape(2, 3), lambda x: x.view_as(x),
    lambda x: x.squeeze(), lambda x: x.squeeze(0), lambda x: x.expand(2, 3),
    lambda x: x.expand_as(x), lambda x: x.unflatten(1, (3,)), lambda x: x.reshape(3, 2)], ids=[
    "view", "reshape", "view_as", "squeeze", "squeeze_dim", "expand", "expand_as", "unflatten",
    "another_shape"])
def test_a_view_in_the_same_shape_is_a_new_tensor_whose_hooks_stay_its_own(same_shape):
    """Its retained gradient is its own copy too: the leaf's .grad, a view of the same
    gradient, takes the second backward in place."""
    def program(lib, calls):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        y = same_shape(x)
        assert y is not x and not y.is_leaf and y.grad_fn is not None
        y.register_hook(lambda g: g * 3)  # on y's gradient only, not on x's other uses
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        x.sum().backward()
        with lib.no_grad():
            y.add_(1)  # a view: the write reaches x
        return [x.grad, y.grad, x.detach()]
    run_both(program)


def test_flatten_with_nothing_to_merge_hands_back_the_tensor_itself():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        x = lib.ones(2, 3, requires_grad=True)
        assert x.flatten(1) is x and x.flatten(0, 0) is x and x.flatten() is not x
