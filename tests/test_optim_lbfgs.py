"""tinynet.optim.LBFGS: convergence on Rosenbrock and on convex quadratics, iterates against
PyTorch's (optional), the closure and parameter-group errors, and state_dict round trips.

Problems are float64 and split over parameters of several shapes, so the flattening into one
vector is exercised too.
"""

from __future__ import annotations

import copy

import numpy
import pytest

import tinynet as tn
from tinynet import optim

LINE_SEARCHES = [None, "strong_wolfe"]
QUADRATIC_SHAPES = [(3, 2), (4,)]
QUADRATIC_SIZE = 10


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def quadratic_problem(seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """A random symmetric positive definite A (condition number ~ 100) and b: the loss
    ½ zᵀAz - bᵀz has its minimum at z = A⁻¹b."""
    rng = numpy.random.default_rng(seed)
    q, _ = numpy.linalg.qr(rng.standard_normal((QUADRATIC_SIZE, QUADRATIC_SIZE)))
    a = q @ numpy.diag(numpy.logspace(0, 2, QUADRATIC_SIZE)) @ q.T
    return (a + a.T) / 2, rng.standard_normal(QUADRATIC_SIZE)


def quadratic(params, a, b, lib):
    z = lib.cat([p.reshape(-1) for p in params])
    return 0.5 * (z * (a @ z)).sum() - (b * z).sum()


def quadratic_start(seed: int = 1) -> list[numpy.ndarray]:
    rng = numpy.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in QUADRATIC_SHAPES]


def make_closure(optimizer, loss_fn):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


def quadratic_run(start, a, b, steps, **settings):
    """tinynet's parameters after each step, on the quadratic."""
    params = [tn.tensor(x, dtype=tn.float64, requires_grad=True) for x in start]
    optimizer = optim.LBFGS(params, **settings)
    a_t, b_t = tn.tensor(a), tn.tensor(b)
    closure = make_closure(optimizer, lambda: quadratic(params, a_t, b_t, tn))
    history = []
    for _ in range(steps):
        optimizer.step(closure)
        history.append(numpy.concatenate([p.detach().numpy().reshape(-1) for p in params]))
    return history


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
def test_converges_to_the_minimum_of_rosenbrock(line_search_fn):
    w = tn.tensor([-1.2, 1.0], dtype=tn.float64, requires_grad=True)
    optimizer = optim.LBFGS([w], tolerance_grad=1e-12, tolerance_change=1e-15,
                            line_search_fn=line_search_fn)
    closure = make_closure(optimizer, lambda: rosenbrock(w))
    for _ in range(10):
        optimizer.step(closure)
    numpy.testing.assert_allclose(w.detach().numpy(), [1.0, 1.0], atol=1e-7)
    assert rosenbrock(w).item() < 1e-14


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_converges_to_the_minimum_of_a_convex_quadratic(line_search_fn, seed):
    a, b = quadratic_problem(seed)
    last = quadratic_run(quadratic_start(seed + 10), a, b, steps=3, tolerance_grad=1e-12,
                         tolerance_change=1e-15, line_search_fn=line_search_fn)[-1]
    numpy.testing.assert_allclose(last, numpy.linalg.solve(a, b), atol=1e-8)


def test_the_first_step_returns_the_first_loss_and_counts_evaluations():
    w = tn.tensor([-1.2, 1.0], dtype=tn.float64, requires_grad=True)
    optimizer = optim.LBFGS([w], max_iter=5)
    calls = []
    closure = make_closure(optimizer, lambda: calls.append(1) or rosenbrock(w))
    loss = optimizer.step(closure)
    assert loss.item() == pytest.approx(24.2)  # the loss at the starting point
    assert len(calls) == optimizer.state[w]["func_evals"] == 5  # none after the last iteration
    assert optimizer.state[w]["n_iter"] == 5


def test_a_stationary_start_makes_no_step():
    w = tn.tensor([1.0, 1.0], dtype=tn.float64, requires_grad=True)
    optimizer = optim.LBFGS([w])
    optimizer.step(make_closure(optimizer, lambda: rosenbrock(w)))
    numpy.testing.assert_array_equal(w.detach().numpy(), [1.0, 1.0])
    assert optimizer.state[w] == {"func_evals": 1, "n_iter": 0}


def test_gradients_are_never_written_in_place():
    w = tn.tensor([-1.2, 1.0], dtype=tn.float64, requires_grad=True)
    optimizer = optim.LBFGS([w], max_iter=3)
    grads = []

    def closure():
        optimizer.zero_grad()
        loss = rosenbrock(w)
        loss.backward()
        grads.append((w.grad, w.grad.detach().numpy().copy()))
        return loss

    optimizer.step(closure)
    for grad, value in grads:
        numpy.testing.assert_array_equal(grad.detach().numpy(), value)


@pytest.mark.parametrize("closure", [None, 1.5])
def test_step_without_a_closure_raises(closure):
    w = tn.tensor([1.0, 2.0], requires_grad=True)
    optimizer = optim.LBFGS([w])
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        optimizer.step(closure)
    with pytest.raises(TypeError, match="LBFGS.step needs a closure"):
        optimizer.step()


