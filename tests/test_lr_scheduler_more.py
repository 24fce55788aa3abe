"""tinynet.optim.lr_scheduler's ConstantLR, PolynomialLR, MultiplicativeLR,
CosineAnnealingWarmRestarts, CyclicLR and ChainedScheduler: step by step against PyTorch (rates on
two parameter groups, and the momentum or Adam's first beta CyclicLR cycles), inside SequentialLR
and ChainedScheduler, resumed from a state_dict, and their argument checks.

Closed-form checks run without PyTorch; the comparisons skip where it is not installed.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy
import pytest

import tinynet as tn
from tinynet import optim

STEPS = 30
LRS = (0.5, 0.2)


def make_optimizer(lib, optimizer_name: str = "SGD", lrs=LRS, **settings):
    params = [lib.zeros(1, requires_grad=True) for _ in lrs]
    if optimizer_name == "SGD":
        settings = {"momentum": 0.9, **settings}
    return getattr(lib.optim, optimizer_name)(
        [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0], **settings)


def momenta(optimizer) -> list[float]:
    """SGD's momentum or Adam's first beta, per group (None where the group has neither)."""
    out = []
    for group in optimizer.param_groups:
        out.append(group["betas"][0] if "betas" in group else group.get("momentum"))
    return out


def trace(lib, make, optimizer_name: str = "SGD", steps: int = STEPS, step_args=None):
    """get_last_lr(), the groups' lrs and their momenta after construction and after each step."""
    optimizer = make_optimizer(lib, optimizer_name)
    scheduler = make(lib.optim.lr_scheduler, optimizer)
    out = [(list(scheduler.get_last_lr()), [g["lr"] for g in optimizer.param_groups],
            momenta(optimizer))]
    for i in range(steps):
        optimizer.step()
        if step_args is None:
            scheduler.step()
        else:
            scheduler.step(*step_args[i])
        out.append((list(scheduler.get_last_lr()), [g["lr"] for g in optimizer.param_groups],
                    momenta(optimizer)))
    return out


def assert_same(ours, theirs, what: str) -> None:
    assert len(ours) == len(theirs)
    for step, ((last, lrs, mom), (t_last, t_lrs, t_mom)) in enumerate(zip(ours, theirs)):
        numpy.testing.assert_allclose(last, t_last, rtol=1e-12, atol=0,
                                      err_msg=f"{what}: get_last_lr at step {step}")
        numpy.testing.assert_allclose(lrs, t_lrs, rtol=1e-12, atol=0,
                                      err_msg=f"{what}: group lrs at step {step}")
        numpy.testing.assert_allclose(numpy.array(mom, dtype=float), numpy.array(t_mom, dtype=float),
                                      rtol=1e-12, atol=0, err_msg=f"{what}: momentum at step {step}")


