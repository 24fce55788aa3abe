"""What a study is, the context it runs in, and how a run of it is keyed, locked and timed.

A study file declares a ``Study``: its name, what it asks, a typed ``Settings`` dataclass (the
full profile's values) with overrides for the ``quick`` and ``smoke`` profiles, the studies it
``needs`` and a ``run`` function. ``run`` receives a ``Context`` and says what to train, plot,
tabulate and check; the context does the looping, checkpointing, parallel sweeps and file
writing.

A run is keyed by everything that determines its results (:class:`Plan`): study, profile,
settings, seed, device, a fingerprint of its data, a version of its code and the keys of the
results it builds on. Checkpoints live in a folder named by that key, and a finished result
counts as finished only for the same key, so changing any of them retrains, and says why.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.util
import json
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tinynet as tn  # before NumPy, so that OpenBLAS's idle threads sleep (tinynet.parallel)

import numpy
from experiments.harness import data, plots
from tinynet import parallel
from experiments.harness.clock import WallClock
from experiments.harness.files import read_json, results_path, to_json, write_json, write_text
from experiments.harness.lock import FolderLock
from experiments.harness.report import summary_markdown
from experiments.harness.settings import as_dict, make
from experiments.harness.sweep import RunEnv, cached, run_sweep
from experiments.harness.train import Convergence, History, fit

PROFILES = ("smoke", "quick", "full")
# Modules whose changes cannot change a study's numbers: they do not enter its code version.
PRESENTATION = {"experiments.harness.report", "experiments.harness.plots", "experiments.harness.lock",
                "experiments.harness.clock", "experiments.cli", "experiments.publish"}


def _datasets_of(settings: Any) -> list[str]:
    return [settings.dataset] if hasattr(settings, "dataset") else []


@dataclass
class Study:
    """A declarative study: ``settings`` is its Settings dataclass (defaults: the full profile),
    ``profiles`` the overrides of the other profiles, ``needs`` the studies whose results it
    reads (run first when missing), ``datasets`` the data sets its settings make it train on."""

    name: str
    code: str
    title: str
    question: str
    settings: type
    run: Callable[[Context], None]
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    part: str = "HW1"
    needs: tuple[str, ...] = ()
    datasets: Callable[[Any], list[str]] = _datasets_of

    def make_settings(self, profile: str, overrides: dict[str, Any] | None = None) -> Any:
        """The profile's settings with ``overrides``, type-checked (SettingError when wrong)."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
        values = {**(self.profiles.get(profile, {}) if profile != "full" else {}), **(overrides or {})}
        return make(self.settings, self.name, values)


@dataclass
class Check:
    """One outcome check: the expectation, whether the run showed it, and the numbers."""

    expectation: str
    shown: bool
    detail: str


@dataclass(frozen=True)
class Upstream:
    """The finished results of a study this one needs, and its output folder."""

    name: str
    folder: Path
    results: dict[str, Any]


