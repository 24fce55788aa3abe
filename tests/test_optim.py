"""tinynet.optim: every optimizer against its update formula written out here, parameter groups,
state_dict round trips, and the learning-rate schedulers against their closed forms.

Gradients are set by hand (``p.grad = ...``) so each test checks the update rule alone; float64
parameters make the comparison tight. Optional checks against PyTorch run where it is installed.
"""

from __future__ import annotations

import copy
import gc
import math
import weakref

import numpy
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import backend, optim
from optim_cases import check_against, make_params, run, train_steps
from optim_cases import gradient_sequence as draw_gradients
from tinynet.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, StepLR

STEPS = 5


def gradient_sequence(seed: int = 1) -> list:
    return draw_gradients(seed, STEPS)


# ---------------------------------------------------------------------------- the formulas
def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    p, buf, history = p.copy(), None, []
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        history.append(p)
    return history


def adam_reference(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False, decoupled=False):
    """Kingma & Ba with bias correction; AdamW (decoupled) shrinks p instead of adding to g.
    A None gradient skips the step and does not advance this parameter's step count."""
    beta1, beta2 = betas
    p, m, v, v_max, t, history = p.copy(), 0.0, 0.0, 0.0, 0, []
    for g in grads:
        if g is not None:
            t += 1
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            v_max = numpy.maximum(v_max, v)
            m_hat = m / (1 - beta1 ** t)
            v_hat = (v_max if amsgrad else v) / (1 - beta2 ** t)
            p = p - lr * m_hat / (numpy.sqrt(v_hat) + eps)
        history.append(p)
    return history


SGD_SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
]


@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=lambda s: ",".join(s))
def test_sgd_follows_its_formula(settings):
    grads = gradient_sequence()
    check_against(run(lambda ps: optim.SGD(ps, **settings), grads), sgd_reference, grads, **settings)


ADAM_SETTINGS = [
    dict(),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.05, amsgrad=True),
]


@pytest.mark.parametrize("settings", ADAM_SETTINGS, ids=lambda s: ",".join(s) or "defaults")
def test_adam_follows_its_formula(settings):
    grads = gradient_sequence()
    check_against(run(lambda ps: optim.Adam(ps, **settings), grads), adam_reference, grads, **settings)


@pytest.mark.parametrize("settings", [dict(), dict(lr=0.01, weight_decay=0.3, amsgrad=True)],
                         ids=["defaults", "decay,amsgrad"])
def test_adamw_follows_its_formula(settings):
    grads = gradient_sequence()
    expected_settings = {"weight_decay": 1e-2, **settings, "decoupled": True}
    check_against(run(lambda ps: optim.AdamW(ps, **settings), grads), adam_reference, grads,
                  **expected_settings)


def test_adam_steps_parameters_without_gradients_as_pytorch_does():
    """A parameter with no gradient is skipped and its step count stays put; the others go on
    (this switches between the whole-group update and the per-parameter one)."""
    grads = gradient_sequence()
    grads[1][0] = None
    grads[2][2] = None
    grads[3][0] = None
    check_against(run(lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True), grads), adam_reference,
                  grads, lr=0.01, amsgrad=True)


def test_adam_on_float32_parameters():
    grads = gradient_sequence()
    params = make_params(dtype=tn.float32)
    history = run(lambda ps: optim.Adam(ps, lr=0.01), grads, params)
    initial = [p.detach().numpy() for p in make_params()]
    for i, p0 in enumerate(initial):
        expected = adam_reference(p0, [g[i] for g in grads], lr=0.01)[-1]
        numpy.testing.assert_allclose(history[-1][i], expected, rtol=1e-5, atol=1e-6)
    assert all(h.dtype == numpy.float32 for h in history[-1])


# ---------------------------------------------------------------------------- groups and hygiene
def test_parameter_groups_have_their_own_learning_rates():
    params = make_params()
    optimizer = optim.SGD([{"params": params[:1], "lr": 0.5}, {"params": params[1:]}], lr=0.1,
                          momentum=0.9)
    assert [g["lr"] for g in optimizer.param_groups] == [0.5, 0.1]
    assert all(g["momentum"] == 0.9 for g in optimizer.param_groups)
    before = [p.detach().numpy().copy() for p in params]
    for p in params:
        p.grad = tn.ones(p.shape, dtype=p.dtype)
    optimizer.step()
    numpy.testing.assert_allclose(params[0].detach().numpy(), before[0] - 0.5)
    numpy.testing.assert_allclose(params[1].detach().numpy(), before[1] - 0.1)

    grads = gradient_sequence()
    params = make_params()
    adam = optim.Adam([{"params": params[:2], "lr": 0.02}, {"params": params[2:], "lr": 0.001}])
    history = run(lambda ps: adam, grads, params)
    initial = [p.detach().numpy() for p in make_params()]
    for i, lr in enumerate([0.02, 0.02, 0.001]):
        expected = adam_reference(initial[i], [g[i] for g in grads], lr=lr)[-1]
        numpy.testing.assert_allclose(history[-1][i], expected, rtol=1e-12)


