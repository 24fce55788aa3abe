"""In-place ops, version counters and ``.data``, checked against PyTorch's documented rules.

Every in-place op runs through the op factory (``check_inplace``): its result equals the
out-of-place reference, its gradients of first and second order are right, and the version check
fires. The tests below pin the rest of the semantics; where torch is installed the same programs
run on both and must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import (InplaceSpec, away_from_zero, cases, check_inplace, op_settings, per_input,
                        positive, shapes, unchanged)

import tinynet as tn
import tinynet.nn as nn
from tinynet.autograd import Op


@st.composite
def broadcastable_to(draw, target: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``target``: a suffix of it with some sides set to 1."""
    start = draw(st.integers(0, len(target)))
    return tuple(draw(st.sampled_from([n, 1])) for n in target[start:])


def target_and_other(max_dims: int = 3) -> st.SearchStrategy:
    return shapes(0, max_dims).flatmap(
        lambda target: st.tuples(st.tuples(st.just(target), broadcastable_to(target)),
                                 st.just({})))


def target_only(**kwargs) -> st.SearchStrategy:
    return cases(shapes(0, 3), **kwargs)


def _mask(shape):
    return (np.arange(int(np.prod(shape))).reshape(shape) % 3) == 1


SPECS = [
    InplaceSpec("add_", lambda t, o: t.add_(o), target_and_other(), np.add),
    InplaceSpec("add_alpha", lambda t, o: t.add_(o, alpha=-2.5), target_and_other(),
                lambda a, b: a - 2.5 * b),
    InplaceSpec("sub_", lambda t, o: t.sub_(o), target_and_other(), np.subtract),
    InplaceSpec("mul_", lambda t, o: t.mul_(o), target_and_other(), np.multiply),
    InplaceSpec("div_", lambda t, o: t.div_(o), target_and_other(), np.divide,
                values=per_input(unchanged, away_from_zero(0.5))),
    InplaceSpec("pow_scalar", lambda t: t.pow_(3), target_only(), lambda a: a ** 3),
    InplaceSpec("pow_tensor", lambda t, o: t.pow_(o), target_and_other(), np.power,
                values=positive(0.5)),
    InplaceSpec("iadd", lambda t, o: t.__iadd__(o), target_and_other(), np.add),
    InplaceSpec("isub", lambda t, o: t.__isub__(o), target_and_other(), np.subtract),
    InplaceSpec("imul", lambda t, o: t.__imul__(o), target_and_other(), np.multiply),
    InplaceSpec("itruediv", lambda t, o: t.__itruediv__(o), target_and_other(), np.divide,
                values=per_input(unchanged, away_from_zero(0.5))),
    InplaceSpec("imatmul", lambda t, o: t.__imatmul__(o),
                st.integers(1, 4).map(lambda n: (((3, n), (n, n)), {})), np.matmul),
    InplaceSpec("clamp_", lambda t: t.clamp_(-0.5, 0.7), target_only(),
                lambda a: np.clip(a, -0.5, 0.7), values=lambda arrays: [
                    np.where(np.abs(np.abs(a - 0.1) - 0.6) < 0.05, a + 0.1, a) for a in arrays]),
    InplaceSpec("fill_", lambda t: t.fill_(1.5), target_only(), lambda a: np.full_like(a, 1.5)),
    InplaceSpec("zero_", lambda t: t.zero_(), target_only(), np.zeros_like),
    InplaceSpec("copy_", lambda t, o: t.copy_(o), target_and_other(),
                lambda a, b: np.broadcast_to(b, a.shape)),
    InplaceSpec("masked_fill_", lambda t: t.masked_fill_(tn.tensor(_mask(t.shape)), -3.0),
                target_only(), lambda a: np.where(_mask(a.shape), -3.0, a)),
    InplaceSpec("setitem_slice", lambda t, o: t.__setitem__((slice(None), slice(0, 2)), o),
                st.tuples(st.integers(1, 3), st.integers(2, 4), st.sampled_from([(), (1,), (2,)]))
                .map(lambda s: (((s[0], s[1]), s[2]), {})),
                lambda a, b: np.concatenate([np.broadcast_to(b, (a.shape[0], 2)), a[:, 2:]], 1)),
    InplaceSpec("setitem_int_array", lambda t, o: t.__setitem__(tn.tensor([2, 0]), o),
                st.integers(3, 4).map(lambda n: (((n, 2), (2, 2)), {})),
                lambda a, b: np.concatenate([b[1:], a[1:2], b[:1], a[3:]])),
    InplaceSpec("setitem_mask", lambda t: t.__setitem__(tn.tensor(_mask(t.shape)), 0.25),
                target_only(), lambda a: np.where(_mask(a.shape), 0.25, a)),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_inplace_op(spec, data):
    check_inplace(spec, data)


# --------------------------------------------------------------------------- PyTorch's rules
def test_manual_sgd_keeps_the_leaf():
    w = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    same = w
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with tn.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
    assert w is same and w.is_leaf and w.requires_grad and w._version == 3
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0, 3.0]) * 0.8 ** 3, rtol=1e-6)


