"""Attention against PyTorch: scaled_dot_product_attention, MultiheadAttention and the
Transformer encoder, with the same weights (through state_dict): outputs, attention weights
and every gradient; second order through the op factory; errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, check_op, op_settings

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F

RNG = np.random.default_rng(0)


def np_attention(q, k, v, causal=False):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape[-2:], bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True) @ v


@st.composite
def attention_cases(draw):
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    length, keys, features, values = (draw(st.integers(1, 3)) for _ in range(4))
    causal = draw(st.booleans())
    keys = length if causal else keys
    return ((batch + (length, features), batch + (keys, features), batch + (keys, values)),
            {"causal": causal})


SPEC = OpSpec("scaled_dot_product_attention",
              lambda q, k, v, causal: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
              attention_cases(), np_attention)


@op_settings
@given(data=st.data())
def test_attention_through_the_op_factory(data):
    check_op(SPEC, data)


def test_scaled_dot_product_attention_matches_pytorch_with_masks():
    torch = pytest.importorskip("torch")
    q, k, v = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5)), \
        RNG.standard_normal((2, 3, 6, 7))
    allowed = RNG.random((4, 6)) > 0.3
    allowed[:, 0] = True  # every query sees a key
    for mask in (None, allowed, RNG.standard_normal((4, 6))):
        ours = F.scaled_dot_product_attention(*(tn.tensor(a) for a in (q, k, v)), scale=0.3,
                                              attn_mask=None if mask is None else tn.tensor(mask))
        theirs = torch.nn.functional.scaled_dot_product_attention(
            *(torch.tensor(a) for a in (q, k, v)), scale=0.3,
            attn_mask=None if mask is None else torch.tensor(mask))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(tn.tensor(q), tn.tensor(k), tn.tensor(v),
                                       attn_mask=tn.tensor(allowed), is_causal=True)


def copy_weights(ours, theirs, torch):
    ours.load_state_dict({k: tn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("settings", [{}, {"batch_first": True}, {"kdim": 5, "vdim": 3},
                                      {"bias": False}, {"add_bias_kv": True},
                                      {"add_zero_attn": True, "batch_first": True},
                                      {"add_bias_kv": True, "add_zero_attn": True, "kdim": 5,
                                       "vdim": 3}], ids=str)
@pytest.mark.parametrize("masks", ["none", "padding", "float", "bool, per head"])
def test_multihead_attention_matches_pytorch(settings, masks):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.MultiheadAttention(8, 2, **settings).double(), \
        torch.nn.MultiheadAttention(8, 2, **settings).double()
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    copy_weights(ours, theirs, torch)
    length, keys, batch = 4, 6, 3

    def shape(n, features):
        return (batch, n, features) if settings.get("batch_first") else (n, batch, features)

    inputs = [RNG.standard_normal(shape(length, 8)),
              RNG.standard_normal(shape(keys, settings.get("kdim", 8))),
              RNG.standard_normal(shape(keys, settings.get("vdim", 8)))]
    padding = np.zeros((batch, keys), bool)
    padding[0, -2:] = True
    extra = {"none": {}, "padding": {"key_padding_mask": padding},
             "float": {"attn_mask": RNG.standard_normal((length, keys))},
             "bool, per head": {"attn_mask": np.triu(np.ones((length, keys), bool), 1),
                                "average_attn_weights": False}}[masks]
    results = []
    for lib, module in ((tn, ours), (torch, theirs)):
        xs = [lib.tensor(a, requires_grad=True) for a in inputs]
        out, weights = module(*xs, **{key: lib.tensor(a) if isinstance(a, np.ndarray) else a
                                      for key, a in extra.items()})
        (out.sum() + (weights * weights).sum()).backward()
        results.append([t.detach().numpy() for t in [out, weights, *(x.grad for x in xs),
                                                      *(p.grad for p in module.parameters())]])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("settings", [{}, {"batch_first": True, "norm_first": True,
                                           "activation": "gelu"},
                                      {"bias": False, "layer_norm_eps": 1e-3}], ids=str)
def test_transformer_encoder_matches_pytorch(settings):
    torch = pytest.importorskip("torch")
    built = []
    for lib in (tn, torch):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **settings)
        encoder = lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8),
                                            **({} if lib is tn else {"enable_nested_tensor": False}))
        built.append(encoder.double())
    ours, theirs = built
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs, torch)
    x = RNG.standard_normal((3, 5, 8) if settings.get("batch_first") else (5, 3, 8))
    padding = np.zeros((3, 5), bool)
    padding[1, -1] = True
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    for mode in ("train", "eval"):
        results = []
        for lib, module in ((tn, ours), (torch, theirs)):
            getattr(module, mode)()
            inp = lib.tensor(x, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # PyTorch's note on mixed mask types
                out = module(inp, mask=lib.tensor(causal), src_key_padding_mask=lib.tensor(padding))
            (out * out).sum().backward()
            results.append([out.detach().numpy(), inp.grad.numpy()])
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("settings", [{}, {"batch_first": True, "norm_first": True,
                                           "activation": "gelu"}, {"bias": False}], ids=str)
@pytest.mark.filterwarnings("ignore:enable_nested_tensor")  # PyTorch's note on its fast path
def test_transformer_matches_pytorch(settings):
    """Encoder and decoder with a causal target mask and padded sources: the output and the
    gradients of both inputs and of every parameter."""
    torch = pytest.importorskip("torch")
    ours = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **settings).double()
    theirs = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **settings).double()
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs, torch)
    first = settings.get("batch_first")
    src = RNG.standard_normal((3, 6, 8) if first else (6, 3, 8))
    tgt = RNG.standard_normal((3, 5, 8) if first else (5, 3, 8))
    padding = np.zeros((3, 6), bool)
    padding[2, -2:] = True
    results = []
    for lib, model in ((tn, ours), (torch, theirs)):
        inputs = [lib.tensor(a, requires_grad=True) for a in (src, tgt)]
        mask = lib.nn.Transformer.generate_square_subsequent_mask(5).double()
        out = model(*inputs, tgt_mask=mask, src_key_padding_mask=lib.tensor(padding),
                    memory_key_padding_mask=lib.tensor(padding))
        (out * out).sum().backward()
        results.append([t.detach().numpy() for t in [mask, out, *(x.grad for x in inputs),
                                                      *(p.grad for p in model.parameters())]])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
    with pytest.raises(RuntimeError, match="feature number of src and tgt must be equal to d_model"):
        ours(tn.tensor(src[..., :4]), tn.tensor(tgt))


def test_attention_dropout_only_while_training_and_errors():
    tn.manual_seed(0)
    attention = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = tn.randn(4, 2, 8)
    assert not np.allclose(attention(x, x, x)[0].detach().numpy(),
                           attention(x, x, x)[0].detach().numpy())
    attention.eval()
    np.testing.assert_array_equal(attention(x, x, x)[0].detach().numpy(),
                                  attention(x, x, x)[0].detach().numpy())
    unbatched, weights = attention(x[:, 0], x[:, 0], x[:, 0])
    assert unbatched.shape == (4, 8) and weights.shape == (4, 4)
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        attention(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="expecting embedding dimension of 8, but got 6"):
        attention(tn.randn(4, 2, 6), x, x)
    with pytest.raises(RuntimeError, match=r"key_padding_mask of shape \(2, 4\), got \(2, 3\)"):
        attention(x, x, x, key_padding_mask=tn.zeros(2, 3, dtype=tn.bool))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
