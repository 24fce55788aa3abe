"""Module.half/type/share_memory/compile and tn.compile, against PyTorch where it runs the same;
bfloat16, which NumPy lacks, is refused with a clear message."""

from __future__ import annotations

import pytest
from test_pytorch_parity import run_both

import tinynet as tn


def _with_int_buffer(L):
    model = L.nn.Linear(2, 1)
    model.register_buffer("steps", L.tensor(3))
    return model


def _half_casts_floating_tensors_only(L):
    model = _with_int_buffer(L).half()
    return [str(model.weight.dtype), str(model.steps.dtype), model.weight.requires_grad]


def _type_casts_every_tensor(L):
    model = _with_int_buffer(L)
    same = model.type(L.float64) is model
    return [same, str(model.weight.dtype), str(model.bias.dtype), str(model.steps.dtype)]


def _type_to_an_integer_dtype_is_refused(L):
    _with_int_buffer(L).type(L.int32)


@pytest.mark.parametrize("program", [_half_casts_floating_tensors_only, _type_casts_every_tensor,
                                     _type_to_an_integer_dtype_is_refused])
def test_module_conversion_agrees_with_pytorch(program):
    def named(L):
        result = program(L)
        return [r.replace("torch.", "").replace("tinynet.", "") if isinstance(r, str) else r
                for r in result] if result else result

    run_both(named)


def test_compile_returns_what_it_is_given_and_computes_the_same():
    model = tn.nn.Linear(3, 1)
    x = tn.ones(2, 3)
    assert tn.compile(model) is model
    assert tn.compile(mode="reduce-overhead")(len) is len
    assert model.compile() is None and tn.equal(model(x), tn.nn.functional.linear(x, model.weight,
                                                                                   model.bias))
    assert model.share_memory() is model
    assert not tn.compiler.is_compiling()
    with pytest.raises(TypeError, match="expected a Module or a function"):
        tn.compile(3)


def test_bfloat16_is_refused_with_its_reason():
    with pytest.raises(AttributeError, match="no bfloat16 dtype"):
        tn.bfloat16  # noqa: B018 - the lookup is what raises
    with pytest.raises(TypeError, match="no bfloat16 dtype"):
        tn.ones(2).bfloat16()
    with pytest.raises(TypeError, match="no bfloat16 dtype"):
        tn.nn.Linear(2, 1).bfloat16()
    with pytest.raises(AttributeError, match="has no attribute 'not_a_name'"):
        tn.not_a_name  # noqa: B018