def test_a_saved_tensor_changed_in_place_raises_at_backward():
    w = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    with tn.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: input 0 of Mul, a "
                                           r"float32 tensor of shape \(3,\), is at version 1"):
        loss.backward()


def test_an_op_that_needs_no_saved_value_allows_the_change():
    x = tn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = h + 1  # Add saves nothing, so changing h later is fine (as in PyTorch)
    h.mul_(3)
    (y + h).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


def test_an_optimizer_step_between_forward_and_backward_raises():
    model = nn.Linear(3, 1)
    opt = tn.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(tn.randn(4, 3)) ** 2).sum()
    for p in model.parameters():
        p.grad = tn.ones_like(p)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_changes_through_data_are_not_checked():
    w = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    w.data.mul_(2)  # shares storage, so the gradient sees the new values, without an error
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 8.0, 12.0])
    assert w._version == 0 and isinstance(w.data, tn.Tensor) and not w.data.requires_grad


def test_data_setter_swaps_storage_and_checks_shape_dtype_device():
    w = nn.Parameter(tn.zeros(3))
    w.data = tn.ones(3)
    assert w.requires_grad and w.is_leaf and w.sum().item() == 3.0
    with pytest.raises(RuntimeError, match=r"shape \(3,\), dtype float32 on \w+, got shape "
                                           r"\(4,\), dtype float32"):
        w.data = tn.ones(4)
    with pytest.raises(RuntimeError, match="dtype float64"):
        w.data = tn.ones(3, dtype=tn.float64)
    with pytest.raises(TypeError, match="must be set to a Tensor"):
        w.data = np.ones(3, dtype=np.float32)


def test_in_place_on_a_leaf_that_requires_grad_raises_and_on_its_views_too():
    w = tn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf Variable that requires grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="a view of another tensor"):
        w[0:2].mul_(2)
    with pytest.raises(RuntimeError, match="setitem: a leaf Variable"):
        w[0] = 5.0


def test_views_detach_and_data_share_memory_but_only_views_and_detach_share_the_version():
    x = tn.arange(6.0)
    v, d, data = x.reshape(2, 3), x.detach(), x.data
    v[0, 0] = 10.0
    assert x[0].item() == 10.0 and x._version == 1 and d._version == 1 and data._version == 0
    d.add_(1)
    assert x[0].item() == 11.0 and v._version == 2
    data.zero_()
    assert x.sum().item() == 0.0 and x._version == 2


def test_expanded_tensors_refuse_in_place_writes():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        tn.ones(3).expand(2, 3).add_(1)


def test_in_place_results_must_fit_shape_and_dtype():
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast "
                                           r"shape \[2, 3\]"):
        tn.zeros(3).add_(tn.ones(2, 3))
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired "
                                           "output type int64"):
        tn.zeros(3, dtype=tn.int64).add_(1.5)
    i = tn.zeros(3, dtype=tn.int64)
    i += 2
    i[0] = 7.9  # item assignment truncates, as in PyTorch
    assert i.tolist() == [7, 2, 2]


def test_a_float32_tensor_keeps_its_dtype_through_in_place_float64_math():
    h = tn.zeros(3)
    h += tn.ones(3, dtype=tn.float64)
    assert h.dtype == np.float32
    x = tn.ones(3, requires_grad=True)
    y = x * 1.0
    y.mul_(tn.full((3,), 2.0, dtype=tn.float64))
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_setitem_records_gradients_of_the_value_and_the_rest():
    x = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = tn.tensor(5.0, requires_grad=True)
    h = x * 2
    h[1] = v * 3
    (h * tn.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 200.0])
    assert v.grad.item() == 30.0