def test_more_than_one_parameter_group_raises():
    a, b = tn.zeros(2, requires_grad=True), tn.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    optimizer = optim.LBFGS([{"params": [a], "lr": 0.5}])  # one group is fine
    assert optimizer.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match="parameter groups"):
        optimizer.add_param_group({"params": [b]})


@pytest.mark.parametrize("settings, message", [
    (dict(lr=-1.0), "lr"), (dict(max_iter=0), "max_iter"), (dict(history_size=0), "history_size"),
    (dict(tolerance_grad=-1.0), "tolerance_grad"), (dict(line_search_fn="armijo"), "line_search_fn"),
])
def test_invalid_settings_raise(settings, message):
    with pytest.raises(ValueError, match=message):
        optim.LBFGS([tn.zeros(2, requires_grad=True)], **settings)


def test_default_max_eval_is_five_quarters_of_max_iter():
    optimizer = optim.LBFGS([tn.zeros(2, requires_grad=True)], max_iter=8)
    assert optimizer.param_groups[0]["max_eval"] == 10


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
def test_state_dict_round_trip_continues_identically(line_search_fn):
    a, b = quadratic_problem(3)
    start = quadratic_start(4)
    settings = dict(max_iter=4, history_size=3, line_search_fn=line_search_fn)
    straight = quadratic_run(start, a, b, steps=4, **settings)

    params = [tn.tensor(x, dtype=tn.float64, requires_grad=True) for x in start]
    optimizer = optim.LBFGS(params, **settings)
    a_t, b_t = tn.tensor(a), tn.tensor(b)
    optimizer.step(make_closure(optimizer, lambda: quadratic(params, a_t, b_t, tn)))
    optimizer.step(make_closure(optimizer, lambda: quadratic(params, a_t, b_t, tn)))
    saved = copy.deepcopy(optimizer.state_dict())
    assert len(saved["state"][0]["old_dirs"]) == 3  # the history is full and saved

    resumed_params = [tn.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    resumed = optim.LBFGS(resumed_params, max_iter=20)  # settings come from the state dict
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["max_iter"] == 4
    closure = make_closure(resumed, lambda: quadratic(resumed_params, a_t, b_t, tn))
    for expected in straight[2:]:
        resumed.step(closure)
        got = numpy.concatenate([p.detach().numpy().reshape(-1) for p in resumed_params])
        numpy.testing.assert_array_equal(got, expected)


# ----------------------------------------------------------------- against PyTorch (optional)
def torch_iterates(torch, start, loss_fn, steps, **settings):
    params = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    optimizer = torch.optim.LBFGS(params, **settings)
    closure = make_closure(optimizer, lambda: loss_fn(params))
    history = []
    for _ in range(steps):
        optimizer.step(closure)
        history.append(numpy.concatenate([p.detach().numpy().reshape(-1) for p in params]))
    return history, optimizer.state[params[0]]["func_evals"]


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
@pytest.mark.parametrize("history_size", [2, 100])
def test_quadratic_iterates_match_pytorch(line_search_fn, history_size):
    torch = pytest.importorskip("torch")
    a, b = quadratic_problem(5)
    start = quadratic_start(6)
    settings = dict(max_iter=5, history_size=history_size, line_search_fn=line_search_fn)
    ours = quadratic_run(start, a, b, steps=4, **settings)
    a_t, b_t = torch.tensor(a), torch.tensor(b)
    theirs, _ = torch_iterates(torch, start, lambda ps: quadratic(ps, a_t, b_t, torch), 4, **settings)
    numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)


@pytest.mark.parametrize("line_search_fn", LINE_SEARCHES)
def test_rosenbrock_iterates_match_pytorch(line_search_fn):
    torch = pytest.importorskip("torch")
    w = tn.tensor([-1.2, 1.0], dtype=tn.float64, requires_grad=True)
    optimizer = optim.LBFGS([w], line_search_fn=line_search_fn)
    closure = make_closure(optimizer, lambda: rosenbrock(w))
    ours = []
    for _ in range(6):
        optimizer.step(closure)
        ours.append(w.detach().numpy().copy())
    theirs, func_evals = torch_iterates(torch, [numpy.array([-1.2, 1.0])],
                                        lambda ps: rosenbrock(ps[0]), 6, line_search_fn=line_search_fn)
    numpy.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)
    assert optimizer.state[w]["func_evals"] == func_evals


def test_loaded_history_takes_the_parameters_dtype():
    w = tn.tensor([-1.2, 1.0], dtype=tn.float64, requires_grad=True)
    optimizer = optim.LBFGS([w], max_iter=3)
    optimizer.step(make_closure(optimizer, lambda: rosenbrock(w)))
    saved = copy.deepcopy(optimizer.state_dict())
    saved["state"][0]["old_dirs"] = [y.detach().numpy().astype(numpy.float32)
                                     for y in saved["state"][0]["old_dirs"]]
    optimizer.load_state_dict(saved)
    assert saved["state"][0]["old_dirs"]
    assert all(isinstance(y, tn.Tensor) and y.dtype == numpy.float64
               for y in optimizer.state[w]["old_dirs"])
