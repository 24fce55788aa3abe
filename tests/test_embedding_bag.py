"""F.embedding_bag and nn.EmbeddingBag: against a NumPy loop over the bags and PyTorch's values
and gradients (weight and per-sample weights) for every mode, 2-D input and offsets (empty
bags, include_last_offset), padding_idx; second order through gradgradcheck; PyTorch's
errors and printing."""

import itertools

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F

MODES = ["sum", "mean", "max"]


def np_embedding_bag(indices, weight, starts, mode, sample_weights=None, padding_idx=None):
    """One bag at a time: the rows of its indices (padding left out), reduced; 0 if empty."""
    ends = list(starts[1:]) + [len(indices)]
    out = np.zeros((len(starts), weight.shape[1]))
    for b, (start, end) in enumerate(zip(starts, ends)):
        picked = [i for i in range(start, end) if indices[i] != padding_idx]
        if not picked:
            continue
        rows = weight[indices[picked]]
        if sample_weights is not None:
            rows = rows * sample_weights[picked][:, None]
        out[b] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


CASES = [  # (indices, offsets): 2-D input, then bags with an empty one, then a 1-index bag
    (np.array([[1, 2, 3], [4, 3, 0]]), None),
    (np.array([5, 1, 3, 3, 9, 2, 7]), np.array([0, 2, 2, 6])),
    (np.array([5, 1, 3, 3]), np.array([0, 1, 1, 4])),
]


@pytest.mark.parametrize("mode, padding_idx, case", itertools.product(MODES, [None, 3], CASES))
def test_embedding_bag_equals_a_loop_over_the_bags_to_second_order(mode, padding_idx, case):
    indices, offsets = case
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((10, 4))
    sample_weights = rng.standard_normal(indices.shape) if mode == "sum" else None
    starts = list(range(0, indices.size, indices.shape[1])) if offsets is None else list(offsets)
    flat_weights = None if sample_weights is None else sample_weights.reshape(-1)
    expected = np_embedding_bag(indices.reshape(-1), weight, starts, mode, flat_weights, padding_idx)

    def bag(w, *per_sample):
        return F.embedding_bag(tn.tensor(indices), w, None if offsets is None else tn.tensor(offsets),
                               mode=mode, padding_idx=padding_idx,
                               per_sample_weights=per_sample[0] if per_sample else None)

    inputs = [tn.tensor(weight, requires_grad=True)]
    if sample_weights is not None:
        inputs.append(tn.tensor(sample_weights, requires_grad=True))
    np.testing.assert_allclose(bag(*inputs).detach().numpy(), expected, rtol=1e-12)
    assert tn.gradcheck(bag, inputs)
    assert tn.gradgradcheck(bag, inputs)


@pytest.mark.parametrize("mode, padding_idx, include_last_offset",
                         itertools.product(MODES, [None, 3, -1], [False, True]))