def test_add_param_group_and_bad_arguments():
    a, b = make_params()[:2]
    optimizer = optim.Adam([a], lr=0.1)
    optimizer.add_param_group({"params": b, "betas": (0.5, 0.6)})
    assert optimizer.param_groups[1]["lr"] == 0.1 and optimizer.param_groups[1]["betas"] == (0.5, 0.6)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({a}, lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="learning rate|invalid lr"):
        optim.SGD([a], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        optim.AdamW([a], eps=-1e-8)


@pytest.mark.parametrize("factory", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
], ids=["sgd", "adam", "adamw"])
def test_step_never_changes_a_gradient_in_place(factory):
    params = make_params()
    optimizer = factory(params)
    shared = tn.tensor(numpy.ones(2))  # backward can hand two parameters the same array
    for _ in range(3):
        grads = [tn.tensor(numpy.full(p.shape, 0.5)) for p in params]
        grads[1] = shared
        for p, g in zip(params, grads):
            p.grad = g
        arrays = [g.array for g in grads]
        copies = [a.copy() for a in arrays]
        optimizer.step()
        for p, array, kept in zip(params, arrays, copies):
            assert p.grad.array is array
            numpy.testing.assert_array_equal(backend.to_numpy(array), backend.to_numpy(kept))


def test_step_keeps_no_graph_alive():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    loss = F.mse_loss(model(tn.randn(5, 3, dtype=tn.float64)), tn.zeros(5, 1, dtype=tn.float64))
    loss.backward(create_graph=True)  # the gradients are graph nodes themselves
    node = weakref.ref(model[0].weight.grad.grad_fn)
    optimizer.step()
    assert all(p.grad_fn is None and p.requires_grad for p in model.parameters())
    for state in optimizer.state.values():
        assert all(v.grad_fn is None and not v.requires_grad
                   for v in state.values() if isinstance(v, tn.Tensor))
    optimizer.zero_grad()
    del loss
    gc.collect()
    assert node() is None


def test_zero_grad_to_none_or_to_zeros():
    params = make_params()
    optimizer = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = tn.ones(p.shape, dtype=p.dtype)
    old = params[0].grad
    optimizer.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0 and p.grad.shape == p.shape for p in params)
    assert params[0].grad is old  # zeroed in place, as in PyTorch
    optimizer.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_with_a_closure_returns_the_loss():
    w = tn.tensor([1.0, -2.0], dtype=tn.float64, requires_grad=True)
    optimizer = optim.SGD([w], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tn.no_grad():  # the closure still records its graph
        loss = optimizer.step(closure)
    assert loss.item() == 5.0
    assert w.tolist() == [0.5, -1.0]


# ---------------------------------------------------------------------------- saving and resuming
def small_model(seed):
    tn.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))


@pytest.mark.parametrize("factory", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.01),
], ids=["sgd", "adam", "adamw"])
def test_resuming_from_a_state_dict_matches_uninterrupted_training(factory):
    tn.manual_seed(3)
    batches = [(tn.randn(16, 2), tn.randn(16, 1)) for _ in range(6)]
    model = small_model(0)
    optimizer = factory(model.parameters())
    train_steps(model, optimizer, batches[:3])
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    train_steps(model, optimizer, batches[3:])

    resumed = small_model(1)
    resumed_optimizer = factory(resumed.parameters())
    resumed.load_state_dict(saved_model)
    resumed_optimizer.load_state_dict(saved_optimizer)
    train_steps(resumed, resumed_optimizer, batches[3:])
    for (name, a), b in zip(model.named_parameters(), resumed.parameters()):
        numpy.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=name)


def test_optimizer_state_dict_layout_and_load_errors():
    params = make_params()
    optimizer = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}])
    for p in params:
        p.grad = tn.ones(p.shape, dtype=p.dtype)
    optimizer.step()
    state = optimizer.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    assert state["param_groups"][1]["lr"] == 0.1
    assert sorted(state["state"]) == [0, 1, 2]
    assert state["state"][0]["step"] == 1 and set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam(params).load_state_dict(state)
    with pytest.raises(ValueError, match="group 1"):
        optim.Adam([{"params": params[:2]}, {"params": params[2:] + [tn.zeros(1, requires_grad=True)]}]
                   ).load_state_dict(state)
    fresh = optim.Adam([{"params": params[:2]}, {"params": params[2:]}])
    fresh.load_state_dict(state)
    assert fresh.param_groups[1]["lr"] == 0.1
    state["state"][0]["exp_avg"].array[...] = 99  # load copied, so this changes nothing
    assert float(fresh.state[params[0]]["exp_avg"].array.max()) < 99


