"""The experiment harness: training loop, resume after a kill, sweeps, CLI, report, smoke runs."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from experiments import studies
from experiments.cli import main
from experiments.harness import Convergence, TrainingDiverged, fit
from experiments.harness.study import execute
from experiments.harness.sweep import RunEnv, run_sweep
from tinynet.data import DataLoader, TensorDataset
from tinynet.optim import SGD, Adam

ROOT = Path(__file__).resolve().parents[1]


def _problem():
    """A small classification task with dropout, so resuming must restore the random state."""
    tn.manual_seed(0)
    rng = numpy.random.default_rng(0)
    x = tn.tensor(rng.standard_normal((64, 4)).astype(numpy.float32))
    y = tn.tensor(rng.integers(0, 3, 64))
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    optimizer = Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, seed=1)
    return model, optimizer, loader


def _numbers(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history.rows]


def test_resume_after_interrupt_matches_uninterrupted_run(tmp_path):
    model, optimizer, loader = _problem()
    whole = fit(model, optimizer, F.cross_entropy, loader, epochs=6, test_loader=loader,
                checkpoint=tmp_path / "whole.npz", progress=False)
    reference = [p.detach().numpy().copy() for p in model.parameters()]

    def kill_after_third(epoch, history):
        if epoch == 2:
            raise KeyboardInterrupt

    model, optimizer, loader = _problem()
    with pytest.raises(KeyboardInterrupt):
        fit(model, optimizer, F.cross_entropy, loader, epochs=6, test_loader=loader,
            checkpoint=tmp_path / "cut.npz", progress=False, on_epoch=kill_after_third)
    model, optimizer, loader = _problem()  # a fresh process would build everything again
    resumed = fit(model, optimizer, F.cross_entropy, loader, epochs=6, test_loader=loader,
                  checkpoint=tmp_path / "cut.npz", progress=False)
    assert _numbers(resumed) == _numbers(whole)
    for p, q in zip(model.parameters(), reference):
        numpy.testing.assert_array_equal(p.detach().numpy(), q)


def test_finished_run_is_not_trained_again(tmp_path):
    model, optimizer, loader = _problem()
    first = fit(model, optimizer, F.cross_entropy, loader, epochs=2, checkpoint=tmp_path / "c.npz",
                progress=False)
    calls = []
    model, optimizer, loader = _problem()
    again = fit(model, optimizer, F.cross_entropy, loader, epochs=2, checkpoint=tmp_path / "c.npz",
                progress=False, on_epoch=lambda e, h: calls.append(e))
    assert calls == [] and _numbers(again) == _numbers(first)


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.test_experiments import _problem
    import tinynet.nn.functional as F
    from experiments.harness import fit
    model, optimizer, loader = _problem()
    slow = float(sys.argv[2])
    history = fit(model, optimizer, F.cross_entropy, loader, epochs=8, checkpoint=Path(sys.argv[1]),
                  progress=False, on_epoch=lambda e, h: time.sleep(slow))
    print(repr([round(r["train_loss"], 12) for r in history.rows]))
""")


