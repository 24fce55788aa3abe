"""tinynet's CUDA path on the strict CuPy stand-in (tests/strict_cupy.py), on every CI run.

The stand-in refuses what CuPy refuses (host arrays mixed with device ones, implicit conversion to
NumPy) and counts every device->host sync and host->device upload, so these tests catch a hidden
transfer in a training step, the Hessian tools, the losses and the backend without a GPU. They
complement tests/test_cuda.py and `pytest --device cuda` on a real GPU, and never replace them.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy
import pytest
import strict_cupy

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet import backend
from tinynet.hessian import hessian_eigenvalues, hessian_trace, hvp
from tinynet.nn.losses import TargetOutOfRangeError


@pytest.fixture
def cuda(monkeypatch):
    """The stand-in as tinynet's CUDA array module, for one test."""
    return strict_cupy.install(monkeypatch)


# ------------------------------------------------------------------------ the stand-in itself
def test_the_stand_in_refuses_host_mixing_and_counts_transfers(cuda):
    host = numpy.ones(3)
    with strict_cupy.counting() as counts:
        a = cuda.asarray(host)  # an upload
        b = a * 2.0 + numpy.float32(1)  # Python and NumPy scalars go in as kernel arguments
        total = b.sum()
    assert len(counts.uploads) == 1 and not counts.syncs
    for mixed in (lambda: a + host, lambda: host * a, lambda: numpy.asarray(a),
                  lambda: cuda.concatenate([a, host]), lambda: a.__setitem__(slice(None), host)):
        with pytest.raises(TypeError, match="numpy|NumPy"):
            mixed()
    with strict_cupy.counting() as counts:
        float(total), bool(total > 0), int(total), total.item(), b.tolist(), b.get()
        cuda.asnumpy(b)
        b[b > 1]  # a boolean mask: the result's size must be read
    assert len(counts.syncs) == 8 and not counts.uploads
    with strict_cupy.counting() as counts:
        b[[0, 2]]  # a list index is copied to the device
    assert len(counts.uploads) == 1


# ------------------------------------------------------------------------ a warm training step
def _mlp():
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10))


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(8 * 3 * 3, 10))


def _regularised():
    """The layers and tools whose steps used to read from the GPU."""
    return nn.Sequential(nn.Linear(20, 16), nn.BatchNorm1d(16, momentum=None), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(16, 10))


CASES = {"mlp": (_mlp, (16, 20), {}), "cnn": (_cnn, (8, 1, 12, 12), {}),
         "batchnorm-dropout-clip-weights-ignore": (_regularised, (16, 20), dict(clip=True))}


def _step_maker(make, shape, device, optimizer_name, clip=False):
    tn.manual_seed(0)
    model = make().to(device)
    optimizer = (tn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
                 if optimizer_name == "sgd" else tn.optim.Adam(model.parameters(), lr=1e-3))
    rng = numpy.random.default_rng(0)
    x = tn.tensor(rng.standard_normal(shape).astype(numpy.float32), device=device)
    labels = rng.integers(0, 10, shape[0])
    if clip:
        labels[:3] = -100  # ignored entries
    y = tn.tensor(labels, device=device)
    weight = tn.tensor(numpy.linspace(0.5, 1.5, 10).astype(numpy.float32), device=device)

    def step():
        loss = F.cross_entropy(model(x), y, weight=weight if clip else None)
        optimizer.zero_grad()
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        optimizer.step()
        return loss.item()  # the one read a training loop makes (for logging)

    return model, step


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_warm_training_step_reads_once_and_uploads_nothing(cuda, case, optimizer_name):
    make, shape, options = CASES[case]
    _, step = _step_maker(make, shape, "cuda", optimizer_name, **options)
    step()  # warm: optimizer state, first-step branches
    with strict_cupy.counting() as counts:
        step()
    assert len(counts.syncs) <= 1 and not counts.uploads, counts.report()
    assert all(dtype == "float32" for _, dtype in counts.draws), counts.draws  # dropout in float32


