"""``python -m experiments`` (also installed as ``tinynet-experiments``).

    python -m experiments list
    python -m experiments <study> [--smoke|--quick] [--device cuda] [--out DIR] [--jobs N]
                                  [--seed S] [--dask local[:N]|ADDRESS] [--download]
                                  [--force] [--restart] [--<setting> VALUE ...]
    python -m experiments all [--smoke|--quick] [--force] [--restart] ...
    python -m experiments report [--out DIR]
    python -m experiments publish [--run] [--out DIR] [--dest docs/results]

Every setting of a study is a flag: ``python -m experiments simulate_function --quick --help``
lists them with their defaults in the chosen profile. Lists are comma-separated.

A finished study is not run again unless ``--force``; an interrupted one resumes from its
checkpoints (``--restart`` discards them). Ctrl-C and SIGTERM (Slurm, Kubernetes, docker stop)
stop it the same way: the checkpoints written so far are kept, the time spent is recorded, and
the exit status is 130 or 143.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from experiments import studies
from experiments.harness.files import read_json, results_path
from experiments.harness.lock import FolderLocked
from experiments.harness.report import build_report
from experiments.harness.settings import SettingError, describe, hints, parse_text
from experiments.harness.study import Study, execute, plan
from experiments.harness.sweep import dask_scheduler, parse_dask
from experiments.harness.train import CheckpointError
from tinynet.data import DataWarning


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it stops the way Ctrl-C does."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


class DataNotes:
    """Prints each data warning (the offline-subset fallback) once, as one line without the code
    line Python's default adds, and remembers them for the last console line."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def show(self, message: Any, category: type, filename: str, lineno: int, file: Any = None,
             line: Any = None) -> None:
        """``warnings.showwarning`` for the run: data warnings once, others as usual."""
        if issubclass(category, DataWarning):
            if not self.seen:
                print(f"warning: {message}", file=sys.stderr, flush=True)
            self.seen.append(str(message))
        else:
            print(warnings.formatwarning(message, category, filename, lineno, line), end="",
                  file=sys.stderr)


@contextmanager
def _console() -> Iterator[DataNotes]:
    notes = DataNotes()
    previous = signal.signal(signal.SIGTERM, _terminate)
    with warnings.catch_warnings():
        warnings.simplefilter("always", DataWarning)
        warnings.showwarning = notes.show
        try:
            yield notes
        finally:
            signal.signal(signal.SIGTERM, previous)


def _dask_spec(text: str) -> str:
    try:
        parse_dask(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _common(parser: argparse.ArgumentParser, profile: str = "full") -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--smoke", dest="profile", action="store_const", const="smoke",
                       help="seconds; for tests")
    group.add_argument("--quick", dest="profile", action="store_const", const="quick",
                       help="a few minutes per study on a 2-core CPU")
    parser.set_defaults(profile=profile)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", type=Path, default=Path("runs"),
                        help="root folder; each study writes into OUT/<study> (default: runs)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes for sweeps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dask", metavar="local[:N]|ADDRESS", default=None, type=_dask_spec,
                        help="run sweeps on Dask: 'local' or 'local:N' starts a cluster of N workers "
                             "here, an address (tcp://host:8786) joins a running scheduler "
                             "(trusted clusters only: see the README)")
    parser.add_argument("--download", action="store_true",
                        help="fetch and verify the data sets the studies need when they are missing")
    parser.add_argument("--force", action="store_true",
                        help="run again even when finished (from its checkpoints; with --restart "
                             "it trains again from the start)")
    parser.add_argument("--restart", action="store_true",
                        help="discard the study's checkpoints and train from the start")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per process, BLAS's and the convolution's, as "
                             "tn.set_num_threads (default 1: the models are small, and sweeps "
                             "run one process per job); 0 keeps tinynet's default")


def _setting_type(hint: Any) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse_text(text, hint)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"expected {describe(hint)}: {err}") from None
    convert.__name__ = describe(hint)
    return convert


def _study_parser(study: Study, profile: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m experiments {study.name}",
        description=f"{study.code}: {study.title}. {study.question} Setting defaults below are the "
                    f"{profile} profile's.")
    _common(parser, profile)
    defaults = study.make_settings(profile)
    for key, hint in hints(study.settings).items():
        value = getattr(defaults, key)
        shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
        parser.add_argument(f"--{key.replace('_', '-')}", dest=f"set_{key}", metavar="VALUE",
                            type=_setting_type(hint),
                            help=f"{describe(hint)}; {profile} default: {shown}")
    return parser


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"device": args.device, "seed": args.seed, "jobs": args.jobs, "dask": args.dask,
            "progress": args.progress, "threads": args.threads or None, "download": args.download}


