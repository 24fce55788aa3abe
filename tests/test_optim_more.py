"""tinynet.optim's Adamax, NAdam, RAdam, Rprop and ASGD: each against its update written out here
in NumPy, against torch.optim (two parameter groups, every option, the state too), their argument
checks, state_dict round trips, skipped parameters and a learning-rate scheduler.

Gradients are set by hand so each test checks the update rule alone; parameters are float64.
Both libraries keep the step count, NAdam's ``mu_product`` and ASGD's ``eta`` and ``mu`` in 0-d
tensors of the default dtype (float32 unless changed): the NumPy references round those scalars
to float32, and the comparisons with PyTorch run both with float64 as the default dtype, so they
agree to rounding.
"""

from __future__ import annotations

import contextlib
import copy
import inspect

import numpy
import pytest

import tinynet as tn
import tinynet.nn as nn
from tinynet import backend, optim
from optim_cases import SHAPES, check_against, make_params, run, train_steps
from optim_cases import gradient_sequence as draw_gradients
from tinynet.optim.lr_scheduler import StepLR

STEPS = 8  # RAdam's rectified update starts at step 6 (ρₜ > 5): both regimes run


def gradient_sequence(seed: int = 1) -> list:
    return draw_gradients(seed, STEPS)
NAMES = ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD"]
FLAGS = ("foreach", "capturable", "differentiable", "fused")


def sign_pattern_gradients(seed: int = 2, steps: int = 12) -> list[list[numpy.ndarray]]:
    """For Rprop: some coordinates keep their sign (their step size grows to the upper bound),
    others alternate (it shrinks to the lower bound), some are random, and some gradients are
    exactly 0 (the factor-1 case)."""
    rng = numpy.random.default_rng(seed)
    base = [rng.standard_normal(shape) for shape in SHAPES]
    kind = [rng.integers(0, 3, shape) for shape in SHAPES]  # 0 keep, 1 alternate, 2 random
    sequence = []
    for step in range(steps):
        grads = []
        for b, k in zip(base, kind):
            sign = numpy.where(k == 0, 1.0, numpy.where(k == 1, (-1.0) ** step,
                                                         numpy.sign(rng.standard_normal(b.shape))))
            g = numpy.abs(b) * (0.5 + rng.random(b.shape)) * numpy.sign(b) * sign
            if step in (3, 7):
                g.reshape(-1)[0] = 0.0
            grads.append(g)
        sequence.append(grads)
    return sequence


# ---------------------------------------------------------------------------- the formulas
def adamax_reference(p, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     maximize=False):
    """Adam's first moment over an exponentially weighted infinity norm of the gradients.
    A None gradient skips the step and does not advance this parameter's step count."""
    beta1, beta2 = betas
    p, m, u, t, history = p.copy(), 0.0, 0.0, 0, []
    for g in grads:
        if g is not None:
            t += 1
            g = (-g if maximize else g) + weight_decay * p
            m = beta1 * m + (1 - beta1) * g
            u = numpy.maximum(beta2 * u, numpy.abs(g) + eps)
            p = p - lr / (1 - beta1 ** t) * m / u
        history.append(p)
    return history


def weight_decayed(p, g, lr, weight_decay, decoupled):
    """Decoupled (AdamW's): the parameter shrinks; else L2: the decay joins the gradient."""
    return (p * (1 - lr * weight_decay), g) if decoupled else (p, g + weight_decay * p)


def nadam_reference(p, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    """Dozat's Nesterov-accelerated Adam with PyTorch's momentum schedule μₜ."""
    beta1, beta2 = betas
    p, m, v, product, t, history = p.copy(), 0.0, 0.0, 1.0, 0, []
    for g in grads:
        if g is not None:
            t += 1
            g = -g if maximize else g
            p, g = weight_decayed(p, g, lr, weight_decay, decoupled_weight_decay)
            mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
            mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
            product = float(numpy.float32(product) * numpy.float32(mu))  # a float32 tensor in both
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu) * g / (1 - product)
            p = p - lr * m_hat / (numpy.sqrt(v / (1 - beta2 ** t)) + eps)
        history.append(p)
    return history