@pytest.mark.parametrize("case", ["mlp", "cnn"])
def test_the_device_step_computes_what_the_cpu_step_does(cuda, case):
    make, shape, _ = CASES[case]
    losses = {}
    for device in ("cpu", "cuda"):
        model, step = _step_maker(make, shape, device, "adam")
        losses[device] = [step() for _ in range(3)]
        weights = [p.detach().numpy() for p in model.parameters()]
        losses[device + " weights"] = weights
    # the same arithmetic, but the CPU's convolution takes its own blocked path
    numpy.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-6)
    for a, b in zip(losses["cuda weights"], losses["cpu weights"]):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------ losses and tools
def test_cross_entropy_checks_targets_on_the_gpu_without_a_sync(cuda):
    scores = tn.randn(4, 3, device="cuda", requires_grad=True)
    target = tn.tensor([0, 2, 3, 1], device="cuda")
    with strict_cupy.counting() as counts:
        loss = F.cross_entropy(scores, target)
    assert not counts.syncs and not counts.uploads
    with strict_cupy.counting() as counts, pytest.raises(TargetOutOfRangeError,
                                                         match=r"cross_entropy.*\[0, 3\)"):
        loss.item()
    assert len(counts.syncs) == 1  # the flag came back with the value, not on its own
    assert numpy.isfinite(F.cross_entropy(scores, tn.tensor([0, 2, 1, 1], device="cuda")).item())
    with pytest.raises(TargetOutOfRangeError, match=r"\[0, 3\] but input has 3 classes"):
        F.cross_entropy(scores.detach().cpu(), tn.tensor([0, 2, 3, 1]))  # on the CPU: at once


def test_every_target_ignored_is_nan_with_zero_gradients_on_both_devices(cuda):
    for device in ("cpu", "cuda"):
        scores = tn.randn(3, 4, device=device, requires_grad=True)
        loss = F.cross_entropy(scores, tn.tensor([-100, -100, -100], device=device))
        loss.backward()
        assert numpy.isnan(loss.item())
        numpy.testing.assert_array_equal(scores.grad.numpy(), numpy.zeros((3, 4)))


def test_ops_that_silence_numpy_warnings_run_on_the_device(cuda):
    """CuPy has no ``errstate``: binary cross-entropy at 0 and 1, var with no degrees of freedom
    and the amax of a NaN ask the backend for it and compute on either device alike."""
    results = {}
    for device in ("cpu", "cuda"):
        p = tn.tensor([0.0, 0.5, 1.0], device=device, requires_grad=True)
        x = tn.tensor([[1.0, numpy.nan]], device=device, requires_grad=True)
        with pytest.warns(UserWarning, match="degrees of freedom"):
            spread = x[:, :1].var()
        loss = F.binary_cross_entropy(p, tn.tensor([0.0, 1.0, 1.0], device=device)) + \
            x.amax() + spread
        loss.backward()
        results[device] = [t.detach().numpy() for t in (loss, p.grad, x.grad)]
    for a, b in zip(results["cuda"], results["cpu"]):
        numpy.testing.assert_array_equal(a, b)


def test_python_numbers_next_to_device_tensors_are_not_uploaded(cuda):
    x = tn.randn(3, 4, device="cuda", requires_grad=True)
    labels = tn.tensor([0, 3, 1], device="cuda")
    with strict_cupy.counting() as counts:
        y = (2.0 * x + 1 - x / 3) ** 2 * True
        F.leaky_relu(y, 0.1).sum().backward()
        hits = ((labels + 1) * 2 == 4) | (labels > 2) & True
    assert not counts.uploads and not counts.syncs, counts.report()
    numpy.testing.assert_array_equal(hits.numpy(), [False, True, True])