# ---------------------------------------------------------------------------- schedulers
def lr_sequence(make_scheduler, epochs, lrs=(1.0,)):
    params = make_params()[:len(lrs)]
    optimizer = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])
    scheduler = make_scheduler(optimizer)
    sequence = [scheduler.get_last_lr()]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        sequence.append(scheduler.get_last_lr())
        assert [g["lr"] for g in optimizer.param_groups] == sequence[-1]
    return sequence


def test_step_lr_closed_form():
    sequence = lr_sequence(lambda o: StepLR(o, step_size=3, gamma=0.5), 15, lrs=(1.0, 0.2))
    for epoch, lrs in enumerate(sequence):
        assert lrs == pytest.approx([1.0 * 0.5 ** (epoch // 3), 0.2 * 0.5 ** (epoch // 3)], rel=1e-12)


def test_exponential_lr_closed_form():
    sequence = lr_sequence(lambda o: ExponentialLR(o, gamma=0.9), 12)
    for epoch, (lr,) in enumerate(sequence):
        assert lr == pytest.approx(0.9 ** epoch, rel=1e-12)


def test_cosine_annealing_closed_form_including_past_t_max():
    t_max, eta_min = 10, 0.1
    sequence = lr_sequence(lambda o: CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), 3 * t_max)
    for epoch, (lr,) in enumerate(sequence):
        closed = eta_min + (1.0 - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2
        assert lr == pytest.approx(closed, rel=1e-9, abs=1e-12), f"epoch {epoch}"
    assert sequence[t_max][0] == pytest.approx(eta_min)


def test_scheduler_state_dict_resumes_the_sequence():
    params = make_params()[:1]
    optimizer = optim.SGD(params, lr=1.0)
    scheduler = CosineAnnealingLR(optimizer, T_max=7)
    for _ in range(4):
        scheduler.step()
    saved, saved_optimizer = scheduler.state_dict(), copy.deepcopy(optimizer.state_dict())
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    expected = []
    for _ in range(5):
        scheduler.step()
        expected.append(scheduler.get_last_lr()[0])

    resumed_optimizer = optim.SGD(params, lr=1.0)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed = CosineAnnealingLR(resumed_optimizer, T_max=7)
    resumed.load_state_dict(saved)
    got = []
    for _ in range(5):
        resumed.step()
        got.append(resumed.get_last_lr()[0])
    assert got == expected


def test_scheduler_resume_needs_initial_lr():
    optimizer = optim.SGD(make_params()[:1], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(optimizer, step_size=2, last_epoch=3)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(optimizer, step_size=0)


# ---------------------------------------------------------------------------- against PyTorch
def torch_run(torch, factory, grads_per_step):
    params = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in make_params()]
    optimizer = factory(params)
    history = []
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = None if g is None else torch.tensor(g)
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


@pytest.mark.parametrize("name, settings", [
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
])
def test_optimizers_match_pytorch(name, settings):
    torch = pytest.importorskip("torch")
    grads = gradient_sequence()
    grads[2][1] = None
    ours = run(lambda ps: getattr(optim, name)(ps, **settings), grads)
    theirs = torch_run(torch, lambda ps: getattr(torch.optim, name)(ps, **settings), grads)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            numpy.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12,
                                          err_msg=f"{name} parameter {i}, step {step + 1}")


def test_schedulers_match_pytorch():
    torch = pytest.importorskip("torch")
    pairs = [(lambda o: StepLR(o, 4, 0.3), lambda o: torch.optim.lr_scheduler.StepLR(o, 4, 0.3)),
             (lambda o: ExponentialLR(o, 0.8), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8)),
             (lambda o: CosineAnnealingLR(o, 6, 0.05),
              lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 6, 0.05))]
    for ours_factory, theirs_factory in pairs:
        ours = lr_sequence(ours_factory, 20, lrs=(0.5,))
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
        scheduler = theirs_factory(optimizer)
        theirs = [scheduler.get_last_lr()]
        for _ in range(20):
            optimizer.step()
            scheduler.step()
            theirs.append(scheduler.get_last_lr())
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_warmup_sequences_and_one_cycle_match_pytorch():
    """LinearLR, SequentialLR (each scheduler restarting at its milestone) and OneCycleLR, on two
    parameter groups; OneCycleLR's momentum (SGD's momentum, Adam's first beta) too."""
    torch = pytest.importorskip("torch")

    def schedules(lib, kind):
        S = lib.optim.lr_scheduler
        return {
            "linear": lambda o: S.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=4),
            "warmup, cosine": lambda o: S.SequentialLR(o, [
                S.LinearLR(o, start_factor=0.1, total_iters=3), S.CosineAnnealingLR(o, T_max=6)],
                milestones=[3]),
            "three in turn": lambda o: S.SequentialLR(o, [
                S.ExponentialLR(o, 0.7), S.StepLR(o, 2, 0.5), S.MultiStepLR(o, [1, 3], 0.2)],
                milestones=[4, 9]),
            "one cycle": lambda o: S.OneCycleLR(o, max_lr=[1.0, 0.4], total_steps=20),
            "one cycle, linear, three phases": lambda o: S.OneCycleLR(
                o, max_lr=0.5, epochs=4, steps_per_epoch=5, pct_start=0.4,
                anneal_strategy="linear", three_phase=True),
        }[kind]

    for kind in ("linear", "warmup, cosine", "three in turn", "one cycle",
                 "one cycle, linear, three phases"):
        for optimizer_name, settings in (("SGD", {"momentum": 0.9}), ("Adam", {})):
            runs = []
            for lib in (tn, torch):
                params = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
                optimizer = getattr(lib.optim, optimizer_name)(
                    [{"params": [params[0]], "lr": 0.5}, {"params": [params[1]], "lr": 0.2}],
                    lr=0.5, **settings)
                scheduler = schedules(lib, kind)(optimizer)
                key = "betas" if optimizer_name == "Adam" else "momentum"
                trace = []
                for _ in range(19):
                    trace.append((scheduler.get_last_lr(),
                                  [group[key] for group in optimizer.param_groups]))
                    optimizer.step()
                    scheduler.step()
                runs.append(trace)
            for step, (ours, theirs) in enumerate(zip(*runs)):
                numpy.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12,
                                              err_msg=f"{kind}, {optimizer_name}, step {step}")
                assert numpy.allclose(numpy.array(ours[1], dtype=float),
                                      numpy.array(theirs[1], dtype=float), rtol=1e-12), \
                    (kind, optimizer_name, step, ours[1], theirs[1])


