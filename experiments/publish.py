"""``python -m experiments publish``: the full-profile results of the studies whose checks the quick
profile cannot show, run on the full data and written under ``docs/results`` for the repository.

    python -m experiments publish --run [--out runs-publish] [--jobs N] [--dest docs/results]

With ``--run`` it runs (or resumes; finished runs are kept) the quick and the full profile of
every published study into ``OUT/quick`` and ``OUT/full``, the studies they need included. Then,
with or without ``--run``, it copies each study's ``results.json``, ``summary.md`` and PNG figures
(no checkpoints) from ``OUT/full`` to ``DEST/<study>/`` and writes ``DEST/README.md``: the commit,
the CPU, the wall times and, for every check, whether the quick and the full run showed it. Every
number in it comes from the runs' ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
from pathlib import Path
from typing import Any

from experiments import studies
from experiments.harness.files import read_json, results_path, to_json, write_text
from experiments.harness.report import figure_problem
from experiments.harness.study import git_commit
from tinynet.data.download import data_root

PUBLISHED = ("actual_task", "grad_norm", "zero_grad_minima", "depth_width_grid", "shapes_regularization",
             "batch_size", "learning_rate", "activation", "frozen_encoder")


def cpu_name() -> str:
    """The processor's model name and this machine's logical CPU count."""
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"{name}, {os.cpu_count()} logical CPUs"


def _results(root: Path, name: str) -> dict[str, Any] | None:
    path = results_path(root / name)
    if not path.exists():
        return None
    results = read_json(path)
    return results if results.get("status") == "finished" else None


def _needs(name: str) -> list[str]:
    study = studies.load(name)
    return [n for need in study.needs for n in (*_needs(need), need)]


def _seconds(results: dict[str, Any] | None) -> str:
    return f"{results['wall_time_s']:.0f}" if results else "not run"


def _threads(results: dict[str, Any]) -> str:
    """The thread setting a run recorded (runs before tinynet's threads were set recorded BLAS's)."""
    if "threads" in results:
        threads = results["threads"]
        return f"{threads} thread(s) (tn.set_num_threads)" if threads else "tinynet's default threads"
    return f"{results.get('blas_threads')} BLAS thread(s)"


def _commits(fulls: dict[str, dict[str, Any] | None], repository: Path) -> str:
    """The commit(s) the full runs recorded, or, for runs that recorded none, the publishing one."""
    recorded = {name: r["versions"].get("commit") for name, r in fulls.items() if r}
    commits = sorted({c for c in recorded.values() if c})
    if commits and all(recorded.values()):
        if len(commits) == 1:
            return f"- commit: `{commits[0]}`"
        return "- commits: " + "; ".join(
            f"`{c}` ({', '.join(n for n, rc in recorded.items() if rc == c)})" for c in commits)
    return (f"- commit: not recorded by the runs (older harness); published from "
            f"`{git_commit(repository)}`")


def _mark(check: dict[str, Any] | None) -> str:
    return "—" if check is None else "shown" if check["shown"] else "not shown"


# A published results.json over this size leaves out the training histories ("runs"): a study that
# logs every iteration (1-2b: 25,000 rows) would otherwise put megabytes into the repository.
HISTORIES_LIMIT = 1 << 20


def portable(text: str) -> str:
    """``text`` with this machine's data folder written as ``$TINYNET_DATA``, the variable that
    named it: the published files say where the data came from without naming a local path."""
    if not os.environ.get("TINYNET_DATA"):
        return text
    return text.replace(str(data_root()), "$TINYNET_DATA")


def copy_study(source: Path, dest: Path) -> list[str]:
    """``results.json``, ``summary.md`` and the study's PNG figures from ``source`` to ``dest``
    (emptied first); nothing else (no checkpoints). A ``results.json`` over ``HISTORIES_LIMIT``
    bytes is copied without its ``runs`` (the training histories: a row per epoch, or per
    iteration where a study logs each), and says so under ``"omitted"``. The data folder is
    written as ``$TINYNET_DATA`` (see :func:`portable`). Returns the problems with figures, if
    any."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    results = read_json(results_path(source))
    problems = []
    text = results_path(source).read_text()
    if len(text.encode()) > HISTORIES_LIMIT and results.get("runs"):
        text = json.dumps(to_json({**results, "runs": {}, "omitted": (
            f"runs: the training histories ({len(text.encode()) / 1e6:.1f} MB in all), left out of "
            "the published copy; the study's run folder keeps them")}), indent=2) + "\n"
    write_text(dest / "results.json", portable(text))
    write_text(dest / "summary.md", portable((source / "summary.md").read_text()))
    for figure in results.get("figures", []):
        problem = figure_problem(source, figure.get("file"))
        if problem:
            problems.append(problem)
            continue
        shutil.copy2(source / figure["file"], dest / Path(figure["file"]).name)
    return problems