def compare(make, optimizer_name: str = "SGD", steps: int = STEPS, step_args=None,
            what: str = "") -> list:
    torch = pytest.importorskip("torch")
    ours = trace(tn, make, optimizer_name, steps, step_args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's warnings on the order of step() calls
        theirs = trace(torch, make, optimizer_name, steps, step_args)
    assert_same(ours, theirs, what or optimizer_name)
    return ours


class Halving:
    """A callable object: CyclicLR and MultiplicativeLR save its attributes, as PyTorch does."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, x: float) -> float:
        return self.rate ** x


# ---------------------------------------------------------------------------- each scheduler
SCHEDULERS = {
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.4, total_iters=6),
    "ConstantLR defaults": lambda S, o: S.ConstantLR(o),
    "ConstantLR factor 1": lambda S, o: S.ConstantLR(o, factor=1.0, total_iters=3),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=8, power=1.7),
    "PolynomialLR defaults": lambda S, o: S.PolynomialLR(o),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9 + 0.03 * (e % 4)),
    "MultiplicativeLR per group": lambda S, o: S.MultiplicativeLR(
        o, [lambda e: 0.95, Halving(0.99)]),
    "WarmRestarts T_mult 1": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=4),
    "WarmRestarts T_mult 2": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                       eta_min=0.01),
    "WarmRestarts T_mult 3, int eta_min": lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=2, T_mult=3, eta_min=0),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_matches_pytorch(name):
    compare(SCHEDULERS[name], what=name)


CYCLIC = {
    "triangular": dict(base_lr=[0.1, 0.05], max_lr=[1.0, 0.3], step_size_up=4, step_size_down=3),
    "triangular2": dict(base_lr=0.01, max_lr=0.5, step_size_up=3, mode="triangular2"),
    "exp_range": dict(base_lr=[0.1, 0.02], max_lr=0.8, step_size_up=2, step_size_down=5,
                      mode="exp_range", gamma=0.93, base_momentum=[0.7, 0.75],
                      max_momentum=[0.95, 0.85]),
    "scale_fn cycle": dict(base_lr=0.05, max_lr=0.6, step_size_up=3, step_size_down=2,
                           scale_fn=lambda x: 1 / (1 + x), mode="ignored"),
    "scale_fn iterations": dict(base_lr=0.05, max_lr=0.6, step_size_up=5, scale_fn=Halving(0.97),
                                scale_mode="iterations"),
    "no momentum cycling": dict(base_lr=0.1, max_lr=0.4, step_size_up=2, cycle_momentum=False),
}


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name", CYCLIC)
def test_cyclic_lr_matches_pytorch_with_momentum_or_beta1(name, optimizer_name):
    ours = compare(lambda S, o: S.CyclicLR(o, **CYCLIC[name]), optimizer_name,
                   what=f"CyclicLR {name}, {optimizer_name}")
    lrs = [lr for last, _, _ in ours for lr in last]
    assert max(lrs) > 2 * min(lrs)  # it did cycle


def test_cyclic_lr_moves_momentum_against_the_rate():
    optimizer = make_optimizer(tn, "SGD", lrs=(0.5,))
    scheduler = optim.lr_scheduler.CyclicLR(optimizer, 0.1, 1.1, step_size_up=4,
                                            base_momentum=0.8, max_momentum=0.9)
    seen = []
    for _ in range(9):
        seen.append((scheduler.get_last_lr()[0], optimizer.param_groups[0]["momentum"]))
        scheduler.step()
    expected_lr = [0.1, 0.35, 0.6, 0.85, 1.1, 0.85, 0.6, 0.35, 0.1]
    assert [lr for lr, _ in seen] == pytest.approx(expected_lr, rel=1e-12)
    assert [m for _, m in seen] == pytest.approx([0.9 - 0.1 * (lr - 0.1) for lr in expected_lr])


@pytest.mark.parametrize("name, make", [
    ("ExponentialLR", lambda S, o, e: S.ExponentialLR(o, 0.8, last_epoch=e)),
    ("CosineAnnealingLR", lambda S, o, e: S.CosineAnnealingLR(o, 5, 0.01, last_epoch=e)),
    ("LinearLR", lambda S, o, e: S.LinearLR(o, 0.2, total_iters=6, last_epoch=e)),
    ("ConstantLR", lambda S, o, e: S.ConstantLR(o, 0.5, total_iters=4, last_epoch=e)),
    ("ConstantLR at total_iters", lambda S, o, e: S.ConstantLR(o, 0.5, total_iters=3, last_epoch=e)),
    ("PolynomialLR", lambda S, o, e: S.PolynomialLR(o, total_iters=7, power=2.0, last_epoch=e)),
    ("MultiplicativeLR", lambda S, o, e: S.MultiplicativeLR(o, lambda k: 0.9, last_epoch=e)),
    ("WarmRestarts", lambda S, o, e: S.CosineAnnealingWarmRestarts(o, 3, 2, last_epoch=e)),
    ("CyclicLR", lambda S, o, e: S.CyclicLR(o, 0.1, 0.9, step_size_up=4, step_size_down=5,
                                            last_epoch=e)),
])
def test_resuming_at_last_epoch_matches_pytorch(name, make):
    """Made with last_epoch=2 over groups that hold initial_lr: the first step keeps the rate
    (PyTorch's _is_initial) and the chainable ones go on from it."""
    def resumed(S, o):
        for group in o.param_groups:
            group.update(initial_lr=group["lr"] * 2, max_momentum=0.9, base_momentum=0.8)
        return make(S, o, 2)
    compare(resumed, steps=12, what=name)


# ---------------------------------------------------------------------------- warm restarts by epoch
FRACTIONAL = [(0.25,), (0.5,), (1.75,), (None,), (None,), (3.0,), (3.5,), (7.2,), (None,), (2.0,),
              (9.99,), (10.0,), (None,), (20.5,), (0,), (None,), (44.4,), (45,), (5.125,), (None,)]


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_step_with_fractional_epochs_matches_pytorch(t_mult):
    torch = pytest.importorskip("torch")
    args = [() if epoch is None else (epoch,) for (epoch,) in FRACTIONAL]
    compare(lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=t_mult, eta_min=0.02),
            steps=len(args), step_args=args, what=f"T_mult {t_mult}")
    ours = optim.lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(tn), 3, t_mult)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(make_optimizer(torch), 3, t_mult)
    for step_args in args:
        ours.step(*step_args)
        theirs.step(*step_args)
        assert (ours.T_cur, ours.T_i, ours.last_epoch) == pytest.approx(
            (theirs.T_cur, theirs.T_i, theirs.last_epoch), rel=1e-12)


