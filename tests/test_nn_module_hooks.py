"""nn.Module against PyTorch: registration order after reassignment and weight tying, forward and
backward hooks (call order, arguments, replaced values, removal), get_submodule and friends, and
the nn.init initialisers (exact ones equal to PyTorch's, random ones by their distribution and
their determinism under tn.manual_seed).

Most scenarios are written once against a module ``lib`` and run on tinynet and on torch, in
float64 with tinynet's weights copied from torch's, and must record the same things.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn

torch = pytest.importorskip("torch")


# --------------------------------------------------------------------------- helpers
def as_numpy(value):
    """A hook argument as something comparable: arrays for tensors, tuples kept, None kept."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return tuple(as_numpy(v) for v in value)
    if isinstance(value, (tn.Tensor, torch.Tensor)):
        return np.array(value.detach().cpu().numpy() if isinstance(value, torch.Tensor)
                        else value.detach().numpy())
    return value


def assert_same_records(ours, theirs):
    assert len(ours) == len(theirs), (ours, theirs)
    for a, b in zip(ours, theirs):
        assert type(a) is type(b), (a, b)
        if isinstance(a, (tuple, list)):
            assert_same_records(list(a), list(b))
        elif isinstance(a, np.ndarray):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        else:
            assert a == b


def copy_parameters(source, target):
    """torch module's parameters into the tinynet module of the same code (same names)."""
    theirs = dict(source.named_parameters())
    ours = dict(target.named_parameters())
    assert list(theirs) == list(ours)
    with tn.no_grad():
        for name, p in ours.items():
            p.copy_(tn.tensor(theirs[name].detach().numpy()))


def both(make):
    """``make(lib)`` for torch and tinynet, tinynet's parameters copied from torch's."""
    torch.manual_seed(0)
    theirs = make(torch)
    ours = make(tn)
    copy_parameters(theirs, ours)
    return ours, theirs


def leaf(lib, array):
    return lib.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


INPUT_A = np.linspace(-1.0, 1.2, 6).reshape(2, 3)
INPUT_B = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]])


# --------------------------------------------------------------------------- registration order
def make_reassigned(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lib.nn.Linear(3, 4)
            self.decoder = lib.nn.Linear(4, 3)
            self.register_buffer("steps", lib.zeros(1))
            self.act = lib.nn.ReLU()
            self.register_buffer("scale", lib.ones(1))
            self.head = lib.nn.Linear(3, 1)
            # reassignments: each keeps its place in its registry
            self.encoder.weight = lib.nn.Parameter(lib.ones(4, 3))
            self.steps = lib.ones(1)
            self.act = lib.nn.Tanh()
            self.head.bias = None
            self.head.bias = lib.nn.Parameter(lib.zeros(1))

    return Net()


def names(module):
    return ([n for n, _ in module.named_parameters()], list(module.state_dict()),
            [n for n, _ in module.named_buffers()], [n for n, _ in module.named_modules()],
            [n for n, _ in module.named_children()])


def test_reassigning_keeps_registration_order_as_pytorch():
    ours, theirs = make_reassigned(tn), make_reassigned(torch)
    assert names(ours) == names(theirs)
    assert names(ours)[0] == ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias",
                              "head.weight", "head.bias"]


