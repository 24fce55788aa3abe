"""What a study is, and the context it runs in.

A study file declares a ``Study``: its name, what it asks, its settings for each profile
(``smoke`` for tests, ``quick`` for minutes, ``full`` for the seeds' settings) and a ``run``
function. ``run`` receives a ``Context`` and says what to train, plot, tabulate and check; the
context does the looping, checkpointing, parallel sweeps and file writing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy
from threadpoolctl import threadpool_limits

import tinynet as tn
from experiments.harness import plots
from experiments.harness.files import read_json, write_json, write_text
from experiments.harness.sweep import RunEnv, run_sweep
from experiments.harness.train import Convergence, History, fit

PROFILES = ("smoke", "quick", "full")


@dataclass
class Study:
    """A declarative study: ``profiles`` maps each profile name to its settings."""

    name: str
    code: str
    title: str
    question: str
    profiles: dict[str, dict[str, Any]]
    run: Callable[[Context], None]
    part: str = "HW1"

    def settings(self, profile: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        settings = {**self.profiles["full"], **self.profiles.get(profile, {})}
        for key, value in (overrides or {}).items():
            if key not in settings:
                raise KeyError(f"{self.name}: unknown setting {key!r}; known: {sorted(settings)}")
            settings[key] = value
        return settings


@dataclass
class Check:
    expectation: str
    shown: bool
    detail: str


@dataclass
class Context:
    """Everything a study's ``run`` needs; see the module docstring."""

    study: Study
    profile: str
    settings: SimpleNamespace
    out: Path
    device: str = "cpu"
    seed: int = 0
    jobs: int = 1
    dask: str | None = None
    progress: bool = True
    data_sources: set[str] = field(default_factory=set)
    runs: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: list[dict[str, str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def checkpoints(self) -> Path:
        """Checkpoints live under a folder named by the settings, so changing any setting (or
        the profile) starts fresh instead of resuming a different experiment."""
        key = hashlib.sha1(json.dumps([self.profile, vars(self.settings), self.seed],
                                      sort_keys=True, default=str).encode()).hexdigest()[:10]
        return self.out / "checkpoints" / f"{self.profile}-{key}"

    @property
    def env(self) -> RunEnv:
        """What a sweep worker needs to train one run on its own."""
        return RunEnv(out=str(self.checkpoints), device=self.device, seed=self.seed,
                      progress=self.progress)

    def uses(self, dataset: Any) -> Any:
        """Record where a data set came from (full download, offline subset…) and return it.

        ``dataset`` is anything with a ``.source`` (every tinynet data set), or a string that
        says it (for studies whose sweep workers load the data themselves)."""
        self.data_sources.add(dataset if isinstance(dataset, str)
                              else str(getattr(dataset, "source", type(dataset).__name__)))
        return dataset

    def fit(self, name: str, model: Any, optimizer: Any, loss_fn: Callable, train: Any, *,
            epochs: int, test: Any = None, classification: bool = True,
            converge: Convergence | None = None, checkpoint_every: int = 1,
            eval_every: int = 1, on_epoch: Callable | None = None) -> History:
        """Train one model (resumable) and keep its history under ``name`` in the results."""
        model.to(self.device)
        history = fit(model, optimizer, loss_fn, train, epochs=epochs, test_loader=test,
                      classification=classification, device=self.device,
                      checkpoint=self.checkpoints / f"{name}.npz",
                      checkpoint_every=checkpoint_every, converge=converge,
                      eval_every=eval_every, progress=self.progress, desc=name,
                      on_epoch=on_epoch)
        self.runs[name] = history.to_dict()
        return history

    def sweep(self, fn: Callable[[dict[str, Any], RunEnv], Any],
              configs: list[dict[str, Any]]) -> list[Any]:
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
        self.tables[name] = {"caption": caption, "rows": rows}

    def check(self, expectation: str, shown: bool, detail: str) -> None:
        """One outcome check: what the seeds/literature expect, and whether this run shows it."""
        self.checks.append(Check(expectation, bool(shown), detail))

    def record(self, key: str, value: Any) -> None:
        self.records[key] = value

    def note(self, text: str) -> None:
        self.notes.append(text)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "numpy": numpy.__version__,
             "tinynet": tn.__version__, "machine": platform.machine(),
             "processor": platform.processor() or platform.machine()}
    with contextlib.suppress(ImportError):
        import cupy
        found["cupy"] = cupy.__version__
    return found


def results_path(out: Path) -> Path:
    return out / "results.json"


def is_finished(out: Path, profile: str) -> bool:
    """True when ``out`` holds a finished run of this study in ``profile``."""
    path = results_path(out)
    if not path.exists():
        return False
    results = read_json(path)
    return results.get("status") == "finished" and results.get("profile") == profile


def execute(study: Study, profile: str, out: Path, *, overrides: dict[str, Any] | None = None,
            device: str = "cpu", seed: int = 0, jobs: int = 1, dask: str | None = None,
            progress: bool = True, threads: int | None = 1) -> Context:
    """Run a study end to end and write ``results.json`` and ``summary.md`` into ``out``.

    ``threads`` caps the BLAS threads of this process (None: the library's default). One is
    the default because the studies' models are small: on a busy 2-core machine a
    two-threaded OpenBLAS made an MLP step 10-100x slower than a single thread.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {PROFILES}")
    settings = study.settings(profile, overrides)
    out.mkdir(parents=True, exist_ok=True)
    tn.manual_seed(seed)
    ctx = Context(study, profile, SimpleNamespace(**settings), out, device=device, seed=seed,
                  jobs=jobs, dask=dask, progress=progress)
    # Time spent by earlier executions that were interrupted counts too, so a resumed study
    # reports its whole wall time, not only the part after the resume.
    spent_before = ctx.checkpoints / "interrupted_wall_time_s"
    earlier = float(spent_before.read_text()) if spent_before.exists() else 0.0
    started = time.time()
    try:
        with threadpool_limits(threads):
            study.run(ctx)
    except BaseException:
        write_text(spent_before, str(earlier + time.time() - started))
        raise
    wall = earlier + time.time() - started
    spent_before.unlink(missing_ok=True)
    results = {
        "study": study.name, "code": study.code, "title": study.title, "part": study.part,
        "question": study.question, "status": "finished", "profile": profile,
        "settings": settings, "seed": seed, "device": device, "jobs": jobs, "blas_threads": threads,
        "data_source": sorted(ctx.data_sources) or ["synthetic (generated in the study)"],
        "versions": versions(), "wall_time_s": round(wall, 2),
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "records": ctx.records, "tables": ctx.tables, "figures": ctx.figures,
        "checks": [vars(c) for c in ctx.checks], "notes": ctx.notes, "runs": ctx.runs,
    }
    write_json(results_path(out), results)
    write_text(out / "summary.md", summary_markdown(results))
    return ctx


def markdown_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_(empty)_\n"
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _headline(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_headline(v)}" for k, v in value.items())
    if isinstance(value, list) and len(value) > 8:
        return f"{len(value)} values, from {_headline(value[0])} to {_headline(value[-1])}"
    if isinstance(value, list):
        return ", ".join(_headline(v) for v in value)
    return str(value)


def summary_markdown(results: dict[str, Any], heading: str = "#", image_prefix: str = "") -> str:
    """The study's summary: question, settings, tables, figures and outcome checks."""
    h = heading
    parts = [f"{h} {results['code']} `{results['study']}`: {results['title']}\n\n",
             f"{results['question']}\n\n",
             f"- profile: `{results['profile']}`, seed {results['seed']}, device "
             f"`{results['device']}`, wall time {results['wall_time_s']:.1f} s\n"
             f"- data: {', '.join(results['data_source'])}\n"
             f"- settings: " + ", ".join(f"`{k}={v}`" for k, v in results["settings"].items()) + "\n"]
    if results.get("records"):
        parts.append(f"\n{h}# Headlines\n\n")
        for key, value in results["records"].items():
            parts.append(f"- `{key}`: {_headline(value)}\n")
    parts.append(f"\n{h}# Outcome\n\n")
    for c in results["checks"]:
        mark = "shown" if c["shown"] else "NOT shown"
        parts.append(f"- **{mark}**: {c['expectation']} {c['detail']}\n")
    for text in results.get("notes", []):
        parts.append(f"\n{text}\n")
    for name, table in results["tables"].items():
        parts.append(f"\n{h}# Table: {name}\n\n{table['caption']}\n\n{markdown_table(table['rows'])}")
    if results["figures"]:
        parts.append(f"\n{h}# Figures\n\n")
        for fig in results["figures"]:
            parts.append(f"\n![{fig['caption']}]({image_prefix}{fig['file']})\n\n*{fig['caption']}*\n")
    return "".join(parts)
