"""``python -m benchmarks``: run the suite, print the table, save the JSON record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks import plot, record, suite, table
from benchmarks.cases import PROFILES, all_cases


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time tinynet against hand-written NumPy and PyTorch; print a table and save "
                    "a JSON record.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and CNN batches: a quick look")
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None,
                        help="sizes and repeats (default full; --quick is --profile quick; tiny is "
                             "for tests)")
    parser.add_argument("--case", metavar="NAME",
                        help="run only matching cases: a name (conv-b), a group (conv) or a glob")
    parser.add_argument("--threads", metavar="LIST", default="1,default",
                        help="thread settings, each a table: a positive int (both sides on that "
                             "many threads) or 'default' (each side's default); default "
                             "'1,default'")
    parser.add_argument("--history", metavar="CASE",
                        help="plot CASE over the saved records instead of running")
    parser.add_argument("--all-profiles", action="store_true",
                        help="with --history: use quick records too, not only full ones")
    parser.add_argument("--results-dir", type=Path, default=record.RESULTS_DIR,
                        help="where records are saved and read (default benchmarks/results)")
    parser.add_argument("--output", type=Path, help="with --history: the PNG to write")
    parser.add_argument("--no-save", action="store_true", help="print the table only")
    parser.add_argument("--list", action="store_true", help="list the case names and exit")
    args = parser.parse_args(argv)
    if args.quick and args.profile not in (None, "quick"):
        parser.error("--quick and --profile disagree")
    args.profile = "quick" if args.quick else (args.profile or "full")
    try:
        args.threads = suite.parse_threads(args.threads)
    except ValueError as err:
        parser.error(str(err))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = PROFILES[args.profile]
    if args.list:
        print("\n".join(f"{c.name:<24} {c.title}" for c in all_cases(profile)))
        return 0
    if args.history:
        try:
            path = plot.history(args.history, args.results_dir, args.output,
                                profile=None if args.all_profiles else "full",
                                threads=args.threads[0])
        except ValueError as err:
            print(f"history: {err}", file=sys.stderr)
            return 1
        print(f"wrote {path}")
        return 0
    try:
        result = suite.run(profile, args.case, args.threads)
    except ValueError as err:
        print(f"benchmarks: {err}", file=sys.stderr)
        return 2
    print()
    print(table.render(result["rows"], result["targets"], result["environment"]))
    for row in result["rows"]:
        if "epoch_seconds" in row:
            epochs = ", ".join(f"{k} {v:.1f} s" for k, v in row["epoch_seconds"].items())
            print(f"{row['case']}: one epoch (60,000 images) projected from the mean step: {epochs}")
    busy = result["others_busy"]
    if busy is not None:
        print(f"Other processes used {100 * busy:.0f}% of the machine's CPU during the run.")
        if busy > 0.3:
            print("The machine was busy: absolute times are inflated, and multi-threaded figures "
                  "suffer most. Don't judge targets on such a run.")
    if not args.no_save:
        print(f"saved {record.save(result, args.results_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
