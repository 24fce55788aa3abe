"""The harness under faults and hostile input: the report's untrusted results.json, SIGTERM and
SIGKILL, the lock on a study's folder, orphaned sweep workers, and checkpoints that must not be
resumed from. One test per failure; the fault-injection test sends SIGTERM to a running study
and resumes it."""

from __future__ import annotations

import base64
import functools
import json
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
from experiments.harness import CheckpointError, TrainingDiverged, fit
from experiments.harness.files import write_json
from experiments.harness.lock import FolderLock, FolderLocked
from experiments.harness.report import build_report, safe_url
from experiments.harness.study import execute, plan
from tinynet import parallel
from tinynet.data import DataLoader, TensorDataset
from tinynet.optim import SGD, Adam

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


# ----------------------------------------------------------------------------- the report
def _fake_study(root: Path, name: str = "simulate_function", **fields) -> Path:
    """A finished study's folder with a hand-written results.json (what an attacker controls)."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fig_ok.png").write_bytes(PNG)
    results = {"study": name, "code": "1-1a", "title": "t", "question": "q", "status": "finished",
               "profile": "smoke", "seed": 0, "device": "cpu", "wall_time_s": 1.0,
               "data_source": ["synthetic"], "settings": {}, "records": {}, "tables": {},
               "checks": [{"expectation": "e", "shown": True, "detail": "d"}], "notes": [],
               "figures": [{"file": "fig_ok.png", "caption": "fine"}], **fields}
    write_json(folder / "results.json", results)
    return folder


def test_report_never_reads_a_figure_outside_the_run_folder(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-HOSTNAME")
    root = tmp_path / "runs"
    _fake_study(root, figures=[{"file": "../../secret.txt", "caption": "c"},
                               {"file": str(secret), "caption": "absolute"}])
    other = _fake_study(root, "actual_task", figures=[{"file": "link.png", "caption": "via a link"},
                                                      {"file": "../simulate_function/fig_ok.png",
                                                       "caption": "another study's folder"}])
    (other / "link.png").symlink_to(secret)
    md, page = build_report(root, ["simulate_function", "actual_task"])
    html = page.read_text()
    encoded = base64.b64encode(secret.read_bytes()).decode()
    assert encoded not in html and "TOP-SECRET" not in html
    assert html.count("outside the study") >= 3 and "outside the study" in md.read_text()


def test_report_escapes_every_text_and_attribute(tmp_path):
    evil = '"><img src=x onerror=alert(1)>'
    _fake_study(tmp_path, title=evil, question=evil, notes=[evil, '[click](x"onmouseover="alert(1))'],
                figures=[{"file": "fig_ok.png", "caption": evil}],
                checks=[{"expectation": evil, "shown": False, "detail": "<script>alert(2)</script>"}],
                tables={evil: {"caption": evil, "rows": [{evil: evil}]}}, settings={"a": evil},
                records={evil: evil})
    _, page = build_report(tmp_path, ["simulate_function"])
    html = page.read_text()
    assert "<img src=x" not in html and "<script>" not in html and 'onmouseover="' not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text, not dropped
    assert html.count("<img ") == 1  # the one real figure


@pytest.mark.parametrize("url,kept", [
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("data:text/html,x", False),
    ("//evil.example/x", False), ("vbscript:x", False), ("java\tscript:x", False),
    ("https://example.org/a?b=1", True), ("http://example.org", True), ("other/report.md#a", True),
    ("#section", True)])
def test_report_keeps_only_relative_and_http_links(tmp_path, url, kept):
    assert (safe_url(url) is not None) == kept
    _fake_study(tmp_path, notes=[f"see [the link]({url})"])
    _, page = build_report(tmp_path, ["simulate_function"])
    assert ("<a href=" in page.read_text().split("see ")[1].split("</p>")[0]) == kept


def test_report_shows_a_missing_figure_in_place_and_is_still_built(tmp_path):
    _fake_study(tmp_path, figures=[{"file": "fig_gone.png", "caption": "gone"},
                                   {"file": "fig_ok.png", "caption": "fine"}])
    (tmp_path / "simulate_function" / "fig_text.png").write_text("not a png")
    _fake_study(tmp_path, "actual_task", figures=[{"file": "fig_text.png", "caption": "fake"}])
    md, page = build_report(tmp_path, ["simulate_function", "actual_task"])
    assert "figure 'fig_gone.png' is missing" in md.read_text()
    html = page.read_text()
    assert "is missing" in html and html.count("data:image/png;base64,") == 1


# ----------------------------------------------------------------------------- signals and time
def _study_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "experiments", "simulate_function", "--smoke", "--out", str(out),
            "--no-progress", "--functions", "sinc", "--epochs", "600", "--checkpoint-every", "10",
            "--window", "100000", *extra]


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_sigterm_checkpoints_records_the_time_exits_143_and_the_study_resumes(tmp_path):
    """The CI fault-injection test: SIGTERM a running study, then resume it to the same numbers."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    whole = subprocess.run(_study_command(tmp_path / "whole"), cwd=ROOT, env=env, capture_output=True,
                           text=True)
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "cut"
    proc = subprocess.Popen(_study_command(out), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: bool(list(out.glob("simulate_function/checkpoints/*/*.npz"))))
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    study = out / "simulate_function"
    assert not (study / ".lock").exists() and not (study / "results.json").exists()
    [record] = study.glob("checkpoints/*/wall_time/*.json")
    assert json.loads(record.read_text())["seconds"] > 0
    resumed = subprocess.run(_study_command(out), cwd=ROOT, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    results = json.loads((study / "results.json").read_text())
    reference = json.loads((tmp_path / "whole" / "simulate_function" / "results.json").read_text())
    assert results["records"] == reference["records"]
    assert results["wall_time_s"] >= results["attempts_wall_time_s"] > 0


SLOW_STUDY = textwrap.dedent("""
    import functools, sys, time
    from pathlib import Path
    from experiments import studies
    from experiments.harness.study import execute
    study = studies.load("param_formula")
    real = study.run

    @functools.wraps(real)  # the same module, so the same code version and run key
    def slow(ctx):
        time.sleep(float(sys.argv[2]))
        real(ctx)

    study.run = slow
    execute(study, "smoke", Path(sys.argv[1]), progress=False)
""")


def test_wall_time_after_sigkill_counts_the_killed_attempt(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_STUDY)
    out = tmp_path / "param_formula"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(out), "60"], cwd=ROOT, env=env)
    _wait_for(lambda: bool(list(out.glob("checkpoints/*/wall_time/*.json"))))
    time.sleep(4.5)  # two heartbeats at least
    proc.kill()
    proc.wait()
    said = []
    study = studies.load("param_formula")
    results = execute(study, "smoke", out, progress=False, say=said.append)
    assert results["wall_time_s"] >= 4.0, results["wall_time_s"]
    assert any("stale lock" in line and str(proc.pid) in line for line in said)
    assert not list(out.glob("checkpoints/*/wall_time/*.json"))


