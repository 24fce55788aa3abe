"""Layers added for PyTorch programs: Embedding, LayerNorm, Dropout2d, ModuleDict, ParameterList,
ParameterDict, GELU, SiLU, Mish, Softplus, Identity and ``inplace=True`` activations; their
functions through the op factory, then against PyTorch (values, gradients, reprs, state_dict)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.testing import OpSpec, cases, check_op, op_settings, shapes

RNG = np.random.default_rng(0)


# --------------------------------------------------------------------------- the op factory
@st.composite
def embedding_cases(draw):
    """Indices never pick the padding row: its gradient is zero on purpose, as
    ``scale_grad_by_freq`` scales it on purpose, which finite differences would call wrong
    (both are checked against PyTorch below)."""
    rows, dim = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    padding_idx = draw(st.sampled_from([None, 0, -1])) if rows > 1 else None
    allowed = [i for i in range(rows) if padding_idx is None or i != padding_idx % rows]
    index_shape = draw(shapes(max_dims=2, max_side=3))
    size = int(np.prod(index_shape, dtype=int))
    indices = np.array(draw(st.lists(st.sampled_from(allowed), min_size=size, max_size=size)),
                       dtype=np.int64).reshape(index_shape)
    return ((rows, dim),), {"indices": indices, "padding_idx": padding_idx}


def embedding_with(weight, indices, **kw):
    return F.embedding(tn.tensor(indices), weight, **kw)


@st.composite
def layer_norm_cases(draw):
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    k = draw(st.integers(1, len(shape)))
    normalized = shape[len(shape) - k:]
    affine = draw(st.sampled_from(["none", "weight", "both"]))
    inputs = (shape,) + ((normalized,) if affine != "none" else ()) + \
        ((normalized,) if affine == "both" else ())
    return inputs, {"normalized_shape": normalized}


def np_layer_norm(x, *affine, normalized_shape, eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    out = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    for i, a in enumerate(affine):
        out = out * a if i == 0 else out + a
    return out


def layer_norm_with(x, *affine, normalized_shape):
    weight, bias = (list(affine) + [None, None])[:2]
    return F.layer_norm(x, normalized_shape, weight, bias)


@st.composite
def group_norm_cases(draw):
    groups, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 3)), groups * per_group) + draw(shapes(max_dims=2, max_side=3))
    affine = draw(st.sampled_from(["none", "weight", "both"]))
    inputs = (shape,) + ((shape[1:2],) if affine != "none" else ()) + \
        ((shape[1:2],) if affine == "both" else ())
    return inputs, {"num_groups": groups}


def np_group_norm(x, *affine, num_groups, eps=1e-5):
    groups = x.reshape(x.shape[0], num_groups, -1)
    out = ((groups - groups.mean(2, keepdims=True))
           / np.sqrt(groups.var(2, keepdims=True) + eps)).reshape(x.shape)
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    for i, a in enumerate(affine):
        out = out * a.reshape(per_channel) if i == 0 else out + a.reshape(per_channel)
    return out


def group_norm_with(x, *affine, num_groups):
    weight, bias = (list(affine) + [None, None])[:2]
    return F.group_norm(x, num_groups, weight, bias)


def np_gelu(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    from scipy.special import erf

    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def seeded_dropout2d(x, p):
    tn.manual_seed(7)  # the same channel mask at every call, so finite differences see one function
    return F.dropout2d(x, p)


SPECS = [
    OpSpec("embedding", embedding_with, embedding_cases(),
           lambda w, indices, **kw: w[indices]),
    OpSpec("layer_norm", layer_norm_with, layer_norm_cases(), np_layer_norm),
    OpSpec("group_norm", group_norm_with, group_norm_cases(), np_group_norm),
    OpSpec("gelu", F.gelu, cases(shapes(), approximate=st.sampled_from(["none", "tanh"])), np_gelu),
    OpSpec("silu", F.silu, cases(shapes()), lambda x: x / (1 + np.exp(-x))),
    OpSpec("mish", F.mish, cases(shapes()), lambda x: x * np.tanh(np.logaddexp(0, x))),
    OpSpec("dropout2d", seeded_dropout2d,
           cases(shapes(min_dims=4, max_dims=4, max_side=3), p=st.sampled_from([0.0, 0.5]))),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_layer_function(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- Embedding
def embedding_run(lib, weight, ids, **settings):
    layer = lib.nn.Embedding.from_pretrained(lib.tensor(weight), freeze=False, **settings)
    out = layer(lib.tensor(ids))
    (out * lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))
     ).sum().backward()
    return out.detach().numpy(), layer.weight.grad.numpy(), layer.weight.detach().numpy()


@pytest.mark.parametrize("settings", [{}, {"padding_idx": 1}, {"scale_grad_by_freq": True},
                                      {"padding_idx": -1, "scale_grad_by_freq": True},
                                      {"max_norm": 1.0}, {"max_norm": 0.5, "norm_type": 1.0}],
                         ids=str)
def test_embedding_matches_torch(settings):
    torch = pytest.importorskip("torch")
    weight = RNG.standard_normal((5, 3))
    ids = np.array([[1, 4, 1], [0, 4, 3]])
    ours, theirs = embedding_run(tn, weight, ids, **settings), embedding_run(torch, weight, ids,
                                                                             **settings)
    for a, b, what in zip(ours, theirs, ("output", "gradient", "weight after")):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9, err_msg=what)


def test_embedding_layer_defaults_repr_and_state_dict_match_torch():
    torch = pytest.importorskip("torch")
    for args, kwargs in [((10, 3), {}), ((10, 3), {"padding_idx": 0}),
                         ((10, 3), {"padding_idx": -2, "max_norm": 1.0, "norm_type": 1.0,
                                    "scale_grad_by_freq": True})]:
        ours, theirs = nn.Embedding(*args, **kwargs), torch.nn.Embedding(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert ours.padding_idx == theirs.padding_idx
        if ours.padding_idx is not None:
            assert not ours.weight.detach().numpy()[ours.padding_idx].any()


def test_embedding_initialisation_and_from_pretrained():
    tn.manual_seed(0)
    layer = nn.Embedding(2000, 8, padding_idx=3)
    w = layer.weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    assert not w[3].any() and layer.weight.requires_grad
    pretrained = tn.tensor(RNG.standard_normal((4, 2)))
    frozen = nn.Embedding.from_pretrained(pretrained, padding_idx=0)
    assert not frozen.weight.requires_grad and frozen.weight.array is pretrained.array
    assert frozen.weight.detach().numpy()[0].any()  # from_pretrained keeps the padding row
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(tn.ones(3))


def test_embedding_errors():
    with pytest.raises(TypeError, match="embedding: indices must be an integer tensor"):
        F.embedding(tn.tensor([0.0, 1.0]), tn.ones(3, 2))
    with pytest.raises(IndexError, match="out of range for a weight of 3 rows"):
        F.embedding(tn.tensor([0, 3]), tn.ones(3, 2))
    with pytest.raises(IndexError, match="out of range"):  # PyTorch counts no index from the end
        nn.Embedding(3, 2)(tn.tensor([-1]))
    with pytest.raises(ValueError, match="padding_idx 5 must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=5)
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(3, 2, sparse=True)(tn.tensor([0]))


# --------------------------------------------------------------------------- LayerNorm
@pytest.mark.parametrize("shape, normalized, kwargs", [
    ((2, 5), 5, {}), ((2, 3, 4), (3, 4), {}), ((2, 3, 4), [4], {"elementwise_affine": False}),
    ((3, 4), 4, {"bias": False, "eps": 1e-3})], ids=str)
def test_layer_norm_matches_torch(shape, normalized, kwargs):
    torch = pytest.importorskip("torch")
    assert_norm_layer_matches_torch(torch, lambda lib: lib.nn.LayerNorm(normalized, **kwargs), shape)


def assert_norm_layer_matches_torch(torch, make, shape):
    """The layer ``make(lib)`` of both libraries, with the same non-trivial weight: outputs,
    input and parameter gradients, printing and state_dict keys agree."""
    x = RNG.standard_normal(shape)
    results = []
    for lib in (tn, torch):
        layer = make(lib).double()
        if layer.weight is not None:
            with lib.no_grad():
                layer.weight.copy_(lib.tensor(np.linspace(0.5, 1.5, layer.weight.numel())
                                              .reshape(tuple(layer.weight.shape))))
        inp = lib.tensor(x, requires_grad=True)
        out = layer(inp)
        (out * out * lib.tensor(x)).sum().backward()
        grads = [p.grad.numpy() for p in layer.parameters()]
        results.append((out.detach().numpy(), inp.grad.numpy(), grads, repr(layer),
                        list(layer.state_dict())))
    ours, theirs = results
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-8, atol=1e-10)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    assert ours[3:] == theirs[3:]


def test_layer_norm_refuses_a_mismatched_shape():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[\*, 4\].*\[2, 3\]"):
        nn.LayerNorm(4)(tn.ones(2, 3))


@pytest.mark.parametrize("shape, groups, kwargs", [
    ((2, 6, 3, 3), 3, {}), ((4, 6), 2, {}), ((2, 4, 5), 4, {"affine": False}),
    ((3, 4, 2), 1, {"bias": False, "eps": 1e-3})], ids=str)
def test_group_norm_matches_torch(shape, groups, kwargs):
    torch = pytest.importorskip("torch")
    assert_norm_layer_matches_torch(torch, lambda lib: lib.nn.GroupNorm(groups, shape[1], **kwargs),
                                    shape)


def test_group_norm_refuses_channels_its_groups_do_not_divide():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"input of shape \[2, 6, 4\] and num_groups=4"):
        F.group_norm(tn.zeros(2, 6, 4), 4)
    with pytest.raises(RuntimeError, match="at least 2 dimensions for input tensor but received 1"):
        F.group_norm(tn.zeros(6), 2)


# --------------------------------------------------------------------------- Dropout2d
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    tn.manual_seed(0)
    x = tn.ones(8, 16, 3, 3)
    out = nn.Dropout2d(0.5)(x).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) == {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # channel-wise
    assert 0.3 < (per_channel[:, :, 0] == 0).mean() < 0.7
    drop = nn.Dropout2d(0.5).eval()
    assert drop(x) is x and repr(drop) == "Dropout2d(p=0.5, inplace=False)"
    with pytest.warns(UserWarning, match="Received a 3D input"):
        F.dropout2d(tn.ones(2, 3, 4))
    with pytest.raises(ValueError, match="probability has to be between 0 and 1"):
        nn.Dropout2d(1.5)


def test_dropout_keeps_its_random_stream():
    """Element dropout draws the same mask as before the refactor: results stay reproducible."""
    tn.manual_seed(3)
    out = F.dropout(tn.ones(4, 5, device="cpu"), 0.3).numpy()  # the CPU's stream
    tn.manual_seed(3)
    from tinynet import backend

    keep = backend.generator("cpu").random((4, 5)) >= 0.3
    np.testing.assert_array_equal(out, keep.astype(np.float32) / (1 - 0.3))


# --------------------------------------------------------------------------- activations
@pytest.mark.parametrize("name, args", [("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()),
                                        ("Mish", ()), ("Softplus", (2.0, 1.0)), ("Identity", (3,)),
                                        ("ReLU", (True,)), ("LeakyReLU", (0.2, True)),
                                        ("ELU", (0.5, True))], ids=str)
def test_activations_match_torch(name, args):
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 4)) * 3
    results = []
    for lib in (tn, torch):
        inp = lib.tensor(x, requires_grad=True)
        hidden = inp * 1.0  # in-place activations need a non-leaf
        layer = getattr(lib.nn, name)(*args)
        out = layer(hidden)
        (out * lib.tensor(x)).sum().backward()
        results.append((out.detach().numpy(), inp.grad.numpy(), repr(layer), out is hidden,
                        hidden._version))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)
    assert results[0][2:] == results[1][2:]


def test_inplace_activation_follows_in_place_rules():
    x = tn.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        nn.ReLU(inplace=True)(x)
    plain = tn.tensor([-1.0, 2.0])
    out = F.relu(plain, inplace=True)
    assert out is plain and plain.tolist() == [0.0, 2.0] and plain._version == 1
    hidden = x * 1.0
    saved = hidden * hidden  # Mul saved the old value of hidden
    nn.SiLU(inplace=True)(hidden)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved.sum().backward()


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    labels = np.array([[0, 2], [1, 3]])
    for kwargs in ({}, {"num_classes": 6}):
        ours = F.one_hot(tn.tensor(labels), **kwargs)
        theirs = torch.nn.functional.one_hot(torch.tensor(labels), **kwargs)
        assert ours.dtype == np.int64 and ours.tolist() == theirs.tolist()
    for bad in (lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 3]), 2),
                lambda lib: lib.nn.functional.one_hot(lib.tensor([-1, 0]))):
        with pytest.raises(RuntimeError):
            bad(tn)
        with pytest.raises(RuntimeError):
            bad(torch)


# --------------------------------------------------------------------------- containers
def build_containers(lib):
    lib.manual_seed(0)

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = lib.nn.ModuleDict({"digit": lib.nn.Linear(4, 10),
                                            "parity": lib.nn.Linear(4, 2)})
            self.heads["extra"] = lib.nn.ReLU()
            self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(4)),
                                                lib.ones(2, 3, dtype=lib.float64)])
            self.scales.append(lib.nn.Parameter(lib.zeros(1)))
            self.named = lib.nn.ParameterDict({"shift": lib.nn.Parameter(lib.zeros(4))})

        def forward(self, x):
            h = x * self.scales[0] + self.named["shift"]
            return self.heads["digit"](h), self.heads["parity"](h)

    return Net()


def test_containers_register_print_and_save_like_torch():
    torch = pytest.importorskip("torch")
    if tn.get_default_device() != "cpu":
        pytest.skip("compares the print of CPU parameters with torch's")
    ours, theirs = build_containers(tn), build_containers(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours.heads) == repr(theirs.heads)
    assert repr(ours.scales).replace("tinynet.", "torch.") == repr(theirs.scales)
    assert repr(ours.named).replace("tinynet.", "torch.").replace("float32", "FloatTensor") == \
        repr(theirs.named)
    assert isinstance(ours.scales[1], nn.Parameter) and ours.scales[1].dtype == np.float64
    assert list(ours.heads) == ["digit", "parity", "extra"] and "digit" in ours.heads
    assert len(ours.scales) == 3 and len(ours.named) == 1


def test_containers_are_trained_through():
    model = build_containers(tn)
    optimizer = tn.optim.SGD(model.parameters(), lr=0.1)
    digit, parity = model(tn.randn(5, 4))
    (digit.sum() + parity.sum()).backward()
    optimizer.step()
    assert model.scales[0].grad is not None and model.named["shift"].grad is not None
    assert model.heads.pop("extra").__class__ is nn.ReLU and len(model.heads) == 2
    with pytest.raises(TypeError, match="ParameterList.append: expected a Parameter or a Tensor"):
        nn.ParameterList([1.0])
    with pytest.raises(KeyError):
        nn.ModuleDict({"keys": nn.ReLU()})  # a method name, as PyTorch refuses it


def test_module_dict_update_keeps_order_and_replaces():
    heads = nn.ModuleDict([("a", nn.ReLU()), ("b", nn.Tanh())])
    heads.update({"a": nn.Sigmoid(), "c": nn.Identity()})
    assert [type(m).__name__ for m in heads.values()] == ["Sigmoid", "Tanh", "Identity"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="ModuleDict.update: element #0"):
            nn.ModuleDict().update([nn.ReLU()])
