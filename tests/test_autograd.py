"""The graph: the backward walk, accumulation, retain_graph, tn.grad, grad modes, deep graphs,
and that graphs are freed by reference counting alone (no cycles)."""

import gc
import sys
import weakref

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.autograd import Op, graph_nodes


def f64(*values, requires_grad=True):
    return tn.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


# --------------------------------------------------------------------------- the walk
def test_a_tensor_used_twice_gets_both_contributions():
    x = f64(1.0, 2.0, 3.0)
    y = x * 2
    z = (y + y * y).sum()  # dz/dx = 2 + 8x
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + 8 * np.array([1.0, 2.0, 3.0]))


def test_diamond_graph_visits_each_op_once_after_all_its_consumers():
    x = f64(0.5)
    a = x.exp()
    b, c = a * 3, a.log()
    out = (b * c).sum()  # 3·e^x·x
    assert len(list(graph_nodes(out))) == 5  # exp, *3, log, *, sum: the shared exp once
    out.backward()
    expected = 3 * np.exp(0.5) * (0.5 + 1)
    np.testing.assert_allclose(x.grad.numpy(), [expected])


def test_only_leaves_that_require_grad_get_grad():
    x, w = f64(1.0, 2.0), f64(3.0, 4.0, requires_grad=False)
    h = x * w
    h.sum().backward()
    assert w.grad is None and h.grad is None and not h.is_leaf and x.is_leaf
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert x.grad.dtype == np.float64 and not x.grad.requires_grad


def test_ops_on_tensors_that_need_no_grad_record_nothing():
    a, b = tn.ones(2), tn.ones(2)
    c = (a + b).exp()
    assert not c.requires_grad and c.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        c.sum().backward()


def test_backward_with_an_explicit_gradient_and_its_shape_check():
    x = f64(1.0, 2.0)
    (x * x).backward(tn.tensor([1.0, 0.5], dtype=tn.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar"):
        (x * x).backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * x).backward(tn.ones(3, dtype=tn.float64))


def test_gradients_accumulate_across_backward_calls_like_pytorch():
    x = f64(1.0, -2.0)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2.0, 3 - 4.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_gradients_accumulate_in_place_as_pytorch_does_unless_create_graph():
    """PyTorch's AccumulateGrad adds into the existing .grad (same tensor, next version); with
    create_graph it makes a new one, a node of the graph."""
    x = f64(1.0, -2.0)
    (x * 3).sum().backward()
    grad, version = x.grad, x.grad._version
    (x * x).sum().backward()
    assert x.grad is grad and grad._version == version + 1
    np.testing.assert_array_equal(grad.numpy(), [3 + 2.0, 3 - 4.0])
    (x * x).sum().backward(create_graph=True)
    assert x.grad is not grad and x.grad.requires_grad
    np.testing.assert_array_equal(grad.numpy(), [5.0, -1.0])  # the old tensor is untouched
    np.testing.assert_array_equal(x.grad.detach().numpy(), [7.0, -5.0])
    w = f64(1.0, 2.0)
    w.grad = tn.ones(1, dtype=tn.float64).expand(2)  # a read-only broadcast view: a new sum
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])



def test_every_new_grad_owns_its_memory_as_in_pytorch():
    """A gradient passed through unchanged (add, sum, a leaf's own seed) must not alias another
    .grad, a read-only broadcast view or the caller's seed: in-place changes stay local."""
    x, b = f64(1.0, 2.0), f64(3.0, 4.0)
    (x + b).sum().backward()
    x.grad.mul_(5)  # the broadcast view that sum hands back, shared by both leaves
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    seed = tn.ones(2, dtype=tn.float64)
    leaf = f64(1.0, 2.0)
    leaf.backward(seed)
    seed.mul_(3)
    np.testing.assert_array_equal(leaf.grad.numpy(), [1.0, 1.0])
    w = f64(1.0, 2.0)
    c = tn.tensor(3.0, dtype=tn.float64, requires_grad=True)
    (w.sum() * c).backward(create_graph=True)  # the copy of the broadcast view stays in the graph
    assert w.grad.requires_grad
    np.testing.assert_array_equal(w.grad.detach().numpy(), [3.0, 3.0])


