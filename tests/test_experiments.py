"""The experiment harness: training loop, resume after a kill, run keys, sweeps (joblib and Dask),
typed settings, the CLI, the report, smoke runs of every study, and publishing results.

The harness under faults and hostile input is tested in tests/test_studies_harness.py."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
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
from experiments import publish, runs, studies
from experiments.cli import main
from experiments.harness import Convergence, SettingError, TrainingDiverged, data, fit
from experiments.harness.study import code_version, plan
from experiments.harness.sweep import RunEnv, cached, parse_dask, run_sweep
from experiments.studies import interpolation
from tinynet.data import DataLoader, TensorDataset
from tinynet.optim import SGD, Adam

ROOT = Path(__file__).resolve().parents[1]
FULL_DATA = Path(os.environ.get("TINYNET_DATA", ROOT / "missing"))


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
    return [{k: v for k, v in row.items() if "seconds" not in k} for row in history.rows]


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


def _tiny_runs(n: int) -> list[runs.MLPRun]:
    return [runs.MLPRun(name=f"tiny-{i}", widths=(784, 8, 10), dataset="mnist", train_samples=256,
                        test_samples=128, epochs=1, batch_size=64, lr=1e-3, seed=i) for i in range(n)]


def test_sweep_on_a_real_local_dask_cluster_equals_the_joblib_path(tmp_path):
    distributed = pytest.importorskip("dask.distributed", reason="the 'dask' extra is not installed")
    configs = _tiny_runs(3)
    joblib_results = run_sweep(runs.train_mlp, configs, RunEnv(str(tmp_path / "joblib")), jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dask_results = run_sweep(runs.train_mlp, configs, RunEnv(str(tmp_path / "dask")),
                                 dask=cluster.scheduler_address)

    def numbers(results):  # everything but the clocks
        return [{k: v for k, v in r.items() if k not in ("seconds", "cpu_seconds", "history")}
                | {"history": [{k: v for k, v in row.items() if "seconds" not in k} for row in r["history"]]}
                for r in results]

    assert numbers(dask_results) == numbers(joblib_results)
    assert list((tmp_path / "dask").glob("tiny-*.json"))  # the workers wrote where they were told


@pytest.mark.parametrize("spec,expected", [("local", ("local", None)), ("local:3", ("local", 3)),
                                           ("tcp://10.0.0.1:8786", ("tcp://10.0.0.1:8786", None))])
def test_dask_flag_starts_a_local_cluster_or_joins_an_address(spec, expected):
    assert parse_dask(spec) == expected


def test_local_dask_flag_runs_a_study(tmp_path):
    pytest.importorskip("dask.distributed", reason="the 'dask' extra is not installed")
    assert main(["params_vs_generalization", "--smoke", "--out", str(tmp_path), "--no-progress",
                 "--dask", "local:2", "--widths", "4,8"]) == 0


def test_cached_results_are_keyed(tmp_path):
    calls = []

    def compute(value):
        calls.append(value)
        return {"value": value}

    path = tmp_path / "r.json"
    assert cached(path, {"lr": 1}, lambda: compute(1)) == {"value": 1}
    assert cached(path, {"lr": 1}, lambda: compute(2)) == {"value": 1}
    assert cached(path, {"lr": 2}, lambda: compute(3)) == {"value": 3}
    path.write_text("{broken")
    assert cached(path, {"lr": 2}, lambda: compute(4)) == {"value": 4}
    assert calls == [1, 3, 4]


# ----------------------------------------------------------------------------- run keys
def test_offline_data_then_full_data_in_one_folder_retrains(tmp_path, monkeypatch, capsys):
    """The stale-checkpoint bug: a study run on the offline subset, then on the full data in the
    same folder, must train again (and say why) instead of reusing the subset's checkpoints."""
    if not (FULL_DATA / "mnist").is_dir():
        pytest.skip("needs the full MNIST under TINYNET_DATA")
    args = ["random_labels", "--smoke", "--out", str(tmp_path / "runs"), "--no-progress",
            "--train-samples", "20000"]
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path / "empty"))
    assert main(args) == 0
    offline = json.loads((tmp_path / "runs" / "random_labels" / "results.json").read_text())
    assert offline["data_source"] == [data.OFFLINE]
    captured = capsys.readouterr()
    assert captured.err.count("warning: MNIST") == 1 and "warnings.warn" not in captured.err
    assert "offline MNIST subset" in captured.err.strip().splitlines()[-1]
    summary = (tmp_path / "runs" / "random_labels" / "summary.md").read_text()
    assert "`train_samples=20000 (10000 used)`" in summary and "Offline subset" in summary

    monkeypatch.setenv("TINYNET_DATA", str(FULL_DATA))
    assert main(args) == 0
    assert "training afresh, not resuming: the data changed: mnist offline-subset" in capsys.readouterr().out
    full = json.loads((tmp_path / "runs" / "random_labels" / "results.json").read_text())
    assert full["data_source"][0].startswith("full") and full["key_hash"] != offline["key_hash"]
    assert full["records"] != offline["records"] and full["samples"]["train_samples"] == 20000
    checkpoints = sorted(p.name for p in (tmp_path / "runs" / "random_labels" / "checkpoints").iterdir())
    assert len(checkpoints) == 2  # one per key: nothing trained on the subset was reused