def make_tied(lib):
    class AutoEncoder(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lib.nn.Linear(4, 4)
            self.decoder = lib.nn.Linear(4, 4)
            self.decoder.weight = self.encoder.weight  # weight tying

    return AutoEncoder()


def test_weight_tying_order_and_duplicates_as_pytorch():
    ours, theirs = make_tied(tn), make_tied(torch)
    assert names(ours) == names(theirs)
    assert [n for n, _ in ours.named_parameters()] == ["encoder.weight", "encoder.bias",
                                                        "decoder.bias"]
    assert ([n for n, _ in ours.named_parameters(remove_duplicate=False)]
            == [n for n, _ in theirs.named_parameters(remove_duplicate=False)])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.decoder.weight is ours.encoder.weight
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 3


def test_a_parameter_replacing_a_buffer_or_attribute_moves_as_in_pytorch():
    def make(lib):
        m = lib.nn.Linear(2, 2)
        m.register_buffer("extra", lib.zeros(2))
        m.note = "plain attribute"
        m.extra = lib.nn.Parameter(lib.ones(2))  # a buffer becomes a parameter: goes last
        m.note = lib.nn.Parameter(lib.ones(1))
        del m.weight
        m.weight = lib.nn.Parameter(lib.ones(2, 2))  # deleted, then added again: goes last
        m.sub = lib.nn.ReLU()
        m.sub = None
        m.sub = lib.nn.Tanh()
        return m

    assert names(make(tn)) == names(make(torch))
    assert [n for n, _ in make(tn).named_parameters()] == ["bias", "extra", "note", "weight"]


def test_shared_submodules_and_remove_duplicate_as_pytorch():
    def make(lib):
        layer = lib.nn.Linear(2, 2)
        return lib.nn.Sequential(layer, lib.nn.ReLU(), layer)

    ours, theirs = make(tn), make(torch)
    for remove_duplicate in (True, False):
        assert ([n for n, _ in ours.named_modules(remove_duplicate=remove_duplicate)]
                == [n for n, _ in theirs.named_modules(remove_duplicate=remove_duplicate)])
        assert (len(list(ours.modules(remove_duplicate=remove_duplicate)))
                == len(list(theirs.modules(remove_duplicate=remove_duplicate))))
    memo = set()
    assert [n for n, _ in ours.named_modules(memo, "net")] == ["net", "net.0", "net.1"]
    assert ours in memo and ours[0] in memo  # the memo holds modules, as PyTorch's does


# --------------------------------------------------------------------------- lookups by path
def make_tree(lib):
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.nn.Linear(2, 2)
            self.bn = lib.nn.BatchNorm1d(2)
            self.register_buffer("count", lib.zeros(1))
            self.flag = 3

    return lib.nn.Sequential(Block(), lib.nn.ReLU())


@pytest.mark.parametrize("method,target", [
    ("get_submodule", "0.conv"), ("get_submodule", ""), ("get_submodule", "0.missing"),
    ("get_submodule", "0.flag"), ("get_submodule", "0.conv.weight"), ("get_submodule", "5"),
    ("get_parameter", "0.conv.weight"), ("get_parameter", "0.conv.missing"),
    ("get_parameter", "0.count"), ("get_parameter", "1.weight"), ("get_parameter", "x.weight"),
    ("get_buffer", "0.bn.running_mean"), ("get_buffer", "0.count"), ("get_buffer", "0.conv.bias"),
    ("get_buffer", "0.flag"), ("get_buffer", "0.nothing"),
])
def test_get_submodule_parameter_buffer_as_pytorch(method, target):
    ours, theirs = make_tree(tn), make_tree(torch)
    try:
        expected = getattr(theirs, method)(target)
    except AttributeError as e:
        with pytest.raises(AttributeError) as info:
            getattr(ours, method)(target)
        assert str(info.value) == str(e)
        return
    found = getattr(ours, method)(target)
    assert type(found).__name__ == type(expected).__name__
    if method != "get_submodule":
        assert tuple(found.shape) == tuple(expected.shape)
    else:
        assert found is ours.get_submodule(target) and type(found).__name__ == type(expected).__name__


def test_set_submodule_and_register_module():
    net = make_tree(tn)
    net.set_submodule("0.conv", nn.Linear(2, 5))
    assert net[0].conv.out_features == 5
    assert [n for n, _ in net.named_parameters()][:2] == ["0.conv.weight", "0.conv.bias"]
    with pytest.raises(AttributeError, match="has no attribute `new`"):
        net.set_submodule("0.new", nn.ReLU(), strict=True)
    net.set_submodule("0.new", nn.ReLU())
    with pytest.raises(AttributeError, match="`flag` is not an nn.Module"):
        net.set_submodule("0.flag", nn.ReLU())
    with pytest.raises(ValueError, match="without a target"):
        net.set_submodule("", nn.ReLU())
    net.register_module("tail", nn.Tanh())
    assert net.tail is net.get_submodule("tail")


# --------------------------------------------------------------------------- forward hooks
def run_forward_hook_scenario(lib):
    """Pre-hooks and hooks, with prepend, kwargs, replacement and removal; returns the record."""
    torch.manual_seed(0)
    log = []

    class Scaled(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 2)

        def forward(self, x, shift=0.0):
            log.append(("forward", as_numpy(x), shift))
            return self.lin(x) + shift

    model = Scaled().double()
    if lib is tn:
        copy_parameters(run_forward_hook_scenario.torch_model, model)
    else:
        run_forward_hook_scenario.torch_model = model

    h1 = model.register_forward_pre_hook(lambda m, args: log.append(("pre1", as_numpy(args))))
    h2 = model.register_forward_pre_hook(lambda m, args: (args[0] * 2,))  # replaces the input
    h3 = model.register_forward_pre_hook(lambda m, args: log.append(("pre0", len(args))),
                                         prepend=True)
    h4 = model.register_forward_pre_hook(
        lambda m, args, kwargs: (args, {**kwargs, "shift": kwargs.get("shift", 0.0) + 1.0}),
        with_kwargs=True)
    h5 = model.register_forward_hook(lambda m, args, out: log.append(("hook1", as_numpy(args),
                                                                       as_numpy(out))))
    h6 = model.register_forward_hook(lambda m, args, out: out * 10)  # replaces the output
    h7 = model.register_forward_hook(
        lambda m, args, kwargs, out: log.append(("hook_kw", sorted(kwargs), as_numpy(out))),
        with_kwargs=True)
    h8 = model.register_forward_hook(lambda m, args, out: log.append(("hook0",)), prepend=True)
    x = lib.tensor(INPUT_A)
    log.append(("out", as_numpy(model(x, shift=0.5))))
    log.append(("forward() skips hooks", as_numpy(model.forward(x))))
    h2.remove()
    h6.remove()
    h2.remove()  # a second remove does nothing
    log.append(("out after remove", as_numpy(model(x))))
    for h in (h1, h3, h4, h5, h7, h8):
        h.remove()
    with model.register_forward_hook(lambda m, args, out: out + 100):
        log.append(("with", as_numpy(model(x))))
    log.append(("after with", as_numpy(model(x))))
    # a single value returned by a pre-hook is wrapped in a tuple
    with model.register_forward_pre_hook(lambda m, args: args[0] * 0):
        log.append(("single", as_numpy(model(x))))
    return log


def test_forward_hooks_as_pytorch():
    theirs = run_forward_hook_scenario(torch)
    ours = run_forward_hook_scenario(tn)
    assert_same_records(ours, theirs)
    assert [r[0] for r in ours][:7] == ["pre0", "pre1", "forward", "hook0", "hook1", "hook_kw", "out"]


def test_forward_pre_hook_with_kwargs_must_return_a_pair():
    for lib in (tn, torch):
        layer = lib.nn.Linear(2, 2)
        layer.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
            layer(lib.ones(1, 2))


def test_always_call_hooks_run_when_forward_raises():
    records = {}
    for lib in (tn, torch):
        log = []

        class Failing(lib.nn.Module):
            def forward(self, x, flag=False):
                raise ValueError("boom")

        m = Failing()
        m.register_forward_hook(lambda mod, args, out, log=log: log.append(("plain", out)))
        m.register_forward_hook(lambda mod, args, out, log=log: log.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, args, kwargs, out, log=log: log.append(("kw", sorted(kwargs))),
                                with_kwargs=True, always_call=True)

        def broken(mod, args, out):
            raise KeyError("inner")

        m.register_forward_hook(broken, always_call=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="boom"):
                m(lib.ones(1), flag=True)
        log.append([str(w.message) for w in caught])
        records[lib] = log
    assert records[tn] == records[torch]
    assert records[tn][:2] == [("always", None), ("kw", ["flag"])]


# --------------------------------------------------------------------------- backward hooks
def make_mix(lib):
    class Mix(lib.nn.Module):
        """Two tensor inputs and a number; three outputs, one of them not differentiable."""

        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)

        def forward(self, a, b, scale, unused=None):
            h = self.lin(a) * b
            return h * scale, (h ** 2).sum(dim=1), a.detach()

    return Mix().double()