def test_in_place_on_an_op_output_that_the_backward_reuses_raises():
    y = tn.tensor([0.5, 1.0], requires_grad=True).exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match="the output of Exp"):
        y.sum().backward()


def test_random_fills_follow_the_seed():
    tn.manual_seed(3)
    a = tn.zeros(1000).uniform_(-2, 3)
    tn.manual_seed(3)
    b = tn.zeros(1000).uniform_(-2, 3)
    assert a.tolist() == b.tolist() and -2 <= a.min().item() and a.max().item() < 3
    n = tn.zeros(20000, dtype=tn.float64).normal_(1.0, 0.5)
    assert abs(n.mean().item() - 1.0) < 0.02 and abs(n.std().item() - 0.5) < 0.02
    assert n._version == 1


# --------------------------------------------------------------------------- what else bumps
def test_optimizers_init_and_load_state_dict_update_in_place_and_bump_versions():
    model = nn.Linear(3, 2)
    weight, version = model.weight, model.weight._version
    nn.init.normal_(model.weight)
    nn.init.constant_(model.bias, 0.5)
    assert model.weight._version == version + 1 and model.bias.tolist() == [0.5, 0.5]
    for opt in (tn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                tn.optim.Adam(model.parameters()), tn.optim.AdamW(model.parameters())):
        model.weight.grad, model.bias.grad = tn.ones_like(model.weight), tn.ones_like(model.bias)
        before = model.weight._version
        opt.step()
        assert model.weight._version == before + 1 and model.weight is weight
    before = model.weight._version
    model.load_state_dict({"weight": tn.zeros(2, 3), "bias": tn.zeros(2)})
    assert model.weight is weight and model.weight._version == before + 1
    assert model.weight.abs().sum().item() == 0.0


# --------------------------------------------------------------------------- dtypes
def test_integer_tensors_cannot_require_grad_anywhere():
    message = "only Tensors of floating point and complex dtype can require gradients"
    with pytest.raises(RuntimeError, match=message):
        tn.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        tn.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match=message):
        tn.Tensor(np.arange(3), requires_grad=True)
    t = tn.arange(3)
    with pytest.raises(RuntimeError, match=message):
        t.requires_grad = True
    with pytest.raises(RuntimeError, match=message):
        nn.Parameter(tn.arange(3))
    x = tn.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad and not (x > 2).requires_grad


def test_products_name_both_dtypes_instead_of_promoting():
    a, b = tn.randn(2, 3), tn.randn(3, 2, dtype=tn.float64)
    with pytest.raises(RuntimeError, match="matmul: .*input float32, other float64"):
        a @ b
    with pytest.raises(RuntimeError, match="linear: .*input float64, weight float32"):
        nn.Linear(3, 2)(tn.randn(4, 3, dtype=tn.float64))
    with pytest.raises(RuntimeError, match="conv2d: .*input float64, weight float32"):
        nn.Conv2d(1, 2, 3)(tn.randn(1, 1, 5, 5, dtype=tn.float64))


def test_elementwise_promotion_returns_each_gradient_in_its_inputs_dtype():
    w = tn.ones(3, requires_grad=True)
    x = tn.full((3,), 2.0, dtype=tn.float64, requires_grad=True)
    out = w * x
    assert out.dtype == np.float64
    out.sum().backward()
    assert w.grad.dtype == np.float32 and x.grad.dtype == np.float64


def test_backward_casts_the_seed_gradient_to_the_outputs_dtype():
    w = tn.ones(3, requires_grad=True)
    (w * 2).backward(tn.ones(3, dtype=tn.float64))
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [2.0, 2.0, 2.0]


def test_requires_grad_of_a_non_leaf_can_only_stay_true():
    y = tn.ones(2, requires_grad=True) * 2
    y.requires_grad_()  # already true: fine
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad = False


def test_an_op_that_defines_init_is_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="don't define __init__"):
        class Scale(Op):
            def __init__(self, factor):
                self.factor = factor

            def forward(self, a):
                return a * self.factor