def radam_reference(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    decoupled_weight_decay=False, maximize=False):
    """Liu et al.: Adam's adaptive rate, rectified once the variance estimate is tractable
    (ρₜ > 5); before that, SGD with bias-corrected momentum."""
    beta1, beta2 = betas
    rho_inf = 2 / (1 - beta2) - 1
    p, m, v, t, history = p.copy(), 0.0, 0.0, 0, []
    for g in grads:
        if g is not None:
            t += 1
            g = -g if maximize else g
            p, g = weight_decayed(p, g, lr, weight_decay, decoupled_weight_decay)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat = m / (1 - beta1 ** t)
            rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
            if rho > 5:
                r = numpy.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
                p = p - lr * m_hat * r * numpy.sqrt(1 - beta2 ** t) / (numpy.sqrt(v) + eps)
            else:
                p = p - lr * m_hat
        history.append(p)
    return history


def rprop_reference(p, grads, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False,
                    sizes=None):
    """Riedmiller & Braun: per-coordinate step sizes grow while the gradient keeps its sign,
    shrink (and skip that coordinate once) when it flips; steps move by the sign alone."""
    eta_minus, eta_plus = etas
    p, size, prev, history = p.copy(), numpy.full(p.shape, float(lr)), numpy.zeros(p.shape), []
    for g in grads:
        if g is not None:
            g = -g if maximize else g
            product = g * prev
            factor = numpy.where(product > 0, eta_plus, numpy.where(product < 0, eta_minus, 1.0))
            size = numpy.clip(size * factor, *step_sizes)
            g = numpy.where(product < 0, 0.0, g)
            p = p - numpy.sign(g) * size
            prev = g
        if sizes is not None:
            sizes.append(size)
        history.append(p)
    return history


def float32(x):
    """``x`` rounded to float32, as a Python float."""
    return float(numpy.float32(x))


def asgd_reference(p, grads, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                   maximize=False, averages=None):
    """Polyak averaging: SGD with a decaying rate η, and the running average of the iterates
    from step t0 on (before it, the 'average' is the last iterate)."""
    p, ax, eta, mu, t, history = p.copy(), numpy.zeros(p.shape), float32(lr), 1.0, 0, []
    for g in grads:
        if g is not None:
            t += 1
            g = (-g if maximize else g) + weight_decay * p
            p = p * (1 - lambd * eta) - eta * g
            ax = p.copy() if mu == 1 else ax + mu * (p - ax)
            eta = float32(lr / (1 + lambd * lr * t) ** alpha)  # kept in float32 tensors
            mu = float32(1 / max(1, t - t0))
        if averages is not None:
            averages.append(ax)
        history.append(p)
    return history


FORMULAS = {
    "Adamax": (adamax_reference, [
        dict(), dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3), dict(lr=0.05, weight_decay=0.1),
        dict(lr=0.05, betas=(0.3, 0.9)),  # 1 - β1 >= 0.5: torch.lerp's other rounding branch
        dict(lr=0.05, maximize=True, weight_decay=0.05)]),
    "NAdam": (nadam_reference, [
        dict(), dict(lr=0.05, betas=(0.8, 0.9), momentum_decay=0.3, eps=1e-4),
        dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
        dict(lr=0.05, maximize=True, weight_decay=0.2, decoupled_weight_decay=True)]),
    "RAdam": (radam_reference, [
        dict(), dict(lr=0.05, betas=(0.8, 0.9), eps=1e-4), dict(lr=0.05, weight_decay=0.1),
        dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True),
        dict(lr=0.05, betas=(0.7, 0.9), maximize=True)]),
    "Rprop": (rprop_reference, [
        dict(), dict(lr=0.1, etas=(0.3, 1.5)), dict(lr=0.1, step_sizes=(0.03, 0.2)),
        dict(lr=0.3, step_sizes=(0.01, 0.2), maximize=True)]),
    "ASGD": (asgd_reference, [
        dict(), dict(lr=0.1, lambd=0.1, alpha=0.5), dict(lr=0.1, t0=3),
        dict(lr=0.1, t0=2, lambd=0.05, weight_decay=0.1), dict(lr=0.1, t0=4, maximize=True)]),
}
FORMULA_CASES = [(name, settings) for name, (_, all_settings) in FORMULAS.items()
                 for settings in all_settings]


def settings_id(case):
    name, settings = case
    return name + ":" + (",".join(f"{k}={v}" for k, v in settings.items()) or "defaults")