def test_sequential_lr_state_round_trips_and_bad_schedules_are_refused():
    from tinynet.optim import lr_scheduler as S

    def make():
        optimizer = optim.SGD([tn.zeros(1, requires_grad=True)], lr=1.0)
        return optimizer, S.SequentialLR(optimizer, [S.LinearLR(optimizer, 0.5, total_iters=2),
                                                     S.ExponentialLR(optimizer, 0.5)], [2])

    optimizer, scheduler = make()
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    saved = scheduler.state_dict()
    optimizer2, resumed = make()
    resumed.load_state_dict(saved)
    optimizer2.param_groups[0]["lr"] = optimizer.param_groups[0]["lr"]
    for _ in range(2):
        scheduler.step()
        resumed.step()
    assert resumed.get_last_lr() == scheduler.get_last_lr() == [0.125]
    with pytest.raises(ValueError, match="expected 1 milestones for 2 schedulers, got 0"):
        S.SequentialLR(optimizer, [S.StepLR(optimizer, 1), S.StepLR(optimizer, 1)], [])
    other = optim.SGD([tn.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="index 1 .StepLR. belongs to another optimizer"):
        S.SequentialLR(optimizer, [S.StepLR(optimizer, 1), S.StepLR(other, 1)], [2])
    with pytest.raises(ValueError, match="start_factor must be in .0, 1.*got 0"):
        S.LinearLR(optimizer, start_factor=0)
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 3 times, but total_steps is 2"):
        cycle = S.OneCycleLR(optimizer, max_lr=1.0, total_steps=2)
        for _ in range(3):
            cycle.step()
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum"):
        S.OneCycleLR(optim.Adagrad([tn.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=5)


# ---------------------------------------------------------------------------- RMSprop, Adagrad, Adadelta
def rmsprop_reference(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False, maximize=False):
    """Hinton's RMSprop as PyTorch runs it: the RMS (centered: the standard deviation) of the
    gradients divides the step; momentum accumulates the scaled steps."""
    p, v, mean, buf, history = p.copy(), 0.0, 0.0, 0.0, []
    for g in grads:
        g = (-g if maximize else g) + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        mean = alpha * mean + (1 - alpha) * g
        scale = numpy.sqrt(v - mean * mean) if centered else numpy.sqrt(v)
        if momentum > 0:
            buf = momentum * buf + g / (scale + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (scale + eps)
        history.append(p)
    return history


def adagrad_reference(p, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    """Duchi et al.: the step of each coordinate shrinks with its summed squared gradients; the
    rate itself decays as lr / (1 + (t - 1)·lr_decay)."""
    p, total, history = p.copy(), initial_accumulator_value, []
    for t, g in enumerate(grads, start=1):
        g = (-g if maximize else g) + weight_decay * p
        total = total + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (numpy.sqrt(total) + eps)
        history.append(p)
    return history


def adadelta_reference(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    """Zeiler: the update is RMS(past updates) / RMS(gradients) · g, both running averages."""
    p, v, u, history = p.copy(), 0.0, 0.0, []
    for g in grads:
        g = (-g if maximize else g) + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = numpy.sqrt(u + eps) / numpy.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
        history.append(p)
    return history


ADAPTIVE = {
    "RMSprop": (rmsprop_reference, [
        dict(), dict(lr=0.05, alpha=0.9, eps=1e-6), dict(lr=0.01, momentum=0.9),
        dict(lr=0.01, centered=True), dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
        dict(lr=0.01, maximize=True)]),
    "Adagrad": (adagrad_reference, [
        dict(), dict(lr=0.1, lr_decay=0.3), dict(lr=0.1, initial_accumulator_value=0.5),
        dict(lr=0.1, weight_decay=0.2, eps=1e-4), dict(lr=0.1, maximize=True, lr_decay=0.1)]),
    "Adadelta": (adadelta_reference, [
        dict(), dict(lr=0.5, rho=0.8), dict(eps=1e-3, weight_decay=0.1),
        dict(lr=0.3, maximize=True)]),
}
ADAPTIVE_CASES = [(name, settings) for name, (_, all_settings) in ADAPTIVE.items()
                  for settings in all_settings]


def settings_id(case):
    name, settings = case
    return name + ":" + (",".join(f"{k}={v}" for k, v in settings.items()) or "defaults")


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=settings_id)
def test_adaptive_optimizers_follow_their_formulas(case):
    name, settings = case
    grads = gradient_sequence()
    check_against(run(lambda ps: getattr(optim, name)(ps, **settings), grads), ADAPTIVE[name][0],
                  grads, **settings)


@pytest.mark.parametrize("case", ADAPTIVE_CASES, ids=settings_id)
def test_adaptive_optimizers_match_pytorch(case):
    test_optimizers_match_pytorch(*case)  # with a parameter that skips a step, as there


def test_adaptive_optimizer_defaults_and_state_keys_match_pytorch():
    torch = pytest.importorskip("torch")
    for name, settings in [("RMSprop", dict(momentum=0.5, centered=True)), ("Adagrad", {}),
                           ("Adadelta", {})]:
        ours = getattr(optim, name)(make_params()[:1], **settings)
        theirs = getattr(torch.optim, name)([torch.zeros(3, 2, requires_grad=True)], **settings)
        ours.param_groups[0]["params"][0].grad = tn.ones(3, 2, dtype=tn.float64)
        theirs.param_groups[0]["params"][0].grad = torch.ones(3, 2)
        ours.step()
        theirs.step()
        for key, value in theirs.defaults.items():
            if key in ("foreach", "capturable", "differentiable", "fused"):
                continue
            assert ours.defaults[key] == value, f"{name}.{key}"
        ours_state = ours.state_dict()["state"][0]
        assert set(ours_state) == set(theirs.state_dict()["state"][0]), name
        assert ours_state["step"] == 1


def test_adagrad_state_exists_from_construction_as_in_pytorch():
    params = make_params()
    optimizer = optim.Adagrad(params[:2], initial_accumulator_value=0.25)
    assert [optimizer.state[p]["step"] for p in params[:2]] == [0, 0]
    assert float(optimizer.state[params[0]]["sum"].array.min()) == 0.25
    optimizer.add_param_group({"params": [params[2]], "initial_accumulator_value": 1.0})
    assert float(optimizer.state[params[2]]["sum"].array.max()) == 1.0


@pytest.mark.parametrize("factory", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps),
    lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True), lambda ps: optim.Adagrad(ps),
    lambda ps: optim.Adadelta(ps)], ids=["sgd", "adam", "rmsprop", "adagrad", "adadelta"])
def test_every_step_updates_parameters_in_place_and_bumps_their_version(factory):
    params = make_params()
    versions = [p._version for p in params]
    optimizer = factory(params)
    for p in params:
        p.grad = tn.ones(p.shape, dtype=p.dtype)
    optimizer.step()
    arrays, shared = [p.array for p in params], [p.data for p in params]
    optimizer.step()
    for p, array, data, version in zip(params, arrays, shared, versions):
        assert p.array is array and p._version == version + 2
        numpy.testing.assert_array_equal(data.numpy(), p.detach().numpy())


def test_adam_steps_a_group_as_one_flat_array_and_parameters_keep_their_memory():
    """As in PyTorch, what shares a parameter's storage (a state_dict, a detach, a NumPy view)
    sees every step, also on the flat path, which updates the whole group at once."""
    model = tn.nn.Sequential(tn.nn.Linear(3, 4), tn.nn.Linear(4, 2)).double()
    reference = tn.nn.Sequential(tn.nn.Linear(3, 4), tn.nn.Linear(4, 2)).double()
    reference.load_state_dict(model.state_dict())
    adam = optim.Adam(model.parameters(), lr=0.1)
    shared, detached = model.state_dict(), model[0].weight.detach()
    arrays = [p.array for p in model.parameters()]
    x = tn.ones(5, 3).double()
    for _ in range(3):
        adam.zero_grad()
        model(x).sum().backward()
        adam.step()
    assert 0 in adam._flat  # the group took the flat path
    assert all(p.array is a for p, a in zip(model.parameters(), arrays))
    numpy.testing.assert_array_equal(shared["0.weight"].numpy(), model[0].weight.detach().numpy())
    numpy.testing.assert_array_equal(detached.numpy(), model[0].weight.detach().numpy())
    per_parameter = [optim.Adam([p], lr=0.1) for p in reference.parameters()]
    for _ in range(3):
        for opt in per_parameter:
            opt.zero_grad()
        reference(x).sum().backward()
        for opt in per_parameter:
            opt.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        numpy.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)


def test_adam_steps_a_parameter_whose_storage_was_replaced():
    """``p.data = t``, a load_state_dict or a move replaces a parameter's storage; the next step
    updates the new values, in their memory, and the parameter stays itself."""
    params, reference = make_params(), make_params()
    adam, adam_ref = optim.Adam(params, lr=0.1), optim.Adam(reference, lr=0.1)
    for step in range(3):
        for p, q in zip(params, reference):
            p.grad = tn.ones(p.shape, dtype=p.dtype)
            q.grad = tn.ones(q.shape, dtype=q.dtype)
        if step == 1:
            replacement = tn.tensor(numpy.full(params[0].shape, 5.0))
            params[0].data = replacement
            with tn.no_grad():
                reference[0].copy_(replacement)
        first = params[0]
        adam.step()
        adam_ref.step()
        assert params[0] is first
    numpy.testing.assert_array_equal(replacement.numpy(), params[0].detach().numpy())
    for p, q in zip(params, reference):
        numpy.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)
    model = tn.nn.Linear(3, 2).double()
    adam = optim.Adam(model.parameters(), lr=0.1)
    model(tn.ones(4, 3).double()).sum().backward()
    adam.step()
    state = {k: v.clone() + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    model(tn.ones(4, 3).double()).sum().backward()
    adam.step()
    for name, value in model.state_dict().items():  # an Adam step moves each value by <= lr
        assert numpy.abs(value.array - state[name].array).max() <= 0.1 + 1e-9, name


@pytest.mark.parametrize("factory", [
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    lambda ps: optim.Adadelta(ps, lr=0.5),
], ids=["rmsprop", "adagrad", "adadelta"])
def test_adaptive_optimizers_resume_from_a_state_dict(factory):
    test_resuming_from_a_state_dict_matches_uninterrupted_training(factory)


def test_adaptive_optimizers_state_dict_survives_save_and_load(tmp_path):
    model = small_model(0)
    optimizer = optim.RMSprop(model.parameters(), momentum=0.9, centered=True)
    train_steps(model, optimizer, [(tn.randn(4, 2), tn.randn(4, 1))])
    tn.save(optimizer.state_dict(), tmp_path / "opt.npz")
    fresh = optim.RMSprop(model.parameters(), momentum=0.9, centered=True)
    fresh.load_state_dict(tn.load(tmp_path / "opt.npz"))
    for p in model.parameters():
        for key in ("square_avg", "momentum_buffer", "grad_avg"):
            numpy.testing.assert_array_equal(fresh.state[p][key].numpy(),
                                          optimizer.state[p][key].numpy())
        assert fresh.state[p]["step"] == 1


def test_adaptive_optimizers_refuse_bad_settings():
    a = make_params()[0]
    for factory, match in [(lambda: optim.RMSprop([a], lr=-1.0), "RMSprop: invalid lr"),
                           (lambda: optim.RMSprop([a], alpha=-0.1), "invalid alpha"),
                           (lambda: optim.Adagrad([a], lr_decay=-1.0), "Adagrad: invalid lr_decay"),
                           (lambda: optim.Adagrad([a], initial_accumulator_value=-1.0),
                            "initial_accumulator_value"),
                           (lambda: optim.Adadelta([a], rho=1.5), "Adadelta: invalid rho")]:
        with pytest.raises(ValueError, match=match):
            factory()
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.Adagrad([a], differentiable=True)


# ---------------------------------------------------------------------------- more schedulers
def test_multistep_lr_closed_form():
    from tinynet.optim.lr_scheduler import MultiStepLR

    sequence = lr_sequence(lambda o: MultiStepLR(o, milestones=[3, 7, 7], gamma=0.5), 12)
    for epoch, (lr,) in enumerate(sequence):
        passed = sum(m <= epoch for m in [3, 7, 7])
        assert lr == pytest.approx(0.5 ** passed, rel=1e-12)


def test_lambda_lr_closed_form_per_group():
    from tinynet.optim.lr_scheduler import LambdaLR

    sequence = lr_sequence(lambda o: LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)]), 8,
                           lrs=(1.0, 0.2))
    for epoch, lrs in enumerate(sequence):
        assert lrs == pytest.approx([0.9 ** epoch, 0.2 / (epoch + 1)], rel=1e-12)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        LambdaLR(optim.SGD(make_params()[:1], lr=1.0), [abs, abs])


