"""The same ops on device='cuda' (CuPy) as on the CPU, gradient checks on the GPU, and clear
errors when devices are mixed. Skipped as a whole on a machine without CuPy and a GPU."""

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import backend

if not tn.cuda.is_available():
    pytest.skip(f"CUDA is not available: {backend.cuda_unavailable_reason()}",
                allow_module_level=True)

DEVICE = "cuda"


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# name, input shapes, function of tensors (float64; inputs kept positive where noted)
CASES = [
    ("add_broadcast", [(2, 3), (3,)], lambda a, b: a + b * 2.0 - 1.0 / (b * b + 1)),
    ("matmul_batched", [(4, 2, 3), (3, 5)], lambda a, b: a @ b),
    ("matmul_vector", [(3,), (2, 3, 4)], lambda a, b: a @ b),
    ("exp_log_sqrt", [(5,)], lambda a: (a.exp() + 1).log() + (a * a + 1).sqrt() + a.abs()),
    ("pow", [(4,), (4,)], lambda a, b: (a * a + 1) ** b + a ** 3),
    ("clamp_maximum_where", [(3, 4), (4,)],
     lambda a, b: a.clamp(-0.5, 0.5) + tn.maximum(a, b) + tn.where(a > 0, a, b)),
    ("reductions", [(3, 4, 2)],
     lambda a: a.sum(1) + a.mean((0, 2), keepdim=True).sum() + a.max() + a.var(2).sum()
     + a.logsumexp(0).sum() + a.max(1).values.sum()),
    ("getitem", [(5, 3)], lambda a: a[[0, 0, 4, 2]] * 2 + a[a > 0].sum() + a[1:, None, ::2].sum()),
    ("shape_ops", [(2, 3), (2, 3)],
     lambda a, b: tn.cat([a, b], 1).T.reshape(3, 4).sum(0) + tn.stack([a, b], -1).flatten().sum()
     + F.pad(a, (1, 2)).permute(1, 0).sum()),
    ("activations", [(3, 4)],
     lambda a: F.relu(a) + F.elu(a) + F.leaky_relu(a, 0.1) + F.sigmoid(a) + F.tanh(a)
     + F.softplus(a) + F.softmax(a, 1) + F.log_softmax(a, 0)),
    ("linear", [(4, 3), (2, 3), (2,)], F.linear),
    ("conv2d", [(2, 3, 6, 5), (4, 3, 3, 2), (4,)],
     lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1, dilation=(2, 1))),
    ("conv_transpose2d", [(1, 2, 3, 3), (2, 3, 3, 3)],
     lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)),
    ("pools", [(2, 2, 6, 6)],
     lambda x: F.max_pool2d(x, 2).sum() + F.max_pool2d(x, 3, 1, 1).sum()
     + F.avg_pool2d(x, 3, 2, 1).sum()),
    ("losses", [(4, 3), (4, 3)],
     lambda x, y: F.cross_entropy(x, tn.tensor([0, 2, 1, 2], device=x.device))
     + F.mse_loss(x, y) + F.binary_cross_entropy_with_logits(x, F.sigmoid(y))
     + F.nll_loss(F.log_softmax(x, 1), tn.tensor([1, 1, 0, 2], device=x.device), reduction="sum")),
]


@pytest.mark.parametrize("name, shapes, fn", CASES, ids=[c[0] for c in CASES])
def test_op_on_cuda_matches_cpu(name, shapes, fn):
    arrays = _inputs(*shapes)
    results = {}
    for device in ("cpu", DEVICE):
        inputs = [tn.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = fn(*inputs)
        assert out.device == device
        upstream = tn.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape), device=device)
        out.backward(upstream)
        assert all(t.grad.device == device for t in inputs)
        results[device] = [out.detach().numpy()] + [t.grad.numpy() for t in inputs]
    for cpu, gpu in zip(results["cpu"], results[DEVICE]):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-9, atol=1e-12)


def test_gradcheck_and_gradgradcheck_on_cuda():
    x, w = (tn.tensor(a, device=DEVICE, requires_grad=True) for a in _inputs((1, 2, 5, 5),
                                                                               (2, 2, 3, 3)))
    assert x.device == DEVICE

    def net(x, w):
        return F.max_pool2d(F.elu(F.conv2d(x, w, padding=1)), 2).sum()

    assert tn.gradcheck(net, (x, w))
    assert tn.gradgradcheck(net, (x, w))
    a = tn.tensor(_inputs((3, 4))[0], device=DEVICE, requires_grad=True)
    assert tn.gradgradcheck(lambda t: F.cross_entropy(t, tn.tensor([0, 3, 1], device=DEVICE)), a)


def test_hvp_on_cuda_matches_cpu():
    x_data, w_data, v_data = _inputs((2, 3, 6, 6), (4, 3, 3, 3), (4, 3, 3, 3), seed=1)
    results = []
    for device in ("cpu", DEVICE):
        x, v = tn.tensor(x_data, device=device), tn.tensor(v_data, device=device)
        w = tn.tensor(w_data, device=device, requires_grad=True)
        (g,) = tn.grad(F.max_pool2d(F.elu(F.conv2d(x, w)), 2).sum(), [w], create_graph=True)
        (hv,) = tn.grad((g * v).sum(), [w])
        results.append(hv.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-9, atol=1e-12)