def formula_gradients(name):
    return sign_pattern_gradients() if name == "Rprop" else gradient_sequence()


@pytest.mark.parametrize("case", FORMULA_CASES, ids=settings_id)
def test_new_optimizers_follow_their_formulas(case):
    name, settings = case
    grads = formula_gradients(name)
    check_against(run(lambda ps: getattr(optim, name)(ps, **settings), grads), FORMULAS[name][0],
                  grads, **settings)


@pytest.mark.parametrize("name", NAMES)
def test_a_parameter_without_a_gradient_is_skipped(name):
    """No step, no state, and its step count stays put; the others go on (the references skip
    a None gradient the same way)."""
    reference, all_settings = FORMULAS[name]
    settings = all_settings[-1]
    grads = formula_gradients(name)
    grads[1][0] = None
    grads[2][2] = None
    grads[3][0] = None
    check_against(run(lambda ps: getattr(optim, name)(ps, **settings), grads), reference, grads,
                  **settings)
    params = make_params()
    optimizer = getattr(optim, name)(params, **settings)
    params[0].grad = tn.ones(params[0].shape, dtype=tn.float64)
    before = [p.detach().numpy().copy() for p in params]
    optimizer.step()
    assert list(optimizer.state) == [params[0]]
    assert not numpy.array_equal(params[0].detach().numpy(), before[0])
    for p, b in zip(params[1:], before[1:]):
        numpy.testing.assert_array_equal(p.detach().numpy(), b)


def test_radam_runs_both_of_its_regimes():
    """The formula tests above see the unrectified steps (ρₜ <= 5) and the rectified ones."""
    for beta2 in (0.999, 0.9):
        rho_inf = 2 / (1 - beta2) - 1
        rhos = [rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t) for t in range(1, STEPS + 1)]
        assert min(rhos) <= 5 < max(rhos)


def test_rprop_reaches_both_step_size_bounds():
    """The sign pattern drives step sizes to both ends of step_sizes, and the state shows it."""
    grads = sign_pattern_gradients()
    low, high = 0.03, 0.2
    seen = []
    run(lambda ps: optim.Rprop(ps, lr=0.1, step_sizes=(low, high)), grads,
        after_step=lambda o: seen.append([s["step_size"].numpy().copy() for s in o.state.values()]))
    sizes = numpy.concatenate([a.reshape(-1) for step in seen for a in step])
    assert sizes.min() == low and sizes.max() == high
    expected: list = []
    rprop_reference(make_params()[0].detach().numpy(), [g[0] for g in grads], lr=0.1,
                    step_sizes=(low, high), sizes=expected)
    for step, ours in enumerate(seen):
        numpy.testing.assert_allclose(ours[0], expected[step], rtol=1e-12, err_msg=f"step {step + 1}")


def test_asgd_averages_after_t0():
    """``ax`` is the last iterate through step t0 + 2 (μ = 1 / max(1, t - t0) is 1 until then),
    and from there on the plain mean of the iterates since step t0 + 2."""
    grads = gradient_sequence()
    t0 = 3
    averages_seen = []
    history = run(lambda ps: optim.ASGD(ps, lr=0.1, t0=t0), grads,
                  after_step=lambda o: averages_seen.append(
                      [s["ax"].numpy().copy() for s in o.state.values()]))
    expected: list = []
    asgd_reference(make_params()[0].detach().numpy(), [g[0] for g in grads], lr=0.1, t0=t0,
                   averages=expected)
    for step, ours in enumerate(averages_seen):
        numpy.testing.assert_allclose(ours[0], expected[step], rtol=1e-12, atol=1e-14)
    for step in range(t0 + 2):  # history[k] holds the iterate of step k + 1
        numpy.testing.assert_array_equal(averages_seen[step][0], history[step][0])
    for step in range(t0 + 2, STEPS):  # μ is kept in float32: a mean to float32's precision
        mean = numpy.mean([history[k][0] for k in range(t0 + 1, step + 1)], axis=0)
        numpy.testing.assert_allclose(averages_seen[step][0], mean, rtol=1e-6)


# ---------------------------------------------------------------------------- against PyTorch
@contextlib.contextmanager
def torch_float64(torch):
    """Both libraries' optimizer scalars (the step, NAdam's mu_product, ASGD's eta and mu) in
    float64."""
    old, ours = torch.get_default_dtype(), tn.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    tn.set_default_dtype(tn.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)
        tn.set_default_dtype(ours)