# --------------------------------------------------------------------------- torch as the oracle
SCENARIOS = {
    "saved_then_changed": """
w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
loss = (w * w).sum()
with T.no_grad():
    w.mul_(2)
loss.backward()
""",
    "sgd_idiom": """
w = T.tensor([1.0, -2.0], requires_grad=True)
for _ in range(2):
    (w ** 3).sum().backward()
    with T.no_grad():
        w -= 0.01 * w.grad
    w.grad.zero_()
result = [w.tolist(), w.is_leaf, w.requires_grad, w._version]
""",
    "leaf_in_place": "w = T.ones(2, requires_grad=True)\nw.add_(1)",
    "view_of_leaf": "w = T.ones(2, requires_grad=True)\nw[0:1].mul_(2)",
    "non_leaf_chain": """
x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x * 2
y = h + 1
h.mul_(x)
h.add_(3)
(y * h).sum().backward()
result = x.grad.tolist()
""",
    "setitem": """
x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x.exp()
h = h * 1
h[T.tensor([True, False, True])] = 0.5
h[1] = h[1] * x[0]
h.sum().backward()
result = [h.tolist(), x.grad.tolist()]
""",
    "exp_output_changed": """
y = T.tensor([0.5, 1.0], requires_grad=True).exp()
y.add_(1)
y.sum().backward()
""",
    "data_not_checked": """
w = T.tensor([1.0, 2.0], requires_grad=True)
loss = (w * w).sum()
w.data.mul_(3)
loss.backward()
result = [w.grad.tolist(), w._version]
""",
    "int_add_float": "i = T.zeros(2, dtype=T.int64)\ni.add_(1.5)",
    "masked_fill_and_clamp": """
x = T.tensor([-2.0, 0.5, 3.0], requires_grad=True)
h = x * 1
h.masked_fill_(x > 2, 0.0)
h.clamp_(-1, 1)
(h * h).sum().backward()
result = [h.tolist(), x.grad.tolist()]
""",
}


def _run(module, source):
    scope = {"T": module}
    try:
        exec(source, scope)
    except RuntimeError as err:
        message = str(err)
        kind = next((k for k in ("modified by an inplace operation", "leaf Variable",
                                 "view of", "can't be cast") if k in message), message)
        return ("error", "leaf Variable" if kind == "view of" else kind)
    result = scope.get("result")
    return ("ok", result)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_in_place_semantics_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = _run(tn, SCENARIOS[name]), _run(torch, SCENARIOS[name])
    assert ours[0] == theirs[0], f"tinynet {ours}, torch {theirs}"
    if ours[0] == "ok":
        np.testing.assert_allclose(_flatten(ours[1]), _flatten(theirs[1]), rtol=1e-6)
    else:
        assert ours[1] == theirs[1], f"tinynet {ours}, torch {theirs}"


def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flatten(v)]
    return [float(value)]


def test_the_factory_catches_an_in_place_op_that_returns_a_new_tensor():
    rebinding = InplaceSpec("rebinding_add", lambda t, o: t + o, target_and_other(), np.add)
    with pytest.raises(AssertionError, match="returned a new tensor"):
        check_inplace(rebinding, _FixedDraws([((2,), (2,)), {}], np.ones(2), np.ones(2)))


def test_the_factory_catches_an_in_place_op_that_skips_the_version_bump():
    def sneaky_add(t, o):
        t.array[...] += o.array  # writes the memory behind autograd's back
        return t
    sneaky = InplaceSpec("sneaky_add", sneaky_add, target_and_other(), np.add)
    with pytest.raises(AssertionError):
        check_inplace(sneaky, _FixedDraws([((2,), (2,)), {}], np.ones(2), np.ones(2)))


class _FixedDraws:
    """Stands in for Hypothesis' data object: returns the given values in order."""

    def __init__(self, *values):
        self.values = list(values)

    def draw(self, strategy, label=None):
        return self.values.pop(0)


def test_modulo_and_floor_division_assignments_are_in_place_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        x = lib.tensor([7, -7])
        before = x
        x %= 3
        y = lib.tensor([7.0, -7.0])
        y //= 2
        z = lib.tensor([7.0, -7.0])
        z.div_(2, rounding_mode="trunc")
        assert x is before and x._version == 1
        assert x.tolist() == [1, 2] and y.tolist() == [3.0, -4.0] and z.tolist() == [3.0, -3.0]


def test_bitwise_assignments_are_in_place_and_refuse_a_wider_result():
    torch = pytest.importorskip("torch")
    for lib in (tn, torch):
        mask = lib.tensor([True, False])
        before = mask
        mask |= lib.tensor([False, True])
        mask &= lib.tensor([True, True])
        mask ^= lib.tensor([True, False])
        assert mask is before and mask.tolist() == [False, True]
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            mask |= lib.tensor([1, 2])