def test_mixing_devices_raises_an_error_naming_both():
    cpu, gpu = tn.ones(2, 3), tn.ones(2, 3, device=DEVICE)
    for mixed in (lambda: cpu + gpu, lambda: gpu * cpu, lambda: cpu @ gpu.T,
                  lambda: tn.cat([cpu, gpu]), lambda: F.linear(cpu, gpu)):
        with pytest.raises(RuntimeError, match="(?s)(?=.*cpu)(?=.*cuda)"):
            mixed()
    with pytest.raises(RuntimeError, match="(?s)(?=.*cpu)(?=.*cuda)"):
        F.cross_entropy(gpu, tn.tensor([0, 1]))


def test_moving_between_devices_is_differentiable_and_keeps_values():
    x = tn.tensor([1.0, -2.0, 3.0], dtype=tn.float64, requires_grad=True)
    y = x.to(DEVICE)
    assert y.device == DEVICE and y.requires_grad and y.dtype == np.float64
    assert "device='cuda:0'" in repr(y.detach())  # PyTorch's print
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])
    back = y.detach().cpu()
    assert back.device == "cpu" and isinstance(y.detach().numpy(), np.ndarray)
    np.testing.assert_array_equal(back.numpy(), [1.0, -2.0, 3.0])
    assert tn.tensor(3.0, device=DEVICE).item() == 3.0


def test_factories_on_cuda_and_seeded_draws_match_the_cpu():
    for make in (lambda d: tn.zeros(2, 3, device=d), lambda d: tn.ones(2, device=d),
                 lambda d: tn.full((2,), 1.5, device=d), lambda d: tn.arange(4, device=d)):
        assert make(DEVICE).device == DEVICE
        np.testing.assert_array_equal(make(DEVICE).numpy(), make("cpu").numpy())
    tn.manual_seed(3)
    on_cpu = tn.randn(4, 5).numpy()
    tn.manual_seed(3)
    on_gpu = tn.randn(4, 5, device=DEVICE)
    assert on_gpu.device == DEVICE
    np.testing.assert_array_equal(on_gpu.numpy(), on_cpu)


def test_a_gpu_index_beyond_the_last_raises_naming_the_count():
    count = tn.cuda.device_count()
    assert tn.zeros(2, device=f"cuda:{count - 1}").device == DEVICE
    with pytest.raises(RuntimeError, match=f"'cuda:{count}'.*{count} GPU"):
        tn.zeros(2).to(f"cuda:{count}")
    tn.zeros(1, device="cuda:0")  # back to the first GPU for the other tests


def test_an_out_of_range_target_is_reported_at_the_next_read():
    scores = tn.randn(4, 3, device=DEVICE)
    loss = F.cross_entropy(scores, tn.tensor([0, 2, 3, 1], device=DEVICE))
    with pytest.raises(IndexError, match=r"cross_entropy.*\[0, 3\)"):
        loss.item()
    assert np.isfinite(F.cross_entropy(scores, tn.tensor([0, 2, 1, 1], device=DEVICE)).item())


def test_clip_grad_norm_and_batchnorm_without_momentum_match_the_cpu():
    results = {}
    for device in ("cpu", DEVICE):
        tn.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8, momentum=None),
                              nn.Linear(8, 3)).to(device)
        x = tn.tensor(np.linspace(-1, 1, 60).reshape(10, 6).astype(np.float32), device=device)
        for _ in range(3):
            model.zero_grad()
            F.cross_entropy(model(x), tn.tensor(np.arange(10) % 3, device=device)).backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        results[device] = [norm.item()] + [t.detach().numpy() for t in model.state_dict().values()]
    for cpu, gpu in zip(results["cpu"], results[DEVICE]):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_hessian_eigenvalues_and_trace_on_the_gpu_match_the_cpu(method):
    from tinynet.hessian import hessian_eigenvalues, hessian_trace

    values = {}
    for device in ("cpu", DEVICE):
        rng = np.random.default_rng(0)
        w = tn.tensor(rng.standard_normal((3, 4)), device=device, requires_grad=True)
        x = tn.tensor(rng.standard_normal((10, 4)), device=device)
        y = tn.tensor(rng.standard_normal((10, 3)), device=device)

        def f(x=x, y=y, w=w):
            return F.mse_loss(F.linear(x, w).tanh(), y)

        eigen, vectors = hessian_eigenvalues(f, [w], k=2, method=method,
                                             return_eigenvectors=True)
        assert vectors[0][0].device == device
        values[device] = (eigen, hessian_trace(f, [w], n_samples=4))
    np.testing.assert_allclose(values[DEVICE][0], values["cpu"][0], rtol=1e-6)
    assert values[DEVICE][1] == pytest.approx(values["cpu"][1], rel=1e-9)


def test_gpu_dropout_draws_float32_and_replays_after_a_reseed():
    x = tn.ones(64, 64, device=DEVICE)
    tn.manual_seed(1)
    backend.reseed_cuda_for_epoch(2)
    first = F.dropout(x, 0.5).numpy()
    backend.reseed_cuda_for_epoch(2)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    assert set(np.unique(first)) == {0.0, 2.0} and 0.4 < (first == 0).mean() < 0.6