def test_constant_factories_fill_on_the_device(cuda):
    x = tn.ones(2, 3, device="cuda")
    with strict_cupy.counting() as counts:
        made = [tn.zeros(2, 3, device="cuda"), tn.ones(4, device="cuda", dtype=tn.float64),
                tn.full((2, 2), 7, device="cuda"), tn.empty(3, device="cuda"),
                tn.zeros_like(x), tn.ones_like(x), tn.full_like(x, 2.5)]
    assert not counts.uploads and not counts.syncs, counts.report()
    assert all(t.device.type == "cuda" for t in made)
    assert made[2].dtype == tn.int64 and made[1].dtype == tn.float64
    numpy.testing.assert_array_equal(made[6].numpy(), numpy.full((2, 3), 2.5, numpy.float32))


def test_clip_grad_norm_reads_nothing_unless_asked_to_check_finiteness(cuda):
    params = [tn.randn(3, 4, device="cuda", requires_grad=True) for _ in range(5)]
    for p in params:
        (p * p).sum().backward()
    for norm_type in (2.0, float("inf")):
        with strict_cupy.counting() as counts:
            nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
        assert not counts.syncs and not counts.uploads, counts.report()
    with strict_cupy.counting() as counts:
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert len(counts.syncs) == 1


def _hessian_problem(device):
    rng = numpy.random.default_rng(0)
    w = tn.tensor(rng.standard_normal((3, 4)), device=device, requires_grad=True)
    x, y = (tn.tensor(rng.standard_normal(s), device=device) for s in ((10, 4), (10, 3)))
    return (lambda: F.mse_loss(F.linear(x, w).tanh(), y)), [w]


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_hessian_eigenvalues_keep_vectors_on_the_device(cuda, method):
    f, params = _hessian_problem("cpu")
    expected, expected_vectors = hessian_eigenvalues(f, params, k=2, method=method,
                                                     return_eigenvectors=True)
    f, params = _hessian_problem("cuda")
    with strict_cupy.counting() as counts:
        values, vectors = hessian_eigenvalues(f, params, k=2, method=method,
                                              return_eigenvectors=True)
    numpy.testing.assert_allclose(values, expected, rtol=1e-6)
    assert all(v[0].device == "cuda" for v in vectors)
    for got, want in zip(vectors, expected_vectors):  # unit vectors, up to their sign
        assert abs(float((got[0].cpu() * want[0]).sum())) == pytest.approx(1.0, abs=1e-5)
    if method == "lanczos":  # the eigenvalues only (power iteration reads a few scalars a step)
        assert len(counts.syncs) == 1 and len(counts.uploads) == 1, counts.report()
    assert not any("concatenate" in u or "split" in u for u in counts.uploads)


def test_hessian_trace_and_hvp_read_one_number(cuda):
    f, params = _hessian_problem("cpu")
    expected = hessian_trace(f, params, n_samples=5)
    f, params = _hessian_problem("cuda")
    with strict_cupy.counting() as counts:
        estimate = hessian_trace(f, params, n_samples=5)
    assert estimate == pytest.approx(expected, rel=1e-12)
    assert len(counts.syncs) == 1 and len(counts.uploads) == 5  # one ±1 probe (bytes) a sample
    direction = [tn.ones(3, 4, dtype=tn.float64, device="cuda")]
    with strict_cupy.counting() as counts:
        hvp(f, params, direction)
    assert not counts.syncs and not counts.uploads, counts.report()


# ------------------------------------------------------------------------ devices and seeds
def test_cuda_index_selects_the_device_or_says_there_is_none(monkeypatch):
    strict_cupy.install(monkeypatch, device_count=2)
    assert backend.check_device("cuda:1") == "cuda"
    assert strict_cupy.Device().id == 1
    assert tn.zeros(2, device="cuda:0").device == "cuda" and strict_cupy.Device().id == 0
    with pytest.raises(RuntimeError, match=r"'cuda:2'.*2 GPUs \(cuda:0 to cuda:1\)"):
        tn.zeros(2).to("cuda:2")
    with pytest.raises(ValueError, match="unknown device"):
        backend.check_device("cuda:x")


