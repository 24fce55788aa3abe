"""Run the cases, time every phase against its peers, and assemble the record."""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks import peer_torch, record, targets
from benchmarks.cases import Case, Profile, all_cases
from benchmarks.harness import Timing, alternate, median, phase_samples
from benchmarks.subject_tinynet import Skipped


def selected(case: Case, pattern: str | None) -> bool:
    """``--case conv`` picks conv-a..e, ``--case conv-b`` one case, globs work too."""
    if not pattern:
        return True
    return (case.name == pattern or case.name.startswith(pattern + "-")
            or fnmatch.fnmatch(case.name, pattern))


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Limit BLAS (via threadpoolctl, when installed) and PyTorch to ``threads`` threads, for the
    duration of the block; ``None`` leaves every library at its default."""
    if threads is None:
        yield
        return
    torch_threads = peer_torch.threads()
    peer_torch.set_threads(threads)
    try:
        import threadpoolctl
    except ImportError:
        print("threadpoolctl is not installed: only PyTorch's thread count is set; set "
              "OPENBLAS_NUM_THREADS before starting Python to limit NumPy's BLAS")
        threadpoolctl = None
    try:
        if threadpoolctl is None:
            yield
        else:
            with threadpoolctl.threadpool_limits(threads):
                yield
    finally:
        if torch_threads is not None:
            peer_torch.set_threads(torch_threads)


def _row(case: Case, phase: str, timing: Timing, busy: float | None) -> dict[str, Any]:
    flops = case.flops(phase)
    seconds = {name: {"median": timing.median(name), "mean": timing.mean(name),
                      "min": min(timing.seconds[name]), "number": timing.numbers[name],
                      "samples": [float(f"{s:.4g}") for s in timing.seconds[name]]}
               for name in timing.seconds}
    subject = timing.seconds["tinynet"]
    ratio, paired = {}, {}
    for peer in timing.seconds:
        if peer == "tinynet":
            continue
        ratio[peer] = timing.median("tinynet") / timing.median(peer)
        # median of the per-round ratios: each round's two samples saw the same load
        paired[peer] = median([a / b for a, b in zip(subject, timing.seconds[peer])])
    row = {"case": case.name, "title": case.title, "device": case.device, "phase": phase,
           "flops": flops, "seconds": seconds, "ratio": ratio, "paired_ratio": paired,
           "gflops": {name: flops / s["median"] / 1e9 for name, s in seconds.items()} if flops
           else {}, "others_busy": busy}
    if case.steps_per_epoch and phase == "step":
        row["epoch_seconds"] = {name: s["mean"] * case.steps_per_epoch for name, s in seconds.items()}
    return row


def run_case(case: Case, profile: Profile, log: Callable[[str], Any]) -> list[dict[str, Any]]:
    try:
        workloads = case.build()
    except Skipped as err:
        return [{"case": case.name, "title": case.title, "phase": None, "skipped": str(err)}]
    by_phase = {name: phase_samples(w) for name, w in workloads.items()}
    phases = [p for p in by_phase["tinynet"] if all(p in s for s in by_phase.values())]
    rows = []
    for phase in phases:
        repeats = case.phase_repeats.get(phase, profile.repeats)
        fixed = phase in case.phase_repeats  # e.g. one sample per CNN batch: no calibration
        meter = record.BusyMeter()
        started = time.perf_counter()
        timing = alternate({name: s[phase] for name, s in by_phase.items()}, repeats,
                           warmup=profile.warmup, min_time=0.0 if fixed else profile.min_time,
                           budget=math.inf if fixed else profile.budget)
        rows.append(_row(case, phase, timing, meter.others_busy()))
        log(f"  {case.name:<22} {phase:<8} {len(timing.seconds['tinynet']):>3} repeats "
            f"in {time.perf_counter() - started:5.1f} s")
    return rows


def run(profile: Profile, pattern: str | None = None, threads: int | None = None,
        log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Run every selected case and return the record (not yet saved)."""
    cases = [case for case in all_cases(profile) if selected(case, pattern)]
    if not cases:
        raise ValueError(f"no case matches {pattern!r}; cases are: "
                         + ", ".join(c.name for c in all_cases(profile)))
    meter = record.BusyMeter()
    started = datetime.datetime.now().astimezone()
    rows: list[dict[str, Any]] = []
    with thread_limit(threads):
        env = record.environment()  # inside the limit: the thread pools as measured
        env["threads"]["requested"] = threads
        for case in cases:
            log(f"{case.name}: {case.title}")
            rows.extend(run_case(case, profile, log))
    return {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.datetime.now().astimezone() - started).total_seconds(), 1),
        "profile": profile.name, "case_filter": pattern,
        "settings": {"repeats": profile.repeats, "warmup": profile.warmup,
                     "min_time": profile.min_time, "budget": profile.budget},
        "environment": env,
        "others_busy": meter.others_busy(),
        "rows": rows,
        "targets": targets.evaluate(rows),
    }