def run_backward_scenario(lib, model, *, replace=False, b_requires_grad=True, use_second=True,
                          pre_hook=True, full_hook=True):
    log = []

    def record_pre(m, grad_output):
        log.append(("pre", as_numpy(grad_output)))
        if replace:
            return (grad_output[0] * 2,) + tuple(grad_output[1:])
        return None

    def record_full(m, grad_input, grad_output):
        log.append(("full", as_numpy(grad_input), as_numpy(grad_output)))
        if replace:
            return tuple(None if g is None else g * 3 for g in grad_input)
        return None

    handles = []
    if pre_hook:
        handles.append(model.register_full_backward_pre_hook(record_pre))
    if full_hook:
        handles.append(model.register_full_backward_hook(record_full))
    a = leaf(lib, INPUT_A)
    b = lib.tensor(INPUT_B, requires_grad=b_requires_grad)
    out, squares, detached = model(a, b, 0.5, unused="text")
    log.append(("detached requires grad", detached.requires_grad))
    loss = (out * lib.tensor(INPUT_B)).sum() + (squares.sum() if use_second else 0)
    loss.backward()
    log.append(("a.grad", as_numpy(a.grad)))
    log.append(("b.grad", as_numpy(b.grad)))
    log.append(("params", tuple(as_numpy(p.grad) for p in model.parameters())))
    for h in handles:
        h.remove()
    return log


@pytest.mark.parametrize("options", [
    {}, {"replace": True}, {"b_requires_grad": False}, {"use_second": False},
    {"replace": True, "use_second": False}, {"pre_hook": False}, {"full_hook": False},
])
def test_full_backward_hooks_values_as_pytorch(options):
    ours, theirs = both(make_mix)
    expected = run_backward_scenario(torch, theirs, **options)
    assert_same_records(run_backward_scenario(tn, ours, **options), expected)


