"""Recurrent layers and cells against PyTorch (same weights through state_dict: outputs, final
states and every gradient), through gradcheck to second order, and their errors."""

import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn

CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bias": False}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True, "bias": False}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("GRU", {"bidirectional": True}),
    ("GRU", {"num_layers": 3, "batch_first": True}),
]


def copy_to_torch(torch, layer, torch_layer):
    torch_layer.load_state_dict({k: torch.tensor(v.detach().numpy())
                                 for k, v in layer.state_dict().items()})


def run(lib, layer, x, hx):
    out, state = layer(x, hx)
    states = list(state) if isinstance(state, tuple) else [state]
    rng = np.random.default_rng(1)
    loss = sum((t * lib.tensor(rng.standard_normal(tuple(t.shape)))).sum()
               for t in [out, *states])
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in layer.named_parameters()}
    return [t.detach().numpy() for t in [out, *states]], grads, x.grad.numpy()


@pytest.mark.parametrize("kind, settings", CONFIGS, ids=lambda c: str(c))
@pytest.mark.parametrize("batched", [True, False])
def test_layers_match_pytorch(kind, settings, batched):
    torch = pytest.importorskip("torch")
    tn.manual_seed(0)
    layer = getattr(nn, kind)(3, 4, **settings).double()
    torch_layer = getattr(torch.nn, kind)(3, 4, **settings).double()
    copy_to_torch(torch, layer, torch_layer)
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in torch_layer.named_parameters()]
    assert repr(layer) == repr(torch_layer)
    rng = np.random.default_rng(0)
    shape = ((2, 5, 3) if settings.get("batch_first") else (5, 2, 3)) if batched else (5, 3)
    data = rng.standard_normal(shape)
    directions = 2 if settings.get("bidirectional") else 1
    state_shape = (directions * settings.get("num_layers", 1),) + ((2, 4) if batched else (4,))
    c0 = rng.standard_normal(state_shape)
    h0 = c0[..., :settings.get("proj_size") or 4]  # projected LSTM states are shorter
    results = []
    for lib, module in ((tn, layer), (torch, torch_layer)):
        x = lib.tensor(data, requires_grad=True)
        hx = (lib.tensor(h0), lib.tensor(c0 * 0.5)) if kind == "LSTM" else lib.tensor(h0)
        results.append(run(lib, module, x, hx))
    (outs, grads, x_grad), (t_outs, t_grads, t_x_grad) = results
    for ours, theirs in zip(outs, t_outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    for name in t_grads:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(x_grad, t_x_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind, settings", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                            ("LSTMCell", {}), ("GRUCell", {"bias": False})])
def test_cells_match_pytorch_over_a_hand_written_loop(kind, settings):
    torch = pytest.importorskip("torch")
    cell = getattr(nn, kind)(3, 4, **settings).double()
    torch_cell = getattr(torch.nn, kind)(3, 4, **settings).double()
    copy_to_torch(torch, cell, torch_cell)
    assert repr(cell) == repr(torch_cell)
    data = np.random.default_rng(0).standard_normal((6, 2, 3))
    results = []
    for lib, module in ((tn, cell), (torch, torch_cell)):
        x = lib.tensor(data, requires_grad=True)
        state, total = None, 0
        for t in range(6):
            state = module(x[t], state)
            h = state[0] if kind == "LSTMCell" else state
            total = total + (h * (t + 1)).sum()
        unbatched = module(x[0, 0])  # one sample, no batch dim
        total = total + (unbatched[0] if kind == "LSTMCell" else unbatched).sum()
        total.backward()
        results.append((total.item(), x.grad.numpy(),
                        [p.grad.numpy() for _, p in module.named_parameters()]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)
    for ours, theirs in zip(results[0][2], results[1][2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize("kind, settings", [("RNN", {}), ("LSTM", {}), ("GRU", {}),
                                            ("LSTM", {"proj_size": 2})], ids=str)
def test_second_order_gradients_through_time_pass_gradgradcheck(kind, settings):
    tn.manual_seed(0)
    layer = getattr(nn, kind)(2, 3, bidirectional=True, **settings).double()
    x = tn.randn(4, 1, 2, dtype=tn.float64, requires_grad=True)
    assert tn.gradcheck(lambda x: layer(x)[0], (x,))
    assert tn.gradgradcheck(lambda x: layer(x)[0], (x,))
    # through the weights: the output as a function of the recurrent weight itself
    name = "weight_hh_l0"
    original = layer._parameters[name]
    w = tn.tensor(original.detach().numpy(), requires_grad=True)

    def of_weight(w):
        layer._parameters[name] = w
        try:
            return layer(x.detach())[0]
        finally:
            layer._parameters[name] = original

    assert tn.gradcheck(of_weight, (w,))
    assert tn.gradgradcheck(of_weight, (w,))


def test_dropout_between_layers_only_in_training():
    tn.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = tn.randn(5, 2, 3)
    first, second = lstm(x)[0], lstm(x)[0]
    assert not np.allclose(first.detach().numpy(), second.detach().numpy())  # fresh masks
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


def test_errors_name_the_layer_and_the_shapes():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        lstm(tn.zeros(2, 2, 2, 3))
    with pytest.raises(RuntimeError, match="input.size.-1. must be equal to input_size. Expected 3, got 7"):
        lstm(tn.zeros(5, 2, 7))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 2, 4\), got \[2, 2, 4\]"):
        lstm(tn.zeros(5, 2, 3), (tn.zeros(1, 2, 4), tn.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        lstm(tn.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="positive integer or zero"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 2\), got \[1, 2, 4\]"):
        nn.LSTM(3, 4, proj_size=2)(tn.zeros(5, 2, 3), (tn.zeros(1, 2, 4), tn.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        nn.LSTMCell(3, 4)(tn.zeros(2, 5))
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D, got 3D"):
        nn.GRUCell(3, 4)(tn.zeros(2, 2, 3))
    with pytest.raises(TypeError, match="PackedSequence"):
        lstm([tn.zeros(5, 3)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lstm.flatten_parameters()  # nothing to pack: a no-op, as PyTorch's on the CPU


@pytest.mark.parametrize("settings", [{}, {"batch_first": True},
                                      {"batch_first": True, "padding_side": "left",
                                       "padding_value": -1.0}], ids=str)
def test_pad_sequence_matches_pytorch_and_passes_gradients_back(settings):
    torch = pytest.importorskip("torch")
    from tinynet.nn.utils.rnn import pad_sequence

    data = [np.random.default_rng(i).standard_normal((n, 2)) for i, n in enumerate((3, 1, 4))]
    results = []
    for lib, pad in ((tn, pad_sequence), (torch, torch.nn.utils.rnn.pad_sequence)):
        sequences = [lib.tensor(a, requires_grad=True) for a in data]
        batch = pad(sequences, **settings)
        (batch * batch).sum().backward()
        results.append([batch.detach().numpy(), *(s.grad.numpy() for s in sequences)])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(RuntimeError, match=r"sequence 1 has shape \(2, 3\), expected"):
        pad_sequence([tn.zeros(2, 2), tn.zeros(2, 3)])


# --------------------------------------------------------------------------- packed sequences
PACKED = [  # layer, settings, lengths (in batch order), enforce_sorted
    ("RNN", {}, [4, 2, 1], True),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, [2, 4, 1, 4], False),
    ("GRU", {"bidirectional": True, "batch_first": True}, [3, 1, 2], False),
    ("LSTM", {"bias": False}, [3, 3, 3], True),
    ("LSTM", {"proj_size": 3, "num_layers": 2}, [1, 3, 2], False),
]


@pytest.mark.parametrize("kind, settings, lengths, enforce_sorted", PACKED, ids=str)
def test_layers_on_packed_sequences_match_pytorch(kind, settings, lengths, enforce_sorted):
    """Each sequence runs for its own length: the packed outputs, each sequence's last state
    (both directions, every layer, in the caller's order) and every gradient equal PyTorch's."""
    torch = pytest.importorskip("torch")
    tn.manual_seed(0)
    layer = getattr(nn, kind)(3, 4, **settings).double()
    torch_layer = getattr(torch.nn, kind)(3, 4, **settings).double()
    copy_to_torch(torch, layer, torch_layer)
    rng = np.random.default_rng(0)
    batch_first = settings.get("batch_first", False)
    steps, batch = max(lengths), len(lengths)
    data = rng.standard_normal((batch, steps, 3) if batch_first else (steps, batch, 3))
    directions = 2 if settings.get("bidirectional") else 1
    c0 = rng.standard_normal((directions * settings.get("num_layers", 1), batch, 4))
    h0 = c0[..., :settings.get("proj_size") or 4]
    results = []
    for lib, module in ((tn, layer), (torch, torch_layer)):
        rnn_utils = (tn if lib is tn else torch).nn.utils.rnn
        x = lib.tensor(data, requires_grad=True)
        hx = (lib.tensor(h0, requires_grad=True), lib.tensor(c0 * 0.5)) if kind == "LSTM" \
            else lib.tensor(h0, requires_grad=True)
        packed = rnn_utils.pack_padded_sequence(x, lib.tensor(lengths), batch_first=batch_first,
                                                enforce_sorted=enforce_sorted)
        out, state = module(packed, hx)
        assert type(out).__name__ == "PackedSequence"
        padded, out_lengths = rnn_utils.pad_packed_sequence(out, batch_first=batch_first,
                                                            total_length=steps + 1)
        states = list(state) if isinstance(state, tuple) else [state]
        weights = np.random.default_rng(1)
        loss = sum((t * lib.tensor(weights.standard_normal(tuple(t.shape)))).sum()
                   for t in [padded, *states])
        loss.backward()
        h_leaf = hx[0] if kind == "LSTM" else hx
        results.append([out.data.detach().numpy(), out.batch_sizes.numpy(),
                        padded.detach().numpy(), out_lengths.numpy(),
                        *(t.detach().numpy() for t in states), x.grad.numpy(), h_leaf.grad.numpy(),
                        *(p.grad.numpy() for _, p in module.named_parameters())])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packing_and_unpacking_match_pytorch_and_pass_gradients_back(batch_first, enforce_sorted):
    torch = pytest.importorskip("torch")
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    data = np.random.default_rng(0).standard_normal((4, 6, 2) if batch_first else (6, 4, 2))
    sequences = [np.random.default_rng(i).standard_normal((n, 2)) for i, n in enumerate(lengths)]
    results = []
    for lib in (tn, torch):
        utils = lib.nn.utils.rnn
        x = lib.tensor(data, requires_grad=True)
        packed = utils.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                            enforce_sorted=enforce_sorted)
        padded, out_lengths = utils.pad_packed_sequence(packed, batch_first=batch_first,
                                                        padding_value=-2.0)
        (packed.data * packed.data).sum().backward()
        listed = utils.pack_sequence([lib.tensor(s) for s in sequences],
                                     enforce_sorted=enforce_sorted)
        row = [packed.data.detach().numpy(), packed.batch_sizes.numpy(), padded.detach().numpy(),
               out_lengths.numpy(), x.grad.numpy(), listed.data.numpy(),
               *(s.numpy() for s in utils.unpack_sequence(listed)),
               *(s.detach().numpy() for s in utils.unpad_sequence(padded, out_lengths,
                                                                   batch_first=batch_first))]
        for indices in (packed.sorted_indices, packed.unsorted_indices):
            row.append(None if indices is None else indices.numpy())
        results.append(row)
    for ours, theirs in zip(*results, strict=True):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_array_equal(ours, theirs)


def test_second_order_gradients_through_a_packed_gru_pass_gradgradcheck():
    from tinynet.nn.utils.rnn import pack_padded_sequence

    tn.manual_seed(0)
    gru = nn.GRU(2, 3, bidirectional=True).double()
    x = tn.randn(3, 2, 2, dtype=tn.float64, requires_grad=True)

    def run(x):
        out, h_n = gru(pack_padded_sequence(x, [1, 3], enforce_sorted=False))
        return out.data, h_n

    assert tn.gradcheck(run, (x,))
    assert tn.gradgradcheck(run, (x,))


def test_packing_errors_name_the_lengths_and_shapes():
    from tinynet.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

    x = tn.zeros(3, 2, 1)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(RuntimeError, match="has to be greater than 0"):
        pack_padded_sequence(x, [2, 0])
    with pytest.raises(ValueError, match=r"length of 4 is longer than the 3 steps of the input of "
                                         r"shape \(3, 2, 1\)"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(RuntimeError, match=r"got 3 lengths for an input of shape \(3, 2, 1\)"):
        pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(RuntimeError, match="should be a 1D list or tensor of ints"):
        pack_padded_sequence(x, tn.tensor([[3, 2]]))
    packed = pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)
    with pytest.raises(RuntimeError, match="Expected 2, got 1"):
        nn.GRU(2, 3)(packed)
    with pytest.raises(RuntimeError, match="must have 2 dimensions"):
        nn.GRU(1, 3)(PackedSequence(tn.zeros(5, 1, 1), packed.batch_sizes))
    assert PackedSequence(packed.data, packed.batch_sizes,
                          tn.tensor([1, 2, 0])).unsorted_indices.tolist() == [2, 0, 1]
    assert packed.double().data.dtype == tn.float64 and not packed.is_cuda