def test_resume_after_sigkill(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(KILL_SCRIPT.format(root=str(ROOT)))
    run = [sys.executable, str(script)]
    whole = subprocess.run(run + [str(tmp_path / "whole.npz"), "0"], capture_output=True, text=True,
                           check=True, cwd=ROOT).stdout
    checkpoint = tmp_path / "killed.npz"
    proc = subprocess.Popen(run + [str(checkpoint), "0.3"], cwd=ROOT)
    deadline = time.time() + 60
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.4)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists() and proc.returncode == -signal.SIGKILL
    resumed = subprocess.run(run + [str(checkpoint), "0"], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout
    assert resumed == whole


def test_nan_loss_stops_with_clear_message_and_keeps_checkpoint(tmp_path):
    model, _, loader = _problem()
    optimizer = SGD(model.parameters(), lr=0.01)

    def explode_after_first_epoch(epoch, history):
        optimizer.param_groups[0]["lr"] = 1e30

    with pytest.raises(TrainingDiverged, match="loss became"), numpy.errstate(all="ignore"):
        fit(model, optimizer, F.cross_entropy, loader, epochs=50, checkpoint=tmp_path / "c.npz",
            progress=False, on_epoch=explode_after_first_epoch)
    state = tn.load(tmp_path / "c.npz")
    assert all(numpy.isfinite(numpy.asarray(v.numpy() if hasattr(v, "numpy") else v)).all()
               for v in state["model"].values())


def test_convergence_stops_early():
    stop = Convergence(window=3, tol=0.01)
    assert not stop.reached([5, 4, 3, 2, 1, 0.5])
    assert stop.reached([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])


def _square(config, env):
    return {"x": config["x"] ** 2, "out": env.out}


def test_sweep_in_processes_keeps_order(tmp_path):
    env = RunEnv(out=str(tmp_path))
    configs = [{"x": i} for i in range(5)]
    assert run_sweep(_square, configs, env, jobs=2) == run_sweep(_square, configs, env, jobs=1)


def test_sweep_on_local_dask_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="dask distributed not installed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as cluster:
        result = run_sweep(_square, [{"x": 3}, {"x": 4}], RunEnv(str(tmp_path)),
                           dask=cluster.scheduler_address)
    assert [r["x"] for r in result] == [9, 16]


def test_cli_lists_every_study(capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in studies.available())


def test_unknown_setting_is_rejected(tmp_path):
    study = studies.load("simulate_function")
    with pytest.raises(KeyError, match="unknown setting"):
        execute(study, "smoke", tmp_path, overrides={"epochz": 3}, progress=False)


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory):
    """Every study run once in its smoke profile through ``experiments all``, then reported."""
    root = tmp_path_factory.mktemp("runs")
    assert main(["all", "--smoke", "--out", str(root), "--no-progress"]) == 0
    return root


@pytest.mark.parametrize("name", studies.available())
def test_study_smoke_run_writes_results_figures_and_summary(name, smoke_root):
    out = smoke_root / name
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "finished" and results["profile"] == "smoke"
    assert results["data_source"] and results["wall_time_s"] >= 0 and results["checks"]
    for figure in results["figures"]:
        assert (out / figure["file"]).stat().st_size > 1000
    summary = (out / "summary.md").read_text()
    assert results["code"] in summary and "Outcome" in summary


def test_all_skips_finished_studies(smoke_root, capsys):
    assert main(["all", "--smoke", "--out", str(smoke_root), "--no-progress"]) == 0
    assert capsys.readouterr().out.count("finished already") == len(studies.available())


def test_report_has_every_study_and_every_figure_it_references(smoke_root):
    report = (smoke_root / "report.md").read_text()
    page = (smoke_root / "report.html").read_text()
    for name in studies.ORDER:
        assert f"`{name}`" in report, f"{name} missing from the report"
        results = json.loads((smoke_root / name / "results.json").read_text())
        assert f"#{results['code'].lower()}-{name}" in report  # the contents list links to it
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report):
        assert (smoke_root / target).is_file(), f"the report shows {target}, which does not exist"
    assert page.count("data:image/png;base64,") == report.count("![")
    assert "Contents" in page and "All studies" in page and "not run" not in report


def test_cli_setting_flags_override_profile(tmp_path):
    assert main(["simulate_function", "--smoke", "--out", str(tmp_path), "--no-progress",
                 "--epochs", "4", "--functions", "cos"]) == 0
    results = json.loads((tmp_path / "simulate_function" / "results.json").read_text())
    assert results["settings"]["epochs"] == 4 and results["settings"]["functions"] == ["cos"]
    assert all(len(run["rows"]) <= 4 for run in results["runs"].values())


def test_wall_time_of_a_resumed_study_includes_the_interrupted_part(tmp_path, monkeypatch):
    study = studies.load("simulate_function")
    real_run = study.run

    def interrupted(ctx):
        time.sleep(0.5)
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        execute(study, "smoke", tmp_path, progress=False)
    monkeypatch.setattr(study, "run", real_run)
    execute(study, "smoke", tmp_path, progress=False)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["wall_time_s"] >= 0.5
    assert not list(tmp_path.glob("checkpoints/*/interrupted_wall_time_s"))