def test_full_backward_hooks_fire_in_reverse_order_through_a_network():
    def make(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()

    records = {}
    for lib, model in zip((tn, torch), both(make)):
        log = []
        for name, layer in model.named_children():
            layer.register_full_backward_hook(
                lambda m, gi, go, name=name, log=log: log.append((name, as_numpy(gi), as_numpy(go))))
            layer.register_full_backward_pre_hook(
                lambda m, go, name=name, log=log: log.append(("pre " + name, as_numpy(go))))
            layer.register_forward_hook(lambda m, args, out, name=name, log=log: log.append(("fwd " + name,)))
        x = leaf(lib, INPUT_A)
        model(x).pow(2).sum().backward()
        log.append(("x.grad", as_numpy(x.grad)))
        records[lib] = log
    assert_same_records(records[tn], records[torch])
    assert [r[0] for r in records[tn]][:9] == ["fwd 0", "fwd 1", "fwd 2", "pre 2", "2", "pre 1", "1",
                                               "pre 0", "0"]


def test_full_backward_hook_without_inputs_requiring_grad_warns_as_pytorch():
    records = {}
    for lib, model in zip((tn, torch), both(lambda lib: lib.nn.Linear(3, 2).double())):
        log = []
        model.register_full_backward_hook(
            lambda m, gi, go, log=log: log.append((as_numpy(gi), as_numpy(go))))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model(lib.tensor(INPUT_A)).sum().backward()
        log.append([str(w.message)[:60] for w in caught])
        log.append(as_numpy(model.weight.grad))
        records[lib] = log
        model.register_full_backward_hook(lambda m, gi, go, lib=lib: (lib.ones(2, 3),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="should always return None"):
                model(lib.tensor(INPUT_A)).sum().backward()
    assert_same_records(records[tn], records[torch])
    assert records[tn][0][0] == (None,)


def test_backward_hook_errors_as_pytorch():
    for lib, model in zip((tn, torch), both(make_mix)):
        handle = model.register_full_backward_hook(lambda m, gi, go: (gi[0],))
        out = model(leaf(lib, INPUT_A), leaf(lib, INPUT_B), 2.0)
        with pytest.raises(RuntimeError, match="invalid number of grad_input, got 1, but expected 3"):
            out[0].sum().backward()
        handle.remove()
        model.register_full_backward_pre_hook(lambda m, go: go[:1])
        out = model(leaf(lib, INPUT_A), leaf(lib, INPUT_B), 2.0)
        with pytest.raises(RuntimeError, match="invalid number of grad_output, got 1, but expected 3"):
            out[0].sum().backward()
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
            model.register_backward_hook(lambda m, gi, go: None)
        other = lib.nn.ReLU()
        other.register_backward_hook(lambda m, gi, go: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
            other.register_full_backward_hook(lambda m, gi, go: None)


def test_backward_hooks_see_views_and_in_place_changes_raise():
    relu = nn.ReLU(inplace=True)
    relu.register_full_backward_hook(lambda m, gi, go: None)
    x = leaf(tn, INPUT_A)
    with pytest.raises(RuntimeError, match="in place"):
        relu(x * 1)
    seen = []
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    layer.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    layer.register_full_backward_hook(lambda m, gi, go: None)
    y = x * 1
    layer(y)
    assert seen[0] is y and seen[1] is not y  # forward gets a view, as PyTorch's BackwardHook
    assert np.shares_memory(seen[1].array, y.array)


def test_removed_backward_hook_still_fires_for_a_forward_already_run_as_pytorch():
    counts = {}
    for lib, model in zip((tn, torch), both(lambda lib: lib.nn.Linear(3, 2).double())):
        calls = []
        handle = model.register_full_backward_hook(lambda m, gi, go, calls=calls: calls.append(1))
        out = model(leaf(lib, INPUT_A))
        handle.remove()
        out.sum().backward()
        model(leaf(lib, INPUT_A)).sum().backward()
        counts[lib] = len(calls)
    assert counts[tn] == counts[torch] == 1


def test_backward_hooks_with_autograd_grad_and_retain_graph():
    records = {}
    for lib, model in zip((tn, torch), both(lambda lib: lib.nn.Linear(3, 2).double())):
        log = []
        model.register_full_backward_hook(lambda m, gi, go, log=log: log.append(as_numpy(gi)))
        x = leaf(lib, INPUT_A)
        y = model(x).tanh().sum()
        (g,) = lib.autograd.grad(y, x, retain_graph=True)
        log.append(as_numpy(g))
        y.backward()
        log.append(as_numpy(x.grad))
        records[lib] = log
    assert_same_records(records[tn], records[torch])
    assert len(records[tn]) == 4


def test_legacy_backward_hook_where_it_matches_and_errors_where_it_would_not():
    records = {}
    for lib in (tn, torch):
        log = []
        relu = lib.nn.ReLU()
        relu.register_backward_hook(
            lambda m, gi, go, log=log: log.append((as_numpy(gi), as_numpy(go))))
        z = leaf(lib, INPUT_A)
        relu(z * 2).sum().backward()
        relu(z.detach()).sum() if lib is tn else None  # no graph: no hook, no error
        log.append(as_numpy(z.grad))
        records[lib] = log
    assert_same_records(records[tn], records[torch])
    layer = nn.Linear(3, 2).double()
    layer.register_backward_hook(lambda m, gi, go: None)
    with pytest.raises(RuntimeError, match="register_full_backward_hook"):
        layer(leaf(tn, INPUT_A))


def test_hooks_cost_nothing_when_absent_and_modules_without_hook_dicts_still_work():
    layer = nn.Linear(3, 2)
    for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
        object.__delattr__(layer, name)  # a module built without Module.__init__'s registries
    assert tuple(layer(tn.ones(1, 3)).shape) == (1, 2)
    with layer.register_forward_hook(lambda m, args, out: out * 0):
        assert float(layer(tn.ones(1, 3)).abs().sum()) == 0


# --------------------------------------------------------------------------- nn.init
def test_exact_initialisers_equal_pytorch():
    cases = [
        ("eye_", (3, 5), {}), ("eye_", (4, 2), {}),
        ("dirac_", (4, 3, 3), {}), ("dirac_", (6, 2, 3, 4), {"groups": 2}),
        ("dirac_", (2, 4, 3, 3, 3), {}), ("dirac_", (6, 4, 5, 5), {"groups": 3}),
        ("constant_", (2, 3), {"val": 0.25}), ("ones_", (2, 2), {}), ("zeros_", (3,), {}),
    ]
    for name, shape, kwargs in cases:
        ours = getattr(nn.init, name)(tn.full(shape, 7.0), **kwargs)
        theirs = getattr(torch.nn.init, name)(torch.full(shape, 7.0), **kwargs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=f"{name}{shape}")


def test_init_keeps_parameters_leaves_and_in_place():
    layer = nn.Linear(4, 3)
    weight = layer.weight
    for init in (nn.init.orthogonal_, nn.init.eye_, nn.init.trunc_normal_,
                 lambda w: nn.init.sparse_(w, 0.5)):
        assert init(layer.weight) is weight
        assert layer.weight.requires_grad and layer.weight.grad_fn is None
    nn.init.dirac_(nn.Conv2d(2, 2, 3).weight)


@pytest.mark.parametrize("call,error", [
    (lambda init, lib: init.orthogonal_(lib.zeros(4)), "Only tensors with 2 or more dimensions"),
    (lambda init, lib: init.eye_(lib.zeros(2, 2, 2)), "Only tensors with 2 dimensions"),
    (lambda init, lib: init.dirac_(lib.zeros(2, 2)), "Only tensors with 3, 4, or 5 dimensions"),
    (lambda init, lib: init.dirac_(lib.zeros(3, 2, 3), groups=2), "dim 0 must be divisible"),
    (lambda init, lib: init.sparse_(lib.zeros(2, 2, 2), 0.5), "Only tensors with 2 dimensions"),
    (lambda init, lib: init.kaiming_uniform_(lib.zeros(2, 2), mode="fan_avg"), "not supported"),
    (lambda init, lib: init.calculate_gain("leaky_relu", "x"), "not a valid number"),
])
def test_init_errors_as_pytorch(call, error):
    with pytest.raises(ValueError, match=error):
        call(torch.nn.init, torch)
    with pytest.raises(ValueError, match=error):
        call(nn.init, tn)


def test_calculate_gain_and_modes_as_pytorch():
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        ours, theirs = nn.init.calculate_gain(name), torch.nn.init.calculate_gain(name)
        assert ours == theirs and type(ours) is type(theirs)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain("leaky_relu", 0.2)
    tn.manual_seed(0)
    w = nn.init.kaiming_normal_(tn.zeros(300, 200), mode="FAN_OUT", nonlinearity="relu")
    assert abs(float(w.array.std()) - math.sqrt(2 / 300)) < 0.03 * math.sqrt(2 / 300)


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (4, 2, 3, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    tn.manual_seed(1)
    w = nn.init.orthogonal_(tn.zeros(*shape, dtype=tn.float64), gain=2.0).numpy()
    flat = w.reshape(shape[0], -1) / 2.0
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)
    # float32, as PyTorch's default: orthonormal to float32 precision
    w32 = nn.init.orthogonal_(tn.zeros(*shape)).numpy().reshape(rows, -1)
    assert w32.dtype == np.float32
    gram32 = w32 @ w32.T if rows <= cols else w32.T @ w32
    np.testing.assert_allclose(gram32, np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_is_uniformly_distributed():
    # Haar-distributed 2x2 rotations/reflections: the angle is uniform, so its mean cosine is 0
    tn.manual_seed(2)
    angles = [math.atan2(*nn.init.orthogonal_(tn.zeros(2, 2, dtype=tn.float64)).numpy()[:, 0])
              for _ in range(400)]
    assert abs(np.mean(np.cos(angles))) < 0.12 and abs(np.mean(np.sin(angles))) < 0.12


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 1.0),
                                          (0.0, 1.0, 1.0, 3.0), (0.0, 0.02, -0.04, 0.04)])
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    scipy_stats = pytest.importorskip("scipy.stats")
    tn.manual_seed(3)
    w = nn.init.trunc_normal_(tn.zeros(200, 100, dtype=tn.float64), mean, std, a, b).numpy()
    assert w.min() >= a and w.max() <= b
    dist = scipy_stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    n = w.size
    assert abs(w.mean() - dist.mean()) < 5 * dist.std() / math.sqrt(n)
    assert abs(w.std() - dist.std()) < 0.03 * dist.std()
    w32 = nn.init.trunc_normal_(tn.zeros(50, 50), mean, std, a, b).numpy()
    assert w32.dtype == np.float32 and w32.min() >= np.float32(a) and w32.max() <= np.float32(b)


def test_trunc_normal_warns_as_pytorch_when_mean_is_far():
    for init, lib in ((nn.init, tn), (torch.nn.init, torch)):
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            init.trunc_normal_(lib.zeros(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_sparse_zeroes_the_same_count_in_every_column():
    tn.manual_seed(4)
    w = nn.init.sparse_(tn.zeros(10, 300, dtype=tn.float64), sparsity=0.25, std=0.5).numpy()
    assert ((w == 0).sum(axis=0) == math.ceil(0.25 * 10)).all()
    nonzero = w[w != 0]
    assert abs(nonzero.std() - 0.5) < 0.05 and abs(nonzero.mean()) < 0.05
    t = torch.nn.init.sparse_(torch.zeros(10, 300), sparsity=0.25)
    assert ((t == 0).sum(dim=0) == 3).all()


INITS = [
    lambda w, **g: nn.init.uniform_(w, -1, 2, **g), lambda w, **g: nn.init.normal_(w, 1, 3, **g),
    lambda w, **g: nn.init.trunc_normal_(w, **g), lambda w, **g: nn.init.xavier_uniform_(w, **g),
    lambda w, **g: nn.init.xavier_normal_(w, **g), lambda w, **g: nn.init.kaiming_uniform_(w, **g),
    lambda w, **g: nn.init.kaiming_normal_(w, **g), lambda w, **g: nn.init.orthogonal_(w, **g),
    lambda w, **g: nn.init.sparse_(w, 0.3, **g),
]


@pytest.mark.parametrize("init", INITS)
def test_random_initialisers_are_reproducible_under_manual_seed(init):
    tn.manual_seed(5)
    first = init(tn.zeros(6, 5)).numpy().copy()
    second = init(tn.zeros(6, 5)).numpy().copy()
    tn.manual_seed(5)
    np.testing.assert_array_equal(init(tn.zeros(6, 5)).numpy(), first)
    np.testing.assert_array_equal(init(tn.zeros(6, 5)).numpy(), second)
    assert not np.array_equal(first, second)
    generator = getattr(tn, "Generator", None)
    if generator is None:
        try:
            from tinynet.generator import Generator as generator
        except ImportError:
            return
    a = init(tn.zeros(6, 5), generator=generator().manual_seed(7)).numpy().copy()
    tn.manual_seed(123)  # the shared generator does not matter then
    b = init(tn.zeros(6, 5), generator=generator().manual_seed(7)).numpy()
    np.testing.assert_array_equal(a, b)


def test_init_rejects_a_generator_that_is_not_one():
    with pytest.raises(TypeError, match="generator"):
        nn.init.normal_(tn.zeros(3), generator=np.random.default_rng(0))


def test_deprecated_init_aliases_warn_as_pytorch():
    for init, lib in ((nn.init, tn), (torch.nn.init, torch)):
        with pytest.warns(FutureWarning, match=r"`nn.init.normal` is now deprecated in favor of "
                                               r"`nn.init.normal_`"):
            init.normal(lib.zeros(3))


# --------------------------------------------------------------------------- containers
def container_story(lib):
    """Edits of Sequential and ModuleList; the names and layer kinds after each step."""
    nn_ = lib.nn
    steps = []

    def snapshot(container):
        steps.append([(name, type(m).__name__) for name, m in container.named_children()])

    seq = nn_.Sequential(nn_.Linear(2, 3), nn_.ReLU(), nn_.Linear(3, 1))
    seq[2] = nn_.Linear(3, 4)  # the fine-tuning idiom: replace the last layer
    snapshot(seq)
    steps.append([n for n, _ in seq.named_parameters()])
    del seq[1]
    snapshot(seq)
    seq.insert(1, nn_.Tanh())
    seq.insert(-1, nn_.Sigmoid())
    snapshot(seq)
    steps.append(type(seq.pop(0)).__name__)
    snapshot(seq)
    seq.extend(nn_.Sequential(nn_.ELU()))
    snapshot(seq)
    snapshot(seq + nn_.Sequential(nn_.ReLU()))
    seq += nn_.Sequential(nn_.GELU())
    snapshot(seq)
    snapshot(nn_.Sequential(nn_.ReLU(), nn_.Tanh()) * 2)
    snapshot(2 * nn_.Sequential(nn_.ReLU()))
    doubled = nn_.Sequential(nn_.ReLU(), nn_.Tanh())
    doubled *= 2
    snapshot(doubled)
    del seq[1:3]
    snapshot(seq)
    for bad in (lambda: seq + nn_.ModuleList(), lambda: seq * 0):
        try:
            bad()
        except (ValueError, TypeError) as e:
            steps.append((type(e).__name__, str(e).split(" for ")[0].split(" of ")[0]))

    mlist = nn_.ModuleList([nn_.ReLU(), nn_.Tanh(), nn_.Sigmoid()])
    mlist.insert(1, nn_.ELU())
    snapshot(mlist)
    steps.append(type(mlist.pop(-1)).__name__)
    del mlist[0]
    snapshot(mlist)
    mlist += [nn_.GELU()]
    snapshot(mlist + nn_.ModuleList([nn_.ReLU()]))
    del mlist[::2]
    snapshot(mlist)
    try:
        mlist.extend(nn_.ReLU())
    except TypeError as e:
        steps.append(str(e))
    return steps


def test_container_edits_as_pytorch():
    assert container_story(tn) == container_story(torch)


# --------------------------------------------------------------------------- parametrizations
def state_from_torch(ours, theirs):
    """Load torch's state dict (parameters and buffers, by PyTorch's names) into ours."""
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []


def forward_backward_record(lib, module, x):
    """Output, parameter names and values and gradients after one backward, buffers after."""
    inp = lib.tensor(x, requires_grad=True)
    out = module(inp)
    (out * out).sum().backward()
    return [as_numpy(out), as_numpy(inp.grad),
            [(n, as_numpy(p), as_numpy(p.grad)) for n, p in module.named_parameters()],
            [(n, as_numpy(b)) for n, b in module.named_buffers()]]


def make_weight_normed(kind, dim):
    def make(lib):
        layer = (lib.nn.Linear(3, 4) if kind == "linear" else lib.nn.Conv1d(2, 3, 2)).double()
        return lib.nn.utils.parametrizations.weight_norm(layer, dim=dim)
    return make


@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None),
                                      ("conv", 0), ("conv", 1), ("conv", 2), ("conv", -1)])