def test_warm_restarts_closed_form():
    optimizer = make_optimizer(tn, lrs=(1.0,))
    scheduler = optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2,
                                                               eta_min=0.1)
    starts = [0, 2, 6, 14]  # restarts after 2, 4 and 8 epochs
    for epoch in range(20):
        start = max(s for s in starts if s <= epoch)
        period = 2 * 2 ** starts.index(start)
        closed = 0.1 + 0.9 * (1 + math.cos(math.pi * (epoch - start) / period)) / 2
        assert scheduler.get_last_lr()[0] == pytest.approx(closed, rel=1e-12), epoch
        scheduler.step()
    scheduler.step(6.5)
    assert scheduler.get_last_lr()[0] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 16)) / 2)
    assert scheduler.last_epoch == 6


def test_constant_and_polynomial_closed_forms():
    optimizer = make_optimizer(tn, lrs=(1.0,))
    constant = optim.lr_scheduler.ConstantLR(optimizer, factor=0.25, total_iters=3)
    seen, closed = [], []
    for _ in range(6):
        seen.append(constant.get_last_lr()[0])
        closed.append(constant._closed_form_lr()[0])  # what SequentialLR restarts it at
        constant.step()
    assert seen == pytest.approx([0.25, 0.25, 0.25, 1.0, 1.0, 1.0], rel=1e-12)
    assert closed == pytest.approx(seen, rel=1e-12)
    optimizer = make_optimizer(tn, lrs=(1.0,))
    poly = optim.lr_scheduler.PolynomialLR(optimizer, total_iters=4, power=2.0)
    seen, closed = [], []
    for _ in range(7):
        seen.append(poly.get_last_lr()[0])
        closed.append(poly._closed_form_lr()[0])
        poly.step()
    expected = [(1 - min(e, 4) / 4) ** 2 for e in range(7)]
    assert seen == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert closed == pytest.approx(expected, rel=1e-12, abs=1e-15)


# ---------------------------------------------------------------------------- composition
COMPOSED = {
    "chain: constant, exponential": lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.1, total_iters=6), S.ExponentialLR(o, gamma=0.9)]),
    "chain: polynomial, multiplicative, given the optimizer": lambda S, o: S.ChainedScheduler(
        [S.PolynomialLR(o, total_iters=10, power=0.5), S.MultiplicativeLR(o, lambda e: 1.02)],
        optimizer=o),
    "chain: warm restarts, constant": lambda S, o: S.ChainedScheduler(
        [S.CosineAnnealingWarmRestarts(o, T_0=5), S.ConstantLR(o, 0.5, total_iters=7)]),
    "chain: constant, then cyclic from the rates it left": lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, 0.5, total_iters=3), S.CyclicLR(o, [0.1, 0.05], 0.7, step_size_up=3)]),
    "sequence: constant, warm restarts": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, factor=0.2, total_iters=3), S.CosineAnnealingWarmRestarts(o, T_0=4)],
        milestones=[5]),
    "sequence: polynomial, multiplicative, constant": lambda S, o: S.SequentialLR(
        o, [S.PolynomialLR(o, total_iters=6, power=2.0), S.MultiplicativeLR(o, lambda e: 0.8),
            S.ConstantLR(o, factor=0.5, total_iters=4)], milestones=[4, 12]),
    "sequence: linear, cyclic": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, total_iters=4), S.CyclicLR(o, 0.05, 0.4, step_size_up=3)],
        milestones=[6]),
    "sequence: warm restarts first, polynomial": lambda S, o: S.SequentialLR(
        o, [S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), S.PolynomialLR(o, 5)],
        milestones=[11]),
    "sequence: a chain, then polynomial": lambda S, o: S.SequentialLR(
        o, [S.ChainedScheduler([S.ConstantLR(o, 0.5, total_iters=3), S.ExponentialLR(o, 0.9)]),
            S.PolynomialLR(o, total_iters=8)], milestones=[7]),
    "chain: a sequence and multiplicative": lambda S, o: S.ChainedScheduler(
        [S.SequentialLR(o, [S.ConstantLR(o, 0.5, total_iters=2), S.ExponentialLR(o, 0.95)], [4]),
         S.MultiplicativeLR(o, lambda e: 0.99)]),
}