def grouped(lib, params, name, base, override):
    """Two parameter groups: the first two parameters with the constructor's settings, the
    third with ``override`` on top."""
    return getattr(lib.optim, name)([{"params": params[:2]}, {"params": params[2:], **override}],
                                    **base)


def torch_params(torch):
    return [torch.tensor(p.detach().numpy(), requires_grad=True) for p in make_params()]


def step_both(torch, ours, theirs, ours_params, theirs_params, grads, ours_scheduler=None,
              theirs_scheduler=None):
    for step, step_grads in enumerate(grads):
        for p, q, g in zip(ours_params, theirs_params, step_grads):
            p.grad = None if g is None else tn.tensor(g)
            q.grad = None if g is None else torch.tensor(g)
        ours.step()
        theirs.step()
        if ours_scheduler is not None:
            ours_scheduler.step()
            theirs_scheduler.step()
        for i, (p, q) in enumerate(zip(ours_params, theirs_params)):
            numpy.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12,
                                          atol=1e-14, err_msg=f"parameter {i}, step {step + 1}")


def assert_same_state(torch, ours, theirs):
    """Same parameters with state, same keys, same values (torch's scalars are 0-d tensors)."""
    ours_state, theirs_state = ours.state_dict()["state"], theirs.state_dict()["state"]
    assert sorted(ours_state) == sorted(theirs_state)
    for index, state in theirs_state.items():
        assert set(ours_state[index]) == set(state), index
        for key, value in state.items():
            mine = ours_state[index][key]
            if isinstance(mine, tn.Tensor):
                assert mine.dtype == tn.float64 and tuple(mine.shape) == tuple(value.shape), key
                numpy.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-12, atol=1e-14,
                                              err_msg=f"state {index} {key}")
            else:
                assert isinstance(mine, (int, float)), (key, type(mine))
                assert mine == pytest.approx(value.item(), rel=1e-12), f"state {index} {key}"
    assert all(isinstance(s["step"], tn.Tensor) and s["step"].ndim == 0 for s in ours_state.values())


TORCH_CASES = [
    ("Adamax", dict(lr=0.05, weight_decay=0.1), dict(lr=0.02, betas=(0.8, 0.9), maximize=True)),
    ("Adamax", dict(lr=0.05, eps=1e-2, maximize=True), dict(weight_decay=0.3)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1), dict(decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True, momentum_decay=0.1),
     dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.0)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1), dict(decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.2, decoupled_weight_decay=True),
     dict(betas=(0.8, 0.999), eps=1e-3)),
    ("Rprop", dict(lr=0.1, step_sizes=(0.03, 0.2)), dict(etas=(0.3, 1.5), maximize=True)),
    ("Rprop", dict(lr=0.3, etas=(0.4, 1.3), step_sizes=(0.01, 0.2), maximize=True),
     dict(lr=0.05, step_sizes=(1e-3, 0.08))),
    ("ASGD", dict(lr=0.1, t0=3, lambd=0.05, weight_decay=0.1), dict(t0=1, alpha=0.5, maximize=True)),
    ("ASGD", dict(lr=0.1, t0=2, maximize=True), dict(lr=0.03, lambd=0.2, weight_decay=0.05)),
]


@pytest.mark.parametrize("case", TORCH_CASES,
                         ids=lambda c: f"{c[0]}:{','.join(c[1])}|{','.join(c[2])}")
def test_new_optimizers_match_pytorch_with_two_groups(case):
    torch = pytest.importorskip("torch")
    name, base, override = case
    grads = formula_gradients(name)
    grads[2][1] = None  # a parameter skips a step
    with torch_float64(torch):
        ours_params, theirs_params = make_params(), torch_params(torch)
        ours = grouped(tn, ours_params, name, base, override)
        theirs = grouped(torch, theirs_params, name, base, override)
        step_both(torch, ours, theirs, ours_params, theirs_params, grads)
        assert_same_state(torch, ours, theirs)
    assert ours.param_groups[1]["lr"] == theirs.param_groups[1]["lr"]