def test_weight_norm_parametrization_as_pytorch(kind, dim):
    make = make_weight_normed(kind, dim)
    torch.manual_seed(0)
    theirs, ours = make(torch), make(tn)
    assert type(ours).__name__ == type(theirs).__name__
    assert list(ours.state_dict()) == list(theirs.state_dict())
    state_from_torch(ours, theirs)
    x = INPUT_A if kind == "linear" else INPUT_A.reshape(1, 2, 3)
    assert_same_records(forward_backward_record(tn, ours, x), forward_backward_record(torch, theirs, x))
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-12)


def test_weight_norm_keeps_the_weight_value_and_can_be_removed():
    layer = nn.Linear(3, 4).double()
    before = layer.weight.detach().numpy().copy()
    nn.utils.parametrizations.weight_norm(layer)
    g = layer.parametrizations.weight.original0
    assert tuple(g.shape) == (4, 1)
    np.testing.assert_allclose(layer.weight.detach().numpy(), before, rtol=1e-12)
    nn.utils.parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and not nn.utils.parametrize.is_parametrized(layer)
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight"]
    np.testing.assert_allclose(layer.weight.detach().numpy(), before, rtol=1e-12)


def test_deprecated_weight_norm_as_pytorch():
    def make(lib):
        with pytest.warns(FutureWarning, match="weight_norm` is deprecated in favor of"):
            return lib.nn.utils.weight_norm(lib.nn.Linear(3, 4).double(), dim=1)

    torch.manual_seed(0)
    theirs, ours = make(torch), make(tn)
    assert names(ours) == names(theirs)
    state_from_torch(ours, theirs)
    assert_same_records(forward_backward_record(tn, ours, INPUT_A),
                        forward_backward_record(torch, theirs, INPUT_A))
    for lib, module in ((tn, ours), (torch, theirs)):
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lib.nn.utils.weight_norm(module, dim=1)
        lib.nn.utils.remove_weight_norm(module)
        with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
            lib.nn.utils.remove_weight_norm(module)
    assert names(ours) == names(theirs)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "conv_transpose"])
