"""``python -m experiments`` (also installed as ``tinynet-experiments``).

    python -m experiments list
    python -m experiments <study> [--smoke|--quick] [--device cuda] [--out DIR] [--jobs N]
                                  [--seed S] [--dask ADDRESS] [--<setting> VALUE ...]
    python -m experiments all [--smoke|--quick] [--force] ...
    python -m experiments report [--out DIR]

Every setting of a study is a flag: ``python -m experiments simulate_function --help`` lists
them with their defaults for the chosen profile. Lists are comma-separated.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from experiments import studies
from experiments.harness.report import build_report
from experiments.harness.study import Study, execute, is_finished


def _common(parser: argparse.ArgumentParser) -> None:
    profile = parser.add_mutually_exclusive_group()
    profile.add_argument("--smoke", dest="profile", action="store_const", const="smoke",
                         help="seconds; for tests")
    profile.add_argument("--quick", dest="profile", action="store_const", const="quick",
                         help="a few minutes per study on a 2-core CPU")
    parser.set_defaults(profile="full")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", type=Path, default=Path("runs"),
                        help="root folder; each study writes into OUT/<study> (default: runs)")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes for sweeps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dask", metavar="ADDRESS", default=None,
                        help="run sweeps on a Dask distributed scheduler at ADDRESS")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads per process (default 1: the models are small, and "
                             "sweeps run one process per job); 0 keeps the library's default")


def _parse_value(text: str, default: Any) -> Any:
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(default, (list, tuple)):
        kind = type(default[0]) if default else str
        return [kind(v) for v in text.split(",") if v]
    if default is None:
        return text
    return type(default)(text)


def _study_parser(study: Study, profile: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m experiments {study.name}",
                                     description=f"{study.code}: {study.title}. {study.question}")
    _common(parser)
    for key, default in study.settings(profile).items():
        parser.add_argument(f"--{key.replace('_', '-')}", dest=f"set_{key}", metavar="VALUE",
                            help=f"default for this profile: {default}")
    return parser


def _run_one(study: Study, args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    out = args.out / study.name
    start = time.time()
    print(f"== {study.code} {study.name} ({args.profile}) -> {out}", flush=True)
    execute(study, args.profile, out, overrides=overrides, device=args.device, seed=args.seed,
            jobs=args.jobs, dask=args.dask, progress=args.progress, threads=args.threads or None)
    print(f"   done in {time.time() - start:.1f} s: {out / 'summary.md'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
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
    if command == "all":
        parser = argparse.ArgumentParser(prog="python -m experiments all")
        _common(parser)
        parser.add_argument("--force", action="store_true", help="rerun finished studies")
        args = parser.parse_args(rest)
        start, failed = time.time(), []
        for study in studies.all_studies():
            if not args.force and is_finished(args.out / study.name, args.profile):
                print(f"== {study.code} {study.name}: finished already (use --force to rerun)")
                continue
            try:
                _run_one(study, args, {})
            except Exception:  # one broken study must not cost the others' results
                traceback.print_exc()
                failed.append(study.name)
        md, page = build_report(args.out, studies.ORDER)
        print(f"all studies done in {time.time() - start:.1f} s; report: {md}, {page}")
        if failed:
            print(f"FAILED: {', '.join(failed)} (their checkpoints are kept: rerun to resume)")
        return 1 if failed else 0
    study = studies.load(command)
    profile = "smoke" if "--smoke" in rest else "quick" if "--quick" in rest else "full"
    args = _study_parser(study, profile).parse_args(rest)
    defaults = study.settings(profile)
    overrides = {key[4:]: _parse_value(value, defaults[key[4:]])
                 for key, value in vars(args).items() if key.startswith("set_") and value is not None}
    _run_one(study, args, overrides)
    return 0