@pytest.mark.parametrize("name", COMPOSED)
def test_composed_schedulers_match_pytorch(name):
    compare(COMPOSED[name], what=name)


def test_chained_scheduler_compounds_by_hand():
    optimizer = make_optimizer(tn, lrs=(1.0,))
    S = optim.lr_scheduler
    chain = S.ChainedScheduler([S.ConstantLR(optimizer, 0.1, total_iters=2),
                                S.ExponentialLR(optimizer, 0.5)])
    seen = []
    for _ in range(4):
        seen.append(chain.get_last_lr()[0])
        chain.step()
    assert seen == pytest.approx([0.1, 0.05, 0.25, 0.125], rel=1e-12)


# ---------------------------------------------------------------------------- state_dict
ROUND_TRIP = {
    "ConstantLR": lambda S, o: S.ConstantLR(o, 0.3, total_iters=9),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=12, power=1.5),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, [Halving(0.9), lambda e: 0.97]),
    "WarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "CyclicLR exp_range": lambda S, o: S.CyclicLR(o, [0.1, 0.05], 0.9, step_size_up=4,
                                                  mode="exp_range", gamma=0.95),
    "CyclicLR scale_fn": lambda S, o: S.CyclicLR(o, 0.1, 0.9, step_size_up=3,
                                                 scale_fn=Halving(0.8)),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, 0.5, total_iters=8), S.CosineAnnealingWarmRestarts(o, T_0=4)]),
    "SequentialLR": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, 0.5, total_iters=3), S.PolynomialLR(o, total_iters=9)], [5]),
}


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name", ROUND_TRIP)
def test_state_dict_round_trip_continues_identically(name, optimizer_name, tmp_path):
    S = optim.lr_scheduler
    optimizer = make_optimizer(tn, optimizer_name)
    scheduler = ROUND_TRIP[name](S, optimizer)
    for _ in range(7):
        optimizer.step()
        scheduler.step()
    tn.save(scheduler.state_dict(), tmp_path / "scheduler.npz")
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    expected = []
    for _ in range(15):
        optimizer.step()
        scheduler.step()
        expected.append((scheduler.get_last_lr(), momenta(optimizer)))

    resumed_optimizer = make_optimizer(tn, optimizer_name)
    resumed = ROUND_TRIP[name](S, resumed_optimizer)
    resumed_optimizer.load_state_dict(saved_optimizer)
    resumed.load_state_dict(tn.load(tmp_path / "scheduler.npz"))
    got = []
    for _ in range(15):
        resumed_optimizer.step()
        resumed.step()
        got.append((resumed.get_last_lr(), momenta(resumed_optimizer)))
    assert got == expected


def test_state_dict_saves_callable_objects_but_not_functions_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        S = lib.optim.lr_scheduler
        multiplicative = S.MultiplicativeLR(make_optimizer(lib), [Halving(0.5), lambda e: 0.9])
        assert multiplicative.state_dict()["lr_lambdas"] == [{"rate": 0.5}, None]
        for fn, saved in ((Halving(0.7), {"rate": 0.7}), (lambda x: 1.0, None), (None, None)):
            cyclic = S.CyclicLR(make_optimizer(lib), 0.1, 0.5, scale_fn=fn)
            state = cyclic.state_dict()
            assert state["_scale_fn_custom"] == saved
            assert "_scale_fn_ref" not in state
    ours = optim.lr_scheduler.CyclicLR(make_optimizer(tn), 0.1, 0.5, scale_fn=Halving(0.2))
    ours.load_state_dict(optim.lr_scheduler.CyclicLR(make_optimizer(tn), 0.1, 0.5,
                                                     scale_fn=Halving(0.6)).state_dict())
    assert ours._scale_fn_custom.rate == 0.6