@pytest.mark.parametrize("name", NAMES)
def test_signatures_defaults_and_state_keys_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours_sig = inspect.signature(getattr(optim, name).__init__)
    theirs_sig = inspect.signature(getattr(torch.optim, name).__init__)
    assert [(p.name, p.kind, p.default) for p in ours_sig.parameters.values()] == \
           [(p.name, p.kind, p.default) for p in theirs_sig.parameters.values()]
    ours = getattr(optim, name)(make_params()[:1])
    theirs = getattr(torch.optim, name)([torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)])
    for key, value in theirs.defaults.items():
        if key not in FLAGS or key == "foreach":
            assert ours.defaults[key] == value, f"{name}.{key}"
    ours.param_groups[0]["params"][0].grad = tn.ones(3, 2, dtype=tn.float64)
    theirs.param_groups[0]["params"][0].grad = torch.ones(3, 2, dtype=torch.float64)
    ours.step()
    theirs.step()
    assert set(ours.state_dict()["state"][0]) == set(theirs.state_dict()["state"][0])
    assert ours.state_dict()["state"][0]["step"] == 1


# ---------------------------------------------------------------------------- arguments
BAD_ARGUMENTS = [
    ("Adamax", dict(lr=-1.0), "lr"), ("Adamax", dict(eps=-1e-8), "eps"),
    ("Adamax", dict(betas=(1.0, 0.9)), "betas"), ("Adamax", dict(betas=(0.9, -0.1)), "betas"),
    ("Adamax", dict(weight_decay=-0.1), "weight_decay"),
    ("NAdam", dict(lr=-1.0), "lr"), ("NAdam", dict(eps=-1.0), "eps"),
    ("NAdam", dict(betas=(0.9, 1.0)), "betas"), ("NAdam", dict(weight_decay=-1.0), "weight_decay"),
    ("NAdam", dict(momentum_decay=-0.1), "momentum_decay"),
    ("RAdam", dict(lr=-1.0), "lr"), ("RAdam", dict(eps=-1.0), "eps"),
    ("RAdam", dict(betas=(-0.5, 0.9)), "betas"), ("RAdam", dict(weight_decay=-1.0), "weight_decay"),
    ("Rprop", dict(lr=-1.0), "lr"), ("Rprop", dict(etas=(1.5, 2.0)), "etas"),
    ("Rprop", dict(etas=(0.5, 0.9)), "etas"), ("Rprop", dict(etas=(0.0, 1.2)), "etas"),
    ("ASGD", dict(lr=-1.0), "lr"), ("ASGD", dict(weight_decay=-1.0), "weight_decay"),
    ("ASGD", dict(lr=float("nan")), "lr"),
]


@pytest.mark.parametrize("name, settings, argument", BAD_ARGUMENTS,
                         ids=[f"{n}:{a}={s[a]}" for n, s, a in BAD_ARGUMENTS])
def test_invalid_arguments_raise_as_in_pytorch(name, settings, argument):
    with pytest.raises(ValueError, match=f"^{name}: invalid {argument} "):
        getattr(optim, name)(make_params()[:1], **settings)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **settings)


@pytest.mark.parametrize("name", NAMES)
def test_parameter_groups_are_checked_too_and_implementation_flags(name):
    a, b = make_params()[:2]
    optimizer = getattr(optim, name)([a])
    with pytest.raises(ValueError, match=f"{name}: invalid lr"):
        optimizer.add_param_group({"params": [b], "lr": -0.5})
    for flag in ("capturable", "differentiable"):
        with pytest.raises(NotImplementedError, match=f"{name}: {flag}=True"):
            getattr(optim, name)([a], **{flag: True})
        getattr(optim, name)([a], **{flag: False})
    grads = formula_gradients(name)
    plain = run(lambda ps: getattr(optim, name)(ps, lr=0.05), grads)
    for foreach in (True, False):  # accepted, and it changes nothing
        numpy.testing.assert_array_equal(
            run(lambda ps, f=foreach: getattr(optim, name)(ps, lr=0.05, foreach=f), grads)[-1][0],
            plain[-1][0])


# ---------------------------------------------------------------------------- saving and resuming
def small_model(seed):
    tn.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)).double()


RESUME_FACTORIES = {
    "Adamax": lambda ps: optim.Adamax(ps, lr=0.05, weight_decay=0.01),
    "NAdam": lambda ps: optim.NAdam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "RAdam": lambda ps: optim.RAdam(ps, lr=0.05, betas=(0.9, 0.9)),
    "Rprop": lambda ps: optim.Rprop(ps, lr=0.05, step_sizes=(1e-3, 0.1)),
    "ASGD": lambda ps: optim.ASGD(ps, lr=0.05, t0=2, lambd=0.1),
}