def readme(quick_root: Path, full_root: Path, names: list[str], repository: Path) -> str:
    """``docs/results/README.md``: provenance, wall times and the claim | quick | full table."""
    lines = ["# Published full-profile results\n",
             "Generated by `python -m experiments publish` from the runs' `results.json`; do not edit "
             "by hand. Each folder holds a study's `results.json`, `summary.md` and figures.\n",
             f"- CPU: {cpu_name()}"]
    fulls = {name: _results(full_root, name) for name in names}
    lines.insert(2, _commits(fulls, repository))
    quicks = {name: _results(quick_root, name) for name in names}
    some = next((r for r in fulls.values() if r), None)
    if some:
        v = some["versions"]
        lines.append(f"- Python {v.get('python')}, NumPy {v.get('numpy')}, tinynet {v.get('tinynet')}; "
                     f"device `{some['device']}`, {_threads(some)}, "
                     f"jobs={some.get('jobs')}")
        lines.append("- data: " + ", ".join(sorted({s for r in fulls.values() if r
                                                    for s in r["data_source"]})))
    needed = [n for name in names for n in _needs(name) if n not in names]
    lines += ["", "## Wall times\n", "The studies the published ones need are run too, and counted.\n",
              "| study | quick (s) | full (s) | full finished at |", "|---|---|---|---|"]
    for name in [*names, *dict.fromkeys(needed)]:
        q, f = _results(quick_root, name), _results(full_root, name)
        label = f"[{name}]({name}/summary.md)" if name in names and f else name
        label += " (needed)" if name not in names else ""
        lines.append(f"| {label} | {_seconds(q)} | {_seconds(f)} | {f['finished_at'] if f else ''} |")
    totals = [sum(r["wall_time_s"] for n in [*names, *set(needed)] if (r := _results(root, n)))
              for root in (quick_root, full_root)]
    lines.append(f"| all | {totals[0]:.0f} | {totals[1]:.0f} | |")
    lines += ["", "## Checks: quick against full\n", "| study | claim | quick | full |", "|---|---|---|---|"]
    for name in names:
        q, f = quicks[name], fulls[name]
        checks_f = (f or {}).get("checks", [])
        checks_q = (q or {}).get("checks", [])
        for i in range(max(len(checks_f), len(checks_q))):
            claim = (checks_f[i] if i < len(checks_f) else checks_q[i])["expectation"]
            lines.append(f"| {name} | {' '.join(claim.split()).replace('|', '/')} "
                         f"| {_mark(checks_q[i] if i < len(checks_q) else None)} "
                         f"| {_mark(checks_f[i] if i < len(checks_f) else None)} |")
    tally = [sum(c["shown"] for r in group.values() if r for c in r["checks"]) for group in (quicks, fulls)]
    counts = [sum(len(r["checks"]) for r in group.values() if r) for group in (quicks, fulls)]
    lines.append(f"\nShown: quick {tally[0]} of {counts[0]}, full {tally[1]} of {counts[1]}.")
    return "\n".join(lines) + "\n"


def publish(quick_root: Path, full_root: Path, dest: Path, names: list[str], repository: Path) -> list[str]:
    """Copy every finished full run of ``names`` to ``dest`` and write its README; returns problems."""
    problems = []
    for name in names:
        if _results(full_root, name) is None:
            problems.append(f"{name}: no finished full run in {full_root / name}")
            continue
        problems += [f"{name}: {p}" for p in copy_study(full_root / name, dest / name)]
    write_text(dest / "README.md", portable(readme(quick_root, full_root, names, repository)))
    return problems


def main(argv: list[str]) -> int:
    """``python -m experiments publish``'s command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m experiments publish",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true",
                        help="run (or resume) the quick and full profiles first")
    parser.add_argument("--out", type=Path, default=Path("runs-publish"),
                        help="where the runs go: OUT/quick and OUT/full (default: runs-publish)")
    parser.add_argument("--dest", type=Path, default=Path("docs/results"))
    parser.add_argument("--studies", default=",".join(PUBLISHED),
                        help="comma-separated studies (default: the nine the quick profile cannot show)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--download", action="store_true")
    args = parser.parse_args(argv)
    names = [n for n in args.studies.split(",") if n]
    unknown = [n for n in names if n not in studies.available()]
    if unknown:
        parser.error(f"unknown studies {unknown}")
    if args.run:
        from experiments.cli import main as cli

        for profile in ("quick", "full"):
            for name in names:
                flags = [name, f"--{profile}"] if profile != "full" else [name]
                status = cli([*flags, "--out", str(args.out / profile), "--jobs", str(args.jobs),
                              "--no-progress", *(["--download"] if args.download else [])])
                if status:
                    return status
    problems = publish(args.out / "quick", args.out / "full", args.dest, names, Path(__file__).parents[1])
    for problem in problems:
        print(f"warning: {problem}")
    print(f"wrote {args.dest / 'README.md'} and {len(names) - len(problems)} study folder(s)")
    return 1 if problems else 0