def test_wall_time_of_an_interrupted_attempt_is_counted(tmp_path, monkeypatch):
    """Two attempts in one process within the same second: each keeps its own time record."""
    study = studies.load("param_formula")
    real = study.run

    @functools.wraps(real)
    def interrupted(ctx):
        time.sleep(0.5)
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        execute(study, "smoke", tmp_path, progress=False)
    monkeypatch.setattr(study, "run", real)
    results = execute(study, "smoke", tmp_path, progress=False)
    assert results["wall_time_s"] >= 0.5 and results["attempts_wall_time_s"] >= 0.5


@pytest.mark.parametrize("threads", [1, 3])
def test_a_study_runs_on_the_threads_asked_for_and_restores_them(tmp_path, monkeypatch, threads):
    study, seen = studies.load("param_formula"), []
    real = study.run

    @functools.wraps(real)
    def recording(ctx):
        seen.append((tn.get_num_threads(), parallel.blas_threads()))
        real(ctx)

    monkeypatch.setattr(study, "run", recording)
    before = tn.get_num_threads()
    results = execute(study, "smoke", tmp_path, progress=False, threads=threads)
    assert seen[0][0] == threads and results["threads"] == threads
    if parallel._blas_controllers():  # BLAS: at most one thread per core
        assert seen[0][1] == min(threads, parallel.usable_cores())
    assert tn.get_num_threads() == before