def _run_one(study: Study, args: argparse.Namespace, overrides: dict[str, Any],
             position: str = "") -> str:
    """Run one study unless finished; 'finished', 'ran' or 'failed'."""
    out = args.out / study.name
    keyed = plan(study, args.profile, out, overrides=overrides, seed=args.seed, device=args.device,
                 download=args.download)
    if keyed.finished() and not (args.force or args.restart):
        print(f"== {position}{study.code} {study.name}: finished already in {out} "
              "(use --force to rerun)", flush=True)
        return "finished"
    start = time.time()
    print(f"== {position}{study.code} {study.name} ({args.profile}) -> {out}", flush=True)
    execute(study, args.profile, out, overrides=overrides, restart=args.restart, **_options(args))
    print(f"   done in {time.time() - start:.1f} s: {out / 'summary.md'}", flush=True)
    return "ran"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _previous_wall_time(out: Path, profile: str) -> float | None:
    try:
        results = read_json(results_path(out))
        return float(results["wall_time_s"]) if results.get("profile") == profile else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _all(args: argparse.Namespace) -> int:
    chosen = studies.all_studies()
    start, failed, measured = time.time(), [], []
    expected = {s.name: _previous_wall_time(args.out / s.name, args.profile) for s in chosen}
    for k, study in enumerate(chosen, start=1):
        elapsed = time.time() - start
        rest = [expected[s.name] for s in chosen[k - 1:]]
        average = sum(measured) / len(measured) if measured else None
        if all(r is not None for r in rest) or average is not None:
            eta = sum(r if r is not None else average for r in rest)
            timing = f"elapsed {_clock(elapsed)}, ETA {_clock(eta)}"
        else:
            timing = f"elapsed {_clock(elapsed)}, ETA after the first study"
        position = f"[{k}/{len(chosen)}, {timing}] "
        began = time.time()
        try:
            if _run_one(study, args, {}, position) == "ran":
                measured.append(time.time() - began)
                expected[study.name] = measured[-1]
        except (KeyboardInterrupt, FolderLocked):
            raise
        except Exception:  # one broken study must not cost the others' results
            traceback.print_exc()
            failed.append(study.name)
    md, page = build_report(args.out, studies.ORDER)
    print(f"all studies done in {_clock(time.time() - start)}; report: {md}, {page}")
    if failed:
        print(f"FAILED: {', '.join(failed)} (their checkpoints are kept: rerun to resume)")
    return 1 if failed else 0


def _settings_overrides(study: Study, args: argparse.Namespace,
                        parser: argparse.ArgumentParser) -> dict[str, Any]:
    overrides = {key[4:]: value for key, value in vars(args).items()
                 if key.startswith("set_") and value is not None}
    try:
        study.make_settings(args.profile, overrides)
    except SettingError as err:
        parser.error(str(err))
    return overrides


def _profile_of(argv: list[str]) -> str:
    probe = argparse.ArgumentParser(add_help=False)
    _common(probe)
    known, _ = probe.parse_known_args(argv)
    return known.profile


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status (usage
    errors exit with 2 through argparse)."""
    argv = sys.argv[1:] if argv is None else argv
    top = argparse.ArgumentParser(prog="python -m experiments",
                                  usage="python -m experiments list | report | all | publish | "
                                        "<study> [options]   (--help for more)")
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "list":
        for study in studies.all_studies():
            print(f"{study.code:6s} {study.name:26s} {study.title}")
        return 0
    if command == "report":
        parser = argparse.ArgumentParser(prog="python -m experiments report")
        parser.add_argument("--out", type=Path, default=Path("runs"))
        args = parser.parse_args(rest)
        md, page = build_report(args.out, studies.ORDER)
        print(f"wrote {md} and {page}")
        return 0
    if command == "publish":
        from experiments.publish import main as publish
        return publish(rest)
    if command == "all":
        parser = argparse.ArgumentParser(prog="python -m experiments all")
        _common(parser)
        args = parser.parse_args(rest)
        return _guarded(lambda notes: _all(args), args)
    if command not in studies.available():
        top.error(f"unknown study or command {command!r}; the studies are "
                  f"{', '.join(studies.available())} (see `python -m experiments list`)")
    study = studies.load(command)
    parser = _study_parser(study, _profile_of(rest))
    args = parser.parse_args(rest)
    overrides = _settings_overrides(study, args, parser)
    return _guarded(lambda notes: _run_one(study, args, overrides) and 0, args)


def _guarded(work: Any, args: argparse.Namespace) -> int:
    """Run ``work(notes)`` with SIGTERM handled like Ctrl-C, the data warnings said once, a
    local Dask cluster started when asked, and the known failures as one clear line."""
    with _console() as notes:
        try:
            with dask_scheduler(args.dask) as address:
                args.dask = address
                status = work(notes)
        except KeyboardInterrupt as interrupt:
            signal_name = "SIGTERM" if isinstance(interrupt, Terminated) else "Ctrl-C"
            print(f"\nstopped by {signal_name}: the checkpoints written so far are kept in {args.out} "
                  "and the time spent is recorded; run the same command again to resume.",
                  file=sys.stderr, flush=True)
            return 143 if isinstance(interrupt, Terminated) else 130
        except (FolderLocked, CheckpointError, SettingError) as err:
            print(f"error: {err}", file=sys.stderr, flush=True)
            return 1
        if notes.seen:
            print("warning: the data came from tinynet's offline MNIST subset, not the full data set "
                  "(see the first warning above; the report says so too). Point TINYNET_DATA at the "
                  "full data or pass --download.", file=sys.stderr, flush=True)
        return status