def test_a_broken_cupy_reports_its_own_import_error(tmp_path, monkeypatch):
    package = tmp_path / "cupy"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""\
        raise ImportError("libcudart.so.12: cannot open shared object file")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    cupy, _, usable, reason = backend._load_cupy()
    assert cupy is None and not usable
    assert "installed but does not import" in reason and "libcudart.so.12" in reason
    assert "exactly one cupy-cuda" in reason
    monkeypatch.setattr(backend, "_cuda_error", reason)
    with pytest.raises(RuntimeError, match="libcudart"):
        backend.check_device("cuda")


def test_reseeding_per_epoch_repeats_the_gpu_draws(cuda):
    tn.manual_seed(5)
    backend.reseed_cuda_for_epoch(3)
    first = backend.generator("cuda").random(4).get()
    backend.reseed_cuda_for_epoch(4)
    other = backend.generator("cuda").random(4).get()
    backend.reseed_cuda_for_epoch(3)
    numpy.testing.assert_array_equal(backend.generator("cuda").random(4).get(), first)
    assert not numpy.array_equal(first, other)


def test_a_resumed_cuda_run_replays_its_dropout_masks(cuda, tmp_path):
    from experiments.harness import fit
    from tinynet.data import DataLoader, TensorDataset

    def problem():
        tn.manual_seed(0)
        rng = numpy.random.default_rng(0)
        data = TensorDataset(tn.tensor(rng.standard_normal((32, 4)).astype(numpy.float32)),
                             tn.tensor(rng.integers(0, 3, 32)))
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3),
                              nn.Linear(16, 3)).to("cuda")
        return (model, tn.optim.Adam(model.parameters(), lr=1e-2),
                DataLoader(data, batch_size=8, shuffle=True, seed=1))

    def train(checkpoint, **kwargs):
        model, optimizer, loader = problem()
        fit(model, optimizer, F.cross_entropy, loader, epochs=4, device="cuda",
            checkpoint=checkpoint, progress=False, **kwargs)
        return [p.detach().numpy() for p in model.parameters()]

    whole = train(tmp_path / "whole.npz")

    def stop_after_second(epoch, history):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "cut.npz", on_epoch=stop_after_second)
    resumed = train(tmp_path / "cut.npz")
    for a, b in zip(resumed, whole):
        numpy.testing.assert_array_equal(a, b)


def test_the_training_loop_reads_the_device_once_per_logging_interval(cuda):
    from experiments.harness import fit
    from tinynet.data import DataLoader, TensorDataset

    rng = numpy.random.default_rng(0)
    data = TensorDataset(tn.tensor(rng.standard_normal((64, 20)).astype(numpy.float32)),
                         tn.tensor(rng.integers(0, 10, 64)))
    model = _mlp().to("cuda")
    optimizer = tn.optim.Adam(model.parameters(), lr=1e-2)
    train, test = DataLoader(data, batch_size=8), DataLoader(data, batch_size=16)
    with strict_cupy.counting() as counts:  # 8 steps and 4 test batches per epoch
        history = fit(model, optimizer, F.cross_entropy, train, epochs=2, test_loader=test,
                      device="cuda", progress=False)
    assert len(counts.syncs) == 2 * 2, counts.report()  # per epoch: the train tally, the test one
    cpu = _mlp()
    cpu.load_state_dict({k: v.to("cpu") for k, v in model.state_dict().items()})
    x, y = data.tensors
    assert history.last["test_loss"] == pytest.approx(F.cross_entropy(cpu(x), y).item(), rel=1e-5)


