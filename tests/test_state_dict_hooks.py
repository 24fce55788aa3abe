"""Module state_dict and load_state_dict hooks, and ``load_state_dict(assign=True)``, each
program run on tinynet and on PyTorch (``run_both``)."""

from __future__ import annotations

import pytest
from test_pytorch_parity import run_both

import tinynet as tn


def _model(L):
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(2, 1), L.nn.BatchNorm1d(1))


def _state_dict_hooks(L):
    model = _model(L)
    calls = []
    for module in (model, model[0]):
        module.register_state_dict_pre_hook(
            lambda m, prefix, keep_vars: calls.append(("pre", type(m).__name__, prefix, keep_vars)))
        module.register_state_dict_post_hook(lambda m, sd, prefix, meta: calls.append(
            ("post", type(m).__name__, prefix, list(sd), meta)))
    model[1].register_state_dict_post_hook(
        lambda m, sd, prefix, meta: sd.pop(prefix + "num_batches_tracked"))
    keys = list(model.state_dict(keep_vars=True))
    return [calls, keys]


def _state_dict_post_hook_returning_a_dict(L):
    model = _model(L)
    model.register_state_dict_post_hook(lambda m, sd, prefix, meta: {})
    model.state_dict()


def _load_hooks_rename_fill_and_forgive(L):
    model = _model(L)
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    saved["0.old_weight"] = saved.pop("0.weight") + 1
    del saved["1.weight"]
    calls = []

    def rename(m, sd, prefix, meta, strict, missing, unexpected, errors):
        calls.append(("pre", type(m).__name__, prefix, meta, strict, list(missing),
                      list(unexpected), list(errors)))
        if prefix + "old_weight" in sd:
            sd[prefix + "weight"] = sd.pop(prefix + "old_weight")

    def forgive(m, incompatible):
        calls.append(("post", type(m).__name__, list(incompatible.missing_keys),
                      list(incompatible.unexpected_keys)))
        incompatible.missing_keys.clear()

    model.register_load_state_dict_pre_hook(rename)
    model[0].register_load_state_dict_pre_hook(rename)
    model[0].register_load_state_dict_post_hook(forgive)
    model.register_load_state_dict_post_hook(forgive)
    result = model.load_state_dict(saved)
    return [repr(result), calls, "0.old_weight" in saved, model[0].weight - saved["0.old_weight"]]


def _load_pre_hook_error_message(L):
    model = _model(L)
    model[0].register_load_state_dict_pre_hook(
        lambda m, sd, prefix, meta, strict, missing, unexpected, errors: errors.append("bad"))
    model.load_state_dict(model.state_dict())


def _load_post_hook_returning_a_value(L):
    model = _model(L)
    model.register_load_state_dict_post_hook(lambda m, incompatible: 5)
    model.load_state_dict(model.state_dict())


def _missing_and_unexpected_without_hooks(L):
    model = _model(L)
    saved = dict(model.state_dict())
    saved["extra"] = saved.pop("1.bias")
    return repr(model.load_state_dict(saved, strict=False))


def _assign_takes_the_tensors(L):
    model = L.nn.Linear(2, 1)
    weight, bias = L.ones(1, 2, dtype=L.float64), L.zeros(1)
    model.bias.requires_grad_(False)
    model.load_state_dict({"weight": weight, "bias": bias}, assign=True)
    return [type(model.weight).__name__, model.weight.dtype == L.float64,
            model.weight.requires_grad, model.bias.requires_grad, model.weight,
            model.weight.data_ptr() == weight.data_ptr() if L.__name__ == "torch"
            else model.weight.array is weight.array]


PROGRAMS = {
    "state_dict pre and post hooks, parents first for pre, children first for post":
        _state_dict_hooks,
    "a state_dict post hook returning a value raises": _state_dict_post_hook_returning_a_dict,
    "load hooks rename old keys, see the lists, and forgive missing keys under strict":
        _load_hooks_rename_fill_and_forgive,
    "a load pre hook's error message fails the load": _load_pre_hook_error_message,
    "a load post hook returning a value raises": _load_post_hook_returning_a_value,
    "missing and unexpected keys without strict": _missing_and_unexpected_without_hooks,
    "assign=True takes the given tensors as parameters": _assign_takes_the_tensors,
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_state_dict_program_agrees_with_pytorch(name):
    run_both(PROGRAMS[name])


def test_a_failed_strict_load_without_post_hooks_changes_nothing():
    model = tn.nn.Linear(2, 1)
    before = model.weight.detach().clone()
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        model.load_state_dict({"weight": tn.zeros(1, 2)})
    assert tn.equal(model.weight, before)


def test_the_state_dict_records_each_modules_version_for_its_hooks():
    model = tn.nn.Sequential(tn.nn.Linear(2, 1))
    assert dict(model.state_dict()._metadata) == {"": {"version": 1}, "0": {"version": 1}}


def test_a_parameter_whose_name_ends_like_extra_state_loads_as_a_parameter():
    module = tn.nn.Module()
    module.my_extra_state = tn.nn.Parameter(tn.zeros(2))
    module.load_state_dict({"my_extra_state": tn.ones(2)})
    assert module.my_extra_state.tolist() == [1.0, 1.0]