def code_modules(module: str) -> dict[str, bytes]:
    """The source of ``module`` and of every ``experiments`` module it imports, directly or not,
    presentation-only modules left out, by module name."""
    seen: dict[str, bytes] = {}
    stack = [module]
    while stack:
        name = stack.pop()
        if name in seen or name in PRESENTATION:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        source = Path(spec.origin).read_bytes()
        seen[name] = source
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                stack += [a.name for a in node.names if a.name.startswith("experiments")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("experiments"):
                stack.append(node.module)
                if _is_package(node.module):  # `from experiments.x import module`
                    stack += [f"{node.module}.{a.name}" for a in node.names
                              if importlib.util.find_spec(f"{node.module}.{a.name}") is not None]
    return seen


@functools.lru_cache(maxsize=64)
def code_version(module: str) -> str:
    """A hash of :func:`code_modules`: any change to the code that computes a study's numbers
    changes its version (and so its run key)."""
    sha = hashlib.sha1()
    for name, source in sorted(code_modules(module).items()):
        sha.update(name.encode() + b"\0" + source + b"\0")
    return sha.hexdigest()[:12]


def _is_package(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    return spec is not None and spec.submodule_search_locations is not None


@dataclass
class Plan:
    """One run of a study: everything that determines its results, and where they go."""

    study: Study
    profile: str
    settings: Any
    out: Path
    seed: int = 0
    device: str = "cpu"
    data: list[dict[str, Any]] = field(default_factory=list)
    upstream: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def key(self) -> dict[str, Any]:
        """Everything that determines this run's results, as JSON."""
        return to_json({"study": self.study.name, "profile": self.profile,
                        "settings": as_dict(self.settings), "seed": self.seed, "device": self.device,
                        "data": self.data, "code": code_version(self.study.run.__module__),
                        "engine": tn.__version__, "upstream": self.upstream})

    @functools.cached_property
    def key_hash(self) -> str:
        """A short hash of :attr:`key`: names the checkpoint folder, stamps the results."""
        return hashlib.sha1(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def checkpoints(self) -> Path:
        """Where this run's checkpoints and cached results live."""
        return self.out / "checkpoints" / f"{self.profile}-{self.key_hash}"

    def finished(self) -> bool:
        """True when ``out`` holds this very run, finished (same key)."""
        results = _read_results(self.out)
        return results.get("status") == "finished" and results.get("key_hash") == self.key_hash


def _read_results(out: Path) -> dict[str, Any]:
    path = results_path(out)
    try:
        return read_json(path) if path.exists() else {}
    except (OSError, ValueError):
        return {}


def plan(study: Study, profile: str, out: Path, *, overrides: dict[str, Any] | None = None,
         seed: int = 0, device: str = "cpu", download: bool = False) -> Plan:
    """The Plan of a run: settings checked, data fingerprinted (fetched first with ``download``),
    and the keys of the runs of the studies it needs, as they would be run now."""
    from experiments import studies

    settings = study.make_settings(profile, overrides)
    fingerprints = [data.fingerprint(name, download) for name in study.datasets(settings)]
    upstream = {need: plan(studies.load(need), profile, Path(out).parent / need, seed=seed,
                           device=device, download=download).key_hash for need in study.needs}
    return Plan(study, profile, settings, Path(out), seed, device, fingerprints, upstream)


def explain_change(new: dict[str, Any], old: dict[str, Any]) -> str:
    """What differs between two run keys, in words ('' when nothing that matters does)."""
    reasons = []
    if old.get("data") != new.get("data"):
        def sources(key: dict[str, Any]) -> str:
            return ", ".join(f"{d['dataset']} {d['source']} ({d['train']['samples']} train images, "
                             f"sha1 {d['train']['sha1']})" for d in key.get("data") or []) or "none"
        reasons.append(f"the data changed: {sources(old)} -> {sources(new)}")
    if old.get("settings") != new.get("settings"):
        before, after = old.get("settings") or {}, new.get("settings") or {}
        changed = [f"{k} {before.get(k)} -> {after.get(k)}" for k in sorted({*before, *after})
                   if before.get(k) != after.get(k)]
        reasons.append("settings changed: " + ", ".join(changed))
    words = {"profile": "the profile", "seed": "the seed", "device": "the device",
             "code": "the study's code", "engine": "the tinynet version",
             "upstream": "the results it builds on"}
    reasons += [f"{words[k]} changed" + (f" ({old.get(k)} -> {new.get(k)})" if k in ("profile", "seed",
                                                                                     "device") else "")
                for k in words if old.get(k) != new.get(k)]
    return "; ".join(reasons)


@dataclass
class Context:
    """Everything a study's ``run`` needs; see the module docstring."""

    study: Study
    profile: str
    settings: Any
    out: Path
    device: str = "cpu"
    seed: int = 0
    jobs: int = 1
    dask: str | None = None
    progress: bool = True
    checkpoints: Path | None = None
    data_sources: set[str] = field(default_factory=set)
    runs: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: list[dict[str, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.checkpoints is None:  # a context made by hand (tests): checkpoints by profile
            self.checkpoints = self.out / "checkpoints" / self.profile

    @property
    def env(self) -> RunEnv:
        """What a sweep worker needs to train one run on its own."""
        return RunEnv(out=str(self.checkpoints), device=self.device, seed=self.seed,
                      progress=self.progress)

    def uses(self, dataset: Any) -> Any:
        """Record where a data set came from (full download, offline subset…) and return it.

        ``dataset`` is anything with a ``.source`` (every tinynet data set), or a string that
        says it (for studies whose sweep workers load the data themselves)."""
        self.data_sources.add(dataset if isinstance(dataset, str) else data.data_source(dataset))
        return dataset

    def upstream(self, name: str) -> Upstream:
        """The finished results of ``name``, a study this one ``needs`` (run before this one)."""
        if name not in self.study.needs:
            raise KeyError(f"{self.study.name}: {name!r} is not among the studies it needs "
                           f"({', '.join(self.study.needs) or 'none'}); add it to Study(needs=...)")
        folder = self.out.parent / name
        results = _read_results(folder)
        if results.get("status") != "finished":
            raise RuntimeError(f"{self.study.name} needs the finished results of {name} in {folder}, "
                               "and there are none; run it first (`all` and a single study's run "
                               "do that by themselves)")
        return Upstream(name, folder, results)

    def cached(self, name: str, compute: Callable[[], Any], key: Any = None) -> Any:
        """``compute()``'s result kept as ``<checkpoints>/<name>.json``. The checkpoint folder is
        keyed by settings, data and code; ``key`` adds what else the result depends on."""
        return cached(self.checkpoints / f"{name}.json", key, compute)

    def fit(self, name: str, model: Any, optimizer: Any, loss_fn: Callable, train: Any, *,
            epochs: int, test: Any = None, classification: bool = True,
            converge: Convergence | None = None, checkpoint_every: int = 1,
            eval_every: int = 1, on_epoch: Callable | None = None, points_per_epoch: int = 1,
            point_loader: Any = None) -> History:
        """Train one model (resumable) and keep its history under ``name`` in the results."""
        model.to(self.device)
        history = fit(model, optimizer, loss_fn, train, epochs=epochs, test_loader=test,
                      classification=classification, device=self.device,
                      checkpoint=self.checkpoints / f"{name}.npz",
                      checkpoint_every=checkpoint_every, converge=converge,
                      eval_every=eval_every, progress=self.progress, desc=name,
                      on_epoch=on_epoch, points_per_epoch=points_per_epoch,
                      point_loader=point_loader)
        self.runs[name] = history.to_dict()
        return history

    def sweep(self, fn: Callable[[Any, RunEnv], Any], configs: list[Any]) -> list[Any]:
        """Run ``fn(config, env)`` for every config, in ``jobs`` processes or on Dask."""
        return run_sweep(fn, configs, self.env, jobs=self.jobs, dask=self.dask)

    @contextlib.contextmanager
    def figure(self, name: str, caption: str, **subplots: Any) -> Iterator[Any]:
        """``with ctx.figure("loss", "Training loss") as (fig, ax):`` saves ``fig_loss.png``."""
        fig, axes = plots.new_figure(**subplots)
        yield fig, axes
        path = self.out / f"fig_{name}.png"
        plots.save(fig, path)
        self.figures.append({"file": path.name, "caption": caption})

    def table(self, name: str, rows: list[dict[str, Any]], caption: str = "") -> None:
        """A table of the results: one dict per row."""
        self.tables[name] = {"caption": caption, "rows": rows}

    def check(self, expectation: str, shown: bool, detail: str) -> None:
        """One outcome check: what the seeds/literature expect, and whether this run shows it."""
        self.checks.append(Check(expectation, bool(shown), detail))

    def record(self, key: str, value: Any) -> None:
        """A headline number (or structure) of the results, under ``key``."""
        self.records[key] = value

    def note(self, text: str) -> None:
        """A paragraph of the summary; every number in it must come from the run."""
        self.notes.append(text)


def git_commit(folder: Path) -> str:
    """The commit checked out at ``folder``, marked when files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" (with uncommitted changes)" if dirty else "")


def versions() -> dict[str, str]:
    """The versions, code commit and machine a result was computed with."""
    found = {"python": platform.python_version(), "numpy": numpy.__version__,
             "tinynet": tn.__version__, "commit": git_commit(Path(__file__).parents[2]),
             "machine": platform.machine(), "processor": platform.processor() or platform.machine()}
    with contextlib.suppress(ImportError):
        import cupy
        found["cupy"] = cupy.__version__
    return found


def samples_used(plan_: Plan) -> dict[str, int]:
    """The sample counts a run actually trains and tests on: a ``train_samples``/``test_samples``
    setting of 0 means the whole split, and one above the split's size is cut to it."""
    if not plan_.data:
        return {}
    sizes = {"train_samples": plan_.data[0]["train"]["samples"],
             "test_samples": plan_.data[0]["test"]["samples"]}
    return {key: min(getattr(plan_.settings, key) or size, size) for key, size in sizes.items()
            if hasattr(plan_.settings, key)}


def ensure_needs(study: Study, profile: str, out: Path, say: Callable[[str], None] = print,
                 **options: Any) -> None:
    """Run the studies ``study`` needs (and theirs) that are not finished for the same key."""
    from experiments import studies

    for need in study.needs:
        upstream = studies.load(need)
        folder = Path(out).parent / need
        ensure_needs(upstream, profile, folder, say, **options)
        keyed = plan(upstream, profile, folder, seed=options.get("seed", 0),
                     device=options.get("device", "cpu"), download=options.get("download", False))
        if not keyed.finished():
            say(f"   {study.name} needs {upstream.code} {need}: running it first")
            execute(upstream, profile, folder, say=say, **options)


def execute(study: Study, profile: str, out: Path, *, overrides: dict[str, Any] | None = None,
            device: str = "cpu", seed: int = 0, jobs: int = 1, dask: str | None = None,
            progress: bool = True, threads: int | None = 1, restart: bool = False,
            download: bool = False, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run a study end to end (the studies it needs first) and write ``results.json`` and
    ``summary.md`` into ``out``; return the results.

    The run resumes from the checkpoints of the same key; ``restart`` discards every checkpoint
    of the study first. The study's folder is locked while it runs (``FolderLocked`` when another
    live process holds it). Its wall time adds up every attempt, interrupted ones included.
    ``threads`` is ``tn.set_num_threads`` for the run: BLAS's threads and the convolution's
    (None: tinynet's default). One is the default because the studies' models are small and a
    sweep runs one process per job: on a busy 2-core machine a two-threaded OpenBLAS made an MLP
    step 10-100x slower than a single thread.
    """
    options = {"device": device, "seed": seed, "jobs": jobs, "dask": dask, "progress": progress,
               "threads": threads, "download": download}
    ensure_needs(study, profile, out, say, **options)
    keyed = plan(study, profile, out, overrides=overrides, seed=seed, device=device, download=download)
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out, say):
        if restart and (out / "checkpoints").exists():
            shutil.rmtree(out / "checkpoints")
            say(f"   --restart: discarded the checkpoints in {out / 'checkpoints'}")
        _explain(keyed, say)
        write_json(keyed.checkpoints / "key.json", keyed.key)
        tn.manual_seed(seed)
        ctx = Context(study, profile, keyed.settings, out, device=device, seed=seed, jobs=jobs,
                      dask=dask, progress=progress, checkpoints=keyed.checkpoints)
        clock = WallClock(keyed.checkpoints / "wall_time")
        earlier = clock.earlier()
        clock.start()
        try:
            with parallel.limited_threads(threads):
                study.run(ctx)
        except BaseException:
            clock.stop(keep=True)
            raise
        wall = earlier + clock.stop(keep=False)
        results = {
            "study": study.name, "code": study.code, "title": study.title, "part": study.part,
            "question": study.question, "status": "finished", "profile": profile,
            "settings": as_dict(keyed.settings), "samples": samples_used(keyed), "seed": seed,
            "device": device, "jobs": jobs, "threads": threads,
            "data_source": sorted(ctx.data_sources) or ["synthetic (generated in the study)"],
            "key_hash": keyed.key_hash, "key": keyed.key,
            "versions": versions(), "wall_time_s": round(wall, 2), "attempts_wall_time_s": round(earlier, 2),
            "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "records": ctx.records, "tables": ctx.tables, "figures": ctx.figures,
            "checks": [vars(c) for c in ctx.checks], "notes": ctx.notes, "runs": ctx.runs,
        }
        write_json(results_path(out), results)
        write_text(out / "summary.md", summary_markdown(to_json(results)))
    return results


def _explain(keyed: Plan, say: Callable[[str], None]) -> None:
    """Say why a run starts afresh when the folder holds results or checkpoints of another key."""
    if keyed.checkpoints.exists():
        return  # resuming (or re-running) this very key
    previous = _read_results(keyed.out).get("key")
    if previous is None:
        folders = sorted((keyed.out / "checkpoints").glob(f"{keyed.profile}-*/key.json"),
                         key=lambda p: p.stat().st_mtime)
        with contextlib.suppress(OSError, ValueError, IndexError):
            previous = read_json(folders[-1])
    if previous:
        why = explain_change(keyed.key, previous) or "the run key changed"
        say(f"   training afresh, not resuming: {why}")