# ------------------------------------------------------------------------ scripts/gpu_check
ROOT = Path(__file__).resolve().parents[1]


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_script_is_valid_bash_and_bounded():
    script = ROOT / "scripts" / "gpu_check.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "LIMIT=465" in text and "pip install" not in text.replace("# ", "")


def test_gpu_check_entry_runs_cpu_only_and_refuses_cuda_without_a_gpu(tmp_path):
    run = [sys.executable, str(ROOT / "scripts" / "gpu_check.py")]
    done = subprocess.run(run + ["gemm", "--device", "cpu", "--small", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert "- gemm / 64x64: tinynet TFLOP/s" in done.stdout
    assert set(json.loads((tmp_path / "gemm.json").read_text())) == {"64x64", "128x128"}
    if not backend.cuda_is_available():
        refused = subprocess.run(run + ["parity", "--out", str(tmp_path)], capture_output=True,
                                 text=True)
        assert refused.returncode == 2 and "no GPU" in refused.stdout


def test_gpu_check_sections_run_on_the_stand_in(cuda):
    check = _gpu_check()
    parity = check.parity("cuda", small=True)
    assert set(parity) == {"conv2d", "max_pool2d + avg_pool2d", "cross_entropy",
                           "mlp step (3 x Adam)", "cnn step (3 x Adam)", "hvp (conv, elu, pool)"}
    assert all(case["ok"] for case in parity.values()), parity
    speed = check.speed("cuda", small=True)
    assert {"tinynet gpu", "tinynet cpu", "raw", "vs raw", "cpu / gpu"} <= set(speed["batch 8"])
    assert set(check.gemm("cuda", small=True)) == {"64x64", "128x128"}


def test_the_raw_peer_computes_the_same_training_step_as_tinynet():
    check = _gpu_check()
    rng = numpy.random.default_rng(0)
    x = rng.random((4, 1, 28, 28), dtype=numpy.float32)
    y = rng.integers(0, 10, 4)
    tn.manual_seed(0)
    model = check._mnist_cnn()
    raw = check.RawCNN(numpy, [p.detach().numpy().copy() for p in model.parameters()])
    optimizer = tn.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        loss = F.cross_entropy(model(tn.tensor(x)), tn.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        raw_loss = raw.step(x, y)
        assert float(raw_loss) == pytest.approx(loss.item(), rel=1e-5)
    for p, q in zip(model.parameters(), raw.params):
        numpy.testing.assert_allclose(p.detach().numpy(), q, rtol=1e-4, atol=1e-6)


def test_layers_and_tensor_data_follow_the_default_device(cuda, monkeypatch):
    monkeypatch.setattr(backend, "default_device", "cuda")
    for layer in (nn.Linear(3, 2), nn.Conv2d(1, 2, 3), nn.BatchNorm1d(2), nn.LayerNorm(3),
                  nn.Embedding(4, 2)):
        assert {t.device for t in layer.state_dict().values()} == {"cuda"}, layer
    assert tn.tensor(numpy.ones(2)).device == "cuda"  # NumPy data goes to the default device
    assert tn.tensor(tn.ones(2, device="cpu")).device == "cpu"  # a Tensor keeps its own


def test_cuda_manual_seed_seeds_the_gpu_generator_only(cuda):
    tn.manual_seed(0)
    cpu_draw = backend.generator("cpu").random()
    tn.cuda.manual_seed(7)
    first = backend.generator("cuda").random(3).get()
    tn.cuda.manual_seed_all(7)
    numpy.testing.assert_array_equal(backend.generator("cuda").random(3).get(), first)
    tn.manual_seed(0)
    assert backend.generator("cpu").random() == cpu_draw


def test_the_interpolation_study_follows_the_device(cuda, tmp_path):
    """Its probe model used to stay on the CPU and fail next to CUDA data."""
    from experiments.cli import main

    assert main(["interpolation", "--smoke", "--device", "cuda", "--out", str(tmp_path),
                 "--jobs", "1"]) == 0