def test_spectral_norm_parametrization_as_pytorch(kind):
    def make(lib):
        layer = (lib.nn.Linear(3, 4) if kind == "linear" else
                 lib.nn.ConvTranspose1d(2, 3, 2)).double()
        return lib.nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=2)

    torch.manual_seed(0)
    theirs, ours = make(torch), make(tn)
    assert names(ours) == names(theirs)
    state_from_torch(ours, theirs)  # PyTorch's random power-iteration vectors
    x = INPUT_A if kind == "linear" else INPUT_A.reshape(1, 2, 3)
    for mode in ("train", "train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        for m in (ours, theirs):
            m.zero_grad()
        assert_same_records(forward_backward_record(tn, ours, x),
                            forward_backward_record(torch, theirs, x))
    # the spectral norm of the normalised weight is about 1
    matrix = ours.weight.detach().numpy().reshape(ours.weight.shape[0], -1)
    if kind == "conv_transpose":
        matrix = np.moveaxis(ours.weight.detach().numpy(), 1, 0).reshape(3, -1)
    assert abs(np.linalg.svd(matrix, compute_uv=False)[0] - 1) < 0.05


def test_deprecated_spectral_norm_as_pytorch():
    def make(lib):
        return lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4).double(), n_power_iterations=3)

    torch.manual_seed(0)
    theirs, ours = make(torch), make(tn)
    assert names(ours) == names(theirs)
    state_from_torch(ours, theirs)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        assert_same_records(forward_backward_record(tn, ours, INPUT_A),
                            forward_backward_record(torch, theirs, INPUT_A))
    for lib, module in ((tn, ours), (torch, theirs)):
        lib.nn.utils.remove_spectral_norm(module)
    assert names(ours) == names(theirs)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-12)