@pytest.mark.parametrize("name", NAMES)
def test_resuming_from_a_saved_state_dict_matches_uninterrupted_training(name, tmp_path):
    factory = RESUME_FACTORIES[name]
    tn.manual_seed(3)
    batches = [(tn.randn(16, 2, dtype=tn.float64), tn.randn(16, 1, dtype=tn.float64))
               for _ in range(10)]
    model = small_model(0)
    optimizer = factory(model.parameters())
    train_steps(model, optimizer, batches[:5])
    saved_model = copy.deepcopy(model.state_dict())
    tn.save(optimizer.state_dict(), tmp_path / "optimizer.npz")
    train_steps(model, optimizer, batches[5:])

    resumed = small_model(1)
    resumed_optimizer = factory(resumed.parameters())
    resumed.load_state_dict(saved_model)
    resumed_optimizer.load_state_dict(tn.load(tmp_path / "optimizer.npz"))
    assert all(s["step"] == 5 for s in resumed_optimizer.state.values())
    train_steps(resumed, resumed_optimizer, batches[5:])
    for (key, a), b in zip(model.named_parameters(), resumed.parameters()):
        numpy.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=key)
    for p, q in zip(model.parameters(), resumed.parameters()):
        for key, value in optimizer.state[p].items():
            other = resumed_optimizer.state[q][key]
            if isinstance(value, tn.Tensor):
                numpy.testing.assert_array_equal(value.numpy(), other.numpy(), err_msg=key)
            else:
                assert type(value) is type(other) and value == other, key


# ---------------------------------------------------------------------------- hygiene
@pytest.mark.parametrize("name", NAMES)
def test_steps_update_in_place_bump_versions_and_never_touch_gradients(name):
    params = make_params()
    versions = [p._version for p in params]
    optimizer = getattr(optim, name)(params, lr=0.1, maximize=True)
    arrays = [p.array for p in params]
    for step in range(2):
        grads = [tn.tensor(numpy.full(p.shape, 0.5 - step)) for p in params]
        for p, g in zip(params, grads):
            p.grad = g
        kept = [backend.to_numpy(g.array).copy() for g in grads]
        optimizer.step()
        for g, k in zip(grads, kept):
            numpy.testing.assert_array_equal(backend.to_numpy(g.array), k)
    for p, array, version in zip(params, arrays, versions):
        assert p.array is array and p._version == version + 2
    for state in optimizer.state.values():
        assert all(v.grad_fn is None and not v.requires_grad
                   for v in state.values() if isinstance(v, tn.Tensor))


