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
    h0 = rng.standard_normal(state_shape)
    results = []
    for lib, module in ((tn, layer), (torch, torch_layer)):
        x = lib.tensor(data, requires_grad=True)
        hx = (lib.tensor(h0), lib.tensor(h0 * 0.5)) if kind == "LSTM" else lib.tensor(h0)
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


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_second_order_gradients_through_time_pass_gradgradcheck(kind):
    tn.manual_seed(0)
    layer = getattr(nn, kind)(2, 3, bidirectional=True).double()
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
    with pytest.raises(NotImplementedError, match="proj_size=2"):
        nn.LSTM(3, 4, proj_size=2)
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