def make_symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Scale(lib.nn.Module):
        def forward(self, X):
            return X * 2

        def right_inverse(self, A):
            return A / 2

    layer = lib.nn.Linear(3, 3).double()
    lib.nn.utils.parametrize.register_parametrization(layer, "weight", Symmetric())
    lib.nn.utils.parametrize.register_parametrization(layer, "weight", Scale())
    return layer


def test_custom_parametrizations_as_pytorch():
    torch.manual_seed(0)
    theirs, ours = make_symmetric(torch), make_symmetric(tn)
    assert names(ours) == names(theirs)
    assert repr(ours) == repr(theirs)
    state_from_torch(ours, theirs)
    assert_same_records(forward_backward_record(tn, ours, INPUT_A),
                        forward_backward_record(torch, theirs, INPUT_A))
    target = np.arange(9.0).reshape(3, 3)
    for lib, module in ((tn, ours), (torch, theirs)):
        module.weight = lib.tensor(target + target.T)  # through both right_inverses
        assert lib.nn.utils.parametrize.type_before_parametrizations(module) is lib.nn.Linear
        with lib.nn.utils.parametrize.cached():
            assert module.weight is module.weight
        assert module.weight is not module.weight
    np.testing.assert_allclose(ours.parametrizations.weight.original.detach().numpy(),
                               theirs.parametrizations.weight.original.detach().numpy())
    np.testing.assert_allclose(ours.weight.detach().numpy(), target + target.T)
    for lib, module in ((tn, ours), (torch, theirs)):
        lib.nn.utils.parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
        with pytest.raises(ValueError, match="does not have a parametrization on weight"):
            lib.nn.utils.parametrize.remove_parametrizations(module, "weight")
    assert names(ours) == names(theirs) and type(ours) is nn.Linear
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy())


def test_parametrization_errors_as_pytorch():
    for lib in (tn, torch):
        class Shrinking(lib.nn.Module):
            def forward(self, X):
                return X[:1]

        with pytest.raises(ValueError, match="may not change the shape"):
            lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "weight",
                                                              Shrinking())
        with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized"):
            lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "nothing",
                                                              Shrinking())