@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_keep_their_dtype(name):
    reference, all_settings = FORMULAS[name]
    settings = all_settings[-1]
    grads = formula_gradients(name)
    params = make_params(dtype=tn.float32)
    optimizer = getattr(optim, name)(params, **settings)
    history = run(lambda ps: optimizer, grads, params)
    assert all(h.dtype == numpy.float32 for h in history[-1])
    assert all(v.dtype == tn.float32 for s in optimizer.state.values() for v in s.values()
               if isinstance(v, tn.Tensor))
    expected = reference(make_params()[1].detach().numpy(), [g[1] for g in grads], **settings)
    numpy.testing.assert_allclose(history[-1][1], expected[-1], rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- with a scheduler
@pytest.mark.parametrize("name", NAMES)
def test_step_lr_drives_them_as_in_pytorch(name):
    """StepLR halves "lr" every two steps. ASGD's next eta follows the new rate; Rprop's step
    sizes start from the rate of a parameter's first step (here the third parameter's first
    step comes after a decay). Then the same against torch's StepLR on torch's optimizer."""
    base = {"ASGD": dict(lr=0.1, t0=3, lambd=0.5), "Rprop": dict(lr=0.1)}.get(name, dict(lr=0.05))
    grads = formula_gradients(name)
    grads[0][2] = grads[1][2] = None
    ours_params = make_params()
    ours = grouped(tn, ours_params, name, base, dict(lr=0.02))
    scheduler = StepLR(ours, step_size=2, gamma=0.5)
    lrs, etas = [], []
    for step, step_grads in enumerate(grads, start=1):
        for p, g in zip(ours_params, step_grads):
            p.grad = None if g is None else tn.tensor(g)
        ours.step()
        lrs.append([group["lr"] for group in ours.param_groups])
        if name == "ASGD":
            etas.append(float(ours.state[ours_params[0]]["eta"]))  # a tensor changed in place
        if name == "Rprop" and step == 3:  # its first step: sizes start at the decayed lr
            numpy.testing.assert_array_equal(ours.state[ours_params[2]]["step_size"].numpy(),
                                             numpy.full(SHAPES[2], 0.01))
        scheduler.step()
    numpy.testing.assert_allclose(lrs, [[base["lr"] * 0.5 ** (t // 2), 0.02 * 0.5 ** (t // 2)]
                                        for t in range(len(grads))], rtol=1e-12)
    if name == "ASGD":  # eta after step t is lr(t) / (1 + λ·lr(t)·t)^α, lr(t) the rate of step t
        for t, (eta, (lr, _)) in enumerate(zip(etas, lrs), start=1):
            assert eta == float32(lr / (1 + 0.5 * lr * t) ** 0.75)
    torch = pytest.importorskip("torch")
    with torch_float64(torch):
        ours_params, theirs_params = make_params(), torch_params(torch)
        ours = grouped(tn, ours_params, name, base, dict(lr=0.02))
        theirs = grouped(torch, theirs_params, name, base, dict(lr=0.02))
        step_both(torch, ours, theirs, ours_params, theirs_params, grads,
                  StepLR(ours, step_size=2, gamma=0.5),
                  torch.optim.lr_scheduler.StepLR(theirs, step_size=2, gamma=0.5))
        assert_same_state(torch, ours, theirs)


# ---------------------------------------------------------------------------- scalar state
COUNTING = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "ASGD", "RMSprop", "Adadelta",
            "Rprop"]


@pytest.mark.parametrize("name", COUNTING)
@pytest.mark.parametrize("default", [tn.float32, tn.float64])
def test_step_counts_are_0d_tensors_of_the_scalar_dtype_as_in_pytorch(name, default):
    """PyTorch keeps ``step`` (and NAdam's mu_product, ASGD's eta and mu) in 0-d tensors on the
    CPU, float64 when that is the default dtype, else float32, whatever the parameters' dtype:
    ``state["step"].item()`` works and the count prints as ``tensor(3.)``."""
    old = tn.get_default_dtype()
    tn.set_default_dtype(default)
    try:
        params = [nn.Parameter(tn.ones(3, dtype=tn.float64)), nn.Parameter(tn.ones(2, dtype=tn.float64))]
        optimizer = getattr(optim, name)(params, lr=0.1)
        for _ in range(3):
            for p in params:
                p.grad = tn.full(p.shape, 0.5, dtype=tn.float64)
            optimizer.step()
        for state in optimizer.state.values():
            for key in optimizer._scalar_state_keys:
                value = state[key]
                assert isinstance(value, tn.Tensor) and value.ndim == 0, key
                assert value.dtype == default and value.device == tn.device("cpu"), key
            assert state["step"].item() == 3.0 and repr(state["step"]) == "tensor(3.)"
    finally:
        tn.set_default_dtype(old)


def test_adam_counts_a_step_written_into_alone():
    """Adam steps a group through one array of counts; a count the caller writes into (or loads)
    is that parameter's own from then on, as with separate tensors."""
    params = [nn.Parameter(tn.ones(3)), nn.Parameter(tn.ones(2))]
    optimizer = optim.Adam(params)

    def step():
        for p in params:
            p.grad = tn.ones(p.shape)
        optimizer.step()

    step()
    step()
    optimizer.state[params[1]]["step"].array[...] = 10
    step()
    assert [optimizer.state[p]["step"].item() for p in params] == [3.0, 11.0]
    saved = optimizer.state_dict()
    saved["state"][0]["step"] = 7  # a count saved by an older tinynet: a plain number
    resumed = optim.Adam(params)
    resumed.load_state_dict(saved)
    assert isinstance(resumed.state[params[0]]["step"], tn.Tensor)
    for p in params:
        p.grad = tn.ones(p.shape)
    resumed.step()
    assert [resumed.state[p]["step"].item() for p in params] == [8.0, 12.0]
