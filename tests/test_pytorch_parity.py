"""Small programs run on tinynet and on PyTorch, each written once for a library ``L``: the
values, dtypes, gradients and errors must agree. Each checks a behaviour that a side-by-side
comparison once found different (a silent difference is the worst kind: code that runs, and
gives another answer)."""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "").replace("tinynet.", "")


def _plain(value):
    """Tensors as (values, dtype name), recursively; other values as they are."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy()), _dtype_name(value.dtype)
    return value


def _agree(ours, theirs, path="result"):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _agree(a, b, f"{path}[{i}]")
    elif isinstance(theirs, tuple) and len(theirs) == 2 and isinstance(theirs[0], np.ndarray):
        assert ours[1] == theirs[1], f"{path}: dtype {ours[1]}, PyTorch {theirs[1]}"
        assert ours[0].shape == theirs[0].shape, f"{path}: shape {ours[0].shape}, PyTorch {theirs[0].shape}"
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-7, err_msg=path)
    else:
        assert ours == theirs, path


def _raises(run):
    """The type of the exception ``run()`` raises, or None (for programs that check several)."""
    try:
        run()
    except Exception as err:  # noqa: BLE001 - the type is what is compared
        return type(err).__name__
    return None


def _assign(t, index, value_of):
    """``t[index] = value_of(t)``, returning ``t``."""
    t[index] = value_of(t)
    return t


def run_both(program):
    """``program(L)`` on both libraries: both raise (RuntimeError or the same type, as tinynet
    raises ValueError for shape errors on purpose), or both return the same."""
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (tn, torch):
        try:
            outcomes.append(("returns", _plain(program(lib))))
        except Exception as err:  # noqa: BLE001 - the type is what is compared
            outcomes.append(("raises", type(err)))
    (ours_kind, ours), (theirs_kind, theirs) = outcomes
    assert ours_kind == theirs_kind, f"tinynet {ours_kind} {ours}, PyTorch {theirs_kind} {theirs}"
    if ours_kind == "raises":
        assert ours is theirs or (ours is ValueError and theirs is RuntimeError), (ours, theirs)
    else:
        _agree(ours, theirs)


def _clamp_tie_gradients(L):
    x = L.tensor([0.0, 1.0, 2.0, 0.5], requires_grad=True)
    low = L.tensor([0.0, 0.0, 0.0, 0.5], requires_grad=True)
    high = L.full((4,), 2.0, requires_grad=True)
    x.clamp(min=low, max=high).sum().backward()
    return [x.grad, low.grad, high.grad]


def _crossed_clamp_bounds(L):
    x = L.tensor([-1.0, 0.5, 3.0], requires_grad=True)
    low, high = L.full((3,), 1.0, requires_grad=True), L.full((3,), 0.0, requires_grad=True)
    out = L.clamp(x, low, high)
    out.sum().backward()
    return [out, x.grad, low.grad, high.grad]


def _element_views(L):
    b = L.arange(6.0).reshape(2, 3)
    b[0, 0].fill_(42)
    b[1][2].add_(100)
    a = L.zeros(3)
    a[1][...] = 5
    return [b, a]


def _put_other_dtype(L):
    t = L.zeros(3, dtype=L.int32)
    t[L.tensor([0, 1])] = L.tensor([1.9, -1.9])
    return t


def _put_number_at_mask(L):
    t = L.zeros(3)
    t[L.tensor([True, False, True])] = 2
    return t


def _put_at_slice(L):
    t = L.zeros(3)
    t[0:2] = L.tensor([1, 2])
    return t


def _module_to_calls(L):
    model = L.nn.Linear(2, 2)
    return [model.to(device="cpu").weight.dtype == L.float32,
            model.to("cpu", non_blocking=True).weight.dtype == L.float32,
            model.to(dtype=L.float64).weight.dtype == L.float64,
            model.to(L.ones(1)).weight.dtype == L.float32,
            type(model.state_dict()).__name__]


def _extra_state(L):
    class WithExtraState(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = L.nn.Linear(2, 1)
            self.count = 1

        def get_extra_state(self):
            return {"count": self.count}

        def set_extra_state(self, state):
            self.count = state["count"]

    state = L.nn.Sequential(WithExtraState(), L.nn.ReLU()).state_dict()
    keys = list(state)
    state["0._extra_state"] = {"count": 7}
    other = L.nn.Sequential(WithExtraState(), L.nn.ReLU())
    loaded = repr(other.load_state_dict(state))
    del state["0._extra_state"]
    partial = other.load_state_dict(state, strict=False)
    return [keys, loaded, other[0].count, list(partial.missing_keys), list(partial.unexpected_keys)]


def _parameter_dict_keys(L):
    from collections import OrderedDict

    def entries():
        return [("b", L.nn.Parameter(L.ones(1))), ("a", L.nn.Parameter(L.ones(1)))]

    return [list(L.nn.ParameterDict(dict(entries())).state_dict()),
            list(L.nn.ParameterDict(OrderedDict(entries())).keys()),
            list(L.nn.ModuleDict({"b": L.nn.ReLU(), "a": L.nn.ReLU()}).keys())]


def _nan_to_num(L):
    x = L.tensor([float("nan"), float("inf"), -float("inf"), 1.5], requires_grad=True)
    out = L.nan_to_num(x)
    (out * L.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    return [out, x.grad]


def _take_along(L):
    x = L.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    return [x.take_along_dim(x.argsort(1), 1), L.take_along_dim(x, L.tensor([[0], [2]]), 1),
            L.take_along_dim(x, L.tensor([[2, 1, 0]]), 1), L.take_along_dim(x, L.tensor([5, 0]))]


PROGRAMS = {
    "clamp with tensor bounds: a tie's gradient goes to the input": _clamp_tie_gradients,
    "clamp with crossed tensor bounds gives max": _crossed_clamp_bounds,
    "clamp of an int tensor by float bounds is float32": lambda L: L.tensor([-2, 0, 3]).clamp(-1.5, 1.5),
    "clamp of an int32 tensor by int bounds stays int32":
        lambda L: L.tensor([-2, 0, 3], dtype=L.int32).clamp(-1, 1),
    "where wants a boolean condition": lambda L: L.where(L.tensor([1, 0, 1]), L.ones(3), 0.0),
    "an element picked by ints is a view": _element_views,
    "a negative slice step is refused": lambda L: L.arange(4.0)[::-1],
    "a zero slice step is refused": lambda L: L.arange(4.0)[::0],
    "sum over dim=() reduces every dim": lambda L: L.arange(6.0).reshape(2, 3).sum(()),
    "amax over dim=() reduces every dim": lambda L: L.arange(6.0).reshape(2, 3).amax(()),
    "a dim given twice is refused": lambda L: L.arange(6.0).reshape(2, 3).sum((0, 0)),
    "a dim given twice, once negative, is refused": lambda L: L.ones(2, 3).mean((1, -1)),
    "cat promotes an int and a float tensor to float32":
        lambda L: L.cat([L.tensor([1, 2]), L.tensor([1.5])]),
    "stack promotes bool and int to int64": lambda L: L.stack([L.tensor([1, 2]), L.tensor([True, False])]),
    "cat of float32 and float64 gives float64":
        lambda L: L.cat([L.ones(2), L.ones(1, dtype=L.float64)]),
    "cat refuses a 0-d tensor": lambda L: L.cat([L.tensor(1.0), L.tensor(2.0)]),
    "cat skips the legacy empty tensor of shape (0,)": lambda L: L.cat([L.zeros(0), L.ones(2, 3)]),
    "uint8 sums to int64": lambda L: L.tensor([200, 100], dtype=L.uint8).sum(),
    "nansum of an int tensor is int64": lambda L: L.nansum(L.tensor([1, 2], dtype=L.int32)),
    "arange of a 0-d int tensor is int64": lambda L: L.arange(L.tensor(3)),
    "arange in int64 truncates float bounds": lambda L: L.arange(-2.5, 1, dtype=L.int64),
    "arange in int64 truncates the end too": lambda L: L.arange(0.5, 3.7, dtype=L.int64),
    "arange refuses a step that truncates to 0": lambda L: L.arange(0, 1, 0.3, dtype=L.int64),
    "arange refuses a step of the wrong sign": lambda L: L.arange(0, 5, -1),
    "arange in float32 counts in float64": lambda L: L.arange(0, 1, 0.1),
    "arange down by a float step": lambda L: L.arange(5, 0, -1.5),
    "setitem at index tensors refuses a value of another dtype": _put_other_dtype,
    "setitem at a mask takes a number of another kind": _put_number_at_mask,
    "setitem at a slice converts a tensor of another dtype": _put_at_slice,
    "einsum refuses operands of two dtypes":
        lambda L: L.einsum("i,i->", L.tensor([1, 2]), L.tensor([1.0, 2.0])),
    "cross refuses inputs of different ranks": lambda L: L.cross(L.ones(2, 3), L.ones(3), dim=1),
    "cross refuses an int and a float input":
        lambda L: L.cross(L.ones(3, dtype=L.int64), L.ones(3), dim=0),
    "lerp refuses an end of another dtype":
        lambda L: L.lerp(L.ones(2), L.ones(2, dtype=L.float64), 0.5),
    "lerp refuses int tensors": lambda L: L.lerp(L.ones(2, dtype=L.int64), L.ones(2, dtype=L.int64), 0.5),
    "lerp with a tensor weight": lambda L: L.lerp(L.ones(2), L.zeros(2), L.full((2,), 0.25)),
    "expand refuses -1 in a new leading dim": lambda L: L.tensor([[1.0], [2.0]]).expand(-1, 2, 3),
    "expand refuses fewer sizes than dims": lambda L: L.ones(2, 3).expand(3),
    "chunk of an empty dim gives that many empty pieces": lambda L: list(L.zeros(2, 0).chunk(3, dim=1)),
    "a random init of an int tensor is refused": lambda L: L.nn.init.normal_(L.zeros(3, dtype=L.int64)),
    "kaiming init of an int tensor is refused":
        lambda L: L.nn.init.kaiming_uniform_(L.zeros(3, 3, dtype=L.int64)),
    "constant init of an int tensor works": lambda L: L.nn.init.constant_(L.zeros(3, dtype=L.int64), 2),
    "ParameterDict sorts the keys of a plain dict": _parameter_dict_keys,
    "get_extra_state and set_extra_state travel in the state_dict": _extra_state,
    "Module.to by keyword, with non_blocking, or like a tensor; state_dict is an OrderedDict":
        _module_to_calls,
    "BCE refuses a weight that grows the input's shape": lambda L: L.nn.functional.binary_cross_entropy(
        L.full((4,), 0.5), L.ones(4), weight=L.ones(3, 4)),
    "BCE with logits refuses a pos_weight that grows the input's shape":
        lambda L: L.nn.functional.binary_cross_entropy_with_logits(
            L.zeros(4), L.ones(4), pos_weight=L.ones(3, 4), reduction="none"),
    "kl_div of a negative target is NaN, of a zero target 0": lambda L: L.nn.functional.kl_div(
        L.tensor([-1.0, -2.0, -0.5]), L.tensor([-0.5, 0.0, 0.3]), reduction="none"),
    "cross_entropy refuses int32 class indices": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3), L.tensor([0, 1], dtype=L.int32)),
    "cross_entropy takes uint8 class indices": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3), L.tensor([0, 2], dtype=L.uint8)),
    "cross_entropy refuses a weight of another dtype": lambda L: L.nn.functional.cross_entropy(
        L.zeros(2, 3, dtype=L.float64), L.tensor([0, 1]), weight=L.ones(3)),
    "a list holding lists indexes as a tuple": lambda L: L.arange(24.0).reshape(2, 3, 4)[[[0, 1], [1, 2]]],
    "a list of 0-d tensors indexes as a tuple":
        lambda L: L.arange(24.0).reshape(2, 3, 4)[[L.tensor(0), L.tensor(1)]],
    "a list with a slice indexes as a tuple": lambda L: L.arange(24.0).reshape(2, 3, 4)[[0, slice(1, 3)]],
    "an empty list selects nothing": lambda L: L.arange(24.0).reshape(2, 3, 4)[[]],
    "a complex number makes a complex64 tensor": lambda L: [L.tensor([1 + 2j]), L.tensor(1j)],
    "nan_to_num with defaults, its gradient 0 where replaced": _nan_to_num,
    "nan_to_num_ in place with bounds":
        lambda L: L.tensor([float("nan"), -float("inf"), 2.0]).nan_to_num_(1.0, 5.0, -5.0),
    "nan_to_num of an int tensor": lambda L: L.nan_to_num(L.tensor([1, 2])),
    "rot90 turns from the first dim towards the second":
        lambda L: [L.arange(6).reshape(2, 3).rot90(k) for k in (-1, 0, 1, 2, 3, 5)],
    "rot90 refuses equal dims": lambda L: L.ones(2, 2).rot90(1, (0, 0)),
    "tensor_split by sections and by indices, negative and past the end":
        lambda L: [list(L.arange(7).tensor_split(3)), list(L.arange(7).tensor_split([2, -2, 9]))],
    "take_along_dim sorts rows by argsort, broadcasting, and flattened": _take_along,
    "tensordot by a count, by lists, and outer":
        lambda L: [L.tensordot(L.arange(24.0).reshape(2, 3, 4), L.arange(12.0).reshape(3, 4), 2),
                   L.tensordot(L.arange(24.0).reshape(2, 3, 4), L.arange(6.0).reshape(3, 2),
                               ([1, 0], [0, 1])),
                   L.tensordot(L.ones(2), L.ones(3), 0)],
    "tensordot refuses dims of different sizes": lambda L: L.tensordot(L.ones(2, 3), L.ones(2, 3), 1),
    "setitem, copy_ and add_ refuse an input that partly overlaps what they write":
        lambda L: [_raises(lambda: _assign(L.arange(6.0), slice(1, None), lambda t: t[:-1])),
                   _raises(lambda: (lambda t: t[1:].copy_(t[:-1]))(L.arange(6.0))),
                   _raises(lambda: (lambda t: t[1:].add_(t[:-1]))(L.arange(6.0))),
                   _raises(lambda: (lambda t: t.copy_(t.t()))(L.arange(4.0).reshape(2, 2)))],
    "an input that overlaps all, none, or strided parts of the written memory is fine":
        lambda L: [_assign(L.arange(6.0), slice(None, None, 2), lambda t: t[1::2]),
                   _assign(L.arange(6.0), slice(None), lambda t: t),
                   _assign(L.arange(6.0), slice(0, 3), lambda t: t[3:]),
                   (lambda t: t.add_(t))(L.arange(6.0)),
                   _assign(L.arange(4.0).reshape(2, 2), 0, lambda t: t[1]),
                   _assign(L.arange(4.0).reshape(2, 2), L.tensor([0]), lambda t: t[1])],
    "sign is 0 at NaN, and a bool tensor's own sign":
        lambda L: [L.sign(L.tensor([float("nan"), -2.0, 0.0, 3.0])), L.sign(L.tensor([True, False])),
                   L.sign(L.tensor([-3, 0, 2]))],
    "isclose and allclose refuse a negative tolerance":
        lambda L: [_raises(lambda: L.isclose(L.ones(1), L.ones(1), rtol=-1)),
                   _raises(lambda: L.allclose(L.ones(1), L.ones(1), atol=-1e-9))],
    "a Python int past int64's range is refused": lambda L: [
        _raises(lambda: L.tensor([2**63])), _raises(lambda: L.tensor(2**64)),
        _raises(lambda: L.tensor([-2**63 - 1])), L.tensor([2**63 - 1, -2**63])],
    "BCE with logits broadcasts a per-class pos_weight":
        lambda L: L.nn.functional.binary_cross_entropy_with_logits(
            L.zeros(2, 3), L.ones(2, 3), pos_weight=L.tensor([1.0, 2.0, 3.0]), reduction="none"),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
def test_program_agrees_with_pytorch(name):
    run_both(PROGRAMS[name])


def test_a_uint8_index_is_a_mask_with_pytorchs_warning():
    x = tn.arange(6.0).reshape(2, 3)
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        picked = x[tn.tensor([1, 0], dtype=tn.uint8)]
    assert picked.tolist() == [[0.0, 1.0, 2.0]]


def test_a_list_read_as_a_tuple_index_warns_as_in_pytorch():
    x = tn.arange(24.0).reshape(2, 3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        assert x[[0, slice(1, 3)]].shape == (2, 4)


@pytest.mark.parametrize("name", tn.tensor_methods.IN_PLACE_UNARY)
def test_in_place_unary_methods_hold_the_op_and_its_gradient_as_in_pytorch(name):
    def program(L):
        x = L.tensor([0.25, 0.5, 0.75], dtype=L.float64, requires_grad=True)
        y = x * 1  # a non-leaf, which in-place ops may change while recording
        out = getattr(y, f"{name}_")()
        assert out is y
        (y * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
        return [y, x.grad]

    run_both(program)