def test_the_run_key_covers_settings_seed_data_code_and_upstream(tmp_path):
    study = studies.load("stacked_conv")
    base = plan(study, "smoke", tmp_path / "stacked_conv")
    assert set(base.key) >= {"settings", "seed", "profile", "device", "data", "code", "upstream"}
    assert base.key["data"][0]["train"]["sha1"] and base.key["upstream"]["cnn_search"]
    changed = [plan(study, "smoke", tmp_path / "stacked_conv", overrides={"epochs": 3}),
               plan(study, "smoke", tmp_path / "stacked_conv", seed=1),
               plan(study, "quick", tmp_path / "stacked_conv")]
    assert len({base.key_hash, *(p.key_hash for p in changed)}) == 4


def test_the_code_version_covers_the_shared_runs_and_nothing_presentational():
    from experiments.harness import study as harness_study

    modules = harness_study.code_modules("experiments.studies.shapes_regularization")
    assert {"experiments.runs", "experiments.harness.train", "experiments.budget"} <= set(modules)
    assert "experiments.harness.report" not in modules and "experiments.cli" not in modules
    assert code_version("experiments.studies.shapes_regularization") != code_version(
        "experiments.studies.batch_size")


def test_a_study_runs_the_studies_it_needs_first(tmp_path, capsys):
    assert main(["frozen_encoder", "--smoke", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "frozen_encoder needs P10 autoencoder: running it first" in capsys.readouterr().out
    upstream = json.loads((tmp_path / "autoencoder" / "results.json").read_text())
    results = json.loads((tmp_path / "frozen_encoder" / "results.json").read_text())
    assert results["key"]["upstream"] == {"autoencoder": upstream["key_hash"]}


# ----------------------------------------------------------------------------- structure
def test_no_study_imports_another():
    for name in studies.ORDER:
        tree = ast.parse(Path(ROOT / "experiments" / "studies" / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        assert not [m for m in imported if m and m.startswith("experiments.studies")], name
        assert "experiments.studies" not in imported, name


def test_every_study_has_typed_settings_checked_when_made():
    for study in studies.all_studies():
        assert dataclasses.is_dataclass(study.settings), study.name
        for profile in ("smoke", "quick", "full"):
            settings = study.make_settings(profile)
            assert dataclasses.is_dataclass(settings) and settings.__dataclass_params__.frozen
    study = studies.load("simulate_function")
    with pytest.raises(SettingError, match="simulate_function: unknown setting.*'epochz'"):
        study.make_settings("smoke", {"epochz": 3})
    with pytest.raises(SettingError, match="'epochs' must be int"):
        study.make_settings("smoke", {"epochs": "3"})
    with pytest.raises(SettingError, match="'functions' has 'nope'; choose from"):
        study.make_settings("smoke", {"functions": ["sinc", "nope"]})
    assert study.make_settings("smoke", {"functions": ["cos"]}).functions == ("cos",)


@pytest.mark.parametrize("argv", [["no_such_study"], ["simulate_function", "--epochs", "abc"],
                                  ["simulate_function", "--functions", "nope"],
                                  ["simulate_function", "--dask", "local:x"],
                                  ["simulate_function", "--epochz", "3"], ["all", "--bogus"],
                                  ["interpolation", "--lrs", "0.1"]])
def test_cli_mistakes_are_usage_errors_without_a_traceback(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err


def test_a_studys_help_shows_the_chosen_profiles_defaults(capsys):
    for flag, epochs in (("--quick", "4000"), ("--smoke", "30"), (None, "20000")):
        with pytest.raises(SystemExit):
            main(["simulate_function", *([flag] if flag else []), "--help"])
        assert re.search(rf"--epochs VALUE\s+int; \w+ default: {epochs}\b", capsys.readouterr().out)


def test_download_flag_fetches_and_verifies_the_data(tmp_path, monkeypatch):
    asked = []
    real = data.DATASETS["mnist"]

    def recording(root=None, train=True, download=False):
        asked.append((train, download))
        return real(root=root, train=train)

    monkeypatch.setitem(data.DATASETS, "mnist", recording)
    data._load.cache_clear()
    data._fingerprint.cache_clear()
    try:
        assert main(["random_labels", "--smoke", "--out", str(tmp_path), "--no-progress",
                     "--download"]) == 0
    finally:
        data._load.cache_clear()
        data._fingerprint.cache_clear()
    assert (True, True) in asked and (False, True) in asked


def test_one_make_optimizer():
    model = nn.Linear(2, 1)
    assert isinstance(runs.make_optimizer("adam", model.parameters(), 0.1), Adam)
    sgd = runs.make_optimizer("sgd", model.parameters(), 0.1, momentum=0.9)
    assert isinstance(sgd, SGD) and sgd.param_groups[0]["momentum"] == 0.9
    sources = [Path(ROOT / "experiments" / "studies" / f"{n}.py").read_text() for n in studies.ORDER]
    assert not [s for s in sources if re.search(r"\b(Adam|SGD)\(", s)]


# ----------------------------------------------------------------------------- checks
def test_difference_counts_only_beyond_the_spread():
    a, b = runs.over_seeds([1.0, 1.1, 0.9]), runs.over_seeds([1.5, 1.6, 1.4])
    assert runs.separated(a, b) and not runs.separated(a, runs.over_seeds([1.1, 1.2, 1.0]))
    assert not runs.separated(runs.over_seeds([1.0]), runs.over_seeds([2.0]))  # one seed shows nothing


def test_interpolation_minimum_is_over_the_whole_alpha_grid(tmp_path):
    from experiments.harness.study import Context

    study = interpolation.STUDY
    alphas = [-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
    run_a, run_b = {"batch_size": 64, "lr": 1e-3}, {"batch_size": 1024, "lr": 1e-3}
    for losses, shown in (([3, 2, 1, 1.5, 2, 1.5, 1, 2, 3], True),
                          ([3, 2, 1, 0.8, 2, 1.5, 1, 2, 3], False),  # α = 0.25 below A
                          ([3, 2, 1, 1.5, 2, 1.5, 1, 2, 0.5], False)):  # far past B is lower
        ctx = Context(study, "smoke", study.make_settings("smoke"), tmp_path)
        curve = [{"alpha": a, "train_loss": loss, "test_acc": 0.5} for a, loss in zip(alphas, losses)]
        interpolation._checks(ctx, "batch_size", run_a, run_b, curve, alphas, 0.5)
        assert ctx.checks[1].shown is shown, ctx.checks[1].detail


def test_cpu_time_is_recorded_per_epoch():
    model, optimizer, loader = _problem()
    history = fit(model, optimizer, F.cross_entropy, loader, epochs=2, progress=False)
    assert [row["cpu_seconds"] > 0 for row in history.rows] == [True, True]
    assert history.rows[1]["cpu_seconds"] >= history.rows[0]["cpu_seconds"]


def test_curves_have_several_points_per_epoch():
    model, optimizer, loader = _problem()
    history = fit(model, optimizer, F.cross_entropy, loader, epochs=2, progress=False,
                  points_per_epoch=4, point_loader=loader)
    assert [p["epoch"] for p in history.points] == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    assert all("test_loss" in p for p in history.points)


# ----------------------------------------------------------------------------- CLI and smoke runs
def test_cli_lists_every_study(capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in studies.available())


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
    assert not (out / ".lock").exists()


def test_all_skips_finished_studies_and_shows_progress(smoke_root, capsys):
    assert main(["all", "--smoke", "--out", str(smoke_root), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count("finished already") == len(studies.available())
    assert f"[1/{len(studies.available())}, elapsed 0:00:0" in out and "ETA" in out


def test_report_has_every_study_and_every_figure_it_references(smoke_root):
    report = (smoke_root / "report.md").read_text()
    page = (smoke_root / "report.html").read_text()
    for name in studies.ORDER:
        assert f"`{name}`" in report, f"{name} missing from the report"
        results = json.loads((smoke_root / name / "results.json").read_text())
        assert f"#{results['code'].lower()}-{name}" in report  # the status table links to it
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report):
        assert (smoke_root / target).is_file(), f"the report shows {target}, which does not exist"
    assert page.count("data:image/png;base64,") == report.count("![")
    assert "not run" not in report


def test_report_opens_with_the_status_table_and_the_tally(smoke_root):
    report = (smoke_root / "report.md").read_text()
    results = [json.loads((smoke_root / n / "results.json").read_text()) for n in studies.ORDER]
    shown = sum(c["shown"] for r in results for c in r["checks"])
    total = sum(len(r["checks"]) for r in results)
    head = report[:report.index('<a id="')]
    assert f"**Checks shown: {shown} of {total}**" in head
    assert "| study | title | profile | data | device | wall time (s) | checks shown |" in head
    mnist = "full" if (FULL_DATA / "mnist").is_dir() else "offline subset"
    assert head.count(f"| smoke | {mnist} |") >= 10 and "| smoke | synthetic |" in head
    assert ("**Offline subset:**" in head) == (mnist == "offline subset")


def test_actual_task_draws_curves_between_epochs(smoke_root):
    results = json.loads((smoke_root / "actual_task" / "results.json").read_text())
    points = results["runs"]["cnn-small"]["points"]
    assert [p["epoch"] for p in points] == [0.5, 1] and all("test_loss" in p for p in points)


def test_seeded_studies_report_mean_and_spread(smoke_root):
    for name in ("shapes_regularization", "learning_rate", "activation", "cnn_search"):
        summary = (smoke_root / name / "summary.md").read_text()
        assert " ± " in summary and "(2 seeds)" in summary, name


def test_notes_take_their_numbers_from_the_run(smoke_root):
    results = json.loads((smoke_root / "zero_grad_minima" / "results.json").read_text())
    notes = " ".join(results["notes"])
    assert "1.4e-3" not in notes and "5.1e-4" not in notes
    assert f"median ‖∇L‖ of {results['records']['grad_norm_reached']['median']:.2g}" in notes


def test_simulate_function_checks_each_depth_against_the_shallow_model(smoke_root):
    results = json.loads((smoke_root / "simulate_function" / "results.json").read_text())
    expectations = [c["expectation"] for c in results["checks"]]
    assert len(expectations) == 4 and sum("the deep model" in e for e in expectations) == 2
    assert sum("the medium model" in e for e in expectations) == 2


def test_publish_writes_results_summaries_figures_and_a_readme(smoke_root, tmp_path):
    names = ["actual_task", "frozen_encoder"]
    problems = publish.publish(smoke_root, smoke_root, tmp_path, names, ROOT)
    assert problems == []
    for name in names:
        files = {p.name for p in (tmp_path / name).iterdir()}
        results = json.loads((tmp_path / name / "results.json").read_text())
        assert files == {"results.json", "summary.md", *(f["file"] for f in results["figures"])}
    readme = (tmp_path / "README.md").read_text()
    commit = json.loads((smoke_root / "actual_task" / "results.json").read_text())["versions"]["commit"]
    assert f"- commit: `{commit}`" in readme and "- CPU: " in readme
    assert "| autoencoder (needed) |" in readme and "| claim | quick | full |" in readme
    checks = json.loads((smoke_root / "frozen_encoder" / "results.json").read_text())["checks"]
    assert readme.count("| frozen_encoder | ") == len(checks)


def test_publish_leaves_large_training_histories_out(smoke_root, tmp_path, monkeypatch):
    source = smoke_root / "actual_task"
    runs = json.loads((source / "results.json").read_text())["runs"]
    assert runs
    monkeypatch.setattr(publish, "HISTORIES_LIMIT", 100)  # every results.json is over it
    publish.copy_study(source, tmp_path / "big")
    copied = json.loads((tmp_path / "big" / "results.json").read_text())
    assert copied["runs"] == {} and "training histories" in copied["omitted"]
    monkeypatch.setattr(publish, "HISTORIES_LIMIT", 1 << 30)
    publish.copy_study(source, tmp_path / "small")
    assert (tmp_path / "small" / "results.json").read_text() == \
        publish.portable((source / "results.json").read_text())


def test_published_files_name_the_data_folder_by_its_variable(tmp_path, monkeypatch):
    data = tmp_path / "my-data"
    monkeypatch.setenv("TINYNET_DATA", str(data))
    assert publish.portable(f"full: {data}/mnist") == "full: $TINYNET_DATA/mnist"
    monkeypatch.delenv("TINYNET_DATA")
    assert publish.portable(f"full: {data}/mnist") == f"full: {data}/mnist"


def test_cli_setting_flags_override_profile(tmp_path):
    assert main(["simulate_function", "--smoke", "--out", str(tmp_path), "--no-progress",
                 "--epochs", "4", "--functions", "cos"]) == 0
    results = json.loads((tmp_path / "simulate_function" / "results.json").read_text())
    assert results["settings"]["epochs"] == 4 and results["settings"]["functions"] == ["cos"]
    assert all(len(run["rows"]) <= 4 for run in results["runs"].values())