class Warmup:
    """A callable object: its attributes are part of LambdaLR's state_dict, as in PyTorch."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


def test_lambda_lr_state_dict_saves_callable_objects_but_not_functions(tmp_path):
    from tinynet.optim.lr_scheduler import LambdaLR

    params = make_params()[:2]
    optimizer = optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0)
    scheduler = LambdaLR(optimizer, [Warmup(5), lambda epoch: 0.5])
    scheduler.step()
    tn.save(scheduler.state_dict(), tmp_path / "sched.npz")
    state = tn.load(tmp_path / "sched.npz")
    assert state["lr_lambdas"] == [{"epochs": 5}, None] and state["last_epoch"] == 1
    resumed = LambdaLR(optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0),
                       [Warmup(99), lambda epoch: 0.5])
    resumed.load_state_dict(state)
    assert resumed.lr_lambdas[0].epochs == 5 and resumed.last_epoch == 1


def plateau_run(lib, metrics, **settings):
    params = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    optimizer = lib.optim.SGD([{"params": [params[0]], "lr": 1.0},
                               {"params": [params[1]], "lr": 0.5}], lr=1.0)
    scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **settings)
    sequence = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        sequence.append(scheduler.get_last_lr())
    return sequence


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.5, 0.6, 0.6, 0.6, 0.6, 0.7, 0.4, 0.45,
                   0.46, 0.47, 0.48, 0.49, 0.5, 0.51]
PLATEAU_SETTINGS = [
    dict(patience=2), dict(patience=1, factor=0.5, cooldown=2),
    dict(mode="max", patience=1, threshold=0.1), dict(patience=0, threshold_mode="abs",
                                                      threshold=0.05, min_lr=[0.1, 0.2]),
    dict(patience=0, factor=0.5, min_lr=0.3)]


@pytest.mark.parametrize("settings", PLATEAU_SETTINGS, ids=str)
def test_reduce_lr_on_plateau_matches_pytorch(settings):
    torch = pytest.importorskip("torch")
    ours = plateau_run(tn, PLATEAU_METRICS, **settings)
    theirs = plateau_run(torch, PLATEAU_METRICS, **settings)
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_reduce_lr_on_plateau_by_hand():
    sequence = plateau_run(tn, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5], patience=2)
    # the 3rd epoch without improvement (epoch 4) divides by 10; 0.5 is an improvement
    assert [lrs[0] for lrs in sequence] == pytest.approx([1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1])
    sequence = plateau_run(tn, [tn.tensor(1.0), tn.tensor(2.0), tn.tensor(2.0)], patience=0,
                           min_lr=0.3)
    assert sequence[-1] == pytest.approx([0.3, 0.3])


def test_reduce_lr_on_plateau_state_dict_round_trip(tmp_path):
    from tinynet.optim.lr_scheduler import ReduceLROnPlateau

    optimizer = optim.SGD(make_params()[:1], lr=1.0)
    scheduler = ReduceLROnPlateau(optimizer, mode="max", patience=1)
    for metric in (1.0, 0.5, 0.5):
        scheduler.step(metric)
    tn.save(scheduler.state_dict(), tmp_path / "plateau.npz")
    resumed = ReduceLROnPlateau(optim.SGD(make_params()[:1], lr=0.1), mode="max", patience=1)
    resumed.load_state_dict(tn.load(tmp_path / "plateau.npz"))
    assert (resumed.best, resumed.num_bad_epochs, resumed.last_epoch) == (1.0, 0, 3)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ReduceLROnPlateau(optimizer, factor=1.0)
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        ReduceLROnPlateau(optimizer, mode="sideways")


def test_new_schedulers_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.3)),
             ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e * (1 + e % 3)))]
    for name, settings in cases:
        make = getattr(optim.lr_scheduler, name)
        ours = lr_sequence(lambda o, make=make, settings=settings: make(o, **settings), 15,
                           lrs=(0.5,))
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
        scheduler = getattr(torch.optim.lr_scheduler, name)(optimizer, **settings)
        theirs = [scheduler.get_last_lr()]
        for _ in range(15):
            optimizer.step()
            scheduler.step()
            theirs.append(scheduler.get_last_lr())
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "LBFGS"])
def test_signatures_match_pytorch_in_names_order_kinds_and_defaults(name):
    """Positional calls mean the same (SGD's weight_decay comes before nesterov)."""
    torch = pytest.importorskip("torch")
    import inspect
    ours = inspect.signature(getattr(optim, name).__init__).parameters.values()
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters.values()
    assert [(p.name, p.kind, p.default) for p in ours] == \
        [(p.name, p.kind, p.default) for p in theirs]


@pytest.mark.parametrize("make", [
    lambda lib, ps: lib.optim.SGD(ps, 0.1, 0.9, 0, 1e-2, True, maximize=True),
    lambda lib, ps: lib.optim.SGD(ps, 0.1, 0.9, 0.2, 1e-2),
    lambda lib, ps: lib.optim.SGD(ps, maximize=True, weight_decay=0.1),
    lambda lib, ps: lib.optim.Adam(ps, lr=0.1, weight_decay=0.1, maximize=True),
    lambda lib, ps: lib.optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True,
                                   decoupled_weight_decay=True),
    lambda lib, ps: lib.optim.AdamW(ps, lr=0.1, maximize=True, amsgrad=True)])
