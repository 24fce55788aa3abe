"""PyTorch's autograd surface: ``tn.autograd.Function`` (the ctx protocol), ``grad_fn.next_functions``,
``tn.autograd.grad``/``backward`` arguments and ``Variable``.

Most scenarios are written once against a module ``lib`` and run on tinynet and, where it is
installed, on torch, which must agree on values, gradients, flags and errors.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
from tinynet.autograd import Function, Variable, once_differentiable
from tinynet.testing import OpSpec, cases, check_op, op_settings, positive, shapes


def f64(*values, requires_grad=True):
    return tn.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


# --------------------------------------------------------------------------- functions, written once
def make_functions(lib):
    """The same Function subclasses for tinynet and for torch."""

    class ScaledExp(lib.autograd.Function):
        """k·exp(x), saving its output; ``k`` is a Python number (a non-tensor argument)."""

        @staticmethod
        def forward(ctx, x, k):
            ctx.flags_in_forward = ctx.needs_input_grad
            y = x.exp() * k
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y, None

    class MulAdd(lib.autograd.Function):
        """(a·b, a + b): two outputs, both inputs saved, needs_input_grad honoured."""

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b, a + b

        @staticmethod
        def backward(ctx, g_prod, g_sum):
            a, b = ctx.saved_tensors
            ga = g_prod * b + g_sum if ctx.needs_input_grad[0] else None
            gb = g_prod * a + g_sum if ctx.needs_input_grad[1] else None
            return ga, gb

    class SortWithIndices(lib.autograd.Function):
        """Values and integer indices; the indices carry no gradient."""

        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.detach().numpy(), kind="stable")
            index = lib.tensor(order)
            ctx.save_for_backward(index)
            ctx.size = x.shape[0]
            ctx.mark_non_differentiable(index)
            return x[index], index

        @staticmethod
        def backward(ctx, g_values, g_index):
            (index,) = ctx.saved_tensors
            inverse = np.empty(ctx.size, dtype=np.int64)
            inverse[index.numpy()] = np.arange(ctx.size)
            return g_values[lib.tensor(inverse)]

    class Cube(lib.autograd.Function):
        """x³ with a backward made of differentiable ops, so it has a second derivative."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    return dict(ScaledExp=ScaledExp, MulAdd=MulAdd, SortWithIndices=SortWithIndices, Cube=Cube)


FUNCTIONS = make_functions(tn)
ScaledExp, MulAdd, Cube = FUNCTIONS["ScaledExp"], FUNCTIONS["MulAdd"], FUNCTIONS["Cube"]


def scenario(lib, name):
    """Run one scenario; returns plain numbers, lists and strings to compare across libraries."""
    fns = make_functions(lib)
    t = lambda v, rg=True: lib.tensor(np.array(v, dtype=np.float64), requires_grad=rg)  # noqa: E731
    if name == "scaled_exp":
        x = t([0.5, -1.0, 2.0])
        y = fns["ScaledExp"].apply(x, 3.0)
        (y * y).sum().backward()
        return [y.tolist(), x.grad.tolist(), type(y.grad_fn).__name__, y.requires_grad]
    if name == "two_outputs_one_used":
        a, b = t([1.0, 2.0]), t([3.0, -1.0])
        prod, total = fns["MulAdd"].apply(a, b)
        prod.sum().backward()
        return [prod.tolist(), total.tolist(), a.grad.tolist(), b.grad.tolist()]
    if name == "two_outputs_both_used":
        a, b = t([1.0, 2.0]), t([3.0, -1.0], rg=False)
        prod, total = fns["MulAdd"].apply(a, b)
        (prod * 2 + total * total).sum().backward()
        return [a.grad.tolist(), b.grad is None, prod.requires_grad, total.requires_grad]
    if name == "non_differentiable_output":
        x = t([3.0, 1.0, 2.0])
        values, index = fns["SortWithIndices"].apply(x)
        (values * lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64)).sum().backward()
        return [values.tolist(), index.tolist(), index.requires_grad, x.grad.tolist()]
    if name == "double_backward":
        x = t([0.5, -2.0])
        (g,) = lib.autograd.grad(fns["Cube"].apply(x).sum(), [x], create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), [x])
        return [g.tolist(), h.tolist()]
    if name == "needs_input_grad":
        x, k = t([1.0]), t([2.0], rg=False)
        ctxs = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, scale):
                ctxs.append(ctx.needs_input_grad)
                return a * b * scale

            @staticmethod
            def backward(ctx, grad):
                ctxs.append(ctx.needs_input_grad)
                return grad, None, None

        Probe.apply(x, k, 2.0).sum().backward()
        with lib.no_grad():
            out = Probe.apply(x, k, 2.0)
        return [[list(c) for c in ctxs], out.requires_grad]
    raise KeyError(name)