def test_backward_twice_without_retain_graph_raises_a_clear_error():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        tn.grad(y, [x])


def test_retain_graph_allows_a_second_backward_and_it_accumulates():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


def test_backward_frees_saved_state_and_keeps_it_with_retain_graph():
    x = f64(1.0, 2.0)
    y = x.exp().sum()
    nodes = list(graph_nodes(y))
    y.backward(retain_graph=True)
    assert not any(fn.released for fn in nodes)
    y.backward()
    assert all(fn.released for fn in nodes)


# --------------------------------------------------------------------------- tn.grad
def test_grad_returns_gradients_without_touching_dot_grad():
    x, w = f64(1.0, 2.0), f64(3.0, 4.0)
    gx, gw = tn.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad and not gw.requires_grad
    (gx_alone,) = tn.grad((x * w).sum(), x)  # a single tensor is accepted too
    np.testing.assert_array_equal(gx_alone.numpy(), [3.0, 4.0])


def test_grad_with_respect_to_non_leaf_tensors():
    x = f64(1.0, 2.0)
    h = x * 3
    out = (h * h).sum()
    gh, gx = tn.grad(out, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * 3 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(gx.numpy(), 18 * np.array([1.0, 2.0]))


def test_grad_allow_unused():
    x, unused = f64(1.0), f64(2.0)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        tn.grad((x * 2).sum(), [x, unused])
    gx, gu = tn.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_of_several_outputs_with_grad_outputs():
    x = f64(1.0, 2.0)
    a, b = x * 2, x * x
    (gx,) = tn.grad([a, b], [x], grad_outputs=[f64(1.0, 1.0), f64(0.5, 2.0)])
    np.testing.assert_allclose(gx.numpy(), [2 + 0.5 * 2, 2 + 2 * 4])
    with pytest.raises(ValueError, match="grad_outputs"):
        tn.grad([a, b], [x], grad_outputs=[f64(1.0, 1.0)], retain_graph=True)


def test_grad_refuses_inputs_that_do_not_require_grad():
    x = f64(1.0, requires_grad=False)
    y = f64(1.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tn.grad((x * y).sum(), [x])


def test_create_graph_gives_differentiable_gradients_for_hvps():
    x = f64(1.0, 2.0, 3.0)
    (g,) = tn.grad((x ** 3).sum(), [x], create_graph=True)
    assert g.requires_grad
    v = f64(1.0, 0.0, -1.0, requires_grad=False)
    (hv,) = tn.grad((g * v).sum(), [x])  # Hessian diag(6x) · v
    np.testing.assert_allclose(hv.numpy(), 6 * np.array([1.0, 2.0, 3.0]) * [1.0, 0.0, -1.0])


def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x = f64(2.0)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = tn.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(g2.numpy(), [12.0])


def test_third_derivative():
    x = f64(0.7)
    (g1,) = tn.grad((x ** 4).sum(), [x], create_graph=True)
    (g2,) = tn.grad(g1.sum(), [x], create_graph=True)
    (g3,) = tn.grad(g2.sum(), [x])
    np.testing.assert_allclose(g3.numpy(), [24 * 0.7])


# --------------------------------------------------------------------------- grad modes
def test_no_grad_and_enable_grad_nest_and_restore():
    x = f64(1.0)
    with tn.no_grad():
        assert not tn.is_grad_enabled()
        assert not (x * 2).requires_grad
        with tn.enable_grad():
            assert tn.is_grad_enabled() and (x * 2).requires_grad
        assert not tn.is_grad_enabled()
    assert tn.is_grad_enabled() and (x * 2).requires_grad


def test_grad_modes_restore_after_an_exception():
    with pytest.raises(KeyError):
        with tn.no_grad():
            raise KeyError("boom")
    assert tn.is_grad_enabled()


def test_grad_modes_as_decorators_and_set_grad_enabled():
    x = f64(1.0)

    @tn.no_grad()
    def frozen(t):
        return t * 2

    @tn.enable_grad()
    def recorded(t):
        return t * 2

    assert not frozen(x).requires_grad
    with tn.no_grad():
        assert recorded(x).requires_grad
    with tn.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tn.is_grad_enabled()
    tn.set_grad_enabled(False)
    try:
        assert not tn.is_grad_enabled()
    finally:
        tn.set_grad_enabled(True)
    assert tn.is_grad_enabled()


# --------------------------------------------------------------------------- deep graphs
def test_a_graph_10000_ops_deep_needs_no_recursion():
    limit = sys.getrecursionlimit()
    assert limit < 10_000  # so a recursive walk would fail here
    x = f64(0.5)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)
    y = x
    for _ in range(10_000):
        y = y + 0.0
    (g,) = tn.grad(y.sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [1.0])


def test_a_deep_graph_is_freed_without_recursion_or_collector():
    collecting = gc.isenabled()
    gc.disable()
    try:
        x = f64(1.0)
        y = x
        for _ in range(10_000):
            y = y * 1.0
        first = weakref.ref(next(fn for fn in graph_nodes(y) if fn.inputs[0] is x))
        del y
        assert first() is None
    finally:
        if collecting:
            gc.enable()


# --------------------------------------------------------------------------- memory
def _training_step(w1, w2, x, labels):
    h = F.relu(F.linear(x, w1))
    loss = F.cross_entropy(F.linear(h, w2), labels)
    loss.backward()
    with tn.no_grad():
        for w in (w1, w2):
            w.array -= 0.1 * w.grad.array
            w.grad = None
    return loss.item()


def test_a_training_step_leaves_no_arrays_behind_with_gc_disabled():
    tn.manual_seed(0)
    w1 = tn.randn(16, 8, requires_grad=True)
    w2 = tn.randn(3, 16, requires_grad=True)
    x, labels = tn.randn(32, 8), tn.tensor(np.arange(32) % 3)
    _training_step(w1, w2, x, labels)  # warm up caches outside the measured window
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        h = F.relu(F.linear(x, w1))
        loss = F.cross_entropy(F.linear(h, w2), labels)
        arrays = [weakref.ref(t.array) for fn in graph_nodes(loss) for t in fn.inputs
                  if t.grad_fn is not None] + [weakref.ref(h.array), weakref.ref(loss.array)]
        nodes = [weakref.ref(fn) for fn in graph_nodes(loss)]
        del h
        loss.backward()
        del loss
        w1.grad = w2.grad = None
        assert all(ref() is None for ref in arrays)
        assert all(ref() is None for ref in nodes)
        for _ in range(3):
            _training_step(w1, w2, x, labels)
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        if collecting:
            gc.enable()


def test_graph_without_backward_is_freed_when_the_output_goes():
    collecting = gc.isenabled()
    gc.disable()
    try:
        w = tn.randn(4, 4, requires_grad=True)
        out = F.softmax(w @ w, 1).sum()
        nodes = [weakref.ref(fn) for fn in graph_nodes(out)]
        del out
        assert all(ref() is None for ref in nodes)
    finally:
        if collecting:
            gc.enable()


def test_hvp_graph_is_freed():
    collecting = gc.isenabled()
    gc.disable()
    try:
        x = f64(1.0, 2.0)
        (g,) = tn.grad((x.exp() * x).sum(), [x], create_graph=True)
        nodes = [weakref.ref(fn) for fn in graph_nodes(g)]
        (hv,) = tn.grad(g.sum(), [x])
        del g, hv
        assert all(ref() is None for ref in nodes)
    finally:
        if collecting:
            gc.enable()


# --------------------------------------------------------------------------- custom ops
class Cube(Op):
    """x³ written by a user, with a backward in tinynet ops so it twice-differentiates."""

    def forward(self, x):
        return x ** 3

    def backward(self, g):
        (x,) = self.inputs
        return (g * 3 * x * x,)


def test_a_user_defined_function_works_with_backward_and_gradcheck():
    x = f64(1.0, -2.0)
    y = Cube.apply(x)
    assert isinstance(y.grad_fn, Cube) and "Cube" in repr(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert tn.gradcheck(Cube.apply, x) and tn.gradgradcheck(Cube.apply, x)


def test_detach_cuts_the_graph_but_shares_data():
    x = f64(1.0, 2.0)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    z = x.detach()
    assert z.array is x.array


# --------------------------------------------------------------------------- anomaly mode
# pytest.warns passes on the NumPy warnings of the 0/0 it provokes
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_node_that_made_a_nan_and_where_it_was_called():
    """sqrt's gradient at 0 is inf, times the 0 from above is NaN: PyTorch's error names the
    node and the output, and its warning shows this file's line that called sqrt."""
    x = f64(0.0, 1.0)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = tn.autograd.detect_anomaly()
    with mode:
        assert tn.is_anomaly_enabled() and tn.is_anomaly_check_nan_enabled()
        loss = (tn.sqrt(x) * 0).sum()  # the line the warning must show
        line = sys._getframe().f_lineno - 1
        with pytest.warns(UserWarning, match="Error detected in SqrtBackward0") as caught, \
                pytest.raises(RuntimeError) as error:
            loss.backward()
    assert str(error.value) == "Function 'SqrtBackward0' returned nan values in its 0th output."
    detected, = [w for w in caught if "Error detected" in str(w.message)]
    message = str(detected.message)
    assert f'File "{__file__}", line {line}' in message and "engine.py" not in message
    assert detected.filename == __file__  # the warning points at the call of backward
    assert not tn.is_anomaly_enabled()  # restored, even though the block raised


# pytest.warns passes on the NumPy warnings of the 0/0 it provokes
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_messages_match_pytorch():
    torch = pytest.importorskip("torch")
    errors = []
    for lib in (tn, torch):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with pytest.warns(UserWarning), lib.autograd.detect_anomaly(), \
                pytest.raises(RuntimeError) as error:
            (x / x).sum().backward()  # 0/0 in the gradient of the divisor
        errors.append(str(error.value))
    assert errors[0] == errors[1] == "Function 'DivBackward0' returned nan values in its 1th output."


def test_without_anomaly_mode_a_nan_gradient_passes_silently_as_in_pytorch():
    x = f64(0.0, 1.0)
    (tn.sqrt(x) * 0).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


# pytest.warns passes on the NumPy warnings of the 0/0 it provokes
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_mode_shows_the_forward_call_of_a_function_whose_backward_raises():
    class Broken(tn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken backward")

    x = f64(1.0)
    with pytest.warns(UserWarning, match="Anomaly"):
        mode = tn.autograd.detect_anomaly()
    with mode:
        out = Broken.apply(x).sum()
        line = sys._getframe().f_lineno - 1
        with pytest.warns(UserWarning, match="Error detected in BrokenBackward") as caught, \
                pytest.raises(ValueError, match="broken backward"):
            out.backward()
    assert any(f"line {line}" in str(w.message) for w in caught)


# pytest.warns passes on the NumPy warnings of the 0/0 it provokes
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_set_detect_anomaly_turns_the_mode_on_at_once_or_for_a_block():
    x = f64(0.0, 1.0)
    before = (tn.sqrt(x) * 0).sum()  # recorded with the mode off: no forward stack kept
    tn.autograd.set_detect_anomaly(True)
    try:
        assert tn.is_anomaly_enabled()
        with pytest.warns(UserWarning, match="not recorded"), pytest.raises(RuntimeError):
            before.backward()
    finally:
        tn.autograd.set_detect_anomaly(False)
    assert not tn.is_anomaly_enabled()
    with tn.autograd.set_detect_anomaly(True, check_nan=False):
        assert tn.is_anomaly_enabled() and not tn.is_anomaly_check_nan_enabled()
        (tn.sqrt(x) * 0).sum().backward()  # NaN is not checked
    assert not tn.is_anomaly_enabled() and tn.is_anomaly_check_nan_enabled()
    assert np.isnan(x.grad.numpy()[0])