def test_maximize_and_decoupled_weight_decay_step_as_pytorch(make):
    torch = pytest.importorskip("torch")
    grads = gradient_sequence()
    ours, theirs = make_params(), [torch.tensor(p.detach().numpy(), requires_grad=True)
                                   for p in make_params()]
    ours_opt, theirs_opt = make(tn, ours), make(torch, theirs)
    for step in grads:
        for p, q, g in zip(ours, theirs, step):
            p.grad, q.grad = tn.tensor(g), torch.tensor(g)
        ours_opt.step()
        theirs_opt.step()
    for p, q in zip(ours, theirs):
        numpy.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)
    for key in ("maximize", "foreach"):
        assert ours_opt.param_groups[0][key] == theirs_opt.param_groups[0][key]


def test_a_state_saved_before_a_setting_existed_loads_with_its_default():
    params = make_params()
    optimizer = optim.Adam(params, lr=0.1)
    saved = optimizer.state_dict()
    for group in saved["param_groups"]:
        del group["maximize"], group["decoupled_weight_decay"]
    optimizer.load_state_dict(saved)
    params[0].grad = tn.ones_like(params[0])
    optimizer.step()
    assert optimizer.param_groups[0]["maximize"] is False


def test_implementation_switches_tinynet_lacks_are_refused():
    for make in (lambda: optim.SGD(make_params(), fused=True),
                 lambda: optim.Adam(make_params(), capturable=True),
                 lambda: optim.AdamW(make_params(), differentiable=True)):
        with pytest.raises(NotImplementedError, match="is not supported by tinynet"):
            make()


