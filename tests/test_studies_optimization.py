"""Study-specific logic of 1-2a to 1-2c: the minimal ratio, the gradient-norm minimiser, and the
per-iteration and per-snapshot records that must survive a resume."""

from __future__ import annotations

import numpy
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from experiments.harness import fit
from experiments.harness.sweep import RunEnv
from experiments.studies import grad_norm as grad_norm_study
from experiments.studies import optimization_path
from experiments.studies.zero_grad_minima import minimal_ratio, minimise_gradient_norm
from tinynet.data import DataLoader, TensorDataset
from tinynet.hessian import grad_norm, hessian
from tinynet.optim import SGD


# ----------------------------------------------------------------------------- 1-2c
def test_minimal_ratio_of_a_known_hessian_counts_signs_with_tolerance():
    rotation, _ = numpy.linalg.qr(numpy.random.default_rng(0).standard_normal((5, 5)))
    matrix = rotation @ numpy.diag([-2.0, -1e-9, 0.0, 1.0, 3.0]) @ rotation.T
    shares = minimal_ratio(numpy.linalg.eigvalsh(matrix), tol=1e-6)
    assert shares == pytest.approx({"minimal_ratio": 0.4, "negative_share": 0.2, "zero_share": 0.4})
    assert minimal_ratio(numpy.array([1.0, 2.0]), 1e-6)["minimal_ratio"] == 1.0


def test_minimal_ratio_of_a_saddle_through_tinynet_hessian():
    w = tn.tensor([0.0, 0.0, 0.0], dtype=tn.float64, requires_grad=True)
    matrix = hessian(lambda: w[0] ** 2 - 3 * w[1] ** 2 + w[2] ** 4, [w]).numpy()  # diag(2, -6, 0)
    shares = minimal_ratio(numpy.linalg.eigvalsh(matrix), tol=1e-6)
    assert shares == pytest.approx({"minimal_ratio": 1 / 3, "negative_share": 1 / 3,
                                    "zero_share": 1 / 3})


@pytest.mark.parametrize("bad", [numpy.array([]), numpy.ones((2, 2))])
def test_minimal_ratio_rejects_what_is_not_a_spectrum(bad):
    with pytest.raises(ValueError, match="minimal_ratio"):
        minimal_ratio(bad, 1e-6)


def _double_well():
    w = tn.tensor([0.3, 0.5], dtype=tn.float64, requires_grad=True)
    return w, lambda: (w[0] ** 2 - 1) ** 2 + w[1] ** 2  # critical points (-1|0|1, 0)


def test_lbfgs_on_squared_gradient_norm_reaches_a_critical_point():
    w, loss = _double_well()
    norms = minimise_gradient_norm(loss, [w], "lbfgs", steps=200, lr=0.0)
    reached = grad_norm(loss, [w], create_graph=False).item()
    assert reached < 1e-8 and reached == pytest.approx(min(norms), abs=1e-12)
    assert min(abs(w.detach().numpy()[0] - c) for c in (-1, 0, 1)) < 1e-6


def test_adam_on_squared_gradient_norm_keeps_the_best_point_it_visited():
    w, loss = _double_well()
    start = grad_norm(loss, [w], create_graph=False).item()
    norms = minimise_gradient_norm(loss, [w], "adam", steps=300, lr=0.05)
    reached = grad_norm(loss, [w], create_graph=False).item()
    assert reached == pytest.approx(min(norms)) and reached < 0.1 * start


def test_unknown_minimiser_is_rejected():
    w, loss = _double_well()
    with pytest.raises(ValueError, match="minimiser"):
        minimise_gradient_norm(loss, [w], "newton", steps=5, lr=0.0)


# ----------------------------------------------------------------------------- 1-2b
def _regression():
    tn.manual_seed(0)
    rng = numpy.random.default_rng(0)
    x = tn.tensor(rng.standard_normal((32, 3)).astype(numpy.float32))
    y = tn.tensor(rng.standard_normal((32, 1)).astype(numpy.float32))
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, seed=0)
    return model, SGD(model.parameters(), lr=0.05), loader


def test_recorder_notes_the_loss_and_gradient_norm_of_every_step():
    model, optimizer, loader = _regression()
    recorder = grad_norm_study.GradNormRecorder(optimizer)
    x, y = next(iter(loader))
    loss = recorder.loss(F.mse_loss)(model(x), y)
    recorder.zero_grad()
    loss.backward()
    expected = numpy.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in model.parameters()))
    recorder.step()
    assert recorder.steps == [pytest.approx((loss.item(), expected))]


def _train_logged(path, kill_at=None):
    model, optimizer, loader = _regression()
    recorder = grad_norm_study.GradNormRecorder(optimizer)
    log = grad_norm_study.IterationLog(path / "log.npy", recorder, epochs=6, save_every=2)

    def on_epoch(epoch, history):
        log.on_epoch(epoch, history)
        if epoch == kill_at:
            raise KeyboardInterrupt

    fit(model, recorder, recorder.loss(F.mse_loss), loader, epochs=6, classification=False,
        checkpoint=path / "run.npz", checkpoint_every=2, progress=False, on_epoch=on_epoch)
    return log.rows


def test_iteration_log_survives_a_resume(tmp_path):
    (tmp_path / "whole").mkdir()
    (tmp_path / "cut").mkdir()
    whole = _train_logged(tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        _train_logged(tmp_path / "cut", kill_at=3)  # epoch 4's rows are saved, its checkpoint not
    resumed = _train_logged(tmp_path / "cut")
    assert whole.shape == (6 * 4, 3)
    numpy.testing.assert_array_equal(resumed, whole)


def test_running_mean():
    values = numpy.array([1.0, 3.0, 5.0, 7.0])
    numpy.testing.assert_allclose(grad_norm_study.running_mean(values, 2), [1.0, 2.0, 4.0, 6.0])


# ----------------------------------------------------------------------------- 1-2a
def test_weight_snapshots_survive_a_resume(tmp_path, monkeypatch):
    config = optimization_path.PathRun(run=0, seed=3, dataset="mnist", widths=(784, 6, 10), lr=1e-3,
                                       batch_size=32, epochs=4, every=1, train_samples=96,
                                       test_samples=32)
    whole = optimization_path.train_one(config, RunEnv(str(tmp_path / "whole")))

    def killed_after_second_epoch(*args, on_epoch, **kwargs):
        def kill(epoch, history):
            on_epoch(epoch, history)
            if epoch == 1:
                raise KeyboardInterrupt
        return fit(*args, on_epoch=kill, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(optimization_path, "fit", killed_after_second_epoch)
        with pytest.raises(KeyboardInterrupt):
            optimization_path.train_one(config, RunEnv(str(tmp_path / "cut")))
    resumed = optimization_path.train_one(config, RunEnv(str(tmp_path / "cut")))
    epochs = list(range(5))
    weights, metrics = optimization_path.load_snapshots(tmp_path / "whole" / "run0-weights", epochs)
    again, again_metrics = optimization_path.load_snapshots(tmp_path / "cut" / "run0-weights", epochs)
    numpy.testing.assert_array_equal(again, weights)
    assert [m["train_loss"] for m in again_metrics] == [m["train_loss"] for m in metrics]
    assert resumed["first_layer"] == whole["first_layer"] == 784 * 6 + 6