# ---------------------------------------------------------------------------- argument checks
INVALID = [
    ("ConstantLR factor > 1", lambda S, o: S.ConstantLR(o, factor=1.5), "ConstantLR: factor"),
    ("ConstantLR factor < 0", lambda S, o: S.ConstantLR(o, factor=-0.1), "ConstantLR: factor"),
    ("MultiplicativeLR lambdas", lambda S, o: S.MultiplicativeLR(o, [abs]),
     "MultiplicativeLR: Expected 2 lr_lambdas, but got 1"),
    ("WarmRestarts T_0 = 0", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=0),
     "CosineAnnealingWarmRestarts: T_0"),
    ("WarmRestarts float T_0", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=2.5),
     "CosineAnnealingWarmRestarts: T_0"),
    ("WarmRestarts T_mult = 0", lambda S, o: S.CosineAnnealingWarmRestarts(o, 2, T_mult=0),
     "CosineAnnealingWarmRestarts: T_mult"),
    ("WarmRestarts float T_mult", lambda S, o: S.CosineAnnealingWarmRestarts(o, 2, T_mult=1.5),
     "CosineAnnealingWarmRestarts: T_mult"),
    ("WarmRestarts eta_min", lambda S, o: S.CosineAnnealingWarmRestarts(o, 2, eta_min="0"),
     "CosineAnnealingWarmRestarts: eta_min"),
    ("WarmRestarts negative epoch", lambda S, o: S.CosineAnnealingWarmRestarts(o, 2).step(-0.5),
     "CosineAnnealingWarmRestarts: epoch"),
    ("CyclicLR mode", lambda S, o: S.CyclicLR(o, 0.1, 1.0, mode="sideways"), "CyclicLR: mode"),
    ("CyclicLR base_lr", lambda S, o: S.CyclicLR(o, [0.1, 0.2, 0.3], 1.0), "CyclicLR: .* base_lr"),
    ("CyclicLR max_lr", lambda S, o: S.CyclicLR(o, 0.1, [1.0]), "CyclicLR: .* max_lr"),
    ("CyclicLR base_momentum", lambda S, o: S.CyclicLR(o, 0.1, 1.0, base_momentum=[0.8]),
     "CyclicLR: .* base_momentum"),
    ("CyclicLR max_momentum", lambda S, o: S.CyclicLR(o, 0.1, 1.0, max_momentum=(0.9, 0.9, 0.9)),
     "CyclicLR: .* max_momentum"),
    ("ChainedScheduler empty", lambda S, o: S.ChainedScheduler([]),
     "ChainedScheduler expects at least one scheduler"),
    ("ChainedScheduler two optimizers", lambda S, o, other: S.ChainedScheduler(
        [S.ConstantLR(o), S.ConstantLR(other)]), "ChainedScheduler: .*index 1 .ConstantLR."),
    ("ChainedScheduler plateau", lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o), S.ReduceLROnPlateau(o)]), "ChainedScheduler: .*index 1 is a Reduce"),
    ("SequentialLR plateau", lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o), S.ReduceLROnPlateau(o)], [2]), "SequentialLR: .*index 1 is a Reduce"),
]


@pytest.mark.parametrize("name, make, match", INVALID, ids=[case[0] for case in INVALID])
def test_invalid_arguments_raise_value_error_as_in_pytorch(name, make, match):
    with pytest.raises(ValueError, match=match):
        _call(make, tn)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        _call(make, torch)


def _call(make, lib):
    """``make(S, optimizer)``, or ``make(S, optimizer, another_optimizer)``."""
    args = [lib.optim.lr_scheduler, make_optimizer(lib)]
    if make.__code__.co_argcount == 3:
        args.append(make_optimizer(lib))
    return make(*args)


def test_cycle_momentum_needs_momentum_and_lambdas_must_be_callable():
    S = optim.lr_scheduler
    adagrad = optim.Adagrad([tn.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="CyclicLR: cycle_momentum needs an optimizer with momentum"):
        S.CyclicLR(adagrad, 0.1, 1.0)
    S.CyclicLR(adagrad, 0.1, 1.0, cycle_momentum=False)
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda should be a function"):
        S.MultiplicativeLR(make_optimizer(tn), [abs, 0.5])
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.CyclicLR(torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]),
                                          0.1, 1.0)
    with pytest.raises(TypeError):
        torch.optim.lr_scheduler.MultiplicativeLR(make_optimizer(torch), [abs, 0.5])