def test_state_is_a_defaultdict_and_reading_it_first_changes_no_step():
    """As PyTorch's: a custom optimizer may write optimizer.state[p][key], and looking at
    optimizer.state[p] before the first step leaves the updates as they were."""
    results = []
    for peek in (False, True):
        params = make_params()
        optimizer = optim.Adamax(params, lr=0.1)
        if peek:
            assert optimizer.state[params[0]] == {}
        for p, g in zip(params, gradient_sequence()[0]):
            p.grad = tn.tensor(g)
        optimizer.step()
        results.append(params[0].detach().numpy())
    numpy.testing.assert_array_equal(*results)


def test_scheduler_step_with_an_epoch_is_pytorchs_deprecated_jump():
    torch = pytest.importorskip("torch")
    rates = []
    for lib in (tn, torch):
        optimizer = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=1.0)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 2.0, gamma=0.5)  # a float step_size
        optimizer.step()
        with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
            scheduler.step(5)
        scheduler.step()
        rates.append(scheduler.get_last_lr())
    assert rates[0] == rates[1]


def test_zero_grad_without_none_zeroes_the_same_gradient_in_place_as_in_pytorch():
    model = tn.nn.Linear(3, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    for clear in (model.zero_grad, optimizer.zero_grad):
        model(tn.ones(4, 3)).sum().backward()
        held = model.weight.grad
        clear(set_to_none=False)
        assert model.weight.grad is held and not held.detach().numpy().any()
        model(tn.ones(4, 3)).sum().backward()
        assert model.weight.grad is held and held.detach().numpy().all()
        clear()
        assert model.weight.grad is None