SCENARIOS = ["scaled_exp", "two_outputs_one_used", "two_outputs_both_used",
             "non_differentiable_output", "double_backward", "needs_input_grad"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_function_scenarios_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = scenario(tn, name), scenario(torch, name)
    np.testing.assert_equal(ours, theirs)


def test_function_basics_without_torch():
    x = f64(0.5, -1.0)
    y = ScaledExp.apply(x, 3.0)
    assert type(y.grad_fn).__name__ == "ScaledExpBackward" and y.grad_fn.name() == "ScaledExpBackward"
    assert y.grad_fn.next_functions[0][0].variable is x and len(y.grad_fn.next_functions) == 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([0.5, -1.0]))


def test_needs_input_grad_is_one_flag_per_argument():
    result = scenario(tn, "needs_input_grad")
    assert result == [[[True, False, False], [True, False, False], [True, False, False]], False]


@pytest.mark.parametrize("fn", [lambda x: ScaledExp.apply(x, 2.5), lambda x: Cube.apply(x),
                                lambda x: MulAdd.apply(x, x * 2)[0],
                                lambda x: tn.stack(MulAdd.apply(x.exp(), x))])
def test_gradcheck_and_gradgradcheck_through_functions(fn):
    x = f64(0.3, -0.7, 1.1)
    assert tn.gradcheck(fn, [x])
    assert tn.gradgradcheck(fn, [x])


SPECS = [
    OpSpec("Function ScaledExp", lambda x: ScaledExp.apply(x, 1.5), cases(shapes()),
           lambda x: 1.5 * np.exp(x)),
    OpSpec("Function Cube", Cube.apply, cases(shapes()), lambda x: x ** 3),
    OpSpec("Function MulAdd (both outputs)", lambda a, b: tn.stack(MulAdd.apply(a, b)),
           cases(shapes(), shapes()).filter(lambda c: c[0][0] == c[0][1]),
           lambda a, b: np.stack([a * b, a + b]), values=positive()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_functions_pass_the_op_factory(spec, data):
    """Forward, both orders of gradient, no mutation, and a graph freed without cycles."""
    check_op(spec, data)


# --------------------------------------------------------------------------- saved tensors
def test_changing_a_saved_input_in_place_is_caught_at_backward():
    x = f64(1.0, 2.0)
    hidden = x * 1.0
    out = MulAdd.apply(hidden, hidden)[0]
    hidden.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*MulAddBackward"):
        out.sum().backward()


def test_changing_a_saved_output_in_place_is_caught_at_backward():
    x = f64(1.0, 2.0)
    y = ScaledExp.apply(x, 2.0)
    loss = y.sum()
    y.mul_(2.0)
    with pytest.raises(RuntimeError, match="version 1; expected version 0"):
        loss.backward()


def test_saved_tensors_are_freed_by_backward_and_kept_with_retain_graph():
    x = f64(1.0, 2.0)
    y = ScaledExp.apply(x, 2.0)
    node = y.grad_fn
    y.sum().backward(retain_graph=True)
    assert len(node.saved_tensors) == 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        node.saved_tensors  # noqa: B018


def test_a_saved_output_does_not_keep_the_graph_alive():
    x = f64(1.0, 2.0)
    y = ScaledExp.apply(x, 2.0)
    node = weakref.ref(y.grad_fn)
    gc.disable()
    try:
        del y
        assert node() is None
    finally:
        gc.enable()


def test_save_for_backward_takes_only_tensors():
    class Saver(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        Saver.apply(f64(1.0))


# --------------------------------------------------------------------------- what backward may return
def make_returning(grads_for):
    class Returning(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grads_for(grad)

    return Returning


def test_backward_results_are_checked_as_pytorch_does():
    x = f64(1.0, 2.0)
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1\)"):
        make_returning(lambda g: g).apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="invalid gradient at index 0 - got \\[3\\]"):
        make_returning(lambda g: (tn.ones(3, dtype=tn.float64), None)).apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="different than None at position 2"):
        make_returning(lambda g: (g, g)).apply(x, 2.0).sum().backward()
    # extra trailing Nones are fine; a broadcast gradient is summed back; dtypes are cast
    make_returning(lambda g: (g, None, None)).apply(x, 2.0).sum().backward()
    x.grad = None
    make_returning(lambda g: (tn.ones(3, 2), None)).apply(x, 2.0).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == np.float64


def test_broadcast_gradients_and_casts_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tn, torch):
        class Wide(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad, ones=lib.ones):
                return ones(4, 3)

        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        Wide.apply(x).sum().backward()
        results.append((x.grad.tolist(), str(x.grad.dtype).replace("torch.", "")))
    assert results[0] == results[1]