def test_embedding_bag_matches_pytorch(mode, padding_idx, include_last_offset):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((10, 4))
    indices = rng.integers(0, 10, 12)
    indices[::4] = 3
    offsets = np.array([0, 3, 3, 8, 11])
    sample_weights = rng.standard_normal(12) if mode == "sum" else None
    results = []
    for lib in (tn, torch):
        w = lib.tensor(weight, requires_grad=True)
        s = None if sample_weights is None else lib.tensor(sample_weights, requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor(indices), w, lib.tensor(offsets),
                                              mode=mode, per_sample_weights=s,
                                              include_last_offset=include_last_offset,
                                              padding_idx=padding_idx)
        (out * lib.tensor(np.arange(out.numel()).reshape(out.shape) / 7.0)).sum().backward()
        results.append([out.detach().numpy(), w.grad.numpy()] + ([] if s is None else [s.grad.numpy()]))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_embedding_bag_layer_prints_initialises_and_loads_as_pytorchs():
    torch = pytest.importorskip("torch")
    for kwargs in ({}, {"mode": "sum", "padding_idx": 0, "max_norm": 1.0,
                        "scale_grad_by_freq": True}, {"mode": "max", "norm_type": 1.0}):
        assert repr(nn.EmbeddingBag(10, 3, **kwargs)) == repr(torch.nn.EmbeddingBag(10, 3, **kwargs))
    tn.manual_seed(0)
    layer = nn.EmbeddingBag(1000, 8, padding_idx=2)
    assert abs(layer.weight.detach().numpy().std() - 1) < 0.05
    assert not layer.weight.detach().numpy()[2].any()
    theirs = torch.nn.EmbeddingBag(1000, 8, padding_idx=2).double()
    layer.double().load_state_dict({"weight": tn.tensor(theirs.weight.detach().numpy())})
    ids, offsets = np.array([4, 8, 15, 16, 23, 42, 2]), np.array([0, 2, 5])
    np.testing.assert_allclose(layer(tn.tensor(ids), tn.tensor(offsets)).detach().numpy(),
                               theirs(torch.tensor(ids), torch.tensor(offsets)).detach().numpy(),
                               rtol=1e-12)
    frozen = nn.EmbeddingBag.from_pretrained(tn.ones(5, 2), mode="sum")
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(tn.tensor([[0, 1, 4]])).numpy(), [[3.0, 3.0]])


def test_embedding_bag_errors_are_pytorchs():
    torch = pytest.importorskip("torch")
    bad_calls = [
        (lambda f, t: f.embedding_bag(t.tensor([[1, 2]]), t.ones(10, 3), t.tensor([0])),
         ValueError, "if input is 2D, then offsets has to be None"),
        (lambda f, t: f.embedding_bag(t.tensor([1, 2, 3]), t.ones(10, 3)),
         ValueError, "offsets has to be a 1D Tensor but got None"),
        (lambda f, t: f.embedding_bag(t.tensor([1, 2, 3]), t.ones(10, 3), t.tensor([1])),
         RuntimeError, "offsets\\[0\\] has to be 0, i.e., the first sequence in the mini-batch"),
        (lambda f, t: f.embedding_bag(t.tensor([1, 2, 3]), t.ones(10, 3), t.tensor([0, 5])),
         RuntimeError, "offsets\\[-1\\] can not be greater than input's length 3 but got "
                       "offsets\\[-1\\] of 5"),
        (lambda f, t: f.embedding_bag(t.tensor([1, 2]), t.ones(10, 3), t.tensor([0]), mode="mean",
                                      per_sample_weights=t.ones(2)),
         NotImplementedError, "per_sample_weights is only supported for mode='sum' \\(got "
                              "mode='mean'\\)"),
        (lambda f, t: f.embedding_bag(t.tensor([1, 2]), t.ones(10, 3), t.tensor([0]), mode="min"),
         ValueError, "mode has to be one of sum, mean or max"),
        (lambda f, t: f.embedding_bag(t.tensor([1, 2]), t.ones(10, 3), t.tensor([0]), mode="max",
                                      scale_grad_by_freq=True),
         ValueError, "max mode does not support scaling the gradient by the frequency"),
        (lambda f, t: f.embedding_bag(t.tensor([1, 2, 3]), t.ones(10, 3), t.tensor([0]),
                                      mode="sum", per_sample_weights=t.ones(2)),
         ValueError, "If per_sample_weights \\(\\(2,\\)\\) is not None, then it must have the "
                     "same shape as the input \\(\\(3,\\)\\)"),
    ]
    for call, error, message in bad_calls:
        with pytest.raises(error, match=message):
            call(F, tn)
        with pytest.raises(error):
            call(torch.nn.functional, torch)
    with pytest.raises(TypeError, match="embedding_bag: indices must be an integer tensor"):
        F.embedding_bag(tn.tensor([1.0, 2.0]), tn.ones(10, 3), tn.tensor([0]))
    with pytest.raises(IndexError, match="out of range for a weight of 10 rows"):
        F.embedding_bag(tn.tensor([1, 20]), tn.ones(10, 3), tn.tensor([0]))
