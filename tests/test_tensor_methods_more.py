"""The Tensor methods PyTorch has that tinynet added late: in-place shape changes (``unsqueeze_``,
``t_``, ``resize_``…), in-place value ops (``tril_``, ``cumsum_``, ``lerp_``, ``fill_diagonal_``…),
random fills (``random_``, ``exponential_``…), ``detach_``, ``apply_``/``map_``, the legacy
``new``, small queries (``is_signed``…), ``output_nr`` and
``register_post_accumulate_grad_hook``.

Most tests are small programs run on both libraries (``run_both``): values, dtypes, versions,
the identity of what comes back, gradients and error types must agree, including the autograd
cases (a leaf that requires grad, a non-leaf in a graph, a view). Random fills can't agree on
values (the generators differ), so their distributions are tested on tinynet alone, with fixed
seeds and generous bounds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_pytorch_parity import run_both

import tinynet as tn

# ----------------------------------------------------------------- in-place shape changes
SHAPE_OPS = {
    "unsqueeze_": (lambda t: t.unsqueeze_(0), (2, 3)),
    "unsqueeze_neg": (lambda t: t.unsqueeze_(-1), (2, 3)),
    "squeeze_all": (lambda t: t.squeeze_(), (2, 1, 3)),
    "squeeze_dim": (lambda t: t.squeeze_(1), (2, 1, 3)),
    "squeeze_dim_not_1": (lambda t: t.squeeze_(0), (2, 1, 3)),
    "squeeze_tuple": (lambda t: t.squeeze_((0, 1)), (2, 1, 3)),
    "squeeze_list": (lambda t: t.squeeze_([1, -1]), (2, 1, 3)),
    "t_": (lambda t: t.t_(), (2, 3)),
    "t_1d": (lambda t: t.t_(), (3,)),
    "transpose_": (lambda t: t.transpose_(0, 1), (2, 3)),
    "transpose_same": (lambda t: t.transpose_(1, 1), (2, 3)),
    "swapaxes_": (lambda t: t.swapaxes_(0, 2), (2, 1, 3)),
    "swapdims_": (lambda t: t.swapdims_(-1, 0), (2, 1, 3)),
    "resize_same_numel": (lambda t: t.resize_(3, 2), (2, 3)),
    "resize_shrink": (lambda t: t.resize_(4), (2, 3)),
    "resize_as_": (lambda L: None, (2, 3)),  # filled in by the program (needs the library)
}
CASES = ["plain", "leaf_requires_grad", "leaf_requires_grad_no_grad", "non_leaf", "view_of_plain",
         "view_of_leaf", "view_of_non_leaf", "detached_leaf"]


def _shape_program(name, case):
    op, shape = SHAPE_OPS[name]

    def program(L):
        method = (lambda t: t.resize_as_(L.zeros(3, 2))) if name == "resize_as_" else op
        base = L.arange(float(np.prod(shape))).reshape(shape)
        x = None
        if case == "plain":
            t = base
        elif case.startswith("leaf_requires_grad"):
            t = base.requires_grad_()
        elif case == "non_leaf":
            x = base.requires_grad_()
            t = x * 1
        elif case == "view_of_plain":
            t = base.clone()[:]
        elif case == "view_of_leaf":
            t = base.requires_grad_()[:]
        elif case == "view_of_non_leaf":
            x = base.requires_grad_()
            t = (x * 1)[:]
        else:
            t = base.requires_grad_().detach()
        version = t._version
        if case.endswith("no_grad"):
            with L.no_grad():
                returned = method(t)
        else:
            returned = method(t)
        out = [returned is t, list(t.shape), t._version - version, t.is_leaf, t.requires_grad,
               t.detach().clone()]
        if x is not None:  # the gradient flows back through the new shape
            weights = L.arange(float(t.numel())).reshape(t.shape)
            (t * weights).sum().backward()
            out.append(x.grad)
        return out

    return program


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_changes_in_place_as_pytorch(name, case):
    run_both(_shape_program(name, case))


def _consumer_before_t_(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 1
    z = y + 1  # recorded before: its backward must see y's old shape
    s = y[0]   # a view recorded before, too
    y.t_()
    (z.sum() + 10 * s.sum() + (y * L.arange(6.0).reshape(3, 2)).sum()).backward()
    return [y, x.grad, y.grad_fn is not None]


def _saved_before_t_(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 1
    z = y * y  # saves y, whose version t_ bumps
    y.t_()
    z.sum().backward()
    return x.grad


def _leaf_reshaped_under_no_grad_after_a_consumer(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    z = x + 1
    with L.no_grad():
        x.t_()
    z.sum().backward()  # its gradient has x's old shape: PyTorch can't accumulate it
    return x.grad


def _leaf_reshaped_and_back_under_no_grad(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    z = x + 1
    with L.no_grad():
        x.unsqueeze_(0)
        x.squeeze_(0)
    z.sum().backward()
    return x.grad


def _leaf_reshaped_under_no_grad_then_used(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    with L.no_grad():
        x.unsqueeze_(0)
    (x * 2).sum().backward()
    return [x.grad, x.is_leaf, list(x.shape)]


def _non_leaf_reshaped_under_no_grad_keeps_its_node(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 1
    z = y + 1
    with L.no_grad():
        y.t_()
    z.sum().backward()  # recorded before: fine
    return [x.grad, y.requires_grad, y.grad_fn is not None, list(y.shape)]


def _view_t_then_write(L):
    b = L.arange(6.0).reshape(2, 3)
    v = b[:]
    v.t_()
    v[0, 1] = 100  # the same memory, seen transposed
    return [b, v, b._version, v._version, list(b.shape)]


def _view_of_non_leaf_t_gradient(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 1
    v = y.view(6)
    v.unsqueeze_(1)
    (v * L.arange(6.0).reshape(6, 1)).sum().backward()
    return [x.grad, y._version, list(y.shape)]


def _twice(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 1
    z = y.sum(1)
    y.t_()
    w = y[0]
    y.t_()
    q = y + 1
    (z.sum() + 10 * w.sum() + 100 * (q * L.arange(6.0).reshape(2, 3)).sum()).backward()
    return [x.grad, y._version]


def _hook_stays_with_the_old_value(L):
    x = L.ones(2, 3, requires_grad=True)
    y = x * 1
    seen = []
    y.register_hook(lambda g: seen.append(list(g.shape)))
    y.t_()
    (y * L.arange(6.0).reshape(3, 2)).sum().backward()
    return [seen, x.grad]


def _retained_grad_stays_with_the_old_value(L):
    x = L.ones(2, 3, requires_grad=True)
    y = x * 1
    y.retain_grad()
    y.t_()
    (y * L.arange(6.0).reshape(3, 2)).sum().backward()
    return [y.grad, x.grad]


def _in_place_value_op_after_a_shape_change(L):
    x = L.arange(6.0).reshape(2, 3).requires_grad_()
    y = x * 1
    y.unsqueeze_(0).mul_(L.arange(6.0).reshape(1, 2, 3))
    y.squeeze_()
    (y * y).sum().backward()
    return [y, x.grad, y._version]


def _double_backward_through_t_(L):
    x = L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float64, requires_grad=True)
    y = x * x
    y.t_()
    (g,) = L.autograd.grad((y * L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float64)).sum(), x,
                           create_graph=True)
    (h,) = L.autograd.grad(g.sum(), x)
    return [g, h]


SHAPE_EDGE_PROGRAMS = {
    "a consumer recorded before t_ sees the old shape": _consumer_before_t_,
    "a value saved before t_ is at a new version": _saved_before_t_,
    "a leaf reshaped under no_grad after a consumer": _leaf_reshaped_under_no_grad_after_a_consumer,
    "a leaf reshaped and back under no_grad": _leaf_reshaped_and_back_under_no_grad,
    "a leaf reshaped under no_grad, then used": _leaf_reshaped_under_no_grad_then_used,
    "a non-leaf reshaped under no_grad": _non_leaf_reshaped_under_no_grad_keeps_its_node,
    "a view transposed in place shares memory": _view_t_then_write,
    "a view of a non-leaf unsqueezed in place": _view_of_non_leaf_t_gradient,
    "two transposes, consumers between": _twice,
    "a hook stays with the old value": _hook_stays_with_the_old_value,
    "retain_grad stays with the old value": _retained_grad_stays_with_the_old_value,
    "a value op after a shape change": _in_place_value_op_after_a_shape_change,
    "double backward through t_": _double_backward_through_t_,
    "unsqueeze_ names its node": lambda L: (L.ones(2, requires_grad=True) * 1).unsqueeze_(0)
        .grad_fn.name(),
    "t_ names its node": lambda L: (L.ones(2, 2, requires_grad=True) * 1).t_().grad_fn.name(),
    "squeeze_ names its node": lambda L: [(L.ones(2, 1, requires_grad=True) * 1).squeeze_(*d)
                                          .grad_fn.name() for d in ((), (1,), ((1,),))],
    "transpose_ names its node": lambda L: (L.ones(2, 2, requires_grad=True) * 1).swapdims_(0, 1)
        .grad_fn.name(),
    "unsqueeze_ out of range": lambda L: L.zeros(2, 3).unsqueeze_(3),
    "unsqueeze_ out of range below": lambda L: L.zeros(2, 3).unsqueeze_(-4),
    "unsqueeze_ of a float dim": lambda L: L.zeros(2, 3).unsqueeze_(1.0),
    "squeeze_ out of range": lambda L: L.zeros(1, 2).squeeze_(2),
    "squeeze_ a dim twice": lambda L: L.zeros(1, 2).squeeze_((0, 0)),
    "squeeze_ a 0-d tensor": lambda L: [list(L.tensor(1.0).squeeze_(d).shape) for d in (0, -1)],
    "t_ of 3 dims": lambda L: L.zeros(1, 2, 3).t_(),
    "t_ of a 0-d tensor": lambda L: (lambda t: [t.t_() is t, t._version])(L.tensor(1.0)),
    "transpose_ out of range": lambda L: L.zeros(2, 3).transpose_(0, 2),
}


@pytest.mark.parametrize("name", list(SHAPE_EDGE_PROGRAMS))
def test_shape_change_edge_cases_as_pytorch(name):
    run_both(SHAPE_EDGE_PROGRAMS[name])


def test_nothing_is_logged_for_the_walk_unless_a_tensor_requires_grad():
    from tinynet.autograd import engine

    before = len(engine.reshaped)
    x = tn.zeros(2, 3)
    x.unsqueeze_(0).squeeze_(0).t_()
    assert len(engine.reshaped) == before
    y = tn.zeros(2, 3, requires_grad=True) * 1
    y.t_()
    assert len(engine.reshaped) == before + 1
    del y
    assert len(engine.reshaped) == before  # the entry goes with the tensor


# ----------------------------------------------------------------- resize_
def _resize(start, *sizes, prepare=None):
    def program(L):
        t = L.arange(float(start)) if isinstance(start, int) else L.arange(6.0).reshape(start)
        if prepare is not None:
            t = prepare(t)
        version = t._version
        returned = t.resize_(*sizes)
        return [returned is t, list(t.shape), t._version - version, t]
    return program


def _resize_view_within_its_memory(L):
    x = L.arange(6.0)
    v = x[1:3]
    v.resize_(4)  # reads on into x's memory
    v[0] = 100
    return [v, x, x._version]


def _resize_shrink_then_grow_back(L):
    t = L.arange(6.0)
    t.resize_(2)
    t.resize_(2, 3)  # the memory kept its values
    return [t, t._version]


def _resize_grow_keeps_the_old_values(L):
    t = L.arange(6.0).reshape(2, 3)
    t.resize_(3, 4)
    return [t.reshape(-1)[:6], list(t.shape), t._version]  # the rest is uninitialized in PyTorch


def _resize_in_any_grad_mode(L, mode):
    x = L.ones(2, 3, requires_grad=True)
    t = {"leaf": lambda: x, "non_leaf": lambda: x * 1, "view": lambda: x[0]}[mode]()
    with L.no_grad():
        return t.resize_(6)


RESIZE_PROGRAMS = {
    "same shape: no version": _resize(6, 6),
    "same numel": _resize(6, 2, 3),
    "as one tuple": _resize(6, (3, 2)),
    "as a list": _resize(6, [1, 6]),
    "as a Size": _resize(6, None),
    "shrink": _resize(6, 4),
    "to nothing": _resize(6, 0),
    "to 0-d": _resize(6, ()),
    "a transposed tensor reads its memory in order": _resize((2, 3), 3, 2, prepare=lambda t: t.t()),
    "a transposed tensor, same shape": _resize((2, 3), 3, 2, prepare=lambda t: t.t().t().t()),
    "a slice reads on in its memory": _resize(6, 3, prepare=lambda t: t[2:4]),
    "an int tensor": _resize(6, 2, 2, prepare=lambda t: t.long()),
    "view within its memory": _resize_view_within_its_memory,
    "shrink then grow back": _resize_shrink_then_grow_back,
    "grow keeps the old values": _resize_grow_keeps_the_old_values,
    "a leaf that requires grad": lambda L: L.ones(2, requires_grad=True).resize_(3),
    "a leaf that requires grad, no_grad": lambda L: _resize_in_any_grad_mode(L, "leaf"),
    "a non-leaf, no_grad": lambda L: _resize_in_any_grad_mode(L, "non_leaf"),
    "a view of a leaf, no_grad": lambda L: _resize_in_any_grad_mode(L, "view"),
    "a detached leaf": lambda L: L.ones(2, requires_grad=True).detach().resize_(3).shape[0],
    "negative size": lambda L: L.zeros(2).resize_(-1),
    "float size": lambda L: L.zeros(2).resize_(2.0),
    "no size": lambda L: L.zeros(2).resize_(),
    "resize_as_": lambda L: (lambda t: [t.resize_as_(L.zeros(2, 3, dtype=L.int64)) is t,
                                        list(t.shape), t._version, t.dtype == L.float32])(
        L.arange(6.0)),
    "resize_as_ same shape": lambda L: (lambda t: [t.resize_as_(L.zeros(6)) is t, t._version])(
        L.arange(6.0)),
    "resize_as_ of a list": lambda L: L.zeros(2).resize_as_([1, 2]),
    "tn.resize_as_": lambda L: (lambda t: [L.resize_as_(t, L.zeros(3)) is t, list(t.shape)])(
        L.zeros(2)),
}
RESIZE_PROGRAMS["as a Size"] = lambda L: (lambda t: [list(t.resize_(L.Size([2, 3])).shape)])(
    L.arange(6.0))


@pytest.mark.parametrize("name", list(RESIZE_PROGRAMS))
def test_resize_as_pytorch(name):
    run_both(RESIZE_PROGRAMS[name])


def test_resize_fills_new_elements_with_zeros_and_says_so():
    t = tn.arange(1, 7).reshape(2, 3)
    t.resize_(3, 3)
    assert t.tolist() == [[1, 2, 3], [4, 5, 6], [0, 0, 0]]
    assert "zeros" in tn.Tensor.resize_.__doc__
    x = tn.arange(6.0)
    v = x[2:4]
    v.resize_(6)  # past the end of x's memory: new memory, zeros past the old end
    assert v.tolist() == [2.0, 3.0, 4.0, 5.0, 0.0, 0.0]


# ----------------------------------------------------------------- in-place value ops
def _value_program(method, make, grad_case=True):
    """``method`` on a plain tensor (values, dtype, version, identity), and on a non-leaf with
    its gradient."""
    def program(L):
        t = make(L)
        version = t._version
        returned = method(t)
        out = [returned is t, t, t._version - version]
        if grad_case and t.dtype == L.float32:
            x = make(L).requires_grad_()
            y = x * 1
            returned = method(y)
            (y * L.arange(float(y.numel())).reshape(y.shape)).sum().backward()
            out += [returned is y, y, x.grad]
        return out
    return program


def _square(L):
    return L.arange(1.0, 10.0).reshape(3, 3)


VALUE_PROGRAMS = {
    "tril_": _value_program(lambda t: t.tril_(), _square),
    "tril_ below": _value_program(lambda t: t.tril_(-1), _square),
    "triu_": _value_program(lambda t: t.triu_(), _square),
    "triu_ above": _value_program(lambda t: t.triu_(1), lambda L: L.arange(24.0).reshape(2, 3, 4)),
    "tril_ int": _value_program(lambda t: t.tril_(), lambda L: L.ones(2, 2, dtype=L.int32)),
    "tril_ of 1 dim": lambda L: L.ones(3).tril_(),
    "tril_ float diagonal": lambda L: L.ones(2, 2).tril_(0.5),
    "cumsum_": _value_program(lambda t: t.cumsum_(1), _square),
    "cumsum_ dim 0": _value_program(lambda t: t.cumsum_(0), _square),
    "cumsum_ int32 stays int32": _value_program(lambda t: t.cumsum_(0),
                                                lambda L: L.ones(3, dtype=L.int32)),
    "cumsum_ uint8 wraps": _value_program(lambda t: t.cumsum_(0),
                                          lambda L: L.full((3,), 200, dtype=L.uint8)),
    "cumsum_ 0-d": _value_program(lambda t: t.cumsum_(0), lambda L: L.tensor(2.0)),
    "cumsum_ float16": _value_program(lambda t: t.cumsum_(0), lambda L: L.ones(3, dtype=L.float16)),
    "cumsum_ its own dtype": lambda L: (lambda t: [t.cumsum_(0, dtype=L.float32) is t, t])(
        L.ones(3)),
    "cumsum_ another dtype": lambda L: L.ones(3).cumsum_(0, dtype=L.float64),
    "cumsum_ bool": lambda L: L.ones(3, dtype=L.bool).cumsum_(0),
    "cumsum_ dim out of range": lambda L: L.ones(3).cumsum_(1),
    "cumsum_ no dim": lambda L: L.ones(3).cumsum_(),
    "cumprod_": _value_program(lambda t: t.cumprod_(1), _square),
    "cumprod_ with a zero": _value_program(lambda t: t.cumprod_(0),
                                           lambda L: L.tensor([2.0, 0.0, 3.0, 4.0])),
    "cumprod_ int": _value_program(lambda t: t.cumprod_(0), lambda L: L.tensor([1, 2, 3])),
    "cumprod_ bool": lambda L: L.ones(2, dtype=L.bool).cumprod_(0),
    "lerp_": _value_program(lambda t: t.lerp_(t.new_ones(t.shape) * 10, 0.25), _square),
    "lerp_ tensor weight": _value_program(
        lambda t: t.lerp_(t.new_ones(3) * 10, t.new_tensor([0.0, 0.5, 1.0])), _square),
    "lerp_ broadcasts end": _value_program(lambda t: t.lerp_(t.new_ones(1, 3), 0.5), _square),
    "lerp_ end can't widen self": lambda L: L.zeros(3).lerp_(L.ones(2, 3), 0.5),
    "lerp_ end of another dtype": lambda L: L.zeros(3).lerp_(L.ones(3, dtype=L.float64), 0.5),
    "lerp_ int": lambda L: L.zeros(3, dtype=L.int64).lerp_(L.ones(3, dtype=L.int64), 0.5),
    "lerp_ number end": lambda L: L.zeros(3).lerp_(1.0, 0.5),
    "fill_diagonal_": _value_program(lambda t: t.fill_diagonal_(5), lambda L: L.zeros(3, 4)),
    "fill_diagonal_ tall": _value_program(lambda t: t.fill_diagonal_(5), lambda L: L.zeros(7, 3)),
    "fill_diagonal_ tall, wrap": _value_program(lambda t: t.fill_diagonal_(5, wrap=True),
                                                lambda L: L.zeros(7, 3)),
    "fill_diagonal_ taller, wrap": _value_program(lambda t: t.fill_diagonal_(-1.5, True),
                                                  lambda L: L.ones(12, 3)),
    "fill_diagonal_ just taller, wrap": _value_program(lambda t: t.fill_diagonal_(5, wrap=True),
                                                       lambda L: L.zeros(4, 3)),
    "fill_diagonal_ wide, wrap": _value_program(lambda t: t.fill_diagonal_(5, wrap=True),
                                                lambda L: L.zeros(2, 5)),
    "fill_diagonal_ 3 dims": _value_program(lambda t: t.fill_diagonal_(5, wrap=True),
                                            lambda L: L.zeros(2, 2, 2)),
    "fill_diagonal_ int takes the float's integer part": _value_program(
        lambda t: t.fill_diagonal_(2.7), lambda L: L.zeros(2, 2, dtype=L.int64)),
    "fill_diagonal_ bool": _value_program(lambda t: t.fill_diagonal_(True),
                                          lambda L: L.zeros(2, 2, dtype=L.bool)),
    "fill_diagonal_ transposed": _value_program(lambda t: t.t().fill_diagonal_(5, wrap=True),
                                                lambda L: L.zeros(3, 7), grad_case=False),
    "fill_diagonal_ 0 rows": _value_program(lambda t: t.fill_diagonal_(1), lambda L: L.zeros(0, 3)),
    "fill_diagonal_ 1 dim": lambda L: L.zeros(2).fill_diagonal_(5),
    "fill_diagonal_ unequal dims": lambda L: L.zeros(2, 2, 3).fill_diagonal_(5),
    "fill_diagonal_ 0-d tensor value": lambda L: L.zeros(2, 2).fill_diagonal_(L.tensor(2.0)),
    "fill_diagonal_ 1-d tensor value": lambda L: L.zeros(2, 2).fill_diagonal_(L.tensor([2.0])),
    "fill_diagonal_ value requires grad": lambda L: L.zeros(2, 2).fill_diagonal_(
        L.tensor(2.0, requires_grad=True)),
    "fill_diagonal_ leaf": lambda L: L.zeros(2, 2, requires_grad=True).fill_diagonal_(1),
    "tril_ leaf": lambda L: L.zeros(2, 2, requires_grad=True).tril_(),
    "cumsum_ leaf, no_grad": lambda L: _under_no_grad(L, lambda t: t.cumsum_(0)),
}


def _under_no_grad(L, method):
    x = L.ones(3, requires_grad=True)
    with L.no_grad():
        method(x)
    return [x, x.is_leaf, x._version]


@pytest.mark.parametrize("name", list(VALUE_PROGRAMS))
def test_in_place_value_ops_as_pytorch(name):
    run_both(VALUE_PROGRAMS[name])


def _lerp_with_tensors_that_require_grad(L):
    end = L.ones(2, requires_grad=True)
    weight = L.tensor(0.25, requires_grad=True)
    y = L.zeros(2)
    y.lerp_(end, weight)
    (y * L.tensor([1.0, 2.0])).sum().backward()
    return [y, end.grad, weight.grad]


def _saved_then_changed(method):
    def program(L):
        x = L.arange(1.0, 10.0).reshape(3, 3).requires_grad_()
        y = x * 1
        z = (y * y).sum()
        method(y)
        z.backward()
    return program


MORE_VALUE_PROGRAMS = {
    "lerp_ records tensors that require grad": _lerp_with_tensors_that_require_grad,
    "tril_ after a use that saved the value": _saved_then_changed(lambda t: t.tril_()),
    "cumsum_ after a use that saved the value": _saved_then_changed(lambda t: t.cumsum_(0)),
    "fill_diagonal_ after a use that saved the value": _saved_then_changed(
        lambda t: t.fill_diagonal_(0)),
}


@pytest.mark.parametrize("name", list(MORE_VALUE_PROGRAMS))
def test_more_in_place_value_cases_as_pytorch(name):
    run_both(MORE_VALUE_PROGRAMS[name])


GRADCHECKED = {
    "tril_": lambda y: y.tril_(),
    "triu_": lambda y: y.triu_(1),
    "cumsum_": lambda y: y.cumsum_(1),
    "cumprod_": lambda y: y.cumprod_(0),
    "lerp_": lambda y: y.lerp_(tn.full((3, 3), 2.0, dtype=tn.float64), 0.3),
    "fill_diagonal_": lambda y: y.fill_diagonal_(7.0),
    "unsqueeze_": lambda y: y.unsqueeze_(1),
    "t_": lambda y: y.t_(),
    "squeeze_": lambda y: y.unsqueeze_(0).squeeze_(0),
}


@pytest.mark.parametrize("name", list(GRADCHECKED))
def test_gradients_of_in_place_ops_against_finite_differences(name):
    x = tn.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 3)), requires_grad=True)

    def fn(x):
        y = x * x  # a non-leaf, which in-place ops may change while recording
        GRADCHECKED[name](y)
        return y * tn.arange(1.0, 1.0 + y.numel(), dtype=tn.float64).reshape(y.shape)

    assert tn.gradcheck(fn, x)
    assert tn.gradgradcheck(fn, x)


def test_lerp_gradients_to_end_and_weight_against_finite_differences():
    rng = np.random.default_rng(1)
    start = tn.tensor(rng.standard_normal(4), requires_grad=True)
    end = tn.tensor(rng.standard_normal(4), requires_grad=True)
    weight = tn.tensor(rng.uniform(0, 1, 4), requires_grad=True)
    assert tn.gradcheck(lambda s, e, w: (s * 1).lerp_(e, w), [start, end, weight])


# ----------------------------------------------------------------- detach_
def _detach_non_leaf(L):
    a = L.ones(2, requires_grad=True)
    y = a * 2
    returned = y.detach_()
    return [returned is y, y.is_leaf, y.requires_grad, y._version, y.grad_fn is None]


def _detach_then_earlier_consumer(L):
    a = L.ones(2, requires_grad=True)
    y = a * 2
    z = y + 1
    y.detach_()
    z.sum().backward()
    return a.grad


def _detach_then_earlier_saver(L):
    a = L.ones(2, requires_grad=True)
    y = a * 2
    z = y * y
    y.detach_()
    z.sum().backward()


def _detach_leaf_then_earlier_graph(L):
    a = L.ones(2, requires_grad=True)
    z = a * 3
    a.detach_()
    z.sum().backward()
    return [a.grad is None, a.requires_grad]


DETACH_PROGRAMS = {
    "a non-leaf": _detach_non_leaf,
    "a leaf": lambda L: (lambda a: [a.detach_() is a, a.is_leaf, a.requires_grad, a._version])(
        L.ones(2, requires_grad=True)),
    "a view": lambda L: L.ones(2, requires_grad=True)[:1].detach_(),
    "a plain view": lambda L: L.ones(2)[:1].detach_(),
    "a view of a non-leaf": lambda L: (L.ones(2, requires_grad=True) * 1)[:1].detach_(),
    "a detached tensor": lambda L: L.ones(2, requires_grad=True).detach().detach_(),
    "an earlier consumer still reaches the graph": _detach_then_earlier_consumer,
    "an earlier op that saved it": _detach_then_earlier_saver,
    "a leaf with an earlier graph": _detach_leaf_then_earlier_graph,
    "tn.detach_": lambda L: (lambda a: [L.detach_(a) is a, a.requires_grad])(
        L.ones(2, requires_grad=True)),
}


@pytest.mark.parametrize("name", list(DETACH_PROGRAMS))
def test_detach_in_place_as_pytorch(name):
    run_both(DETACH_PROGRAMS[name])


# ----------------------------------------------------------------- apply_, map_
def _apply(method, make):
    def program(L):
        t = make(L)
        version = t._version
        returned = method(t)
        return [returned is t, t, t._version - version]
    return program


def _apply_sees_python_numbers(L):
    kinds = []
    for t in (L.tensor([1.5]), L.tensor([2]), L.tensor([True])):
        t.apply_(lambda v: kinds.append(type(v).__name__) or v)
    return kinds


CALLABLE_PROGRAMS = {
    "apply_": _apply(lambda t: t.apply_(lambda v: v * 10), lambda L: L.tensor([1.0, 2.0])),
    "apply_ int truncates": _apply(lambda t: t.apply_(lambda v: v / 2), lambda L: L.tensor([-7, 5])),
    "apply_ bool result in a float tensor": _apply(lambda t: t.apply_(lambda v: v > 1),
                                                   lambda L: L.tensor([1.0, 2.0])),
    "apply_ on a view": lambda L: (lambda b: [b[0].apply_(lambda v: 9) is not None, b])(
        L.zeros(2, 2)),
    "apply_ sees Python numbers": _apply_sees_python_numbers,
    "apply_ returning a string": lambda L: L.tensor([1.0]).apply_(lambda v: "a"),
    "apply_ returning None": lambda L: L.tensor([1.0]).apply_(lambda v: None),
    "apply_ returning complex": lambda L: L.tensor([1.0]).apply_(lambda v: 1j),
    "apply_ of a non-callable": lambda L: L.tensor([1.0]).apply_(3),
    "apply_ raising": lambda L: L.tensor([1.0]).apply_(lambda v: 1 / 0),
    "apply_ on a leaf that requires grad": lambda L: L.ones(2, requires_grad=True).apply_(abs),
    "apply_ on a non-leaf": lambda L: (L.ones(2, requires_grad=True) * 1).apply_(abs),
    "map_": _apply(lambda t: t.map_(t * 10, lambda a, b: a + b), lambda L: L.tensor([1.0, 2.0])),
    "map_ broadcasts other": _apply(lambda t: t.map_(t.new_tensor([10.0]), lambda a, b: a * b),
                                    lambda L: L.tensor([[1.0, 2.0]])),
    "map_ can't widen self": lambda L: L.ones(2).map_(L.ones(2, 2), lambda a, b: a),
    "map_ other of another dtype": lambda L: L.ones(2).map_(L.tensor([1, 2]), lambda a, b: a),
    "map_ other not a tensor": lambda L: L.ones(2).map_([1.0, 2.0], lambda a, b: a),
    "map_ other requires grad": lambda L: L.ones(2).map_(L.ones(2, requires_grad=True),
                                                         lambda a, b: a),
    "map_ returning a string": lambda L: L.ones(2).map_(L.ones(2), lambda a, b: "x"),
}


@pytest.mark.parametrize("name", list(CALLABLE_PROGRAMS))
def test_apply_and_map_as_pytorch(name):
    run_both(CALLABLE_PROGRAMS[name])


# ----------------------------------------------------------------- random fills
def _random_fill_program(method, dtype_name="float32", extra=None):
    """Everything but the drawn values: identity, shape, dtype, version, and on a non-leaf the
    (zero) gradient of the old value."""
    def program(L):
        dtype = getattr(L, dtype_name)
        t = L.zeros(4, dtype=dtype)
        version = t._version
        returned = method(t)
        out = [returned is t, list(t.shape), t.dtype == dtype, t._version - version]
        if dtype_name == "float32":
            x = L.ones(4, requires_grad=True)
            y = x * 2
            method(y)
            (y * 3).sum().backward()
            out += [x.grad, y.requires_grad]
        return out
    return program


RANDOM_PROGRAMS = {
    "random_": _random_fill_program(lambda t: t.random_()),
    "random_ int": _random_fill_program(lambda t: t.random_(), "int64"),
    "random_ bool": _random_fill_program(lambda t: t.random_(), "bool"),
    "random_ to": _random_fill_program(lambda t: t.random_(10)),
    "random_ from, to": _random_fill_program(lambda t: t.random_(-3, 10)),
    "random_ to= keyword": _random_fill_program(lambda t: t.random_(to=3), "uint8"),
    "random_ from, None": _random_fill_program(lambda t: t.random_(3, None), "int32"),
    "exponential_": _random_fill_program(lambda t: t.exponential_()),
    "exponential_ float64": _random_fill_program(lambda t: t.exponential_(2.0), "float64"),
    "cauchy_": _random_fill_program(lambda t: t.cauchy_()),
    "log_normal_": _random_fill_program(lambda t: t.log_normal_(0.0, 0.5)),
    "geometric_": _random_fill_program(lambda t: t.geometric_(0.3)),
    "geometric_ int": _random_fill_program(lambda t: t.geometric_(0.3), "int64"),
    "random_ from >= to": lambda L: L.zeros(2).random_(10, 3),
    "random_ to 0": lambda L: L.zeros(2).random_(0),
    "random_ to -1": lambda L: L.zeros(2).random_(-1),
    "random_ past uint8": lambda L: L.zeros(2, dtype=L.uint8).random_(300),
    "random_ below uint8": lambda L: L.zeros(2, dtype=L.uint8).random_(-1, 3),
    "random_ below int8": lambda L: L.zeros(2, dtype=L.int8).random_(-200, 3),
    "random_ bool to 3": lambda L: L.zeros(2, dtype=L.bool).random_(0, 3),
    "random_ past float16": lambda L: L.zeros(2, dtype=L.float16).random_(0, 70000),
    "random_ below float16": lambda L: L.zeros(2, dtype=L.float16).random_(-70000, 0),
    "random_ float16 top": lambda L: [bool(L.isfinite(
        L.zeros(50, dtype=L.float16).random_(60000, 65505)).all())],
    "random_ float bound": lambda L: L.zeros(2).random_(1.5),
    "random_ bool bound": lambda L: L.zeros(2).random_(True),
    "random_ None": lambda L: L.zeros(2).random_(None),
    "random_ three bounds": lambda L: L.zeros(2).random_(3, 10, 4),
    "random_ on a leaf": lambda L: L.zeros(2, requires_grad=True).random_(),
    "exponential_ rate 0": lambda L: L.zeros(2).exponential_(0),
    "exponential_ rate -1": lambda L: L.zeros(2).exponential_(-1),
    "exponential_ rate inf": lambda L: L.ones(2).exponential_(float("inf")),
    "exponential_ int": lambda L: L.zeros(2, dtype=L.int64).exponential_(),
    "cauchy_ sigma 0": lambda L: L.zeros(2).cauchy_(0, 0),
    "cauchy_ int": lambda L: L.zeros(2, dtype=L.int64).cauchy_(),
    "log_normal_ std 0": lambda L: L.zeros(2).log_normal_(1, 0),
    "log_normal_ int": lambda L: L.zeros(2, dtype=L.int64).log_normal_(),
    "geometric_ p 0": lambda L: L.zeros(2).geometric_(0),
    "geometric_ p 1": lambda L: L.zeros(2).geometric_(1),
    "geometric_ no p": lambda L: L.zeros(2).geometric_(),
    "geometric_ bool": lambda L: L.zeros(2, dtype=L.bool).geometric_(0.5),
    "keywords": lambda L: [list(f(L.zeros(2)).shape) for f in (
        lambda t: t.exponential_(lambd=2.0), lambda t: t.cauchy_(median=1.0, sigma=2.0),
        lambda t: t.log_normal_(mean=0.0, std=1.0), lambda t: t.geometric_(p=0.5),
        lambda t: t.random_(0, 5, generator=L.Generator()))],
}


@pytest.mark.parametrize("name", list(RANDOM_PROGRAMS))
def test_random_fills_as_pytorch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        run_both(RANDOM_PROGRAMS[name])


N = 20_000


def _draw(method, dtype=tn.float64, seed=0):
    tn.manual_seed(seed)
    return method(tn.zeros(N, dtype=dtype)).numpy().astype(np.float64)


def test_random_draws_cover_the_integers_of_their_range_uniformly():
    values = _draw(lambda t: t.random_(-3, 7))
    assert set(np.unique(values)) == set(range(-3, 7))
    counts = np.bincount((values + 3).astype(int), minlength=10)
    assert np.all(np.abs(counts / N - 0.1) < 0.015)
    assert set(np.unique(_draw(lambda t: t.random_(), tn.bool))) == {0.0, 1.0}
    top = _draw(lambda t: t.random_(), tn.float32)
    assert top.min() >= 0 and top.max() <= 2 ** 24 and top.max() > 2 ** 23
    assert np.all(top == np.round(top))
    assert _draw(lambda t: t.random_(), tn.uint8).max() == 255
    assert _draw(lambda t: t.random_(3, None), tn.int8).min() >= 3
    assert _draw(lambda t: t.random_(), tn.int64).max() > 2 ** 60  # the full range of int64


def test_random_fills_follow_their_distributions():
    e = _draw(lambda t: t.exponential_(2.0))
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.02 and abs(e.std() - 0.5) < 0.02
    c = _draw(lambda t: t.cauchy_(1.0, 2.0))
    assert abs(np.median(c) - 1.0) < 0.1  # the quartiles of Cauchy(1, 2) are 1 ± 2
    q1, q3 = np.percentile(c, [25, 75])
    assert abs(q1 + 1.0) < 0.15 and abs(q3 - 3.0) < 0.15
    g = _draw(lambda t: t.log_normal_(0.5, 0.25))
    assert g.min() > 0 and abs(np.log(g).mean() - 0.5) < 0.01 and abs(np.log(g).std() - 0.25) < 0.01
    k = _draw(lambda t: t.geometric_(0.25))
    assert k.min() == 1 and np.all(k == np.round(k)) and abs(k.mean() - 4.0) < 0.1
    assert abs((k == 1).mean() - 0.25) < 0.015 and abs((k == 2).mean() - 0.1875) < 0.015


@pytest.mark.parametrize("fill", [lambda t: t.random_(0, 100), lambda t: t.exponential_(),
                                  lambda t: t.cauchy_(), lambda t: t.log_normal_(),
                                  lambda t: t.geometric_(0.5)])
def test_random_fills_repeat_with_a_seed_and_a_generator(fill):
    assert np.array_equal(_draw(fill, seed=3), _draw(fill, seed=3))
    assert not np.array_equal(_draw(fill, seed=3), _draw(fill, seed=4))
    a = fill(tn.zeros(50, dtype=tn.float64))  # the shared generator moves on
    b = fill(tn.zeros(50, dtype=tn.float64))
    assert not np.array_equal(a.numpy(), b.numpy())


def test_random_fills_draw_from_a_given_generator():
    draws = [tn.zeros(5).exponential_(generator=tn.Generator().manual_seed(7)) for _ in range(2)]
    assert draws[0].tolist() == draws[1].tolist()
    with pytest.raises(TypeError, match="generator"):
        tn.zeros(2).geometric_(0.5, generator=3)


def test_random_beyond_a_floats_exact_integers_warns():
    with pytest.warns(UserWarning, match="random_"):
        tn.zeros(2).random_(0, 2 ** 25)


# ----------------------------------------------------------------- new, queries, output_nr
NEW_PROGRAMS = {
    "empty": lambda L: L.ones(2, dtype=L.float64).new(),
    "sizes": lambda L: (lambda t: [list(t.shape), t.dtype == L.int32, t.requires_grad])(
        L.ones(2, dtype=L.int32, requires_grad=False).new(2, 3)),
    "a Size": lambda L: list(L.ones(2).new(L.Size([2, 3])).shape),
    "a tuple is data": lambda L: L.ones(2, dtype=L.float64).new((2, 3)),
    "a list": lambda L: L.ones(2, dtype=L.float64).new([[1, 2]]),
    "a list into int": lambda L: L.ones(2, dtype=L.int32).new([1.5, -2.5]),
    "an empty tuple": lambda L: L.ones(2).new(()),
    "zero size": lambda L: L.ones(2).new(0),
    "a NumPy array": lambda L: L.ones(2).new(np.arange(3.0)),
    "a tensor of the same dtype is aliased": lambda L: (lambda y: (lambda n: [
        n is y, n.add_(1) is n, y, y._version, n.requires_grad])(L.ones(2).new(y)))(L.zeros(2)),
    "a tensor that requires grad": lambda L: (lambda y: (lambda n: [
        n.requires_grad, n.is_leaf, n.grad_fn.name()])(L.ones(2).new(y)))(
        L.zeros(2, requires_grad=True)),
    "a tensor of another dtype": lambda L: L.ones(2).new(L.tensor([1, 2])),
    "a float": lambda L: L.ones(2).new(2.0),
    "a bool": lambda L: L.ones(2).new(True),
    "a negative size": lambda L: L.ones(2).new(-1),
    "a float size": lambda L: L.ones(2).new(2, 3.0),
    "dtype keyword": lambda L: L.ones(2).new(2, dtype=L.int64),
    "device keyword": lambda L: list(L.ones(2).new(2, device="cpu").shape),
}


@pytest.mark.parametrize("name", list(NEW_PROGRAMS))
def test_new_as_pytorch(name):
    run_both(NEW_PROGRAMS[name])


def test_new_with_sizes_gives_zeros():
    assert tn.ones(3, dtype=tn.int64).new(2, 2).tolist() == [[0, 0], [0, 0]]


def _queries(L):
    dtypes = [L.float32, L.float16, L.float64, L.complex64, L.int64, L.int8, L.uint8, L.bool]
    out = [[L.zeros(1, dtype=d).is_complex(), L.zeros(1, dtype=d).is_signed(),
            L.is_complex(L.zeros(1, dtype=d)), L.is_signed(L.zeros(1, dtype=d))] for d in dtypes]
    out.append([L.tensor([0.0]).is_nonzero(), L.tensor([[2.0]]).is_nonzero(),
                L.tensor(float("nan")).is_nonzero(), L.tensor(False).is_nonzero(),
                L.is_nonzero(L.tensor(3)), L.ones(1, requires_grad=True).is_nonzero()])
    out.append([L.ones(2, 3).is_same_size(L.zeros(2, 3, dtype=L.int64)),
                L.ones(2, 3).is_same_size(L.zeros(3, 2)), L.is_same_size(L.ones(2), L.ones(2))])
    out.append([L.ones(2).is_inference(), L.is_inference(L.ones(2))])
    return out


QUERY_PROGRAMS = {
    "answers": _queries,
    "is_nonzero of nothing": lambda L: L.tensor([]).is_nonzero(),
    "is_nonzero of two": lambda L: L.tensor([1.0, 2.0]).is_nonzero(),
    "is_same_size of a list": lambda L: L.ones(2).is_same_size([1, 2]),
    "output_nr": lambda L: [L.ones(2, requires_grad=True).output_nr,
                            (L.ones(2, requires_grad=True) * 2).output_nr, L.ones(2).output_nr,
                            [t.output_nr for t in L.ones(2, 2, requires_grad=True).max(0)]],
    "output_nr can't be set": lambda L: setattr(L.ones(2), "output_nr", 3),
}


@pytest.mark.parametrize("name", list(QUERY_PROGRAMS))
def test_queries_as_pytorch(name):
    run_both(QUERY_PROGRAMS[name])


def test_output_nr_of_a_function_with_two_outputs():
    class Two(tn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3

    a, b = Two.apply(tn.ones(2, requires_grad=True))
    assert (a.output_nr, b.output_nr) == (0, 1)


# ----------------------------------------------------------------- post-accumulate-grad hooks
def _post_hook_program(L):
    log = []
    x = L.ones(2, requires_grad=True)
    handle = x.register_post_accumulate_grad_hook(
        lambda t: log.append((t is x, t.grad.clone().tolist())))
    (x * 3).sum().backward()
    (x * 3).sum().backward()  # after the second accumulation: 6
    handle.remove()
    (x * 3).sum().backward()
    return [log, type(handle).__name__]


def _post_hook_order(L):
    log = []
    x = L.ones(2, requires_grad=True)
    y = L.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: log.append("post 1"))
    x.register_post_accumulate_grad_hook(lambda t: log.append("post 2"))
    x.register_hook(lambda g: log.append("pre"))
    L.autograd.backward((x * y).sum(), inputs=[x])
    L.autograd.grad((x * 3).sum(), x)  # accumulates nothing: no hook
    (y * 3).sum().backward()  # another leaf
    return log


def _post_hook_can_step(L):
    x = L.ones(2, requires_grad=True)

    def step(t):
        with L.no_grad():
            t.sub_(0.5 * t.grad)
        t.grad = None

    x.register_post_accumulate_grad_hook(step)
    (x * x).sum().backward()
    return [x, x.grad is None, x.is_leaf]


POST_HOOK_PROGRAMS = {
    "runs after each accumulation": _post_hook_program,
    "order, inputs=, autograd.grad": _post_hook_order,
    "an optimizer step in the hook": _post_hook_can_step,
    "a hook that returns something": lambda L: (lambda x: (
        x.register_post_accumulate_grad_hook(lambda t: L.zeros(2)), (x * 3).sum().backward()))(
        L.ones(2, requires_grad=True)),
    "a non-leaf": lambda L: (L.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(
        lambda t: None),
    "a tensor that doesn't require grad": lambda L: L.ones(2).register_post_accumulate_grad_hook(
        lambda t: None),
    "create_graph": lambda L: (lambda x, log: (
        x.register_post_accumulate_grad_hook(lambda t: log.append(t.grad.requires_grad)),
        (x * x).sum().backward(create_graph=True), log)[2])(L.ones(2, requires_grad=True), []),
}


@pytest.mark.parametrize("name", list(POST_HOOK_PROGRAMS))
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_post_accumulate_grad_hooks_as_pytorch(name):
    run_both(POST_HOOK_PROGRAMS[name])


def test_post_accumulate_grad_hooks_go_with_their_leaf():
    from tinynet.autograd import hooks

    x = tn.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: None)
    assert id(x) in hooks.post_accumulate_grad_hooks
    key = id(x)
    del x
    assert key not in hooks.post_accumulate_grad_hooks


def test_methods_have_docstrings_and_tn_functions_exist():
    names = ["unsqueeze_", "squeeze_", "t_", "transpose_", "swapaxes_", "swapdims_", "resize_",
             "resize_as_", "tril_", "triu_", "cumsum_", "cumprod_", "lerp_", "fill_diagonal_",
             "detach_", "apply_", "map_", "random_", "exponential_", "cauchy_", "log_normal_",
             "geometric_", "new", "is_complex", "is_signed", "is_nonzero", "is_same_size",
             "is_inference", "register_post_accumulate_grad_hook"]
    for name in names:
        assert getattr(tn.Tensor, name).__doc__, name
    assert tn.Tensor.output_nr.__doc__
    for name in ["resize_as_", "detach_", "is_complex", "is_signed", "is_nonzero", "is_same_size",
                 "is_inference"]:
        assert callable(getattr(tn, name)) and name in tn.__all__, name