def test_an_input_returned_unchanged_becomes_a_new_node_on_the_same_memory():
    class Same(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = f64(1.0, 2.0)
    hidden = x * 1.0
    out = Same.apply(hidden)
    assert out is not hidden and out.array is hidden.array and hidden.grad_fn.name() == "MulBackward0"
    out.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_setup_context_style_and_keyword_arguments():
    class Scale(Function):
        @staticmethod
        def forward(x, factor=2.0):
            return x * factor

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.factor = 5.0 if len(inputs) > 1 else 2.0

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, None

    x = f64(1.0, 2.0)
    Scale.apply(x, 5.0).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_once_differentiable_gives_first_derivatives_and_refuses_second():
    class NumpyTanh(Function):
        @staticmethod
        def forward(ctx, x):
            y = tn.tensor(np.tanh(x.detach().numpy()))
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return tn.tensor(grad.numpy() * (1 - y.detach().numpy() ** 2))

    x = f64(0.3, -0.2)
    assert tn.gradcheck(NumpyTanh.apply, [x])
    (g,) = tn.grad(NumpyTanh.apply(x).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        (g * g).sum().backward()


def test_misuse_is_reported():
    with pytest.raises(RuntimeError, match="non-static forward"):
        Cube()(f64(1.0))
    with pytest.raises(NotImplementedError, match="forward"):
        type("NoForward", (Function,), {}).apply(f64(1.0))

    class Clash(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.inputs = x
            return x * 2

    with pytest.raises(RuntimeError, match="ctx.inputs"):
        Clash.apply(f64(1.0))


def test_the_engine_op_class_keeps_its_own_name():
    from tinynet.autograd import Op

    assert Op is not Function and not issubclass(Function, Op)


# --------------------------------------------------------------------------- next_functions
def node_tree(lib, fn, depth=6):
    """(name, children) of ``fn`` through next_functions, names as PyTorch prints them."""
    if fn is None:
        return None
    if depth == 0:
        return fn.name()
    return (fn.name(), [node_tree(lib, child, depth - 1) for child, _ in fn.next_functions])


def graph(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([0.5, -1.0], requires_grad=True)
    c = lib.tensor([2.0, 2.0])
    return ((x * w).exp() + x * c).sum(), x


def test_next_functions_walk_the_graph():
    out, x = graph(tn)
    tree = node_tree(tn, out.grad_fn)
    accumulate = "torch::autograd::AccumulateGrad"
    assert tree == ("SumBackward0", [("AddBackward0", [
        ("ExpBackward0", [("MulBackward0", [(accumulate, []), (accumulate, [])])]),
        ("MulBackward0", [(accumulate, []), None])])])
    leaf_node = out.grad_fn.next_functions[0][0].next_functions[1][0].next_functions[0][0]
    assert leaf_node.variable is x
    same = out.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert same.next_functions[0][0] is leaf_node  # one AccumulateGrad per leaf


def test_next_functions_match_torch():
    torch = pytest.importorskip("torch")
    assert node_tree(tn, graph(tn)[0].grad_fn) == node_tree(torch, graph(torch)[0].grad_fn)


def test_next_functions_of_functions_match_torch():
    torch = pytest.importorskip("torch")
    trees = []
    for lib in (tn, torch):
        fns = make_functions(lib)
        a = lib.tensor([1.0], requires_grad=True)
        prod, total = fns["MulAdd"].apply(a * 2, a)
        trees.append([node_tree(lib, (prod + total).grad_fn),
                      [index for _, index in (prod + total).grad_fn.next_functions]])
    assert trees[0] == trees[1]


# --------------------------------------------------------------------------- grad and backward
def test_grad_only_inputs_is_deprecated_and_ignored():
    x = f64(1.0, 2.0)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        (g,) = tn.autograd.grad((x * x).sum(), x, only_inputs=False)
    assert g.tolist() == [2.0, 4.0]


def test_grad_materialize_grads_and_allow_unused():
    x, unused = f64(1.0, 2.0), f64(5.0)
    y = (x * x).sum()
    assert tn.grad(y, [x, unused], retain_graph=True, allow_unused=True)[1] is None
    g = tn.grad(y, [x, unused], retain_graph=True, materialize_grads=True)
    assert g[1].tolist() == [0.0] and g[1].dtype == np.float64
    with pytest.raises(ValueError, match="allow_unused"):
        tn.grad(y, [x], allow_unused=False, materialize_grads=True)
    with pytest.raises(RuntimeError, match="not used"):
        tn.grad(y, [x, unused])


def test_grad_with_batched_grad_outputs_and_named_inputs_match_torch():
    torch = pytest.importorskip("torch")
    seeds = np.eye(3)
    results = []
    for lib in (tn, torch):
        x = lib.tensor([0.5, 1.0, -1.0], dtype=lib.float64, requires_grad=True)
        y = x.exp() * x
        (jac,) = lib.autograd.grad(y, x, lib.tensor(seeds), retain_graph=True,
                                   is_grads_batched=True)
        named = lib.autograd.grad(y.sum(), {"x": x})
        results.append((jac.tolist(), sorted(named), named["x"].tolist()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1:] == results[1][1:]


def test_autograd_backward_of_several_tensors_and_chosen_inputs():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tn, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        h = x * w
        lib.autograd.backward([h.sum(), (x * x).sum()], [lib.tensor(2.0, dtype=lib.float64), None])
        first = (x.grad.tolist(), w.grad.tolist())
        x.grad = w.grad = None
        h = x * w
        lib.autograd.backward((h * h).sum(), inputs=[w])
        results.append((first, x.grad, w.grad.tolist()))
    assert results[0] == results[1]


def test_backward_inputs_may_be_non_leaves():
    x = f64(1.0, 2.0)
    h = x * 3
    tn.autograd.backward((h * h).sum(), inputs=[h])
    assert h.grad.tolist() == [6.0, 12.0] and x.grad is None


# --------------------------------------------------------------------------- Variable
def test_variable_is_a_deprecated_alias_for_tensors():
    t = tn.tensor([1.0, 2.0])
    v = Variable(t, requires_grad=True)
    assert isinstance(t, Variable) and isinstance(v, tn.Tensor) and v is not t
    assert v.requires_grad and not t.requires_grad and v.array is t.array
    assert not isinstance([1.0], Variable)
    with pytest.raises(TypeError, match="has to be a tensor"):
        Variable([1.0])
    with pytest.warns(UserWarning, match="volatile"):
        Variable(t, volatile=True)


def test_an_input_returned_unchanged_and_marked_non_differentiable_requires_no_grad():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tn, torch):
        class PassMask(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, mask):
                ctx.mark_non_differentiable(mask)
                return a * 2, mask

            @staticmethod
            def backward(ctx, grad, grad_mask):
                return grad * 2, None

        a = lib.ones(3, requires_grad=True)
        mask = lib.ones(3, requires_grad=True)
        out, passed = PassMask.apply(a, mask)
        results.append((out.requires_grad, passed.requires_grad))
    assert results[0] == results[1] == (True, False)
