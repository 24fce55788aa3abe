"""Optimizer hooks (step, state_dict, load_state_dict, and the global step hooks) and named
parameters, each program run on tinynet and on PyTorch (``run_both``)."""

from __future__ import annotations

import importlib

import pytest
from test_pytorch_parity import run_both

import tinynet as tn


def _optimizer_module(L):
    return importlib.import_module(f"{L.__name__}.optim.optimizer")


def _model_and_step(L, optimizer_class="SGD", **settings):
    L.manual_seed(0)
    model = L.nn.Linear(2, 1)
    optimizer = getattr(L.optim, optimizer_class)(model.parameters(), lr=0.1, **settings)
    model(L.ones(1, 2)).sum().backward()
    return model, optimizer


def _step_hooks_run_in_order(L):
    _, optimizer = _model_and_step(L)
    calls = []

    def record(name):
        return lambda opt, args, kwargs: calls.append(
            (name, opt is optimizer, len(args), args[0] is optimizer, sorted(kwargs)))

    module = _optimizer_module(L)
    handles = [module.register_optimizer_step_pre_hook(record("global pre")),
               module.register_optimizer_step_post_hook(record("global post")),
               optimizer.register_step_pre_hook(record("pre")),
               optimizer.register_step_post_hook(record("post"))]
    try:
        optimizer.step()
        optimizer.step(closure=None)
    finally:
        for handle in handles:
            handle.remove()
    optimizer.step()  # no hook runs after remove()
    return calls


def _step_pre_hook_replaces_the_arguments(L):
    model, optimizer = _model_and_step(L)
    before = model.weight.detach().clone()
    losses = []

    def closure():
        losses.append(1)
        return L.tensor(3.0)

    optimizer.register_step_pre_hook(lambda opt, args, kwargs: (args, {"closure": closure}))
    loss = optimizer.step()
    return [loss, len(losses), model.weight - before]  # random streams differ: the change


def _step_pre_hook_returning_a_number(L):
    _, optimizer = _model_and_step(L)
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: 5)
    optimizer.step()


def _state_dict_hooks(L):
    _, optimizer = _model_and_step(L, momentum=0.9)
    optimizer.step()
    calls = []
    optimizer.register_state_dict_pre_hook(lambda opt: calls.append("pre"))
    optimizer.register_state_dict_post_hook(lambda opt, sd: calls.append(("post", sorted(sd))))
    optimizer.register_state_dict_post_hook(lambda opt, sd: {**sd, "note": "mine"})
    saved = optimizer.state_dict()
    return [calls, saved["note"], sorted(saved)]


def _load_state_dict_hooks(L):
    _, optimizer = _model_and_step(L, momentum=0.9)
    optimizer.step()
    saved = optimizer.state_dict()
    calls = []

    def slower(opt, state_dict):
        calls.append(("pre", sorted(state_dict)))
        groups = [{**g, "lr": 0.01} for g in state_dict["param_groups"]]
        return {**state_dict, "param_groups": groups}

    optimizer.register_load_state_dict_pre_hook(slower)
    optimizer.register_load_state_dict_post_hook(lambda opt: calls.append(
        ("post", opt.param_groups[0]["lr"])))
    optimizer.register_load_state_dict_pre_hook(lambda opt, sd: calls.append("first"), prepend=True)
    optimizer.load_state_dict(saved)
    return [calls, saved["param_groups"][0]["lr"], optimizer.param_groups[0]["lr"]]


def _named_parameters(L):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(2, 2), L.nn.Linear(2, 1))
    optimizer = L.optim.Adam(model.named_parameters(), lr=0.1)
    grouped = L.optim.SGD([{"params": model[0].named_parameters(), "lr": 0.5},
                           {"params": list(model[1].named_parameters())}], lr=0.1)
    model(L.ones(1, 2)).sum().backward()
    optimizer.step()
    saved = optimizer.state_dict()
    plain = L.optim.Adam(model.parameters(), lr=0.1)
    plain.load_state_dict(saved)
    return [list(optimizer.param_groups[0])[:3], optimizer.param_groups[0]["param_names"],
            saved["param_groups"][0]["param_names"], saved["param_groups"][0]["params"],
            [g["param_names"] for g in grouped.param_groups], list(grouped.param_groups[0])[:3],
            plain.param_groups[0]["param_names"], sorted(plain.state_dict()["state"][0])]


def _names_on_some_parameters_only(L):
    model = L.nn.Linear(2, 1)
    L.optim.SGD([("weight", model.weight), model.bias], lr=0.1)


PROGRAMS = {
    "step hooks: global pre, own pre, step, own post, global post; remove() takes them off":
        _step_hooks_run_in_order,
    "a step pre-hook returning (args, kwargs) changes the call": _step_pre_hook_replaces_the_arguments,
    "a step pre-hook returning something else raises": _step_pre_hook_returning_a_number,
    "state_dict pre and post hooks; a post hook's dict is returned": _state_dict_hooks,
    "load_state_dict hooks: a pre hook's dict is loaded, prepend runs first, the caller's "
    "dict is unchanged": _load_state_dict_hooks,
    "named parameters keep their names in param_names and the state_dict": _named_parameters,
    "names on some parameters only raise": _names_on_some_parameters_only,
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_optimizer_program_agrees_with_pytorch(name):
    run_both(PROGRAMS[name])


class _Doubled(tn.optim.SGD):
    """A subclass whose step calls its parent's: its hooks must run once, not twice."""

    def step(self, closure=None):
        return super().step(closure)


def test_a_subclass_step_calling_its_parents_runs_the_hooks_once():
    model = tn.nn.Linear(2, 1)
    optimizer = _Doubled(model.parameters(), lr=0.1)
    calls = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    optimizer.register_step_post_hook(lambda opt, args, kwargs: calls.append("post"))
    optimizer.step()
    assert calls == ["pre", "post"]