# ----------------------------------------------------------------------------- the folder lock
def test_a_second_run_on_a_locked_folder_fails_at_once_naming_the_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folder = tmp_path / "runs" / "param_formula"
        folder.mkdir(parents=True)
        lock = FolderLock(folder)
        lock.acquire()
        data = json.loads(lock.path.read_text())
        lock.path.write_text(json.dumps({**data, "pid": holder.pid}))  # as if that process held it
        with pytest.raises(FolderLocked, match=f"process {holder.pid}"):
            execute(studies.load("param_formula"), "smoke", folder, progress=False)
        started = time.time()
        assert main(["param_formula", "--smoke", "--out", str(tmp_path / "runs"), "--no-progress"]) == 1
        assert time.time() - started < 30
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_message(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = FolderLock(tmp_path)
    lock.acquire()
    lock.path.write_text(json.dumps({**json.loads(lock.path.read_text()), "pid": dead.pid}))
    said = []
    execute(studies.load("param_formula"), "smoke", tmp_path, progress=False, say=said.append)
    assert any("stale lock" in line and f"process {dead.pid}" in line for line in said)
    assert not lock.path.exists()


ORPHANS = textwrap.dedent("""
    import os, sys, time
    from experiments.harness.sweep import RunEnv, run_sweep
    from tests.test_studies_harness import worker_pid
    pids = run_sweep(worker_pid, list(range(4)), RunEnv(out="."), jobs=2)
    print(" ".join(map(str, sorted(set(pids)))), flush=True)
    time.sleep(120)
""")


def worker_pid(config, env):
    return os.getpid()


def test_idle_sweep_workers_exit_when_the_parent_is_killed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", ORPHANS], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert workers and proc.pid not in workers
    proc.kill()
    proc.wait()

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"

    _wait_for(lambda: all(gone(pid) for pid in workers), timeout=20)


# ----------------------------------------------------------------------------- checkpoints
def _problem(width: int = 8):
    tn.manual_seed(0)
    rng = numpy.random.default_rng(0)
    x = tn.tensor(rng.standard_normal((32, 4)).astype(numpy.float32))
    y = tn.tensor(rng.integers(0, 3, 32))
    model = nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Linear(width, 3))
    return model, Adam(model.parameters(), lr=1e-2), DataLoader(TensorDataset(x, y), batch_size=8)


def _rewrite_meta(path: Path, **changes) -> None:
    state = tn.load(path)
    raw = state["meta"]
    meta = json.loads(bytes(numpy.asarray(getattr(raw, "numpy", lambda: raw)(), dtype=numpy.uint8)).decode())
    meta.update(changes)
    state["meta"] = numpy.frombuffer(json.dumps(meta).encode(), dtype=numpy.uint8)
    tn.save(state, path)


def test_a_checkpoint_beyond_the_runs_epochs_is_refused(tmp_path):
    path = tmp_path / "c.npz"
    model, optimizer, loader = _problem()
    fit(model, optimizer, F.cross_entropy, loader, epochs=2, checkpoint=path, progress=False)
    _rewrite_meta(path, epoch=999)
    model, optimizer, loader = _problem()
    with pytest.raises(CheckpointError, match=rf"{path}.*epoch 999.*trains 2 epochs.*--restart"):
        fit(model, optimizer, F.cross_entropy, loader, epochs=2, checkpoint=path, progress=False)


def test_a_checkpoint_of_another_shape_names_the_file(tmp_path):
    path = tmp_path / "c.npz"
    model, optimizer, loader = _problem(width=8)
    fit(model, optimizer, F.cross_entropy, loader, epochs=1, checkpoint=path, progress=False)
    model, optimizer, loader = _problem(width=5)
    with pytest.raises(CheckpointError, match=rf"{path} does not fit this model"):
        fit(model, optimizer, F.cross_entropy, loader, epochs=1, checkpoint=path, progress=False)


def test_checkpoint_meta_that_is_not_json_names_the_file(tmp_path):
    path = tmp_path / "c.npz"
    model, optimizer, loader = _problem()
    fit(model, optimizer, F.cross_entropy, loader, epochs=1, checkpoint=path, progress=False)
    state = tn.load(path)
    state["meta"] = numpy.frombuffer(b"{not json", dtype=numpy.uint8)
    tn.save(state, path)
    model, optimizer, loader = _problem()
    with pytest.raises(CheckpointError, match=rf"{path} is unreadable or corrupt.*JSONDecodeError"):
        fit(model, optimizer, F.cross_entropy, loader, epochs=1, checkpoint=path, progress=False)


def test_a_corrupt_checkpoint_says_how_to_recover_and_restart_discards_it(tmp_path, capsys):
    args = ["simulate_function", "--smoke", "--out", str(tmp_path), "--no-progress", "--functions", "cos"]
    assert main(args) == 0
    [checkpoint] = list(tmp_path.glob("simulate_function/checkpoints/*/cos-deep.npz"))
    checkpoint.write_bytes(b"garbage")
    (tmp_path / "simulate_function" / "results.json").unlink()
    capsys.readouterr()
    assert main(args) == 1
    error = capsys.readouterr().err
    assert str(checkpoint) in error and "--restart" in error and "Traceback" not in error
    assert main([*args, "--restart"]) == 0
    assert "discarded the checkpoints" in capsys.readouterr().out
    assert tn.load(checkpoint)  # rewritten by the fresh run


def test_nan_weights_are_never_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "c.npz"
    model, _, loader = _problem()
    optimizer = SGD(model.parameters(), lr=0.1)

    def poison(epoch, history):
        if epoch == 2:  # the loss of this epoch was finite, but its weights are not
            with tn.no_grad():
                next(iter(model.parameters())).array[...] = numpy.nan

    with pytest.raises(TrainingDiverged, match="weights became NaN") as raised:
        fit(model, optimizer, F.cross_entropy, loader, epochs=5, checkpoint=path, progress=False,
            on_epoch=poison)
    assert "last good" not in str(raised.value)
    state = tn.load(path)
    weights = {k: numpy.asarray(getattr(v, "numpy", lambda v=v: v)()) for k, v in state["model"].items()}
    assert all(numpy.isfinite(w).all() for w in weights.values())
    # a checkpoint that holds NaN weights all the same is refused, never resumed from
    state["model"] = {k: w * numpy.nan for k, w in weights.items()}
    tn.save(state, path)
    model, optimizer, loader = _problem()
    with pytest.raises(CheckpointError, match="NaN or infinite weights.*not a state to resume"):
        fit(model, optimizer, F.cross_entropy, loader, epochs=5, checkpoint=path, progress=False)


# ----------------------------------------------------------------------------- finished studies
def test_rerunning_a_finished_study_answers_finished_unless_forced(tmp_path, capsys):
    args = ["param_formula", "--smoke", "--out", str(tmp_path), "--no-progress"]
    assert main(args) == 0
    results = tmp_path / "param_formula" / "results.json"
    before = results.read_bytes()
    capsys.readouterr()
    assert main(args) == 0
    assert "finished already" in capsys.readouterr().out and results.read_bytes() == before
    assert main([*args, "--force"]) == 0
    assert "finished already" not in capsys.readouterr().out
    assert plan(studies.load("param_formula"), "smoke", tmp_path / "param_formula").finished()
